//! Multi-key commands whose keys live on several shards: split the keys by
//! owning shard, run the command's own keyed handler on each shard's share as
//! one ordered multi-shard operation, and merge the replies.
//!
//! Runs on the connection's core (the coordinator). Reads release each shard
//! as soon as its share is read; writes hold every shard until all shares are
//! written, so no client sees a write half done (see `shard::core`).

use std::rc::Rc;

use bytes::Bytes;

use super::table::KeyedFn;
use crate::resp::Reply;
use crate::server::session::Session;
use crate::shard::core::Shard;
use crate::shard::locks::Claim;
use crate::shard::router::{Step, StepOut};
use crate::shard::slot::ShardId;
use crate::shard::store::Store;

/// One shard's share: its sub-command and, per key group, the group's
/// position among all groups.
struct Share {
    shard: ShardId,
    args: Vec<Bytes>,
    groups: Vec<usize>,
}

/// Splits `a` (name, then groups of `step` arguments starting with a key)
/// into per-shard sub-commands, in first-seen shard order.
fn split(sh: &Shard, a: &[Bytes], step: usize) -> Vec<Share> {
    let mut shares: Vec<Share> = Vec::new();
    for (g, group) in a[1..].chunks(step).enumerate() {
        let shard = sh.slots.shard_of(&group[0]);
        let share = match shares.iter_mut().position(|s| s.shard == shard) {
            Some(i) => &mut shares[i],
            None => {
                shares.push(Share {
                    shard,
                    args: vec![a[0].clone()],
                    groups: Vec::new(),
                });
                shares.last_mut().expect("just pushed")
            }
        };
        share.args.extend(group.iter().cloned());
        share.groups.push(g);
    }
    shares
}

/// A step that runs keyed handler `f` on this shard's share.
fn keyed_step(f: KeyedFn, db: usize, args: Vec<Bytes>) -> Step {
    Box::new(move |shard: &Shard| {
        let mut st = shard.store.borrow_mut();
        st.refresh_clock();
        Box::new(f(&mut st, db, &args)) as StepOut
    })
}

fn reply_of(out: StepOut) -> Reply {
    *out.downcast::<Reply>()
        .unwrap_or_else(|_| Box::new(Reply::error("ERR internal step output")))
}

/// The keys of a share (every `step`-th argument after the name).
fn claim(share: &Share, step: usize) -> Claim {
    Claim::Keys(share.args[1..].iter().step_by(step).cloned().collect())
}

/// Runs `f` on every share; a writer holds its keys on all shards until all
/// shares are done.
async fn run(
    sh: &Rc<Shard>,
    shares: Vec<Share>,
    db: usize,
    f: KeyedFn,
    write: bool,
    step: usize,
) -> Vec<Reply> {
    let parts = shares
        .into_iter()
        .map(|s| (s.shard, claim(&s, step), keyed_step(f, db, s.args)))
        .collect();
    let (txn, outs) = sh.begin_claims(parts, write).await;
    if write {
        txn.release(sh).await;
    }
    outs.into_iter().map(reply_of).collect()
}

/// MGET-style: each share answers an array in its key order; the result
/// puts every element back at its key's position.
pub async fn positional(sh: &Rc<Shard>, s: &Session, a: Vec<Bytes>, f: KeyedFn) -> Reply {
    let shares = split(sh, &a, 1);
    let groups: Vec<Vec<usize>> = shares.iter().map(|s| s.groups.clone()).collect();
    let replies = run(sh, shares, s.db, f, false, 1).await;
    let mut merged = vec![Reply::Nil; a.len() - 1];
    for (groups, reply) in groups.iter().zip(replies) {
        match reply {
            Reply::Array(items) => {
                for (g, item) in groups.iter().zip(items) {
                    merged[*g] = item;
                }
            }
            other => return other,
        }
    }
    Reply::Array(merged)
}

/// DEL/EXISTS-style: the integer replies add up.
pub async fn sum(sh: &Rc<Shard>, s: &Session, a: Vec<Bytes>, f: KeyedFn, write: bool) -> Reply {
    let shares = split(sh, &a, 1);
    let mut total = 0;
    for reply in run(sh, shares, s.db, f, write, 1).await {
        match reply {
            Reply::Int(n) => total += n,
            other => return other,
        }
    }
    Reply::Int(total)
}

/// MSET-style: every share must answer OK.
pub async fn all_ok(sh: &Rc<Shard>, s: &Session, a: Vec<Bytes>, step: usize, f: KeyedFn) -> Reply {
    let shares = split(sh, &a, step);
    for reply in run(sh, shares, s.db, f, true, step).await {
        if reply != Reply::Ok {
            return reply;
        }
    }
    Reply::Ok
}

/// MSETNX across shards: check every share for existing keys while holding
/// all shards, then write all or nothing.
pub async fn msetnx(
    sh: &Rc<Shard>,
    s: &Session,
    a: Vec<Bytes>,
    exists: KeyedFn,
    mset: KeyedFn,
) -> Reply {
    let db = s.db;
    let shares = split(sh, &a, 2);
    let checks = shares
        .iter()
        .map(|share| {
            let keys: Vec<Bytes> = std::iter::once(Bytes::from_static(b"exists"))
                .chain(share.args[1..].chunks(2).map(|kv| kv[0].clone()))
                .collect();
            (share.shard, claim(share, 2), keyed_step(exists, db, keys))
        })
        .collect();
    let (txn, outs) = sh.begin_claims(checks, true).await;
    let any = outs.into_iter().map(reply_of).any(|r| r != Reply::Int(0));
    if any {
        txn.release(sh).await;
        return Reply::Int(0);
    }
    let writes = shares
        .iter()
        .map(|share| (share.shard, keyed_step(mset, db, share.args.clone())))
        .collect();
    txn.step(sh, writes, true).await;
    Reply::Int(1)
}

/// Reads one value per key on its owning shard, as one consistent cut.
pub async fn read_each<T, F>(sh: &Rc<Shard>, reads: Vec<(Bytes, F)>) -> Vec<T>
where
    T: Send + 'static,
    F: FnOnce(&mut Store) -> T + Send + 'static,
{
    let steps = reads
        .into_iter()
        .map(|(key, f)| {
            let step: Step = Box::new(move |shard: &Shard| {
                let mut st = shard.store.borrow_mut();
                st.refresh_clock();
                Box::new(f(&mut st)) as StepOut
            });
            (sh.slots.shard_of(&key), Claim::Keys(vec![key]), step)
        })
        .collect();
    let (_, outs) = sh.begin_claims(steps, false).await;
    outs.into_iter()
        .map(|o| *o.downcast::<T>().expect("step output type"))
        .collect()
}
