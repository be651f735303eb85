//! MEMORY USAGE | STATS | DOCTOR | MALLOC-STATS | PURGE | HELP.
//!
//! Sizes are lanner's own accounting of the keyspace (`keyspace::store`: key,
//! value and table overhead), the figure INFO reports as `used_memory`.
//! MEMORY USAGE runs on the key's owning shard; STATS and DOCTOR sum every
//! shard. lanner uses the system allocator, so there are no allocator
//! statistics to show.

use std::rc::Rc;

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
                let per_shard = sh.on_every_shard(s.parent, shard_memory).await;
                stats(&per_shard)
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

/// MEMORY STATS in Redis 7.0's shape; figures lanner has no counterpart
/// for (replication backlog, AOF buffer, Lua caches …) are 0.
fn stats(per_shard: &[(u64, Vec<usize>)]) -> Reply {
    let used: u64 = per_shard.iter().map(|s| s.0).sum();
    let rss = super::server::rss_bytes();
    let dbs = per_shard.first().map_or(0, |s| s.1.len());
    let keys: usize = per_shard.iter().flat_map(|s| s.1.iter()).sum();
    let int = |v: u64| Reply::Int(v as i64);
    let ratio = |a: u64, b: u64| Reply::Double(if b == 0 { 0.0 } else { a as f64 / b as f64 });
    let mut m = vec![
        (bulk("peak.allocated"), int(used)),
        (bulk("total.allocated"), int(used)),
        (bulk("startup.allocated"), int(0)),
        (bulk("replication.backlog"), int(0)),
        (bulk("clients.slaves"), int(0)),
        (bulk("clients.normal"), int(0)),
        (bulk("cluster.links"), int(0)),
        (bulk("aof.buffer"), int(0)),
        (bulk("lua.caches"), int(0)),
        (bulk("functions.caches"), int(0)),
    ];
    for d in 0..dbs {
        if per_shard.iter().all(|s| s.1[d] == 0) {
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
        (bulk("overhead.total"), int(0)),
        (bulk("keys.count"), int(keys as u64)),
        (
            bulk("keys.bytes-per-key"),
            int(if keys == 0 { 0 } else { used / keys as u64 }),
        ),
        (bulk("dataset.bytes"), int(used)),
        (
            bulk("dataset.percentage"),
            Reply::Double(if used == 0 { 0.0 } else { 100.0 }),
        ),
        (
            bulk("peak.percentage"),
            Reply::Double(if used == 0 { 0.0 } else { 100.0 }),
        ),
        (bulk("allocator.allocated"), int(used)),
        (bulk("allocator.active"), int(used)),
        (bulk("allocator.resident"), int(rss)),
        (bulk("allocator-fragmentation.ratio"), ratio(used, used)),
        (bulk("allocator-fragmentation.bytes"), int(0)),
        (bulk("allocator-rss.ratio"), ratio(rss, used)),
        (bulk("allocator-rss.bytes"), int(rss.saturating_sub(used))),
        (bulk("rss-overhead.ratio"), ratio(rss, rss)),
        (bulk("rss-overhead.bytes"), int(0)),
        (bulk("fragmentation"), ratio(rss, used)),
        (bulk("fragmentation.bytes"), int(rss.saturating_sub(used))),
    ]);
    Reply::Map(m)
}
