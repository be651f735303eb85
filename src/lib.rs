//! lanner: a Redis-compatible cache server, thread-per-core and shared-nothing.
//!
//! # Thread model
//!
//! Every shard is one glommio executor pinned to one core. It owns the keys
//! whose CRC16 hash slot maps to it (`keyspace::slot`), accepts connections
//! on its own SO_REUSEPORT listener, and runs them to completion. Nothing
//! mutable is shared between executors: cores talk only through a mesh of
//! bounded SPSC channels, one per ordered pair (`runtime::mesh`).
//!
//! ```text
//!  client ─TCP─► core A: connection task
//!                  read → parse every complete request → place each (command::place)
//!                  ├─ owning shard is A → run inline on A's store
//!                  ├─ owning shard is B → post to A's outbox ─┐
//!                  │   (every connection of A does the same   │ end of A's executor turn:
//!                  │    during this turn)                     └► ONE packet to B
//!                  └─ keys on several shards → ordered multi-shard operation
//!                  ◄─ answers ride back in B's packets; replies in request order, ONE write
//! ```
//!
//! # Life of a request
//!
//! `server::conn` reads into a buffer and `resp::parse_request` splits off
//! every complete request. `server::dispatch` checks each against THE
//! command table (`command::table`: arity, authentication, subscribed mode,
//! MULTI queueing) and asks `command::place` where it runs: on the
//! connection (no keys), on one shard (inline when it is this core's, else
//! batched), as a fanout over several shards, or in its coordinated form.
//! A command whose keys span shards (MSET, RENAME, …) or that needs every
//! shard (KEYS, FLUSHALL, INFO …) waits for everything before it on its
//! connection and runs as a multi-shard operation (`runtime::txn`): a
//! global sequencer orders such operations, each shard grants their key
//! claims in that order, writers keep their keys until every shard has run
//! its part. Consecutive fanout commands of one read (a pipeline of MSETs)
//! share one operation. A blocking pop that finds its keys empty registers
//! on their shards (`keyspace::blocked`) and is served by the shard that
//! next fills one. Every command is accounted on its connection's core,
//! wherever it ran.
//!
//! MULTI/EXEC and scripts are atomic blocks (`command::atomic`,
//! `command::multi`): a transaction of single-shard commands runs as one
//! step per shard under key claims; anything else holds every shard while
//! its commands run, and a multi-shard command inside names the block as its
//! parent (`Session::parent`), so it runs within that hold. Every change to
//! a key goes through `Store::notify`, which raises keyspace events and
//! sets the flags of connections WATCHing the key.
//!
//! # Layers
//!
//! Each layer imports only the layers below it (`tests/layers.rs` reads the
//! `crate::` paths of every file and fails otherwise):
//!
//! 1. `resp` (bytes ↔ frames), `glob`, `config` (the settings table), `log`,
//!    and under them `errors`: the error texts of the layers below `command`
//!    (`command::errors` re-exports them and holds all the others).
//! 2. `keyspace` — store, values, expiry, key locks, watches, blocked
//!    clients, slots: no I/O, no awaits, no cores, no commands.
//! 3. `runtime` — the executors' shards, mesh, outbox, sequencer, typed
//!    operations and multi-shard transactions; knows no command. What it
//!    needs from above comes through its `Hooks` type parameter.
//!    `pubsub` (the shared subscription registry) sits beside it.
//! 4. `command` (table, placement, handlers, sessions, atomic blocks) with
//!    the services it uses: `services` (per-core and shared state the
//!    runtime hosts), `stats`, `observe`, `clients`, `script`.
//! 5. `server` (listeners, connection tasks, dispatch, cron, HTTP on the
//!    client port and the metrics port, start-up and shutdown) and
//!    `metrics` (metric names and the text of a scrape).
//!
//! # Invariants
//!
//! * `resp` never names a command; `keyspace` never awaits and does no I/O.
//! * Only runtime types cross cores: packets of typed items
//!   (`runtime::mesh::Item`: command batches, typed operations, releases,
//!   answers) and the sequencer's intents; besides them only the shared
//!   services built for it (Pub/Sub messages, the script cache, MONITOR
//!   lines, WATCH flags). Stores, client registries and per-core stats are
//!   `!Send` and live inside their executor.
//! * Work crossing cores is a typed value whose result comes back typed
//!   (`runtime::Out`): no `dyn Any`, no downcasts.
//! * Hot-path counters are per core (plain integers), summed only when INFO
//!   or a Prometheus scrape asks. The shared locks on a request path are
//!   the sequencer's, taken only by multi-shard operations, and the Pub/Sub
//!   registry's, taken only by pub/sub commands and keyspace events.
//! * Inside an executor nothing blocks the thread: glommio channels and
//!   timers only. Posting to the outbox never waits; only the flusher waits
//!   on a full channel, and receivers never wait, so the mesh always drains.
//! * A multi-shard operation only ever waits for earlier ones (global
//!   order), so operations cannot deadlock; single-shard commands hold no
//!   locks and wait only for keys a multi-shard write holds. An operation
//!   given up before its end (its client went away) releases its claims.
//!
//! `ARCHITECTURE.md` at the repository root tells the same story with the
//! code map of the whole repository.
//!
//! # Operational prerequisites
//!
//! Linux >= 5.8 with io_uring allowed (Docker's default seccomp profile
//! blocks it), and enough locked memory for each executor's io memory
//! (`io-memory`, 512 KiB by default; `ulimit -l`).

/// The Redis version lanner reports where clients look for one (INFO,
/// HELLO): the Redis 7.0 behaviour it implements.
pub const REDIS_VERSION: &str = "7.0.15";
pub const LANNER_VERSION: &str = env!("CARGO_PKG_VERSION");

pub mod alloc;
pub mod clients;
pub mod command;
pub mod config;
pub mod errors;
pub mod glob;
pub mod keyspace;
pub mod log;
pub mod metrics;
pub mod observe;
pub mod pubsub;
pub mod resp;
pub mod runtime;
pub mod script;
pub mod server;
pub mod services;
pub mod stats;
