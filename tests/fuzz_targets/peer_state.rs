//! `peer_state`: one [`PeerState`] (inbound or outbound, Bitcoin or Decred, its RNG seeded from
//! the input) driven by an arbitrary interleaving of inputs, timer ticks (time mostly going
//! forward, sometimes backward), partial and excessive `on_sent` reports, application commands
//! (send, push_reject, disconnect, accept/reject the version, inventory announcements and
//! known inventory, push_addr/push_addrv2 with up to 3000 addresses, getblocks/getheaders
//! locators up to 600) and `poll_*` draining. Inputs are raw bytes, corrupted frames, or
//! well-formed frames of arbitrary messages, and a valid version(+negotiation)+verack prefix
//! gets the fuzzer past the handshake.
//!
//! Asserts after every step: no panic; `unsent_bytes() ≤ cap + one largest frame`;
//! `buffered_input() ≤ header + largest payload + 64 KiB paused`; the events of one step are
//! bounded by the frames that step could carry; `Ready` at most once and `Message` only after
//! it; `Sent` only for ids issued (by `send`, `push_*`), each once; inventory is never queued
//! after the disconnect, known inventory is never announced, `push_addr*` sends at most 1000
//! addresses, more than 500 locators are refused; exactly one `Disconnected` ever (checked
//! at the end after `handle_closed`), after which no event at all, no deadline, and
//! `poll_transmit` yields at most the farewell frames already queued (each a `reject`), then
//! nothing; every frame we emit is well-formed.

use std::collections::HashSet;
use std::time::Duration;

use arbitrary::{Arbitrary, Unstructured};
use bitpeer::network::Chain;
use bitpeer::peer::{Config, DisconnectReason, Event, PeerState};
use bitpeer::wire::{
    AddrV2, AddrV2Address, Command, Context, Encoding, HEADER_SIZE, Hash256, InvType, InvVect,
    Message, NetAddress, RejectCode, ServiceFlags, Version, checksum, encode_message, versions,
};
use bitpeer::{Network, Time};
use bytes::BytesMut;
use rand_core::RngCore;

/// The paused-input cap of `PeerState` (`MAX_PAUSED_INPUT`).
const PAUSED_CAP: usize = 64 * 1024;
/// Most operations one input runs.
const MAX_OPS: usize = 256;

/// SplitMix64 seeded from the input: the peer's only source of randomness.
struct SplitMix(u64);

impl RngCore for SplitMix {
    fn next_u32(&mut self) -> u32 {
        self.next_u64() as u32
    }
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(8) {
            let v = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

#[derive(Arbitrary, Debug)]
struct Setup {
    inbound: bool,
    decred: bool,
    approve: bool,
    bloom: bool,
    witness: bool,
    stall: bool,
    queue_cap: u8,
    protocol: u8,
    seed: u64,
}

#[derive(Arbitrary, Debug)]
enum Op {
    /// Raw bytes from the socket.
    Raw(Vec<u8>),
    /// A well-formed frame of an arbitrary message, at the negotiated version, fed in chunks.
    Frame {
        msg: Message,
        chunk: u8,
    },
    /// A frame with one byte flipped.
    Corrupt {
        msg: Message,
        at: u16,
        xor: u8,
    },
    /// The remote's handshake: version (at a chosen protocol version and services), optional
    /// negotiation messages, then verack unless `extras` bit 3 is set.
    Handshake {
        version: u8,
        services: u64,
        extras: u8,
        echo_nonce: bool,
    },
    /// Time moves forward (or backward) by this many seconds, then `handle_timeout`.
    Tick {
        secs: u16,
        back: bool,
    },
    /// Time moves forward by milliseconds, then `handle_timeout`.
    Nudge(u16),
    /// The driver reports `n` bytes written (possibly more than it was given).
    Sent(u32),
    /// The driver takes up to `limit` frames (0 = all), reporting them written if `confirm`.
    Drain {
        limit: u8,
        confirm: bool,
    },
    /// The application sends a message (with the default or base encoding).
    Send {
        msg: Message,
        base: bool,
    },
    /// The application sends a reject.
    PushReject {
        code: u8,
        tx: bool,
    },
    Disconnect,
    Accept,
    RejectVersion(u8),
    Closed,
    /// The application announces inventory (trickled, or at once), `hash` picks one of 256
    /// hashes so repeats and known inventory happen.
    QueueInv {
        kind: u8,
        hash: u8,
        now: bool,
    },
    /// The application records inventory the remote has.
    AddKnown {
        kind: u8,
        hash: u8,
    },
    /// `push_addr` / `push_addrv2` with `n` addresses (more than 1000 are sampled).
    PushAddr {
        n: u16,
        v2: bool,
    },
    /// `push_get_blocks` / `push_get_headers` with `n` locator hashes (over 500 is refused).
    PushLocator {
        n: u16,
        stop: u8,
        headers: bool,
    },
}

fn inv(kind: u8, hash: u8) -> InvVect {
    let inv_type = match kind % 5 {
        0 => InvType::TX,
        1 => InvType::BLOCK,
        2 => InvType::WITNESS_TX,
        3 => InvType::WITNESS_BLOCK,
        _ => InvType::WTX,
    };
    InvVect::new(inv_type, Hash256([hash; 32]))
}

struct Harness {
    peer: PeerState,
    network: Network,
    now: Time,
    cap: usize,
    approve: bool,
    ready: bool,
    disconnected: bool,
    /// Frames `poll_transmit` may still yield after the disconnect.
    farewell_left: Option<usize>,
    ids: HashSet<u64>,
    reported: HashSet<u64>,
    /// Calls that may have used a send id (ids are handed out in order from 0).
    issued: u64,
}

impl Harness {
    fn ctx(&self) -> Context {
        Context {
            chain: self.network.chain(),
            version: self.peer.negotiated_version(),
            encoding: Encoding::Witness,
        }
    }

    fn encode(&self, msg: &Message, version: u32) -> Option<Vec<u8>> {
        let mut out = BytesMut::new();
        let ctx = Context {
            version,
            ..self.ctx()
        };
        encode_message(self.network, msg, &ctx, &mut out).ok()?;
        Some(out.to_vec())
    }

    /// A frame of `msg` at the negotiated version, or at the latest if it does not exist there.
    fn frame(&self, msg: &Message) -> Option<Vec<u8>> {
        self.encode(msg, self.peer.negotiated_version())
            .or_else(|| self.encode(msg, versions::LATEST))
    }

    fn input(&mut self, bytes: &[u8], chunk: usize) -> usize {
        for piece in bytes.chunks(chunk.max(1)) {
            self.peer.handle_input(self.now, piece);
        }
        bytes.len()
    }

    fn drain_transmit(&mut self, limit: usize, confirm: bool) {
        let mut taken = 0;
        while limit == 0 || taken < limit {
            let Some(frame) = self.peer.poll_transmit() else {
                break;
            };
            taken += 1;
            if let Some(left) = &mut self.farewell_left {
                assert!(*left > 0, "frame after the disconnect beyond the farewell");
                *left -= 1;
            }
            // Our own frames are well-formed: our magic, a valid command, the length of what
            // follows, the right checksum. (Per-command caps depend on the version each frame
            // was encoded at, which may predate the negotiation, so they are not checked here.)
            assert!(frame.len() >= HEADER_SIZE, "a frame is at least a header");
            let (header, payload) = frame.split_at(HEADER_SIZE);
            assert_eq!(header[..4], self.network.magic_bytes(), "our magic");
            let mut raw = [0u8; 12];
            raw.copy_from_slice(&header[4..16]);
            let command = Command::from_wire(raw).expect("a valid command");
            let len = u32::from_le_bytes([header[16], header[17], header[18], header[19]]);
            assert_eq!(len as usize, payload.len(), "length field");
            assert!(len <= self.network.chain().max_frame_payload());
            assert_eq!(
                header[20..24],
                checksum(self.network.chain(), payload),
                "checksum of {command}"
            );
            if self.farewell_left.is_some() {
                assert_eq!(command, Command::REJECT, "only farewell rejects");
            }
            if confirm {
                self.peer.on_sent(frame.len(), self.now);
            }
        }
    }

    /// Drains events and checks every invariant; `input` bytes arrived in this step.
    fn check(&mut self, input: usize) {
        let mut other = 0;
        while let Some(ev) = self.peer.poll_event() {
            assert!(!self.disconnected, "event after Disconnected: {ev:?}");
            match ev {
                Event::Disconnected(reason) => {
                    assert!(self.peer.is_disconnected(), "{reason}");
                    self.disconnected = true;
                    other += 1;
                }
                Event::Ready(_) => {
                    assert!(!self.ready, "Ready twice");
                    self.ready = true;
                    other += 1;
                }
                Event::Message(m) => {
                    assert!(self.ready, "{} delivered before Ready", m.command());
                    other += 1;
                }
                Event::VersionReceived(_) => {
                    assert!(self.approve, "VersionReceived without approve_versions");
                    other += 1;
                }
                Event::Sent(id) => {
                    assert!(id.0 < self.issued, "Sent for an id never issued");
                    assert!(self.reported.insert(id.0), "Sent twice");
                }
                e => panic!("unexpected event {e:?}"),
            }
        }
        assert!(
            other <= 3 + input / HEADER_SIZE,
            "{other} events from {input} bytes"
        );
        assert_eq!(self.peer.is_disconnected(), self.disconnected);
        if self.disconnected {
            assert_eq!(self.peer.poll_timeout(), None);
            let queued = self.peer.queued_frames();
            match self.farewell_left {
                None => self.farewell_left = Some(queued),
                Some(left) => assert!(queued <= left, "frames queued after the disconnect"),
            }
        }
        let max_frame = HEADER_SIZE + self.network.chain().max_frame_payload() as usize;
        assert!(
            self.peer.unsent_bytes() <= self.cap + max_frame,
            "{} unsent bytes, cap {}",
            self.peer.unsent_bytes(),
            self.cap
        );
        assert!(
            self.peer.buffered_input() <= max_frame + PAUSED_CAP,
            "{} bytes buffered",
            self.peer.buffered_input()
        );
    }

    fn handshake(&mut self, version: u8, services: u64, extras: u8, echo_nonce: bool) -> usize {
        let bitcoin = self.network.chain() == Chain::Bitcoin;
        let choices: &[u32] = if bitcoin {
            &[
                70_016, 70_015, 70_012, 70_011, 70_002, 70_001, 60_001, 60_000, 209,
            ]
        } else {
            &[12, 11, 10, 9, 8, 6]
        };
        let pver = choices[usize::from(version) % choices.len()];
        let nonce = if echo_nonce {
            self.peer.local_nonce()
        } else {
            0x5eed ^ u64::from(version)
        };
        let v = Message::Version(Version {
            protocol_version: pver as i32,
            services: ServiceFlags(services),
            timestamp: self.now.as_secs() as i64,
            nonce,
            user_agent: "/fuzz:1.0/".into(),
            start_height: 1000,
            ..Default::default()
        });
        let mut bytes = self.encode(&v, pver).unwrap_or_default();
        let negotiation = [
            (1, Message::WtxidRelay),
            (2, Message::SendAddrV2),
            (4, Message::SendHeaders),
        ];
        for (bit, msg) in negotiation {
            if extras & bit != 0 {
                bytes.extend(self.encode(&msg, versions::LATEST).unwrap_or_default());
            }
        }
        if extras & 8 == 0 {
            bytes.extend(self.encode(&Message::Verack, pver).unwrap_or_default());
        }
        self.input(&bytes, usize::MAX)
    }

    fn step(&mut self, op: Op) {
        let input = match op {
            Op::Raw(bytes) => self.input(&bytes, usize::MAX),
            Op::Frame { msg, chunk } => match self.frame(&msg) {
                Some(f) => self.input(&f, usize::from(chunk).max(1) * 7),
                None => 0,
            },
            Op::Corrupt { msg, at, xor } => match self.frame(&msg) {
                Some(mut f) => {
                    let i = usize::from(at) % f.len();
                    f[i] ^= xor;
                    self.input(&f, usize::MAX)
                }
                None => 0,
            },
            Op::Handshake {
                version,
                services,
                extras,
                echo_nonce,
            } => self.handshake(version, services, extras, echo_nonce),
            Op::Tick { secs, back } => {
                let d = Duration::from_secs(u64::from(secs));
                self.now = if back {
                    self.now.saturating_sub(d)
                } else {
                    self.now.saturating_add(d)
                };
                self.peer.handle_timeout(self.now);
                0
            }
            Op::Nudge(ms) => {
                self.now = self
                    .now
                    .saturating_add(Duration::from_millis(u64::from(ms)));
                self.peer.handle_timeout(self.now);
                0
            }
            Op::Sent(n) => {
                self.peer.on_sent(n as usize, self.now);
                0
            }
            Op::Drain { limit, confirm } => {
                self.drain_transmit(usize::from(limit), confirm);
                0
            }
            Op::Send { msg, base } => {
                self.issued += 1;
                let queued = self.peer.queued_frames();
                let id = if base {
                    self.peer.send_with_encoding(msg, Encoding::Base)
                } else {
                    self.peer.send(msg)
                };
                match id {
                    Some(id) => {
                        assert!(!self.disconnected, "send accepted after the disconnect");
                        assert!(self.ids.insert(id.0), "send id reused");
                    }
                    None => assert_eq!(self.peer.queued_frames(), queued, "refused yet queued"),
                }
                0
            }
            Op::PushReject { code, tx } => {
                self.issued += 1;
                let (cmd, hash) = if tx {
                    ("tx", Hash256([code; 32]))
                } else {
                    ("inv", Hash256::ZERO)
                };
                if let Some(id) =
                    self.peer
                        .push_reject(cmd, RejectCode(code), "fuzzed reject", hash)
                {
                    assert!(self.ids.insert(id.0), "send id reused");
                }
                0
            }
            Op::Disconnect => {
                self.peer
                    .disconnect(DisconnectReason::Requested("fuzz".into()));
                0
            }
            Op::Accept => {
                let paused = self.peer.buffered_input();
                self.peer.accept_version(self.now);
                paused
            }
            Op::RejectVersion(code) => {
                self.peer.reject_version(RejectCode(code), "not today");
                0
            }
            Op::Closed => {
                self.peer.handle_closed();
                0
            }
            Op::QueueInv { kind, hash, now } => {
                let iv = inv(kind, hash);
                let queued = if now {
                    self.peer.queue_inventory_now(iv)
                } else {
                    self.peer.queue_inventory(iv)
                };
                assert!(
                    !(queued && self.disconnected),
                    "inventory queued after the disconnect"
                );
                0
            }
            Op::AddKnown { kind, hash } => {
                let iv = inv(kind, hash);
                self.peer.add_known_inventory(iv);
                assert!(self.peer.is_known_inventory(&iv));
                assert!(
                    !self.peer.queue_inventory_now(iv),
                    "known inventory announced"
                );
                0
            }
            Op::PushAddr { n, v2 } => {
                // push_* may use a send id without returning it.
                self.issued += 1;
                let n = usize::from(n) % 3000;
                let ip = |i: usize| std::net::Ipv6Addr::from((i as u128 + 1) << 8);
                let sent = if v2 {
                    let list: Vec<AddrV2> = (0..n)
                        .map(|i| AddrV2 {
                            time: i as u32,
                            services: ServiceFlags::NETWORK,
                            addr: AddrV2Address::Ipv6(ip(i)),
                            port: 8333,
                        })
                        .collect();
                    self.peer.push_addrv2(&list).map(|v| v.len())
                } else {
                    let list: Vec<NetAddress> = (0..n)
                        .map(|i| NetAddress {
                            time: i as u32,
                            services: ServiceFlags::NETWORK,
                            ip: ip(i),
                            port: 8333,
                        })
                        .collect();
                    self.peer.push_addr(&list).map(|v| v.len())
                };
                if let Ok(k) = sent {
                    assert!(k <= 1000 && k <= n, "{k} of {n} addresses sent");
                }
                0
            }
            Op::PushLocator { n, stop, headers } => {
                self.issued += 1;
                let locator: Vec<Hash256> = (0..usize::from(n) % 600)
                    .map(|i| Hash256([(i % 251) as u8; 32]))
                    .collect();
                let stop = Hash256([stop; 32]);
                let result = if headers {
                    self.peer.push_get_headers(&locator, stop)
                } else {
                    self.peer.push_get_blocks(&locator, stop)
                };
                if locator.len() > 500 {
                    assert!(result.is_err(), "over 500 locators accepted");
                }
                0
            }
        };
        self.check(input);
    }
}

pub fn peer_state(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(setup) = Setup::arbitrary(&mut u) else {
        return;
    };
    let network = if setup.decred {
        Network::DECRED_MAINNET
    } else {
        Network::BITCOIN_REGTEST
    };
    let protocols: &[u32] = if setup.decred {
        &[12, 11, 9]
    } else {
        &[
            versions::LATEST,
            70_015,
            70_012,
            70_002,
            70_001,
            60_001,
            209,
        ]
    };
    let mut services = ServiceFlags::NETWORK;
    if setup.bloom {
        services |= ServiceFlags::BLOOM;
    }
    if setup.witness {
        services |= ServiceFlags::WITNESS;
    }
    let mut cfg = Config::new(network)
        .services(services)
        .approve_versions(setup.approve)
        .protocol_version(protocols[usize::from(setup.protocol) % protocols.len()]);
    cfg.max_send_queue_bytes = [2_000, 20_000, 200_000, 40 << 20][usize::from(setup.queue_cap % 4)];
    if !setup.stall {
        cfg.stall_tick = Duration::ZERO;
    }
    let cap = cfg.max_send_queue_bytes;
    let now = Time::from_secs(1_795_000_000);
    let mut rng = SplitMix(setup.seed);
    let remote = "192.0.2.9:8333".parse().expect("an address");
    let peer = if setup.inbound {
        PeerState::inbound(cfg, remote, now, &mut rng)
    } else {
        PeerState::outbound(cfg, remote, now, &mut rng)
    };
    let mut h = Harness {
        peer,
        network,
        now,
        cap,
        approve: setup.approve,
        ready: false,
        disconnected: false,
        farewell_left: None,
        ids: HashSet::new(),
        reported: HashSet::new(),
        issued: 0,
    };
    h.check(0);
    for _ in 0..MAX_OPS {
        let Ok(op) = Op::arbitrary(&mut u) else {
            break;
        };
        h.step(op);
        if u.is_empty() {
            break;
        }
    }
    // The transport closes: whatever happened, exactly one Disconnected in total.
    h.peer.handle_closed();
    h.check(0);
    assert!(h.disconnected, "handle_closed always ends the peer");
    h.drain_transmit(0, true);
    h.check(0);
    assert!(h.peer.poll_transmit().is_none());
}
