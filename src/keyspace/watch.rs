//! WATCH: which connections watch which keys of this shard.
//!
//! A watching connection owns one [`WatchFlag`] for the keys it watches on
//! every shard. Any change to a watched key (`Store::notify`, which every
//! modification goes through, as Redis's `signalModifiedKey`) sets the
//! flag, from whatever core; EXEC reads it once the transaction's keys and
//! the watched keys are claimed. UNWATCH only marks the flag dead; shards
//! drop dead registrations when they next touch the key or sweep.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use hashbrown::HashMap;

#[derive(Default, Debug)]
pub struct WatchFlag {
    dirty: AtomicBool,
    dead: AtomicBool,
}

impl WatchFlag {
    pub fn is_dirty(&self) -> bool {
        self.dirty.load(Ordering::Acquire)
    }

    /// UNWATCH, EXEC, DISCARD or the connection closing.
    pub fn kill(&self) {
        self.dead.store(true, Ordering::Relaxed);
    }

    fn is_dead(&self) -> bool {
        self.dead.load(Ordering::Relaxed)
    }
}

struct Watcher {
    flag: Arc<WatchFlag>,
    /// The key was already expired (logically absent) when watched: its
    /// deletion on expiry is no change, as in Redis.
    stale: bool,
}

#[derive(Default)]
pub struct Watches {
    keys: HashMap<(usize, Bytes), Vec<Watcher>>,
}

impl Watches {
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn add(&mut self, db: usize, key: Bytes, flag: Arc<WatchFlag>, stale: bool) {
        self.keys
            .entry((db, key))
            .or_default()
            .push(Watcher { flag, stale });
    }

    /// `key` changed (`expired`: it was deleted because it expired).
    pub fn touch(&mut self, db: usize, key: &[u8], expired: bool) {
        let k = (db, Bytes::copy_from_slice(key));
        let Some(list) = self.keys.get_mut(&k) else {
            return;
        };
        list.retain(|w| !w.flag.is_dead());
        for w in list.iter_mut() {
            if expired && w.stale {
                w.stale = false;
            } else {
                w.flag.dirty.store(true, Ordering::Release);
            }
        }
        if list.is_empty() {
            self.keys.remove(&k);
        }
    }

    /// FLUSHDB / FLUSHALL / SWAPDB: every watched key of `db` for which
    /// `existed` says it held a value is changed.
    pub fn touch_db(&mut self, db: usize, existed: impl Fn(&[u8]) -> bool) {
        for ((d, key), list) in self.keys.iter_mut() {
            if *d == db && existed(key) {
                for w in list.iter() {
                    w.flag.dirty.store(true, Ordering::Release);
                }
            }
        }
    }

    /// Drops registrations of connections that stopped watching.
    pub fn sweep(&mut self) {
        self.keys.retain(|_, list| {
            list.retain(|w| !w.flag.is_dead());
            !list.is_empty()
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_dirties_every_live_watcher_of_the_key() {
        let mut w = Watches::default();
        let (a, b) = (
            Arc::new(WatchFlag::default()),
            Arc::new(WatchFlag::default()),
        );
        w.add(0, Bytes::from_static(b"k"), a.clone(), false);
        w.add(0, Bytes::from_static(b"k"), b.clone(), false);
        w.touch(1, b"k", false);
        w.touch(0, b"other", false);
        assert!(!a.is_dirty() && !b.is_dirty());
        b.kill();
        w.touch(0, b"k", false);
        assert!(a.is_dirty() && !b.is_dirty());
        a.kill();
        w.sweep();
        assert!(w.is_empty());
    }

    #[test]
    fn expiry_of_a_key_stale_when_watched_is_no_change() {
        let mut w = Watches::default();
        let f = Arc::new(WatchFlag::default());
        w.add(0, Bytes::from_static(b"k"), f.clone(), true);
        w.touch(0, b"k", true);
        assert!(!f.is_dirty());
        w.touch(0, b"k", false);
        assert!(f.is_dirty());
    }
}
