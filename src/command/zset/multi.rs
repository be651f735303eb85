//! Sorted-set commands over several keys: ZRANGESTORE, the set algebra
//! (ZUNION, ZINTER, ZDIFF, their STORE forms, ZINTERCARD) and ZMPOP's
//! sorted-set part (its body is shared with the blocking pops in
//! `command::blocking`).
//!
//! Runs on the connection's core as coordinator when keys span shards: the
//! inputs' shards are held while they are read, and a STORE form writes its
//! destination in a second step that releases them all, so every result is
//! one consistent snapshot. Single-key helpers live in the parent module.

use std::rc::Rc;

use futures::future::LocalBoxFuture;

use super::super::on_store;
use super::super::place::Split;
use super::*;
use crate::command::session::Session;
use crate::keyspace::locks::Claim;
use crate::keyspace::slot::ShardId;
use crate::runtime::{Out, Plan};
use crate::services::Shard;

/// The (member, score) pairs ZRANGESTORE copies out of its source, in
/// reply order; Err for a WRONGTYPE source.
fn range_pairs(
    st: &mut Store,
    db: usize,
    src: &[u8],
    r: &RangeReq,
) -> Result<Vec<(Bytes, f64)>, Reply> {
    Ok(match read_zset(st, db, src)? {
        None => Vec::new(),
        Some(z) => select(z, r).into_iter().map(|i| pair(z, i)).collect(),
    })
}

/// Replaces `dst` with a sorted set of `pairs` and raises `event`, or
/// deletes it ("del") when there are none; answers the stored count.
fn store_pairs(
    st: &mut Store,
    db: usize,
    dst: &[u8],
    pairs: &[(Bytes, f64)],
    event: &'static str,
) -> Reply {
    if pairs.is_empty() {
        if st.delete(db, dst) {
            st.notify(notify::GENERIC, "del", db, dst);
        }
        return Reply::Int(0);
    }
    let (max_entries, max_value) = (st.limits.zset_entries, st.limits.zset_value);
    let mut z = ZSetValue::default();
    for (m, s) in pairs {
        z.set(m, *s, max_entries, max_value);
    }
    let n = z.len();
    st.insert(db, dst, Value::ZSet(Box::new(z)), 0);
    st.notify(notify::ZSET, event, db, dst);
    Reply::Int(n as i64)
}

/// ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]
/// with both keys on this shard.
pub fn zrangestore(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    let r = tri!(parse_range_at(a, 2, None, None));
    let pairs = tri!(range_pairs(st, db, &a[2], &r));
    store_pairs(st, db, &a[1], &pairs, "zrangestore")
}

/// ZRANGESTORE with source and destination on different shards: both are
/// held while the range is read on the source and stored on the
/// destination, so no command sees the destination half-written.
pub fn zrangestore_spanning<'a>(
    sh: &'a Rc<Shard>,
    s: &'a mut Session,
    a: Vec<Bytes>,
    split: Split,
) -> LocalBoxFuture<'a, Reply> {
    Box::pin(async move {
        let r = tri!(parse_range_at(&a, 2, None, None));
        let (dst, src) = (a[1].clone(), a[2].clone());
        let (ds, ss) = (split.keys[0].1, split.keys[1].1);
        let mut plan = Plan::new(sh, s.parent);
        let read = plan.part(
            ss,
            Claim::Keys(vec![src.clone()]),
            on_store(s.db, move |st, db| range_pairs(st, db, &src, &r)),
        );
        plan.part(ds, Claim::Keys(vec![dst.clone()]), |_: &Shard| ());
        let mut txn = plan.hold().await;
        let pairs = match read.take() {
            Ok(p) => p,
            Err(e) => {
                txn.release();
                return e;
            }
        };
        let stored = txn.step(
            ds,
            on_store(s.db, move |st, db| {
                store_pairs(st, db, &dst, &pairs, "zrangestore")
            }),
        );
        txn.end().await;
        stored.take()
    })
}

/// Pops from the sorted set at `key` (known non-empty) and answers ZMPOP's
/// `[key, [[member, score] ...]]`, nested in both protocols.
pub(crate) fn mpop_from(st: &mut Store, db: usize, key: &Bytes, max: bool, count: usize) -> Reply {
    let pop = |z: &mut ZSetValue| {
        let n = count.min(z.len());
        (0..n)
            .map(|_| {
                let (m, s) = pair(z, if max { z.len() - 1 } else { 0 });
                z.remove(&m);
                Reply::Array(vec![Reply::Bulk(m), Reply::Double(s)])
            })
            .collect::<Vec<_>>()
    };
    let popped = modify_zset_notify(st, db, key, pop_event(max), pop, |v| !v.is_empty());
    match popped {
        Ok(Some(v)) => Reply::Array(vec![Reply::Bulk(key.clone()), Reply::Array(v)]),
        Ok(None) => Reply::NilArray,
        Err(e) => e,
    }
}

/// The set operation of ZUNION, ZINTER, ZDIFF and their forms.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum SetOp {
    Union,
    Inter,
    Diff,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

impl Aggregate {
    /// Redis's `zunionInterAggregate`: a NaN sum (inf + -inf) becomes 0.
    fn apply(self, acc: f64, v: f64) -> f64 {
        match self {
            Aggregate::Sum => {
                let s = acc + v;
                if s.is_nan() {
                    0.0
                } else {
                    s
                }
            }
            Aggregate::Min => acc.min(v),
            Aggregate::Max => acc.max(v),
        }
    }
}

/// One input of a set operation: None for a missing key; plain sets count
/// with score 1, as in Redis.
type Source = Option<Vec<(Bytes, f64)>>;

/// Reads `key` as a set-operation input (a read lookup, also for the STORE
/// forms, as Redis 7.0); Err for a type other than sorted set or set.
fn read_source(st: &mut Store, db: usize, key: &[u8]) -> Result<Source, ()> {
    match st.read(db, key).map(|e| &e.value) {
        None => Ok(None),
        Some(Value::ZSet(z)) => Ok(Some((0..z.len()).map(|i| pair(z, i)).collect())),
        Some(Value::Set(s)) => Ok(Some(s.members().into_iter().map(|m| (m, 1.0)).collect())),
        Some(_) => Err(()),
    }
}

struct AlgebraOpts {
    weights: Vec<f64>,
    aggregate: Aggregate,
    withscores: bool,
    /// ZINTERCARD's LIMIT; 0 is none.
    limit: usize,
}

/// The options after the keys, with Redis's rules per command form.
fn parse_algebra_opts(
    rest: &[Bytes],
    n: usize,
    op: SetOp,
    store: bool,
    card: bool,
) -> Result<AlgebraOpts, Reply> {
    let mut o = AlgebraOpts {
        weights: vec![1.0; n],
        aggregate: Aggregate::Sum,
        withscores: false,
        limit: 0,
    };
    let mut j = 0;
    while j < rest.len() {
        let remaining = rest.len() - j;
        let w = &rest[j];
        let algebra = op != SetOp::Diff && !card;
        if algebra && remaining > n && eq(w, "weights") {
            for (i, weight) in o.weights.iter_mut().enumerate() {
                *weight =
                    args::parse_float(&rest[j + 1 + i]).ok_or_else(|| err(errors::WEIGHT_FLOAT))?;
            }
            j += 1 + n;
        } else if algebra && remaining >= 2 && eq(w, "aggregate") {
            let v = &rest[j + 1];
            o.aggregate = if eq(v, "sum") {
                Aggregate::Sum
            } else if eq(v, "min") {
                Aggregate::Min
            } else if eq(v, "max") {
                Aggregate::Max
            } else {
                return Err(errors::syntax());
            };
            j += 2;
        } else if !store && !card && eq(w, "withscores") {
            o.withscores = true;
            j += 1;
        } else if card && remaining >= 2 && eq(w, "limit") {
            o.limit = match args::int(&rest[j + 1]) {
                Ok(l) if l >= 0 => l as usize,
                _ => return Err(err(errors::INTERCARD_LIMIT_NEGATIVE)),
            };
            j += 2;
        } else {
            return Err(errors::syntax());
        }
    }
    Ok(o)
}

/// Computes the operation over `sources` (in key order), sorted by
/// (score, member). Union and intersection visit the inputs smallest
/// first, as Redis does, which fixes the order float sums happen in.
fn compute(op: SetOp, sources: Vec<Source>, o: &AlgebraOpts) -> Vec<(Bytes, f64)> {
    let weighted = |v: f64, w: f64| {
        let x = v * w;
        if x.is_nan() {
            0.0
        } else {
            x
        }
    };
    let mut out: Vec<(Bytes, f64)> = match op {
        SetOp::Diff => {
            let mut it = sources.into_iter();
            let first = it.next().flatten().unwrap_or_default();
            let others: Vec<hashbrown::HashSet<Bytes>> = it
                .flatten()
                .map(|v| v.into_iter().map(|(m, _)| m).collect())
                .collect();
            first
                .into_iter()
                .filter(|(m, _)| !others.iter().any(|o| o.contains(m)))
                .collect()
        }
        SetOp::Union => {
            let mut order: Vec<usize> = (0..sources.len()).collect();
            order.sort_by_key(|&i| sources[i].as_ref().map_or(0, Vec::len));
            let mut acc: hashbrown::HashMap<Bytes, f64> = hashbrown::HashMap::new();
            for i in order {
                for (m, v) in sources[i].iter().flatten() {
                    let v = weighted(*v, o.weights[i]);
                    acc.entry(m.clone())
                        .and_modify(|a| *a = o.aggregate.apply(*a, v))
                        .or_insert(v);
                }
            }
            acc.into_iter().collect()
        }
        SetOp::Inter => {
            if sources.iter().any(|s| s.as_ref().is_none_or(Vec::is_empty)) {
                return Vec::new();
            }
            let mut order: Vec<usize> = (0..sources.len()).collect();
            order.sort_by_key(|&i| sources[i].as_ref().map_or(0, Vec::len));
            let maps: Vec<hashbrown::HashMap<&Bytes, f64>> = sources
                .iter()
                .map(|s| s.iter().flatten().map(|(m, v)| (m, *v)).collect())
                .collect();
            let first = order[0];
            let mut res = Vec::new();
            'member: for (m, v) in sources[first].iter().flatten() {
                let mut score = weighted(*v, o.weights[first]);
                for &i in &order[1..] {
                    match maps[i].get(m) {
                        Some(&x) => score = o.aggregate.apply(score, weighted(x, o.weights[i])),
                        None => continue 'member,
                    }
                }
                res.push((m.clone(), score));
            }
            res
        }
    };
    out.sort_by(|(m1, s1), (m2, s2)| crate::keyspace::zset::cmp_entry(*s1, m1, *s2, m2));
    out
}

/// Shared body of ZUNION, ZINTER, ZDIFF, their STORE forms and ZINTERCARD
/// (Redis's `zunionInterDiffGenericCommand`).
///
/// The inputs' shards are held while every input is read (one step per
/// shard); a STORE form then writes the destination in a second step that
/// releases them all, so the result is one consistent snapshot. A wrong
/// type among the inputs wins over an option error, as in Redis, which
/// looks the keys up before parsing the options.
fn algebra_generic<'a>(
    sh: &'a Rc<Shard>,
    s: &'a mut Session,
    a: Vec<Bytes>,
    op: SetOp,
    store: bool,
    card: bool,
) -> LocalBoxFuture<'a, Reply> {
    Box::pin(async move {
        let idx = if store { 2 } else { 1 };
        let n = tri!(args::int(&a[idx]));
        if n < 1 {
            let name = String::from_utf8_lossy(&a[0]).to_ascii_lowercase();
            return errors::at_least_one_key(&name);
        }
        if n as u64 > (a.len() - idx - 1) as u64 {
            return errors::syntax();
        }
        let n = n as usize;
        let keys: Vec<Bytes> = a[idx + 1..idx + 1 + n].to_vec();
        let db = s.db;
        let mut shares: Vec<(ShardId, Vec<usize>)> = Vec::new();
        for (i, key) in keys.iter().enumerate() {
            let shard = sh.slots.shard_of(key);
            match shares.iter_mut().find(|(s, _)| *s == shard) {
                Some((_, idxs)) => idxs.push(i),
                None => shares.push((shard, vec![i])),
            }
        }
        let dst_shard = store.then(|| sh.slots.shard_of(&a[1]));
        let mut plan = Plan::new(sh, s.parent);
        let outs: Vec<Out<Vec<Result<Source, ()>>>> = shares
            .iter()
            .map(|(shard, idxs)| {
                let mine: Vec<Bytes> = idxs.iter().map(|&i| keys[i].clone()).collect();
                let mut claim = mine.clone();
                if dst_shard == Some(*shard) {
                    claim.push(a[1].clone());
                }
                plan.part(
                    *shard,
                    Claim::Keys(claim),
                    on_store(db, move |st, db| {
                        mine.iter()
                            .map(|k| read_source(st, db, k))
                            .collect::<Vec<_>>()
                    }),
                )
            })
            .collect();
        if let Some(ds) = dst_shard {
            if !shares.iter().any(|(s, _)| *s == ds) {
                plan.part(ds, Claim::Keys(vec![a[1].clone()]), |_: &Shard| ());
            }
        }
        let mut txn = if store {
            Some(plan.hold().await)
        } else {
            plan.run().await;
            None
        };
        let mut sources: Vec<Result<Source, ()>> = vec![Ok(None); n];
        for ((_, idxs), out) in shares.iter().zip(outs) {
            for (&i, src) in idxs.iter().zip(out.take()) {
                sources[i] = src;
            }
        }
        let checked: Result<Vec<Source>, Reply> = sources
            .into_iter()
            .collect::<Result<_, ()>>()
            .map_err(|_| errors::wrongtype());
        let parsed = checked.and_then(|srcs| {
            parse_algebra_opts(&a[idx + 1 + n..], n, op, store, card).map(|o| (srcs, o))
        });
        let (sources, o) = match parsed {
            Ok(p) => p,
            Err(e) => {
                if let Some(txn) = txn {
                    txn.release();
                }
                return e;
            }
        };
        let result = compute(op, sources, &o);
        if let (Some(ds), Some(mut txn)) = (dst_shard, txn.take()) {
            let dst = a[1].clone();
            let event = match op {
                SetOp::Union => "zunionstore",
                SetOp::Inter => "zinterstore",
                SetOp::Diff => "zdiffstore",
            };
            let stored = txn.step(
                ds,
                on_store(db, move |st, db| store_pairs(st, db, &dst, &result, event)),
            );
            txn.end().await;
            return stored.take();
        }
        if card {
            let c = if o.limit == 0 {
                result.len()
            } else {
                result.len().min(o.limit)
            };
            return Reply::Int(c as i64);
        }
        if o.withscores {
            pairs_reply(result)
        } else {
            Reply::Array(result.into_iter().map(|(m, _)| Reply::Bulk(m)).collect())
        }
    })
}

/// Defines the coordinated entry points of the set-operation commands, each
/// `algebra_generic` with its operation, STORE form and count-only flag.
macro_rules! algebra_commands {
    ($($(#[$doc:meta])* $name:ident => $op:expr, $store:expr, $card:expr;)*) => {$(
        $(#[$doc])*
        pub fn $name<'a>(sh: &'a Rc<Shard>, s: &'a mut Session, a: Vec<Bytes>) -> LocalBoxFuture<'a, Reply> {
            algebra_generic(sh, s, a, $op, $store, $card)
        }
    )*};
}

algebra_commands! {
    /// ZUNION numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]
    zunion => SetOp::Union, false, false;
    /// ZINTER numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]
    zinter => SetOp::Inter, false, false;
    /// ZDIFF numkeys key [key ...] [WITHSCORES]
    zdiff => SetOp::Diff, false, false;
    /// ZUNIONSTORE destination numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX]
    zunionstore => SetOp::Union, true, false;
    /// ZINTERSTORE destination numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX]
    zinterstore => SetOp::Inter, true, false;
    /// ZDIFFSTORE destination numkeys key [key ...]
    zdiffstore => SetOp::Diff, true, false;
    /// ZINTERCARD numkeys key [key ...] [LIMIT limit]
    zintercard => SetOp::Inter, false, true;
}
