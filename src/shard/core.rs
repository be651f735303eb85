//! The per-core shard runtime: the store, this core's ends of the meshes, and
//! the grant/hold/release protocol for multi-shard operations.
//!
//! One `Shard` lives in each executor behind an `Rc`; it is `!Send` and only
//! its own core touches it. Connection tasks on the core use it for inline
//! execution and as coordinator of remote and multi-shard work; the mesh
//! receiver tasks feed it requests from other cores.
//!
//! Multi-shard protocol (the coordinator is the core of the client's
//! connection):
//!
//! ```text
//! coordinator: Sequencer::schedule(intent per shard: claim + first step) ── Wake ──► shards
//! shard:       intent granted when its claim (keys, or the whole shard) is free and
//!              no earlier waiting intent claims the same → run the first step → answer
//!              writer: keeps its claim (single-shard commands on those keys wait)
//!              reader: releases at once
//! coordinator: (all answered) → further Steps → Release ──► shards
//! shard:       Release → resume waiting batches → grant waiting intents
//! ```
//!
//! Intents are granted in the sequencer's global order wherever they
//! conflict, and a writer keeps its keys on every shard until each has run
//! its part, so no client can observe a multi-shard write half done and
//! readers see a consistent cut; operations on disjoint keys run side by
//! side (see `shard::locks`).

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

use futures::channel::oneshot;
use glommio::channels::shared_channel::{ConnectedReceiver, ConnectedSender};
use glommio::{GlommioError, ResourceType};

use super::blocked::serve_ready;
use super::locks::{Claim, Locks};
use super::router::{Cmd, Intent, Payload, Request, Response, Step, StepOut};
use super::slot::{ShardId, SlotTable};
use super::store::{EncodingLimits, Store};
use super::stream::NodeLimits;
use crate::clients::ClientInfo;
use crate::command::table::{self, Handler};
use crate::config::Config;
use crate::observe::{self, Call};
use crate::pubsub::Kind;
use crate::resp::Reply;
use crate::server::session::Session;
use crate::server::Shared;
use crate::stats::CoreStats;

enum ReplyTo {
    Remote(ShardId, u64),
    Local(oneshot::Sender<Vec<Reply>>),
}

/// A batch of single-shard commands stopped at a command whose key a
/// multi-shard operation holds; resumed when locks are released.
struct Pending {
    to: ReplyTo,
    cmds: Vec<Cmd>,
    replies: Vec<Reply>,
}

/// A granted intent's work.
struct Grant {
    origin: ShardId,
    reply: u64,
    step: Step,
}

pub struct Shard {
    pub id: ShardId,
    pub slots: SlotTable,
    pub shared: Arc<Shared>,
    pub store: RefCell<Store>,
    pub stats: RefCell<CoreStats>,
    /// Slow log, latency events and pending MONITOR lines of this core.
    pub observe: observe::Local,
    requests: Vec<Option<ConnectedSender<Request>>>,
    responses: Vec<Option<ConnectedSender<Response>>>,
    waiters: RefCell<HashMap<u64, oneshot::Sender<Payload>>>,
    next_reply: Cell<u64>,
    locks: RefCell<Locks<Grant>>,
    pending: RefCell<VecDeque<Pending>>,
    /// Answers for blocked clients, sent once the store is free.
    served: RefCell<Vec<(ShardId, u64, Payload)>>,
    next_txid: Cell<u64>,
    /// While an atomic block polls a command's future: the block's txid,
    /// so multi-shard operations the command starts run inside its claims
    /// (see `server::atomic`).
    pub parent: Cell<Option<u64>>,
    /// This core's connections, for CLIENT LIST/KILL and timeouts.
    pub clients: RefCell<HashMap<u64, Rc<RefCell<ClientInfo>>>>,
    config: RefCell<Rc<Config>>,
    config_gen: Cell<u64>,
    /// (time, total_commands) a second ago and now, for instantaneous_ops_per_sec.
    ops_samples: RefCell<VecDeque<(Instant, [u64; 3])>>,
}

/// This core's ends of both meshes, indexed by peer shard (None for itself).
pub struct MeshEnds {
    pub requests_out: Vec<Option<ConnectedSender<Request>>>,
    pub requests_in: Vec<Option<ConnectedReceiver<Request>>>,
    pub responses_out: Vec<Option<ConnectedSender<Response>>>,
    pub responses_in: Vec<Option<ConnectedReceiver<Response>>>,
}

impl Shard {
    /// Builds the shard and spawns its mesh receiver tasks.
    pub fn start(id: ShardId, shared: Arc<Shared>, mesh: MeshEnds) -> Rc<Shard> {
        let databases = shared.databases;
        let shard = Rc::new(Shard {
            id,
            slots: shared.slots.clone(),
            store: RefCell::new(Store::new(databases)),
            stats: RefCell::new(CoreStats::new(table::COMMANDS.len())),
            observe: observe::Local::default(),
            shared,
            requests: mesh.requests_out,
            responses: mesh.responses_out,
            waiters: RefCell::new(HashMap::new()),
            next_reply: Cell::new(1),
            locks: RefCell::new(Locks::default()),
            pending: RefCell::new(VecDeque::new()),
            served: RefCell::new(Vec::new()),
            next_txid: Cell::new(1),
            parent: Cell::new(None),
            clients: RefCell::new(HashMap::new()),
            config: RefCell::new(Rc::new(Config::default())),
            config_gen: Cell::new(u64::MAX),
            ops_samples: RefCell::new(VecDeque::new()),
        });
        shard.config();
        for (peer, rx) in mesh.requests_in.into_iter().enumerate() {
            let Some(rx) = rx else { continue };
            let sh = shard.clone();
            glommio::spawn_local(async move {
                while let Some(req) = rx.recv().await {
                    sh.on_request(ShardId(peer), req);
                }
            })
            .detach();
        }
        for rx in mesh.responses_in.into_iter().flatten() {
            let sh = shard.clone();
            glommio::spawn_local(async move {
                while let Some(resp) = rx.recv().await {
                    sh.complete(resp.reply, resp.payload);
                }
            })
            .detach();
        }
        shard
    }

    pub fn shards(&self) -> usize {
        self.slots.shards()
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
    pub fn holds_any(&self, keys: &[bytes::Bytes]) -> bool {
        let locks = self.locks.borrow();
        keys.iter().any(|k| held(&locks, k))
    }

    /// Must `cmd` wait for a multi-shard operation's locks?
    pub fn blocks(&self, cmd: &Cmd) -> bool {
        let locks = self.locks.borrow();
        !locks.is_empty() && blocked(&locks, cmd)
    }

    /// This core's copy of the configuration, refreshed when CONFIG SET has
    /// changed it (one relaxed load on the fast path).
    pub fn config(&self) -> Rc<Config> {
        let gen = self
            .shared
            .config_gen
            .load(std::sync::atomic::Ordering::Acquire);
        if gen != self.config_gen.get() {
            let fresh = self.shared.config_snapshot();
            {
                let mut st = self.store.borrow_mut();
                st.proto_max_bulk_len = fresh.proto_max_bulk_len;
                st.maxmemory_policy = fresh.maxmemory_policy.clone();
                st.notify_flags = super::notify::parse_flags(&fresh.notify_keyspace_events);
                st.limits = EncodingLimits {
                    hash_entries: fresh.hash_max_listpack_entries as usize,
                    hash_value: fresh.hash_max_listpack_value as usize,
                    set_intset_entries: fresh.set_max_intset_entries as usize,
                    set_entries: fresh.set_max_listpack_entries as usize,
                    set_value: fresh.set_max_listpack_value as usize,
                    zset_entries: fresh.zset_max_listpack_entries as usize,
                    zset_value: fresh.zset_max_listpack_value as usize,
                    stream_node: NodeLimits {
                        max_bytes: fresh.stream_node_max_bytes as usize,
                        max_entries: fresh.stream_node_max_entries as usize,
                    },
                };
            }
            self.observe.configure(&fresh);
            *self.config.borrow_mut() = Rc::new(fresh);
            self.config_gen.set(gen);
        }
        self.config.borrow().clone()
    }

    /// Grants any queued intents (the cron's safety net for a dropped
    /// wake-up) and forgets blocked clients and watches that ended.
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

    /// Batches and multi-shard steps waiting here for keys a multi-shard
    /// operation holds.
    pub fn queue_depth(&self) -> usize {
        self.pending.borrow().len() + self.locks.borrow().waiting()
    }

    pub fn sample_ops(&self) {
        let st = self.stats.borrow();
        let totals = [st.total_commands, st.net_input_bytes, st.net_output_bytes];
        drop(st);
        let mut s = self.ops_samples.borrow_mut();
        s.push_back((Instant::now(), totals));
        while s.len() > 2 && s[0].0.elapsed().as_millis() > 1000 {
            s.pop_front();
        }
    }

    /// Commands, input bytes and output bytes per second over the last
    /// second on this core.
    pub fn rates(&self) -> [f64; 3] {
        let s = self.ops_samples.borrow();
        match (s.front(), s.back()) {
            (Some(a), Some(b)) if b.0 > a.0 => {
                let secs = (b.0 - a.0).as_secs_f64();
                [0, 1, 2].map(|i| (b.1[i] - a.1[i]) as f64 / secs)
            }
            _ => [0.0; 3],
        }
    }

    /// Accounts a command that ran here: counters and histogram, slow log,
    /// latency events, MONITOR.
    pub fn account(
        &self,
        stats: &mut CoreStats,
        call: &Call,
        took: std::time::Duration,
        reply: &Reply,
    ) {
        stats.record(call.spec, took, reply);
        self.observe.account(&self.shared.observe, call, took);
    }

    pub fn close_all_clients(&self) {
        for c in self.clients.borrow().values() {
            c.borrow_mut().kill();
        }
    }

    // ---- execution on this shard -------------------------------------

    /// Runs the rest of a batch until a command whose key is held; true
    /// when the whole batch has run.
    fn advance(&self, p: &mut Pending) -> bool {
        // A CONFIG SET on another core reaches this store before it runs.
        self.config();
        let mut store = self.store.borrow_mut();
        store.refresh_clock();
        let locks = self.locks.borrow();
        let mut stats = self.stats.borrow_mut();
        let mut done = true;
        while let Some(cmd) = p.cmds.get(p.replies.len()) {
            if !locks.is_empty() && blocked(&locks, cmd) {
                done = false;
                break;
            }
            p.replies.push(exec_one(self, &mut store, &mut stats, cmd));
            if store.blocked.has_ready() {
                let served = serve_ready(&mut store, |k| held(&locks, k));
                self.served.borrow_mut().extend(served);
            }
        }
        done
    }

    /// Serves clients blocked on keys that became ready and are not held
    /// by a multi-shard operation, and sends them their answers.
    pub fn serve_blocked(self: &Rc<Self>) {
        self.publish_events();
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
        self.publish_events();
        let served = std::mem::take(&mut *self.served.borrow_mut());
        for (to, reply, payload) in served {
            self.respond(to, reply, payload);
        }
    }

    /// Publishes the keyspace events the store raised since the last call.
    pub fn publish_events(&self) {
        if self.store.borrow().events.is_empty() {
            return;
        }
        if self.is_held() {
            // An atomic block runs here: its events go out at its release
            // (and a block that escalates takes back those of its changes).
            return;
        }
        let events = std::mem::take(&mut self.store.borrow_mut().events);
        let flags = self.store.borrow().notify_flags;
        let limit = crate::command::pubsub::limit(self);
        let pubsub = &self.shared.pubsub;
        for e in events {
            if flags & super::notify::KEYSPACE != 0 {
                let mut channel = format!("__keyspace@{}__:", e.db).into_bytes();
                channel.extend_from_slice(&e.key);
                let event = bytes::Bytes::from_static(e.event.as_bytes());
                pubsub.publish(Kind::Channel, &channel.into(), &event, limit);
            }
            if flags & super::notify::KEYEVENT != 0 {
                let channel = format!("__keyevent@{}__:{}", e.db, e.event).into_bytes();
                pubsub.publish(Kind::Channel, &channel.into(), &e.key, limit);
            }
        }
    }

    /// Runs one command here on behalf of an atomic block that holds this
    /// shard (no lock check; blocked clients are served at its release).
    pub fn exec_held(&self, cmd: &Cmd) -> Reply {
        let mut store = self.store.borrow_mut();
        store.refresh_clock();
        exec_one(self, &mut store, &mut self.stats.borrow_mut(), cmd)
    }

    /// Runs one command inline for a local connection (the caller checked
    /// `blocks`); the store's clock was refreshed when its batch began.
    pub fn exec_inline(self: &Rc<Self>, cmd: &Cmd) -> Reply {
        let reply = exec_one(
            self,
            &mut self.store.borrow_mut(),
            &mut self.stats.borrow_mut(),
            cmd,
        );
        self.serve_blocked();
        reply
    }

    fn finish(self: &Rc<Self>, p: Pending) {
        match p.to {
            ReplyTo::Remote(from, reply) => self.respond(from, reply, Payload::Replies(p.replies)),
            ReplyTo::Local(done) => {
                let _ = done.send(p.replies);
            }
        }
    }

    fn start_batch(self: &Rc<Self>, mut p: Pending) {
        let done = self.advance(&mut p);
        // MONITOR lines go out before the replies, so a monitor sees a
        // client's commands in the order the client saw them answered.
        self.observe.flush(&self.shared.observe);
        if done {
            self.finish(p);
        } else {
            self.pending.borrow_mut().push_back(p);
        }
        self.serve_blocked();
    }

    fn on_request(self: &Rc<Self>, from: ShardId, req: Request) {
        match req {
            Request::Batch { reply, cmds } => {
                self.start_batch(Pending {
                    to: ReplyTo::Remote(from, reply),
                    cmds,
                    replies: Vec::new(),
                });
            }
            Request::Wake => {}
            Request::Step {
                reply,
                txid,
                step,
                release,
            } => {
                let out = step(self);
                self.respond(from, reply, Payload::Out(out));
                if release {
                    self.release(txid);
                }
            }
            Request::Release { txid } => self.release(txid),
        }
        self.poll_intents();
        self.serve_blocked();
    }

    /// Takes queued intents in global order and runs what is granted.
    fn poll_intents(self: &Rc<Self>) {
        while let Some(i) = self.shared.sequencer.next(self.id) {
            if i.parent.is_some_and(|p| self.locks.borrow().holds(p)) {
                // Part of an atomic block that holds this shard: it runs
                // now and claims nothing of its own.
                let out = (i.step)(self);
                self.respond(i.origin, i.reply, Payload::Out(out));
                continue;
            }
            let grant = Grant {
                origin: i.origin,
                reply: i.reply,
                step: i.step,
            };
            let grants = self
                .locks
                .borrow_mut()
                .add(i.txid, i.claim, !i.release, grant);
            self.run_grants(grants);
        }
    }

    /// Runs granted steps; readers give their claim back at once, which may
    /// grant more.
    fn run_grants(self: &Rc<Self>, mut grants: Vec<(u64, Grant)>) {
        if !grants.is_empty() {
            self.config();
        }
        while !grants.is_empty() {
            let mut next = Vec::new();
            for (txid, g) in grants {
                let out = (g.step)(self);
                self.respond(g.origin, g.reply, Payload::Out(out));
                if !self.locks.borrow().holds(txid) {
                    next.extend(self.locks.borrow_mut().release(txid));
                }
            }
            grants = next;
        }
        self.serve_blocked();
    }

    fn release(self: &Rc<Self>, txid: u64) {
        let grants = self.locks.borrow_mut().release(txid);
        // Resume stopped batches in arrival order; each may stop again.
        let stopped: Vec<Pending> = self.pending.borrow_mut().drain(..).collect();
        for p in stopped {
            self.start_batch(p);
        }
        self.run_grants(grants);
        self.poll_intents();
        self.serve_blocked();
    }

    fn respond(self: &Rc<Self>, to: ShardId, reply: u64, payload: Payload) {
        if to == self.id {
            self.complete(reply, payload);
            return;
        }
        let sender = self.responses[to.0].as_ref().expect("mesh to every peer");
        if let Err(GlommioError::WouldBlock(ResourceType::Channel(resp))) =
            sender.try_send(Response { reply, payload })
        {
            // The peer's response queue is full; it always drains, so a
            // waiting send finishes. Never block this (synchronous) path.
            let sh = self.clone();
            glommio::spawn_local(async move {
                let _ = sh.responses[to.0].as_ref().expect("mesh").send(resp).await;
            })
            .detach();
        }
    }

    fn complete(&self, reply: u64, payload: Payload) {
        if let Some(w) = self.waiters.borrow_mut().remove(&reply) {
            let _ = w.send(payload);
        }
    }

    /// A reply id on this core and the receiver its payload arrives on.
    pub fn waiter(&self) -> (u64, oneshot::Receiver<Payload>) {
        let id = self.next_reply.get();
        self.next_reply.set(id + 1);
        let (tx, rx) = oneshot::channel();
        self.waiters.borrow_mut().insert(id, tx);
        (id, rx)
    }

    /// Drops a reply id nobody will answer any more.
    pub fn forget(&self, reply: u64) {
        self.waiters.borrow_mut().remove(&reply);
    }

    /// Marks the client blocked (or not) for CLIENT LIST, INFO and the
    /// idle timeout.
    pub fn set_blocked(&self, s: &Session, blocked: bool) {
        s.info.borrow_mut().blocked = blocked;
        let mut stats = self.stats.borrow_mut();
        if blocked {
            stats.blocked_clients += 1;
        } else {
            stats.blocked_clients -= 1;
        }
    }

    // ---- coordinator side ---------------------------------------------

    /// Runs single-shard commands on `shard` (this one or a peer) and
    /// returns their replies in order; one message per call.
    pub async fn run_batch(self: &Rc<Self>, shard: ShardId, cmds: Vec<Cmd>) -> Vec<Reply> {
        if shard == self.id {
            let (done, rx) = oneshot::channel();
            self.start_batch(Pending {
                to: ReplyTo::Local(done),
                cmds,
                replies: Vec::new(),
            });
            return rx.await.unwrap_or_default();
        }
        let (reply, rx) = self.waiter();
        let sender = self.requests[shard.0].as_ref().expect("mesh to every peer");
        if sender.send(Request::Batch { reply, cmds }).await.is_err() {
            return Vec::new();
        }
        match rx.await {
            Ok(Payload::Replies(r)) => r,
            _ => Vec::new(),
        }
    }

    /// Starts a multi-shard operation that claims the whole of each shard.
    pub async fn begin(
        self: &Rc<Self>,
        steps: Vec<(ShardId, Step)>,
        hold: bool,
    ) -> (Txn, Vec<StepOut>) {
        let parts = steps
            .into_iter()
            .map(|(s, step)| (s, Claim::Whole, step))
            .collect();
        self.begin_claims(parts, hold).await
    }

    /// Starts a multi-shard operation: each step runs once its shard grants
    /// the claim, in global order. With `hold`, every claim stays held until
    /// [`Txn::step`] with release or [`Txn::release`]. At most one part per
    /// shard. Returns the steps' outputs in the order given.
    pub async fn begin_claims(
        self: &Rc<Self>,
        parts: Vec<(ShardId, Claim, Step)>,
        hold: bool,
    ) -> (Txn, Vec<StepOut>) {
        let txid = self.next_txid.get();
        self.next_txid.set(txid + 1);
        let txid = (self.id.0 as u64) << 48 | txid;
        let mut intents = Vec::with_capacity(parts.len());
        let mut waits = Vec::with_capacity(parts.len());
        let mut shards = Vec::with_capacity(parts.len());
        let parent = self.parent.get();
        for (shard, claim, step) in parts {
            let (reply, rx) = self.waiter();
            intents.push((
                shard,
                Intent {
                    origin: self.id,
                    reply,
                    txid,
                    claim,
                    step,
                    release: !hold,
                    parent,
                },
            ));
            waits.push(rx);
            shards.push(shard);
        }
        self.shared.sequencer.schedule(intents);
        let mut local = false;
        for &s in &shards {
            if s == self.id {
                local = true;
            } else if let Some(tx) = &self.requests[s.0] {
                // A full queue means the peer has work queued and will poll
                // its intents after it, so dropping the wake-up is safe.
                let _ = tx.try_send(Request::Wake);
            }
        }
        if local {
            self.poll_intents();
        }
        let outs = collect(waits).await;
        let txn = Txn {
            txid,
            shards: if hold { shards } else { Vec::new() },
        };
        (txn, outs)
    }

    /// Sends a request without waiting: queued in a task if the peer's
    /// queue is full (it always drains).
    fn send_now(self: &Rc<Self>, to: ShardId, req: Request) {
        let sender = self.requests[to.0].as_ref().expect("mesh to every peer");
        if let Err(GlommioError::WouldBlock(ResourceType::Channel(req))) = sender.try_send(req) {
            let sh = self.clone();
            glommio::spawn_local(async move {
                let _ = sh.requests[to.0].as_ref().expect("mesh").send(req).await;
            })
            .detach();
        }
    }

    /// Every shard of the server, in order (for all-shard operations).
    pub fn all_shards(&self) -> impl Iterator<Item = ShardId> {
        (0..self.shards()).map(ShardId)
    }

    /// Runs `f` once on every shard as one ordered read-only operation and
    /// returns the outputs by shard.
    pub async fn on_every_shard<T: Send + 'static>(
        self: &Rc<Self>,
        f: impl Fn(&Shard) -> T + Send + Sync + Clone + 'static,
    ) -> Vec<T> {
        let steps = self
            .all_shards()
            .map(|s| {
                let f = f.clone();
                (
                    s,
                    Box::new(move |sh: &Shard| Box::new(f(sh)) as StepOut) as Step,
                )
            })
            .collect();
        let (_, outs) = self.begin(steps, false).await;
        outs.into_iter()
            .map(|o| *o.downcast::<T>().expect("step output type"))
            .collect()
    }
}

/// A multi-shard operation holding its claims.
pub struct Txn {
    txid: u64,
    shards: Vec<ShardId>,
}

impl Txn {
    pub fn id(&self) -> u64 {
        self.txid
    }

    /// Runs further steps on held shards; with `release`, ends the operation
    /// (shards without a step are released too).
    pub async fn step(
        mut self,
        sh: &Rc<Shard>,
        steps: Vec<(ShardId, Step)>,
        release: bool,
    ) -> (Option<Txn>, Vec<StepOut>) {
        let mut waits = Vec::with_capacity(steps.len());
        let stepped: Vec<ShardId> = steps.iter().map(|(s, _)| *s).collect();
        for (shard, step) in steps {
            let (reply, rx) = sh.waiter();
            waits.push(rx);
            if shard == sh.id {
                let out = step(sh);
                sh.complete(reply, Payload::Out(out));
                if release {
                    sh.release(self.txid);
                }
            } else {
                sh.send_now(
                    shard,
                    Request::Step {
                        reply,
                        txid: self.txid,
                        step,
                        release,
                    },
                );
            }
        }
        let rest = if release {
            self.shards.retain(|s| !stepped.contains(s));
            self.release(sh).await;
            None
        } else {
            Some(self)
        };
        (rest, collect(waits).await)
    }

    /// Ends the operation on every shard it holds, without waiting.
    pub async fn release(self, sh: &Rc<Shard>) {
        for shard in self.shards {
            if shard == sh.id {
                sh.release(self.txid);
            } else {
                sh.send_now(shard, Request::Release { txid: self.txid });
            }
        }
    }
}

async fn collect(waits: Vec<oneshot::Receiver<Payload>>) -> Vec<StepOut> {
    let mut outs = Vec::with_capacity(waits.len());
    for w in waits {
        match w.await {
            Ok(Payload::Out(o)) => outs.push(o),
            _ => outs.push(Box::new(()) as StepOut),
        }
    }
    outs
}

/// Is `key` claimed by a multi-shard operation?
fn held(locks: &Locks<Grant>, key: &[u8]) -> bool {
    !locks.is_empty() && (locks.blocks_everything() || locks.blocks(key))
}

fn blocked(locks: &Locks<Grant>, cmd: &Cmd) -> bool {
    locks.blocks_everything()
        || cmd
            .spec
            .key_positions(cmd.args.len())
            .any(|i| locks.blocks(&cmd.args[i]))
}

fn exec_one(sh: &Shard, store: &mut Store, stats: &mut CoreStats, cmd: &Cmd) -> Reply {
    // CLIENT NO-TOUCH: lookups leave access times alone, except TOUCH's.
    store.no_touch = cmd.no_touch && cmd.spec.name != "touch";
    let start = Instant::now();
    let reply = match cmd.spec.handler {
        Handler::Keyed(f) | Handler::Multi(f, _) | Handler::Fanout(f, _) => {
            f(store, cmd.db, &cmd.args)
        }
        _ => Reply::error("ERR internal: command is not single-shard"),
    };
    let took = start.elapsed();
    store.no_touch = false;
    let call = Call {
        spec: cmd.spec,
        args: &cmd.args,
        db: cmd.db,
        client: cmd.client,
    };
    sh.account(stats, &call, took, &reply);
    reply
}
