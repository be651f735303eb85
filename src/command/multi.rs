//! Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH.
//!
//! MULTI makes the connection queue its commands (`server::dispatch`
//! answers QUEUED, or flags the transaction when a command is unknown or
//! has the wrong arity). EXEC runs the queue as one atomic operation:
//!
//! * When every queued command lives on one shard each (the common case:
//!   GET/SET/INCR… on any keys), each involved shard gets one step that
//!   runs its commands in queue order, under key claims on the commands'
//!   keys and the watched keys. Commands on different shards touch
//!   different keys, so running each shard's share in order gives the
//!   replies of running the whole queue in order; writers keep their claims
//!   until every shard has run its share, so nobody sees half of it.
//! * Otherwise (a command spanning shards, or one needing every shard) the
//!   queue runs inside an atomic block holding every shard
//!   (`command::atomic`).
//!
//! WATCH registers the keys on their shards with one flag per connection;
//! any change sets it (`keyspace::watch`). EXEC checks the flag once the
//! watched keys are claimed too, after reading each watched key so one that
//! expired meanwhile counts as changed: no change can slip between the
//! check and the commands.

use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::future::LocalBoxFuture;

use super::atomic::Atomic;
use super::errors;
use super::place::{self, Place};
use super::session::Session;
use super::table::{flags, CommandSpec};
use crate::keyspace::locks::Claim;
use crate::keyspace::slot::ShardId;
use crate::keyspace::watch::WatchFlag;
use crate::resp::Reply;
use crate::runtime::{Cmd, Done, Out, Plan};
use crate::services::Shard;

/// A connection between MULTI and EXEC.
#[derive(Default)]
pub struct Multi {
    pub queued: Vec<(&'static CommandSpec, Vec<Bytes>)>,
    /// A command was rejected while queueing: EXEC answers EXECABORT.
    pub failed: bool,
    /// The flags of the queued commands, scripts' own for EVAL and FCALL
    /// (CLIENT PAUSE holds back an EXEC that may write).
    pub flags: u32,
}

/// The keys a connection WATCHes and the flag their changes set.
pub struct Watching {
    pub flag: Arc<WatchFlag>,
    pub keys: Vec<(usize, Bytes)>,
}

/// Queues a command of a connection in MULTI, with its flags.
pub fn queue(s: &mut Session, spec: &'static CommandSpec, args: Vec<Bytes>, flags: u32) -> Reply {
    let Some(m) = s.multi.as_mut() else {
        return Reply::Status("QUEUED");
    };
    m.flags |= flags;
    m.queued.push((spec, args));
    s.info.borrow_mut().multi = m.queued.len() as i64;
    Reply::Status("QUEUED")
}

/// EXEC's flags (Redis's `mstate.cmd_flags`): its own and those of every
/// queued command.
pub fn exec_flags(_sh: &Shard, s: &Session, spec: &CommandSpec, _a: &[Bytes]) -> u32 {
    spec.flags | s.multi.as_ref().map_or(0, |m| m.flags)
}

/// MULTI
pub fn multi(_sh: &Rc<Shard>, s: &mut Session, _a: &[Bytes]) -> Reply {
    if s.multi.is_some() {
        return errors::err(errors::MULTI_NESTED);
    }
    s.multi = Some(Multi::default());
    s.info.borrow_mut().multi = 0;
    Reply::Ok
}

/// DISCARD
pub fn discard(_sh: &Rc<Shard>, s: &mut Session, _a: &[Bytes]) -> Reply {
    if s.multi.is_none() {
        return errors::err(errors::DISCARD_WITHOUT_MULTI);
    }
    discard_transaction(s);
    Reply::Ok
}

/// Leaves MULTI without running the queue (DISCARD, a refused EXEC):
/// the watched keys are forgotten too, and CLIENT CACHING's flag.
pub fn discard_transaction(s: &mut Session) {
    s.multi = None;
    s.caching = false;
    s.info.borrow_mut().multi = -1;
    unwatch_all(s);
}

/// UNWATCH
pub fn unwatch(_sh: &Rc<Shard>, s: &mut Session, _a: &[Bytes]) -> Reply {
    unwatch_all(s);
    Reply::Ok
}

/// Forgets the connection's watched keys (shards drop them lazily).
pub fn unwatch_all(s: &mut Session) {
    if let Some(w) = s.watching.take() {
        w.flag.kill();
    }
    s.info.borrow_mut().dirty_cas = false;
}

/// WATCH key [key ...]
pub fn watch<'a>(
    sh: &'a Rc<Shard>,
    s: &'a mut Session,
    a: Vec<Bytes>,
) -> LocalBoxFuture<'a, Reply> {
    Box::pin(async move {
        if s.multi.is_some() {
            return errors::err(errors::WATCH_IN_MULTI);
        }
        let db = s.db;
        let flag = s
            .watching
            .get_or_insert_with(|| Watching {
                flag: Arc::default(),
                keys: Vec::new(),
            })
            .flag
            .clone();
        // Registered on arrival, claiming nothing, so WATCH answers even
        // while a busy script holds every shard (as in Redis, where WATCH
        // may run then); a change made after that still flags it.
        let split = place::Split::of(sh, &a, 1..a.len());
        let asks = split.shares().into_iter().map(|(shard, positions)| {
            let flag = flag.clone();
            let keys: Vec<Bytes> = positions.iter().map(|&p| a[p].clone()).collect();
            sh.ask(shard, move |there: &Shard| {
                let mut st = there.store.borrow_mut();
                st.refresh_clock();
                for key in keys {
                    let stale = !st.is_live(db, &key);
                    st.watches.add(db, key, flag.clone(), stale);
                }
            })
        });
        futures::future::join_all(asks).await;
        if let Some(w) = s.watching.as_mut() {
            w.keys.extend(a[1..].iter().map(|k| (db, k.clone())));
        }
        Reply::Ok
    })
}

/// EXEC
pub fn exec<'a>(
    sh: &'a Rc<Shard>,
    s: &'a mut Session,
    _a: Vec<Bytes>,
) -> LocalBoxFuture<'a, Reply> {
    Box::pin(async move {
        let Some(m) = s.multi.take() else {
            return errors::err(errors::EXEC_WITHOUT_MULTI);
        };
        s.info.borrow_mut().multi = -1;
        let watching = s.watching.take();
        let oom = || {
            let mut st = sh.store.borrow_mut();
            st.memory.limit != 0 && !st.room_for_write()
        };
        let reply = if m.failed {
            errors::err(errors::EXECABORT)
        } else if m.queued.iter().any(|(spec, _)| spec.has(flags::DENYOOM)) && oom() {
            errors::exec_abort(errors::OOM)
        } else if watching.as_ref().is_some_and(|w| w.flag.is_dirty()) {
            Reply::NilArray
        } else {
            s.atomic = true;
            let reply = match plan(sh, s, &m.queued, watching.as_ref()) {
                Some(plan) => run_planned(sh, s, plan, watching.as_ref()).await,
                None => run_in_block(sh, s, m.queued, watching.as_ref()).await,
            };
            s.atomic = false;
            reply
        };
        s.watching = watching;
        unwatch_all(s);
        reply
    })
}

/// A queued command run by one shard's share: its queue position, its row
/// and the command.
type Queued = (usize, &'static CommandSpec, Cmd);

/// One shard's share of a transaction whose commands each live on one
/// shard.
struct Part {
    shard: ShardId,
    cmds: Vec<Queued>,
    keys: Vec<Bytes>,
    watched: Vec<(usize, Bytes)>,
}

struct TxPlan {
    parts: Vec<Part>,
    /// Connection-only commands (PING, ECHO …), by queue position.
    local: Vec<(usize, &'static CommandSpec, Vec<Bytes>)>,
    /// PUBLISH and SPUBLISH, run once the shards' shares have run, so a
    /// subscriber told of a change finds it made.
    after: Vec<(usize, &'static CommandSpec, Vec<Bytes>)>,
    len: usize,
    write: bool,
}

fn part(parts: &mut Vec<Part>, shard: ShardId) -> &mut Part {
    let i = match parts.iter().position(|p| p.shard == shard) {
        Some(i) => i,
        None => {
            parts.push(Part {
                shard,
                cmds: Vec::new(),
                keys: Vec::new(),
                watched: Vec::new(),
            });
            parts.len() - 1
        }
    };
    &mut parts[i]
}

/// The per-shard plan, when every queued command lives on one shard (or
/// only touches the connection).
fn plan(
    sh: &Rc<Shard>,
    s: &Session,
    queued: &[(&'static CommandSpec, Vec<Bytes>)],
    watching: Option<&Watching>,
) -> Option<TxPlan> {
    let mut plan = TxPlan {
        parts: Vec::new(),
        local: Vec::new(),
        after: Vec::new(),
        len: queued.len(),
        write: false,
    };
    for (i, (spec, args)) in queued.iter().enumerate() {
        match place::place(sh, spec, args, false) {
            Place::Shard(shard, run) => {
                plan.write |= spec.has(flags::WRITE);
                let p = part(&mut plan.parts, shard);
                p.keys
                    .extend(spec.keys_of(args).into_iter().map(|k| args[k].clone()));
                p.cmds
                    .push((i, spec, place::cmd(run, spec, s, args.clone())));
            }
            Place::Connection(_) if spec.has(flags::CONN_ONLY) => {
                plan.local.push((i, spec, args.clone()))
            }
            Place::Connection(_) if spec.has(flags::PUBLISHES) => {
                plan.after.push((i, spec, args.clone()))
            }
            _ => return None,
        }
    }
    for (db, key) in watching.map_or(&[][..], |w| &w.keys[..]) {
        let p = part(&mut plan.parts, sh.slots.shard_of(key));
        p.keys.push(key.clone());
        p.watched.push((*db, key.clone()));
    }
    Some(plan)
}

/// Reads the watched keys of this shard, so those that expired count as
/// changed, and tells whether the transaction may run.
fn watch_ok(there: &Shard, watched: &[(usize, Bytes)], flag: Option<&WatchFlag>) -> bool {
    let Some(flag) = flag else { return true };
    let mut st = there.store.borrow_mut();
    st.refresh_clock();
    for (db, key) in watched {
        st.is_live(*db, key);
    }
    !flag.is_dirty()
}

/// What a share ran: per command, its queue position, row, arguments and
/// reply.
type Ran = Vec<(usize, &'static CommandSpec, Vec<Bytes>, Done)>;

fn run_cmds(there: &Shard, cmds: Vec<Queued>) -> Ran {
    cmds.into_iter()
        .map(|(i, spec, cmd)| {
            let done = there.exec_held(&cmd);
            (i, spec, cmd.args, done)
        })
        .collect()
}

/// Runs a connection-only or publishing command of the queue here.
fn run_here(sh: &Rc<Shard>, s: &mut Session, spec: &'static CommandSpec, args: &[Bytes]) -> Reply {
    let Place::Connection(f) = place::place(sh, spec, args, false) else {
        return errors::internal("not a connection command");
    };
    let reply = f(sh, s, args);
    place::account(sh, s, spec, args, Duration::ZERO, &reply);
    reply
}

async fn run_planned(
    sh: &Rc<Shard>,
    s: &mut Session,
    mut plan: TxPlan,
    watching: Option<&Watching>,
) -> Reply {
    let mut slots: Vec<Option<Reply>> = vec![None; plan.len];
    for (i, spec, args) in std::mem::take(&mut plan.local) {
        slots[i] = Some(run_here(sh, s, spec, &args));
    }
    let after = std::mem::take(&mut plan.after);
    let Some(ran) = run_shares(sh, s, plan, watching).await else {
        return Reply::NilArray;
    };
    for (i, spec, args, done) in ran {
        place::account(sh, s, spec, &args, done.took, &done.reply);
        slots[i] = Some(done.reply);
    }
    for (i, spec, args) in after {
        slots[i] = Some(run_here(sh, s, spec, &args));
    }
    Reply::Array(
        slots
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Reply::error(errors::SHARD_UNAVAILABLE)))
            .collect(),
    )
}

/// Runs each shard's share; None when a watched key changed.
async fn run_shares(
    sh: &Rc<Shard>,
    s: &Session,
    plan: TxPlan,
    watching: Option<&Watching>,
) -> Option<Ran> {
    let flag = watching.map(|w| w.flag.clone());
    if let [p] = &plan.parts[..] {
        if p.shard == sh.id && !sh.holds_any(&p.keys) {
            // Everything here and nothing in the way: run it now, in one go.
            let p = plan.parts.into_iter().next().expect("one part");
            if !watch_ok(sh, &p.watched, flag.as_deref()) {
                return None;
            }
            let ran = run_cmds(sh, p.cmds);
            sh.serve_blocked();
            return Some(ran);
        }
    }
    let mut ran = Vec::new();
    if plan.parts.len() > 1 && flag.is_some() {
        // Watched keys on several shards: claim everything and read the
        // watched keys first; run the shares only if none changed.
        let mut tx = Plan::new(sh, s.parent);
        let mut shares = Vec::with_capacity(plan.parts.len());
        for p in plan.parts {
            shares.push((p.shard, p.cmds));
            let watched = p.watched;
            tx.part(p.shard, Claim::Keys(p.keys), move |there: &Shard| {
                watch_ok(there, &watched, None);
            });
        }
        let mut txn = tx.hold().await;
        if flag.as_ref().is_some_and(|f| f.is_dirty()) {
            txn.release();
            return None;
        }
        let outs: Vec<Out<Ran>> = shares
            .into_iter()
            .map(|(shard, cmds)| txn.step(shard, move |there: &Shard| run_cmds(there, cmds)))
            .collect();
        txn.end().await;
        for out in outs {
            ran.extend(out.take());
        }
        return Some(ran);
    }
    // One step per shard checks the watched keys it holds (all of them,
    // when there is one shard or no WATCH) and runs its share.
    let hold = plan.write && plan.parts.len() > 1;
    let mut tx = Plan::new(sh, s.parent);
    let outs: Vec<Out<Option<Ran>>> = plan
        .parts
        .into_iter()
        .map(|p| {
            let flag = flag.clone();
            tx.part(p.shard, Claim::Keys(p.keys), move |there: &Shard| {
                watch_ok(there, &p.watched, flag.as_deref()).then(|| run_cmds(there, p.cmds))
            })
        })
        .collect();
    if hold {
        tx.hold().await.release();
    } else {
        tx.run().await;
    }
    for out in outs {
        ran.extend(out.take()?);
    }
    Some(ran)
}

/// The general case: the whole queue inside a block holding every shard.
async fn run_in_block(
    sh: &Rc<Shard>,
    s: &mut Session,
    queued: Vec<(&'static CommandSpec, Vec<Bytes>)>,
    watching: Option<&Watching>,
) -> Reply {
    let mut block = Atomic::begin(sh, s).await;
    if let Some(w) = watching {
        for shard in sh.all_shards() {
            let watched: Vec<(usize, Bytes)> = w
                .keys
                .iter()
                .filter(|(_, k)| sh.slots.shard_of(k) == shard)
                .cloned()
                .collect();
            if !watched.is_empty() {
                block
                    .on(sh, shard, move |there: &Shard| {
                        watch_ok(there, &watched, None);
                    })
                    .await;
            }
        }
        if w.flag.is_dirty() {
            block.end(s);
            return Reply::NilArray;
        }
    }
    let mut replies = Vec::with_capacity(queued.len());
    for (_, args) in queued {
        replies.push(block.call(sh, s, args).await);
    }
    block.end(s);
    Reply::Array(replies)
}
