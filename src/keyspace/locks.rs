//! Key-level locks of multi-shard operations on one shard, granted in the
//! global order (VLL-style: a FIFO of claimants per key).
//!
//! Touched only by the owning core. A multi-shard operation claims either a
//! set of keys (in any database) or the whole shard. Intents arrive in the
//! sequencer's global order and join the queue of every key they claim; an
//! intent is granted once it heads all its queues and no earlier
//! whole-shard claim is alive. Conflicting operations are therefore granted
//! in global order on every shard — an operation only ever waits for earlier
//! ones, so there is no deadlock — while operations on disjoint keys run
//! side by side. Every step costs O(keys of the operation).
//!
//! A granted writer keeps heading its queues until released: single-shard
//! commands on those keys wait (`blocks`). Readers are released as soon as
//! their step has run. Single-shard commands never join queues.

use std::collections::{BTreeSet, VecDeque};

use bytes::Bytes;
use hashbrown::HashMap;

/// What a multi-shard operation needs exclusive use of on one shard.
#[derive(Clone, Debug)]
pub enum Claim {
    Keys(Vec<Bytes>),
    Whole,
}

struct Slot<T> {
    seq: u64,
    /// Deduplicated keys, or None for the whole shard.
    keys: Option<Vec<Bytes>>,
    /// Queues this intent does not head yet.
    blocked: usize,
    granted: bool,
    holds: bool,
    item: Option<T>,
}

/// The claimants of one key, in arrival order; almost always just one, kept
/// without an allocation.
enum Queue {
    One(u64),
    Many(VecDeque<u64>),
}

impl Queue {
    fn front(&self) -> Option<u64> {
        match self {
            Queue::One(t) => Some(*t),
            Queue::Many(q) => q.front().copied(),
        }
    }

    fn push(&mut self, txid: u64) {
        match self {
            Queue::One(t) => *self = Queue::Many(VecDeque::from([*t, txid])),
            Queue::Many(q) => q.push_back(txid),
        }
    }

    /// Removes `txid`; returns (was it the head, the new head).
    fn remove(&mut self, txid: u64) -> (bool, Option<u64>) {
        match self {
            Queue::One(t) => (*t == txid, None),
            Queue::Many(q) => {
                let was_head = q.front() == Some(&txid);
                q.retain(|t| *t != txid);
                (was_head, q.front().copied())
            }
        }
    }
}

pub struct Locks<T> {
    next_seq: u64,
    queues: HashMap<Bytes, Queue>,
    slots: HashMap<u64, Slot<T>>,
    /// (seq, txid) of intents heading all their queues but not granted
    /// because an earlier whole-shard claim is alive.
    ready: BTreeSet<(u64, u64)>,
    /// (seq, txid) of every alive intent, and of the whole-shard ones.
    alive: BTreeSet<(u64, u64)>,
    wholes: BTreeSet<(u64, u64)>,
    whole_held: bool,
    held: usize,
    /// Alive intents granted (holders, and readers whose step runs now).
    granted: usize,
}

impl<T> Default for Locks<T> {
    fn default() -> Self {
        Locks {
            next_seq: 0,
            queues: HashMap::new(),
            slots: HashMap::new(),
            ready: BTreeSet::new(),
            alive: BTreeSet::new(),
            wholes: BTreeSet::new(),
            whole_held: false,
            held: 0,
            granted: 0,
        }
    }
}

impl<T> Locks<T> {
    /// No granted writer holds anything: single-shard commands need no check.
    pub fn is_empty(&self) -> bool {
        self.held == 0
    }

    /// Does a granted writer keep single-shard commands off `key`?
    pub fn blocks(&self, key: &[u8]) -> bool {
        self.whole_held
            || self
                .queues
                .get(key)
                .and_then(Queue::front)
                .is_some_and(|t| self.slots.get(&t).is_some_and(|s| s.granted))
    }

    pub fn blocks_everything(&self) -> bool {
        self.whole_held
    }

    /// Intents queued here and not granted yet (a reader whose step is
    /// running, such as the all-shard read of a scrape, is not waiting).
    pub fn waiting(&self) -> usize {
        self.alive.len().saturating_sub(self.granted)
    }

    /// Is `txid` a granted writer that keeps its claim until released?
    pub fn holds(&self, txid: u64) -> bool {
        self.slots.get(&txid).is_some_and(|s| s.granted && s.holds)
    }

    /// Adds an intent (in global order) and returns what can run now.
    pub fn add(&mut self, txid: u64, claim: Claim, holds: bool, item: T) -> Vec<(u64, T)> {
        let seq = self.next_seq;
        self.next_seq += 1;
        let keys = match claim {
            Claim::Whole => {
                self.wholes.insert((seq, txid));
                None
            }
            Claim::Keys(mut keys) => {
                keys.sort_unstable();
                keys.dedup();
                Some(keys)
            }
        };
        let mut blocked = 0;
        for k in keys.iter().flatten() {
            match self.queues.get_mut(&k[..]) {
                Some(q) => {
                    blocked += 1;
                    q.push(txid);
                }
                None => {
                    self.queues.insert(k.clone(), Queue::One(txid));
                }
            }
        }
        if keys.is_some() && blocked == 0 {
            self.ready.insert((seq, txid));
        }
        self.alive.insert((seq, txid));
        self.slots.insert(
            txid,
            Slot {
                seq,
                keys,
                blocked,
                granted: false,
                holds,
                item: Some(item),
            },
        );
        self.grants()
    }

    /// Drops `txid`'s claim and returns what can run now.
    pub fn release(&mut self, txid: u64) -> Vec<(u64, T)> {
        let Some(slot) = self.slots.remove(&txid) else {
            return Vec::new();
        };
        self.alive.remove(&(slot.seq, txid));
        self.ready.remove(&(slot.seq, txid));
        if slot.granted {
            self.granted -= 1;
            if slot.holds {
                self.held -= 1;
            }
        }
        match slot.keys {
            None => {
                self.wholes.remove(&(slot.seq, txid));
                if slot.granted {
                    self.whole_held = false;
                }
            }
            Some(keys) => {
                for k in keys {
                    let Some(q) = self.queues.get_mut(&k[..]) else {
                        continue;
                    };
                    let (was_head, next) = q.remove(txid);
                    let Some(head) = next else {
                        self.queues.remove(&k[..]);
                        continue;
                    };
                    if was_head {
                        if let Some(h) = self.slots.get_mut(&head) {
                            h.blocked -= 1;
                            if h.blocked == 0 && !h.granted {
                                self.ready.insert((h.seq, head));
                            }
                        }
                    }
                }
            }
        }
        self.grants()
    }

    /// Grants, in order, every ready intent before the first alive
    /// whole-shard claim, then that claim if nothing alive precedes it.
    fn grants(&mut self) -> Vec<(u64, T)> {
        let mut out = Vec::new();
        let first_whole = self.wholes.first().copied();
        while let Some(&(seq, txid)) = self.ready.first() {
            if first_whole.is_some_and(|(w, _)| w < seq) {
                break;
            }
            self.ready.pop_first();
            out.extend(self.grant(txid));
        }
        if let Some((wseq, wtx)) = first_whole {
            let first_alive = self.alive.first().map(|a| a.0);
            if first_alive == Some(wseq) && !self.whole_held {
                if let Some(item) = self.grant(wtx) {
                    out.push(item);
                }
            }
        }
        out
    }

    fn grant(&mut self, txid: u64) -> Option<(u64, T)> {
        let slot = self.slots.get_mut(&txid)?;
        if slot.granted {
            return None;
        }
        slot.granted = true;
        self.granted += 1;
        if slot.holds {
            self.held += 1;
            if slot.keys.is_none() {
                self.whole_held = true;
            }
        }
        slot.item.take().map(|i| (txid, i))
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

    fn ids(g: Vec<(u64, u64)>) -> Vec<u64> {
        g.into_iter().map(|g| g.1).collect()
    }

    #[test]
    fn waiting_counts_only_intents_not_granted() {
        let mut l = Locks::default();
        // A whole-shard reader whose step runs now (an all-shard read).
        assert_eq!(ids(l.add(1, Claim::Whole, false, 1)), vec![1]);
        assert_eq!(l.waiting(), 0);
        assert!(ids(l.add(2, keys(&["a"]), true, 2)).is_empty());
        assert_eq!(l.waiting(), 1);
        assert_eq!(ids(l.release(1)), vec![2]);
        assert_eq!(l.waiting(), 0);
        assert!(ids(l.release(2)).is_empty());
        assert_eq!(l.waiting(), 0);
    }

    #[test]
    fn disjoint_operations_are_granted_together() {
        let mut l = Locks::default();
        assert_eq!(ids(l.add(1, keys(&["a"]), true, 1)), vec![1]);
        assert_eq!(ids(l.add(2, keys(&["b"]), true, 2)), vec![2]);
        assert!(l.blocks(b"a") && l.blocks(b"b") && !l.blocks(b"c"));
        assert!(ids(l.release(1)).is_empty());
        assert!(!l.blocks(b"a"));
    }

    #[test]
    fn conflicting_operations_wait_in_order() {
        let mut l = Locks::default();
        assert_eq!(ids(l.add(1, keys(&["a"]), true, 1)), vec![1]);
        assert!(ids(l.add(2, keys(&["a", "b"]), true, 2)).is_empty());
        // 3 touches only b, but 2 (earlier) queues on b first: 3 waits.
        assert!(ids(l.add(3, keys(&["b"]), true, 3)).is_empty());
        assert_eq!(ids(l.add(4, keys(&["c"]), false, 4)), vec![4]);
        assert!(
            !l.blocks(b"b"),
            "a waiting intent does not block single-shard commands"
        );
        assert_eq!(ids(l.release(1)), vec![2]);
        assert_eq!(ids(l.release(2)), vec![3]);
        assert_eq!(ids(l.release(3)), Vec::<u64>::new());
        assert!(l.is_empty());
    }

    #[test]
    fn whole_shard_claims_exclude_everything() {
        let mut l = Locks::default();
        assert_eq!(ids(l.add(1, keys(&["a"]), true, 1)), vec![1]);
        assert!(ids(l.add(2, Claim::Whole, true, 2)).is_empty());
        assert!(
            ids(l.add(3, keys(&["z"]), true, 3)).is_empty(),
            "later than a waiting whole claim"
        );
        assert_eq!(ids(l.release(1)), vec![2]);
        assert!(l.blocks(b"anything") && l.blocks_everything());
        assert_eq!(ids(l.release(2)), vec![3]);
        assert!(!l.blocks_everything());
    }

    #[test]
    fn duplicate_keys_in_one_claim_do_not_self_block() {
        let mut l = Locks::default();
        assert_eq!(ids(l.add(1, keys(&["a", "a", "b"]), true, 1)), vec![1]);
        l.release(1);
        assert!(l.is_empty() && !l.blocks(b"a"));
    }

    #[test]
    fn readers_released_at_once_let_writers_through() {
        let mut l = Locks::default();
        assert_eq!(ids(l.add(1, keys(&["a"]), false, 1)), vec![1]);
        assert!(ids(l.add(2, keys(&["a"]), true, 2)).is_empty());
        assert_eq!(ids(l.release(1)), vec![2]);
    }
}
