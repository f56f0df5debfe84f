//! The process-wide record of nonces our own `version` messages used, for self-connection
//! detection.
//!
//! Every peer of one node must see the nonces every *other* peer sent, so the set is shared. It
//! is a fixed ring of atomics: inserting and checking never lock, never allocate after
//! construction, and never block another peer, whether the node runs one thread or many.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// A bounded, lock-free set of recently sent `version` nonces (default 50, as btcd and dcrd).
/// Oldest nonces are forgotten first. Share it between the peers of one node with an `Arc`
/// (a clone of a [`Config`](super::Config) shares it automatically).
#[derive(Debug)]
pub struct NonceCache {
    slots: Box<[AtomicU64]>,
    next: AtomicUsize,
    detected: Box<[AtomicU64]>,
    next_detected: AtomicUsize,
}

impl NonceCache {
    /// Default number of remembered nonces.
    pub const DEFAULT_CAPACITY: usize = 50;

    /// An empty cache remembering the last [`DEFAULT_CAPACITY`](Self::DEFAULT_CAPACITY) nonces.
    pub fn new() -> NonceCache {
        NonceCache::with_capacity(Self::DEFAULT_CAPACITY)
    }

    /// An empty cache remembering the last `capacity` nonces (at least one).
    pub fn with_capacity(capacity: usize) -> NonceCache {
        let ring = || -> Box<[AtomicU64]> {
            let v: Vec<AtomicU64> = (0..capacity.max(1)).map(|_| AtomicU64::new(0)).collect();
            v.into_boxed_slice()
        };
        NonceCache {
            slots: ring(),
            next: AtomicUsize::new(0),
            detected: ring(),
            next_detected: AtomicUsize::new(0),
        }
    }

    /// Records that an inbound peer received `nonce` back: the outbound peer that sent it is
    /// talking to ourselves, and reports so when its connection closes.
    pub fn mark_detected(&self, nonce: u64) {
        if nonce == 0 {
            return;
        }
        let i = self.next_detected.fetch_add(1, Ordering::Relaxed) % self.detected.len();
        self.detected[i].store(nonce, Ordering::Release);
    }

    /// Whether an inbound peer of ours received `nonce` (see [`mark_detected`](Self::mark_detected)).
    pub fn was_detected(&self, nonce: u64) -> bool {
        nonce != 0
            && self
                .detected
                .iter()
                .any(|s| s.load(Ordering::Acquire) == nonce)
    }

    /// Records a nonce we sent. Zero is never recorded (it marks an empty slot; peers never
    /// use it).
    pub fn insert(&self, nonce: u64) {
        if nonce == 0 {
            return;
        }
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.slots.len();
        self.slots[i].store(nonce, Ordering::Release);
    }

    /// Whether `nonce` is one we sent recently.
    pub fn contains(&self, nonce: u64) -> bool {
        nonce != 0
            && self
                .slots
                .iter()
                .any(|s| s.load(Ordering::Acquire) == nonce)
    }

    /// How many nonces it remembers at most.
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }
}

impl Default for NonceCache {
    fn default() -> Self {
        NonceCache::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_the_most_recent_nonces() {
        let cache = NonceCache::with_capacity(3);
        for n in 1..=5 {
            cache.insert(n);
        }
        assert!(!cache.contains(1));
        assert!(!cache.contains(2));
        assert!(cache.contains(3) && cache.contains(4) && cache.contains(5));
        cache.insert(0);
        assert!(!cache.contains(0));
        assert_eq!(NonceCache::new().capacity(), 50);
    }
}
