//! Sorted-set commands: ZADD … ZSCAN; the multi-key ones live in `multi`
//! (the blocking forms are not implemented).
//!
//! Keyed handlers run on the sorted set's owning shard over its `Store`,
//! batched like any single-key command. Member–score lists (WITHSCORES,
//! ZPOPMIN with a count, ZRANDMEMBER) are `Reply::Pairs`, which the
//! connection encodes for its protocol: RESP3 nests `[member, score]` pairs
//! where RESP2 flattens them, as Redis 7.0 does.
//!
//! Invariants: an empty sorted set is never stored. Checks run in Redis
//! 7.0's order (argument parsing, key lookup and type, then the rest), so a
//! command wrong in several ways gets Redis's error. Write commands look
//! keys up without counting keyspace hits or misses (`lookupKeyWrite`).
//!
//! Keyspace events are Redis 7.0's: "zadd" when ZADD adds or changes a
//! score, "zincr" for ZINCRBY and ZADD INCR, "zrem", "zpopmin"/"zpopmax",
//! "zremrangeby{rank,score,lex}", the STORE forms' own names, then "del"
//! whenever a change empties the set.

use std::cmp::Ordering;

use bytes::Bytes;
use rand::Rng;

use super::args::{self, eq};
use super::errors::{self, err};
use crate::keyspace::notify;
use crate::keyspace::store::Store;
use crate::keyspace::value::Value;
use crate::keyspace::zset::{SetOutcome, ZSetValue};
use crate::resp::{format_double, Reply};

pub(crate) mod multi;

pub use multi::{
    zdiff, zdiffstore, zinter, zintercard, zinterstore, zrangestore, zrangestore_spanning, zunion,
    zunionstore,
};

/// The sorted set at `key` for a read: Ok(None) when absent.
fn read_zset<'a>(st: &'a mut Store, db: usize, key: &[u8]) -> Result<Option<&'a ZSetValue>, Reply> {
    match st.read(db, key) {
        None => Ok(None),
        Some(e) => match &e.value {
            Value::ZSet(z) => Ok(Some(z)),
            _ => Err(errors::wrongtype()),
        },
    }
}

/// Runs `f` on the sorted set at `key` in place: Ok(None) when absent.
/// Deletes the key if `f` empties the set.
fn modify_zset<R>(
    st: &mut Store,
    db: usize,
    key: &[u8],
    f: impl FnOnce(&mut ZSetValue) -> R,
) -> Result<Option<R>, Reply> {
    fn pick(v: &mut Value) -> Option<&mut ZSetValue> {
        match v {
            Value::ZSet(c) => Some(c),
            _ => None,
        }
    }
    super::modify_collection(st, db, key, pick, ZSetValue::is_empty, f)
}

/// `modify_zset`, raising `event` when `changed` says `f` changed the set,
/// then "del" when it was emptied and deleted.
pub(crate) fn modify_zset_notify<R>(
    st: &mut Store,
    db: usize,
    key: &[u8],
    event: &'static str,
    f: impl FnOnce(&mut ZSetValue) -> R,
    changed: impl FnOnce(&R) -> bool,
) -> Result<Option<R>, Reply> {
    let res = modify_zset(st, db, key, |z| {
        let r = f(z);
        (r, z.is_empty())
    })?;
    Ok(res.map(|(r, emptied)| {
        if changed(&r) {
            st.notify_emptied(notify::ZSET, event, db, key, emptied);
        }
        r
    }))
}

/// The keyspace event of a pop from the low (`max` false) or high end.
pub(crate) fn pop_event(max: bool) -> &'static str {
    if max {
        "zpopmax"
    } else {
        "zpopmin"
    }
}

fn pair(z: &ZSetValue, i: usize) -> (Bytes, f64) {
    let (s, m) = z.get(i).expect("index in range");
    (Bytes::copy_from_slice(m), s)
}

/// `[member, score]` pairs as a reply: nested in RESP3, flat in RESP2.
fn pairs_reply(pairs: impl IntoIterator<Item = (Bytes, f64)>) -> Reply {
    Reply::Pairs(
        pairs
            .into_iter()
            .map(|(m, s)| (Reply::Bulk(m), Reply::Double(s)))
            .collect(),
    )
}

/// Members (with scores if asked) at the given ascending indexes.
fn emit(z: &ZSetValue, idxs: impl Iterator<Item = usize>, withscores: bool) -> Reply {
    if withscores {
        pairs_reply(idxs.map(|i| pair(z, i)))
    } else {
        Reply::Array(
            idxs.map(|i| Reply::bulk_from(z.get(i).expect("index in range").1))
                .collect(),
        )
    }
}

// ---------------------------------------------------------------- ZADD

#[derive(Default)]
struct ZaddFlags {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
    ch: bool,
    incr: bool,
}

/// Shared body of ZADD and ZINCRBY (Redis's `zaddGenericCommand`).
fn zadd_generic(st: &mut Store, db: usize, a: &[Bytes], mut f: ZaddFlags, mut j: usize) -> Reply {
    while j < a.len() {
        let w = &a[j];
        match () {
            _ if eq(w, "nx") => f.nx = true,
            _ if eq(w, "xx") => f.xx = true,
            _ if eq(w, "gt") => f.gt = true,
            _ if eq(w, "lt") => f.lt = true,
            _ if eq(w, "ch") => f.ch = true,
            _ if eq(w, "incr") => f.incr = true,
            _ => break,
        }
        j += 1;
    }
    let elems = &a[j..];
    if elems.is_empty() || elems.len() % 2 != 0 {
        return errors::syntax();
    }
    if f.xx && f.nx {
        return err(errors::ZADD_XX_NX);
    }
    if (f.nx && (f.gt || f.lt)) || (f.gt && f.lt) {
        return err(errors::ZADD_GT_LT_NX);
    }
    if f.incr && elems.len() > 2 {
        return err(errors::ZADD_INCR_PAIR);
    }
    let mut pairs = Vec::with_capacity(elems.len() / 2);
    for p in elems.chunks(2) {
        pairs.push((tri!(args::float(&p[0])), &p[1]));
    }
    let exists = match st.lookup(db, &a[1]) {
        None => false,
        Some(e) if matches!(e.value, Value::ZSet(_)) => true,
        Some(_) => return errors::wrongtype(),
    };
    let (max_entries, max_value) = (st.limits.zset_entries, st.limits.zset_value);
    let apply = |z: &mut ZSetValue| -> Result<(usize, usize, Option<f64>), Reply> {
        let (mut added, mut updated, mut last) = (0, 0, None);
        for &(score, member) in &pairs {
            match z.score(member) {
                Some(cur) => {
                    if f.nx {
                        continue;
                    }
                    let mut new = score;
                    if f.incr {
                        new += cur;
                        if new.is_nan() {
                            return Err(err(errors::NAN_SCORE));
                        }
                    }
                    if (f.lt && new >= cur) || (f.gt && new <= cur) {
                        continue;
                    }
                    last = Some(new);
                    if z.set(member, new, max_entries, max_value) == SetOutcome::Updated {
                        updated += 1;
                    }
                }
                None if f.xx => {}
                None => {
                    z.set(member, score, max_entries, max_value);
                    added += 1;
                    last = Some(score);
                }
            }
        }
        Ok((added, updated, last))
    };
    let done = if exists {
        tri!(modify_zset(st, db, &a[1], apply)).expect("key exists")
    } else if f.xx {
        Ok((0, 0, None))
    } else {
        let mut z = ZSetValue::default();
        let r = apply(&mut z);
        if !z.is_empty() {
            st.insert(db, &a[1], Value::ZSet(Box::new(z)), 0);
        }
        r
    };
    let (added, updated, last) = tri!(done);
    if added + updated > 0 {
        let event = if f.incr { "zincr" } else { "zadd" };
        st.notify(notify::ZSET, event, db, &a[1]);
    }
    if f.incr {
        last.map_or(Reply::Nil, Reply::Double)
    } else if f.ch {
        Reply::Int((added + updated) as i64)
    } else {
        Reply::Int(added as i64)
    }
}

/// ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]
pub fn zadd(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    zadd_generic(st, db, a, ZaddFlags::default(), 2)
}

/// ZINCRBY key increment member
pub fn zincrby(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    let f = ZaddFlags {
        incr: true,
        ..ZaddFlags::default()
    };
    zadd_generic(st, db, a, f, 2)
}

/// ZREM key member [member ...]
pub fn zrem(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    let removed = tri!(modify_zset_notify(
        st,
        db,
        &a[1],
        "zrem",
        |z| a[2..].iter().filter(|m| z.remove(m).is_some()).count(),
        |&n| n > 0
    ));
    Reply::Int(removed.unwrap_or(0) as i64)
}

/// ZCARD key
pub fn zcard(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    Reply::Int(tri!(read_zset(st, db, &a[1])).map_or(0, |z| z.len() as i64))
}

/// ZSCORE key member
pub fn zscore(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    tri!(read_zset(st, db, &a[1]))
        .and_then(|z| z.score(&a[2]))
        .map_or(Reply::Nil, Reply::Double)
}

/// ZMSCORE key member [member ...]
pub fn zmscore(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    let z = tri!(read_zset(st, db, &a[1]));
    Reply::Array(
        a[2..]
            .iter()
            .map(|m| z.and_then(|z| z.score(m)).map_or(Reply::Nil, Reply::Double))
            .collect(),
    )
}

/// Shared body of ZRANK and ZREVRANK.
fn rank_generic(st: &mut Store, db: usize, a: &[Bytes], rev: bool) -> Reply {
    let Some(z) = tri!(read_zset(st, db, &a[1])) else {
        return Reply::Nil;
    };
    match z.rank(&a[2]) {
        Some(r) if rev => Reply::Int((z.len() - 1 - r) as i64),
        Some(r) => Reply::Int(r as i64),
        None => Reply::Nil,
    }
}

/// ZRANK key member
pub fn zrank(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    rank_generic(st, db, a, false)
}

/// ZREVRANK key member
pub fn zrevrank(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    rank_generic(st, db, a, true)
}

// ---------------------------------------------------------------- ranges

/// A score interval with Redis's `(` exclusive bounds.
#[derive(Clone, Copy, Debug, PartialEq)]
struct ScoreRange {
    min: f64,
    minex: bool,
    max: f64,
    maxex: bool,
}

/// C's `strtod` over the whole argument, as `zslParseRange` uses it: leading
/// space allowed, an empty string is 0, NaN refused.
fn strtod_all(b: &[u8]) -> Option<f64> {
    if b.is_empty() {
        return Some(0.0);
    }
    let s = std::str::from_utf8(b).ok()?;
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let v: f64 = t.parse().ok().or_else(|| args::parse_float(t.as_bytes()))?;
    (!v.is_nan()).then_some(v)
}

fn score_bound(b: &[u8]) -> Option<(f64, bool)> {
    match b.strip_prefix(b"(") {
        Some(rest) => Some((strtod_all(rest)?, true)),
        None => Some((strtod_all(b)?, false)),
    }
}

impl ScoreRange {
    fn parse(min: &[u8], max: &[u8]) -> Result<ScoreRange, Reply> {
        match (score_bound(min), score_bound(max)) {
            (Some((min, minex)), Some((max, maxex))) => Ok(ScoreRange {
                min,
                minex,
                max,
                maxex,
            }),
            _ => Err(err(errors::MINMAX_FLOAT)),
        }
    }

    fn is_empty(&self) -> bool {
        self.min > self.max || (self.min == self.max && (self.minex || self.maxex))
    }

    /// Ascending indexes [lo, hi) of the elements inside the range.
    fn span(&self, z: &ZSetValue) -> (usize, usize) {
        if self.is_empty() {
            return (0, 0);
        }
        let (min, minex, max, maxex) = (self.min, self.minex, self.max, self.maxex);
        let lo = z.count_before(&|s, _| if minex { s <= min } else { s < min });
        let hi = z.count_before(&|s, _| if maxex { s < max } else { s <= max });
        (lo, hi.max(lo))
    }
}

/// One end of a lex range: `-`, `+`, `[member` or `(member`.
#[derive(Clone, Debug, PartialEq)]
enum LexBound {
    Min,
    Max,
    Incl(Bytes),
    Excl(Bytes),
}

impl LexBound {
    fn parse(b: &Bytes) -> Option<LexBound> {
        match b.first()? {
            b'+' if b.len() == 1 => Some(LexBound::Max),
            b'-' if b.len() == 1 => Some(LexBound::Min),
            b'[' => Some(LexBound::Incl(b.slice(1..))),
            b'(' => Some(LexBound::Excl(b.slice(1..))),
            _ => None,
        }
    }

    /// The bound's position as (rank of the infinity, string), for the
    /// emptiness check.
    fn key(&self) -> (u8, &[u8]) {
        match self {
            LexBound::Min => (0, b""),
            LexBound::Max => (2, b""),
            LexBound::Incl(s) | LexBound::Excl(s) => (1, s),
        }
    }

    fn exclusive(&self) -> bool {
        !matches!(self, LexBound::Incl(_))
    }
}

#[derive(Clone, Debug, PartialEq)]
struct LexRange {
    min: LexBound,
    max: LexBound,
}

impl LexRange {
    fn parse(min: &Bytes, max: &Bytes) -> Result<LexRange, Reply> {
        match (LexBound::parse(min), LexBound::parse(max)) {
            (Some(min), Some(max)) => Ok(LexRange { min, max }),
            _ => Err(err(errors::MINMAX_LEX)),
        }
    }

    fn is_empty(&self) -> bool {
        match self.min.key().cmp(&self.max.key()) {
            Ordering::Greater => true,
            Ordering::Equal => self.min.exclusive() || self.max.exclusive(),
            Ordering::Less => false,
        }
    }

    /// Ascending indexes [lo, hi) of the members inside the range (members
    /// are assumed to share one score, as Redis documents).
    fn span(&self, z: &ZSetValue) -> (usize, usize) {
        if self.is_empty() {
            return (0, 0);
        }
        let lo = z.count_before(&|_, m| match &self.min {
            LexBound::Min => false,
            LexBound::Max => true,
            LexBound::Incl(x) => m < &x[..],
            LexBound::Excl(x) => m <= &x[..],
        });
        let hi = z.count_before(&|_, m| match &self.max {
            LexBound::Min => false,
            LexBound::Max => true,
            LexBound::Incl(x) => m <= &x[..],
            LexBound::Excl(x) => m < &x[..],
        });
        (lo, hi.max(lo))
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Rank,
    Score,
    Lex,
}

enum Bounds {
    Rank(i64, i64),
    Score(ScoreRange),
    Lex(LexRange),
}

struct RangeReq {
    bounds: Bounds,
    rev: bool,
    offset: i64,
    /// Negative: no limit.
    limit: i64,
    withscores: bool,
}

/// Redis's `zrangeGenericCommand` argument parsing. `kind` and `rev` are
/// preset by the legacy commands, which then refuse BYSCORE/BYLEX/REV.
fn parse_range(a: &[Bytes], kind: Option<Kind>, rev: Option<bool>) -> Result<RangeReq, Reply> {
    parse_range_at(a, 1, kind, rev)
}

/// [`parse_range`] with the source key at `a[key]`; ZRANGESTORE (key 2)
/// does not know WITHSCORES.
fn parse_range_at(
    a: &[Bytes],
    key: usize,
    kind: Option<Kind>,
    rev: Option<bool>,
) -> Result<RangeReq, Reply> {
    let store = key == 2;
    let (mut kind, mut rev) = (kind, rev);
    let (mut offset, mut limit, mut withscores) = (0i64, -1i64, false);
    let mut j = key + 3;
    while j < a.len() {
        let left = a.len() - j - 1;
        let w = &a[j];
        if !store && eq(w, "withscores") {
            withscores = true;
        } else if eq(w, "limit") && left >= 2 {
            offset = args::int(&a[j + 1])?;
            limit = args::int(&a[j + 2])?;
            j += 2;
        } else if rev.is_none() && eq(w, "rev") {
            rev = Some(true);
        } else if kind.is_none() && eq(w, "bylex") {
            kind = Some(Kind::Lex);
        } else if kind.is_none() && eq(w, "byscore") {
            kind = Some(Kind::Score);
        } else {
            return Err(errors::syntax());
        }
        j += 1;
    }
    let rev = rev.unwrap_or(false);
    let kind = kind.unwrap_or(Kind::Rank);
    if limit != -1 && kind == Kind::Rank {
        return Err(err(errors::ZRANGE_LIMIT));
    }
    if withscores && kind == Kind::Lex {
        return Err(err(errors::ZRANGE_WITHSCORES_LEX));
    }
    let (mut lo, mut hi) = (&a[key + 1], &a[key + 2]);
    if rev && kind != Kind::Rank {
        std::mem::swap(&mut lo, &mut hi);
    }
    let bounds = match kind {
        Kind::Rank => Bounds::Rank(args::int(lo)?, args::int(hi)?),
        Kind::Score => Bounds::Score(ScoreRange::parse(lo, hi)?),
        Kind::Lex => Bounds::Lex(LexRange::parse(lo, hi)?),
    };
    Ok(RangeReq {
        bounds,
        rev,
        offset,
        limit,
        withscores,
    })
}

/// Redis's rank-range arithmetic: negative from the end, start clamped at
/// 0, end at the last element; None for an empty range.
fn clamp_ranks(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let start = if start < 0 { len + start } else { start }.max(0);
    let end = if end < 0 { len + end } else { end };
    if start > end || start >= len {
        return None;
    }
    Some((start as usize, end.min(len - 1) as usize))
}

/// The ascending indexes a range request selects, in reply order.
fn select(z: &ZSetValue, r: &RangeReq) -> Vec<usize> {
    let len = z.len();
    let (lo, hi) = match &r.bounds {
        Bounds::Rank(start, end) => {
            let Some((s, e)) = clamp_ranks(*start, *end, len) else {
                return Vec::new();
            };
            return if r.rev {
                (len - 1 - e..=len - 1 - s).rev().collect()
            } else {
                (s..=e).collect()
            };
        }
        Bounds::Score(sr) => sr.span(z),
        Bounds::Lex(lr) => lr.span(z),
    };
    // A negative offset skips everything in Redis's `while (offset--)`.
    if r.offset < 0 || (r.offset > 0 && r.offset as u64 >= len as u64) {
        return Vec::new();
    }
    let take = if r.limit < 0 {
        usize::MAX
    } else {
        r.limit as usize
    };
    let skip = r.offset as usize;
    if r.rev {
        (lo..hi).rev().skip(skip).take(take).collect()
    } else {
        (lo..hi).skip(skip).take(take).collect()
    }
}

/// Shared body of ZRANGE, ZREVRANGE, ZRANGEBYSCORE, ZREVRANGEBYSCORE,
/// ZRANGEBYLEX and ZREVRANGEBYLEX (Redis's `zrangeGenericCommand`).
fn range_generic(
    st: &mut Store,
    db: usize,
    a: &[Bytes],
    kind: Option<Kind>,
    rev: Option<bool>,
) -> Reply {
    let r = tri!(parse_range(a, kind, rev));
    match tri!(read_zset(st, db, &a[1])) {
        None => Reply::Array(Vec::new()),
        Some(z) => emit(z, select(z, &r).into_iter(), r.withscores),
    }
}

/// ZRANGE key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES]
pub fn zrange(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    range_generic(st, db, a, None, None)
}

/// ZREVRANGE key start stop [WITHSCORES]
pub fn zrevrange(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    range_generic(st, db, a, Some(Kind::Rank), Some(true))
}

/// ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count]
pub fn zrangebyscore(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    range_generic(st, db, a, Some(Kind::Score), Some(false))
}

/// ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count]
pub fn zrevrangebyscore(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    range_generic(st, db, a, Some(Kind::Score), Some(true))
}

/// ZRANGEBYLEX key min max [LIMIT offset count]
pub fn zrangebylex(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    range_generic(st, db, a, Some(Kind::Lex), Some(false))
}

/// ZREVRANGEBYLEX key max min [LIMIT offset count]
pub fn zrevrangebylex(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    range_generic(st, db, a, Some(Kind::Lex), Some(true))
}

/// ZCOUNT key min max
pub fn zcount(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    let r = tri!(ScoreRange::parse(&a[2], &a[3]));
    let z = tri!(read_zset(st, db, &a[1]));
    Reply::Int(z.map_or(0, |z| {
        let (lo, hi) = r.span(z);
        (hi - lo) as i64
    }))
}

/// ZLEXCOUNT key min max
pub fn zlexcount(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    let r = tri!(LexRange::parse(&a[2], &a[3]));
    let z = tri!(read_zset(st, db, &a[1]));
    Reply::Int(z.map_or(0, |z| {
        let (lo, hi) = r.span(z);
        (hi - lo) as i64
    }))
}

/// Shared body of ZREMRANGEBYRANK, ZREMRANGEBYSCORE and ZREMRANGEBYLEX:
/// removes the ascending indexes [lo, hi) that `span` picks.
fn remrange_generic(
    st: &mut Store,
    db: usize,
    key: &[u8],
    event: &'static str,
    span: impl FnOnce(&ZSetValue) -> (usize, usize),
) -> Reply {
    let remove = |z: &mut ZSetValue| {
        let (lo, hi) = span(z);
        let doomed: Vec<Box<[u8]>> = (lo..hi)
            .map(|i| z.get(i).expect("index in range").1.into())
            .collect();
        doomed.iter().for_each(|m| {
            z.remove(m);
        });
        doomed.len()
    };
    let removed = tri!(modify_zset_notify(st, db, key, event, remove, |&n| n > 0));
    Reply::Int(removed.unwrap_or(0) as i64)
}

/// ZREMRANGEBYRANK key start stop
pub fn zremrangebyrank(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    let start = tri!(args::int(&a[2]));
    let end = tri!(args::int(&a[3]));
    remrange_generic(st, db, &a[1], "zremrangebyrank", |z| {
        clamp_ranks(start, end, z.len()).map_or((0, 0), |(s, e)| (s, e + 1))
    })
}

/// ZREMRANGEBYSCORE key min max
pub fn zremrangebyscore(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    let r = tri!(ScoreRange::parse(&a[2], &a[3]));
    remrange_generic(st, db, &a[1], "zremrangebyscore", |z| r.span(z))
}

/// ZREMRANGEBYLEX key min max
pub fn zremrangebylex(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    let r = tri!(LexRange::parse(&a[2], &a[3]));
    remrange_generic(st, db, &a[1], "zremrangebylex", |z| r.span(z))
}

// ---------------------------------------------------------------- pops

/// Shared body of ZPOPMIN and ZPOPMAX. Without a count: a flat `[member,
/// score]` in both protocols; with one, pairs (nested in RESP3). Count 0
/// answers an empty array only after the type check, as Redis 7.0 does.
fn pop_generic(st: &mut Store, db: usize, a: &[Bytes], max: bool) -> Reply {
    if a.len() > 3 {
        return errors::syntax();
    }
    let count = match a.get(2).map(|c| args::int(c)) {
        None => None,
        Some(Ok(n)) if n >= 0 => Some(n as usize),
        Some(_) => return err(errors::MUST_BE_POSITIVE),
    };
    let pop = |z: &mut ZSetValue| {
        let n = count.unwrap_or(1).min(z.len());
        (0..n)
            .map(|_| {
                let i = if max { z.len() - 1 } else { 0 };
                let (m, s) = pair(z, i);
                z.remove(&m);
                (m, s)
            })
            .collect::<Vec<_>>()
    };
    let popped = tri!(modify_zset_notify(
        st,
        db,
        &a[1],
        pop_event(max),
        pop,
        |v| !v.is_empty()
    ));
    match popped {
        None => Reply::Array(Vec::new()),
        Some(v) if count.is_some() => pairs_reply(v),
        Some(v) => Reply::Array(
            v.into_iter()
                .flat_map(|(m, s)| [Reply::Bulk(m), Reply::Double(s)])
                .collect(),
        ),
    }
}

/// ZPOPMIN key [count]
pub fn zpopmin(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    pop_generic(st, db, a, false)
}

/// ZPOPMAX key [count]
pub fn zpopmax(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    pop_generic(st, db, a, true)
}

// ---------------------------------------------------------------- random, scan

/// ZRANDMEMBER key [count [WITHSCORES]]
pub fn zrandmember(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    let mut rng = st.rng.clone();
    let reply = zrandmember_with(st, db, a, &mut rng);
    st.rng = rng;
    reply
}

fn zrandmember_with(st: &mut Store, db: usize, a: &[Bytes], rng: &mut impl Rng) -> Reply {
    if a.len() == 2 {
        return match tri!(read_zset(st, db, &a[1])) {
            None => Reply::Nil,
            Some(z) => {
                Reply::bulk_from(z.get(rng.gen_range(0..z.len())).expect("index in range").1)
            }
        };
    }
    let count = match tri!(args::int(&a[2])) {
        i64::MIN => return err(errors::RANDOM_COUNT_RANGE),
        n => n,
    };
    let withscores = match a.len() {
        3 => false,
        4 if eq(&a[3], "withscores") => true,
        _ => return errors::syntax(),
    };
    if withscores && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&count) {
        return err(errors::OUT_OF_RANGE);
    }
    let Some(z) = tri!(read_zset(st, db, &a[1])) else {
        return Reply::Array(Vec::new());
    };
    let len = z.len();
    let idxs: Vec<usize> = if count < 0 {
        (0..count.unsigned_abs())
            .map(|_| rng.gen_range(0..len))
            .collect()
    } else if count as u64 >= len as u64 {
        // Redis walks the whole set from its tail here.
        (0..len).rev().collect()
    } else {
        // A partial Fisher-Yates shuffle: `count` distinct members.
        let mut all: Vec<usize> = (0..len).collect();
        let n = count as usize;
        for k in 0..n {
            let j = rng.gen_range(k..len);
            all.swap(k, j);
        }
        all.truncate(n);
        all
    };
    emit(z, idxs.into_iter(), withscores)
}

/// ZSCAN key cursor [MATCH pattern] [COUNT count]
///
/// A listpack set answers whole with cursor 0, as Redis does. A skiplist's
/// cursor is how many of its positions are left to walk (0 = start), not
/// Redis's reverse-binary cursor; see `ZSetValue::scan` for why a member
/// present throughout is returned. Scores are formatted as `%.17g`, as
/// Redis does for both encodings.
pub fn zscan(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    let cursor = tri!(args::scan_cursor(&a[2]));
    let Some(z) = tri!(read_zset(st, db, &a[1])) else {
        return super::scan_reply(0, Vec::new());
    };
    let opts = tri!(args::ScanOpts::parse(&a[3..], false));
    let mut items = Vec::new();
    let next = z.scan(args::positions_left(cursor), opts.count, |m, s| {
        if opts.matches(m) {
            items.push(Reply::bulk_from(m));
            items.push(Reply::bulk_from(format_double(s).as_bytes()));
        }
    });
    super::scan_reply(next as u64, items)
}

#[cfg(test)]
mod tests {
    #[test]
    fn sorted_set_commands_raise_redis_events() {
        use crate::command::keys::event_script::{check, store};
        let mut st = store("KEA");
        check(
            &mut st,
            &[
                ("zadd z 1 a 2 b", &["zadd z"]),
                ("zadd z 1 a", &[]),
                ("zadd z 5 a", &["zadd z"]),
                ("zadd z nx 1 a", &[]),
                ("zadd z xx 1 c", &[]),
                ("zadd z incr 1 a", &["zincr z"]),
                ("zadd z gt 1 a", &[]),
                ("zadd z ch 7 a", &["zadd z"]),
                ("zincrby z 1 a", &["zincr z"]),
                ("zincrby z 1 new", &["zincr z"]),
                ("zrem z zz", &[]),
                ("zrem z new", &["zrem z"]),
                ("zpopmin z", &["zpopmin z"]),
                ("zpopmax z 0", &[]),
                ("zpopmax z", &["zpopmax z", "del z"]),
                ("zpopmin z", &[]),
                ("zadd z 1 a 2 b 3 c 4 d", &["zadd z"]),
                ("zremrangebyscore z 10 20", &[]),
                ("zremrangebyscore z 1 1", &["zremrangebyscore z"]),
                ("zremrangebyrank z 0 0", &["zremrangebyrank z"]),
                ("zremrangebylex z [a [c", &["zremrangebylex z"]),
                ("zremrangebylex z - +", &["zremrangebylex z", "del z"]),
                ("zadd z 1 a 2 b", &["zadd z"]),
                ("zrangestore d z 0 -1", &["zrangestore d"]),
                ("zrangestore d z 5 6", &["del d"]),
                ("zrangestore d z 5 6", &[]),
                ("zincrby zi 1 a", &["zincr zi"]),
                ("set g 1 px 1", &["set g", "expire g"]),
                ("advance 10", &[]),
                ("zrangestore g z 5 6", &["del g"]),
            ],
        );
        let mut st = store("AKEmn");
        check(
            &mut st,
            &[
                ("zadd z 1 a", &["new z", "zadd z"]),
                ("zscore noz a", &["keymiss noz"]),
                ("zrange noz 0 1", &["keymiss noz"]),
                ("zcard noz", &["keymiss noz"]),
                ("zrank noz a", &["keymiss noz"]),
                ("zcount noz 0 1", &["keymiss noz"]),
                ("zrangebyscore noz 0 1", &["keymiss noz"]),
                ("zmscore noz a", &["keymiss noz"]),
                ("zrandmember noz", &["keymiss noz"]),
                ("zrangestore d3 noz 0 1", &["keymiss noz"]),
                ("zpopmin noz", &[]),
                ("zrem noz a", &[]),
                ("zincrby z2 1 a", &["new z2", "zincr z2"]),
                ("zscan noz 0", &["keymiss noz"]),
                ("zremrangebyrank noz 0 1", &[]),
                ("zrangestore d z 0 -1", &["new d", "zrangestore d"]),
                ("zrangestore d z 0 -1", &["zrangestore d"]),
            ],
        );
    }

    #[test]
    fn zmpop_raises_the_pop_event_then_del() {
        use crate::command::keys::event_script::{check, drain, store};
        let mut st = store("KEA");
        check(&mut st, &[("zadd z 1 a 2 b", &["zadd z"])]);
        let key = Bytes::from_static(b"z");
        multi::mpop_from(&mut st, 0, &key, false, 1);
        assert_eq!(drain(&mut st), ["zpopmin z"]);
        multi::mpop_from(&mut st, 0, &key, true, 5);
        assert_eq!(drain(&mut st), ["zpopmax z", "del z"]);
    }

    use super::*;

    use crate::command::test_args as args;

    #[test]
    fn score_bounds_follow_strtod() {
        assert_eq!(score_bound(b"(1.5"), Some((1.5, true)));
        assert_eq!(score_bound(b"-inf"), Some((f64::NEG_INFINITY, false)));
        assert_eq!(score_bound(b"+inf"), Some((f64::INFINITY, false)));
        assert_eq!(score_bound(b""), Some((0.0, false)));
        assert_eq!(score_bound(b" 2"), Some((2.0, false)));
        assert_eq!(score_bound(b"nan"), None);
        assert_eq!(score_bound(b"1x"), None);
    }

    #[test]
    fn lex_ranges_and_emptiness() {
        let r = |a: &str, b: &str| {
            LexRange::parse(
                &Bytes::copy_from_slice(a.as_bytes()),
                &Bytes::copy_from_slice(b.as_bytes()),
            )
        };
        assert!(r("a", "[b").is_err());
        assert!(r("+x", "[b").is_err());
        assert!(r("", "+").is_err());
        assert!(!r("-", "+").unwrap().is_empty());
        assert!(r("+", "-").unwrap().is_empty());
        assert!(r("[a", "(a").unwrap().is_empty());
        assert!(!r("[a", "[a").unwrap().is_empty());
        assert!(r("-", "-").unwrap().is_empty());
    }

    #[test]
    fn range_parsing_errors_in_redis_order() {
        let e = |v: &[&str]| parse_range(&args(v), None, None).err();
        assert_eq!(
            e(&["zrange", "k", "0", "1", "limit", "0", "1"]),
            Some(err(errors::ZRANGE_LIMIT))
        );
        assert_eq!(e(&["zrange", "k", "0", "1", "limit", "5", "-1"]), None);
        assert_eq!(
            e(&["zrange", "k", "a", "b", "bylex", "withscores"]),
            Some(err(errors::ZRANGE_WITHSCORES_LEX))
        );
        assert_eq!(
            e(&["zrange", "k", "a", "b", "byscore"]),
            Some(err(errors::MINMAX_FLOAT))
        );
        assert_eq!(
            e(&["zrange", "k", "0", "1", "rev", "rev"]),
            Some(errors::syntax())
        );
        let legacy = parse_range(
            &args(&["zrevrange", "k", "0", "1", "rev"]),
            Some(Kind::Rank),
            Some(true),
        );
        assert_eq!(legacy.err(), Some(errors::syntax()));
    }

    #[test]
    fn rank_ranges_clamp_like_redis() {
        assert_eq!(clamp_ranks(0, -1, 3), Some((0, 2)));
        assert_eq!(clamp_ranks(-10, 10, 3), Some((0, 2)));
        assert_eq!(clamp_ranks(2, 1, 3), None);
        assert_eq!(clamp_ranks(3, 5, 3), None);
    }
}
