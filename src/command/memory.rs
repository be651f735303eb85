//! MEMORY USAGE | STATS | DOCTOR | MALLOC-STATS | PURGE | HELP.
//!
//! MEMORY USAGE is the keyspace's estimate of one key (key, value and its
//! slot, in the allocator's size classes), on the key's owning shard. STATS
//! and DOCTOR read the allocator's statistics (`crate::alloc`) and sum the
//! tables and client buffers of every shard; MALLOC-STATS is jemalloc's own
//! report and PURGE returns its unused pages to the system.

use std::rc::Rc;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use futures::future::LocalBoxFuture;

use super::args::{self, eq};
use super::errors;
use super::keys::help_reply;
use super::on_store;
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

/// Below this, MEMORY DOCTOR has nothing to say (Redis's 5 MB).
const DOCTOR_MIN_BYTES: u64 = 5 * 1024 * 1024;

/// One shard's part of MEMORY STATS.
struct ShardMemory {
    /// The keyspace's count of its keys and values.
    dataset: u64,
    /// Per database: keys, main table bytes, expires list bytes.
    dbs: Vec<(usize, usize, usize)>,
    /// This core's connections' query and output buffers.
    clients: u64,
}

fn shard_memory(shard: &Shard) -> ShardMemory {
    let st = shard.store.borrow();
    let dbs = (0..st.databases())
        .map(|d| {
            let db = st.db_ref(d);
            let (main, expires) = db.overhead();
            (db.len(), main, expires)
        })
        .collect();
    ShardMemory {
        dataset: st.used_memory() as u64,
        dbs,
        clients: shard.host.client_buffers(),
    }
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
                let per_shard = sh.on_every_shard(s.parent, shard_memory).await;
                stats(&Figures::gather(sh, &per_shard))
            }
            "doctor" if n == 2 => {
                let per_shard = sh.on_every_shard(s.parent, shard_memory).await;
                Reply::Verbatim(Bytes::from(doctor(&Figures::gather(sh, &per_shard))))
            }
            "malloc-stats" if n == 2 => Reply::Verbatim(Bytes::from(crate::alloc::report())),
            "purge" if n == 2 => {
                crate::alloc::purge();
                Reply::Ok
            }
            "help" | "usage" | "stats" | "doctor" | "malloc-stats" | "purge" => {
                errors::arity(&format!("memory|{sub}"))
            }
            _ => errors::unknown_subcommand(&a[1], "memory"),
        }
    })
}

/// The process's memory as MEMORY STATS and DOCTOR describe it.
struct Figures {
    allocated: u64,
    peak: u64,
    startup: u64,
    clients: u64,
    /// Keys and values, by the keyspace's count (INFO `used_memory_dataset`).
    dataset: u64,
    /// Per database that has keys: (main table, expires list) bytes.
    dbs: Vec<(usize, u64, u64)>,
    keys: u64,
    alloc: crate::alloc::Stats,
    rss: u64,
}

impl Figures {
    fn gather(sh: &Shard, per_shard: &[ShardMemory]) -> Figures {
        let alloc = crate::alloc::stats();
        let shared = &sh.host.shared;
        let peak = shared
            .memory
            .peak
            .fetch_max(alloc.allocated, Ordering::Relaxed)
            .max(alloc.allocated);
        let ndbs = per_shard.first().map_or(0, |s| s.dbs.len());
        let dbs = (0..ndbs)
            .filter(|&d| per_shard.iter().any(|s| s.dbs[d].0 > 0))
            .map(|d| {
                let sum = |f: fn(&(usize, usize, usize)) -> usize| {
                    per_shard.iter().map(|s| f(&s.dbs[d]) as u64).sum::<u64>()
                };
                (d, sum(|x| x.1), sum(|x| x.2))
            })
            .collect();
        Figures {
            allocated: alloc.allocated,
            peak,
            startup: shared.startup_memory.load(Ordering::Relaxed),
            clients: per_shard.iter().map(|s| s.clients).sum(),
            dataset: per_shard.iter().map(|s| s.dataset).sum(),
            dbs,
            keys: per_shard
                .iter()
                .flat_map(|s| s.dbs.iter())
                .map(|d| d.0 as u64)
                .sum(),
            alloc,
            rss: super::server::rss_bytes(),
        }
    }

    /// Memory that is not the data, as INFO's `used_memory_overhead`.
    fn overhead(&self) -> u64 {
        self.allocated.saturating_sub(self.dataset)
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// MEMORY STATS in Redis 7.0's shape. lanner has no replicas, cluster
/// links or AOF yet, so those entries are 0.
fn stats(f: &Figures) -> Reply {
    let int = |v: u64| Reply::Int(v as i64);
    let signed = |v: i64| Reply::Int(v);
    let a = &f.alloc;
    let mut m = vec![
        (bulk("peak.allocated"), int(f.peak)),
        (bulk("total.allocated"), int(f.allocated)),
        (bulk("startup.allocated"), int(f.startup)),
        (bulk("replication.backlog"), int(0)),
        (bulk("clients.slaves"), int(0)),
        (bulk("clients.normal"), int(f.clients)),
        (bulk("cluster.links"), int(0)),
        (bulk("aof.buffer"), int(0)),
    ];
    for &(d, main, expires) in &f.dbs {
        m.push((
            bulk(&format!("db.{d}")),
            Reply::Map(vec![
                (bulk("overhead.hashtable.main"), int(main)),
                (bulk("overhead.hashtable.expires"), int(expires)),
            ]),
        ));
    }
    let dataset = f.dataset;
    m.extend([
        (bulk("overhead.total"), int(f.overhead())),
        (bulk("keys.count"), int(f.keys)),
        (
            bulk("keys.bytes-per-key"),
            int(f
                .allocated
                .saturating_sub(f.startup)
                .checked_div(f.keys)
                .unwrap_or(0)),
        ),
        (bulk("dataset.bytes"), int(dataset)),
        (
            bulk("dataset.percentage"),
            Reply::Double(ratio(dataset, f.allocated.saturating_sub(f.startup)) * 100.0),
        ),
        (
            bulk("peak.percentage"),
            Reply::Double(ratio(f.allocated, f.peak) * 100.0),
        ),
        (bulk("allocator.allocated"), int(a.allocated)),
        (bulk("allocator.active"), int(a.active)),
        (bulk("allocator.resident"), int(a.resident)),
        (
            bulk("allocator-fragmentation.ratio"),
            Reply::Double(ratio(a.active, a.allocated)),
        ),
        (
            bulk("allocator-fragmentation.bytes"),
            signed(a.active as i64 - a.allocated as i64),
        ),
        (
            bulk("allocator-rss.ratio"),
            Reply::Double(ratio(a.resident, a.active)),
        ),
        (
            bulk("allocator-rss.bytes"),
            signed(a.resident as i64 - a.active as i64),
        ),
        (
            bulk("rss-overhead.ratio"),
            Reply::Double(ratio(f.rss, a.resident)),
        ),
        (
            bulk("rss-overhead.bytes"),
            signed(f.rss as i64 - a.resident as i64),
        ),
        (
            bulk("fragmentation"),
            Reply::Double(ratio(f.rss, f.allocated)),
        ),
        (
            bulk("fragmentation.bytes"),
            signed(f.rss as i64 - f.allocated as i64),
        ),
    ]);
    Reply::Map(m)
}

/// MEMORY DOCTOR: what in the figures deserves an operator's look.
fn doctor(f: &Figures) -> String {
    if f.allocated < DOCTOR_MIN_BYTES {
        return "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n".into();
    }
    let a = &f.alloc;
    let mut found = Vec::new();
    if f.peak as f64 > f.allocated as f64 * 1.5 {
        found.push(format!(
            " * Peak memory: the peak ({}) is more than 150% of what is allocated now ({}). \
             Memory freed since is normally kept by the allocator for reuse; MEMORY PURGE \
             returns its unused pages to the system at once.",
            human(f.peak),
            human(f.allocated)
        ));
    }
    if ratio(a.active, a.allocated) > 1.1 && a.active - a.allocated > 10 << 20 {
        found.push(format!(
            " * High allocator fragmentation: pages in use hold {:.2} times the bytes allocated \
             ({} in partly used pages). Deleting many small keys leaves pages partly filled; \
             they fill again as new keys arrive.",
            ratio(a.active, a.allocated),
            human(a.active - a.allocated)
        ));
    }
    if ratio(a.resident, a.active) > 1.1 && a.resident - a.active > 10 << 20 {
        found.push(format!(
            " * High allocator RSS overhead: the allocator keeps {} of free pages resident; \
             MEMORY PURGE returns them to the system.",
            human(a.resident - a.active)
        ));
    }
    if ratio(f.rss, f.allocated) > 1.4 && f.rss - f.allocated > 10 << 20 {
        found.push(format!(
            " * High total RSS: the process's resident size is {:.2} times what it allocated.",
            ratio(f.rss, f.allocated)
        ));
    }
    if f.clients > 200 << 20 {
        found.push(format!(
            " * Big client buffers: connections' query and output buffers hold {}. \
             Look for clients that send huge pipelines or do not read their replies \
             (CLIENT LIST: qbuf, omem).",
            human(f.clients)
        ));
    }
    if found.is_empty() {
        "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n".into()
    } else {
        format!(
            "Sam, I detected a few issues in this instance's memory:\n\n{}\n",
            found.join("\n\n")
        )
    }
}

fn human(n: u64) -> String {
    super::server::human(n)
}
