//! MEMORY USAGE | STATS | DOCTOR | MALLOC-STATS | PURGE | HELP, and
//! [`Usage`], the memory figures INFO memory and MEMORY STATS share.
//!
//! Key sizes are lanner's own accounting of the keyspace (`keyspace::store`:
//! key, value and table overhead). MEMORY USAGE runs on the key's owning
//! shard; STATS and DOCTOR sum every shard. lanner does not read jemalloc's
//! statistics, so `used_memory` is built from what lanner counts: the
//! resident size at start-up (code, executors, io buffers), plus the
//! keyspace, client buffers, script caches and the Lua VMs. On an idle
//! server that is close to the RSS, so `mem_fragmentation_ratio` (RSS /
//! used_memory) starts near 1. Under load it reads higher than Redis's:
//! the keyspace accounting leaves out allocator size-class rounding.

use std::rc::Rc;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use futures::future::LocalBoxFuture;

use super::args::{self, eq};
use super::errors;
use super::keys::help_reply;
use super::on_store;
use super::server::{rss_bytes, snapshot, CoreSnapshot};
use crate::command::session::Session;
use crate::keyspace::locks::Claim;
use crate::resp::Reply;
use crate::runtime::Plan;
use crate::services::Shard;

const HELP: &[&str] = &[
    "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DOCTOR",
    "    Return memory problems reports.",
    "MALLOC-STATS",
    "    Return internal statistics report from the memory allocator.",
    "PURGE",
    "    Attempt to purge dirty pages for reclamation by the allocator.",
    "STATS",
    "    Return information about the memory usage of the server.",
    "USAGE <key> [SAMPLES <count>]",
    "    Return memory in bytes used by <key> and its value. Nested values are",
    "    sampled up to <count> times (default: 5, 0 means sample all).",
    "HELP",
    "    Prints this help.",
];

fn bulk(s: &str) -> Reply {
    Reply::Bulk(Bytes::copy_from_slice(s.as_bytes()))
}

/// The process's memory in Redis's terms (INFO memory, MEMORY STATS).
pub(crate) struct Usage {
    /// `used_memory`: startup + dataset + clients + Lua + scripts.
    pub used: u64,
    /// Resident bytes once every shard was ready.
    pub startup: u64,
    /// The keyspace, every shard's accounting summed.
    pub dataset: u64,
    /// Every client's buffers (CLIENT LIST `tot-mem`, summed).
    pub clients: u64,
    /// Bytes the Lua VMs hold, every core's VM summed.
    pub lua: u64,
    /// The EVAL script cache and the function libraries' code.
    pub scripts_eval: u64,
    pub functions: u64,
    pub peak: u64,
    pub rss: u64,
}

impl Usage {
    /// Measures from every core's snapshot; raises the recorded peak.
    pub fn measure(sh: &Shard, snaps: &[CoreSnapshot]) -> Usage {
        let shared = &sh.host.shared;
        let sum = |f: fn(&CoreSnapshot) -> usize| snaps.iter().map(|s| f(s) as u64).sum::<u64>();
        let (dataset, clients, lua) = (
            sum(|s| s.used_memory),
            sum(|s| s.client_memory),
            sum(|s| s.lua_memory),
        );
        let scripts_eval = shared.scripts.cache.memory() as u64;
        let functions = shared.scripts.functions.memory() as u64;
        let startup = shared.startup_memory.load(Ordering::Relaxed);
        let used = startup + dataset + clients + lua + scripts_eval + functions;
        let peak = shared
            .peak_memory
            .fetch_max(used, Ordering::Relaxed)
            .max(used);
        Usage {
            used,
            startup,
            dataset,
            clients,
            lua,
            scripts_eval,
            functions,
            peak,
            rss: rss_bytes(),
        }
    }

    /// Everything but the dataset (`used_memory_overhead`).
    pub fn overhead(&self) -> u64 {
        self.used - self.dataset
    }

    /// The dataset's share of what was used beyond start-up, as Redis's
    /// `used_memory_dataset_perc`.
    pub fn dataset_perc(&self) -> f64 {
        percent(self.dataset, self.used - self.startup)
    }

    pub fn peak_perc(&self) -> f64 {
        percent(self.used, self.peak)
    }

    /// `mem_fragmentation_ratio`: RSS / used_memory.
    pub fn fragmentation(&self) -> f64 {
        ratio(self.rss, self.used)
    }
}

fn percent(part: u64, whole: u64) -> f64 {
    100.0 * ratio(part, whole)
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// Below this, MEMORY DOCTOR has nothing to say (Redis's 5 MB).
const DOCTOR_MIN_BYTES: u64 = 5 * 1024 * 1024;

/// One shard's memory figures: used bytes and keys per db.
fn shard_memory(shard: &Shard) -> (u64, Vec<usize>) {
    let st = shard.store.borrow();
    let dbs = (0..st.databases()).map(|d| st.db_ref(d).len()).collect();
    (st.used_memory() as u64, dbs)
}

/// MEMORY USAGE key [SAMPLES count] | STATS | DOCTOR | MALLOC-STATS | PURGE | HELP
pub fn memory<'a>(
    sh: &'a Rc<Shard>,
    s: &'a mut Session,
    a: Vec<Bytes>,
) -> LocalBoxFuture<'a, Reply> {
    Box::pin(async move {
        let sub = String::from_utf8_lossy(&a[1]).to_ascii_lowercase();
        let n = a.len();
        match sub.as_str() {
            "help" if n == 2 => help_reply(HELP),
            "usage" if n >= 3 => {
                let mut j = 3;
                while j < n {
                    if eq(&a[j], "samples") && j + 1 < n {
                        // Sizes here are exact, so the sample count only
                        // needs to be valid.
                        match args::int(&a[j + 1]) {
                            Ok(v) if v >= 0 => {}
                            Ok(_) => return errors::syntax(),
                            Err(e) => return e,
                        }
                        j += 2;
                    } else {
                        return errors::syntax();
                    }
                }
                let key = a[2].clone();
                let shard = sh.slots.shard_of(&key);
                let claim = Claim::Keys(vec![key.clone()]);
                let mut plan = Plan::new(sh, s.parent);
                let bytes = plan.part(
                    shard,
                    claim,
                    on_store(s.db, move |st, db| st.memory_of(db, &key)),
                );
                plan.run().await;
                match bytes.take() {
                    Some(bytes) => Reply::Int(bytes as i64),
                    None => Reply::Nil,
                }
            }
            "stats" if n == 2 => {
                let snaps = sh.on_every_shard(s.parent, snapshot).await;
                stats(&Usage::measure(sh, &snaps), &snaps)
            }
            "doctor" if n == 2 => {
                let per_shard = sh.on_every_shard(s.parent, shard_memory).await;
                let used: u64 = per_shard.iter().map(|s| s.0).sum();
                let text = if used < DOCTOR_MIN_BYTES {
                    "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n"
                } else {
                    "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n"
                };
                Reply::Verbatim(Bytes::from_static(text.as_bytes()))
            }
            "malloc-stats" if n == 2 => Reply::Verbatim(Bytes::from_static(
                b"Stats not supported for the current allocator",
            )),
            "purge" if n == 2 => {
                // SAFETY: malloc_trim only returns free heap pages to the system.
                unsafe {
                    libc::malloc_trim(0);
                }
                Reply::Ok
            }
            "help" | "usage" | "stats" | "doctor" | "malloc-stats" | "purge" => {
                errors::arity(&format!("memory|{sub}"))
            }
            _ => errors::unknown_subcommand(&a[1], "memory"),
        }
    })
}

/// MEMORY STATS in Redis 7.0's shape, from the same figures as INFO
/// memory. Without allocator statistics, allocated = active = used_memory
/// and resident = RSS; figures lanner has no counterpart for (replication
/// backlog, AOF buffer, per-db table overhead) are 0.
fn stats(u: &Usage, snaps: &[CoreSnapshot]) -> Reply {
    let dbs = snaps.first().map_or(0, |s| s.dbs.len());
    let keys: u64 = snaps
        .iter()
        .flat_map(|s| s.dbs.iter())
        .map(|d| d.0 as u64)
        .sum();
    let int = |v: u64| Reply::Int(v as i64);
    let mut m = vec![
        (bulk("peak.allocated"), int(u.peak)),
        (bulk("total.allocated"), int(u.used)),
        (bulk("startup.allocated"), int(u.startup)),
        (bulk("replication.backlog"), int(0)),
        (bulk("clients.slaves"), int(0)),
        (bulk("clients.normal"), int(u.clients)),
        (bulk("cluster.links"), int(0)),
        (bulk("aof.buffer"), int(0)),
        (bulk("lua.caches"), int(u.scripts_eval)),
        (bulk("functions.caches"), int(u.functions)),
    ];
    for d in 0..dbs {
        if snaps.iter().all(|s| s.dbs[d].0 == 0) {
            continue;
        }
        m.push((
            bulk(&format!("db.{d}")),
            Reply::Map(vec![
                (bulk("overhead.hashtable.main"), int(0)),
                (bulk("overhead.hashtable.expires"), int(0)),
                (bulk("overhead.hashtable.slot-to-keys"), int(0)),
            ]),
        ));
    }
    m.extend([
        (bulk("overhead.total"), int(u.overhead())),
        (bulk("keys.count"), int(keys)),
        (
            bulk("keys.bytes-per-key"),
            int((u.used - u.startup).checked_div(keys).unwrap_or(0)),
        ),
        (bulk("dataset.bytes"), int(u.dataset)),
        (bulk("dataset.percentage"), Reply::Double(u.dataset_perc())),
        (bulk("peak.percentage"), Reply::Double(u.peak_perc())),
        (bulk("allocator.allocated"), int(u.used)),
        (bulk("allocator.active"), int(u.used)),
        (bulk("allocator.resident"), int(u.rss)),
        (bulk("allocator-fragmentation.ratio"), Reply::Double(1.0)),
        (bulk("allocator-fragmentation.bytes"), int(0)),
        (
            bulk("allocator-rss.ratio"),
            Reply::Double(u.fragmentation()),
        ),
        (
            bulk("allocator-rss.bytes"),
            int(u.rss.saturating_sub(u.used)),
        ),
        (bulk("rss-overhead.ratio"), Reply::Double(1.0)),
        (bulk("rss-overhead.bytes"), int(0)),
        (bulk("fragmentation"), Reply::Double(u.fragmentation())),
        (
            bulk("fragmentation.bytes"),
            int(u.rss.saturating_sub(u.used)),
        ),
    ]);
    Reply::Map(m)
}
