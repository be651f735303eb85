//! Where a command runs: the one placement function, driven by the command
//! table. Dispatch, MULTI/EXEC, scripts and blocking pops all ask it, so a
//! command runs in the same place whoever sends it; each key's shard is
//! computed here once per request and handed on ([`Split`]).
//!
//! * [`Place::Connection`] — no keys: the connection's core, its session.
//! * [`Place::Shard`] — every key on one shard: inline when that is this
//!   core's, else one hop (batched with the turn's other hops).
//! * [`Place::Fanout`] — a multi-key command whose keys span shards and
//!   whose keyed handler runs on each shard's share (MGET, MSET, DEL …).
//! * [`Place::Coordinated`] — the command's coordinated form: several hops
//!   or every shard (spanning RENAME, KEYS, FLUSHALL, blocking pops, EVAL).

use std::time::Duration;

use bytes::Bytes;

use super::session::Session;
use super::table::{flags, CommandSpec, CoordFn, Handler, SpanFn};
use crate::keyspace::slot::ShardId;
use crate::keyspace::KeyedFn;
use crate::observe::Call;
use crate::resp::Reply;
use crate::runtime::Cmd;
use crate::services::Shard;

pub enum Place {
    Connection(super::table::LocalFn),
    Shard(ShardId, KeyedFn),
    Fanout(Split),
    Coordinated(CoordFn),
    /// A multi-key command spanning shards, with its keys' shards.
    Spanning(SpanFn, Split),
}

/// The owning shard of each key argument of one request, computed once.
#[derive(Clone, Debug, Default)]
pub struct Split {
    /// (argument position, owning shard), in argument order.
    pub keys: Vec<(usize, ShardId)>,
}

impl Split {
    /// The shards of the arguments at `positions`.
    pub fn of(sh: &Shard, args: &[Bytes], positions: impl Iterator<Item = usize>) -> Split {
        Split {
            keys: positions
                .map(|p| (p, sh.slots.shard_of(&args[p])))
                .collect(),
        }
    }

    /// The one shard every key lives on, if there is one (None without
    /// keys).
    pub fn single(&self) -> Option<ShardId> {
        let first = self.keys.first()?.1;
        self.keys.iter().all(|k| k.1 == first).then_some(first)
    }

    /// The shard of the key at argument position `pos`.
    pub fn shard_at(&self, pos: usize) -> Option<ShardId> {
        self.keys.iter().find(|k| k.0 == pos).map(|k| k.1)
    }

    /// The keys at argument positions `from` and after, with their shards.
    pub fn keys_from(&self, args: &[Bytes], from: usize) -> Vec<(Bytes, ShardId)> {
        self.keys
            .iter()
            .filter(|k| k.0 >= from)
            .map(|&(p, s)| (args[p].clone(), s))
            .collect()
    }

    /// The key at argument position `pos` with its shard (this core's when
    /// `pos` is no key).
    pub fn key_at(&self, sh: &Shard, args: &[Bytes], pos: usize) -> (Bytes, ShardId) {
        let shard = self
            .shard_at(pos)
            .unwrap_or_else(|| sh.slots.shard_of(&args[pos]));
        (args[pos].clone(), shard)
    }

    /// Argument positions per shard, shards in first-seen order.
    pub fn shares(&self) -> Vec<(ShardId, Vec<usize>)> {
        let mut out: Vec<(ShardId, Vec<usize>)> = Vec::new();
        for &(pos, shard) in &self.keys {
            match out.iter_mut().find(|(s, _)| *s == shard) {
                Some((_, v)) => v.push(pos),
                None => out.push((shard, vec![pos])),
            }
        }
        out
    }
}

/// Where `args` (a known command with a valid arity) runs; `may_wait`:
/// its connection may block (it is not inside MULTI or a script).
pub fn place(sh: &Shard, spec: &'static CommandSpec, args: &[Bytes], may_wait: bool) -> Place {
    match spec.handler {
        Handler::MayBlock(_, _, blocks, wait) if may_wait && blocks(args) => {
            Place::Coordinated(wait)
        }
        Handler::Local(f) => Place::Connection(f),
        // `table::resolve` only hands a container over with no subcommand,
        // which its arity refuses first.
        Handler::Container => Place::Connection(|_, _, a| super::errors::wrong_arity(a)),
        Handler::Coordinated(f) => Place::Coordinated(f),
        Handler::Keyed(run) => {
            let shard = spec
                .key_positions(args.len())
                .next()
                .map_or(sh.id, |p| sh.slots.shard_of(&args[p]));
            Place::Shard(shard, run)
        }
        Handler::Multi(run, spanning) | Handler::MayBlock(run, spanning, ..) => {
            let split = Split::of(sh, args, spec.keys_of(args).into_iter());
            match split.single() {
                Some(shard) => Place::Shard(shard, run),
                None if split.keys.is_empty() => Place::Shard(sh.id, run),
                None => Place::Spanning(spanning, split),
            }
        }
        Handler::Fanout(run, _) => {
            let split = Split::of(sh, args, spec.key_positions(args.len()));
            match split.single() {
                Some(shard) => Place::Shard(shard, run),
                None if split.keys.is_empty() => Place::Shard(sh.id, run),
                None => Place::Fanout(split),
            }
        }
    }
}

/// Whether a command of row `spec` leaves access times alone: CLIENT
/// NO-TOUCH (except TOUCH itself), or a row that never touches.
pub fn no_touch(s: &Session, spec: &CommandSpec) -> bool {
    (s.no_touch && !spec.has(flags::TOUCHES)) || spec.has(flags::LEAVES_IDLE)
}

/// `args` as a single-shard command of session `s`, run by `run`.
pub fn cmd(run: KeyedFn, spec: &'static CommandSpec, s: &Session, args: Vec<Bytes>) -> Cmd {
    Cmd {
        run,
        keys: spec.keys(&args),
        db: s.db,
        args,
        // CLIENT NO-TOUCH leaves access times alone, except TOUCH's own.
        no_touch: no_touch(s, spec),
        caller: s.caller(spec),
        deny_oom: spec.has(flags::DENYOOM) && !s.allow_oom,
    }
}

/// Accounts a command of connection `s` (statistics, slow log, latency
/// events, MONITOR), wherever it ran: always on the connection's core.
pub fn account(
    sh: &Shard,
    s: &Session,
    spec: &'static CommandSpec,
    args: &[Bytes],
    took: Duration,
    reply: &Reply,
) {
    let call = Call {
        spec,
        args,
        db: s.db,
        client: s.id,
        from_script: crate::script::running_for(s.id),
    };
    sh.host.account(&call, took, reply);
}

/// MONITOR's line for a script command (EVAL, EVALSHA, FCALL and their
/// read-only forms) as it starts: their rows skip the usual one, which
/// would come after the lines of the commands they call.
pub fn monitor_script(sh: &Shard, s: &Session, spec: &'static CommandSpec, args: &[Bytes]) {
    let call = Call {
        spec,
        args,
        db: s.db,
        client: s.id,
        from_script: false,
    };
    sh.host.observe.feed_start(&sh.host.shared.observe, &call);
}
