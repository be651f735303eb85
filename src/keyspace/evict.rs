//! Staying inside `maxmemory`: what one shard holds, and which of its keys
//! go when the process is over the limit — Redis's approximated LRU, LFU,
//! TTL and random policies.
//!
//! Memory is what the allocator gave out (`alloc::thread_net`): this
//! shard's thread, minus what it handed to the lazy-free thread, plus what
//! every other shard published (`Memory::others`, refreshed about once a
//! millisecond by the layer above). Over the limit, a write command that
//! may grow memory (DENY_OOM) first evicts keys of this shard
//! ([`Store::room_for_write`]): each round samples `maxmemory-samples` keys
//! per database into a pool of the 16 best candidates kept across rounds,
//! as Redis's `evictionPoolPopulate`, and evicts the best. A shard evicts
//! at most `maxmemory-eviction-tenacity`'s time budget (500 us by default)
//! per command; the rest is left to its background evictor, so no request
//! waits long behind eviction.
//!
//! LFU keeps Redis's 24-bit field in `Entry::access`: the last decrement
//! time in minutes (16 bits) and a logarithmic counter (8 bits), raised
//! with probability 1 / ((counter - 5) * lfu-log-factor + 1) and halved
//! every lfu-decay-time minutes without access. LRU keeps the last access
//! in unix seconds.

use std::time::{Duration, Instant};

use rand::Rng;

use super::compact::CompactBytes;
use super::notify;
use super::store::{Entry, Store};

/// `maxmemory-policy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Policy {
    #[default]
    NoEviction,
    AllKeysLru,
    VolatileLru,
    AllKeysLfu,
    VolatileLfu,
    AllKeysRandom,
    VolatileRandom,
    VolatileTtl,
}

impl Policy {
    pub fn parse(name: &str) -> Policy {
        match name {
            "allkeys-lru" => Policy::AllKeysLru,
            "volatile-lru" => Policy::VolatileLru,
            "allkeys-lfu" => Policy::AllKeysLfu,
            "volatile-lfu" => Policy::VolatileLfu,
            "allkeys-random" => Policy::AllKeysRandom,
            "volatile-random" => Policy::VolatileRandom,
            "volatile-ttl" => Policy::VolatileTtl,
            _ => Policy::NoEviction,
        }
    }

    pub fn lfu(self) -> bool {
        matches!(self, Policy::AllKeysLfu | Policy::VolatileLfu)
    }

    /// Only keys with a TTL may go.
    fn volatile(self) -> bool {
        matches!(
            self,
            Policy::VolatileLru
                | Policy::VolatileLfu
                | Policy::VolatileRandom
                | Policy::VolatileTtl
        )
    }
}

/// Candidates kept between eviction rounds (Redis's EVPOOL_SIZE).
const POOL_SIZE: usize = 16;

/// The LFU counter of a new key (Redis's LFU_INIT_VAL).
pub const LFU_INIT: u8 = 5;

struct Candidate {
    /// Higher goes first.
    score: u64,
    db: usize,
    key: CompactBytes,
}

/// How good a candidate `e` is under `policy`: higher goes first. LRU's
/// score is the access time itself (older is better), so it does not age
/// while the candidate waits in the pool.
fn score(policy: Policy, e: &Entry, now_ms: u64, decay_time: u32) -> u64 {
    match policy {
        Policy::AllKeysLfu | Policy::VolatileLfu => {
            255 - lfu_counter(e.access, now_ms, decay_time) as u64
        }
        Policy::VolatileTtl => u64::MAX - e.expire,
        _ => u64::from(u32::MAX - e.access),
    }
}

/// One shard's memory limit, policy and eviction state.
#[derive(Default)]
pub struct Memory {
    /// `maxmemory` in bytes; 0 = no limit.
    pub limit: u64,
    pub policy: Policy,
    pub samples: usize,
    pub tenacity: u32,
    pub lfu_log_factor: u32,
    pub lfu_decay_time: u32,
    /// `lazyfree-lazy-eviction`.
    pub lazy_eviction: bool,
    /// Bytes the rest of the process holds (the other shards' published
    /// usage), refreshed by the layer above.
    pub others: i64,
    /// Keys and values the other shards hold, as last published: a shard
    /// over the limit frees its part of the excess in proportion.
    pub peers_dataset: i64,
    /// Another shard holds keys and its last eviction round found one.
    pub peers_can_evict: bool,
    /// This shard's last eviction round found nothing to evict.
    pub exhausted: bool,
    /// Bytes of values this shard gave to the lazy-free thread: still
    /// counted by its allocator counter until that thread frees them.
    pub handed_off: i64,
    /// Bytes jemalloc counts as given out that no shard's counter holds:
    /// other threads' (start-up, metrics), values handed off but not yet
    /// freed, and freed blocks thread caches keep. Refreshed by the
    /// background evictor ([`Memory::refresh_outside`]) so that the limit
    /// holds for what INFO reports as `used_memory`, as in Redis.
    pub outside: i64,
    /// Keys evicted here so far (INFO `evicted_keys`).
    pub evicted: u64,
    /// Eviction hit its time budget: the background evictor goes on.
    pub behind: bool,
    /// Since when this shard has been over the limit (INFO's
    /// `current_eviction_exceeded_time`), and the total so far.
    pub exceeded_since: Option<Instant>,
    pub exceeded_total: Duration,
    pool: Vec<Candidate>,
    next_db: usize,
}

impl Memory {
    /// What this shard holds by the allocator's count.
    pub fn own(&self) -> i64 {
        crate::alloc::thread_net() - self.handed_off
    }

    /// What the whole process holds, as this shard last learnt it.
    pub fn used(&self) -> i64 {
        self.own() + self.others + self.outside
    }

    /// Learns [`Memory::outside`] from jemalloc's total (`allocated`, as
    /// INFO `used_memory`) and the shards' last published usage (`counted`).
    pub fn refresh_outside(&mut self, allocated: u64, counted: i64) {
        // The system allocator (unit tests) reports 0: nothing to learn.
        self.outside = if allocated == 0 {
            0
        } else {
            allocated as i64 - counted
        };
    }

    /// Bytes over the limit (≤ 0: under it, or no limit).
    pub fn over(&self) -> i64 {
        if self.limit == 0 {
            return 0;
        }
        self.used() - self.limit as i64
    }

    fn time_budget(&self) -> Option<Duration> {
        // Redis's evictionTimeLimitUs.
        let t = self.tenacity;
        if t <= 10 {
            Some(Duration::from_micros(50 * t as u64))
        } else if t < 100 {
            Some(Duration::from_micros(
                (500.0 * 1.15f64.powi(t as i32 - 10)) as u64,
            ))
        } else {
            None
        }
    }
}

/// Minutes on LFU's 16-bit clock.
fn lfu_minutes(now_ms: u64) -> u16 {
    ((now_ms / 60_000) & 0xffff) as u16
}

/// The LFU counter of `access` after decay (Redis's LFUDecrAndReturn).
pub fn lfu_counter(access: u32, now_ms: u64, decay_time: u32) -> u8 {
    let ldt = (access >> 8) as u16;
    let counter = (access & 0xff) as u8;
    let now = lfu_minutes(now_ms);
    let elapsed = if now >= ldt {
        (now - ldt) as u32
    } else {
        65535 - ldt as u32 + now as u32
    };
    let periods = elapsed.checked_div(decay_time).unwrap_or(0);
    counter.saturating_sub(periods.min(255) as u8)
}

/// A new key's access field under `policy`.
pub fn initial_access(policy: Policy, now_ms: u64) -> u32 {
    if policy.lfu() {
        (lfu_minutes(now_ms) as u32) << 8 | LFU_INIT as u32
    } else {
        (now_ms / 1000) as u32
    }
}

impl Store {
    /// Records an access to the entry at `i` of `db` under the current
    /// policy: LRU's time, or LFU's counter (decayed, then maybe raised).
    pub(super) fn touch_at(&mut self, db: usize, i: usize) {
        let now = self.now;
        let lfu = self.memory.policy.lfu();
        let (factor, decay) = (self.memory.lfu_log_factor, self.memory.lfu_decay_time);
        let roll: f64 = if lfu { self.rng.gen() } else { 0.0 };
        let e = self.db(db).at_mut(i);
        if lfu {
            let mut c = lfu_counter(e.access, now, decay);
            if c < 255 {
                let base = c.saturating_sub(LFU_INIT) as f64;
                if roll < 1.0 / (base * factor as f64 + 1.0) {
                    c += 1;
                }
            }
            e.access = (lfu_minutes(now) as u32) << 8 | c as u32;
        } else {
            e.access = (now / 1000) as u32;
        }
    }

    /// Before a command that may grow memory: true when it may run. Over
    /// the limit, evicts this shard's keys by the policy until under it
    /// (or the time budget is spent: the background evictor goes on);
    /// false when the policy is noeviction or nothing is left to evict.
    pub fn room_for_write(&mut self) -> bool {
        if self.memory.over() <= 0 {
            self.memory.behind = false;
            if let Some(since) = self.memory.exceeded_since.take() {
                self.memory.exceeded_total += since.elapsed();
            }
            return true;
        }
        if self.memory.exceeded_since.is_none() {
            self.memory.exceeded_since = Some(Instant::now());
        }
        if self.memory.policy == Policy::NoEviction {
            return false;
        }
        // This shard frees its part of the excess, in proportion to the
        // keys and values it holds: every shard over the limit does the
        // same on its next write or background round, so the process
        // comes back under it without the shards, each seeing the whole
        // excess on a view up to a millisecond old, evicting it once each.
        let mine = self.used_memory() as i64;
        let all = mine + self.memory.peers_dataset;
        let over = self.memory.over();
        let share = if all > 0 {
            (over as i128 * mine as i128 / all as i128) as i64
        } else {
            over
        };
        let goal = self.memory.own() - share;
        let start = Instant::now();
        let budget = self.memory.time_budget();
        let mut n = 0u32;
        while self.memory.over() > 0 && self.memory.own() > goal {
            if !self.evict_one() {
                self.memory.exhausted = true;
                // Writes go on while another shard can still evict.
                return self.memory.peers_can_evict;
            }
            self.memory.exhausted = false;
            n += 1;
            if n % 16 == 0 && budget.is_some_and(|b| start.elapsed() > b) {
                self.memory.behind = true;
                return true;
            }
        }
        self.memory.behind = false;
        true
    }

    /// Evicts one key chosen by the policy; false when there is none.
    fn evict_one(&mut self) -> bool {
        let policy = self.memory.policy;
        let dbs = self.databases();
        if matches!(policy, Policy::AllKeysRandom | Policy::VolatileRandom) {
            for step in 0..dbs {
                let db = (self.memory.next_db + step) % dbs;
                let d = self.db_ref(db);
                let n = if policy.volatile() {
                    d.volatile_len()
                } else {
                    d.len()
                };
                if n == 0 {
                    continue;
                }
                let pick = self.rng.gen_range(0..n);
                let d = self.db_ref(db);
                let pos = if policy.volatile() {
                    d.volatile_position(pick)
                } else {
                    Some(pick)
                };
                let Some(key) = pos.and_then(|p| d.key_at(p)) else {
                    continue;
                };
                self.memory.next_db = db + 1;
                self.evict(db, &key);
                return true;
            }
            return false;
        }
        self.fill_pool();
        let (now, decay) = (self.now, self.memory.lfu_decay_time);
        while let Some(c) = self.memory.pool.pop() {
            // The candidate may be gone, have lost its TTL, or have been
            // read (or given a later expiry) since it was sampled: then it
            // is no longer the one to evict.
            let still = self
                .db_ref(c.db)
                .peek(&c.key)
                .filter(|e| !policy.volatile() || e.expire != 0)
                .is_some_and(|e| score(policy, e, now, decay) >= c.score);
            if still {
                self.evict(c.db, &c.key);
                return true;
            }
        }
        false
    }

    /// Samples every database into the candidate pool.
    fn fill_pool(&mut self) {
        let policy = self.memory.policy;
        let (now, decay) = (self.now, self.memory.lfu_decay_time);
        let samples = self.memory.samples.max(1);
        for db in 0..self.databases() {
            for _ in 0..samples {
                let d = self.db_ref(db);
                let n = if policy.volatile() {
                    d.volatile_len()
                } else {
                    d.len()
                };
                if n == 0 {
                    break;
                }
                let pick = self.rng.gen_range(0..n);
                let d = self.db_ref(db);
                let pos = if policy.volatile() {
                    d.volatile_position(pick)
                } else {
                    Some(pick)
                };
                let Some((key, e)) = pos.and_then(|p| d.entry_at(p)) else {
                    continue;
                };
                let score = score(policy, e, now, decay);
                let key = key.clone();
                let pool = &mut self.memory.pool;
                if pool.iter().any(|c| c.db == db && c.key[..] == key[..]) {
                    continue;
                }
                if pool.len() == POOL_SIZE && score <= pool[0].score {
                    continue;
                }
                let at = pool.partition_point(|c| c.score <= score);
                pool.insert(at, Candidate { score, db, key });
                if pool.len() > POOL_SIZE {
                    pool.remove(0);
                }
            }
        }
    }

    /// Evicts `key` of `db`: gone, announced (`evicted`), WATCH broken.
    fn evict(&mut self, db: usize, key: &[u8]) {
        let lazy = self.memory.lazy_eviction;
        let Some(entry) = self.db(db).remove(key) else {
            return;
        };
        self.dispose(entry.value, lazy);
        self.memory.evicted += 1;
        self.notify(notify::EVICTED, "evicted", db, key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lfu_counters_decay_by_whole_periods() {
        let now = 10 * 60_000;
        let access = (lfu_minutes(now) as u32) << 8 | 20;
        assert_eq!(lfu_counter(access, now, 1), 20);
        assert_eq!(lfu_counter(access, now + 3 * 60_000, 1), 17);
        assert_eq!(lfu_counter(access, now + 3 * 60_000, 2), 19);
        assert_eq!(lfu_counter(access, now + 300 * 60_000, 1), 0);
        assert_eq!(lfu_counter(access, now + 300 * 60_000, 0), 20);
    }

    #[test]
    fn tenacity_budget_follows_redis() {
        let mut m = Memory {
            tenacity: 10,
            ..Default::default()
        };
        assert_eq!(m.time_budget(), Some(Duration::from_micros(500)));
        m.tenacity = 0;
        assert_eq!(m.time_budget(), Some(Duration::ZERO));
        m.tenacity = 100;
        assert_eq!(m.time_budget(), None);
    }
}
