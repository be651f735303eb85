//! Atomic blocks: a MULTI/EXEC transaction or a script runs its commands one
//! after another while no other client can observe or change anything in
//! between, even when the keys live on several shards.
//!
//! A block claims every shard of the server as one multi-shard operation
//! (`Shard::begin`, held), so it is ordered with every other multi-shard
//! operation and single-shard commands of other clients wait for its
//! release. Inside, each command runs where it would normally run:
//!
//! * a single-shard command on this core's shard runs on the store at once;
//! * one on another shard is a step of the held operation (one hop);
//! * a command that spans shards runs its usual coordinated form, polled
//!   with `Shard::parent` set to the block, so the multi-shard operation it
//!   starts is granted inside the block's claims instead of queueing behind
//!   them (see `Shard::poll_intents`).
//!
//! The cost is that a block spanning shards excludes everything else on
//! every shard for its duration; EXEC avoids it for transactions whose
//! commands each live on one shard (`command::multi`).

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use futures::future::LocalBoxFuture;

use super::dispatch;
use super::session::Session;
use crate::command::fanout::{self, Fanout};
use crate::command::table::{self, flags, Handler};
use crate::resp::Reply;
use crate::shard::core::{Shard, Txn};
use crate::shard::router::{Cmd, Step, StepOut};
use crate::shard::slot::ShardId;
use crate::shard::store::Entry;

pub struct Atomic {
    txn: Option<Txn>,
    txid: u64,
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

/// The reply a command of an escalated block gets (the run is void).
const ESCALATED: &str = "ERR the script needs every shard";

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

    /// Runs `cmd` here if all its keys live on this shard, noting what it
    /// may change; otherwise puts back every change noted so far and
    /// answers None (and None from then on). The caller holds the shard.
    pub fn call(&mut self, sh: &Shard, cmd: Cmd) -> Option<Reply> {
        if self.escalated {
            return None;
        }
        let spec = cmd.spec;
        let here = match spec.handler {
            Handler::Keyed(_) => spec
                .key_positions(cmd.args.len())
                .next()
                .is_none_or(|p| sh.slots.shard_of(&cmd.args[p]) == sh.id),
            Handler::Multi(..) | Handler::Fanout(..) => {
                dispatch::single_shard(sh, spec, &cmd.args) == Some(sh.id)
            }
            _ => false,
        };
        if !here || (spec.has(flags::WRITE) && !self.note(sh, cmd.db, spec, &cmd.args)) {
            self.undo(sh);
            return None;
        }
        Some(sh.exec_held(&cmd))
    }

    /// Copies the entries `args` may change; false if one is too large.
    fn note(&mut self, sh: &Shard, db: usize, spec: &table::CommandSpec, args: &[Bytes]) -> bool {
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
    fn undo(&mut self, sh: &Shard) {
        self.escalated = true;
        let mut store = sh.store.borrow_mut();
        for (db, key, entry) in self.entries.drain(..).rev() {
            store.db(db).restore(&key, entry);
        }
        // Events of undone changes go; expirations happened regardless.
        let kept: Vec<_> = store
            .events
            .drain(self.events..)
            .filter(|e| e.class == crate::shard::notify::EXPIRED)
            .collect();
        store.events.extend(kept);
    }
}

/// Values up to this size are copied before a change; a change to a larger
/// one makes a local block escalate instead.
const UNDO_MAX_BYTES: usize = 64 << 10;

/// Commands without keys a local block may run: they have no effect
/// outside the connection.
fn harmless(name: &str) -> bool {
    matches!(name, "ping" | "echo" | "select" | "time")
}

impl Atomic {
    /// Claims every shard for the caller until [`Atomic::end`].
    pub async fn begin(sh: &Rc<Shard>, _s: &mut Session) -> Atomic {
        let steps = sh
            .all_shards()
            .map(|id| (id, Box::new(|_: &Shard| Box::new(()) as StepOut) as Step))
            .collect();
        // Inside another block (EVAL queued in MULTI), the outer block holds
        // every shard: commands spanning shards run under its claims.
        let outer = sh.parent.get();
        let (txn, _) = sh.begin(steps, true).await;
        Atomic {
            txid: outer.unwrap_or(txn.id()),
            txn: Some(txn),
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
    pub async fn begin_local(sh: &Rc<Shard>, _s: &mut Session) -> Atomic {
        let step = Box::new(|_: &Shard| Box::new(()) as StepOut) as Step;
        let (txn, _) = sh.begin(vec![(sh.id, step)], true).await;
        Atomic {
            txid: txn.id(),
            txn: Some(txn),
            local: Some(Undo::new(sh)),
        }
    }

    /// A local block met a command it cannot run; its changes are undone.
    pub fn escalated(&self) -> bool {
        self.local.as_ref().is_some_and(|u| u.escalated)
    }

    /// In a local block: runs `args` if it stays on this shard (noting
    /// what it changes), else undoes the block and escalates.
    fn local_call(&mut self, sh: &Rc<Shard>, s: &mut Session, args: Vec<Bytes>) -> Reply {
        let Some(spec) = table::lookup(&args[0]) else {
            return crate::command::errors::unknown_command(&args);
        };
        if let Handler::Local(f) = spec.handler {
            if harmless(spec.name) {
                let reply = f(sh, s, &args);
                dispatch::account(sh, s, spec, &args, std::time::Duration::ZERO, &reply);
                return reply;
            }
        }
        let undo = self.local.as_mut().expect("local block");
        undo.call(sh, dispatch::cmd(spec, s, args))
            .unwrap_or_else(|| Reply::error(ESCALATED))
    }

    /// Runs one command inside the block. `args[0]` names a known command
    /// and the arity is valid (the caller checked). The reply is what a
    /// client would get.
    pub async fn call(&mut self, sh: &Rc<Shard>, s: &mut Session, args: Vec<Bytes>) -> Reply {
        if let Some(undo) = &self.local {
            if undo.escalated {
                return Reply::error(ESCALATED);
            }
            return self.local_call(sh, s, args);
        }
        let Some(spec) = table::lookup(&args[0]) else {
            return crate::command::errors::unknown_command(&args);
        };
        match spec.handler {
            Handler::Local(f) => {
                let start = Instant::now();
                let reply = f(sh, s, &args);
                dispatch::account(sh, s, spec, &args, start.elapsed(), &reply);
                reply
            }
            Handler::Keyed(_) => {
                let shard = spec
                    .key_positions(args.len())
                    .next()
                    .map_or(sh.id, |p| sh.slots.shard_of(&args[p]));
                self.on_shard(sh, shard, dispatch::cmd(spec, s, args)).await
            }
            Handler::Multi(_, spanning) => match dispatch::single_shard(sh, spec, &args) {
                Some(shard) => self.on_shard(sh, shard, dispatch::cmd(spec, s, args)).await,
                None => self.nested(sh, s, spec, spanning, args).await,
            },
            Handler::Fanout(f, merge) => match dispatch::single_shard(sh, spec, &args) {
                Some(shard) => self.on_shard(sh, shard, dispatch::cmd(spec, s, args)).await,
                None => {
                    let start = Instant::now();
                    let db = s.db;
                    let member = Fanout {
                        spec,
                        f,
                        merge,
                        args: args.clone(),
                    };
                    let group = [member];
                    let run = Box::pin(fanout::run_group(sh, db, &group));
                    let reply = Under::new(sh, self.txid, run)
                        .await
                        .pop()
                        .unwrap_or(Reply::Nil);
                    dispatch::account(sh, s, spec, &args, start.elapsed(), &reply);
                    reply
                }
            },
            Handler::Coordinated(f) => self.nested(sh, s, spec, f, args).await,
        }
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
        let txn = self.txn.take().expect("block is open");
        let step: Step = Box::new(move |there: &Shard| Box::new(f(there)) as StepOut);
        let (txn, mut outs) = txn.step(sh, vec![(shard, step)], false).await;
        self.txn = txn;
        *outs
            .pop()
            .and_then(|o| o.downcast::<T>().ok())
            .expect("step output type")
    }

    /// Ends the block: every shard is released.
    pub async fn end(mut self, sh: &Rc<Shard>, _s: &mut Session) {
        if let Some(txn) = self.txn.take() {
            txn.release(sh).await;
        }
    }

    /// A single-shard command, on the shard that owns its keys.
    async fn on_shard(
        &mut self,
        sh: &Rc<Shard>,
        shard: ShardId,
        cmd: crate::shard::router::Cmd,
    ) -> Reply {
        if shard == sh.id {
            return sh.exec_held(&cmd);
        }
        let txn = self.txn.take().expect("block is open");
        let step: Step = Box::new(move |there: &Shard| Box::new(there.exec_held(&cmd)) as StepOut);
        let (txn, mut outs) = txn.step(sh, vec![(shard, step)], false).await;
        self.txn = txn;
        outs.pop()
            .and_then(|o| o.downcast::<Reply>().ok())
            .map_or_else(|| Reply::error("ERR shard unavailable"), |r| *r)
    }

    /// A coordinated command, run inside the block's claims.
    async fn nested(
        &mut self,
        sh: &Rc<Shard>,
        s: &mut Session,
        spec: &'static table::CommandSpec,
        f: table::CoordFn,
        args: Vec<Bytes>,
    ) -> Reply {
        let start = Instant::now();
        let reply = Under::new(sh, self.txid, f(sh, s, args.clone())).await;
        dispatch::account(sh, s, spec, &args, start.elapsed(), &reply);
        reply
    }
}

/// Polls a command's future with `Shard::parent` set to the block, so the
/// multi-shard operations it starts run inside the block's claims. Other
/// tasks of the core are polled with no parent.
struct Under<'a, T> {
    sh: &'a Shard,
    txid: u64,
    fut: LocalBoxFuture<'a, T>,
}

impl<'a, T> Under<'a, T> {
    fn new(sh: &'a Shard, txid: u64, fut: LocalBoxFuture<'a, T>) -> Self {
        Under { sh, txid, fut }
    }
}

impl<T> Future for Under<'_, T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let this = &mut *self;
        let before = this.sh.parent.replace(Some(this.txid));
        let out = this.fut.as_mut().poll(cx);
        this.sh.parent.set(before);
        out
    }
}
