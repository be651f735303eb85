//! The Prometheus endpoint: `/metrics` over HTTP at 1 and 4 shards, its
//! numbers against what the test did, `promtool check metrics` on the
//! output, and a real Prometheus server scraping lanner and answering a
//! query for one of its counters.

mod common;

use common::q;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::Server;

/// A port nothing listens on right now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start(shards: usize) -> (Server, u16) {
    let port = free_port();
    let srv = Server::start(shards, &["--metrics-port", &port.to_string()]);
    (srv, port)
}

/// One HTTP/1.1 exchange on `stream`: (status, body).
fn exchange(stream: &mut TcpStream, request: &str) -> (u16, String) {
    stream.write_all(request.as_bytes()).unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 64 * 1024];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_string();
            let status: u16 = head.split(' ').nth(1).unwrap().parse().unwrap();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("Content-Length: "))
                .map_or(0, |v| v.trim().parse().unwrap());
            let body_len = if request.starts_with("HEAD") { 0 } else { len };
            if buf.len() >= end + 4 + body_len {
                let body = String::from_utf8(buf[end + 4..end + 4 + body_len].to_vec()).unwrap();
                return (status, body);
            }
        }
        let n = stream.read(&mut chunk).unwrap();
        assert!(n > 0, "connection closed mid-response");
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn scrape(port: u16) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let (status, body) = exchange(
        &mut s,
        "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status, 200);
    body
}

/// The value of the sample `series` (name with labels, as printed).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .map(|v| v.trim().parse().unwrap())
}

/// Sum of every sample of metric `name` (any labels).
fn total(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|l| {
            l.strip_prefix(name)
                .is_some_and(|r| r.starts_with('{') || r.starts_with(' '))
        })
        .map(|l| l.rsplit(' ').next().unwrap().parse::<f64>().unwrap())
        .sum()
}

fn counters_match_what_clients_did(shards: usize) {
    let (srv, port) = start(shards);
    let mut con = srv.client();
    for i in 0..25 {
        let _: () = q(&mut con, &["SET", &format!("k{i}"), "v"]);
    }
    let _: () = q(&mut con, &["SET", "ttl", "v", "EX", "100"]);
    for i in 0..10 {
        let _: Option<String> = q(&mut con, &["GET", &format!("k{i}")]);
    }
    for i in 0..7 {
        let _: Option<String> = q(&mut con, &["GET", &format!("missing{i}")]);
    }
    let _ = redis::cmd("INCR")
        .arg("k0")
        .query::<i64>(&mut con)
        .unwrap_err();
    let text = scrape(port);
    assert_eq!(
        sample(&text, "lanner_commands_total{cmd=\"set\"}"),
        Some(26.0)
    );
    assert_eq!(
        sample(&text, "lanner_commands_total{cmd=\"get\"}"),
        Some(17.0)
    );
    assert_eq!(
        sample(&text, "lanner_command_errors_total{cmd=\"incr\"}"),
        Some(1.0)
    );
    assert_eq!(sample(&text, "lanner_keyspace_hits_total"), Some(10.0));
    assert_eq!(sample(&text, "lanner_keyspace_misses_total"), Some(7.0));
    assert_eq!(total(&text, "lanner_keys"), 26.0);
    assert_eq!(total(&text, "lanner_expiring_keys"), 1.0);
    assert_eq!(sample(&text, "lanner_connected_clients"), Some(1.0));
    assert!(sample(&text, "lanner_connections_total").unwrap() >= 1.0);
    assert!(sample(&text, "lanner_memory_rss_bytes").unwrap() > 1e6);
    assert!(total(&text, "lanner_memory_used_bytes") > 0.0);
    let dataset = total(&text, "lanner_db_memory_bytes");
    assert!(dataset > 26.0 * 16.0, "{dataset}");
    assert!(sample(&text, "lanner_memory_allocated_bytes").unwrap() > dataset);
    assert!(total(&text, "lanner_net_input_bytes_total") > 0.0);
    let shards_label = format!("shards=\"{shards}\"");
    let info = text
        .lines()
        .find(|l| l.starts_with("lanner_build_info{"))
        .unwrap();
    assert!(
        info.contains(&shards_label) && info.ends_with(" 1"),
        "{info}"
    );
    // Per-shard series: one per shard.
    for s in 0..shards {
        assert!(
            sample(&text, &format!("lanner_memory_used_bytes{{shard=\"{s}\"}}")).is_some(),
            "shard {s}"
        );
    }
    // The latency histogram: cumulative buckets ending at the call count.
    assert_eq!(
        sample(&text, "lanner_command_duration_seconds_count{cmd=\"set\"}"),
        Some(26.0)
    );
    assert_eq!(
        sample(
            &text,
            "lanner_command_duration_seconds_bucket{cmd=\"set\",le=\"+Inf\"}"
        ),
        Some(26.0)
    );
    let mut last = 0.0;
    for l in text
        .lines()
        .filter(|l| l.starts_with("lanner_command_duration_seconds_bucket{cmd=\"get\""))
    {
        let v: f64 = l.rsplit(' ').next().unwrap().parse().unwrap();
        assert!(v >= last, "{l}");
        last = v;
    }
    assert_eq!(last, 17.0);
    // Every metric has HELP and TYPE.
    for name in [
        "lanner_commands_total",
        "lanner_keys",
        "lanner_command_duration_seconds",
    ] {
        assert!(text.contains(&format!("# HELP {name} ")), "{name}");
        assert!(text.contains(&format!("# TYPE {name} ")), "{name}");
    }
}

#[test]
fn counters_match_what_clients_did_shards_1() {
    counters_match_what_clients_did(1);
}

#[test]
fn counters_match_what_clients_did_shards_4() {
    counters_match_what_clients_did(4);
}

#[test]
fn http_keep_alive_head_and_unknown_paths() {
    let (_srv, port) = start(2);
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let (status, body) = exchange(&mut s, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(status, 200);
    assert!(body.contains("lanner_uptime_seconds"));
    let (status, body) = exchange(&mut s, "HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!((status, body.as_str()), (200, ""));
    let (status, _) = exchange(&mut s, "GET /other HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(status, 404);
    let (status, _) = exchange(&mut s, "POST /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(status, 405);
    // Garbage does not hurt the server.
    let mut g = TcpStream::connect(("127.0.0.1", port)).unwrap();
    g.write_all(&[0xff; 20_000]).unwrap();
    drop(g);
    assert!(scrape(port).contains("lanner_build_info"));
}

#[test]
fn a_taken_metrics_port_stops_start_up() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let out = Command::new(common::lanner_bin())
        .args(["--port", "0", "--metrics-port", &port.to_string()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("metrics endpoint"), "{text}");
}

#[test]
fn promtool_accepts_the_output() {
    let (srv, port) = start(2);
    let mut con = srv.client();
    let _: () = q(&mut con, &["SET", "a", "1"]);
    let _: Option<String> = q(&mut con, &["GET", "a"]);
    let text = scrape(port);
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool not found: apt-get install prometheus");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A Prometheus server killed when dropped.
struct Prometheus {
    child: Child,
    dir: std::path::PathBuf,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Asks Prometheus's HTTP API for the value of instant query `query`.
fn prom_query(port: u16, query: &str) -> Option<f64> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let enc: String = query
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    let req =
        format!("GET /api/v1/query?query={enc} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).ok()?;
    let mut resp = String::new();
    s.read_to_string(&mut resp).ok()?;
    // {"status":"success","data":{"resultType":"vector","result":[{"metric":{...},"value":[t,"42"]}]}}
    let v = resp.split("\"value\":[").nth(1)?;
    let v = v.split(',').nth(1)?.trim_start_matches('"');
    v.split('"').next()?.parse().ok()
}

#[test]
fn prometheus_scrapes_lanner_and_queries_a_counter() {
    let (srv, port) = start(2);
    let mut con = srv.client();
    for i in 0..42 {
        let _: () = q(&mut con, &["SET", &format!("p{i}"), "v"]);
    }
    let dir = std::env::temp_dir().join(format!("lanner-prom-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: lanner\n    static_configs:\n      - targets: ['127.0.0.1:{port}']\n"
        ),
    )
    .unwrap();
    let web = free_port();
    let child = Command::new("prometheus")
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{web}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("prometheus not found: apt-get install prometheus");
    let _prom = Prometheus { child, dir };
    let deadline = Instant::now() + Duration::from_secs(30);
    let query = "lanner_commands_total{cmd=\"set\",job=\"lanner\"}";
    loop {
        if prom_query(web, query) == Some(42.0) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "Prometheus never reported 42 SETs (last: {:?}, up: {:?})",
            prom_query(web, query),
            prom_query(web, "up{job=\"lanner\"}")
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    assert_eq!(prom_query(web, "up{job=\"lanner\"}"), Some(1.0));
}

#[test]
fn deploy_metric_list_matches_the_endpoint() {
    let (srv, port) = start(2);
    let mut con = srv.client();
    let _: () = q(&mut con, &["SET", "a", "1"]);
    let text = scrape(port);
    let mut exported: Vec<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .map(|l| l.split(' ').next().unwrap().to_string())
        .collect();
    exported.sort();
    let listed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/metrics.txt"))
            .unwrap();
    let mut listed: Vec<String> = listed
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect();
    listed.sort();
    assert_eq!(exported, listed, "deploy/metrics.txt and /metrics disagree");
}
