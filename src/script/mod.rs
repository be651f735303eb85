//! Lua scripting: one Lua 5.1 VM per core, the script cache, the `redis`
//! API scripts call, and the driver that runs a script as one atomic
//! operation across shards.

pub mod lib;
