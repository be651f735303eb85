//! The packets between cores, and how a core batches what it sends.
//!
//! One bounded SPSC glommio channel per ordered pair of cores carries
//! [`Packet`]s: everything core A has for core B at the end of one of A's
//! executor turns — command batches of all A's connections, operations,
//! later steps and releases of multi-shard operations, answers to B's
//! tickets — in the order A posted them. One channel per pair keeps that
//! order for everything, so a release can never overtake the step before
//! it.
//!
//! Posting is synchronous and never waits ([`Outbox::post`]); the first post
//! of a turn wakes the core's flusher task, which glommio runs after every
//! task already runnable in that turn (its run queue is FIFO), so the
//! requests of all connections that were read in one turn leave in one
//! packet per destination. A full channel (a peer stalled for 1024 of our
//! turns) makes only the flusher wait; the receivers never wait on
//! anything, so every channel keeps draining and the mesh cannot deadlock
//! (glommio issue #555).

use std::cell::{Cell, RefCell};
use std::task::{Poll, Waker};

use futures::future::join_all;
use glommio::channels::shared_channel::{
    self, ConnectedReceiver, ConnectedSender, SharedReceiver, SharedSender,
};
use glommio::{GlommioError, ResourceType};

use super::op::RemoteOp;
use super::shard::Cmd;
use super::tickets::Delivery;
use super::TxId;
use crate::keyspace::slot::ShardId;

/// Depth of each channel, in packets (a packet is one turn's worth).
const DEPTH: usize = 1024;

/// One item of a packet.
pub enum Item<H> {
    /// Single-shard commands (of one connection's read), run in order;
    /// answered with [`Delivery::Batch`].
    Batch { ticket: u64, cmds: Vec<Cmd> },
    /// A further step of a multi-shard operation holding its claim on the
    /// receiver; with `release`, its claim ends after the step.
    Step {
        ticket: u64,
        txid: TxId,
        op: Box<dyn RemoteOp<H>>,
        release: bool,
    },
    /// A multi-shard operation's claim on the receiver ends.
    Release { txid: TxId },
    /// A one-way operation: runs on the receiver, nobody waits for it
    /// (invalidation messages for client-side caching).
    Run { op: Box<dyn RemoteOp<H>> },
    /// An operation that runs on arrival, claiming nothing, even while
    /// another operation holds the receiver; answered with
    /// [`Delivery::Ran`] (WATCH registering its keys).
    Ask {
        ticket: u64,
        op: Box<dyn RemoteOp<H>>,
    },
    /// Intents were queued for the receiver in the sequencer.
    Poll,
    /// An answer for one of the receiver's tickets.
    Answer { ticket: u64, delivery: Delivery },
}

pub type Packet<H> = Vec<Item<H>>;

/// This core's ends of the mesh, indexed by peer (None for itself).
pub struct MeshEnds<H> {
    pub out: Vec<Option<ConnectedSender<Packet<H>>>>,
    pub ins: Vec<Option<ConnectedReceiver<Packet<H>>>>,
}

/// Unconnected ends for one core, built on the main thread.
pub struct MeshParts<H> {
    out: Vec<Option<SharedSender<Packet<H>>>>,
    ins: Vec<Option<SharedReceiver<Packet<H>>>>,
}

/// The channels of `n` cores, one per ordered pair.
pub fn build<H: 'static>(n: usize) -> Vec<MeshParts<H>> {
    let mut parts: Vec<MeshParts<H>> = (0..n)
        .map(|_| MeshParts {
            out: (0..n).map(|_| None).collect(),
            ins: (0..n).map(|_| None).collect(),
        })
        .collect();
    for i in 0..n {
        for j in 0..n {
            if i != j {
                let (tx, rx) = shared_channel::new_bounded(DEPTH);
                parts[i].out[j] = Some(tx);
                parts[j].ins[i] = Some(rx);
            }
        }
    }
    parts
}

impl<H: 'static> MeshParts<H> {
    /// Connects this core's ends. Each end waits for its peer's, so all are
    /// connected at once: one at a time, two cores would each wait on an
    /// end the other has not reached yet.
    pub async fn connect(self) -> MeshEnds<H> {
        async fn opt<F: std::future::Future>(f: Option<F>) -> Option<F::Output> {
            match f {
                Some(f) => Some(f.await),
                None => None,
            }
        }
        let (out, ins) = futures::join!(
            join_all(
                self.out
                    .into_iter()
                    .map(|s| opt(s.map(SharedSender::connect)))
            ),
            join_all(
                self.ins
                    .into_iter()
                    .map(|r| opt(r.map(SharedReceiver::connect)))
            ),
        );
        MeshEnds { out, ins }
    }
}

/// Items posted during this turn, per destination, and the flusher's
/// wake-up.
pub struct Outbox<H> {
    queued: RefCell<Vec<Packet<H>>>,
    scheduled: Cell<bool>,
    flusher: Cell<Option<Waker>>,
    /// Packets sent, for the hop statistics.
    pub packets: Cell<u64>,
    pub items: Cell<u64>,
}

impl<H> Outbox<H> {
    pub fn new(peers: usize) -> Outbox<H> {
        Outbox {
            queued: RefCell::new((0..peers).map(|_| Vec::new()).collect()),
            scheduled: Cell::new(false),
            flusher: Cell::new(None),
            packets: Cell::new(0),
            items: Cell::new(0),
        }
    }

    /// Queues `item` for `to`; it leaves at the end of this turn.
    pub fn post(&self, to: ShardId, item: Item<H>) {
        self.queued.borrow_mut()[to.0].push(item);
        if !self.scheduled.replace(true) {
            if let Some(w) = self.flusher.take() {
                w.wake();
            }
        }
    }

    /// The flusher task: sends what each turn posted, one packet per
    /// destination, for as long as the core runs.
    pub async fn flush_forever(&self, out: &[Option<ConnectedSender<Packet<H>>>])
    where
        H: 'static,
    {
        loop {
            std::future::poll_fn(|cx| {
                if self.scheduled.get() {
                    Poll::Ready(())
                } else {
                    self.flusher.set(Some(cx.waker().clone()));
                    Poll::Pending
                }
            })
            .await;
            self.scheduled.set(false);
            let packets: Vec<(usize, Packet<H>)> = self
                .queued
                .borrow_mut()
                .iter_mut()
                .enumerate()
                .filter(|(_, q)| !q.is_empty())
                .map(|(to, q)| (to, std::mem::take(q)))
                .collect();
            for (to, packet) in packets {
                let Some(tx) = out[to].as_ref() else { continue };
                self.packets.set(self.packets.get() + 1);
                self.items.set(self.items.get() + packet.len() as u64);
                if let Err(GlommioError::WouldBlock(ResourceType::Channel(p))) = tx.try_send(packet)
                {
                    // The peer is 1024 turns behind. Waiting here keeps
                    // the order; our receivers keep draining meanwhile.
                    let _ = tx.send(p).await;
                }
            }
        }
    }
}
