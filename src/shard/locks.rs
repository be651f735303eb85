//! Key-level locks of multi-shard operations on one shard, and the order in
//! which waiting operations are granted.
//!
//! Touched only by the owning core. A multi-shard operation claims either a
//! set of keys (any database) or the whole shard. Intents arrive in the
//! sequencer's global order; an intent is granted as soon as its claim
//! conflicts neither with a current holder nor with an earlier intent still
//! waiting here. So conflicting operations are granted in global order on
//! every shard (an operation only ever waits for earlier ones: no deadlock),
//! while operations on disjoint keys proceed side by side. Single-shard
//! commands never hold locks; they wait only for keys currently held.

use std::collections::VecDeque;

use bytes::Bytes;
use hashbrown::{HashMap, HashSet};

/// What a multi-shard operation needs exclusive use of on one shard.
#[derive(Clone, Debug)]
pub enum Claim {
    Keys(Vec<Bytes>),
    Whole,
}

#[derive(Default)]
pub struct Locks {
    /// Held key → how many holders (the same key may be claimed twice by
    /// one operation).
    keys: HashMap<Bytes, u32>,
    whole: Option<u64>,
    held: HashMap<u64, Claim>,
}

impl Locks {
    pub fn is_empty(&self) -> bool {
        self.held.is_empty()
    }

    /// Does a holder keep a single-shard command off `key`?
    pub fn blocks(&self, key: &[u8]) -> bool {
        self.whole.is_some() || self.keys.contains_key(key)
    }

    pub fn blocks_everything(&self) -> bool {
        self.whole.is_some()
    }

    fn conflicts(&self, claim: &Claim) -> bool {
        match claim {
            Claim::Whole => !self.held.is_empty(),
            Claim::Keys(keys) => {
                self.whole.is_some() || keys.iter().any(|k| self.keys.contains_key(&k[..]))
            }
        }
    }

    fn acquire(&mut self, txid: u64, claim: Claim) {
        match &claim {
            Claim::Whole => self.whole = Some(txid),
            Claim::Keys(keys) => {
                for k in keys {
                    *self.keys.entry(k.clone()).or_default() += 1;
                }
            }
        }
        self.held.insert(txid, claim);
    }

    /// Drops what `txid` holds; false if it held nothing here.
    pub fn release(&mut self, txid: u64) -> bool {
        let Some(claim) = self.held.remove(&txid) else {
            return false;
        };
        match claim {
            Claim::Whole => self.whole = None,
            Claim::Keys(keys) => {
                for k in keys {
                    if let Some(n) = self.keys.get_mut(&k[..]) {
                        *n -= 1;
                        if *n == 0 {
                            self.keys.remove(&k[..]);
                        }
                    }
                }
            }
        }
        true
    }
}

/// An intent waiting for its grant.
pub struct Waiter<T> {
    pub txid: u64,
    pub claim: Claim,
    /// Keeps its claim after the grant, until released.
    pub holds: bool,
    pub item: T,
}

pub struct Waiting<T> {
    queue: VecDeque<Waiter<T>>,
}

impl<T> Default for Waiting<T> {
    fn default() -> Self {
        Waiting {
            queue: VecDeque::new(),
        }
    }
}

impl<T> Waiting<T> {
    pub fn push(&mut self, w: Waiter<T>) {
        self.queue.push_back(w);
    }

    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Removes and returns, in global order, every intent that can run now;
    /// holders among them take their locks.
    pub fn take_grantable(&mut self, locks: &mut Locks) -> Vec<(u64, T)> {
        let mut granted = Vec::new();
        let mut keep = VecDeque::with_capacity(self.queue.len());
        let mut claimed: HashSet<Bytes> = HashSet::new();
        let mut claimed_all = false;
        for w in self.queue.drain(..) {
            let earlier = claimed_all
                || match &w.claim {
                    Claim::Whole => !claimed.is_empty() || !keep.is_empty(),
                    Claim::Keys(keys) => keys.iter().any(|k| claimed.contains(&k[..])),
                };
            if earlier || locks.conflicts(&w.claim) {
                match &w.claim {
                    Claim::Whole => claimed_all = true,
                    Claim::Keys(keys) => claimed.extend(keys.iter().cloned()),
                }
                keep.push_back(w);
            } else {
                if w.holds {
                    locks.acquire(w.txid, w.claim);
                }
                granted.push((w.txid, w.item));
            }
        }
        self.queue = keep;
        granted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(k: &[&str]) -> Claim {
        Claim::Keys(
            k.iter()
                .map(|s| Bytes::copy_from_slice(s.as_bytes()))
                .collect(),
        )
    }

    fn w(txid: u64, claim: Claim, holds: bool) -> Waiter<u64> {
        Waiter {
            txid,
            claim,
            holds,
            item: txid,
        }
    }

    #[test]
    fn disjoint_operations_are_granted_together() {
        let mut locks = Locks::default();
        let mut q = Waiting::default();
        q.push(w(1, keys(&["a"]), true));
        q.push(w(2, keys(&["b"]), true));
        let g: Vec<u64> = q
            .take_grantable(&mut locks)
            .into_iter()
            .map(|g| g.1)
            .collect();
        assert_eq!(g, vec![1, 2]);
        assert!(locks.blocks(b"a") && locks.blocks(b"b") && !locks.blocks(b"c"));
    }

    #[test]
    fn conflicting_operations_wait_in_order() {
        let mut locks = Locks::default();
        let mut q = Waiting::default();
        q.push(w(1, keys(&["a"]), true));
        q.push(w(2, keys(&["a", "b"]), true));
        // 3 touches only b, but 2 (earlier, waiting) claims b: 3 must wait.
        q.push(w(3, keys(&["b"]), true));
        q.push(w(4, keys(&["c"]), false));
        let g: Vec<u64> = q
            .take_grantable(&mut locks)
            .into_iter()
            .map(|g| g.1)
            .collect();
        assert_eq!(g, vec![1, 4]);
        assert!(locks.release(1));
        let g: Vec<u64> = q
            .take_grantable(&mut locks)
            .into_iter()
            .map(|g| g.1)
            .collect();
        assert_eq!(g, vec![2]);
        locks.release(2);
        let g: Vec<u64> = q
            .take_grantable(&mut locks)
            .into_iter()
            .map(|g| g.1)
            .collect();
        assert_eq!(g, vec![3]);
    }

    #[test]
    fn whole_shard_claims_exclude_everything() {
        let mut locks = Locks::default();
        let mut q = Waiting::default();
        q.push(w(1, keys(&["a"]), true));
        q.push(w(2, Claim::Whole, true));
        q.push(w(3, keys(&["z"]), true));
        let g: Vec<u64> = q
            .take_grantable(&mut locks)
            .into_iter()
            .map(|g| g.1)
            .collect();
        assert_eq!(g, vec![1]);
        locks.release(1);
        let g: Vec<u64> = q
            .take_grantable(&mut locks)
            .into_iter()
            .map(|g| g.1)
            .collect();
        assert_eq!(g, vec![2]);
        assert!(locks.blocks(b"anything"));
        locks.release(2);
        let g: Vec<u64> = q
            .take_grantable(&mut locks)
            .into_iter()
            .map(|g| g.1)
            .collect();
        assert_eq!(g, vec![3]);
        assert!(q.is_empty());
    }

    #[test]
    fn readers_do_not_hold() {
        let mut locks = Locks::default();
        let mut q = Waiting::default();
        q.push(w(1, keys(&["a"]), false));
        q.push(w(2, keys(&["a"]), true));
        let g: Vec<u64> = q
            .take_grantable(&mut locks)
            .into_iter()
            .map(|g| g.1)
            .collect();
        assert_eq!(g, vec![1, 2]);
    }
}
