//! The blocking pops: BLPOP BRPOP BLMPOP BLMOVE BRPOPLPUSH BZPOPMIN
//! BZPOPMAX BZMPOP, and LMPOP and ZMPOP, which are the same pops without
//! the wait.
//!
//! A blocking pop first tries to pop as its non-blocking form would, as one
//! ordered operation over its keys. When every key is empty the same
//! operation registers the client on each shard owning one of its keys
//! (`keyspace::blocked`), so no push can slip between the check and the
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
use super::on_store;
use super::place::Split;
use super::session::Session;
use super::zset::{self, multi as zmulti};
use crate::keyspace::blocked::{Answer, Pop, Ticket, Waiter};
use crate::keyspace::locks::Claim;
use crate::keyspace::store::Store;
use crate::keyspace::value::Value;
use crate::keyspace::zset::ZSetValue;
use crate::resp::Reply;
use crate::runtime::{Out, Plan};
use crate::services::Shard;

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
    let secs = args::parse_float(arg).ok_or_else(|| err(errors::TIMEOUT_NOT_FLOAT))?;
    let ms = secs * 1000.0;
    if !(ms > -9.223_372_036_854_776e18 && ms < 9.223_372_036_854_776e18) {
        return Err(err(errors::TIMEOUT_NEGATIVE));
    }
    let ms = ms as i64;
    if ms < 0 {
        return Err(err(errors::TIMEOUT_NEGATIVE));
    }
    Ok((ms > 0).then(|| Duration::from_millis(ms as u64)))
}

/// BLPOP / BRPOP / BZPOPMIN / BZPOPMAX: `key [key ...] timeout`.
fn parse_keys_then_timeout(a: &[Bytes], op: PopOp) -> Result<Blocking, Reply> {
    let last = a.len() - 1;
    let timeout = parse_timeout(&a[last])?;
    Ok(Blocking {
        keys: a[1..last].to_vec(),
        op,
        timeout,
    })
}

/// BLMOVE / BRPOPLPUSH: `source destination [ends] timeout`.
fn parse_move(a: &[Bytes]) -> Result<Blocking, Reply> {
    let last = a.len() - 1;
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

/// BLMPOP / BZMPOP: `timeout numkeys key [key ...] <side> [COUNT count]`.
fn parse_timeout_then_mpop<W>(
    a: &[Bytes],
    side: fn(&[u8]) -> Result<W, Reply>,
    op: fn(W, usize) -> PopOp,
) -> Result<Blocking, Reply> {
    let timeout = parse_timeout(&a[1])?;
    // The pop's own arguments follow the timeout; its parser reads
    // numkeys at index 1.
    let p = parse_mpop(&a[1..], side)?;
    Ok(Blocking {
        keys: a[p.keys.start + 1..p.keys.end + 1].to_vec(),
        op: op(p.side, p.count),
        timeout,
    })
}

fn list_mpop(end: End, count: usize) -> PopOp {
    PopOp::List {
        end,
        count: Some(count),
    }
}

fn zset_mpop(max: bool, count: usize) -> PopOp {
    PopOp::ZSet {
        max,
        count: Some(count),
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

/// Serving a client blocked on this pop (see `keyspace::blocked`).
impl Pop for PopOp {
    fn probe(&self, st: &mut Store, db: usize, key: &[u8]) -> Option<bool> {
        probe(st, db, key, self)
    }

    fn take(&self, st: &mut Store, db: usize, key: &Bytes) -> Answer {
        match self {
            // The destination lives elsewhere: the client runs the move
            // itself, as a multi-shard LMOVE.
            PopOp::Move {
                dst_here: false, ..
            } => Answer::Retry,
            op => Answer::Reply(pop_here(st, db, key, op)),
        }
    }
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

/// What one try of a blocking pop came to.
enum Attempt {
    Done(Reply),
    /// Registered on every shard owning a key.
    Blocked,
}

/// What a shard reports in the first phase of a multi-shard try.
type Probes = Vec<Option<bool>>;

/// One try: pop from the first key (in argument order) that has a value,
/// or register the waiting client (`waiting`: its ticket on this core and
/// the decision point) on every shard of the keys; with `waiting` None
/// only the pop is tried. One ordered operation: a single step when
/// everything lives on one shard; else every involved shard is held while
/// it probes its keys (registering when they are all empty), and a second
/// step pops and releases them.
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
                pop: Box::new(op.clone()),
            };
            st.blocked.register(keys, w);
        }
    };
    // Per distinct shard, in first-seen order: its keys' indexes.
    let split = Split {
        keys: b
            .keys
            .iter()
            .enumerate()
            .map(|(i, k)| (i, sh.slots.shard_of(k)))
            .collect(),
    };
    let shares = split.shares();
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
        let mut plan = Plan::new(sh, s.parent);
        let out = plan.part(
            *shard,
            Claim::Keys(claim),
            on_store(db, move |st: &mut Store, db| {
                for key in &keys {
                    match probe(st, db, key, &op) {
                        None => continue,
                        Some(false) => return Some(errors::wrongtype()),
                        Some(true) => return Some(pop_here(st, db, key, &op)),
                    }
                }
                register(st, &keys, &op);
                None
            }),
        );
        plan.run().await;
        return match out.take() {
            Some(r) => Attempt::Done(r),
            None => Attempt::Blocked,
        };
    }
    let mut plan = Plan::new(sh, s.parent);
    let mut probes: Vec<Out<Probes>> = Vec::with_capacity(shares.len());
    for (shard, idxs) in &shares {
        let mine: Vec<Bytes> = idxs.iter().map(|&i| b.keys[i].clone()).collect();
        let (op, register) = (op.clone(), register.clone());
        let claim = Claim::Keys(mine.clone());
        probes.push(plan.part(
            *shard,
            claim,
            on_store(db, move |st: &mut Store, db| {
                let probes: Probes = mine.iter().map(|k| probe(st, db, k, &op)).collect();
                if probes.iter().all(Option::is_none) {
                    register(st, &mine, &op);
                }
                // A key with a value may have waiters a woken mover left
                // behind (see `Answer::Retry`): they are served after this
                // operation, whatever it decides.
                for (k, p) in mine.iter().zip(&probes) {
                    if *p == Some(true) {
                        st.blocked.signal(db, k);
                    }
                }
                probes
            }),
        ));
    }
    let dst_probe = dst_shard.as_ref().map(|(shard, dst)| {
        let d = dst.clone();
        plan.part(
            *shard,
            Claim::Keys(vec![dst.clone()]),
            on_store(db, move |st: &mut Store, db| list::probe(st, db, &d)),
        )
    });
    let mut txn = plan.hold().await;
    let mut kinds = vec![None; b.keys.len()];
    for ((_, idxs), probes) in shares.iter().zip(probes) {
        for (&i, kind) in idxs.iter().zip(probes.take()) {
            kinds[i] = kind;
        }
    }
    let dst_kind = dst_probe.and_then(Out::take);
    let Some(first) = kinds.iter().position(Option::is_some) else {
        txn.release();
        return Attempt::Blocked;
    };
    // Nobody can have served the registrations: every shard is held.
    if let Some((_, ticket)) = waiting {
        ticket.cancel();
    }
    if kinds[first] == Some(false) || dst_kind == Some(false) {
        txn.release();
        return Attempt::Done(errors::wrongtype());
    }
    let key = b.keys[first].clone();
    let shard = split.keys[first].1;
    match (&op, dst_shard) {
        (PopOp::Move { from, to, .. }, Some((dshard, dst))) => {
            let (from, to) = (*from, *to);
            let popped = txn.step(
                shard,
                on_store(db, move |st: &mut Store, db| {
                    list::pop_one(st, db, &key, from).ok().flatten()
                }),
            );
            txn.run().await;
            let Some(elem) = popped.take() else {
                txn.release();
                return Attempt::Done(Reply::Nil);
            };
            let pushed = elem.clone();
            txn.step(
                dshard,
                on_store(db, move |st: &mut Store, db| {
                    let _ = list::push_list(st, db, &dst, to, &[pushed], false);
                }),
            );
            txn.end().await;
            Attempt::Done(Reply::Bulk(elem))
        }
        (op, _) => {
            let op = op.clone();
            let reply = txn.step(
                shard,
                on_store(db, move |st: &mut Store, db| pop_here(st, db, &key, &op)),
            );
            txn.end().await;
            Attempt::Done(reply.take())
        }
    }
}

/// How a wait for a served reply ended.
pub(crate) enum Woken {
    Served(Answer),
    TimedOut,
    Gone,
    /// CLIENT UNBLOCK: with an error (true) or as a timeout.
    Unblocked(bool),
}

impl Woken {
    /// What a wait that ended unserved answers: `timeout`, or CLIENT
    /// UNBLOCK ERROR's error.
    pub(crate) fn unserved(&self, timeout: Reply) -> Reply {
        match self {
            Woken::Unblocked(true) => err(errors::UNBLOCKED_BY_CLIENT),
            _ => timeout,
        }
    }
}

/// Waits for a shard to serve the client (`served`), the deadline, CLIENT
/// UNBLOCK, or the client to go away (it hangs up, or CLIENT KILL shuts
/// its socket down).
pub(crate) async fn wait(
    s: &Session,
    served: &mut std::pin::Pin<&mut impl std::future::Future<Output = Answer>>,
    deadline: Option<Instant>,
) -> Woken {
    let fd = s.info.borrow().fd;
    let mut hangup = Box::pin(hangup(fd));
    s.info.borrow_mut().unblockable = true;
    let woken = loop {
        let now = Instant::now();
        if deadline.is_some_and(|d| d <= now) {
            break Woken::TimedOut;
        }
        // The tick only re-checks the kill flag, in case the peer had
        // already sent more commands (then `hangup` cannot see EOF).
        let tick = deadline.map_or(LIVENESS_TICK, |d| (d - now).min(LIVENESS_TICK));
        let timer = Box::pin(glommio::timer::sleep(tick));
        let unblocked = Unblocked(&s.info);
        match future::select(
            served.as_mut(),
            future::select(unblocked, future::select(timer, &mut hangup)),
        )
        .await
        {
            Either::Left((a, _)) => break Woken::Served(a),
            Either::Right((Either::Left((error, _)), _)) => break Woken::Unblocked(error),
            Either::Right((Either::Right((Either::Right(_), _)), _)) => break Woken::Gone,
            Either::Right((Either::Right((Either::Left(_), _)), _)) => {}
        }
        if s.info.borrow().killed {
            break Woken::Gone;
        }
    };
    let mut info = s.info.borrow_mut();
    info.unblockable = false;
    info.unblock = None;
    info.unblock_waker = None;
    woken
}

/// Completes when CLIENT UNBLOCK asks the client's blocked command to
/// end, with whether it asked for an error.
struct Unblocked<'a>(&'a std::cell::RefCell<crate::clients::ClientInfo>);

impl std::future::Future for Unblocked<'_> {
    type Output = bool;

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<bool> {
        let mut info = self.0.borrow_mut();
        match info.unblock.take() {
            Some(error) => std::task::Poll::Ready(error),
            None => {
                info.unblock_waker = Some(cx.waker().clone());
                std::task::Poll::Pending
            }
        }
    }
}

/// Marks the client blocked (or not) for CLIENT LIST, INFO and the idle
/// timeout.
pub(crate) fn set_blocked(sh: &Shard, s: &Session, blocked: bool) {
    s.info.borrow_mut().blocked = blocked;
    let mut stats = sh.host.stats.borrow_mut();
    if blocked {
        stats.blocked_clients += 1;
    } else {
        stats.blocked_clients -= 1;
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

/// The wait every blocking pop shares: try, else block on the keys until
/// served, the timeout or the client's departure.
async fn block_on(sh: &Rc<Shard>, s: &mut Session, b: Blocking) -> Reply {
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
        let reply = sh.open_ticket();
        let served = sh.served(reply);
        let mut served = std::pin::pin!(served);
        if let Attempt::Done(r) = attempt(sh, s, &b, Some((reply, &ticket))).await {
            return r;
        }
        set_blocked(sh, s, true);
        let answer = match wait(s, &mut served, deadline).await {
            Woken::Served(a) => Ok(a),
            w if ticket.cancel() => Err(w.unserved(timed_out())),
            // A shard serves us this very moment: its answer is on the
            // way and must not be lost.
            _ => Ok(served.await),
        };
        set_blocked(sh, s, false);
        match answer {
            Err(r) | Ok(Answer::Reply(r)) => return r,
            Ok(Answer::Retry) => continue,
        }
    }
}

/// BLPOP key [key ...] timeout
pub fn blpop<'a>(
    sh: &'a Rc<Shard>,
    s: &'a mut Session,
    a: Vec<Bytes>,
) -> LocalBoxFuture<'a, Reply> {
    let op = PopOp::List {
        end: End::Left,
        count: None,
    };
    Box::pin(async move { block_on(sh, s, tri!(parse_keys_then_timeout(&a, op))).await })
}

/// BRPOP key [key ...] timeout
pub fn brpop<'a>(
    sh: &'a Rc<Shard>,
    s: &'a mut Session,
    a: Vec<Bytes>,
) -> LocalBoxFuture<'a, Reply> {
    let op = PopOp::List {
        end: End::Right,
        count: None,
    };
    Box::pin(async move { block_on(sh, s, tri!(parse_keys_then_timeout(&a, op))).await })
}

/// BZPOPMIN key [key ...] timeout
pub fn bzpopmin<'a>(
    sh: &'a Rc<Shard>,
    s: &'a mut Session,
    a: Vec<Bytes>,
) -> LocalBoxFuture<'a, Reply> {
    let op = PopOp::ZSet {
        max: false,
        count: None,
    };
    Box::pin(async move { block_on(sh, s, tri!(parse_keys_then_timeout(&a, op))).await })
}

/// BZPOPMAX key [key ...] timeout
pub fn bzpopmax<'a>(
    sh: &'a Rc<Shard>,
    s: &'a mut Session,
    a: Vec<Bytes>,
) -> LocalBoxFuture<'a, Reply> {
    let op = PopOp::ZSet {
        max: true,
        count: None,
    };
    Box::pin(async move { block_on(sh, s, tri!(parse_keys_then_timeout(&a, op))).await })
}

/// BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout
pub fn blmove<'a>(
    sh: &'a Rc<Shard>,
    s: &'a mut Session,
    a: Vec<Bytes>,
) -> LocalBoxFuture<'a, Reply> {
    Box::pin(async move { block_on(sh, s, tri!(parse_move(&a))).await })
}

/// BRPOPLPUSH source destination timeout
pub fn brpoplpush<'a>(
    sh: &'a Rc<Shard>,
    s: &'a mut Session,
    a: Vec<Bytes>,
) -> LocalBoxFuture<'a, Reply> {
    Box::pin(async move { block_on(sh, s, tri!(parse_move(&a))).await })
}

/// BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]
pub fn blmpop<'a>(
    sh: &'a Rc<Shard>,
    s: &'a mut Session,
    a: Vec<Bytes>,
) -> LocalBoxFuture<'a, Reply> {
    Box::pin(async move {
        let b = tri!(parse_timeout_then_mpop(&a, list::parse_end, list_mpop));
        block_on(sh, s, b).await
    })
}

/// BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]
pub fn bzmpop<'a>(
    sh: &'a Rc<Shard>,
    s: &'a mut Session,
    a: Vec<Bytes>,
) -> LocalBoxFuture<'a, Reply> {
    Box::pin(async move {
        let b = tri!(parse_timeout_then_mpop(&a, parse_min_max, zset_mpop));
        block_on(sh, s, b).await
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
        mpop(sh, s, a[p.keys].to_vec(), list_mpop(p.side, p.count)).await
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
        mpop(sh, s, a[p.keys].to_vec(), zset_mpop(p.side, p.count)).await
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
        assert_eq!(
            parse_timeout(b"-1").unwrap_err(),
            err(errors::TIMEOUT_NEGATIVE)
        );
        assert_eq!(
            parse_timeout(b"inf").unwrap_err(),
            err(errors::TIMEOUT_NEGATIVE)
        );
        assert_eq!(
            parse_timeout(b"abc").unwrap_err(),
            err(errors::TIMEOUT_NOT_FLOAT)
        );
        assert_eq!(
            parse_timeout(b"9e15").unwrap(),
            Some(Duration::from_millis(9_000_000_000_000_000_000))
        );
    }

    #[test]
    fn arguments_are_checked_timeout_first() {
        let a = crate::command::test_args;
        let e = |v: &[&str]| parse_timeout_then_mpop(&a(v), list::parse_end, list_mpop).err();
        assert_eq!(
            e(&["blmpop", "x", "0", "l", "left"]),
            Some(err(errors::TIMEOUT_NOT_FLOAT))
        );
        assert_eq!(
            e(&["blmpop", "0", "0", "l", "left"]),
            Some(err(errors::NUMKEYS))
        );
        assert_eq!(
            parse_move(&a(&["blmove", "a", "b", "up", "left", "0"])).err(),
            Some(errors::syntax())
        );
        let ok = parse_timeout_then_mpop(
            &a(&["bzmpop", "1.5", "2", "a", "b", "MAX", "COUNT", "3"]),
            parse_min_max,
            zset_mpop,
        )
        .unwrap();
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
