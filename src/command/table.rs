//! THE command table: one row per command, from which placement, arity
//! errors, `COMMAND`, `COMMAND INFO/DOCS/GETKEYS`, ACL categories and
//! per-command statistics all derive (`command::place` reads it to decide
//! where a command runs).
//!
//! A row's handler kind says what the command's work is:
//! * `Local` — no keys; runs on the connection's core against its session.
//! * `Keyed` — one key (or none); a synchronous function over the owning
//!   shard's `Store`, run inline when the shard is local, else batched into
//!   one hop per destination shard per executor turn.
//! * `Multi` — several keys: `Keyed` when they all live on one shard, else
//!   its spanning form, given each key's shard (an ordered multi-shard
//!   operation, see `runtime::txn`).
//! * `Fanout` — several keys: `Keyed` on one shard, else the keyed handler
//!   runs on each shard's share and the replies merge; consecutive fanouts
//!   of one read share one multi-shard operation.
//! * `MayBlock` — a `Multi` that runs its coordinated, blocking form when
//!   its arguments ask to wait outside MULTI and scripts (XREAD BLOCK).
//! * `Coordinated` — async, on the connection's core; may touch every shard.
//!
//! A row ending in `movable = f` has keys that move with its arguments (a
//! count of keys, SORT's STORE destination): `f` (see `command::keyspec`)
//! answers COMMAND GETKEYS and marks the command `movablekeys`. Such a
//! command is coordinated and routes its keys itself, except a `Multi` one
//! (GEORADIUS's STORE), which is placed by every key `f` finds.

use bytes::Bytes;
use futures::future::LocalBoxFuture;
use std::rc::Rc;

use super::keyspec::{self, KeysFn};
use super::place::Split;
use super::session::Session;
use super::{
    bitmap, blocking, connection, geo, hll, keys, list, multi, pubsub, server, sort, string,
};
pub use crate::keyspace::KeyedFn;
use crate::resp::Reply;
use crate::runtime::{KeySpan, Keys};
use crate::services::Shard;

pub type LocalFn = fn(&Rc<Shard>, &mut Session, &[Bytes]) -> Reply;
pub type CoordFn =
    for<'a> fn(&'a Rc<Shard>, &'a mut Session, Vec<Bytes>) -> LocalBoxFuture<'a, Reply>;
/// The spanning form of a `Multi` command, given its keys' shards.
pub type SpanFn =
    for<'a> fn(&'a Rc<Shard>, &'a mut Session, Vec<Bytes>, Split) -> LocalBoxFuture<'a, Reply>;

#[derive(Clone, Copy)]
pub enum Handler {
    Local(LocalFn),
    Keyed(KeyedFn),
    Multi(KeyedFn, SpanFn),
    /// A `Multi` command that may wait (XREAD BLOCK): when its arguments
    /// ask to (the predicate) and its connection is not in MULTI or a
    /// script, the coordinated form runs instead, which can block.
    MayBlock(KeyedFn, SpanFn, fn(&[Bytes]) -> bool, CoordFn),
    /// Several keys whose spanning form is the keyed handler run on each
    /// shard's share of the keys, replies merged (see `command::fanout`).
    Fanout(KeyedFn, Merge),
    Coordinated(CoordFn),
}

/// How the per-shard replies of a `Fanout` command combine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Merge {
    /// Arrays whose elements go back to their keys' positions (MGET).
    Positional,
    /// Integers that add up (DEL, EXISTS).
    Sum,
    /// Every share must answer OK (MSET).
    AllOk,
}

pub mod flags {
    pub const WRITE: u32 = 1 << 0;
    pub const READONLY: u32 = 1 << 1;
    pub const DENYOOM: u32 = 1 << 2;
    pub const ADMIN: u32 = 1 << 3;
    pub const NOSCRIPT: u32 = 1 << 4;
    pub const LOADING: u32 = 1 << 5;
    pub const STALE: u32 = 1 << 6;
    pub const FAST: u32 = 1 << 7;
    pub const NO_AUTH: u32 = 1 << 8;
    pub const SKIP_MONITOR: u32 = 1 << 9;
    pub const SKIP_SLOWLOG: u32 = 1 << 10;
    pub const NO_MULTI: u32 = 1 << 11;
    pub const ALLOW_BUSY: u32 = 1 << 12;
    pub const BLOCKING: u32 = 1 << 13;
    pub const PUBSUB: u32 = 1 << 14;
    pub const MAY_REPLICATE: u32 = 1 << 15;
    pub const SENTINEL: u32 = 1 << 16;
    pub const NO_MANDATORY_KEYS: u32 = 1 << 17;

    // lanner's own facts about a command, not Redis flags: COMMAND INFO
    // does not show them.
    /// Runs at once between MULTI and EXEC instead of being queued.
    pub const NO_QUEUE: u32 = 1 << 24;
    /// Allowed while a RESP2 connection has subscriptions.
    pub const SUBSCRIBED: u32 = 1 << 25;
    /// Changes nothing beyond its own connection (PING, ECHO, SELECT,
    /// TIME): it may run anywhere, even inside a one-shard script run.
    pub const CONN_ONLY: u32 = 1 << 26;
    /// Delivers Pub/Sub messages: inside EXEC it runs after the writes,
    /// so a subscriber told of a change finds it made.
    pub const PUBLISHES: u32 = 1 << 27;
    /// Updates access times even under CLIENT NO-TOUCH.
    pub const TOUCHES: u32 = 1 << 28;

    /// Names as `COMMAND INFO` prints them, in Redis's order.
    pub const NAMES: &[(u32, &str)] = &[
        (WRITE, "write"),
        (READONLY, "readonly"),
        (DENYOOM, "denyoom"),
        (ADMIN, "admin"),
        (PUBSUB, "pubsub"),
        (NOSCRIPT, "noscript"),
        (BLOCKING, "blocking"),
        (LOADING, "loading"),
        (STALE, "stale"),
        (SKIP_MONITOR, "skip_monitor"),
        (SKIP_SLOWLOG, "skip_slowlog"),
        (FAST, "fast"),
        (NO_AUTH, "no_auth"),
        (MAY_REPLICATE, "may_replicate"),
        (SENTINEL, "sentinel"),
        (NO_MANDATORY_KEYS, "no_mandatory_keys"),
        (NO_MULTI, "no_multi"),
        (ALLOW_BUSY, "allow_busy"),
    ];
}

pub struct CommandSpec {
    /// Lowercase, as Redis reports it.
    pub name: &'static str,
    /// Redis arity: n = exactly n arguments (with the name), -n = at least n.
    pub arity: i32,
    pub flags: u32,
    pub first_key: i32,
    /// Negative counts from the end (-1 = last argument).
    pub last_key: i32,
    pub step: i32,
    /// For commands whose keys follow a count (Redis's `movablekeys`): where
    /// the keys are. `COMMAND GETKEYS` uses it instead of first/last/step.
    pub movable_keys: Option<KeysFn>,
    pub handler: Handler,
    /// ACL categories without the '@'.
    pub acl: &'static [&'static str],
    pub group: &'static str,
    pub since: &'static str,
    pub summary: &'static str,
}

impl CommandSpec {
    /// Position in `COMMANDS`, for per-command statistics arrays.
    pub fn index(&'static self) -> usize {
        (self as *const CommandSpec as usize - COMMANDS.as_ptr() as usize)
            / std::mem::size_of::<CommandSpec>()
    }

    pub fn has(&self, flag: u32) -> bool {
        self.flags & flag != 0
    }

    pub fn arity_ok(&self, argc: usize) -> bool {
        let a = self.arity;
        if a >= 0 {
            argc == a as usize
        } else {
            argc >= (-a) as usize
        }
    }

    /// Positions of every key argument in `args` (args[0] is the name),
    /// movable or not, as `COMMAND GETKEYS` lists them.
    pub fn keys_of(&self, args: &[Bytes]) -> Vec<usize> {
        match self.movable_keys {
            Some(f) => f(args),
            None => self.key_positions(args.len()).collect(),
        }
    }

    /// Positions of the key arguments in `args` (args[0] is the name)
    /// given by first/last/step.
    pub fn key_positions(&self, argc: usize) -> impl Iterator<Item = usize> {
        self.key_span(argc).positions()
    }

    /// Where the keys of `args` are, movable or not (`keys_of` as a
    /// runtime value).
    pub fn keys(&self, args: &[Bytes]) -> Keys {
        match self.movable_keys {
            Some(f) => Keys::At(f(args).into_iter().map(|p| p as u32).collect()),
            None => Keys::Span(self.key_span(args.len())),
        }
    }

    /// The key positions of a call with `argc` arguments, resolved.
    pub fn key_span(&self, argc: usize) -> KeySpan {
        let (first, step) = (self.first_key.max(0) as usize, self.step.max(1) as usize);
        let last = if self.first_key <= 0 {
            0
        } else if self.last_key < 0 {
            (argc as i64 + self.last_key as i64).max(0) as usize
        } else {
            (self.last_key as usize).min(argc.saturating_sub(1))
        };
        let end = if first == 0 || last < first {
            first
        } else {
            last + 1
        };
        KeySpan {
            first: first as u32,
            end: end as u32,
            step: step as u32,
        }
    }
}

use flags::*;
use Handler::*;

/// One table row; a trailing `movable = f` names the key function of a
/// command whose keys follow a count (see `command::keyspec`).
macro_rules! row {
    ($name:literal, $arity:expr, $flags:expr, $first:expr, $last:expr, $step:expr, $handler:expr,
     [$($acl:literal),*], $group:literal, $since:literal, $summary:literal $(, movable = $keys:expr)?) => {
        CommandSpec {
            name: $name, arity: $arity, flags: $flags, first_key: $first, last_key: $last, step: $step,
            movable_keys: row!(@keys $($keys)?),
            handler: $handler, acl: &[$($acl),*], group: $group, since: $since, summary: $summary,
        }
    };
    (@keys) => { None };
    (@keys $keys:expr) => { Some($keys) };
}

#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    // strings
    row!("get", 2, READONLY | FAST, 1, 1, 1, Keyed(string::get), ["read", "string", "fast"], "string", "1.0.0", "Returns the string value of a key."),
    row!("set", -3, WRITE | DENYOOM, 1, 1, 1, Keyed(string::set), ["write", "string", "slow"], "string", "1.0.0", "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist."),
    row!("setnx", 3, WRITE | DENYOOM | FAST, 1, 1, 1, Keyed(string::setnx), ["write", "string", "fast"], "string", "1.0.0", "Set the string value of a key only when the key doesn't exist."),
    row!("setex", 4, WRITE | DENYOOM, 1, 1, 1, Keyed(string::setex), ["write", "string", "slow"], "string", "2.0.0", "Sets the string value and expiration time of a key. Creates the key if it doesn't exist."),
    row!("psetex", 4, WRITE | DENYOOM, 1, 1, 1, Keyed(string::psetex), ["write", "string", "slow"], "string", "2.6.0", "Sets both string value and expiration time in milliseconds of a key. The key is created if it doesn't exist."),
    row!("getset", 3, WRITE | DENYOOM | FAST, 1, 1, 1, Keyed(string::getset), ["write", "string", "fast"], "string", "1.0.0", "Returns the previous string value of a key after setting it to a new value."),
    row!("getdel", 2, WRITE | FAST, 1, 1, 1, Keyed(string::getdel), ["write", "string", "fast"], "string", "6.2.0", "Returns the string value of a key after deleting the key."),
    row!("getex", -2, WRITE | FAST, 1, 1, 1, Keyed(string::getex), ["write", "string", "fast"], "string", "6.2.0", "Returns the string value of a key after setting its expiration time."),
    row!("mget", -2, READONLY | FAST, 1, -1, 1, Fanout(string::mget, Merge::Positional), ["read", "string", "fast"], "string", "1.0.0", "Atomically returns the string values of one or more keys."),
    row!("mset", -3, WRITE | DENYOOM, 1, -1, 2, Fanout(string::mset, Merge::AllOk), ["write", "string", "slow"], "string", "1.0.1", "Atomically creates or modifies the string values of one or more keys."),
    row!("msetnx", -3, WRITE | DENYOOM, 1, -1, 2, Multi(string::msetnx, string::msetnx_spanning), ["write", "string", "slow"], "string", "1.0.1", "Atomically modifies the string values of one or more keys only when all keys don't exist."),
    row!("append", 3, WRITE | DENYOOM | FAST, 1, 1, 1, Keyed(string::append), ["write", "string", "fast"], "string", "2.0.0", "Appends a string to the value of a key. Creates the key if it doesn't exist."),
    row!("strlen", 2, READONLY | FAST, 1, 1, 1, Keyed(string::strlen), ["read", "string", "fast"], "string", "2.2.0", "Returns the length of a string value."),
    row!("getrange", 4, READONLY, 1, 1, 1, Keyed(string::getrange), ["read", "string", "slow"], "string", "2.4.0", "Returns a substring of the string stored at a key."),
    row!("substr", 4, READONLY, 1, 1, 1, Keyed(string::getrange), ["read", "string", "slow"], "string", "1.0.0", "Returns a substring from a string value."),
    row!("setrange", 4, WRITE | DENYOOM, 1, 1, 1, Keyed(string::setrange), ["write", "string", "slow"], "string", "2.2.0", "Overwrites a part of a string value with another by an offset. Creates the key if it doesn't exist."),
    row!("incr", 2, WRITE | DENYOOM | FAST, 1, 1, 1, Keyed(string::incr), ["write", "string", "fast"], "string", "1.0.0", "Increments the integer value of a key by one. Uses 0 as initial value if the key doesn't exist."),
    row!("decr", 2, WRITE | DENYOOM | FAST, 1, 1, 1, Keyed(string::decr), ["write", "string", "fast"], "string", "1.0.0", "Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn't exist."),
    row!("incrby", 3, WRITE | DENYOOM | FAST, 1, 1, 1, Keyed(string::incrby), ["write", "string", "fast"], "string", "1.0.0", "Increments the integer value of a key by a number. Uses 0 as initial value if the key doesn't exist."),
    row!("decrby", 3, WRITE | DENYOOM | FAST, 1, 1, 1, Keyed(string::decrby), ["write", "string", "fast"], "string", "1.0.0", "Decrements a number from the integer value of a key. Uses 0 as initial value if the key doesn't exist."),
    row!("incrbyfloat", 3, WRITE | DENYOOM | FAST, 1, 1, 1, Keyed(string::incrbyfloat), ["write", "string", "fast"], "string", "2.6.0", "Increment the floating point value of a key by a number. Uses 0 as initial value if the key doesn't exist."),
    row!("lcs", -3, READONLY, 1, 2, 1, Multi(string::lcs, string::lcs_spanning), ["read", "string", "slow"], "string", "7.0.0", "Finds the longest common substring."),
    // bitmaps (rows owned by command/bitmap.rs)
    row!("setbit", 4, WRITE | DENYOOM, 1, 1, 1, Keyed(bitmap::setbit), ["write", "bitmap", "slow"], "bitmap", "2.2.0", "Sets or clears the bit at offset in the string value stored at key"),
    row!("getbit", 3, READONLY | FAST, 1, 1, 1, Keyed(bitmap::getbit), ["read", "bitmap", "fast"], "bitmap", "2.2.0", "Returns the bit value at offset in the string value stored at key"),
    row!("bitcount", -2, READONLY, 1, 1, 1, Keyed(bitmap::bitcount), ["read", "bitmap", "slow"], "bitmap", "2.6.0", "Count set bits in a string"),
    row!("bitpos", -3, READONLY, 1, 1, 1, Keyed(bitmap::bitpos), ["read", "bitmap", "slow"], "bitmap", "2.8.7", "Find first bit set or clear in a string"),
    row!("bitop", -4, WRITE | DENYOOM, 2, -1, 1, Multi(bitmap::bitop, bitmap::bitop_spanning), ["write", "bitmap", "slow"], "bitmap", "2.6.0", "Perform bitwise operations between strings"),
    row!("bitfield", -2, WRITE | DENYOOM, 1, 1, 1, Keyed(bitmap::bitfield), ["write", "bitmap", "slow"], "bitmap", "3.2.0", "Perform arbitrary bitfield integer operations on strings"),
    row!("bitfield_ro", -2, READONLY | FAST, 1, 1, 1, Keyed(bitmap::bitfield_ro), ["read", "bitmap", "fast"], "bitmap", "6.0.0", "Perform arbitrary bitfield integer operations on strings. Read-only variant of BITFIELD"),
    // hyperloglog (rows owned by command/hll.rs)
    row!("pfadd", -2, WRITE | DENYOOM | FAST, 1, 1, 1, Keyed(hll::pfadd), ["write", "hyperloglog", "fast"], "hyperloglog", "2.8.9", "Adds the specified elements to the specified HyperLogLog."),
    row!("pfcount", -2, READONLY | MAY_REPLICATE, 1, -1, 1, Multi(hll::pfcount, hll::pfcount_spanning), ["read", "hyperloglog", "slow"], "hyperloglog", "2.8.9", "Return the approximated cardinality of the set(s) observed by the HyperLogLog at key(s)."),
    row!("pfmerge", -2, WRITE | DENYOOM, 1, -1, 1, Multi(hll::pfmerge, hll::pfmerge_spanning), ["write", "hyperloglog", "slow"], "hyperloglog", "2.8.9", "Merge N different HyperLogLogs into a single one."),
    row!("pfdebug", 3, WRITE | DENYOOM | ADMIN, 2, 2, 1, Keyed(hll::pfdebug), ["write", "hyperloglog", "admin", "slow", "dangerous"], "hyperloglog", "2.8.9", "Internal commands for debugging HyperLogLog values"),
    row!("pfselftest", 1, ADMIN, 0, 0, 0, Local(hll::pfselftest), ["hyperloglog", "admin", "slow", "dangerous"], "hyperloglog", "2.8.9", "An internal command for testing HyperLogLog values"),
    // geo (rows owned by command/geo.rs)
    row!("geoadd", -5, WRITE | DENYOOM, 1, 1, 1, Keyed(geo::geoadd), ["write", "geo", "slow"], "geo", "3.2.0", "Add one or more geospatial items in the geospatial index represented using a sorted set"),
    row!("geodist", -4, READONLY, 1, 1, 1, Keyed(geo::geodist), ["read", "geo", "slow"], "geo", "3.2.0", "Returns the distance between two members of a geospatial index"),
    row!("geohash", -2, READONLY, 1, 1, 1, Keyed(geo::geohash), ["read", "geo", "slow"], "geo", "3.2.0", "Returns members of a geospatial index as standard geohash strings"),
    row!("geopos", -2, READONLY, 1, 1, 1, Keyed(geo::geopos), ["read", "geo", "slow"], "geo", "3.2.0", "Returns longitude and latitude of members of a geospatial index"),
    row!("geosearch", -7, READONLY, 1, 1, 1, Keyed(geo::geosearch), ["read", "geo", "slow"], "geo", "6.2.0", "Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle."),
    row!("geosearchstore", -8, WRITE | DENYOOM, 1, 2, 1, Multi(geo::geosearchstore, geo::geosearchstore_spanning), ["write", "geo", "slow"], "geo", "6.2.0", "Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle, and store the result in another key."),
    row!("georadius", -6, WRITE | DENYOOM, 1, 1, 1, Multi(geo::georadius, geo::georadius_spanning), ["write", "geo", "slow"], "geo", "3.2.0", "Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a point", movable = geo::radius_keys),
    row!("georadiusbymember", -5, WRITE | DENYOOM, 1, 1, 1, Multi(geo::georadiusbymember, geo::georadiusbymember_spanning), ["write", "geo", "slow"], "geo", "3.2.0", "Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a member", movable = geo::radius_keys),
    row!("georadius_ro", -6, READONLY, 1, 1, 1, Keyed(geo::georadius_ro), ["read", "geo", "slow"], "geo", "3.2.10", "A read-only variant for GEORADIUS"),
    row!("georadiusbymember_ro", -5, READONLY, 1, 1, 1, Keyed(geo::georadiusbymember_ro), ["read", "geo", "slow"], "geo", "3.2.10", "A read-only variant for GEORADIUSBYMEMBER"),
    // keyspace
    row!("del", -2, WRITE, 1, -1, 1, Fanout(keys::del, Merge::Sum), ["keyspace", "write", "slow"], "generic", "1.0.0", "Deletes one or more keys."),
    row!("unlink", -2, WRITE | FAST, 1, -1, 1, Fanout(keys::unlink, Merge::Sum), ["keyspace", "write", "fast"], "generic", "4.0.0", "Asynchronously deletes one or more keys."),
    row!("exists", -2, READONLY | FAST, 1, -1, 1, Fanout(keys::exists, Merge::Sum), ["keyspace", "read", "fast"], "generic", "1.0.0", "Determines whether one or more keys exist."),
    row!("touch", -2, READONLY | FAST | TOUCHES, 1, -1, 1, Fanout(keys::exists, Merge::Sum), ["keyspace", "read", "fast"], "generic", "3.2.1", "Returns the number of existing keys out of those specified after updating the time they were last accessed."),
    row!("type", 2, READONLY | FAST, 1, 1, 1, Keyed(keys::type_), ["keyspace", "read", "fast"], "generic", "1.0.0", "Determines the type of value stored at a key."),
    row!("rename", 3, WRITE, 1, 2, 1, Multi(keys::rename, keys::rename_spanning), ["keyspace", "write", "slow"], "generic", "1.0.0", "Renames a key and overwrites the destination."),
    row!("renamenx", 3, WRITE | FAST, 1, 2, 1, Multi(keys::renamenx, keys::rename_spanning), ["keyspace", "write", "fast"], "generic", "1.0.0", "Renames a key only when the target key name doesn't exist."),
    row!("copy", -3, WRITE | DENYOOM, 1, 2, 1, Multi(keys::copy, keys::copy_spanning), ["keyspace", "write", "slow"], "generic", "6.2.0", "Copies the value of a key to a new key."),
    row!("move", 3, WRITE | FAST, 1, 1, 1, Keyed(keys::move_), ["keyspace", "write", "fast"], "generic", "1.0.0", "Moves a key to another database."),
    row!("expire", -3, WRITE | FAST, 1, 1, 1, Keyed(keys::expire), ["keyspace", "write", "fast"], "generic", "1.0.0", "Sets the expiration time of a key in seconds."),
    row!("pexpire", -3, WRITE | FAST, 1, 1, 1, Keyed(keys::pexpire), ["keyspace", "write", "fast"], "generic", "2.6.0", "Sets the expiration time of a key in milliseconds."),
    row!("expireat", -3, WRITE | FAST, 1, 1, 1, Keyed(keys::expireat), ["keyspace", "write", "fast"], "generic", "1.2.0", "Sets the expiration time of a key to a Unix timestamp."),
    row!("pexpireat", -3, WRITE | FAST, 1, 1, 1, Keyed(keys::pexpireat), ["keyspace", "write", "fast"], "generic", "2.6.0", "Sets the expiration time of a key to a Unix milliseconds timestamp."),
    row!("ttl", 2, READONLY | FAST, 1, 1, 1, Keyed(keys::ttl), ["keyspace", "read", "fast"], "generic", "1.0.0", "Returns the expiration time in seconds of a key."),
    row!("pttl", 2, READONLY | FAST, 1, 1, 1, Keyed(keys::pttl), ["keyspace", "read", "fast"], "generic", "2.6.0", "Returns the expiration time in milliseconds of a key."),
    row!("expiretime", 2, READONLY | FAST, 1, 1, 1, Keyed(keys::expiretime), ["keyspace", "read", "fast"], "generic", "7.0.0", "Returns the expiration time of a key as a Unix timestamp."),
    row!("pexpiretime", 2, READONLY | FAST, 1, 1, 1, Keyed(keys::pexpiretime), ["keyspace", "read", "fast"], "generic", "7.0.0", "Returns the expiration time of a key as a Unix milliseconds timestamp."),
    row!("persist", 2, WRITE | FAST, 1, 1, 1, Keyed(keys::persist), ["keyspace", "write", "fast"], "generic", "2.2.0", "Removes the expiration time of a key."),
    row!("object", -2, READONLY, 2, 2, 1, Keyed(keys::object), ["keyspace", "read", "slow"], "generic", "2.2.3", "A container for object introspection commands."),
    row!("keys", 2, READONLY, 0, 0, 0, Coordinated(keys::keys), ["keyspace", "read", "slow", "dangerous"], "generic", "1.0.0", "Returns all key names that match a pattern."),
    row!("scan", -2, READONLY, 0, 0, 0, Coordinated(keys::scan), ["keyspace", "read", "slow"], "generic", "2.8.0", "Iterates over the key names in the database."),
    row!("randomkey", 1, READONLY, 0, 0, 0, Coordinated(keys::randomkey), ["keyspace", "read", "slow"], "generic", "1.0.0", "Returns a random key name from the database."),
    row!("dbsize", 1, READONLY | FAST, 0, 0, 0, Coordinated(keys::dbsize), ["keyspace", "read", "fast"], "server", "1.0.0", "Returns the number of keys in the database."),
    row!("flushdb", -1, WRITE, 0, 0, 0, Coordinated(keys::flushdb), ["keyspace", "write", "slow", "dangerous"], "server", "1.0.0", "Removes all keys from the current database."),
    row!("flushall", -1, WRITE, 0, 0, 0, Coordinated(keys::flushall), ["keyspace", "write", "slow", "dangerous"], "server", "1.0.0", "Removes all keys from all databases."),
    row!("sort", -2, WRITE | DENYOOM, 1, 1, 1, Coordinated(sort::sort), ["write", "set", "sortedset", "list", "slow", "dangerous"], "generic", "1.0.0", "Sort the elements in a list, set or sorted set", movable = sort::keys),
    row!("sort_ro", -2, READONLY, 1, 1, 1, Coordinated(sort::sort_ro), ["read", "set", "sortedset", "list", "slow", "dangerous"], "generic", "7.0.0", "Sort the elements in a list, set or sorted set. Read-only variant of SORT.", movable = sort::keys),
    row!("swapdb", 3, WRITE | FAST, 0, 0, 0, Coordinated(keys::swapdb), ["keyspace", "write", "fast", "dangerous"], "server", "4.0.0", "Swaps two Redis databases."),
    // lists
    row!("lpush", -3, WRITE | DENYOOM | FAST, 1, 1, 1, Keyed(list::lpush), ["write", "list", "fast"], "list", "1.0.0", "Prepends one or more elements to a list. Creates the key if it doesn't exist."),
    row!("rpush", -3, WRITE | DENYOOM | FAST, 1, 1, 1, Keyed(list::rpush), ["write", "list", "fast"], "list", "1.0.0", "Appends one or more elements to a list. Creates the key if it doesn't exist."),
    row!("lpushx", -3, WRITE | DENYOOM | FAST, 1, 1, 1, Keyed(list::lpushx), ["write", "list", "fast"], "list", "2.2.0", "Prepends one or more elements to a list only when the list exists."),
    row!("rpushx", -3, WRITE | DENYOOM | FAST, 1, 1, 1, Keyed(list::rpushx), ["write", "list", "fast"], "list", "2.2.0", "Appends an element to a list only when the list exists."),
    row!("lpop", -2, WRITE | FAST, 1, 1, 1, Keyed(list::lpop), ["write", "list", "fast"], "list", "1.0.0", "Returns the first elements in a list after removing it. Deletes the list if the last element was popped."),
    row!("rpop", -2, WRITE | FAST, 1, 1, 1, Keyed(list::rpop), ["write", "list", "fast"], "list", "1.0.0", "Returns and removes the last elements of a list. Deletes the list if the last element was popped."),
    row!("llen", 2, READONLY | FAST, 1, 1, 1, Keyed(list::llen), ["read", "list", "fast"], "list", "1.0.0", "Returns the length of a list."),
    row!("lrange", 4, READONLY, 1, 1, 1, Keyed(list::lrange), ["read", "list", "slow"], "list", "1.0.0", "Returns a range of elements from a list."),
    row!("lindex", 3, READONLY, 1, 1, 1, Keyed(list::lindex), ["read", "list", "slow"], "list", "1.0.0", "Returns an element from a list by its index."),
    row!("lset", 4, WRITE | DENYOOM, 1, 1, 1, Keyed(list::lset), ["write", "list", "slow"], "list", "1.0.0", "Sets the value of an element in a list by its index."),
    row!("linsert", 5, WRITE | DENYOOM, 1, 1, 1, Keyed(list::linsert), ["write", "list", "slow"], "list", "2.2.0", "Inserts an element before or after another element in a list."),
    row!("lrem", 4, WRITE, 1, 1, 1, Keyed(list::lrem), ["write", "list", "slow"], "list", "1.0.0", "Removes elements from a list. Deletes the list if the last element was removed."),
    row!("ltrim", 4, WRITE, 1, 1, 1, Keyed(list::ltrim), ["write", "list", "slow"], "list", "1.0.0", "Removes elements from both ends a list. Deletes the list if all elements were trimmed."),
    row!("lpos", -3, READONLY, 1, 1, 1, Keyed(list::lpos), ["read", "list", "slow"], "list", "6.0.6", "Returns the index of matching elements in a list."),
    row!("lmove", 5, WRITE | DENYOOM, 1, 2, 1, Multi(list::lmove, list::lmove_spanning), ["write", "list", "slow"], "list", "6.2.0", "Returns an element after popping it from one list and pushing it to another. Deletes the list if the last element was moved."),
    row!("rpoplpush", 3, WRITE | DENYOOM, 1, 2, 1, Multi(list::rpoplpush, list::lmove_spanning), ["write", "list", "slow"], "list", "1.2.0", "Returns the last element of a list after removing and pushing it to another list. Deletes the list if the last element was popped."),
    row!("lmpop", -4, WRITE, 0, 0, 0, Coordinated(blocking::lmpop), ["write", "list", "slow"], "list", "7.0.0", "Returns multiple elements from a list after removing them. Deletes the list if the last element was popped.", movable = keyspec::numkeys_first),
    row!("blpop", -3, WRITE | NOSCRIPT | BLOCKING, 1, -2, 1, Coordinated(blocking::blpop), ["write", "list", "slow", "blocking"], "list", "2.0.0", "Remove and get the first element in a list, or block until one is available"),
    row!("brpop", -3, WRITE | NOSCRIPT | BLOCKING, 1, -2, 1, Coordinated(blocking::brpop), ["write", "list", "slow", "blocking"], "list", "2.0.0", "Remove and get the last element in a list, or block until one is available"),
    row!("blmpop", -5, WRITE | BLOCKING, 0, 0, 0, Coordinated(blocking::blmpop), ["write", "list", "slow", "blocking"], "list", "7.0.0", "Pop elements from a list, or block until one is available", movable = keyspec::numkeys_second),
    row!("blmove", 6, WRITE | DENYOOM | NOSCRIPT | BLOCKING, 1, 2, 1, Coordinated(blocking::blmove), ["write", "list", "slow", "blocking"], "list", "6.2.0", "Pop an element from a list, push it to another list and return it; or block until one is available"),
    row!("brpoplpush", 4, WRITE | DENYOOM | NOSCRIPT | BLOCKING, 1, 2, 1, Coordinated(blocking::brpoplpush), ["write", "list", "slow", "blocking"], "list", "2.2.0", "Pop an element from a list, push it to another list and return it; or block until one is available"),
    // hashes (rows owned by command/hash.rs)
    row!("hset", -4, WRITE | DENYOOM | FAST, 1, 1, 1, Keyed(super::hash::hset), ["write", "hash", "fast"], "hash", "2.0.0", "Creates or modifies the value of a field in a hash."),
    row!("hsetnx", 4, WRITE | DENYOOM | FAST, 1, 1, 1, Keyed(super::hash::hsetnx), ["write", "hash", "fast"], "hash", "2.0.0", "Sets the value of a field in a hash only when the field doesn't exist."),
    row!("hget", 3, READONLY | FAST, 1, 1, 1, Keyed(super::hash::hget), ["read", "hash", "fast"], "hash", "2.0.0", "Returns the value of a field in a hash."),
    row!("hmset", -4, WRITE | DENYOOM | FAST, 1, 1, 1, Keyed(super::hash::hmset), ["write", "hash", "fast"], "hash", "2.0.0", "Sets the values of multiple fields."),
    row!("hmget", -3, READONLY | FAST, 1, 1, 1, Keyed(super::hash::hmget), ["read", "hash", "fast"], "hash", "2.0.0", "Returns the values of all fields in a hash."),
    row!("hincrby", 4, WRITE | DENYOOM | FAST, 1, 1, 1, Keyed(super::hash::hincrby), ["write", "hash", "fast"], "hash", "2.0.0", "Increments the integer value of a field in a hash by a number. Uses 0 as initial value if the field doesn't exist."),
    row!("hincrbyfloat", 4, WRITE | DENYOOM | FAST, 1, 1, 1, Keyed(super::hash::hincrbyfloat), ["write", "hash", "fast"], "hash", "2.6.0", "Increments the floating point value of a field by a number. Uses 0 as initial value if the field doesn't exist."),
    row!("hdel", -3, WRITE | FAST, 1, 1, 1, Keyed(super::hash::hdel), ["write", "hash", "fast"], "hash", "2.0.0", "Deletes one or more fields and their values from a hash. Deletes the hash if no fields remain."),
    row!("hlen", 2, READONLY | FAST, 1, 1, 1, Keyed(super::hash::hlen), ["read", "hash", "fast"], "hash", "2.0.0", "Returns the number of fields in a hash."),
    row!("hstrlen", 3, READONLY | FAST, 1, 1, 1, Keyed(super::hash::hstrlen), ["read", "hash", "fast"], "hash", "3.2.0", "Returns the length of the value of a field."),
    row!("hkeys", 2, READONLY, 1, 1, 1, Keyed(super::hash::hkeys), ["read", "hash", "slow"], "hash", "2.0.0", "Returns all fields in a hash."),
    row!("hvals", 2, READONLY, 1, 1, 1, Keyed(super::hash::hvals), ["read", "hash", "slow"], "hash", "2.0.0", "Returns all values in a hash."),
    row!("hgetall", 2, READONLY, 1, 1, 1, Keyed(super::hash::hgetall), ["read", "hash", "slow"], "hash", "2.0.0", "Returns all fields and values in a hash."),
    row!("hexists", 3, READONLY | FAST, 1, 1, 1, Keyed(super::hash::hexists), ["read", "hash", "fast"], "hash", "2.0.0", "Determines whether a field exists in a hash."),
    row!("hrandfield", -2, READONLY, 1, 1, 1, Keyed(super::hash::hrandfield), ["read", "hash", "slow"], "hash", "6.2.0", "Returns one or more random fields from a hash."),
    row!("hscan", -3, READONLY, 1, 1, 1, Keyed(super::hash::hscan), ["read", "hash", "slow"], "hash", "2.8.0", "Iterates over fields and values of a hash."),
    // sets (rows owned by command/set.rs)
    row!("sadd", -3, WRITE | DENYOOM | FAST, 1, 1, 1, Keyed(super::set::sadd), ["write", "set", "fast"], "set", "1.0.0", "Adds one or more members to a set. Creates the key if it doesn't exist."),
    row!("srem", -3, WRITE | FAST, 1, 1, 1, Keyed(super::set::srem), ["write", "set", "fast"], "set", "1.0.0", "Removes one or more members from a set. Deletes the set if the last member was removed."),
    row!("smove", 4, WRITE | FAST, 1, 2, 1, Multi(super::set::smove, super::set::smove_spanning), ["write", "set", "fast"], "set", "1.0.0", "Moves a member from one set to another."),
    row!("sismember", 3, READONLY | FAST, 1, 1, 1, Keyed(super::set::sismember), ["read", "set", "fast"], "set", "1.0.0", "Determines whether a member belongs to a set."),
    row!("smismember", -3, READONLY | FAST, 1, 1, 1, Keyed(super::set::smismember), ["read", "set", "fast"], "set", "6.2.0", "Determines whether multiple members belong to a set."),
    row!("scard", 2, READONLY | FAST, 1, 1, 1, Keyed(super::set::scard), ["read", "set", "fast"], "set", "1.0.0", "Returns the number of members in a set."),
    row!("spop", -2, WRITE | FAST, 1, 1, 1, Keyed(super::set::spop), ["write", "set", "fast"], "set", "1.0.0", "Returns one or more random members from a set after removing them. Deletes the set if the last member was popped."),
    row!("srandmember", -2, READONLY, 1, 1, 1, Keyed(super::set::srandmember), ["read", "set", "slow"], "set", "1.0.0", "Get one or multiple random members from a set"),
    row!("sinter", -2, READONLY, 1, -1, 1, Multi(super::set::sinter, super::set::sinter_spanning), ["read", "set", "slow"], "set", "1.0.0", "Returns the intersect of multiple sets."),
    row!("sintercard", -3, READONLY, 0, 0, 0, Coordinated(super::set::sintercard), ["read", "set", "slow"], "set", "7.0.0", "Returns the number of members of the intersect of multiple sets.", movable = keyspec::numkeys_first),
    row!("sinterstore", -3, WRITE | DENYOOM, 1, -1, 1, Multi(super::set::sinterstore, super::set::sinterstore_spanning), ["write", "set", "slow"], "set", "1.0.0", "Stores the intersect of multiple sets in a key."),
    row!("sunion", -2, READONLY, 1, -1, 1, Multi(super::set::sunion, super::set::sunion_spanning), ["read", "set", "slow"], "set", "1.0.0", "Returns the union of multiple sets."),
    row!("sunionstore", -3, WRITE | DENYOOM, 1, -1, 1, Multi(super::set::sunionstore, super::set::sunionstore_spanning), ["write", "set", "slow"], "set", "1.0.0", "Stores the union of multiple sets in a key."),
    row!("sdiff", -2, READONLY, 1, -1, 1, Multi(super::set::sdiff, super::set::sdiff_spanning), ["read", "set", "slow"], "set", "1.0.0", "Returns the difference of multiple sets."),
    row!("sdiffstore", -3, WRITE | DENYOOM, 1, -1, 1, Multi(super::set::sdiffstore, super::set::sdiffstore_spanning), ["write", "set", "slow"], "set", "1.0.0", "Stores the difference of multiple sets in a key."),
    row!("smembers", 2, READONLY, 1, 1, 1, Keyed(super::set::smembers), ["read", "set", "slow"], "set", "1.0.0", "Returns all members of a set."),
    row!("sscan", -3, READONLY, 1, 1, 1, Keyed(super::set::sscan), ["read", "set", "slow"], "set", "2.0.0", "Iterates over members of a set."),
    // sorted sets (rows owned by command/zset.rs)
    row!("zadd", -4, WRITE | DENYOOM | FAST, 1, 1, 1, Keyed(super::zset::zadd), ["write", "sortedset", "fast"], "sorted-set", "1.2.0", "Add one or more members to a sorted set, or update its score if it already exists"),
    row!("zincrby", 4, WRITE | DENYOOM | FAST, 1, 1, 1, Keyed(super::zset::zincrby), ["write", "sortedset", "fast"], "sorted-set", "1.2.0", "Increment the score of a member in a sorted set"),
    row!("zrem", -3, WRITE | FAST, 1, 1, 1, Keyed(super::zset::zrem), ["write", "sortedset", "fast"], "sorted-set", "1.2.0", "Remove one or more members from a sorted set"),
    row!("zcard", 2, READONLY | FAST, 1, 1, 1, Keyed(super::zset::zcard), ["read", "sortedset", "fast"], "sorted-set", "1.2.0", "Get the number of members in a sorted set"),
    row!("zscore", 3, READONLY | FAST, 1, 1, 1, Keyed(super::zset::zscore), ["read", "sortedset", "fast"], "sorted-set", "1.2.0", "Get the score associated with the given member in a sorted set"),
    row!("zmscore", -3, READONLY | FAST, 1, 1, 1, Keyed(super::zset::zmscore), ["read", "sortedset", "fast"], "sorted-set", "6.2.0", "Get the score associated with the given members in a sorted set"),
    row!("zcount", 4, READONLY | FAST, 1, 1, 1, Keyed(super::zset::zcount), ["read", "sortedset", "fast"], "sorted-set", "2.0.0", "Count the members in a sorted set with scores within the given values"),
    row!("zlexcount", 4, READONLY | FAST, 1, 1, 1, Keyed(super::zset::zlexcount), ["read", "sortedset", "fast"], "sorted-set", "2.8.9", "Count the number of members in a sorted set between a given lexicographical range"),
    row!("zrank", 3, READONLY | FAST, 1, 1, 1, Keyed(super::zset::zrank), ["read", "sortedset", "fast"], "sorted-set", "2.0.0", "Determine the index of a member in a sorted set"),
    row!("zrevrank", 3, READONLY | FAST, 1, 1, 1, Keyed(super::zset::zrevrank), ["read", "sortedset", "fast"], "sorted-set", "2.0.0", "Determine the index of a member in a sorted set, with scores ordered from high to low"),
    row!("zrange", -4, READONLY, 1, 1, 1, Keyed(super::zset::zrange), ["read", "sortedset", "slow"], "sorted-set", "1.2.0", "Return a range of members in a sorted set"),
    row!("zrevrange", -4, READONLY, 1, 1, 1, Keyed(super::zset::zrevrange), ["read", "sortedset", "slow"], "sorted-set", "1.2.0", "Return a range of members in a sorted set, by index, with scores ordered from high to low"),
    row!("zrangebyscore", -4, READONLY, 1, 1, 1, Keyed(super::zset::zrangebyscore), ["read", "sortedset", "slow"], "sorted-set", "1.0.5", "Return a range of members in a sorted set, by score"),
    row!("zrevrangebyscore", -4, READONLY, 1, 1, 1, Keyed(super::zset::zrevrangebyscore), ["read", "sortedset", "slow"], "sorted-set", "2.2.0", "Return a range of members in a sorted set, by score, with scores ordered from high to low"),
    row!("zrangebylex", -4, READONLY, 1, 1, 1, Keyed(super::zset::zrangebylex), ["read", "sortedset", "slow"], "sorted-set", "2.8.9", "Return a range of members in a sorted set, by lexicographical range"),
    row!("zrevrangebylex", -4, READONLY, 1, 1, 1, Keyed(super::zset::zrevrangebylex), ["read", "sortedset", "slow"], "sorted-set", "2.8.9", "Return a range of members in a sorted set, by lexicographical range, ordered from higher to lower strings."),
    row!("zpopmin", -2, WRITE | FAST, 1, 1, 1, Keyed(super::zset::zpopmin), ["write", "sortedset", "fast"], "sorted-set", "5.0.0", "Remove and return members with the lowest scores in a sorted set"),
    row!("zpopmax", -2, WRITE | FAST, 1, 1, 1, Keyed(super::zset::zpopmax), ["write", "sortedset", "fast"], "sorted-set", "5.0.0", "Remove and return members with the highest scores in a sorted set"),
    row!("zremrangebyrank", 4, WRITE, 1, 1, 1, Keyed(super::zset::zremrangebyrank), ["write", "sortedset", "slow"], "sorted-set", "2.0.0", "Remove all members in a sorted set within the given indexes"),
    row!("zremrangebyscore", 4, WRITE, 1, 1, 1, Keyed(super::zset::zremrangebyscore), ["write", "sortedset", "slow"], "sorted-set", "1.2.0", "Remove all members in a sorted set within the given scores"),
    row!("zremrangebylex", 4, WRITE, 1, 1, 1, Keyed(super::zset::zremrangebylex), ["write", "sortedset", "slow"], "sorted-set", "2.8.9", "Remove all members in a sorted set between the given lexicographical range"),
    row!("zrandmember", -2, READONLY, 1, 1, 1, Keyed(super::zset::zrandmember), ["read", "sortedset", "slow"], "sorted-set", "6.2.0", "Get one or multiple random elements from a sorted set"),
    row!("zscan", -3, READONLY, 1, 1, 1, Keyed(super::zset::zscan), ["read", "sortedset", "slow"], "sorted-set", "2.8.0", "Incrementally iterate sorted sets elements and associated scores"),
    row!("zrangestore", -5, WRITE | DENYOOM, 1, 2, 1, Multi(super::zset::zrangestore, super::zset::zrangestore_spanning), ["write", "sortedset", "slow"], "sorted-set", "6.2.0", "Store a range of members from sorted set into another key"),
    row!("zmpop", -4, WRITE, 0, 0, 0, Coordinated(blocking::zmpop), ["write", "sortedset", "slow"], "sorted-set", "7.0.0", "Remove and return members with scores in a sorted set", movable = keyspec::numkeys_first),
    row!("bzpopmin", -3, WRITE | NOSCRIPT | BLOCKING | FAST, 1, -2, 1, Coordinated(blocking::bzpopmin), ["write", "sortedset", "fast", "blocking"], "sorted-set", "5.0.0", "Remove and return the member with the lowest score from one or more sorted sets, or block until one is available"),
    row!("bzpopmax", -3, WRITE | NOSCRIPT | BLOCKING | FAST, 1, -2, 1, Coordinated(blocking::bzpopmax), ["write", "sortedset", "fast", "blocking"], "sorted-set", "5.0.0", "Remove and return the member with the highest score from one or more sorted sets, or block until one is available"),
    row!("bzmpop", -5, WRITE | BLOCKING, 0, 0, 0, Coordinated(blocking::bzmpop), ["write", "sortedset", "slow", "blocking"], "sorted-set", "7.0.0", "Remove and return members with scores in a sorted set or block until one is available", movable = keyspec::numkeys_second),
    row!("zunion", -3, READONLY, 0, 0, 0, Coordinated(super::zset::zunion), ["read", "sortedset", "slow"], "sorted-set", "6.2.0", "Add multiple sorted sets", movable = keyspec::numkeys_first),
    row!("zinter", -3, READONLY, 0, 0, 0, Coordinated(super::zset::zinter), ["read", "sortedset", "slow"], "sorted-set", "6.2.0", "Intersect multiple sorted sets", movable = keyspec::numkeys_first),
    row!("zdiff", -3, READONLY, 0, 0, 0, Coordinated(super::zset::zdiff), ["read", "sortedset", "slow"], "sorted-set", "6.2.0", "Subtract multiple sorted sets", movable = keyspec::numkeys_first),
    row!("zunionstore", -4, WRITE | DENYOOM, 1, 1, 1, Coordinated(super::zset::zunionstore), ["write", "sortedset", "slow"], "sorted-set", "2.0.0", "Add multiple sorted sets and store the resulting sorted set in a new key", movable = keyspec::destination_then_numkeys),
    row!("zinterstore", -4, WRITE | DENYOOM, 1, 1, 1, Coordinated(super::zset::zinterstore), ["write", "sortedset", "slow"], "sorted-set", "2.0.0", "Intersect multiple sorted sets and store the resulting sorted set in a new key", movable = keyspec::destination_then_numkeys),
    row!("zdiffstore", -4, WRITE | DENYOOM, 1, 1, 1, Coordinated(super::zset::zdiffstore), ["write", "sortedset", "slow"], "sorted-set", "6.2.0", "Subtract multiple sorted sets and store the resulting sorted set in a new key", movable = keyspec::destination_then_numkeys),
    row!("zintercard", -3, READONLY, 0, 0, 0, Coordinated(super::zset::zintercard), ["read", "sortedset", "slow"], "sorted-set", "7.0.0", "Intersect multiple sorted sets and return the cardinality of the result", movable = keyspec::numkeys_first),
    // streams
    row!("xadd", -5, WRITE | DENYOOM | FAST, 1, 1, 1, Keyed(super::stream::xadd), ["write", "stream", "fast"], "stream", "5.0.0", "Appends a new entry to a stream"),
    row!("xlen", 2, READONLY | FAST, 1, 1, 1, Keyed(super::stream::xlen), ["read", "stream", "fast"], "stream", "5.0.0", "Return the number of entries in a stream"),
    row!("xrange", -4, READONLY, 1, 1, 1, Keyed(super::stream::xrange), ["read", "stream", "slow"], "stream", "5.0.0", "Return a range of elements in a stream, with IDs matching the specified IDs interval"),
    row!("xrevrange", -4, READONLY, 1, 1, 1, Keyed(super::stream::xrevrange), ["read", "stream", "slow"], "stream", "5.0.0", "Return a range of elements in a stream, with IDs matching the specified IDs interval, in reverse order (from greater to smaller IDs) compared to XRANGE"),
    row!("xdel", -3, WRITE | FAST, 1, 1, 1, Keyed(super::stream::xdel), ["write", "stream", "fast"], "stream", "5.0.0", "Removes the specified entries from the stream. Returns the number of items actually deleted, that may be different from the number of IDs passed in case certain IDs do not exist."),
    row!("xtrim", -4, WRITE, 1, 1, 1, Keyed(super::stream::xtrim), ["write", "stream", "slow"], "stream", "5.0.0", "Trims the stream to (approximately if '~' is passed) a certain size"),
    row!("xsetid", -3, WRITE | DENYOOM | FAST, 1, 1, 1, Keyed(super::stream::xsetid), ["write", "stream", "fast"], "stream", "5.0.0", "An internal command for replicating stream values"),
    row!("xread", -4, READONLY | BLOCKING, 0, 0, 0, MayBlock(super::stream::read::xread, super::stream::read::xread_spanning, super::stream::read::blocks, super::stream::wait::xread), ["read", "stream", "slow", "blocking"], "stream", "5.0.0", "Return never seen elements in multiple streams, with IDs greater than the ones reported by the caller for each stream. Can block.", movable = keyspec::streams_xread),
    row!("xreadgroup", -7, WRITE | BLOCKING, 0, 0, 0, MayBlock(super::stream::read::xreadgroup, super::stream::read::xread_spanning, super::stream::read::blocks, super::stream::wait::xread), ["write", "stream", "slow", "blocking"], "stream", "5.0.0", "Return new entries from a stream using a consumer group, or access the history of the pending entries for a given consumer. Can block.", movable = keyspec::streams_xreadgroup),
    row!("xgroup", -2, WRITE | DENYOOM, 2, 2, 1, Keyed(super::stream::group::xgroup), ["write", "stream", "slow"], "stream", "5.0.0", "A container for consumer groups commands"),
    row!("xack", -4, WRITE | FAST, 1, 1, 1, Keyed(super::stream::group::xack), ["write", "stream", "fast"], "stream", "5.0.0", "Marks a pending message as correctly processed, effectively removing it from the pending entries list of the consumer group. Return value of the command is the number of messages successfully acknowledged, that is, the IDs we were actually able to resolve in the PEL."),
    row!("xpending", -3, READONLY, 1, 1, 1, Keyed(super::stream::group::xpending), ["read", "stream", "slow"], "stream", "5.0.0", "Return information and entries from a stream consumer group pending entries list, that are messages fetched but never acknowledged."),
    row!("xclaim", -6, WRITE | FAST, 1, 1, 1, Keyed(super::stream::group::xclaim), ["write", "stream", "fast"], "stream", "5.0.0", "Changes (or acquires) ownership of a message in a consumer group, as if the message was delivered to the specified consumer."),
    row!("xautoclaim", -6, WRITE | FAST, 1, 1, 1, Keyed(super::stream::group::xautoclaim), ["write", "stream", "fast"], "stream", "6.2.0", "Changes (or acquires) ownership of messages in a consumer group, as if the messages were delivered to the specified consumer."),
    row!("xinfo", -2, READONLY, 2, 2, 1, Keyed(super::stream::info::xinfo), ["read", "stream", "slow"], "stream", "5.0.0", "A container for stream introspection commands"),
    // connection
    row!("ping", -1, FAST | SENTINEL | SUBSCRIBED | CONN_ONLY, 0, 0, 0, Local(connection::ping), ["fast", "connection"], "connection", "1.0.0", "Returns the server's liveliness response."),
    row!("echo", 2, FAST | CONN_ONLY, 0, 0, 0, Local(connection::echo), ["fast", "connection"], "connection", "1.0.0", "Returns the given string."),
    row!("quit", -1, ALLOW_BUSY | NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | NO_QUEUE | SUBSCRIBED, 0, 0, 0, Local(connection::quit), ["fast", "connection"], "connection", "1.0.0", "Closes the connection."),
    row!("reset", 1, NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY | NO_QUEUE | SUBSCRIBED, 0, 0, 0, Local(connection::reset), ["fast", "connection"], "connection", "6.2.0", "Resets the connection."),
    row!("auth", -2, NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | SENTINEL | ALLOW_BUSY, 0, 0, 0, Local(connection::auth), ["fast", "connection"], "connection", "1.0.0", "Authenticates the connection."),
    row!("hello", -1, NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | SENTINEL | ALLOW_BUSY, 0, 0, 0, Local(connection::hello), ["fast", "connection"], "connection", "6.0.0", "Handshakes with the Redis server."),
    row!("select", 2, LOADING | STALE | FAST | CONN_ONLY, 0, 0, 0, Local(connection::select), ["fast", "connection"], "connection", "1.0.0", "Changes the selected database."),
    row!("client", -2, NOSCRIPT | LOADING | STALE, 0, 0, 0, Coordinated(connection::client), ["slow", "connection"], "connection", "2.4.0", "A container for client connection commands."),
    // server
    row!("command", -1, LOADING | STALE, 0, 0, 0, Local(server::command), ["slow", "connection"], "server", "2.8.13", "Returns detailed information about all commands."),
    row!("info", -1, LOADING | STALE | SENTINEL, 0, 0, 0, Coordinated(server::info), ["slow", "dangerous"], "server", "1.0.0", "Returns information and statistics about the server."),
    row!("config", -2, ADMIN | NOSCRIPT | LOADING | STALE, 0, 0, 0, Coordinated(server::config), ["admin", "slow", "dangerous"], "server", "2.0.0", "A container for server configuration commands."),
    row!("time", 1, LOADING | STALE | FAST | CONN_ONLY, 0, 0, 0, Local(server::time), ["fast"], "server", "2.6.0", "Returns the server time."),
    row!("slowlog", -2, ADMIN | LOADING | STALE, 0, 0, 0, Coordinated(super::slowlog::slowlog), ["admin", "slow", "dangerous"], "server", "2.2.12", "A container for slow log commands"),
    row!("latency", -2, ADMIN | NOSCRIPT | LOADING | STALE, 0, 0, 0, Coordinated(super::latency::latency), ["admin", "slow", "dangerous"], "server", "2.8.13", "A container for latency diagnostics commands"),
    row!("memory", -2, READONLY, 2, 2, 1, Coordinated(super::memory::memory), ["read", "slow"], "server", "4.0.0", "A container for memory diagnostics commands"),
    row!("monitor", 1, ADMIN | NOSCRIPT | LOADING | STALE, 0, 0, 0, Local(super::monitor::monitor), ["admin", "slow", "dangerous"], "server", "1.0.0", "Listen for all requests received by the server in real time"),
    row!("shutdown", -1, ADMIN | NOSCRIPT | LOADING | STALE | NO_MULTI | SENTINEL | ALLOW_BUSY, 0, 0, 0, Local(server::shutdown), ["admin", "slow", "dangerous"], "server", "1.0.0", "Synchronously saves the database(s) to disk and shuts down the Redis server."),
    // pub/sub
    row!("subscribe", -2, PUBSUB | NOSCRIPT | LOADING | STALE | SUBSCRIBED, 0, 0, 0, Local(pubsub::subscribe), ["pubsub", "slow"], "pubsub", "2.0.0", "Listens for messages published to channels."),
    row!("unsubscribe", -1, PUBSUB | NOSCRIPT | LOADING | STALE | SUBSCRIBED, 0, 0, 0, Local(pubsub::unsubscribe), ["pubsub", "slow"], "pubsub", "2.0.0", "Stops listening to messages posted to channels."),
    row!("psubscribe", -2, PUBSUB | NOSCRIPT | LOADING | STALE | SUBSCRIBED, 0, 0, 0, Local(pubsub::psubscribe), ["pubsub", "slow"], "pubsub", "2.0.0", "Listens for messages published to channels that match one or more patterns."),
    row!("punsubscribe", -1, PUBSUB | NOSCRIPT | LOADING | STALE | SUBSCRIBED, 0, 0, 0, Local(pubsub::punsubscribe), ["pubsub", "slow"], "pubsub", "2.0.0", "Stops listening to messages published to channels that match one or more patterns."),
    row!("publish", 3, PUBSUB | LOADING | STALE | FAST | MAY_REPLICATE | PUBLISHES, 0, 0, 0, Local(pubsub::publish), ["pubsub", "fast"], "pubsub", "2.0.0", "Posts a message to a channel."),
    row!("pubsub", -2, PUBSUB | LOADING | STALE, 0, 0, 0, Local(pubsub::pubsub), ["pubsub", "slow"], "pubsub", "2.8.0", "A container for Pub/Sub commands."),
    row!("ssubscribe", -2, PUBSUB | NOSCRIPT | LOADING | STALE | SUBSCRIBED, 1, -1, 1, Local(pubsub::ssubscribe), ["pubsub", "slow"], "pubsub", "7.0.0", "Listens for messages published to shard channels."),
    row!("sunsubscribe", -1, PUBSUB | NOSCRIPT | LOADING | STALE | SUBSCRIBED, 1, -1, 1, Local(pubsub::sunsubscribe), ["pubsub", "slow"], "pubsub", "7.0.0", "Stops listening to messages posted to shard channels."),
    row!("spublish", 3, PUBSUB | LOADING | STALE | FAST | MAY_REPLICATE | PUBLISHES, 1, 1, 1, Local(pubsub::spublish), ["pubsub", "fast"], "pubsub", "7.0.0", "Post a message to a shard channel"),
    // transactions
    row!("multi", 1, NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY | NO_QUEUE, 0, 0, 0, Local(multi::multi), ["fast", "transaction"], "transactions", "1.2.0", "Starts a transaction."),
    row!("exec", 1, NOSCRIPT | LOADING | STALE | SKIP_SLOWLOG | NO_QUEUE, 0, 0, 0, Coordinated(multi::exec), ["slow", "transaction"], "transactions", "1.2.0", "Executes all commands in a transaction."),
    row!("discard", 1, NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY | NO_QUEUE, 0, 0, 0, Local(multi::discard), ["fast", "transaction"], "transactions", "2.0.0", "Discards a transaction."),
    row!("watch", -2, NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY | NO_QUEUE, 1, -1, 1, Coordinated(multi::watch), ["fast", "transaction"], "transactions", "2.2.0", "Monitors changes to keys to determine the execution of a transaction."),
    row!("unwatch", 1, NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY, 0, 0, 0, Local(multi::unwatch), ["fast", "transaction"], "transactions", "2.2.0", "Forgets about watched keys of a transaction."),
    // scripting and functions (rows owned by command/scripting.rs)
    row!("eval", -3, NOSCRIPT | STALE | SKIP_MONITOR | NO_MANDATORY_KEYS, 0, 0, 0, Coordinated(super::scripting::eval), ["slow", "scripting"], "scripting", "2.6.0", "Execute a Lua script server side", movable = keyspec::numkeys_second),
    row!("evalsha", -3, NOSCRIPT | STALE | SKIP_MONITOR | NO_MANDATORY_KEYS, 0, 0, 0, Coordinated(super::scripting::evalsha), ["slow", "scripting"], "scripting", "2.6.0", "Execute a Lua script server side", movable = keyspec::numkeys_second),
    row!("eval_ro", -3, READONLY | NOSCRIPT | STALE | SKIP_MONITOR | NO_MANDATORY_KEYS, 0, 0, 0, Coordinated(super::scripting::eval_ro), ["slow", "scripting"], "scripting", "7.0.0", "Execute a read-only Lua script server side", movable = keyspec::numkeys_second),
    row!("evalsha_ro", -3, READONLY | NOSCRIPT | STALE | SKIP_MONITOR | NO_MANDATORY_KEYS, 0, 0, 0, Coordinated(super::scripting::evalsha_ro), ["slow", "scripting"], "scripting", "7.0.0", "Execute a read-only Lua script server side", movable = keyspec::numkeys_second),
    row!("fcall", -3, NOSCRIPT | STALE | SKIP_MONITOR | NO_MANDATORY_KEYS, 0, 0, 0, Coordinated(super::scripting::fcall), ["slow", "scripting"], "scripting", "7.0.0", "Invoke a function", movable = keyspec::numkeys_second),
    row!("fcall_ro", -3, READONLY | NOSCRIPT | STALE | SKIP_MONITOR | NO_MANDATORY_KEYS, 0, 0, 0, Coordinated(super::scripting::fcall_ro), ["slow", "scripting"], "scripting", "7.0.0", "Invoke a read-only function", movable = keyspec::numkeys_second),
    row!("script", -2, NOSCRIPT | ALLOW_BUSY, 0, 0, 0, Coordinated(super::scripting::script), ["slow", "scripting"], "scripting", "2.6.0", "A container for Lua scripts management commands"),
    row!("function", -2, NOSCRIPT | ALLOW_BUSY, 0, 0, 0, Coordinated(super::scripting::function), ["slow", "scripting"], "scripting", "7.0.0", "A container for function commands"),
];

/// Finds a command by name, case-insensitively, without allocating.
pub fn lookup(name: &[u8]) -> Option<&'static CommandSpec> {
    let mut buf = [0u8; 32];
    if name.len() > buf.len() {
        return None;
    }
    let lower = &mut buf[..name.len()];
    lower.copy_from_slice(name);
    lower.make_ascii_lowercase();
    INDEX.with(|idx| idx.get(&*lower).copied())
}

thread_local! {
    static INDEX: hashbrown::HashMap<&'static [u8], &'static CommandSpec> =
        COMMANDS.iter().map(|c| (c.name.as_bytes(), c)).collect();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_lowercase() {
        let mut seen = std::collections::HashSet::new();
        for c in COMMANDS {
            assert_eq!(c.name, c.name.to_ascii_lowercase());
            assert!(seen.insert(c.name), "duplicate {}", c.name);
        }
    }

    #[test]
    fn lookup_ignores_case_and_indexes_match() {
        let get = lookup(b"GeT").unwrap();
        assert_eq!(get.name, "get");
        assert_eq!(COMMANDS[get.index()].name, "get");
        assert!(lookup(b"nosuchcommand").is_none());
    }

    #[test]
    fn single_key_pair_replies_are_keyed_so_they_batch() {
        for name in [
            "zrange",
            "zrevrange",
            "zrangebyscore",
            "zrevrangebyscore",
            "zrangebylex",
            "zrevrangebylex",
            "zpopmin",
            "zpopmax",
            "zrandmember",
            "hrandfield",
            "zscan",
        ] {
            let spec = lookup(name.as_bytes()).unwrap();
            assert!(matches!(spec.handler, Handler::Keyed(_)), "{name}");
        }
    }

    #[test]
    fn numkeys_commands_have_movable_keys() {
        let bytes = |v: &[&str]| -> Vec<Bytes> {
            v.iter()
                .map(|s| Bytes::copy_from_slice(s.as_bytes()))
                .collect()
        };
        let movable: Vec<&str> = COMMANDS
            .iter()
            .filter(|c| c.movable_keys.is_some())
            .map(|c| c.name)
            .collect();
        assert_eq!(
            movable,
            [
                "georadius",
                "georadiusbymember",
                "sort",
                "sort_ro",
                "lmpop",
                "blmpop",
                "sintercard",
                "zmpop",
                "bzmpop",
                "zunion",
                "zinter",
                "zdiff",
                "zunionstore",
                "zinterstore",
                "zdiffstore",
                "zintercard",
                "xread",
                "xreadgroup",
                "eval",
                "evalsha",
                "eval_ro",
                "evalsha_ro",
                "fcall",
                "fcall_ro"
            ]
        );
        let zunionstore = lookup(b"zunionstore").unwrap();
        assert_eq!(
            zunionstore.keys_of(&bytes(&["zunionstore", "d", "2", "a", "b"])),
            [1, 3, 4]
        );
        let lmpop = lookup(b"lmpop").unwrap();
        assert_eq!(
            lmpop.keys_of(&bytes(&["lmpop", "2", "a", "b", "LEFT"])),
            [2, 3]
        );
        let mset = lookup(b"mset").unwrap();
        assert_eq!(mset.keys_of(&bytes(&["mset", "a", "1", "b", "2"])), [1, 3]);
        assert!(lookup(b"get").unwrap().movable_keys.is_none());
    }

    #[test]
    fn key_positions_follow_first_last_step() {
        let mset = lookup(b"mset").unwrap();
        assert_eq!(mset.key_positions(5).collect::<Vec<_>>(), vec![1, 3]);
        let del = lookup(b"del").unwrap();
        assert_eq!(del.key_positions(4).collect::<Vec<_>>(), vec![1, 2, 3]);
        let obj = lookup(b"object").unwrap();
        assert_eq!(obj.key_positions(2).count(), 0);
        assert_eq!(obj.key_positions(3).collect::<Vec<_>>(), vec![2]);
        assert_eq!(lookup(b"ping").unwrap().key_positions(1).count(), 0);
    }
}
