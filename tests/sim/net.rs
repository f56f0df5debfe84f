//! Links: two byte pipes with seeded latency and jitter, a send window, random chunking, and
//! the faults a TCP connection can suffer (reset, partition, a reader that stops reading).
//!
//! The model, per direction:
//! * the writer's driver drains `poll_transmit` at once into [`Pipe::queue`] (a user-space
//!   write buffer); bytes move from there into the network while fewer than `window` bytes are
//!   in flight, and only then are they reported with `on_sent` — so a peer whose remote stops
//!   reading sees `on_sent` stop advancing and its `unsent_bytes()` grow;
//! * accepted bytes are cut into chunks (whole segments, random sizes, or single bytes) and each
//!   chunk gets a delivery time `max(previous chunk, now + latency + jitter)`: byte order per
//!   direction is preserved, nothing is lost or duplicated;
//! * a partition pauses delivery in both directions until it heals (TCP retransmits: bytes are
//!   late, never lost); a stalled reader pauses delivery in one direction;
//! * a closed writer sends a FIN after its last byte; a reset discards everything at once.

use std::collections::VecDeque;

use bitpeer::Time;
use bitpeer::node::PeerId;
use bytes::Bytes;
use rand::Rng;

/// How a link cuts what it carries into the pieces `handle_input` sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Chunking {
    /// Each accepted segment arrives in one piece.
    Whole,
    /// Random piece sizes in `1..=max`; `tiny_permille` of pieces are a single byte.
    Random {
        /// Largest piece.
        max: usize,
        /// Per-mille of pieces forced to one byte.
        tiny_permille: u32,
    },
}

/// A link's fixed characteristics, drawn once from the seed.
#[derive(Clone, Copy, Debug)]
pub struct LinkParams {
    /// One-way base latency in microseconds.
    pub latency_us: u64,
    /// Extra random delay per piece, uniform in `0..=jitter_us`.
    pub jitter_us: u64,
    /// Most bytes in flight per direction (send buffer plus receive window).
    pub window: usize,
    /// How pieces are cut.
    pub chunking: Chunking,
}

/// One direction of a link.
#[derive(Debug, Default)]
pub struct Pipe {
    /// Frames the writer handed out, not yet accepted by the network.
    queue: VecDeque<Bytes>,
    queued_bytes: usize,
    /// Accepted pieces with their delivery times (non-decreasing).
    flight: VecDeque<(Time, Bytes)>,
    flight_bytes: usize,
    last_at: Time,
    /// The writer closed: a FIN follows its last byte.
    pub fin: bool,
    fin_at: Option<Time>,
    /// The FIN reached the reader.
    pub fin_delivered: bool,
    /// The reader does not read before this time.
    pub stalled_until: Time,
}

impl Pipe {
    /// The writer handed out `frame`.
    pub fn push(&mut self, frame: Bytes) {
        self.queued_bytes += frame.len();
        self.queue.push_back(frame);
    }

    /// Bytes written but not yet delivered (user-space buffer plus network).
    pub fn backlog(&self) -> usize {
        self.queued_bytes + self.flight_bytes
    }

    /// Whether nothing is buffered, in flight or pending (including a FIN).
    pub fn is_idle(&self) -> bool {
        self.backlog() == 0 && (!self.fin || self.fin_delivered)
    }

    /// Moves queued bytes into the network while the window has room; returns how many bytes
    /// were accepted (what the writer now reports with `on_sent`).
    pub fn accept<R: Rng>(&mut self, now: Time, p: &LinkParams, rng: &mut R) -> usize {
        let mut accepted = 0;
        while self.flight_bytes < p.window {
            let Some(front) = self.queue.front_mut() else {
                break;
            };
            let take = (p.window - self.flight_bytes).min(front.len());
            let mut segment = if take == front.len() {
                self.queue.pop_front().expect("front exists")
            } else {
                front.split_to(take)
            };
            self.queued_bytes -= take;
            accepted += take;
            while !segment.is_empty() {
                let size = match p.chunking {
                    Chunking::Whole => segment.len(),
                    Chunking::Random { max, tiny_permille } => {
                        if rng.gen_range(0..1000) < tiny_permille {
                            1
                        } else {
                            rng.gen_range(1..=max.max(1)).min(segment.len())
                        }
                    }
                };
                let piece = segment.split_to(size);
                let jitter = if p.jitter_us == 0 {
                    0
                } else {
                    rng.gen_range(0..=p.jitter_us)
                };
                let at = self
                    .last_at
                    .max(Time::from_micros(now.as_micros() + p.latency_us + jitter));
                self.last_at = at;
                self.flight_bytes += piece.len();
                self.flight.push_back((at, piece));
            }
        }
        if self.fin && self.queue.is_empty() && self.fin_at.is_none() {
            let at = self
                .last_at
                .max(Time::from_micros(now.as_micros() + p.latency_us));
            self.last_at = at;
            self.fin_at = Some(at);
        }
        accepted
    }

    /// When the next piece (or the FIN) is due, ignoring pauses.
    pub fn next_due(&self) -> Option<Time> {
        match self.flight.front() {
            Some((t, _)) => Some(*t),
            None if !self.fin_delivered => self.fin_at,
            None => None,
        }
    }

    /// The next piece due at `now`.
    pub fn pop_due(&mut self, now: Time) -> Option<Bytes> {
        if self.flight.front().is_some_and(|(t, _)| *t <= now) {
            let (_, piece) = self.flight.pop_front().expect("front exists");
            self.flight_bytes -= piece.len();
            return Some(piece);
        }
        None
    }

    /// Whether the FIN is due at `now` (everything before it was delivered).
    pub fn fin_due(&self, now: Time) -> bool {
        !self.fin_delivered
            && self.flight.is_empty()
            && self.queue.is_empty()
            && self.fin_at.is_some_and(|t| t <= now)
    }

    /// A reset: everything buffered or in flight is gone.
    pub fn clear(&mut self) {
        *self = Pipe {
            fin: true,
            fin_delivered: true,
            ..Pipe::default()
        };
    }
}

/// One side of a link.
#[derive(Clone, Copy, Debug)]
pub struct End {
    /// Node index.
    pub node: usize,
    /// The peer within that node.
    pub peer: PeerId,
    /// The peer disconnected and was removed from its node.
    pub gone: bool,
}

/// A connection: `ends[0]` dialed `ends[1]`; `pipes[i]` carries bytes from `ends[i]` to
/// `ends[1 - i]`.
#[derive(Debug)]
pub struct Link {
    /// Both sides.
    pub ends: [End; 2],
    /// Both directions.
    pub pipes: [Pipe; 2],
    /// Characteristics.
    pub params: LinkParams,
    /// Delivery paused in both directions before this time.
    pub partition_until: Time,
    /// A fault touched this link: liveness checks that assume a healthy link are off.
    pub faulted: bool,
    /// The link was reset.
    pub reset: bool,
    /// Both ends are gone.
    pub dead: bool,
    /// How many more times the dialer may redial after this link dies.
    pub redials_left: u8,
    /// When each pipe's delivery task is scheduled.
    pub scheduled: [Option<Time>; 2],
}

impl Link {
    /// A fresh link.
    pub fn new(ends: [End; 2], params: LinkParams, redials_left: u8) -> Link {
        Link {
            ends,
            pipes: [Pipe::default(), Pipe::default()],
            params,
            partition_until: Time::ZERO,
            faulted: false,
            reset: false,
            dead: false,
            redials_left,
            scheduled: [None, None],
        }
    }

    /// Delivery on pipe `dir` is paused before this time.
    pub fn paused_until(&self, dir: usize) -> Time {
        self.partition_until.max(self.pipes[dir].stalled_until)
    }

    /// When pipe `dir` next needs attention.
    pub fn due(&self, dir: usize) -> Option<Time> {
        if self.dead {
            return None;
        }
        self.pipes[dir]
            .next_due()
            .map(|t| t.max(self.paused_until(dir)))
    }
}
