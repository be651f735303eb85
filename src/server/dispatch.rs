//! Runs one read's worth of requests for a connection and encodes their
//! replies in request order.
//!
//! Each request is checked against the command table (arity,
//! authentication, subscribed mode, MULTI queueing) and placed by
//! `command::place`. Connection commands run here at once; single-shard
//! commands run inline when their shard is this core's, else join this
//! read's batch for their shard, which is posted to the core's outbox and
//! leaves with every other connection's hops of this executor turn. A
//! coordinated command first waits for everything before it, so a
//! connection always observes its own commands in order. Every command is
//! accounted here, on the connection's core, wherever it ran.

use std::rc::Rc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use futures::future::join_all;

use crate::command::fanout::{self, Fanout};
use crate::command::multi;
use crate::command::place::{self, Place};
use crate::command::session::{ReplyMode, Session};
use crate::command::table::{self, flags, CommandSpec, Resolved};
use crate::command::{errors, pubsub};
use crate::keyspace::slot::ShardId;
use crate::resp::{encode, Proto, Reply};
use crate::runtime::{Cmd, Done};
use crate::services::{Services, Shard};

struct Slot {
    reply: Option<Reply>,
    proto: Proto,
    send: bool,
}

/// Consecutive spanning fanout commands waiting to run as one operation.
#[derive(Default)]
struct Group {
    idxs: Vec<usize>,
    members: Vec<Fanout>,
}

impl Group {
    async fn flush(&mut self, sh: &Rc<Shard>, s: &Session, db: usize, slots: &mut [Slot]) {
        if self.members.is_empty() {
            return;
        }
        let start = Instant::now();
        let members = std::mem::take(&mut self.members);
        let replies = fanout::run_group(sh, db, s.parent, &members).await;
        let took = start.elapsed() / members.len() as u32;
        for ((i, reply), m) in self.idxs.drain(..).zip(replies).zip(&members) {
            place::account(sh, s, m.spec, &m.args, took, &reply);
            slots[i].reply = Some(reply);
        }
        sh.store.borrow_mut().refresh_clock();
    }
}

/// One shard's batch of a read: (reply slot, row) per command, and the commands.
type ShardBatch = (Vec<(usize, &'static CommandSpec)>, Vec<Cmd>);

/// This read's batches, one per shard, with their reply slots and rows.
struct Outgoing {
    per_shard: Vec<ShardBatch>,
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

    /// Runs every batch (remote ones leave with this turn's packets) and
    /// waits for all replies.
    async fn flush(&mut self, sh: &Rc<Shard>, s: &Session, slots: &mut [Slot]) {
        if self.is_empty() {
            return;
        }
        let mut runs = Vec::new();
        for (shard, (idxs, cmds)) in self.per_shard.iter_mut().enumerate() {
            if idxs.is_empty() {
                continue;
            }
            let (idxs, cmds) = (std::mem::take(idxs), std::mem::take(cmds));
            if shard != sh.id.0 {
                sh.host.stats.borrow_mut().hops += 1;
            }
            runs.push(async move { (idxs, sh.run_batch(ShardId(shard), cmds).await) });
        }
        for (idxs, (cmds, done)) in join_all(runs).await {
            let mut ran = cmds.into_iter().zip(done);
            for (i, spec) in idxs {
                let (args, done) = match ran.next() {
                    Some((cmd, done)) => (cmd.args, done),
                    None => (Vec::new(), Done::unavailable()),
                };
                place::account(sh, s, spec, &args, done.took, &done.reply);
                slots[i].reply = Some(done.reply);
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
    <Services as crate::runtime::Hooks>::before_work(sh);
    sh.store.borrow_mut().refresh_clock();
    s.core = sh.id.0 as u16;
    if reqs.len() > 2 {
        // A pipeline: look the local first keys up once ahead, so their
        // cache misses overlap (measured: SET/GET/INCR at pipeline 16 on 100k keys, one shard:
        // +25 to 35% requests/s).
        let store = sh.store.borrow();
        for args in reqs.iter().filter(|a| a.len() > 1) {
            if sh.slots.shard_of(&args[1]) == sh.id {
                store.warm(s.db, &args[1]);
            }
        }
    }
    for args in reqs {
        if s.close {
            break;
        }
        let idx = slots.len();
        // CLIENT REPLY SKIP silences this command.
        if s.reply_mode == ReplyMode::Skip {
            s.reply_mode = ReplyMode::Skipping;
        }
        // CLIENT CACHING's choice lasts one command (or transaction),
        // unless that is another CLIENT subcommand.
        let caching_lasts =
            s.caching && table::row_of(&args).is_some_and(|r| r.has(flags::KEEPS_CACHING));
        let caching_before = s.caching;
        slots.push(Slot {
            reply: None,
            proto: s.proto,
            send: true,
        });
        let step = match admit(sh, s, args) {
            Ok((spec, args)) => {
                if sh.host.shared.pause.maybe_on() {
                    wait_for_unpause(sh, s, spec, &args).await;
                }
                proceed(sh, s, spec, args)
            }
            Err(reply) => Step::Done(reply),
        };
        if !matches!(step, Step::Place(_, Place::Fanout(_), _) | Step::Done(_)) || s.db != group_db
        {
            group.flush(sh, s, group_db, &mut slots).await;
        }
        match step {
            Step::Done(reply) => slots[idx].reply = Some(reply),
            Step::Place(spec, place, args) => {
                last_cmd = spec.name;
                match place {
                    Place::Connection(f) => {
                        let start = Instant::now();
                        let reply = f(sh, s, &args);
                        // SELECT's line shows the database it selected, as in Redis.
                        place::account(sh, s, spec, &args, start.elapsed(), &reply);
                        slots[idx].reply = Some(reply);
                    }
                    Place::Shard(shard, run) => {
                        let cmd = place::cmd(run, spec, s, args);
                        if shard == sh.id && !local_queued && !sh.blocks(&cmd) {
                            let done = sh.exec_inline(&cmd);
                            place::account(sh, s, spec, &cmd.args, done.took, &done.reply);
                            slots[idx].reply = Some(done.reply);
                        } else {
                            local_queued |= shard == sh.id;
                            let (idxs, cmds) = &mut outgoing.per_shard[shard.0];
                            idxs.push((idx, spec));
                            cmds.push(cmd);
                        }
                    }
                    Place::Fanout(split) => {
                        if group.members.is_empty() {
                            outgoing.flush(sh, s, &mut slots).await;
                            local_queued = false;
                            group_db = s.db;
                        }
                        group.idxs.push(idx);
                        let (caller, no_touch) = (s.caller(spec), place::no_touch(s, spec));
                        group.members.push(Fanout {
                            spec,
                            args,
                            split,
                            caller,
                            no_touch,
                        });
                    }
                    Place::Spanning(f, split) => {
                        outgoing.flush(sh, s, &mut slots).await;
                        local_queued = false;
                        s.info.borrow_mut().last_cmd = spec.name;
                        let start = Instant::now();
                        let reply = f(sh, s, args.clone(), split).await;
                        finish_coordinated(sh, s, spec, &args, start, &reply);
                        slots[idx].reply = Some(reply);
                    }
                    Place::Coordinated(f) => {
                        outgoing.flush(sh, s, &mut slots).await;
                        local_queued = false;
                        s.info.borrow_mut().last_cmd = spec.name;
                        let start = Instant::now();
                        let reply = f(sh, s, args.clone()).await;
                        finish_coordinated(sh, s, spec, &args, start, &reply);
                        slots[idx].reply = Some(reply);
                    }
                }
            }
        }
        // HELLO answers in the protocol it switches to.
        slots[idx].proto = s.proto;
        // A reply goes out if replies are on once the command ran (CLIENT
        // REPLY ON is answered even when sent while OFF or skipped).
        slots[idx].send = s.reply_mode == ReplyMode::On;
        if s.reply_mode == ReplyMode::Skipping {
            s.reply_mode = ReplyMode::On;
        }
        if caching_before && !caching_lasts && s.multi.is_none() {
            s.caching = false;
        }
    }
    group.flush(sh, s, group_db, &mut slots).await;
    outgoing.flush(sh, s, &mut slots).await;
    {
        let mut info = s.info.borrow_mut();
        info.db = s.db;
        info.last_cmd = last_cmd;
        info.resp = if s.proto == Proto::Resp3 { 3 } else { 2 };
    }
    sh.host.observe.flush(&sh.host.shared.observe);
    for slot in slots {
        match (slot.send, slot.reply) {
            (true, Some(reply)) => encode(&reply, slot.proto, out),
            // Silenced replies still carry their pushes (subscribe
            // confirmations), as Redis sends those regardless.
            (false, Some(reply)) => {
                if let Some(push) = pushes_of(reply) {
                    encode(&push, slot.proto, out);
                }
            }
            _ => {}
        }
    }
}

/// The push parts of a reply: itself if it is a push, the pushes among
/// several replies.
fn pushes_of(reply: Reply) -> Option<Reply> {
    match reply {
        Reply::Push(_) => Some(reply),
        Reply::Many(v) => {
            let pushes: Vec<Reply> = v
                .into_iter()
                .filter(|r| matches!(r, Reply::Push(_)))
                .collect();
            (!pushes.is_empty()).then_some(Reply::Many(pushes))
        }
        _ => None,
    }
}

fn finish_coordinated(
    sh: &Shard,
    s: &Session,
    spec: &'static CommandSpec,
    args: &[Bytes],
    start: Instant,
    reply: &Reply,
) {
    place::account(sh, s, spec, args, start.elapsed(), reply);
    sh.store.borrow_mut().refresh_clock();
}

/// What becomes of one request.
enum Step {
    /// Answered already (refused, or queued in MULTI).
    Done(Reply),
    /// To run where placement says.
    Place(&'static CommandSpec, Place, Vec<Bytes>),
}

/// The checks every request passes before it runs, in Redis 7.0's order
/// (`processCommand`): the command and its subcommand, arity,
/// authentication, MULTI's own refusals, subscribed mode, a busy script.
/// Admitted, the request waits out a CLIENT PAUSE, then is queued or run.
fn admit(
    sh: &Rc<Shard>,
    s: &mut Session,
    args: Vec<Bytes>,
) -> Result<(&'static CommandSpec, Vec<Bytes>), Reply> {
    let spec = match table::resolve(&args) {
        Resolved::Row(spec) => spec,
        Resolved::Unknown => return Err(reject(sh, s, None, errors::unknown_command(&args))),
        Resolved::UnknownSubcommand => {
            let reply = errors::unknown_subcommand(&args[1], &args[0]);
            return Err(reject(sh, s, None, reply));
        }
    };
    if !spec.arity_ok(args.len()) {
        return Err(reject(sh, s, Some(spec), errors::arity(spec.name)));
    }
    if !s.authed && !spec.has(flags::NO_AUTH) {
        return Err(reject(sh, s, Some(spec), errors::err(errors::NOAUTH)));
    }
    if s.multi.is_some() && spec.has(flags::NO_MULTI) {
        return Err(reject(sh, s, Some(spec), errors::err(errors::NO_MULTI)));
    }
    if s.subscribed() && !spec.has(flags::SUBSCRIBED) {
        let reply = pubsub::not_allowed_while_subscribed(spec);
        return Err(reject(sh, s, Some(spec), reply));
    }
    if let Some(reply) = crate::script::busy_reply(sh, spec) {
        return Err(reject(sh, s, Some(spec), reply));
    }
    Ok((spec, args))
}

/// An admitted request: queued between MULTI and EXEC, else placed.
fn proceed(sh: &Rc<Shard>, s: &mut Session, spec: &'static CommandSpec, args: Vec<Bytes>) -> Step {
    if s.multi.is_some() && !spec.has(flags::NO_QUEUE) {
        // Queueing takes memory: over maxmemory every command is refused
        // (and the transaction flagged), as in Redis 7.0.
        if out_of_memory(sh) {
            return Step::Done(reject(sh, s, Some(spec), errors::oom()));
        }
        let flags = spec.flags_for(sh, s, &args);
        return Step::Done(multi::queue(s, spec, args, flags));
    }
    let place = place::place(sh, spec, &args, !s.atomic);
    Step::Place(spec, place, args)
}

/// A refused request (Redis's `rejectCommand`): counted, and it makes the
/// transaction it was sent in fail; a refused EXEC ends the transaction
/// with `-EXECABORT` naming the reason.
fn reject(sh: &Shard, s: &mut Session, spec: Option<&'static CommandSpec>, reply: Reply) -> Reply {
    sh.host.reject(spec, &reply);
    let Some(m) = s.multi.as_mut() else {
        return reply;
    };
    m.failed = true;
    match (&reply, spec) {
        (Reply::Error(e), Some(c)) if c.has(flags::ABORTS_MULTI) => {
            multi::discard_transaction(s);
            errors::exec_abort(e)
        }
        _ => reply,
    }
}

/// Over `maxmemory` with nothing this core's shard can evict.
fn out_of_memory(sh: &Shard) -> bool {
    let mut st = sh.store.borrow_mut();
    st.memory.limit != 0 && !st.room_for_write()
}

/// CLIENT PAUSE: a command it holds back (every command under PAUSE ALL;
/// under PAUSE WRITE those that may write: writes, EXEC of a queue with
/// writes, scripts not declared read-only) waits here until the pause
/// ends (its deadline, or CLIENT UNPAUSE, noticed within 10 ms). The
/// client counts as blocked meanwhile.
async fn wait_for_unpause(sh: &Shard, s: &Session, spec: &'static CommandSpec, args: &[Bytes]) {
    let write = spec.flags_for(sh, s, args) & (flags::WRITE | flags::MAY_REPLICATE) != 0;
    let mut blocked = false;
    while let Some(until) = sh.host.shared.pause.holds(write) {
        if !blocked {
            blocked = true;
            crate::command::blocking::set_blocked(sh, s, true);
        }
        let left = until.saturating_sub(crate::keyspace::store::unix_ms());
        glommio::timer::sleep(Duration::from_millis(left.clamp(1, 10))).await;
    }
    if blocked {
        crate::command::blocking::set_blocked(sh, s, false);
    }
}
