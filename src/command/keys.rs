//! Keyspace commands: DEL … SWAPDB.
//!
//! Keyed handlers run on the owning shard; the `*_spanning` forms and the
//! whole-keyspace commands (KEYS, SCAN, DBSIZE, FLUSH*, SWAPDB, RANDOMKEY)
//! coordinate shards from the connection's core.

use std::rc::Rc;

use bytes::Bytes;
use futures::future::LocalBoxFuture;

use super::args::{self, eq};
use super::errors::{self, err};
use super::on_store;
use super::place::Split;
use super::session::Session;
use crate::glob::glob_match;
use crate::keyspace::locks::Claim;
use crate::keyspace::notify;
use crate::keyspace::slot::ShardId;
use crate::keyspace::store::{Entry, Store};
use crate::keyspace::value::{Str, Value};
use crate::resp::Reply;
use crate::runtime::Plan;
use crate::services::Shard;

/// DEL key [key ...]: big values are freed in place, or off this core with
/// `lazyfree-lazy-user-del yes`.
pub fn del(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    let lazy = st.freer.as_ref().is_some_and(|f| f.user_del);
    del_generic(st, db, a, lazy)
}

/// UNLINK key [key ...]: as DEL, but values with more than 64 elements are
/// freed off this core, so deleting a huge key never stalls the shard.
pub fn unlink(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    del_generic(st, db, a, true)
}

/// Shared body of DEL and UNLINK.
fn del_generic(st: &mut Store, db: usize, a: &[Bytes], lazy: bool) -> Reply {
    let mut n = 0;
    for k in &a[1..] {
        if let Some(e) = st.remove(db, k) {
            st.dispose(e.value, lazy);
            st.notify(notify::GENERIC, "del", db, k);
            n += 1;
        }
    }
    Reply::Int(n)
}

/// EXISTS key [key ...] (a key named twice counts twice) and TOUCH; a
/// missing key raises "keymiss".
pub fn exists(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    let mut n = 0;
    for k in &a[1..] {
        if st.lookup(db, k).is_some() {
            n += 1;
        } else {
            st.notify_miss(db, k);
        }
    }
    Reply::Int(n)
}

/// TYPE key
pub fn type_(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    Reply::Status(st.read(db, &a[1]).map_or("none", |e| e.value.type_name()))
}

/// Shared body of RENAME and RENAMENX when both keys are on this shard.
fn rename_generic(st: &mut Store, db: usize, a: &[Bytes], nx: bool) -> Reply {
    let (src, dst) = (&a[1], &a[2]);
    if st.lookup(db, src).is_none() {
        return err(errors::NO_SUCH_KEY);
    }
    if src == dst {
        return if nx { Reply::Int(0) } else { Reply::Ok };
    }
    if st.lookup(db, dst).is_some() {
        if nx {
            return Reply::Int(0);
        }
        st.remove(db, dst);
    }
    let e = st.remove(db, src).expect("checked above");
    st.insert(db, dst, e.value, e.expire);
    st.notify(notify::GENERIC, "rename_from", db, src);
    st.notify(notify::GENERIC, "rename_to", db, dst);
    if nx {
        Reply::Int(1)
    } else {
        Reply::Ok
    }
}

/// RENAME key newkey
pub fn rename(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    rename_generic(st, db, a, false)
}

/// RENAMENX key newkey
pub fn renamenx(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    rename_generic(st, db, a, true)
}

/// RENAME / RENAMENX with the two keys on different shards: hold both,
/// read the source and probe the destination, then move value and TTL.
pub fn rename_spanning<'a>(
    sh: &'a Rc<Shard>,
    s: &'a mut Session,
    a: Vec<Bytes>,
    split: Split,
) -> LocalBoxFuture<'a, Reply> {
    Box::pin(async move {
        let nx = eq(&a[0], "renamenx");
        let (src, dst) = (a[1].clone(), a[2].clone());
        let (ss, ds) = (split.keys[0].1, split.keys[1].1);
        let (k1, k2) = (src.clone(), dst.clone());
        let mut plan = Plan::new(sh, s.parent);
        let src_exists = plan.part(
            ss,
            Claim::Keys(vec![src.clone()]),
            on_store(s.db, move |st, db| st.lookup(db, &k1).is_some()),
        );
        let dst_exists = plan.part(
            ds,
            Claim::Keys(vec![dst.clone()]),
            on_store(s.db, move |st, db| st.lookup(db, &k2).is_some()),
        );
        let mut txn = plan.hold().await;
        let (src_exists, dst_exists) = (src_exists.take(), dst_exists.take());
        if !src_exists || (nx && dst_exists) {
            txn.release();
            return if !src_exists {
                err(errors::NO_SUCH_KEY)
            } else {
                Reply::Int(0)
            };
        }
        let moved = txn.step(
            ss,
            on_store(s.db, move |st, db| {
                let e = st.remove(db, &src);
                st.notify(notify::GENERIC, "rename_from", db, &src);
                e
            }),
        );
        txn.run().await;
        let entry: Option<Entry> = moved.take();
        txn.step(
            ds,
            on_store(s.db, move |st, db| {
                if let Some(e) = entry {
                    st.insert(db, &dst, e.value, e.expire);
                    st.notify(notify::GENERIC, "rename_to", db, &dst);
                }
            }),
        );
        txn.end().await;
        if nx {
            Reply::Int(1)
        } else {
            Reply::Ok
        }
    })
}

struct CopyOptions {
    dst_db: usize,
    replace: bool,
}

fn parse_copy(a: &[Bytes], db: usize, databases: usize) -> Result<CopyOptions, Reply> {
    let mut o = CopyOptions {
        dst_db: db,
        replace: false,
    };
    let mut j = 3;
    while j < a.len() {
        if eq(&a[j], "replace") {
            o.replace = true;
        } else if eq(&a[j], "db") && j + 1 < a.len() {
            let n = args::int(&a[j + 1])?;
            if n < 0 || n as u64 >= databases as u64 {
                return Err(err(errors::DB_RANGE));
            }
            o.dst_db = n as usize;
            j += 1;
        } else {
            return Err(errors::syntax());
        }
        j += 1;
    }
    if o.dst_db == db && a[1] == a[2] {
        return Err(err(errors::SAME_OBJECT));
    }
    Ok(o)
}

/// COPY source destination [DB destination-db] [REPLACE]
pub fn copy(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    let o = tri!(parse_copy(a, db, st.databases()));
    let Some(e) = st.read(db, &a[1]).cloned() else {
        return Reply::Int(0);
    };
    if st.lookup(o.dst_db, &a[2]).is_some() {
        if !o.replace {
            return Reply::Int(0);
        }
        st.remove(o.dst_db, &a[2]);
    }
    st.insert(o.dst_db, &a[2], e.value, e.expire);
    st.notify(notify::GENERIC, "copy_to", o.dst_db, &a[2]);
    Reply::Int(1)
}

/// COPY with source and destination on different shards.
pub fn copy_spanning<'a>(
    sh: &'a Rc<Shard>,
    s: &'a mut Session,
    a: Vec<Bytes>,
    split: Split,
) -> LocalBoxFuture<'a, Reply> {
    Box::pin(async move {
        let databases = sh.store.borrow().databases();
        let o = tri!(parse_copy(&a, s.db, databases));
        let (src, dst) = (a[1].clone(), a[2].clone());
        let (ss, ds) = (split.keys[0].1, split.keys[1].1);
        let dst_db = o.dst_db;
        let probe_dst = dst.clone();
        let mut plan = Plan::new(sh, s.parent);
        let entry = plan.part(
            ss,
            Claim::Keys(vec![src.clone()]),
            on_store(s.db, move |st, db| st.read(db, &src).cloned()),
        );
        let dst_exists = plan.part(
            ds,
            Claim::Keys(vec![dst.clone()]),
            on_store(dst_db, move |st, db| st.lookup(db, &probe_dst).is_some()),
        );
        let mut txn = plan.hold().await;
        let dst_exists = dst_exists.take();
        let Some(e) = entry.take().filter(|_| !dst_exists || o.replace) else {
            txn.release();
            return Reply::Int(0);
        };
        txn.step(
            ds,
            on_store(dst_db, move |st, db| {
                if st.lookup(db, &dst).is_some() {
                    st.remove(db, &dst);
                }
                st.insert(db, &dst, e.value, e.expire);
                st.notify(notify::GENERIC, "copy_to", db, &dst);
            }),
        );
        txn.end().await;
        Reply::Int(1)
    })
}

/// MOVE key db
pub fn move_(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    let n = tri!(args::int(&a[2]));
    if n < 0 || n as u64 >= st.databases() as u64 {
        return err(errors::DB_RANGE);
    }
    let to = n as usize;
    if to == db {
        return err(errors::SAME_OBJECT);
    }
    if st.lookup(db, &a[1]).is_none() || st.lookup(to, &a[1]).is_some() {
        return Reply::Int(0);
    }
    let e = st.remove(db, &a[1]).expect("checked above");
    st.insert(to, &a[1], e.value, e.expire);
    st.notify(notify::GENERIC, "move_from", db, &a[1]);
    st.notify(notify::GENERIC, "move_to", to, &a[1]);
    Reply::Int(1)
}

#[derive(Default)]
struct ExpireFlags {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
}

/// Shared body of EXPIRE, PEXPIRE, EXPIREAT and PEXPIREAT (Redis's
/// `expireGenericCommand`, same checks in the same order).
fn expire_generic(
    st: &mut Store,
    db: usize,
    a: &[Bytes],
    relative: bool,
    unit: i64,
    name: &str,
) -> Reply {
    let mut f = ExpireFlags::default();
    for opt in &a[3..] {
        if eq(opt, "nx") {
            f.nx = true;
        } else if eq(opt, "xx") {
            f.xx = true;
        } else if eq(opt, "gt") {
            f.gt = true;
        } else if eq(opt, "lt") {
            f.lt = true;
        } else {
            return errors::expire_option(opt);
        }
    }
    if f.nx && (f.xx || f.gt || f.lt) {
        return err(errors::EXPIRE_FLAGS);
    }
    if f.gt && f.lt {
        return err(errors::GT_LT);
    }
    let mut when = tri!(args::int(&a[2]));
    if unit == 1000 {
        if !(i64::MIN / 1000..=i64::MAX / 1000).contains(&when) {
            return errors::invalid_expire(name);
        }
        when *= 1000;
    }
    let base = if relative { st.now as i64 } else { 0 };
    if when > i64::MAX - base {
        return errors::invalid_expire(name);
    }
    when += base;
    let Some(e) = st.lookup(db, &a[1]) else {
        return Reply::Int(0);
    };
    let current = if e.expire == 0 { -1 } else { e.expire as i64 };
    if (f.nx && current != -1)
        || (f.xx && current == -1)
        || (f.gt && (when <= current || current == -1))
        || (f.lt && current != -1 && when >= current)
    {
        return Reply::Int(0);
    }
    if when <= st.now as i64 {
        st.remove(db, &a[1]);
        st.notify(notify::GENERIC, "del", db, &a[1]);
    } else {
        st.db(db).set_expire(&a[1], when as u64);
        st.notify(notify::GENERIC, "expire", db, &a[1]);
    }
    Reply::Int(1)
}

/// EXPIRE key seconds [NX | XX | GT | LT]
pub fn expire(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    expire_generic(st, db, a, true, 1000, "expire")
}

/// PEXPIRE key milliseconds [NX | XX | GT | LT]
pub fn pexpire(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    expire_generic(st, db, a, true, 1, "pexpire")
}

/// EXPIREAT key unix-time-seconds [NX | XX | GT | LT]
pub fn expireat(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    expire_generic(st, db, a, false, 1000, "expireat")
}

/// PEXPIREAT key unix-time-milliseconds [NX | XX | GT | LT]
pub fn pexpireat(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    expire_generic(st, db, a, false, 1, "pexpireat")
}

#[derive(Clone, Copy)]
enum TtlKind {
    Seconds,
    Millis,
    AtSeconds,
    AtMillis,
}

/// Shared body of TTL, PTTL, EXPIRETIME and PEXPIRETIME.
fn ttl_generic(st: &mut Store, db: usize, key: &[u8], kind: TtlKind) -> Reply {
    let now = st.now;
    let Some(e) = st.read(db, key) else {
        return Reply::Int(-2);
    };
    if e.expire == 0 {
        return Reply::Int(-1);
    }
    let left = e.expire.saturating_sub(now) as i64;
    Reply::Int(match kind {
        TtlKind::Seconds => (left + 500) / 1000,
        TtlKind::Millis => left,
        TtlKind::AtSeconds => e.expire as i64 / 1000,
        TtlKind::AtMillis => e.expire as i64,
    })
}

/// TTL key
pub fn ttl(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    ttl_generic(st, db, &a[1], TtlKind::Seconds)
}

/// PTTL key
pub fn pttl(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    ttl_generic(st, db, &a[1], TtlKind::Millis)
}

/// EXPIRETIME key
pub fn expiretime(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    ttl_generic(st, db, &a[1], TtlKind::AtSeconds)
}

/// PEXPIRETIME key
pub fn pexpiretime(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    ttl_generic(st, db, &a[1], TtlKind::AtMillis)
}

/// PERSIST key
pub fn persist(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    match st.lookup(db, &a[1]) {
        Some(e) if e.expire != 0 => {
            st.db(db).set_expire(&a[1], 0);
            st.notify(notify::GENERIC, "persist", db, &a[1]);
            Reply::Int(1)
        }
        _ => Reply::Int(0),
    }
}

const OBJECT_HELP: &[&str] = &[
    "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
    "HELP",
    "    Prints this help.",
];

pub fn help_reply(lines: &[&str]) -> Reply {
    Reply::Array(
        lines
            .iter()
            .map(|l| Reply::SimpleString(Bytes::copy_from_slice(l.as_bytes())))
            .collect(),
    )
}

/// OBJECT HELP
pub fn object_help(_sh: &Rc<Shard>, _s: &mut Session, _a: &[Bytes]) -> Reply {
    help_reply(OBJECT_HELP)
}

/// OBJECT ENCODING|FREQ|IDLETIME|REFCOUNT key
pub fn object(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    let now = st.now;
    let policy_lfu = st.memory.policy.lfu();
    let decay = st.memory.lfu_decay_time;
    // OBJECT looks without touching (Redis's LOOKUP_NOTOUCH); the flag is
    // reset after every command.
    st.no_touch = true;
    let Some(e) = st.lookup(db, &a[2]) else {
        return Reply::Nil;
    };
    let sub = a[1].to_ascii_lowercase();
    match &sub[..] {
        b"encoding" => Reply::Bulk(Bytes::from_static(e.value.encoding().as_bytes())),
        b"refcount" => Reply::Int(match &e.value {
            // Redis shares the integers 0..10000 between keys.
            Value::Str(Str::Int(n)) if (0..10_000).contains(n) => i32::MAX as i64,
            _ => 1,
        }),
        b"idletime" if policy_lfu => err(errors::OBJECT_LRU_POLICY),
        b"idletime" => Reply::Int((now / 1000).saturating_sub(e.access as u64) as i64),
        _ if !policy_lfu => err(errors::OBJECT_NOT_LFU_POLICY),
        _ => Reply::Int(crate::keyspace::evict::lfu_counter(e.access, now, decay) as i64),
    }
}

/// KEYS pattern
pub fn keys<'a>(sh: &'a Rc<Shard>, s: &'a mut Session, a: Vec<Bytes>) -> LocalBoxFuture<'a, Reply> {
    Box::pin(async move {
        let (db, pattern) = (s.db, a[1].clone());
        let per_shard = sh
            .on_every_shard(s.parent, move |shard: &Shard| {
                let st = shard.store.borrow();
                let all = pattern.as_ref() == b"*";
                let mut out = Vec::new();
                st.db_ref(db).for_each_key(st.now, |k| {
                    if all || glob_match(&pattern, k, false) {
                        out.push(Bytes::copy_from_slice(k));
                    }
                });
                out
            })
            .await;
        Reply::Array(per_shard.into_iter().flatten().map(Reply::Bulk).collect())
    })
}

/// Bits of a SCAN cursor that hold the shard; the rest hold the position.
const SHARD_BITS: u32 = 10;

/// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]
///
/// The cursor is `remaining << 10 | shard`: the shard being walked and how
/// many of its positions are left (0 = start it fresh). A call walks COUNT
/// positions, going on to the next shards when one ends (see `Db::scan`
/// for why every key present throughout is returned).
pub fn scan<'a>(sh: &'a Rc<Shard>, s: &'a mut Session, a: Vec<Bytes>) -> LocalBoxFuture<'a, Reply> {
    Box::pin(async move {
        let cursor = tri!(args::scan_cursor(&a[1]));
        let opts = tri!(args::ScanOpts::parse(&a[2..], true));
        let (count, type_filter) = (opts.count, opts.type_name);
        let pattern = opts.pattern.map(Bytes::copy_from_slice);
        let shard = (cursor & ((1 << SHARD_BITS) - 1)) as usize;
        if shard >= sh.shards() {
            return super::scan_reply(0, Vec::new());
        }
        let mut remaining = match cursor >> SHARD_BITS {
            0 => usize::MAX,
            r => r as usize,
        };
        // COUNT is the work of the whole call: a shard walked to its end
        // hands what is left of it to the next one, so a small database
        // comes back in one page with cursor 0, as from Redis.
        let (db, mut shard, mut budget) = (s.db, shard, count.max(1));
        let mut keys: Vec<Bytes> = Vec::new();
        let next = loop {
            let (pattern, type_filter) = (pattern.clone(), type_filter.clone());
            let mut plan = Plan::new(sh, s.parent);
            let walk = plan.part(ShardId(shard), Claim::Whole, move |shard: &Shard| {
                let mut st = shard.store.borrow_mut();
                st.refresh_clock();
                let start = remaining.min(st.db_ref(db).len());
                let mut keys = Vec::new();
                let left = st.scan(db, remaining, budget, |k, e| {
                    let type_ok = type_filter
                        .as_deref()
                        .is_none_or(|t| t == e.value.type_name());
                    let match_ok = pattern.as_ref().is_none_or(|p| glob_match(p, k, false));
                    if type_ok && match_ok {
                        keys.push(Bytes::copy_from_slice(k));
                    }
                });
                (left, start.saturating_sub(left), keys)
            });
            plan.run().await;
            let (left, walked, found) = walk.take();
            keys.extend(found);
            if left > 0 {
                break ((left as u64) << SHARD_BITS) | shard as u64;
            }
            shard += 1;
            budget = budget.saturating_sub(walked);
            if shard == sh.shards() {
                break 0;
            }
            if budget == 0 {
                break shard as u64;
            }
            remaining = usize::MAX;
        };
        super::scan_reply(next, keys.into_iter().map(Reply::Bulk).collect())
    })
}

/// RANDOMKEY: a shard chosen with probability proportional to its size,
/// then a random key of that shard.
pub fn randomkey<'a>(
    sh: &'a Rc<Shard>,
    s: &'a mut Session,
    _a: Vec<Bytes>,
) -> LocalBoxFuture<'a, Reply> {
    Box::pin(async move {
        use rand::Rng;
        let db = s.db;
        let picks = sh
            .on_every_shard(s.parent, move |shard: &Shard| {
                let mut st = shard.store.borrow_mut();
                st.refresh_clock();
                let key = st.random_key(db);
                (st.db_ref(db).len(), key)
            })
            .await;
        // Only shards with a live key take part: one full of expired keys
        // must not turn the answer into nil while others have live keys.
        let picks: Vec<(usize, Bytes)> = picks
            .into_iter()
            .filter_map(|(len, key)| Some((len, key?)))
            .collect();
        let total: usize = picks.iter().map(|p| p.0).sum();
        if total == 0 {
            return Reply::Nil;
        }
        let mut n = rand::thread_rng().gen_range(0..total);
        for (len, key) in picks {
            if n < len {
                return Reply::Bulk(key);
            }
            n -= len;
        }
        Reply::Nil
    })
}

/// DBSIZE
pub fn dbsize<'a>(
    sh: &'a Rc<Shard>,
    s: &'a mut Session,
    _a: Vec<Bytes>,
) -> LocalBoxFuture<'a, Reply> {
    Box::pin(async move {
        let db = s.db;
        let sizes = sh
            .on_every_shard(s.parent, move |shard: &Shard| {
                shard.store.borrow().db_ref(db).len()
            })
            .await;
        Reply::Int(sizes.into_iter().sum::<usize>() as i64)
    })
}

/// Whether a flush frees in the background: ASYNC, or no argument and
/// `lazyfree-lazy-user-flush yes`.
fn flush_lazily(sh: &Shard, a: &[Bytes]) -> bool {
    match a.get(1) {
        Some(x) => eq(x, "async"),
        None => sh.host.config().lazyfree_lazy_user_flush,
    }
}

/// FLUSHDB / FLUSHALL take an optional ASYNC or SYNC.
fn flush_args_ok(a: &[Bytes]) -> bool {
    match a.len() {
        1 => true,
        2 => eq(&a[1], "async") || eq(&a[1], "sync"),
        _ => false,
    }
}

/// Runs `f` on every shard as one write (inside `parent` if given): all
/// shards are held until each has run it, so no client sees some shards
/// changed and others not.
pub async fn write_every_shard(
    sh: &Rc<Shard>,
    parent: Option<crate::runtime::TxId>,
    f: impl Fn(&mut Store) + Send + Clone + 'static,
) {
    let mut plan = Plan::new(sh, parent);
    for s in sh.all_shards() {
        let f = f.clone();
        plan.part(s, Claim::Whole, move |shard: &Shard| {
            f(&mut shard.store.borrow_mut())
        });
    }
    plan.hold().await.release();
}

/// FLUSHDB [ASYNC | SYNC]
pub fn flushdb<'a>(
    sh: &'a Rc<Shard>,
    s: &'a mut Session,
    a: Vec<Bytes>,
) -> LocalBoxFuture<'a, Reply> {
    Box::pin(async move {
        if !flush_args_ok(&a) {
            return errors::syntax();
        }
        let (db, lazy) = (s.db, flush_lazily(sh, &a));
        write_every_shard(sh, s.parent, move |st| st.flush_db(db, lazy)).await;
        super::tracking::flushed(sh, s).await;
        Reply::Ok
    })
}

/// FLUSHALL [ASYNC | SYNC]
pub fn flushall<'a>(
    sh: &'a Rc<Shard>,
    s: &'a mut Session,
    a: Vec<Bytes>,
) -> LocalBoxFuture<'a, Reply> {
    Box::pin(async move {
        if !flush_args_ok(&a) {
            return errors::syntax();
        }
        let lazy = flush_lazily(sh, &a);
        write_every_shard(sh, s.parent, move |st| st.flush_all(lazy)).await;
        super::tracking::flushed(sh, s).await;
        // What a flush freed goes back to the kernel now, not after the
        // allocator's decay time.
        if !lazy {
            crate::alloc::purge();
        }
        Reply::Ok
    })
}

/// SWAPDB index1 index2
pub fn swapdb<'a>(
    sh: &'a Rc<Shard>,
    s: &'a mut Session,
    a: Vec<Bytes>,
) -> LocalBoxFuture<'a, Reply> {
    Box::pin(async move {
        let databases = sh.store.borrow().databases();
        let parse = |arg: &[u8], which: &'static str| -> Result<usize, Reply> {
            let n = args::int(arg).map_err(|_| Reply::error(which))?;
            if n < 0 || n as u64 >= databases as u64 {
                return Err(err(errors::DB_RANGE));
            }
            Ok(n as usize)
        };
        let x = tri!(parse(&a[1], errors::SWAPDB_FIRST));
        let y = tri!(parse(&a[2], errors::SWAPDB_SECOND));
        write_every_shard(sh, s.parent, move |st| st.swap_dbs(x, y)).await;
        Reply::Ok
    })
}

/// Checks keyspace events: runs a script of commands on one store through
/// their keyed handlers and compares the events each raised with the ones
/// Redis 7.0 publishes for it (recorded from `redis-server` with
/// `notify-keyspace-events` KEA, or AKEmn for "keymiss" and "new").
#[cfg(test)]
pub(crate) mod event_script {
    use crate::command::table::{self, Handler};
    use crate::keyspace::notify;
    use crate::keyspace::store::Store;

    /// A store in database 0 with the given `notify-keyspace-events`.
    pub fn store(flags: &str) -> Store {
        let mut st = Store::new(16);
        st.notify_flags = notify::parse_flags(flags);
        st
    }

    /// The events raised since the last call, as "event key" (with
    /// " @db" outside database 0).
    pub fn drain(st: &mut Store) -> Vec<String> {
        st.events
            .drain(..)
            .map(|e| {
                let key = String::from_utf8_lossy(&e.key);
                match e.db {
                    0 => format!("{} {key}", e.event),
                    db => format!("{} {key} @{db}", e.event),
                }
            })
            .collect()
    }

    /// Runs each `(command, events)` step: the command split on spaces
    /// (`""` is an empty argument; `advance <ms>` moves the store's clock)
    /// and the events it must raise, in order.
    pub fn check(st: &mut Store, script: &[(&str, &[&str])]) {
        drain(st);
        for (line, want) in script {
            let words: Vec<&str> = line
                .split(' ')
                .map(|w| if w == "\"\"" { "" } else { w })
                .collect();
            if words[0] == "advance" {
                st.now += words[1].parse::<u64>().expect("milliseconds");
            } else {
                let spec =
                    table::row_of(&crate::command::test_args(&words)).expect("known command");
                let f = match spec.handler {
                    Handler::Keyed(f)
                    | Handler::Multi(f, _)
                    | Handler::MayBlock(f, ..)
                    | Handler::Fanout(f, _) => f,
                    _ => panic!("{} has no keyed handler", words[0]),
                };
                f(st, 0, &crate::command::test_args(&words));
            }
            assert_eq!(drain(st), *want, "events of `{line}`");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::event_script::{check, store};

    #[test]
    fn keyspace_commands_raise_redis_events() {
        let mut st = store("KEA");
        check(
            &mut st,
            &[
                ("set a 1", &["set a"]),
                ("del a nokey", &["del a"]),
                ("del a", &[]),
                ("set a 1", &["set a"]),
                ("unlink a", &["del a"]),
                ("set a 1", &["set a"]),
                ("rename a b", &["rename_from a", "rename_to b"]),
                ("rename nokey c", &[]),
                ("set a 2", &["set a"]),
                ("rename a b", &["rename_from a", "rename_to b"]),
                ("rename b b", &[]),
                ("renamenx b c", &["rename_from b", "rename_to c"]),
                ("set b 1", &["set b"]),
                ("renamenx b c", &[]),
                ("renamenx c c", &[]),
                ("copy c d", &["copy_to d"]),
                ("copy c d", &[]),
                ("copy c d replace", &["copy_to d"]),
                ("copy c d db 1", &["copy_to d @1"]),
                ("move d 2", &["move_from d", "move_to d @2"]),
                ("move d 2", &[]),
                ("expire c 100", &["expire c"]),
                ("pexpire c 100000 nx", &[]),
                ("expire c 200 gt", &["expire c"]),
                ("expireat c 1", &["del c"]),
                ("expire nokey 1", &[]),
                ("set e 1", &["set e"]),
                ("persist e", &[]),
                ("expire e 100", &["expire e"]),
                ("persist e", &["persist e"]),
                ("pexpireat e 1", &["del e"]),
                ("set f 1", &["set f"]),
                ("expire f -1", &["del f"]),
                ("set h 1", &["set h"]),
                ("type h", &[]),
                ("exists h", &[]),
                ("touch h", &[]),
                ("object encoding h", &[]),
            ],
        );
    }

    #[test]
    fn lazily_expired_keys_raise_expired_before_the_command() {
        let mut st = store("KEA");
        let mut expired = Vec::new();
        for cmd in [
            "exists t",
            "type t",
            "ttl t",
            "del t",
            "expire t 100",
            "rename t u",
            "object encoding t",
            "touch t",
            "get t",
        ] {
            expired.push(("set t 1 px 1", &["set t", "expire t"][..]));
            expired.push(("advance 10", &[][..]));
            expired.push((cmd, &["expired t"][..]));
        }
        check(&mut st, &expired);
        assert_eq!(st.stats.expired, 9);
    }

    #[test]
    fn keymiss_and_new_follow_redis_lookups() {
        let mut st = store("AKEmn");
        check(
            &mut st,
            &[
                ("set a 1", &["new a", "set a"]),
                ("rename a b", &["new b", "rename_from a", "rename_to b"]),
                ("rename nokey c", &[]),
                ("set a 1", &["new a", "set a"]),
                ("copy a c", &["new c", "copy_to c"]),
                ("copy nokey d", &["keymiss nokey"]),
                ("copy a c replace", &["new c", "copy_to c"]),
                ("move c 1", &["new c @1", "move_from c", "move_to c @1"]),
                ("move nokey 1", &[]),
                ("expire nokey 1", &[]),
                ("persist nokey", &[]),
                ("del nokey", &[]),
                ("touch nokey", &["keymiss nokey"]),
                ("exists nokey", &["keymiss nokey"]),
                ("type nokey", &["keymiss nokey"]),
                ("object encoding nokey", &[]),
                ("ttl nokey", &["keymiss nokey"]),
                ("pttl nokey", &["keymiss nokey"]),
                ("expiretime nokey", &["keymiss nokey"]),
                ("set x 1 px 1", &["new x", "set x", "expire x"]),
                ("advance 10", &[]),
                ("get x", &["expired x", "keymiss x"]),
                ("set x 1 px 1", &["new x", "set x", "expire x"]),
                ("advance 10", &[]),
                ("set x 2", &["expired x", "new x", "set x"]),
                ("set y 1 px 1", &["new y", "set y", "expire y"]),
                ("advance 10", &[]),
                ("mset y 2", &["expired y", "new y", "set y"]),
            ],
        );
    }

    #[test]
    fn no_events_are_buffered_when_notifications_are_off() {
        let mut st = store("");
        check(
            &mut st,
            &[("set a 1", &[]), ("get nokey", &[]), ("del a", &[])],
        );
        let mut st = store("KA");
        check(&mut st, &[("set a 1", &["set a"])]);
        let mut st = store("Eg");
        check(&mut st, &[("set a 1", &[]), ("del a", &["del a"])]);
        let mut st = store("A");
        check(&mut st, &[("set a 1", &[])]);
    }
}
