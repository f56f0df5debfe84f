//! Test drivers: a `Pair` of `PeerState`s joined in memory with virtual time.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::time::Duration;

use bitpeer::peer::{Config, Event, PeerState};
use bitpeer::wire::{Context, Message, encode_message};
use bitpeer::{Network, Time};
use bytes::{Bytes, BytesMut};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

/// The virtual epoch all tests start at (2026-11-21).
pub const EPOCH: Time = Time::from_secs(1_795_000_000);

pub fn addr(s: &str) -> SocketAddr {
    s.parse().expect("a socket address")
}

/// One frame of `msg` at protocol `version`, witness encoding.
pub fn frame(network: Network, msg: &Message, version: u32) -> Vec<u8> {
    let mut out = BytesMut::new();
    let ctx = Context {
        chain: network.chain(),
        version,
        encoding: bitpeer::wire::Encoding::Witness,
    };
    encode_message(network, msg, &ctx, &mut out).expect("encodable");
    out.to_vec()
}

/// Everything the peer emitted, decoded, until its queue is empty (drained, on_sent reported).
pub fn drain_sent(peer: &mut PeerState, now: Time) -> Vec<Message> {
    let mut out = Vec::new();
    let mut dec = bitpeer::wire::FrameDecoder::new(peer.config().network);
    dec.set_protocol_version(peer.negotiated_version());
    let ctx = Context {
        chain: peer.config().network.chain(),
        version: peer.negotiated_version(),
        encoding: bitpeer::wire::Encoding::Witness,
    };
    while let Some(f) = peer.poll_transmit() {
        peer.on_sent(f.len(), now);
        let mut input: &[u8] = &f;
        while let Some(fr) = dec.decode(&mut input).expect("our own frames decode") {
            out.push(Message::decode(fr.command, fr.payload, &ctx).expect("decodes"));
        }
    }
    out
}

pub fn drain_events(peer: &mut PeerState) -> Vec<Event> {
    std::iter::from_fn(|| peer.poll_event()).collect()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Who {
    A,
    B,
}

pub struct Side {
    pub peer: PeerState,
    pub events: Vec<(Time, Event)>,
    /// Seconds this side's clock is ahead of virtual time.
    pub skew_secs: i64,
    /// Frames this side writes are lost (it still believes they were written).
    pub muted: bool,
    closed: bool,
}

impl Side {
    pub fn disconnected(&self) -> Option<(Time, &bitpeer::DisconnectReason)> {
        self.events.iter().find_map(|(t, e)| match e {
            Event::Disconnected(r) => Some((*t, r)),
            _ => None,
        })
    }

    pub fn ready_at(&self) -> Option<Time> {
        self.events
            .iter()
            .find_map(|(t, e)| matches!(e, Event::Ready(_)).then_some(*t))
    }

    pub fn messages(&self) -> Vec<&Message> {
        self.events
            .iter()
            .filter_map(|(_, e)| match e {
                Event::Message(m) => Some(m),
                _ => None,
            })
            .collect()
    }
}

/// Two peers joined in memory: `a` dialed `b`. Virtual time jumps to the next delivery or
/// timeout; bytes take `latency` to cross and arrive in `chunk`-sized pieces if set.
pub struct Pair {
    pub now: Time,
    pub a: Side,
    pub b: Side,
    pub latency: Duration,
    pub chunk: Option<usize>,
    in_flight: VecDeque<(Time, Who, Bytes)>,
    pub transcript: String,
}

impl Pair {
    pub fn new(a_cfg: Config, b_cfg: Config, seed: u64) -> Pair {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let a = PeerState::outbound(a_cfg, addr("10.0.0.2:8333"), EPOCH, &mut rng);
        let b = PeerState::inbound(b_cfg, addr("10.0.0.1:50000"), EPOCH, &mut rng);
        let side = |peer| Side {
            peer,
            events: Vec::new(),
            skew_secs: 0,
            muted: false,
            closed: false,
        };
        Pair {
            now: EPOCH,
            a: side(a),
            b: side(b),
            latency: Duration::from_millis(50),
            chunk: None,
            in_flight: VecDeque::new(),
            transcript: String::new(),
        }
    }

    pub fn side(&mut self, who: Who) -> &mut Side {
        match who {
            Who::A => &mut self.a,
            Who::B => &mut self.b,
        }
    }

    pub fn local_now(&self, who: Who) -> Time {
        let skew = match who {
            Who::A => self.a.skew_secs,
            Who::B => self.b.skew_secs,
        };
        let t = self.now.as_micros() as i64 + skew * 1_000_000;
        Time::from_micros(t.max(0) as u64)
    }

    /// Moves bytes and events until nothing changes at the current time.
    pub fn settle(&mut self) {
        loop {
            let mut progressed = false;
            for who in [Who::A, Who::B] {
                let now = self.local_now(who);
                let latency = self.latency;
                let vnow = self.now;
                let side = self.side(who);
                let mut out = Vec::new();
                while let Some(frame) = side.peer.poll_transmit() {
                    side.peer.on_sent(frame.len(), now);
                    if !side.muted {
                        out.push(frame);
                    }
                    progressed = true;
                }
                let mut evs = Vec::new();
                while let Some(e) = side.peer.poll_event() {
                    evs.push(e);
                    progressed = true;
                }
                for e in &evs {
                    let _ = writeln!(self.transcript, "{:?} {who:?} {e:?}", vnow);
                }
                let side = self.side(who);
                side.events.extend(evs.into_iter().map(|e| (now, e)));
                for f in out {
                    let _ = writeln!(
                        self.transcript,
                        "{:?} {who:?} sends {}",
                        vnow,
                        hex::encode(&f)
                    );
                    self.in_flight
                        .push_back((vnow.saturating_add(latency), who, f));
                }
            }
            // Deliver what is due.
            while let Some((t, from, _)) = self.in_flight.front() {
                if *t > self.now {
                    break;
                }
                let from = *from;
                let (_, _, bytes) = self.in_flight.pop_front().expect("front exists");
                let to = if from == Who::A { Who::B } else { Who::A };
                let now = self.local_now(to);
                let chunk = self.chunk.unwrap_or(usize::MAX).max(1);
                let side = self.side(to);
                for piece in bytes.chunks(chunk) {
                    side.peer.handle_input(now, piece);
                }
                progressed = true;
            }
            // A disconnected side closes its socket once its last bytes are out.
            for who in [Who::A, Who::B] {
                let other = if who == Who::A { Who::B } else { Who::A };
                let gone = self.side(who).peer.is_disconnected() && !self.side(who).closed;
                let pending = self.in_flight.iter().any(|(_, f, _)| *f == who);
                if gone && !pending {
                    self.side(who).closed = true;
                    self.side(other).peer.handle_closed();
                    progressed = true;
                }
            }
            if !progressed {
                return;
            }
        }
    }

    /// The next virtual time something happens.
    pub fn next_event_time(&self) -> Option<Time> {
        let skew_back = |t: Time, skew: i64| {
            Time::from_micros((t.as_micros() as i64 - skew * 1_000_000).max(0) as u64)
        };
        [
            self.in_flight.front().map(|(t, _, _)| *t),
            self.a
                .peer
                .poll_timeout()
                .map(|t| skew_back(t, self.a.skew_secs)),
            self.b
                .peer
                .poll_timeout()
                .map(|t| skew_back(t, self.b.skew_secs)),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Runs until virtual time `until` (inclusive).
    pub fn run_until(&mut self, until: Time) {
        self.settle();
        while let Some(next) = self.next_event_time() {
            if next > until {
                break;
            }
            self.now = self.now.max(next);
            for who in [Who::A, Who::B] {
                let now = self.local_now(who);
                self.side(who).peer.handle_timeout(now);
            }
            self.settle();
        }
        self.now = self.now.max(until);
        self.settle();
    }

    /// Runs `d` of virtual time.
    pub fn run_for(&mut self, d: Duration) {
        let until = self.now.saturating_add(d);
        self.run_until(until);
    }

    /// Runs until both peers are ready (or `limit` passes); returns whether they are.
    pub fn handshake(&mut self) -> bool {
        let limit = self.now.saturating_add(Duration::from_secs(60));
        self.settle();
        while !(self.a.peer.is_ready() && self.b.peer.is_ready()) && self.now < limit {
            let next = self.next_event_time().unwrap_or(limit).min(limit);
            self.run_until(next);
            if self.a.peer.is_disconnected() || self.b.peer.is_disconnected() {
                return false;
            }
        }
        self.a.peer.is_ready() && self.b.peer.is_ready()
    }
}

pub fn cfg() -> Config {
    Config::new(Network::BITCOIN_REGTEST)
        .services(bitpeer::wire::ServiceFlags::NETWORK | bitpeer::wire::ServiceFlags::WITNESS)
}
