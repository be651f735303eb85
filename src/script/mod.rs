//! Lua scripting and functions: one Lua 5.1 VM per core, the script cache
//! and function libraries every core shares, the `redis` API scripts call,
//! and the driver that runs a script as one atomic operation across shards.
//!
//! A script runs on the core of the connection that sent EVAL/FCALL
//! (`command::scripting`): it takes the all-shard hold
//! (`command::atomic`), then this core's VM, and runs in a coroutine whose
//! `redis.call`s the driver executes inside the hold (`driver`).
//!
//! * `cache` — SHA1 → body, shared; `function` — libraries, shared.
//! * `vm` — this core's VM: sandbox (`prelude.lua`), compiled scripts,
//!   loaded libraries, the error handler and the instruction hook.
//! * `api` — the `redis.*` functions written in Rust (`redis.call` …).
//! * `convert` — replies ↔ Lua values; `flags` — shebangs and flags.
//! * `busy` — the running script, KILL, and `-BUSY`.
//!
//! Invariants: a core's VM is touched only by its own thread and by one
//! user at a time (its lock spans a whole run, suspensions included); the
//! shared parts are read once per script, never per command it runs, except
//! the `busy` flag dispatch reads per command (one relaxed load).

pub mod api;
pub mod busy;
pub mod cache;
pub mod convert;
pub mod driver;
pub mod flags;
pub mod function;
pub mod lib;
pub mod vm;

use crate::command::table::{flags as cf, CommandSpec};
use crate::resp::Reply;
use crate::services::Shard;

/// State every core shares: the script cache, function libraries and what
/// is running.
#[derive(Default)]
pub struct Global {
    pub cache: cache::Cache,
    pub functions: function::Functions,
    pub busy: busy::Busy,
}

/// A script runs on this core now (its commands are being executed).
pub fn running() -> bool {
    vm::CTX.with(|c| c.borrow().running)
}

/// A script of connection `client` runs on this core now: that
/// connection's commands are the script's.
pub fn running_for(client: u64) -> bool {
    vm::CTX.with(|c| {
        let c = c.borrow();
        c.running && c.client == client
    })
}

/// `-BUSY` for a command that arrives while a script has run past
/// `busy-reply-threshold`, unless the command may run then.
#[inline]
pub fn busy_reply(sh: &Shard, spec: &'static CommandSpec) -> Option<Reply> {
    let reply = sh.host.shared.scripts.busy.reply()?;
    (!spec.has(cf::ALLOW_BUSY)).then_some(reply)
}
