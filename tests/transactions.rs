//! MULTI/EXEC/DISCARD/WATCH end to end, at 1 and 4 shards: exact replies and
//! errors, queued-command errors (EXECABORT) versus runtime errors inside
//! EXEC, WATCH aborts from other connections, expiry and FLUSHALL, and
//! atomicity under concurrency (a transaction over keys on every shard is
//! never seen half done, and neither is a script racing it).
//!
//! The keys `b`, `c`, `somekey` and `a` hash to slots 3300, 7365, 11058 and
//! 15495, so at 4 shards they land on shards 0, 1, 2 and 3; likewise
//! `acct:3`, `acct:2`, `acct:1`, `acct:0` (slots 1822, 5951, 10076, 14205).
//! Tests that race open 8 or more connections so at 4 shards the clients sit
//! on different cores.

mod common;

use common::{encode_request, q, RawConn};
use redis::{Connection, Value};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

/// One key per shard at 4 shards.
const SPREAD: [&str; 4] = ["a", "b", "c", "somekey"];

fn request(args: &[&str]) -> Vec<u8> {
    let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    encode_request(&args)
}

/// Sends `cmds` as one pipeline and returns every reply, escaped for
/// readable comparison.
fn session(c: &mut RawConn, cmds: &[&[&str]]) -> Vec<String> {
    let mut bytes = Vec::new();
    for cmd in cmds {
        bytes.extend(request(cmd));
    }
    c.send(&bytes);
    cmds.iter()
        .map(|_| c.read_reply().escape_ascii().to_string())
        .collect()
}

/// One command, one escaped reply.
fn run(c: &mut RawConn, args: &[&str]) -> String {
    session(c, &[args]).pop().unwrap()
}

/// Runs MULTI, `cmds` and EXEC through the `redis` crate and returns EXEC's
/// reply (`Value::Nil` when a watched key changed).
fn transaction(con: &mut Connection, cmds: &[&[&str]]) -> Value {
    assert_eq!(q::<String>(con, &["MULTI"]), "OK");
    for cmd in cmds {
        assert_eq!(q::<String>(con, cmd), "QUEUED", "{cmd:?}");
    }
    q(con, &["EXEC"])
}

/// Integer values of an EXEC reply made of bulk strings.
fn ints(v: &Value) -> Vec<i64> {
    let Value::Array(items) = v else {
        panic!("EXEC returned {v:?}")
    };
    items
        .iter()
        .map(|i| match i {
            Value::BulkString(b) => std::str::from_utf8(b).unwrap().parse().unwrap(),
            Value::Int(n) => *n,
            other => panic!("unexpected {other:?} in {v:?}"),
        })
        .collect()
}

fn get_int(con: &mut Connection, key: &str) -> i64 {
    q::<Option<i64>>(con, &["GET", key]).unwrap_or(0)
}

common::shard_tests! {
    fn multi_exec_discard_and_watch_reply_like_redis(srv: &Server) {
        let mut c = srv.raw();
        assert_eq!(
            session(&mut c, &[&["EXEC"], &["DISCARD"], &["WATCH"], &["UNWATCH"]]),
            [
                "-ERR EXEC without MULTI\\r\\n",
                "-ERR DISCARD without MULTI\\r\\n",
                "-ERR wrong number of arguments for \\'watch\\' command\\r\\n",
                "+OK\\r\\n",
            ]
        );
        // Misplaced MULTI and WATCH are refused without spoiling the
        // transaction.
        assert_eq!(
            session(&mut c, &[
                &["MULTI"],
                &["MULTI"],
                &["WATCH", "a"],
                &["SET", "a", "1"],
                &["GET", "a"],
                &["SET", "b", "2"],
                &["EXEC"],
            ]),
            [
                "+OK\\r\\n",
                "-ERR MULTI calls can not be nested\\r\\n",
                "-ERR WATCH inside MULTI is not allowed\\r\\n",
                "+QUEUED\\r\\n",
                "+QUEUED\\r\\n",
                "+QUEUED\\r\\n",
                "*3\\r\\n+OK\\r\\n$1\\r\\n1\\r\\n+OK\\r\\n",
            ]
        );
        // An empty transaction, and DISCARD dropping what was queued.
        assert_eq!(
            session(&mut c, &[
                &["MULTI"],
                &["EXEC"],
                &["MULTI"],
                &["SET", "a", "lost"],
                &["DEL", "b"],
                &["DISCARD"],
                &["EXEC"],
                &["DISCARD"],
                &["MGET", "a", "b"],
            ]),
            [
                "+OK\\r\\n",
                "*0\\r\\n",
                "+OK\\r\\n",
                "+QUEUED\\r\\n",
                "+QUEUED\\r\\n",
                "+OK\\r\\n",
                "-ERR EXEC without MULTI\\r\\n",
                "-ERR DISCARD without MULTI\\r\\n",
                "*2\\r\\n$1\\r\\n1\\r\\n$1\\r\\n2\\r\\n",
            ]
        );
        // Nothing queued ran before EXEC: another client sees the old value.
        assert_eq!(session(&mut c, &[&["MULTI"], &["SET", "a", "new"]]), ["+OK\\r\\n", "+QUEUED\\r\\n"]);
        let mut con = srv.client();
        assert_eq!(q::<String>(&mut con, &["GET", "a"]), "1");
        assert_eq!(run(&mut c, &["EXEC"]), "*1\\r\\n+OK\\r\\n");
        assert_eq!(q::<String>(&mut con, &["GET", "a"]), "new");
        // An aborted EXEC is a null array in RESP2 and a null in RESP3.
        assert_eq!(
            session(&mut c, &[&["WATCH", "a"], &["SET", "a", "self"], &["MULTI"], &["GET", "a"], &["EXEC"]]),
            ["+OK\\r\\n", "+OK\\r\\n", "+OK\\r\\n", "+QUEUED\\r\\n", "*-1\\r\\n"]
        );
        assert!(run(&mut c, &["HELLO", "3"]).starts_with('%'));
        assert_eq!(
            session(&mut c, &[&["WATCH", "a"], &["SET", "a", "self"], &["MULTI"], &["GET", "a"], &["EXEC"]]),
            ["+OK\\r\\n", "+OK\\r\\n", "+OK\\r\\n", "+QUEUED\\r\\n", "_\\r\\n"]
        );
        assert_eq!(
            session(&mut c, &[&["MULTI"], &["GET", "nokey"], &["EXEC"]]),
            ["+OK\\r\\n", "+QUEUED\\r\\n", "*1\\r\\n_\\r\\n"]
        );
    }

    fn queued_command_errors_abort_the_whole_transaction(srv: &Server) {
        let mut c = srv.raw();
        let mut con = srv.client();
        let _: () = q(&mut con, &["SET", "a", "before"]);
        let cases: &[(&[&str], &str)] = &[
            (&["NOSUCH", "x", "y"], "-ERR unknown command 'NOSUCH', with args beginning with: 'x' 'y' \\r\\n"),
            (&["SET", "a"], "-ERR wrong number of arguments for 'set' command\\r\\n"),
            (&["GET", "a", "b"], "-ERR wrong number of arguments for 'get' command\\r\\n"),
        ];
        for (bad, err) in cases {
            let err = err.replace('\'', "\\'");
            assert_eq!(
                session(&mut c, &[
                    &["MULTI"],
                    &["SET", "a", "after"],
                    bad,
                    &["INCR", "counter"],
                    &["EXEC"],
                    &["EXEC"],
                ]),
                [
                    "+OK\\r\\n".to_string(),
                    "+QUEUED\\r\\n".to_string(),
                    err,
                    "+QUEUED\\r\\n".to_string(),
                    "-EXECABORT Transaction discarded because of previous errors.\\r\\n".to_string(),
                    "-ERR EXEC without MULTI\\r\\n".to_string(),
                ],
                "{bad:?}"
            );
            assert_eq!(q::<String>(&mut con, &["GET", "a"]), "before", "{bad:?}");
            assert_eq!(q::<i64>(&mut con, &["EXISTS", "counter"]), 0, "{bad:?}");
        }
        // The connection is usable afterwards.
        assert_eq!(
            session(&mut c, &[&["MULTI"], &["INCR", "counter"], &["EXEC"]]),
            ["+OK\\r\\n", "+QUEUED\\r\\n", "*1\\r\\n:1\\r\\n"]
        );
    }

    fn runtime_errors_inside_exec_do_not_stop_the_rest(srv: &Server) {
        let mut c = srv.raw();
        assert_eq!(session(&mut c, &[&["SET", "s", "abc"], &["LPUSH", "l", "x"]]), ["+OK\\r\\n", ":1\\r\\n"]);
        assert_eq!(
            session(&mut c, &[
                &["MULTI"],
                &["INCR", "s"],
                &["INCR", "l"],
                &["SET", "a", "3"],
                &["LPUSH", "s", "q"],
                &["INCR", "n"],
                &["EXEC"],
            ])
            .pop()
            .unwrap(),
            "*5\\r\\n\
             -ERR value is not an integer or out of range\\r\\n\
             -WRONGTYPE Operation against a key holding the wrong kind of value\\r\\n\
             +OK\\r\\n\
             -WRONGTYPE Operation against a key holding the wrong kind of value\\r\\n\
             :1\\r\\n"
        );
        assert_eq!(
            session(&mut c, &[&["GET", "a"], &["GET", "n"], &["GET", "s"], &["LLEN", "l"]]),
            ["$1\\r\\n3\\r\\n", "$1\\r\\n1\\r\\n", "$3\\r\\nabc\\r\\n", ":1\\r\\n"]
        );
    }

    fn blocking_commands_inside_multi_return_at_once(srv: &Server) {
        let mut c = srv.raw();
        let started = Instant::now();
        let replies = session(&mut c, &[
            &["MULTI"],
            &["BLPOP", "empty", "0"],
            &["RPUSH", "lst", "v"],
            &["BLPOP", "lst", "0"],
            &["BRPOPLPUSH", "empty", "x", "0"],
            &["BLMOVE", "empty", "x", "LEFT", "RIGHT", "0"],
            &["BZPOPMIN", "zempty", "0"],
            &["BLMPOP", "0", "1", "empty", "LEFT"],
            &["BZMPOP", "0", "1", "zempty", "MIN"],
            &["RPUSH", "src", "s"],
            &["BLMOVE", "src", "dst", "LEFT", "RIGHT", "0"],
            &["EXEC"],
        ]);
        assert!(started.elapsed() < Duration::from_secs(2), "EXEC blocked");
        // BRPOPLPUSH and BLMOVE on an empty source answer a null bulk string
        // here, as RPOPLPUSH and LMOVE do (Redis 7.0; their timeout reply
        // outside MULTI is a null array).
        assert_eq!(
            replies.last().unwrap(),
            "*10\\r\\n*-1\\r\\n:1\\r\\n*2\\r\\n$3\\r\\nlst\\r\\n$1\\r\\nv\\r\\n\
             $-1\\r\\n$-1\\r\\n*-1\\r\\n*-1\\r\\n*-1\\r\\n:1\\r\\n$1\\r\\ns\\r\\n"
        );
    }

    fn commands_of_every_family_run_inside_multi(srv: &Server) {
        let mut c = srv.raw();
        let replies = session(&mut c, &[
            &["MULTI"],
            &["SET", "a", "1"],
            &["INCRBY", "a", "41"],
            &["APPEND", "b", "xy"],
            &["GETRANGE", "b", "0", "0"],
            &["MSET", "c", "3", "somekey", "4"],
            &["MGET", "a", "b", "c", "somekey", "none"],
            &["RPUSH", "list", "x", "y"],
            &["LRANGE", "list", "0", "-1"],
            &["HSET", "hash", "f", "v"],
            &["HGET", "hash", "f"],
            &["SADD", "set", "m"],
            &["SISMEMBER", "set", "m"],
            &["ZADD", "zset", "1.5", "m"],
            &["ZRANGE", "zset", "0", "-1", "WITHSCORES"],
            &["EXPIRE", "a", "100"],
            &["TTL", "a"],
            &["TYPE", "hash"],
            &["EXISTS", "a", "b", "c", "none"],
            &["RENAME", "c", "c2"],
            &["DEL", "somekey", "c2"],
            &["DBSIZE"],
            &["PING"],
            &["ECHO", "hi"],
            &["EXEC"],
        ]);
        assert!(replies[1..replies.len() - 1].iter().all(|r| r == "+QUEUED\\r\\n"), "{replies:?}");
        let exec = replies.last().unwrap();
        let want = [
            "*23",
            "+OK",
            ":42",
            ":2",
            "$1", "x",
            "+OK",
            "*5", "$2", "42", "$2", "xy", "$1", "3", "$1", "4", "$-1",
            ":2",
            "*2", "$1", "x", "$1", "y",
            ":1",
            "$1", "v",
            ":1",
            ":1",
            ":1",
            "*2", "$1", "m", "$3", "1.5",
            ":1",
            ":100",
            "+hash",
            ":3",
            "+OK",
            ":2",
            ":6",
            "+PONG",
            "$2", "hi",
        ]
        .iter()
        .map(|l| format!("{l}\\r\\n"))
        .collect::<String>();
        assert_eq!(*exec, want);
    }

    fn multi_over_keys_on_every_shard_is_never_seen_half_done(srv: &Server) {
        let port = srv.port();
        let mut con = srv.client();
        let _: () = q(&mut con, &["MSET", "a", "0", "b", "0", "c", "0", "somekey", "0"]);
        let stop = Arc::new(AtomicBool::new(false));
        let writer = {
            let stop = stop.clone();
            thread::spawn(move || {
                let mut con = common::client(port);
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let v = n.to_string();
                    let cmds: Vec<[&str; 3]> = SPREAD.iter().map(|k| ["SET", *k, v.as_str()]).collect();
                    let cmds: Vec<&[&str]> = cmds.iter().map(|c| &c[..]).collect();
                    let reply = transaction(&mut con, &cmds);
                    assert_eq!(reply, Value::Array(vec![Value::Okay; 4]));
                }
                n
            })
        };
        let readers: Vec<_> = (0..3)
            .map(|r| {
                let stop = stop.clone();
                thread::spawn(move || {
                    let mut con = common::client(port);
                    let mut last = 0;
                    let mut reads = 0;
                    let mut order = SPREAD;
                    order.rotate_left(r);
                    while !stop.load(Ordering::Relaxed) {
                        let vals: Vec<i64> = if r == 0 {
                            let cmds: Vec<[&str; 2]> = order.iter().map(|k| ["GET", *k]).collect();
                            let cmds: Vec<&[&str]> = cmds.iter().map(|c| &c[..]).collect();
                            ints(&transaction(&mut con, &cmds))
                        } else {
                            let mut cmd = redis::cmd("MGET");
                            cmd.arg(&order[..]);
                            cmd.query(&mut con).unwrap()
                        };
                        assert!(vals.iter().all(|v| *v == vals[0]), "reader {r} saw a partial EXEC: {vals:?}");
                        assert!(vals[0] >= last, "reader {r} went back in time");
                        last = vals[0];
                        reads += 1;
                    }
                    reads
                })
            })
            .collect();
        thread::sleep(Duration::from_millis(1500));
        stop.store(true, Ordering::Relaxed);
        let writes = writer.join().unwrap();
        for r in readers {
            assert!(r.join().unwrap() > 10, "a reader barely ran");
        }
        assert!(writes > 10, "only {writes} transactions ran");
        let vals: Vec<i64> = {
            let mut cmd = redis::cmd("MGET");
            cmd.arg(&SPREAD[..]);
            cmd.query(&mut con).unwrap()
        };
        assert_eq!(vals, vec![writes as i64; 4]);
    }

    fn watch_aborts_exec_when_other_connections_modify_the_key(srv: &Server) {
        // Each modification comes from its own connection, so at 4 shards
        // they run on every core.
        let cases: &[(&[&str], &[&str])] = &[
            (&["SET", "a", "1"], &["SET", "a", "2"]),
            (&["SET", "b", "1"], &["INCR", "b"]),
            (&["SET", "c", "1"], &["DEL", "c"]),
            (&["SET", "somekey", "1"], &["EXPIRE", "somekey", "100"]),
            (&["SET", "a", "1"], &["APPEND", "a", "x"]),
            (&["RPUSH", "b", "1"], &["LPUSH", "b", "0"]),
            (&["HSET", "c", "f", "1"], &["HSET", "c", "f", "2"]),
            (&["SADD", "somekey", "m"], &["SREM", "somekey", "m"]),
            (&["ZADD", "a", "1", "m"], &["ZINCRBY", "a", "1", "m"]),
            (&["SET", "b", "1"], &["RENAME", "b", "b2"]),
            (&["SET", "x", "1"], &["RENAME", "x", "c"]),
            (&["SET", "somekey", "1"], &["MSET", "a", "0", "somekey", "2"]),
            (&["SET", "a", "1"], &["GETDEL", "a"]),
            (&["SET", "b", "1", "EX", "100"], &["PERSIST", "b"]),
        ];
        let mut con = srv.client();
        for (setup, modify) in cases {
            let _: () = q(&mut con, &["FLUSHALL"]);
            let _: Value = q(&mut con, setup);
            let watched = match modify[0] {
                "RENAME" if modify[1] == "x" => modify[2],
                "MSET" => modify[3],
                _ => modify[1],
            };
            // Watch the target together with keys on the other shards.
            let mut watch = vec!["WATCH", watched];
            watch.extend(SPREAD.iter().filter(|k| **k != watched));
            let _: () = q(&mut con, &watch);
            let mut other = srv.client();
            let _: Value = q(&mut other, modify);
            let reply = transaction(&mut con, &[&["SET", "result", "ran"]]);
            assert_eq!(reply, Value::Nil, "{modify:?} did not abort EXEC");
            assert_eq!(q::<i64>(&mut con, &["EXISTS", "result"]), 0, "{modify:?}");
        }
        // Reads, writes to other keys and writes that change nothing leave
        // the watch intact.
        let harmless: &[&[&str]] = &[
            &["GET", "a"],
            &["EXISTS", "a", "b"],
            &["TTL", "b"],
            &["SET", "unwatched", "1"],
            &["DEL", "missing"],
            &["SET", "a", "other", "NX"],
        ];
        let _: () = q(&mut con, &["FLUSHALL"]);
        let _: () = q(&mut con, &["MSET", "a", "1", "b", "1"]);
        for cmd in harmless {
            let _: () = q(&mut con, &["WATCH", "a", "b", "missing"]);
            let mut other = srv.client();
            let _: Value = q(&mut other, cmd);
            let reply = transaction(&mut con, &[&["INCR", "n"]]);
            assert!(matches!(reply, Value::Array(_)), "{cmd:?} aborted EXEC: {reply:?}");
        }
        assert_eq!(q::<i64>(&mut con, &["GET", "n"]), harmless.len() as i64);
    }

    fn watch_sees_modifications_from_many_connections_at_once(srv: &Server) {
        // 16 watchers over keys on every shard; 8 other connections modify
        // every second watcher's key. Exactly those transactions abort.
        let port = srv.port();
        let watchers: Vec<(String, Connection)> = (0..16)
            .map(|i| {
                let key = format!("{}:{i}", SPREAD[i % 4]);
                let mut con = srv.client();
                let _: () = q(&mut con, &["SET", &key, "0"]);
                let _: () = q(&mut con, &["WATCH", &key]);
                (key, con)
            })
            .collect();
        thread::scope(|s| {
            for w in 0..8 {
                let keys: Vec<String> = watchers.iter().map(|(k, _)| k.clone()).collect();
                s.spawn(move || {
                    let mut con = common::client(port);
                    for (i, key) in keys.iter().enumerate() {
                        if i % 2 == 0 && i / 2 == w {
                            let _: i64 = q(&mut con, &["INCR", key]);
                        }
                    }
                });
            }
        });
        for (i, (key, mut con)) in watchers.into_iter().enumerate() {
            let reply = transaction(&mut con, &[&["INCRBY", &key, "10"]]);
            if i % 2 == 0 {
                assert_eq!(reply, Value::Nil, "watcher of {key} not aborted");
                assert_eq!(get_int(&mut con, &key), 1);
            } else {
                assert_eq!(reply, Value::Array(vec![Value::Int(10)]), "watcher of {key}");
            }
        }
    }

    fn exec_succeeds_after_unwatch_discard_or_an_aborted_exec(srv: &Server) {
        let mut c = srv.raw();
        let mut other = srv.client();
        // UNWATCH forgets the watched key.
        assert_eq!(run(&mut c, &["WATCH", "a", "b"]), "+OK\\r\\n");
        let _: () = q(&mut other, &["SET", "a", "1"]);
        assert_eq!(
            session(&mut c, &[&["UNWATCH"], &["MULTI"], &["GET", "a"], &["EXEC"]]),
            ["+OK\\r\\n", "+OK\\r\\n", "+QUEUED\\r\\n", "*1\\r\\n$1\\r\\n1\\r\\n"]
        );
        // DISCARD unwatches too.
        assert_eq!(run(&mut c, &["WATCH", "a"]), "+OK\\r\\n");
        let _: () = q(&mut other, &["SET", "a", "2"]);
        assert_eq!(
            session(&mut c, &[&["MULTI"], &["DISCARD"], &["MULTI"], &["GET", "a"], &["EXEC"]]),
            ["+OK\\r\\n", "+OK\\r\\n", "+OK\\r\\n", "+QUEUED\\r\\n", "*1\\r\\n$1\\r\\n2\\r\\n"]
        );
        // EXEC unwatches whether it ran or aborted.
        assert_eq!(run(&mut c, &["WATCH", "a"]), "+OK\\r\\n");
        let _: () = q(&mut other, &["SET", "a", "3"]);
        assert_eq!(session(&mut c, &[&["MULTI"], &["EXEC"]]), ["+OK\\r\\n", "*-1\\r\\n"]);
        let _: () = q(&mut other, &["SET", "a", "4"]);
        assert_eq!(
            session(&mut c, &[&["MULTI"], &["GET", "a"], &["EXEC"]]),
            ["+OK\\r\\n", "+QUEUED\\r\\n", "*1\\r\\n$1\\r\\n4\\r\\n"]
        );
        // An EXEC abort is not sticky: WATCH again, no change, EXEC runs.
        assert_eq!(
            session(&mut c, &[&["WATCH", "a"], &["MULTI"], &["INCR", "a"], &["EXEC"]]),
            ["+OK\\r\\n", "+OK\\r\\n", "+QUEUED\\r\\n", "*1\\r\\n:5\\r\\n"]
        );
    }

    fn watch_of_a_key_that_expires_before_exec_aborts(srv: &Server) {
        let mut c = srv.raw();
        // Expired and never touched again.
        assert_eq!(
            session(&mut c, &[&["SET", "k", "v", "PX", "100"], &["WATCH", "k"]]),
            ["+OK\\r\\n", "+OK\\r\\n"]
        );
        thread::sleep(Duration::from_millis(200));
        assert_eq!(
            session(&mut c, &[&["MULTI"], &["GET", "k"], &["EXEC"]]),
            ["+OK\\r\\n", "+QUEUED\\r\\n", "*-1\\r\\n"]
        );
        // Expired and then noticed by another client's read.
        assert_eq!(
            session(&mut c, &[&["SET", "somekey", "v", "PX", "100"], &["WATCH", "somekey", "a"]]),
            ["+OK\\r\\n", "+OK\\r\\n"]
        );
        thread::sleep(Duration::from_millis(200));
        let mut other = srv.client();
        assert_eq!(q::<Option<String>>(&mut other, &["GET", "somekey"]), None);
        assert_eq!(
            session(&mut c, &[&["MULTI"], &["GET", "somekey"], &["EXEC"]]),
            ["+OK\\r\\n", "+QUEUED\\r\\n", "*-1\\r\\n"]
        );
        // A key with a TTL that has not run out does not abort.
        assert_eq!(
            session(&mut c, &[&["SET", "k", "v", "EX", "100"], &["WATCH", "k"]]),
            ["+OK\\r\\n", "+OK\\r\\n"]
        );
        thread::sleep(Duration::from_millis(200));
        assert_eq!(
            session(&mut c, &[&["MULTI"], &["GET", "k"], &["EXEC"]]),
            ["+OK\\r\\n", "+QUEUED\\r\\n", "*1\\r\\n$1\\r\\nv\\r\\n"]
        );
    }

    fn watch_of_a_missing_key_aborts_when_another_client_creates_it(srv: &Server) {
        let mut c = srv.raw();
        let mut other = srv.client();
        for creator in [&["SET", "new", "1"][..], &["LPUSH", "new", "x"], &["INCR", "new"], &["SETNX", "new", "1"]] {
            let _: i64 = q(&mut other, &["DEL", "new"]);
            assert_eq!(run(&mut c, &["WATCH", "new"]), "+OK\\r\\n");
            let _: Value = q(&mut other, creator);
            assert_eq!(
                session(&mut c, &[&["MULTI"], &["SET", "new", "mine"], &["EXEC"]]),
                ["+OK\\r\\n", "+QUEUED\\r\\n", "*-1\\r\\n"],
                "{creator:?}"
            );
        }
        // Created and deleted again still counts as touched.
        let _: i64 = q(&mut other, &["DEL", "new"]);
        assert_eq!(run(&mut c, &["WATCH", "new"]), "+OK\\r\\n");
        let _: () = q(&mut other, &["SET", "new", "1"]);
        let _: i64 = q(&mut other, &["DEL", "new"]);
        assert_eq!(session(&mut c, &[&["MULTI"], &["EXEC"]]), ["+OK\\r\\n", "*-1\\r\\n"]);
    }

    fn flushall_and_flushdb_abort_watchers_of_existing_keys(srv: &Server) {
        let mut other = srv.client();
        for flush in ["FLUSHALL", "FLUSHDB"] {
            for key in SPREAD {
                let mut c = srv.raw();
                let _: () = q(&mut other, &["SET", key, "1"]);
                assert_eq!(run(&mut c, &["WATCH", key]), "+OK\\r\\n");
                let _: () = q(&mut other, &[flush]);
                assert_eq!(
                    session(&mut c, &[&["MULTI"], &["SET", key, "2"], &["EXEC"]]),
                    ["+OK\\r\\n", "+QUEUED\\r\\n", "*-1\\r\\n"],
                    "{flush} with {key} watched"
                );
                assert_eq!(q::<i64>(&mut other, &["EXISTS", key]), 0);
            }
        }
        // Flushing another database leaves database 0's watchers alone.
        let mut c = srv.raw();
        let _: () = q(&mut other, &["SET", "a", "1"]);
        assert_eq!(run(&mut c, &["WATCH", "a"]), "+OK\\r\\n");
        let _: () = q(&mut other, &["SELECT", "1"]);
        let _: () = q(&mut other, &["SET", "a", "db1"]);
        let _: () = q(&mut other, &["FLUSHDB"]);
        assert_eq!(
            session(&mut c, &[&["MULTI"], &["GET", "a"], &["EXEC"]]),
            ["+OK\\r\\n", "+QUEUED\\r\\n", "*1\\r\\n$1\\r\\n1\\r\\n"]
        );
    }

    fn money_transfers_with_watch_keep_the_total(srv: &Server) {
        // S40: WATCH both accounts, GET both, MULTI DECRBY/INCRBY EXEC,
        // retried when a concurrent transfer touched either account.
        const ACCOUNTS: usize = 8;
        const START: i64 = 1000;
        const THREADS: usize = 6;
        let port = srv.port();
        let accounts: Vec<String> = (0..ACCOUNTS).map(|i| format!("acct:{i}")).collect();
        let mut con = srv.client();
        for a in &accounts {
            let _: () = q(&mut con, &["SET", a, &START.to_string()]);
        }
        let deadline = Instant::now() + Duration::from_millis(2000);
        let aborts = Arc::new(AtomicU64::new(0));
        let done = Arc::new(AtomicU64::new(0));
        let workers: Vec<_> = (0..THREADS)
            .map(|t| {
                let (accounts, aborts, done) = (accounts.clone(), aborts.clone(), done.clone());
                thread::spawn(move || {
                    let mut con = common::client(port);
                    let mut seed = t as u64 * 7919 + 1;
                    let mut rand = move |n: u64| {
                        seed ^= seed << 13;
                        seed ^= seed >> 7;
                        seed ^= seed << 17;
                        seed % n
                    };
                    for _ in 0..400 {
                        if Instant::now() > deadline {
                            break;
                        }
                        let from = &accounts[rand(ACCOUNTS as u64) as usize];
                        let to = &accounts[rand(ACCOUNTS as u64) as usize];
                        if from == to {
                            continue;
                        }
                        let amount = 1 + rand(300) as i64;
                        let mut tries = 0;
                        loop {
                            tries += 1;
                            assert!(tries < 10_000, "transfer never committed");
                            let _: () = q(&mut con, &["WATCH", from, to]);
                            let balance = get_int(&mut con, from);
                            let _ = get_int(&mut con, to);
                            if balance < amount {
                                let _: () = q(&mut con, &["UNWATCH"]);
                                break;
                            }
                            let amt = amount.to_string();
                            match transaction(&mut con, &[&["DECRBY", from, &amt], &["INCRBY", to, &amt]]) {
                                Value::Nil => {
                                    aborts.fetch_add(1, Ordering::Relaxed);
                                }
                                Value::Array(r) => {
                                    let Value::Int(left) = r[0] else { panic!("{r:?}") };
                                    assert!(left >= 0, "{from} went negative: {left}");
                                    done.fetch_add(1, Ordering::Relaxed);
                                    break;
                                }
                                other => panic!("EXEC returned {other:?}"),
                            }
                        }
                    }
                })
            })
            .collect();
        // An auditor reads every balance in one transaction meanwhile.
        let mut audits = 0;
        while Instant::now() < deadline {
            let cmds: Vec<[&str; 2]> = accounts.iter().map(|a| ["GET", a.as_str()]).collect();
            let cmds: Vec<&[&str]> = cmds.iter().map(|c| &c[..]).collect();
            let balances = ints(&transaction(&mut con, &cmds));
            assert_eq!(balances.iter().sum::<i64>(), START * ACCOUNTS as i64, "audit saw {balances:?}");
            assert!(balances.iter().all(|b| *b >= 0), "audit saw {balances:?}");
            audits += 1;
        }
        for w in workers {
            w.join().unwrap();
        }
        let balances: Vec<i64> = accounts.iter().map(|a| get_int(&mut con, a)).collect();
        assert_eq!(balances.iter().sum::<i64>(), START * ACCOUNTS as i64, "{balances:?}");
        assert!(balances.iter().all(|b| *b >= 0), "{balances:?}");
        assert!(done.load(Ordering::Relaxed) > 50, "too few transfers committed");
        assert!(audits > 5, "the auditor barely ran");
    }

    fn watch_guarded_increment_never_passes_its_limit(srv: &Server) {
        // S40 `atomic_increment_with_limit`: WATCH, GET, MULTI, INCR, EXEC.
        const LIMIT: i64 = 100;
        let port = srv.port();
        let committed = Arc::new(AtomicU64::new(0));
        let start = Arc::new(Barrier::new(8));
        let workers: Vec<_> = (0..8)
            .map(|_| {
                let (committed, start) = (committed.clone(), start.clone());
                thread::spawn(move || {
                    let mut con = common::client(port);
                    start.wait();
                    let deadline = Instant::now() + Duration::from_secs(4);
                    loop {
                        assert!(Instant::now() < deadline, "the counter never reached its limit");
                        let _: () = q(&mut con, &["WATCH", "limited"]);
                        if get_int(&mut con, "limited") >= LIMIT {
                            let _: () = q(&mut con, &["UNWATCH"]);
                            return;
                        }
                        if let Value::Array(r) = transaction(&mut con, &[&["INCR", "limited"]]) {
                            assert!(matches!(r[0], Value::Int(n) if n <= LIMIT), "{r:?}");
                            committed.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                })
            })
            .collect();
        for w in workers {
            w.join().unwrap();
        }
        let mut con = srv.client();
        assert_eq!(get_int(&mut con, "limited"), LIMIT);
        assert_eq!(committed.load(Ordering::Relaxed), LIMIT as u64);
    }

    fn idempotency_keys_let_exactly_one_request_through(srv: &Server) {
        // S39: SET idempotency:<key> processing EX 60 NX; the winner stores
        // the result and counts the work in one transaction.
        const REQUESTS: usize = 40;
        const DUPLICATES: usize = 8;
        let port = srv.port();
        let start = Arc::new(Barrier::new(DUPLICATES));
        let wins: Vec<_> = (0..DUPLICATES)
            .map(|t| {
                let start = start.clone();
                thread::spawn(move || {
                    let mut con = common::client(port);
                    start.wait();
                    let mut won = 0;
                    for r in 0..REQUESTS {
                        let key = format!("idempotency:{r}");
                        if q::<Option<String>>(&mut con, &["GET", &key]).is_some() {
                            continue; // seen before: a duplicate
                        }
                        let got: Option<String> = q(&mut con, &["SET", &key, "processing", "EX", "60", "NX"]);
                        match got.as_deref() {
                            None => continue, // a duplicate: 409
                            Some("OK") => {}
                            Some(other) => panic!("SET NX returned {other}"),
                        }
                        won += 1;
                        let result = format!("{{\"request\":{r},\"by\":{t}}}");
                        let reply = transaction(&mut con, &[
                            &["SET", &key, &result, "EX", "86400"],
                            &["INCR", "processed"],
                            &["RPUSH", &format!("results:{r}"), &result],
                        ]);
                        let Value::Array(items) = reply else { panic!("EXEC returned {reply:?}") };
                        assert_eq!(items[0], Value::Okay);
                    }
                    won
                })
            })
            .collect();
        let total: usize = wins.into_iter().map(|w| w.join().unwrap()).sum();
        assert_eq!(total, REQUESTS);
        let mut con = srv.client();
        assert_eq!(get_int(&mut con, "processed"), REQUESTS as i64);
        for r in 0..REQUESTS {
            let key = format!("idempotency:{r}");
            let v: String = q(&mut con, &["GET", &key]);
            assert!(v.starts_with(&format!("{{\"request\":{r},")), "{key} = {v}");
            assert!(q::<i64>(&mut con, &["TTL", &key]) > 60, "{key} kept the short TTL");
            assert_eq!(q::<i64>(&mut con, &["LLEN", &format!("results:{r}")]), 1);
        }
        // A failed request releases its key for a retry.
        assert_eq!(q::<Option<String>>(&mut con, &["SET", "idempotency:failed", "processing", "EX", "60", "NX"]).as_deref(), Some("OK"));
        assert_eq!(q::<i64>(&mut con, &["DEL", "idempotency:failed"]), 1);
        assert_eq!(q::<Option<String>>(&mut con, &["SET", "idempotency:failed", "processing", "EX", "60", "NX"]).as_deref(), Some("OK"));
    }

    fn transactions_and_scripts_moving_units_keep_the_sum_at_every_read(srv: &Server) {
        // Movers take one unit from a counter and give it to the next, the
        // two on different shards, either in MULTI/EXEC or in a script.
        // Readers check the sum in MULTI/EXEC and with one MGET: any
        // interleaving of a move with a read would show a wrong sum.
        const START: i64 = 1000;
        const SCRIPT: &str = "redis.call('decr',KEYS[1]); redis.call('incr',KEYS[2])";
        let port = srv.port();
        let mut con = srv.client();
        for k in SPREAD {
            let _: () = q(&mut con, &["SET", k, &START.to_string()]);
        }
        let total = START * SPREAD.len() as i64;
        let stop = Arc::new(AtomicBool::new(false));
        let moves = Arc::new(AtomicU64::new(0));
        let movers: Vec<_> = (0..4)
            .map(|m| {
                let (stop, moves) = (stop.clone(), moves.clone());
                thread::spawn(move || {
                    let mut con = common::client(port);
                    let mut i = m;
                    while !stop.load(Ordering::Relaxed) {
                        let (from, to) = (SPREAD[i % 4], SPREAD[(i + 1) % 4]);
                        i += 1;
                        if m % 2 == 0 {
                            let r = transaction(&mut con, &[&["DECR", from], &["INCR", to]]);
                            assert!(matches!(r, Value::Array(_)), "EXEC returned {r:?}");
                        } else {
                            let _: Value = q(&mut con, &["EVAL", SCRIPT, "2", from, to]);
                        }
                        moves.fetch_add(1, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        let readers: Vec<_> = (0..2)
            .map(|r| {
                let stop = stop.clone();
                thread::spawn(move || {
                    let mut con = common::client(port);
                    let mut reads = 0;
                    while !stop.load(Ordering::Relaxed) {
                        let vals: Vec<i64> = if r == 0 {
                            let cmds: Vec<[&str; 2]> = SPREAD.iter().map(|k| ["GET", *k]).collect();
                            let cmds: Vec<&[&str]> = cmds.iter().map(|c| &c[..]).collect();
                            ints(&transaction(&mut con, &cmds))
                        } else {
                            let mut cmd = redis::cmd("MGET");
                            cmd.arg(&SPREAD[..]);
                            cmd.query(&mut con).unwrap()
                        };
                        assert_eq!(vals.iter().sum::<i64>(), total, "reader {r} saw {vals:?}");
                        reads += 1;
                    }
                    reads
                })
            })
            .collect();
        thread::sleep(Duration::from_millis(2000));
        stop.store(true, Ordering::Relaxed);
        for m in movers {
            m.join().unwrap();
        }
        for r in readers {
            assert!(r.join().unwrap() > 10, "a reader barely ran");
        }
        assert!(moves.load(Ordering::Relaxed) > 20, "movers barely ran");
        let vals: Vec<i64> = SPREAD.iter().map(|k| get_int(&mut con, k)).collect();
        assert_eq!(vals.iter().sum::<i64>(), total, "{vals:?}");
    }

    fn a_client_that_disconnects_inside_multi_runs_nothing(srv: &Server) {
        let mut con = srv.client();
        for key in SPREAD {
            let mut c = srv.raw();
            assert_eq!(
                session(&mut c, &[&["MULTI"], &["SET", key, "1"], &["INCR", "n"]]),
                ["+OK\\r\\n", "+QUEUED\\r\\n", "+QUEUED\\r\\n"]
            );
            drop(c);
        }
        // Commands queued by a connection that is gone never run, not even
        // once the server has noticed the disconnection.
        let deadline = Instant::now() + Duration::from_millis(300);
        while Instant::now() < deadline {
            assert_eq!(q::<i64>(&mut con, &["EXISTS", "a", "b", "c", "somekey", "n"]), 0);
            thread::sleep(Duration::from_millis(20));
        }
    }

    fn a_busy_script_flags_queued_transactions_and_script_kill_recovers(srv: &Server) {
        const BUSY: &str =
            "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
        let mut admin = srv.raw();
        assert_eq!(run(&mut admin, &["CONFIG", "SET", "busy-reply-threshold", "50"]), "+OK\\r\\n");
        let busy_loop = ["EVAL", "local i = 0 while true do i = i + 1 end", "0"];
        let mut c = srv.raw();
        let mut looper = srv.raw();
        // Each key on its own shard at 4 shards: whatever the script holds,
        // every command below meets it.
        for key in SPREAD {
            // A transaction queued before the script got busy.
            assert_eq!(session(&mut c, &[&["MULTI"], &["SET", key, "1"]]), ["+OK\\r\\n", "+QUEUED\\r\\n"]);
            looper.send(&request(&busy_loop));
            let deadline = Instant::now() + Duration::from_secs(5);
            // PING, not a key: a command on a key the script holds that
            // arrives before the script counts as busy waits for it.
            while !run(&mut admin, &["PING"]).starts_with("-BUSY") {
                assert!(Instant::now() < deadline, "the script never got busy");
                thread::sleep(Duration::from_millis(5));
            }
            // MULTI's own errors still answer; a refused command flags
            // the transaction.
            assert_eq!(
                session(&mut c, &[&["WATCH", "w"], &["UNWATCH"], &["GET", key]]),
                [
                    "-ERR WATCH inside MULTI is not allowed\\r\\n".to_string(),
                    "+QUEUED\\r\\n".to_string(),
                    format!("-{BUSY}\\r\\n"),
                ]
            );
            assert_eq!(run(&mut admin, &["SCRIPT", "KILL"]), "+OK\\r\\n");
            let killed = String::from_utf8(looper.read_reply()).unwrap();
            assert!(killed.starts_with("-ERR Script killed by user with SCRIPT KILL..."), "{killed}");
            // The script is gone, but the transaction saw an error.
            assert_eq!(
                session(&mut c, &[&["EXEC"], &["GET", key]]),
                ["-EXECABORT Transaction discarded because of previous errors.\\r\\n", "$-1\\r\\n"]
            );

            // EXEC while the script is busy: refused, and MULTI is over.
            assert_eq!(session(&mut c, &[&["MULTI"], &["SET", key, "2"]]), ["+OK\\r\\n", "+QUEUED\\r\\n"]);
            looper.send(&request(&busy_loop));
            let deadline = Instant::now() + Duration::from_secs(5);
            // PING, not a key: a command on a key the script holds that
            // arrives before the script counts as busy waits for it.
            while !run(&mut admin, &["PING"]).starts_with("-BUSY") {
                assert!(Instant::now() < deadline, "the script never got busy");
                thread::sleep(Duration::from_millis(5));
            }
            assert_eq!(
                session(&mut c, &[&["EXEC"], &["DISCARD"], &["MULTI"], &["DISCARD"]]),
                [
                    format!("-EXECABORT Transaction discarded because of: {BUSY}\\r\\n"),
                    "-ERR DISCARD without MULTI\\r\\n".to_string(),
                    "+OK\\r\\n".to_string(),
                    "+OK\\r\\n".to_string(),
                ]
            );
            assert_eq!(run(&mut admin, &["SCRIPT", "KILL"]), "+OK\\r\\n");
            looper.read_reply();
            assert_eq!(run(&mut c, &["GET", key]), "$-1\\r\\n", "nothing of either transaction ran");
            assert_eq!(run(&mut c, &["SET", key, "3"]), "+OK\\r\\n");
        }
    }
}
