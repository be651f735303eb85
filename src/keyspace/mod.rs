//! The keyspace: what one shard owns and how it changes, with no I/O and no
//! awaits. The layer above it (`runtime`) decides when and on which core
//! this code runs; nothing here knows about cores, connections or commands.
//!
//! * `slot` — key → hash slot → owning shard (the only mapping there is).
//! * `store` — one shard's databases, lazy expiry, memory estimate, and the
//!   single hook every change goes through (`Store::notify`: keyspace
//!   events, WATCH flags, blocked-client readiness).
//! * `value`, `compact`, `hash`, `set`, `zset` — the values and their
//!   compact encodings; `expire` — the active expiry cycle.
//! * `bits`, `hll`, `geohash` — the bitmap, HyperLogLog and geohash
//!   algorithms (Redis's formats) the string and sorted-set values carry;
//!   `stream` — streams in compact nodes, with consumer groups.
//! * `locks` — key claims of multi-shard operations, granted in global order.
//! * `watch`, `blocked`, `notify`, `tracking` — WATCHed keys, clients
//!   blocked on keys, keyspace events, client-side caching.
//!
//! Layer rule (checked by `tests/layers.rs`): modules here import only
//! `crate::resp`, `crate::glob` and each other.

pub mod bits;
pub mod blocked;
pub mod compact;
pub mod evict;
pub mod expire;
pub mod geohash;
pub mod hash;
pub mod hll;
pub mod lazy;
pub mod locks;
pub mod notify;
pub mod set;
pub mod slot;
pub mod store;
pub mod stream;
pub mod table;
pub mod tracking;
pub mod value;
pub mod watch;
pub mod zset;

/// A command's work on one shard: the store, the selected database and the
/// command's arguments (`args[0]` is its name), answered with a reply.
/// Synchronous, so it runs wherever the store is, inline or after a hop.
pub type KeyedFn = fn(&mut store::Store, usize, &[bytes::Bytes]) -> crate::resp::Reply;
