//! Active expiry: removes expired keys that nobody touches.
//!
//! Runs on each shard's own core from its cron, `hz` times a second, like
//! Redis's `activeExpireCycle`: per database, sample 20 keys that have a TTL,
//! delete the expired ones, and repeat while more than 10% of a sample was
//! expired — within a time budget of 25% of the cron period, so a shard
//! full of expiring keys never stalls its connections. Keys that expire
//! untouched are therefore gone, and their memory returned, within about a
//! second. Each key it deletes raises an "expired" keyspace event.

use std::time::{Duration, Instant};

use super::store::Store;

const KEYS_PER_LOOP: usize = 20;
const ACCEPTABLE_STALE_PERCENT: usize = 10;

/// One cycle; returns true if it stopped because the budget ran out.
pub fn active_expire_cycle(st: &mut Store, budget: Duration) -> bool {
    let start = Instant::now();
    st.refresh_clock();
    let mut rng = std::mem::replace(&mut st.rng, rand::SeedableRng::seed_from_u64(0));
    let (mut sampled_total, mut expired_total) = (0usize, 0usize);
    let mut timed_out = false;
    'dbs: for db in 0..st.databases() {
        loop {
            let (sampled, expired) = st.expire_sample(db, &mut rng, KEYS_PER_LOOP);
            sampled_total += sampled;
            expired_total += expired;
            if sampled == 0 || expired * 100 <= sampled * ACCEPTABLE_STALE_PERCENT {
                break;
            }
            if start.elapsed() > budget {
                timed_out = true;
                break 'dbs;
            }
        }
    }
    st.rng = rng;
    st.stats.expired += expired_total as u64;
    if sampled_total > 0 {
        let perc = expired_total as f64 / sampled_total as f64;
        st.stats.expired_stale_perc = perc * 0.05 + st.stats.expired_stale_perc * 0.95;
    }
    st.stats.expire_cycle_time_us += start.elapsed().as_micros() as u64;
    if timed_out {
        st.stats.expired_time_cap_reached += 1;
    }
    timed_out
}
