//! Runs one read's worth of requests for a connection and encodes their
//! replies in request order.
//!
//! Each request is resolved against the command table. Commands without
//! keys run here at once; single-shard commands run inline when their shard
//! is this core's, else join the one batch per destination shard that is
//! sent when the read's requests are exhausted. A coordinated command (keys
//! on several shards, or all shards) first waits for everything before it,
//! so a connection always observes its own commands in order.

use std::rc::Rc;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use futures::future::join_all;

use super::session::{ReplyMode, Session};
use crate::command::errors;
use crate::command::fanout::{self, Fanout};
use crate::command::table::{self, flags, CommandSpec, CoordFn, Handler};
use crate::command::{multi, pubsub};
use crate::observe::Call;
use crate::resp::{encode, Proto, Reply};
use crate::shard::core::Shard;
use crate::shard::router::Cmd;
use crate::shard::slot::ShardId;

struct Slot {
    reply: Option<Reply>,
    proto: Proto,
    send: bool,
}

enum Route {
    Done(Reply),
    Shard(ShardId, Cmd),
    Fanout(Fanout),
    Coordinated(&'static CommandSpec, CoordFn, Vec<Bytes>),
}

/// Consecutive spanning fanout commands waiting to run as one operation.
#[derive(Default)]
struct Group {
    idxs: Vec<usize>,
    members: Vec<Fanout>,
}

impl Group {
    async fn flush(&mut self, sh: &Rc<Shard>, db: usize, client: u64, slots: &mut [Slot]) {
        if self.members.is_empty() {
            return;
        }
        let start = Instant::now();
        let members = std::mem::take(&mut self.members);
        let replies = fanout::run_group(sh, db, &members).await;
        let took = start.elapsed() / members.len() as u32;
        let mut stats = sh.stats.borrow_mut();
        for ((i, reply), m) in self.idxs.drain(..).zip(replies).zip(&members) {
            let call = Call {
                spec: m.spec,
                args: &m.args,
                db,
                client,
            };
            sh.account(&mut stats, &call, took, &reply);
            slots[i].reply = Some(reply);
        }
        drop(stats);
        sh.store.borrow_mut().refresh_clock();
    }
}

/// Batches waiting to be sent, one per shard, with their reply slots.
struct Outgoing {
    per_shard: Vec<(Vec<usize>, Vec<Cmd>)>,
}

impl Outgoing {
    fn new(shards: usize) -> Outgoing {
        Outgoing {
            per_shard: (0..shards).map(|_| (Vec::new(), Vec::new())).collect(),
        }
    }

    fn is_empty(&self) -> bool {
        self.per_shard.iter().all(|(i, _)| i.is_empty())
    }

    /// Sends every batch, one message per shard, and waits for all replies.
    async fn flush(&mut self, sh: &Rc<Shard>, slots: &mut [Slot]) {
        if self.is_empty() {
            return;
        }
        let mut sends = Vec::new();
        for (shard, (idxs, cmds)) in self.per_shard.iter_mut().enumerate() {
            if idxs.is_empty() {
                continue;
            }
            let (idxs, cmds) = (std::mem::take(idxs), std::mem::take(cmds));
            if shard != sh.id.0 {
                sh.stats.borrow_mut().hops += 1;
            }
            sends.push(async move { (idxs, sh.run_batch(ShardId(shard), cmds).await) });
        }
        for (idxs, replies) in join_all(sends).await {
            let mut replies = replies.into_iter();
            for i in idxs {
                slots[i].reply = Some(
                    replies
                        .next()
                        .unwrap_or_else(|| Reply::error("ERR shard unavailable")),
                );
            }
        }
    }
}

pub async fn run(sh: &Rc<Shard>, s: &mut Session, reqs: Vec<Vec<Bytes>>, out: &mut BytesMut) {
    let mut slots: Vec<Slot> = Vec::with_capacity(reqs.len());
    let mut outgoing = Outgoing::new(sh.shards());
    let mut group = Group::default();
    let mut group_db = s.db;
    // Once one local command had to queue behind a multi-shard operation,
    // the following local ones queue too, to keep their order.
    let mut local_queued = false;
    let mut last_cmd = "NULL";
    sh.store.borrow_mut().refresh_clock();
    for args in reqs {
        if s.close {
            break;
        }
        let idx = slots.len();
        // CLIENT REPLY: OFF and SKIP silence what follows; ON, sent while
        // OFF, is answered.
        let before = s.reply_mode;
        if before == ReplyMode::Skip {
            s.reply_mode = ReplyMode::On;
        }
        slots.push(Slot {
            reply: None,
            proto: s.proto,
            send: true,
        });
        if sh.shared.pause.maybe_on() {
            wait_for_unpause(sh, &args).await;
        }
        let route = route(sh, s, args);
        if !matches!(route, Route::Fanout(_) | Route::Done(_)) || s.db != group_db {
            group.flush(sh, group_db, s.id, &mut slots).await;
        }
        match route {
            Route::Done(reply) => slots[idx].reply = Some(reply),
            Route::Fanout(f) => {
                last_cmd = f.spec.name;
                if group.members.is_empty() {
                    outgoing.flush(sh, &mut slots).await;
                    local_queued = false;
                    group_db = s.db;
                }
                group.idxs.push(idx);
                group.members.push(f);
            }
            Route::Shard(shard, cmd) => {
                last_cmd = cmd.spec.name;
                if shard == sh.id && !local_queued && !sh.blocks(&cmd) {
                    slots[idx].reply = Some(sh.exec_inline(&cmd));
                } else {
                    local_queued |= shard == sh.id;
                    let (idxs, cmds) = &mut outgoing.per_shard[shard.0];
                    idxs.push(idx);
                    cmds.push(cmd);
                }
            }
            Route::Coordinated(spec, f, args) => {
                last_cmd = spec.name;
                outgoing.flush(sh, &mut slots).await;
                local_queued = false;
                let start = Instant::now();
                s.info.borrow_mut().last_cmd = spec.name;
                let reply = f(sh, s, args.clone()).await;
                account(sh, s, spec, &args, start.elapsed(), &reply);
                sh.store.borrow_mut().refresh_clock();
                slots[idx].reply = Some(reply);
            }
        }
        // HELLO answers in the protocol it switches to.
        slots[idx].proto = s.proto;
        slots[idx].send = match before {
            ReplyMode::On => true,
            ReplyMode::Off => s.reply_mode == ReplyMode::On,
            ReplyMode::Skip => false,
        };
    }
    group.flush(sh, group_db, s.id, &mut slots).await;
    outgoing.flush(sh, &mut slots).await;
    {
        let mut info = s.info.borrow_mut();
        info.db = s.db;
        info.last_cmd = last_cmd;
        info.resp = if s.proto == Proto::Resp3 { 3 } else { 2 };
    }
    sh.observe.flush(&sh.shared.observe);
    for slot in slots {
        if let (true, Some(reply)) = (slot.send, slot.reply) {
            encode(&reply, slot.proto, out);
        }
    }
}

fn route(sh: &Rc<Shard>, s: &mut Session, args: Vec<Bytes>) -> Route {
    let Some(spec) = table::lookup(&args[0]) else {
        flag_transaction(s);
        let reply = errors::unknown_command(&args);
        reject(sh, None, &reply);
        return Route::Done(reply);
    };
    if !spec.arity_ok(args.len()) {
        flag_transaction(s);
        let reply = errors::arity(spec.name);
        reject(sh, Some(spec), &reply);
        return Route::Done(reply);
    }
    if let Some(reply) = crate::script::busy_reply(sh, spec) {
        reject(sh, Some(spec), &reply);
        return Route::Done(reply);
    }
    if !s.authed && !spec.has(flags::NO_AUTH) {
        let reply = errors::err(errors::NOAUTH);
        reject(sh, Some(spec), &reply);
        return Route::Done(reply);
    }
    if s.subscribed() {
        if !pubsub::allowed_while_subscribed(spec.name) {
            let reply = pubsub::not_allowed_while_subscribed(spec, &args);
            reject(sh, Some(spec), &reply);
            return Route::Done(reply);
        }
        if spec.name == "ping" {
            let reply = pubsub::subscribed_ping(&args);
            account(sh, s, spec, &args, std::time::Duration::ZERO, &reply);
            return Route::Done(reply);
        }
    }
    if s.multi.is_some() && !multi::runs_in_multi(spec.name) {
        let reply = multi::queue(s, spec, args);
        reject(sh, Some(spec), &reply);
        return Route::Done(reply);
    }
    match spec.handler {
        Handler::Local(f) => {
            let start = Instant::now();
            let reply = f(sh, s, &args);
            // SELECT's line shows the database it selected, as in Redis.
            account(sh, s, spec, &args, start.elapsed(), &reply);
            Route::Done(reply)
        }
        Handler::Keyed(_) => {
            let shard = spec
                .key_positions(args.len())
                .next()
                .map_or(sh.id, |p| sh.slots.shard_of(&args[p]));
            Route::Shard(shard, cmd(spec, s, args))
        }
        Handler::Multi(_, spanning) => match single_shard(sh, spec, &args) {
            Some(shard) => Route::Shard(shard, cmd(spec, s, args)),
            None => Route::Coordinated(spec, spanning, args),
        },
        Handler::Fanout(f, merge) => match single_shard(sh, spec, &args) {
            Some(shard) => Route::Shard(shard, cmd(spec, s, args)),
            None => Route::Fanout(Fanout {
                spec,
                f,
                merge,
                args,
            }),
        },
        Handler::Coordinated(f) => Route::Coordinated(spec, f, args),
    }
}

/// Counts a command run on this connection's core (statistics, slow log,
/// latency events, MONITOR).
pub(crate) fn account(
    sh: &Shard,
    s: &Session,
    spec: &'static CommandSpec,
    args: &[Bytes],
    took: std::time::Duration,
    reply: &Reply,
) {
    let call = Call {
        spec,
        args,
        db: s.db,
        client: s.id,
    };
    sh.account(&mut sh.stats.borrow_mut(), &call, took, reply);
}

/// `args` as a single-shard command of this session.
pub(crate) fn cmd(spec: &'static CommandSpec, s: &Session, args: Vec<Bytes>) -> Cmd {
    Cmd {
        spec,
        db: s.db,
        args,
        client: s.id,
        no_touch: s.no_touch,
    }
}

/// The one shard owning every key of the command, if there is one. Keys
/// that move with the arguments (XREAD's STREAMS) come from the row's key
/// function; a command without keys runs here.
pub(crate) fn single_shard(sh: &Shard, spec: &CommandSpec, args: &[Bytes]) -> Option<ShardId> {
    match spec.movable_keys {
        Some(keys) => one_shard(sh, args, keys(args).into_iter()),
        None => one_shard(sh, args, spec.key_positions(args.len())),
    }
}

fn one_shard(
    sh: &Shard,
    args: &[Bytes],
    positions: impl Iterator<Item = usize>,
) -> Option<ShardId> {
    let mut shards = positions.map(|p| sh.slots.shard_of(&args[p]));
    let first = shards.next().unwrap_or(sh.id);
    shards.all(|k| k == first).then_some(first)
}

/// A command rejected between MULTI and EXEC makes EXEC fail.
fn flag_transaction(s: &mut Session) {
    if let Some(m) = s.multi.as_mut() {
        m.failed = true;
    }
}

fn reject(sh: &Shard, spec: Option<&'static CommandSpec>, reply: &Reply) {
    if let Reply::Error(e) = reply {
        sh.stats.borrow_mut().reject(spec, e);
    }
}

/// CLIENT PAUSE: a command it holds back waits here until the pause ends
/// (its deadline, or CLIENT UNPAUSE, noticed within 10 ms).
async fn wait_for_unpause(sh: &Shard, args: &[Bytes]) {
    let spec = table::lookup(&args[0]);
    while let Some(until) = sh.shared.pause.holds(spec) {
        let left = until.saturating_sub(crate::shard::store::unix_ms());
        glommio::timer::sleep(std::time::Duration::from_millis(left.clamp(1, 10))).await;
    }
}
