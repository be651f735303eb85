//! Key expiry over time, at 1 and 4 shards: active expiry of keys nobody
//! touches (DBSIZE, `expired_keys`, `used_memory` all follow), lazy expiry on
//! access, TTL bookkeeping through KEEPTTL, PERSIST, overwrites and negative
//! EXPIRE, and TTL accuracy. TTLs are milliseconds-scale to keep runs short.

mod common;

use redis::Connection;
use std::thread;
use std::time::{Duration, Instant};

fn info_field(con: &mut Connection, section: &str, field: &str) -> u64 {
    let text: String = redis::cmd("INFO").arg(section).query(con).unwrap();
    let prefix = format!("{field}:");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("INFO {section} has no {field}:\n{text}"))
        .trim()
        .parse()
        .unwrap_or_else(|e| panic!("INFO {field} is not an integer: {e}"))
}

fn dbsize(con: &mut Connection) -> i64 {
    redis::cmd("DBSIZE").query(con).unwrap()
}

fn pttl(con: &mut Connection, key: &str) -> i64 {
    redis::cmd("PTTL").arg(key).query(con).unwrap()
}

fn get(con: &mut Connection, key: &str) -> Option<String> {
    redis::cmd("GET").arg(key).query(con).unwrap()
}

/// Polls DBSIZE until it equals `want`; returns how long that took, or
/// panics with the last size after `limit`.
fn wait_for_dbsize(con: &mut Connection, want: i64, limit: Duration) -> Duration {
    let start = Instant::now();
    loop {
        let n = dbsize(con);
        if n == want {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < limit,
            "DBSIZE still {n} (want {want}) after {limit:?}: untouched expired keys are not reclaimed"
        );
        thread::sleep(Duration::from_millis(20));
    }
}

common::shard_tests! {
    fn untouched_keys_expire_and_their_memory_is_returned(srv: &Server) {
        let mut con = srv.client();
        // Survivors: plain keys, keys whose TTL was removed by PERSIST, and
        // keys whose TTL was dropped by a plain SET.
        let mut p = redis::pipe();
        for i in 0..100 {
            p.cmd("SET").arg(format!("keep:{i}")).arg("v").ignore();
            p.cmd("SET").arg(format!("persisted:{i}")).arg("v").arg("PX").arg(100).ignore();
            p.cmd("PERSIST").arg(format!("persisted:{i}")).ignore();
            p.cmd("SET").arg(format!("reset:{i}")).arg("v").arg("PX").arg(100).ignore();
            p.cmd("SET").arg(format!("reset:{i}")).arg("w").ignore();
        }
        let _: () = p.query(&mut con).unwrap();
        let base_mem = info_field(&mut con, "memory", "used_memory_dataset");
        let base_expired = info_field(&mut con, "stats", "expired_keys");

        let mut p = redis::pipe();
        for i in 0..5000 {
            p.cmd("SET").arg(format!("vol:{i}")).arg(format!("value-{i:0>40}")).arg("PX").arg(100).ignore();
        }
        let _: () = p.query(&mut con).unwrap();
        let loaded = Instant::now();
        let peak_mem = info_field(&mut con, "memory", "used_memory_dataset");
        assert!(peak_mem > base_mem + 5000 * 40, "used_memory did not grow with 5000 keys: {base_mem} -> {peak_mem}");
        let ks: String = redis::cmd("INFO").arg("keyspace").query(&mut con).unwrap();
        assert!(ks.contains("db0:keys="), "{ks}");

        wait_for_dbsize(&mut con, 300, Duration::from_millis(2100));
        assert!(loaded.elapsed() < Duration::from_millis(2200));
        let expired = info_field(&mut con, "stats", "expired_keys") - base_expired;
        assert_eq!(expired, 5000, "expired_keys should count exactly the 5000 expired keys");
        let end_mem = info_field(&mut con, "memory", "used_memory_dataset");
        let grown = peak_mem - base_mem;
        assert!(
            end_mem <= base_mem + grown / 20,
            "used_memory did not drop back: base {base_mem}, peak {peak_mem}, after expiry {end_mem}"
        );
        for i in (0..100).step_by(7) {
            assert_eq!(get(&mut con, &format!("keep:{i}")).as_deref(), Some("v"));
            assert_eq!(get(&mut con, &format!("persisted:{i}")).as_deref(), Some("v"));
            assert_eq!(get(&mut con, &format!("reset:{i}")).as_deref(), Some("w"));
        }
        let ks: String = redis::cmd("INFO").arg("keyspace").query(&mut con).unwrap();
        assert!(ks.contains("db0:keys=300,expires=0"), "{ks}");
    }

    fn used_memory_returns_to_baseline_after_in_place_changes_and_deletes(srv: &Server) {
        let mut con = srv.client();
        let _: () = redis::cmd("SET").arg("anchor").arg("v").query(&mut con).unwrap();
        let base = info_field(&mut con, "memory", "used_memory_dataset");
        let mut p = redis::pipe();
        for i in 0..500 {
            let k = format!("m:{i}");
            p.cmd("SET").arg(&k).arg(i).ignore();
            p.cmd("INCRBY").arg(&k).arg(1000).ignore();
            p.cmd("APPEND").arg(&k).arg("x".repeat(100)).ignore();
            p.cmd("SETRANGE").arg(&k).arg(300).arg("y").ignore();
            p.cmd("SET").arg(format!("f:{i}")).arg("1.5").arg("PX").arg(100_000).ignore();
            p.cmd("INCRBYFLOAT").arg(format!("f:{i}")).arg("0.25").ignore();
            p.cmd("RENAME").arg(format!("f:{i}")).arg(format!("g:{i}")).ignore();
            p.cmd("COPY").arg(format!("g:{i}")).arg(format!("h:{i}")).ignore();
            p.cmd("GETSET").arg(format!("h:{i}")).arg("z".repeat(60)).ignore();
        }
        let _: () = p.query(&mut con).unwrap();
        let peak = info_field(&mut con, "memory", "used_memory_dataset");
        assert!(peak > base + 500 * 300, "used_memory {base} -> {peak} after 1500 keys of 60..300 bytes");
        let mut del = redis::cmd("DEL");
        for i in 0..500 {
            del.arg(format!("m:{i}")).arg(format!("g:{i}")).arg(format!("h:{i}"));
        }
        let n: i64 = del.query(&mut con).unwrap();
        assert_eq!(n, 1500);
        let end = info_field(&mut con, "memory", "used_memory_dataset");
        assert!(
            end <= base + (peak - base) / 50,
            "memory not returned after DEL: base {base}, peak {peak}, end {end}"
        );
        assert_eq!(dbsize(&mut con), 1);
    }

    fn untouched_keys_expire_in_other_databases_too(srv: &Server) {
        let mut con = srv.client();
        let _: () = redis::cmd("SELECT").arg(7).query(&mut con).unwrap();
        let mut p = redis::pipe();
        for i in 0..1000 {
            p.cmd("SET").arg(format!("k:{i}")).arg("v").arg("PX").arg(50).ignore();
        }
        p.cmd("SET").arg("stay").arg("v").ignore();
        let _: () = p.query(&mut con).unwrap();
        wait_for_dbsize(&mut con, 1, Duration::from_secs(2));
    }

    fn lazy_expiry_on_access(srv: &Server) {
        let mut con = srv.client();
        let _: () = redis::cmd("CONFIG").arg("SET").arg("hz").arg(1).query(&mut con).unwrap();
        let base = info_field(&mut con, "stats", "expired_keys");
        let mut p = redis::pipe();
        for i in 0..50 {
            p.cmd("SET").arg(format!("lazy:{i}")).arg("v").arg("PX").arg(30).ignore();
        }
        let _: () = p.query(&mut con).unwrap();
        assert_eq!(get(&mut con, "lazy:0").as_deref(), Some("v"));
        thread::sleep(Duration::from_millis(60));
        for i in 0..50 {
            assert_eq!(get(&mut con, &format!("lazy:{i}")), None, "lazy:{i} readable after its TTL");
            assert_eq!(pttl(&mut con, &format!("lazy:{i}")), -2);
        }
        assert_eq!(dbsize(&mut con), 0, "GET of an expired key must delete it");
        assert_eq!(info_field(&mut con, "stats", "expired_keys") - base, 50);
        // Every other access path treats the key as gone too.
        let _: () = redis::cmd("SET").arg("w").arg("old").arg("PX").arg(20).query(&mut con).unwrap();
        let _: () = redis::cmd("SET").arg("x").arg(5).arg("PX").arg(20).query(&mut con).unwrap();
        let _: () = redis::cmd("SET").arg("y").arg("abc").arg("PX").arg(20).query(&mut con).unwrap();
        thread::sleep(Duration::from_millis(40));
        let n: i64 = redis::cmd("INCR").arg("x").query(&mut con).unwrap();
        assert_eq!(n, 1, "INCR on an expired key starts from 0");
        assert_eq!(pttl(&mut con, "x"), -1, "new key has no TTL");
        let n: i64 = redis::cmd("APPEND").arg("y").arg("d").query(&mut con).unwrap();
        assert_eq!(n, 1);
        let r: Option<String> = redis::cmd("SET").arg("w").arg("new").arg("NX").arg("GET").query(&mut con).unwrap();
        assert_eq!(r, None);
        assert_eq!(get(&mut con, "w").as_deref(), Some("new"));
        let n: i64 = redis::cmd("STRLEN").arg("w").query(&mut con).unwrap();
        assert_eq!(n, 3);
    }

    fn keepttl_keeps_the_key_expiring(srv: &Server) {
        let mut con = srv.client();
        let _: () = redis::cmd("SET").arg("k").arg("a").arg("PX").arg(100).query(&mut con).unwrap();
        let _: () = redis::cmd("SET").arg("k").arg("b").arg("KEEPTTL").query(&mut con).unwrap();
        assert_eq!(get(&mut con, "k").as_deref(), Some("b"));
        let t = pttl(&mut con, "k");
        assert!((1..=100).contains(&t), "KEEPTTL ttl {t}");
        // A later SET with EX replaces the kept TTL.
        let _: () = redis::cmd("SET").arg("k2").arg("a").arg("EX").arg(100).query(&mut con).unwrap();
        let _: () = redis::cmd("SET").arg("k2").arg("b").arg("PX").arg(50).query(&mut con).unwrap();
        let _: () = redis::cmd("SET").arg("k2").arg("c").arg("KEEPTTL").query(&mut con).unwrap();
        let _: () = redis::cmd("SET").arg("k3").arg("c").arg("KEEPTTL").query(&mut con).unwrap();
        assert_eq!(pttl(&mut con, "k3"), -1, "KEEPTTL on a new key gives no TTL");
        thread::sleep(Duration::from_millis(130));
        assert_eq!(get(&mut con, "k"), None, "KEEPTTL key outlived its TTL");
        assert_eq!(get(&mut con, "k2"), None);
        assert_eq!(get(&mut con, "k3").as_deref(), Some("c"));
    }

    fn negative_or_zero_expire_deletes_the_key(srv: &Server) {
        let mut con = srv.client();
        for i in 0..40 {
            let _: () = redis::cmd("SET").arg(format!("key:{i}")).arg("v").query(&mut con).unwrap();
        }
        for i in 0..40 {
            let (cmd, arg) = match i % 4 {
                0 => ("EXPIRE", -1),
                1 => ("PEXPIRE", -100),
                2 => ("EXPIRE", 0),
                _ => ("PEXPIREAT", 1),
            };
            let n: i64 = redis::cmd(cmd).arg(format!("key:{i}")).arg(arg).query(&mut con).unwrap();
            assert_eq!(n, 1, "{cmd} key:{i} {arg}");
            assert_eq!(get(&mut con, &format!("key:{i}")), None);
        }
        assert_eq!(dbsize(&mut con), 0);
        let n: i64 = redis::cmd("EXPIRE").arg("nosuch").arg(-1).query(&mut con).unwrap();
        assert_eq!(n, 0);
    }

    fn persist_stops_expiry(srv: &Server) {
        let mut con = srv.client();
        for i in 0..30 {
            let _: () = redis::cmd("SET").arg(format!("p:{i}")).arg("v").arg("PX").arg(50).query(&mut con).unwrap();
            let n: i64 = redis::cmd("PERSIST").arg(format!("p:{i}")).query(&mut con).unwrap();
            assert_eq!(n, 1);
        }
        let _: () = redis::cmd("SET").arg("q").arg("v").arg("PX").arg(50).query(&mut con).unwrap();
        let _: Option<String> = redis::cmd("GETEX").arg("q").arg("PERSIST").query(&mut con).unwrap();
        thread::sleep(Duration::from_millis(200));
        assert_eq!(dbsize(&mut con), 31);
        for i in 0..30 {
            assert_eq!(pttl(&mut con, &format!("p:{i}")), -1);
        }
        assert_eq!(get(&mut con, "q").as_deref(), Some("v"));
    }

    fn ttl_is_accurate_within_a_second(srv: &Server) {
        let mut con = srv.client();
        for i in 0..50 {
            let _: () = redis::cmd("SET").arg(format!("t:{i}")).arg("v").arg("EX").arg(10 + i).query(&mut con).unwrap();
        }
        for i in 0..50 {
            let t: i64 = redis::cmd("TTL").arg(format!("t:{i}")).query(&mut con).unwrap();
            assert!(t == 10 + i || t == 9 + i, "EX {} gave TTL {t}", 10 + i);
        }
        let _: () = redis::cmd("SET").arg("ms").arg("v").arg("PX").arg(5000).query(&mut con).unwrap();
        let before = Instant::now();
        thread::sleep(Duration::from_millis(250));
        let t = pttl(&mut con, "ms");
        let elapsed = before.elapsed().as_millis() as i64;
        assert!(t <= 5000 - 250 && t >= 5000 - elapsed - 50, "PTTL {t} after {elapsed} ms of a 5000 ms TTL");
        let s: i64 = redis::cmd("TTL").arg("ms").query(&mut con).unwrap();
        assert!(s == 5 || s == 4, "TTL {s}");
        // A key expires no earlier than its TTL and not much later.
        let _: () = redis::cmd("SET").arg("edge").arg("v").arg("PX").arg(150).query(&mut con).unwrap();
        let set_at = Instant::now();
        thread::sleep(Duration::from_millis(100));
        assert_eq!(get(&mut con, "edge").as_deref(), Some("v"), "expired early");
        while get(&mut con, "edge").is_some() {
            assert!(set_at.elapsed() < Duration::from_millis(400), "key readable long after its TTL");
            thread::sleep(Duration::from_millis(5));
        }
        assert!(set_at.elapsed() >= Duration::from_millis(150), "expired before 150 ms");
    }
}
