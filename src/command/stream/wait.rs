//! XREAD and XREADGROUP with BLOCK: read what is there, else wait for it.
//!
//! One multi-shard operation claims every named stream: each stream's
//! shard resolves and checks it (`$` becomes the stream's last ID now),
//! then, still holding the claims, the streams are served. When none gave
//! anything, the same operation registers the client on every stream's
//! shard (`keyspace::blocked`) before it releases, so no XADD can slip in
//! between the check and the registration. The client then waits for a
//! shard to serve it (`read::serve_blocked`: `[[key, entries]]`, UNBLOCKED
//! or NOGROUP), its timeout (a null array) or its departure, as the
//! blocking pops do (`command::blocking`).

use std::rc::Rc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::future::LocalBoxFuture;

use super::read::{self, ReadArgs, StreamWait, BLOCKED_DEFAULT_COUNT};
use crate::command::args::eq;
use crate::command::blocking::{self, Woken};
use crate::command::on_store;
use crate::command::session::Session;
use crate::keyspace::blocked::{Answer, Pop, Ticket, Waiter};
use crate::keyspace::locks::Claim;
use crate::keyspace::slot::ShardId;
use crate::keyspace::store::Store;
use crate::keyspace::stream::StreamId;
use crate::resp::Reply;
use crate::runtime::{Out, Plan};
use crate::services::Shard;

/// A reader blocked on one stream.
struct StreamPop(StreamWait);

impl Pop for StreamPop {
    fn probe(&self, st: &mut Store, db: usize, key: &[u8]) -> Option<bool> {
        Some(read::blocked_ready(st, db, key, &self.0))
    }

    fn take(&self, st: &mut Store, db: usize, key: &Bytes) -> Answer {
        match read::serve_blocked(st, db, key, &self.0) {
            Some(reply) => Answer::Reply(reply),
            // Nothing after all: the client tries again.
            None => Answer::Retry,
        }
    }
}

/// XREAD [COUNT count] BLOCK milliseconds STREAMS key [key ...] id [id ...]
/// and XREADGROUP GROUP group consumer [COUNT count] BLOCK milliseconds
/// [NOACK] STREAMS key [key ...] id [id ...], outside MULTI and scripts.
pub fn xread<'a>(
    sh: &'a Rc<Shard>,
    s: &'a mut Session,
    a: Vec<Bytes>,
) -> LocalBoxFuture<'a, Reply> {
    Box::pin(async move {
        let r = tri!(read::parse(&a, eq(&a[0], "xreadgroup")));
        let deadline = match r.block {
            Some(ms) if ms > 0 => Instant::now().checked_add(Duration::from_millis(ms)),
            _ => None,
        };
        loop {
            let ticket = Ticket::default();
            let reply = sh.open_ticket();
            let served = sh.served(reply);
            let mut served = std::pin::pin!(served);
            if let Some(r) = attempt(sh, s, &a, &r, reply, &ticket).await {
                return r;
            }
            blocking::set_blocked(sh, s, true);
            let answer = match blocking::wait(s, &mut served, deadline).await {
                Woken::Served(a) => Ok(a),
                w if ticket.cancel() => Err(w.unserved(Reply::NilArray)),
                // A shard serves us this very moment: take its answer.
                _ => Ok(served.await),
            };
            blocking::set_blocked(sh, s, false);
            match answer {
                Err(r) | Ok(Answer::Reply(r)) => return r,
                Ok(Answer::Retry) => continue,
            }
        }
    })
}

/// One try: the reply when a stream could be served (or a check failed),
/// None once the client is registered on every stream's shard.
async fn attempt(
    sh: &Rc<Shard>,
    s: &Session,
    a: &[Bytes],
    r: &ReadArgs,
    reply: u64,
    ticket: &Ticket,
) -> Option<Reply> {
    let db = s.db;
    let keys = r.keys(a).to_vec();
    let ids = r.ids(a).to_vec();
    // Per shard, in first-seen order: the indexes of its streams.
    let mut shares: Vec<(ShardId, Vec<usize>)> = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        let shard = sh.slots.shard_of(key);
        match shares.iter_mut().find(|(s, _)| *s == shard) {
            Some((_, v)) => v.push(i),
            None => shares.push((shard, vec![i])),
        }
    }
    type Resolved = Vec<Result<StreamId, Reply>>;
    let mut plan = Plan::new(sh, s.parent);
    let checks: Vec<Out<Resolved>> = shares
        .iter()
        .map(|(shard, idxs)| {
            let mine: Vec<(Bytes, Bytes)> = idxs
                .iter()
                .map(|&i| (keys[i].clone(), ids[i].clone()))
                .collect();
            let claim = Claim::Keys(mine.iter().map(|(k, _)| k.clone()).collect());
            let r = r.clone();
            plan.part(
                *shard,
                claim,
                on_store(db, move |st, db| {
                    mine.iter()
                        .map(|(k, id)| read::resolve(st, db, k, id, &r))
                        .collect()
                }),
            )
        })
        .collect();
    let mut txn = plan.hold().await;
    let mut afters: Vec<StreamId> = vec![StreamId::MIN; keys.len()];
    for ((_, idxs), out) in shares.iter().zip(checks) {
        for (&i, resolved) in idxs.iter().zip(out.take()) {
            match resolved {
                Ok(after) => afters[i] = after,
                Err(e) => {
                    txn.release();
                    return Some(e);
                }
            }
        }
    }
    // Serve what can be served, every stream still claimed.
    let outs: Vec<Out<Vec<Option<Reply>>>> = shares
        .iter()
        .map(|(shard, idxs)| {
            let mine: Vec<(Bytes, StreamId)> =
                idxs.iter().map(|&i| (keys[i].clone(), afters[i])).collect();
            let r = r.clone();
            txn.step(
                *shard,
                on_store(db, move |st, db| {
                    mine.iter()
                        .map(|(k, after)| read::serve(st, db, k, *after, &r))
                        .collect()
                }),
            )
        })
        .collect();
    txn.run().await;
    let mut served: Vec<Option<Reply>> = vec![None; keys.len()];
    for ((_, idxs), out) in shares.iter().zip(outs) {
        for (&i, v) in idxs.iter().zip(out.take()) {
            served[i] = v;
        }
    }
    if served.iter().any(Option::is_some) {
        txn.release();
        let served = keys
            .into_iter()
            .zip(served)
            .filter_map(|(key, entries)| entries.map(|e| (Reply::Bulk(key), e)))
            .collect();
        return Some(read::finish(served));
    }
    // Nothing yet: wait on every stream.
    let (origin, proto) = (sh.id, s.proto);
    for (shard, idxs) in &shares {
        let mine: Vec<(Bytes, StreamWait)> = idxs
            .iter()
            .map(|&i| {
                let wait = StreamWait {
                    after: afters[i],
                    group: r.group.clone(),
                    noack: r.noack,
                    count: if r.count == 0 {
                        BLOCKED_DEFAULT_COUNT
                    } else {
                        r.count
                    },
                };
                (keys[i].clone(), wait)
            })
            .collect();
        let ticket = ticket.clone();
        txn.step(
            *shard,
            on_store(db, move |st, db| {
                for (key, wait) in mine {
                    let w = Waiter {
                        origin,
                        reply,
                        ticket: ticket.clone(),
                        db,
                        proto,
                        pop: Box::new(StreamPop(wait)),
                    };
                    st.blocked.register(&[key], w);
                }
            }),
        );
    }
    txn.end().await;
    None
}
