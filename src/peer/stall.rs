//! The stall handler: deadlines for responses our requests make the remote owe us
//! (PEER.md section 6).
//!
//! One deadline per expected command; re-adding overwrites. Deadlines are checked on a fixed
//! tick (15 s) counted from when the peer became active, so the effective timeout is 30–45 s
//! (90–105 s for `headers`), as in btcd. There is no callback time to compensate for: the state
//! machine never runs application code.

use alloc::collections::VecDeque;
use core::time::Duration;

use crate::time::Time;
use crate::wire::{Command, InvVect};

const EXPECTED: [Command; 7] = [
    Command::VERACK,
    Command::INV,
    Command::BLOCK,
    Command::MERKLEBLOCK,
    Command::TX,
    Command::NOTFOUND,
    Command::HEADERS,
];

/// Pending-response deadlines.
#[derive(Clone, Debug, Default)]
pub(crate) struct StallTracker {
    deadlines: [Option<Time>; 7],
    origin: Option<Time>,
}

fn slot(command: Command) -> Option<usize> {
    EXPECTED.iter().position(|c| *c == command)
}

impl StallTracker {
    /// Starts ticking from `now` (the peer became active).
    pub(crate) fn start(&mut self, now: Time) {
        self.origin = Some(now);
    }

    /// When ticking started.
    pub(crate) fn origin(&self) -> Option<Time> {
        self.origin
    }

    /// A message was written: record the responses it makes the remote owe us.
    pub(crate) fn on_sent(&mut self, command: Command, now: Time, base: Duration) {
        let add = |s: &mut Self, c: Command, d: Duration| {
            if let Some(i) = slot(c) {
                s.deadlines[i] = Some(now.saturating_add(d));
            }
        };
        match command {
            Command::VERSION => add(self, Command::VERACK, base),
            Command::MEMPOOL | Command::GETBLOCKS => add(self, Command::INV, base),
            Command::GETDATA => {
                for c in [
                    Command::BLOCK,
                    Command::MERKLEBLOCK,
                    Command::TX,
                    Command::NOTFOUND,
                ] {
                    add(self, c, base);
                }
            }
            Command::GETHEADERS => add(self, Command::HEADERS, base * 3),
            _ => {}
        }
    }

    /// A message arrived: clear what it answers.
    pub(crate) fn on_received(&mut self, command: Command) {
        match command {
            Command::BLOCK | Command::MERKLEBLOCK | Command::TX | Command::NOTFOUND => {
                for c in [
                    Command::BLOCK,
                    Command::MERKLEBLOCK,
                    Command::TX,
                    Command::NOTFOUND,
                ] {
                    if let Some(i) = slot(c) {
                        self.deadlines[i] = None;
                    }
                }
            }
            c => {
                if let Some(i) = slot(c) {
                    self.deadlines[i] = None;
                }
            }
        }
    }

    /// The first tick at which an expired deadline would be noticed.
    pub(crate) fn next_check(&self, tick: Duration) -> Option<Time> {
        let origin = self.origin?;
        let earliest = self.deadlines.iter().flatten().min()?;
        next_tick(origin, *earliest, tick)
    }

    /// The command whose deadline has passed at `now`, if any (earliest deadline first).
    pub(crate) fn expired(&self, now: Time) -> Option<Command> {
        EXPECTED
            .iter()
            .zip(self.deadlines.iter())
            .filter_map(|(c, d)| d.filter(|d| *d <= now).map(|d| (d, *c)))
            .min()
            .map(|(_, c)| c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decred_getdata_deadlines_start_when_written_and_the_limit_counts_queued() {
        let mut s = InvStall::default();
        let iv = |b: u8| InvVect::new(crate::wire::InvType::TX, crate::wire::Hash256([b; 32]));
        let timeout = Duration::from_secs(30);
        assert!(s.on_getdata_queued(&[iv(1), iv(2)]));
        assert_eq!((s.pending(), s.queued()), (0, 2));
        // Written 50 s after it was queued: due 30 s after the write.
        s.on_getdata_written(Time::from_secs(60), timeout);
        assert_eq!((s.pending(), s.queued()), (2, 0));
        assert_eq!(s.earliest(), Some(Time::from_secs(90)));
        let big: alloc::vec::Vec<InvVect> = (0..MAX_PENDING_INVENTORY - 2)
            .map(|i| {
                let mut h = [0u8; 32];
                h[..4].copy_from_slice(&(i as u32).to_le_bytes());
                h[31] = 0xff;
                InvVect::new(crate::wire::InvType::TX, crate::wire::Hash256(h))
            })
            .collect();
        assert!(s.on_getdata_queued(&big));
        assert!(
            !s.on_getdata_queued(&[iv(3)]),
            "pending + queued at the limit"
        );
    }

    #[test]
    fn clock_stepped_back_past_the_origin_still_checks_within_a_tick() {
        let mut s = StallTracker::default();
        s.start(Time::from_secs(1000));
        let base = Duration::from_secs(30);
        let tick = Duration::from_secs(15);
        // The clock stepped back ten minutes; a getdata goes out at 400 s: due at 430 s, the
        // next tick on the grid 1000 - 15k at or after it is 430 s itself.
        s.on_sent(Command::GETDATA, Time::from_secs(400), base);
        assert_eq!(s.next_check(tick), Some(Time::from_secs(430)));
        assert!(s.expired(Time::from_secs(430)).is_some());
        s.on_received(Command::TX);
        s.on_sent(Command::GETDATA, Time::from_secs(401), base);
        assert_eq!(s.next_check(tick), Some(Time::from_secs(445)));
        assert_eq!(s.expired(Time::from_secs(430)), None);
    }

    #[test]
    fn getdata_expects_any_of_four_and_ticks_round_up() {
        let mut s = StallTracker::default();
        s.start(Time::from_secs(100));
        let base = Duration::from_secs(30);
        s.on_sent(Command::GETDATA, Time::from_secs(107), base);
        // Deadline 137 → first tick at or after it: 100 + 3×15 = 145.
        assert_eq!(
            s.next_check(Duration::from_secs(15)),
            Some(Time::from_secs(145))
        );
        assert_eq!(s.expired(Time::from_secs(136)), None);
        assert!(s.expired(Time::from_secs(145)).is_some());
        s.on_received(Command::NOTFOUND);
        assert_eq!(s.next_check(Duration::from_secs(15)), None);
        s.on_sent(Command::GETHEADERS, Time::from_secs(110), base);
        assert_eq!(
            s.next_check(Duration::from_secs(15)),
            Some(Time::from_secs(205))
        );
        assert_eq!(s.expired(Time::from_secs(205)), Some(Command::HEADERS));
    }
}

/// dcrd's stall handler: one deadline per requested inventory vector (and per `getinitstate`),
/// cleared only by the matching `block`, `tx`, mix message or `notfound` entry.
#[derive(Clone, Debug, Default)]
pub(crate) struct InvStall {
    pending: hashbrown::HashMap<InvVect, Time>,
    /// Deadlines in the order they were set (non-decreasing unless the clock stepped back);
    /// entries whose vector was answered or re-requested are skipped lazily.
    order: VecDeque<(Time, InvVect)>,
    init_state: Option<Time>,
    /// `getdata` lists queued but not yet written, oldest first: their deadlines start when
    /// they are written (PEER.md sections 6 and 15: "on sent").
    queued: VecDeque<alloc::vec::Vec<InvVect>>,
    /// Vectors in `queued`.
    queued_len: usize,
}

/// Most requested-but-unanswered inventory vectors a Decred peer may have (dcrd: 50 000 + half).
pub const MAX_PENDING_INVENTORY: usize = 75_000;

impl InvStall {
    /// A `getdata` is being queued. Fails (changing nothing) if the vectors already pending or
    /// queued plus these would exceed [`MAX_PENDING_INVENTORY`]; otherwise it waits for
    /// [`on_getdata_written`](Self::on_getdata_written).
    pub(crate) fn on_getdata_queued(&mut self, list: &[InvVect]) -> bool {
        if self.pending.len() + self.queued_len + list.len() > MAX_PENDING_INVENTORY {
            return false;
        }
        self.queued_len += list.len();
        self.queued.push_back(list.to_vec());
        true
    }

    /// The oldest queued `getdata` was written: its vectors become due in `timeout`.
    pub(crate) fn on_getdata_written(&mut self, now: Time, timeout: Duration) {
        if let Some(list) = self.queued.pop_front() {
            self.queued_len -= list.len();
            self.on_getdata(&list, now, timeout);
        }
    }

    /// Vectors requested but not yet written.
    pub(crate) fn queued(&self) -> usize {
        self.queued_len
    }

    /// A `getdata` is being sent: every vector becomes due in `timeout`. Fails (changing
    /// nothing) if that would exceed [`MAX_PENDING_INVENTORY`].
    pub(crate) fn on_getdata(&mut self, list: &[InvVect], now: Time, timeout: Duration) -> bool {
        if self.pending.len() + list.len() > MAX_PENDING_INVENTORY {
            return false;
        }
        let deadline = now.saturating_add(timeout);
        for iv in list {
            self.pending.insert(*iv, deadline);
            self.order.push_back((deadline, *iv));
        }
        true
    }

    /// A `getinitstate` is being sent.
    pub(crate) fn on_getinitstate(&mut self, now: Time, timeout: Duration) {
        self.init_state = Some(now.saturating_add(timeout));
    }

    /// The `initstate` answer arrived.
    pub(crate) fn on_initstate(&mut self) {
        self.init_state = None;
    }

    /// An object arrived (or was declared not found).
    pub(crate) fn on_received(&mut self, iv: &InvVect) {
        self.pending.remove(iv);
        self.trim();
    }

    fn trim(&mut self) {
        while let Some((t, iv)) = self.order.front() {
            if self.pending.get(iv) == Some(t) {
                break;
            }
            self.order.pop_front();
        }
        if self.pending.is_empty() {
            self.order = VecDeque::new();
        }
    }

    /// Requested vectors not yet answered.
    pub(crate) fn pending(&self) -> usize {
        self.pending.len()
    }

    /// The earliest deadline.
    fn earliest(&self) -> Option<Time> {
        let inv = self.order.front().map(|(t, _)| *t);
        [inv, self.init_state].into_iter().flatten().min()
    }

    /// What has expired at `now`: the command (`initstate`) or the earliest vector.
    pub(crate) fn expired(&self, now: Time) -> Option<Result<Command, InvVect>> {
        if self.init_state.is_some_and(|d| d <= now) {
            return Some(Ok(Command::new("initstate").unwrap_or(Command::VERACK)));
        }
        // The front is the earliest live deadline unless the clock stepped back; fall back to
        // a scan then.
        match self.order.front() {
            Some((t, iv)) if *t <= now => Some(Err(*iv)),
            _ => self
                .pending
                .iter()
                .filter(|(_, t)| **t <= now)
                .min_by_key(|(iv, t)| (**t, **iv))
                .map(|(iv, _)| Err(*iv)),
        }
    }

    /// The first tick (from `origin`, every `tick`) at which something would have expired.
    pub(crate) fn next_check(&self, origin: Time, tick: Duration) -> Option<Time> {
        next_tick(origin, self.earliest()?, tick)
    }
}

/// The first `origin + k × tick` (any integer `k`) at or after `deadline`. The grid extends
/// before `origin`: after the clock stepped back past it, a deadline is still checked within
/// one tick instead of waiting for the clock to catch up with `origin` again.
fn next_tick(origin: Time, deadline: Time, tick: Duration) -> Option<Time> {
    let tick_us = crate::time::duration_micros(tick).max(1);
    let (o, d) = (origin.as_micros(), deadline.as_micros());
    let at = if d >= o {
        o.saturating_add((d - o).div_ceil(tick_us).saturating_mul(tick_us))
    } else {
        o - (o - d) / tick_us * tick_us
    };
    Some(Time::from_micros(at))
}
