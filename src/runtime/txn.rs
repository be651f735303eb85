//! Multi-shard operations: work on several shards that no other client may
//! observe half done.
//!
//! ```text
//! coordinator: Plan::part per shard (claim + typed op)
//!              Sequencer::schedule(one intent per shard) ── Poll ──► shards
//! shard:       intent granted when its claim (keys, or the whole shard) is
//!              free and no earlier waiting intent claims the same → run op
//!              → answer the ticket
//!              reader (Plan::run): releases at once
//!              writer (Plan::hold): keeps the claim; single-shard commands
//!              on those keys wait
//! coordinator: (all answered) → Txn::step … → Txn::end: last steps and
//!              releases ──► shards
//! shard:       release → stopped batches resume → waiting intents granted
//! ```
//!
//! Intents are granted in the sequencer's global order wherever they
//! conflict, and a writer keeps its keys on every shard until each has run
//! its part, so no client can observe a multi-shard write half done, and
//! readers see a consistent cut; operations on disjoint keys run side by
//! side. An operation started inside an atomic block that holds every
//! shard (EXEC, a script) names the block as its `parent` and is granted at
//! once where the block holds its claim. A [`Txn`] dropped before its end
//! (its client went away) releases its claims.

use std::rc::Rc;

use super::mesh::Item;
use super::op::{op, Out, RemoteOp};
use super::sequencer::Intent;
use super::shard::Shard;
use super::{Hooks, TxId};
use crate::keyspace::locks::Claim;
use crate::keyspace::slot::ShardId;

/// A multi-shard operation being put together: at most one part per shard.
pub struct Plan<H: Hooks> {
    sh: Rc<Shard<H>>,
    parent: Option<TxId>,
    parts: Vec<(ShardId, Claim, Box<dyn RemoteOp<H>>)>,
}

impl<H: Hooks> Plan<H> {
    /// A new operation coordinated by this core, inside `parent` if given.
    pub fn new(sh: &Rc<Shard<H>>, parent: Option<TxId>) -> Plan<H> {
        Plan {
            sh: sh.clone(),
            parent,
            parts: Vec::new(),
        }
    }

    /// Adds the part for `shard`: `f` runs there once `claim` is granted.
    pub fn part<T, F>(&mut self, shard: ShardId, claim: Claim, f: F) -> Out<T>
    where
        T: Send + 'static,
        F: FnOnce(&Shard<H>) -> T + Send + 'static,
    {
        debug_assert!(
            self.parts.iter().all(|(s, ..)| *s != shard),
            "one part per shard"
        );
        let (op, out) = op(f);
        self.parts.push((shard, claim, op));
        out
    }

    /// Runs the parts; each shard's claim ends as soon as its part ran
    /// (reads).
    pub async fn run(self) {
        self.start(false).await;
    }

    /// Runs the parts and keeps every claim until the [`Txn`] ends
    /// (writes, and reads that decide what to write).
    pub async fn hold(self) -> Txn<H> {
        self.start(true).await
    }

    async fn start(self, hold: bool) -> Txn<H> {
        let sh = self.sh;
        let txid = sh.next_txid();
        let mut intents = Vec::with_capacity(self.parts.len());
        let mut tickets = Vec::with_capacity(self.parts.len());
        let mut shards = Vec::with_capacity(self.parts.len());
        for (shard, claim, op) in self.parts {
            let ticket = sh.tickets.borrow_mut().open();
            intents.push((
                shard,
                Intent {
                    origin: sh.id,
                    ticket,
                    txid,
                    claim,
                    op,
                    release: !hold,
                    parent: self.parent,
                },
            ));
            tickets.push(ticket);
            shards.push(shard);
        }
        sh.global.sequencer.schedule(intents);
        let mut local = false;
        for &s in &shards {
            if s == sh.id {
                local = true;
            } else {
                sh.post(s, Item::Poll);
            }
        }
        if local {
            sh.poll_intents();
        }
        // From here on a dropped future releases what it holds.
        let txn = Txn {
            sh,
            txid,
            held: if hold { shards } else { Vec::new() },
            steps: Vec::new(),
            ended: false,
        };
        let sh = txn.sh.clone();
        let waits: Vec<_> = tickets.into_iter().map(|t| sh.wait(t)).collect();
        for w in waits {
            w.await;
        }
        txn
    }
}

/// A multi-shard operation holding its claims.
pub struct Txn<H: Hooks> {
    sh: Rc<Shard<H>>,
    txid: TxId,
    held: Vec<ShardId>,
    steps: Vec<(ShardId, Box<dyn RemoteOp<H>>)>,
    ended: bool,
}

impl<H: Hooks> Txn<H> {
    pub fn id(&self) -> TxId {
        self.txid
    }

    /// Queues a further step on `shard`, which this operation holds; it
    /// runs at the next [`Txn::run`] or [`Txn::end`].
    pub fn step<T, F>(&mut self, shard: ShardId, f: F) -> Out<T>
    where
        T: Send + 'static,
        F: FnOnce(&Shard<H>) -> T + Send + 'static,
    {
        let (op, out) = op(f);
        self.steps.push((shard, op));
        out
    }

    /// Runs the queued steps, keeping every claim.
    pub async fn run(&mut self) {
        self.send_steps(false).await;
    }

    /// Runs the queued steps and ends the operation on every shard.
    pub async fn end(mut self) {
        self.send_steps(true).await;
    }

    /// Ends the operation on every shard it holds, without further steps.
    pub fn release(mut self) {
        self.release_held();
    }

    async fn send_steps(&mut self, release: bool) {
        let sh = self.sh.clone();
        let mut tickets = Vec::new();
        for (shard, op) in std::mem::take(&mut self.steps) {
            if shard == sh.id {
                op.run(&sh);
                if release {
                    sh.release(self.txid);
                    self.held.retain(|s| *s != shard);
                }
            } else {
                let ticket = sh.tickets.borrow_mut().open();
                sh.post(
                    shard,
                    Item::Step {
                        ticket,
                        txid: self.txid,
                        op,
                        release,
                    },
                );
                if release {
                    self.held.retain(|s| *s != shard);
                }
                tickets.push(ticket);
            }
        }
        if release {
            self.release_held();
        }
        let waits: Vec<_> = tickets.into_iter().map(|t| sh.wait(t)).collect();
        for w in waits {
            w.await;
        }
    }

    fn release_held(&mut self) {
        self.ended = true;
        for shard in std::mem::take(&mut self.held) {
            if shard == self.sh.id {
                self.sh.release(self.txid);
            } else {
                self.sh.post(shard, Item::Release { txid: self.txid });
            }
        }
    }
}

impl<H: Hooks> Drop for Txn<H> {
    fn drop(&mut self) {
        if !self.ended {
            self.release_held();
        }
    }
}

impl<H: Hooks> Shard<H> {
    /// Runs `f` once on every shard as one ordered read (inside `parent`
    /// if given) and returns the results by shard.
    pub async fn on_every_shard<T, F>(self: &Rc<Self>, parent: Option<TxId>, f: F) -> Vec<T>
    where
        T: Send + 'static,
        F: Fn(&Shard<H>) -> T + Send + Clone + 'static,
    {
        let mut plan = Plan::new(self, parent);
        let outs: Vec<Out<T>> = self
            .all_shards()
            .map(|s| {
                let f = f.clone();
                plan.part(s, Claim::Whole, move |sh: &Shard<H>| f(sh))
            })
            .collect();
        plan.run().await;
        outs.into_iter().map(Out::take).collect()
    }
}
