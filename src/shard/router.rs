//! Every message that crosses cores, and the ordering of multi-shard work.
//!
//! Two one-way meshes of bounded SPSC glommio channels connect the cores:
//! `Request`s (command batches, transaction steps) and `Response`s. Keeping
//! replies on their own mesh is what makes the pair deadlock-free: a shard
//! handles requests synchronously and a core's response receivers never wait
//! on anything, so every queue always drains (glommio issue #555 is a mesh
//! whose peers all await a full send while refusing to drain).
//!
//! Multi-shard operations are ordered by [`Sequencer`]: under one mutex (the
//! only lock on any request path, and only for multi-shard work) an operation
//! appends an [`Intent`] to the intent queue of every shard it touches. Every
//! shard therefore sees multi-shard operations in one global order and grants
//! them one at a time in that order, so two of them never interleave and
//! cannot deadlock (see `shard::core` for the grant/hold/release protocol).

use std::any::Any;
use std::sync::Mutex;

use bytes::Bytes;
use crossbeam::queue::SegQueue;

use super::core::Shard;
use super::locks::Claim;
use super::slot::ShardId;
use crate::command::table::CommandSpec;
use crate::resp::Reply;

/// One single-shard command, routed to its owning shard.
pub struct Cmd {
    pub spec: &'static CommandSpec,
    pub db: usize,
    pub args: Vec<Bytes>,
    /// The connection that sent it (slow log and MONITOR labels).
    pub client: u64,
    /// CLIENT NO-TOUCH is on for that connection.
    pub no_touch: bool,
}

/// A piece of a multi-shard operation, run on the shard it is sent to.
pub type Step = Box<dyn FnOnce(&Shard) -> StepOut + Send>;
/// What a step hands back to its coordinator (downcast there).
pub type StepOut = Box<dyn Any + Send>;

pub enum Request {
    /// Single-shard commands from one connection's read, run in order.
    Batch { reply: u64, cmds: Vec<Cmd> },
    /// "Your intent queue has something": sent after pushing an intent.
    Wake,
    /// A further step of a multi-shard operation holding its claim here.
    Step {
        reply: u64,
        txid: u64,
        step: Step,
        release: bool,
    },
    /// End of a multi-shard operation: its claim here is dropped.
    Release { txid: u64 },
}

pub struct Response {
    pub reply: u64,
    pub payload: Payload,
}

pub enum Payload {
    Replies(Vec<Reply>),
    Out(StepOut),
}

/// A multi-shard operation's claim on one shard: once the claim is granted
/// the shard runs `step`, answers `reply` on the coordinator `origin`, and
/// then either drops the claim (`release`) or keeps it until a
/// `Request::Release` for `txid`.
pub struct Intent {
    pub origin: ShardId,
    pub reply: u64,
    pub txid: u64,
    pub claim: Claim,
    pub step: Step,
    pub release: bool,
    /// The operation this one runs inside (an EXEC or a script holding
    /// every shard it touches): granted at once where that one holds.
    pub parent: Option<u64>,
}

/// The global order of multi-shard operations.
pub struct Sequencer {
    lock: Mutex<()>,
    queues: Vec<SegQueue<Intent>>,
}

impl Sequencer {
    pub fn new(shards: usize) -> Sequencer {
        Sequencer {
            lock: Mutex::new(()),
            queues: (0..shards).map(|_| SegQueue::new()).collect(),
        }
    }

    /// Appends one intent per shard, atomically with respect to every other
    /// `schedule`, so all shards see the operations in the same order.
    pub fn schedule(&self, intents: Vec<(ShardId, Intent)>) {
        let _order = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        for (shard, intent) in intents {
            self.queues[shard.0].push(intent);
        }
    }

    pub fn next(&self, shard: ShardId) -> Option<Intent> {
        self.queues[shard.0].pop()
    }
}
