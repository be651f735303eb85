//! lanner: a Redis-compatible cache server, thread-per-core and shared-nothing.
//! (architecture doc filled in as modules land)

pub mod clients;
pub mod command;
pub mod config;
pub mod glob;
pub mod log;
pub mod resp;
pub mod server;
pub mod shard;
pub mod stats;
