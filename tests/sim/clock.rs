//! Per-node clocks: each node sees virtual time plus its own offset, which may step forwards or
//! backwards mid-run (an NTP correction, a suspended VM, an operator fixing the date).

use bitpeer::Time;

/// One node's view of time.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    offset_us: i64,
    steps: u32,
}

impl Clock {
    /// A clock `offset_us` microseconds ahead of virtual time (negative: behind).
    pub fn with_offset(offset_us: i64) -> Clock {
        Clock {
            offset_us,
            steps: 0,
        }
    }

    /// What the node reads at virtual time `v`.
    pub fn local(&self, v: Time) -> Time {
        let t = i128::from(v.as_micros()) + i128::from(self.offset_us);
        Time::from_micros(t.clamp(0, i128::from(u64::MAX)) as u64)
    }

    /// The virtual time at which the node will read `local` (if the clock does not step).
    pub fn to_virtual(&self, local: Time) -> Time {
        let t = i128::from(local.as_micros()) - i128::from(self.offset_us);
        Time::from_micros(t.clamp(0, i128::from(u64::MAX)) as u64)
    }

    /// Steps the clock by `delta_us` (negative: backwards).
    pub fn step(&mut self, delta_us: i64) {
        self.offset_us = self.offset_us.saturating_add(delta_us);
        self.steps += 1;
    }

    /// How many times the clock stepped so far. A local duration measured across a step is not
    /// a real duration, so deadline checks compare step counts before insisting on exactness.
    pub fn steps(&self) -> u32 {
        self.steps
    }

    /// The current offset from virtual time.
    pub fn offset_us(&self) -> i64 {
        self.offset_us
    }
}
