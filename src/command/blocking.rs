//! The blocking pops: BLPOP BRPOP BLMPOP BLMOVE BRPOPLPUSH BZPOPMIN
//! BZPOPMAX BZMPOP, and LMPOP and ZMPOP, which are the same pops without
//! the wait.
//!
//! A blocking pop first tries to pop as its non-blocking form would, as one
//! ordered operation over its keys. When every key is empty the same
//! operation registers the client on each shard owning one of its keys
//! (`shard::blocked`), so no push can slip between the check and the
//! registration. The connection's task then waits for an answer from any of
//! those shards, its timeout, or the client going away.
//!
//! The shard that makes a key non-empty serves its waiters right after the
//! write, in the order they blocked, by popping for them on the spot: the
//! pusher's next command already sees the list without those elements, as
//! with Redis. The one exception is a BLMOVE whose destination lives on
//! another shard: the shard only wakes the client, which then runs the move
//! as an ordinary multi-shard LMOVE (atomic over both lists) and blocks
//! again if another client emptied the source in between.

use std::rc::Rc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::future::{self, Either, LocalBoxFuture};

use super::args;
use super::errors::{self, err};
use super::list::{self, End};
use super::zset::{self, multi as zmulti};
use super::{store_step, take};
use crate::resp::Reply;
use crate::server::session::Session;
use crate::shard::blocked::{Served, Ticket, Waiter};
use crate::shard::core::Shard;
use crate::shard::locks::Claim;
use crate::shard::router::Payload;
use crate::shard::slot::ShardId;
use crate::shard::store::Store;
use crate::shard::value::Value;
use crate::shard::zset::ZSetValue;

pub const TIMEOUT_NOT_FLOAT: &str = "ERR timeout is not a float or out of range";
pub const TIMEOUT_NEGATIVE: &str = "ERR timeout is negative";

/// How often a blocked connection checks that its client is still there.
const LIVENESS_TICK: Duration = Duration::from_millis(50);

/// What a blocking pop takes once one of its keys has a value.
#[derive(Clone)]
pub enum PopOp {
    /// BLPOP / BRPOP (`count` None: `[key, element]`) and BLMPOP
    /// (`[key, [elements]]`).
    List { end: End, count: Option<usize> },
    /// BLMOVE / BRPOPLPUSH: the element, pushed onto `dst`, which lives on
    /// the source's shard when `dst_here`.
    Move {
        from: End,
        to: End,
        dst: Bytes,
        dst_here: bool,
    },
    /// BZPOPMIN / BZPOPMAX (`count` None: `[key, member, score]`) and
    /// BZMPOP (`[key, [[member, score] ...]]`).
    ZSet { max: bool, count: Option<usize> },
}

impl PopOp {
    fn pops(&self, v: &Value) -> bool {
        match self {
            PopOp::ZSet { .. } => matches!(v, Value::ZSet(_)),
            _ => matches!(v, Value::List(_)),
        }
    }
}

/// A parsed blocking pop.
struct Blocking {
    keys: Vec<Bytes>,
    op: PopOp,
    /// None: wait forever.
    timeout: Option<Duration>,
}

/// Redis's `getTimeoutFromObjectOrReply` in seconds: a float, converted to
/// whole milliseconds the way C truncates (so "-0.0001" is 0, forever, and
/// what does not fit a `long long` counts as negative).
fn parse_timeout(arg: &[u8]) -> Result<Option<Duration>, Reply> {
    let secs = args::parse_float(arg).ok_or_else(|| err(TIMEOUT_NOT_FLOAT))?;
    let ms = secs * 1000.0;
    if !(ms > -9.223_372_036_854_776e18 && ms < 9.223_372_036_854_776e18) {
        return Err(err(TIMEOUT_NEGATIVE));
    }
    let ms = ms as i64;
    if ms < 0 {
        return Err(err(TIMEOUT_NEGATIVE));
    }
    Ok((ms > 0).then(|| Duration::from_millis(ms as u64)))
}

fn parse(a: &[Bytes]) -> Result<Blocking, Reply> {
    let name = a[0].to_ascii_lowercase();
    let last = a.len() - 1;
    match &name[..] {
        b"blpop" | b"brpop" | b"bzpopmin" | b"bzpopmax" => {
            let timeout = parse_timeout(&a[last])?;
            let op = match &name[..] {
                b"blpop" => PopOp::List {
                    end: End::Left,
                    count: None,
                },
                b"brpop" => PopOp::List {
                    end: End::Right,
                    count: None,
                },
                b"bzpopmin" => PopOp::ZSet {
                    max: false,
                    count: None,
                },
                _ => PopOp::ZSet {
                    max: true,
                    count: None,
                },
            };
            Ok(Blocking {
                keys: a[1..last].to_vec(),
                op,
                timeout,
            })
        }
        b"brpoplpush" | b"blmove" => {
            let timeout = parse_timeout(&a[last])?;
            let (from, to) = list::move_ends(&a[..last])?;
            Ok(Blocking {
                keys: vec![a[1].clone()],
                op: PopOp::Move {
                    from,
                    to,
                    dst: a[2].clone(),
                    dst_here: false,
                },
                timeout,
            })
        }
        b"blmpop" => {
            let timeout = parse_timeout(&a[1])?;
            // LMPOP's parser reads its numkeys at index 1.
            // The pop's own arguments follow the timeout.
            let p = parse_mpop(&a[1..], list::parse_end)?;
            Ok(Blocking {
                keys: a[p.keys.start + 1..p.keys.end + 1].to_vec(),
                op: PopOp::List {
                    end: p.side,
                    count: Some(p.count),
                },
                timeout,
            })
        }
        _ => {
            let timeout = parse_timeout(&a[1])?;
            let p = parse_mpop(&a[1..], parse_min_max)?;
            Ok(Blocking {
                keys: a[p.keys.start + 1..p.keys.end + 1].to_vec(),
                op: PopOp::ZSet {
                    max: p.side,
                    count: Some(p.count),
                },
                timeout,
            })
        }
    }
}

/// The arguments of LMPOP and ZMPOP (and of BLMPOP and BZMPOP after their
/// timeout): `numkeys key [key ...] <side> [COUNT count]`, checked in Redis's
/// order. `a[0]` is the command name; `keys` are positions in `a`.
pub(crate) struct Mpop<W> {
    pub keys: std::ops::Range<usize>,
    pub side: W,
    pub count: usize,
}

pub(crate) fn parse_mpop<W>(
    a: &[Bytes],
    side: fn(&[u8]) -> Result<W, Reply>,
) -> Result<Mpop<W>, Reply> {
    let numkeys = match args::int(&a[1]) {
        Ok(n) if n >= 1 => n as u64,
        _ => return Err(err(errors::NUMKEYS)),
    };
    let where_idx = numkeys.saturating_add(2);
    if where_idx >= a.len() as u64 {
        return Err(errors::syntax());
    }
    let where_idx = where_idx as usize;
    let side = side(&a[where_idx])?;
    let mut count = None;
    let mut j = where_idx + 1;
    while j < a.len() {
        match a.get(j + 1) {
            Some(v) if count.is_none() && args::eq(&a[j], "count") => match args::int(v) {
                Ok(n) if n >= 1 => count = Some(n as usize),
                _ => return Err(err(errors::COUNT_POSITIVE)),
            },
            _ => return Err(errors::syntax()),
        }
        j += 2;
    }
    Ok(Mpop {
        keys: 2..where_idx,
        side,
        count: count.unwrap_or(1),
    })
}

/// ZMPOP's MIN | MAX: true for MAX.
fn parse_min_max(arg: &[u8]) -> Result<bool, Reply> {
    if args::eq(arg, "max") {
        Ok(true)
    } else if args::eq(arg, "min") {
        Ok(false)
    } else {
        Err(errors::syntax())
    }
}

/// Whether `key` holds nothing (None), what `op` pops (Some(true)) or
/// another type (Some(false)); no hit or miss is counted.
fn probe(st: &mut Store, db: usize, key: &[u8], op: &PopOp) -> Option<bool> {
    st.lookup(db, key).map(|e| op.pops(&e.value))
}

/// Pops one member of the sorted set at `key`: `[key, member, score]`.
fn zpop_one(st: &mut Store, db: usize, key: &Bytes, max: bool) -> Reply {
    let pop = |z: &mut ZSetValue| {
        let i = if max { z.len() - 1 } else { 0 };
        let (score, member) = z.get(i).map(|(s, m)| (s, Bytes::copy_from_slice(m)))?;
        z.remove(&member);
        Some((member, score))
    };
    let popped = zset::modify_zset_notify(st, db, key, zset::pop_event(max), pop, Option::is_some);
    match popped {
        Ok(Some(Some((m, s)))) => Reply::Array(vec![
            Reply::Bulk(key.clone()),
            Reply::Bulk(m),
            Reply::Double(s),
        ]),
        Ok(_) => Reply::NilArray,
        Err(e) => e,
    }
}

/// Pops for `op` from `key`, which holds a non-empty value of its type, on
/// this store (for a move, `dst` is on this store too).
fn pop_here(st: &mut Store, db: usize, key: &Bytes, op: &PopOp) -> Reply {
    match op {
        PopOp::List { end, count: None } => match list::pop_one(st, db, key, *end) {
            Ok(Some(e)) => Reply::Array(vec![Reply::Bulk(key.clone()), Reply::Bulk(e)]),
            Ok(_) => Reply::NilArray,
            Err(e) => e,
        },
        PopOp::List {
            end,
            count: Some(n),
        } => list::mpop_from(st, db, key, *end, *n),
        PopOp::Move { from, to, dst, .. } => list::move_keys(st, db, key, dst, *from, *to),
        PopOp::ZSet { max, count: None } => zpop_one(st, db, key, *max),
        PopOp::ZSet {
            max,
            count: Some(n),
        } => zmulti::mpop_from(st, db, key, *max, *n),
    }
}

/// The client has to run its move again (its destination is elsewhere).
struct Retry;

/// Serves waiter `w` from `key`, which just became ready on this shard.
pub fn serve(st: &mut Store, w: &Waiter, key: &Bytes) -> Served {
    if !w.ticket.waiting() {
        return Served::Gone;
    }
    match probe(st, w.db, key, &w.op) {
        None => return Served::No,
        Some(false) => return Served::Skip,
        Some(true) => {}
    }
    if !w.ticket.serve() {
        return Served::Gone;
    }
    match &w.op {
        PopOp::Move {
            dst_here: false, ..
        } => Served::Last(Payload::Out(Box::new(Retry))),
        op => Served::Reply(Payload::Replies(vec![pop_here(st, w.db, key, op)])),
    }
}

/// What one try of a blocking pop came to.
enum Attempt {
    Done(Reply),
    /// Registered on every shard owning a key.
    Blocked,
}

/// What a shard reports in the first phase of a multi-shard try.
type Probes = Vec<Option<bool>>;

/// One try: pop from the first key (in argument order) that has a value,
/// or register the waiting client (`waiting`: its reply id and ticket) on
/// every shard of the keys; with `waiting` None only the pop is tried. One ordered operation:
/// a single step when everything lives on one shard; else every involved
/// shard is held while it probes its keys (registering when they are all
/// empty), and a second step pops and releases them.
async fn attempt(
    sh: &Rc<Shard>,
    s: &Session,
    b: &Blocking,
    waiting: Option<(u64, &Ticket)>,
) -> Attempt {
    let db = s.db;
    let register = {
        let (origin, proto) = (sh.id, s.proto);
        let waiting = waiting.map(|(reply, ticket)| (reply, ticket.clone()));
        move |st: &mut Store, keys: &[Bytes], op: &PopOp| {
            let Some((reply, ticket)) = &waiting else {
                return;
            };
            let w = Waiter {
                origin,
                reply: *reply,
                ticket: ticket.clone(),
                db,
                proto,
                op: op.clone(),
            };
            st.blocked.register(keys, w);
        }
    };
    // Per distinct shard, in first-seen order: its keys' indexes.
    let mut shares: Vec<(ShardId, Vec<usize>)> = Vec::new();
    for (i, key) in b.keys.iter().enumerate() {
        let shard = sh.slots.shard_of(key);
        match shares.iter_mut().find(|(s, _)| *s == shard) {
            Some((_, idxs)) => idxs.push(i),
            None => shares.push((shard, vec![i])),
        }
    }
    let mut op = b.op.clone();
    let dst_shard = match &mut op {
        PopOp::Move { dst, dst_here, .. } => {
            let shard = sh.slots.shard_of(dst);
            *dst_here = shard == shares[0].0;
            (!*dst_here).then_some((shard, dst.clone()))
        }
        _ => None,
    };
    if let ([(shard, _)], None) = (&shares[..], &dst_shard) {
        let (keys, mut claim) = (b.keys.clone(), b.keys.clone());
        if let PopOp::Move { dst, .. } = &op {
            claim.push(dst.clone());
        }
        let step = store_step(db, move |st, db| {
            for key in &keys {
                match probe(st, db, key, &op) {
                    None => continue,
                    Some(false) => return Some(errors::wrongtype()),
                    Some(true) => return Some(pop_here(st, db, key, &op)),
                }
            }
            register(st, &keys, &op);
            None
        });
        let (_, mut outs) = sh
            .begin_claims(vec![(*shard, Claim::Keys(claim), step)], false)
            .await;
        return match take::<Option<Reply>>(outs.pop().expect("one step")) {
            Some(r) => Attempt::Done(r),
            None => Attempt::Blocked,
        };
    }
    let mut parts = Vec::with_capacity(shares.len() + 1);
    for (shard, idxs) in &shares {
        let mine: Vec<Bytes> = idxs.iter().map(|&i| b.keys[i].clone()).collect();
        let (op, register) = (op.clone(), register.clone());
        let claim = Claim::Keys(mine.clone());
        let step = store_step(db, move |st, db| {
            let probes: Probes = mine.iter().map(|k| probe(st, db, k, &op)).collect();
            if probes.iter().all(Option::is_none) {
                register(st, &mine, &op);
            }
            // A key with a value may have waiters a woken mover left
            // behind (see `Served::Last`): they are served after this
            // operation, whatever it decides.
            for (k, p) in mine.iter().zip(&probes) {
                if *p == Some(true) {
                    st.blocked.signal(db, k);
                }
            }
            probes
        });
        parts.push((*shard, claim, step));
    }
    if let Some((shard, dst)) = &dst_shard {
        let d = dst.clone();
        let step = store_step(db, move |st, db| -> Probes {
            vec![list::probe(st, db, &d)]
        });
        parts.push((*shard, Claim::Keys(vec![dst.clone()]), step));
    }
    let (txn, outs) = sh.begin_claims(parts, true).await;
    let mut outs = outs.into_iter().map(take::<Probes>);
    let mut kinds = vec![None; b.keys.len()];
    for ((_, idxs), probes) in shares.iter().zip(outs.by_ref()) {
        for (&i, kind) in idxs.iter().zip(probes) {
            kinds[i] = kind;
        }
    }
    let dst_kind = outs.next().and_then(|p| p.into_iter().next().flatten());
    let Some(first) = kinds.iter().position(Option::is_some) else {
        txn.release(sh).await;
        return Attempt::Blocked;
    };
    // Nobody can have served the registrations: every shard is held.
    if let Some((_, ticket)) = waiting {
        ticket.cancel();
    }
    if kinds[first] == Some(false) || dst_kind == Some(false) {
        txn.release(sh).await;
        return Attempt::Done(errors::wrongtype());
    }
    let key = b.keys[first].clone();
    let shard = sh.slots.shard_of(&key);
    let steps = match (&op, dst_shard) {
        (PopOp::Move { from, to, .. }, Some((dshard, dst))) => {
            let (from, to) = (*from, *to);
            let take_src = store_step(db, move |st, db| {
                list::pop_one(st, db, &key, from).ok().flatten()
            });
            let (txn, mut outs) = txn.step(sh, vec![(shard, take_src)], false).await;
            let elem = take::<Option<Bytes>>(outs.pop().expect("one step"));
            let txn = txn.expect("held");
            let Some(elem) = elem else {
                txn.release(sh).await;
                return Attempt::Done(Reply::Nil);
            };
            let pushed = elem.clone();
            let put = store_step(db, move |st, db| {
                let _ = list::push_list(st, db, &dst, to, &[pushed], false);
            });
            txn.step(sh, vec![(dshard, put)], true).await;
            return Attempt::Done(Reply::Bulk(elem));
        }
        (op, _) => {
            let op = op.clone();
            vec![(
                shard,
                store_step(db, move |st, db| pop_here(st, db, &key, &op)),
            )]
        }
    };
    let (_, mut outs) = txn.step(sh, steps, true).await;
    Attempt::Done(take::<Reply>(outs.pop().expect("one step")))
}

/// How a wait for a served reply ended.
enum Woken {
    Served(Payload),
    TimedOut,
    Gone,
}

/// Waits for a shard to serve the client, the deadline, or the client to
/// go away (it hangs up, or CLIENT KILL shuts its socket down).
async fn wait(
    s: &Session,
    rx: &mut futures::channel::oneshot::Receiver<Payload>,
    deadline: Option<Instant>,
) -> Woken {
    let fd = s.info.borrow().fd;
    let mut hangup = Box::pin(hangup(fd));
    loop {
        let now = Instant::now();
        if deadline.is_some_and(|d| d <= now) {
            return Woken::TimedOut;
        }
        // The tick only re-checks the kill flag, in case the peer had
        // already sent more commands (then `hangup` cannot see EOF).
        let tick = deadline.map_or(LIVENESS_TICK, |d| (d - now).min(LIVENESS_TICK));
        let timer = Box::pin(glommio::timer::sleep(tick));
        match future::select(&mut *rx, future::select(timer, &mut hangup)).await {
            Either::Left((Ok(p), _)) => return Woken::Served(p),
            Either::Left((Err(_), _)) | Either::Right((Either::Right(_), _)) => return Woken::Gone,
            Either::Right((Either::Left(_), _)) => {}
        }
        if s.info.borrow().killed {
            return Woken::Gone;
        }
    }
}

/// Completes when the peer of socket `fd` has hung up: a peek on a
/// duplicate of the descriptor answers 0 bytes (or fails). If the peer
/// sends data instead (commands pipelined behind the blocking one), it
/// never completes.
async fn hangup(fd: std::os::fd::RawFd) {
    use std::os::fd::FromRawFd;
    // SAFETY: dup(2) of a socket this process owns; the duplicate is owned
    // by the stream below and closed with it.
    let dup = unsafe { libc::dup(fd) };
    if dup < 0 {
        return future::pending().await;
    }
    // SAFETY: `dup` is a fresh descriptor nothing else owns.
    let stream = unsafe { glommio::net::TcpStream::from_raw_fd(dup) };
    let mut byte = [0u8; 1];
    match stream.peek(&mut byte).await {
        Ok(0) | Err(_) => {}
        Ok(_) => future::pending().await,
    }
}

/// What every blocking pop answers when its timeout passes: a null array,
/// BLMOVE and BRPOPLPUSH included (Redis 7.0's `replyToBlockedClientTimedOut`).
fn timed_out() -> Reply {
    Reply::NilArray
}

/// BLPOP key [key ...] timeout, BRPOP (same), BLMPOP timeout numkeys key
/// [key ...] LEFT|RIGHT [COUNT count], BLMOVE source destination
/// LEFT|RIGHT LEFT|RIGHT timeout, BRPOPLPUSH source destination timeout,
/// BZPOPMIN / BZPOPMAX key [key ...] timeout, BZMPOP timeout numkeys key
/// [key ...] MIN|MAX [COUNT count]: one handler, the command name picks
/// the pop (see `parse`).
pub fn blocking_pop<'a>(
    sh: &'a Rc<Shard>,
    s: &'a mut Session,
    a: Vec<Bytes>,
) -> LocalBoxFuture<'a, Reply> {
    Box::pin(async move {
        let b = tri!(parse(&a));
        if s.atomic {
            // Inside EXEC or a script: one try, never a wait.
            return match attempt(sh, s, &b, None).await {
                Attempt::Done(r) => r,
                // As its non-blocking form: LMOVE answers a null bulk.
                Attempt::Blocked if matches!(b.op, PopOp::Move { .. }) => Reply::Nil,
                Attempt::Blocked => timed_out(),
            };
        }
        // A deadline past what the clock can represent is no deadline.
        let deadline = b.timeout.and_then(|t| Instant::now().checked_add(t));
        loop {
            let ticket = Ticket::default();
            let (reply, mut rx) = sh.waiter();
            if let Attempt::Done(r) = attempt(sh, s, &b, Some((reply, &ticket))).await {
                sh.forget(reply);
                return r;
            }
            sh.set_blocked(s, true);
            let payload = match wait(s, &mut rx, deadline).await {
                Woken::Served(p) => Some(p),
                Woken::TimedOut | Woken::Gone if ticket.cancel() => None,
                // A shard serves us this very moment: its answer is on
                // the way and must not be lost.
                Woken::TimedOut | Woken::Gone => rx.await.ok(),
            };
            sh.set_blocked(s, false);
            match payload {
                None => {
                    sh.forget(reply);
                    return timed_out();
                }
                Some(Payload::Replies(mut r)) => return r.pop().unwrap_or(Reply::Nil),
                Some(Payload::Out(o)) if o.is::<Retry>() => continue,
                Some(Payload::Out(_)) => return timed_out(),
            }
        }
    })
}

/// The pop of LMPOP and ZMPOP: BLMPOP's and BZMPOP's, never blocking.
async fn mpop(sh: &Rc<Shard>, s: &Session, keys: Vec<Bytes>, op: PopOp) -> Reply {
    let b = Blocking {
        keys,
        op,
        timeout: None,
    };
    match attempt(sh, s, &b, None).await {
        Attempt::Done(r) => r,
        Attempt::Blocked => Reply::NilArray,
    }
}

/// LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]
pub fn lmpop<'a>(
    sh: &'a Rc<Shard>,
    s: &'a mut Session,
    a: Vec<Bytes>,
) -> LocalBoxFuture<'a, Reply> {
    Box::pin(async move {
        let p = tri!(parse_mpop(&a, list::parse_end));
        let op = PopOp::List {
            end: p.side,
            count: Some(p.count),
        };
        mpop(sh, s, a[p.keys].to_vec(), op).await
    })
}

/// ZMPOP numkeys key [key ...] MIN|MAX [COUNT count]
pub fn zmpop<'a>(
    sh: &'a Rc<Shard>,
    s: &'a mut Session,
    a: Vec<Bytes>,
) -> LocalBoxFuture<'a, Reply> {
    Box::pin(async move {
        let p = tri!(parse_mpop(&a, parse_min_max));
        let op = PopOp::ZSet {
            max: p.side,
            count: Some(p.count),
        };
        mpop(sh, s, a[p.keys].to_vec(), op).await
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a served blocking pop raises, as Redis 7.0 publishes it when
    /// a push wakes BLPOP, BLMOVE or BZPOPMIN.
    #[test]
    fn served_pops_raise_redis_events() {
        use crate::command::keys::event_script::{check, drain, store};
        let mut st = store("KEA");
        check(
            &mut st,
            &[
                ("rpush bl a b", &["rpush bl"]),
                ("rpush bm x", &["rpush bm"]),
                ("zadd bz 1 m", &["zadd bz"]),
            ],
        );
        let key = |k: &'static str| Bytes::from_static(k.as_bytes());
        let left = PopOp::List {
            end: End::Left,
            count: None,
        };
        pop_here(&mut st, 0, &key("bl"), &left);
        assert_eq!(drain(&mut st), ["lpop bl"]);
        let mv = PopOp::Move {
            from: End::Left,
            to: End::Right,
            dst: key("dst"),
            dst_here: true,
        };
        pop_here(&mut st, 0, &key("bm"), &mv);
        assert_eq!(drain(&mut st), ["rpush dst", "lpop bm", "del bm"]);
        let zmin = PopOp::ZSet {
            max: false,
            count: None,
        };
        pop_here(&mut st, 0, &key("bz"), &zmin);
        assert_eq!(drain(&mut st), ["zpopmin bz", "del bz"]);
        let rest = PopOp::List {
            end: End::Right,
            count: Some(5),
        };
        pop_here(&mut st, 0, &key("bl"), &rest);
        assert_eq!(drain(&mut st), ["rpop bl", "del bl"]);
    }

    #[test]
    fn lmpop_parsing_errors() {
        let args = crate::command::test_args;
        let e = |v: &[&str]| parse_mpop(&args(v), list::parse_end).err();
        assert_eq!(e(&["lmpop", "0", "l", "left"]), Some(err(errors::NUMKEYS)));
        assert_eq!(e(&["lmpop", "x", "l", "left"]), Some(err(errors::NUMKEYS)));
        assert_eq!(
            e(&["lmpop", "9223372036854775807", "l", "left"]),
            Some(errors::syntax())
        );
        assert_eq!(
            e(&["lmpop", "1", "l", "left", "count", "0"]),
            Some(err(errors::COUNT_POSITIVE))
        );
        assert_eq!(
            e(&["lmpop", "1", "l", "left", "count", "1", "count", "1"]),
            Some(errors::syntax())
        );
        let ok = parse_mpop(
            &args(&["lmpop", "2", "a", "b", "RIGHT", "COUNT", "3"]),
            list::parse_end,
        )
        .unwrap();
        assert_eq!((ok.keys, ok.side, ok.count), (2..4, End::Right, 3));
        let e = |v: &[&str]| parse_mpop(&args(v), parse_min_max).err();
        assert_eq!(e(&["zmpop", "1", "z", "left"]), Some(errors::syntax()));
    }

    #[test]
    fn timeouts_follow_redis() {
        assert_eq!(parse_timeout(b"0").unwrap(), None);
        assert_eq!(parse_timeout(b"-0.0001").unwrap(), None);
        assert_eq!(
            parse_timeout(b"0.25").unwrap(),
            Some(Duration::from_millis(250))
        );
        assert_eq!(parse_timeout(b"-1").unwrap_err(), err(TIMEOUT_NEGATIVE));
        assert_eq!(parse_timeout(b"inf").unwrap_err(), err(TIMEOUT_NEGATIVE));
        assert_eq!(parse_timeout(b"abc").unwrap_err(), err(TIMEOUT_NOT_FLOAT));
        assert_eq!(
            parse_timeout(b"9e15").unwrap(),
            Some(Duration::from_millis(9_000_000_000_000_000_000))
        );
    }

    #[test]
    fn arguments_are_checked_timeout_first() {
        let a = crate::command::test_args;
        let e = |v: &[&str]| parse(&a(v)).err();
        assert_eq!(
            e(&["blmpop", "x", "0", "l", "left"]),
            Some(err(TIMEOUT_NOT_FLOAT))
        );
        assert_eq!(
            e(&["blmpop", "0", "0", "l", "left"]),
            Some(err(errors::NUMKEYS))
        );
        assert_eq!(
            e(&["blmove", "a", "b", "up", "left", "0"]),
            Some(errors::syntax())
        );
        let ok = parse(&a(&["bzmpop", "1.5", "2", "a", "b", "MAX", "COUNT", "3"])).unwrap();
        assert_eq!(ok.keys.len(), 2);
        assert_eq!(ok.timeout, Some(Duration::from_millis(1500)));
        assert!(matches!(
            ok.op,
            PopOp::ZSet {
                max: true,
                count: Some(3)
            }
        ));
    }
}
