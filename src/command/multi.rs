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
//!   (`server::atomic`).
//!
//! WATCH registers the keys on their shards with one flag per connection;
//! any change sets it (`shard::watch`). EXEC checks the flag once the
//! watched keys are claimed too, after reading each watched key so one that
//! expired meanwhile counts as changed: no change can slip between the
//! check and the commands.

use std::rc::Rc;
use std::sync::Arc;

use bytes::Bytes;
use futures::future::LocalBoxFuture;

use super::errors;
use super::table::{flags, CommandSpec, Handler};
use crate::resp::Reply;
use crate::server::atomic::Atomic;
use crate::server::dispatch;
use crate::server::session::Session;
use crate::shard::core::Shard;
use crate::shard::locks::Claim;
use crate::shard::router::{Cmd, Step, StepOut};
use crate::shard::slot::ShardId;
use crate::shard::watch::WatchFlag;

pub const EXECABORT: &str = "EXECABORT Transaction discarded because of previous errors.";

/// A connection between MULTI and EXEC.
#[derive(Default)]
pub struct Multi {
    pub queued: Vec<(&'static CommandSpec, Vec<Bytes>)>,
    /// A command was rejected while queueing: EXEC answers EXECABORT.
    pub failed: bool,
}

/// The keys a connection WATCHes and the flag their changes set.
pub struct Watching {
    pub flag: Arc<WatchFlag>,
    pub keys: Vec<(usize, Bytes)>,
}

/// Commands that run at once even between MULTI and EXEC.
pub fn runs_in_multi(name: &str) -> bool {
    matches!(
        name,
        "exec" | "discard" | "multi" | "watch" | "quit" | "reset"
    )
}

/// Queues a command of a connection in MULTI; the reply is QUEUED or the
/// rejection that flags the transaction.
pub fn queue(s: &mut Session, spec: &'static CommandSpec, args: Vec<Bytes>) -> Reply {
    let Some(m) = s.multi.as_mut() else {
        return Reply::Status("QUEUED");
    };
    if spec.has(flags::NO_MULTI) {
        m.failed = true;
        return errors::err("ERR Command not allowed inside a transaction");
    }
    m.queued.push((spec, args));
    s.info.borrow_mut().multi = m.queued.len() as i64;
    Reply::Status("QUEUED")
}

/// MULTI
pub fn multi(_sh: &Rc<Shard>, s: &mut Session, _a: &[Bytes]) -> Reply {
    if s.multi.is_some() {
        return errors::err("ERR MULTI calls can not be nested");
    }
    s.multi = Some(Multi::default());
    s.info.borrow_mut().multi = 0;
    Reply::Ok
}

/// DISCARD
pub fn discard(_sh: &Rc<Shard>, s: &mut Session, _a: &[Bytes]) -> Reply {
    if s.multi.take().is_none() {
        return errors::err("ERR DISCARD without MULTI");
    }
    s.info.borrow_mut().multi = -1;
    unwatch_all(s);
    Reply::Ok
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
            return errors::err("ERR WATCH inside MULTI is not allowed");
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
        let mut parts: Vec<(ShardId, Vec<Bytes>)> = Vec::new();
        for key in &a[1..] {
            let shard = sh.slots.shard_of(key);
            match parts.iter_mut().find(|(s, _)| *s == shard) {
                Some((_, keys)) => keys.push(key.clone()),
                None => parts.push((shard, vec![key.clone()])),
            }
        }
        let steps = parts
            .into_iter()
            .map(|(shard, keys)| {
                let flag = flag.clone();
                let claim = Claim::Keys(keys.clone());
                let step: Step = Box::new(move |there: &Shard| {
                    let mut st = there.store.borrow_mut();
                    st.refresh_clock();
                    for key in keys {
                        let stale = !st.is_live(db, &key);
                        st.watches.add(db, key, flag.clone(), stale);
                    }
                    Box::new(()) as StepOut
                });
                (shard, claim, step)
            })
            .collect();
        sh.begin_claims(steps, false).await;
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
            return errors::err("ERR EXEC without MULTI");
        };
        s.info.borrow_mut().multi = -1;
        let watching = s.watching.take();
        let reply = if m.failed {
            errors::err(EXECABORT)
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

/// One shard's share of a transaction whose commands each live on one
/// shard.
struct Part {
    shard: ShardId,
    cmds: Vec<(usize, Cmd)>,
    keys: Vec<Bytes>,
    watched: Vec<(usize, Bytes)>,
}

struct Plan {
    parts: Vec<Part>,
    /// Replies known without a shard (PING, ECHO), by queue position.
    local: Vec<(usize, Reply)>,
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

/// The per-shard plan, when every queued command lives on one shard.
fn plan(
    sh: &Rc<Shard>,
    s: &mut Session,
    queued: &[(&'static CommandSpec, Vec<Bytes>)],
    watching: Option<&Watching>,
) -> Option<Plan> {
    let mut plan = Plan {
        parts: Vec::new(),
        local: Vec::new(),
        after: Vec::new(),
        len: queued.len(),
        write: false,
    };
    for (i, (spec, args)) in queued.iter().enumerate() {
        let shard = match spec.handler {
            Handler::Keyed(_) => spec
                .key_positions(args.len())
                .next()
                .map_or(sh.id, |p| sh.slots.shard_of(&args[p])),
            Handler::Multi(..) | Handler::Fanout(..) => dispatch::single_shard(sh, spec, args)?,
            Handler::Local(f) if matches!(spec.name, "ping" | "echo") => {
                plan.local.push((i, f(sh, s, args)));
                continue;
            }
            Handler::Local(_) if matches!(spec.name, "publish" | "spublish") => {
                plan.after.push((i, spec, args.clone()));
                continue;
            }
            _ => return None,
        };
        plan.write |= spec.has(flags::WRITE);
        let p = part(&mut plan.parts, shard);
        p.keys
            .extend(spec.keys_of(args).into_iter().map(|k| args[k].clone()));
        p.cmds.push((i, dispatch::cmd(spec, s, args.clone())));
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

type Replies = Vec<(usize, Reply)>;

fn run_cmds(there: &Shard, cmds: Vec<(usize, Cmd)>) -> Replies {
    cmds.into_iter()
        .map(|(i, cmd)| (i, there.exec_held(&cmd)))
        .collect()
}

async fn run_planned(
    sh: &Rc<Shard>,
    s: &mut Session,
    mut plan: Plan,
    watching: Option<&Watching>,
) -> Reply {
    let after = std::mem::take(&mut plan.after);
    let mut reply = run_shares(sh, plan, watching).await;
    if let Reply::Array(replies) = &mut reply {
        for (i, spec, args) in after {
            if let Handler::Local(f) = spec.handler {
                replies[i] = f(sh, s, &args);
            }
        }
    }
    reply
}

async fn run_shares(sh: &Rc<Shard>, plan: Plan, watching: Option<&Watching>) -> Reply {
    let flag = watching.map(|w| w.flag.clone());
    let mut slots: Vec<Option<Reply>> = vec![None; plan.len];
    for (i, r) in plan.local {
        slots[i] = Some(r);
    }
    if let [p] = &plan.parts[..] {
        if p.shard == sh.id && !sh.holds_any(&p.keys) {
            // Everything here and nothing in the way: run it now, in one go.
            let p = plan.parts.into_iter().next().expect("one part");
            if !watch_ok(sh, &p.watched, flag.as_deref()) {
                return Reply::NilArray;
            }
            for (i, r) in run_cmds(sh, p.cmds) {
                slots[i] = Some(r);
            }
            sh.serve_blocked();
            return Reply::Array(slots.into_iter().map(|r| r.unwrap_or(Reply::Nil)).collect());
        }
    }
    let two_phase = plan.parts.len() > 1 && flag.is_some();
    let outs: Vec<Option<Replies>> = if !two_phase {
        // One step per shard checks the watched keys it holds (all of
        // them, when there is one shard or no WATCH) and runs its share.
        let steps = plan
            .parts
            .into_iter()
            .map(|p| {
                let flag = flag.clone();
                let step: Step = Box::new(move |there: &Shard| {
                    let out = watch_ok(there, &p.watched, flag.as_deref())
                        .then(|| run_cmds(there, p.cmds));
                    Box::new(out) as StepOut
                });
                (p.shard, Claim::Keys(p.keys), step)
            })
            .collect::<Vec<_>>();
        let hold = plan.write && steps.len() > 1;
        let (txn, outs) = sh.begin_claims(steps, hold).await;
        if hold {
            txn.release(sh).await;
        }
        outs.into_iter().map(downcast).collect()
    } else {
        // Watched keys on several shards: claim everything and read the
        // watched keys first; run the shares only if none changed.
        let mut cmds = Vec::with_capacity(plan.parts.len());
        let steps = plan
            .parts
            .into_iter()
            .map(|p| {
                cmds.push((p.shard, p.cmds));
                let watched = p.watched;
                let step: Step = Box::new(move |there: &Shard| {
                    let mut st = there.store.borrow_mut();
                    st.refresh_clock();
                    for (db, key) in &watched {
                        st.is_live(*db, key);
                    }
                    Box::new(()) as StepOut
                });
                (p.shard, Claim::Keys(p.keys), step)
            })
            .collect();
        let (txn, _) = sh.begin_claims(steps, true).await;
        if flag.as_ref().is_some_and(|f| f.is_dirty()) {
            txn.release(sh).await;
            return Reply::NilArray;
        }
        let steps = cmds
            .into_iter()
            .map(|(shard, cmds)| {
                let step: Step =
                    Box::new(move |there: &Shard| Box::new(Some(run_cmds(there, cmds))) as StepOut);
                (shard, step)
            })
            .collect();
        let (_, outs) = txn.step(sh, steps, true).await;
        outs.into_iter().map(downcast).collect()
    };
    for out in outs {
        let Some(replies) = out else {
            return Reply::NilArray;
        };
        for (i, r) in replies {
            slots[i] = Some(r);
        }
    }
    Reply::Array(
        slots
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Reply::error("ERR shard unavailable")))
            .collect(),
    )
}

fn downcast(out: StepOut) -> Option<Replies> {
    out.downcast::<Option<Replies>>().ok().and_then(|b| *b)
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
            block.end(sh, s).await;
            return Reply::NilArray;
        }
    }
    let mut replies = Vec::with_capacity(queued.len());
    for (_, args) in queued {
        replies.push(block.call(sh, s, args).await);
    }
    block.end(sh, s).await;
    Reply::Array(replies)
}
