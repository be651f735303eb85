//! The global order of multi-shard operations.
//!
//! Under one mutex (the only lock on any request path, and only for
//! multi-shard work) an operation appends an [`Intent`] to the intent
//! queue of every shard it touches. Every shard therefore sees multi-shard
//! operations in one global order and grants them one at a time in that
//! order wherever they conflict, so two of them never interleave and
//! cannot deadlock (see `keyspace::locks` for the grant rules and `txn` for
//! the grant / hold / release protocol).

use std::sync::Mutex;

use crossbeam::queue::SegQueue;

use super::op::RemoteOp;
use super::TxId;
use crate::keyspace::locks::Claim;
use crate::keyspace::slot::ShardId;

/// A multi-shard operation's claim on one shard: once the claim is granted
/// the shard runs `op` and answers `ticket` on the coordinator `origin`,
/// then either drops the claim (`release`) or keeps it until the
/// operation's release.
pub struct Intent<H> {
    pub origin: ShardId,
    pub ticket: u64,
    pub txid: TxId,
    pub claim: Claim,
    pub op: Box<dyn RemoteOp<H>>,
    pub release: bool,
    /// The operation this one runs inside (an EXEC or a script holding
    /// every shard): granted at once where that one holds its claim.
    pub parent: Option<TxId>,
}

pub struct Sequencer<H> {
    lock: Mutex<()>,
    queues: Vec<SegQueue<Intent<H>>>,
}

impl<H> Sequencer<H> {
    pub fn new(shards: usize) -> Sequencer<H> {
        Sequencer {
            lock: Mutex::new(()),
            queues: (0..shards).map(|_| SegQueue::new()).collect(),
        }
    }

    /// Appends one intent per shard, atomically with respect to every other
    /// `schedule`, so all shards see the operations in the same order.
    pub fn schedule(&self, intents: Vec<(ShardId, Intent<H>)>) {
        let _order = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        for (shard, intent) in intents {
            self.queues[shard.0].push(intent);
        }
    }

    pub fn next(&self, shard: ShardId) -> Option<Intent<H>> {
        self.queues[shard.0].pop()
    }
}
