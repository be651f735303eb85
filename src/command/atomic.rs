//! Atomic blocks: a MULTI/EXEC transaction or a script runs its commands one
//! after another while no other client can observe or change anything in
//! between, even when the keys live on several shards.
//!
//! A block claims every shard of the server as one multi-shard operation
//! (`runtime::Plan`, held), so it is ordered with every other multi-shard
//! operation and single-shard commands of other clients wait for its
//! release. Inside, each command runs where `command::place` puts it:
//!
//! * a single-shard command on this core's shard runs on the store at once;
//! * one on another shard is a step of the held operation (one hop);
//! * a command that spans shards runs its usual coordinated form, with the
//!   block as the `parent` of the multi-shard operation it starts
//!   (`Session::parent`), so that operation is granted inside the block's
//!   claims instead of queueing behind them.
//!
//! The cost is that a block spanning shards excludes everything else on
//! every shard for its duration; EXEC avoids it for transactions whose
//! commands each live on one shard (`command::multi`).

use std::rc::Rc;
use std::time::Instant;

use bytes::Bytes;

use super::errors;
use super::fanout::{self, Fanout};
use super::place::{self, Place};
use super::session::Session;
use super::table::{self, flags, CommandSpec};
use crate::keyspace::locks::Claim;
use crate::keyspace::slot::ShardId;
use crate::keyspace::store::Entry;
use crate::keyspace::tracking::Caller;
use crate::resp::Reply;
use crate::runtime::{Cmd, Done, Plan, TxId, Txn};
use crate::services::{Services, Shard};

pub struct Atomic {
    txn: Option<Txn<Services>>,
    /// The block that nested operations run inside: this one, or the
    /// outer block it runs in (EVAL queued in MULTI).
    parent: TxId,
    /// Holding only this core's shard, with an undo log (see `begin_local`).
    local: Option<Undo>,
}

/// What a run holding only one shard changed there, to put back if it
/// turns out to need more.
pub struct Undo {
    /// (db, key, entry before the first change) in change order.
    entries: Vec<(usize, Bytes, Option<Entry>)>,
    /// Keyspace events raised before the block began.
    events: usize,
    escalated: bool,
}

impl Undo {
    /// Starts noting changes made on this shard.
    pub fn new(sh: &Shard) -> Undo {
        Undo {
            entries: Vec::new(),
            events: sh.store.borrow().events.len(),
            escalated: false,
        }
    }

    pub fn escalated(&self) -> bool {
        self.escalated
    }

    /// Runs `cmd` (of `spec`, living on this shard: see [`here`]), noting
    /// what it may change first; when that cannot be noted, puts back every
    /// change noted so far and answers None (and None from then on). The
    /// caller holds the shard. The command's arguments come back with its
    /// reply, for accounting.
    pub fn call(
        &mut self,
        sh: &Shard,
        spec: &'static CommandSpec,
        cmd: Cmd,
    ) -> Option<(Done, Vec<Bytes>)> {
        if self.escalated {
            return None;
        }
        if spec.has(flags::WRITE) && !self.note(sh, cmd.db, spec, &cmd.args) {
            self.undo(sh);
            return None;
        }
        Some((sh.exec_held(&cmd), cmd.args))
    }

    /// Copies the entries `args` may change; false if one is too large.
    fn note(&mut self, sh: &Shard, db: usize, spec: &CommandSpec, args: &[Bytes]) -> bool {
        let store = sh.store.borrow();
        for p in spec.keys_of(args) {
            let key = &args[p];
            if self.entries.iter().any(|(d, k, _)| *d == db && k == key) {
                continue;
            }
            let entry = store.db_ref(db).peek(key).cloned();
            if entry
                .as_ref()
                .is_some_and(|e| e.value.heap_bytes() > UNDO_MAX_BYTES)
            {
                return false;
            }
            self.entries.push((db, key.clone(), entry));
        }
        true
    }

    /// Puts back every noted change and marks the run escalated.
    pub fn undo(&mut self, sh: &Shard) {
        self.escalated = true;
        let mut store = sh.store.borrow_mut();
        for (db, key, entry) in self.entries.drain(..).rev() {
            store.db(db).restore(&key, entry);
        }
        // Events of undone changes go; expirations happened regardless.
        let kept: Vec<_> = store
            .events
            .drain(self.events..)
            .filter(|e| e.class == crate::keyspace::notify::EXPIRED)
            .collect();
        store.events.extend(kept);
    }
}

/// Values up to this size are copied before a change; a change to a larger
/// one makes a local block escalate instead.
const UNDO_MAX_BYTES: usize = 64 << 10;

/// A command a one-shard block can run on this shard: a keyed command whose
/// keys all live here, as a command of `caller` in `db`. (Connection-only
/// commands are answered by the caller; anything else makes the block
/// escalate.)
pub fn here(
    sh: &Shard,
    spec: &'static CommandSpec,
    db: usize,
    caller: Caller,
    args: Vec<Bytes>,
    allow_oom: bool,
) -> Option<Cmd> {
    match place::place(sh, spec, &args, false) {
        Place::Shard(shard, run) if shard == sh.id => Some(Cmd {
            run,
            keys: spec.keys(&args),
            db,
            args,
            no_touch: false,
            caller,
            deny_oom: spec.has(flags::DENYOOM) && !allow_oom,
        }),
        _ => None,
    }
}

impl Atomic {
    /// Claims every shard for the caller until [`Atomic::end`].
    pub async fn begin(sh: &Rc<Shard>, s: &mut Session) -> Atomic {
        // Inside another block (EVAL queued in MULTI), the outer block holds
        // every shard: this one is granted inside it and commands spanning
        // shards run under the outer block's claims.
        let outer = s.parent;
        let mut plan = Plan::new(sh, outer);
        for id in sh.all_shards() {
            plan.part(id, Claim::Whole, |_: &Shard| ());
        }
        let txn = plan.hold().await;
        let parent = outer.unwrap_or(txn.id());
        s.parent = Some(parent);
        Atomic {
            txn: Some(txn),
            parent,
            local: None,
        }
    }

    /// Claims only this core's shard, for a script whose declared keys all
    /// live here. Its commands run as in a full block while they stay on
    /// this shard; the first one that would not (a key on another shard,
    /// a command spanning shards, PUBLISH …) puts back every change the
    /// block made and marks it escalated: the caller ends it and runs the
    /// work again under [`Atomic::begin`]. Nobody saw the changes, since
    /// the shard was held throughout.
    pub async fn begin_local(sh: &Rc<Shard>, s: &mut Session) -> Atomic {
        let mut plan = Plan::new(sh, s.parent);
        plan.part(sh.id, Claim::Whole, |_: &Shard| ());
        let txn = plan.hold().await;
        Atomic {
            parent: txn.id(),
            txn: Some(txn),
            local: Some(Undo::new(sh)),
        }
    }

    /// A local block met a command it cannot run; its changes are undone.
    pub fn escalated(&self) -> bool {
        self.local.as_ref().is_some_and(|u| u.escalated)
    }

    /// Runs one command inside the block. `args[0]` names a known command
    /// and the arity is valid (the caller checked). The reply is what a
    /// client would get.
    pub async fn call(&mut self, sh: &Rc<Shard>, s: &mut Session, args: Vec<Bytes>) -> Reply {
        let Some(spec) = table::row_of(&args) else {
            return super::errors::unknown_command(&args);
        };
        if let Some(undo) = &mut self.local {
            return local_call(sh, s, undo, spec, args);
        }
        let start = Instant::now();
        let (reply, args) = match place::place(sh, spec, &args, false) {
            Place::Connection(f) => (f(sh, s, &args), args),
            Place::Shard(shard, run) => {
                let cmd = place::cmd(run, spec, s, args);
                let (done, args) = self.on_shard(sh, shard, cmd).await;
                place::account(sh, s, spec, &args, done.took, &done.reply);
                return done.reply;
            }
            Place::Fanout(split) => {
                let member = Fanout {
                    spec,
                    args: args.clone(),
                    split,
                    caller: s.caller(spec),
                    no_touch: place::no_touch(s, spec),
                };
                let reply = fanout::run_group(sh, s.db, Some(self.parent), &[member])
                    .await
                    .pop()
                    .unwrap_or(Reply::Nil);
                (reply, args)
            }
            Place::Spanning(f, split) => (f(sh, s, args.clone(), split).await, args),
            Place::Coordinated(f) => (f(sh, s, args.clone()).await, args),
        };
        place::account(sh, s, spec, &args, start.elapsed(), &reply);
        reply
    }

    /// Runs `f` on `shard` inside the block.
    pub async fn on<T: Send + 'static>(
        &mut self,
        sh: &Rc<Shard>,
        shard: ShardId,
        f: impl FnOnce(&Shard) -> T + Send + 'static,
    ) -> T {
        if shard == sh.id {
            return f(sh);
        }
        let txn = self.txn.as_mut().expect("block is open");
        let out = txn.step(shard, f);
        txn.run().await;
        out.take()
    }

    /// Ends the block: every shard is released.
    pub fn end(mut self, s: &mut Session) {
        if let Some(txn) = self.txn.take() {
            if s.parent == Some(txn.id()) {
                s.parent = None;
            }
            txn.release();
        }
    }

    /// A single-shard command, on the shard that owns its keys; the command
    /// comes back with its reply.
    async fn on_shard(&mut self, sh: &Rc<Shard>, shard: ShardId, cmd: Cmd) -> (Done, Vec<Bytes>) {
        if shard == sh.id {
            let done = sh.exec_held(&cmd);
            return (done, cmd.args);
        }
        self.on(sh, shard, move |there: &Shard| {
            let done = there.exec_held(&cmd);
            (done, cmd.args)
        })
        .await
    }
}

/// A command of a one-shard block: run here when it stays on this shard,
/// else the block escalates.
fn local_call(
    sh: &Rc<Shard>,
    s: &mut Session,
    undo: &mut Undo,
    spec: &'static CommandSpec,
    args: Vec<Bytes>,
) -> Reply {
    if undo.escalated() {
        return Reply::error(errors::ESCALATED);
    }
    if let (Place::Connection(f), true) = (
        place::place(sh, spec, &args, false),
        spec.has(flags::CONN_ONLY),
    ) {
        let reply = f(sh, s, &args);
        place::account(sh, s, spec, &args, std::time::Duration::ZERO, &reply);
        return reply;
    }
    let Some(mut cmd) = here(sh, spec, s.db, s.caller(spec), args, s.allow_oom) else {
        undo.undo(sh);
        return Reply::error(errors::ESCALATED);
    };
    cmd.no_touch = place::no_touch(s, spec);
    match undo.call(sh, spec, cmd) {
        Some((done, args)) => {
            place::account(sh, s, spec, &args, done.took, &done.reply);
            done.reply
        }
        None => Reply::error(errors::ESCALATED),
    }
}
