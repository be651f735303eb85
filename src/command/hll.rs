//! HyperLogLog commands: PFADD PFCOUNT PFMERGE, the debugging PFDEBUG and
//! PFSELFTEST, and the spanning (multi-shard) forms of PFCOUNT and PFMERGE.
//!
//! A sketch is a plain string value in Redis's exact format (`keyspace::hll`),
//! so GET, SET, DUMP-free copies and replication of the bytes all work,
//! and a sketch built by Redis counts the same here. Keyed handlers run on
//! the owning shard. As in Redis, PFCOUNT of one key rewrites the cached
//! cardinality inside the value (no event, but WATCH sees a change), and a
//! string that is not a sketch answers `WRONGTYPE Key is not a valid
//! HyperLogLog string value.`. Events: "pfadd" for PFADD (when a register
//! changed or the key was created) and for PFMERGE (always).

use std::rc::Rc;

use bytes::Bytes;
use futures::future::LocalBoxFuture;

use super::args::eq;
use super::bitmap::{copy_bytes, take_bytes};
use super::errors::{self, err};
use super::gather;
use super::place::Split;
use crate::command::session::Session;
use crate::keyspace::hll;
use crate::keyspace::notify;
use crate::keyspace::store::Store;
use crate::keyspace::value::{Str, Value};
use crate::resp::Reply;
use crate::services::Shard;

/// Runs `f` on the bytes of the string at `key` in place, leaving it a raw
/// string (Redis's `dbUnshareStringValue`). The key must be a live string.
fn modify_bytes<R>(st: &mut Store, db: usize, key: &[u8], f: impl FnOnce(&mut Vec<u8>) -> R) -> R {
    st.modify(db, key, |e| {
        let Value::Str(s) = &mut e.value else {
            unreachable!("caller checked the type")
        };
        let mut v = take_bytes(s);
        let r = f(&mut v);
        *s = Str::Raw(v.into_boxed_slice());
        r
    })
    .expect("caller checked the key is live")
}

/// Whether `key` holds a sketch, looked up as a write: Ok(false) when
/// absent, the WRONGTYPE errors otherwise.
fn check_sketch(st: &mut Store, db: usize, key: &[u8]) -> Result<bool, Reply> {
    match st.lookup(db, key).map(|e| &e.value) {
        None => Ok(false),
        Some(Value::Str(s)) => {
            let mut scratch = itoa::Buffer::new();
            if hll::is_hll(s.bytes(&mut scratch)) {
                Ok(true)
            } else {
                Err(err(errors::HLL_WRONGTYPE))
            }
        }
        Some(_) => Err(errors::wrongtype()),
    }
}

/// PFADD key [element [element ...]]
pub fn pfadd(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    let key = &a[1];
    let max_bytes = st.limits.hll_sparse_max_bytes;
    let add_all = |v: &mut Vec<u8>, mut updated: usize| -> Result<usize, hll::Corrupt> {
        for ele in &a[2..] {
            updated += usize::from(hll::add(v, ele, max_bytes)?);
        }
        if updated > 0 {
            hll::invalidate_cache(v);
        }
        Ok(updated)
    };
    let updated = if tri!(check_sketch(st, db, key)) {
        modify_bytes(st, db, key, |v| add_all(v, 0))
    } else {
        let mut v = hll::create();
        let updated = add_all(&mut v, 1);
        st.insert(db, key, Value::Str(Str::Raw(v.into_boxed_slice())), 0);
        updated
    };
    match updated {
        Err(hll::Corrupt) => err(errors::HLL_CORRUPT),
        Ok(0) => Reply::Int(0),
        Ok(_) => {
            st.notify(notify::STRING, "pfadd", db, key);
            Reply::Int(1)
        }
    }
}

/// A source of PFCOUNT or PFMERGE, as read: Ok(None) when absent.
type Source = Result<Option<Vec<u8>>, Reply>;

/// The register-wise maximum of the sources, in key order (the first
/// invalid one is the error), and whether any source was dense.
fn union(sources: Vec<Source>) -> Result<(Vec<u8>, bool), Reply> {
    let mut max = vec![0u8; hll::REGISTERS];
    let mut dense = false;
    for src in sources {
        let Some(s) = src? else {
            continue;
        };
        if !hll::is_hll(&s) {
            return Err(err(errors::HLL_WRONGTYPE));
        }
        dense |= hll::is_dense(&s);
        hll::merge_into(&mut max, &s).map_err(|_| err(errors::HLL_CORRUPT))?;
    }
    Ok((max, dense))
}

/// PFCOUNT key [key ...] with every key on this shard.
pub fn pfcount(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    if a.len() > 2 {
        let sources = a[1..].iter().map(|k| copy_bytes(st, db, k)).collect();
        let (max, _) = tri!(union(sources));
        return Reply::Int(hll::count_registers(&max) as i64);
    }
    let key = &a[1];
    match st.read(db, key).map(|e| &e.value) {
        None => return Reply::Int(0),
        Some(Value::Str(_)) => {}
        Some(_) => return errors::wrongtype(),
    }
    tri!(check_sketch(st, db, key));
    let counted = modify_bytes(st, db, key, |v| hll::cardinality(v));
    match counted {
        Err(hll::Corrupt) => err(errors::HLL_CORRUPT),
        Ok((card, rewrote)) => {
            // Redis signals the key as modified when it refreshes the cache.
            if rewrote && !st.watches.is_empty() {
                st.watches.touch(db, key, false);
            }
            Reply::Int(card as i64)
        }
    }
}

/// PFCOUNT of several keys on several shards: copies of the sketches are
/// read (one step per shard) and merged here.
pub fn pfcount_spanning<'a>(
    sh: &'a Rc<Shard>,
    s: &'a mut Session,
    a: Vec<Bytes>,
    split: Split,
) -> LocalBoxFuture<'a, Reply> {
    Box::pin(async move {
        let keys = split.keys_from(&a, 1);
        let (_, sources) = gather::read_keys(sh, s.db, s.parent, &keys, None, copy_bytes).await;
        let (max, _) = tri!(union(sources));
        Reply::Int(hll::count_registers(&max) as i64)
    })
}

/// Writes PFMERGE's union into `dst` (which was among the sources, so it is
/// absent or a valid sketch): created sparse if absent, made dense if any
/// source was, every non-zero register raised.
fn store_union(st: &mut Store, db: usize, dst: &[u8], max: &[u8], dense: bool) -> Reply {
    let max_bytes = st.limits.hll_sparse_max_bytes;
    let merge = |v: &mut Vec<u8>| -> Result<(), hll::Corrupt> {
        if dense {
            hll::to_dense(v)?;
        }
        for (i, &m) in max.iter().enumerate() {
            if m != 0 {
                hll::raise(v, i, m, max_bytes)?;
            }
        }
        hll::invalidate_cache(v);
        Ok(())
    };
    let done = if st.exists(db, dst) {
        modify_bytes(st, db, dst, merge)
    } else {
        let mut v = hll::create();
        let r = merge(&mut v);
        st.insert(db, dst, Value::Str(Str::Raw(v.into_boxed_slice())), 0);
        r
    };
    if done.is_err() {
        return err(errors::HLL_CORRUPT);
    }
    st.notify(notify::STRING, "pfadd", db, dst);
    Reply::Ok
}

/// PFMERGE destkey [sourcekey [sourcekey ...]] with every key on this
/// shard. The destination is itself one of the sources.
pub fn pfmerge(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    let sources = a[1..].iter().map(|k| copy_bytes(st, db, k)).collect();
    let (max, dense) = tri!(union(sources));
    store_union(st, db, &a[1], &max, dense)
}

/// PFMERGE with keys on several shards: the sketches are read on their
/// shards while the destination's is held, merged here, and the union is
/// written to the destination in a second step that ends the operation.
pub fn pfmerge_spanning<'a>(
    sh: &'a Rc<Shard>,
    s: &'a mut Session,
    a: Vec<Bytes>,
    split: Split,
) -> LocalBoxFuture<'a, Reply> {
    Box::pin(async move {
        let db = s.db;
        let dst = split.key_at(sh, &a, 1);
        let keys = split.keys_from(&a, 1);
        let (txn, sources) =
            gather::read_keys(sh, db, s.parent, &keys, Some(&dst), copy_bytes).await;
        let Some(txn) = txn else {
            return errors::internal("a store without a hold");
        };
        match union(sources) {
            Ok((max, dense)) => {
                gather::write_and_end(txn, db, dst, move |st, db, dst| {
                    store_union(st, db, dst, &max, dense)
                })
                .await
            }
            Err(e) => {
                txn.release();
                e
            }
        }
    })
}

/// PFDEBUG GETREG|DECODE|ENCODING|TODENSE key
pub fn pfdebug(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    let (sub, key) = (&a[1], &a[2]);
    if !tri!(check_sketch(st, db, key)) {
        return err(errors::PFDEBUG_NO_KEY);
    }
    let corrupt = || err(errors::HLL_CORRUPT);
    if eq(sub, "getreg") {
        let regs = modify_bytes(st, db, key, |v| {
            hll::to_dense(v)?;
            hll::registers(v)
        });
        match regs {
            Ok(regs) => Reply::Array(regs.into_iter().map(|r| Reply::Int(r as i64)).collect()),
            Err(_) => corrupt(),
        }
    } else if eq(sub, "decode") {
        modify_bytes(st, db, key, |v| {
            if hll::is_dense(v) {
                err(errors::PFDEBUG_NOT_SPARSE)
            } else {
                Reply::Bulk(Bytes::from(hll::decode_sparse(v)))
            }
        })
    } else if eq(sub, "encoding") {
        modify_bytes(st, db, key, |v| {
            Reply::Status(if hll::is_dense(v) { "dense" } else { "sparse" })
        })
    } else if eq(sub, "todense") {
        modify_bytes(st, db, key, |v| {
            if hll::is_dense(v) {
                Reply::Int(0)
            } else if hll::to_dense(v).is_ok() {
                Reply::Int(1)
            } else {
                corrupt()
            }
        })
    } else {
        errors::pfdebug_unknown(sub)
    }
}

/// PFSELFTEST: checks the dense register layout and the estimator's error
/// on 10 million distinct elements, as Redis does (it takes a while).
pub fn pfselftest(
    sh: &Rc<Shard>,
    _s: &mut crate::command::session::Session,
    _a: &[Bytes],
) -> Reply {
    let max_bytes = sh.store.borrow().limits.hll_sparse_max_bytes;
    let mut x: u64 = rand::random::<u64>() | 1;
    let mut rng = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x >> 32) as u32
    };
    let seed = rand::random::<u64>();
    let run = hll::selftest_registers(&mut rng, 1000)
        .and_then(|_| hll::selftest_accuracy(seed, 10_000_000, max_bytes));
    match run {
        Ok(()) => Reply::Ok,
        Err(e) => Reply::error(errors::generic(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::test_args as args;

    #[test]
    fn hll_commands_raise_redis_events() {
        use crate::command::keys::event_script::{check, store};
        let mut st = store("KEA");
        check(
            &mut st,
            &[
                ("pfadd h a b", &["pfadd h"]),
                ("pfadd h a", &[]),
                ("pfadd e", &["pfadd e"]),
                ("pfcount h", &[]),
                ("pfmerge m h e", &["pfadd m"]),
                ("pfmerge m", &["pfadd m"]),
            ],
        );
    }

    #[test]
    fn non_sketch_strings_are_refused() {
        let mut st = Store::new(1);
        st.insert(0, b"s", Value::Str(Str::from_bytes(b"hello")), 0);
        let e = pfadd(&mut st, 0, &args(&["pfadd", "s", "x"]));
        assert_eq!(e, err(errors::HLL_WRONGTYPE));
        let e = pfcount(&mut st, 0, &args(&["pfcount", "s"]));
        assert_eq!(e, err(errors::HLL_WRONGTYPE));
        let e = pfmerge(&mut st, 0, &args(&["pfmerge", "d", "s"]));
        assert_eq!(e, err(errors::HLL_WRONGTYPE));
        assert!(!st.exists(0, b"d"));
    }

    #[test]
    fn a_sketch_stored_inline_counts() {
        let mut st = Store::new(1);
        st.insert(0, b"h", Value::Str(Str::from_bytes(&hll::create())), 0);
        assert_eq!(pfcount(&mut st, 0, &args(&["pfcount", "h"])), Reply::Int(0));
        assert_eq!(
            pfadd(&mut st, 0, &args(&["pfadd", "h", "a"])),
            Reply::Int(1)
        );
        assert_eq!(pfcount(&mut st, 0, &args(&["pfcount", "h"])), Reply::Int(1));
    }
}
