//! Prometheus metrics: every metric name and help text, and the `/metrics`
//! endpoint.
//!
//! Counting stays where it already happens, per core, in plain integers
//! (`stats::CoreStats`, the store's keyspace counters): nothing on the
//! request path is shared. A scrape reads every core's counters as one
//! all-shard read, publishes the sums through the `metrics` facade into the
//! `metrics-exporter-prometheus` recorder (absolute counter values, gauge
//! values) and renders the recorder's text. The per-command latency
//! histograms are rendered from the per-core bucket counts directly, in
//! the same format: the exporter's histograms keep every raw sample until
//! the next scrape, which would put a shared write on every request.
//!
//! The endpoint is a small HTTP/1.1 server (GET and HEAD of `/metrics`,
//! keep-alive) on shard 0's executor, bound at start-up from
//! `metrics-bind`:`metrics-port`: no second async runtime, no HTTP stack.

use std::fmt::Write as _;
use std::rc::Rc;
use std::sync::OnceLock;

use futures_lite::{AsyncReadExt, AsyncWriteExt};
use glommio::net::{TcpListener, TcpStream};
use metrics::{counter, gauge};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use crate::command::server::{rss_bytes, snapshot, CoreSnapshot};
use crate::command::table::COMMANDS;
use crate::log;
use crate::services::Shard;
use crate::stats::{CoreStats, LATENCY_BUCKETS_US};
use crate::{LANNER_VERSION, REDIS_VERSION};

#[derive(Clone, Copy)]
enum Kind {
    Counter,
    Gauge,
}

/// Every metric lanner exports besides the latency histogram: name, kind,
/// help text. `deploy/metrics.txt` lists the same names for the dashboard
/// and alert checks.
const METRICS: &[(&str, Kind, &str)] = &[
    ("lanner_build_info", Kind::Gauge, "Always 1; labels carry the lanner version, the Redis version it implements and the shard count."),
    ("lanner_uptime_seconds", Kind::Gauge, "Seconds since the server started."),
    ("lanner_commands_total", Kind::Counter, "Commands executed, by command."),
    ("lanner_command_errors_total", Kind::Counter, "Commands answered with an error or rejected before running, by command."),
    ("lanner_keyspace_hits_total", Kind::Counter, "Successful key lookups by read commands."),
    ("lanner_keyspace_misses_total", Kind::Counter, "Key lookups by read commands that found nothing."),
    ("lanner_expired_keys_total", Kind::Counter, "Keys removed because their TTL passed."),
    ("lanner_evicted_keys_total", Kind::Counter, "Keys removed to stay under maxmemory."),
    ("lanner_keys", Kind::Gauge, "Keys, by database and shard."),
    ("lanner_expiring_keys", Kind::Gauge, "Keys with a TTL, by database and shard."),
    ("lanner_memory_used_bytes", Kind::Gauge, "Bytes allocated minus bytes freed on a shard's core (the allocator's per-thread counters), by shard; their sum is what maxmemory limits."),
    ("lanner_memory_allocated_bytes", Kind::Gauge, "Bytes the allocator has handed out to the whole process (INFO used_memory)."),
    ("lanner_db_memory_bytes", Kind::Gauge, "Memory used by a database's keys and values (lanner's accounting), by database and shard."),
    ("lanner_memory_rss_bytes", Kind::Gauge, "Resident set size of the process."),
    ("lanner_memory_max_bytes", Kind::Gauge, "The maxmemory setting (0: unbounded)."),
    ("lanner_cross_shard_hops_total", Kind::Counter, "Batches a shard's connections sent to other shards, by sending shard."),
    ("lanner_cross_shard_packets_total", Kind::Counter, "Packets a shard sent to other shards (one per destination per executor turn), by sending shard."),
    ("lanner_shard_queue_depth", Kind::Gauge, "Requests waiting on a shard for a multi-shard operation's keys, by shard."),
    ("lanner_connected_clients", Kind::Gauge, "Client connections open now."),
    ("lanner_blocked_clients", Kind::Gauge, "Clients waiting in a blocking command."),
    ("lanner_connections_total", Kind::Counter, "Client connections accepted."),
    ("lanner_rejected_connections_total", Kind::Counter, "Connections refused (maxclients, protected mode)."),
    ("lanner_net_input_bytes_total", Kind::Counter, "Bytes read from clients."),
    ("lanner_net_output_bytes_total", Kind::Counter, "Bytes written to clients."),
    ("lanner_pubsub_channels", Kind::Gauge, "Channels with at least one subscriber."),
    ("lanner_pubsub_patterns", Kind::Gauge, "Pattern subscriptions."),
    ("lanner_slowlog_length", Kind::Gauge, "Entries in the slow log (all cores)."),
];

const LATENCY: &str = "lanner_command_duration_seconds";
const LATENCY_HELP: &str = "Time to execute a command, by command.";

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the Prometheus recorder as the process's `metrics` recorder
/// and describes every metric. Idempotent.
fn handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        // Another recorder can only be there if an embedding program
        // installed one; rendering then shows what this one holds.
        let _ = metrics::set_global_recorder(recorder);
        for &(name, kind, help) in METRICS {
            match kind {
                Kind::Counter => metrics::describe_counter!(name, help),
                Kind::Gauge => metrics::describe_gauge!(name, help),
            }
        }
        handle
    })
}

/// The Prometheus text of one scrape: every core's counters, summed.
pub async fn scrape(sh: &Rc<Shard>) -> String {
    let snaps = sh.on_every_shard(None, snapshot).await;
    let mut text = handle_render(sh, &snaps);
    render_latency(&mut text, &snaps);
    text
}

fn handle_render(sh: &Shard, snaps: &[CoreSnapshot]) -> String {
    let handle = handle();
    let config = sh.host.config();
    let mut total = CoreStats::new(COMMANDS.len());
    for s in snaps {
        total.merge(&s.stats);
    }
    gauge!(
        "lanner_build_info",
        "version" => LANNER_VERSION,
        "redis_version" => REDIS_VERSION,
        "shards" => sh.shards().to_string()
    )
    .set(1.0);
    gauge!("lanner_uptime_seconds").set(sh.host.shared.started.elapsed().as_secs_f64());
    for (c, s) in COMMANDS.iter().zip(&total.commands) {
        if s.calls + s.rejected + s.failed == 0 {
            continue;
        }
        counter!("lanner_commands_total", "cmd" => c.name).absolute(s.calls);
        counter!("lanner_command_errors_total", "cmd" => c.name).absolute(s.rejected + s.failed);
    }
    let sum = |f: fn(&CoreSnapshot) -> u64| snaps.iter().map(f).sum::<u64>();
    counter!("lanner_keyspace_hits_total").absolute(sum(|s| s.keyspace.hits));
    counter!("lanner_keyspace_misses_total").absolute(sum(|s| s.keyspace.misses));
    counter!("lanner_expired_keys_total").absolute(sum(|s| s.keyspace.expired));
    counter!("lanner_evicted_keys_total").absolute(sum(|s| s.evicted));
    for (i, s) in snaps.iter().enumerate() {
        let shard = i.to_string();
        for (db, &(keys, expiring, bytes)) in s.dbs.iter().enumerate() {
            if keys == 0 {
                continue;
            }
            let db = db.to_string();
            gauge!("lanner_keys", "db" => db.clone(), "shard" => shard.clone()).set(keys as f64);
            gauge!("lanner_expiring_keys", "db" => db.clone(), "shard" => shard.clone())
                .set(expiring as f64);
            gauge!("lanner_db_memory_bytes", "db" => db, "shard" => shard.clone())
                .set(bytes as f64);
        }
        gauge!("lanner_memory_used_bytes", "shard" => shard.clone()).set(s.used_memory as f64);
        counter!("lanner_cross_shard_hops_total", "shard" => shard.clone()).absolute(s.stats.hops);
        counter!("lanner_cross_shard_packets_total", "shard" => shard.clone())
            .absolute(s.packets.0);
        gauge!("lanner_shard_queue_depth", "shard" => shard).set(s.queue_depth as f64);
    }
    gauge!("lanner_memory_rss_bytes").set(rss_bytes() as f64);
    gauge!("lanner_memory_allocated_bytes").set(crate::alloc::stats().allocated as f64);
    gauge!("lanner_memory_max_bytes").set(config.maxmemory as f64);
    gauge!("lanner_connected_clients").set(total.connected_clients as f64);
    gauge!("lanner_blocked_clients").set(total.blocked_clients as f64);
    counter!("lanner_connections_total").absolute(total.connections_received);
    counter!("lanner_rejected_connections_total").absolute(total.rejected_connections);
    counter!("lanner_net_input_bytes_total").absolute(total.net_input_bytes);
    counter!("lanner_net_output_bytes_total").absolute(total.net_output_bytes);
    let (channels, patterns, _) = sh.host.shared.pubsub.counts();
    gauge!("lanner_pubsub_channels").set(channels as f64);
    gauge!("lanner_pubsub_patterns").set(patterns as f64);
    // As SLOWLOG LEN: the merged log keeps the newest slowlog-max-len.
    let slow = snaps.iter().map(|s| s.slowlog_len).sum::<usize>();
    gauge!("lanner_slowlog_length").set(slow.min(config.slowlog_max_len as usize) as f64);
    handle.render()
}

/// Appends `lanner_command_duration_seconds` as a Prometheus histogram, one
/// series per command that ran, from the per-core power-of-two
/// microsecond buckets.
fn render_latency(out: &mut String, snaps: &[CoreSnapshot]) {
    let _ = writeln!(out, "# HELP {LATENCY} {LATENCY_HELP}");
    let _ = writeln!(out, "# TYPE {LATENCY} histogram");
    for (i, c) in COMMANDS.iter().enumerate() {
        let mut buckets = [0u64; LATENCY_BUCKETS_US.len()];
        let (mut count, mut usec) = (0u64, 0u64);
        for s in snaps {
            let st = &s.stats.commands[i];
            count += st.calls;
            usec += st.usec;
            for (b, n) in buckets.iter_mut().zip(&st.latency) {
                *b += n;
            }
        }
        if count == 0 {
            continue;
        }
        let mut cumulative = 0;
        for (le, n) in LATENCY_BUCKETS_US.iter().zip(buckets) {
            cumulative += n;
            let _ = writeln!(
                out,
                "{LATENCY}_bucket{{cmd=\"{}\",le=\"{}\"}} {cumulative}",
                c.name,
                *le as f64 / 1e6
            );
        }
        let _ = writeln!(
            out,
            "{LATENCY}_bucket{{cmd=\"{}\",le=\"+Inf\"}} {count}",
            c.name
        );
        let _ = writeln!(
            out,
            "{LATENCY}_sum{{cmd=\"{}\"}} {}",
            c.name,
            usec as f64 / 1e6
        );
        let _ = writeln!(out, "{LATENCY}_count{{cmd=\"{}\"}} {count}", c.name);
    }
}

/// Serves `/metrics` on `listener` until the executor stops.
pub async fn serve(sh: Rc<Shard>, listener: TcpListener) {
    loop {
        match listener.accept().await {
            Ok(stream) => {
                let sh = sh.clone();
                glommio::spawn_local(async move { http(&sh, stream).await }).detach();
            }
            Err(e) => {
                log::warning(&format!("metrics accept: {e}"));
                glommio::timer::sleep(std::time::Duration::from_millis(10)).await;
            }
        }
    }
}

/// Requests over 8 KiB of headers are refused.
const MAX_HEAD: usize = 8 * 1024;

/// One HTTP/1.x connection: requests answered in order until the client
/// closes, asks to close, or sends something that is not HTTP.
async fn http(sh: &Rc<Shard>, mut stream: TcpStream) {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        let end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            if buf.len() > MAX_HEAD {
                let _ = stream
                    .write_all(&response(431, "text/plain", b"", false))
                    .await;
                return;
            }
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..end]).into_owned();
        buf.drain(..end);
        let mut lines = head.split("\r\n");
        let mut first = lines.next().unwrap_or("").split(' ');
        let (method, path, version) = (
            first.next().unwrap_or(""),
            first.next().unwrap_or(""),
            first.next().unwrap_or(""),
        );
        let close_asked = lines.any(|l| {
            l.split_once(':').is_some_and(|(k, v)| {
                k.trim().eq_ignore_ascii_case("connection")
                    && v.trim().eq_ignore_ascii_case("close")
            })
        });
        let keep = version == "HTTP/1.1" && !close_asked;
        let path = path.split('?').next().unwrap_or("");
        let reply = match (method, path) {
            ("GET" | "HEAD", "/metrics") => {
                let body = scrape(sh).await;
                let mut r = response(
                    200,
                    "text/plain; version=0.0.4; charset=utf-8",
                    body.as_bytes(),
                    keep,
                );
                if method == "HEAD" {
                    r.truncate(r.len() - body.len());
                }
                r
            }
            ("GET" | "HEAD", _) => response(404, "text/plain", b"not found: try /metrics\n", keep),
            _ => response(405, "text/plain", b"method not allowed\n", false),
        };
        if stream.write_all(&reply).await.is_err() || !keep || method != "GET" && method != "HEAD" {
            let _ = stream.close().await;
            return;
        }
    }
}

fn response(status: u16, content_type: &str, body: &[u8], keep_alive: bool) -> Vec<u8> {
    let reason = match status {
        200 => "OK",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "Request Header Fields Too Large",
    };
    let mut r = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: {}\r\n\r\n",
        body.len(),
        if keep_alive { "keep-alive" } else { "close" }
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_prometheus_conventions() {
        for &(name, kind, help) in METRICS {
            assert!(name.starts_with("lanner_"), "{name}");
            assert!(
                name.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "{name}"
            );
            assert_eq!(
                matches!(kind, Kind::Counter),
                name.ends_with("_total"),
                "{name}"
            );
            assert!(help.ends_with('.'), "{name}");
        }
    }

    #[test]
    fn http_responses_carry_their_length() {
        let r = response(200, "text/plain", b"abc", true);
        let text = String::from_utf8(r).unwrap();
        assert!(text.starts_with("HTTP/1.1 200 OK\r\n"));
        assert!(text.contains("Content-Length: 3\r\n"));
        assert!(text.ends_with("\r\n\r\nabc"));
    }
}
