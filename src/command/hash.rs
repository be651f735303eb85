//! Hash commands: HSET … HSCAN.
//!
//! Every command is single-key: a keyed handler run on the hash's owning
//! shard over its `Store` (inline when local, else in one hop). The value
//! type and its listpack → hashtable conversion live in `keyspace::hash`; the
//! limits come from `st.limits` (`hash-max-listpack-*`).
//!
//! Invariants: an empty hash is never stored — HDEL of the last field
//! deletes the key, and a write that fails on a new key stores nothing.
//! Checks run in Redis 7.0's order (arguments, then the key's type, then
//! the rest). Writes look keys up without counting keyspace hits or misses;
//! reads count them.
//!
//! Keyspace events are Redis 7.0's: "hset" (HSET and HMSET always, HSETNX
//! when it sets), "hincrby", "hincrbyfloat", "hdel", then "del" when HDEL
//! empties the hash.
//!
//! Deviations: HINCRBYFLOAT computes in f64 where Redis uses
//! `long double`, so results past ±1.8e308 are "NaN or Infinity" here and
//! results beyond 2^53 round differently. HRANDFIELD with a count below
//! -2^26 is refused ("value is out of range") instead of streamed.

use bytes::Bytes;
use rand::{Rng, SeedableRng};

use super::args::{self, eq};
use super::errors::{self, err};
use crate::keyspace::hash::HashValue;
use crate::keyspace::notify;
use crate::keyspace::store::Store;
use crate::keyspace::value::{parse_canonical_i64, Value};
use crate::resp::reply::format_long_double_human;
use crate::resp::Reply;

/// Most elements one HRANDFIELD with a negative count may answer: Redis
/// streams such a reply, lanner builds it whole, so an absurd count would
/// exhaust memory instead of one client's output buffer.
const RANDFIELD_MAX: u64 = 1 << 26;

/// The hash at `key` for a read: Ok(None) when absent, Err(WRONGTYPE) for
/// another type.
fn read_hash<'a>(st: &'a mut Store, db: usize, key: &[u8]) -> Result<Option<&'a HashValue>, Reply> {
    match st.read(db, key) {
        None => Ok(None),
        Some(e) => match &e.value {
            Value::Hash(h) => Ok(Some(h)),
            _ => Err(errors::wrongtype()),
        },
    }
}

/// The `hash-max-listpack-entries` and `-value` limits.
type Limits = (usize, usize);

/// Runs `f` on the hash at `key` in place (Ok(None) when absent and not
/// `create`; Err(WRONGTYPE) for another type). With `create`, an absent key
/// gets a new hash, stored only if `f` leaves it non-empty. Deletes the key
/// if `f` empties the hash. Raises `event` when `changed` says `f` changed
/// the hash, then "del" when it was emptied.
fn modify_hash<R>(
    st: &mut Store,
    db: usize,
    key: &[u8],
    create: bool,
    event: &'static str,
    f: impl FnOnce(&mut HashValue, Limits) -> R,
    changed: impl FnOnce(&R) -> bool,
) -> Result<Option<R>, Reply> {
    let limits = (st.limits.hash_entries, st.limits.hash_value);
    let mut f = Some(f);
    let res = st.modify(db, key, |e| match &mut e.value {
        Value::Hash(h) => Ok((f.take().expect("called once")(h, limits), h.is_empty())),
        _ => Err(errors::wrongtype()),
    });
    match res {
        Some(Err(e)) => Err(e),
        Some(Ok((r, empty))) => {
            if empty {
                st.remove(db, key);
            }
            if changed(&r) {
                st.notify_emptied(notify::HASH, event, db, key, empty);
            }
            Ok(Some(r))
        }
        None if !create => Ok(None),
        None => {
            let mut h = HashValue::default();
            let r = f.take().expect("not called yet")(&mut h, limits);
            if !h.is_empty() {
                st.insert(db, key, Value::Hash(Box::new(h)), 0);
                if changed(&r) {
                    st.notify(notify::HASH, event, db, key);
                }
            }
            Ok(Some(r))
        }
    }
}

/// Shared body of HSET and HMSET: the number of new fields.
fn set_generic(st: &mut Store, db: usize, a: &[Bytes], name: &str) -> Result<i64, Reply> {
    if a.len() % 2 == 1 {
        return Err(errors::arity(name));
    }
    let set = |h: &mut HashValue, (me, mv): Limits| {
        a[2..]
            .chunks_exact(2)
            .filter(|p| h.set(&p[0], &p[1], me, mv))
            .count() as i64
    };
    let added = modify_hash(st, db, &a[1], true, "hset", set, |_| true)?;
    Ok(added.unwrap_or(0))
}

/// HSET key field value [field value ...]
pub fn hset(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    Reply::Int(tri!(set_generic(st, db, a, "hset")))
}

/// HMSET key field value [field value ...]
pub fn hmset(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    tri!(set_generic(st, db, a, "hmset"));
    Reply::Ok
}

/// HSETNX key field value
pub fn hsetnx(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    let set = tri!(modify_hash(
        st,
        db,
        &a[1],
        true,
        "hset",
        |h, (me, mv)| !h.contains(&a[2]) && h.set(&a[2], &a[3], me, mv),
        |&set| set
    ));
    Reply::Int(i64::from(set == Some(true)))
}

/// HGET key field
pub fn hget(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    match tri!(read_hash(st, db, &a[1])).and_then(|h| h.get(&a[2])) {
        Some(v) => Reply::bulk_from(v),
        None => Reply::Nil,
    }
}

/// HMGET key field [field ...]
pub fn hmget(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    let h = tri!(read_hash(st, db, &a[1]));
    Reply::Array(
        a[2..]
            .iter()
            .map(|f| {
                h.and_then(|h| h.get(f))
                    .map_or(Reply::Nil, Reply::bulk_from)
            })
            .collect(),
    )
}

/// HGETALL key: a map in RESP3, a flat array in RESP2; a listpack answers
/// in insertion order, as Redis does.
pub fn hgetall(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    let Some(h) = tri!(read_hash(st, db, &a[1])) else {
        return Reply::Map(Vec::new());
    };
    Reply::Map(
        h.iter()
            .map(|(f, v)| (Reply::bulk_from(f), Reply::bulk_from(v)))
            .collect(),
    )
}

/// HKEYS key
pub fn hkeys(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    let h = tri!(read_hash(st, db, &a[1]));
    Reply::Array(h.map_or_else(Vec::new, |h| {
        h.iter().map(|(f, _)| Reply::bulk_from(f)).collect()
    }))
}

/// HVALS key
pub fn hvals(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    let h = tri!(read_hash(st, db, &a[1]));
    Reply::Array(h.map_or_else(Vec::new, |h| {
        h.iter().map(|(_, v)| Reply::bulk_from(v)).collect()
    }))
}

/// HLEN key
pub fn hlen(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    Reply::Int(tri!(read_hash(st, db, &a[1])).map_or(0, |h| h.len() as i64))
}

/// HEXISTS key field
pub fn hexists(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    let h = tri!(read_hash(st, db, &a[1]));
    Reply::Int(i64::from(h.is_some_and(|h| h.contains(&a[2]))))
}

/// HSTRLEN key field
pub fn hstrlen(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    let h = tri!(read_hash(st, db, &a[1]));
    Reply::Int(h.and_then(|h| h.get(&a[2])).map_or(0, |v| v.len() as i64))
}

/// HDEL key field [field ...]
pub fn hdel(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    let removed = tri!(modify_hash(
        st,
        db,
        &a[1],
        false,
        "hdel",
        |h, _| a[2..].iter().filter(|f| h.remove(f)).count() as i64,
        |&n| n > 0
    ));
    Reply::Int(removed.unwrap_or(0))
}

/// HINCRBY key field increment
pub fn hincrby(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    let by = tri!(args::int(&a[3]));
    let field = &a[2];
    let incr = |h: &mut HashValue, (me, mv): Limits| {
        let cur = match h.get(field) {
            None => 0,
            Some(v) => parse_canonical_i64(v).ok_or_else(|| err(errors::HASH_NOT_INTEGER))?,
        };
        let v = cur.checked_add(by).ok_or_else(|| err(errors::OVERFLOW))?;
        h.set(field, itoa::Buffer::new().format(v).as_bytes(), me, mv);
        Ok(v)
    };
    let done = tri!(modify_hash(
        st,
        db,
        &a[1],
        true,
        "hincrby",
        incr,
        Result::is_ok
    ));
    match done.expect("created when absent") {
        Ok(v) => Reply::Int(v),
        Err(e) => e,
    }
}

/// HINCRBYFLOAT key field increment (the result formatted as INCRBYFLOAT's).
pub fn hincrbyfloat(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    let by = tri!(args::float(&a[3]));
    if by.is_infinite() {
        return err(errors::HASH_NAN_OR_INF);
    }
    let field = &a[2];
    let incr = |h: &mut HashValue, (me, mv): Limits| {
        let cur = match h.get(field) {
            None => 0.0,
            Some(v) => args::parse_float(v).ok_or_else(|| err(errors::HASH_NOT_FLOAT))?,
        };
        let v = cur + by;
        if !v.is_finite() {
            return Err(err(errors::NAN_OR_INF));
        }
        let text = format_long_double_human(v);
        h.set(field, text.as_bytes(), me, mv);
        Ok(text)
    };
    let done = tri!(modify_hash(
        st,
        db,
        &a[1],
        true,
        "hincrbyfloat",
        incr,
        Result::is_ok
    ));
    match done.expect("created when absent") {
        Ok(text) => Reply::Bulk(Bytes::from(text)),
        Err(e) => e,
    }
}

/// HRANDFIELD key [count [WITHVALUES]]
///
/// Count > 0: distinct fields (the whole hash when count ≥ its size);
/// count < 0: |count| fields drawn independently, repeats allowed. With
/// WITHVALUES, [field, value] pairs: nested in RESP3, flat in RESP2.
pub fn hrandfield(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    if a.len() == 2 {
        let mut rng = std::mem::replace(&mut st.rng, rand::rngs::SmallRng::seed_from_u64(0));
        let reply = match read_hash(st, db, &a[1]) {
            Err(e) => e,
            Ok(None) => Reply::Nil,
            Ok(Some(h)) => {
                let i = rng.gen_range(0..h.len());
                Reply::bulk_from(h.get_index(i).expect("index below len").0)
            }
        };
        st.rng = rng;
        return reply;
    }
    let count = match args::int(&a[2]) {
        Ok(i64::MIN) => return err(errors::RANDOM_COUNT_RANGE),
        Ok(n) => n,
        Err(e) => return e,
    };
    let withvalues = match a.len() {
        3 => false,
        4 if eq(&a[3], "withvalues") => true,
        _ => return errors::syntax(),
    };
    if withvalues && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&count) {
        return err(errors::OUT_OF_RANGE);
    }
    let mut rng = std::mem::replace(&mut st.rng, rand::rngs::SmallRng::seed_from_u64(0));
    let reply = randfield_count(st, db, &a[1], count, withvalues, &mut rng);
    st.rng = rng;
    reply
}

fn randfield_count(
    st: &mut Store,
    db: usize,
    key: &[u8],
    count: i64,
    withvalues: bool,
    rng: &mut rand::rngs::SmallRng,
) -> Reply {
    let h = match read_hash(st, db, key) {
        Err(e) => return e,
        Ok(None) => return Reply::Array(Vec::new()),
        Ok(Some(h)) => h,
    };
    let size = h.len();
    let picked: Vec<(&[u8], &[u8])> = if count < 0 {
        let n = count.unsigned_abs();
        if n > RANDFIELD_MAX {
            return err(errors::OUT_OF_RANGE);
        }
        (0..n)
            .map(|_| {
                h.get_index(rng.gen_range(0..size))
                    .expect("index below len")
            })
            .collect()
    } else if count as u64 >= size as u64 {
        h.iter().collect()
    } else {
        rand::seq::index::sample(rng, size, count as usize)
            .into_iter()
            .map(|i| h.get_index(i).expect("index below len"))
            .collect()
    };
    if withvalues {
        Reply::Pairs(
            picked
                .into_iter()
                .map(|(f, v)| (Reply::bulk_from(f), Reply::bulk_from(v)))
                .collect(),
        )
    } else {
        Reply::Array(
            picked
                .into_iter()
                .map(|(f, _)| Reply::bulk_from(f))
                .collect(),
        )
    }
}

/// HSCAN key cursor [MATCH pattern] [COUNT count]
///
/// A listpack hash answers whole with cursor 0, as Redis does. A hashtable's
/// cursor is how many table positions are left to walk (0 = start); see
/// `HashValue::scan` for why a field present throughout is returned.
pub fn hscan(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    let cursor = tri!(args::scan_cursor(&a[2]));
    let Some(h) = tri!(read_hash(st, db, &a[1])) else {
        return super::scan_reply(0, Vec::new());
    };
    let opts = tri!(args::ScanOpts::parse(&a[3..], false));
    let mut items = Vec::new();
    let next = h.scan(args::positions_left(cursor), opts.count, |f, v| {
        if opts.matches(f) {
            items.push(Reply::bulk_from(f));
            items.push(Reply::bulk_from(v));
        }
    });
    super::scan_reply(next as u64, items)
}

#[cfg(test)]
mod tests {
    #[test]
    fn hash_commands_raise_redis_events() {
        use crate::command::keys::event_script::{check, store};
        let mut st = store("KEA");
        check(
            &mut st,
            &[
                ("hset h a 1", &["hset h"]),
                ("hset h a 1", &["hset h"]),
                ("hmset h b 2", &["hset h"]),
                ("hsetnx h a 1", &[]),
                ("hsetnx h c 3", &["hset h"]),
                ("hincrby h a 1", &["hincrby h"]),
                ("hincrbyfloat h a 1.5", &["hincrbyfloat h"]),
                ("hincrby h c x", &[]),
                ("hdel h zz", &[]),
                ("hdel h a b", &["hdel h"]),
                ("hdel h c", &["hdel h", "del h"]),
                ("hincrby h2 a 1", &["hincrby h2"]),
                ("hincrbyfloat h3 a 1", &["hincrbyfloat h3"]),
            ],
        );
        let mut st = store("AKEmn");
        check(
            &mut st,
            &[
                ("hset h a 1", &["new h", "hset h"]),
                ("hget noh a", &["keymiss noh"]),
                ("hmget noh a", &["keymiss noh"]),
                ("hgetall noh", &["keymiss noh"]),
                ("hlen noh", &["keymiss noh"]),
                ("hexists noh a", &["keymiss noh"]),
                ("hstrlen noh a", &["keymiss noh"]),
                ("hkeys noh", &["keymiss noh"]),
                ("hrandfield noh", &["keymiss noh"]),
                ("hscan noh 0", &["keymiss noh"]),
                ("hdel noh a", &[]),
                ("hincrby h2 a 1", &["new h2", "hincrby h2"]),
            ],
        );
    }

    use super::*;

    use crate::command::test_args as args;

    fn run(st: &mut Store, f: fn(&mut Store, usize, &[Bytes]) -> Reply, v: &[&str]) -> Reply {
        f(st, 0, &args(v))
    }

    #[test]
    fn failed_increment_on_a_new_key_stores_nothing_and_memory_returns() {
        let mut st = Store::new(1);
        assert_eq!(run(&mut st, hset, &["hset", "h", "a", "x"]), Reply::Int(1));
        assert!(st.used_memory() > 0);
        assert_eq!(
            run(&mut st, hincrby, &["hincrby", "h", "a", "1"]),
            err(errors::HASH_NOT_INTEGER)
        );
        assert_eq!(run(&mut st, hdel, &["hdel", "h", "a", "b"]), Reply::Int(1));
        assert!(!st.exists(0, b"h"));
        assert_eq!(st.used_memory(), 0);
        assert_eq!(
            run(&mut st, hincrbyfloat, &["hincrbyfloat", "n", "f", "1.5"]),
            Reply::bulk_from(b"1.5")
        );
        assert_eq!(run(&mut st, hstrlen, &["hstrlen", "n", "f"]), Reply::Int(3));
    }
}
