//! SORT and SORT_RO: sort a list, set or sorted set, optionally by weights
//! and with values read from other keys (BY / GET patterns), optionally
//! storing the result as a list (STORE).
//!
//! Both commands are coordinated: they run on the connection's core, which
//! parses the arguments and then picks one of two plans.
//! * Single-shard: no pattern names other keys (no BY pattern, or BY
//!   without `*`; only `GET #`), or the server has one shard, and the STORE
//!   destination (if any) lives on the source's shard. One step on that
//!   shard reads, sorts and stores, claiming just those keys (the whole
//!   shard when patterns dereference keys).
//! * Spanning: the patterns name keys that may live on any shard, or the
//!   destination lives elsewhere. With patterns the operation claims every
//!   shard whole and holds them all until the result is stored: one step
//!   reads the source, one looks up every key the patterns name (one part
//!   per shard), one stores the list and releases. No other command runs
//!   anywhere meanwhile, which is what makes the lookups and the store
//!   atomic, and also what SORT BY/GET costs on a multi-shard server.
//!   Without patterns only the source and destination keys are claimed.
//!
//! Behaviour follows Redis 7.0's `sort.c` to the byte: option parsing in
//! its order, LIMIT arithmetic, `strtod` weights, ALPHA comparing C strings
//! (the `strcoll` of the C and C.UTF-8 locales), the stable full sort of
//! glibc's `qsort` and, for BY with a narrowing LIMIT, a port of Redis's
//! partial quicksort, so ties come out in the same order.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::rc::Rc;

use bytes::Bytes;
use futures::future::LocalBoxFuture;

use super::args::{self, eq};
use super::errors;
use super::on_store;
use crate::command::session::Session;
use crate::keyspace::locks::Claim;
use crate::keyspace::notify;
use crate::keyspace::slot::ShardId;
use crate::keyspace::store::Store;
use crate::keyspace::value::{List, Value};
use crate::resp::Reply;
use crate::runtime::{Out, Plan, TxId};
use crate::services::Shard;

/// SORT's parsed options, last occurrence winning as in Redis.
#[derive(Clone, Debug, Default)]
struct Options {
    desc: bool,
    alpha: bool,
    /// LIMIT offset and count; (0, -1) means everything.
    limit: (i64, i64),
    by: Option<Bytes>,
    /// Set by any BY pattern without `*`, and never cleared (Redis's flag).
    dontsort: bool,
    gets: Vec<Bytes>,
    store: Option<Bytes>,
    /// Run by a script, whose output must not depend on a set's order.
    in_script: bool,
}

impl Options {
    /// Redis's option loop; SORT_RO does not know STORE.
    fn parse(a: &[Bytes], readonly: bool) -> Result<Options, Reply> {
        let mut o = Options {
            limit: (0, -1),
            ..Options::default()
        };
        let mut j = 2;
        while j < a.len() {
            let left = a.len() - j - 1;
            let arg = &a[j];
            if eq(arg, "asc") {
                o.desc = false;
            } else if eq(arg, "desc") {
                o.desc = true;
            } else if eq(arg, "alpha") {
                o.alpha = true;
            } else if eq(arg, "limit") && left >= 2 {
                o.limit = (args::int(&a[j + 1])?, args::int(&a[j + 2])?);
                j += 2;
            } else if !readonly && eq(arg, "store") && left >= 1 {
                o.store = Some(a[j + 1].clone());
                j += 1;
            } else if eq(arg, "by") && left >= 1 {
                o.dontsort |= !cstr(&a[j + 1]).contains(&b'*');
                o.by = Some(a[j + 1].clone());
                j += 1;
            } else if eq(arg, "get") && left >= 1 {
                o.gets.push(a[j + 1].clone());
                j += 1;
            } else {
                return Err(errors::syntax());
            }
            j += 1;
        }
        Ok(o)
    }

    /// The BY pattern when it decides the order.
    fn sort_by(&self) -> Option<&Bytes> {
        self.by.as_ref().filter(|_| !self.dontsort)
    }

    /// Whether BY or GET name other keys, which may live on any shard.
    fn dereferences(&self) -> bool {
        self.sort_by().is_some() || self.gets.iter().any(|g| names_keys(g))
    }
}

/// The key positions COMMAND GETKEYS reports (Redis's `sortGetKeys`): the
/// source, plus the last STORE destination for SORT.
pub fn keys(a: &[Bytes]) -> Vec<usize> {
    let mut found = vec![1];
    if !eq(&a[0], "sort") {
        return found;
    }
    let mut store = None;
    let mut i = 2;
    while i < a.len() {
        if eq(&a[i], "limit") {
            i += 2;
        } else if eq(&a[i], "get") || eq(&a[i], "by") {
            i += 1;
        } else if eq(&a[i], "store") && i + 1 < a.len() {
            store = Some(i + 1);
        }
        i += 1;
    }
    found.extend(store);
    found
}

/// SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC]
/// [ALPHA] [STORE destination]
pub fn sort<'a>(sh: &'a Rc<Shard>, s: &'a mut Session, a: Vec<Bytes>) -> LocalBoxFuture<'a, Reply> {
    Box::pin(sort_generic(sh, s.db, s.parent, a, false))
}

/// SORT_RO key [BY pattern] [LIMIT offset count] [GET pattern ...]
/// [ASC|DESC] [ALPHA]
pub fn sort_ro<'a>(
    sh: &'a Rc<Shard>,
    s: &'a mut Session,
    a: Vec<Bytes>,
) -> LocalBoxFuture<'a, Reply> {
    Box::pin(sort_generic(sh, s.db, s.parent, a, true))
}

/// Shared body of SORT and SORT_RO: picks the single-shard or the spanning
/// plan (see the module doc).
async fn sort_generic(
    sh: &Rc<Shard>,
    db: usize,
    parent: Option<TxId>,
    a: Vec<Bytes>,
    readonly: bool,
) -> Reply {
    let mut o = tri!(Options::parse(&a, readonly));
    o.in_script = crate::script::running();
    let key = a[1].clone();
    let src = sh.slots.shard_of(&key);
    let dst = o.store.as_ref().map(|d| sh.slots.shard_of(d));
    let derefs = o.dereferences();
    if (!derefs || sh.shards() == 1) && dst.is_none_or(|d| d == src) {
        let claim = if derefs {
            Claim::Whole
        } else {
            Claim::Keys(std::iter::once(&key).chain(&o.store).cloned().collect())
        };
        let mut plan = Plan::new(sh, parent);
        let sorted = plan.part(
            src,
            claim,
            on_store(db, move |st, db| sort_on_store(st, db, &key, &o)),
        );
        plan.run().await;
        return sorted.take();
    }
    sort_spanning(sh, db, parent, key, o).await
}

/// The whole command on one store (every key it names lives there).
fn sort_on_store(st: &mut Store, db: usize, key: &[u8], o: &Options) -> Reply {
    let source = tri!(load_source(st, db, key));
    let items = tri!(sort_elements(o, source, &mut |t| lookup(st, db, t)));
    match &o.store {
        None => array(items),
        Some(dst) => store_list(st, db, dst, &items),
    }
}

/// The spanning plan: hold the claims, read the source, look the patterns'
/// keys up on their shards, sort here, store and release.
async fn sort_spanning(
    sh: &Rc<Shard>,
    db: usize,
    parent: Option<TxId>,
    key: Bytes,
    o: Options,
) -> Reply {
    let src = sh.slots.shard_of(&key);
    let claims: Vec<(ShardId, Claim)> = if o.dereferences() {
        sh.all_shards().map(|s| (s, Claim::Whole)).collect()
    } else {
        let Some(dst) = o.store.clone() else {
            return errors::internal("a spanning SORT without patterns stores");
        };
        vec![
            (src, Claim::Keys(vec![key.clone()])),
            (sh.slots.shard_of(&dst), Claim::Keys(vec![dst])),
        ]
    };
    let mut plan = Plan::new(sh, parent);
    let mut source = None;
    for (s, claim) in claims {
        if s == src {
            let key = key.clone();
            source = Some(plan.part(
                s,
                claim,
                on_store(db, move |st, db| load_source(st, db, &key)),
            ));
        } else {
            plan.part(s, claim, |_: &Shard| ());
        }
    }
    let mut txn = plan.hold().await;
    let source = match source.map(Out::take) {
        Some(Ok(source)) => source,
        Some(Err(e)) => {
            txn.release();
            return e;
        }
        None => {
            txn.release();
            return errors::internal("SORT source not claimed");
        }
    };
    let mut found: HashMap<Target, Option<Bytes>> = HashMap::new();
    if o.dereferences() {
        let mut wanted: Vec<(ShardId, Vec<Target>)> = Vec::new();
        for t in targets(&o, &source.elems) {
            if found.insert(t.clone(), None).is_none() {
                let shard = sh.slots.shard_of(&t.key);
                match wanted.iter_mut().find(|(s, _)| *s == shard) {
                    Some((_, ts)) => ts.push(t),
                    None => wanted.push((shard, vec![t])),
                }
            }
        }
        let outs: Vec<Out<Vec<Option<Bytes>>>> = wanted
            .iter()
            .map(|(shard, ts)| {
                let ts = ts.clone();
                txn.step(
                    *shard,
                    on_store(db, move |st, db| {
                        ts.iter().map(|t| lookup(st, db, t)).collect::<Vec<_>>()
                    }),
                )
            })
            .collect();
        txn.run().await;
        for ((_, ts), out) in wanted.into_iter().zip(outs) {
            for (t, v) in ts.into_iter().zip(out.take()) {
                found.insert(t, v);
            }
        }
    }
    let sorted = sort_elements(&o, source, &mut |t| found.get(t).cloned().flatten());
    let (items, dst) = match (sorted, o.store) {
        (Ok(items), Some(dst)) => (items, dst),
        (sorted, _) => {
            txn.release();
            return sorted.map_or_else(|e| e, array);
        }
    };
    let at = sh.slots.shard_of(&dst);
    let stored = txn.step(
        at,
        on_store(db, move |st, db| store_list(st, db, &dst, &items)),
    );
    txn.end().await;
    stored.take()
}

// ---------------------------------------------------------------- sorting

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    List,
    Set,
    ZSet,
}

/// The elements to sort as Redis loads them: list order, set iteration
/// order, sorted-set rank order.
struct Source {
    kind: Kind,
    elems: Vec<Bytes>,
}

/// The source key's elements; a missing key is an empty list, another type
/// WRONGTYPE.
fn load_source(st: &mut Store, db: usize, key: &[u8]) -> Result<Source, Reply> {
    let (kind, elems) = match st.read(db, key).map(|e| &e.value) {
        None => (Kind::List, Vec::new()),
        Some(Value::List(l)) => (Kind::List, l.iter().map(Bytes::copy_from_slice).collect()),
        Some(Value::Set(s)) => (Kind::Set, s.members()),
        Some(Value::ZSet(z)) => (
            Kind::ZSet,
            (0..z.len())
                .filter_map(|i| z.get(i))
                .map(|(_, m)| Bytes::copy_from_slice(m))
                .collect(),
        ),
        Some(_) => return Err(errors::wrongtype()),
    };
    Ok(Source { kind, elems })
}

/// One element being sorted, with its weight.
struct Item {
    elem: Bytes,
    score: f64,
    /// The BY value compared under ALPHA (None: the key is missing).
    cmp: Option<Bytes>,
}

/// How two items compare (Redis's `sortCompare`).
#[derive(Clone, Copy)]
struct Order {
    desc: bool,
    alpha: bool,
    by: bool,
    /// A STORE compares bytes; a reply compares with `strcoll`.
    binary: bool,
}

impl Order {
    fn cmp(&self, a: &Item, b: &Item) -> Ordering {
        let text = |x: &[u8], y: &[u8]| {
            if self.binary {
                x.cmp(y)
            } else {
                cstr(x).cmp(cstr(y))
            }
        };
        let ord = if !self.alpha {
            if a.score > b.score {
                Ordering::Greater
            } else if a.score < b.score {
                Ordering::Less
            } else {
                // Equal weights: the elements' bytes decide, so the result
                // is deterministic.
                a.elem.cmp(&b.elem)
            }
        } else if self.by {
            match (&a.cmp, &b.cmp) {
                (Some(x), Some(y)) => text(x, y),
                (x, y) => x.is_some().cmp(&y.is_some()),
            }
        } else {
            text(&a.elem, &b.elem)
        };
        if self.desc {
            ord.reverse()
        } else {
            ord
        }
    }
}

/// Sorts (or, with BY nosort, slices) the source and applies the GET
/// patterns: the elements of the reply or of the stored list, None for a
/// GET whose key or field is missing.
fn sort_elements(
    o: &Options,
    src: Source,
    lookup: &mut dyn FnMut(&Target) -> Option<Bytes>,
) -> Result<Vec<Option<Bytes>>, Reply> {
    let (mut dontsort, mut alpha, mut by) = (o.dontsort, o.alpha, o.sort_by());
    // An unsorted set would store (or give a script) an arbitrary order:
    // Redis sorts it ALPHA.
    if dontsort && src.kind == Kind::Set && (o.store.is_some() || o.in_script) {
        (dontsort, alpha, by) = (false, true, None);
    }
    let len = src.elems.len() as i64;
    let mut start = o.limit.0.max(0);
    let mut end = if o.limit.1 < 0 {
        len - 1
    } else {
        start.saturating_add(o.limit.1 - 1)
    };
    if start >= len {
        (start, end) = (len - 1, len - 2);
    }
    end = end.min(len - 1);
    let picked: Vec<Bytes> = if dontsort {
        if end < start {
            Vec::new()
        } else {
            let range = start as usize..=end as usize;
            match src.kind {
                // Native order, reversed by DESC.
                Kind::List | Kind::ZSet if o.desc => {
                    let mut v = src.elems;
                    v.reverse();
                    v.drain(range).collect()
                }
                // A set has no order of its own: DESC changes nothing.
                _ => src.elems[range].to_vec(),
            }
        }
    } else {
        let mut items = Vec::with_capacity(src.elems.len());
        for elem in src.elems {
            let mut item = Item {
                elem,
                score: 0.0,
                cmp: None,
            };
            let value = match by {
                Some(p) => fetch(p, &item.elem, lookup),
                None => Some(item.elem.clone()),
            };
            if let Some(v) = value {
                if alpha {
                    item.cmp = by.and(Some(v));
                } else {
                    item.score = weight(&v).ok_or_else(|| errors::err(errors::SORT_NOT_DOUBLE))?;
                }
            }
            items.push(item);
        }
        let order = Order {
            desc: o.desc,
            alpha,
            by: by.is_some(),
            binary: o.store.is_some(),
        };
        if end >= start {
            let (s, e) = (start as usize, end as usize);
            if by.is_some() && (s != 0 || e != items.len() - 1) {
                pqsort(&mut items, s, e, &|a, b| order.cmp(a, b));
            } else {
                items.sort_by(|a, b| order.cmp(a, b));
            }
            items.drain(s..=e).map(|i| i.elem).collect()
        } else {
            Vec::new()
        }
    };
    if o.gets.is_empty() {
        return Ok(picked.into_iter().map(Some).collect());
    }
    Ok(picked
        .iter()
        .flat_map(|e| o.gets.iter().map(move |g| (g, e)))
        .map(|(g, e)| fetch(g, e, lookup))
        .collect())
}

/// A weight as Redis reads one: C `strtod` up to the first NUL, which must
/// end the number; out of range (ERANGE) and NaN are refused. Leading
/// space, hex and an empty string (0) are accepted, as in Redis. errno is
/// cleared first; Redis 7.0 does not clear it, so there a SORT that met an
/// out-of-range weight can make the next numeric SORT fail too.
fn weight(b: &[u8]) -> Option<f64> {
    let mut buf = Vec::with_capacity(b.len() + 1);
    buf.extend_from_slice(b);
    buf.push(0);
    let mut end: *mut libc::c_char = std::ptr::null_mut();
    // SAFETY: `buf` is NUL-terminated and outlives the call; strtod leaves
    // `end` inside it; errno is this thread's own.
    let (v, erange, at_end) = unsafe {
        *libc::__errno_location() = 0;
        let v = libc::strtod(buf.as_ptr().cast(), &mut end);
        (v, *libc::__errno_location() == libc::ERANGE, *end == 0)
    };
    (at_end && !erange && !v.is_nan()).then_some(v)
}

/// The bytes up to the first NUL: Redis handles patterns and ALPHA
/// comparisons as C strings.
fn cstr(b: &[u8]) -> &[u8] {
    b.iter().position(|&c| c == 0).map_or(b, |n| &b[..n])
}

// ---------------------------------------------------------------- patterns

/// A key (and hash field) a pattern names for one element.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Target {
    key: Bytes,
    field: Option<Bytes>,
}

/// Whether a GET pattern names keys (`#` returns the element; a pattern
/// without `*` names nothing and always answers nil).
fn names_keys(pattern: &[u8]) -> bool {
    let p = cstr(pattern);
    p != b"#" && p.contains(&b'*')
}

/// What `pattern` names for `elem` (Redis's `lookupKeyByPattern`): the
/// first `*` is replaced by the element; a non-empty `->field` after it
/// reads that hash field. None when the pattern has no `*`.
fn target(pattern: &Bytes, elem: &[u8]) -> Option<Target> {
    let c = cstr(pattern);
    let star = c.iter().position(|&b| b == b'*')?;
    let arrow = c[star + 1..]
        .windows(2)
        .position(|w| w == b"->")
        .map(|i| star + 1 + i)
        .filter(|&f| f + 2 < c.len());
    let post_end = arrow.unwrap_or(pattern.len());
    let mut key = Vec::with_capacity(pattern.len() + elem.len());
    key.extend_from_slice(&pattern[..star]);
    key.extend_from_slice(elem);
    key.extend_from_slice(&pattern[star + 1..post_end]);
    Some(Target {
        key: key.into(),
        field: arrow.map(|f| pattern.slice(f + 2..)),
    })
}

/// The value `pattern` gives for `elem`: the element itself for `#`, else
/// the string or hash field it names, None when that is missing.
fn fetch(
    pattern: &Bytes,
    elem: &Bytes,
    lookup: &mut dyn FnMut(&Target) -> Option<Bytes>,
) -> Option<Bytes> {
    if cstr(pattern) == b"#" {
        return Some(elem.clone());
    }
    target(pattern, elem).and_then(|t| lookup(&t))
}

/// Every key the patterns may read for these elements, for the lookups of
/// the spanning plan.
fn targets<'a>(o: &'a Options, elems: &'a [Bytes]) -> impl Iterator<Item = Target> + 'a {
    let patterns: Vec<&Bytes> = o.sort_by().into_iter().chain(&o.gets).collect();
    elems
        .iter()
        .flat_map(move |e| patterns.clone().into_iter().map(move |p| (p, e)))
        .filter_map(|(p, e)| (cstr(p) != b"#").then(|| target(p, e)).flatten())
}

/// A target's value in this store: a string key, or a field of a hash key;
/// anything else is missing. Counts a keyspace hit or miss, as Redis does.
fn lookup(st: &mut Store, db: usize, t: &Target) -> Option<Bytes> {
    match (st.read(db, &t.key).map(|e| &e.value), &t.field) {
        (Some(Value::Str(s)), None) => Some(s.to_bytes()),
        (Some(Value::Hash(h)), Some(f)) => h.get(f).map(Bytes::copy_from_slice),
        _ => None,
    }
}

// ---------------------------------------------------------------- output

fn array(items: Vec<Option<Bytes>>) -> Reply {
    Reply::Array(
        items
            .into_iter()
            .map(|i| i.map_or(Reply::Nil, Reply::Bulk))
            .collect(),
    )
}

/// STORE: replaces `dst` with the list (a missing GET value stored as an
/// empty string) and raises "sortstore", or deletes it ("del") when the
/// result is empty; answers the count.
fn store_list(st: &mut Store, db: usize, dst: &[u8], items: &[Option<Bytes>]) -> Reply {
    if items.is_empty() {
        if st.delete(db, dst) {
            st.notify(notify::GENERIC, "del", db, dst);
        }
    } else {
        let list: List = items
            .iter()
            .map(|i| i.as_deref().unwrap_or_default())
            .collect();
        st.insert(db, dst, Value::List(Box::new(list)), 0);
        st.notify(notify::LIST, "sortstore", db, dst);
    }
    Reply::Int(items.len() as i64)
}

// ---------------------------------------------------------------- pqsort

/// Redis's `pqsort`: Bentley–McIlroy quicksort that only recurses into
/// partitions overlapping `lrange..=rrange`, so that range ends up sorted.
/// Ported step by step because it is not stable: equal items must land
/// where Redis puts them.
pub(crate) fn pqsort<T>(
    v: &mut [T],
    lrange: usize,
    rrange: usize,
    cmp: &dyn Fn(&T, &T) -> Ordering,
) {
    pqsort_part(v, 0, v.len(), lrange, rrange, cmp);
}

fn med3<T>(v: &[T], a: usize, b: usize, c: usize, cmp: &dyn Fn(&T, &T) -> Ordering) -> usize {
    use Ordering::{Greater, Less};
    if cmp(&v[a], &v[b]) == Less {
        if cmp(&v[b], &v[c]) == Less {
            b
        } else if cmp(&v[a], &v[c]) == Less {
            c
        } else {
            a
        }
    } else if cmp(&v[b], &v[c]) == Greater {
        b
    } else if cmp(&v[a], &v[c]) == Less {
        a
    } else {
        c
    }
}

fn vecswap<T>(v: &mut [T], a: usize, b: usize, n: usize) {
    for i in 0..n {
        v.swap(a + i, b + i);
    }
}

fn pqsort_part<T>(
    v: &mut [T],
    mut lo: usize,
    mut n: usize,
    lrange: usize,
    rrange: usize,
    cmp: &dyn Fn(&T, &T) -> Ordering,
) {
    use Ordering::{Equal, Greater, Less};
    let overlaps = |lo: usize, n: usize| rrange >= lo && lrange < lo + n;
    loop {
        if n < 7 {
            for pm in lo + 1..lo + n {
                let mut pl = pm;
                while pl > lo && cmp(&v[pl - 1], &v[pl]) == Greater {
                    v.swap(pl, pl - 1);
                    pl -= 1;
                }
            }
            return;
        }
        let mut pm = lo + n / 2;
        if n > 7 {
            let (mut pl, mut pn) = (lo, lo + n - 1);
            if n > 40 {
                let d = n / 8;
                pl = med3(v, pl, pl + d, pl + 2 * d, cmp);
                pm = med3(v, pm - d, pm, pm + d, cmp);
                pn = med3(v, pn - 2 * d, pn - d, pn, cmp);
            }
            pm = med3(v, pl, pm, pn, cmp);
        }
        v.swap(lo, pm);
        let (mut pa, mut pb) = (lo + 1, lo + 1);
        let (mut pc, mut pd) = (lo + n - 1, lo + n - 1);
        loop {
            while pb <= pc {
                match cmp(&v[pb], &v[lo]) {
                    Greater => break,
                    Equal => {
                        v.swap(pa, pb);
                        pa += 1;
                    }
                    Less => {}
                }
                pb += 1;
            }
            while pb <= pc {
                match cmp(&v[pc], &v[lo]) {
                    Less => break,
                    Equal => {
                        v.swap(pc, pd);
                        pd -= 1;
                    }
                    Greater => {}
                }
                pc -= 1;
            }
            if pb > pc {
                break;
            }
            v.swap(pb, pc);
            pb += 1;
            pc -= 1;
        }
        let pn = lo + n;
        let r = (pa - lo).min(pb - pa);
        vecswap(v, lo, pb - r, r);
        let r = (pd - pc).min(pn - pd - 1);
        vecswap(v, pb, pn - r, r);
        let r = pb - pa;
        if r > 1 && overlaps(lo, r) {
            pqsort_part(v, lo, r, lrange, rrange, cmp);
        }
        let r = pd - pc;
        if r > 1 && overlaps(pn - r, r) {
            (lo, n) = (pn - r, r);
            continue;
        }
        return;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    #[test]
    fn sort_store_raises_sortstore_or_del() {
        use crate::command::keys::event_script::{check, drain, store};
        let mut st = store("AKEmn");
        check(&mut st, &[("rpush l 3 1 2", &["new l", "rpush l"])]);
        let sort = |st: &mut Store, v: &[&str]| {
            let a = crate::command::test_args(v);
            let o = Options::parse(&a, false).expect("valid options");
            sort_on_store(st, 0, &a[1], &o)
        };
        assert_eq!(sort(&mut st, &["sort", "l", "store", "d"]), Reply::Int(3));
        assert_eq!(drain(&mut st), ["new d", "sortstore d"]);
        sort(&mut st, &["sort", "l", "store", "d"]);
        assert_eq!(drain(&mut st), ["sortstore d"]);
        sort(&mut st, &["sort", "nol", "store", "d"]);
        assert_eq!(drain(&mut st), ["keymiss nol", "del d"]);
        sort(&mut st, &["sort", "nol", "store", "d"]);
        assert_eq!(drain(&mut st), ["keymiss nol"]);
    }

    #[test]
    fn weights_follow_strtod() {
        assert_eq!(weight(b"10"), Some(10.0));
        assert_eq!(weight(b" 2"), Some(2.0));
        assert_eq!(weight(b"0x10"), Some(16.0));
        assert_eq!(weight(b""), Some(0.0));
        assert_eq!(weight(b"5\0junk"), Some(5.0));
        assert_eq!(weight(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(weight(b"2 "), None);
        assert_eq!(weight(b"nan"), None);
        assert_eq!(weight(b"1e400"), None);
        assert_eq!(weight(b"abc"), None);
    }

    #[test]
    fn patterns_substitute_the_first_star_and_split_fields() {
        let t = target(&b("w_*"), b"a").unwrap();
        assert_eq!((t.key, t.field), (b("w_a"), None));
        let t = target(&b("h_*->f*"), b"a").unwrap();
        assert_eq!((t.key, t.field), (b("h_a"), Some(b("f*"))));
        // An empty field name is part of the key.
        let t = target(&b("h_*->"), b"a").unwrap();
        assert_eq!((t.key, t.field), (b("h_a->"), None));
        // "->" before the star is part of the key too.
        let t = target(&b("x->*y"), b"a").unwrap();
        assert_eq!((t.key, t.field), (b("x->ay"), None));
        assert!(target(&b("nostar"), b"a").is_none());
        assert!(!names_keys(b"#") && names_keys(b"*") && !names_keys(b"k"));
    }

    #[test]
    fn getkeys_finds_the_last_store() {
        let a: Vec<Bytes> = [
            "sort", "s", "by", "store", "store", "d1", "limit", "0", "1", "store", "d2",
        ]
        .map(b)
        .to_vec();
        assert_eq!(keys(&a), vec![1, 10]);
        let ro: Vec<Bytes> = ["sort_ro", "s", "store", "d"].map(b).to_vec();
        assert_eq!(keys(&ro), vec![1]);
    }

    #[test]
    fn pqsort_sorts_the_requested_range() {
        let mut rng = 7u64;
        for n in [0usize, 1, 5, 7, 8, 39, 41, 200] {
            let v: Vec<u32> = (0..n)
                .map(|_| {
                    rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1);
                    ((rng >> 33) % 50) as u32
                })
                .collect();
            let mut sorted = v.clone();
            sorted.sort();
            for (l, r) in [
                (0, n.saturating_sub(1)),
                (n / 3, n / 2),
                (n / 2, n.saturating_sub(1)),
            ] {
                if n == 0 || l > r {
                    continue;
                }
                let mut w = v.clone();
                pqsort(&mut w, l, r, &|a: &u32, b: &u32| a.cmp(b));
                assert_eq!(w[l..=r], sorted[l..=r], "n={n} range {l}..={r}");
            }
        }
    }
}
