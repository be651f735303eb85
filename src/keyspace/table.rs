//! One database's hash table: keys and entries in a dense vector, found
//! through an index of 4-byte positions, with the keys that have a TTL
//! listed by position too.
//!
//! Per key it costs the slot (key inline up to 22 bytes, value inline up to
//! 22 bytes for strings, expiry, access time: 64 bytes) plus 4 bytes and a
//! control byte of index per bucket at hashbrown's load factor — against
//! Redis's dictEntry, key sds, value object and bucket pointer (about 128
//! bytes for a 16-byte key and value). No hash is stored: a resize rehashes
//! the keys, and hashbrown's 7-bit tags spare almost every key compare.
//!
//! Positions are dense (removal moves the last slot into the hole), so a
//! random key, a sample for eviction or expiry, and SCAN's position walk
//! are O(1) per key. Touched only by the owning core.

use hashbrown::HashTable;
use std::hash::BuildHasher;

use super::compact::CompactBytes;
use super::store::Entry;

/// "Not in the TTL list" in `Entry::vol`.
pub const NO_TTL: u32 = u32::MAX;

type Hasher = hashbrown::DefaultHashBuilder;

#[derive(Default)]
pub struct Table {
    index: HashTable<u32>,
    slots: Vec<(CompactBytes, Entry)>,
    /// Positions of the slots whose entry has an expiry; each such entry
    /// knows its place here (`Entry::vol`).
    volatile: Vec<u32>,
    hasher: Hasher,
}

impl Table {
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    pub fn volatile_len(&self) -> usize {
        self.volatile.len()
    }

    fn hash(&self, key: &[u8]) -> u64 {
        self.hasher.hash_one(key)
    }

    /// The position of `key`.
    pub fn find(&self, key: &[u8]) -> Option<usize> {
        let slots = &self.slots;
        self.index
            .find(self.hash(key), |&i| *slots[i as usize].0 == *key)
            .map(|&i| i as usize)
    }

    /// Brings `key`'s index group and slot into the cache ahead of its
    /// command: a pass over a pipeline's keys lets their cache misses
    /// overlap instead of stalling one command after another.
    #[inline]
    pub fn warm(&self, key: &[u8]) {
        std::hint::black_box(self.find(key));
    }

    pub fn get(&self, key: &[u8]) -> Option<&Entry> {
        self.find(key).map(|i| &self.slots[i].1)
    }

    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut Entry> {
        let i = self.find(key)?;
        Some(&mut self.slots[i].1)
    }

    /// The key and entry at position `i`.
    pub fn at(&self, i: usize) -> Option<(&CompactBytes, &Entry)> {
        self.slots.get(i).map(|(k, e)| (k, e))
    }

    pub fn at_mut(&mut self, i: usize) -> &mut Entry {
        &mut self.slots[i].1
    }

    /// The position of the `n`-th key with a TTL.
    pub fn volatile_at(&self, n: usize) -> Option<usize> {
        self.volatile.get(n).map(|&i| i as usize)
    }

    /// Adds `key`, which must be absent; returns its position.
    pub fn push(&mut self, key: &[u8], mut entry: Entry) -> usize {
        let i = self.slots.len();
        entry.vol = NO_TTL;
        let with_ttl = entry.expire != 0;
        let hash = self.hash(key);
        let (slots, hasher) = (&self.slots, &self.hasher);
        self.index
            .insert_unique(hash, i as u32, |&j| hasher.hash_one(&*slots[j as usize].0));
        self.slots.push((CompactBytes::new(key), entry));
        if with_ttl {
            self.track(i);
        }
        i
    }

    /// Sets the expiry of the entry at `i` (0: none), keeping the TTL list.
    pub fn set_expire(&mut self, i: usize, expire: u64) {
        let had = self.slots[i].1.expire != 0;
        self.slots[i].1.expire = expire;
        match (had, expire != 0) {
            (false, true) => self.track(i),
            (true, false) => self.untrack(i),
            _ => {}
        }
    }

    fn track(&mut self, i: usize) {
        self.slots[i].1.vol = self.volatile.len() as u32;
        self.volatile.push(i as u32);
    }

    fn untrack(&mut self, i: usize) {
        let v = std::mem::replace(&mut self.slots[i].1.vol, NO_TTL) as usize;
        self.volatile.swap_remove(v);
        if let Some(&moved) = self.volatile.get(v) {
            self.slots[moved as usize].1.vol = v as u32;
        }
    }

    /// Removes the key at position `i`; the last slot moves into its place.
    pub fn remove_at(&mut self, i: usize) -> (CompactBytes, Entry) {
        if self.slots[i].1.vol != NO_TTL {
            self.untrack(i);
        }
        let hash = self.hash(&self.slots[i].0);
        if let Ok(e) = self.index.find_entry(hash, |&j| j as usize == i) {
            e.remove();
        }
        let last = self.slots.len() - 1;
        if i != last {
            let hash = self.hash(&self.slots[last].0);
            if let Some(p) = self.index.find_mut(hash, |&j| j as usize == last) {
                *p = i as u32;
            }
            let vol = self.slots[last].1.vol;
            if vol != NO_TTL {
                self.volatile[vol as usize] = i as u32;
            }
        }
        let (key, mut entry) = self.slots.swap_remove(i);
        entry.vol = NO_TTL;
        self.shrink();
        (key, entry)
    }

    pub fn remove(&mut self, key: &[u8]) -> Option<(CompactBytes, Entry)> {
        let i = self.find(key)?;
        Some(self.remove_at(i))
    }

    /// Gives memory back when the table is mostly empty (after FLUSHDB,
    /// evictions, mass deletes).
    fn shrink(&mut self) {
        let len = self.slots.len();
        if self.slots.capacity() > 1024 && len < self.slots.capacity() / 4 {
            self.slots.shrink_to(len * 2);
            let (slots, hasher) = (&self.slots, &self.hasher);
            self.index
                .shrink_to(len * 2, |&j| hasher.hash_one(&*slots[j as usize].0));
            self.volatile.shrink_to(self.volatile.len() * 2);
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (&CompactBytes, &Entry)> {
        self.slots.iter().map(|(k, e)| (k, e))
    }

    /// Bytes the table itself takes beyond its keys' and values' heap
    /// parts: (slots and index, TTL list) — MEMORY STATS's
    /// `overhead.hashtable.main` and `.expires`.
    pub fn overhead(&self) -> (usize, usize) {
        let slot = std::mem::size_of::<(CompactBytes, Entry)>();
        // hashbrown: a 4-byte position and a control byte per bucket.
        let buckets = self.index.capacity() * 8 / 7;
        (
            self.slots.capacity() * slot + buckets * 5,
            self.volatile.capacity() * 4,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyspace::value::{Str, Value};

    fn entry(expire: u64) -> Entry {
        Entry {
            value: Value::Str(Str::Int(1)),
            expire,
            access: 0,
            vol: NO_TTL,
        }
    }

    /// Every key is found at its position, and the TTL list holds exactly
    /// the positions whose entry has an expiry.
    fn check(t: &Table) {
        for (i, (k, e)) in t.iter().enumerate() {
            assert_eq!(t.find(k), Some(i));
            if e.expire != 0 {
                assert_eq!(t.volatile[e.vol as usize] as usize, i);
            } else {
                assert_eq!(e.vol, NO_TTL);
            }
        }
        assert_eq!(
            t.volatile.len(),
            t.iter().filter(|(_, e)| e.expire != 0).count()
        );
    }

    #[test]
    fn removals_keep_positions_and_the_ttl_list_true() {
        let mut t = Table::default();
        for i in 0..2000u64 {
            t.push(
                format!("key:{i}").as_bytes(),
                entry(if i % 3 == 0 { i + 1 } else { 0 }),
            );
        }
        check(&t);
        for i in (0..2000u64).step_by(7) {
            assert!(t.remove(format!("key:{i}").as_bytes()).is_some());
        }
        check(&t);
        let i = t.find(b"key:1").unwrap();
        t.set_expire(i, 99);
        let j = t.find(b"key:3").unwrap();
        t.set_expire(j, 0);
        check(&t);
        while !t.is_empty() {
            t.remove_at(0);
        }
        check(&t);
        assert!(t.find(b"key:5").is_none());
    }

    #[test]
    fn a_slot_is_64_bytes() {
        assert_eq!(std::mem::size_of::<(CompactBytes, Entry)>(), 64);
    }
}
