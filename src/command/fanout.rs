//! Multi-key commands whose keys live on several shards: split the keys by
//! owning shard (already known: `place::Split`), run the command's own
//! keyed handler on each shard's share as one ordered multi-shard
//! operation, and merge the replies.
//!
//! Runs on the connection's core (the coordinator). Reads release each shard
//! as soon as its share is read; writes hold every shard until all shares are
//! written, so no client sees a write half done (see `runtime::txn`).

use std::rc::Rc;

use bytes::Bytes;

use super::errors;
use super::on_store;
use super::place::Split;
use super::table::{flags, CommandSpec, Handler, KeyedFn, Merge};
use crate::keyspace::locks::Claim;
use crate::keyspace::slot::ShardId;
use crate::keyspace::store::Store;
use crate::keyspace::tracking::Caller;
use crate::resp::Reply;
use crate::runtime::{Out, Plan, TxId};
use crate::services::Shard;

/// One shard's share of a command: its sub-command and, per key group,
/// the group's position among all groups.
struct Share {
    shard: ShardId,
    args: Vec<Bytes>,
    groups: Vec<usize>,
}

/// Splits `a` (name, then groups of `step` arguments starting with a key)
/// into per-shard sub-commands, in first-seen shard order.
fn split(a: &[Bytes], keys: &Split, step: usize) -> Vec<Share> {
    let mut shares: Vec<Share> = Vec::new();
    for &(pos, shard) in &keys.keys {
        let g = (pos - 1) / step;
        let share = match shares.iter().position(|s| s.shard == shard) {
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
        share
            .args
            .extend(a[pos..(pos + step).min(a.len())].iter().cloned());
        share.groups.push(g);
    }
    shares
}

/// The keys of a share (every `step`-th argument after the name).
fn claim(share: &Share, step: usize) -> Claim {
    Claim::Keys(share.args[1..].iter().step_by(step).cloned().collect())
}

/// A fanout command spanning shards, as placement hands it over.
pub struct Fanout {
    pub spec: &'static CommandSpec,
    pub args: Vec<Bytes>,
    pub split: Split,
    /// The client it runs for (client-side caching: its reads are
    /// remembered, its writes named for NOLOOP).
    pub caller: Caller,
    /// Its lookups leave access times alone (CLIENT NO-TOUCH, EXISTS).
    pub no_touch: bool,
}

impl Fanout {
    fn handler(&self) -> Option<(KeyedFn, Merge)> {
        match self.spec.handler {
            Handler::Fanout(f, merge) => Some((f, merge)),
            _ => None,
        }
    }
}

/// One shard's part of a group: the sub-commands of every member that has
/// keys there, run in member order by one step.
struct Part {
    shard: ShardId,
    keys: Vec<Bytes>,
    subs: Vec<Sub>,
}

/// One member's share on one shard.
struct Sub {
    member: usize,
    run: KeyedFn,
    args: Vec<Bytes>,
    /// Arguments per key group (its first is the key).
    step: usize,
    caller: Caller,
    no_touch: bool,
}

/// Runs consecutive fanout commands of one connection (MGET, MSET, DEL,
/// EXISTS …, keys on several shards) as ONE multi-shard operation (inside
/// `parent` if given): one step per shard runs every member's share there
/// in order, and each member's replies merge. Members are atomic because
/// the whole group is; a pipeline of 16 MSETs costs one round of hops
/// instead of sixteen.
pub async fn run_group(
    sh: &Rc<Shard>,
    db: usize,
    parent: Option<TxId>,
    group: &[Fanout],
) -> Vec<Reply> {
    let mut replies: Vec<Option<Reply>> = vec![None; group.len()];
    let mut parts: Vec<Part> = Vec::new();
    let mut layouts: Vec<Vec<(usize, Vec<usize>)>> = vec![Vec::new(); group.len()];
    let mut write = false;
    for (m, member) in group.iter().enumerate() {
        let step = member.spec.step.max(1) as usize;
        let Some((f, _)) = member.handler() else {
            replies[m] = Some(errors::internal("not a fanout command"));
            continue;
        };
        if step == 2 && member.args.len() % 2 == 0 {
            replies[m] = Some(super::errors::arity(member.spec.name));
            continue;
        }
        write |= member.spec.has(flags::WRITE);
        for share in split(&member.args, &member.split, step) {
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
            parts[p].subs.push(Sub {
                member: m,
                run: f,
                args: share.args,
                step,
                caller: member.caller,
                no_touch: member.no_touch,
            });
        }
    }
    let mut plan = Plan::new(sh, parent);
    let outs: Vec<Out<Vec<(usize, Reply)>>> = parts
        .into_iter()
        .map(|p| {
            let run = on_store(db, move |st: &mut Store, db| {
                let replies = p
                    .subs
                    .iter()
                    .map(|sub| {
                        st.tracking.caller = sub.caller;
                        st.no_touch = sub.no_touch;
                        let reply = (sub.run)(st, db, &sub.args);
                        if sub.caller.track {
                            for key in sub.args[1..].iter().step_by(sub.step) {
                                st.tracking.remember(key, sub.caller);
                            }
                        }
                        (sub.member, reply)
                    })
                    .collect();
                st.tracking.caller = Caller::default();
                st.no_touch = false;
                replies
            });
            plan.part(p.shard, Claim::Keys(p.keys), run)
        })
        .collect();
    if write {
        plan.hold().await.release();
    } else {
        plan.run().await;
    }
    // Per member, its share replies in part order.
    let mut shares: Vec<Vec<(usize, Reply)>> = vec![Vec::new(); group.len()];
    for (p, out) in outs.into_iter().enumerate() {
        for (m, r) in out.take() {
            shares[m].push((p, r));
        }
    }
    for (m, member) in group.iter().enumerate() {
        if replies[m].is_some() {
            continue;
        }
        let Some((_, merge)) = member.handler() else {
            continue;
        };
        let mut by_part: Vec<(usize, Reply)> = std::mem::take(&mut shares[m]);
        let mut merged = match merge {
            Merge::Positional => Reply::Array(vec![Reply::Nil; member.args.len() - 1]),
            Merge::Sum => Reply::Int(0),
            Merge::AllOk => Reply::Ok,
        };
        for (p, groups) in &layouts[m] {
            let Some(i) = by_part.iter().position(|(q, _)| q == p) else {
                continue;
            };
            let (_, r) = by_part.swap_remove(i);
            merged = match (merged, r, merge) {
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
    db: usize,
    parent: Option<TxId>,
    a: Vec<Bytes>,
    keys: &Split,
    exists: KeyedFn,
    mset: KeyedFn,
) -> Reply {
    let shares = split(&a, keys, 2);
    let mut plan = Plan::new(sh, parent);
    let checks: Vec<Out<Reply>> = shares
        .iter()
        .map(|share| {
            let keys: Vec<Bytes> = std::iter::once(Bytes::from_static(b"exists"))
                .chain(share.args[1..].chunks(2).map(|kv| kv[0].clone()))
                .collect();
            let check = on_store(db, move |st: &mut Store, db| exists(st, db, &keys));
            plan.part(share.shard, claim(share, 2), check)
        })
        .collect();
    let mut txn = plan.hold().await;
    if checks.into_iter().any(|c| c.take() != Reply::Int(0)) {
        txn.release();
        return Reply::Int(0);
    }
    for share in shares {
        let args = share.args;
        txn.step(
            share.shard,
            on_store(db, move |st: &mut Store, db| mset(st, db, &args)),
        );
    }
    txn.end().await;
    Reply::Int(1)
}

/// Reads one value per key (with its owning shard) as one consistent cut
/// (inside `parent` if given).
pub async fn read_each<T, F>(
    sh: &Rc<Shard>,
    parent: Option<TxId>,
    reads: Vec<(ShardId, Bytes, F)>,
) -> Vec<T>
where
    T: Send + 'static,
    F: FnOnce(&mut Store) -> T + Send + 'static,
{
    // One part per shard, reading that shard's keys in order: (position
    // in `reads`, key, read) for each.
    type Part<F> = Vec<(usize, Bytes, F)>;
    let mut by_shard: Vec<(ShardId, Part<F>)> = Vec::new();
    for (i, (shard, key, f)) in reads.into_iter().enumerate() {
        match by_shard.iter_mut().find(|(s, _)| *s == shard) {
            Some((_, v)) => v.push((i, key, f)),
            None => by_shard.push((shard, vec![(i, key, f)])),
        }
    }
    let n: usize = by_shard.iter().map(|(_, v)| v.len()).sum();
    let mut plan = Plan::new(sh, parent);
    let outs: Vec<Out<Vec<(usize, T)>>> = by_shard
        .into_iter()
        .map(|(shard, reads)| {
            let keys = reads.iter().map(|(_, k, _)| k.clone()).collect();
            plan.part(shard, Claim::Keys(keys), move |there: &Shard| {
                let mut st = there.store.borrow_mut();
                st.refresh_clock();
                reads.into_iter().map(|(i, _, f)| (i, f(&mut st))).collect()
            })
        })
        .collect();
    plan.run().await;
    let mut slots: Vec<Option<T>> = (0..n).map(|_| None).collect();
    for out in outs {
        for (i, v) in out.take() {
            slots[i] = Some(v);
        }
    }
    slots.into_iter().flatten().collect()
}
