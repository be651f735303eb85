//! The keyspace side of lanner: slots, per-core stores, the cross-core
//! meshes and the ordering of multi-shard operations.

pub mod blocked;
pub mod compact;
pub mod core;
pub mod expire;
pub mod hash;
pub mod locks;
pub mod notify;
pub mod router;
pub mod set;
pub mod slot;
pub mod store;
pub mod stream;
pub mod value;
pub mod watch;
pub mod zset;
