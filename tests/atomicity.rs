//! Atomicity under concurrency, at 1 and 4 shards: no client may see a
//! multi-key write half done (MSET, MSETNX, RENAME, FLUSHALL), and a client
//! that vanishes mid-pipeline must not disturb anyone else.
//!
//! Readers use MGET/EXISTS over keys spread across shards; at 4 shards those
//! are multi-shard operations, so these tests exercise the ordering of
//! `shard::core`.

mod common;

use redis::Connection;
use std::collections::HashSet;
use std::io::Write;
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

fn keys(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i}")).collect()
}

fn mget(con: &mut Connection, keys: &[String]) -> Vec<Option<String>> {
    redis::cmd("MGET").arg(keys).query(con).unwrap()
}

fn dbsize(con: &mut Connection) -> i64 {
    redis::cmd("DBSIZE").query(con).unwrap()
}

/// Panics unless all values are equal (all present with one value, or all absent).
fn assert_all_equal(vals: &[Option<String>], what: &str) {
    assert!(
        vals.iter().all(|v| *v == vals[0]),
        "{what}: saw a partial write: {vals:?}"
    );
}

common::shard_tests! {
    fn mset_is_never_seen_half_done_by_mget(srv: &Server) {
        let port = srv.port();
        let ks = keys("atom:", 10);
        let mut con = srv.client();
        let _: () = redis::cmd("MSET").arg(ks.iter().flat_map(|k| [k.as_str(), "0"]).collect::<Vec<_>>()).query(&mut con).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let writes = Arc::new(AtomicU64::new(0));
        let writer = {
            let (ks, stop, writes) = (ks.clone(), stop.clone(), writes.clone());
            thread::spawn(move || {
                let mut con = common::client(port);
                let mut i = 1u64;
                while !stop.load(Ordering::Relaxed) {
                    let mut c = redis::cmd("MSET");
                    for k in &ks {
                        c.arg(k).arg(i);
                    }
                    let _: () = c.query(&mut con).unwrap();
                    writes.store(i, Ordering::Relaxed);
                    i += 1;
                }
            })
        };
        let readers: Vec<_> = (0..3)
            .map(|r| {
                let (ks, stop) = (ks.clone(), stop.clone());
                thread::spawn(move || {
                    let mut con = common::client(port);
                    let mut last = 0u64;
                    let mut reads = 0u64;
                    // Readers ask for the keys in different orders.
                    let mut order = ks.clone();
                    order.rotate_left(r * 3);
                    while !stop.load(Ordering::Relaxed) {
                        let vals = mget(&mut con, &order);
                        assert_all_equal(&vals, "MGET during MSET");
                        let v: u64 = vals[0].as_deref().expect("key vanished").parse().unwrap();
                        assert!(v >= last, "MGET went back in time: {v} after {last}");
                        last = v;
                        reads += 1;
                    }
                    reads
                })
            })
            .collect();
        thread::sleep(Duration::from_secs(2));
        stop.store(true, Ordering::Relaxed);
        writer.join().unwrap();
        let reads: u64 = readers.into_iter().map(|h| h.join().unwrap()).sum();
        let n = writes.load(Ordering::Relaxed);
        assert!(n > 100 && reads > 100, "too little concurrency to mean anything: {n} MSETs, {reads} MGETs");
        let vals = mget(&mut con, &ks);
        assert_eq!(vals, vec![Some(n.to_string()); 10]);
    }

    fn concurrent_msets_on_the_same_keys_never_interleave(srv: &Server) {
        let port = srv.port();
        let ks = keys("ww:", 10);
        let stop = Arc::new(AtomicBool::new(false));
        let writers: Vec<_> = (0..3)
            .map(|t| {
                let (ks, stop) = (ks.clone(), stop.clone());
                thread::spawn(move || {
                    let mut con = common::client(port);
                    let mut i = 0u64;
                    // Each writer names the keys in its own order.
                    let mut order = ks.clone();
                    order.rotate_left(t * 4);
                    while !stop.load(Ordering::Relaxed) {
                        let mut c = redis::cmd("MSET");
                        for k in &order {
                            c.arg(k).arg(format!("w{t}:{i}"));
                        }
                        let _: () = c.query(&mut con).unwrap();
                        i += 1;
                    }
                    i
                })
            })
            .collect();
        let mut con = srv.client();
        let deadline = Instant::now() + Duration::from_millis(1200);
        let mut checks = 0;
        while Instant::now() < deadline {
            let vals = mget(&mut con, &ks);
            if vals[0].is_some() {
                assert_all_equal(&vals, "MGET during concurrent MSETs");
                checks += 1;
            }
        }
        stop.store(true, Ordering::Relaxed);
        let writes: u64 = writers.into_iter().map(|h| h.join().unwrap()).sum();
        assert!(writes > 100 && checks > 50, "{writes} MSETs, {checks} checks");
        assert_all_equal(&mget(&mut con, &ks), "after concurrent MSETs");
    }

    fn msetnx_race_has_exactly_one_winner_per_round(srv: &Server) {
        const ROUNDS: usize = 200;
        let port = srv.port();
        let barrier = Arc::new(Barrier::new(2));
        let racers: Vec<_> = [(0usize, "A"), (5usize, "B")]
            .into_iter()
            .map(|(first, tag)| {
                let barrier = barrier.clone();
                thread::spawn(move || {
                    let mut con = common::client(port);
                    let mut wins = Vec::with_capacity(ROUNDS);
                    for r in 0..ROUNDS {
                        let mut c = redis::cmd("MSETNX");
                        for j in first..first + 10 {
                            c.arg(format!("r{r}:k{j}")).arg(tag);
                        }
                        barrier.wait();
                        let n: i64 = c.query(&mut con).unwrap();
                        wins.push(n == 1);
                    }
                    wins
                })
            })
            .collect();
        let results: Vec<Vec<bool>> = racers.into_iter().map(|h| h.join().unwrap()).collect();
        let mut con = srv.client();
        for (r, (&a, &b)) in results[0].iter().zip(&results[1]).enumerate() {
            assert!(a != b, "round {r}: A won {a}, B won {b}: want exactly one winner");
            let (winner, range, loser_only) = if a { ("A", 0..10, 10..15) } else { ("B", 5..15, 0..5) };
            let won: Vec<String> = range.map(|j| format!("r{r}:k{j}")).collect();
            assert_eq!(mget(&mut con, &won), vec![Some(winner.to_string()); 10], "round {r}");
            let lost: Vec<String> = loser_only.map(|j| format!("r{r}:k{j}")).collect();
            assert_eq!(mget(&mut con, &lost), vec![None; 5], "round {r}: loser wrote some keys");
        }
        assert_eq!(dbsize(&mut con), (ROUNDS * 10) as i64);
    }

    fn concurrent_renames_never_lose_or_duplicate_values(srv: &Server) {
        const SLOTS: usize = 8;
        let port = srv.port();
        let ring = keys("ring:", SLOTS);
        let tokens = ["t0", "t1", "t2"];
        let mut con = srv.client();
        for (k, t) in ring.iter().zip(tokens) {
            let _: () = redis::cmd("SET").arg(k).arg(t).query(&mut con).unwrap();
        }
        let stop = Arc::new(AtomicBool::new(false));
        let moved = Arc::new(AtomicU64::new(0));
        let movers: Vec<_> = (0..3)
            .map(|m| {
                let (ring, stop, moved) = (ring.clone(), stop.clone(), moved.clone());
                thread::spawn(move || {
                    let mut con = common::client(port);
                    let mut x = m as usize * 7 + 1;
                    while !stop.load(Ordering::Relaxed) {
                        x = (x * 1103515245 + 12345) % (1 << 31);
                        let (a, b) = (x % SLOTS, (x / SLOTS) % SLOTS);
                        if a == b {
                            continue;
                        }
                        match redis::cmd("RENAMENX").arg(&ring[a]).arg(&ring[b]).query::<i64>(&mut con) {
                            Ok(1) => {
                                moved.fetch_add(1, Ordering::Relaxed);
                            }
                            Ok(0) => {}
                            Ok(n) => panic!("RENAMENX returned {n}"),
                            Err(e) => assert!(e.to_string().contains("no such key"), "{e}"),
                        }
                    }
                })
            })
            .collect();
        let deadline = Instant::now() + Duration::from_millis(1500);
        let mut checks = 0;
        while Instant::now() < deadline {
            let n: i64 = redis::cmd("EXISTS").arg(&ring).query(&mut con).unwrap();
            assert_eq!(n, 3, "EXISTS saw a rename half done");
            let mut vals: Vec<String> = mget(&mut con, &ring).into_iter().flatten().collect();
            vals.sort();
            assert_eq!(vals, tokens, "MGET saw a rename half done");
            checks += 1;
        }
        stop.store(true, Ordering::Relaxed);
        for h in movers {
            h.join().unwrap();
        }
        assert!(moved.load(Ordering::Relaxed) > 50, "too few renames: {}", moved.load(Ordering::Relaxed));
        assert!(checks > 20);
        let mut vals: Vec<String> = mget(&mut con, &ring).into_iter().flatten().collect();
        vals.sort();
        assert_eq!(vals, tokens);
        assert_eq!(dbsize(&mut con), 3);

        // RENAME (overwriting) races over one token: it is never duplicated.
        let _: () = redis::cmd("FLUSHALL").query(&mut con).unwrap();
        let _: () = redis::cmd("SET").arg(&ring[0]).arg("only").arg("EX").arg(1000).query(&mut con).unwrap();
        let threads: Vec<_> = (0..4)
            .map(|m| {
                let ring = ring.clone();
                thread::spawn(move || {
                    let mut con = common::client(port);
                    for i in 0..300 {
                        let (a, b) = ((i + m) % SLOTS, (i * 3 + m + 1) % SLOTS);
                        if a != b {
                            let _ = redis::cmd("RENAME").arg(&ring[a]).arg(&ring[b]).query::<()>(&mut con);
                        }
                    }
                })
            })
            .collect();
        for h in threads {
            h.join().unwrap();
        }
        let vals: Vec<Option<String>> = mget(&mut con, &ring);
        assert_eq!(vals.iter().flatten().count(), 1, "{vals:?}");
        let at = vals.iter().position(|v| v.is_some()).unwrap();
        let ttl: i64 = redis::cmd("TTL").arg(&ring[at]).query(&mut con).unwrap();
        assert!(ttl > 990, "TTL lost on the way: {ttl}");
    }

    fn flushall_during_writes_leaves_consistent_state(srv: &Server) {
        let port = srv.port();
        let stop = Arc::new(AtomicBool::new(false));
        let groups: Vec<Vec<String>> = (0..3).map(|g| keys(&format!("grp{g}:"), 10)).collect();
        let writers: Vec<_> = groups
            .iter()
            .cloned()
            .map(|ks| {
                let stop = stop.clone();
                thread::spawn(move || {
                    let mut con = common::client(port);
                    let mut i = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        let mut c = redis::cmd("MSET");
                        for k in &ks {
                            c.arg(k).arg(i);
                        }
                        let _: () = c.query(&mut con).unwrap();
                        let _: () = redis::cmd("SET").arg(format!("single:{}", i % 50)).arg(i).query(&mut con).unwrap();
                        i += 1;
                    }
                })
            })
            .collect();
        let flusher = {
            let stop = stop.clone();
            thread::spawn(move || {
                let mut con = common::client(port);
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    let mode = ["SYNC", "ASYNC"][n % 2];
                    let _: () = redis::cmd("FLUSHALL").arg(mode).query(&mut con).unwrap();
                    n += 1;
                    thread::sleep(Duration::from_millis(5));
                }
                n
            })
        };
        let mut con = srv.client();
        let deadline = Instant::now() + Duration::from_millis(1200);
        let mut checks = 0;
        while Instant::now() < deadline {
            for ks in &groups {
                assert_all_equal(&mget(&mut con, ks), "MGET during FLUSHALL");
            }
            checks += 1;
        }
        stop.store(true, Ordering::Relaxed);
        for h in writers {
            h.join().unwrap();
        }
        let flushes = flusher.join().unwrap();
        assert!(flushes > 10 && checks > 10, "{flushes} flushes, {checks} checks");
        for ks in &groups {
            assert_all_equal(&mget(&mut con, ks), "after FLUSHALL and writers");
        }
        let listed: Vec<String> = redis::cmd("KEYS").arg("*").query(&mut con).unwrap();
        assert_eq!(listed.len() as i64, dbsize(&mut con), "KEYS and DBSIZE disagree");
        let _: () = redis::cmd("FLUSHALL").query(&mut con).unwrap();
        assert_eq!(dbsize(&mut con), 0);
        let listed: Vec<String> = redis::cmd("KEYS").arg("*").query(&mut con).unwrap();
        assert!(listed.is_empty());
    }

    fn pipelined_single_and_multi_shard_commands_run_in_order(srv: &Server) {
        let mut con = srv.client();
        let mut p = redis::pipe();
        for i in 0..30 {
            let (a, b) = (format!("po:a{i}"), format!("po:b{i}"));
            p.cmd("SET").arg(&a).arg(1)
                .cmd("MGET").arg(&a).arg(&b)
                .cmd("INCR").arg(&a)
                .cmd("MSET").arg(&a).arg(10).arg(&b).arg(20)
                .cmd("GET").arg(&b)
                .cmd("RENAME").arg(&b).arg(format!("po:c{i}"))
                .cmd("EXISTS").arg(&a).arg(&b).arg(format!("po:c{i}"))
                .cmd("DEL").arg(&a)
                .cmd("MGET").arg(&a).arg(format!("po:c{i}"));
        }
        type Step = ((String, Vec<Option<String>>, i64, String), (Option<String>, String, i64, i64), Vec<Option<String>>);
        let got: Vec<redis::Value> = p.query(&mut con).unwrap();
        assert_eq!(got.len(), 30 * 9);
        for (i, chunk) in got.chunks(9).enumerate() {
            let step: Step = (
                (
                    redis::from_redis_value(&chunk[0]).unwrap(),
                    redis::from_redis_value(&chunk[1]).unwrap(),
                    redis::from_redis_value(&chunk[2]).unwrap(),
                    redis::from_redis_value(&chunk[3]).unwrap(),
                ),
                (
                    redis::from_redis_value(&chunk[4]).unwrap(),
                    redis::from_redis_value(&chunk[5]).unwrap(),
                    redis::from_redis_value(&chunk[6]).unwrap(),
                    redis::from_redis_value(&chunk[7]).unwrap(),
                ),
                redis::from_redis_value(&chunk[8]).unwrap(),
            );
            let want: Step = (
                ("OK".into(), vec![Some("1".into()), None], 2, "OK".into()),
                (Some("20".into()), "OK".into(), 2, 1),
                vec![None, Some("20".into())],
            );
            assert_eq!(step, want, "round {i}: replies out of order or commands reordered");
        }
    }

    fn client_vanishing_mid_pipeline_harms_no_one(srv: &Server) {
        let mut con = srv.client();
        // Another client keeps working throughout.
        let port = srv.port();
        let stop = Arc::new(AtomicBool::new(false));
        let bystander = {
            let stop = stop.clone();
            thread::spawn(move || {
                let mut con = common::client(port);
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let v: i64 = redis::cmd("INCR").arg("{by}stander").query(&mut con).unwrap();
                    n += 1;
                    assert_eq!(v as u64, n);
                }
                n
            })
        };
        for round in 0..3 {
            let mut pipeline = Vec::new();
            for i in 0..1000 {
                let (k, v) = (format!("p{round}:{i}"), format!("v{i}"));
                pipeline.extend(common::encode_request(&[b"SET", k.as_bytes(), v.as_bytes()]));
            }
            if round == 1 {
                // Multi-shard commands in the pipeline too.
                for i in 0..50 {
                    let (a, b) = (format!("p{round}:m{i}a"), format!("p{round}:m{i}b"));
                    pipeline.extend(common::encode_request(&[b"MSET", a.as_bytes(), b"x", b.as_bytes(), b"x"]));
                }
            }
            if round == 2 {
                // And a request cut in half.
                pipeline.extend_from_slice(b"*3\r\n$3\r\nSET\r\n$4\r\nhalf");
            }
            let mut sock = TcpStream::connect(("127.0.0.1", port)).unwrap();
            sock.write_all(&pipeline).unwrap();
            let _ = sock.shutdown(Shutdown::Both);
            drop(sock);
            let pong: String = redis::cmd("PING").query(&mut con).unwrap();
            assert_eq!(pong, "PONG");
        }
        // Let the server finish whatever it accepted, then check.
        thread::sleep(Duration::from_millis(200));
        stop.store(true, Ordering::Relaxed);
        assert!(bystander.join().unwrap() > 0);
        let pong: String = redis::cmd("PING").query(&mut con).unwrap();
        assert_eq!(pong, "PONG");
        let n = dbsize(&mut con);
        assert!(n <= 3000 + 100 + 1, "DBSIZE {n}: more keys than were sent");
        for round in 0..3 {
            let ks = keys(&format!("p{round}:"), 1000);
            for (i, v) in mget(&mut con, &ks).into_iter().enumerate() {
                if let Some(v) = v {
                    assert_eq!(v, format!("v{i}"), "p{round}:{i} holds a wrong value");
                }
            }
        }
        for i in 0..50 {
            let pair = vec![format!("p1:m{i}a"), format!("p1:m{i}b")];
            assert_all_equal(&mget(&mut con, &pair), "MSET from a vanished client");
        }
        let listed: HashSet<String> = redis::cmd("KEYS").arg("half*").query::<Vec<String>>(&mut con).unwrap().into_iter().collect();
        assert!(listed.is_empty(), "a half-sent SET was executed");
        // New clients are still accepted and served on every core.
        for _ in 0..8 {
            let mut c = srv.client();
            let pong: String = redis::cmd("PING").query(&mut c).unwrap();
            assert_eq!(pong, "PONG");
            let _: () = redis::cmd("SET").arg("after").arg("ok").query(&mut c).unwrap();
        }
    }
}
