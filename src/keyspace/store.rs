//! One shard's keyspace: its logical databases, lazy expiry and memory estimate.
//!
//! Touched only by the core that owns the shard, so there are no locks; it
//! never awaits and does no I/O. Command handlers receive `&mut Store` and the
//! selected database index.
//!
//! Each database is a dense hash table (`keyspace::table`): O(1) lookup,
//! O(1) random sampling (RANDOMKEY, active expiry, eviction) and positional
//! iteration. Removal moves the last entry into the hole; SCAN therefore
//! walks positions from the end towards 0, so that an entry moved by a
//! removal always lands on a position the cursor has yet to visit or has
//! already passed together with the entry itself — a key present for the
//! whole scan is returned at least once (see `Db::scan`).
//!
//! Keys with a TTL are also listed by position so that the active expiry
//! cycle samples only them, as Redis samples its `expires` dict.

use bytes::Bytes;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::blocked::Blocked;
use super::compact::CompactBytes;
use super::notify::{self, Event};
use super::table::Table;
use super::value::{alloc_size, Value};

/// Expiry time in unix milliseconds; 0 means "no expiry".
pub type ExpireAt = u64;

#[derive(Clone, Debug)]
pub struct Entry {
    pub value: Value,
    pub expire: ExpireAt,
    /// Unix seconds of the last access (OBJECT IDLETIME, LRU eviction).
    pub access: u32,
    /// Its place in its table's list of keys with a TTL (`table::NO_TTL`).
    pub(super) vol: u32,
}

impl Entry {
    pub fn new(value: Value, expire: ExpireAt, access: u32) -> Entry {
        Entry {
            value,
            expire,
            access,
            vol: super::table::NO_TTL,
        }
    }
}

/// Bytes our table spends per key beyond the key and value allocations: the
/// slot (key, value, expiry, access time) plus the index slot at the
/// table's load factor.
const ENTRY_OVERHEAD: usize = std::mem::size_of::<(CompactBytes, Entry)>() + 6;

fn entry_mem(key: &[u8], value: &Value) -> usize {
    let key_heap = if key.len() > 22 {
        alloc_size(key.len())
    } else {
        0
    };
    ENTRY_OVERHEAD + key_heap + value.heap_bytes()
}

#[derive(Default)]
pub struct Db {
    map: Table,
    mem: usize,
    /// Redis's running estimate of the TTL of keys that have one, in ms,
    /// updated by active expiry's samples (0: none yet).
    avg_ttl: u64,
}

/// Counters of one shard, summed across shards when INFO asks.
#[derive(Clone, Debug, Default)]
pub struct KeyspaceStats {
    pub hits: u64,
    pub misses: u64,
    pub expired: u64,
    pub expired_stale_perc: f64,
    pub expire_cycle_time_us: u64,
    pub expired_time_cap_reached: u64,
}

impl Db {
    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    pub fn volatile_len(&self) -> usize {
        self.map.volatile_len()
    }

    pub fn mem(&self) -> usize {
        self.mem
    }

    /// The table's own bytes: (main, expires).
    pub fn overhead(&self) -> (usize, usize) {
        self.map.overhead()
    }

    /// INFO keyspace's `avg_ttl`: milliseconds, estimated as Redis does.
    pub fn avg_ttl(&self) -> u64 {
        self.avg_ttl
    }

    /// The entry at `key` as stored, expired or not (for undo).
    pub fn peek(&self, key: &[u8]) -> Option<&Entry> {
        self.map.get(key)
    }

    /// Puts back what `peek` returned: the entry, or no key at all.
    pub fn restore(&mut self, key: &[u8], entry: Option<Entry>) {
        match entry {
            Some(e) => {
                self.insert(key, e.value, e.expire, e.access);
                if let Some(now) = self.map.get_mut(key) {
                    now.access = e.access;
                }
            }
            None => {
                self.remove(key);
            }
        }
    }

    pub fn contains(&self, key: &[u8], now: u64) -> bool {
        matches!(self.map.get(key), Some(e) if e.expire == 0 || now <= e.expire)
    }

    /// Inserts or replaces `key`, with its expiry (0 = none) and, when
    /// new, its access field; returns the replaced entry's expiry and
    /// value, None when the key is new.
    pub fn insert(
        &mut self,
        key: &[u8],
        value: Value,
        expire: ExpireAt,
        access: u32,
    ) -> Option<(ExpireAt, Value)> {
        let mem = entry_mem(key, &value);
        let old = match self.map.find(key) {
            Some(i) => {
                let e = self.map.at_mut(i);
                self.mem -= entry_mem(key, &e.value);
                let old = (e.expire, std::mem::replace(&mut e.value, value));
                self.map.set_expire(i, expire);
                Some(old)
            }
            None => {
                self.map.push(key, Entry::new(value, expire, access));
                None
            }
        };
        self.mem += mem;
        old
    }

    /// The position of the `n`-th key with a TTL.
    pub fn volatile_position(&self, n: usize) -> Option<usize> {
        self.map.volatile_at(n)
    }

    /// The key at position `p`.
    pub fn key_at(&self, p: usize) -> Option<CompactBytes> {
        self.map.at(p).map(|(k, _)| k.clone())
    }

    /// The key and entry at position `p`.
    pub fn entry_at(&self, p: usize) -> Option<(&CompactBytes, &Entry)> {
        self.map.at(p)
    }

    pub(super) fn at_mut(&mut self, p: usize) -> &mut Entry {
        self.map.at_mut(p)
    }

    pub fn remove(&mut self, key: &[u8]) -> Option<Entry> {
        let (k, e) = self.map.remove(key)?;
        self.mem -= entry_mem(&k, &e.value);
        Some(e)
    }

    /// Sets or clears (0) the expiry of an existing key; false if absent.
    pub fn set_expire(&mut self, key: &[u8], expire: ExpireAt) -> bool {
        let Some(i) = self.map.find(key) else {
            return false;
        };
        self.map.set_expire(i, expire);
        true
    }

    pub fn clear(&mut self) {
        *self = Db::default();
    }

    /// Calls `f` on every live key (KEYS); expired keys are skipped, not deleted.
    pub fn for_each_key(&self, now: u64, mut f: impl FnMut(&[u8])) {
        for (k, e) in self.map.iter() {
            if e.expire == 0 || now <= e.expire {
                f(k);
            }
        }
    }

    /// One SCAN step over positions `[0, remaining)`, walked downwards:
    /// visits about `count` positions, calls `f` on live keys and `expired`
    /// on expired ones, and returns the new `remaining` (0 when the database
    /// is done). `remaining` is clamped to the table's length, which can only
    /// have shrunk by removals, and removals move the last entry into an
    /// earlier hole, never past the cursor.
    pub fn scan(
        &self,
        remaining: usize,
        count: usize,
        now: u64,
        mut f: impl FnMut(&[u8], &Entry),
        mut expired: impl FnMut(&[u8]),
    ) -> usize {
        let mut pos = remaining.min(self.map.len());
        let stop = pos.saturating_sub(count.max(1));
        while pos > stop {
            pos -= 1;
            let Some((k, e)) = self.map.at(pos) else {
                break;
            };
            if e.expire == 0 || now <= e.expire {
                f(k, e);
            } else {
                expired(k);
            }
        }
        pos
    }

    /// Samples up to `n` keys with a TTL and deletes the expired ones,
    /// calling `on_expired` with each; returns (sampled, expired). The
    /// TTLs of the others move `avg_ttl` as in Redis's active expiry: the
    /// sample's mean weighs 2%, the previous estimate 98%.
    pub fn expire_sample(
        &mut self,
        rng: &mut SmallRng,
        n: usize,
        now: u64,
        mut on_expired: impl FnMut(&[u8], Value),
    ) -> (usize, usize) {
        let sampled = n.min(self.map.volatile_len());
        if sampled == 0 {
            self.avg_ttl = 0;
        }
        let (mut expired, mut ttl_sum, mut ttl_samples) = (0, 0u64, 0u64);
        for _ in 0..sampled {
            if self.map.volatile_len() == 0 {
                break;
            }
            let Some(i) = self
                .map
                .volatile_at(rng.gen_range(0..self.map.volatile_len()))
            else {
                break;
            };
            let at = self.map.at(i).map_or(0, |(_, e)| e.expire);
            if at != 0 && now > at {
                let (key, e) = self.map.remove_at(i);
                self.mem -= entry_mem(&key, &e.value);
                on_expired(&key, e.value);
                expired += 1;
            } else if at > now {
                ttl_sum += at - now;
                ttl_samples += 1;
            }
        }
        if let Some(avg) = ttl_sum.checked_div(ttl_samples) {
            if self.avg_ttl == 0 {
                self.avg_ttl = avg;
            }
            self.avg_ttl = self.avg_ttl / 50 * 49 + avg / 50;
        }
        (sampled, expired)
    }
}

/// A shard's databases plus its keyspace counters and clock.
pub struct Store {
    dbs: Vec<Db>,
    /// Unix milliseconds, refreshed before each batch of commands: every
    /// command in a batch sees one time, as Redis caches it per command.
    pub now: u64,
    pub stats: KeyspaceStats,
    pub rng: SmallRng,
    /// Settings handlers need, copied from the config when it changes.
    pub proto_max_bulk_len: u64,
    /// `maxmemory`, its policy and the eviction state (`keyspace::evict`).
    pub memory: super::evict::Memory,
    /// Where big values go to be freed off this core (lazy freeing).
    pub freer: Option<super::lazy::Freer>,
    pub limits: EncodingLimits,
    /// Clients blocked on this shard's keys.
    pub blocked: Blocked,
    /// The running command's client has CLIENT NO-TOUCH on: lookups keep
    /// access times.
    pub no_touch: bool,
    /// Enabled `notify-keyspace-events` classes (`keyspace::notify`); 0 = off.
    pub notify_flags: u32,
    /// Events raised since the shard last published them.
    pub events: Vec<Event>,
    /// Keys of this shard that connections WATCH.
    pub watches: super::watch::Watches,
    /// Client-side caching: who may cache which key (`keyspace::tracking`).
    pub tracking: super::tracking::Tracking,
    /// CLIENT PAUSE is on: an expired key reads as missing but stays, as
    /// Redis keeps the dataset still during a pause.
    pub expiry_paused: bool,
}

/// Thresholds at which small collections leave their compact encoding
/// (Redis's `*-max-listpack-*` / `set-max-intset-entries` directives, and
/// `hll-sparse-max-bytes` for HyperLogLog sketches).
#[derive(Clone, Debug)]
pub struct EncodingLimits {
    pub hash_entries: usize,
    pub hash_value: usize,
    pub set_intset_entries: usize,
    pub set_entries: usize,
    pub set_value: usize,
    pub zset_entries: usize,
    pub zset_value: usize,
    pub hll_sparse_max_bytes: usize,
    /// `stream-node-max-bytes` and `stream-node-max-entries`.
    pub stream_node: super::stream::NodeLimits,
}

impl Default for EncodingLimits {
    fn default() -> Self {
        EncodingLimits {
            hash_entries: 128,
            hash_value: 64,
            set_intset_entries: 512,
            set_entries: 128,
            set_value: 64,
            zset_entries: 128,
            zset_value: 64,
            hll_sparse_max_bytes: 3000,
            stream_node: Default::default(),
        }
    }
}

impl Store {
    pub fn new(databases: usize) -> Store {
        Store {
            dbs: (0..databases).map(|_| Db::default()).collect(),
            now: unix_ms(),
            stats: KeyspaceStats::default(),
            rng: SmallRng::from_entropy(),
            proto_max_bulk_len: 512 << 20,
            memory: Default::default(),
            freer: None,
            limits: EncodingLimits::default(),
            blocked: Blocked::default(),
            no_touch: false,
            notify_flags: 0,
            events: Vec::new(),
            watches: Default::default(),
            tracking: Default::default(),
            expiry_paused: false,
        }
    }

    pub fn databases(&self) -> usize {
        self.dbs.len()
    }

    pub fn db(&mut self, db: usize) -> &mut Db {
        &mut self.dbs[db]
    }

    pub fn db_ref(&self, db: usize) -> &Db {
        &self.dbs[db]
    }

    /// Raises keyspace event `event` of `class` (a `keyspace::notify` class bit)
    /// on `key`, as Redis's `notifyKeyspaceEvent`: buffered only when the
    /// class and at least one of K and E are enabled. Every change of a key
    /// raises one, so this is also where WATCH and client-side caching
    /// learn of changes.
    #[inline]
    pub fn notify(&mut self, class: u32, event: &'static str, db: usize, key: &[u8]) {
        if !self.watches.is_empty() && class != notify::KEY_MISS {
            self.watches.touch(db, key, class == notify::EXPIRED);
        }
        if !self.tracking.is_idle() && class != notify::KEY_MISS {
            self.tracking.changed(key);
        }
        push_event(self.notify_flags, &mut self.events, class, event, db, key);
    }

    /// Raises "keymiss" for a read lookup that found nothing, as Redis's
    /// `lookupKeyRead` does (for commands that look up without `read`).
    pub fn notify_miss(&mut self, db: usize, key: &[u8]) {
        self.notify(notify::KEY_MISS, "keymiss", db, key);
    }

    /// Raises `event` after a change to the collection at `key`, then
    /// "del" when the change left it empty and it was deleted, in Redis's
    /// order.
    pub fn notify_emptied(
        &mut self,
        class: u32,
        event: &'static str,
        db: usize,
        key: &[u8],
        deleted: bool,
    ) {
        self.notify(class, event, db, key);
        if deleted {
            self.notify(notify::GENERIC, "del", db, key);
        }
    }

    /// The position of the live entry at `key`, deleting it first (and
    /// raising "expired") if it has expired, as Redis's `expireIfNeeded`.
    fn live_index(&mut self, db: usize, key: &[u8]) -> Option<usize> {
        let d = &mut self.dbs[db];
        let idx = d.map.find(key)?;
        let e = d.map.at_mut(idx);
        if e.expire != 0 && self.now > e.expire {
            if self.expiry_paused {
                return None;
            }
            if let Some(e) = d.remove(key) {
                self.dispose(e.value, self.lazy_expire());
            }
            self.expired(db, key);
            return None;
        }
        Some(idx)
    }

    /// `lazyfree-lazy-expire`: expired values go to the freeing thread.
    fn lazy_expire(&self) -> bool {
        self.freer.as_ref().is_some_and(|f| f.expire)
    }

    /// Counts and announces a key deleted because it expired.
    fn expired(&mut self, db: usize, key: &[u8]) {
        self.stats.expired += 1;
        self.notify(notify::EXPIRED, "expired", db, key);
    }

    /// One SCAN step of database `db` (`Db::scan`) that deletes the expired
    /// keys it passes, raising "expired", as Redis 7.0's SCAN does. The
    /// deletions only move entries within the positions already walked.
    pub fn scan(
        &mut self,
        db: usize,
        remaining: usize,
        count: usize,
        f: impl FnMut(&[u8], &Entry),
    ) -> usize {
        let mut expired: Vec<CompactBytes> = Vec::new();
        let left = self.dbs[db].scan(remaining, count, self.now, f, |k| expired.push(k.into()));
        for k in expired {
            self.live_index(db, &k);
        }
        left
    }

    /// A random live key of database `db`, as Redis's `dbRandomKey`: an
    /// expired key drawn is deleted (raising "expired") and another drawn,
    /// so the loop ends once a live key is found or the database is empty.
    pub fn random_key(&mut self, db: usize) -> Option<Bytes> {
        // While expiry is paused expired keys stay: a database of only
        // those must not spin forever.
        let mut tries = if self.expiry_paused { 100 } else { usize::MAX };
        loop {
            tries -= 1;
            if tries == 0 {
                return None;
            }
            let d = &self.dbs[db];
            if d.map.is_empty() {
                return None;
            }
            let (k, e) = d.map.at(self.rng.gen_range(0..d.map.len()))?;
            if e.expire == 0 || self.now <= e.expire {
                return Some(Bytes::copy_from_slice(k));
            }
            let k = k.to_vec();
            self.live_index(db, &k);
        }
    }

    /// One active-expiry sample of database `db` (`Db::expire_sample`),
    /// raising "expired" for each key it deletes; returns (sampled, expired).
    pub fn expire_sample(&mut self, db: usize, rng: &mut SmallRng, n: usize) -> (usize, usize) {
        let mut gone: Vec<(CompactBytes, Value)> = Vec::new();
        let counts = self.dbs[db].expire_sample(rng, n, self.now, |k, v| gone.push((k.into(), v)));
        let lazy = self.lazy_expire();
        for (k, v) in gone {
            self.dispose(v, lazy);
            self.notify(notify::EXPIRED, "expired", db, &k);
        }
        counts
    }

    pub fn refresh_clock(&mut self) {
        self.now = unix_ms();
    }

    /// Live entry for a read: counts a keyspace hit or miss, as Redis's
    /// `lookupKeyRead`.
    pub fn read(&mut self, db: usize, key: &[u8]) -> Option<&mut Entry> {
        match self.live_index(db, key) {
            Some(i) => {
                self.stats.hits += 1;
                if !self.no_touch {
                    self.touch_at(db, i);
                }
                Some(self.dbs[db].map.at_mut(i))
            }
            None => {
                self.stats.misses += 1;
                self.notify_miss(db, key);
                None
            }
        }
    }

    /// Live entry for a write or an existence check (no hit/miss counted).
    pub fn lookup(&mut self, db: usize, key: &[u8]) -> Option<&mut Entry> {
        let i = self.live_index(db, key)?;
        if !self.no_touch {
            self.touch_at(db, i);
        }
        Some(self.dbs[db].map.at_mut(i))
    }

    /// Is `key` present? An expired key is deleted (lazily, as on any
    /// access); access times are left alone.
    pub fn is_live(&mut self, db: usize, key: &[u8]) -> bool {
        let no_touch = std::mem::replace(&mut self.no_touch, true);
        let live = self.lookup(db, key).is_some();
        self.no_touch = no_touch;
        live
    }

    /// Changes a live value in place and keeps the memory estimate true.
    /// Returns None when the key is absent.
    pub fn modify<R>(
        &mut self,
        db: usize,
        key: &[u8],
        f: impl FnOnce(&mut Entry) -> R,
    ) -> Option<R> {
        let i = self.live_index(db, key)?;
        let d = &mut self.dbs[db];
        let e = d.map.at_mut(i);
        let before = e.value.heap_bytes();
        let r = f(e);
        let after = e.value.heap_bytes();
        d.mem = d.mem + after - before;
        Some(r)
    }

    pub fn exists(&mut self, db: usize, key: &[u8]) -> bool {
        self.lookup(db, key).is_some()
    }

    /// Stores `value` under `key`; clients blocked on the key get their
    /// chance after the command. A key that was absent (or had expired, which
    /// first raises "expired") raises "new", as Redis's `dbAdd`.
    pub fn insert(&mut self, db: usize, key: &[u8], value: Value, expire: ExpireAt) {
        let access = super::evict::initial_access(self.memory.policy, self.now);
        match self.dbs[db].insert(key, value, expire, access) {
            None => self.notify(notify::NEW, "new", db, key),
            Some((at, old)) => {
                let lazy = self.freer.as_ref().is_some_and(|f| f.server_del);
                self.dispose(old, lazy);
                if at != 0 && self.now > at {
                    self.expired(db, key);
                    self.notify(notify::NEW, "new", db, key);
                }
            }
        }
        if !self.blocked.is_empty() {
            self.blocked.signal(db, key);
        }
    }

    /// Removes a live key; an expired one counts as absent (and is dropped).
    /// Clients blocked on it get a look (a group reader of a deleted stream
    /// is told, as Redis's `signalDeletedKeyAsReady`).
    pub fn remove(&mut self, db: usize, key: &[u8]) -> Option<Entry> {
        self.live_index(db, key)?;
        if !self.blocked.is_empty() {
            self.blocked.signal(db, key);
        }
        self.dbs[db].remove(key)
    }

    /// Deletes `key` even if it has expired, as Redis's `dbDelete` where it
    /// deletes without a lookup (a *STORE with an empty result); false when
    /// absent.
    pub fn delete(&mut self, db: usize, key: &[u8]) -> bool {
        self.dbs[db].remove(key).is_some()
    }

    pub fn swap_dbs(&mut self, a: usize, b: usize) {
        if !self.watches.is_empty() {
            // A watched key changes if it held a value in either database.
            let (now, da, db_) = (self.now, &self.dbs[a], &self.dbs[b]);
            let either = |k: &[u8]| da.contains(k, now) || db_.contains(k, now);
            self.watches.touch_db(a, either);
            self.watches.touch_db(b, either);
        }
        self.dbs.swap(a, b);
        if !self.blocked.is_empty() {
            self.blocked.signal_db(a);
            self.blocked.signal_db(b);
        }
    }

    /// Warms the cache for `key` of database `db` (see `Table::warm`).
    pub fn warm(&self, db: usize, key: &[u8]) {
        if let Some(d) = self.dbs.get(db) {
            d.map.warm(key);
        }
    }

    pub fn keys(&self) -> usize {
        self.dbs.iter().map(Db::len).sum()
    }

    /// Bytes `key` and its value take (MEMORY USAGE), without touching it;
    /// None when absent or expired.
    pub fn memory_of(&self, db: usize, key: &[u8]) -> Option<usize> {
        let e = self.dbs[db].map.get(key)?;
        (e.expire == 0 || self.now <= e.expire).then(|| entry_mem(key, &e.value))
    }

    pub fn used_memory(&self) -> usize {
        self.dbs.iter().map(Db::mem).sum()
    }

    /// FLUSHDB: watched keys that held a value change.
    /// Empties database `db`; with `lazy` its entries are freed on the
    /// freeing thread (FLUSHDB ASYNC).
    pub fn flush_db(&mut self, db: usize, lazy: bool) {
        if !self.watches.is_empty() {
            let (now, d) = (self.now, &self.dbs[db]);
            self.watches.touch_db(db, |k| d.contains(k, now));
        }
        self.take_db(db, lazy);
    }

    pub fn flush_all(&mut self, lazy: bool) {
        for db in 0..self.dbs.len() {
            self.flush_db(db, lazy);
        }
    }
}

/// Buffers an event when its class and at least one of K and E are enabled.
#[inline]
fn push_event(
    flags: u32,
    events: &mut Vec<Event>,
    class: u32,
    event: &'static str,
    db: usize,
    key: &[u8],
) {
    if flags & class != 0 && flags & (notify::KEYSPACE | notify::KEYEVENT) != 0 {
        events.push(Event {
            db,
            class,
            event,
            key: bytes::Bytes::copy_from_slice(key),
        });
    }
}

pub fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyspace::value::Str;

    #[test]
    fn random_key_deletes_the_expired_keys_it_draws() {
        let mut st = Store::new(1);
        st.notify_flags = notify::parse_flags("Ex");
        st.now = 1000;
        for i in 0..100u32 {
            st.insert(0, format!("k{i}").as_bytes(), s(b"v"), 1001);
        }
        st.insert(0, b"live", s(b"v"), 0);
        st.now = 1002;
        assert_eq!(st.random_key(0).as_deref(), Some(&b"live"[..]));
        assert_eq!(st.events.len() as u64, st.stats.expired);
        assert_eq!(st.db(0).len() as u64, 101 - st.stats.expired);
        st.remove(0, b"live");
        assert_eq!(st.random_key(0), None, "only expired keys: all deleted");
        assert_eq!(st.db(0).len(), 0);
        assert_eq!(st.events.len(), 100);
    }

    #[test]
    fn scan_deletes_the_expired_keys_it_passes() {
        let mut st = Store::new(1);
        st.notify_flags = notify::parse_flags("KEA");
        st.now = 1000;
        for i in 0..30u32 {
            let ttl = if i % 3 == 0 { 1001 } else { 0 };
            st.insert(0, format!("k{i}").as_bytes(), s(b"v"), ttl);
        }
        st.now = 1002;
        let mut live = Vec::new();
        let mut remaining = usize::MAX;
        loop {
            remaining = st.scan(0, remaining, 7, |k, _| live.push(k.to_vec()));
            if remaining == 0 {
                break;
            }
        }
        assert_eq!(live.len(), 20);
        assert_eq!(st.db(0).len(), 20);
        assert_eq!(st.stats.expired, 10);
        assert_eq!(st.events.len(), 10);
        assert!(st.events.iter().all(|e| e.event == "expired"));
    }

    #[test]
    fn active_expiry_raises_expired_for_every_key_it_deletes() {
        let mut st = Store::new(2);
        st.notify_flags = notify::parse_flags("Ex");
        st.now = 1000;
        for i in 0..50u32 {
            st.insert(1, format!("k{i}").as_bytes(), s(b"v"), 1001);
        }
        st.insert(1, b"stays", s(b"v"), 0);
        assert!(st.events.is_empty(), "new is not enabled");
        st.now = 1002;
        let mut rng = SmallRng::seed_from_u64(7);
        while st.db(1).volatile_len() > 0 {
            st.expire_sample(1, &mut rng, 20);
        }
        let mut keys: Vec<Vec<u8>> = st
            .events
            .iter()
            .map(|e| {
                assert_eq!((e.db, e.event, e.class), (1, "expired", notify::EXPIRED));
                e.key.to_vec()
            })
            .collect();
        keys.sort();
        let mut want: Vec<Vec<u8>> = (0..50u32).map(|i| format!("k{i}").into_bytes()).collect();
        want.sort();
        assert_eq!(keys, want);
    }

    fn s(v: &[u8]) -> Value {
        Value::Str(Str::from_bytes(v))
    }

    #[test]
    fn lazy_expiry_removes_on_access() {
        let mut st = Store::new(2);
        st.now = 1000;
        st.insert(0, b"a", s(b"1"), 1500);
        st.insert(0, b"b", s(b"1"), 0);
        assert!(st.read(0, b"a").is_some());
        st.now = 1500;
        assert!(
            st.read(0, b"a").is_some(),
            "expiry is exclusive at the exact ms"
        );
        st.now = 1501;
        assert!(st.read(0, b"a").is_none());
        assert_eq!(st.stats.expired, 1);
        assert_eq!(st.db(0).len(), 1);
        assert_eq!(st.db(0).volatile_len(), 0);
    }

    #[test]
    fn memory_returns_to_zero() {
        let mut st = Store::new(1);
        for i in 0..1000u32 {
            st.insert(
                0,
                format!("k{i}").as_bytes(),
                s(&[b'x'; 100]),
                if i % 2 == 0 { 5 } else { 0 },
            );
        }
        assert!(st.used_memory() > 100_000);
        st.modify(0, b"k1", |e| e.value = s(&[b'y'; 1000]));
        for i in 0..1000u32 {
            st.db(0).remove(format!("k{i}").as_bytes());
        }
        assert_eq!(st.used_memory(), 0);
        assert_eq!(st.db(0).volatile_len(), 0);
    }

    #[test]
    fn scan_returns_every_stable_key_despite_removals_and_inserts() {
        let mut st = Store::new(1);
        for i in 0..500u32 {
            st.insert(0, format!("stable{i}").as_bytes(), s(b"v"), 0);
            st.insert(0, format!("temp{i}").as_bytes(), s(b"v"), 0);
        }
        let mut seen = std::collections::HashSet::new();
        let mut remaining = usize::MAX;
        let mut step = 0u32;
        loop {
            remaining = st.db(0).scan(
                remaining,
                10,
                0,
                |k, _| {
                    seen.insert(k.to_vec());
                },
                |_| {},
            );
            // Churn between steps: drop temporaries, add new keys.
            st.db(0).remove(format!("temp{step}").as_bytes());
            st.insert(0, format!("new{step}").as_bytes(), s(b"v"), 0);
            step += 1;
            if remaining == 0 {
                break;
            }
        }
        for i in 0..500u32 {
            assert!(
                seen.contains(format!("stable{i}").as_bytes()),
                "stable{i} missed"
            );
        }
    }

    #[test]
    fn active_sampling_finds_expired_keys() {
        let mut st = Store::new(1);
        for i in 0..100u32 {
            st.insert(0, format!("k{i}").as_bytes(), s(b"v"), 10);
        }
        let mut rng = SmallRng::seed_from_u64(1);
        let mut total = 0;
        while st.db(0).volatile_len() > 0 {
            st.now = 11;
            total += st.expire_sample(0, &mut rng, 20).1;
        }
        assert_eq!(total, 100);
        assert_eq!(st.db(0).len(), 0);
    }
}
