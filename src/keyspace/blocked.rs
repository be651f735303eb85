//! Clients blocked on keys (BLPOP, BLMOVE, BZPOPMIN …): this shard's share
//! of the registry, and serving them when a key they wait on gets a value.
//!
//! A blocked command is registered on every shard owning one of its keys,
//! under each such key, behind the commands that blocked earlier (Redis
//! serves the longest-waiting client first). All its registrations and
//! its connection share one [`Ticket`]: whoever moves it from `WAITING`
//! first decides — a shard serving it, or the connection giving up on a
//! timeout or a disconnect. So an element is taken for a client at most
//! once, and never after it stopped waiting. Registrations that lost are
//! dropped when met, and swept by the shard's cron.
//!
//! Any write that stores a value under a key with waiters marks the key
//! ready ([`Blocked::signal`], called from `Store::insert`). The shard
//! serves ready keys after the command that made them ready, before the
//! next one, as Redis does — but not while a multi-shard operation holds
//! the key: its waiters are served when it is released, so they never see
//! a half-applied operation.

use std::collections::{HashMap, VecDeque};
use std::rc::Rc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use bytes::Bytes;

use super::slot::ShardId;
use super::store::Store;
use crate::resp::{Proto, Reply};

const WAITING: u8 = 0;
const SERVED: u8 = 1;
const CANCELLED: u8 = 2;

/// The decision point shared by a blocked command's registrations.
#[derive(Clone, Default)]
pub struct Ticket(Arc<AtomicU8>);

impl Ticket {
    pub fn waiting(&self) -> bool {
        self.0.load(Ordering::Acquire) == WAITING
    }

    /// A shard claims the client for an element; false if it is gone.
    pub fn serve(&self) -> bool {
        self.decide(SERVED)
    }

    /// The client stops waiting; false if a shard already serves it.
    pub fn cancel(&self) -> bool {
        self.decide(CANCELLED)
    }

    fn decide(&self, to: u8) -> bool {
        self.0
            .compare_exchange(WAITING, to, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }
}

/// What a blocked command takes once one of its keys has a value; the
/// command layer implements it for each kind of blocking pop.
pub trait Pop {
    /// Whether `key` holds nothing (None), a value this pop takes
    /// (Some(true)) or another type (Some(false)).
    fn probe(&self, st: &mut Store, db: usize, key: &[u8]) -> Option<bool>;
    /// Takes for the client from `key`, which holds a value it pops.
    fn take(&self, st: &mut Store, db: usize, key: &Bytes) -> Answer;
}

/// What a served client is told.
pub enum Answer {
    /// Its reply.
    Reply(Reply),
    /// Run the command again: it needs more than this shard (a move to a
    /// destination on another shard).
    Retry,
}

/// One blocked command's registration on this shard.
pub struct Waiter {
    /// The connection's core and the ticket it waits on there.
    pub origin: ShardId,
    pub reply: u64,
    pub ticket: Ticket,
    pub db: usize,
    pub proto: Proto,
    pub pop: Box<dyn Pop>,
}

/// What serving one waiter of a key did.
enum Served {
    /// The key is gone (emptied): everyone left stays blocked.
    No,
    /// The key holds a type this waiter does not pop: it stays blocked,
    /// the waiters behind it get their chance.
    Skip,
    /// The waiter was no longer waiting: drop it.
    Gone,
    /// Answered: send the answer to the waiter's core.
    Reply(Answer),
    /// Answered, and the rest of the key's waiters must wait until the
    /// answered client has finished (it re-signals the key).
    Last(Answer),
}

/// Serves waiter `w` from `key`, which just became ready on this shard.
fn serve(st: &mut Store, w: &Waiter, key: &Bytes) -> Served {
    if !w.ticket.waiting() {
        return Served::Gone;
    }
    match w.pop.probe(st, w.db, key) {
        None => return Served::No,
        Some(false) => return Served::Skip,
        Some(true) => {}
    }
    if !w.ticket.serve() {
        return Served::Gone;
    }
    match w.pop.take(st, w.db, key) {
        Answer::Retry => Served::Last(Answer::Retry),
        answer => Served::Reply(answer),
    }
}

/// Waiters by database and key, and the keys made ready since the last
/// serve.
#[derive(Default)]
pub struct Blocked {
    dbs: Vec<HashMap<Bytes, VecDeque<Rc<Waiter>>>>,
    ready: VecDeque<(usize, Bytes)>,
    waiters: usize,
}

impl Blocked {
    /// True when nobody waits on this shard (the fast path of every write).
    pub fn is_empty(&self) -> bool {
        self.waiters == 0
    }

    pub fn has_ready(&self) -> bool {
        !self.ready.is_empty()
    }

    /// Queues `w` behind earlier waiters of each key.
    pub fn register(&mut self, keys: &[Bytes], w: Waiter) {
        let w = Rc::new(w);
        if self.dbs.len() <= w.db {
            self.dbs.resize_with(w.db + 1, HashMap::new);
        }
        for key in keys {
            self.dbs[w.db]
                .entry(key.clone())
                .or_default()
                .push_back(w.clone());
            self.waiters += 1;
        }
    }

    /// A value was stored under `key`: its waiters get a chance.
    pub fn signal(&mut self, db: usize, key: &[u8]) {
        if let Some((k, _)) = self.dbs.get(db).and_then(|m| m.get_key_value(key)) {
            let k = k.clone();
            if !self.ready.iter().any(|(d, r)| *d == db && *r == k) {
                self.ready.push_back((db, k));
            }
        }
    }

    /// Every key with waiters in `db` is ready (after SWAPDB).
    pub fn signal_db(&mut self, db: usize) {
        let keys: Vec<Bytes> = self
            .dbs
            .get(db)
            .map_or(Vec::new(), |m| m.keys().cloned().collect());
        for k in keys {
            self.signal(db, &k);
        }
    }

    /// Drops registrations whose command stopped waiting.
    pub fn sweep(&mut self) {
        let mut left = 0;
        for m in &mut self.dbs {
            m.retain(|_, q| {
                q.retain(|w| w.ticket.waiting());
                left += q.len();
                !q.is_empty()
            });
        }
        self.waiters = left;
    }
}

/// Serves the waiters of every ready key that `held` does not exclude, in
/// the order the keys became ready, each key's waiters first come first
/// served while the key has a value. Returns the answers to send.
pub fn serve_ready(st: &mut Store, held: impl Fn(&[u8]) -> bool) -> Vec<(ShardId, u64, Answer)> {
    let mut out = Vec::new();
    let mut deferred = Vec::new();
    while let Some((db, key)) = st.blocked.ready.pop_front() {
        if held(&key) {
            deferred.push((db, key));
            continue;
        }
        let Some(mut queue) = st.blocked.dbs[db].remove(&key) else {
            continue;
        };
        let before = queue.len();
        let mut i = 0;
        while let Some(w) = queue.get(i).cloned() {
            match serve(st, &w, &key) {
                Served::No => break,
                Served::Skip => i += 1,
                Served::Gone => {
                    queue.remove(i);
                }
                Served::Reply(p) => {
                    queue.remove(i);
                    out.push((w.origin, w.reply, p));
                }
                Served::Last(p) => {
                    queue.remove(i);
                    out.push((w.origin, w.reply, p));
                    break;
                }
            }
        }
        st.blocked.waiters -= before - queue.len();
        if !queue.is_empty() {
            st.blocked.dbs[db].insert(key, queue);
        }
    }
    st.blocked.ready.extend(deferred);
    out
}
