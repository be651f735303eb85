//! The hash value type (placeholder until its family lands).

/// A hash value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HashValue {
    bytes: usize,
}

impl HashValue {
    /// The name OBJECT ENCODING prints.
    pub fn encoding(&self) -> &'static str {
        "listpack"
    }

    /// Allocator bytes owned, kept up to date by every mutation (O(1)).
    pub fn heap_bytes(&self) -> usize {
        self.bytes
    }
}
