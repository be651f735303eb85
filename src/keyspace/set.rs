//! The set value type, with Redis 7.0's two encodings.
//!
//! Lives in one shard's store and is touched only by its owning core; it
//! crosses cores only whole (cloned out by a multi-shard read, moved by
//! RENAME/MOVE). "intset" is a sorted `Vec<i64>` while every member is the
//! canonical form of an i64 and there are at most `set-max-intset-entries`
//! members; anything else is a "hashtable" (an insertion-ordered `IndexSet`,
//! so that a random member and an SSCAN position are O(1); members of up
//! to 22 bytes sit inline in its entries). Redis 7.0 has no
//! listpack sets, so neither has this type. A set never converts back.
//!
//! Every mutation goes through a method here, which keeps `bytes` true so
//! that `heap_bytes` stays O(1).

use bytes::Bytes;
use indexmap::IndexSet;

use super::compact::CompactBytes;
use super::value::{alloc_size, parse_canonical_i64};

type Hasher = hashbrown::DefaultHashBuilder;

#[derive(Clone, Debug, PartialEq)]
enum Repr {
    Ints(Vec<i64>),
    Table(IndexSet<CompactBytes, Hasher>),
}

/// A set value.
#[derive(Clone, Debug, PartialEq)]
pub struct SetValue {
    repr: Repr,
    /// Allocator bytes of the members of a hashtable (not the table itself).
    bytes: usize,
}

impl Default for SetValue {
    fn default() -> Self {
        SetValue {
            repr: Repr::Ints(Vec::new()),
            bytes: 0,
        }
    }
}

/// One member, borrowed: integers of an intset are never formatted unless
/// they have to be.
#[derive(Clone, Copy, Debug)]
pub enum Elem<'a> {
    Int(i64),
    Raw(&'a [u8]),
}

impl Elem<'_> {
    pub fn to_bytes(self) -> Bytes {
        match self {
            Elem::Int(n) => Bytes::copy_from_slice(itoa::Buffer::new().format(n).as_bytes()),
            Elem::Raw(b) => Bytes::copy_from_slice(b),
        }
    }

    /// Calls `f` with the member's bytes, formatting an integer on the stack.
    pub fn with_bytes<R>(self, f: impl FnOnce(&[u8]) -> R) -> R {
        match self {
            Elem::Int(n) => f(itoa::Buffer::new().format(n).as_bytes()),
            Elem::Raw(b) => f(b),
        }
    }
}

impl SetValue {
    /// The name OBJECT ENCODING prints.
    pub fn encoding(&self) -> &'static str {
        match self.repr {
            Repr::Ints(_) => "intset",
            Repr::Table(_) => "hashtable",
        }
    }

    /// Allocator bytes owned, kept up to date by every mutation (O(1)).
    pub fn heap_bytes(&self) -> usize {
        match &self.repr {
            Repr::Ints(v) => alloc_size(v.capacity() * 8),
            Repr::Table(t) => {
                // Entries (hash + member) plus the index table.
                t.capacity() * (std::mem::size_of::<CompactBytes>() + 8 + 8) + self.bytes
            }
        }
    }

    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Ints(v) => v.len(),
            Repr::Table(t) => t.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the set is an intset (its members come out sorted).
    pub fn is_intset(&self) -> bool {
        matches!(self.repr, Repr::Ints(_))
    }

    pub fn contains(&self, m: &[u8]) -> bool {
        match &self.repr {
            Repr::Ints(v) => parse_canonical_i64(m).is_some_and(|n| v.binary_search(&n).is_ok()),
            Repr::Table(t) => t.contains(m),
        }
    }

    pub fn contains_elem(&self, e: Elem) -> bool {
        match (&self.repr, e) {
            (Repr::Ints(v), Elem::Int(n)) => v.binary_search(&n).is_ok(),
            _ => e.with_bytes(|b| self.contains(b)),
        }
    }

    /// Adds `m`; false when already a member. `intset_max` is
    /// `set-max-intset-entries`: past it, or on a non-integer member, an
    /// intset becomes a hashtable.
    pub fn insert(&mut self, m: &[u8], intset_max: usize) -> bool {
        if let Repr::Ints(v) = &mut self.repr {
            if let Some(n) = parse_canonical_i64(m) {
                let Err(i) = v.binary_search(&n) else {
                    return false;
                };
                v.insert(i, n);
                if v.len() > intset_max {
                    self.convert_to_table();
                }
                return true;
            }
            self.convert_to_table();
        }
        let Repr::Table(t) = &mut self.repr else {
            unreachable!("converted above")
        };
        if t.contains(m) {
            return false;
        }
        let m = CompactBytes::new(m);
        self.bytes += member_heap(&m);
        t.insert(m);
        true
    }

    pub fn insert_elem(&mut self, e: Elem, intset_max: usize) -> bool {
        e.with_bytes(|b| self.insert(b, intset_max))
    }

    pub fn remove(&mut self, m: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Ints(v) => match parse_canonical_i64(m).and_then(|n| v.binary_search(&n).ok()) {
                Some(i) => {
                    v.remove(i);
                    true
                }
                None => false,
            },
            Repr::Table(t) => match t.swap_remove_full(m) {
                Some((_, gone)) => {
                    self.bytes -= member_heap(&gone);
                    true
                }
                None => false,
            },
        }
    }

    /// The member at position `i` (`i < len`); positions are stable between
    /// mutations.
    pub fn get(&self, i: usize) -> Option<Elem<'_>> {
        match &self.repr {
            Repr::Ints(v) => v.get(i).map(|&n| Elem::Int(n)),
            Repr::Table(t) => t.get_index(i).map(|b| Elem::Raw(b)),
        }
    }

    /// Removes the member at position `i` and returns it.
    pub fn take(&mut self, i: usize) -> Option<Bytes> {
        match &mut self.repr {
            Repr::Ints(v) => (i < v.len()).then(|| Elem::Int(v.remove(i)).to_bytes()),
            Repr::Table(t) => {
                let b = t.swap_remove_index(i)?;
                self.bytes -= member_heap(&b);
                Some(Bytes::copy_from_slice(&b))
            }
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = Elem<'_>> {
        (0..self.len()).filter_map(move |i| self.get(i))
    }

    pub fn members(&self) -> Vec<Bytes> {
        self.iter().map(Elem::to_bytes).collect()
    }

    fn convert_to_table(&mut self) {
        let Repr::Ints(v) = &self.repr else {
            return;
        };
        let mut t = IndexSet::with_capacity_and_hasher(v.len() + 1, Hasher::default());
        let mut bytes = 0;
        let mut buf = itoa::Buffer::new();
        for &n in v {
            let m = CompactBytes::new(buf.format(n).as_bytes());
            bytes += member_heap(&m);
            t.insert(m);
        }
        self.repr = Repr::Table(t);
        self.bytes = bytes;
    }

    /// One SSCAN step over a hashtable's positions `[0, remaining)`, walked
    /// downwards (see `Db::scan`: a removal moves the last member into an
    /// earlier hole, never past the cursor, so every member present
    /// throughout is returned). Returns the new `remaining`.
    pub fn scan(&self, remaining: usize, count: usize, mut f: impl FnMut(Elem)) -> usize {
        let mut pos = remaining.min(self.len());
        let stop = pos.saturating_sub(count.max(1));
        while pos > stop {
            pos -= 1;
            if let Some(e) = self.get(pos) {
                f(e);
            }
        }
        pos
    }
}

/// Allocator bytes a member owns outside the table (none when inline).
fn member_heap(m: &CompactBytes) -> usize {
    match m.heap_len() {
        0 => 0,
        n => alloc_size(n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recount(s: &SetValue) -> usize {
        match &s.repr {
            Repr::Ints(_) => 0,
            Repr::Table(t) => t.iter().map(member_heap).sum(),
        }
    }

    #[test]
    fn intset_converts_once_and_counts_stay_true() {
        let mut s = SetValue::default();
        for n in [3, 1, 2, 2] {
            s.insert(n.to_string().as_bytes(), 4);
        }
        assert_eq!(s.encoding(), "intset");
        assert_eq!(s.members(), vec!["1", "2", "3"]);
        assert!(s.contains(b"2") && !s.contains(b"02"));
        s.insert(b"4", 4);
        assert_eq!(s.encoding(), "intset");
        s.insert(b"5", 4);
        assert_eq!(s.encoding(), "hashtable");
        assert_eq!(s.bytes, recount(&s));
        assert!(s.remove(b"5") && s.remove(b"4"));
        assert_eq!(s.encoding(), "hashtable");
        s.insert(b"x", 4);
        assert_eq!(s.bytes, recount(&s));
        let mut t = SetValue::default();
        t.insert(b"-0", 512);
        assert_eq!(t.encoding(), "hashtable");
    }

    #[test]
    fn scan_returns_stable_members_despite_churn() {
        let mut s = SetValue::default();
        for i in 0..300 {
            s.insert(format!("m{i}").as_bytes(), 0);
        }
        let mut seen = std::collections::HashSet::new();
        let mut remaining = usize::MAX;
        let mut step = 0;
        loop {
            remaining = s.scan(remaining, 7, |e| {
                seen.insert(e.to_bytes());
            });
            s.remove(format!("m{}", step * 2 + 1).as_bytes());
            s.insert(format!("new{step}").as_bytes(), 0);
            step += 1;
            if remaining == 0 {
                break;
            }
        }
        for i in (0..300).step_by(2) {
            assert!(seen.contains(format!("m{i}").as_bytes()), "m{i}");
        }
    }
}
