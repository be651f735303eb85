//! THE command table: one row per command and one per subcommand
//! (`client|list`, `config|get` …, as in Redis 7.0), from which
//! placement, arity errors, `COMMAND` and its subcommands, ACL categories,
//! per-command statistics, latency histograms and the names SLOWLOG,
//! MONITOR and CLIENT LIST show all derive. The facts of each row (arity,
//! flags, ACL categories, key specs, tips, since, summary) are Redis
//! 7.0's; the rows are in `table/rows.rs`.
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
//! * `Container` — CLIENT, CONFIG …: [`resolve`] picks the subcommand's
//!   row before anything is checked, as Redis's `lookupCommand` does.
//!
//! A row with `getkeys = f` has keys that move with its arguments (a count
//! of keys, SORT's STORE destination): `f` (see `command::keyspec`) is
//! COMMAND GETKEYS's fallback when the key specs do not fit. Such a
//! command is coordinated and routes its keys itself, except a `Multi` one
//! (GEORADIUS's STORE), which is placed by every key `f` finds.

use bytes::Bytes;
use futures::future::LocalBoxFuture;
use std::rc::Rc;

use super::keyspec::{self, KeysFn};
use super::place::Split;
use super::session::Session;
pub use crate::keyspace::KeyedFn;
use crate::resp::Reply;
use crate::runtime::{KeySpan, Keys};
use crate::services::Shard;

pub type LocalFn = fn(&Rc<Shard>, &mut Session, &[Bytes]) -> Reply;
pub type CoordFn =
    for<'a> fn(&'a Rc<Shard>, &'a mut Session, Vec<Bytes>) -> LocalBoxFuture<'a, Reply>;
/// The flags a command runs with, when they depend on its arguments or its
/// connection (`CommandSpec::flags_fn`).
pub type FlagsFn = fn(&Shard, &Session, &CommandSpec, &[Bytes]) -> u32;
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
    /// A container (CLIENT, CONFIG …): its subcommand rows run; named
    /// alone it only answers its arity error.
    Container,
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
    pub const NO_ASYNC_LOADING: u32 = 1 << 18;

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
    /// Refused between MULTI and EXEC, it discards the transaction with
    /// `-EXECABORT` naming why (EXEC).
    pub const ABORTS_MULTI: u32 = 1 << 29;
    /// Leaves CLIENT CACHING's choice for the command after it (the CLIENT
    /// subcommands).
    pub const KEEPS_CACHING: u32 = 1 << 30;
    /// Looks its keys up without touching their access time (Redis's
    /// LOOKUP_NOTOUCH: TTL, TYPE, EXISTS, OBJECT …), so OBJECT IDLETIME
    /// is left alone.
    pub const LEAVES_IDLE: u32 = 1 << 31;

    /// Names as `COMMAND INFO` prints them, in Redis's order (it hides
    /// `may_replicate` and `sentinel`; `movablekeys`, derived from the key
    /// specs, goes between `no_multi` and `allow_busy`).
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
        (NO_MANDATORY_KEYS, "no_mandatory_keys"),
        (NO_ASYNC_LOADING, "no_async_loading"),
        (NO_MULTI, "no_multi"),
    ];
}

pub struct CommandSpec {
    /// Lowercase, as Redis reports it: `get`, or `client|list` for a
    /// subcommand.
    pub name: &'static str,
    /// Redis arity: n = exactly n arguments (with the name), -n = at least n.
    pub arity: i32,
    pub flags: u32,
    /// The legacy key range `COMMAND INFO` shows, derived from the key
    /// specs (`keyspec::legacy_range`); routing reads it.
    pub first_key: i32,
    /// Negative counts from the end (-1 = last argument).
    pub last_key: i32,
    pub step: i32,
    /// Redis's `movablekeys`: the key specs do not say every key's place.
    pub movablekeys: bool,
    /// For commands whose keys move with their arguments: where they are
    /// (Redis's `getkeys_proc`). Routing of `Multi` rows and `COMMAND
    /// GETKEYS`'s fallback use it.
    pub movable_keys: Option<KeysFn>,
    /// For a key spec with `variable_flags` (SET, BITFIELD): the key's
    /// flags for these arguments.
    pub key_flags: Option<fn(&[Bytes]) -> u16>,
    /// For a command whose flags depend on what it runs (a script's
    /// shebang, EXEC's queue): its flags for these arguments (Redis's
    /// `getCommandFlags`).
    pub flags_fn: Option<FlagsFn>,
    pub handler: Handler,
    /// ACL categories without the '@', in Redis's order.
    pub acl: &'static [&'static str],
    pub group: &'static str,
    pub since: &'static str,
    pub summary: &'static str,
    pub tips: &'static [&'static str],
    pub key_specs: &'static [KeySpec],
    /// A container's subcommand rows (`client|list` …); empty otherwise.
    pub subcommands: &'static [CommandSpec],
}

impl CommandSpec {
    /// Position among [`all`] rows, for per-command statistics arrays.
    pub fn index(&'static self) -> usize {
        let at = self as *const CommandSpec as usize;
        let size = std::mem::size_of::<CommandSpec>();
        let base = COMMANDS.as_ptr() as usize;
        if at >= base && at < base + std::mem::size_of_val(COMMANDS) {
            return (at - base) / size;
        }
        SUBCOMMAND_BASES.with(|bases| {
            bases
                .iter()
                .find(|&&(start, len, _)| at >= start && at < start + len * size)
                .map_or(0, |&(start, _, first)| first + (at - start) / size)
        })
    }

    pub fn has(&self, flag: u32) -> bool {
        self.flags & flag != 0
    }

    /// The flags `args` runs with for connection `s`: the row's, or what
    /// its flags function makes of them.
    pub fn flags_for(&self, sh: &Shard, s: &Session, args: &[Bytes]) -> u32 {
        match self.flags_fn {
            Some(f) => f(sh, s, self, args),
            None => self.flags,
        }
    }

    /// The name a container's subcommand goes by in error texts (`client|kill`)
    /// and in statistics (`client|list`) is its own; this is the part after
    /// the container's.
    pub fn container(&self) -> Option<&'static str> {
        self.name.split_once('|').map(|(c, _)| c)
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
    /// movable or not, as routing finds them.
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

    /// Redis's `doesCommandHaveKeys`: a key function, or a key spec of
    /// something that is a key.
    pub fn has_keys(&self) -> bool {
        self.movable_keys.is_some()
            || self.key_flags.is_some()
            || self.key_specs.iter().any(|k| k.flags & kf::NOT_KEY == 0)
    }

    /// The keys of `args` and their flags, as `COMMAND GETKEYSANDFLAGS`
    /// answers (Redis's `getKeysFromCommandWithSpecs`): the key specs when
    /// they fit, else the key function. None: no valid key list.
    pub fn keys_and_flags(&self, args: &[Bytes]) -> Option<Vec<(usize, u16)>> {
        let variable = self
            .key_specs
            .iter()
            .any(|k| k.flags & kf::VARIABLE_FLAGS != 0);
        if !variable && self.key_specs.iter().any(|k| k.flags & kf::NOT_KEY == 0) {
            if let Some(keys) = keyspec::keys_by_specs(self.key_specs, args) {
                return Some(keys);
            }
        }
        if let Some(flags) = self.key_flags {
            return Some(vec![(self.first_key as usize, flags(args))]);
        }
        let f = self.movable_keys?;
        // Redis's key functions give flags only where a spec cannot; the
        // first spec's are the best guess for the rest.
        let flags = self.key_specs.first().map_or(0, |k| k.flags);
        let keys = f(args);
        (!keys.is_empty()).then(|| keys.into_iter().map(|p| (p, flags)).collect())
    }
}

use keyspec::{kf, KeySpec};

/// One table row: name, arity, flags, handler, group, since, summary, then
/// the ACL categories and, where the command has them, its key specs,
/// tips, key function (`getkeys`, see `command::keyspec`), key flags
/// function, flags function and subcommand rows.
macro_rules! row {
    ($name:literal, $arity:expr, $flags:expr, $handler:expr, $group:literal, $since:literal, $summary:literal,
     acl = [$($acl:literal),*] $(, keys = [$($ks:expr),*])? $(, tips = [$($tip:literal),*])?
     $(, getkeys = $keys:expr)? $(, key_flags = $kflags:expr)? $(, flags_fn = $ffn:expr)?
     $(, subs = $subs:expr)?) => {{
        const KEY_SPECS: &[KeySpec] = &[$($($ks),*)?];
        const LEGACY: (i32, i32, i32, bool) = keyspec::legacy_range(KEY_SPECS);
        CommandSpec {
            name: $name, arity: $arity, flags: $flags,
            first_key: LEGACY.0, last_key: LEGACY.1, step: LEGACY.2, movablekeys: LEGACY.3,
            movable_keys: row!(@opt $($keys)?), key_flags: row!(@opt $($kflags)?),
            flags_fn: row!(@opt $($ffn)?),
            handler: $handler, acl: &[$($acl),*], group: $group, since: $since, summary: $summary,
            tips: &[$($($tip),*)?], key_specs: KEY_SPECS, subcommands: row!(@subs $($subs)?),
        }
    }};
    (@opt) => { None };
    (@opt $v:expr) => { Some($v) };
    (@subs) => { &[] };
    (@subs $v:expr) => { $v };
}

mod rows;
pub use rows::*;

/// Every row: the commands, then each container's subcommands, in table
/// order (the order of [`CommandSpec::index`]).
pub fn all() -> impl Iterator<Item = &'static CommandSpec> {
    COMMANDS
        .iter()
        .chain(COMMANDS.iter().flat_map(|c| c.subcommands.iter()))
}

/// How many rows [`all`] has.
pub fn row_count() -> usize {
    SUBCOMMAND_BASES.with(|b| {
        b.last()
            .map_or(COMMANDS.len(), |&(_, len, first)| first + len)
    })
}

/// Finds a command by name, case-insensitively, without allocating; a
/// subcommand by its full name (`client|list`) only with `full`.
fn find(name: &[u8], full: bool) -> Option<&'static CommandSpec> {
    let mut buf = [0u8; 48];
    if name.len() > buf.len() || (!full && name.contains(&b'|')) {
        return None;
    }
    let lower = &mut buf[..name.len()];
    lower.copy_from_slice(name);
    lower.make_ascii_lowercase();
    INDEX.with(|idx| idx.get(&*lower).copied())
}

/// A command (not a subcommand) by name, case-insensitively.
pub fn lookup(name: &[u8]) -> Option<&'static CommandSpec> {
    find(name, false)
}

/// A command or a subcommand by its full name (`config|get`), as COMMAND
/// INFO, COMMAND DOCS and LATENCY HISTOGRAM take them.
pub fn lookup_full(name: &[u8]) -> Option<&'static CommandSpec> {
    find(name, true)
}

/// What a request names.
pub enum Resolved {
    /// The row that runs it: the command's, or its subcommand's.
    Row(&'static CommandSpec),
    /// No such command.
    Unknown,
    /// A container command with a subcommand it does not have.
    UnknownSubcommand,
}

/// The row that runs `args` (Redis's `lookupCommand`): a container named
/// alone is its own row (so its arity error names it), else its
/// subcommand's.
pub fn resolve(args: &[Bytes]) -> Resolved {
    let Some(spec) = lookup(&args[0]) else {
        return Resolved::Unknown;
    };
    if spec.subcommands.is_empty() || args.len() < 2 {
        return Resolved::Row(spec);
    }
    let sub = &args[1];
    match spec
        .subcommands
        .iter()
        .find(|s| s.name.as_bytes()[spec.name.len() + 1..].eq_ignore_ascii_case(sub))
    {
        Some(s) => Resolved::Row(s),
        None => Resolved::UnknownSubcommand,
    }
}

/// The row that runs `args`, if any ([`resolve`] without the reason).
pub fn row_of(args: &[Bytes]) -> Option<&'static CommandSpec> {
    match resolve(args) {
        Resolved::Row(spec) => Some(spec),
        _ => None,
    }
}

thread_local! {
    static INDEX: hashbrown::HashMap<&'static [u8], &'static CommandSpec> =
        all().map(|c| (c.name.as_bytes(), c)).collect();
    /// (address, length, first index) of each container's subcommand rows.
    static SUBCOMMAND_BASES: Vec<(usize, usize, usize)> = {
        let mut first = COMMANDS.len();
        COMMANDS
            .iter()
            .filter(|c| !c.subcommands.is_empty())
            .map(|c| {
                let base = (c.subcommands.as_ptr() as usize, c.subcommands.len(), first);
                first += c.subcommands.len();
                base
            })
            .collect()
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_lowercase_and_subcommands_name_their_container() {
        let mut seen = std::collections::HashSet::new();
        for c in all() {
            assert_eq!(c.name, c.name.to_ascii_lowercase());
            assert!(seen.insert(c.name), "duplicate {}", c.name);
        }
        for c in COMMANDS {
            for sub in c.subcommands {
                assert_eq!(sub.container(), Some(c.name), "{}", sub.name);
                assert!(sub.subcommands.is_empty());
            }
        }
    }

    #[test]
    fn lookup_ignores_case_and_indexes_match() {
        let get = lookup(b"GeT").unwrap();
        assert_eq!(get.name, "get");
        assert_eq!(COMMANDS[get.index()].name, "get");
        assert!(lookup(b"nosuchcommand").is_none());
        assert!(lookup(b"client|list").is_none());
        assert_eq!(lookup_full(b"CLIENT|List").unwrap().name, "client|list");
        for (i, c) in all().enumerate() {
            assert_eq!(c.index(), i, "{}", c.name);
        }
        assert_eq!(row_count(), all().count());
    }

    #[test]
    fn requests_resolve_to_their_subcommand_rows() {
        let row = |v: &[&str]| row_of(&crate::command::test_args(v)).map(|c| c.name);
        assert_eq!(row(&["CLIENT", "LIST"]), Some("client|list"));
        assert_eq!(row(&["config", "GET", "x"]), Some("config|get"));
        assert_eq!(row(&["client"]), Some("client"));
        assert_eq!(row(&["command"]), Some("command"));
        assert_eq!(row(&["get", "list"]), Some("get"));
        assert!(matches!(
            resolve(&crate::command::test_args(&["client", "nope"])),
            Resolved::UnknownSubcommand
        ));
        assert!(matches!(
            resolve(&crate::command::test_args(&["nope"])),
            Resolved::Unknown
        ));
    }

    /// Redis 7.0.15's COMMAND INFO first/last/step and movablekeys.
    #[test]
    fn legacy_ranges_derive_from_key_specs_as_in_redis() {
        let legacy = |n: &str| {
            let c = lookup_full(n.as_bytes()).unwrap();
            (c.first_key, c.last_key, c.step, c.movablekeys)
        };
        assert_eq!(legacy("get"), (1, 1, 1, false));
        assert_eq!(legacy("mset"), (1, -1, 2, false));
        assert_eq!(legacy("blpop"), (1, -2, 1, false));
        assert_eq!(legacy("sort"), (1, 1, 1, true));
        assert_eq!(legacy("zunionstore"), (1, 1, 1, true));
        assert_eq!(legacy("lmove"), (1, 2, 1, false));
        assert_eq!(legacy("eval"), (0, 0, 0, true));
        assert_eq!(legacy("xread"), (0, 0, 0, true));
        assert_eq!(legacy("georadius"), (1, 1, 1, true));
        assert_eq!(legacy("object"), (0, 0, 0, false));
        assert_eq!(legacy("object|encoding"), (2, 2, 1, false));
        assert_eq!(legacy("ssubscribe"), (1, -1, 1, false));
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
        let obj = lookup_full(b"object|encoding").unwrap();
        assert_eq!(obj.key_positions(3).collect::<Vec<_>>(), vec![2]);
        assert_eq!(lookup(b"object").unwrap().key_positions(3).count(), 0);
        assert_eq!(lookup(b"ping").unwrap().key_positions(1).count(), 0);
    }
}
