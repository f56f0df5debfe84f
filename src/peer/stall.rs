//! The stall handler: deadlines for responses our requests make the remote owe us
//! (PEER.md section 6).
//!
//! One deadline per expected command; re-adding overwrites. Deadlines are checked on a fixed
//! tick (15 s) counted from when the peer became active, so the effective timeout is 30–45 s
//! (90–105 s for `headers`), as in btcd. There is no callback time to compensate for: the state
//! machine never runs application code.

use core::time::Duration;

use crate::time::Time;
use crate::wire::Command;

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
        let tick_us = crate::time::duration_micros(tick).max(1);
        let since = earliest.as_micros().saturating_sub(origin.as_micros());
        let ticks = since.div_ceil(tick_us);
        Some(Time::from_micros(
            origin
                .as_micros()
                .saturating_add(ticks.saturating_mul(tick_us)),
        ))
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
