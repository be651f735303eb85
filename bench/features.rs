//! Side-by-side load for what `redis-benchmark` cannot drive: MULTI/EXEC
//! blocks, PUBLISH with live subscribers, EVALSHA. Starts lanner (the
//! `--server` command, `{port}` replaced) and Debian's redis-server on free
//! loopback ports, runs each workload against them in turn for several
//! rounds, and prints per workload the median throughput of each, the
//! ratio, and the server CPU time per operation (from /proc).
//!
//! ```text
//! cargo bench --bench features -- --server 'target/release/lanner --port {port} --shards 2 --metrics-port 0' \
//!     [--workloads multi,publish,evalsha] [--clients 8] [--pipeline 1] [--seconds 3] [--rounds 3] [--subscribers 8]
//! ```
//!
//! * `multi`: `MULTI; INCR k1; INCR k2; INCR k3; EXEC` on random keys, key
//!   j owned by shard j mod n of the n-shard lanner server (so with two
//!   shards or more every block spans shards).
//! * `publish`: `--subscribers` connections SUBSCRIBE one channel, each
//!   read by its own thread; publishers send 16-byte messages; every
//!   subscriber must receive every message (checked).
//! * `evalsha`: `EVALSHA <sha of "return redis.call('incr', KEYS[1])"> 1 <key>`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use lanner::keyspace::slot::SlotTable;

const SCRIPT: &str = "return redis.call('incr', KEYS[1])";

struct Opts {
    server: String,
    workloads: Vec<String>,
    clients: usize,
    pipeline: usize,
    seconds: f64,
    rounds: usize,
    subscribers: usize,
    shards: usize,
}

fn parse() -> Opts {
    let mut o = Opts {
        server: String::new(),
        workloads: vec!["multi".into(), "publish".into(), "evalsha".into()],
        clients: 8,
        pipeline: 1,
        seconds: 3.0,
        rounds: 3,
        subscribers: 8,
        shards: 1,
    };
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let mut i = 0;
    while i + 1 < args.len() {
        let v = args[i + 1].clone();
        match args[i].as_str() {
            "--server" => o.server = v,
            "--workloads" => o.workloads = v.split(',').map(String::from).collect(),
            "--clients" => o.clients = v.parse().expect("--clients"),
            "--pipeline" => o.pipeline = v.parse().expect("--pipeline"),
            "--seconds" => o.seconds = v.parse().expect("--seconds"),
            "--rounds" => o.rounds = v.parse().expect("--rounds"),
            "--subscribers" => o.subscribers = v.parse().expect("--subscribers"),
            other => panic!("unknown option {other}"),
        }
        i += 2;
    }
    assert!(
        !o.server.is_empty(),
        "--server '<command with {{port}}>' is required"
    );
    if let Some(n) = o.server.split("--shards ").nth(1) {
        o.shards = n
            .split_whitespace()
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(1);
    }
    o
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(cmd: &str) -> Server {
    let port = free_port();
    let line = cmd.replace("{port}", &port.to_string());
    let child = Command::new("sh")
        .arg("-c")
        .arg(format!("exec {line}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start server");
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "server did not start: {line}");
        thread::sleep(Duration::from_millis(20));
    }
    Server { child, port }
}

/// utime + stime of the process, in seconds.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let rest = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11).and_then(|t| t.parse().ok()).unwrap_or(0.0)
        + f.get(12).and_then(|t| t.parse().ok()).unwrap_or(0.0);
    ticks / 100.0
}

fn encode(args: &[&[u8]], out: &mut Vec<u8>) {
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

/// Reads one complete reply, returns whether it was an error.
fn read_reply(r: &mut BufReader<TcpStream>, line: &mut Vec<u8>) -> bool {
    line.clear();
    r.read_until(b'\n', line).expect("read");
    let n = || -> i64 {
        std::str::from_utf8(&line[1..line.len() - 2])
            .unwrap()
            .parse()
            .unwrap()
    };
    match line.first() {
        Some(b'-') => true,
        Some(b'$') => {
            let len = n();
            if len >= 0 {
                let mut buf = vec![0; len as usize + 2];
                r.read_exact(&mut buf).expect("read");
            }
            false
        }
        Some(b'*') | Some(b'>') => {
            let len = n();
            let mut err = false;
            for _ in 0..len.max(0) {
                err |= read_reply(r, &mut Vec::new());
            }
            err
        }
        _ => false,
    }
}

fn connect(port: u16) -> (TcpStream, BufReader<TcpStream>) {
    let s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_nodelay(true).unwrap();
    let r = BufReader::with_capacity(1 << 16, s.try_clone().unwrap());
    (s, r)
}

/// Keys `key:<n>` per shard of an `n`-shard server.
fn keys_by_shard(shards: usize) -> Vec<Vec<String>> {
    let table = SlotTable::new(shards);
    let mut out = vec![Vec::new(); shards];
    for i in 0..30_000 {
        let k = format!("key:{i}");
        out[table.shard_of(k.as_bytes()).0].push(k);
    }
    out
}

/// Appends the request(s) of unit `n` to the buffer.
type Unit = dyn Fn(u64, &mut Vec<u8>) + Send + Sync;

/// Runs `clients` connections for `seconds`, each sending `pipeline` units
/// per round trip; `unit(i, buf)` appends unit i, `replies` per unit.
fn drive(port: u16, o: &Opts, replies: usize, unit: Arc<Unit>) -> u64 {
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let mut threads = Vec::new();
    for c in 0..o.clients {
        let (stop, done, errors, unit) = (stop.clone(), done.clone(), errors.clone(), unit.clone());
        let pipeline = o.pipeline;
        threads.push(thread::spawn(move || {
            let (mut w, mut r) = connect(port);
            let mut buf = Vec::new();
            let mut line = Vec::new();
            let mut n = (c as u64) << 32;
            while !stop.load(Ordering::Relaxed) {
                buf.clear();
                for _ in 0..pipeline {
                    unit(n, &mut buf);
                    n += 1;
                }
                w.write_all(&buf).expect("write");
                for _ in 0..pipeline * replies {
                    if read_reply(&mut r, &mut line) {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
                done.fetch_add(pipeline as u64, Ordering::Relaxed);
            }
        }));
    }
    thread::sleep(Duration::from_secs_f64(o.seconds));
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(errors.load(Ordering::Relaxed), 0, "error replies");
    done.load(Ordering::Relaxed)
}

fn rand(n: u64) -> u64 {
    // SplitMix64: cheap, per-unit, no shared state.
    let mut z = n.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// One measured run: operations per second, server CPU µs per operation.
fn run(workload: &str, srv: &Server, o: &Opts) -> (f64, f64) {
    let pid = srv.child.id();
    let port = srv.port;
    let cpu0 = cpu_seconds(pid);
    let start = Instant::now();
    let ops = match workload {
        "multi" => {
            let keys = Arc::new(keys_by_shard(o.shards));
            drive(
                port,
                o,
                5,
                Arc::new(move |n, buf| {
                    let r = rand(n);
                    let k: Vec<&[u8]> = (0..3)
                        .map(|j| {
                            let ks = &keys[j % keys.len()];
                            ks[(r >> (j * 16)) as usize % ks.len()].as_bytes()
                        })
                        .collect();
                    encode(&[b"MULTI"], buf);
                    for key in k {
                        encode(&[b"INCR", key], buf);
                    }
                    encode(&[b"EXEC"], buf);
                }),
            )
        }
        "evalsha" => {
            let (mut w, mut r) = connect(port);
            let mut buf = Vec::new();
            encode(&[b"SCRIPT", b"LOAD", SCRIPT.as_bytes()], &mut buf);
            w.write_all(&buf).unwrap();
            let mut line = Vec::new();
            r.read_until(b'\n', &mut line).unwrap();
            let mut sha = Vec::new();
            r.read_until(b'\n', &mut sha).unwrap();
            let sha = Arc::new(sha[..sha.len() - 2].to_vec());
            drive(
                port,
                o,
                1,
                Arc::new(move |n, buf| {
                    let key = format!("key:{}", rand(n) % 100_000);
                    encode(&[b"EVALSHA", &sha, b"1", key.as_bytes()], buf);
                }),
            )
        }
        "publish" => {
            let received = Arc::new(AtomicU64::new(0));
            let stop = Arc::new(AtomicBool::new(false));
            let mut subs = Vec::new();
            for _ in 0..o.subscribers {
                let (mut w, mut r) = connect(port);
                let mut buf = Vec::new();
                encode(&[b"SUBSCRIBE", b"news"], &mut buf);
                w.write_all(&buf).unwrap();
                read_reply(&mut r, &mut Vec::new());
                let (received, stop) = (received.clone(), stop.clone());
                r.get_ref()
                    .set_read_timeout(Some(Duration::from_millis(200)))
                    .unwrap();
                subs.push(thread::spawn(move || {
                    let mut line = Vec::new();
                    let mut idle = 0;
                    loop {
                        match r.fill_buf() {
                            Ok([]) => break,
                            Ok(_) => {
                                read_reply(&mut r, &mut line);
                                received.fetch_add(1, Ordering::Relaxed);
                                idle = 0;
                            }
                            Err(_) => {
                                idle += 1;
                                if stop.load(Ordering::Relaxed) && idle > 2 {
                                    break;
                                }
                            }
                        }
                    }
                    drop(w);
                }));
            }
            let published = drive(
                port,
                o,
                1,
                Arc::new(|_, buf| encode(&[b"PUBLISH", b"news", b"0123456789abcdef"], buf)),
            );
            stop.store(true, Ordering::Relaxed);
            for s in subs {
                s.join().unwrap();
            }
            let got = received.load(Ordering::Relaxed);
            assert_eq!(
                got,
                published * o.subscribers as u64,
                "every subscriber receives every message"
            );
            published
        }
        other => panic!("unknown workload {other}"),
    };
    let secs = start.elapsed().as_secs_f64();
    let cpu = cpu_seconds(pid) - cpu0;
    (ops as f64 / secs, cpu * 1e6 / ops as f64)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn main() {
    let o = parse();
    let redis = "redis-server --port {port} --bind 127.0.0.1 --save '' --appendonly no";
    println!(
        "clients={} pipeline={} seconds={} rounds={} subscribers={} shards={}",
        o.clients, o.pipeline, o.seconds, o.rounds, o.subscribers, o.shards
    );
    println!(
        "| workload | lanner ops/s | redis ops/s | ratio | lanner CPU µs/op | redis CPU µs/op |"
    );
    println!("|---|---|---|---|---|---|");
    for w in &o.workloads {
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        for _ in 0..o.rounds {
            let a = start(&o.server);
            ours.push(run(w, &a, &o));
            drop(a);
            let b = start(redis);
            theirs.push(run(w, &b, &o));
        }
        let (l, r) = (
            median(ours.iter().map(|x| x.0).collect()),
            median(theirs.iter().map(|x| x.0).collect()),
        );
        println!(
            "| {w} | {l:.0} | {r:.0} | {:.2} | {:.1} | {:.1} |",
            l / r,
            median(ours.iter().map(|x| x.1).collect()),
            median(theirs.iter().map(|x| x.1).collect()),
        );
    }
}
