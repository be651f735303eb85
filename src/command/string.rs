//! String commands: GET SET … INCRBYFLOAT, plus the spanning (multi-shard)
//! forms of MGET, MSET, MSETNX and LCS.
//!
//! Keyed handlers run on the key's owning shard over its `Store`; the
//! `*_spanning` forms run on the connection's core when the keys live on
//! several shards (see `runtime::txn` for the ordering that keeps them atomic).

use std::rc::Rc;

use bytes::Bytes;
use futures::future::LocalBoxFuture;

use super::args::{self, eq};
use super::errors::{self, err};
use super::fanout;
use super::place::Split;
use crate::command::session::Session;
use crate::keyspace::notify;
use crate::keyspace::store::{ExpireAt, Store};
use crate::keyspace::value::{Str, Value};
use crate::resp::reply::format_long_double_human;
use crate::resp::Reply;
use crate::services::Shard;

/// The string at `key`: Ok(None) when absent, Err(WRONGTYPE) for another type.
fn read_str<'a>(st: &'a mut Store, db: usize, key: &[u8]) -> Result<Option<&'a Str>, Reply> {
    match st.read(db, key) {
        None => Ok(None),
        Some(e) => match &e.value {
            Value::Str(s) => Ok(Some(s)),
            _ => Err(errors::wrongtype()),
        },
    }
}

fn str_reply(s: Option<&Str>) -> Reply {
    match s {
        Some(s) => Reply::Bulk(s.to_bytes()),
        None => Reply::Nil,
    }
}

/// GET key
pub fn get(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    str_reply(tri!(read_str(st, db, &a[1])))
}

#[derive(Default, Clone, Copy)]
struct SetOptions {
    nx: bool,
    xx: bool,
    get: bool,
    keepttl: bool,
    persist: bool,
    /// Absolute unix ms, once parsed.
    expire: Option<ExpireAt>,
}

#[derive(PartialEq)]
enum OptsFor {
    Set,
    GetEx,
}

/// Redis's `parseExtendedStringArgumentsOrReply` + `getExpireMillisecondsOrReply`
/// for SET and GETEX, with the same precedence of errors.
fn parse_set_options(
    a: &[Bytes],
    from: usize,
    now: u64,
    cmd: OptsFor,
    name: &str,
) -> Result<SetOptions, Reply> {
    let mut o = SetOptions::default();
    // (value, unit ms multiplier, relative?)
    let mut exp: Option<(&Bytes, i64, bool)> = None;
    let mut j = from;
    while j < a.len() {
        let opt = &a[j];
        let next = a.get(j + 1);
        let timed = exp.is_some();
        if eq(opt, "nx") && !o.xx && cmd == OptsFor::Set {
            o.nx = true;
        } else if eq(opt, "xx") && !o.nx && cmd == OptsFor::Set {
            o.xx = true;
        } else if eq(opt, "get") && cmd == OptsFor::Set {
            o.get = true;
        } else if eq(opt, "keepttl") && !o.persist && !timed && cmd == OptsFor::Set {
            o.keepttl = true;
        } else if eq(opt, "persist") && cmd == OptsFor::GetEx && !timed && !o.keepttl {
            o.persist = true;
        } else if let (Some((unit, rel)), Some(v), false, false, false) =
            (time_option(opt), next, o.keepttl, o.persist, timed)
        {
            exp = Some((v, unit, rel));
            j += 1;
        } else {
            return Err(errors::syntax());
        }
        j += 1;
    }
    if let Some((v, unit, rel)) = exp {
        let n = args::int(v)?;
        if n <= 0 || (unit == 1000 && n > i64::MAX / 1000) {
            return Err(errors::invalid_expire(name));
        }
        let mut ms = n * unit;
        if rel {
            if ms > i64::MAX - now as i64 {
                return Err(errors::invalid_expire(name));
            }
            ms += now as i64;
        }
        o.expire = Some(ms as u64);
    }
    Ok(o)
}

fn time_option(opt: &[u8]) -> Option<(i64, bool)> {
    if eq(opt, "ex") {
        Some((1000, true))
    } else if eq(opt, "px") {
        Some((1, true))
    } else if eq(opt, "exat") {
        Some((1000, false))
    } else if eq(opt, "pxat") {
        Some((1, false))
    } else {
        None
    }
}

/// Stores a string, keeping the old TTL when asked, and raises "set" (then
/// "expire" when an expiry is given). An expiry already in the past is
/// stored as given, so the key expires on its next access, as in Redis 7.0.
fn store_str(
    st: &mut Store,
    db: usize,
    key: &[u8],
    value: &[u8],
    expire: Option<ExpireAt>,
    keepttl: bool,
) {
    let ttl = match expire {
        Some(at) => at,
        None if keepttl => st.lookup(db, key).map_or(0, |e| e.expire),
        None => 0,
    };
    st.insert(db, key, Value::Str(Str::from_bytes(value)), ttl);
    st.notify(notify::STRING, "set", db, key);
    if expire.is_some() {
        st.notify(notify::GENERIC, "expire", db, key);
    }
}

/// SET key value [NX | XX] [GET] [EX s | PX ms | EXAT ts | PXAT ms-ts | KEEPTTL]
pub fn set(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    let o = tri!(parse_set_options(a, 3, st.now, OptsFor::Set, "set"));
    let key = &a[1];
    let old = if o.get {
        str_reply(tri!(read_str(st, db, key)))
    } else {
        Reply::Nil
    };
    // Without NX/XX the insert itself finds (and expires) the old entry:
    // one table lookup instead of two.
    if o.nx || o.xx {
        let found = st.exists(db, key);
        if (o.nx && found) || (o.xx && !found) {
            return if o.get { old } else { Reply::Nil };
        }
    }
    store_str(st, db, key, &a[2], o.expire, o.keepttl);
    if o.get {
        old
    } else {
        Reply::Ok
    }
}

/// SETNX key value
pub fn setnx(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    if st.exists(db, &a[1]) {
        return Reply::Int(0);
    }
    store_str(st, db, &a[1], &a[2], None, false);
    Reply::Int(1)
}

/// SETEX key seconds value
pub fn setex(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    setex_generic(st, db, a, 1000, "setex")
}

/// PSETEX key milliseconds value
pub fn psetex(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    setex_generic(st, db, a, 1, "psetex")
}

/// Shared body of SETEX and PSETEX.
fn setex_generic(st: &mut Store, db: usize, a: &[Bytes], unit: i64, name: &str) -> Reply {
    let n = tri!(args::int(&a[2]));
    if n <= 0 || (unit == 1000 && n > i64::MAX / 1000) || n * unit > i64::MAX - st.now as i64 {
        return errors::invalid_expire(name);
    }
    let at = st.now + (n * unit) as u64;
    store_str(st, db, &a[1], &a[3], Some(at), false);
    Reply::Ok
}

/// GETSET key value
pub fn getset(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    let old = str_reply(tri!(read_str(st, db, &a[1])));
    store_str(st, db, &a[1], &a[2], None, false);
    old
}

/// GETDEL key
pub fn getdel(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    let old = str_reply(tri!(read_str(st, db, &a[1])));
    if old != Reply::Nil {
        st.remove(db, &a[1]);
        st.notify(notify::GENERIC, "del", db, &a[1]);
    }
    old
}

/// GETEX key [EX s | PX ms | EXAT ts | PXAT ms-ts | PERSIST]
pub fn getex(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    let o = tri!(parse_set_options(a, 2, st.now, OptsFor::GetEx, "getex"));
    let key = &a[1];
    let reply = str_reply(tri!(read_str(st, db, key)));
    if reply == Reply::Nil {
        return reply;
    }
    match o.expire {
        Some(at) if at <= st.now => {
            st.remove(db, key);
            st.notify(notify::GENERIC, "del", db, key);
        }
        Some(at) => {
            st.db(db).set_expire(key, at);
            st.notify(notify::GENERIC, "expire", db, key);
        }
        None if o.persist && st.lookup(db, key).is_some_and(|e| e.expire != 0) => {
            st.db(db).set_expire(key, 0);
            st.notify(notify::GENERIC, "persist", db, key);
        }
        None => {}
    }
    reply
}

/// MGET key [key ...] (the keys of one shard)
pub fn mget(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    let replies = a[1..]
        .iter()
        .map(|k| match st.read(db, k) {
            Some(e) => match &e.value {
                Value::Str(s) => Reply::Bulk(s.to_bytes()),
                _ => Reply::Nil,
            },
            None => Reply::Nil,
        })
        .collect();
    Reply::Array(replies)
}

fn mset_odd(a: &[Bytes]) -> Option<Reply> {
    (a.len() % 2 == 0).then(|| errors::arity(&String::from_utf8_lossy(&a[0]).to_ascii_lowercase()))
}

/// MSET key value [key value ...]
pub fn mset(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    if let Some(e) = mset_odd(a) {
        return e;
    }
    for kv in a[1..].chunks_exact(2) {
        store_str(st, db, &kv[0], &kv[1], None, false);
    }
    Reply::Ok
}

/// MSETNX key value [key value ...]
pub fn msetnx(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    if let Some(e) = mset_odd(a) {
        return e;
    }
    if a[1..].chunks_exact(2).any(|kv| st.exists(db, &kv[0])) {
        return Reply::Int(0);
    }
    mset(st, db, a);
    Reply::Int(1)
}

/// How many of the keys `a[1..]` exist, looked up as writes (MSETNX's
/// probe: no "keymiss", unlike EXISTS).
fn count_existing(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    Reply::Int(a[1..].iter().filter(|k| st.exists(db, k)).count() as i64)
}

pub fn msetnx_spanning<'a>(
    sh: &'a Rc<Shard>,
    s: &'a mut Session,
    a: Vec<Bytes>,
    split: Split,
) -> LocalBoxFuture<'a, Reply> {
    Box::pin(async move {
        if let Some(e) = mset_odd(&a) {
            return e;
        }
        fanout::msetnx(sh, s.db, s.parent, a, &split, count_existing, mset).await
    })
}

/// APPEND key value
pub fn append(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    let (key, tail) = (&a[1], &a[2]);
    let limit = st.proto_max_bulk_len;
    let res = st.modify(db, key, |e| match &mut e.value {
        Value::Str(s) => {
            let len = s.len() + tail.len();
            if len as u64 > limit {
                return Err(err(errors::STRING_TOO_LONG));
            }
            let mut v = s.to_vec();
            v.extend_from_slice(tail);
            *s = Str::Raw(v.into());
            Ok(len)
        }
        _ => Err(errors::wrongtype()),
    });
    let len = match res {
        Some(Ok(len)) => len,
        Some(Err(e)) => return e,
        None => {
            if tail.len() as u64 > limit {
                return err(errors::STRING_TOO_LONG);
            }
            st.insert(db, key, Value::Str(Str::Raw(tail.to_vec().into())), 0);
            tail.len()
        }
    };
    st.notify(notify::STRING, "append", db, key);
    Reply::Int(len as i64)
}

/// STRLEN key
pub fn strlen(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    Reply::Int(tri!(read_str(st, db, &a[1])).map_or(0, |s| s.len() as i64))
}

/// GETRANGE key start end (also SUBSTR)
pub fn getrange(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    let start = tri!(args::int(&a[2]));
    let end = tri!(args::int(&a[3]));
    let Some(s) = tri!(read_str(st, db, &a[1])) else {
        return Reply::Bulk(Bytes::new());
    };
    let mut scratch = itoa::Buffer::new();
    let bytes = s.bytes(&mut scratch);
    match clamp_range(start, end, bytes.len() as i64) {
        Some((from, to)) => Reply::Bulk(Bytes::copy_from_slice(&bytes[from..=to])),
        None => Reply::Bulk(Bytes::new()),
    }
}

/// Redis's GETRANGE index arithmetic: negative from the end, clamped.
fn clamp_range(mut start: i64, mut end: i64, len: i64) -> Option<(usize, usize)> {
    if start < 0 && end < 0 && start > end {
        return None;
    }
    if start < 0 {
        start += len;
    }
    if end < 0 {
        end += len;
    }
    start = start.max(0);
    end = end.max(0);
    if end >= len {
        end = len - 1;
    }
    if start > end || len == 0 {
        return None;
    }
    Some((start as usize, end as usize))
}

/// SETRANGE key offset value
pub fn setrange(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    let offset = tri!(args::int(&a[2]));
    if offset < 0 {
        return err(errors::OFFSET_RANGE);
    }
    let (key, patch) = (&a[1], &a[3]);
    let offset = offset as u64;
    let limit = st.proto_max_bulk_len;
    let too_long = |cur: usize| {
        !patch.is_empty() && offset + patch.len() as u64 > limit && cur as u64 <= limit
    };
    let res = st.modify(db, key, |e| match &mut e.value {
        Value::Str(s) => {
            if patch.is_empty() {
                return Ok(s.len());
            }
            if too_long(s.len()) {
                return Err(err(errors::STRING_TOO_LONG));
            }
            let mut v = s.to_vec();
            let end = offset as usize + patch.len();
            if v.len() < end {
                v.resize(end, 0);
            }
            v[offset as usize..end].copy_from_slice(patch);
            let len = v.len();
            *s = Str::Raw(v.into());
            Ok(len)
        }
        _ => Err(errors::wrongtype()),
    });
    let len = match res {
        Some(Ok(len)) => len,
        Some(Err(e)) => return e,
        None if patch.is_empty() => 0,
        None => {
            if too_long(0) {
                return err(errors::STRING_TOO_LONG);
            }
            let mut v = vec![0u8; offset as usize + patch.len()];
            v[offset as usize..].copy_from_slice(patch);
            let len = v.len();
            st.insert(db, key, Value::Str(Str::Raw(v.into())), 0);
            len
        }
    };
    if !patch.is_empty() {
        st.notify(notify::STRING, "setrange", db, key);
    }
    Reply::Int(len as i64)
}

/// Shared body of INCR, DECR, INCRBY and DECRBY; all raise "incrby", as
/// Redis 7.0 does.
fn incr_generic(st: &mut Store, db: usize, key: &[u8], by: i64) -> Reply {
    let res = st.modify(db, key, |e| match &mut e.value {
        Value::Str(s) => {
            let cur = match s {
                Str::Int(n) => *n,
                Str::Emb(_) | Str::Raw(_) => {
                    match crate::keyspace::value::parse_canonical_i64(&s.to_vec()) {
                        Some(n) => n,
                        None => return Err(errors::not_integer()),
                    }
                }
            };
            let n = cur.checked_add(by).ok_or_else(|| err(errors::OVERFLOW))?;
            *s = Str::Int(n);
            Ok(n)
        }
        _ => Err(errors::wrongtype()),
    });
    let n = match res {
        Some(Ok(n)) => n,
        Some(Err(e)) => return e,
        None => {
            st.insert(db, key, Value::Str(Str::Int(by)), 0);
            by
        }
    };
    st.notify(notify::STRING, "incrby", db, key);
    Reply::Int(n)
}

/// INCR key
pub fn incr(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    incr_generic(st, db, &a[1], 1)
}

/// DECR key
pub fn decr(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    incr_generic(st, db, &a[1], -1)
}

/// INCRBY key increment
pub fn incrby(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    let by = tri!(args::int(&a[2]));
    incr_generic(st, db, &a[1], by)
}

/// DECRBY key decrement
pub fn decrby(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    let by = tri!(args::int(&a[2]));
    if by == i64::MIN {
        return err(errors::DECR_OVERFLOW);
    }
    incr_generic(st, db, &a[1], -by)
}

/// INCRBYFLOAT key increment. Redis computes in long double; lanner in
/// f64, so results can differ in the last digits (see README). The key is
/// looked up as a write (no keyspace hit, miss or "keymiss").
pub fn incrbyfloat(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    let key = &a[1];
    let cur = match st.lookup(db, key).map(|e| &e.value) {
        None => 0.0,
        Some(Value::Str(s)) => {
            let mut scratch = itoa::Buffer::new();
            match args::parse_float(s.bytes(&mut scratch)) {
                Some(v) => v,
                None => return err(errors::NOT_FLOAT),
            }
        }
        Some(_) => return errors::wrongtype(),
    };
    let by = tri!(args::float(&a[2]));
    let v = cur + by;
    if !v.is_finite() {
        return err(errors::NAN_OR_INF);
    }
    let text = format_long_double_human(v);
    let ttl = st.lookup(db, key).map_or(0, |e| e.expire);
    st.insert(db, key, Value::Str(Str::plain(text.as_bytes())), ttl);
    st.notify(notify::STRING, "incrbyfloat", db, key);
    Reply::Bulk(Bytes::from(text))
}

struct LcsOptions {
    len: bool,
    idx: bool,
    min_len: i64,
    with_len: bool,
}

fn parse_lcs(a: &[Bytes]) -> Result<LcsOptions, Reply> {
    let mut o = LcsOptions {
        len: false,
        idx: false,
        min_len: 0,
        with_len: false,
    };
    let mut j = 3;
    while j < a.len() {
        let opt = &a[j];
        if eq(opt, "idx") {
            o.idx = true;
        } else if eq(opt, "len") {
            o.len = true;
        } else if eq(opt, "withmatchlen") {
            o.with_len = true;
        } else if eq(opt, "minmatchlen") && j + 1 < a.len() {
            o.min_len = args::int(&a[j + 1])?.max(0);
            j += 1;
        } else {
            return Err(errors::syntax());
        }
        j += 1;
    }
    if o.len && o.idx {
        return Err(err(errors::LCS_LEN_IDX));
    }
    Ok(o)
}

fn lcs_value(st: &mut Store, db: usize, key: &[u8]) -> Result<Vec<u8>, Reply> {
    match st.read(db, key) {
        None => Ok(Vec::new()),
        Some(e) => match &e.value {
            Value::Str(s) => Ok(s.to_vec()),
            _ => Err(err(errors::LCS_TYPE)),
        },
    }
}

/// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]
pub fn lcs(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    let x = tri!(lcs_value(st, db, &a[1]));
    let y = tri!(lcs_value(st, db, &a[2]));
    lcs_reply(&x, &y, a)
}

pub fn lcs_spanning<'a>(
    sh: &'a Rc<Shard>,
    s: &'a mut Session,
    a: Vec<Bytes>,
    split: Split,
) -> LocalBoxFuture<'a, Reply> {
    Box::pin(async move {
        let db = s.db;
        let read = |key: Bytes| move |st: &mut Store| lcs_value(st, db, &key);
        let mut vals = fanout::read_each(
            sh,
            s.parent,
            vec![
                (split.keys[0].1, a[1].clone(), read(a[1].clone())),
                (split.keys[1].1, a[2].clone(), read(a[2].clone())),
            ],
        )
        .await;
        let y = tri!(vals.pop().expect("two values"));
        let x = tri!(vals.pop().expect("two values"));
        lcs_reply(&x, &y, &a)
    })
}

fn lcs_reply(x: &[u8], y: &[u8], a: &[Bytes]) -> Reply {
    let o = tri!(parse_lcs(a));
    // Dynamic programming table as Redis: dp[i][j] = LCS length of x[..i], y[..j].
    let (n, m) = (x.len(), y.len());
    let w = m + 1;
    let mut dp = vec![0u32; (n + 1) * w];
    for i in 1..=n {
        for j in 1..=m {
            dp[i * w + j] = if x[i - 1] == y[j - 1] {
                dp[(i - 1) * w + j - 1] + 1
            } else {
                dp[(i - 1) * w + j].max(dp[i * w + j - 1])
            };
        }
    }
    let total = dp[n * w + m] as usize;
    if o.len {
        return Reply::Int(total as i64);
    }
    // Walk back from the end, collecting the LCS and the matching ranges.
    let mut out = vec![0u8; total];
    let mut k = total;
    let (mut i, mut j) = (n, m);
    let mut matches = Vec::new();
    let mut range: Option<(usize, usize, usize, usize)> = None; // a_start a_end b_start b_end
    let push = |r: (usize, usize, usize, usize), matches: &mut Vec<Reply>| {
        let len = r.1 - r.0 + 1;
        if len as i64 >= o.min_len {
            let mut m = vec![
                Reply::Array(vec![Reply::Int(r.0 as i64), Reply::Int(r.1 as i64)]),
                Reply::Array(vec![Reply::Int(r.2 as i64), Reply::Int(r.3 as i64)]),
            ];
            if o.with_len {
                m.push(Reply::Int(len as i64));
            }
            matches.push(Reply::Array(m));
        }
    };
    while k > 0 && i > 0 && j > 0 {
        if x[i - 1] == y[j - 1] {
            out[k - 1] = x[i - 1];
            let (ai, bj) = (i - 1, j - 1);
            range = match range {
                Some((a0, a1, b0, b1)) if a0 == ai + 1 && b0 == bj + 1 => Some((ai, a1, bj, b1)),
                Some(r) => {
                    push(r, &mut matches);
                    Some((ai, ai, bj, bj))
                }
                None => Some((ai, ai, bj, bj)),
            };
            k -= 1;
            i -= 1;
            j -= 1;
        } else if dp[(i - 1) * w + j] > dp[i * w + j - 1] {
            i -= 1;
        } else {
            j -= 1;
        }
    }
    if let Some(r) = range {
        push(r, &mut matches);
    }
    if o.idx {
        Reply::Map(vec![
            (
                Reply::Bulk(Bytes::from_static(b"matches")),
                Reply::Array(matches),
            ),
            (
                Reply::Bulk(Bytes::from_static(b"len")),
                Reply::Int(total as i64),
            ),
        ])
    } else {
        Reply::Bulk(Bytes::from(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::command::test_args as args;

    #[test]
    fn string_commands_raise_redis_events() {
        use crate::command::keys::event_script::{check, store};
        let mut st = store("KEA");
        check(
            &mut st,
            &[
                ("set a 1", &["set a"]),
                ("set a 2 xx", &["set a"]),
                ("set b 1 xx", &[]),
                ("set a 3 nx", &[]),
                ("set a 4 get", &["set a"]),
                ("set a 5 px 100000", &["set a", "expire a"]),
                ("set a 6 keepttl", &["set a"]),
                ("set a 7 exat 1", &["set a", "expire a"]),
                ("set a 8 pxat 1 get", &["expired a", "set a", "expire a"]),
                ("setnx a 1", &["expired a", "set a"]),
                ("setnx c 1", &["set c"]),
                ("setex d 10 v", &["set d", "expire d"]),
                ("psetex e 1000 v", &["set e", "expire e"]),
                ("getset a 9", &["set a"]),
                ("getdel a", &["del a"]),
                ("getdel a", &[]),
                ("getex c ex 100", &["expire c"]),
                ("getex c persist", &["persist c"]),
                ("getex c", &[]),
                ("getex c px 0", &[]),
                ("getex c exat 1", &["del c"]),
                ("getex nokey ex 10", &[]),
                ("mset m1 1 m2 2", &["set m1", "set m2"]),
                ("msetnx m1 1 m3 3", &[]),
                ("msetnx m3 3 m4 4", &["set m3", "set m4"]),
                ("append ap x", &["append ap"]),
                ("append ap y", &["append ap"]),
                ("setrange sr 2 x", &["setrange sr"]),
                ("setrange sr 0 \"\"", &[]),
                ("setrange nosr 0 \"\"", &[]),
                ("incr i", &["incrby i"]),
                ("decr i", &["incrby i"]),
                ("incrby i 5", &["incrby i"]),
                ("decrby i 2", &["incrby i"]),
                ("incrbyfloat f 1.5", &["incrbyfloat f"]),
                ("incr ap", &[]),
                ("incrbyfloat i 1", &["incrbyfloat i"]),
                ("getex sr persist", &[]),
            ],
        );
        let mut st = store("AKEmn");
        check(
            &mut st,
            &[
                ("set a 1", &["new a", "set a"]),
                ("set a 2", &["set a"]),
                ("set nx1 1 get", &["keymiss nx1", "new nx1", "set nx1"]),
                ("set a 3 get", &["set a"]),
                ("get zz", &["keymiss zz"]),
                ("mget zz a yy", &["keymiss zz", "keymiss yy"]),
                ("getset gs 1", &["keymiss gs", "new gs", "set gs"]),
                ("getdel gd", &["keymiss gd"]),
                ("getex ge", &["keymiss ge"]),
                ("strlen zz", &["keymiss zz"]),
                ("getrange zz 0 1", &["keymiss zz"]),
                ("substr zz 0 1", &["keymiss zz"]),
                ("append ap x", &["new ap", "append ap"]),
                ("setrange sr 1 x", &["new sr", "setrange sr"]),
                ("incr i", &["new i", "incrby i"]),
                ("incrbyfloat f 1", &["new f", "incrbyfloat f"]),
                ("lcs zz a", &["keymiss zz"]),
                ("setnx a 1", &[]),
                ("msetnx q 1 a 2", &[]),
                ("set x y exat 1", &["new x", "set x", "expire x"]),
                ("get x", &["expired x", "keymiss x"]),
            ],
        );
    }

    #[test]
    fn getrange_matches_redis_edges() {
        assert_eq!(clamp_range(0, -1, 5), Some((0, 4)));
        assert_eq!(clamp_range(-3, -1, 5), Some((2, 4)));
        assert_eq!(clamp_range(-1, -3, 5), None);
        assert_eq!(clamp_range(10, 20, 5), None);
        assert_eq!(clamp_range(0, 100, 5), Some((0, 4)));
        assert_eq!(clamp_range(0, 0, 0), None);
    }

    #[test]
    fn lcs_finds_redis_example() {
        let a = args(&["lcs", "k1", "k2"]);
        assert_eq!(
            lcs_reply(b"ohmytext", b"mynewtext", &a),
            Reply::Bulk(Bytes::from_static(b"mytext"))
        );
        let a = args(&["lcs", "k1", "k2", "LEN"]);
        assert_eq!(lcs_reply(b"ohmytext", b"mynewtext", &a), Reply::Int(6));
    }

    #[test]
    fn set_options_reject_conflicts() {
        let now = 1_000;
        let p = |v: &[&str]| parse_set_options(&args(v), 3, now, OptsFor::Set, "set");
        assert!(p(&["set", "k", "v", "nx", "xx"]).is_err());
        assert!(p(&["set", "k", "v", "ex", "10", "px", "10"]).is_err());
        assert!(p(&["set", "k", "v", "keepttl", "ex", "10"]).is_err());
        assert!(p(&["set", "k", "v", "ex"]).is_err());
        assert_eq!(
            p(&["set", "k", "v", "ex", "0"]).err(),
            Some(errors::invalid_expire("set"))
        );
        assert_eq!(
            p(&["set", "k", "v", "px", "5"]).unwrap().expire,
            Some(1_005)
        );
        assert_eq!(
            p(&["set", "k", "v", "exat", "5"]).unwrap().expire,
            Some(5_000)
        );
    }
}
