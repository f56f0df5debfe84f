//! Ping / pong bookkeeping (PEER.md section 5) and the idle deadline.

use core::time::Duration;

use crate::time::Time;

/// Ping state of one peer.
#[derive(Clone, Debug, Default)]
pub(crate) struct KeepAlive {
    /// When the next ping is due (None until active).
    pub next_ping: Option<Time>,
    /// Nonce of the outstanding ping (0 = none).
    pub last_ping_nonce: u64,
    /// When that ping was written.
    pub last_ping_time: Option<Time>,
    /// Round trip of the last answered ping.
    pub last_rtt: Option<Duration>,
    /// Disconnect if nothing arrives by this time.
    pub idle_deadline: Option<Time>,
}

impl KeepAlive {
    /// Starts the ping schedule and idle deadline.
    pub(crate) fn start(&mut self, now: Time, ping_interval: Duration, idle: Duration) {
        self.next_ping = Some(now.saturating_add(ping_interval));
        self.idle_deadline = Some(now.saturating_add(idle));
    }

    /// Whether a ping is due at `now`; if so the schedule advances by one interval (or restarts
    /// from `now` if the clock jumped past several).
    pub(crate) fn ping_due(&mut self, now: Time, interval: Duration) -> bool {
        match self.next_ping {
            Some(t) if t <= now => {
                let next = t.saturating_add(interval);
                self.next_ping = Some(if next <= now {
                    now.saturating_add(interval)
                } else {
                    next
                });
                true
            }
            _ => false,
        }
    }

    /// A ping was written: track it (only the most recent ping is tracked).
    pub(crate) fn on_ping_written(&mut self, nonce: u64, now: Time) {
        self.last_ping_nonce = nonce;
        self.last_ping_time = Some(now);
    }

    /// A pong arrived: record the round trip if it answers the outstanding ping.
    pub(crate) fn on_pong(&mut self, nonce: u64, now: Time) {
        if self.last_ping_nonce != 0 && nonce == self.last_ping_nonce {
            if let Some(sent) = self.last_ping_time {
                self.last_rtt = Some(now.saturating_since(sent));
            }
            self.last_ping_nonce = 0;
        }
    }

    /// A message arrived: push the idle deadline out.
    pub(crate) fn on_received(&mut self, now: Time, idle: Duration) {
        if self.idle_deadline.is_some() {
            self.idle_deadline = Some(now.saturating_add(idle));
        }
    }
}
