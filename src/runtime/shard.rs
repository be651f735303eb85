//! One core's shard: its store, the key claims of multi-shard operations
//! on it, the tickets its tasks wait on, and its ends of the mesh.
//!
//! A `Shard` lives in its executor behind an `Rc`; it is `!Send` and only
//! its own core touches it. Connection tasks of the core run single-shard
//! commands on it inline, and use it as coordinator of remote and
//! multi-shard work; one receiver task per peer runs what the peers send;
//! one flusher task sends what this core posted (`mesh`).
//!
//! Single-shard commands of a batch run in order. A command whose key a
//! granted multi-shard writer holds stops its batch; the batch resumes,
//! still in order, when a claim is released. Clients blocked on keys are
//! served right after the command that filled the key, unless a claim
//! holds it (then at the release).

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::mesh::{Item, MeshEnds, Outbox, Packet};
use super::op::RemoteOp;
use super::tickets::{Awaiting, Delivery, Tickets};
use super::{Global, Hooks, TxId};
use crate::keyspace::blocked::{serve_ready, Answer};
use crate::keyspace::locks::Locks;
use crate::keyspace::slot::{ShardId, SlotTable};
use crate::keyspace::store::Store;
use crate::keyspace::tracking::Caller;
use crate::keyspace::KeyedFn;
use crate::resp::Reply;

/// Where a command's keys are among its arguments: positions `first`,
/// `first + step`, … below `end` (none when `first` is 0).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KeySpan {
    pub first: u32,
    pub end: u32,
    pub step: u32,
}

impl KeySpan {
    pub fn positions(self) -> impl Iterator<Item = usize> {
        (self.first as usize..self.end as usize).step_by(self.step.max(1) as usize)
    }
}

/// Where a command's keys are: a span, or the positions a command with
/// movable keys found (GEORADIUS … STORE).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Keys {
    Span(KeySpan),
    At(Box<[u32]>),
}

impl Default for Keys {
    fn default() -> Keys {
        Keys::Span(KeySpan::default())
    }
}

impl Keys {
    pub fn positions(&self) -> impl Iterator<Item = usize> + '_ {
        let (span, at) = match self {
            Keys::Span(s) => (Some(s.positions()), None),
            Keys::At(v) => (None, Some(v.iter().map(|&p| p as usize))),
        };
        span.into_iter().flatten().chain(at.into_iter().flatten())
    }
}

/// One single-shard command, ready to run on the shard owning its keys.
pub struct Cmd {
    pub run: KeyedFn,
    pub keys: Keys,
    pub db: usize,
    pub args: Vec<Bytes>,
    /// Lookups leave keys' access times alone (CLIENT NO-TOUCH).
    pub no_touch: bool,
    /// The client it runs for, and whether its keys are to be tracked
    /// for that client's cache (`keyspace::tracking`).
    pub caller: Caller,
    /// May grow memory (DENY_OOM): over `maxmemory` it first evicts, and
    /// is refused when nothing can be (`Store::room_for_write`).
    pub deny_oom: bool,
}

/// A command's reply and how long it ran, for the caller's accounting.
pub struct Done {
    pub reply: Reply,
    pub took: Duration,
}

impl Done {
    pub fn unavailable() -> Done {
        Done {
            reply: Reply::error(crate::errors::SHARD_UNAVAILABLE),
            took: Duration::ZERO,
        }
    }
}

enum ReplyTo {
    Remote(ShardId, u64),
    Local(u64),
}

/// A batch stopped at a command whose key a multi-shard writer holds.
struct PendingBatch {
    to: ReplyTo,
    cmds: Vec<Cmd>,
    done: Vec<Done>,
}

/// A granted intent's work.
pub(super) struct Grant<H> {
    origin: ShardId,
    ticket: u64,
    op: Box<dyn RemoteOp<H>>,
}

pub struct Shard<H> {
    pub id: ShardId,
    pub slots: SlotTable,
    pub store: RefCell<Store>,
    /// The layers above: their per-core state.
    pub host: H,
    pub(super) global: Arc<Global<H>>,
    pub(super) outbox: Outbox<H>,
    pub(super) tickets: RefCell<Tickets>,
    locks: RefCell<Locks<Grant<H>>>,
    pending: RefCell<VecDeque<PendingBatch>>,
    /// Answers for blocked clients, sent once the store is free.
    served: RefCell<Vec<(ShardId, u64, Answer)>>,
    next_txid: Cell<u64>,
}

impl<H: Hooks> Shard<H> {
    /// Builds the shard around `store` and spawns its receiver tasks and
    /// its flusher.
    pub fn start(
        id: ShardId,
        global: Arc<Global<H>>,
        store: Store,
        host: H,
        mesh: MeshEnds<H>,
    ) -> Rc<Self> {
        let shard = Rc::new(Shard {
            id,
            slots: global.slots.clone(),
            store: RefCell::new(store),
            host,
            outbox: Outbox::new(mesh.out.len()),
            tickets: RefCell::new(Tickets::default()),
            locks: RefCell::new(Locks::default()),
            pending: RefCell::new(VecDeque::new()),
            served: RefCell::new(Vec::new()),
            next_txid: Cell::new(1),
            global,
        });
        for (peer, rx) in mesh.ins.into_iter().enumerate() {
            let Some(rx) = rx else { continue };
            let sh = shard.clone();
            glommio::spawn_local(async move {
                while let Some(packet) = rx.recv().await {
                    sh.on_packet(ShardId(peer), packet);
                }
            })
            .detach();
        }
        let sh = shard.clone();
        let out = mesh.out;
        glommio::spawn_local(async move { sh.outbox.flush_forever(&out).await }).detach();
        shard
    }

    pub fn shards(&self) -> usize {
        self.slots.shards()
    }

    /// Every shard of the server, in order.
    pub fn all_shards(&self) -> impl Iterator<Item = ShardId> {
        (0..self.shards()).map(ShardId)
    }

    /// Packets and items this core has sent (hop statistics).
    pub fn sent(&self) -> (u64, u64) {
        (self.outbox.packets.get(), self.outbox.items.get())
    }

    /// True while a multi-shard operation holds the whole shard.
    pub fn is_held(&self) -> bool {
        self.locks.borrow().blocks_everything()
    }

    /// Does no multi-shard operation hold anything here?
    pub fn is_free(&self) -> bool {
        self.locks.borrow().is_empty()
    }

    /// Does a multi-shard operation hold any of `keys` here?
    pub fn holds_any(&self, keys: &[Bytes]) -> bool {
        let locks = self.locks.borrow();
        keys.iter().any(|k| held(&locks, k))
    }

    /// Must `cmd` wait for a multi-shard operation's claims?
    pub fn blocks(&self, cmd: &Cmd) -> bool {
        let locks = self.locks.borrow();
        !locks.is_empty() && blocked(&locks, cmd)
    }

    /// Batches and multi-shard steps waiting here for claimed keys.
    pub fn queue_depth(&self) -> usize {
        self.pending.borrow().len() + self.locks.borrow().waiting()
    }

    /// The cron's safety net: grants queued intents and forgets blocked
    /// clients and watches that ended.
    pub fn poll(self: &Rc<Self>) {
        self.poll_intents();
        {
            let mut store = self.store.borrow_mut();
            if !store.blocked.is_empty() {
                store.blocked.sweep();
            }
            if !store.watches.is_empty() {
                store.watches.sweep();
            }
        }
        self.serve_blocked();
    }

    // ---- running commands here ----------------------------------------

    /// Runs one command inline for a connection of this core (the caller
    /// checked `blocks`; the clock was refreshed when its read began).
    pub fn exec_inline(self: &Rc<Self>, cmd: &Cmd) -> Done {
        let done = exec_one::<H>(&mut self.store.borrow_mut(), cmd);
        self.serve_blocked();
        done
    }

    /// Runs one command for a multi-shard operation or an atomic block
    /// that holds this shard (no claim check; blocked clients are served
    /// at its release).
    pub fn exec_held(&self, cmd: &Cmd) -> Done {
        let mut store = self.store.borrow_mut();
        store.refresh_clock();
        exec_one::<H>(&mut store, cmd)
    }

    /// Runs single-shard commands on `shard` (this one or a peer, whose
    /// batch leaves with this turn's packet) and hands them back with their
    /// replies, in order.
    pub async fn run_batch(
        self: &Rc<Self>,
        shard: ShardId,
        cmds: Vec<Cmd>,
    ) -> (Vec<Cmd>, Vec<Done>) {
        let ticket = self.tickets.borrow_mut().open();
        if shard == self.id {
            self.start_batch(PendingBatch {
                to: ReplyTo::Local(ticket),
                cmds,
                done: Vec::new(),
            });
        } else {
            self.outbox.post(shard, Item::Batch { ticket, cmds });
        }
        match self.wait(ticket).await {
            Delivery::Batch(cmds, done) => (cmds, done),
            _ => (Vec::new(), Vec::new()),
        }
    }

    /// A ticket for a client about to block on keys: shards that serve it
    /// answer it (see `keyspace::blocked`).
    pub fn open_ticket(&self) -> u64 {
        self.tickets.borrow_mut().open()
    }

    /// What a blocked client was served with; dropping the future gives up
    /// the ticket (an answer arriving later is dropped).
    pub fn served(&self, ticket: u64) -> impl std::future::Future<Output = Answer> + '_ {
        let wait = self.wait(ticket);
        async move {
            match wait.await {
                Delivery::Served(a) => a,
                _ => Answer::Retry,
            }
        }
    }

    pub(super) fn wait(&self, ticket: u64) -> Awaiting<'_> {
        Awaiting::new(&self.tickets, ticket)
    }

    fn start_batch(self: &Rc<Self>, mut p: PendingBatch) {
        let done = self.advance(&mut p);
        if done {
            let delivery = Delivery::Batch(p.cmds, p.done);
            match p.to {
                ReplyTo::Remote(to, ticket) => self.answer(to, ticket, delivery),
                ReplyTo::Local(ticket) => self.tickets.borrow_mut().deliver(ticket, delivery),
            }
        } else {
            self.pending.borrow_mut().push_back(p);
        }
        self.serve_blocked();
    }

    /// Runs the rest of a batch until a command whose key is held; true
    /// when the whole batch has run.
    fn advance(&self, p: &mut PendingBatch) -> bool {
        let mut store = self.store.borrow_mut();
        store.refresh_clock();
        if p.cmds.len() - p.done.len() > 2 {
            // Look the keys up once ahead so their cache misses overlap.
            for cmd in &p.cmds[p.done.len()..] {
                if let Some(k) = cmd.keys.positions().next() {
                    store.warm(cmd.db, &cmd.args[k]);
                }
            }
        }
        let locks = self.locks.borrow();
        // One clock read per command: each ends where the next starts.
        let mut clock = Instant::now();
        while let Some(cmd) = p.cmds.get(p.done.len()) {
            if !locks.is_empty() && blocked(&locks, cmd) {
                return false;
            }
            p.done.push(exec_timed::<H>(&mut store, cmd, &mut clock));
            if store.blocked.has_ready() {
                let served = serve_ready(&mut store, |k| held(&locks, k));
                self.served.borrow_mut().extend(served);
            }
        }
        true
    }

    /// Serves clients blocked on keys that became ready and are not held,
    /// and passes on what the store raised.
    pub fn serve_blocked(&self) {
        self.after_work();
        {
            let mut store = self.store.borrow_mut();
            if store.blocked.has_ready() {
                let locks = self.locks.borrow();
                let served = serve_ready(&mut store, |k| held(&locks, k));
                self.served.borrow_mut().extend(served);
            }
        }
        if self.served.borrow().is_empty() {
            return;
        }
        // Pops made for blocked clients raise events too.
        self.after_work();
        let served = std::mem::take(&mut *self.served.borrow_mut());
        for (to, ticket, answer) in served {
            self.answer(to, ticket, Delivery::Served(answer));
        }
    }

    fn after_work(&self) {
        // An atomic block runs here: what it raised goes out at its release.
        if !self.is_held() {
            H::after_work(self);
        }
    }

    // ---- the mesh ---------------------------------------------------------

    fn on_packet(self: &Rc<Self>, from: ShardId, packet: Packet<H>) {
        H::before_work(self);
        for item in packet {
            match item {
                Item::Batch { ticket, cmds } => self.start_batch(PendingBatch {
                    to: ReplyTo::Remote(from, ticket),
                    cmds,
                    done: Vec::new(),
                }),
                Item::Step {
                    ticket,
                    txid,
                    op,
                    release,
                } => {
                    op.run(self);
                    self.answer(from, ticket, Delivery::Ran);
                    if release {
                        self.release(txid);
                    }
                }
                Item::Release { txid } => self.release(txid),
                Item::Run { op } => op.run(self),
                Item::Ask { ticket, op } => {
                    op.run(self);
                    self.answer(from, ticket, Delivery::Ran);
                }
                Item::Poll => self.poll_intents(),
                Item::Answer { ticket, delivery } => {
                    self.tickets.borrow_mut().deliver(ticket, delivery)
                }
            }
        }
        self.poll_intents();
        self.serve_blocked();
    }

    /// Delivers `delivery` to `ticket` of core `to` (this one, or with this
    /// turn's packet).
    pub(super) fn answer(&self, to: ShardId, ticket: u64, delivery: Delivery) {
        if to == self.id {
            self.tickets.borrow_mut().deliver(ticket, delivery);
        } else {
            self.outbox.post(to, Item::Answer { ticket, delivery });
        }
    }

    /// Runs `f` on core `to` (at once when it is this one, else with this
    /// turn's packet); nobody waits for it. For work whose only effect is
    /// on the receiver (messages to its connections).
    pub fn post_op(&self, to: ShardId, f: impl FnOnce(&Shard<H>) + Send + 'static) {
        if to == self.id {
            f(self);
        } else {
            self.outbox.post(
                to,
                Item::Run {
                    op: super::op::one_way(f),
                },
            );
        }
    }

    /// Runs `f` on core `to` as soon as it arrives, claiming nothing (not
    /// ordered with multi-shard operations, not held back by one holding
    /// that shard), and returns its result.
    pub async fn ask<T: Send + 'static>(
        self: &Rc<Self>,
        to: ShardId,
        f: impl FnOnce(&Shard<H>) -> T + Send + 'static,
    ) -> T {
        if to == self.id {
            return f(self);
        }
        let (op, out) = super::op::op(f);
        let ticket = self.tickets.borrow_mut().open();
        self.outbox.post(to, Item::Ask { ticket, op });
        self.wait(ticket).await;
        out.take()
    }

    pub(super) fn post(&self, to: ShardId, item: Item<H>) {
        self.outbox.post(to, item);
    }

    pub(super) fn next_txid(&self) -> TxId {
        let n = self.next_txid.get();
        self.next_txid.set(n + 1);
        TxId((self.id.0 as u64) << 48 | n)
    }

    // ---- multi-shard operations on this shard -----------------------------

    /// Takes queued intents in global order and runs what is granted.
    pub(super) fn poll_intents(self: &Rc<Self>) {
        while let Some(i) = self.global.sequencer.next(self.id) {
            if i.parent.is_some_and(|p| self.locks.borrow().holds(p.0)) {
                // Part of an atomic block holding this shard: it runs now
                // and claims nothing of its own.
                H::before_work(self);
                i.op.run(self);
                self.answer(i.origin, i.ticket, Delivery::Ran);
                continue;
            }
            let grant = Grant {
                origin: i.origin,
                ticket: i.ticket,
                op: i.op,
            };
            let grants = self
                .locks
                .borrow_mut()
                .add(i.txid.0, i.claim, !i.release, grant);
            self.run_grants(grants);
        }
    }

    /// Runs granted operations; readers give their claim back at once,
    /// which may grant more.
    fn run_grants(self: &Rc<Self>, mut grants: Vec<(u64, Grant<H>)>) {
        if grants.is_empty() {
            return;
        }
        H::before_work(self);
        while !grants.is_empty() {
            let mut next = Vec::new();
            for (txid, g) in grants {
                g.op.run(self);
                self.answer(g.origin, g.ticket, Delivery::Ran);
                if !self.locks.borrow().holds(txid) {
                    next.extend(self.locks.borrow_mut().release(txid));
                }
            }
            grants = next;
        }
        self.serve_blocked();
    }

    /// Ends operation `txid`'s claim here: stopped batches resume in
    /// arrival order, waiting intents are granted.
    pub(super) fn release(self: &Rc<Self>, txid: TxId) {
        // Its intent may still wait in the sequencer (an operation given up
        // right after it was scheduled): take it in first, so the release
        // finds it.
        self.poll_intents();
        let grants = self.locks.borrow_mut().release(txid.0);
        let stopped: Vec<PendingBatch> = self.pending.borrow_mut().drain(..).collect();
        for p in stopped {
            self.start_batch(p);
        }
        self.run_grants(grants);
        self.poll_intents();
        self.serve_blocked();
    }
}

/// Is `key` claimed by a granted multi-shard writer?
fn held<T>(locks: &Locks<T>, key: &[u8]) -> bool {
    !locks.is_empty() && (locks.blocks_everything() || locks.blocks(key))
}

fn blocked<T>(locks: &Locks<T>, cmd: &Cmd) -> bool {
    locks.blocks_everything() || cmd.keys.positions().any(|i| locks.blocks(&cmd.args[i]))
}

fn exec_one<H: Hooks>(store: &mut Store, cmd: &Cmd) -> Done {
    exec_timed::<H>(store, cmd, &mut Instant::now())
}

/// Runs `cmd`, timed from `clock`, which it leaves at its end.
fn exec_timed<H: Hooks>(store: &mut Store, cmd: &Cmd, clock: &mut Instant) -> Done {
    if cmd.deny_oom && store.memory.limit != 0 && !store.room_for_write() {
        let end = Instant::now();
        let took = end - *clock;
        *clock = end;
        return Done {
            reply: H::oom(),
            took,
        };
    }
    store.no_touch = cmd.no_touch;
    store.tracking.caller = cmd.caller;
    let reply = (cmd.run)(store, cmd.db, &cmd.args);
    if cmd.caller.track {
        for p in cmd.keys.positions() {
            store.tracking.remember(&cmd.args[p], cmd.caller);
        }
    }
    let end = Instant::now();
    let took = end - *clock;
    *clock = end;
    store.no_touch = false;
    store.tracking.caller = Caller::default();
    Done { reply, took }
}
