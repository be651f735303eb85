//! Set commands: SADD … SSCAN, as Redis 7.0 answers them.
//!
//! Keyed handlers run on the set's owning shard over its `Store`. SMOVE and
//! the algebra (SINTER, SUNION, SDIFF and their *STORE forms) have a
//! `*_spanning` form for keys on several shards: one ordered multi-shard
//! operation that claims the involved keys, reads the sources as owned
//! copies in its first step, computes on the connection's core and, for a
//! write, applies it in a second step that releases every shard, so no client
//! sees a half-done move or store. SINTERCARD is coordinated, because its
//! keys follow numkeys, which the table's first/last/step cannot describe.
//!
//! Invariants: an empty set is never stored — whatever removes the last
//! member deletes the key. Checks run in Redis 7.0's order (argument
//! parsing, key lookup and type, then the rest). Reads, and the sources of
//! the *STORE forms, count keyspace hits and misses (a miss raises
//! "keymiss"); writes and SMOVE do not (`lookupKeyWrite`).
//!
//! Keyspace events are Redis 7.0's: "sadd", "srem", "spop", SMOVE's "srem"
//! then "sadd", "sinterstore"/"sunionstore"/"sdiffstore" (or "del" when an
//! empty result deletes the destination), and "del" after a change that
//! empties a set.
//!
//! Limits: the algebra copies its input sets even when they share a shard,
//! which costs O(total members) where Redis's SINTER is O(smallest × n).

use std::rc::Rc;

use bytes::Bytes;
use futures::future::LocalBoxFuture;
use rand::Rng;

use super::args::{self, eq};
use super::errors::{self, err};
use super::on_store;
use super::place::Split;
use super::session::Session;
use crate::keyspace::locks::Claim;
use crate::keyspace::notify;
use crate::keyspace::set::{Elem, SetValue};
use crate::keyspace::slot::ShardId;
use crate::keyspace::store::Store;
use crate::keyspace::value::Value;
use crate::resp::Reply;
use crate::runtime::{Out, Plan, TxId, Txn};
use crate::services::{Services, Shard};

/// The set at `key`: Ok(None) when absent, Err(WRONGTYPE) for another type.
/// `read` counts a keyspace hit or miss.
fn get_set<'a>(
    st: &'a mut Store,
    db: usize,
    key: &[u8],
    read: bool,
) -> Result<Option<&'a mut SetValue>, Reply> {
    let e = if read {
        st.read(db, key)
    } else {
        st.lookup(db, key)
    };
    match e {
        None => Ok(None),
        Some(e) => match &mut e.value {
            Value::Set(s) => Ok(Some(s)),
            _ => Err(errors::wrongtype()),
        },
    }
}

/// Runs `f` on the set at `key` in place: Ok(None) when absent,
/// Err(WRONGTYPE) for another type. Deletes the key if `f` empties the set.
fn modify_set<R>(
    st: &mut Store,
    db: usize,
    key: &[u8],
    f: impl FnOnce(&mut SetValue) -> R,
) -> Result<Option<R>, Reply> {
    fn pick(v: &mut Value) -> Option<&mut SetValue> {
        match v {
            Value::Set(c) => Some(c),
            _ => None,
        }
    }
    super::modify_collection(st, db, key, pick, SetValue::is_empty, f)
}

/// `modify_set`, raising `event` when `changed` says `f` changed the set,
/// then "del" when it was emptied and deleted.
fn modify_set_notify<R>(
    st: &mut Store,
    db: usize,
    key: &[u8],
    event: &'static str,
    f: impl FnOnce(&mut SetValue) -> R,
    changed: impl FnOnce(&R) -> bool,
) -> Result<Option<R>, Reply> {
    let res = modify_set(st, db, key, |s| {
        let r = f(s);
        (r, s.is_empty())
    })?;
    Ok(res.map(|(r, emptied)| {
        if changed(&r) {
            st.notify_emptied(notify::SET, event, db, key, emptied);
        }
        r
    }))
}

/// Removes `members` from the set at `key` (raising "srem", and "del" when
/// it empties); returns how many were there.
fn remove_members(st: &mut Store, db: usize, key: &[u8], members: &[Bytes]) -> Result<i64, Reply> {
    let remove = |s: &mut SetValue| members.iter().filter(|m| s.remove(m)).count() as i64;
    Ok(modify_set_notify(st, db, key, "srem", remove, |&n| n > 0)?.unwrap_or(0))
}

/// Adds `members` to the set at `key`, creating it when absent, and raises
/// "sadd" when one was new; returns how many were new.
fn add_members(st: &mut Store, db: usize, key: &[u8], members: &[Bytes]) -> Result<i64, Reply> {
    let max = st.limits.set_intset_entries;
    let add = |s: &mut SetValue| members.iter().filter(|m| s.insert(m, max)).count() as i64;
    let n = match modify_set(st, db, key, add)? {
        Some(n) => n,
        None => {
            let mut s = SetValue::default();
            let n = add(&mut s);
            st.insert(db, key, Value::Set(Box::new(s)), 0);
            n
        }
    };
    if n > 0 {
        st.notify(notify::SET, "sadd", db, key);
    }
    Ok(n)
}

fn set_reply(members: Vec<Bytes>) -> Reply {
    Reply::Set(members.into_iter().map(Reply::Bulk).collect())
}

/// SADD key member [member ...]
pub fn sadd(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    Reply::Int(tri!(add_members(st, db, &a[1], &a[2..])))
}

/// SREM key member [member ...]
pub fn srem(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    Reply::Int(tri!(remove_members(st, db, &a[1], &a[2..])))
}

/// SMEMBERS key
pub fn smembers(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    let s = tri!(get_set(st, db, &a[1], true));
    set_reply(s.map_or_else(Vec::new, |s| s.members()))
}

/// SISMEMBER key member
pub fn sismember(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    let s = tri!(get_set(st, db, &a[1], true));
    Reply::Int(s.is_some_and(|s| s.contains(&a[2])) as i64)
}

/// SMISMEMBER key member [member ...]
pub fn smismember(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    let s = tri!(get_set(st, db, &a[1], true));
    Reply::Array(
        a[2..]
            .iter()
            .map(|m| Reply::Int(s.as_ref().is_some_and(|s| s.contains(m)) as i64))
            .collect(),
    )
}

/// SCARD key
pub fn scard(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    let s = tri!(get_set(st, db, &a[1], true));
    Reply::Int(s.map_or(0, |s| s.len() as i64))
}

/// SPOP key [count]: without a count a bulk or nil; with one a set (RESP3
/// `~`), the whole set (and the key deleted) when count ≥ its size.
pub fn spop(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    if a.len() > 3 {
        return errors::syntax();
    }
    let count = match a.get(2) {
        None => None,
        Some(c) => match args::int(c) {
            Ok(n) if n >= 0 => Some(n as usize),
            _ => return err(errors::MUST_BE_POSITIVE),
        },
    };
    let mut rng = std::mem::replace(&mut st.rng, rand::SeedableRng::seed_from_u64(0));
    let popped = modify_set_notify(
        st,
        db,
        &a[1],
        "spop",
        |s| match count {
            None => {
                let i = rng.gen_range(0..s.len());
                s.take(i).map_or(Reply::Nil, Reply::Bulk)
            }
            Some(n) if n >= s.len() => {
                // The whole set, in its own order (Redis answers it as SUNION).
                let all = s.members();
                *s = SetValue::default();
                set_reply(all)
            }
            Some(n) => set_reply(
                (0..n)
                    .filter_map(|_| {
                        let i = rng.gen_range(0..s.len());
                        s.take(i)
                    })
                    .collect(),
            ),
        },
        |_| count != Some(0),
    );
    st.rng = rng;
    match (tri!(popped), count) {
        (Some(r), _) => r,
        (None, None) => Reply::Nil,
        (None, Some(_)) => Reply::Set(Vec::new()),
    }
}

/// SRANDMEMBER key [count]: a negative count may repeat members; the reply
/// with a count is always an array (also in RESP3, as Redis 7.0).
pub fn srandmember(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    if a.len() > 3 {
        return errors::syntax();
    }
    let count = match a.get(2) {
        None => None,
        Some(c) => {
            let n = tri!(args::int(c));
            if n == i64::MIN {
                return err(errors::RANDOM_COUNT_RANGE);
            }
            Some(n)
        }
    };
    let mut rng = std::mem::replace(&mut st.rng, rand::SeedableRng::seed_from_u64(0));
    let reply = match get_set(st, db, &a[1], true) {
        Err(e) => e,
        Ok(None) => match count {
            None => Reply::Nil,
            Some(_) => Reply::Array(Vec::new()),
        },
        Ok(Some(s)) => {
            let len = s.len();
            match count {
                None => s
                    .get(rng.gen_range(0..len))
                    .map_or(Reply::Nil, |e| Reply::Bulk(e.to_bytes())),
                Some(n) if n < 0 => Reply::Array(
                    (0..n.unsigned_abs())
                        .filter_map(|_| s.get(rng.gen_range(0..len)))
                        .map(|e| Reply::Bulk(e.to_bytes()))
                        .collect(),
                ),
                Some(n) if n as u64 >= len as u64 => {
                    Reply::Array(s.members().into_iter().map(Reply::Bulk).collect())
                }
                Some(n) => Reply::Array(
                    rand::seq::index::sample(&mut rng, len, n as usize)
                        .into_iter()
                        .filter_map(|i| s.get(i))
                        .map(|e| Reply::Bulk(e.to_bytes()))
                        .collect(),
                ),
            }
        }
    };
    st.rng = rng;
    reply
}

/// SMOVE source destination member, both keys on this shard.
pub fn smove(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    let (src, dst, m) = (&a[1], &a[2], &a[3]);
    let has = match get_set(st, db, src, false) {
        Ok(None) => return Reply::Int(0),
        Err(e) => return e,
        Ok(Some(s)) => s.contains(m),
    };
    tri!(get_set(st, db, dst, false));
    if src == dst || !has {
        return Reply::Int(has as i64);
    }
    tri!(remove_members(st, db, src, std::slice::from_ref(m)));
    tri!(add_members(st, db, dst, std::slice::from_ref(m)));
    Reply::Int(1)
}

/// What the first step of a spanning SMOVE finds on one side.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Missing,
    WrongType,
    /// A set; for the source, whether it holds the member.
    Set(bool),
}

fn probe_side(st: &mut Store, db: usize, key: &[u8], member: &[u8]) -> Side {
    match get_set(st, db, key, false) {
        Ok(None) => Side::Missing,
        Err(_) => Side::WrongType,
        Ok(Some(s)) => Side::Set(s.contains(member)),
    }
}

/// SMOVE with source and destination on different shards.
///
/// Both keys are claimed and held: the first step checks the source (and
/// whether it holds the member) and the destination's type; only if all
/// pass does the second step remove it from the source and add it to the
/// destination, releasing both. Nothing runs on either key in between, so a
/// member is moved exactly once, never lost or duplicated.
pub fn smove_spanning<'a>(
    sh: &'a Rc<Shard>,
    s: &'a mut Session,
    a: Vec<Bytes>,
    split: Split,
) -> LocalBoxFuture<'a, Reply> {
    Box::pin(async move {
        let (src, dst, m) = (a[1].clone(), a[2].clone(), a[3].clone());
        let (ss, ds) = (split.keys[0].1, split.keys[1].1);
        let db = s.db;
        let (k1, k2, m1, m2) = (src.clone(), dst.clone(), m.clone(), m.clone());
        let mut plan = Plan::new(sh, s.parent);
        let from = plan.part(
            ss,
            Claim::Keys(vec![src.clone()]),
            on_store(db, move |st, db| probe_side(st, db, &k1, &m1)),
        );
        let to = plan.part(
            ds,
            Claim::Keys(vec![dst.clone()]),
            on_store(db, move |st, db| probe_side(st, db, &k2, &m2)),
        );
        let mut txn = plan.hold().await;
        let early = match (from.take(), to.take()) {
            (Side::Missing, _) => Some(Reply::Int(0)),
            (Side::WrongType, _) | (_, Side::WrongType) => Some(errors::wrongtype()),
            (Side::Set(false), _) => Some(Reply::Int(0)),
            _ => None,
        };
        if let Some(r) = early {
            txn.release();
            return r;
        }
        let m2 = m.clone();
        txn.step(
            ss,
            on_store(db, move |st, db| {
                let _ = remove_members(st, db, &src, &[m]);
            }),
        );
        txn.step(
            ds,
            on_store(db, move |st, db| {
                let _ = add_members(st, db, &dst, &[m2]);
            }),
        );
        txn.end().await;
        Reply::Int(1)
    })
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Op {
    Inter,
    Union,
    Diff,
}

/// Owned copies of the sets at `keys` (None when absent), or WRONGTYPE if
/// any key holds another type (Redis type-checks every key, missing or not).
/// Looked up as reads (Redis 7.0's `lookupKeyRead`, also for the *STORE
/// forms).
fn load_sets(st: &mut Store, db: usize, keys: &[Bytes]) -> Result<Vec<Option<SetValue>>, Reply> {
    keys.iter()
        .map(|k| get_set(st, db, k, true).map(|s| s.map(|s| s.clone())))
        .collect()
}

/// The intersection's size, counting at most `limit` (0 = no limit), or
/// the intersection itself when `out` is given.
fn intersect(sets: &[Option<&SetValue>], limit: usize, mut out: Option<&mut SetValue>) -> usize {
    let Some(mut sets) = sets.iter().copied().collect::<Option<Vec<&SetValue>>>() else {
        return 0;
    };
    sets.sort_by_key(|s| s.len());
    let Some((first, rest)) = sets.split_first() else {
        return 0;
    };
    let mut n = 0;
    for e in first.iter() {
        if rest.iter().all(|s| s.contains_elem(e)) {
            n += 1;
            if let Some(out) = out.as_deref_mut() {
                out.insert_elem(e, usize::MAX);
            }
            if limit != 0 && n >= limit {
                break;
            }
        }
    }
    n
}

/// The result of `op` over `sets` (None = absent = empty), built member by
/// member so that its encoding follows SADD's rules, as Redis's does.
fn compute(op: Op, sets: &[Option<&SetValue>], intset_max: usize) -> SetValue {
    let mut out = SetValue::default();
    match op {
        Op::Inter => {
            let mut tmp = SetValue::default();
            intersect(sets, 0, Some(&mut tmp));
            for e in tmp.iter() {
                out.insert_elem(e, intset_max);
            }
        }
        Op::Union => {
            for s in sets.iter().flatten() {
                for e in s.iter() {
                    out.insert_elem(e, intset_max);
                }
            }
        }
        Op::Diff => {
            if let Some(Some(first)) = sets.first() {
                for e in first.iter() {
                    if !sets[1..].iter().flatten().any(|s| s.contains_elem(e)) {
                        out.insert_elem(e, intset_max);
                    }
                }
            }
        }
    }
    out
}

/// Writes a *STORE result: the destination replaced (TTL dropped) and
/// `op`'s event raised, or the destination deleted ("del") when the result
/// is empty. Returns the reply.
fn store_result(st: &mut Store, db: usize, dst: &[u8], result: SetValue, op: Op) -> Reply {
    let n = result.len() as i64;
    if n == 0 {
        if st.delete(db, dst) {
            st.notify(notify::GENERIC, "del", db, dst);
        }
    } else {
        st.insert(db, dst, Value::Set(Box::new(result)), 0);
        let event = match op {
            Op::Inter => "sinterstore",
            Op::Union => "sunionstore",
            Op::Diff => "sdiffstore",
        };
        st.notify(notify::SET, event, db, dst);
    }
    Reply::Int(n)
}

/// Shared body of SINTER, SUNION, SDIFF and their *STORE forms with every
/// key on this shard.
fn algebra_generic(st: &mut Store, db: usize, a: &[Bytes], op: Op, store: bool) -> Reply {
    let keys = if store { &a[2..] } else { &a[1..] };
    let loaded = tri!(load_sets(st, db, keys));
    let refs: Vec<Option<&SetValue>> = loaded.iter().map(Option::as_ref).collect();
    let result = compute(op, &refs, st.limits.set_intset_entries);
    if store {
        store_result(st, db, &a[1], result, op)
    } else {
        set_reply(result.members())
    }
}

/// Per distinct shard, in first-seen order: the indexes of its keys
/// (`shards[i]` owns key i).
fn shares(shards: &[ShardId]) -> Vec<(ShardId, Vec<usize>)> {
    let mut shares: Vec<(ShardId, Vec<usize>)> = Vec::new();
    for (i, &shard) in shards.iter().enumerate() {
        match shares.iter_mut().find(|(s, _)| *s == shard) {
            Some((_, idxs)) => idxs.push(i),
            None => shares.push((shard, vec![i])),
        }
    }
    shares
}

type Loaded = Result<Vec<Option<SetValue>>, Reply>;

/// Claims `keys` (owned by `shards`, plus `extra` on its shard) and loads
/// copies of the sets, one part per shard; with `hold`, the claims stay
/// held in the returned operation. Returns the sets in key order or the
/// first error.
async fn load_spanning(
    sh: &Rc<Shard>,
    db: usize,
    parent: Option<TxId>,
    keys: &[Bytes],
    shards: &[ShardId],
    extra: Option<(&Bytes, ShardId)>,
    hold: bool,
) -> (Option<Txn<Services>>, Loaded) {
    let mut shares = shares(shards);
    if let Some((_, shard)) = extra {
        if !shares.iter().any(|(s, _)| *s == shard) {
            shares.push((shard, Vec::new()));
        }
    }
    let mut plan = Plan::new(sh, parent);
    let outs: Vec<Out<Loaded>> = shares
        .iter()
        .map(|(shard, idxs)| {
            let mine: Vec<Bytes> = idxs.iter().map(|&i| keys[i].clone()).collect();
            let mut claim = mine.clone();
            if let Some((x, _)) = extra.filter(|(_, s)| s == shard) {
                claim.push(x.clone());
            }
            plan.part(
                *shard,
                Claim::Keys(claim),
                on_store(db, move |st, db| load_sets(st, db, &mine)),
            )
        })
        .collect();
    let txn = if hold {
        Some(plan.hold().await)
    } else {
        plan.run().await;
        None
    };
    let mut sets: Vec<Option<SetValue>> = vec![None; keys.len()];
    let mut error = None;
    for ((_, idxs), out) in shares.iter().zip(outs) {
        match out.take() {
            Ok(loaded) => {
                for (&i, s) in idxs.iter().zip(loaded) {
                    sets[i] = s;
                }
            }
            Err(e) => error = Some(e),
        }
    }
    (txn, error.map_or(Ok(sets), Err))
}

/// The algebra with keys on several shards: a read is one unheld step per
/// shard (a consistent cut); a *STORE holds every key, computes here and
/// writes the destination in a second step that releases all shards.
async fn algebra_spanning(
    sh: &Rc<Shard>,
    s: &Session,
    a: Vec<Bytes>,
    split: Split,
    op: Op,
    store: bool,
) -> Reply {
    let (db, parent) = (s.db, s.parent);
    let intset_max = sh.store.borrow().limits.set_intset_entries;
    let first = if store { 2 } else { 1 };
    let shards: Vec<ShardId> = split
        .keys
        .iter()
        .filter(|k| k.0 >= first)
        .map(|k| k.1)
        .collect();
    if !store {
        let (_, loaded) = load_spanning(sh, db, parent, &a[1..], &shards, None, false).await;
        let sets = tri!(loaded);
        let refs: Vec<Option<&SetValue>> = sets.iter().map(Option::as_ref).collect();
        return set_reply(compute(op, &refs, intset_max).members());
    }
    let dst = a[1].clone();
    let ds = split.shard_at(1).unwrap_or(sh.id);
    let (txn, loaded) =
        load_spanning(sh, db, parent, &a[2..], &shards, Some((&dst, ds)), true).await;
    let Some(mut txn) = txn else {
        return errors::internal("store without a hold");
    };
    let sets = match loaded {
        Ok(sets) => sets,
        Err(e) => {
            txn.release();
            return e;
        }
    };
    let refs: Vec<Option<&SetValue>> = sets.iter().map(Option::as_ref).collect();
    let result = compute(op, &refs, intset_max);
    let n = result.len() as i64;
    txn.step(
        ds,
        on_store(db, move |st, db| {
            store_result(st, db, &dst, result, op);
        }),
    );
    txn.end().await;
    Reply::Int(n)
}

/// SINTER key [key ...]
pub fn sinter(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    algebra_generic(st, db, a, Op::Inter, false)
}

/// SUNION key [key ...]
pub fn sunion(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    algebra_generic(st, db, a, Op::Union, false)
}

/// SDIFF key [key ...]
pub fn sdiff(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    algebra_generic(st, db, a, Op::Diff, false)
}

/// SINTERSTORE destination key [key ...]
pub fn sinterstore(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    algebra_generic(st, db, a, Op::Inter, true)
}

/// SUNIONSTORE destination key [key ...]
pub fn sunionstore(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    algebra_generic(st, db, a, Op::Union, true)
}

/// SDIFFSTORE destination key [key ...]
pub fn sdiffstore(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    algebra_generic(st, db, a, Op::Diff, true)
}

macro_rules! spanning {
    ($($name:ident => $op:expr, $store:expr;)*) => {$(
        /// The command with keys on several shards (see `algebra_spanning`).
        pub fn $name<'a>(
            sh: &'a Rc<Shard>,
            s: &'a mut Session,
            a: Vec<Bytes>,
            split: Split,
        ) -> LocalBoxFuture<'a, Reply> {
            Box::pin(algebra_spanning(sh, s, a, split, $op, $store))
        }
    )*};
}

spanning! {
    sinter_spanning => Op::Inter, false;
    sunion_spanning => Op::Union, false;
    sdiff_spanning => Op::Diff, false;
    sinterstore_spanning => Op::Inter, true;
    sunionstore_spanning => Op::Union, true;
    sdiffstore_spanning => Op::Diff, true;
}

/// SINTERCARD's keys and LIMIT, with Redis's checks in its order.
fn parse_sintercard(a: &[Bytes]) -> Result<(std::ops::Range<usize>, usize), Reply> {
    let numkeys = match args::int(&a[1]) {
        Ok(n) if n >= 1 => n as u64,
        _ => return Err(err(errors::NUMKEYS)),
    };
    if numkeys > (a.len() - 2) as u64 {
        return Err(err(errors::NUMKEYS_ARGS));
    }
    let end = 2 + numkeys as usize;
    let mut limit = 0;
    let mut j = end;
    while j < a.len() {
        match a.get(j + 1) {
            Some(v) if eq(&a[j], "limit") => match args::int(v) {
                Ok(n) if n >= 0 => limit = n as usize,
                _ => return Err(err(errors::INTERCARD_LIMIT_NEGATIVE)),
            },
            _ => return Err(errors::syntax()),
        }
        j += 2;
    }
    Ok((2..end, limit))
}

/// SINTERCARD numkeys key [key ...] [LIMIT limit]
///
/// Keys on one shard are counted in one step there; otherwise copies of the
/// sets are read (one unheld step per shard) and counted here.
pub fn sintercard<'a>(
    sh: &'a Rc<Shard>,
    s: &'a mut Session,
    a: Vec<Bytes>,
) -> LocalBoxFuture<'a, Reply> {
    Box::pin(async move {
        let (range, limit) = tri!(parse_sintercard(&a));
        let keys: Vec<Bytes> = a[range].to_vec();
        let db = s.db;
        let shards: Vec<ShardId> = keys.iter().map(|k| sh.slots.shard_of(k)).collect();
        if let [(shard, _)] = shares(&shards)[..] {
            let claim = Claim::Keys(keys.clone());
            let mut plan = Plan::new(sh, s.parent);
            let n = plan.part(
                shard,
                claim,
                on_store(db, move |st, db| {
                    let sets = load_sets(st, db, &keys)?;
                    let refs: Vec<Option<&SetValue>> = sets.iter().map(Option::as_ref).collect();
                    Ok::<_, Reply>(intersect(&refs, limit, None))
                }),
            );
            plan.run().await;
            return Reply::Int(tri!(n.take()) as i64);
        }
        let (_, loaded) = load_spanning(sh, db, s.parent, &keys, &shards, None, false).await;
        let sets = tri!(loaded);
        let refs: Vec<Option<&SetValue>> = sets.iter().map(Option::as_ref).collect();
        Reply::Int(intersect(&refs, limit, None) as i64)
    })
}

/// SSCAN key cursor [MATCH pattern] [COUNT count]
///
/// An intset comes back whole with cursor 0, as Redis answers its compact
/// encodings. A hashtable's cursor is how many of its positions are left to
/// walk (0 = start), so every member present for the whole scan is
/// returned at least once; it is not Redis's reverse-binary cursor.
pub fn sscan(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    let cursor = tri!(args::scan_cursor(&a[2]));
    let Some(s) = tri!(get_set(st, db, &a[1], true)) else {
        return super::scan_reply(0, Vec::new());
    };
    let opts = tri!(args::ScanOpts::parse(&a[3..], false));
    let mut found = Vec::new();
    let mut visit = |e: Elem| {
        if e.with_bytes(|b| opts.matches(b)) {
            found.push(Reply::Bulk(e.to_bytes()));
        }
    };
    let next = if s.is_intset() {
        s.iter().for_each(&mut visit);
        0
    } else {
        s.scan(args::positions_left(cursor), opts.count, &mut visit)
    };
    super::scan_reply(next as u64, found)
}

#[cfg(test)]
mod tests {
    #[test]
    fn set_commands_raise_redis_events() {
        use crate::command::keys::event_script::{check, store};
        let mut st = store("KEA");
        check(
            &mut st,
            &[
                ("sadd s a b", &["sadd s"]),
                ("sadd s a", &[]),
                ("srem s zz", &[]),
                ("srem s a", &["srem s"]),
                ("spop s", &["spop s", "del s"]),
                ("sadd s a b c", &["sadd s"]),
                ("spop s 0", &[]),
                ("spop s 2", &["spop s"]),
                ("spop s 5", &["spop s", "del s"]),
                ("spop s", &[]),
                ("sadd s a b", &["sadd s"]),
                ("smove s t a", &["srem s", "sadd t"]),
                ("smove s t zz", &[]),
                ("smove s t b", &["srem s", "del s", "sadd t"]),
                ("sadd t a", &[]),
                ("smove t t a", &[]),
                ("sadd u a", &["sadd u"]),
                ("smove u t a", &["srem u", "del u"]),
                ("sadd x 1 2", &["sadd x"]),
                ("sadd y 2 3", &["sadd y"]),
                ("sinterstore d x y", &["sinterstore d"]),
                ("sinterstore d x nok", &["del d"]),
                ("sinterstore d x nok", &[]),
                ("sunionstore d x y", &["sunionstore d"]),
                ("sdiffstore d x y", &["sdiffstore d"]),
                ("sdiffstore d x x", &["del d"]),
                ("sunionstore d nok nok2", &[]),
                ("sadd w 1", &["sadd w"]),
                ("sinterstore w w", &["sinterstore w"]),
                ("sinterstore w nok", &["del w"]),
                // An empty result deletes an expired destination without a
                // lookup: "del", not "expired".
                ("set e 1 px 1", &["set e", "expire e"]),
                ("advance 10", &[]),
                ("sinterstore e nok", &["del e"]),
                ("set e 1 px 1", &["set e", "expire e"]),
                ("advance 10", &[]),
                ("sadd s1 1", &["sadd s1"]),
                ("sinterstore e s1", &["expired e", "sinterstore e"]),
            ],
        );
        let mut st = store("AKEmn");
        check(
            &mut st,
            &[
                ("sadd s a", &["new s", "sadd s"]),
                ("smembers nos", &["keymiss nos"]),
                ("sismember nos a", &["keymiss nos"]),
                ("scard nos", &["keymiss nos"]),
                ("srandmember nos", &["keymiss nos"]),
                ("sinter nos s", &["keymiss nos"]),
                ("sunion nos s", &["keymiss nos"]),
                ("sdiff nos s", &["keymiss nos"]),
                ("sinterstore d nos s", &["keymiss nos"]),
                (
                    "sunionstore d nos s",
                    &["keymiss nos", "new d", "sunionstore d"],
                ),
                ("spop nos", &[]),
                ("srem nos a", &[]),
                ("smove nos s a", &[]),
                (
                    "smove s nos2 a",
                    &["srem s", "del s", "new nos2", "sadd nos2"],
                ),
                ("sscan nos 0", &["keymiss nos"]),
            ],
        );
    }

    use super::*;

    use crate::command::test_args as args;

    fn run(st: &mut Store, f: fn(&mut Store, usize, &[Bytes]) -> Reply, v: &[&str]) -> Reply {
        f(st, 0, &args(v))
    }

    #[test]
    fn emptied_sets_are_deleted_and_memory_returns() {
        let mut st = Store::new(1);
        assert_eq!(
            run(&mut st, sadd, &["sadd", "s", "a", "b", "1"]),
            Reply::Int(3)
        );
        assert!(st.used_memory() > 0);
        assert_eq!(
            run(&mut st, srem, &["srem", "s", "a", "b", "x"]),
            Reply::Int(2)
        );
        assert!(matches!(run(&mut st, spop, &["spop", "s", "5"]), Reply::Set(v) if v.len() == 1));
        assert!(!st.exists(0, b"s"));
        assert_eq!(st.used_memory(), 0);
    }

    #[test]
    fn sintercard_parsing_errors() {
        let e = |v: &[&str]| parse_sintercard(&args(v)).err();
        assert_eq!(e(&["sintercard", "0", "a"]), Some(err(errors::NUMKEYS)));
        assert_eq!(
            e(&["sintercard", "2", "a"]),
            Some(err(errors::NUMKEYS_ARGS))
        );
        assert_eq!(
            e(&["sintercard", "1", "a", "limit", "-1"]),
            Some(err(errors::INTERCARD_LIMIT_NEGATIVE))
        );
        assert_eq!(
            e(&["sintercard", "1", "a", "limit"]),
            Some(errors::syntax())
        );
        let ok = parse_sintercard(&args(&["sintercard", "2", "a", "b", "LIMIT", "3"])).unwrap();
        assert_eq!(ok, (2..4, 3));
    }
}
