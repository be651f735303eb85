//! End-to-end usage scenarios from `SCENARIOS.md` that need only strings,
//! keys, connection and server commands, each at 1 and 4 shards, driven
//! through the `redis` crate the way applications drive a cache (plus raw
//! RESP where exact bytes matter), and `redis-benchmark` runs (S69).
//!
//! Waiting for a TTL to pass polls with a deadline; no test sleeps to wait
//! for start-up.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use redis::{Connection, FromRedisValue, ToRedisArgs};

use common::Server;

/// For commands without arguments.
const NO_ARGS: &[&str] = &[];

/// Runs one command through the `redis` crate and converts its reply.
fn q<T: FromRedisValue>(con: &mut Connection, name: &str, args: impl ToRedisArgs) -> T {
    redis::cmd(name)
        .arg(args)
        .query(con)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Polls `f` every 20 ms until it returns true, for at most `within`.
fn eventually(within: Duration, what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !f() {
        assert!(
            Instant::now() < deadline,
            "{what} did not happen within {within:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn info_num(con: &mut Connection, section: &str, name: &str) -> u64 {
    let text: String = q(con, "INFO", section);
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
        .unwrap_or_else(|| panic!("no {name} in INFO {section}"))
        .parse()
        .unwrap()
}

common::shard_tests! {
    fn s01_cache_aside(srv: &Server) {
        let mut con = srv.client();
        let json = r#"{"id":1000,"name":"Ada Lovelace","email":"ada@example.com"}"#;
        assert_eq!(q::<Option<String>>(&mut con, "GET", "user:1000"), None, "cold cache misses");
        // Load from the database, then populate.
        assert_eq!(q::<String>(&mut con, "SET", ("user:1000", json, "EX", 3600)), "OK");
        assert_eq!(q::<Option<String>>(&mut con, "GET", "user:1000").as_deref(), Some(json));
        let ttl: i64 = q(&mut con, "TTL", "user:1000");
        assert!((3599..=3600).contains(&ttl), "TTL {ttl}");
        // The SETEX spelling of the same step.
        assert_eq!(q::<String>(&mut con, "SETEX", ("user:1001", 3600, json)), "OK");
        assert!((3599..=3600).contains(&q::<i64>(&mut con, "TTL", "user:1001")));
        // Invalidation.
        assert_eq!(q::<i64>(&mut con, "DEL", "user:1000"), 1);
        assert_eq!(q::<Option<String>>(&mut con, "GET", "user:1000"), None);
        assert_eq!(q::<i64>(&mut con, "DEL", "user:1000"), 0);
    }

    fn s03_write_through_cache_matches_last_write(srv: &Server) {
        let mut con = srv.client();
        for round in 0..3 {
            for id in 0..40 {
                let json = format!(r#"{{"id":{id},"version":{round}}}"#);
                let ok: String = q(&mut con, "SET", (format!("cache:user:{id}"), json, "EX", 3600));
                assert_eq!(ok, "OK");
            }
        }
        // Read back from another connection (maybe another core).
        let mut reader = srv.client();
        for id in 0..40 {
            let got: String = q(&mut reader, "GET", format!("cache:user:{id}"));
            assert_eq!(got, format!(r#"{{"id":{id},"version":2}}"#));
        }
        let vals: Vec<String> = q(&mut reader, "MGET", (0..40).map(|id| format!("cache:user:{id}")).collect::<Vec<_>>());
        assert_eq!(vals.len(), 40);
        assert!(vals.iter().all(|v| v.ends_with(r#""version":2}"#)));
    }

    fn s05_refresh_ahead_uses_accurate_ttl(srv: &Server) {
        let mut con = srv.client();
        let json = r#"{"id":7}"#;
        assert_eq!(q::<String>(&mut con, "SETEX", ("user:7", 300, json)), "OK");
        let ttl: i64 = q(&mut con, "TTL", "user:7");
        assert!((299..=300).contains(&ttl), "TTL {ttl}");
        // Under the 360 s threshold: refresh ahead of expiry.
        if ttl < 360 {
            assert_eq!(q::<String>(&mut con, "SETEX", ("user:7", 3600, json)), "OK");
        }
        assert!((3599..=3600).contains(&q::<i64>(&mut con, "TTL", "user:7")));
        // TTL counts down in real time, to within a second.
        assert_eq!(q::<String>(&mut con, "SET", ("short", "v", "PX", 2500)), "OK");
        let start = Instant::now();
        std::thread::sleep(Duration::from_millis(1000));
        let pttl: i64 = q(&mut con, "PTTL", "short");
        let elapsed = start.elapsed().as_millis() as i64;
        assert!((pttl - (2500 - elapsed)).abs() < 150, "PTTL {pttl} after {elapsed} ms");
        let ttl: i64 = q(&mut con, "TTL", "short");
        assert!((1..=2).contains(&ttl), "TTL {ttl}");
    }

    fn s07_negative_caching_expires(srv: &Server) {
        let mut con = srv.client();
        assert_eq!(q::<String>(&mut con, "SETEX", ("cache:missing:42", 60, "NULL")), "OK");
        assert_eq!(q::<String>(&mut con, "GET", "cache:missing:42"), "NULL");
        assert!((59..=60).contains(&q::<i64>(&mut con, "TTL", "cache:missing:42")));
        // The same with a short TTL, to see the expiry happen.
        assert_eq!(q::<String>(&mut con, "PSETEX", ("cache:missing:43", 200, "NULL")), "OK");
        assert_eq!(q::<String>(&mut con, "GET", "cache:missing:43"), "NULL");
        eventually(Duration::from_secs(3), "negative entry expiry", || {
            q::<Option<String>>(&mut con, "GET", "cache:missing:43").is_none()
        });
        assert_eq!(q::<i64>(&mut con, "TTL", "cache:missing:43"), -2);
        assert_eq!(q::<i64>(&mut con, "EXISTS", "cache:missing:43"), 0);
    }

    fn s08_hit_and_miss_counters(srv: &Server) {
        let mut con = srv.client();
        let hits0 = info_num(&mut con, "stats", "keyspace_hits");
        let misses0 = info_num(&mut con, "stats", "keyspace_misses");
        // Application-side counters, as strings (one key per counter).
        for key in ["cache:item:1", "cache:item:2", "cache:item:1", "cache:item:3", "cache:item:1"] {
            let v: Option<String> = q(&mut con, "GET", key);
            if v.is_some() {
                q::<i64>(&mut con, "INCR", "cache:stats:hits");
            } else {
                q::<i64>(&mut con, "INCR", "cache:stats:misses");
                q::<String>(&mut con, "SETEX", (key, 600, "payload"));
                q::<i64>(&mut con, "INCR", "cache:stats:sets");
            }
        }
        let stats: Vec<Option<i64>> = q(&mut con, "MGET", ("cache:stats:hits", "cache:stats:misses", "cache:stats:sets"));
        assert_eq!(stats, vec![Some(2), Some(3), Some(3)]);
        // Server side: 5 GETs (2 hits, 3 misses) plus MGET's 3 hits; INCR
        // does not count as a lookup.
        assert_eq!(info_num(&mut con, "stats", "keyspace_hits") - hits0, 5);
        assert_eq!(info_num(&mut con, "stats", "keyspace_misses") - misses0, 3);
    }

    fn s13_json_session_with_setex(srv: &Server) {
        let mut con = srv.client();
        let sid = "session:4f1c2a9e";
        let json = r#"{"user_id":1000,"roles":["admin"],"created_at":1720000000}"#;
        assert_eq!(q::<String>(&mut con, "SETEX", (sid, 3600, json)), "OK");
        assert_eq!(q::<String>(&mut con, "GET", sid), json);
        assert_eq!(q::<i64>(&mut con, "EXPIRE", (sid, 10)), 1);
        assert!(q::<i64>(&mut con, "TTL", sid) <= 10);
        // Refresh on activity: SETEX resets the TTL and the value.
        let updated = json.replace("1720000000", "1720000999");
        assert_eq!(q::<String>(&mut con, "SETEX", (sid, 3600, updated.as_str())), "OK");
        assert!((3599..=3600).contains(&q::<i64>(&mut con, "TTL", sid)));
        assert_eq!(q::<String>(&mut con, "GET", sid), updated);
        // Logout.
        assert_eq!(q::<i64>(&mut con, "DEL", sid), 1);
        assert_eq!(q::<Option<String>>(&mut con, "GET", sid), None);
        assert_eq!(q::<i64>(&mut con, "TTL", sid), -2);
    }

    fn s16_atomic_counters(srv: &Server) {
        let mut con = srv.client();
        assert_eq!(q::<String>(&mut con, "SET", ("counter", 10)), "OK");
        assert_eq!(q::<i64>(&mut con, "INCR", "counter"), 11);
        assert_eq!(q::<i64>(&mut con, "INCRBY", ("counter", 5)), 16);
        assert_eq!(q::<i64>(&mut con, "DECR", "counter"), 15);
        assert_eq!(q::<i64>(&mut con, "DECRBY", ("counter", 3)), 12);
        assert_eq!(q::<String>(&mut con, "SET", ("page:views", 100)), "OK");
        assert_eq!(q::<i64>(&mut con, "INCR", "page:views"), 101);
        assert_eq!(q::<i64>(&mut con, "INCRBY", ("page:views", 10)), 111);
        assert_eq!(q::<i64>(&mut con, "DECR", "page:views"), 110);
        assert_eq!(q::<String>(&mut con, "INCRBYFLOAT", ("price", "10.50")), "10.5");
        assert_eq!(q::<String>(&mut con, "INCRBYFLOAT", ("price", "0.25")), "10.75");

        // N clients × M INCR on counters spread over the shards: exact totals.
        const CLIENTS: usize = 8;
        const PER_CLIENT: usize = 250;
        let port = srv.port();
        let workers: Vec<_> = (0..CLIENTS)
            .map(|_| {
                std::thread::spawn(move || {
                    let mut con = common::client(port);
                    for i in 0..PER_CLIENT {
                        let _: i64 = q(&mut con, "INCR", "hits:total");
                        let _: i64 = q(&mut con, "INCR", format!("hits:bucket:{}", i % 10));
                    }
                })
            })
            .collect();
        for w in workers {
            w.join().unwrap();
        }
        let total: i64 = q(&mut con, "GET", "hits:total");
        assert_eq!(total, (CLIENTS * PER_CLIENT) as i64);
        for b in 0..10 {
            let n: i64 = q(&mut con, "GET", format!("hits:bucket:{b}"));
            assert_eq!(n, (CLIENTS * PER_CLIENT / 10) as i64, "bucket {b}");
        }
    }

    fn s31_fixed_window_rate_limiter(srv: &Server) {
        let mut con = srv.client();
        let window = 60;
        let limit = 100;
        let key = format!("ratelimit:client42:{}", 1_720_000_000 / window);
        let mut allowed = 0;
        for _ in 0..(limit + 5) {
            let n: i64 = q(&mut con, "INCR", &key);
            if n == 1 {
                assert_eq!(q::<i64>(&mut con, "EXPIRE", (&key, window)), 1);
            }
            if n <= limit {
                allowed += 1;
            }
        }
        assert_eq!(allowed, limit);
        assert_eq!(q::<i64>(&mut con, "GET", &key), limit + 5);
        let reset_in: i64 = q(&mut con, "TTL", &key);
        assert!((1..=window).contains(&reset_in), "TTL {reset_in}");

        // Variant: unconditional EXPIRE 60 per hit, limit 10; a 1 s window
        // shows the counter starting over once the window expires.
        let key = "ratelimit:user7:202407041230";
        for i in 1..=12 {
            let n: i64 = q(&mut con, "INCR", key);
            assert_eq!(n, i);
            assert_eq!(q::<i64>(&mut con, "EXPIRE", (key, 1)), 1);
        }
        eventually(Duration::from_secs(4), "rate-limit window reset", || {
            q::<Option<i64>>(&mut con, "GET", key).is_none()
        });
        assert_eq!(q::<i64>(&mut con, "INCR", key), 1);
    }

    fn s37_lock_with_set_nx_ex(srv: &Server) {
        let mut con = srv.client();
        let mut other = srv.client();
        let owner = "4b3a2f10-0c1d-4e55-9a8b-6f0e9d1c2b3a";
        let ok: Option<String> = q(&mut con, "SET", ("lock:invoice:17", owner, "NX", "EX", 30));
        assert_eq!(ok.as_deref(), Some("OK"));
        let second: Option<String> = q(&mut other, "SET", ("lock:invoice:17", "someone-else", "NX", "EX", 30));
        assert_eq!(second, None, "a held lock cannot be acquired");
        assert_eq!(q::<String>(&mut other, "GET", "lock:invoice:17"), owner);
        assert!((29..=30).contains(&q::<i64>(&mut other, "TTL", "lock:invoice:17")));

        // A lock with a short TTL frees itself; a waiter retrying every
        // 10 ms gets it.
        let ok: Option<String> = q(&mut con, "SET", ("lock:report", owner, "PX", 300, "NX"));
        assert_eq!(ok.as_deref(), Some("OK"));
        let start = Instant::now();
        loop {
            let got: Option<String> = q(&mut other, "SET", ("lock:report", "waiter", "NX", "EX", 10));
            if got.is_some() {
                break;
            }
            assert!(start.elapsed() < Duration::from_secs(5), "lock never expired");
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(start.elapsed() >= Duration::from_millis(200), "lock taken over before its TTL");
        assert_eq!(q::<String>(&mut con, "GET", "lock:report"), "waiter");

        // Contention: of 8 clients racing for one lock, exactly one wins.
        let port = srv.port();
        let racers: Vec<_> = (0..8)
            .map(|i| {
                std::thread::spawn(move || {
                    let mut c = common::client(port);
                    let r: Option<String> = q(&mut c, "SET", ("lock:race", format!("racer-{i}"), "NX", "EX", 30));
                    r.is_some()
                })
            })
            .collect();
        let winners = racers.into_iter().map(|r| r.join().unwrap()).filter(|&w| w).count();
        assert_eq!(winners, 1);
    }

    fn s39_idempotency_keys(srv: &Server) {
        let mut con = srv.client();
        let key = "idempotency:pay-7f3e";
        assert_eq!(q::<Option<String>>(&mut con, "GET", key), None);
        let first: Option<String> = q(&mut con, "SET", (key, "processing", "EX", 60, "NX"));
        assert_eq!(first.as_deref(), Some("OK"));
        let mut dup = srv.client();
        let again: Option<String> = q(&mut dup, "SET", (key, "processing", "EX", 60, "NX"));
        assert_eq!(again, None, "the duplicate request must see 409");
        let result = r#"{"status":"paid","amount":4200}"#;
        assert_eq!(q::<String>(&mut con, "SET", (key, result, "EX", 86400)), "OK");
        assert_eq!(q::<String>(&mut dup, "GET", key), result);
        assert!((86399..=86400).contains(&q::<i64>(&mut dup, "TTL", key)));
        // Failure path: DEL so a retry may run.
        let key2 = "idempotency:pay-8a00";
        assert_eq!(q::<Option<String>>(&mut con, "SET", (key2, "processing", "EX", 60, "NX")).as_deref(), Some("OK"));
        assert_eq!(q::<i64>(&mut con, "DEL", key2), 1);
        assert_eq!(q::<Option<String>>(&mut dup, "SET", (key2, "processing", "EX", 60, "NX")).as_deref(), Some("OK"));
        // The EXISTS / SET EX form.
        assert_eq!(q::<i64>(&mut con, "EXISTS", "executed:op-1"), 0);
        assert_eq!(q::<String>(&mut con, "SET", ("executed:op-1", 1, "EX", 3600)), "OK");
        assert_eq!(q::<i64>(&mut con, "EXISTS", "executed:op-1"), 1);
    }

    fn s63_strings_misc_and_binary_blob(srv: &Server) {
        let mut con = srv.client();
        assert_eq!(q::<String>(&mut con, "SET", ("message", "Hello, Redis World!")), "OK");
        assert_eq!(q::<i64>(&mut con, "STRLEN", "message"), 19);
        assert_eq!(q::<String>(&mut con, "GETRANGE", ("message", 0, 4)), "Hello");
        assert_eq!(q::<i64>(&mut con, "SETRANGE", ("message", 7, "Amazing")), 19);
        assert_eq!(q::<String>(&mut con, "GET", "message"), "Hello, Amazingorld!");
        assert_eq!(q::<String>(&mut con, "SET", ("greeting", "Hello")), "OK");
        assert_eq!(q::<i64>(&mut con, "APPEND", ("greeting", " World")), 11);
        assert_eq!(q::<String>(&mut con, "GET", "greeting"), "Hello World");
        // MSET / MGET over keys on different shards.
        assert_eq!(q::<String>(&mut con, "MSET", ("user:1:name", "Alice Johnson", "user:1:email", "alice@example.com", "user:1:age", 28)), "OK");
        let got: Vec<Option<String>> = q(&mut con, "MGET", ("user:1:name", "user:1:email", "nope", "user:1:age"));
        assert_eq!(got, vec![Some("Alice Johnson".into()), Some("alice@example.com".into()), None, Some("28".into())]);
        assert_eq!(q::<i64>(&mut con, "SETNX", ("user:1:name", "Bob")), 0);
        assert_eq!(q::<i64>(&mut con, "EXISTS", "user:1:name"), 1);
        assert_eq!(q::<i64>(&mut con, "DEL", "user:1:age"), 1);
        assert_eq!(q::<String>(&mut con, "SETEX", ("session:abc123", 3600, "user-data")), "OK");

        // A zlib-compressed blob is arbitrary bytes: header 78 9c, NULs,
        // CR/LF, every byte value.
        let mut blob = vec![0x78u8, 0x9c];
        blob.extend((0..=255u8).cycle().take(4096));
        blob.extend_from_slice(b"\r\n\0\r\n$3\r\n*1\r\n");
        let mut x: u32 = 12345;
        blob.extend((0..2000).map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (x >> 16) as u8
        }));
        assert_eq!(q::<String>(&mut con, "SET", ("cache:compressed:1", blob.as_slice())), "OK");
        assert_eq!(q::<Vec<u8>>(&mut con, "GET", "cache:compressed:1"), blob);
        assert_eq!(q::<i64>(&mut con, "STRLEN", "cache:compressed:1"), blob.len() as i64);
        assert_eq!(q::<Vec<u8>>(&mut con, "GETRANGE", ("cache:compressed:1", 0, 1)), vec![0x78, 0x9c]);
    }

    fn s64_keyspace_administration(srv: &Server) {
        let mut con = srv.client();
        for i in 1..=10 {
            let _: String = q(&mut con, "SET", (format!("user:{i}"), format!(r#"{{"id":{i}}}"#)));
            if i % 2 == 1 {
                assert_eq!(q::<i64>(&mut con, "EXPIRE", (format!("user:{i}"), 3600)), 1);
            }
        }
        let _: String = q(&mut con, "SET", ("other", "x"));
        let mut keys: Vec<String> = q(&mut con, "KEYS", "user:*");
        keys.sort();
        let mut want: Vec<String> = (1..=10).map(|i| format!("user:{i}")).collect();
        want.sort();
        assert_eq!(keys, want);

        // SCAN until cursor 0 returns every key at least once.
        let mut seen = std::collections::HashSet::new();
        let mut cursor = "0".to_string();
        let mut rounds = 0;
        loop {
            let (next, batch): (String, Vec<String>) = q(&mut con, "SCAN", (&cursor, "MATCH", "user:*", "COUNT", 3));
            for k in batch {
                assert!(k.starts_with("user:"), "{k}");
                seen.insert(k);
            }
            cursor = next;
            rounds += 1;
            assert!(rounds < 1000, "SCAN never returned cursor 0");
            if cursor == "0" {
                break;
            }
        }
        assert_eq!(seen.len(), 10);

        assert!((3599..=3600).contains(&q::<i64>(&mut con, "TTL", "user:1")));
        assert_eq!(q::<i64>(&mut con, "TTL", "user:2"), -1);
        assert_eq!(q::<i64>(&mut con, "TTL", "missing"), -2);
        assert_eq!(q::<String>(&mut con, "TYPE", "user:2"), "string");
        assert_eq!(q::<String>(&mut con, "TYPE", "missing"), "none");
        let random: String = q(&mut con, "RANDOMKEY", NO_ARGS);
        assert!(random.starts_with("user:") || random == "other", "{random}");

        assert_eq!(q::<String>(&mut con, "RENAME", ("user:2", "member:2")), "OK");
        assert_eq!(q::<i64>(&mut con, "RENAMENX", ("user:4", "member:2")), 0);
        assert_eq!(q::<i64>(&mut con, "RENAMENX", ("user:4", "member:4")), 1);
        assert_eq!(q::<String>(&mut con, "GET", "member:4"), r#"{"id":4}"#);
        assert_eq!(q::<i64>(&mut con, "PERSIST", "user:1"), 1);
        assert_eq!(q::<i64>(&mut con, "TTL", "user:1"), -1);
        let at = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() + 7200;
        assert_eq!(q::<i64>(&mut con, "EXPIREAT", ("user:6", at)), 1);
        assert!((7199..=7200).contains(&q::<i64>(&mut con, "TTL", "user:6")));
        assert_eq!(q::<i64>(&mut con, "PEXPIRE", ("user:8", 50_000)), 1);
        assert!((49_000..=50_000).contains(&q::<i64>(&mut con, "PTTL", "user:8")));
        assert_eq!(q::<i64>(&mut con, "UNLINK", ("user:8", "user:10", "nope")), 2);

        // Databases.
        let db0: i64 = q(&mut con, "DBSIZE", NO_ARGS);
        assert_eq!(db0, 9);
        let _: String = q(&mut con, "SET", ("mykey", "v"));
        assert_eq!(q::<i64>(&mut con, "MOVE", ("mykey", 1)), 1);
        assert_eq!(q::<i64>(&mut con, "EXISTS", "mykey"), 0);
        let mut db1 = srv.client();
        let _: String = q(&mut db1, "SELECT", 1);
        assert_eq!(q::<String>(&mut db1, "GET", "mykey"), "v");
        assert_eq!(q::<i64>(&mut db1, "DBSIZE", NO_ARGS), 1);
        assert_eq!(q::<Option<String>>(&mut db1, "GET", "user:1"), None, "SELECT 1 isolates keys");
        assert_eq!(q::<String>(&mut db1, "FLUSHDB", NO_ARGS), "OK");
        assert_eq!(q::<i64>(&mut db1, "DBSIZE", NO_ARGS), 0);
        assert_eq!(q::<i64>(&mut con, "DBSIZE", NO_ARGS), 9, "FLUSHDB clears only the current db");
        let _: String = q(&mut db1, "SET", ("again", "v"));
        assert_eq!(q::<String>(&mut con, "FLUSHALL", NO_ARGS), "OK");
        assert_eq!(q::<i64>(&mut con, "DBSIZE", NO_ARGS), 0);
        assert_eq!(q::<i64>(&mut db1, "DBSIZE", NO_ARGS), 0);
    }

    fn s66_config_round_trip(srv: &Server) {
        let mut con = srv.client();
        assert_eq!(q::<String>(&mut con, "CONFIG", ("SET", "maxmemory", "512mb")), "OK");
        let got: Vec<String> = q(&mut con, "CONFIG", ("GET", "maxmemory"));
        assert_eq!(got, vec!["maxmemory", "536870912"]);
        assert_eq!(q::<String>(&mut con, "CONFIG", ("SET", "maxmemory-policy", "allkeys-lru")), "OK");
        let pairs: std::collections::HashMap<String, String> = q(&mut con, "CONFIG", ("GET", "maxmemory*"));
        assert_eq!(pairs.get("maxmemory").map(String::as_str), Some("536870912"));
        assert_eq!(pairs.get("maxmemory-policy").map(String::as_str), Some("allkeys-lru"));
        assert!(pairs.contains_key("maxmemory-samples"), "{pairs:?}");
        let aof: Vec<String> = q(&mut con, "CONFIG", ("GET", "appendonly"));
        assert_eq!(aof, vec!["appendonly", "no"]);
        // Each CONFIG SET save replaces the schedule (SCENARIOS §6 #17).
        assert_eq!(q::<String>(&mut con, "CONFIG", ("SET", "save", "900 1")), "OK");
        assert_eq!(q::<String>(&mut con, "CONFIG", ("SET", "save", "300 10")), "OK");
        let save: Vec<String> = q(&mut con, "CONFIG", ("GET", "save"));
        assert_eq!(save, vec!["save", "300 10"]);
        let memory: String = q(&mut con, "INFO", "memory");
        assert!(memory.contains("maxmemory:536870912\r\n"), "{memory}");
        assert!(memory.contains("maxmemory_policy:allkeys-lru\r\n"), "{memory}");
        let persistence: String = q(&mut con, "INFO", "persistence");
        assert!(persistence.contains("aof_enabled:0"), "{persistence}");
    }
}

/// Runs `redis-benchmark -q` with its whole default test list against
/// `port` and asserts a clean run: exit 0, no error text, a result line for
/// every test.
fn benchmark(port: u16, extra: &[&str]) {
    let tests = [
        "PING_INLINE",
        "PING_MBULK",
        "SET",
        "GET",
        "INCR",
        "LPUSH",
        "RPUSH",
        "LPOP",
        "RPOP",
        "SADD",
        "HSET",
        "SPOP",
        "ZADD",
        "ZPOPMIN",
        "LRANGE_100",
        "LRANGE_300",
        "LRANGE_500",
        "LRANGE_600",
        "MSET",
    ];
    let mut child = Command::new("/usr/bin/redis-benchmark")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-q",
            "-n",
            "2000",
        ])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("redis-benchmark not found: apt-get install redis-tools");
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut out, &mut s);
        s
    });
    let err_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut err, &mut s);
        s
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("redis-benchmark {extra:?} still running after 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let (stdout, stderr) = (out_t.join().unwrap(), err_t.join().unwrap());
    assert!(
        status.success(),
        "redis-benchmark {extra:?}: {status}\n{stdout}\n{stderr}"
    );
    let all = format!("{stdout}{stderr}").to_lowercase();
    assert!(
        !all.contains("err"),
        "redis-benchmark {extra:?} reported errors:\n{stdout}\n{stderr}"
    );
    for t in tests {
        let line = stdout.split(['\r', '\n']).map(str::trim_start).find(|l| {
            (l.starts_with(&format!("{t}:")) || l.starts_with(&format!("{t} (")))
                && l.contains("requests per second")
        });
        assert!(
            line.is_some(),
            "no {t} result from redis-benchmark {extra:?}:\n{stdout}"
        );
    }
}

#[test]
fn s69_redis_benchmark_runs_clean() {
    for shards in [1, 2, 4] {
        let srv = Server::start(shards, &[]);
        benchmark(srv.port(), &[]);
        benchmark(srv.port(), &["-P", "16"]);
        // The server is fine afterwards, and MSET really stored its keys.
        let mut con = srv.client();
        let v: Option<String> = q(&mut con, "GET", "key:__rand_int__");
        assert!(v.is_some(), "the benchmark's SET key is missing");
        let n: i64 = q(&mut con, "GET", "counter:__rand_int__");
        assert!(n >= 4000, "INCR ran {n} times, expected 4000");
        let n: i64 = q(&mut con, "LLEN", "mylist");
        assert!(n > 0, "the benchmark's list is empty");
    }
}
