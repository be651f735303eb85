//! Lazy freeing: big values (and whole databases) are dropped on a thread
//! of their own, so deleting a key with millions of elements never stalls
//! its shard (UNLINK, FLUSHALL ASYNC, and DEL, eviction, expiry and
//! overwrites when the `lazyfree-lazy-*` settings say so).
//!
//! Values cross to that thread whole (they are `Send`); a value with at
//! most [`THRESHOLD`] elements is cheaper to free in place, as in Redis.
//! The shard counts what it handed over as freed at once
//! (`evict::Memory::handed_off`), since its allocator counter only drops
//! when the other thread frees it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crossbeam::channel::{unbounded, Receiver, Sender};

use super::store::{Db, Store};
use super::value::Value;

/// Values with more elements than this are freed off the shard (Redis's
/// LAZYFREE_THRESHOLD).
pub const THRESHOLD: usize = 64;

/// What the freeing thread drops.
pub enum Garbage {
    Value(Value),
    Db(Db),
}

/// Counters INFO reports (`lazyfree_pending_objects`, `lazyfreed_objects`).
#[derive(Default)]
pub struct Counters {
    pub pending: AtomicU64,
    pub freed: AtomicU64,
}

/// A shard's way to the freeing thread, with the settings that pick what
/// goes there.
#[derive(Clone)]
pub struct Freer {
    tx: Sender<Garbage>,
    pub counters: Arc<Counters>,
    /// `lazyfree-lazy-user-del`: DEL frees like UNLINK.
    pub user_del: bool,
    /// `lazyfree-lazy-server-del`: values replaced or deleted as a side
    /// effect (SET over a big list, RENAME onto a key …).
    pub server_del: bool,
    /// `lazyfree-lazy-expire`.
    pub expire: bool,
}

impl Freer {
    /// The channel to a freeing thread, which the caller runs with
    /// [`run`] on the receiver.
    pub fn new() -> (Freer, Receiver<Garbage>, Arc<Counters>) {
        let (tx, rx) = unbounded();
        let counters = Arc::new(Counters::default());
        let freer = Freer {
            tx,
            counters: counters.clone(),
            user_del: false,
            server_del: false,
            expire: false,
        };
        (freer, rx, counters)
    }

    fn send(&self, g: Garbage) -> Result<(), Garbage> {
        let n = g.objects();
        self.counters.pending.fetch_add(n, Ordering::Relaxed);
        self.tx.send(g).map_err(|e| {
            self.counters.pending.fetch_sub(n, Ordering::Relaxed);
            e.0
        })
    }
}

impl Garbage {
    /// What it counts for in `lazyfree_pending_objects` and
    /// `lazyfreed_objects`: a database counts its keys, as in Redis.
    fn objects(&self) -> u64 {
        match self {
            Garbage::Value(_) => 1,
            Garbage::Db(db) => db.len() as u64,
        }
    }
}

/// The freeing thread's loop: drops what arrives until every sender is
/// gone.
pub fn run(rx: Receiver<Garbage>, counters: Arc<Counters>) {
    while let Ok(g) = rx.recv() {
        let n = g.objects();
        drop(g);
        counters.pending.fetch_sub(n, Ordering::Relaxed);
        counters.freed.fetch_add(n, Ordering::Relaxed);
    }
}

impl Store {
    /// Frees `value` here, or on the freeing thread when `lazy` and the
    /// value is big enough for it to matter.
    pub fn dispose(&mut self, value: Value, lazy: bool) {
        if !lazy || value.free_effort() <= THRESHOLD {
            return;
        }
        let Some(freer) = &self.freer else {
            return;
        };
        let bytes = value.heap_bytes() as i64;
        if freer.send(Garbage::Value(value)).is_ok() {
            self.memory.handed_off += bytes;
        }
    }

    /// Empties database `db`; with `lazy`, its entries are freed on the
    /// freeing thread (FLUSHDB ASYNC) however few they are: one key may be
    /// a set of millions (Redis's emptyDbAsync has no threshold either).
    pub fn take_db(&mut self, db: usize, lazy: bool) {
        let old = std::mem::take(self.db(db));
        let bytes = old.mem() as i64;
        match &self.freer {
            Some(freer) if lazy && !old.is_empty() => {
                if freer.send(Garbage::Db(old)).is_ok() {
                    self.memory.handed_off += bytes;
                }
            }
            _ => drop(old),
        }
    }
}
