//! The hash value type: a field → value map with Redis's two encodings.
//!
//! A hash lives in one shard's store and is touched only by that core, so
//! there are no locks; it never awaits. Small hashes use a "listpack": a
//! vector of (field, value) pairs in insertion order, searched linearly (at
//! most `hash-max-listpack-entries` pairs, 128 by default). Past the entry or
//! length limits it converts once to a "hashtable" (an `IndexMap`) and never
//! converts back, as in Redis 7.0; callers pass the limits on every write.
//!
//! Invariants: `bytes` is the sum of the heap allocations of all fields and
//! values, kept true by every mutation so that `heap_bytes` is O(1). The
//! table is only ever shrunk with `swap_remove`, which moves the last entry
//! into the hole; `scan` walks positions downwards, so a field present for a
//! whole HSCAN is returned at least once (the argument of `Db::scan`).
//!
//! Non-goal: the listpack is not a packed byte buffer as in Redis; entries
//! keep up to 22 bytes inline (`CompactBytes`), so a small hash costs about
//! 48 bytes per pair instead of Redis's ~4–10.

use indexmap::IndexMap;

use super::compact::CompactBytes;
use super::value::alloc_size;

type Hasher = hashbrown::DefaultHashBuilder;
type Pair = (CompactBytes, CompactBytes);

#[derive(Clone, Debug, PartialEq)]
enum Repr {
    Listpack(Vec<Pair>),
    Table(IndexMap<CompactBytes, CompactBytes, Hasher>),
}

/// A hash value.
#[derive(Clone, Debug, PartialEq)]
pub struct HashValue {
    repr: Repr,
    bytes: usize,
}

impl Default for HashValue {
    fn default() -> Self {
        HashValue {
            repr: Repr::Listpack(Vec::new()),
            bytes: 0,
        }
    }
}

/// Bytes the table spends per slot beyond the pair: the stored hash and the
/// index slot (a usize plus its control byte).
const TABLE_SLOT: usize = std::mem::size_of::<u64>() + std::mem::size_of::<usize>() + 1;

fn pair_heap(f: &[u8], v: &[u8]) -> usize {
    cb_heap(f) + cb_heap(v)
}

fn cb_heap(b: &[u8]) -> usize {
    if b.len() > 22 {
        alloc_size(b.len())
    } else {
        0
    }
}

impl HashValue {
    /// The name OBJECT ENCODING prints.
    pub fn encoding(&self) -> &'static str {
        match self.repr {
            Repr::Listpack(_) => "listpack",
            Repr::Table(_) => "hashtable",
        }
    }

    /// Allocator bytes owned, kept up to date by every mutation (O(1)).
    pub fn heap_bytes(&self) -> usize {
        let slots = match &self.repr {
            Repr::Listpack(v) => v.capacity() * std::mem::size_of::<Pair>(),
            Repr::Table(m) => m.capacity() * (std::mem::size_of::<Pair>() + TABLE_SLOT),
        };
        slots + self.bytes
    }

    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Listpack(v) => v.len(),
            Repr::Table(m) => m.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn is_listpack(&self) -> bool {
        matches!(self.repr, Repr::Listpack(_))
    }

    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        match &self.repr {
            Repr::Listpack(v) => v.iter().find(|(f, _)| &**f == field).map(|(_, v)| &**v),
            Repr::Table(m) => m.get(field).map(|v| &**v),
        }
    }

    pub fn contains(&self, field: &[u8]) -> bool {
        self.get(field).is_some()
    }

    /// Sets `field` to `value`; true when the field is new. Converts to a
    /// hashtable when either is longer than `max_value` bytes or the hash
    /// then holds more than `max_entries` fields (Redis's `hashTypeSet`).
    pub fn set(
        &mut self,
        field: &[u8],
        value: &[u8],
        max_entries: usize,
        max_value: usize,
    ) -> bool {
        if field.len() > max_value || value.len() > max_value {
            self.convert();
        }
        let added = match &mut self.repr {
            Repr::Listpack(v) => match v.iter_mut().find(|(f, _)| &**f == field) {
                Some((_, old)) => {
                    self.bytes = self.bytes - cb_heap(old) + cb_heap(value);
                    *old = CompactBytes::new(value);
                    false
                }
                None => {
                    self.bytes += pair_heap(field, value);
                    v.push((CompactBytes::new(field), CompactBytes::new(value)));
                    true
                }
            },
            Repr::Table(m) => match m.get_mut(field) {
                Some(old) => {
                    self.bytes = self.bytes - cb_heap(old) + cb_heap(value);
                    *old = CompactBytes::new(value);
                    false
                }
                None => {
                    self.bytes += pair_heap(field, value);
                    m.insert(CompactBytes::new(field), CompactBytes::new(value));
                    true
                }
            },
        };
        if self.len() > max_entries {
            self.convert();
        }
        added
    }

    /// Removes `field`; true when it was there.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        let removed = match &mut self.repr {
            Repr::Listpack(v) => v
                .iter()
                .position(|(f, _)| &**f == field)
                .map(|i| v.remove(i)),
            Repr::Table(m) => m.swap_remove_entry(field),
        };
        match removed {
            Some((f, v)) => {
                self.bytes -= pair_heap(&f, &v);
                true
            }
            None => false,
        }
    }

    /// The listpack → hashtable conversion; a no-op on a hashtable.
    fn convert(&mut self) {
        if let Repr::Listpack(v) = &mut self.repr {
            let mut m = IndexMap::with_capacity_and_hasher(v.len(), Hasher::default());
            m.extend(std::mem::take(v));
            self.repr = Repr::Table(m);
        }
    }

    /// Every (field, value), in insertion order for a listpack.
    pub fn iter(&self) -> Box<dyn Iterator<Item = (&[u8], &[u8])> + '_> {
        match &self.repr {
            Repr::Listpack(v) => Box::new(v.iter().map(|(f, v)| (&**f, &**v))),
            Repr::Table(m) => Box::new(m.iter().map(|(f, v)| (&**f, &**v))),
        }
    }

    /// The pair at position `i` (`i < len`), for random sampling.
    pub fn get_index(&self, i: usize) -> Option<(&[u8], &[u8])> {
        match &self.repr {
            Repr::Listpack(v) => v.get(i).map(|(f, v)| (&**f, &**v)),
            Repr::Table(m) => m.get_index(i).map(|(f, v)| (&**f, &**v)),
        }
    }

    /// One HSCAN step over positions `[0, remaining)`, walked downwards:
    /// visits about `count` positions, calls `f` on each pair and returns the
    /// new `remaining` (0 when done). A listpack is returned whole in one
    /// step, as Redis does. See the module doc for the guarantee.
    pub fn scan(&self, remaining: usize, count: usize, mut f: impl FnMut(&[u8], &[u8])) -> usize {
        match &self.repr {
            Repr::Listpack(v) => {
                v.iter().for_each(|(k, v)| f(k, v));
                0
            }
            Repr::Table(m) => {
                let mut pos = remaining.min(m.len());
                let stop = pos.saturating_sub(count.max(1));
                while pos > stop {
                    pos -= 1;
                    let (k, v) = m.get_index(pos).expect("position below len");
                    f(k, v);
                }
                pos
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recount(h: &HashValue) -> usize {
        h.iter().map(|(f, v)| pair_heap(f, v)).sum()
    }

    #[test]
    fn converts_once_at_the_limits_and_keeps_the_byte_counter() {
        let mut h = HashValue::default();
        for i in 0..4u8 {
            assert!(h.set(&[b'f', i], &[b'v'; 30], 4, 64));
        }
        assert_eq!(h.encoding(), "listpack");
        assert_eq!(h.bytes, recount(&h));
        assert!(!h.set(b"f\x00", b"x", 4, 64));
        assert!(h.set(b"five", b"5", 4, 64));
        assert_eq!(h.encoding(), "hashtable");
        for i in 0..4u8 {
            assert!(h.remove(&[b'f', i]));
        }
        assert!(!h.remove(b"nope"));
        assert_eq!(h.encoding(), "hashtable");
        assert_eq!(h.bytes, recount(&h));
        let mut long = HashValue::default();
        long.set(b"f", &[b'x'; 65], 128, 64);
        assert_eq!(long.encoding(), "hashtable");
        assert!(long.remove(b"f"));
        assert_eq!(long.bytes, 0);
    }

    #[test]
    fn scan_returns_every_stable_field_despite_changes() {
        let mut h = HashValue::default();
        for i in 0..500 {
            h.set(format!("stable{i}").as_bytes(), b"v", 0, 64);
            h.set(format!("temp{i}").as_bytes(), b"v", 0, 64);
        }
        let mut seen = std::collections::HashSet::new();
        let mut remaining = usize::MAX;
        let mut step = 0;
        loop {
            remaining = h.scan(remaining, 10, |f, _| {
                seen.insert(f.to_vec());
            });
            h.remove(format!("temp{step}").as_bytes());
            h.set(format!("new{step}").as_bytes(), b"v", 0, 64);
            step += 1;
            if remaining == 0 {
                break;
            }
        }
        for i in 0..500 {
            assert!(seen.contains(format!("stable{i}").as_bytes()));
        }
    }
}
