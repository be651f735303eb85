//! Keyspace commands through the `redis` crate, at 1 and 4 shards: multi-key
//! counts across shards, RENAME/COPY moving value and TTL between shards, the
//! expire family's conditions, KEYS/SCAN over every shard (SCAN's guarantee
//! under concurrent writes), databases, SWAPDB and OBJECT. Exact reply bytes
//! are covered by `tests/diff/keys.txt`.

mod common;

use redis::{Connection, Value};
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn set(con: &mut Connection, key: &str, value: &str) {
    let _: () = redis::cmd("SET").arg(key).arg(value).query(con).unwrap();
}

fn get(con: &mut Connection, key: &str) -> Option<String> {
    redis::cmd("GET").arg(key).query(con).unwrap()
}

fn int(con: &mut Connection, cmd: &mut redis::Cmd) -> i64 {
    cmd.query(con).unwrap()
}

fn pttl(con: &mut Connection, key: &str) -> i64 {
    int(con, redis::cmd("PTTL").arg(key))
}

fn dbsize(con: &mut Connection) -> i64 {
    int(con, &mut redis::cmd("DBSIZE"))
}

fn select(con: &mut Connection, db: i64) {
    let _: () = redis::cmd("SELECT").arg(db).query(con).unwrap();
}

fn mset_range(con: &mut Connection, prefix: &str, n: usize) {
    let mut c = redis::cmd("MSET");
    for i in 0..n {
        c.arg(format!("{prefix}{i}")).arg(format!("v{i}"));
    }
    let _: () = c.query(con).unwrap();
}

/// Every key SCAN returns for `args`, iterating until the cursor is 0.
fn scan_all(con: &mut Connection, args: &[&str]) -> Vec<String> {
    let mut cursor = 0u64;
    let mut out = Vec::new();
    for _ in 0..100_000 {
        let (next, keys): (u64, Vec<String>) =
            redis::cmd("SCAN").arg(cursor).arg(args).query(con).unwrap();
        out.extend(keys);
        if next == 0 {
            return out;
        }
        cursor = next;
    }
    panic!("SCAN did not return to cursor 0");
}

common::shard_tests! {
    fn del_unlink_exists_touch_count_across_shards(srv: &Server) {
        let mut con = srv.client();
        mset_range(&mut con, "key:", 100);
        let mut exists = redis::cmd("EXISTS");
        for i in 0..100 {
            exists.arg(format!("key:{i}")).arg(format!("missing:{i}"));
        }
        // Named twice, counted twice.
        exists.arg("key:0").arg("key:99");
        assert_eq!(int(&mut con, &mut exists), 102);
        let mut touch = redis::cmd("TOUCH");
        for i in 0..100 {
            touch.arg(format!("key:{i}")).arg(format!("missing:{i}"));
        }
        assert_eq!(int(&mut con, &mut touch), 100);
        let mut del = redis::cmd("DEL");
        for i in 0..50 {
            del.arg(format!("key:{i}")).arg(format!("missing:{i}")).arg(format!("key:{i}"));
        }
        // Named twice, deleted once.
        assert_eq!(int(&mut con, &mut del), 50);
        assert_eq!(dbsize(&mut con), 50);
        let mut unlink = redis::cmd("UNLINK");
        for i in 0..100 {
            unlink.arg(format!("key:{i}"));
        }
        assert_eq!(int(&mut con, &mut unlink), 50);
        assert_eq!(dbsize(&mut con), 0);
        assert_eq!(int(&mut con, redis::cmd("DEL").arg("key:1").arg("key:2")), 0);
        // Expired keys count as absent.
        let _: () = redis::cmd("SET").arg("short").arg("v").arg("PX").arg(20).query(&mut con).unwrap();
        set(&mut con, "long", "v");
        thread::sleep(Duration::from_millis(40));
        assert_eq!(int(&mut con, redis::cmd("EXISTS").arg("short").arg("long")), 1);
        assert_eq!(int(&mut con, redis::cmd("DEL").arg("short").arg("long")), 1);
    }

    fn type_reports_string_and_none(srv: &Server) {
        let mut con = srv.client();
        set(&mut con, "s", "v");
        let _: i64 = redis::cmd("INCR").arg("n").query(&mut con).unwrap();
        let t: String = redis::cmd("TYPE").arg("s").query(&mut con).unwrap();
        assert_eq!(t, "string");
        let t: String = redis::cmd("TYPE").arg("n").query(&mut con).unwrap();
        assert_eq!(t, "string");
        let t: String = redis::cmd("TYPE").arg("nothing").query(&mut con).unwrap();
        assert_eq!(t, "none");
        let _: i64 = redis::cmd("RPUSH").arg("l").arg("x").query(&mut con).unwrap();
        let t: String = redis::cmd("TYPE").arg("l").query(&mut con).unwrap();
        assert_eq!(t, "list");
    }

    fn rename_moves_value_and_ttl_across_shards(srv: &Server) {
        let mut con = srv.client();
        for i in 0..50 {
            let _: () = redis::cmd("SET").arg(format!("src:{i}")).arg(format!("v{i}")).arg("PX").arg(100_000).query(&mut con).unwrap();
            set(&mut con, &format!("dst:{i}"), "old");
        }
        for i in 0..50 {
            let _: () = redis::cmd("RENAME").arg(format!("src:{i}")).arg(format!("dst:{i}")).query(&mut con).unwrap();
        }
        for i in 0..50 {
            assert_eq!(get(&mut con, &format!("src:{i}")), None, "src:{i} still there");
            assert_eq!(get(&mut con, &format!("dst:{i}")), Some(format!("v{i}")));
            let t = pttl(&mut con, &format!("dst:{i}"));
            assert!((90_000..=100_000).contains(&t), "dst:{i} ttl {t}");
        }
        assert_eq!(dbsize(&mut con), 50);
        // A key without TTL renamed over one with a TTL: no TTL.
        for i in 0..50 {
            set(&mut con, &format!("plain:{i}"), "p");
            let _: () = redis::cmd("RENAME").arg(format!("plain:{i}")).arg(format!("dst:{i}")).query(&mut con).unwrap();
            assert_eq!(pttl(&mut con, &format!("dst:{i}")), -1);
        }
        let e = redis::cmd("RENAME").arg("nosuch").arg("dst:0").query::<()>(&mut con).unwrap_err();
        assert!(e.to_string().contains("no such key"), "{e}");
        assert_eq!(get(&mut con, "dst:0").as_deref(), Some("p"));
        // Hash-tagged keys share a shard: the single-shard path moves the TTL too.
        let _: () = redis::cmd("SET").arg("{t}src").arg("tagged").arg("PX").arg(100_000).query(&mut con).unwrap();
        let _: () = redis::cmd("RENAME").arg("{t}src").arg("{t}dst").query(&mut con).unwrap();
        assert_eq!(get(&mut con, "{t}dst").as_deref(), Some("tagged"));
        assert!(pttl(&mut con, "{t}dst") > 90_000);
        assert_eq!(int(&mut con, redis::cmd("COPY").arg("{t}dst").arg("{t}copy")), 1);
        assert!(pttl(&mut con, "{t}copy") > 90_000);
        // Renaming a key to itself keeps it.
        let _: () = redis::cmd("RENAME").arg("dst:0").arg("dst:0").query(&mut con).unwrap();
        assert_eq!(get(&mut con, "dst:0").as_deref(), Some("p"));
    }

    fn renamenx_only_into_missing_keys_across_shards(srv: &Server) {
        let mut con = srv.client();
        for i in 0..40 {
            let _: () = redis::cmd("SET").arg(format!("a:{i}")).arg(format!("a{i}")).arg("EX").arg(100).query(&mut con).unwrap();
            if i % 2 == 0 {
                set(&mut con, &format!("b:{i}"), "taken");
            }
        }
        for i in 0..40 {
            let n = int(&mut con, redis::cmd("RENAMENX").arg(format!("a:{i}")).arg(format!("b:{i}")));
            if i % 2 == 0 {
                assert_eq!(n, 0, "RENAMENX over existing b:{i}");
                assert_eq!(get(&mut con, &format!("a:{i}")), Some(format!("a{i}")));
                assert_eq!(get(&mut con, &format!("b:{i}")).as_deref(), Some("taken"));
            } else {
                assert_eq!(n, 1);
                assert_eq!(get(&mut con, &format!("a:{i}")), None);
                assert_eq!(get(&mut con, &format!("b:{i}")), Some(format!("a{i}")));
                assert!(pttl(&mut con, &format!("b:{i}")) > 90_000);
            }
        }
        let e = redis::cmd("RENAMENX").arg("nosuch").arg("x").query::<i64>(&mut con).unwrap_err();
        assert!(e.to_string().contains("no such key"), "{e}");
    }

    fn copy_across_shards_and_databases(srv: &Server) {
        let mut con = srv.client();
        for i in 0..40 {
            let _: () = redis::cmd("SET").arg(format!("c:{i}")).arg(format!("v{i}")).arg("PX").arg(100_000).query(&mut con).unwrap();
        }
        for i in 0..40 {
            assert_eq!(int(&mut con, redis::cmd("COPY").arg(format!("c:{i}")).arg(format!("d:{i}"))), 1);
        }
        for i in 0..40 {
            assert_eq!(get(&mut con, &format!("c:{i}")), Some(format!("v{i}")), "source kept");
            assert_eq!(get(&mut con, &format!("d:{i}")), Some(format!("v{i}")));
            let t = pttl(&mut con, &format!("d:{i}"));
            assert!((90_000..=100_000).contains(&t), "d:{i} ttl {t}");
        }
        // The copy is independent of the source.
        let _: i64 = redis::cmd("APPEND").arg("d:0").arg("x").query(&mut con).unwrap();
        assert_eq!(get(&mut con, "c:0").as_deref(), Some("v0"));
        // Existing destination: only with REPLACE.
        for i in 0..40 {
            set(&mut con, &format!("c:{i}"), &format!("w{i}"));
            assert_eq!(int(&mut con, redis::cmd("COPY").arg(format!("c:{i}")).arg(format!("d:{i}"))), 0);
            assert_ne!(get(&mut con, &format!("d:{i}")), Some(format!("w{i}")));
            assert_eq!(int(&mut con, redis::cmd("COPY").arg(format!("c:{i}")).arg(format!("d:{i}")).arg("REPLACE")), 1);
            assert_eq!(get(&mut con, &format!("d:{i}")), Some(format!("w{i}")));
            assert_eq!(pttl(&mut con, &format!("d:{i}")), -1, "REPLACE copies the source's (absent) TTL");
        }
        assert_eq!(int(&mut con, redis::cmd("COPY").arg("nosuch").arg("d:0")), 0);
        // Lists are copied by value across shards: the copy is independent.
        for i in 0..10 {
            let _: i64 = redis::cmd("RPUSH").arg(format!("la:{i}")).arg("a").arg("b").query(&mut con).unwrap();
            assert_eq!(int(&mut con, redis::cmd("COPY").arg(format!("la:{i}")).arg(format!("lb:{i}"))), 1);
            let _: i64 = redis::cmd("RPUSH").arg(format!("lb:{i}")).arg("c").query(&mut con).unwrap();
            assert_eq!(int(&mut con, redis::cmd("LLEN").arg(format!("la:{i}"))), 2);
            assert_eq!(int(&mut con, redis::cmd("LLEN").arg(format!("lb:{i}"))), 3);
            let _: () = redis::cmd("RENAME").arg(format!("lb:{i}")).arg(format!("lc:{i}")).query(&mut con).unwrap();
            let v: Vec<String> = redis::cmd("LRANGE").arg(format!("lc:{i}")).arg(0).arg(-1).query(&mut con).unwrap();
            assert_eq!(v, ["a", "b", "c"]);
            let _: i64 = redis::cmd("DEL").arg(format!("la:{i}")).arg(format!("lc:{i}")).query(&mut con).unwrap();
        }
        // Into another database, same and different key names.
        for i in 0..40 {
            assert_eq!(int(&mut con, redis::cmd("COPY").arg(format!("c:{i}")).arg(format!("c:{i}")).arg("DB").arg(3)), 1);
            assert_eq!(int(&mut con, redis::cmd("COPY").arg(format!("c:{i}")).arg(format!("e:{i}")).arg("DB").arg(3)), 1);
        }
        select(&mut con, 3);
        assert_eq!(dbsize(&mut con), 80);
        assert_eq!(get(&mut con, "e:7").as_deref(), Some("w7"));
        select(&mut con, 0);
        assert_eq!(dbsize(&mut con), 80);
        let e = redis::cmd("COPY").arg("c:0").arg("c:0").query::<i64>(&mut con).unwrap_err();
        assert!(e.to_string().contains("source and destination objects are the same"), "{e}");
        let e = redis::cmd("COPY").arg("c:0").arg("x").arg("DB").arg(16).query::<i64>(&mut con).unwrap_err();
        assert!(e.to_string().contains("DB index is out of range"), "{e}");
    }

    fn move_to_another_database_keeps_ttl(srv: &Server) {
        let mut con = srv.client();
        for i in 0..20 {
            let _: () = redis::cmd("SET").arg(format!("m:{i}")).arg(format!("v{i}")).arg("EX").arg(100).query(&mut con).unwrap();
        }
        for i in 0..20 {
            assert_eq!(int(&mut con, redis::cmd("MOVE").arg(format!("m:{i}")).arg(1)), 1);
        }
        assert_eq!(dbsize(&mut con), 0);
        select(&mut con, 1);
        assert_eq!(dbsize(&mut con), 20);
        for i in 0..20 {
            assert_eq!(get(&mut con, &format!("m:{i}")), Some(format!("v{i}")));
            assert!(pttl(&mut con, &format!("m:{i}")) > 90_000);
        }
        // Destination occupied or source missing: 0, nothing changes.
        select(&mut con, 0);
        set(&mut con, "m:0", "zero");
        assert_eq!(int(&mut con, redis::cmd("MOVE").arg("m:0").arg(1)), 0);
        assert_eq!(get(&mut con, "m:0").as_deref(), Some("zero"));
        assert_eq!(int(&mut con, redis::cmd("MOVE").arg("nosuch").arg(1)), 0);
        let e = redis::cmd("MOVE").arg("m:0").arg(0).query::<i64>(&mut con).unwrap_err();
        assert!(e.to_string().contains("source and destination objects are the same"), "{e}");
        let e = redis::cmd("MOVE").arg("m:0").arg(16).query::<i64>(&mut con).unwrap_err();
        assert!(e.to_string().contains("DB index is out of range"), "{e}");
    }

    fn expire_conditions_nx_xx_gt_lt(srv: &Server) {
        let mut con = srv.client();
        set(&mut con, "k", "v");
        // No TTL yet: XX and GT refuse, NX and LT set.
        assert_eq!(int(&mut con, redis::cmd("EXPIRE").arg("k").arg(100).arg("XX")), 0);
        assert_eq!(int(&mut con, redis::cmd("EXPIRE").arg("k").arg(100).arg("GT")), 0);
        assert_eq!(pttl(&mut con, "k"), -1);
        assert_eq!(int(&mut con, redis::cmd("EXPIRE").arg("k").arg(100).arg("NX")), 1);
        assert_eq!(int(&mut con, redis::cmd("EXPIRE").arg("k").arg(200).arg("NX")), 0);
        assert!(pttl(&mut con, "k") <= 100_000);
        assert_eq!(int(&mut con, redis::cmd("EXPIRE").arg("k").arg(50).arg("GT")), 0);
        assert_eq!(int(&mut con, redis::cmd("EXPIRE").arg("k").arg(200).arg("GT")), 1);
        assert!(pttl(&mut con, "k") > 190_000);
        assert_eq!(int(&mut con, redis::cmd("EXPIRE").arg("k").arg(300).arg("LT")), 0);
        assert_eq!(int(&mut con, redis::cmd("PEXPIRE").arg("k").arg(150_000).arg("LT")), 1);
        assert!(pttl(&mut con, "k") <= 150_000);
        assert_eq!(int(&mut con, redis::cmd("PEXPIRE").arg("k").arg(120_000).arg("XX")), 1);
        assert!(pttl(&mut con, "k") <= 120_000);
        set(&mut con, "p", "v");
        assert_eq!(int(&mut con, redis::cmd("EXPIRE").arg("p").arg(100).arg("LT")), 1, "LT sets a TTL on a key without one");
        let at = now_ms() / 1000 + 1000;
        assert_eq!(int(&mut con, redis::cmd("EXPIREAT").arg("k").arg(at)), 1);
        assert_eq!(int(&mut con, redis::cmd("EXPIRETIME").arg("k")), at);
        assert_eq!(int(&mut con, redis::cmd("PEXPIRETIME").arg("k")), at * 1000);
        let pat = now_ms() + 2_000_000;
        assert_eq!(int(&mut con, redis::cmd("PEXPIREAT").arg("k").arg(pat).arg("GT")), 1);
        assert_eq!(int(&mut con, redis::cmd("PEXPIRETIME").arg("k")), pat);
        assert_eq!(int(&mut con, redis::cmd("EXPIRETIME").arg("k")), pat / 1000);
        assert_eq!(int(&mut con, redis::cmd("TTL").arg("k")), (pat - now_ms() + 500) / 1000);
        // Missing key: 0 and -2.
        assert_eq!(int(&mut con, redis::cmd("EXPIRE").arg("nosuch").arg(10)), 0);
        assert_eq!(int(&mut con, redis::cmd("TTL").arg("nosuch")), -2);
        assert_eq!(int(&mut con, redis::cmd("PTTL").arg("nosuch")), -2);
        assert_eq!(int(&mut con, redis::cmd("EXPIRETIME").arg("nosuch")), -2);
        assert_eq!(int(&mut con, redis::cmd("PEXPIRETIME").arg("nosuch")), -2);
        set(&mut con, "plain", "v");
        assert_eq!(int(&mut con, redis::cmd("TTL").arg("plain")), -1);
        assert_eq!(int(&mut con, redis::cmd("EXPIRETIME").arg("plain")), -1);
        // PERSIST.
        assert_eq!(int(&mut con, redis::cmd("PERSIST").arg("k")), 1);
        assert_eq!(int(&mut con, redis::cmd("PERSIST").arg("k")), 0);
        assert_eq!(int(&mut con, redis::cmd("PERSIST").arg("nosuch")), 0);
        assert_eq!(pttl(&mut con, "k"), -1);
        // EXPIREAT in the past deletes.
        assert_eq!(int(&mut con, redis::cmd("EXPIREAT").arg("k").arg(1)), 1);
        assert_eq!(get(&mut con, "k"), None);
        let e = redis::cmd("EXPIRE").arg("p").arg(10).arg("NX").arg("XX").query::<i64>(&mut con).unwrap_err();
        assert!(e.to_string().contains("NX and XX, GT or LT options at the same time are not compatible"), "{e}");
        let e = redis::cmd("EXPIRE").arg("p").arg(10).arg("GT").arg("LT").query::<i64>(&mut con).unwrap_err();
        assert!(e.to_string().contains("GT and LT options at the same time are not compatible"), "{e}");
    }

    fn expire_on_keys_of_every_shard(srv: &Server) {
        let mut con = srv.client();
        mset_range(&mut con, "key:", 100);
        for i in 0..100 {
            let ms = if i % 2 == 0 { 30 } else { 100_000 };
            assert_eq!(int(&mut con, redis::cmd("PEXPIRE").arg(format!("key:{i}")).arg(ms)), 1);
        }
        thread::sleep(Duration::from_millis(60));
        let mut exists = redis::cmd("EXISTS");
        for i in 0..100 {
            exists.arg(format!("key:{i}"));
        }
        assert_eq!(int(&mut con, &mut exists), 50);
        let mut keys: Vec<String> = redis::cmd("KEYS").arg("key:*").query(&mut con).unwrap();
        keys.sort();
        let mut want: Vec<String> = (0..100).filter(|i| i % 2 == 1).map(|i| format!("key:{i}")).collect();
        want.sort();
        assert_eq!(keys, want, "KEYS must not list expired keys");
    }

    fn keys_returns_keys_of_every_shard(srv: &Server) {
        let mut con = srv.client();
        mset_range(&mut con, "key:", 100);
        set(&mut con, "other", "x");
        let keys: Vec<String> = redis::cmd("KEYS").arg("*").query(&mut con).unwrap();
        assert_eq!(keys.len(), 101);
        let set: HashSet<String> = keys.into_iter().collect();
        assert_eq!(set.len(), 101, "KEYS returned a key twice");
        for i in 0..100 {
            assert!(set.contains(&format!("key:{i}")), "key:{i} missing from KEYS *");
        }
        let mut some: Vec<String> = redis::cmd("KEYS").arg("key:1?").query(&mut con).unwrap();
        some.sort();
        let want: Vec<String> = (10..20).map(|i| format!("key:{i}")).collect();
        assert_eq!(some, want);
        let none: Vec<String> = redis::cmd("KEYS").arg("zzz*").query(&mut con).unwrap();
        assert!(none.is_empty());
        // Per database.
        select(&mut con, 5);
        let keys: Vec<String> = redis::cmd("KEYS").arg("*").query(&mut con).unwrap();
        assert!(keys.is_empty());
    }

    fn scan_match_count_type_cover_every_shard(srv: &Server) {
        let mut con = srv.client();
        mset_range(&mut con, "key:", 300);
        mset_range(&mut con, "other:", 50);
        let all = scan_all(&mut con, &[]);
        let set: HashSet<&String> = all.iter().collect();
        assert_eq!(set.len(), 350);
        let m = scan_all(&mut con, &["MATCH", "key:1*", "COUNT", "7"]);
        let m: HashSet<String> = m.into_iter().collect();
        let want: HashSet<String> = (0..300).map(|i| format!("key:{i}")).filter(|k| k.starts_with("key:1")).collect();
        assert_eq!(m, want);
        let s: HashSet<String> = scan_all(&mut con, &["TYPE", "string", "COUNT", "1000"]).into_iter().collect();
        assert_eq!(s.len(), 350);
        let n = scan_all(&mut con, &["TYPE", "list"]);
        assert!(n.is_empty(), "TYPE list matched strings: {n:?}");
        for i in 0..10 {
            let _: i64 = redis::cmd("RPUSH").arg(format!("lst:{i}")).arg("x").query(&mut con).unwrap();
        }
        let l: HashSet<String> = scan_all(&mut con, &["TYPE", "list", "COUNT", "3"]).into_iter().collect();
        assert_eq!(l, (0..10).map(|i| format!("lst:{i}")).collect::<HashSet<_>>());
        let s: HashSet<String> = scan_all(&mut con, &["TYPE", "string", "MATCH", "lst:*"]).into_iter().collect();
        assert!(s.is_empty(), "TYPE string matched lists: {s:?}");
        // A single SCAN call with a big COUNT still returns a valid cursor.
        let (c, _): (u64, Vec<String>) = redis::cmd("SCAN").arg(0).arg("COUNT").arg(100_000).query(&mut con).unwrap();
        assert_eq!(c, 0, "COUNT covers the whole keyspace, every shard of it");
        let e = redis::cmd("SCAN").arg("abc").query::<Value>(&mut con).unwrap_err();
        assert!(e.to_string().contains("invalid cursor"), "{e}");
        // Empty database: one call, cursor 0, or a short walk to 0.
        select(&mut con, 9);
        assert!(scan_all(&mut con, &[]).is_empty());
    }

    fn scan_fills_count_across_shards_so_a_small_database_is_one_page(srv: &Server) {
        let mut con = srv.client();
        // Keys on every shard at 4 shards, fewer than the default COUNT.
        for k in ["a", "b", "c", "somekey", "e", "f", "g"] {
            set(&mut con, k, "v");
        }
        let _: i64 = redis::cmd("RPUSH").arg("lst").arg("x").query(&mut con).unwrap();
        let (c, keys): (u64, Vec<String>) = redis::cmd("SCAN").arg(0).query(&mut con).unwrap();
        assert_eq!(c, 0, "{keys:?}");
        let mut keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        keys.sort();
        assert_eq!(keys, ["a", "b", "c", "e", "f", "g", "lst", "somekey"]);
        let (c, keys): (u64, Vec<String>) = redis::cmd("SCAN").arg(0).arg("TYPE").arg("list").query(&mut con).unwrap();
        assert_eq!((c, keys), (0, vec!["lst".to_string()]));
        // Bigger: each page walks about COUNT keys, whichever shards hold
        // them, and every key comes back once.
        mset_range(&mut con, "key:", 200);
        let (mut cursor, mut pages, mut seen) = (0u64, 0, HashSet::new());
        loop {
            let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN").arg(cursor).arg("COUNT").arg(50).query(&mut con).unwrap();
            assert!(keys.len() <= 50, "{} keys in one page", keys.len());
            pages += 1;
            for k in keys {
                assert!(seen.insert(k.clone()), "{k} twice");
            }
            cursor = next;
            if cursor == 0 {
                break;
            }
        }
        assert_eq!(seen.len(), 208);
        assert!(pages <= 208 / 50 + 1 + srv.shards(), "{pages} pages");
    }

    fn scan_returns_every_key_present_throughout_despite_writes(srv: &Server) {
        let mut con = srv.client();
        for chunk in 0..4 {
            let mut c = redis::cmd("MSET");
            for i in chunk * 500..(chunk + 1) * 500 {
                c.arg(format!("base:{i}")).arg("v");
            }
            let _: () = c.query(&mut con).unwrap();
        }
        let stop = Arc::new(AtomicBool::new(false));
        let port = srv.port();
        let writer = {
            let stop = stop.clone();
            thread::spawn(move || {
                let mut con = common::client(port);
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let mut p = redis::pipe();
                    for j in 0..10 {
                        p.cmd("SET").arg(format!("new:{n}:{j}")).arg("x").ignore();
                        p.cmd("SET").arg(format!("tmp:{n}:{j}")).arg("x").ignore();
                    }
                    let _: () = p.query(&mut con).unwrap();
                    let mut p = redis::pipe();
                    for j in 0..10 {
                        p.cmd("DEL").arg(format!("tmp:{n}:{j}")).ignore();
                    }
                    let _: () = p.query(&mut con).unwrap();
                    n += 1;
                }
                n
            })
        };
        let mut seen = HashSet::new();
        let mut cursor = 0u64;
        let mut calls = 0;
        loop {
            let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN").arg(cursor).arg("COUNT").arg(10).query(&mut con).unwrap();
            seen.extend(keys);
            calls += 1;
            assert!(calls < 20_000, "SCAN does not converge under concurrent writes");
            if next == 0 {
                break;
            }
            cursor = next;
        }
        stop.store(true, Ordering::Relaxed);
        let rounds = writer.join().unwrap();
        assert!(rounds > 0, "the writer never ran");
        let missing: Vec<usize> = (0..2000).filter(|i| !seen.contains(&format!("base:{i}"))).collect();
        assert!(missing.is_empty(), "SCAN missed {} stable keys, e.g. base:{}", missing.len(), missing[0]);
    }

    fn randomkey_picks_keys_from_every_shard(srv: &Server) {
        let mut con = srv.client();
        let r: Option<String> = redis::cmd("RANDOMKEY").query(&mut con).unwrap();
        assert_eq!(r, None);
        mset_range(&mut con, "key:", 8);
        let mut seen = HashSet::new();
        for _ in 0..400 {
            let r: Option<String> = redis::cmd("RANDOMKEY").query(&mut con).unwrap();
            let k = r.expect("RANDOMKEY returned nil on a non-empty database");
            assert!(k.starts_with("key:"), "{k}");
            seen.insert(k);
        }
        assert_eq!(seen.len(), 8, "RANDOMKEY only ever returned {seen:?}");
        // Never an expired key.
        let _: () = redis::cmd("FLUSHDB").query(&mut con).unwrap();
        let _: () = redis::cmd("SET").arg("gone").arg("v").arg("PX").arg(20).query(&mut con).unwrap();
        set(&mut con, "stay", "v");
        thread::sleep(Duration::from_millis(40));
        for _ in 0..50 {
            let r: Option<String> = redis::cmd("RANDOMKEY").query(&mut con).unwrap();
            assert_ne!(r.as_deref(), Some("gone"));
        }
    }

    fn randomkey_finds_the_live_key_among_many_expired(srv: &Server) {
        let mut con = srv.client();
        // Slow active expiry so the expired keys are still in the table.
        let _: () = redis::cmd("CONFIG").arg("SET").arg("hz").arg(1).query(&mut con).unwrap();
        let mut p = redis::pipe();
        for i in 0..5000 {
            p.cmd("SET").arg(format!("exp:{i}")).arg("v").arg("PX").arg(20).ignore();
        }
        p.cmd("SET").arg("live").arg("v").ignore();
        let _: () = p.query(&mut con).unwrap();
        thread::sleep(Duration::from_millis(30));
        for _ in 0..10 {
            let r: Option<String> = redis::cmd("RANDOMKEY").query(&mut con).unwrap();
            assert_eq!(r.as_deref(), Some("live"), "RANDOMKEY must skip expired keys, as Redis does");
        }
    }

    fn sixteen_databases_are_isolated(srv: &Server) {
        let mut con = srv.client();
        for db in 0..16 {
            select(&mut con, db);
            set(&mut con, "same", &format!("db{db}"));
            mset_range(&mut con, &format!("db{db}:"), db as usize + 1);
        }
        for db in 0..16 {
            select(&mut con, db);
            assert_eq!(get(&mut con, "same"), Some(format!("db{db}")));
            assert_eq!(dbsize(&mut con), db + 2);
            let keys: Vec<String> = redis::cmd("KEYS").arg("db*").query(&mut con).unwrap();
            assert!(keys.iter().all(|k| k.starts_with(&format!("db{db}:"))), "db {db}: {keys:?}");
        }
        // A second connection starts in db 0.
        let mut other = srv.client();
        assert_eq!(get(&mut other, "same").as_deref(), Some("db0"));
        let e = redis::cmd("SELECT").arg(16).query::<()>(&mut con).unwrap_err();
        assert!(e.to_string().contains("DB index is out of range"), "{e}");
        // FLUSHDB empties only the selected one.
        select(&mut con, 3);
        let _: () = redis::cmd("FLUSHDB").query(&mut con).unwrap();
        assert_eq!(dbsize(&mut con), 0);
        select(&mut con, 4);
        assert_eq!(dbsize(&mut con), 6);
        let _: () = redis::cmd("FLUSHDB").arg("ASYNC").query(&mut con).unwrap();
        assert_eq!(dbsize(&mut con), 0);
        select(&mut con, 5);
        let _: () = redis::cmd("FLUSHDB").arg("SYNC").query(&mut con).unwrap();
        assert_eq!(dbsize(&mut con), 0);
        assert_eq!(dbsize(&mut other), 2);
        // FLUSHALL empties every database on every shard.
        let _: () = redis::cmd("FLUSHALL").arg("SYNC").query(&mut other).unwrap();
        for db in 0..16 {
            select(&mut con, db);
            assert_eq!(dbsize(&mut con), 0, "db {db} after FLUSHALL");
        }
        select(&mut con, 0);
        mset_range(&mut con, "key:", 50);
        let _: () = redis::cmd("FLUSHALL").arg("ASYNC").query(&mut con).unwrap();
        assert_eq!(dbsize(&mut con), 0);
        let e = redis::cmd("FLUSHALL").arg("LATER").query::<()>(&mut con).unwrap_err();
        assert!(e.to_string().contains("syntax error"), "{e}");
    }

    fn swapdb_swaps_every_shard(srv: &Server) {
        let mut con = srv.client();
        mset_range(&mut con, "zero:", 100);
        let _: () = redis::cmd("SET").arg("ttl").arg("z").arg("EX").arg(100).query(&mut con).unwrap();
        let mut in_one = srv.client();
        select(&mut in_one, 1);
        mset_range(&mut in_one, "one:", 30);
        let _: () = redis::cmd("SWAPDB").arg(0).arg(1).query(&mut con).unwrap();
        // Both connections see the other database's contents now.
        assert_eq!(dbsize(&mut con), 30);
        assert_eq!(dbsize(&mut in_one), 101);
        for i in 0..100 {
            assert_eq!(get(&mut in_one, &format!("zero:{i}")), Some(format!("v{i}")), "zero:{i}");
            assert_eq!(get(&mut con, &format!("zero:{i}")), None);
        }
        for i in 0..30 {
            assert_eq!(get(&mut con, &format!("one:{i}")), Some(format!("v{i}")), "one:{i}");
        }
        assert!(pttl(&mut in_one, "ttl") > 90_000, "TTL lost in SWAPDB");
        let _: () = redis::cmd("SWAPDB").arg(1).arg(0).query(&mut con).unwrap();
        assert_eq!(dbsize(&mut con), 101);
        let _: () = redis::cmd("SWAPDB").arg(0).arg(0).query(&mut con).unwrap();
        assert_eq!(dbsize(&mut con), 101);
        let e = redis::cmd("SWAPDB").arg(0).arg(16).query::<()>(&mut con).unwrap_err();
        assert!(e.to_string().contains("DB index is out of range"), "{e}");
        let e = redis::cmd("SWAPDB").arg("x").arg(1).query::<()>(&mut con).unwrap_err();
        assert!(e.to_string().contains("invalid first DB index"), "{e}");
    }

    fn object_encoding_refcount_idletime_help(srv: &Server) {
        let mut con = srv.client();
        set(&mut con, "int", "12345");
        set(&mut con, "emb", "hello");
        set(&mut con, "raw", &"x".repeat(100));
        let enc = |con: &mut Connection, k: &str| -> Option<String> {
            redis::cmd("OBJECT").arg("ENCODING").arg(k).query(con).unwrap()
        };
        assert_eq!(enc(&mut con, "int").as_deref(), Some("int"));
        assert_eq!(enc(&mut con, "emb").as_deref(), Some("embstr"));
        assert_eq!(enc(&mut con, "raw").as_deref(), Some("raw"));
        assert_eq!(enc(&mut con, "nosuch"), None);
        let _: i64 = redis::cmd("APPEND").arg("emb").arg("!").query(&mut con).unwrap();
        assert_eq!(enc(&mut con, "emb").as_deref(), Some("raw"), "APPEND makes a raw string, as Redis");
        let _: i64 = redis::cmd("INCR").arg("counter").query(&mut con).unwrap();
        assert_eq!(enc(&mut con, "counter").as_deref(), Some("int"));
        let rc: i64 = redis::cmd("OBJECT").arg("REFCOUNT").arg("raw").query(&mut con).unwrap();
        assert_eq!(rc, 1);
        let rc: Option<i64> = redis::cmd("OBJECT").arg("REFCOUNT").arg("nosuch").query(&mut con).unwrap();
        assert_eq!(rc, None);
        let idle: i64 = redis::cmd("OBJECT").arg("IDLETIME").arg("raw").query(&mut con).unwrap();
        assert!((0..=1).contains(&idle), "idle {idle}");
        let help: Vec<String> = redis::cmd("OBJECT").arg("HELP").query(&mut con).unwrap();
        assert!(help[0].starts_with("OBJECT <subcommand>"), "{help:?}");
        assert!(help.iter().any(|l| l.starts_with("ENCODING")));
        let e = redis::cmd("OBJECT").arg("NOPE").arg("k").query::<Value>(&mut con).unwrap_err();
        assert!(e.to_string().to_lowercase().contains("unknown subcommand"), "{e}");
    }
}
