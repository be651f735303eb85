//! The values a key can hold, and their memory estimate.
//!
//! Values live in exactly one shard's store and cross cores only whole (a
//! RENAME or MOVE between shards), so every type here is `Send` and owns its
//! bytes: small values are copied out of the read buffer into exact-size
//! allocations so that a stored value never pins a connection's buffer.

use std::collections::VecDeque;

use bytes::Bytes;

use super::compact::CompactBytes;
use super::hash::HashValue;
use super::set::SetValue;
use super::stream::Stream;
use super::zset::ZSetValue;

/// A string value with Redis's three encodings, kept so that `OBJECT
/// ENCODING` answers as Redis does and INCR on an integer never reparses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Str {
    /// A string that is the canonical decimal form of an i64 ("int").
    Int(i64),
    /// A string of at most 44 bytes written whole by SET and friends ("embstr").
    Emb(CompactBytes),
    /// Anything else, or a string changed in place by APPEND/SETRANGE ("raw").
    Raw(Box<[u8]>),
}

/// Longest string Redis stores as embstr.
const EMBSTR_MAX: usize = 44;

impl Str {
    /// The encoding Redis's `tryObjectEncoding` picks for a value written by
    /// SET, MSET, GETSET …: int when the bytes are a canonical i64 of at most
    /// 20 characters, embstr up to 44 bytes, raw beyond.
    pub fn from_bytes(b: &[u8]) -> Str {
        if b.len() <= 20 {
            if let Some(n) = parse_canonical_i64(b) {
                return Str::Int(n);
            }
        }
        Str::plain(b)
    }

    /// Stored as given, never as int (INCRBYFLOAT results, GETEX copies).
    pub fn plain(b: &[u8]) -> Str {
        if b.len() <= EMBSTR_MAX {
            Str::Emb(CompactBytes::new(b))
        } else {
            Str::Raw(b.into())
        }
    }

    /// The string's bytes; integers are formatted into `scratch`.
    pub fn bytes<'a>(&'a self, scratch: &'a mut itoa::Buffer) -> &'a [u8] {
        match self {
            Str::Int(n) => scratch.format(*n).as_bytes(),
            Str::Emb(b) => b,
            Str::Raw(b) => b,
        }
    }

    pub fn to_bytes(&self) -> Bytes {
        match self {
            Str::Int(n) => Bytes::copy_from_slice(itoa::Buffer::new().format(*n).as_bytes()),
            Str::Emb(b) => Bytes::copy_from_slice(b),
            Str::Raw(b) => Bytes::copy_from_slice(b),
        }
    }

    pub fn to_vec(&self) -> Vec<u8> {
        let mut scratch = itoa::Buffer::new();
        self.bytes(&mut scratch).to_vec()
    }

    pub fn len(&self) -> usize {
        match self {
            Str::Int(n) => itoa::Buffer::new().format(*n).len(),
            Str::Emb(b) => b.len(),
            Str::Raw(b) => b.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn encoding(&self) -> &'static str {
        match self {
            Str::Int(_) => "int",
            Str::Emb(_) => "embstr",
            Str::Raw(_) => "raw",
        }
    }

    fn heap_bytes(&self) -> usize {
        match self {
            Str::Int(_) => 0,
            Str::Emb(b) => alloc_size(b.heap_len()),
            Str::Raw(b) => alloc_size(b.len()),
        }
    }
}

/// Parses bytes that are exactly the canonical form of an i64: no sign other
/// than a leading '-', no leading zeros, no spaces ("-0" is not canonical).
/// This is Redis's `string2ll`.
pub fn parse_canonical_i64(b: &[u8]) -> Option<i64> {
    let (neg, digits) = match b {
        [] => return None,
        [b'-', rest @ ..] => (true, rest),
        _ => (false, b),
    };
    match digits {
        [] => return None,
        [b'0'] if !neg => return Some(0),
        [b'0', ..] => return None,
        _ => {}
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    if neg {
        if v > i64::MAX as u64 + 1 {
            None
        } else {
            Some((v as i64).wrapping_neg())
        }
    } else {
        i64::try_from(v).ok()
    }
}

/// A list value: a deque of elements (O(1) push and pop at both ends) plus
/// the allocator bytes of its elements, kept as they change so that
/// `heap_bytes` stays O(1) (the store calls it around every in-place change).
///
/// Every mutation goes through a method here, which keeps `bytes` true.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct List {
    items: VecDeque<Box<[u8]>>,
    bytes: usize,
}

impl List {
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn get(&self, i: usize) -> Option<&[u8]> {
        self.items.get(i).map(|e| &**e)
    }

    pub fn front(&self) -> Option<&[u8]> {
        self.items.front().map(|e| &**e)
    }

    pub fn back(&self) -> Option<&[u8]> {
        self.items.back().map(|e| &**e)
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &[u8]> + ExactSizeIterator {
        self.items.iter().map(|e| &**e)
    }

    /// Elements `from..=to` (caller clamps to the list).
    pub fn range(&self, from: usize, to: usize) -> impl Iterator<Item = &[u8]> {
        self.items.range(from..=to).map(|e| &**e)
    }

    pub fn push_front(&mut self, e: &[u8]) {
        self.bytes += alloc_size(e.len());
        self.items.push_front(e.into());
    }

    pub fn push_back(&mut self, e: &[u8]) {
        self.bytes += alloc_size(e.len());
        self.items.push_back(e.into());
    }

    pub fn pop_front(&mut self) -> Option<Box<[u8]>> {
        let e = self.items.pop_front()?;
        self.bytes -= alloc_size(e.len());
        Some(e)
    }

    pub fn pop_back(&mut self) -> Option<Box<[u8]>> {
        let e = self.items.pop_back()?;
        self.bytes -= alloc_size(e.len());
        Some(e)
    }

    /// Replaces element `i`; false when out of range.
    pub fn set(&mut self, i: usize, e: &[u8]) -> bool {
        let Some(slot) = self.items.get_mut(i) else {
            return false;
        };
        self.bytes = self.bytes - alloc_size(slot.len()) + alloc_size(e.len());
        *slot = e.into();
        true
    }

    /// Inserts `e` so that it becomes element `i` (`i <= len`).
    pub fn insert(&mut self, i: usize, e: &[u8]) {
        self.bytes += alloc_size(e.len());
        self.items.insert(i, e.into());
    }

    pub fn remove(&mut self, i: usize) -> Option<Box<[u8]>> {
        let e = self.items.remove(i)?;
        self.bytes -= alloc_size(e.len());
        Some(e)
    }

    /// Drops `front` elements from the head and `back` from the tail.
    pub fn trim(&mut self, front: usize, back: usize) {
        if front + back >= self.items.len() {
            self.items.clear();
            self.bytes = 0;
            return;
        }
        for _ in 0..front {
            self.pop_front();
        }
        for _ in 0..back {
            self.pop_back();
        }
    }

    /// Removes the elements equal to `e`, at most `limit` (0 = all), walking
    /// from the head or, with `from_tail`, from the tail; returns how many.
    pub fn remove_matching(&mut self, e: &[u8], limit: usize, from_tail: bool) -> usize {
        let mut removed = 0;
        let mut bytes = self.bytes;
        let mut keep = |x: &[u8]| {
            if (limit == 0 || removed < limit) && x == e {
                removed += 1;
                bytes -= alloc_size(x.len());
                false
            } else {
                true
            }
        };
        if from_tail {
            let mut kept: VecDeque<Box<[u8]>> = VecDeque::with_capacity(self.items.len());
            while let Some(x) = self.items.pop_back() {
                if keep(&x) {
                    kept.push_front(x);
                }
            }
            self.items = kept;
        } else {
            self.items.retain(|x| keep(x));
        }
        self.bytes = bytes;
        removed
    }

    fn heap_bytes(&self) -> usize {
        self.items.capacity() * std::mem::size_of::<Box<[u8]>>() + self.bytes
    }
}

impl<'a> FromIterator<&'a [u8]> for List {
    fn from_iter<I: IntoIterator<Item = &'a [u8]>>(iter: I) -> List {
        let mut l = List::default();
        for e in iter {
            l.push_back(e);
        }
        l
    }
}

/// A stored value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Str(Str),
    // Collections are boxed: a value sits in every table entry, and the
    // largest variant sets its size (88 bytes unboxed, 24 boxed).
    List(Box<List>),
    Hash(Box<HashValue>),
    Set(Box<SetValue>),
    ZSet(Box<ZSetValue>),
    Stream(Box<Stream>),
}

impl Value {
    /// The name TYPE prints.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::List(_) => "list",
            Value::Hash(_) => "hash",
            Value::Set(_) => "set",
            Value::ZSet(_) => "zset",
            Value::Stream(_) => "stream",
        }
    }

    pub fn encoding(&self) -> &'static str {
        match self {
            Value::Str(s) => s.encoding(),
            // Redis 7.0 stores every list as a quicklist, however small.
            Value::List(_) => "quicklist",
            Value::Hash(h) => h.encoding(),
            Value::Set(s) => s.encoding(),
            Value::ZSet(z) => z.encoding(),
            Value::Stream(_) => "stream",
        }
    }

    /// Approximate heap bytes the value owns beyond its slot in the table.
    /// How much work freeing the value takes, in elements (Redis's
    /// `lazyfreeGetFreeEffort`): what lazy freeing compares with its
    /// threshold.
    pub fn free_effort(&self) -> usize {
        match self {
            Value::Str(_) => 1,
            Value::List(l) => l.len(),
            Value::Hash(h) => h.len(),
            Value::Set(s) => s.len(),
            Value::ZSet(z) => z.len(),
            Value::Stream(s) => s.node_count(),
        }
    }

    pub fn heap_bytes(&self) -> usize {
        match self {
            Value::Str(s) => s.heap_bytes(),
            Value::List(l) => l.heap_bytes(),
            Value::Hash(h) => h.heap_bytes(),
            Value::Set(s) => s.heap_bytes(),
            Value::ZSet(z) => z.heap_bytes(),
            Value::Stream(s) => s.heap_bytes(),
        }
    }
}

/// What an allocation of `n` bytes really takes from the allocator: glibc
/// malloc rounds to 16 bytes with 8 bytes of header, minimum 32.
pub fn alloc_size(n: usize) -> usize {
    crate::alloc::size_class(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_integers_only() {
        assert_eq!(parse_canonical_i64(b"0"), Some(0));
        assert_eq!(parse_canonical_i64(b"-12"), Some(-12));
        assert_eq!(parse_canonical_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_canonical_i64(b"-9223372036854775808"), Some(i64::MIN));
        for bad in [
            &b"9223372036854775808"[..],
            b"-0",
            b"01",
            b"+1",
            b" 1",
            b"1 ",
            b"",
            b"-",
            b"1a",
        ] {
            assert_eq!(parse_canonical_i64(bad), None, "{:?}", bad);
        }
    }

    #[test]
    fn list_byte_counter_stays_true() {
        let recount = |l: &List| l.iter().map(|e| alloc_size(e.len())).sum::<usize>();
        let mut l: List = [&b"a"[..], b"bb", b"a", &[b'x'; 100], b"a"]
            .into_iter()
            .collect();
        assert_eq!(l.bytes, recount(&l));
        l.push_front(b"front");
        l.set(1, &[b'y'; 50]);
        l.insert(2, b"mid");
        assert_eq!(l.remove_matching(b"a", 1, true), 1);
        assert_eq!(
            l.iter().collect::<Vec<_>>(),
            vec![
                &b"front"[..],
                &[b'y'; 50],
                b"mid",
                b"bb",
                b"a",
                &[b'x'; 100]
            ]
        );
        assert_eq!(l.bytes, recount(&l));
        assert_eq!(l.remove_matching(b"a", 0, false), 1);
        l.remove(0);
        l.trim(1, 1);
        assert_eq!(l.iter().collect::<Vec<_>>(), vec![&b"mid"[..], b"bb"]);
        assert_eq!(l.bytes, recount(&l));
        l.trim(5, 0);
        assert!(l.is_empty());
        assert_eq!(l.bytes, 0);
    }

    #[test]
    fn encodings_follow_redis() {
        assert_eq!(Str::from_bytes(b"123").encoding(), "int");
        assert_eq!(Str::from_bytes(b"0123").encoding(), "embstr");
        assert_eq!(Str::from_bytes(&[b'x'; 44]).encoding(), "embstr");
        assert_eq!(Str::from_bytes(&[b'x'; 45]).encoding(), "raw");
        assert_eq!(Str::from_bytes(b"-42").to_vec(), b"-42");
    }
}
