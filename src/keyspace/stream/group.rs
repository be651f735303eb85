//! A consumer group of a stream: its last-delivered ID, its read counter,
//! its pending entries list (PEL) and its consumers, as Redis 7.0 keeps
//! them (`streamCG`, `streamConsumer`, `streamNACK`).
//!
//! Every pending entry is in the group's PEL with its delivery time, its
//! delivery count and its owner, and in its owner's own PEL; the methods
//! here keep the two in step. Groups and consumers live in maps ordered by
//! name bytes, the order Redis's radix trees give XINFO and XPENDING.
//! Every change goes through a method, which also keeps the memory
//! estimate (`heap_bytes`) true. Pure data, touched only by the owning
//! shard's core.

use std::collections::{BTreeMap, BTreeSet};

use super::id::StreamId;
use crate::keyspace::compact::CompactBytes;
use crate::keyspace::value::alloc_size;

/// A pending entry: delivered to `consumer`, not yet acknowledged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Nack {
    /// Unix milliseconds of the last delivery.
    pub delivery_time: u64,
    pub delivery_count: u64,
    pub consumer: CompactBytes,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Consumer {
    /// Unix milliseconds of the consumer's last read or claim.
    pub seen_time: u64,
    pel: BTreeSet<StreamId>,
}

impl Consumer {
    /// IDs pending for this consumer, in order.
    pub fn pending(&self) -> &BTreeSet<StreamId> {
        &self.pel
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    /// The last ID delivered to the group (`>` reads after it).
    pub last_id: StreamId,
    /// The group's logical read counter; None when unknown (Redis's -1).
    pub entries_read: Option<i64>,
    pel: BTreeMap<StreamId, Nack>,
    consumers: BTreeMap<Box<[u8]>, Consumer>,
    mem: usize,
}

/// Estimated bytes of one element of a B-tree map: the key and value with
/// the tree's spare slots (nodes run about two thirds full).
const fn tree_slot(bytes: usize) -> usize {
    bytes * 3 / 2
}

const NACK_BYTES: usize = tree_slot(std::mem::size_of::<(StreamId, Nack)>());
const ID_BYTES: usize = tree_slot(std::mem::size_of::<StreamId>());

fn consumer_bytes(name: &[u8]) -> usize {
    tree_slot(std::mem::size_of::<(Box<[u8]>, Consumer)>()) + alloc_size(name.len())
}

impl Group {
    pub fn new(last_id: StreamId, entries_read: Option<i64>) -> Group {
        Group {
            last_id,
            entries_read,
            pel: BTreeMap::new(),
            consumers: BTreeMap::new(),
            mem: 0,
        }
    }

    /// Heap bytes of the PELs and consumers.
    pub fn heap_bytes(&self) -> usize {
        self.mem
    }

    pub fn pel(&self) -> &BTreeMap<StreamId, Nack> {
        &self.pel
    }

    pub fn consumers(&self) -> impl ExactSizeIterator<Item = (&[u8], &Consumer)> {
        self.consumers.iter().map(|(n, c)| (&**n, c))
    }

    pub fn consumer(&self, name: &[u8]) -> Option<&Consumer> {
        self.consumers.get(name)
    }

    /// Creates consumer `name`, seen now; false if it exists.
    pub fn create_consumer(&mut self, name: &[u8], now: u64) -> bool {
        if self.consumers.contains_key(name) {
            return false;
        }
        self.consumers.insert(
            name.into(),
            Consumer {
                seen_time: now,
                pel: BTreeSet::new(),
            },
        );
        self.mem += consumer_bytes(name);
        true
    }

    /// Marks consumer `name` seen now (`streamLookupConsumer` without
    /// SLC_NO_REFRESH); false if there is no such consumer.
    pub fn touch(&mut self, name: &[u8], now: u64) -> bool {
        match self.consumers.get_mut(name) {
            Some(c) => {
                c.seen_time = now;
                true
            }
            None => false,
        }
    }

    /// Deletes consumer `name` with its pending entries; the number of
    /// entries it had pending, None if there is no such consumer.
    pub fn delete_consumer(&mut self, name: &[u8]) -> Option<usize> {
        let c = self.consumers.remove(name)?;
        for id in &c.pel {
            self.pel.remove(id);
        }
        self.mem -= consumer_bytes(name) + c.pel.len() * (NACK_BYTES + ID_BYTES);
        Some(c.pel.len())
    }

    /// Acknowledges `id`; false if it was not pending.
    pub fn ack(&mut self, id: StreamId) -> bool {
        let Some(nack) = self.pel.remove(&id) else {
            return false;
        };
        if let Some(c) = self.consumers.get_mut(&*nack.consumer) {
            c.pel.remove(&id);
        }
        self.mem -= NACK_BYTES + ID_BYTES;
        true
    }

    /// Records that `id` was delivered to `consumer` (which exists) by a
    /// group read: a new pending entry, or one taken over from whoever had
    /// it with its count reset to 1, as `streamReplyWithRange` does.
    pub fn deliver(&mut self, id: StreamId, consumer: &[u8], now: u64) {
        match self.pel.get_mut(&id) {
            Some(nack) => {
                if let Some(old) = self.consumers.get_mut(&*nack.consumer) {
                    old.pel.remove(&id);
                }
                nack.consumer = CompactBytes::new(consumer);
                nack.delivery_time = now;
                nack.delivery_count = 1;
            }
            None => {
                self.pel.insert(
                    id,
                    Nack {
                        delivery_time: now,
                        delivery_count: 1,
                        consumer: CompactBytes::new(consumer),
                    },
                );
                self.mem += NACK_BYTES + ID_BYTES;
            }
        }
        if let Some(c) = self.consumers.get_mut(consumer) {
            c.pel.insert(id);
        }
    }

    /// Marks pending entry `id` delivered again now (a consumer re-reading
    /// its history); false if it is not pending.
    pub fn redeliver(&mut self, id: StreamId, now: u64) -> bool {
        match self.pel.get_mut(&id) {
            Some(nack) => {
                nack.delivery_time = now;
                nack.delivery_count += 1;
                true
            }
            None => false,
        }
    }

    /// Gives pending entry `id` to `consumer` (which exists), delivered at
    /// `time`, its count set to `retry` or incremented unless `justid`
    /// (XCLAIM, XAUTOCLAIM). With `force`, an entry not pending becomes
    /// pending; without, false when `id` is not pending.
    pub fn claim(
        &mut self,
        id: StreamId,
        consumer: &[u8],
        time: u64,
        retry: Option<u64>,
        justid: bool,
        force: bool,
    ) -> bool {
        let nack = match self.pel.get_mut(&id) {
            Some(nack) => {
                if &*nack.consumer != consumer {
                    if let Some(old) = self.consumers.get_mut(&*nack.consumer) {
                        old.pel.remove(&id);
                    }
                    nack.consumer = CompactBytes::new(consumer);
                }
                nack
            }
            None if force => {
                self.mem += NACK_BYTES + ID_BYTES;
                // Redis creates a forced entry delivered once, then counts
                // the claim too: FORCE alone answers count 2.
                self.pel.entry(id).or_insert(Nack {
                    delivery_time: time,
                    delivery_count: 1,
                    consumer: CompactBytes::new(consumer),
                })
            }
            None => return false,
        };
        nack.delivery_time = time;
        match retry {
            Some(n) => nack.delivery_count = n,
            None if !justid => nack.delivery_count += 1,
            None => {}
        }
        if let Some(c) = self.consumers.get_mut(consumer) {
            c.pel.insert(id);
        }
        true
    }

    /// Forgets pending entry `id` (its stream entry is gone); false if it
    /// was not pending.
    pub fn drop_pending(&mut self, id: StreamId) -> bool {
        self.ack(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(ms: u64) -> StreamId {
        StreamId::new(ms, 0)
    }

    /// Every group PEL entry is in its owner's PEL and nowhere else.
    fn check(g: &Group) {
        let mut owned = 0;
        for (name, c) in g.consumers() {
            for i in c.pending() {
                assert_eq!(&*g.pel()[i].consumer, name);
                owned += 1;
            }
        }
        assert_eq!(owned, g.pel().len());
        let expected = g.consumers().map(|(n, _)| consumer_bytes(n)).sum::<usize>()
            + g.pel().len() * (NACK_BYTES + ID_BYTES);
        assert_eq!(g.heap_bytes(), expected);
    }

    #[test]
    fn deliveries_claims_and_acks_keep_both_pels_in_step() {
        let mut g = Group::new(StreamId::MIN, Some(0));
        assert!(g.create_consumer(b"alice", 10));
        assert!(!g.create_consumer(b"alice", 11));
        assert!(g.create_consumer(b"bob", 12));
        for ms in 1..=4 {
            g.deliver(id(ms), b"alice", 100);
        }
        check(&g);
        g.deliver(id(2), b"bob", 200);
        assert_eq!(
            g.pel()[&id(2)].delivery_count,
            1,
            "a re-read resets the count"
        );
        assert!(g.redeliver(id(1), 300));
        assert_eq!(g.pel()[&id(1)].delivery_count, 2);
        assert!(g.claim(id(3), b"bob", 400, None, false, false));
        assert_eq!(g.pel()[&id(3)].delivery_count, 2);
        assert!(g.claim(id(4), b"bob", 400, None, true, false));
        assert_eq!(g.pel()[&id(4)].delivery_count, 1, "JUSTID keeps the count");
        assert!(g.claim(id(1), b"bob", 400, Some(7), false, false));
        assert_eq!(g.pel()[&id(1)].delivery_count, 7);
        assert!(!g.claim(id(9), b"bob", 400, None, false, false));
        assert!(g.claim(id(9), b"bob", 400, None, false, true));
        assert_eq!(g.pel()[&id(9)].delivery_count, 2);
        check(&g);
        assert_eq!(g.consumer(b"alice").unwrap().pending().len(), 0);
        assert!(g.ack(id(2)));
        assert!(!g.ack(id(2)));
        check(&g);
        assert_eq!(g.delete_consumer(b"bob"), Some(4));
        assert_eq!(g.delete_consumer(b"bob"), None);
        assert!(g.pel().is_empty());
        check(&g);
        assert!(g.touch(b"alice", 999));
        assert_eq!(g.consumer(b"alice").unwrap().seen_time, 999);
        assert!(!g.touch(b"carol", 999));
        assert_eq!(g.delete_consumer(b"alice"), Some(0));
        assert_eq!(g.heap_bytes(), 0);
    }
}
