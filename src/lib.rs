//! lanner: a Redis-compatible cache server, thread-per-core and shared-nothing.
//!
//! # Thread model
//!
//! Every shard is one glommio executor pinned to one core. It owns the keys
//! whose CRC16 hash slot maps to it (`shard::slot`), accepts connections on
//! its own SO_REUSEPORT listener, and runs them to completion. Nothing mutable
//! is shared between executors: cores talk only through bounded SPSC channel
//! meshes (`shard::router`).
//!
//! ```text
//!  client ─TCP─► core A: connection task
//!                  read → parse every complete request → route each by key slot
//!                  ├─ owning shard is A → run inline on A's store
//!                  ├─ owning shard is B → ONE batch per destination per read ──► core B
//!                  └─ keys on several shards → ordered multi-shard operation
//!                  ◄─ replies in request order, ONE write
//! ```
//!
//! # Life of a request
//!
//! `server::conn` reads into a buffer and `resp::parse_request` splits off
//! every complete request. `server::dispatch` looks each up in THE command
//! table (`command::table`): arity, authentication and routing derive from its
//! row. Keyed commands run inline when their shard is local, else travel in
//! one `Request::Batch` per destination shard; a command whose keys span
//! shards (MSET, RENAME, …) or that needs every shard (KEYS, FLUSHALL, INFO …)
//! waits for everything before it on its connection and runs as a
//! multi-shard operation (`shard::core`): a global sequencer orders such
//! operations, each shard grants their key claims in that order, writers
//! keep their keys until every shard has run its part. Consecutive fanout
//! commands of one read (a pipeline of MSETs) share one operation. A
//! blocking pop that finds its keys empty registers on their shards
//! (`shard::blocked`) and is served by the shard that next fills one.
//!
//! MULTI/EXEC and scripts are atomic blocks (`server::atomic`, `command::
//! multi`): a transaction of single-shard commands runs as one step per
//! shard under key claims; anything else holds every shard while its
//! commands run, and a multi-shard command inside runs within that hold.
//! Every change to a key goes through `Store::notify`, which raises
//! keyspace events and sets the flags of connections WATCHing the key.
//!
//! # Code map
//!
//! * `config` — the settings table: config file, CLI, CONFIG GET/SET/REWRITE.
//! * `server` — executors, listeners, connection tasks, dispatch, cron.
//! * `resp` — wire protocol only: parser and reply encoder.
//! * `command` — the command table, one file per family, error texts.
//! * `shard` — slots, stores, values, expiry, meshes, locks; the pure
//!   bit, HyperLogLog and geohash algorithms the bitmap, HLL and geo
//!   commands use (`bits`, `hll`, `geohash`).
//! * `clients`, `stats`, `log` — client registry, per-core counters, logging.
//! * `metrics` — Prometheus metric names and the `/metrics` endpoint.
//! * `observe` — slow log, latency monitor and histograms, MONITOR feed.
//! * `script` — one Lua VM per core, the shared script cache and function
//!   libraries; a script runs in a coroutine inside an atomic block, or,
//!   when its declared keys live on one shard, first on that shard's core in
//!   one step with an undo log.
//! * `pubsub` — channel, pattern and shard-channel subscriptions of every
//!   connection, shared by all cores; PUBLISH delivers into subscribers'
//!   queues.
//!
//! # Invariants
//!
//! * `resp` never names a command; `shard::store` never awaits and does no I/O.
//! * Only types defined in `shard::router` cross cores (and MONITOR's
//!   batches of lines, `observe::Global`; Pub/Sub messages, `pubsub`; the
//!   script cache, `script::Global`; WATCH flags, `shard::watch`). Stores, client
//!   registries and per-core stats are `!Send` and live inside their executor.
//! * Hot-path counters are per core (plain integers), summed only when INFO
//!   or a Prometheus scrape asks. The shared locks on a request path are
//!   the sequencer's, taken only by multi-shard operations, and the Pub/Sub
//!   registry's, taken only by pub/sub commands and keyspace events.
//! * Inside an executor nothing blocks the thread: glommio channels and
//!   timers only; a full peer queue is waited on in a task, never in place.
//! * A multi-shard operation only ever waits for earlier ones (global
//!   order), so operations cannot deadlock; single-shard commands hold no
//!   locks and wait only for keys a multi-shard write holds.
//!
//! # Operational prerequisites
//!
//! Linux >= 5.8 with io_uring allowed (Docker's default seccomp profile
//! blocks it), and enough locked memory for each executor's io memory
//! (`io-memory`, 512 KiB by default; `ulimit -l`).

pub mod clients;
pub mod command;
pub mod config;
pub mod glob;
pub mod log;
pub mod metrics;
pub mod observe;
pub mod pubsub;
pub mod resp;
pub mod script;
pub mod server;
pub mod shard;
pub mod stats;
