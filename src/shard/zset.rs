//! The zset value type (placeholder until its family lands).

/// A zset value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ZSetValue {
    bytes: usize,
}

impl ZSetValue {
    /// The name OBJECT ENCODING prints.
    pub fn encoding(&self) -> &'static str {
        "listpack"
    }

    /// Allocator bytes owned, kept up to date by every mutation (O(1)).
    pub fn heap_bytes(&self) -> usize {
        self.bytes
    }
}
