//! The state of the layers above the runtime: [`Shared`] across the
//! process, [`Services`] per core.
//!
//! Each core's runtime shard hosts that core's `Services` (see
//! `runtime::Hooks`): command handlers, the connection tasks and work sent
//! from other cores reach them as `sh.host`, passed in, never through a
//! global. `Services` is touched only by its core; what is in `Shared` is
//! read per connection or per configuration change, not per request, except
//! the Pub/Sub registry (PUBLISH, keyspace events) and the busy-script flag.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Instant;

use crate::clients::ClientInfo;
use crate::command::table::{self, CommandSpec};
use crate::config::Config;
use crate::keyspace::evict::Policy;
use crate::keyspace::notify;
use crate::keyspace::store::EncodingLimits;
use crate::observe::{self, Call};
use crate::pubsub::{Kind, Limit};
use crate::resp::Reply;
use crate::runtime::{self, Hooks};
use crate::stats::CoreStats;

/// This core's runtime shard, hosting this core's services.
pub type Shard = runtime::Shard<Services>;

/// State shared by all cores.
pub struct Shared {
    pub databases: usize,
    pub config: RwLock<Config>,
    pub config_gen: AtomicU64,
    pub shutdown: Arc<AtomicBool>,
    pub clients: AtomicUsize,
    pub next_client_id: AtomicU64,
    pub started: Instant,
    pub run_id: String,
    pub port: u16,
    pub executable: String,
    /// Slow-log ids, MONITOR feeds, connection labels (see `observe`).
    pub observe: observe::Global,
    /// CLIENT PAUSE state.
    pub pause: crate::clients::Pause,
    /// The script cache, function libraries and running-script state.
    pub scripts: crate::script::Global,
    /// Channel and pattern subscriptions of every connection.
    pub pubsub: crate::pubsub::PubSub,
    /// What each shard holds by the allocator's count, published about
    /// once a millisecond, and the highest total seen.
    pub memory: MemoryBoard,
    /// What the allocator had given out once every executor was up (INFO
    /// `used_memory_startup`).
    pub startup_memory: AtomicU64,
    /// The lazy-free thread's counters.
    pub lazyfree: Arc<crate::keyspace::lazy::Counters>,
}

/// Per shard, the bytes it holds, the part of them that is keys and
/// values, and whether its last eviction round found nothing to evict
/// (its own cache line each: written by one core, read by the others
/// about once a millisecond).
pub struct MemoryBoard {
    shards: Vec<crossbeam::utils::CachePadded<BoardEntry>>,
    pub peak: AtomicU64,
}

#[derive(Default)]
struct BoardEntry {
    own: AtomicI64,
    dataset: AtomicI64,
    exhausted: std::sync::atomic::AtomicBool,
}

/// What the other shards last published.
pub struct Peers {
    /// The bytes they hold.
    pub bytes: i64,
    /// The part of them that is keys and values.
    pub dataset: i64,
    /// Some other shard holds keys and values and can still evict.
    pub can_evict: bool,
}

impl MemoryBoard {
    pub fn new(shards: usize) -> MemoryBoard {
        MemoryBoard {
            shards: (0..shards).map(|_| Default::default()).collect(),
            peak: AtomicU64::new(0),
        }
    }

    /// Publishes shard `id`'s usage and eviction state and returns the
    /// others'.
    fn publish(&self, id: usize, own: i64, dataset: i64, exhausted: bool) -> Peers {
        self.shards[id].own.store(own, Ordering::Relaxed);
        self.shards[id].dataset.store(dataset, Ordering::Relaxed);
        self.shards[id]
            .exhausted
            .store(exhausted, Ordering::Relaxed);
        let mut peers = Peers {
            bytes: 0,
            dataset: 0,
            can_evict: false,
        };
        for (i, s) in self.shards.iter().enumerate() {
            if i != id {
                let theirs = s.dataset.load(Ordering::Relaxed);
                peers.bytes += s.own.load(Ordering::Relaxed);
                peers.dataset += theirs;
                peers.can_evict |= theirs > 0 && !s.exhausted.load(Ordering::Relaxed);
            }
        }
        self.peak
            .fetch_max((own + peers.bytes).max(0) as u64, Ordering::Relaxed);
        peers
    }

    /// The process's total as last published.
    pub fn total(&self) -> i64 {
        self.shards
            .iter()
            .map(|s| s.own.load(Ordering::Relaxed))
            .sum()
    }
}

impl Shared {
    pub fn config_snapshot(&self) -> Config {
        self.config
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Applies CONFIG SET; every core picks the change up before its next
    /// batch.
    pub fn update_config(
        &self,
        f: impl FnOnce(&mut Config) -> Result<(), String>,
    ) -> Result<(), String> {
        let mut c = self.config.write().unwrap_or_else(|p| p.into_inner());
        f(&mut c)?;
        self.config_gen.fetch_add(1, Ordering::Release);
        Ok(())
    }
}

/// One core's services.
pub struct Services {
    pub shared: Arc<Shared>,
    pub stats: RefCell<CoreStats>,
    /// Slow log, latency events and pending MONITOR lines of this core.
    pub observe: observe::Local,
    /// This core's connections, for CLIENT LIST/KILL and timeouts.
    pub clients: RefCell<HashMap<u64, Rc<RefCell<ClientInfo>>>>,
    config: RefCell<Rc<Config>>,
    config_gen: Cell<u64>,
    /// The configuration generation the store's settings come from.
    store_gen: Cell<u64>,
    /// The store clock (ms) at which this shard last published its memory.
    memory_ms: Cell<u64>,
    /// (time, [commands, input bytes, output bytes]) samples of the last
    /// second, for the instantaneous rates.
    ops_samples: RefCell<VecDeque<(Instant, [u64; 3])>>,
}

impl Services {
    pub fn new(shared: Arc<Shared>) -> Services {
        Services {
            shared,
            stats: RefCell::new(CoreStats::new(table::row_count())),
            observe: observe::Local::default(),
            clients: RefCell::new(HashMap::new()),
            config: RefCell::new(Rc::new(Config::default())),
            config_gen: Cell::new(u64::MAX),
            store_gen: Cell::new(u64::MAX),
            memory_ms: Cell::new(0),
            ops_samples: RefCell::new(VecDeque::new()),
        }
    }

    /// Bytes this core's connections hold (CLIENT LIST `tot-mem`, summed).
    pub fn client_buffers(&self) -> u64 {
        self.clients
            .borrow()
            .values()
            .map(|c| c.borrow().tot_mem() as u64)
            .sum()
    }

    /// This core's copy of the configuration (one acquire load when
    /// nothing changed).
    pub fn config(&self) -> Rc<Config> {
        let gen = self.shared.config_gen.load(Ordering::Acquire);
        if gen != self.config_gen.get() {
            let fresh = self.shared.config_snapshot();
            self.observe.configure(&fresh);
            *self.config.borrow_mut() = Rc::new(fresh);
            self.config_gen.set(gen);
        }
        self.config.borrow().clone()
    }

    /// The output-buffer limit of Pub/Sub subscribers.
    pub fn pubsub_limit(&self) -> Limit {
        let [hard, soft, soft_seconds] = self.config().client_output_buffer_limit[2];
        Limit {
            hard,
            soft,
            soft_seconds,
        }
    }

    /// Accounts a command run for a connection of this core: counters and
    /// histogram, slow log, latency events, MONITOR.
    pub fn account(&self, call: &Call, took: std::time::Duration, reply: &Reply) {
        self.stats.borrow_mut().record(call.spec, took, reply);
        self.observe.account(&self.shared.observe, call, took);
    }

    /// Counts a command refused before it ran.
    pub fn reject(&self, spec: Option<&'static CommandSpec>, reply: &Reply) {
        if let Some(e) = reply.error_text() {
            self.stats.borrow_mut().reject(spec, &e);
        }
    }

    /// Publishes this shard's memory and learns the others', at most once
    /// per store millisecond.
    pub fn refresh_memory(&self, sh: &Shard) {
        let mut st = sh.store.borrow_mut();
        if st.now == self.memory_ms.get() {
            return;
        }
        self.memory_ms.set(st.now);
        let (own, exhausted) = (st.memory.own(), st.memory.exhausted);
        let dataset = st.used_memory() as i64;
        let peers = self.shared.memory.publish(sh.id.0, own, dataset, exhausted);
        st.memory.others = peers.bytes;
        st.memory.peers_dataset = peers.dataset;
        st.memory.peers_can_evict = peers.can_evict;
    }

    pub fn close_all_clients(&self) {
        for c in self.clients.borrow().values() {
            c.borrow_mut().kill();
        }
    }

    pub fn sample_ops(&self) {
        let st = self.stats.borrow();
        let totals = [st.total_commands, st.net_input_bytes, st.net_output_bytes];
        drop(st);
        let mut s = self.ops_samples.borrow_mut();
        s.push_back((Instant::now(), totals));
        while s.len() > 2 && s[0].0.elapsed().as_millis() > 1000 {
            s.pop_front();
        }
    }

    /// Commands, input bytes and output bytes per second over the last
    /// second on this core.
    pub fn rates(&self) -> [f64; 3] {
        let s = self.ops_samples.borrow();
        match (s.front(), s.back()) {
            (Some(a), Some(b)) if b.0 > a.0 => {
                let secs = (b.0 - a.0).as_secs_f64();
                [0, 1, 2].map(|i| (b.1[i] - a.1[i]) as f64 / secs)
            }
            _ => [0.0; 3],
        }
    }
}

impl Hooks for Services {
    fn before_work(sh: &Shard) {
        let svc = &sh.host;
        // CLIENT PAUSE keeps expired keys in place until it ends.
        let paused = svc.shared.pause.is_on();
        if sh.store.borrow().expiry_paused != paused {
            sh.store.borrow_mut().expiry_paused = paused;
        }
        let gen = svc.shared.config_gen.load(Ordering::Acquire);
        if gen != svc.store_gen.get() {
            svc.store_gen.set(gen);
            apply_config(sh, &svc.config());
        }
        // Under a limit, every shard needs a fresh view of the others.
        if sh.store.borrow().memory.limit != 0 {
            svc.refresh_memory(sh);
        }
    }
    fn oom() -> Reply {
        crate::command::errors::oom()
    }

    /// Sends the invalidations and publishes the keyspace events the store
    /// raised since the last call.
    fn after_work(sh: &Shard) {
        if sh.store.borrow().tracking.has_pending() {
            crate::command::tracking::send_pending(sh);
        }
        if sh.store.borrow().events.is_empty() {
            return;
        }
        let events = std::mem::take(&mut sh.store.borrow_mut().events);
        let flags = sh.store.borrow().notify_flags;
        let limit = sh.host.pubsub_limit();
        let pubsub = &sh.host.shared.pubsub;
        for e in events {
            if flags & notify::KEYSPACE != 0 {
                let mut channel = format!("__keyspace@{}__:", e.db).into_bytes();
                channel.extend_from_slice(&e.key);
                let event = bytes::Bytes::from_static(e.event.as_bytes());
                pubsub.publish(Kind::Channel, &channel.into(), &event, limit);
            }
            if flags & notify::KEYEVENT != 0 {
                let channel = format!("__keyevent@{}__:{}", e.db, e.event).into_bytes();
                pubsub.publish(Kind::Channel, &channel.into(), &e.key, limit);
            }
        }
    }
}

/// Copies the settings the store uses from the configuration.
fn apply_config(sh: &Shard, c: &Config) {
    let mut st = sh.store.borrow_mut();
    st.proto_max_bulk_len = c.proto_max_bulk_len;
    let m = &mut st.memory;
    m.limit = c.maxmemory;
    m.policy = Policy::parse(&c.maxmemory_policy);
    m.samples = c.maxmemory_samples as usize;
    m.tenacity = c.maxmemory_eviction_tenacity as u32;
    m.lfu_log_factor = c.lfu_log_factor as u32;
    m.lfu_decay_time = c.lfu_decay_time as u32;
    m.lazy_eviction = c.lazyfree_lazy_eviction;
    if let Some(f) = st.freer.as_mut() {
        f.user_del = c.lazyfree_lazy_user_del;
        f.server_del = c.lazyfree_lazy_server_del;
        f.expire = c.lazyfree_lazy_expire;
    }
    st.notify_flags = notify::parse_flags(&c.notify_keyspace_events);
    // Each shard keeps its share of the tracking table's limit.
    st.tracking.max_keys = (c.tracking_table_max_keys as usize).div_ceil(sh.shards());
    st.limits = EncodingLimits {
        hash_entries: c.hash_max_listpack_entries as usize,
        hash_value: c.hash_max_listpack_value as usize,
        set_intset_entries: c.set_max_intset_entries as usize,
        set_entries: c.set_max_listpack_entries as usize,
        set_value: c.set_max_listpack_value as usize,
        zset_entries: c.zset_max_listpack_entries as usize,
        zset_value: c.zset_max_listpack_value as usize,
        hll_sparse_max_bytes: c.hll_sparse_max_bytes as usize,
        stream_node: crate::keyspace::stream::NodeLimits {
            max_bytes: c.stream_node_max_bytes as usize,
            max_entries: c.stream_node_max_entries as usize,
        },
    };
}
