//! What the server records about the commands it runs: the slow log, the
//! latency monitor's events, per-command latency histograms and the MONITOR
//! feed.
//!
//! Every command is accounted once, on the core that timed it: the owning
//! shard for single-shard commands (inline or batched), the connection's core
//! for local, coordinated and fanout commands (`Shard::account`). The common
//! case costs a histogram increment, one comparison against the smallest
//! threshold and one relaxed load of the monitor count; everything else runs
//! only for a slow command or while someone monitors.
//!
//! * Per core (`Local`, inside the executor, `!Send`): the slow log, the
//!   latency events and the MONITOR lines not yet forwarded. SLOWLOG and
//!   LATENCY merge every core's share when asked.
//! * Shared (`Global`, in `server::Shared`): slow-log ids (one counter, taken
//!   only by slow commands), the monitors' feeds and the address and name of
//!   every connection, which a shard needs to label another core's client. The
//!   registry is written per connection and per name change, read only on the
//!   slow and monitor paths.
//!
//! Latency histograms are `CmdStat`'s power-of-two µs buckets, reported
//! under Redis's bucket keys (its hdr_histogram's logarithmic iterator
//! prints 1, 2, 4, 8, 16, 33 … µs); Redis's fine sub-buckets are not kept,
//! so percentiles are bucket upper bounds.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, RwLock};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures::channel::mpsc::{unbounded, UnboundedReceiver, UnboundedSender};

use crate::command::table::{flags, CommandSpec};
use crate::config::Config;
use crate::stats::{CmdStat, CoreStats};

/// Histogram buckets: 1024 ns · 2^k for k in 0..21 (the last one holds
/// everything up to Redis's 1 s cap).
pub const BUCKETS: usize = 21;

/// Upper bound, in ns, of bucket `k`: hdr_histogram's highest value
/// equivalent to 1024·2^k at two significant digits.
fn bucket_upper_ns(k: usize) -> u64 {
    (1u64 << (10 + k)) + (1u64 << (3 + k)) - 1
}

/// The bucket key LATENCY HISTOGRAM prints (1, 2, 4, 8, 16, 33, 66 …).
pub fn bucket_usec(k: usize) -> u64 {
    bucket_upper_ns(k) / 1000
}

/// A command's latency counts in Redis's reporting buckets, from the
/// per-core power-of-two µs buckets of `CmdStat` (the ones /metrics
/// exports): bucket k of both is about 2^k µs; calls past Redis's 1 s cap
/// count in its last bucket, as Redis clamps them.
pub fn redis_buckets(s: &CmdStat) -> [u64; BUCKETS] {
    let mut h = [0u64; BUCKETS];
    for (k, n) in s.latency.iter().enumerate() {
        h[k.min(BUCKETS - 1)] += n;
    }
    let counted: u64 = s.latency.iter().sum();
    h[BUCKETS - 1] += s.calls.saturating_sub(counted);
    h
}

/// hdr_histogram's `hdr_value_at_percentile`, in µs, on our buckets.
fn percentile_usec(h: &[u64; BUCKETS], p: f64) -> f64 {
    let total: u64 = h.iter().sum();
    let wanted = ((p / 100.0) * total as f64 + 0.5).max(1.0) as u64;
    let mut seen = 0;
    for (k, n) in h.iter().enumerate() {
        seen += n;
        if seen >= wanted {
            return bucket_upper_ns(k) as f64 / 1000.0;
        }
    }
    0.0
}

/// INFO `latencystats` lines (`latency_percentiles_usec_<cmd>:p50=…`) from
/// summed histograms, for every command that ran.
pub fn latency_percentiles(stats: &CoreStats) -> String {
    let mut o = String::new();
    for (i, c) in crate::command::table::all().enumerate() {
        let h = match stats.commands.get(i) {
            Some(s) if s.calls > 0 => redis_buckets(s),
            _ => continue,
        };
        let _ = write!(
            o,
            "latency_percentiles_usec_{}:p50={:.3},p99={:.3},p99.9={:.3}\r\n",
            c.name,
            percentile_usec(&h, 50.0),
            percentile_usec(&h, 99.0),
            percentile_usec(&h, 99.9),
        );
    }
    o
}

/// One slow-log entry, its arguments already trimmed as Redis stores them.
#[derive(Clone, Debug)]
pub struct SlowEntry {
    pub id: u64,
    pub time: u64,
    pub usec: u64,
    pub argv: Vec<Bytes>,
    pub addr: String,
    pub name: String,
}

/// Redis keeps at most 32 arguments and 128 bytes of each.
const SLOWLOG_MAX_ARGC: usize = 32;
const SLOWLOG_MAX_STRING: usize = 128;

/// Redis's `slowlogCreateEntry` argument trimming.
fn slowlog_argv(args: &[Bytes]) -> Vec<Bytes> {
    let n = args.len().min(SLOWLOG_MAX_ARGC);
    let mut v = Vec::with_capacity(n);
    for (j, a) in args[..n].iter().enumerate() {
        if n != args.len() && j == n - 1 {
            v.push(Bytes::from(format!(
                "... ({} more arguments)",
                args.len() - n + 1
            )));
        } else if a.len() > SLOWLOG_MAX_STRING {
            let mut b = BytesMut::from(&a[..SLOWLOG_MAX_STRING]);
            b.extend_from_slice(
                format!("... ({} more bytes)", a.len() - SLOWLOG_MAX_STRING).as_bytes(),
            );
            v.push(b.freeze());
        } else {
            v.push(a.clone());
        }
    }
    v
}

/// Arguments as logged: passwords replaced by "(redacted)", as Redis does
/// for AUTH, HELLO … AUTH and CONFIG SET of a sensitive setting.
pub fn redacted(spec: &CommandSpec, args: &[Bytes]) -> Vec<Bytes> {
    const REDACTED: Bytes = Bytes::from_static(b"(redacted)");
    let mut v = args.to_vec();
    match spec.name {
        "auth" => v[1..].fill(REDACTED),
        "hello" => {
            let mut j = 2;
            while j < v.len() {
                if v[j].eq_ignore_ascii_case(b"auth") && j + 2 < v.len() {
                    v[j + 1] = REDACTED;
                    v[j + 2] = REDACTED;
                    j += 3;
                } else {
                    j += 1;
                }
            }
        }
        "config" if v.len() > 3 && v[1].eq_ignore_ascii_case(b"set") => {
            for pair in v[2..].chunks_mut(2) {
                let sensitive = ["requirepass", "masterauth", "masteruser"]
                    .iter()
                    .any(|s| pair[0].eq_ignore_ascii_case(s.as_bytes()));
                if sensitive && pair.len() == 2 {
                    pair[1] = REDACTED;
                }
            }
        }
        _ => {}
    }
    v
}

fn needs_redaction(spec: &CommandSpec) -> bool {
    matches!(spec.name, "auth" | "hello" | "config")
}

/// Samples Redis keeps per latency event.
const LATENCY_TS_LEN: usize = 160;

/// One latency event's samples on this core: (unix seconds, ms), oldest
/// first, at most one per second.
#[derive(Clone, Debug, Default)]
pub struct EventSeries {
    pub samples: VecDeque<(u64, u64)>,
    pub max: u64,
}

impl EventSeries {
    /// Redis's `latencyAddSample`: one sample per second keeps the worst.
    pub fn add(&mut self, now: u64, ms: u64) {
        self.max = self.max.max(ms);
        if let Some(last) = self.samples.back_mut() {
            if last.0 == now {
                last.1 = last.1.max(ms);
                return;
            }
        }
        self.samples.push_back((now, ms));
        if self.samples.len() > LATENCY_TS_LEN {
            self.samples.pop_front();
        }
    }

    /// Folds another core's samples in.
    pub fn merge(&mut self, o: &EventSeries) {
        let mut all: Vec<(u64, u64)> = self.samples.iter().chain(&o.samples).copied().collect();
        all.sort();
        let max = self.max.max(o.max);
        *self = EventSeries::default();
        for (t, ms) in all {
            self.add(t, ms);
        }
        self.max = max;
    }
}

/// A connection's labels for the slow log and MONITOR.
#[derive(Clone, Default)]
struct Label {
    addr: String,
    name: String,
}

/// The part shared by every core.
#[derive(Default)]
pub struct Global {
    slowlog_ids: AtomicU64,
    monitors: AtomicUsize,
    feeds: Mutex<Vec<(u64, UnboundedSender<Bytes>)>>,
    labels: RwLock<HashMap<u64, Label>>,
}

impl Global {
    pub fn next_slowlog_id(&self) -> u64 {
        self.slowlog_ids.fetch_add(1, Ordering::Relaxed)
    }

    pub fn connected(&self, id: u64, addr: &str) {
        let label = Label {
            addr: addr.to_string(),
            name: String::new(),
        };
        self.labels
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, label);
    }

    pub fn disconnected(&self, id: u64) {
        self.labels
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&id);
        self.unmonitor(id);
    }

    pub fn renamed(&self, id: u64, name: &str) {
        if let Some(l) = self
            .labels
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .get_mut(&id)
        {
            l.name = name.to_string();
        }
    }

    fn label(&self, id: u64) -> Label {
        self.labels
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&id)
            .cloned()
            .unwrap_or_default()
    }

    /// Registers connection `id` as a monitor; its feed yields batches of
    /// MONITOR lines, each batch from one core in execution order.
    pub fn monitor(&self, id: u64) -> UnboundedReceiver<Bytes> {
        let (tx, rx) = unbounded();
        let mut feeds = self.feeds.lock().unwrap_or_else(|p| p.into_inner());
        feeds.push((id, tx));
        self.monitors.store(feeds.len(), Ordering::Relaxed);
        rx
    }

    pub fn unmonitor(&self, id: u64) {
        if self.monitors.load(Ordering::Relaxed) == 0 {
            return;
        }
        let mut feeds = self.feeds.lock().unwrap_or_else(|p| p.into_inner());
        feeds.retain(|(c, _)| *c != id);
        self.monitors.store(feeds.len(), Ordering::Relaxed);
    }

    pub fn monitoring(&self) -> bool {
        self.monitors.load(Ordering::Relaxed) > 0
    }

    fn publish(&self, lines: Bytes) {
        let mut feeds = self.feeds.lock().unwrap_or_else(|p| p.into_inner());
        feeds.retain(|(_, tx)| tx.unbounded_send(lines.clone()).is_ok());
        self.monitors.store(feeds.len(), Ordering::Relaxed);
    }
}

/// A command as accounted: what ran, for whom, and in which database.
pub struct Call<'a> {
    pub spec: &'static CommandSpec,
    pub args: &'a [Bytes],
    pub db: usize,
    pub client: u64,
    /// Called by a script (MONITOR shows `lua` for its address).
    pub from_script: bool,
}

/// This core's share of the slow log and latency events, and its MONITOR
/// lines not yet forwarded.
#[derive(Default)]
pub struct Local {
    /// The smallest duration (µs) the slow log or the latency monitor wants.
    watch_us: Cell<u64>,
    slower_than: Cell<i64>,
    max_len: Cell<usize>,
    latency_ms: Cell<u64>,
    pub slowlog: RefCell<VecDeque<SlowEntry>>,
    pub events: RefCell<HashMap<&'static str, EventSeries>>,
    pending: RefCell<Vec<u8>>,
}

impl Local {
    /// Picks up changed thresholds (called when the configuration changes).
    pub fn configure(&self, c: &Config) {
        self.slower_than.set(c.slowlog_log_slower_than);
        self.max_len.set(c.slowlog_max_len as usize);
        self.latency_ms.set(c.latency_monitor_threshold);
        let slow = u64::try_from(c.slowlog_log_slower_than).unwrap_or(u64::MAX);
        let latency = match c.latency_monitor_threshold {
            0 => u64::MAX,
            ms => ms.saturating_mul(1000),
        };
        self.watch_us.set(slow.min(latency));
        let mut log = self.slowlog.borrow_mut();
        log.truncate(self.max_len.get());
    }

    /// After a command ran: slow log, latency event and MONITOR line.
    pub fn account(&self, global: &Global, call: &Call, took: Duration) {
        let us = took.as_micros() as u64;
        if us >= self.watch_us.get()
            && !call.spec.has(flags::SKIP_SLOWLOG)
            && !call.spec.has(flags::BLOCKING)
        {
            self.slow(global, call, us);
        }
        if global.monitoring() && !call.spec.has(flags::SKIP_MONITOR | flags::ADMIN) {
            self.feed(global, call);
        }
    }

    fn slow(&self, global: &Global, call: &Call, us: u64) {
        let now = unix_secs();
        let ms = us / 1000;
        let threshold = self.latency_ms.get();
        if threshold > 0 && ms >= threshold {
            let event = if call.spec.has(flags::FAST) {
                "fast-command"
            } else {
                "command"
            };
            self.events
                .borrow_mut()
                .entry(event)
                .or_default()
                .add(now, ms);
        }
        let slower = self.slower_than.get();
        if slower < 0 || (us as i64) < slower || self.max_len.get() == 0 {
            return;
        }
        let label = global.label(call.client);
        let argv = if needs_redaction(call.spec) {
            slowlog_argv(&redacted(call.spec, call.args))
        } else {
            slowlog_argv(call.args)
        };
        let mut log = self.slowlog.borrow_mut();
        log.push_front(SlowEntry {
            id: global.next_slowlog_id(),
            time: now,
            usec: us,
            argv,
            addr: label.addr,
            name: label.name,
        });
        log.truncate(self.max_len.get());
    }

    /// MONITOR's line for a command that skips the usual one: a script
    /// command (EVAL, FCALL …) shown as it starts, before the commands it
    /// calls, as Redis feeds it.
    pub fn feed_start(&self, global: &Global, call: &Call) {
        if global.monitoring() {
            self.feed(global, call);
        }
    }

    /// Appends Redis's MONITOR line for `call` to this core's pending lines.
    fn feed(&self, global: &Global, call: &Call) {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let addr = if call.from_script {
            "lua".to_string()
        } else {
            global.label(call.client).addr
        };
        let mut p = self.pending.borrow_mut();
        let _ = write!(
            Writer(&mut p),
            "+{}.{:06} [{} {}]",
            now.as_secs(),
            now.subsec_micros(),
            call.db,
            addr
        );
        let args = if needs_redaction(call.spec) {
            redacted(call.spec, call.args)
        } else {
            call.args.to_vec()
        };
        for a in &args {
            p.extend_from_slice(b" ");
            repr(a, &mut p);
        }
        p.extend_from_slice(b"\r\n");
    }

    /// Forwards pending MONITOR lines to every monitor, as one batch.
    pub fn flush(&self, global: &Global) {
        if self.pending.borrow().is_empty() {
            return;
        }
        let lines = Bytes::from(std::mem::take(&mut *self.pending.borrow_mut()));
        global.publish(lines);
    }
}

struct Writer<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for Writer<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// Redis's `sdscatrepr`: a double-quoted string with C escapes.
pub fn repr(s: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    for &c in s {
        match c {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'"' => out.extend_from_slice(b"\\\""),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            7 => out.extend_from_slice(b"\\a"),
            8 => out.extend_from_slice(b"\\b"),
            c if c.is_ascii_graphic() || c == b' ' => out.push(c),
            c => {
                let _ = write!(Writer(&mut *out), "\\x{c:02x}");
            }
        }
    }
    out.push(b'"');
}

pub fn unix_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_print_as_redis() {
        let keys: Vec<u64> = (0..BUCKETS).map(bucket_usec).collect();
        assert_eq!(
            &keys[..17],
            [1, 2, 4, 8, 16, 33, 66, 132, 264, 528, 1056, 2113, 4227, 8454, 16908, 33816, 67633]
        );
        let mut s = CmdStat {
            calls: 10,
            ..CmdStat::default()
        };
        s.latency[0] = 3;
        s.latency[5] = 2;
        s.latency[24] = 1;
        let h = redis_buckets(&s);
        assert_eq!((h[0], h[5], h[BUCKETS - 1]), (3, 2, 5));
    }

    #[test]
    fn slowlog_trims_like_redis() {
        let args: Vec<Bytes> = (0..40).map(|i| Bytes::from(i.to_string())).collect();
        let v = slowlog_argv(&args);
        assert_eq!(v.len(), 32);
        assert_eq!(v[31], Bytes::from("... (9 more arguments)"));
        let long = vec![Bytes::from("set"), Bytes::from(vec![b'x'; 200])];
        let v = slowlog_argv(&long);
        assert_eq!(v[1].len(), 128 + "... (72 more bytes)".len());
        assert!(v[1].ends_with(b"... (72 more bytes)"));
    }

    #[test]
    fn repr_escapes_like_sdscatrepr() {
        let mut out = Vec::new();
        repr(b"a b\"\\\n\x01", &mut out);
        assert_eq!(out, b"\"a b\\\"\\\\\\n\\x01\"");
    }

    #[test]
    fn latency_series_keep_one_sample_per_second() {
        let mut a = EventSeries::default();
        a.add(10, 5);
        a.add(10, 7);
        a.add(11, 3);
        let mut b = EventSeries::default();
        b.add(11, 9);
        b.add(12, 1);
        a.merge(&b);
        assert_eq!(Vec::from(a.samples.clone()), [(10, 7), (11, 9), (12, 1)]);
        assert_eq!(a.max, 9);
    }
}
