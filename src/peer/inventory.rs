//! Inventory relay (PEER.md sections 9 and 15): the trickle queue, its timer, and the
//! known-inventory cache that keeps us from announcing what the remote already has.

use alloc::vec::Vec;
use core::time::Duration;

use super::config::TricklePolicy;
use super::rng::PeerRng;
use crate::lru::LruSet;
use crate::time::{Time, duration_micros};
use crate::wire::{InvVect, MAX_INV_PER_MSG};

/// Most vectors per trickled `inv` message.
pub const MAX_INV_TRICKLE_SIZE: usize = 1000;

/// Per-peer inventory state.
#[derive(Debug)]
pub(crate) struct Inventory {
    known: LruSet<InvVect>,
    ttl: Option<Duration>,
    queue: Vec<InvVect>,
    next_trickle: Option<Time>,
    /// For the fixed policy: ticks fall at `origin + k × interval`.
    origin: Time,
}

impl Inventory {
    pub(crate) fn new(capacity: usize, ttl: Option<Duration>) -> Inventory {
        Inventory {
            known: LruSet::new(capacity),
            ttl,
            queue: Vec::new(),
            next_trickle: None,
            origin: Time::ZERO,
        }
    }

    /// Whether the remote is known to have `iv` at `now`.
    pub(crate) fn is_known(&self, iv: &InvVect, now: Time) -> bool {
        match self.ttl {
            None => self.known.contains(iv),
            Some(ttl) => self
                .known
                .contains_fresh(iv, now.as_micros(), duration_micros(ttl)),
        }
    }

    /// Records that the remote has `iv`.
    pub(crate) fn add_known(&mut self, iv: InvVect, now: Time) {
        self.known.insert_at(iv, now.as_micros());
        if let Some(ttl) = self.ttl {
            self.known.expire(now.as_micros(), duration_micros(ttl));
        }
    }

    /// Entries in the known-inventory cache.
    pub(crate) fn known_len(&self) -> usize {
        self.known.len()
    }

    /// Heap bytes of the known-inventory cache.
    pub(crate) fn known_heap_bytes(&self) -> usize {
        self.known.heap_bytes()
    }

    /// Vectors waiting for the next trickle.
    pub(crate) fn queued(&self) -> usize {
        self.queue.len()
    }

    /// Appends to the trickle queue (the caller checked it is not known).
    pub(crate) fn enqueue(&mut self, iv: InvVect) {
        self.queue.push(iv);
    }

    /// Starts the trickle schedule (the peer became active).
    pub(crate) fn start(
        &mut self,
        now: Time,
        policy: &TricklePolicy,
        inbound: bool,
        rng: &mut PeerRng,
    ) {
        self.origin = now;
        self.next_trickle = Some(now.saturating_add(delay(policy, inbound, rng)));
    }

    /// When the trickle timer should fire: only while something is queued.
    pub(crate) fn deadline(&self) -> Option<Time> {
        if self.queue.is_empty() {
            None
        } else {
            self.next_trickle
        }
    }

    /// If the trickle is due at `now`, drains the queue into `inv` batches of at most 1000
    /// vectors (skipping what became known, marking what is sent as known) and schedules the
    /// next round. A timer that passed while the queue was empty is re-armed from `now` first,
    /// so inventory queued after a quiet spell still waits for a trickle delay.
    pub(crate) fn trickle(
        &mut self,
        now: Time,
        policy: &TricklePolicy,
        inbound: bool,
        rng: &mut PeerRng,
    ) -> Vec<Vec<InvVect>> {
        let Some(due) = self.next_trickle else {
            return Vec::new();
        };
        if now < due {
            return Vec::new();
        }
        let next = match policy {
            TricklePolicy::Fixed(interval) => {
                let step = duration_micros(*interval).max(1);
                let since = now.as_micros().saturating_sub(self.origin.as_micros());
                Time::from_micros(self.origin.as_micros() + (since / step + 1) * step)
            }
            _ => now.saturating_add(delay(policy, inbound, rng)),
        };
        self.next_trickle = Some(next);
        let mut batches = Vec::new();
        let mut batch = Vec::new();
        for iv in core::mem::take(&mut self.queue) {
            if self.is_known(&iv, now) {
                continue;
            }
            self.add_known(iv, now);
            batch.push(iv);
            if batch.len() == MAX_INV_TRICKLE_SIZE {
                batches.push(core::mem::take(&mut batch));
            }
        }
        if !batch.is_empty() {
            batches.push(batch);
        }
        debug_assert!(batches.iter().all(|b| b.len() <= MAX_INV_PER_MSG));
        batches
    }

    /// Re-arms a timer that passed while nothing was queued, so new inventory waits for a
    /// fresh delay instead of going out at once.
    pub(crate) fn rearm_if_stale(
        &mut self,
        now: Time,
        policy: &TricklePolicy,
        inbound: bool,
        rng: &mut PeerRng,
    ) {
        if let Some(due) = self.next_trickle {
            if due < now && self.queue.is_empty() {
                self.next_trickle = Some(match policy {
                    TricklePolicy::Fixed(interval) => {
                        let step = duration_micros(*interval).max(1);
                        let since = now.as_micros().saturating_sub(self.origin.as_micros());
                        Time::from_micros(self.origin.as_micros() + since.div_ceil(step) * step)
                    }
                    _ => now.saturating_add(delay(policy, inbound, rng)),
                });
            }
        }
    }
}

/// One trickle delay under `policy`.
fn delay(policy: &TricklePolicy, inbound: bool, rng: &mut PeerRng) -> Duration {
    match *policy {
        TricklePolicy::Fixed(interval) => interval,
        TricklePolicy::Poisson {
            outbound_mean,
            inbound_mean,
        } => {
            let mean = if inbound { inbound_mean } else { outbound_mean };
            let micros = rng.exponential(duration_micros(mean) as f64);
            // Cap at 1000 means so a freak draw cannot silence relay.
            Duration::from_micros(micros.min(duration_micros(mean) as f64 * 1000.0) as u64)
        }
        TricklePolicy::Uniform { min, max } => {
            let lo = duration_micros(min);
            let span = duration_micros(max).saturating_sub(lo);
            Duration::from_micros(lo + rng.below(span.max(1)))
        }
    }
}
