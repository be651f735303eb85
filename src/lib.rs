//! lanner: a Redis-compatible cache server, thread-per-core and shared-nothing.
//! (architecture doc filled in as modules land)

pub mod config;
pub mod glob;
pub mod resp;
