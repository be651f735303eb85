//! String commands through the `redis` crate, at 1 and 4 shards: every
//! command and option, keys spread over shards, binary-safe values, and
//! concurrent increments. Exact reply bytes for edge cases are covered by
//! `tests/diff/strings.txt`; this file covers behaviour across shards and time.

mod common;

use redis::{Connection, Value};
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn pttl(con: &mut Connection, key: &str) -> i64 {
    redis::cmd("PTTL").arg(key).query(con).unwrap()
}

fn get(con: &mut Connection, key: &str) -> Option<String> {
    redis::cmd("GET").arg(key).query(con).unwrap()
}

fn bulk(s: &str) -> Value {
    Value::BulkString(s.as_bytes().to_vec())
}

fn ints(v: &[i64]) -> Value {
    Value::Array(v.iter().map(|n| Value::Int(*n)).collect())
}

common::shard_tests! {
    fn get_set_roundtrip_on_keys_of_every_shard(srv: &Server) {
        let mut con = srv.client();
        for i in 0..100 {
            let ok: String = redis::cmd("SET").arg(format!("key:{i}")).arg(format!("v{i}")).query(&mut con).unwrap();
            assert_eq!(ok, "OK");
        }
        for i in 0..100 {
            assert_eq!(get(&mut con, &format!("key:{i}")), Some(format!("v{i}")));
        }
        assert_eq!(get(&mut con, "key:missing"), None);
        let n: i64 = redis::cmd("DBSIZE").query(&mut con).unwrap();
        assert_eq!(n, 100);
    }

    fn set_nx_xx_get_options(srv: &Server) {
        let mut con = srv.client();
        let r: Option<String> = redis::cmd("SET").arg("k").arg("a").arg("XX").query(&mut con).unwrap();
        assert_eq!(r, None, "XX on a missing key does not set");
        assert_eq!(get(&mut con, "k"), None);
        let r: Option<String> = redis::cmd("SET").arg("k").arg("a").arg("NX").query(&mut con).unwrap();
        assert_eq!(r.as_deref(), Some("OK"));
        let r: Option<String> = redis::cmd("SET").arg("k").arg("b").arg("NX").query(&mut con).unwrap();
        assert_eq!(r, None, "NX on an existing key does not set");
        assert_eq!(get(&mut con, "k").as_deref(), Some("a"));
        let r: Option<String> = redis::cmd("SET").arg("k").arg("c").arg("XX").query(&mut con).unwrap();
        assert_eq!(r.as_deref(), Some("OK"));
        // GET returns the old value and still sets.
        let r: Option<String> = redis::cmd("SET").arg("k").arg("d").arg("GET").query(&mut con).unwrap();
        assert_eq!(r.as_deref(), Some("c"));
        assert_eq!(get(&mut con, "k").as_deref(), Some("d"));
        let r: Option<String> = redis::cmd("SET").arg("new").arg("x").arg("GET").query(&mut con).unwrap();
        assert_eq!(r, None);
        assert_eq!(get(&mut con, "new").as_deref(), Some("x"));
        // NX GET: old value back, nothing written.
        let r: Option<String> = redis::cmd("SET").arg("k").arg("e").arg("NX").arg("GET").query(&mut con).unwrap();
        assert_eq!(r.as_deref(), Some("d"));
        assert_eq!(get(&mut con, "k").as_deref(), Some("d"));
        // GET on a non-string fails and leaves the key alone.
        let _: i64 = redis::cmd("RPUSH").arg("l").arg("m").query(&mut con).unwrap();
        let e = redis::cmd("SET").arg("l").arg("v").arg("GET").query::<Value>(&mut con).unwrap_err();
        assert_eq!(e.code(), Some("WRONGTYPE"));
        let t: String = redis::cmd("TYPE").arg("l").query(&mut con).unwrap();
        assert_eq!(t, "list", "a failed SET GET must not overwrite the key");
        // Without GET, SET overwrites any type.
        let _: () = redis::cmd("SET").arg("l").arg("v").query(&mut con).unwrap();
        assert_eq!(get(&mut con, "l").as_deref(), Some("v"));
        let e = redis::cmd("SET").arg("k").arg("v").arg("NX").arg("XX").query::<Value>(&mut con).unwrap_err();
        assert!(e.to_string().contains("syntax error"), "{e}");
    }

    fn set_expiry_options_set_the_ttl(srv: &Server) {
        let mut con = srv.client();
        let _: () = redis::cmd("SET").arg("ex").arg("v").arg("EX").arg(100).query(&mut con).unwrap();
        let t = pttl(&mut con, "ex");
        assert!((99_000..=100_000).contains(&t), "EX 100 gave pttl {t}");
        let _: () = redis::cmd("SET").arg("px").arg("v").arg("PX").arg(50_000).query(&mut con).unwrap();
        let t = pttl(&mut con, "px");
        assert!((49_000..=50_000).contains(&t), "PX 50000 gave pttl {t}");
        let at = now_ms() / 1000 + 200;
        let _: () = redis::cmd("SET").arg("exat").arg("v").arg("EXAT").arg(at).query(&mut con).unwrap();
        let et: i64 = redis::cmd("EXPIRETIME").arg("exat").query(&mut con).unwrap();
        assert_eq!(et, at);
        let pat = now_ms() + 300_000;
        let _: () = redis::cmd("SET").arg("pxat").arg("v").arg("PXAT").arg(pat).query(&mut con).unwrap();
        let pet: i64 = redis::cmd("PEXPIRETIME").arg("pxat").query(&mut con).unwrap();
        assert_eq!(pet, pat);
        // KEEPTTL keeps it; a plain SET clears it.
        let _: () = redis::cmd("SET").arg("px").arg("w").arg("KEEPTTL").query(&mut con).unwrap();
        let t = pttl(&mut con, "px");
        assert!((48_000..=50_000).contains(&t), "KEEPTTL lost the ttl: {t}");
        assert_eq!(get(&mut con, "px").as_deref(), Some("w"));
        let _: () = redis::cmd("SET").arg("px").arg("z").query(&mut con).unwrap();
        assert_eq!(pttl(&mut con, "px"), -1);
        // A PXAT in the past deletes the key at once.
        let _: () = redis::cmd("SET").arg("gone").arg("v").arg("PXAT").arg(now_ms() - 1000).query(&mut con).unwrap();
        assert_eq!(get(&mut con, "gone"), None);
        // Short PX really expires.
        let _: () = redis::cmd("SET").arg("short").arg("v").arg("PX").arg(30).query(&mut con).unwrap();
        assert_eq!(get(&mut con, "short").as_deref(), Some("v"));
        thread::sleep(Duration::from_millis(60));
        assert_eq!(get(&mut con, "short"), None);
        for bad in ["0", "-5"] {
            let e = redis::cmd("SET").arg("k").arg("v").arg("EX").arg(bad).query::<Value>(&mut con).unwrap_err();
            assert!(e.to_string().contains("invalid expire time in 'set' command"), "{e}");
        }
        let e = redis::cmd("SET").arg("k").arg("v").arg("EX").arg(10).arg("KEEPTTL").query::<Value>(&mut con).unwrap_err();
        assert!(e.to_string().contains("syntax error"), "{e}");
    }

    fn setnx_setex_psetex_getset_getdel(srv: &Server) {
        let mut con = srv.client();
        let n: i64 = redis::cmd("SETNX").arg("a").arg("1").query(&mut con).unwrap();
        assert_eq!(n, 1);
        let n: i64 = redis::cmd("SETNX").arg("a").arg("2").query(&mut con).unwrap();
        assert_eq!(n, 0);
        assert_eq!(get(&mut con, "a").as_deref(), Some("1"));

        let _: () = redis::cmd("SETEX").arg("b").arg(100).arg("v").query(&mut con).unwrap();
        let t = pttl(&mut con, "b");
        assert!((99_000..=100_000).contains(&t), "{t}");
        let _: () = redis::cmd("PSETEX").arg("c").arg(40).arg("v").query(&mut con).unwrap();
        let t = pttl(&mut con, "c");
        assert!((1..=40).contains(&t), "{t}");
        thread::sleep(Duration::from_millis(70));
        assert_eq!(get(&mut con, "c"), None, "PSETEX 40 ms still there after 70 ms");
        let e = redis::cmd("SETEX").arg("b").arg(0).arg("v").query::<Value>(&mut con).unwrap_err();
        assert!(e.to_string().contains("invalid expire time in 'setex' command"), "{e}");
        let e = redis::cmd("PSETEX").arg("b").arg(-1).arg("v").query::<Value>(&mut con).unwrap_err();
        assert!(e.to_string().contains("invalid expire time in 'psetex' command"), "{e}");

        // GETSET returns the old value and clears the TTL.
        let old: Option<String> = redis::cmd("GETSET").arg("b").arg("w").query(&mut con).unwrap();
        assert_eq!(old.as_deref(), Some("v"));
        assert_eq!(pttl(&mut con, "b"), -1);
        let old: Option<String> = redis::cmd("GETSET").arg("fresh").arg("x").query(&mut con).unwrap();
        assert_eq!(old, None);
        assert_eq!(get(&mut con, "fresh").as_deref(), Some("x"));

        let v: Option<String> = redis::cmd("GETDEL").arg("b").query(&mut con).unwrap();
        assert_eq!(v.as_deref(), Some("w"));
        let n: i64 = redis::cmd("EXISTS").arg("b").query(&mut con).unwrap();
        assert_eq!(n, 0);
        let v: Option<String> = redis::cmd("GETDEL").arg("b").query(&mut con).unwrap();
        assert_eq!(v, None);
    }

    fn getex_changes_only_the_ttl(srv: &Server) {
        let mut con = srv.client();
        let _: () = redis::cmd("SET").arg("k").arg("v").query(&mut con).unwrap();
        let v: Option<String> = redis::cmd("GETEX").arg("k").query(&mut con).unwrap();
        assert_eq!(v.as_deref(), Some("v"));
        assert_eq!(pttl(&mut con, "k"), -1, "GETEX without options keeps no TTL");
        let v: Option<String> = redis::cmd("GETEX").arg("k").arg("EX").arg(100).query(&mut con).unwrap();
        assert_eq!(v.as_deref(), Some("v"));
        assert!((99_000..=100_000).contains(&pttl(&mut con, "k")));
        let _: Option<String> = redis::cmd("GETEX").arg("k").arg("PX").arg(5_000).query(&mut con).unwrap();
        assert!((4_000..=5_000).contains(&pttl(&mut con, "k")));
        let at = now_ms() / 1000 + 500;
        let _: Option<String> = redis::cmd("GETEX").arg("k").arg("EXAT").arg(at).query(&mut con).unwrap();
        let et: i64 = redis::cmd("EXPIRETIME").arg("k").query(&mut con).unwrap();
        assert_eq!(et, at);
        let pat = now_ms() + 600_000;
        let _: Option<String> = redis::cmd("GETEX").arg("k").arg("PXAT").arg(pat).query(&mut con).unwrap();
        let pet: i64 = redis::cmd("PEXPIRETIME").arg("k").query(&mut con).unwrap();
        assert_eq!(pet, pat);
        let _: Option<String> = redis::cmd("GETEX").arg("k").arg("PERSIST").query(&mut con).unwrap();
        assert_eq!(pttl(&mut con, "k"), -1);
        // A time in the past deletes the key, after returning its value.
        let v: Option<String> = redis::cmd("GETEX").arg("k").arg("PXAT").arg(now_ms() - 10).query(&mut con).unwrap();
        assert_eq!(v.as_deref(), Some("v"));
        assert_eq!(get(&mut con, "k"), None);
        let v: Option<String> = redis::cmd("GETEX").arg("missing").arg("EX").arg(10).query(&mut con).unwrap();
        assert_eq!(v, None);
        assert_eq!(pttl(&mut con, "missing"), -2);
        let _: () = redis::cmd("SET").arg("k").arg("v").arg("PX").arg(40).query(&mut con).unwrap();
        let _: Option<String> = redis::cmd("GETEX").arg("k").arg("EX").arg(100).query(&mut con).unwrap();
        thread::sleep(Duration::from_millis(70));
        assert_eq!(get(&mut con, "k").as_deref(), Some("v"), "GETEX EX did not replace a short TTL");
        let e = redis::cmd("GETEX").arg("k").arg("EX").arg(10).arg("PERSIST").query::<Value>(&mut con).unwrap_err();
        assert!(e.to_string().contains("syntax error"), "{e}");
    }

    fn mget_mset_preserve_order_across_shards(srv: &Server) {
        let mut con = srv.client();
        let mut mset = redis::cmd("MSET");
        for i in 0..100 {
            mset.arg(format!("key:{i}")).arg(format!("val:{i}"));
        }
        let _: () = mset.query(&mut con).unwrap();
        let mut mget = redis::cmd("MGET");
        let mut expected = Vec::new();
        for i in (0..100).rev() {
            mget.arg(format!("key:{i}"));
            expected.push(Some(format!("val:{i}")));
            mget.arg(format!("nokey:{i}"));
            expected.push(None);
        }
        // A key named twice comes back twice.
        mget.arg("key:7");
        expected.push(Some("val:7".into()));
        let got: Vec<Option<String>> = mget.query(&mut con).unwrap();
        assert_eq!(got, expected);
        // A non-string key reads as nil in MGET.
        let _: i64 = redis::cmd("RPUSH").arg("key:list").arg("x").query(&mut con).unwrap();
        let got: Vec<Option<String>> = redis::cmd("MGET").arg("key:1").arg("key:list").arg("key:2").query(&mut con).unwrap();
        assert_eq!(got, vec![Some("val:1".into()), None, Some("val:2".into())]);
        let e = redis::cmd("GET").arg("key:list").query::<Value>(&mut con).unwrap_err();
        assert_eq!(e.code(), Some("WRONGTYPE"));
        // Odd argument count is an arity error and writes nothing.
        let e = redis::cmd("MSET").arg("odd:1").arg("v").arg("odd:2").query::<Value>(&mut con).unwrap_err();
        assert!(e.to_string().contains("wrong number of arguments for 'mset' command"), "{e}");
        let n: i64 = redis::cmd("EXISTS").arg("odd:1").arg("odd:2").query(&mut con).unwrap();
        assert_eq!(n, 0);
        // MSET clears TTLs of the keys it overwrites.
        let _: () = redis::cmd("SET").arg("key:3").arg("x").arg("EX").arg(100).query(&mut con).unwrap();
        let _: () = redis::cmd("MSET").arg("key:3").arg("y").arg("key:4").arg("z").query(&mut con).unwrap();
        assert_eq!(pttl(&mut con, "key:3"), -1);
        // Last write wins for a key named twice.
        let _: () = redis::cmd("MSET").arg("dup").arg("1").arg("key:5").arg("q").arg("dup").arg("2").query(&mut con).unwrap();
        assert_eq!(get(&mut con, "dup").as_deref(), Some("2"));
    }

    fn msetnx_is_all_or_nothing_across_shards(srv: &Server) {
        let mut con = srv.client();
        let mut first = redis::cmd("MSETNX");
        for i in 0..50 {
            first.arg(format!("nx:{i}")).arg(format!("a{i}"));
        }
        let n: i64 = first.query(&mut con).unwrap();
        assert_eq!(n, 1);
        // Overlaps in exactly one key (on whichever shard): nothing written.
        let mut second = redis::cmd("MSETNX");
        for i in 49..100 {
            second.arg(format!("nx:{i}")).arg(format!("b{i}"));
        }
        let n: i64 = second.query(&mut con).unwrap();
        assert_eq!(n, 0);
        let n: i64 = redis::cmd("DBSIZE").query(&mut con).unwrap();
        assert_eq!(n, 50);
        assert_eq!(get(&mut con, "nx:49").as_deref(), Some("a49"));
        // Disjoint keys on every shard: all written.
        let mut third = redis::cmd("MSETNX");
        for i in 50..100 {
            third.arg(format!("nx:{i}")).arg(format!("c{i}"));
        }
        let n: i64 = third.query(&mut con).unwrap();
        assert_eq!(n, 1);
        for i in 0..100 {
            let want = if i < 50 { format!("a{i}") } else { format!("c{i}") };
            assert_eq!(get(&mut con, &format!("nx:{i}")), Some(want));
        }
        // An expired key does not block MSETNX.
        let _: () = redis::cmd("SET").arg("nx:exp").arg("old").arg("PX").arg(20).query(&mut con).unwrap();
        thread::sleep(Duration::from_millis(40));
        let n: i64 = redis::cmd("MSETNX").arg("nx:exp").arg("new").arg("nx:other").arg("o").query(&mut con).unwrap();
        assert_eq!(n, 1);
        assert_eq!(get(&mut con, "nx:exp").as_deref(), Some("new"));
    }

    fn append_strlen_getrange_setrange_substr(srv: &Server) {
        let mut con = srv.client();
        let n: i64 = redis::cmd("APPEND").arg("s").arg("Hello").query(&mut con).unwrap();
        assert_eq!(n, 5);
        let n: i64 = redis::cmd("APPEND").arg("s").arg(" World").query(&mut con).unwrap();
        assert_eq!(n, 11);
        assert_eq!(get(&mut con, "s").as_deref(), Some("Hello World"));
        let n: i64 = redis::cmd("STRLEN").arg("s").query(&mut con).unwrap();
        assert_eq!(n, 11);
        let n: i64 = redis::cmd("STRLEN").arg("missing").query(&mut con).unwrap();
        assert_eq!(n, 0);
        let r: String = redis::cmd("GETRANGE").arg("s").arg(0).arg(4).query(&mut con).unwrap();
        assert_eq!(r, "Hello");
        let r: String = redis::cmd("GETRANGE").arg("s").arg(-5).arg(-1).query(&mut con).unwrap();
        assert_eq!(r, "World");
        let r: String = redis::cmd("SUBSTR").arg("s").arg(6).arg(100).query(&mut con).unwrap();
        assert_eq!(r, "World");
        let r: String = redis::cmd("GETRANGE").arg("missing").arg(0).arg(-1).query(&mut con).unwrap();
        assert_eq!(r, "");
        let n: i64 = redis::cmd("SETRANGE").arg("s").arg(6).arg("Redis").query(&mut con).unwrap();
        assert_eq!(n, 11);
        assert_eq!(get(&mut con, "s").as_deref(), Some("Hello Redis"));
        // Padding with zero bytes.
        let n: i64 = redis::cmd("SETRANGE").arg("pad").arg(5).arg("x").query(&mut con).unwrap();
        assert_eq!(n, 6);
        let v: Vec<u8> = redis::cmd("GET").arg("pad").query(&mut con).unwrap();
        assert_eq!(v, b"\0\0\0\0\0x");
        // Empty patch on a missing key creates nothing.
        let n: i64 = redis::cmd("SETRANGE").arg("none").arg(3).arg("").query(&mut con).unwrap();
        assert_eq!(n, 0);
        let n: i64 = redis::cmd("EXISTS").arg("none").query(&mut con).unwrap();
        assert_eq!(n, 0);
        let e = redis::cmd("SETRANGE").arg("s").arg(-1).arg("x").query::<Value>(&mut con).unwrap_err();
        assert!(e.to_string().contains("offset is out of range"), "{e}");
        // APPEND and SETRANGE keep the TTL.
        let _: () = redis::cmd("SET").arg("t").arg("a").arg("EX").arg(100).query(&mut con).unwrap();
        let _: i64 = redis::cmd("APPEND").arg("t").arg("b").query(&mut con).unwrap();
        let _: i64 = redis::cmd("SETRANGE").arg("t").arg(0).arg("z").query(&mut con).unwrap();
        assert!(pttl(&mut con, "t") > 90_000);
        assert_eq!(get(&mut con, "t").as_deref(), Some("zb"));
        // Integer-encoded values append as text.
        let _: () = redis::cmd("SET").arg("num").arg(12).query(&mut con).unwrap();
        let n: i64 = redis::cmd("APPEND").arg("num").arg("34").query(&mut con).unwrap();
        assert_eq!(n, 4);
        let n: i64 = redis::cmd("INCR").arg("num").query(&mut con).unwrap();
        assert_eq!(n, 1235);
        let r: String = redis::cmd("GETRANGE").arg("num").arg(1).arg(2).query(&mut con).unwrap();
        assert_eq!(r, "23");
    }

    fn incr_decr_family(srv: &Server) {
        let mut con = srv.client();
        let n: i64 = redis::cmd("INCR").arg("c").query(&mut con).unwrap();
        assert_eq!(n, 1);
        let n: i64 = redis::cmd("INCRBY").arg("c").arg(41).query(&mut con).unwrap();
        assert_eq!(n, 42);
        let n: i64 = redis::cmd("DECR").arg("c").query(&mut con).unwrap();
        assert_eq!(n, 41);
        let n: i64 = redis::cmd("DECRBY").arg("c").arg(50).query(&mut con).unwrap();
        assert_eq!(n, -9);
        let n: i64 = redis::cmd("DECR").arg("d").query(&mut con).unwrap();
        assert_eq!(n, -1);
        assert_eq!(get(&mut con, "c").as_deref(), Some("-9"));
        let _: () = redis::cmd("SET").arg("max").arg(i64::MAX).query(&mut con).unwrap();
        let e = redis::cmd("INCR").arg("max").query::<i64>(&mut con).unwrap_err();
        assert!(e.to_string().contains("increment or decrement would overflow"), "{e}");
        assert_eq!(get(&mut con, "max"), Some(i64::MAX.to_string()), "failed INCR changed the value");
        let _: () = redis::cmd("SET").arg("txt").arg("abc").query(&mut con).unwrap();
        let e = redis::cmd("INCR").arg("txt").query::<i64>(&mut con).unwrap_err();
        assert!(e.to_string().contains("value is not an integer or out of range"), "{e}");
        let _: () = redis::cmd("SET").arg("sp").arg(" 1").query(&mut con).unwrap();
        assert!(redis::cmd("INCR").arg("sp").query::<i64>(&mut con).is_err(), "' 1' is not an integer");
        // INCR keeps the TTL.
        let _: () = redis::cmd("SET").arg("ttl").arg(5).arg("EX").arg(100).query(&mut con).unwrap();
        let n: i64 = redis::cmd("INCR").arg("ttl").query(&mut con).unwrap();
        assert_eq!(n, 6);
        assert!(pttl(&mut con, "ttl") > 90_000, "INCR dropped the TTL");
        // One counter per shard-spread key.
        for i in 0..40 {
            for _ in 0..=i % 3 {
                let _: i64 = redis::cmd("INCR").arg(format!("ctr:{i}")).query(&mut con).unwrap();
            }
        }
        for i in 0..40 {
            assert_eq!(get(&mut con, &format!("ctr:{i}")), Some((i % 3 + 1).to_string()));
        }
    }

    fn incrbyfloat_formats_like_redis(srv: &Server) {
        let mut con = srv.client();
        let _: () = redis::cmd("SET").arg("f").arg(10).query(&mut con).unwrap();
        let r: String = redis::cmd("INCRBYFLOAT").arg("f").arg("0.5").query(&mut con).unwrap();
        assert_eq!(r, "10.5");
        assert_eq!(get(&mut con, "f").as_deref(), Some("10.5"));
        let r: String = redis::cmd("INCRBYFLOAT").arg("g").arg("0.1").query(&mut con).unwrap();
        assert_eq!(r, "0.1");
        let r: String = redis::cmd("INCRBYFLOAT").arg("g").arg("0.2").query(&mut con).unwrap();
        assert_eq!(r, "0.3");
        let r: String = redis::cmd("INCRBYFLOAT").arg("h").arg("5.0e3").query(&mut con).unwrap();
        assert_eq!(r, "5000");
        let r: String = redis::cmd("INCRBYFLOAT").arg("h").arg("-5000").query(&mut con).unwrap();
        assert_eq!(r, "0");
        let r: String = redis::cmd("INCRBYFLOAT").arg("h").arg("-1.1").query(&mut con).unwrap();
        assert_eq!(r, "-1.1");
        // The result is stored as text, so INCR then refuses it.
        assert!(redis::cmd("INCR").arg("f").query::<i64>(&mut con).is_err());
        let _: () = redis::cmd("SET").arg("t").arg("x").query(&mut con).unwrap();
        let e = redis::cmd("INCRBYFLOAT").arg("t").arg(1).query::<String>(&mut con).unwrap_err();
        assert!(e.to_string().contains("value is not a valid float"), "{e}");
        let e = redis::cmd("INCRBYFLOAT").arg("f").arg("inf").query::<String>(&mut con).unwrap_err();
        assert!(e.to_string().contains("increment would produce NaN or Infinity"), "{e}");
        assert_eq!(get(&mut con, "f").as_deref(), Some("10.5"));
        // Keeps the TTL.
        let _: () = redis::cmd("SET").arg("e").arg("1.5").arg("EX").arg(100).query(&mut con).unwrap();
        let r: String = redis::cmd("INCRBYFLOAT").arg("e").arg("1").query(&mut con).unwrap();
        assert_eq!(r, "2.5");
        assert!(pttl(&mut con, "e") > 90_000, "INCRBYFLOAT dropped the TTL");
    }

    fn lcs_all_options_on_keys_of_different_shards(srv: &Server) {
        let mut con = srv.client();
        // Twenty pairs: at 4 shards most pairs span two shards.
        for i in 0..20 {
            let (a, b) = (format!("lcs:a:{i}"), format!("lcs:b:{i}"));
            let _: () = redis::cmd("MSET").arg(&a).arg("ohmytext").arg(&b).arg("mynewtext").query(&mut con).unwrap();
            let r: String = redis::cmd("LCS").arg(&a).arg(&b).query(&mut con).unwrap();
            assert_eq!(r, "mytext", "pair {i}");
            let n: i64 = redis::cmd("LCS").arg(&a).arg(&b).arg("LEN").query(&mut con).unwrap();
            assert_eq!(n, 6);
            let idx: Value = redis::cmd("LCS").arg(&a).arg(&b).arg("IDX").query(&mut con).unwrap();
            let m1 = Value::Array(vec![ints(&[4, 7]), ints(&[5, 8])]);
            let m2 = Value::Array(vec![ints(&[2, 3]), ints(&[0, 1])]);
            assert_eq!(
                idx,
                Value::Array(vec![bulk("matches"), Value::Array(vec![m1.clone(), m2]), bulk("len"), Value::Int(6)]),
                "pair {i}"
            );
            let idx: Value = redis::cmd("LCS").arg(&a).arg(&b).arg("IDX").arg("MINMATCHLEN").arg(4).arg("WITHMATCHLEN").query(&mut con).unwrap();
            let m1 = Value::Array(vec![ints(&[4, 7]), ints(&[5, 8]), Value::Int(4)]);
            assert_eq!(idx, Value::Array(vec![bulk("matches"), Value::Array(vec![m1]), bulk("len"), Value::Int(6)]));
            // A missing key is an empty string.
            let r: String = redis::cmd("LCS").arg(&a).arg(format!("lcs:none:{i}")).query(&mut con).unwrap();
            assert_eq!(r, "");
        }
        let e = redis::cmd("LCS").arg("lcs:a:0").arg("lcs:b:0").arg("LEN").arg("IDX").query::<Value>(&mut con).unwrap_err();
        assert!(e.to_string().contains("If you want both the length and indexes"), "{e}");
        let _: i64 = redis::cmd("RPUSH").arg("lcs:list").arg("x").query(&mut con).unwrap();
        for i in 0..8 {
            let e = redis::cmd("LCS").arg(format!("lcs:a:{i}")).arg("lcs:list").query::<Value>(&mut con).unwrap_err();
            assert!(e.to_string().contains("The specified keys must contain string values"), "{e}");
        }
    }

    fn binary_values_roundtrip(srv: &Server) {
        let mut con = srv.client();
        let all: Vec<u8> = (0..=255u8).collect();
        let crlf = b"line1\r\nline2\r\n\r\n$5\r\n*1\r\n".to_vec();
        let big: Vec<u8> = (0..1 << 20).map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        for (i, v) in [&all, &crlf, &big].into_iter().enumerate() {
            let key = format!("bin:{i}");
            let _: () = redis::cmd("SET").arg(&key).arg(v.as_slice()).query(&mut con).unwrap();
            let got: Vec<u8> = redis::cmd("GET").arg(&key).query(&mut con).unwrap();
            assert!(got == *v, "value {i} ({} bytes) came back different", v.len());
            let n: i64 = redis::cmd("STRLEN").arg(&key).query(&mut con).unwrap();
            assert_eq!(n as usize, v.len());
        }
        // Binary keys, spread over shards, through MSET/MGET.
        let keys: Vec<Vec<u8>> = (0..=255u8).map(|b| vec![b, b'\r', b'\n', 0, b]).collect();
        let mut mset = redis::cmd("MSET");
        for k in &keys {
            mset.arg(k.as_slice()).arg([k.as_slice(), b"\x00\xff"].concat());
        }
        let _: () = mset.query(&mut con).unwrap();
        let mut mget = redis::cmd("MGET");
        for k in &keys {
            mget.arg(k.as_slice());
        }
        let got: Vec<Vec<u8>> = mget.query(&mut con).unwrap();
        for (k, v) in keys.iter().zip(&got) {
            assert_eq!(*v, [k.as_slice(), b"\x00\xff"].concat());
        }
        let r: Vec<u8> = redis::cmd("GETRANGE").arg("bin:0").arg(250).arg(-1).query(&mut con).unwrap();
        assert_eq!(r, vec![250, 251, 252, 253, 254, 255]);
        let n: i64 = redis::cmd("APPEND").arg("bin:0").arg(&b"\r\n\0"[..]).query(&mut con).unwrap();
        assert_eq!(n, 259);
        let r: Vec<u8> = redis::cmd("GETRANGE").arg("bin:2").arg(-3).arg(-1).query(&mut con).unwrap();
        assert_eq!(r, big[big.len() - 3..]);
    }

    fn raw_resp_get_of_crlf_value_is_length_prefixed(srv: &Server) {
        let mut raw = srv.raw();
        assert_eq!(raw.cmd(&[b"SET", b"k", b"a\r\nb"]), b"+OK\r\n");
        assert_eq!(raw.cmd(&[b"GET", b"k"]), b"$4\r\na\r\nb\r\n");
        assert_eq!(raw.cmd(&[b"GET", b"nokey"]), b"$-1\r\n");
        assert_eq!(raw.cmd(&[b"MGET", b"k", b"nokey", b"k"]), b"*3\r\n$4\r\na\r\nb\r\n$-1\r\n$4\r\na\r\nb\r\n");
        assert_eq!(raw.cmd(&[b"INCRBYFLOAT", b"f", b"1.5"]), b"$3\r\n1.5\r\n");
    }

    fn concurrent_incr_from_eight_clients_is_exact(srv: &Server) {
        let port = srv.port();
        let handles: Vec<_> = (0..8)
            .map(|_| {
                thread::spawn(move || {
                    let mut con = common::client(port);
                    let mut last = 0i64;
                    for _ in 0..1000 {
                        let n: i64 = redis::cmd("INCR").arg("shared").query(&mut con).unwrap();
                        assert!(n > last, "INCR went backwards: {n} after {last}");
                        last = n;
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        let mut con = srv.client();
        assert_eq!(get(&mut con, "shared").as_deref(), Some("8000"));
    }

    fn concurrent_incrby_on_many_keys_across_shards(srv: &Server) {
        let port = srv.port();
        let handles: Vec<_> = (0..4)
            .map(|t| {
                thread::spawn(move || {
                    let mut con = common::client(port);
                    for round in 0..50 {
                        let mut p = redis::pipe();
                        for i in 0..20 {
                            p.cmd("INCRBY").arg(format!("many:{i}")).arg(t + 1).ignore();
                        }
                        p.cmd("DECRBY").arg(format!("neg:{}", round % 5)).arg(1).ignore();
                        let _: () = p.query(&mut con).unwrap();
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        let mut con = srv.client();
        for i in 0..20 {
            // 50 rounds × (1+2+3+4)
            assert_eq!(get(&mut con, &format!("many:{i}")).as_deref(), Some("500"), "many:{i}");
        }
        for i in 0..5 {
            assert_eq!(get(&mut con, &format!("neg:{i}")).as_deref(), Some("-40"), "neg:{i}");
        }
    }
}
