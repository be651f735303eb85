//! Multi-key commands whose keys live on several shards: split the keys by
//! owning shard, run the command's own keyed handler on each shard's share as
//! one ordered multi-shard operation, and merge the replies.
//!
//! Runs on the connection's core (the coordinator). Reads release each shard
//! as soon as its share is read; writes hold every shard until all shares are
//! written, so no client sees a write half done (see `shard::core`).

use std::rc::Rc;

use bytes::Bytes;

use super::table::{flags, CommandSpec, KeyedFn, Merge};
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
    super::store_step(db, move |st, db| f(st, db, &args))
}

fn reply_of(out: StepOut) -> Reply {
    *out.downcast::<Reply>()
        .unwrap_or_else(|_| Box::new(Reply::error("ERR internal step output")))
}

/// The keys of a share (every `step`-th argument after the name).
fn claim(share: &Share, step: usize) -> Claim {
    Claim::Keys(share.args[1..].iter().step_by(step).cloned().collect())
}

/// A fanout command spanning shards, as dispatch hands it over.
pub struct Fanout {
    pub spec: &'static CommandSpec,
    pub f: KeyedFn,
    pub merge: Merge,
    pub args: Vec<Bytes>,
}

/// One shard's part of a group: the sub-commands of every member that has
/// keys there, run in member order by one step.
struct Part {
    shard: ShardId,
    keys: Vec<Bytes>,
    subs: Vec<(usize, KeyedFn, Vec<Bytes>)>,
}

/// Runs consecutive fanout commands of one connection (MGET, MSET, DEL,
/// EXISTS …, keys on several shards) as ONE multi-shard operation: one
/// step per shard runs every member's share there in order, and each
/// member's replies merge. Members are atomic because the whole group is;
/// a pipeline of 16 MSETs costs one round of hops instead of sixteen.
pub async fn run_group(sh: &Rc<Shard>, db: usize, group: &[Fanout]) -> Vec<Reply> {
    let mut replies: Vec<Option<Reply>> = vec![None; group.len()];
    let mut parts: Vec<Part> = Vec::new();
    let mut layouts: Vec<Vec<(usize, Vec<usize>)>> = vec![Vec::new(); group.len()];
    let mut write = false;
    for (m, member) in group.iter().enumerate() {
        let step = member.spec.step.max(1) as usize;
        if step == 2 && member.args.len() % 2 == 0 {
            replies[m] = Some(super::errors::arity(member.spec.name));
            continue;
        }
        write |= member.spec.has(flags::WRITE);
        for share in split(sh, &member.args, step) {
            let p = match parts.iter().position(|p| p.shard == share.shard) {
                Some(p) => p,
                None => {
                    parts.push(Part {
                        shard: share.shard,
                        keys: Vec::new(),
                        subs: Vec::new(),
                    });
                    parts.len() - 1
                }
            };
            if let Claim::Keys(k) = claim(&share, step) {
                parts[p].keys.extend(k);
            }
            layouts[m].push((p, share.groups));
            parts[p].subs.push((m, member.f, share.args));
        }
    }
    let steps = parts
        .into_iter()
        .map(|p| {
            let step: Step = Box::new(move |shard: &Shard| {
                let mut st = shard.store.borrow_mut();
                st.refresh_clock();
                let out: Vec<(usize, Reply)> = p
                    .subs
                    .iter()
                    .map(|(m, f, args)| (*m, f(&mut st, db, args)))
                    .collect();
                Box::new(out) as StepOut
            });
            (p.shard, Claim::Keys(p.keys), step)
        })
        .collect();
    let (txn, outs) = sh.begin_claims(steps, write).await;
    if write {
        txn.release(sh).await;
    }
    // Per member, its share replies in part order.
    let mut shares: Vec<Vec<(usize, Reply)>> = vec![Vec::new(); group.len()];
    for (p, out) in outs.into_iter().enumerate() {
        let out = *out
            .downcast::<Vec<(usize, Reply)>>()
            .expect("group step output");
        for (m, r) in out {
            shares[m].push((p, r));
        }
    }
    for (m, member) in group.iter().enumerate() {
        if replies[m].is_some() {
            continue;
        }
        let mut by_part: Vec<(usize, Reply)> = std::mem::take(&mut shares[m]);
        let mut merged = match member.merge {
            Merge::Positional => Reply::Array(vec![Reply::Nil; member.args.len() - 1]),
            Merge::Sum => Reply::Int(0),
            Merge::AllOk => Reply::Ok,
        };
        for (p, groups) in &layouts[m] {
            let Some(i) = by_part.iter().position(|(q, _)| q == p) else {
                continue;
            };
            let (_, r) = by_part.swap_remove(i);
            merged = match (merged, r, member.merge) {
                (e @ Reply::Error(_), _, _) => e,
                (_, e @ Reply::Error(_), _) => e,
                (Reply::Array(mut all), Reply::Array(items), Merge::Positional) => {
                    for (g, item) in groups.iter().zip(items) {
                        all[*g] = item;
                    }
                    Reply::Array(all)
                }
                (Reply::Int(a), Reply::Int(b), Merge::Sum) => Reply::Int(a + b),
                (Reply::Ok, Reply::Ok, Merge::AllOk) => Reply::Ok,
                (_, other, _) => other,
            };
        }
        replies[m] = Some(merged);
    }
    replies
        .into_iter()
        .map(|r| r.unwrap_or(Reply::Nil))
        .collect()
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
