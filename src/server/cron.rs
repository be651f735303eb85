//! Each core's periodic work, `hz` times a second: active expiry of its
//! shard (not during a CLIENT PAUSE), idle-client timeouts, the throughput sample behind
//! `instantaneous_ops_per_sec`, and noticing shutdown.

use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::time::Duration;

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
        sh.host.sample_ops();
        sh.poll();
    }
}
