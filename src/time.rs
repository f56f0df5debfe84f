//! The one time type every input takes: microseconds since the UNIX epoch.
//!
//! The same value serves timeouts, the `version` timestamp and the time offset, so a driver only
//! needs one clock reading per call. Arithmetic saturates: a clock that steps backwards never
//! panics and never pushes a deadline out forever.

use core::fmt;
use core::time::Duration;

/// A point in time, in microseconds since 1970-01-01 00:00:00 UTC.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Time(u64);

impl Time {
    /// The UNIX epoch.
    pub const ZERO: Time = Time(0);

    /// A time from microseconds since the UNIX epoch.
    pub const fn from_micros(micros: u64) -> Time {
        Time(micros)
    }

    /// A time from whole seconds since the UNIX epoch.
    pub const fn from_secs(secs: u64) -> Time {
        Time(secs.saturating_mul(1_000_000))
    }

    /// Microseconds since the UNIX epoch.
    pub const fn as_micros(self) -> u64 {
        self.0
    }

    /// Whole seconds since the UNIX epoch (rounded down).
    pub const fn as_secs(self) -> u64 {
        self.0 / 1_000_000
    }

    /// `self + d`, saturating at the maximum time.
    pub fn saturating_add(self, d: Duration) -> Time {
        Time(self.0.saturating_add(duration_micros(d)))
    }

    /// `self - d`, saturating at the epoch.
    pub fn saturating_sub(self, d: Duration) -> Time {
        Time(self.0.saturating_sub(duration_micros(d)))
    }

    /// How long after `earlier` this time is; zero if `earlier` is later (clock stepped back).
    pub fn saturating_since(self, earlier: Time) -> Duration {
        Duration::from_micros(self.0.saturating_sub(earlier.0))
    }

    /// The current wall-clock time (needs the `std` feature).
    #[cfg(feature = "std")]
    pub fn now() -> Time {
        let since = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Time(duration_micros(since))
    }
}

/// A duration in whole microseconds, saturating at `u64::MAX`.
pub(crate) fn duration_micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

impl fmt::Debug for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:06}s", self.0 / 1_000_000, self.0 % 1_000_000)
    }
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl core::ops::Add<Duration> for Time {
    type Output = Time;

    /// Saturating addition.
    fn add(self, d: Duration) -> Time {
        self.saturating_add(d)
    }
}

impl core::ops::Sub<Time> for Time {
    type Output = Duration;

    /// Saturating difference (zero if `rhs` is later).
    fn sub(self, rhs: Time) -> Duration {
        self.saturating_since(rhs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_saturates() {
        let t = Time::from_secs(10);
        assert_eq!(
            t.saturating_add(Duration::from_secs(5)),
            Time::from_secs(15)
        );
        assert_eq!(t.saturating_sub(Duration::from_secs(50)), Time::ZERO);
        assert_eq!(Time::from_secs(3).saturating_since(t), Duration::ZERO);
        assert_eq!(
            t.saturating_since(Time::from_secs(4)),
            Duration::from_secs(6)
        );
        assert_eq!(
            Time::from_micros(u64::MAX).saturating_add(Duration::MAX),
            Time::from_micros(u64::MAX)
        );
    }
}
