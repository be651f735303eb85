//! Lua scripting: one Lua 5.1 VM per core, the script cache, the `redis`
//! API scripts call, and the driver that runs a script as one atomic
//! operation across shards.

pub mod lib;

use crate::command::table::CommandSpec;
use crate::resp::Reply;
use crate::shard::core::Shard;

/// State every core shares: the script cache, function libraries and what
/// each core is running.
#[derive(Default)]
pub struct Global {}

/// `-BUSY` for a command that arrives while a script has run past
/// `busy-reply-threshold`, unless the command may run then.
pub fn busy_reply(_sh: &Shard, _spec: &'static CommandSpec) -> Option<Reply> {
    None
}
