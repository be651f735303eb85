//! Blocking pops through real clients, at 1 and 4 shards: BLPOP BRPOP
//! BLMPOP BLMOVE BRPOPLPUSH BZPOPMIN BZPOPMAX BZMPOP. Keys `a`, `b`, `c`
//! and `d` live on four different shards when there are 4, so a client
//! blocked on several of them waits on several cores.
//!
//! Covered: wake-up by a push from another connection, served before the
//! pusher's next command; the longest-waiting client first; exact
//! timeouts (sub-second and 0 = forever); nothing lost or served twice
//! when clients time out, disconnect or are killed around pushes; the
//! worker-queue patterns built on them.

mod common;

use common::q;

use std::collections::HashSet;
use std::thread;
use std::time::{Duration, Instant};

use common::{encode_request, RawConn};
use redis::{Connection, Value};

fn blocked_clients(con: &mut Connection) -> u64 {
    let info: String = q(con, &["INFO", "clients"]);
    info.lines()
        .find_map(|l| l.strip_prefix("blocked_clients:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("blocked_clients in INFO")
}

/// Waits until exactly `n` clients are blocked.
fn wait_blocked(con: &mut Connection, n: u64) {
    let start = Instant::now();
    while blocked_clients(con) != n {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "blocked_clients never reached {n}"
        );
        thread::sleep(Duration::from_millis(2));
    }
}

/// Sends a command on a raw connection without reading its reply.
fn send(raw: &mut RawConn, args: &[&str]) {
    let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    raw.send(&encode_request(&args));
}

fn bulk_array(items: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", items.len()).into_bytes();
    for i in items {
        out.extend(format!("${}\r\n{i}\r\n", i.len()).bytes());
    }
    out
}

common::shard_tests! {
    fn each_blocking_pop_is_woken_by_a_push(srv: &Server) {
        let mut con = srv.client();
        let cases: &[(&[&str], &[&str], Vec<u8>)] = &[
            (&["BLPOP", "a", "b", "0"], &["RPUSH", "b", "x", "y"], bulk_array(&["b", "x"])),
            (&["BRPOP", "a", "b", "0"], &["RPUSH", "a", "x", "y"], bulk_array(&["a", "y"])),
            (
                &["BLMPOP", "0", "2", "c", "d", "RIGHT", "COUNT", "2"],
                &["RPUSH", "d", "1", "2", "3"],
                b"*2\r\n$1\r\nd\r\n*2\r\n$1\r\n3\r\n$1\r\n2\r\n".to_vec(),
            ),
            (&["BRPOPLPUSH", "c", "a", "0"], &["RPUSH", "c", "j1", "j2"], b"$2\r\nj2\r\n".to_vec()),
            (&["BLMOVE", "d", "b", "LEFT", "RIGHT", "0"], &["RPUSH", "d", "m"], b"$1\r\nm\r\n".to_vec()),
            (
                &["BZPOPMIN", "a", "c", "0"],
                &["ZADD", "c", "2", "two", "1", "one"],
                bulk_array(&["c", "one", "1"]),
            ),
            (
                &["BZPOPMAX", "b", "d", "0"],
                &["ZADD", "d", "2", "two", "1.5", "one"],
                bulk_array(&["d", "two", "2"]),
            ),
            (
                &["BZMPOP", "0", "2", "a", "b", "MIN", "COUNT", "5"],
                &["ZADD", "b", "1", "m1", "2", "m2"],
                b"*2\r\n$1\r\nb\r\n*2\r\n*2\r\n$2\r\nm1\r\n$1\r\n1\r\n*2\r\n$2\r\nm2\r\n$1\r\n2\r\n".to_vec(),
            ),
        ];
        for (block, push, expect) in cases {
            let _: () = q(&mut con, &["FLUSHALL"]);
            let mut waiter = srv.raw();
            send(&mut waiter, block);
            wait_blocked(&mut con, 1);
            // The pusher's own next command already sees the pop done.
            let mut pusher = srv.raw();
            let args: Vec<&[u8]> = push.iter().map(|a| a.as_bytes()).collect();
            let mut pipeline = encode_request(&args);
            pipeline.extend(encode_request(&[b"DBSIZE"]));
            pusher.send(&pipeline);
            pusher.read_reply();
            let dbsize = pusher.read_reply();
            assert_eq!(
                waiter.read_reply(),
                *expect,
                "{block:?} woken by {push:?}"
            );
            wait_blocked(&mut con, 0);
            // A move between shards runs as its own operation right after
            // the push (README, Differences from Redis).
            let crosses = block[0].starts_with("BRPOPL") || block[0] == "BLMOVE";
            if srv.shards() == 1 || !crosses {
                let keys: i64 = q(&mut con, &["DBSIZE"]);
                assert_eq!(dbsize, format!(":{keys}\r\n").into_bytes(), "{block:?}");
            }
        }
        // What was left where.
        let _: () = q(&mut con, &["FLUSHALL"]);
        let mut waiter = srv.raw();
        send(&mut waiter, &["BLMOVE", "a", "c", "RIGHT", "LEFT", "0"]);
        wait_blocked(&mut con, 1);
        let _: i64 = q(&mut con, &["RPUSH", "a", "1", "2"]);
        assert_eq!(waiter.read_reply(), b"$1\r\n2\r\n");
        assert_eq!(q::<Vec<String>>(&mut con, &["LRANGE", "a", "0", "-1"]), ["1"]);
        assert_eq!(q::<Vec<String>>(&mut con, &["LRANGE", "c", "0", "-1"]), ["2"]);
    }

    fn non_empty_keys_pop_at_once_in_key_order(srv: &Server) {
        let mut con = srv.client();
        let _: i64 = q(&mut con, &["RPUSH", "c", "c1", "c2"]);
        let _: i64 = q(&mut con, &["RPUSH", "d", "d1"]);
        let got: Vec<String> = q(&mut con, &["BLPOP", "a", "b", "d", "c", "0"]);
        assert_eq!(got, ["d", "d1"]);
        let got: Vec<String> = q(&mut con, &["BRPOP", "a", "d", "c", "1"]);
        assert_eq!(got, ["c", "c2"]);
        assert_eq!(q::<i64>(&mut con, &["EXISTS", "d"]), 0);
        let _: i64 = q(&mut con, &["ZADD", "b", "1", "x", "2", "y"]);
        let got: Vec<String> = q(&mut con, &["BZPOPMAX", "a", "b", "0"]);
        assert_eq!(got, ["b", "y", "2"]);
        let got: String = q(&mut con, &["BRPOPLPUSH", "c", "a", "0"]);
        assert_eq!(got, "c1");
        assert_eq!(q::<Vec<String>>(&mut con, &["LRANGE", "a", "0", "-1"]), ["c1"]);
        // A key of another type before a non-empty one is an error.
        let _: () = q(&mut con, &["SET", "s", "x"]);
        let e = redis::cmd("BLPOP").arg("s").arg("a").arg(0).query::<Value>(&mut con).unwrap_err();
        assert_eq!(e.code(), Some("WRONGTYPE"));
        let e = redis::cmd("BZPOPMIN").arg("a").arg(0).query::<Value>(&mut con).unwrap_err();
        assert_eq!(e.code(), Some("WRONGTYPE"));
        assert_eq!(q::<i64>(&mut con, &["LLEN", "a"]), 1);
    }

    fn timeouts_are_exact_and_answer_nil(srv: &Server) {
        let mut raw = srv.raw();
        for (args, nil) in [
            (&["BLPOP", "a", "b", "0.15"][..], &b"*-1\r\n"[..]),
            (&["BRPOPLPUSH", "a", "b", "0.15"], b"*-1\r\n"),
            (&["BLMOVE", "c", "d", "LEFT", "LEFT", "0.15"], b"*-1\r\n"),
            (&["BZMPOP", "0.15", "1", "c", "MIN"], b"*-1\r\n"),
        ] {
            let start = Instant::now();
            send(&mut raw, args);
            assert_eq!(raw.read_reply(), nil, "{args:?}");
            let took = start.elapsed();
            assert!(
                took >= Duration::from_millis(150) && took < Duration::from_millis(190),
                "{args:?} took {took:?}"
            );
        }
        // Sub-second and RESP3.
        raw.cmd(&[b"HELLO", b"3"]);
        let start = Instant::now();
        assert_eq!(raw.cmd(&[b"BZPOPMIN", b"a", b"0.01"]), b"_\r\n");
        assert!(start.elapsed() < Duration::from_millis(40));
        // 0 waits for as long as it takes.
        let mut con = srv.client();
        send(&mut raw, &["BLPOP", "d", "0"]);
        thread::sleep(Duration::from_millis(400));
        assert_eq!(blocked_clients(&mut con), 1);
        let _: i64 = q(&mut con, &["LPUSH", "d", "late"]);
        assert_eq!(raw.read_reply(), b"*2\r\n$1\r\nd\r\n$4\r\nlate\r\n");
    }

    fn longest_waiting_client_is_served_first(srv: &Server) {
        let mut con = srv.client();
        let mut waiters: Vec<RawConn> = Vec::new();
        for i in 0..4 {
            let mut w = srv.raw();
            // Mixed key sets: all wait on `b`, some also on keys elsewhere.
            let keys: &[&str] = match i % 2 {
                0 => &["b", "0"],
                _ => &["a", "b", "c", "0"],
            };
            let mut args = vec!["BLPOP"];
            args.extend_from_slice(keys);
            send(&mut w, &args);
            wait_blocked(&mut con, i + 1);
            waiters.push(w);
        }
        let _: i64 = q(&mut con, &["RPUSH", "b", "e0", "e1"]);
        assert_eq!(waiters[0].read_reply(), bulk_array(&["b", "e0"]));
        assert_eq!(waiters[1].read_reply(), bulk_array(&["b", "e1"]));
        wait_blocked(&mut con, 2);
        let _: i64 = q(&mut con, &["RPUSH", "b", "e2"]);
        assert_eq!(waiters[2].read_reply(), bulk_array(&["b", "e2"]));
        let _: i64 = q(&mut con, &["RPUSH", "c", "e3"]);
        assert_eq!(waiters[3].read_reply(), bulk_array(&["c", "e3"]));
        wait_blocked(&mut con, 0);
        assert_eq!(q::<i64>(&mut con, &["DBSIZE"]), 0);
    }

    fn a_client_blocked_on_several_shards_is_served_once(srv: &Server) {
        let mut con = srv.client();
        let mut w = srv.raw();
        send(&mut w, &["BLPOP", "a", "b", "c", "d", "0"]);
        wait_blocked(&mut con, 1);
        let _: i64 = q(&mut con, &["RPUSH", "c", "first"]);
        assert_eq!(w.read_reply(), bulk_array(&["c", "first"]));
        // Its registrations on the other shards are dead.
        for k in ["a", "b", "d"] {
            let _: i64 = q(&mut con, &["RPUSH", k, "stays"]);
        }
        thread::sleep(Duration::from_millis(50));
        for k in ["a", "b", "d"] {
            assert_eq!(q::<i64>(&mut con, &["LLEN", k]), 1, "{k}");
        }
    }

    fn nothing_is_lost_or_doubled_when_waiters_time_out(srv: &Server) {
        const N: usize = 2000;
        let port = srv.port();
        // Consumers with tiny timeouts keep blocking and timing out while
        // a producer pushes: every element reaches exactly one of them.
        let consumers: Vec<_> = (0..4)
            .map(|_| {
                thread::spawn(move || {
                    let mut got = Vec::new();
                    let mut raw = RawConn::connect(port);
                    loop {
                        send(&mut raw, &["BRPOP", "a", "b", "0.002"]);
                        let r = raw.read_reply();
                        if r == b"*-1\r\n" {
                            continue;
                        }
                        let s = String::from_utf8(r).unwrap();
                        let item = s.rsplit("\r\n").nth(1).unwrap().to_string();
                        if item == "stop" {
                            return got;
                        }
                        got.push(item);
                    }
                })
            })
            .collect();
        let mut con = srv.client();
        for i in 0..N {
            let key = if i % 2 == 0 { "a" } else { "b" };
            let _: i64 = q(&mut con, &["LPUSH", key, &format!("e{i}")]);
        }
        // BRPOP takes from `a` first: the stops may only go in once every
        // element was taken, or a consumer could stop while `b` holds some.
        let deadline = Instant::now() + Duration::from_secs(20);
        while q::<i64>(&mut con, &["EXISTS", "a", "b"]) > 0 {
            assert!(Instant::now() < deadline, "consumers stalled");
            thread::sleep(Duration::from_millis(5));
        }
        for _ in 0..4 {
            let _: i64 = q(&mut con, &["LPUSH", "a", "stop"]);
        }
        let mut seen = HashSet::new();
        for c in consumers {
            for item in c.join().unwrap() {
                assert!(seen.insert(item.clone()), "{item} delivered twice");
            }
        }
        assert_eq!(seen.len(), N);
        assert_eq!(q::<i64>(&mut con, &["EXISTS", "a", "b"]), 0);
    }

    fn killed_and_disconnected_waiters_take_nothing(srv: &Server) {
        let mut con = srv.client();
        let mut gone = srv.raw();
        send(&mut gone, &["BLPOP", "a", "0"]);
        wait_blocked(&mut con, 1);
        drop(gone);
        wait_blocked(&mut con, 0);
        let mut killed = srv.raw();
        send(&mut killed, &["CLIENT", "SETNAME", "victim"]);
        killed.read_reply();
        send(&mut killed, &["BZPOPMIN", "b", "0"]);
        wait_blocked(&mut con, 1);
        let list: String = q(&mut con, &["CLIENT", "LIST"]);
        let line = list.lines().find(|l| l.contains("name=victim")).unwrap();
        assert!(line.contains("flags=b "), "{line}");
        assert!(line.contains("cmd=bzpopmin"), "{line}");
        let id = line.split(' ').next().unwrap().trim_start_matches("id=");
        assert_eq!(q::<i64>(&mut con, &["CLIENT", "KILL", "ID", id]), 1);
        wait_blocked(&mut con, 0);
        let _: i64 = q(&mut con, &["RPUSH", "a", "kept"]);
        let _: i64 = q(&mut con, &["ZADD", "b", "1", "kept"]);
        assert_eq!(q::<i64>(&mut con, &["LLEN", "a"]), 1);
        assert_eq!(q::<i64>(&mut con, &["ZCARD", "b"]), 1);
    }

    fn wrong_types_and_argument_errors(srv: &Server) {
        let mut con = srv.client();
        let fails = |con: &mut Connection, args: &[&str]| -> String {
            let mut cmd = redis::cmd(args[0]);
            for a in &args[1..] {
                cmd.arg(*a);
            }
            let e = cmd.query::<Value>(con).unwrap_err();
            format!("{} {}", e.code().unwrap_or("?"), e.detail().unwrap_or(""))
        };
        assert_eq!(fails(&mut con, &["BLPOP", "a", "x"]), "ERR timeout is not a float or out of range");
        assert_eq!(fails(&mut con, &["BLPOP", "a", "-1"]), "ERR timeout is negative");
        assert_eq!(fails(&mut con, &["BRPOP", "a"]), "ERR wrong number of arguments for 'brpop' command");
        assert_eq!(fails(&mut con, &["BLMPOP", "0", "0", "a", "LEFT"]), "ERR numkeys should be greater than 0");
        assert_eq!(fails(&mut con, &["BZMPOP", "0", "1", "a", "LEFT"]), "ERR syntax error");
        assert_eq!(fails(&mut con, &["BLMOVE", "a", "b", "UP", "LEFT", "0"]), "ERR syntax error");
        // A destination of another type: the waiter gets WRONGTYPE when
        // served, the element stays.
        let _: () = q(&mut con, &["SET", "b", "string"]);
        let mut w = srv.raw();
        send(&mut w, &["BRPOPLPUSH", "a", "b", "0"]);
        wait_blocked(&mut con, 1);
        let _: i64 = q(&mut con, &["RPUSH", "a", "elem"]);
        let r = String::from_utf8(w.read_reply()).unwrap();
        assert!(r.starts_with("-WRONGTYPE"), "{r}");
        assert_eq!(q::<Vec<String>>(&mut con, &["LRANGE", "a", "0", "-1"]), ["elem"]);
        // A key of the wrong type created while waiting leaves it waiting.
        let _: () = q(&mut con, &["DEL", "a"]);
        send(&mut w, &["BLPOP", "c", "0.3"]);
        wait_blocked(&mut con, 1);
        let _: i64 = q(&mut con, &["ZADD", "c", "1", "z"]);
        assert_eq!(w.read_reply(), b"*-1\r\n");
    }

    fn a_wrong_type_destination_passes_the_element_to_the_next_mover_under_load(srv: &Server) {
        // Busy threads keep both cores loaded, as on a machine running
        // builds: the race between the two movers must not hang either.
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let spinners: Vec<_> = (0..3)
            .map(|_| {
                let stop = stop.clone();
                thread::spawn(move || {
                    let mut x = 0u64;
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        x = x.wrapping_mul(31).wrapping_add(1);
                    }
                    x
                })
            })
            .collect();
        let mut con = srv.client();
        // Source, wrong-type destination and good destination: at 4 shards
        // some pairs live on different shards.
        for (src, bad, good) in [("a", "b", "c"), ("q{x}", "str{x}", "dst{x}"), ("somekey", "a", "b")] {
            for round in 0..8 {
                let _: i64 = q(&mut con, &["DEL", src, bad, good]);
                let _: () = q(&mut con, &["SET", bad, "string"]);
                let mut first = srv.raw();
                let mut second = srv.raw();
                send(&mut first, &["BRPOPLPUSH", src, bad, "0"]);
                wait_blocked(&mut con, 1);
                send(&mut second, &["BRPOPLPUSH", src, good, "0"]);
                wait_blocked(&mut con, 2);
                let elem = format!("e{round}");
                let _: i64 = q(&mut con, &["LPUSH", src, &elem]);
                let r = String::from_utf8(first.read_reply()).unwrap();
                assert!(r.starts_with("-WRONGTYPE"), "{src} round {round}: {r}");
                assert_eq!(second.read_reply(), format!("${}\r\n{elem}\r\n", elem.len()).into_bytes());
                assert_eq!(q::<Vec<String>>(&mut con, &["LRANGE", good, "0", "-1"]), [elem]);
                assert_eq!(q::<i64>(&mut con, &["EXISTS", src]), 0);
                assert_eq!(blocked_clients(&mut con), 0);
            }
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for s in spinners {
            s.join().unwrap();
        }
    }

    fn waiters_of_another_type_are_passed_over(srv: &Server) {
        let mut con = srv.client();
        let mut zw = srv.raw();
        send(&mut zw, &["BZPOPMIN", "k", "0.5"]);
        wait_blocked(&mut con, 1);
        let mut lw = srv.raw();
        send(&mut lw, &["BLPOP", "k", "0"]);
        wait_blocked(&mut con, 2);
        let _: i64 = q(&mut con, &["RPUSH", "k", "v"]);
        assert_eq!(lw.read_reply(), bulk_array(&["k", "v"]));
        assert_eq!(zw.read_reply(), b"*-1\r\n");
    }

    fn chained_moves_follow_each_other(srv: &Server) {
        let mut con = srv.client();
        let mut w1 = srv.raw();
        let mut w2 = srv.raw();
        send(&mut w1, &["BLMOVE", "a", "b", "RIGHT", "LEFT", "0"]);
        wait_blocked(&mut con, 1);
        send(&mut w2, &["BLMOVE", "b", "c", "LEFT", "RIGHT", "0"]);
        wait_blocked(&mut con, 2);
        let _: i64 = q(&mut con, &["RPUSH", "a", "foo"]);
        assert_eq!(w1.read_reply(), b"$3\r\nfoo\r\n");
        assert_eq!(w2.read_reply(), b"$3\r\nfoo\r\n");
        assert_eq!(q::<i64>(&mut con, &["EXISTS", "a", "b"]), 0);
        assert_eq!(q::<Vec<String>>(&mut con, &["LRANGE", "c", "0", "-1"]), ["foo"]);
    }

    fn worker_queue_with_blocking_pops(srv: &Server) {
        // S45/S46: workers BLPOP high- then normal-priority queues.
        let port = srv.port();
        let mut con = srv.client();
        let workers: Vec<_> = (0..3)
            .map(|_| {
                thread::spawn(move || {
                    let mut c = common::client(port);
                    let mut done = Vec::new();
                    loop {
                        let r: Option<(String, String)> =
                            q(&mut c, &["BLPOP", "queue:high", "queue:normal", "1"]);
                        match r {
                            None => continue,
                            Some((_, job)) if job == "quit" => return done,
                            Some((q, job)) => done.push((q, job)),
                        }
                    }
                })
            })
            .collect();
        for i in 0..300 {
            let (queue, job) = if i % 3 == 0 {
                ("queue:high", format!("h{i}"))
            } else {
                ("queue:normal", format!("n{i}"))
            };
            let _: i64 = q(&mut con, &["RPUSH", queue, &job]);
        }
        for _ in 0..3 {
            let _: i64 = q(&mut con, &["RPUSH", "queue:normal", "quit"]);
        }
        let mut all = HashSet::new();
        for w in workers {
            for (queue, job) in w.join().unwrap() {
                assert_eq!(queue == "queue:high", job.starts_with('h'));
                assert!(all.insert(job));
            }
        }
        assert_eq!(all.len(), 300);
        // Priority by key order when both have jobs.
        let _: i64 = q(&mut con, &["RPUSH", "queue:normal", "n"]);
        let _: i64 = q(&mut con, &["RPUSH", "queue:high", "h"]);
        let r: (String, String) = q(&mut con, &["BLPOP", "queue:high", "queue:normal", "5"]);
        assert_eq!(r, ("queue:high".into(), "h".into()));
    }

    fn reliable_queue_with_brpoplpush_and_blmove(srv: &Server) {
        // S47: jobs move atomically to a processing list; a worker acks
        // with LREM. The sum of queued, in-flight and acknowledged jobs
        // never changes, and each job is processed once.
        let port = srv.port();
        const JOBS: usize = 400;
        let workers: Vec<_> = (0..3)
            .map(|w| {
                thread::spawn(move || {
                    let mut c = common::client(port);
                    let processing = format!("processing:{w}");
                    let mut done = Vec::new();
                    loop {
                        let job: Option<String> = if w == 0 {
                            q(&mut c, &["BRPOPLPUSH", "jobs", &processing, "2"])
                        } else {
                            q(&mut c, &["BLMOVE", "jobs", &processing, "RIGHT", "LEFT", "2"])
                        };
                        let Some(job) = job else { return done };
                        let in_flight: Vec<String> = q(&mut c, &["LRANGE", &processing, "0", "-1"]);
                        assert_eq!(in_flight, std::slice::from_ref(&job), "moved atomically");
                        assert_eq!(q::<i64>(&mut c, &["LREM", &processing, "1", &job]), 1);
                        let _: i64 = q(&mut c, &["SADD", "acked", &job]);
                        done.push(job);
                    }
                })
            })
            .collect();
        let mut con = srv.client();
        for i in 0..JOBS {
            let _: i64 = q(&mut con, &["LPUSH", "jobs", &format!("job{i}")]);
            if i % 100 == 0 {
                thread::sleep(Duration::from_millis(20));
            }
        }
        let mut total = 0;
        for w in workers {
            total += w.join().unwrap().len();
        }
        assert_eq!(total, JOBS);
        assert_eq!(q::<i64>(&mut con, &["SCARD", "acked"]), JOBS as i64);
        assert_eq!(q::<i64>(&mut con, &["EXISTS", "jobs", "processing:0", "processing:1"]), 0);
    }

    fn delayed_jobs_promoted_by_score_wake_workers(srv: &Server) {
        // S27: jobs scheduled on a sorted set by due time; a mover takes
        // due ones (ZRANGEBYSCORE + ZREM) into the ready queue, where a
        // blocked worker picks them up.
        let mut con = srv.client();
        let now = 1_700_000_000i64;
        for (i, due) in [now - 10, now + 100, now - 5, now + 1].iter().enumerate() {
            let _: i64 = q(&mut con, &["ZADD", "delayed", &due.to_string(), &format!("job{i}")]);
        }
        let mut worker = srv.raw();
        send(&mut worker, &["BLPOP", "ready", "0"]);
        wait_blocked(&mut con, 1);
        let due: Vec<String> = q(&mut con, &["ZRANGEBYSCORE", "delayed", "-inf", &now.to_string()]);
        assert_eq!(due, ["job0", "job2"]);
        for job in &due {
            assert_eq!(q::<i64>(&mut con, &["ZREM", "delayed", job]), 1);
            let _: i64 = q(&mut con, &["RPUSH", "ready", job]);
        }
        assert_eq!(worker.read_reply(), bulk_array(&["ready", "job0"]));
        assert_eq!(q::<Vec<String>>(&mut con, &["LRANGE", "ready", "0", "-1"]), ["job2"]);
        assert_eq!(q::<i64>(&mut con, &["ZCARD", "delayed"]), 2);
        // Priority queue variant: BZPOPMIN serves the most urgent.
        let mut w = srv.raw();
        send(&mut w, &["BZPOPMIN", "pq", "0"]);
        wait_blocked(&mut con, 1);
        let _: i64 = q(&mut con, &["ZADD", "pq", "5", "later", "1", "urgent"]);
        assert_eq!(w.read_reply(), bulk_array(&["pq", "urgent", "1"]));
    }

    fn blocked_clients_hold_their_pipeline(srv: &Server) {
        // A command pipelined behind a blocked one runs after it.
        let mut con = srv.client();
        let mut w = srv.raw();
        let mut pipe = encode_request(&[b"BLPOP", b"a", b"0"]);
        pipe.extend(encode_request(&[b"LLEN", b"a"]));
        pipe.extend(encode_request(&[b"PING"]));
        w.send(&pipe);
        wait_blocked(&mut con, 1);
        let _: i64 = q(&mut con, &["RPUSH", "a", "1", "2"]);
        assert_eq!(w.read_reply(), bulk_array(&["a", "1"]));
        assert_eq!(w.read_reply(), b":1\r\n");
        assert_eq!(w.read_reply(), b"+PONG\r\n");
    }
}
