//! List commands: LPUSH … LMOVE. LMPOP and the blocking forms share one
//! body in `command::blocking`; this file keeps their list parts.
//!
//! Keyed handlers run on the list's owning shard over its `Store`. LMOVE and
//! RPOPLPUSH have a `*_spanning` form for a source and a destination on
//! different shards.
//!
//! Invariants: an empty list is never stored — whatever removes the last
//! element deletes the key, as Redis does. Checks run in Redis 7.0's order
//! (argument parsing, key lookup and type, then the rest), so a command that
//! is wrong in several ways gets the same error as from Redis. Write commands
//! look keys up without counting keyspace hits or misses (Redis's
//! `lookupKeyWrite`); LLEN, LRANGE, LINDEX and LPOS count them.
//!
//! Keyspace events follow Redis 7.0: a push raises "lpush"/"rpush" and a
//! pop "lpop"/"rpop" (by the end, whatever the command), then "del" when
//! the list was emptied; LMOVE raises its push before its pop.

use std::rc::Rc;

use bytes::Bytes;
use futures::future::LocalBoxFuture;

use super::args::{self, eq};
use super::errors::{self, err};
use super::on_store;
use super::place::Split;
use crate::command::session::Session;
use crate::keyspace::locks::Claim;
use crate::keyspace::notify;
use crate::keyspace::store::Store;
use crate::keyspace::value::{List, Value};
use crate::resp::Reply;
use crate::runtime::Plan;
use crate::services::Shard;

/// Which end of a list: LEFT is the head (index 0), RIGHT the tail.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum End {
    Left,
    Right,
}

pub(crate) fn parse_end(arg: &[u8]) -> Result<End, Reply> {
    if eq(arg, "left") {
        Ok(End::Left)
    } else if eq(arg, "right") {
        Ok(End::Right)
    } else {
        Err(errors::syntax())
    }
}

/// The keyspace event of a push at `end`.
fn push_event(end: End) -> &'static str {
    match end {
        End::Left => "lpush",
        End::Right => "rpush",
    }
}

/// The keyspace event of a pop from `end`.
pub(crate) fn pop_event(end: End) -> &'static str {
    match end {
        End::Left => "lpop",
        End::Right => "rpop",
    }
}

fn push(l: &mut List, end: End, e: &[u8]) {
    match end {
        End::Left => l.push_front(e),
        End::Right => l.push_back(e),
    }
}

pub(crate) fn pop(l: &mut List, end: End) -> Option<Bytes> {
    match end {
        End::Left => l.pop_front(),
        End::Right => l.pop_back(),
    }
    .map(Bytes::from)
}

/// Pops up to `n` elements from `end`, as an array of bulks.
fn pop_many(l: &mut List, end: End, n: usize) -> Reply {
    let n = n.min(l.len());
    Reply::Array(
        (0..n)
            .filter_map(|_| pop(l, end))
            .map(Reply::Bulk)
            .collect(),
    )
}

/// A count argument that must be ≥ 0 (`getPositiveLongFromObjectOrReply`):
/// a non-integer gets the same text as a negative number.
fn non_negative(arg: &[u8], text: &'static str) -> Result<usize, Reply> {
    match args::int(arg) {
        Ok(n) if n >= 0 => Ok(n as usize),
        _ => Err(err(text)),
    }
}

/// The list at `key` for a read: Ok(None) when absent, Err(WRONGTYPE) for
/// another type.
fn read_list<'a>(st: &'a mut Store, db: usize, key: &[u8]) -> Result<Option<&'a List>, Reply> {
    match st.read(db, key) {
        None => Ok(None),
        Some(e) => match &e.value {
            Value::List(l) => Ok(Some(l)),
            _ => Err(errors::wrongtype()),
        },
    }
}

/// Whether `key` holds a list (Some(true)), another type (Some(false)) or
/// nothing (None), without counting a hit or miss.
pub(crate) fn probe(st: &mut Store, db: usize, key: &[u8]) -> Option<bool> {
    st.lookup(db, key)
        .map(|e| matches!(e.value, Value::List(_)))
}

/// Runs `f` on the list at `key` in place: Ok(None) when absent,
/// Err(WRONGTYPE) for another type. Deletes the key if `f` empties the list.
pub(crate) fn modify_list<R>(
    st: &mut Store,
    db: usize,
    key: &[u8],
    f: impl FnOnce(&mut List) -> R,
) -> Result<Option<R>, Reply> {
    fn pick(v: &mut Value) -> Option<&mut List> {
        match v {
            Value::List(c) => Some(c),
            _ => None,
        }
    }
    super::modify_collection(st, db, key, pick, List::is_empty, f)
}

/// `modify_list`, raising `event` when `changed` says `f` changed the list,
/// then "del" when it was emptied and deleted.
fn modify_list_notify<R>(
    st: &mut Store,
    db: usize,
    key: &[u8],
    event: &'static str,
    f: impl FnOnce(&mut List) -> R,
    changed: impl FnOnce(&R) -> bool,
) -> Result<Option<R>, Reply> {
    let res = modify_list(st, db, key, |l| {
        let r = f(l);
        (r, l.is_empty())
    })?;
    Ok(res.map(|(r, emptied)| {
        if changed(&r) {
            st.notify_emptied(notify::LIST, event, db, key, emptied);
        }
        r
    }))
}

/// Pops one element from `end` of the list at `key` without raising
/// events: Ok(None) when absent, else the element and whether the list was
/// emptied (and deleted).
fn pop_quiet(
    st: &mut Store,
    db: usize,
    key: &[u8],
    end: End,
) -> Result<Option<(Bytes, bool)>, Reply> {
    let popped = modify_list(st, db, key, |l| pop(l, end).map(|e| (e, l.is_empty())))?;
    Ok(popped.flatten())
}

/// Pops one element from `end` of the list at `key`, raising the pop
/// event (and "del" when it was the last): Ok(None) when absent.
pub(crate) fn pop_one(
    st: &mut Store,
    db: usize,
    key: &[u8],
    end: End,
) -> Result<Option<Bytes>, Reply> {
    let popped = pop_quiet(st, db, key, end)?;
    Ok(popped.map(|(e, emptied)| {
        st.notify_emptied(notify::LIST, pop_event(end), db, key, emptied);
        e
    }))
}

/// Pushes elements at `end` of the list at `key`, creating it when absent
/// unless `only_existing`; returns the new length, or 0 when nothing exists.
pub(crate) fn push_list(
    st: &mut Store,
    db: usize,
    key: &[u8],
    end: End,
    elems: &[Bytes],
    only_existing: bool,
) -> Result<usize, Reply> {
    let pushed = modify_list(st, db, key, |l| {
        elems.iter().for_each(|e| push(l, end, e));
        l.len()
    })?;
    let len = match pushed {
        Some(len) => len,
        None if only_existing => return Ok(0),
        None => {
            let mut l = List::default();
            elems.iter().for_each(|e| push(&mut l, end, e));
            let len = l.len();
            st.insert(db, key, Value::List(Box::new(l)), 0);
            len
        }
    };
    st.notify(notify::LIST, push_event(end), db, key);
    Ok(len)
}

/// Shared body of LPUSH, RPUSH, LPUSHX and RPUSHX.
fn push_generic(st: &mut Store, db: usize, a: &[Bytes], end: End, only_existing: bool) -> Reply {
    Reply::Int(tri!(push_list(st, db, &a[1], end, &a[2..], only_existing)) as i64)
}

/// LPUSH key element [element ...]
pub fn lpush(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    push_generic(st, db, a, End::Left, false)
}

/// RPUSH key element [element ...]
pub fn rpush(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    push_generic(st, db, a, End::Right, false)
}

/// LPUSHX key element [element ...]
pub fn lpushx(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    push_generic(st, db, a, End::Left, true)
}

/// RPUSHX key element [element ...]
pub fn rpushx(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    push_generic(st, db, a, End::Right, true)
}

/// Shared body of LPOP and RPOP. Without a count: a bulk or nil. With one:
/// an array, a null array when the key is absent, an empty array for 0.
fn pop_generic(st: &mut Store, db: usize, a: &[Bytes], end: End, name: &str) -> Reply {
    if a.len() > 3 {
        return errors::arity(name);
    }
    let count = match a.get(2) {
        Some(c) => Some(tri!(non_negative(c, errors::MUST_BE_POSITIVE))),
        None => None,
    };
    let popped = match count {
        None => return tri!(pop_one(st, db, &a[1], end)).map_or(Reply::Nil, Reply::Bulk),
        Some(n) => tri!(modify_list_notify(
            st,
            db,
            &a[1],
            pop_event(end),
            |l| pop_many(l, end, n),
            |_| n > 0
        )),
    };
    popped.unwrap_or(Reply::NilArray)
}

/// LPOP key [count]
pub fn lpop(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    pop_generic(st, db, a, End::Left, "lpop")
}

/// RPOP key [count]
pub fn rpop(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    pop_generic(st, db, a, End::Right, "rpop")
}

/// LLEN key
pub fn llen(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    Reply::Int(tri!(read_list(st, db, &a[1])).map_or(0, |l| l.len() as i64))
}

/// Redis's LRANGE/LTRIM index arithmetic: negative from the end, start
/// clamped at 0, end at the last element; None for an empty range.
fn clamp_range(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let start = if start < 0 {
        (len + start).max(0)
    } else {
        start
    };
    let end = if end < 0 { len + end } else { end };
    if start > end || start >= len {
        return None;
    }
    Some((start as usize, end.min(len - 1) as usize))
}

/// A list index, negative from the end; None when outside the list.
fn resolve_index(index: i64, len: usize) -> Option<usize> {
    let i = if index < 0 { len as i64 + index } else { index };
    (0..len as i64).contains(&i).then_some(i as usize)
}

/// LRANGE key start stop
pub fn lrange(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    let start = tri!(args::int(&a[2]));
    let end = tri!(args::int(&a[3]));
    let Some(l) = tri!(read_list(st, db, &a[1])) else {
        return Reply::Array(Vec::new());
    };
    match clamp_range(start, end, l.len()) {
        Some((from, to)) => Reply::Array(l.range(from, to).map(Reply::bulk_from).collect()),
        None => Reply::Array(Vec::new()),
    }
}

/// LINDEX key index
pub fn lindex(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    let Some(l) = tri!(read_list(st, db, &a[1])) else {
        return Reply::Nil;
    };
    let index = tri!(args::int(&a[2]));
    match resolve_index(index, l.len()).and_then(|i| l.get(i)) {
        Some(e) => Reply::bulk_from(e),
        None => Reply::Nil,
    }
}

/// LSET key index element
pub fn lset(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    let set = modify_list_notify(
        st,
        db,
        &a[1],
        "lset",
        |l| {
            let index = args::int(&a[2])?;
            match resolve_index(index, l.len()) {
                Some(i) if l.set(i, &a[3]) => Ok(Reply::Ok),
                _ => Err(err(errors::INDEX_RANGE)),
            }
        },
        Result::is_ok,
    );
    match tri!(set) {
        None => err(errors::NO_SUCH_KEY),
        Some(r) => r.unwrap_or_else(|e| e),
    }
}

/// LINSERT key BEFORE|AFTER pivot element: the new length, -1 when the
/// pivot is not found, 0 when the key does not exist.
pub fn linsert(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    let after = if eq(&a[2], "after") {
        true
    } else if eq(&a[2], "before") {
        false
    } else {
        return errors::syntax();
    };
    let (pivot, elem) = (&a[3], &a[4]);
    let inserted = tri!(modify_list_notify(
        st,
        db,
        &a[1],
        "linsert",
        |l| {
            let Some(i) = l.iter().position(|e| e == &pivot[..]) else {
                return -1;
            };
            l.insert(i + after as usize, elem);
            l.len() as i64
        },
        |&n| n > 0
    ));
    Reply::Int(inserted.unwrap_or(0))
}

/// LREM key count element: count > 0 removes from the head, < 0 from the
/// tail, 0 all matches.
pub fn lrem(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    let count = tri!(args::int(&a[2]));
    let limit = usize::try_from(count.unsigned_abs()).unwrap_or(usize::MAX);
    let removed = tri!(modify_list_notify(
        st,
        db,
        &a[1],
        "lrem",
        |l| l.remove_matching(&a[3], limit, count < 0),
        |&n| n > 0
    ));
    Reply::Int(removed.unwrap_or(0) as i64)
}

/// LTRIM key start stop
pub fn ltrim(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    let start = tri!(args::int(&a[2]));
    let end = tri!(args::int(&a[3]));
    // Redis raises "ltrim" even when nothing was trimmed.
    tri!(modify_list_notify(
        st,
        db,
        &a[1],
        "ltrim",
        |l| {
            let len = l.len();
            match clamp_range(start, end, len) {
                Some((from, to)) => l.trim(from, len - 1 - to),
                None => l.trim(len, 0),
            }
        },
        |_| true
    ));
    Reply::Ok
}

struct LposOptions {
    rank: i64,
    /// None: the COUNT option was not given; Some(0): every match.
    count: Option<i64>,
    maxlen: i64,
}

fn parse_lpos(a: &[Bytes]) -> Result<LposOptions, Reply> {
    let mut o = LposOptions {
        rank: 1,
        count: None,
        maxlen: 0,
    };
    let mut j = 3;
    while j < a.len() {
        let (opt, value) = (&a[j], a.get(j + 1));
        match value {
            Some(v) if eq(opt, "rank") => {
                o.rank = args::int(v)?;
                if o.rank == 0 {
                    return Err(err(errors::LPOS_RANK_ZERO));
                }
            }
            Some(v) if eq(opt, "count") => {
                o.count = Some(non_negative(v, errors::LPOS_COUNT_NEGATIVE)? as i64)
            }
            Some(v) if eq(opt, "maxlen") => {
                o.maxlen = non_negative(v, errors::LPOS_MAXLEN_NEGATIVE)? as i64
            }
            _ => return Err(errors::syntax()),
        }
        j += 2;
    }
    Ok(o)
}

/// LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]
///
/// Follows Redis's loop exactly, including its wrapping arithmetic: RANK
/// -9223372036854775808 negates to itself, so every match qualifies.
pub fn lpos(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    let o = tri!(parse_lpos(a));
    let Some(l) = tri!(read_list(st, db, &a[1])) else {
        return if o.count.is_some() {
            Reply::Array(Vec::new())
        } else {
            Reply::Nil
        };
    };
    let (rank, from_tail) = if o.rank < 0 {
        (o.rank.wrapping_neg(), true)
    } else {
        (o.rank, false)
    };
    let elem = &a[2][..];
    let len = l.len();
    let positions: Box<dyn Iterator<Item = usize>> = if from_tail {
        Box::new((0..len).rev())
    } else {
        Box::new(0..len)
    };
    let mut found = Vec::new();
    let mut matches: i64 = 0;
    for (scanned, i) in positions.enumerate() {
        if o.maxlen != 0 && scanned as i64 >= o.maxlen {
            break;
        }
        if l.get(i) != Some(elem) {
            continue;
        }
        matches += 1;
        if matches < rank {
            continue;
        }
        match o.count {
            None => return Reply::Int(i as i64),
            Some(count) => {
                found.push(Reply::Int(i as i64));
                if count != 0 && matches.wrapping_sub(rank).wrapping_add(1) >= count {
                    break;
                }
            }
        }
    }
    if o.count.is_some() {
        Reply::Array(found)
    } else {
        Reply::Nil
    }
}

/// The ends LMOVE (source, destination) or RPOPLPUSH (RIGHT, LEFT) use.
pub(crate) fn move_ends(a: &[Bytes]) -> Result<(End, End), Reply> {
    if a.len() == 3 {
        return Ok((End::Right, End::Left));
    }
    Ok((parse_end(&a[3])?, parse_end(&a[4])?))
}

/// Shared body of LMOVE and RPOPLPUSH with both keys on this shard
/// (Redis's `lmoveGenericCommand`): the destination's type is checked
/// before anything is popped.
fn move_generic(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    let (from, to) = tri!(move_ends(a));
    move_keys(st, db, &a[1], &a[2], from, to)
}

/// Moves one element from `src`'s end `from` to `dst`'s end `to`, both
/// keys on this store.
pub(crate) fn move_keys(
    st: &mut Store,
    db: usize,
    src: &Bytes,
    dst: &Bytes,
    from: End,
    to: End,
) -> Reply {
    match probe(st, db, src) {
        None => return Reply::Nil,
        Some(false) => return errors::wrongtype(),
        Some(true) => {}
    }
    if src == dst {
        // One in-place rotation, so a single-element list is never deleted
        // and recreated (which would drop its TTL).
        let moved = tri!(modify_list(st, db, src, |l| {
            let e = pop(l, from)?;
            push(l, to, &e);
            Some(e)
        }));
        let Some(e) = moved.flatten() else {
            return Reply::Nil;
        };
        st.notify(notify::LIST, push_event(to), db, dst);
        st.notify(notify::LIST, pop_event(from), db, src);
        return Reply::Bulk(e);
    }
    if probe(st, db, dst) == Some(false) {
        return errors::wrongtype();
    }
    let Some((e, emptied)) = tri!(pop_quiet(st, db, src, from)) else {
        return Reply::Nil;
    };
    // Redis raises the push before the pop.
    tri!(push_list(st, db, dst, to, std::slice::from_ref(&e), false));
    st.notify_emptied(notify::LIST, pop_event(from), db, src, emptied);
    Reply::Bulk(e)
}

/// LMOVE source destination LEFT|RIGHT LEFT|RIGHT
pub fn lmove(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    move_generic(st, db, a)
}

/// RPOPLPUSH source destination
pub fn rpoplpush(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    move_generic(st, db, a)
}

/// LMOVE / RPOPLPUSH with source and destination on different shards.
///
/// Both shards are held for the whole operation. The first step reads the
/// element at the source's end (without popping) and checks the
/// destination's type; only if both pass does the second step pop it on
/// the source and push it on the destination, releasing both. No other
/// command runs on either shard in between, so the element read is the
/// element popped: it is moved exactly once, never lost or duplicated.
pub fn lmove_spanning<'a>(
    sh: &'a Rc<Shard>,
    s: &'a mut Session,
    a: Vec<Bytes>,
    split: Split,
) -> LocalBoxFuture<'a, Reply> {
    Box::pin(async move {
        let (from, to) = tri!(move_ends(&a));
        let (src, dst) = (a[1].clone(), a[2].clone());
        let (ss, ds) = (split.keys[0].1, split.keys[1].1);
        let (k1, k2) = (src.clone(), dst.clone());
        let mut plan = Plan::new(sh, s.parent);
        let peeked = plan.part(
            ss,
            Claim::Keys(vec![src.clone()]),
            on_store(s.db, move |st, db| -> Result<Option<Bytes>, Reply> {
                match st.lookup(db, &k1).map(|e| &e.value) {
                    None => Ok(None),
                    Some(Value::List(l)) => Ok(match from {
                        End::Left => l.front(),
                        End::Right => l.back(),
                    }
                    .map(Bytes::copy_from_slice)),
                    Some(_) => Err(errors::wrongtype()),
                }
            }),
        );
        let dst_ok = plan.part(
            ds,
            Claim::Keys(vec![dst.clone()]),
            on_store(s.db, move |st, db| probe(st, db, &k2) != Some(false)),
        );
        let mut txn = plan.hold().await;
        let elem = match (peeked.take(), dst_ok.take()) {
            (Ok(Some(e)), true) => e,
            (failed, _) => {
                txn.release();
                return match failed {
                    Err(e) => e,
                    Ok(None) => Reply::Nil,
                    Ok(Some(_)) => errors::wrongtype(),
                };
            }
        };
        let pushed = elem.clone();
        txn.step(
            ss,
            on_store(s.db, move |st, db| {
                let _ = pop_one(st, db, &src, from);
            }),
        );
        txn.step(
            ds,
            on_store(s.db, move |st, db| {
                let _ = push_list(st, db, &dst, to, &[pushed], false);
            }),
        );
        txn.end().await;
        Reply::Bulk(elem)
    })
}

/// Pops up to `count` elements from the list at `key` (known non-empty)
/// and answers LMPOP's `[key, [elements]]`.
pub(crate) fn mpop_from(st: &mut Store, db: usize, key: &Bytes, end: End, count: usize) -> Reply {
    match modify_list_notify(
        st,
        db,
        key,
        pop_event(end),
        |l| pop_many(l, end, count),
        |_| true,
    ) {
        Ok(Some(popped)) => Reply::Array(vec![Reply::Bulk(key.clone()), popped]),
        Ok(None) => Reply::NilArray,
        Err(e) => e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::command::test_args as args;

    fn run(st: &mut Store, f: fn(&mut Store, usize, &[Bytes]) -> Reply, v: &[&str]) -> Reply {
        f(st, 0, &args(v))
    }

    fn bulks(v: &[&str]) -> Reply {
        Reply::Array(v.iter().map(|s| Reply::bulk_from(s.as_bytes())).collect())
    }

    #[test]
    fn list_commands_raise_redis_events() {
        use crate::command::keys::event_script::{check, store};
        let mut st = store("KEA");
        check(
            &mut st,
            &[
                ("lpush l a b", &["lpush l"]),
                ("rpush l c", &["rpush l"]),
                ("lpushx l d", &["lpush l"]),
                ("rpushx l e", &["rpush l"]),
                ("lpushx nol a", &[]),
                ("lpop l", &["lpop l"]),
                ("rpop l", &["rpop l"]),
                ("lpop l 0", &[]),
                ("lpop nol", &[]),
                ("lset l 0 x", &["lset l"]),
                ("lset l 9 x", &[]),
                ("linsert l before x y", &["linsert l"]),
                ("linsert l before zz y", &[]),
                ("lrem l 0 zz", &[]),
                ("lrem l 1 y", &["lrem l"]),
                ("ltrim l 0 -1", &["ltrim l"]),
                ("ltrim l 0 0", &["ltrim l"]),
                ("rpush l b", &["rpush l"]),
                ("lpop l 5", &["lpop l", "del l"]),
                ("rpush l a", &["rpush l"]),
                ("rpop l", &["rpop l", "del l"]),
                ("rpush l a b", &["rpush l"]),
                ("ltrim l 5 10", &["ltrim l", "del l"]),
                ("rpush l a", &["rpush l"]),
                ("lrem l 0 a", &["lrem l", "del l"]),
                ("rpush s a b", &["rpush s"]),
                ("lmove s d left right", &["rpush d", "lpop s"]),
                ("lmove s d left left", &["lpush d", "lpop s", "del s"]),
                ("rpoplpush d d", &["lpush d", "rpop d"]),
                ("rpoplpush nos d", &[]),
                ("rpush one x", &["rpush one"]),
                ("lmove one one left right", &["rpush one", "lpop one"]),
            ],
        );
        let mut st = store("AKEmn");
        check(
            &mut st,
            &[
                ("lpush l a", &["new l", "lpush l"]),
                ("lpush l b", &["lpush l"]),
                ("llen nol", &["keymiss nol"]),
                ("lrange nol 0 1", &["keymiss nol"]),
                ("lindex nol 0", &["keymiss nol"]),
                ("lpos nol a", &["keymiss nol"]),
                ("lpop nol", &[]),
                ("lset nol 0 a", &[]),
                ("linsert nol before a b", &[]),
                ("lrem nol 0 a", &[]),
                ("ltrim nol 0 1", &[]),
                ("lmove nol l left left", &[]),
                ("lmove l d left left", &["new d", "lpush d", "lpop l"]),
                ("lmove l l left left", &["lpush l", "lpop l"]),
            ],
        );
    }

    #[test]
    fn served_pops_raise_their_pop_events() {
        use crate::command::keys::event_script::{drain, store};
        let mut st = store("KEA");
        run(&mut st, rpush, &["rpush", "l", "a", "b"]);
        run(&mut st, rpush, &["rpush", "one", "x"]);
        drain(&mut st);
        assert_eq!(
            mpop_from(&mut st, 0, &Bytes::from_static(b"l"), End::Left, 1),
            Reply::Array(vec![Reply::bulk_from(&b"l"[..]), bulks(&["a"])])
        );
        assert_eq!(
            pop_one(&mut st, 0, b"one", End::Right),
            Ok(Some(Bytes::from_static(b"x")))
        );
        assert_eq!(drain(&mut st), ["lpop l", "rpop one", "del one"]);
        mpop_from(&mut st, 0, &Bytes::from_static(b"l"), End::Right, 5);
        assert_eq!(drain(&mut st), ["rpop l", "del l"]);
    }

    #[test]
    fn ranges_follow_redis_arithmetic() {
        assert_eq!(clamp_range(0, -1, 5), Some((0, 4)));
        assert_eq!(clamp_range(-100, 100, 5), Some((0, 4)));
        assert_eq!(clamp_range(-2, -1, 5), Some((3, 4)));
        assert_eq!(clamp_range(3, 1, 5), None);
        assert_eq!(clamp_range(5, 10, 5), None);
        assert_eq!(clamp_range(i64::MIN, i64::MAX, 5), Some((0, 4)));
        assert_eq!(resolve_index(-1, 3), Some(2));
        assert_eq!(resolve_index(-4, 3), None);
        assert_eq!(resolve_index(3, 3), None);
    }

    #[test]
    fn emptied_lists_are_deleted_and_memory_returns() {
        let mut st = Store::new(1);
        assert_eq!(
            run(&mut st, rpush, &["rpush", "l", "a", "b", "c"]),
            Reply::Int(3)
        );
        assert!(st.used_memory() > 0);
        assert_eq!(run(&mut st, lpop, &["lpop", "l", "2"]), bulks(&["a", "b"]));
        assert_eq!(
            run(&mut st, rpop, &["rpop", "l"]),
            Reply::bulk_from(&b"c"[..])
        );
        assert!(!st.exists(0, b"l"));
        assert_eq!(st.used_memory(), 0);
        assert_eq!(run(&mut st, lpop, &["lpop", "l", "2"]), Reply::NilArray);
    }

    #[test]
    fn lmove_same_key_rotates_in_place() {
        let mut st = Store::new(1);
        run(&mut st, rpush, &["rpush", "l", "a", "b", "c"]);
        assert_eq!(
            run(&mut st, lmove, &["lmove", "l", "l", "left", "right"]),
            Reply::bulk_from(&b"a"[..])
        );
        assert_eq!(
            run(&mut st, lrange, &["lrange", "l", "0", "-1"]),
            bulks(&["b", "c", "a"])
        );
        assert_eq!(
            run(&mut st, rpoplpush, &["rpoplpush", "l", "l"]),
            Reply::bulk_from(&b"a"[..])
        );
        assert_eq!(
            run(&mut st, lrange, &["lrange", "l", "0", "-1"]),
            bulks(&["a", "b", "c"])
        );
    }

    #[test]
    fn lpos_rank_and_count() {
        let mut st = Store::new(1);
        run(
            &mut st,
            rpush,
            &["rpush", "l", "a", "b", "c", "a", "b", "c", "a"],
        );
        let ints = |v: &[i64]| Reply::Array(v.iter().map(|&n| Reply::Int(n)).collect());
        assert_eq!(
            run(
                &mut st,
                lpos,
                &["lpos", "l", "a", "rank", "-1", "count", "2"]
            ),
            ints(&[6, 3])
        );
        assert_eq!(
            run(
                &mut st,
                lpos,
                &["lpos", "l", "a", "count", "0", "maxlen", "4"]
            ),
            ints(&[0, 3])
        );
        assert_eq!(
            run(
                &mut st,
                lpos,
                &[
                    "lpos",
                    "l",
                    "a",
                    "rank",
                    "-9223372036854775808",
                    "count",
                    "1"
                ]
            ),
            ints(&[6, 3, 0])
        );
        assert_eq!(
            run(&mut st, lpos, &["lpos", "l", "a", "rank", "2"]),
            Reply::Int(3)
        );
        assert_eq!(
            run(&mut st, lpos, &["lpos", "l", "a", "rank", "4"]),
            Reply::Nil
        );
    }
}
