//! Each core's periodic work, `hz` times a second: active expiry of its
//! shard (not during a CLIENT PAUSE), idle-client timeouts,
//! `maxmemory-clients`, the throughput sample behind
//! `instantaneous_ops_per_sec`, and noticing shutdown; and the background
//! evictor, which goes on where a command's eviction budget ran out.

use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::keyspace::expire::active_expire_cycle;
use crate::services::Shard;

pub async fn run(sh: Rc<Shard>) {
    loop {
        let config = sh.host.config();
        let hz = config.hz.clamp(1, 500);
        let period = Duration::from_micros(1_000_000 / hz);
        glommio::timer::sleep(period).await;
        if sh.host.shared.shutdown.load(Ordering::Relaxed) {
            return;
        }
        // CLIENT PAUSE keeps the dataset still: no active expiry, and
        // lazy expiry reads expired keys as missing without deleting them.
        let paused = sh.host.shared.pause.is_on();
        sh.store.borrow_mut().expiry_paused = paused;
        if !sh.is_held() && !paused {
            // 25% of the period at most, as Redis's ACTIVE_EXPIRE_CYCLE_SLOW.
            active_expire_cycle(&mut sh.store.borrow_mut(), period / 4);
        }
        if config.timeout > 0 {
            let idle = Duration::from_secs(config.timeout);
            for c in sh.host.clients.borrow().values() {
                let mut c = c.borrow_mut();
                if !c.killed && !c.blocked && c.last_interaction.elapsed() > idle {
                    c.kill();
                }
            }
        }
        if config.maxmemory_clients > 0 {
            limit_client_memory(&sh, config.maxmemory_clients / sh.shards() as u64);
        }
        sh.host.sample_ops();
        sh.poll();
    }
}

/// Over `maxmemory`, evicts in the background: every millisecond while
/// the shard is over the limit (a command's time budget ran out, or
/// buffers grew), a round of eviction with the same budget; otherwise it
/// only looks every 10 ms.
///
/// Every [`OUTSIDE_PERIOD`] under a limit it also learns what the
/// allocator gave out beyond the shards' counters (`Memory::outside`):
/// reading jemalloc's totals costs microseconds, too much for every write.
pub async fn evict(sh: Rc<Shard>) {
    let mut outside_at: Option<Instant> = None;
    loop {
        let busy = {
            let st = sh.store.borrow();
            if st.memory.limit == 0 {
                outside_at = None;
                false
            } else {
                drop(st);
                <crate::services::Services as crate::runtime::Hooks>::before_work(&sh);
                if outside_at.is_none_or(|t| t.elapsed() >= OUTSIDE_PERIOD) {
                    outside_at = Some(Instant::now());
                    let allocated = crate::alloc::stats().allocated;
                    let counted = sh.host.shared.memory.total();
                    sh.store
                        .borrow_mut()
                        .memory
                        .refresh_outside(allocated, counted);
                }
                let mut st = sh.store.borrow_mut();
                st.refresh_clock();
                if st.memory.over() > 0 && !sh.is_held() {
                    st.room_for_write();
                    true
                } else {
                    false
                }
            }
        };
        if busy {
            sh.serve_blocked();
        }
        if sh.host.shared.shutdown.load(Ordering::Relaxed) {
            return;
        }
        let tick = if busy { 1 } else { 10 };
        glommio::timer::sleep(Duration::from_millis(tick)).await;
    }
}

/// How often the background evictor reads jemalloc's totals.
const OUTSIDE_PERIOD: Duration = Duration::from_millis(10);

/// `maxmemory-clients`, this core's share: while its connections' buffers
/// take more, the one using most is disconnected (Redis's client eviction).
fn limit_client_memory(sh: &Shard, share: u64) {
    let clients = sh.host.clients.borrow();
    let mut sizes: Vec<(u64, &Rc<std::cell::RefCell<crate::clients::ClientInfo>>)> = clients
        .values()
        .filter(|c| !c.borrow().killed && !c.borrow().no_evict)
        .map(|c| {
            let i = c.borrow();
            ((i.query_buf + i.omem) as u64, c)
        })
        .collect();
    let mut total: u64 = sizes.iter().map(|s| s.0).sum();
    sizes.sort_by_key(|s| std::cmp::Reverse(s.0));
    for (size, c) in sizes {
        if total <= share {
            break;
        }
        c.borrow_mut().kill();
        total -= size;
        sh.host.stats.borrow_mut().evicted_clients += 1;
    }
}
