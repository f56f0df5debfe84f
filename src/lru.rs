//! Bounded, allocation-frugal LRU sets.
//!
//! [`LruSet`] is a fixed-capacity set that evicts its least-recently-used key
//! when full. It backs the per-peer "known inventory" filter (keyed by
//! `(inv type, hash)`, optionally with a time-to-live per entry). The
//! self-connection nonces live elsewhere (`peer::NonceCache`): they are shared
//! between peers, which needs a lock-free structure rather than `&mut` access.
//!
//! # Design
//!
//! * Keys live once, in a slab `Vec<Node>`; nodes form an intrusive doubly
//!   linked list through `u32` indices (most-recent at the head). The slab is
//!   kept dense: removing a node moves the last node into the hole.
//! * A `hashbrown::HashTable<u32>` maps a key to its slab index; it hashes the
//!   key stored in the slab, so nothing is stored twice.
//! * Memory is allocated lazily and never beyond `capacity` slab slots: an
//!   empty set owns no heap memory. With a 36-byte key at capacity 1000 the
//!   set uses about 62 heap bytes per entry (52-byte node + ~10 bytes of hash
//!   table), and it stays there under arbitrarily long churn: the table is
//!   cleaned of tombstones in place instead of letting `hashbrown` double it.
//! * Every operation is O(1) amortized; [`LruSet::expire`] is O(expired).
//! * Iteration and eviction order come only from the linked list, never from
//!   the hash table, so behaviour is fully deterministic even though the
//!   hasher (`hashbrown`'s default, foldhash) is seeded per instance from
//!   address-space layout.
//!
//! # Time
//!
//! The set never reads a clock. Callers pass time as `u64` microseconds
//! (from any monotonic source). Each entry carries a timestamp, see
//! [`LruSet::insert_at`] for exactly how it is assigned.

use alloc::vec::Vec;
use core::fmt;
use core::hash::{BuildHasher, Hash};
use core::iter::FusedIterator;
use core::mem::size_of;

use hashbrown::{DefaultHashBuilder, HashTable};

/// Sentinel slab index meaning "no node".
const NIL: u32 = u32::MAX;

/// Largest supported capacity: every slab index must be below [`NIL`].
const MAX_CAPACITY: usize = NIL as usize;

/// One slab slot: the key, its list links and its timestamp.
///
/// The timestamp is split into two `u32` halves so the node only needs the
/// key's alignment: for a 36-byte, 4-aligned key this is 52 bytes instead of
/// 56.
#[derive(Clone, Copy)]
struct Node<K> {
    key: K,
    /// Neighbour towards the most-recent end (head), or [`NIL`].
    prev: u32,
    /// Neighbour towards the least-recent end (tail), or [`NIL`].
    next: u32,
    /// Low half of the timestamp in microseconds.
    stamp_lo: u32,
    /// High half of the timestamp in microseconds.
    stamp_hi: u32,
}

impl<K> Node<K> {
    fn stamp(&self) -> u64 {
        (u64::from(self.stamp_hi) << 32) | u64::from(self.stamp_lo)
    }

    fn set_stamp(&mut self, stamp: u64) {
        self.stamp_lo = u32::try_from(stamp & u64::from(u32::MAX)).expect("masked to 32 bits");
        self.stamp_hi = u32::try_from(stamp >> 32).expect("upper 32 bits of a u64");
    }
}

/// Whether an entry stamped `stamp` is expired at `now` under `ttl`: it was
/// stamped at or before `now - ttl`. Nothing is expired while `now < ttl`.
fn is_expired(stamp: u64, now_micros: u64, ttl_micros: u64) -> bool {
    now_micros
        .checked_sub(ttl_micros)
        .is_some_and(|cutoff| stamp <= cutoff)
}

/// Converts a slab position to a list index. Positions are always below the
/// capacity, which is at most [`MAX_CAPACITY`].
fn to_index(position: usize) -> u32 {
    u32::try_from(position).expect("slab positions are bounded by a u32 capacity")
}

/// A bounded set of keys with least-recently-used eviction and optional
/// per-entry time-to-live.
///
/// Holds at most [`capacity`](Self::capacity) keys; inserting a new key into
/// a full set first evicts the least-recently-used one. "Use" means
/// [`insert`](Self::insert), [`insert_at`](Self::insert_at) or
/// [`touch`](Self::touch); [`contains`](Self::contains) does not count.
///
/// # Timestamps and expiry
///
/// The set remembers the latest time it has been given (the largest
/// `now_micros` passed to [`insert_at`](Self::insert_at) or
/// [`expire`](Self::expire); 0 initially). Every operation that makes an entry
/// the most recent also stamps it:
///
/// * [`insert_at`](Self::insert_at) stamps it with `now_micros`, or with the
///   latest time already seen if `now_micros` is earlier (time never runs
///   backwards inside the set);
/// * [`insert`](Self::insert) and [`touch`](Self::touch) stamp it with the
///   latest time seen, so re-inserting or touching a key extends its life.
///
/// Consequently timestamps never decrease from the least-recent to the
/// most-recent end, and [`expire`](Self::expire) is exact (it removes every
/// entry stamped at or before `now - ttl`, no others) while only visiting the
/// entries it removes. An entry is expired at `now` under `ttl` iff its stamp
/// is `<= now - ttl`; nothing is expired while `now < ttl`.
///
/// Sets that never use time simply leave every stamp at 0.
#[derive(Clone)]
pub struct LruSet<K: Hash + Eq + Copy> {
    /// Dense storage; `slab.len()` is the number of keys.
    slab: Vec<Node<K>>,
    /// Maps a key (hashed from the slab) to its slab index.
    table: HashTable<u32>,
    /// Hasher for `table`. Its seed never influences order.
    hasher: DefaultHashBuilder,
    /// Most recently used node, or [`NIL`] when empty.
    head: u32,
    /// Least recently used node, or [`NIL`] when empty.
    tail: u32,
    /// Maximum number of keys.
    capacity: usize,
    /// Latest time seen, in microseconds; stamps never exceed it.
    clock: u64,
}

impl<K: Hash + Eq + Copy> LruSet<K> {
    /// Creates an empty set holding at most `capacity` keys.
    ///
    /// Allocates nothing until the first insertion. A capacity of 0 yields a
    /// set that never holds anything; capacities above `u32::MAX - 1` are
    /// clamped to it.
    #[must_use]
    pub fn new(capacity: usize) -> Self {
        Self {
            slab: Vec::new(),
            table: HashTable::new(),
            hasher: DefaultHashBuilder::default(),
            head: NIL,
            tail: NIL,
            capacity: capacity.min(MAX_CAPACITY - 1),
            clock: 0,
        }
    }

    /// Maximum number of keys the set holds.
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Number of keys currently in the set.
    #[must_use]
    pub fn len(&self) -> usize {
        self.slab.len()
    }

    /// Whether the set holds no keys.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.slab.is_empty()
    }

    /// Inserts `key` as the most recently used entry, stamped with the latest
    /// time seen.
    ///
    /// Returns `true` if the key was not present. An existing key is moved to
    /// the most-recent position (and re-stamped) and `false` is returned. When
    /// the set is full, the least-recently-used key is evicted first. With
    /// capacity 0 nothing is stored and `false` is returned.
    pub fn insert(&mut self, key: K) -> bool {
        self.insert_stamped(key, self.clock)
    }

    /// Like [`insert`](Self::insert), but stamps the entry with `now_micros`
    /// (or with the latest time seen, if that is later) for use with
    /// [`expire`](Self::expire) and [`contains_fresh`](Self::contains_fresh).
    pub fn insert_at(&mut self, key: K, now_micros: u64) -> bool {
        self.clock = self.clock.max(now_micros);
        self.insert_stamped(key, self.clock)
    }

    /// Whether `key` is present. Does not change recency.
    #[must_use]
    pub fn contains(&self, key: &K) -> bool {
        self.find(key).is_some()
    }

    /// Whether `key` is present and not expired at `now_micros` under
    /// `ttl_micros` (that is, stamped after `now_micros - ttl_micros`).
    /// Does not change recency.
    #[must_use]
    pub fn contains_fresh(&self, key: &K, now_micros: u64, ttl_micros: u64) -> bool {
        self.find(key)
            .is_some_and(|i| !is_expired(self.slab[i as usize].stamp(), now_micros, ttl_micros))
    }

    /// Marks `key` as most recently used (re-stamping it with the latest time
    /// seen) if present; returns whether it was present.
    pub fn touch(&mut self, key: &K) -> bool {
        match self.find(key) {
            Some(i) => {
                self.move_to_front(i);
                self.slab[i as usize].set_stamp(self.clock);
                true
            }
            None => false,
        }
    }

    /// Removes `key`; returns whether it was present.
    pub fn remove(&mut self, key: &K) -> bool {
        match self.find(key) {
            Some(i) => {
                self.remove_index(i);
                true
            }
            None => false,
        }
    }

    /// Removes every entry stamped at or before `now_micros - ttl_micros`
    /// (none while `now_micros < ttl_micros`) and returns how many were
    /// removed.
    ///
    /// Exact, and O(number removed): timestamps are ordered along the
    /// recency list (see the type-level docs), so expired entries are exactly
    /// a run at the least-recent end. Also advances the set's notion of the
    /// latest time to `now_micros`.
    pub fn expire(&mut self, now_micros: u64, ttl_micros: u64) -> usize {
        self.clock = self.clock.max(now_micros);
        let mut removed = 0;
        while self.tail != NIL
            && is_expired(
                self.slab[self.tail as usize].stamp(),
                now_micros,
                ttl_micros,
            )
        {
            self.remove_index(self.tail);
            removed += 1;
        }
        removed
    }

    /// Removes every key. Keeps the allocated memory for reuse; the latest
    /// time seen is kept too.
    pub fn clear(&mut self) {
        self.slab.clear();
        self.table.clear();
        self.head = NIL;
        self.tail = NIL;
    }

    /// Iterates over the keys, most recently used first.
    #[must_use]
    pub fn iter(&self) -> Iter<'_, K> {
        Iter {
            slab: &self.slab,
            cursor: self.head,
            remaining: self.slab.len(),
        }
    }

    /// Bytes this set currently has allocated on the heap: the slab's
    /// allocated slots times the node size, plus the hash table's allocation
    /// (buckets and control bytes). Excludes allocator bookkeeping and
    /// rounding. Zero for a set that has never held a key.
    #[must_use]
    pub fn heap_bytes(&self) -> usize {
        self.slab.capacity() * size_of::<Node<K>>() + self.table.allocation_size()
    }

    /// Hashes `key` with this set's hasher.
    fn hash(&self, key: &K) -> u64 {
        self.hasher.hash_one(key)
    }

    /// Slab index of `key`, if present.
    fn find(&self, key: &K) -> Option<u32> {
        if self.slab.is_empty() {
            return None;
        }
        let slab = &self.slab;
        self.table
            .find(self.hash(key), |&i| slab[i as usize].key == *key)
            .copied()
    }

    /// Shared body of [`insert`](Self::insert) and
    /// [`insert_at`](Self::insert_at).
    fn insert_stamped(&mut self, key: K, stamp: u64) -> bool {
        if self.capacity == 0 {
            return false;
        }
        let hash = self.hash(&key);
        let slab = &self.slab;
        if let Some(&i) = self.table.find(hash, |&i| slab[i as usize].key == key) {
            self.move_to_front(i);
            self.slab[i as usize].set_stamp(stamp);
            return false;
        }

        let index = if self.slab.len() >= self.capacity {
            // Full: recycle the least-recently-used slot in place.
            let victim = self.tail;
            let victim_hash = self.hash(&self.slab[victim as usize].key);
            self.table
                .find_entry(victim_hash, |&i| i == victim)
                .expect("every slab node has a table entry")
                .remove();
            self.unlink(victim);
            let node = &mut self.slab[victim as usize];
            node.key = key;
            node.set_stamp(stamp);
            victim
        } else {
            self.grow_slab_for_one();
            let index = to_index(self.slab.len());
            let mut node = Node {
                key,
                prev: NIL,
                next: NIL,
                stamp_lo: 0,
                stamp_hi: 0,
            };
            node.set_stamp(stamp);
            self.slab.push(node);
            index
        };
        self.link_front(index);
        self.make_table_room(index);
        let (slab, hasher) = (&self.slab, &self.hasher);
        self.table
            .insert_unique(hash, index, |&i| hasher.hash_one(slab[i as usize].key));
        true
    }

    /// Ensures the slab can take one more node without ever allocating more
    /// than `capacity` slots: doubles, but caps growth at the capacity.
    fn grow_slab_for_one(&mut self) {
        let len = self.slab.len();
        if len == self.slab.capacity() {
            let target = (len * 2).max(4).min(self.capacity);
            self.slab.reserve_exact(target - len);
        }
    }

    /// Ensures the table can take one more entry without growing needlessly.
    ///
    /// Removals may leave tombstones that use up the table's growth budget;
    /// when the budget is exhausted `hashbrown` would double the table
    /// (whenever it is more than half full), so a set churning at capacity
    /// would end up with twice the buckets it needs. Instead, the table is
    /// first rebuilt in place (no allocation), which drops the tombstones; it
    /// is only grown if that leaves less than about an eighth of spare room.
    /// Each rebuild is O(len) and is followed by at least `len / 8` insertions
    /// before the next, so this stays O(1) amortized.
    ///
    /// `pending` is the slab index of the node being inserted: it is already
    /// in the slab but must not be put in the table here.
    fn make_table_room(&mut self, pending: u32) {
        if self.table.len() < self.table.capacity() {
            return;
        }
        let (slab, hasher) = (&self.slab, &self.hasher);
        let rehash = |&i: &u32| hasher.hash_one(slab[i as usize].key);
        self.table.clear();
        for (i, node) in slab.iter().enumerate() {
            let i = to_index(i);
            if i != pending {
                self.table
                    .insert_unique(hasher.hash_one(node.key), i, rehash);
            }
        }
        let spare = self.table.capacity() - self.table.len();
        let wanted = self.table.len() / 8 + 1;
        if spare < wanted {
            self.table.reserve(wanted, rehash);
        }
    }

    /// Detaches node `i` from the recency list.
    fn unlink(&mut self, i: u32) {
        let Node { prev, next, .. } = self.slab[i as usize];
        if prev == NIL {
            self.head = next;
        } else {
            self.slab[prev as usize].next = next;
        }
        if next == NIL {
            self.tail = prev;
        } else {
            self.slab[next as usize].prev = prev;
        }
    }

    /// Attaches the detached node `i` at the most-recent end.
    fn link_front(&mut self, i: u32) {
        let old_head = self.head;
        {
            let node = &mut self.slab[i as usize];
            node.prev = NIL;
            node.next = old_head;
        }
        if old_head == NIL {
            self.tail = i;
        } else {
            self.slab[old_head as usize].prev = i;
        }
        self.head = i;
    }

    /// Moves node `i` to the most-recent end.
    fn move_to_front(&mut self, i: u32) {
        if self.head != i {
            self.unlink(i);
            self.link_front(i);
        }
    }

    /// Removes node `i` entirely, keeping the slab dense by moving the last
    /// node into the freed slot.
    fn remove_index(&mut self, i: u32) {
        let hash = self.hash(&self.slab[i as usize].key);
        self.table
            .find_entry(hash, |&j| j == i)
            .expect("every slab node has a table entry")
            .remove();
        self.unlink(i);
        let last = to_index(self.slab.len() - 1);
        self.slab.swap_remove(i as usize);
        if i == last {
            return;
        }
        // The former last node now lives at `i`: repoint its neighbours and
        // its table entry.
        let Node {
            key, prev, next, ..
        } = self.slab[i as usize];
        if prev == NIL {
            self.head = i;
        } else {
            self.slab[prev as usize].next = i;
        }
        if next == NIL {
            self.tail = i;
        } else {
            self.slab[next as usize].prev = i;
        }
        let moved_hash = self.hash(&key);
        *self
            .table
            .find_mut(moved_hash, |&j| j == last)
            .expect("every slab node has a table entry") = i;
    }
}

impl<K: Hash + Eq + Copy + fmt::Debug> fmt::Debug for LruSet<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl<'a, K: Hash + Eq + Copy> IntoIterator for &'a LruSet<K> {
    type Item = &'a K;
    type IntoIter = Iter<'a, K>;

    fn into_iter(self) -> Iter<'a, K> {
        self.iter()
    }
}

/// Iterator over an [`LruSet`]'s keys, most recently used first.
#[derive(Clone)]
pub struct Iter<'a, K> {
    slab: &'a [Node<K>],
    cursor: u32,
    remaining: usize,
}

impl<'a, K> Iterator for Iter<'a, K> {
    type Item = &'a K;

    fn next(&mut self) -> Option<&'a K> {
        if self.cursor == NIL {
            return None;
        }
        let node = &self.slab[self.cursor as usize];
        self.cursor = node.next;
        self.remaining -= 1;
        Some(&node.key)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl<K> ExactSizeIterator for Iter<'_, K> {}

impl<K> FusedIterator for Iter<'_, K> {}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;
    use alloc::vec;
    use std::println;

    type InvKey = (u32, [u8; 32]);

    fn inv_key(n: u64) -> InvKey {
        let mut hash = [0u8; 32];
        hash[..8].copy_from_slice(&n.to_le_bytes());
        hash[24..].copy_from_slice(&n.wrapping_mul(0x9E37_79B9_7F4A_7C15).to_le_bytes());
        ((n % 4) as u32, hash)
    }

    fn keys<K: Hash + Eq + Copy>(set: &LruSet<K>) -> Vec<K> {
        set.iter().copied().collect()
    }

    /// Checks the list links, the table and `len` agree.
    fn check_invariants<K: Hash + Eq + Copy + fmt::Debug>(set: &LruSet<K>) {
        assert!(set.len() <= set.capacity());
        assert!(set.slab.capacity() <= set.capacity());
        assert_eq!(set.table.len(), set.len());
        let forward = keys(set);
        assert_eq!(forward.len(), set.len());
        let mut backward = Vec::new();
        let mut cursor = set.tail;
        let mut expected_next = NIL;
        while cursor != NIL {
            let node = &set.slab[cursor as usize];
            assert_eq!(node.next, expected_next);
            backward.push(node.key);
            expected_next = cursor;
            cursor = node.prev;
        }
        backward.reverse();
        assert_eq!(forward, backward);
        for (i, node) in set.slab.iter().enumerate() {
            assert_eq!(set.find(&node.key), Some(i as u32));
        }
        let stamps: Vec<u64> = {
            let mut v = Vec::new();
            let mut c = set.head;
            while c != NIL {
                v.push(set.slab[c as usize].stamp());
                c = set.slab[c as usize].next;
            }
            v
        };
        assert!(stamps.windows(2).all(|w| w[0] >= w[1]), "stamps ordered");
        assert!(stamps.iter().all(|&s| s <= set.clock));
    }

    #[test]
    fn empty_set_allocates_nothing() {
        let set: LruSet<InvKey> = LruSet::new(1000);
        assert_eq!(set.heap_bytes(), 0);
        assert!(set.is_empty());
        assert_eq!(set.len(), 0);
        assert_eq!(set.capacity(), 1000);
        assert_eq!(set.iter().next(), None);
        assert!(!set.contains(&inv_key(1)));
    }

    #[test]
    fn eviction_order_is_lru() {
        for cap in [2usize, 3, 5, 10, 64] {
            for extra in [1usize, 2, cap / 2, cap] {
                let mut set = LruSet::new(cap);
                for k in 1..=(cap + extra) as u64 {
                    assert!(set.insert(k));
                    check_invariants(&set);
                }
                assert_eq!(set.len(), cap);
                let survivors: Vec<u64> =
                    ((extra as u64 + 1)..=(cap + extra) as u64).rev().collect();
                assert_eq!(keys(&set), survivors, "cap {cap} extra {extra}");
                for k in 1..=extra as u64 {
                    assert!(!set.contains(&k));
                }
            }
        }
    }

    #[test]
    fn reinsert_and_touch_move_to_front() {
        let mut set = LruSet::new(3);
        set.insert(1u64);
        set.insert(2);
        set.insert(3);
        assert!(!set.insert(1), "existing key is not new");
        assert_eq!(keys(&set), vec![1, 3, 2]);
        set.insert(4); // evicts 2, the LRU
        assert_eq!(keys(&set), vec![4, 1, 3]);
        assert!(set.touch(&3));
        assert!(!set.touch(&2));
        assert_eq!(keys(&set), vec![3, 4, 1]);
        set.insert(5); // evicts 1
        assert_eq!(keys(&set), vec![5, 3, 4]);
        assert!(set.touch(&5)); // already at front
        assert_eq!(keys(&set), vec![5, 3, 4]);
        check_invariants(&set);
    }

    #[test]
    fn contains_does_not_touch() {
        let mut set = LruSet::new(3);
        set.insert(1u64);
        set.insert(2);
        set.insert(3);
        assert!(set.contains(&1));
        assert!(set.contains_fresh(&1, 0, 10));
        assert_eq!(keys(&set), vec![3, 2, 1]);
        set.insert(4);
        assert!(!set.contains(&1), "1 was still the LRU despite lookups");
        assert_eq!(keys(&set), vec![4, 3, 2]);
    }

    #[test]
    fn capacity_zero_holds_nothing() {
        let mut set = LruSet::new(0);
        assert!(!set.insert(7u64));
        assert!(!set.insert_at(7, 5));
        assert!(!set.contains(&7));
        assert!(!set.touch(&7));
        assert!(!set.remove(&7));
        assert_eq!(set.expire(100, 1), 0);
        assert_eq!(set.len(), 0);
        assert_eq!(set.heap_bytes(), 0);
        assert_eq!(set.iter().count(), 0);
    }

    #[test]
    fn capacity_one() {
        let mut set = LruSet::new(1);
        assert!(set.insert(1u64));
        assert!(!set.insert(1));
        assert!(set.insert(2));
        assert_eq!(keys(&set), vec![2]);
        assert!(!set.contains(&1));
        assert!(set.remove(&2));
        assert!(set.is_empty());
        assert!(set.insert(3));
        assert_eq!(keys(&set), vec![3]);
        assert_eq!(set.slab.capacity(), 1);
        check_invariants(&set);
    }

    #[test]
    fn remove_head_middle_tail_and_reuse_slots() {
        let mut set = LruSet::new(5);
        for k in 1..=5u64 {
            set.insert(k);
        }
        let bytes = set.heap_bytes();
        assert_eq!(keys(&set), vec![5, 4, 3, 2, 1]);
        assert!(set.remove(&5)); // head
        check_invariants(&set);
        assert!(set.remove(&3)); // middle
        check_invariants(&set);
        assert!(set.remove(&1)); // tail
        check_invariants(&set);
        assert!(!set.remove(&1));
        assert_eq!(keys(&set), vec![4, 2]);
        assert!(set.insert(6));
        assert!(set.insert(7));
        assert!(set.insert(8));
        assert_eq!(keys(&set), vec![8, 7, 6, 4, 2]);
        check_invariants(&set);
        assert_eq!(set.heap_bytes(), bytes, "freed slots are reused");
        assert!(set.insert(9)); // full again: evicts 2
        assert_eq!(keys(&set), vec![9, 8, 7, 6, 4]);
        // Remove everything, in an awkward order.
        for k in [7u64, 9, 4, 8, 6] {
            assert!(set.remove(&k));
            check_invariants(&set);
        }
        assert!(set.is_empty());
        assert_eq!(set.head, NIL);
        assert_eq!(set.tail, NIL);
    }

    #[test]
    fn ttl_expiry() {
        const MIN: u64 = 60_000_000;
        let ttl = 15 * MIN;
        let mut set = LruSet::new(100);
        set.insert_at(inv_key(1), 0);
        set.insert_at(inv_key(2), MIN);
        set.insert_at(inv_key(3), 2 * MIN);
        // Nothing expires before one TTL has elapsed.
        assert_eq!(set.expire(ttl - 1, ttl), 0);
        assert!(set.contains_fresh(&inv_key(1), ttl - 1, ttl));
        // Exactly at insertion + ttl the entry is expired.
        assert!(!set.contains_fresh(&inv_key(1), ttl, ttl));
        assert!(set.contains(&inv_key(1)));
        assert!(set.contains_fresh(&inv_key(2), ttl, ttl));
        assert_eq!(set.expire(ttl, ttl), 1);
        assert!(!set.contains(&inv_key(1)));
        // Re-inserting refreshes the timestamp.
        assert!(!set.insert_at(inv_key(2), ttl));
        assert_eq!(set.expire(ttl + 2 * MIN, ttl), 1);
        assert!(!set.contains(&inv_key(3)));
        assert!(set.contains(&inv_key(2)));
        // Time passed backwards is clamped to the latest time seen.
        set.insert_at(inv_key(4), 5);
        assert!(set.contains_fresh(&inv_key(4), 2 * ttl + 2 * MIN - 1, ttl));
        assert_eq!(set.expire(2 * ttl + 2 * MIN, ttl), 2);
        assert!(set.is_empty());
        // insert()/touch() stamp with the latest time seen.
        set.insert(inv_key(5));
        set.insert_at(inv_key(6), 3 * ttl);
        set.insert_at(inv_key(7), 3 * ttl);
        assert!(set.touch(&inv_key(6)));
        assert!(set.contains_fresh(&inv_key(5), 3 * ttl, ttl));
        assert_eq!(keys(&set), vec![inv_key(6), inv_key(7), inv_key(5)]);
        assert_eq!(set.expire(3 * ttl + 2 * MIN, ttl), 1);
        assert_eq!(set.expire(4 * ttl, ttl), 2);
        assert!(set.is_empty());
        check_invariants(&set);
    }

    #[test]
    fn clear_keeps_memory_and_works() {
        let mut set = LruSet::new(10);
        for k in 0..10u64 {
            set.insert(k);
        }
        let bytes = set.heap_bytes();
        set.clear();
        assert!(set.is_empty());
        assert_eq!(set.iter().count(), 0);
        assert_eq!(set.heap_bytes(), bytes);
        assert!(set.insert(3));
        assert_eq!(keys(&set), vec![3]);
        check_invariants(&set);
    }

    #[test]
    fn heap_bytes_per_entry_at_capacity() {
        let cap = 1000;
        let mut set = LruSet::new(cap);
        for n in 0..cap as u64 {
            set.insert(inv_key(n));
        }
        let full = set.heap_bytes();
        assert_eq!(size_of::<Node<InvKey>>(), 52, "no padding in the node");
        println!(
            "node {} B; at capacity {cap}: {full} heap bytes = {:.2} B/entry",
            size_of::<Node<InvKey>>(),
            full as f64 / cap as f64
        );
        assert_eq!(set.slab.capacity(), cap, "slab never over-allocates");
        assert!(full <= 64 * cap, "{full} > 64 B/entry");
        // Long churn at capacity (evictions, removals, re-inserts) must not
        // let tombstones double the table.
        let mut n = cap as u64;
        for step in 0..200_000u64 {
            set.insert(inv_key(n));
            n += 1;
            if step % 3 == 0 {
                set.remove(&inv_key(n - 500));
            }
            assert!(
                set.heap_bytes() <= 64 * cap,
                "step {step}: {}",
                set.heap_bytes()
            );
        }
        println!("after churn: {} heap bytes", set.heap_bytes());
        check_invariants(&set);
    }

    #[test]
    fn growth_is_lazy_and_bounded() {
        let mut set = LruSet::new(1000);
        set.insert(inv_key(1));
        assert!(set.heap_bytes() > 0);
        assert!(
            set.heap_bytes() < 1000,
            "one key must not allocate 1000 slots"
        );
        for n in 0..5000u64 {
            set.insert(inv_key(n));
            assert!(set.slab.capacity() <= 1000);
        }
    }

    #[test]
    fn iteration_order_does_not_depend_on_hasher_seed() {
        // Two sets have independently seeded hashers; the same operations
        // must produce the same order.
        let mut a = LruSet::new(64);
        let mut b = LruSet::new(64);
        let mut rng = XorShift(7);
        for _ in 0..10_000 {
            let k = rng.below(200);
            match rng.below(3) {
                0 => {
                    a.insert(k);
                    b.insert(k);
                }
                1 => {
                    a.remove(&k);
                    b.remove(&k);
                }
                _ => {
                    a.touch(&k);
                    b.touch(&k);
                }
            }
        }
        assert_eq!(keys(&a), keys(&b));
        assert_eq!(
            a.slab.iter().map(|n| n.key).collect::<Vec<_>>(),
            b.slab.iter().map(|n| n.key).collect::<Vec<_>>()
        );
    }

    /// Small deterministic PRNG for the model test.
    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.0 = x;
            x
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    /// Reference LRU: a `Vec` of `(key, stamp)`, most recent first.
    struct Model {
        entries: Vec<(u64, u64)>,
        capacity: usize,
        clock: u64,
    }

    impl Model {
        fn position(&self, key: u64) -> Option<usize> {
            self.entries.iter().position(|&(k, _)| k == key)
        }

        fn insert(&mut self, key: u64, stamp: u64) -> bool {
            if self.capacity == 0 {
                return false;
            }
            if let Some(p) = self.position(key) {
                self.entries.remove(p);
                self.entries.insert(0, (key, stamp));
                return false;
            }
            if self.entries.len() == self.capacity {
                self.entries.pop();
            }
            self.entries.insert(0, (key, stamp));
            true
        }

        fn expire(&mut self, now: u64, ttl: u64) -> usize {
            self.clock = self.clock.max(now);
            let before = self.entries.len();
            self.entries.retain(|&(_, s)| !is_expired(s, now, ttl));
            before - self.entries.len()
        }
    }

    #[test]
    fn randomized_against_model() {
        for (seed, cap) in [
            (1u64, 0usize),
            (2, 1),
            (3, 2),
            (4, 3),
            (5, 7),
            (6, 16),
            (7, 61),
            (8, 200),
        ] {
            let mut rng = XorShift(seed.wrapping_mul(0x2545_F491_4F6C_DD1D) | 1);
            let mut set: LruSet<u64> = LruSet::new(cap);
            let mut model = Model {
                entries: Vec::new(),
                capacity: cap,
                clock: 0,
            };
            let key_space = (cap as u64 * 2).max(4);
            let mut now = 0u64;
            for op in 0..100_000u32 {
                let k = rng.below(key_space);
                match rng.below(100) {
                    0..=29 => assert_eq!(set.insert(k), model.insert(k, model.clock)),
                    30..=49 => {
                        // Mostly forward time, occasionally backwards.
                        let t = if rng.below(10) == 0 {
                            now.saturating_sub(rng.below(50))
                        } else {
                            now += rng.below(20);
                            now
                        };
                        model.clock = model.clock.max(t);
                        assert_eq!(set.insert_at(k, t), model.insert(k, model.clock));
                    }
                    50..=64 => assert_eq!(set.contains(&k), model.position(k).is_some()),
                    65..=72 => {
                        let present = model.position(k);
                        if let Some(p) = present {
                            model.entries.remove(p);
                            model.entries.insert(0, (k, model.clock));
                        }
                        assert_eq!(set.touch(&k), present.is_some());
                    }
                    73..=84 => {
                        let present = model.position(k);
                        if let Some(p) = present {
                            model.entries.remove(p);
                        }
                        assert_eq!(set.remove(&k), present.is_some());
                    }
                    85..=89 => {
                        let ttl = rng.below(400);
                        let t = now + rng.below(5);
                        assert_eq!(set.expire(t, ttl), model.expire(t, ttl), "op {op}");
                    }
                    90..=98 => {
                        let ttl = rng.below(400);
                        let t = now + rng.below(50);
                        let expected = model
                            .position(k)
                            .is_some_and(|p| !is_expired(model.entries[p].1, t, ttl));
                        assert_eq!(set.contains_fresh(&k, t, ttl), expected);
                    }
                    _ => {
                        if rng.below(50) == 0 {
                            set.clear();
                            model.entries.clear();
                        }
                    }
                }
                assert_eq!(set.len(), model.entries.len());
                if op % 64 == 0 || cap <= 16 {
                    let expected: Vec<u64> = model.entries.iter().map(|&(k, _)| k).collect();
                    assert_eq!(keys(&set), expected, "cap {cap} op {op}");
                }
                if op % 4096 == 0 {
                    check_invariants(&set);
                }
            }
            check_invariants(&set);
        }
    }
}
