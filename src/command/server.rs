//! Server commands: COMMAND INFO CONFIG TIME SHUTDOWN.
//!
//! INFO and CONFIG RESETSTAT visit every core (counters are per core and
//! summed here); CONFIG GET/SET work on the shared configuration, which each
//! core re-reads before its next batch.

use std::fmt::Write as _;
use std::rc::Rc;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use futures::future::LocalBoxFuture;

use super::args::eq;
use super::errors;
use super::keys::help_reply;
use super::table;
use crate::command::session::Session;
use crate::resp::Reply;
use crate::services::Shard;
use crate::stats::CoreStats;
use crate::{LANNER_VERSION, REDIS_VERSION};

fn bulk(s: &str) -> Reply {
    Reply::Bulk(Bytes::copy_from_slice(s.as_bytes()))
}

/// TIME
pub fn time(_sh: &Rc<Shard>, _s: &mut Session, _a: &[Bytes]) -> Reply {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    Reply::Array(vec![
        bulk(&now.as_secs().to_string()),
        bulk(&now.subsec_micros().to_string()),
    ])
}

/// LOLWUT [VERSION version]. Redis 7.0's own version draws nothing but
/// the version line; lanner answers that for every version (VERSION 5 and
/// 6, Redis's art, are not drawn).
pub fn lolwut(_sh: &Rc<Shard>, _s: &mut Session, a: &[Bytes]) -> Reply {
    if a.len() >= 3 && super::args::eq(&a[1], "version") {
        tri!(super::args::int(&a[2]));
    }
    Reply::Verbatim(Bytes::from(format!(
        "Redis ver. {}\n",
        crate::REDIS_VERSION
    )))
}

/// SHUTDOWN [NOSAVE | SAVE] [NOW] [FORCE] [ABORT]. lanner keeps no data on
/// disk, so SAVE and NOSAVE both stop at once; ABORT has nothing to abort.
pub fn shutdown(sh: &Rc<Shard>, s: &mut Session, a: &[Bytes]) -> Reply {
    for opt in &a[1..] {
        if eq(opt, "abort") {
            return errors::err(errors::NO_SHUTDOWN);
        }
        if !(eq(opt, "nosave") || eq(opt, "save") || eq(opt, "now") || eq(opt, "force")) {
            return errors::syntax();
        }
    }
    crate::log::warning("User requested shutdown...");
    sh.host.shared.shutdown.store(true, Ordering::Relaxed);
    s.close = true;
    // Redis never answers a SHUTDOWN that goes ahead: the connection just closes.
    Reply::Raw(Bytes::new())
}

/// What one core reports for INFO.
pub(crate) struct CoreSnapshot {
    pub stats: CoreStats,
    pub keyspace: crate::keyspace::store::KeyspaceStats,
    /// What this shard holds by the allocator's count.
    pub used_memory: i64,
    /// The keyspace's own estimate of its keys and values.
    pub dataset: usize,
    /// Keys evicted here, and eviction time over the limit (ms: total,
    /// current).
    pub evicted: u64,
    pub exceeded_ms: (u64, u64),
    /// Requests waiting on this shard for a multi-shard operation's keys.
    pub queue_depth: usize,
    /// Entries in this core's slow log.
    pub slowlog_len: usize,
    /// (keys, keys with a TTL, bytes) per database.
    pub dbs: Vec<(usize, usize, usize)>,
    /// Estimated TTL of the keys that have one, ms, per database (0: none).
    avg_ttl: Vec<u64>,
    /// Bytes this core's Lua VM holds.
    pub lua_memory: usize,
    /// This core's clients' buffers (CLIENT LIST `tot-mem`, summed).
    pub client_memory: usize,
    /// The largest output queued for one of this core's clients.
    max_omem: usize,
    cpu_user: f64,
    cpu_sys: f64,
    /// Commands, input bytes, output bytes per second.
    rates: [f64; 3],
    max_qbuf: usize,
    /// Client-side caching: this core's tracking connections, and its
    /// shard's tracked keys, their items and its BCAST prefixes.
    tracking: (usize, usize, usize, usize),
    /// Packets this core sent to other cores, and the items in them.
    pub packets: (u64, u64),
}

fn rusage(who: i32) -> (f64, f64) {
    // SAFETY: getrusage fills the zeroed struct we pass it.
    unsafe {
        let mut r: libc::rusage = std::mem::zeroed();
        if libc::getrusage(who, &mut r) != 0 {
            return (0.0, 0.0);
        }
        let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
        (t(r.ru_utime), t(r.ru_stime))
    }
}

pub(crate) fn snapshot(shard: &Shard) -> CoreSnapshot {
    let st = shard.store.borrow();
    let (cpu_user, cpu_sys) = rusage(libc::RUSAGE_THREAD);
    CoreSnapshot {
        stats: shard.host.stats.borrow().clone(),
        keyspace: st.stats.clone(),
        used_memory: st.memory.own(),
        dataset: st.used_memory(),
        evicted: st.memory.evicted,
        exceeded_ms: {
            let current = st
                .memory
                .exceeded_since
                .map_or(0, |t| t.elapsed().as_millis() as u64);
            (
                st.memory.exceeded_total.as_millis() as u64 + current,
                current,
            )
        },
        queue_depth: shard.queue_depth(),
        slowlog_len: shard.host.observe.slowlog.borrow().len(),
        dbs: (0..st.databases())
            .map(|d| {
                let db = st.db_ref(d);
                (db.len(), db.volatile_len(), db.mem())
            })
            .collect(),
        avg_ttl: (0..st.databases())
            .map(|d| st.db_ref(d).avg_ttl())
            .collect(),
        lua_memory: crate::script::vm::memory(),
        client_memory: shard.host.client_buffers() as usize,
        max_omem: shard
            .host
            .clients
            .borrow()
            .values()
            .map(|c| c.borrow().omem)
            .max()
            .unwrap_or(0),
        cpu_user,
        cpu_sys,
        rates: shard.host.rates(),
        max_qbuf: shard
            .host
            .clients
            .borrow()
            .values()
            .map(|c| c.borrow().query_buf)
            .max()
            .unwrap_or(0),
        packets: shard.sent(),
        tracking: {
            let (keys, items, prefixes) = st.tracking.counts();
            (
                crate::command::tracking::clients_here(shard),
                keys,
                items,
                prefixes,
            )
        },
    }
}

/// One database's `avg_ttl` over the shards: each shard's estimate
/// weighted by its keys with a TTL (shards without an estimate yet left out).
fn avg_ttl(snaps: &[CoreSnapshot], db: usize) -> u64 {
    let (mut sum, mut weight) = (0u128, 0u128);
    for s in snaps {
        let (ttl, n) = (s.avg_ttl[db], s.dbs[db].1);
        if ttl > 0 && n > 0 {
            sum += ttl as u128 * n as u128;
            weight += n as u128;
        }
    }
    sum.checked_div(weight).map_or(0, |avg| avg as u64)
}

/// INFO memory's scripting fields, in Redis 7.0's order. lanner runs EVAL
/// scripts and function libraries in one Lua VM per core: the VMs' bytes
/// are `used_memory_vm_eval`, and `used_memory_vm_functions` stays 0.
fn scripting_memory(sh: &Shard, vm: u64) -> String {
    let scripts = &sh.host.shared.scripts;
    let eval = scripts.cache.memory() as u64;
    let functions = scripts.functions.memory() as u64;
    let (libraries, function_count) = scripts.functions.counts();
    format!(
        "used_memory_lua:{vm}\r\nused_memory_vm_eval:{vm}\r\nused_memory_lua_human:{}\r\n\
         used_memory_scripts_eval:{eval}\r\nnumber_of_cached_scripts:{}\r\n\
         number_of_functions:{function_count}\r\nnumber_of_libraries:{libraries}\r\n\
         used_memory_vm_functions:0\r\nused_memory_vm_total:{vm}\r\nused_memory_vm_total_human:{}\r\n\
         used_memory_functions:{functions}\r\nused_memory_scripts:{}\r\nused_memory_scripts_human:{}\r\n",
        human(vm),
        scripts.cache.len(),
        human(vm),
        eval + functions,
        human(eval + functions),
    )
}

/// `os`: the kernel's name, release and machine, as Redis prints uname.
fn os_name() -> &'static str {
    static OS: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    OS.get_or_init(|| {
        // SAFETY: uname fills the zeroed struct we pass it with
        // NUL-terminated strings.
        unsafe {
            let mut u: libc::utsname = std::mem::zeroed();
            if libc::uname(&mut u) != 0 {
                return format!("{} {}", std::env::consts::OS, std::env::consts::ARCH);
            }
            let field = |f: &[libc::c_char]| {
                std::ffi::CStr::from_ptr(f.as_ptr())
                    .to_string_lossy()
                    .into_owned()
            };
            format!(
                "{} {} {}",
                field(&u.sysname),
                field(&u.release),
                field(&u.machine)
            )
        }
    })
}

pub(crate) fn human(bytes: u64) -> String {
    let b = bytes as f64;
    if b < 1024.0 {
        format!("{bytes}B")
    } else if b < 1024.0 * 1024.0 {
        format!("{:.2}K", b / 1024.0)
    } else if b < 1024.0 * 1024.0 * 1024.0 {
        format!("{:.2}M", b / 1024.0 / 1024.0)
    } else {
        format!("{:.2}G", b / 1024.0 / 1024.0 / 1024.0)
    }
}

pub(crate) fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|p| p.parse::<u64>().ok())
        })
        .map_or(0, |pages| pages * 4096)
}

fn total_system_memory() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| {
                    l.split_whitespace()
                        .nth(1)
                        .and_then(|k| k.parse::<u64>().ok())
                })
        })
        .map_or(0, |kb| kb * 1024)
}

const DEFAULT_SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "errorstats",
    "cluster",
    "keyspace",
];
const ALL_SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "commandstats",
    "errorstats",
    "latencystats",
    "cluster",
    "keyspace",
];

/// INFO [section ...]
pub fn info<'a>(sh: &'a Rc<Shard>, s: &'a mut Session, a: Vec<Bytes>) -> LocalBoxFuture<'a, Reply> {
    Box::pin(async move {
        let mut wanted: Vec<&str> = Vec::new();
        let asked: Vec<String> = a[1..]
            .iter()
            .map(|x| String::from_utf8_lossy(x).to_ascii_lowercase())
            .collect();
        if asked.is_empty() || asked.iter().any(|x| x == "default") {
            wanted.extend(DEFAULT_SECTIONS);
        }
        if asked.iter().any(|x| x == "all" || x == "everything") {
            wanted.extend(ALL_SECTIONS);
        }
        for x in &asked {
            if let Some(s) = ALL_SECTIONS.iter().find(|s| *s == x) {
                wanted.push(s);
            }
        }
        // Read before the snapshots: INFO's own buffers are not the server's.
        let alloc = crate::alloc::stats();
        let snaps = sh.on_every_shard(s.parent, snapshot).await;
        let text = render_info(sh, &snaps, &alloc, |s| wanted.contains(&s));
        Reply::Verbatim(Bytes::from(text))
    })
}

fn render_info(
    sh: &Shard,
    snaps: &[CoreSnapshot],
    alloc: &crate::alloc::Stats,
    want: impl Fn(&str) -> bool,
) -> String {
    let config = sh.host.config();
    let shared = &sh.host.shared;
    let mut total = CoreStats::new(table::row_count());
    let mut ks = crate::keyspace::store::KeyspaceStats::default();
    for s in snaps {
        total.merge(&s.stats);
        ks.hits += s.keyspace.hits;
        ks.misses += s.keyspace.misses;
        ks.expired += s.keyspace.expired;
        ks.expired_stale_perc += s.keyspace.expired_stale_perc / snaps.len() as f64;
        ks.expire_cycle_time_us += s.keyspace.expire_cycle_time_us;
        ks.expired_time_cap_reached += s.keyspace.expired_time_cap_reached;
    }
    let used = alloc.allocated;
    let startup = shared.startup_memory.load(Ordering::Relaxed);
    let counted: u64 = snaps.iter().map(|s| s.dataset as u64).sum();
    let dataset = super::memory::dataset_bytes(used, startup, counted);
    let peak = shared
        .memory
        .peak
        .fetch_max(used, Ordering::Relaxed)
        .max(used);
    let rss = rss_bytes();
    let uptime = shared.started.elapsed().as_secs();
    let mut o = String::new();
    let section = |name: &str, o: &mut String, body: &dyn Fn(&mut String)| {
        if want(name) {
            if !o.is_empty() {
                o.push_str("\r\n");
            }
            let mut title = name.to_string();
            title[..1].make_ascii_uppercase();
            if name == "cpu" {
                title.make_ascii_uppercase();
            }
            let _ = write!(o, "# {title}\r\n");
            body(o);
        }
    };
    section("server", &mut o, &|o| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let _ = write!(
            o,
            "redis_version:{REDIS_VERSION}\r\nlanner_version:{LANNER_VERSION}\r\nredis_git_sha1:00000000\r\nredis_git_dirty:0\r\n\
             redis_build_id:0\r\nredis_mode:standalone\r\nos:{}\r\narch_bits:{}\r\nmonotonic_clock:POSIX clock_gettime\r\n\
             multiplexing_api:io_uring\r\natomicvar_api:c11-builtin\r\ngcc_version:0.0.0\r\nprocess_id:{}\r\n\
             process_supervised:no\r\nrun_id:{}\r\ntcp_port:{}\r\nserver_time_usec:{}\r\nuptime_in_seconds:{}\r\n\
             uptime_in_days:{}\r\nhz:{}\r\nconfigured_hz:{}\r\nlru_clock:{}\r\nexecutable:{}\r\nconfig_file:{}\r\n\
             io_threads_active:0\r\nshards:{}\r\n",
            os_name(),
            usize::BITS,
            std::process::id(),
            shared.run_id,
            shared.port,
            now.as_micros(),
            uptime,
            uptime / 86_400,
            config.hz,
            config.hz,
            now.as_secs() & ((1 << 24) - 1),
            shared.executable,
            config.config_file().map(|p| p.display().to_string()).unwrap_or_default(),
            sh.shards(),
        );
    });
    section("clients", &mut o, &|o| {
        let _ = write!(
            o,
            "connected_clients:{}\r\ncluster_connections:0\r\nmaxclients:{}\r\nclient_recent_max_input_buffer:{}\r\n\
             client_recent_max_output_buffer:{}\r\nblocked_clients:{}\r\ntracking_clients:{}\r\nclients_in_timeout_table:{}\r\n",
            total.connected_clients,
            config.maxclients,
            snaps.iter().map(|s| s.max_qbuf).max().unwrap_or(0),
            snaps.iter().map(|s| s.max_omem).max().unwrap_or(0),
            total.blocked_clients,
            snaps.iter().map(|s| s.tracking.0).sum::<usize>(),
            total.blocked_clients,
        );
    });
    section("memory", &mut o, &|o| {
        let sysmem = total_system_memory();
        let ratio = |a: u64, b: u64| if b > 0 { a as f64 / b as f64 } else { 0.0 };
        let overhead = used.saturating_sub(dataset);
        let lazy = &shared.lazyfree;
        let _ = write!(
            o,
            "used_memory:{used}\r\nused_memory_human:{}\r\nused_memory_rss:{rss}\r\nused_memory_rss_human:{}\r\n\
             used_memory_peak:{peak}\r\nused_memory_peak_human:{}\r\nused_memory_peak_perc:{:.2}%\r\n\
             used_memory_overhead:{overhead}\r\nused_memory_startup:{startup}\r\nused_memory_dataset:{dataset}\r\n\
             used_memory_dataset_perc:{:.2}%\r\nallocator_allocated:{}\r\nallocator_active:{}\r\n\
             allocator_resident:{}\r\ntotal_system_memory:{sysmem}\r\ntotal_system_memory_human:{}\r\n\
             {}maxmemory:{}\r\nmaxmemory_human:{}\r\nmaxmemory_policy:{}\r\nallocator_frag_ratio:{:.2}\r\n\
             allocator_frag_bytes:{}\r\nallocator_rss_ratio:{:.2}\r\nallocator_rss_bytes:{}\r\n\
             rss_overhead_ratio:{:.2}\r\nrss_overhead_bytes:{}\r\nmem_fragmentation_ratio:{:.2}\r\n\
             mem_fragmentation_bytes:{}\r\nmem_not_counted_for_evict:0\r\nmem_replication_backlog:0\r\n\
             mem_total_replication_buffers:0\r\nmem_clients_slaves:0\r\nmem_clients_normal:{}\r\n\
             mem_cluster_links:0\r\nmem_aof_buffer:0\r\nmem_allocator:{}\r\nactive_defrag_running:0\r\n\
             lazyfree_pending_objects:{}\r\nlazyfreed_objects:{}\r\n",
            human(used),
            human(rss),
            human(peak),
            ratio(used, peak) * 100.0,
            ratio(dataset, used.saturating_sub(startup)) * 100.0,
            alloc.allocated,
            alloc.active,
            alloc.resident,
            human(sysmem),
            scripting_memory(sh, snaps.iter().map(|s| s.lua_memory as u64).sum()),
            config.maxmemory,
            human(config.maxmemory),
            config.maxmemory_policy,
            ratio(alloc.active, alloc.allocated),
            alloc.active as i64 - alloc.allocated as i64,
            ratio(alloc.resident, alloc.active),
            alloc.resident as i64 - alloc.active as i64,
            ratio(rss, alloc.resident),
            rss as i64 - alloc.resident as i64,
            ratio(rss, used),
            rss as i64 - used as i64,
            snaps.iter().map(|s| s.client_memory as u64).sum::<u64>(),
            crate::alloc::NAME,
            lazy.pending.load(Ordering::Relaxed),
            lazy.freed.load(Ordering::Relaxed),
        );
        for (i, s) in snaps.iter().enumerate() {
            let _ = write!(o, "used_memory_shard{i}:{}\r\n", s.used_memory);
        }
    });
    section("persistence", &mut o, &|o| {
        let started = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs()
            - uptime;
        let _ = write!(
            o,
            "loading:0\r\nasync_loading:0\r\ncurrent_cow_peak:0\r\ncurrent_cow_size:0\r\ncurrent_cow_size_age:0\r\n\
             current_fork_perc:0.00\r\ncurrent_save_keys_processed:0\r\ncurrent_save_keys_total:0\r\n\
             rdb_changes_since_last_save:0\r\nrdb_bgsave_in_progress:0\r\nrdb_last_save_time:{started}\r\n\
             rdb_last_bgsave_status:ok\r\nrdb_last_bgsave_time_sec:-1\r\nrdb_current_bgsave_time_sec:-1\r\n\
             rdb_saves:0\r\nrdb_last_cow_size:0\r\nrdb_last_load_keys_expired:0\r\nrdb_last_load_keys_loaded:0\r\n\
             aof_enabled:0\r\naof_rewrite_in_progress:0\r\naof_rewrite_scheduled:0\r\n\
             aof_last_rewrite_time_sec:-1\r\naof_current_rewrite_time_sec:-1\r\naof_last_bgrewrite_status:ok\r\n\
             aof_rewrites:0\r\naof_rewrites_consecutive_failures:0\r\naof_last_write_status:ok\r\n\
             aof_last_cow_size:0\r\nmodule_fork_in_progress:0\r\nmodule_fork_last_cow_size:0\r\n",
        );
    });
    let ps = sh.host.shared.pubsub.counts();
    section("stats", &mut o, &|o| {
        let rate = |i: usize| snaps.iter().map(|s| s.rates[i]).sum::<f64>();
        let _ = write!(
            o,
            "total_connections_received:{}\r\ntotal_commands_processed:{}\r\ninstantaneous_ops_per_sec:{}\r\n\
             total_net_input_bytes:{}\r\ntotal_net_output_bytes:{}\r\ntotal_net_repl_input_bytes:0\r\n\
             total_net_repl_output_bytes:0\r\ninstantaneous_input_kbps:{:.2}\r\ninstantaneous_output_kbps:{:.2}\r\n\
             instantaneous_input_repl_kbps:0.00\r\ninstantaneous_output_repl_kbps:0.00\r\nrejected_connections:{}\r\n\
             sync_full:0\r\nsync_partial_ok:0\r\nsync_partial_err:0\r\n\
             expired_keys:{}\r\nexpired_stale_perc:{:.2}\r\nexpired_time_cap_reached_count:{}\r\n\
             expire_cycle_cpu_milliseconds:{}\r\nevicted_keys:{}\r\nevicted_clients:{}\r\n\
             total_eviction_exceeded_time:{}\r\ncurrent_eviction_exceeded_time:{}\r\nkeyspace_hits:{}\r\n\
             keyspace_misses:{}\r\npubsub_channels:{}\r\npubsub_patterns:{}\r\npubsubshard_channels:{}\r\n\
             latest_fork_usec:0\r\ntotal_forks:0\r\nmigrate_cached_sockets:0\r\nslave_expires_tracked_keys:0\r\n\
             active_defrag_hits:0\r\nactive_defrag_misses:0\r\nactive_defrag_key_hits:0\r\n\
             active_defrag_key_misses:0\r\ntotal_active_defrag_time:0\r\ncurrent_active_defrag_time:0\r\n\
             tracking_total_keys:{}\r\ntracking_total_items:{}\r\ntracking_total_prefixes:{}\r\n\
             unexpected_error_replies:0\r\ntotal_error_replies:{}\r\ndump_payload_sanitizations:0\r\n\
             total_reads_processed:{}\r\ntotal_writes_processed:{}\r\nio_threaded_reads_processed:0\r\n\
             io_threaded_writes_processed:0\r\nreply_buffer_shrinks:{}\r\nreply_buffer_expands:{}\r\n\
             client_query_buffer_limit_disconnections:{}\r\nclient_output_buffer_limit_disconnections:{}\r\n\
             cross_shard_hops:{}\r\ncross_shard_packets:{}\r\ncross_shard_packet_items:{}\r\n",
            total.connections_received,
            total.total_commands,
            rate(0) as u64,
            total.net_input_bytes,
            total.net_output_bytes,
            rate(1) / 1024.0,
            rate(2) / 1024.0,
            total.rejected_connections,
            ks.expired,
            ks.expired_stale_perc * 100.0,
            ks.expired_time_cap_reached,
            ks.expire_cycle_time_us / 1000,
            snaps.iter().map(|s| s.evicted).sum::<u64>(),
            total.evicted_clients,
            snaps.iter().map(|s| s.exceeded_ms.0).max().unwrap_or(0),
            snaps.iter().map(|s| s.exceeded_ms.1).max().unwrap_or(0),
            ks.hits,
            ks.misses,
            ps.0,
            ps.1,
            ps.2,
            // Keys live on one shard each; every shard has every prefix.
            snaps.iter().map(|s| s.tracking.1).sum::<usize>(),
            snaps.iter().map(|s| s.tracking.2).sum::<usize>(),
            snaps.iter().map(|s| s.tracking.3).max().unwrap_or(0),
            total.total_error_replies,
            total.reads_processed,
            total.writes_processed,
            total.reply_buffer_shrinks,
            total.reply_buffer_expands,
            total.query_buffer_disconnections,
            sh.host.shared.pubsub.drops.load(std::sync::atomic::Ordering::Relaxed),
            total.hops,
            snaps.iter().map(|s| s.packets.0).sum::<u64>(),
            snaps.iter().map(|s| s.packets.1).sum::<u64>(),
        );
        for (i, s) in snaps.iter().enumerate() {
            let _ = write!(o, "evicted_keys_shard{i}:{}\r\n", s.evicted);
        }
    });
    section("replication", &mut o, &|o| {
        let replid: String = shared.run_id.chars().rev().collect();
        let _ = write!(
            o,
            "role:master\r\nconnected_slaves:0\r\nmaster_failover_state:no-failover\r\nmaster_replid:{replid}\r\n\
             master_replid2:0000000000000000000000000000000000000000\r\nmaster_repl_offset:0\r\n\
             second_repl_offset:-1\r\nrepl_backlog_active:0\r\nrepl_backlog_size:1048576\r\n\
             repl_backlog_first_byte_offset:0\r\nrepl_backlog_histlen:0\r\n"
        );
    });
    section("cpu", &mut o, &|o| {
        let (user, sys) = rusage(libc::RUSAGE_SELF);
        let (cu, cs) = rusage(libc::RUSAGE_CHILDREN);
        let (mu, ms) = snaps
            .first()
            .map_or((0.0, 0.0), |s| (s.cpu_user, s.cpu_sys));
        let _ = write!(
            o,
            "used_cpu_sys:{sys:.6}\r\nused_cpu_user:{user:.6}\r\nused_cpu_sys_children:{cs:.6}\r\nused_cpu_user_children:{cu:.6}\r\n\
             used_cpu_sys_main_thread:{ms:.6}\r\nused_cpu_user_main_thread:{mu:.6}\r\n"
        );
        for (i, s) in snaps.iter().enumerate() {
            let _ = write!(
                o,
                "used_cpu_sys_shard{i}:{:.6}\r\nused_cpu_user_shard{i}:{:.6}\r\n",
                s.cpu_sys, s.cpu_user
            );
        }
    });
    section("modules", &mut o, &|_| {});
    section("commandstats", &mut o, &|o| {
        for (c, s) in table::all().zip(&total.commands) {
            if s.calls + s.rejected + s.failed == 0 {
                continue;
            }
            let per = if s.calls > 0 {
                s.usec as f64 / s.calls as f64
            } else {
                0.0
            };
            let _ = write!(
                o,
                "cmdstat_{}:calls={},usec={},usec_per_call={per:.2},rejected_calls={},failed_calls={}\r\n",
                c.name, s.calls, s.usec, s.rejected, s.failed
            );
        }
    });
    section("errorstats", &mut o, &|o| {
        let mut errs: Vec<_> = total.errors.iter().collect();
        errs.sort();
        for (e, n) in errs {
            let _ = write!(o, "errorstat_{e}:count={n}\r\n");
        }
    });
    section("latencystats", &mut o, &|o| {
        o.push_str(&crate::observe::latency_percentiles(&total))
    });
    section("cluster", &mut o, &|o| o.push_str("cluster_enabled:0\r\n"));
    section("keyspace", &mut o, &|o| {
        let dbs = snaps.first().map_or(0, |s| s.dbs.len());
        for d in 0..dbs {
            let keys: usize = snaps.iter().map(|s| s.dbs[d].0).sum();
            let expires: usize = snaps.iter().map(|s| s.dbs[d].1).sum();
            if keys > 0 {
                let _ = write!(
                    o,
                    "db{d}:keys={keys},expires={expires},avg_ttl={}\r\n",
                    avg_ttl(snaps, d)
                );
            }
        }
    });
    o
}

const CONFIG_HELP: &[&str] = &[
    "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GET <pattern>",
    "    Return parameters matching the glob-like <pattern> and their values.",
    "SET <directive> <value>",
    "    Set the configuration <directive> to <value>.",
    "RESETSTAT",
    "    Reset statistics reported by the INFO command.",
    "REWRITE",
    "    Rewrite the configuration file.",
    "HELP",
    "    Prints this help.",
];

/// CONFIG HELP
pub fn config_help(_sh: &Rc<Shard>, _s: &mut Session, _a: &[Bytes]) -> Reply {
    help_reply(CONFIG_HELP)
}

/// CONFIG GET parameter [parameter ...]
pub fn config_get(sh: &Rc<Shard>, _s: &mut Session, a: &[Bytes]) -> Reply {
    let patterns: Vec<&[u8]> = a[2..].iter().map(|p| p.as_ref()).collect();
    let pairs = sh.host.shared.config_snapshot().get(&patterns);
    Reply::Map(
        pairs
            .into_iter()
            .map(|(k, v)| (bulk(&k), bulk(&v)))
            .collect(),
    )
}

/// CONFIG SET parameter value [parameter value ...]
pub fn config_set(sh: &Rc<Shard>, _s: &mut Session, a: &[Bytes]) -> Reply {
    if a.len() % 2 != 0 {
        return errors::wrong_arity(a);
    }
    let pairs: Vec<(&[u8], &[u8])> = a[2..]
        .chunks(2)
        .map(|p| (p[0].as_ref(), p[1].as_ref()))
        .collect();
    match sh.host.shared.update_config(|c| c.set(&pairs)) {
        Ok(()) => Reply::Ok,
        Err(e) => Reply::error(e),
    }
}

/// CONFIG RESETSTAT
pub fn config_resetstat<'a>(
    sh: &'a Rc<Shard>,
    s: &'a mut Session,
    _a: Vec<Bytes>,
) -> LocalBoxFuture<'a, Reply> {
    Box::pin(async move {
        sh.on_every_shard(s.parent, |shard: &Shard| {
            shard.host.stats.borrow_mut().reset();
            let mut st = shard.store.borrow_mut();
            st.stats = Default::default();
        })
        .await;
        Reply::Ok
    })
}

/// CONFIG REWRITE
pub fn config_rewrite(sh: &Rc<Shard>, _s: &mut Session, _a: &[Bytes]) -> Reply {
    match sh.host.shared.config_snapshot().rewrite() {
        Ok(()) => Reply::Ok,
        Err(e) => Reply::error(e),
    }
}
