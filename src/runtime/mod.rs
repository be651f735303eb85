//! The core-to-core runtime: each executor's shard of the keyspace, the
//! meshes between cores, and the ordering of work that spans shards. It
//! moves typed work between cores and runs it; it knows no command.
//!
//! ```text
//!  core A                                   core B
//!  connection tasks ─post─► outbox[B] ─┐    receiver[A] ─► run batch / op / step
//!  connection tasks ─post─► outbox[B]  │        │          (one packet at a time)
//!                          end of turn: flusher │ post answers ─► outbox[A]
//!                          ONE packet per peer ─┘              end of B's turn ─► A
//! ```
//!
//! * `shard` — [`Shard`]: one core's store, key locks, waiting tickets and
//!   mesh ends; runs batches of single-shard commands and typed operations.
//! * `mesh` — the packets between cores and the per-core outbox: every
//!   connection task of a core posts into it during an executor turn, and
//!   one flusher task sends ONE packet per destination at the end of the
//!   turn; answers ride back the same way. A peer that is awake is not
//!   woken (glommio only signals a parked executor).
//! * `op` — typed operations: a closure run on another core whose result
//!   comes back through a typed [`Out`]; no `dyn Any`, no downcasts.
//! * `sequencer`, `txn` — multi-shard operations: a global order of
//!   intents, key claims granted in that order on every shard, writers
//!   holding their keys until every shard has run its part ([`Plan`],
//!   [`Txn`]). The transaction an operation runs inside is passed
//!   explicitly ([`TxId`] as `parent`).
//! * `tickets` — what tasks of this core wait for, delivered by the mesh.
//!
//! Layer rule (checked by `tests/layers.rs`): the runtime imports the
//! keyspace, `resp` and `config`, never `command` or `server`. What it
//! needs from the layers above — the per-core state their work reads, and
//! what must happen after work ran — it gets through the [`Hooks`] type it
//! is instantiated with.

pub mod mesh;
pub mod op;
pub mod sequencer;
pub mod shard;
mod tickets;
pub mod txn;

pub use mesh::MeshEnds;
pub use op::Out;
pub use shard::{Cmd, Done, KeySpan, Keys, Shard};
pub use txn::{Plan, Txn};

use crate::keyspace::slot::SlotTable;

/// Identifies one multi-shard operation (unique per server: the owning
/// core's id in the high bits).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TxId(pub u64);

/// The per-core state of the layers above the runtime, and what the
/// runtime calls back into them. Work sent to a core receives that core's
/// [`Shard`], and through `Shard::host` this state.
pub trait Hooks: Sized + 'static {
    /// Before this core runs work that arrived from elsewhere: bring the
    /// store's settings up to date (a CONFIG SET on another core).
    fn before_work(sh: &Shard<Self>);
    /// After work ran here and no atomic block holds the shard: pass on
    /// what the store raised (keyspace events).
    fn after_work(sh: &Shard<Self>);
    /// The reply of a command refused for want of memory (the layers above
    /// own every error text).
    fn oom() -> crate::resp::Reply;
}

/// Nothing above: for tests and benchmarks of the runtime alone.
impl Hooks for () {
    fn before_work(_: &Shard<Self>) {}
    fn after_work(_: &Shard<Self>) {}
    fn oom() -> crate::resp::Reply {
        crate::resp::Reply::Nil
    }
}

/// What every core's runtime shares: the slot table and the order of
/// multi-shard operations.
pub struct Global<H> {
    pub slots: SlotTable,
    pub sequencer: sequencer::Sequencer<H>,
}

impl<H: Hooks> Global<H> {
    pub fn new(shards: usize) -> Global<H> {
        Global {
            slots: SlotTable::new(shards),
            sequencer: sequencer::Sequencer::new(shards),
        }
    }
}
