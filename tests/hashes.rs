//! Hash commands through a real client, at 1 and 4 shards: every command and
//! option, the RESP2/RESP3 reply shapes, the listpack → hashtable conversion
//! at the default limits and after CONFIG SET, the HSCAN guarantee while the
//! hash changes under another connection, and the hash patterns applications
//! build (scenarios S10, S12, S15, S22, S62).

mod common;

use common::{fails, q};

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use redis::Connection;

fn encoding(con: &mut Connection, key: &str) -> String {
    q(con, &["OBJECT", "ENCODING", key])
}

/// HGETALL as (field, value) pairs in reply order.
fn getall(con: &mut Connection, key: &str) -> Vec<(String, String)> {
    q(con, &["HGETALL", key])
}

/// Sets `hash-max-listpack-entries` (≥ 1) and waits until every shard
/// applies it: a shard picks CONFIG SET up at its next tick, so a probe hash
/// on each shard (keys `a` … `d` sit on four shards) is rebuilt until it is
/// a listpack at `n` fields and a hashtable at `n + 1`.
fn set_entries_limit(con: &mut Connection, n: usize) {
    let _: () = q(
        con,
        &["CONFIG", "SET", "hash-max-listpack-entries", &n.to_string()],
    );
    let fields: Vec<String> = (0..=n)
        .flat_map(|i| [format!("f{i}"), "v".into()])
        .collect();
    let deadline = Instant::now() + Duration::from_secs(10);
    for tag in ["a", "b", "c", "d"] {
        let probe = format!("{{{tag}}}probe");
        loop {
            let _: i64 = q(con, &["DEL", &probe]);
            let mut cmd = redis::cmd("HSET");
            cmd.arg(&probe).arg(&fields[..2 * n]);
            let _: i64 = cmd.query(con).unwrap();
            let at_limit = encoding(con, &probe);
            let _: i64 = q(con, &["HSET", &probe, "extra", "v"]);
            let past_limit = encoding(con, &probe);
            let _: i64 = q(con, &["DEL", &probe]);
            if at_limit == "listpack" && past_limit == "hashtable" {
                break;
            }
            assert!(Instant::now() < deadline, "limit {n} never applied");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

common::shard_tests! {
    fn hset_hmset_hsetnx_and_field_reads(srv: &Server) {
        let mut con = srv.client();
        assert_eq!(q::<i64>(&mut con, &["HSET", "h", "a", "1"]), 1);
        assert_eq!(q::<i64>(&mut con, &["HSET", "h", "a", "2", "b", "3", "c", "4"]), 2);
        assert_eq!(q::<String>(&mut con, &["HMSET", "h", "d", "5", "e", "6"]), "OK");
        assert_eq!(q::<String>(&mut con, &["HGET", "h", "a"]), "2");
        assert_eq!(q::<Option<String>>(&mut con, &["HGET", "h", "zz"]), None);
        assert_eq!(q::<Option<String>>(&mut con, &["HGET", "missing", "a"]), None);
        assert_eq!(
            q::<Vec<Option<String>>>(&mut con, &["HMGET", "h", "a", "zz", "e"]),
            [Some("2".into()), None, Some("6".into())]
        );
        assert_eq!(q::<Vec<Option<String>>>(&mut con, &["HMGET", "missing", "a", "b"]), [None, None]);
        assert_eq!(q::<i64>(&mut con, &["HSETNX", "h", "a", "99"]), 0);
        assert_eq!(q::<i64>(&mut con, &["HSETNX", "h", "z", "26"]), 1);
        assert_eq!(q::<String>(&mut con, &["HGET", "h", "a"]), "2");
        assert_eq!(q::<i64>(&mut con, &["HSETNX", "fresh", "f", "v"]), 1);
        assert_eq!(q::<i64>(&mut con, &["HLEN", "h"]), 6);
        assert_eq!(q::<i64>(&mut con, &["HLEN", "missing"]), 0);
        assert_eq!(q::<i64>(&mut con, &["HEXISTS", "h", "z"]), 1);
        assert_eq!(q::<i64>(&mut con, &["HEXISTS", "h", "y"]), 0);
        assert_eq!(q::<i64>(&mut con, &["HEXISTS", "missing", "y"]), 0);
        assert_eq!(q::<i64>(&mut con, &["HSTRLEN", "h", "z"]), 2);
        assert_eq!(q::<i64>(&mut con, &["HSTRLEN", "h", "y"]), 0);
        assert_eq!(q::<i64>(&mut con, &["HSTRLEN", "missing", "y"]), 0);
        assert_eq!(q::<String>(&mut con, &["TYPE", "h"]), "hash");
        assert_eq!(
            fails(&mut con, &["HSET", "h", "a", "1", "b"]),
            "ERR wrong number of arguments for 'hset' command"
        );
        assert_eq!(
            fails(&mut con, &["HMSET", "h", "a"]),
            "ERR wrong number of arguments for 'hmset' command"
        );
        assert_eq!(
            fails(&mut con, &["HSETNX", "h", "a"]),
            "ERR wrong number of arguments for 'hsetnx' command"
        );
        // Binary-safe fields and values, including empty ones.
        let mut cmd = redis::cmd("HSET");
        cmd.arg("bin").arg(&b"\x00\r\n"[..]).arg(&b""[..]).arg(&b""[..]).arg(&b"sp ace"[..]);
        assert_eq!(cmd.query::<i64>(&mut con).unwrap(), 2);
        assert_eq!(q::<Vec<u8>>(&mut con, &["HGET", "bin", ""]), b"sp ace");
        assert_eq!(q::<i64>(&mut con, &["HSTRLEN", "bin", "\x00\r\n"]), 0);
    }

    fn hgetall_keys_and_vals_follow_insertion_order(srv: &Server) {
        let mut con = srv.client();
        let _: i64 = q(&mut con, &["HSET", "h", "z", "1", "a", "2", "m", "3"]);
        let _: i64 = q(&mut con, &["HSET", "h", "a", "22"]);
        assert_eq!(
            getall(&mut con, "h"),
            [("z".into(), "1".into()), ("a".into(), "22".into()), ("m".into(), "3".into())]
        );
        assert_eq!(q::<Vec<String>>(&mut con, &["HKEYS", "h"]), ["z", "a", "m"]);
        assert_eq!(q::<Vec<String>>(&mut con, &["HVALS", "h"]), ["1", "22", "3"]);
        assert!(getall(&mut con, "missing").is_empty());
        assert!(q::<Vec<String>>(&mut con, &["HKEYS", "missing"]).is_empty());
        assert!(q::<Vec<String>>(&mut con, &["HVALS", "missing"]).is_empty());
    }

    fn hgetall_is_a_map_and_hrandfield_pairs_nest_in_resp3(srv: &Server) {
        let mut raw = srv.raw();
        raw.cmd(&[b"HSET", b"h", b"f1", b"v1", b"f2", b"v2"]);
        assert_eq!(
            raw.cmd(&[b"HGETALL", b"h"]),
            b"*4\r\n$2\r\nf1\r\n$2\r\nv1\r\n$2\r\nf2\r\n$2\r\nv2\r\n"
        );
        assert_eq!(raw.cmd(&[b"HGETALL", b"nope"]), b"*0\r\n");
        raw.cmd(&[b"HELLO", b"3"]);
        assert_eq!(
            raw.cmd(&[b"HGETALL", b"h"]),
            b"%2\r\n$2\r\nf1\r\n$2\r\nv1\r\n$2\r\nf2\r\n$2\r\nv2\r\n"
        );
        assert_eq!(raw.cmd(&[b"HGETALL", b"nope"]), b"%0\r\n");
        assert_eq!(raw.cmd(&[b"HGET", b"h", b"nope"]), b"_\r\n");
        assert_eq!(raw.cmd(&[b"HMGET", b"h", b"nope", b"f1"]), b"*2\r\n_\r\n$2\r\nv1\r\n");
        assert_eq!(raw.cmd(&[b"HRANDFIELD", b"nope"]), b"_\r\n");
        assert_eq!(
            raw.cmd(&[b"HRANDFIELD", b"h", b"5", b"WITHVALUES"]),
            b"*2\r\n*2\r\n$2\r\nf1\r\n$2\r\nv1\r\n*2\r\n$2\r\nf2\r\n$2\r\nv2\r\n"
        );
        assert_eq!(raw.cmd(&[b"HRANDFIELD", b"h", b"5"]), b"*2\r\n$2\r\nf1\r\n$2\r\nf2\r\n");
        assert_eq!(raw.cmd(&[b"HSCAN", b"h", b"0"]),
            b"*2\r\n$1\r\n0\r\n*4\r\n$2\r\nf1\r\n$2\r\nv1\r\n$2\r\nf2\r\n$2\r\nv2\r\n");
    }

    fn hdel_deletes_the_key_with_its_last_field(srv: &Server) {
        let mut con = srv.client();
        let _: i64 = q(&mut con, &["HSET", "h", "a", "1", "b", "2", "c", "3"]);
        let _: i64 = q(&mut con, &["EXPIRE", "h", "100"]);
        assert_eq!(q::<i64>(&mut con, &["HDEL", "h", "a", "zz", "a"]), 1);
        assert!(q::<i64>(&mut con, &["TTL", "h"]) > 0, "HDEL keeps the TTL");
        assert_eq!(q::<i64>(&mut con, &["HDEL", "h", "b", "c"]), 2);
        assert_eq!(q::<i64>(&mut con, &["EXISTS", "h"]), 0);
        assert_eq!(q::<i64>(&mut con, &["HDEL", "h", "a"]), 0);
        assert_eq!(q::<i64>(&mut con, &["TTL", "h"]), -2);
    }

    fn hincrby_and_hincrbyfloat(srv: &Server) {
        let mut con = srv.client();
        assert_eq!(q::<i64>(&mut con, &["HINCRBY", "h", "n", "5"]), 5);
        assert_eq!(q::<i64>(&mut con, &["HINCRBY", "h", "n", "-10"]), -5);
        let _: i64 = q(&mut con, &["HSET", "h", "s", "abc", "max", "9223372036854775807", "sp", " 1"]);
        assert_eq!(fails(&mut con, &["HINCRBY", "h", "s", "1"]), "ERR hash value is not an integer");
        assert_eq!(fails(&mut con, &["HINCRBY", "h", "sp", "1"]), "ERR hash value is not an integer");
        assert_eq!(fails(&mut con, &["HINCRBY", "h", "max", "1"]), "ERR increment or decrement would overflow");
        assert_eq!(fails(&mut con, &["HINCRBY", "h", "n", "1.5"]), "ERR value is not an integer or out of range");
        assert_eq!(fails(&mut con, &["HINCRBY", "new", "f", "x"]), "ERR value is not an integer or out of range");
        assert_eq!(q::<i64>(&mut con, &["EXISTS", "new"]), 0);
        assert_eq!(q::<String>(&mut con, &["HINCRBYFLOAT", "h", "f", "10.5"]), "10.5");
        assert_eq!(q::<String>(&mut con, &["HINCRBYFLOAT", "h", "f", "-0.25"]), "10.25");
        assert_eq!(q::<String>(&mut con, &["HINCRBYFLOAT", "h", "f", "1e3"]), "1010.25");
        assert_eq!(q::<String>(&mut con, &["HINCRBYFLOAT", "h", "n", "5"]), "0");
        // f64 here, long double in Redis: the same while the result fits 53 bits.
        assert_eq!(q::<String>(&mut con, &["HINCRBYFLOAT", "h", "n", "9007199254740992"]), "9007199254740992");
        assert_eq!(fails(&mut con, &["HINCRBYFLOAT", "h", "s", "1"]), "ERR hash value is not a float");
        assert_eq!(fails(&mut con, &["HINCRBYFLOAT", "h", "f", "abc"]), "ERR value is not a valid float");
        assert_eq!(fails(&mut con, &["HINCRBYFLOAT", "h", "f", "inf"]), "ERR value is NaN or Infinity");
        assert_eq!(fails(&mut con, &["HINCRBYFLOAT", "nf", "f", "-inf"]), "ERR value is NaN or Infinity");
        assert_eq!(q::<i64>(&mut con, &["EXISTS", "nf"]), 0);
        assert_eq!(q::<String>(&mut con, &["HGET", "h", "f"]), "1010.25");
    }

    fn hrandfield_counts_and_withvalues(srv: &Server) {
        let mut con = srv.client();
        let _: i64 = q(&mut con, &["HSET", "h", "a", "1", "b", "2", "c", "3"]);
        let fields: HashSet<String> = ["a", "b", "c"].into_iter().map(String::from).collect();
        let value_of = |f: &str| ((f.as_bytes()[0] - b'a' + b'1') as char).to_string();
        for _ in 0..20 {
            assert!(fields.contains(&q::<String>(&mut con, &["HRANDFIELD", "h"])));
            let two: Vec<String> = q(&mut con, &["HRANDFIELD", "h", "2"]);
            assert_eq!(two.len(), 2);
            assert_ne!(two[0], two[1]);
            assert!(two.iter().all(|f| fields.contains(f)));
            let many: Vec<String> = q(&mut con, &["HRANDFIELD", "h", "-10"]);
            assert_eq!(many.len(), 10);
            assert!(many.iter().all(|f| fields.contains(f)));
            let pairs: Vec<(String, String)> = q(&mut con, &["HRANDFIELD", "h", "-5", "WITHVALUES"]);
            assert_eq!(pairs.len(), 5);
            assert!(pairs.iter().all(|(f, v)| *v == value_of(f)));
        }
        let all: Vec<(String, String)> = q(&mut con, &["HRANDFIELD", "h", "10", "WITHVALUES"]);
        assert_eq!(all.len(), 3);
        assert_eq!(all.iter().map(|(f, _)| f.clone()).collect::<HashSet<_>>(), fields);
        assert!(q::<Vec<String>>(&mut con, &["HRANDFIELD", "h", "0"]).is_empty());
        assert!(q::<Vec<String>>(&mut con, &["HRANDFIELD", "missing", "3"]).is_empty());
        assert_eq!(q::<Option<String>>(&mut con, &["HRANDFIELD", "missing"]), None);
        assert_eq!(fails(&mut con, &["HRANDFIELD", "h", "x"]), "ERR value is not an integer or out of range");
        assert_eq!(fails(&mut con, &["HRANDFIELD", "h", "1", "VALUES"]), "ERR syntax error");
        assert_eq!(fails(&mut con, &["HRANDFIELD", "h", "1", "WITHVALUES", "x"]), "ERR syntax error");
        assert_eq!(
            fails(&mut con, &["HRANDFIELD", "h", "-9223372036854775808"]),
            "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
        );
        assert_eq!(
            fails(&mut con, &["HRANDFIELD", "h", "4611686018427387904", "WITHVALUES"]),
            "ERR value is out of range"
        );
        // A hashtable samples the same way.
        let mut cmd = redis::cmd("HSET");
        cmd.arg("big");
        for i in 0..300 {
            cmd.arg(format!("f{i}")).arg(i);
        }
        let _: i64 = cmd.query(&mut con).unwrap();
        assert_eq!(encoding(&mut con, "big"), "hashtable");
        let some: Vec<String> = q(&mut con, &["HRANDFIELD", "big", "100"]);
        assert_eq!(some.iter().collect::<HashSet<_>>().len(), 100);
        let pairs: Vec<(String, String)> = q(&mut con, &["HRANDFIELD", "big", "-50", "WITHVALUES"]);
        assert!(pairs.iter().all(|(f, v)| f[1..] == *v));
    }

    fn hscan_small_hash_answers_whole_with_cursor_zero(srv: &Server) {
        let mut con = srv.client();
        let _: i64 = q(&mut con, &["HSET", "h", "name", "Alice", "email", "a@x", "email2", "b@x"]);
        let (cursor, items): (String, Vec<(String, String)>) = q(&mut con, &["HSCAN", "h", "0", "COUNT", "1"]);
        assert_eq!(cursor, "0");
        assert_eq!(items.len(), 3);
        let (cursor, items): (String, Vec<(String, String)>) =
            q(&mut con, &["HSCAN", "h", "0", "MATCH", "email*", "COUNT", "10"]);
        assert_eq!(cursor, "0");
        assert_eq!(items, [("email".into(), "a@x".into()), ("email2".into(), "b@x".into())]);
        let (cursor, items): (String, Vec<String>) = q(&mut con, &["HSCAN", "missing", "0"]);
        assert_eq!((cursor.as_str(), items.len()), ("0", 0));
        assert_eq!(fails(&mut con, &["HSCAN", "h", "x"]), "ERR invalid cursor");
        assert_eq!(fails(&mut con, &["HSCAN", "h", "0", "COUNT", "0"]), "ERR syntax error");
        assert_eq!(fails(&mut con, &["HSCAN", "h", "0", "TYPE", "hash"]), "ERR syntax error");
        assert_eq!(fails(&mut con, &["HSCAN", "h", "0", "MATCH"]), "ERR syntax error");
        assert_eq!(
            fails(&mut con, &["HSCAN", "h", "0", "COUNT", "x"]),
            "ERR value is not an integer or out of range"
        );
    }

    fn hscan_on_a_big_hash_returns_every_stable_field_while_it_changes(srv: &Server) {
        let mut con = srv.client();
        let mut cmd = redis::cmd("HSET");
        cmd.arg("big");
        for i in 0..3000 {
            cmd.arg(format!("stable:{i}")).arg(i).arg(format!("temp:{i}")).arg(i);
        }
        let _: i64 = cmd.query(&mut con).unwrap();
        assert_eq!(encoding(&mut con, "big"), "hashtable");
        let stop = Arc::new(AtomicBool::new(false));
        let churn = {
            let stop = stop.clone();
            let mut other = srv.client();
            std::thread::spawn(move || {
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let _: i64 = q(&mut other, &["HDEL", "big", &format!("temp:{}", i % 3000)]);
                    let _: i64 = q(&mut other, &["HSET", "big", &format!("new:{i}"), "x"]);
                    i += 1;
                }
                i
            })
        };
        let mut seen: HashMap<String, String> = HashMap::new();
        let mut cursor = "0".to_string();
        let mut calls = 0;
        loop {
            let (next, items): (String, Vec<(String, String)>) =
                q(&mut con, &["HSCAN", "big", &cursor, "COUNT", "50"]);
            seen.extend(items);
            calls += 1;
            if next == "0" {
                break;
            }
            cursor = next;
        }
        stop.store(true, Ordering::Relaxed);
        let changes = churn.join().unwrap();
        assert!(calls > 10, "a big hash is scanned in steps ({calls})");
        assert!(changes > 0);
        for i in 0..3000 {
            assert_eq!(seen.get(&format!("stable:{i}")), Some(&i.to_string()), "stable:{i}");
        }
        // MATCH filters what a step returns, not what it walks.
        let mut matched = HashSet::new();
        let mut cursor = "0".to_string();
        loop {
            let (next, items): (String, Vec<(String, String)>) =
                q(&mut con, &["HSCAN", "big", &cursor, "MATCH", "stable:1?", "COUNT", "100"]);
            matched.extend(items.into_iter().map(|(f, _)| f));
            if next == "0" {
                break;
            }
            cursor = next;
        }
        assert_eq!(matched.len(), 10);
    }

    fn encoding_converts_at_the_default_limits_and_never_back(srv: &Server) {
        let mut con = srv.client();
        let v64 = "x".repeat(64);
        let v65 = "x".repeat(65);
        let _: i64 = q(&mut con, &["HSET", "h", "f", &v64]);
        assert_eq!(encoding(&mut con, "h"), "listpack");
        let _: i64 = q(&mut con, &["HSET", "h", "f", &v65]);
        assert_eq!(encoding(&mut con, "h"), "hashtable");
        let _: i64 = q(&mut con, &["HSET", "h", "f", "short"]);
        assert_eq!(encoding(&mut con, "h"), "hashtable");
        let _: i64 = q(&mut con, &["HSET", "k", &v65, "v"]);
        assert_eq!(encoding(&mut con, "k"), "hashtable");
        let _: i64 = q(&mut con, &["HSET", "n", "a", "1"]);
        let _: i64 = q(&mut con, &["HINCRBY", "n", &v65, "1"]);
        assert_eq!(encoding(&mut con, "n"), "hashtable");
        // An HSETNX that sets nothing converts nothing.
        let _: i64 = q(&mut con, &["HSET", "nx", "a", "1"]);
        assert_eq!(q::<i64>(&mut con, &["HSETNX", "nx", "a", &v65]), 0);
        assert_eq!(encoding(&mut con, "nx"), "listpack");
        let mut cmd = redis::cmd("HSET");
        cmd.arg("many");
        for i in 0..128 {
            cmd.arg(format!("f{i}")).arg(i);
        }
        let _: i64 = cmd.query(&mut con).unwrap();
        assert_eq!(encoding(&mut con, "many"), "listpack");
        let _: i64 = q(&mut con, &["HSET", "many", "f0", "again"]);
        assert_eq!(encoding(&mut con, "many"), "listpack");
        let _: i64 = q(&mut con, &["HSET", "many", "f128", "128"]);
        assert_eq!(encoding(&mut con, "many"), "hashtable");
        let _: i64 = q(&mut con, &["HDEL", "many", "f1", "f2", "f3", "f4"]);
        assert_eq!(encoding(&mut con, "many"), "hashtable");
        assert_eq!(q::<i64>(&mut con, &["HLEN", "many"]), 125);
        assert_eq!(q::<String>(&mut con, &["HGET", "many", "f0"]), "again");
    }

    fn encoding_follows_config_set_hash_max_listpack_entries(srv: &Server) {
        let mut con = srv.client();
        set_entries_limit(&mut con, 4);
        for key in ["a", "b", "c", "d"] {
            let _: i64 = q(&mut con, &["HSET", key, "f1", "1", "f2", "2", "f3", "3", "f4", "4"]);
            assert_eq!(encoding(&mut con, key), "listpack");
            assert_eq!(getall(&mut con, key)[0], ("f1".into(), "1".into()));
            let _: i64 = q(&mut con, &["HSET", key, "f5", "5"]);
            assert_eq!(encoding(&mut con, key), "hashtable");
            let _: i64 = q(&mut con, &["HDEL", key, "f1", "f2", "f3"]);
            assert_eq!(encoding(&mut con, key), "hashtable");
            let _: String = q(&mut con, &["HMSET", "{a}m", "a", "1", "b", "2", "c", "3", "d", "4", "e", "5"]);
            assert_eq!(encoding(&mut con, "{a}m"), "hashtable");
            let _: i64 = q(&mut con, &["DEL", "{a}m"]);
        }
        set_entries_limit(&mut con, 128);
        let _: i64 = q(&mut con, &["HSET", "e", "f1", "1", "f2", "2", "f3", "3", "f4", "4", "f5", "5"]);
        assert_eq!(encoding(&mut con, "e"), "listpack");
    }

    fn every_hash_command_rejects_other_types(srv: &Server) {
        let mut con = srv.client();
        let _: () = q(&mut con, &["SET", "s", "v"]);
        for args in [
            &["HSET", "s", "a", "1"][..],
            &["HMSET", "s", "a", "1"],
            &["HSETNX", "s", "a", "1"],
            &["HGET", "s", "a"],
            &["HMGET", "s", "a"],
            &["HGETALL", "s"],
            &["HKEYS", "s"],
            &["HVALS", "s"],
            &["HLEN", "s"],
            &["HEXISTS", "s", "a"],
            &["HSTRLEN", "s", "a"],
            &["HDEL", "s", "a"],
            &["HINCRBY", "s", "a", "1"],
            &["HINCRBYFLOAT", "s", "a", "1"],
            &["HRANDFIELD", "s"],
            &["HRANDFIELD", "s", "2", "WITHVALUES"],
            &["HSCAN", "s", "0"],
        ] {
            assert_eq!(fails(&mut con, args), WRONGTYPE, "{args:?}");
        }
        assert_eq!(q::<String>(&mut con, &["GET", "s"]), "v");
        let _: i64 = q(&mut con, &["HSET", "h", "a", "1"]);
        assert_eq!(fails(&mut con, &["GET", "h"]), WRONGTYPE);
        assert_eq!(fails(&mut con, &["LPUSH", "h", "x"]), WRONGTYPE);
    }

    fn s10_hash_object_cache_with_expire_and_hincrby(srv: &Server) {
        let mut con = srv.client();
        assert!(getall(&mut con, "product:1").is_empty(), "a miss is an empty hash");
        for id in 1..=3 {
            let key = format!("product:{id}");
            let _: String = q(&mut con, &["HMSET", &key, "name", &format!("Widget {id}"), "price", "9.99", "stock", "100"]);
            assert_eq!(q::<i64>(&mut con, &["EXPIRE", &key, "7200"]), 1);
        }
        assert_eq!(q::<i64>(&mut con, &["HINCRBY", "product:1", "stock", "-3"]), 97);
        let ttl: i64 = q(&mut con, &["TTL", "product:1"]);
        assert!((7100..=7200).contains(&ttl), "HINCRBY keeps the TTL ({ttl})");
        assert_eq!(
            getall(&mut con, "product:1"),
            [("name".into(), "Widget 1".into()), ("price".into(), "9.99".into()), ("stock".into(), "97".into())]
        );
        let _: () = q(&mut con, &["SETEX", "products:list:1:20", "300", "[1,2,3]"]);
        assert_eq!(q::<String>(&mut con, &["GET", "products:list:1:20"]), "[1,2,3]");
        // Bulk invalidation across shards.
        let mut keys: Vec<String> = q(&mut con, &["KEYS", "product:*"]);
        keys.sort();
        assert_eq!(keys, ["product:1", "product:2", "product:3"]);
        let mut del = redis::cmd("DEL");
        del.arg(&keys);
        assert_eq!(del.query::<i64>(&mut con).unwrap(), 3);
        assert!(getall(&mut con, "product:2").is_empty());
    }

    fn s12_session_hash_with_sliding_expiry(srv: &Server) {
        let mut con = srv.client();
        let key = "session:3f2a9c1e-7b4d-4e8a-9f1c-2d5e6a7b8c9d";
        assert_eq!(
            q::<i64>(&mut con, &["HSET", key, "user_id", "1000", "created_at", "1700000000",
                "last_activity", "1700000000", "ip", "10.0.0.1", "user_agent", "Mozilla/5.0"]),
            5
        );
        assert_eq!(q::<i64>(&mut con, &["EXPIRE", key, "3600"]), 1);
        let session: HashMap<String, String> = q(&mut con, &["HGETALL", key]);
        assert_eq!(session.len(), 5);
        assert_eq!(session["user_id"], "1000");
        assert_eq!(q::<i64>(&mut con, &["EXPIRE", key, "3600"]), 1);
        assert_eq!(q::<i64>(&mut con, &["HSET", key, "last_activity", "1700000100"]), 0);
        assert_eq!(q::<i64>(&mut con, &["EXPIRE", key, "1800"]), 1);
        let ttl: i64 = q(&mut con, &["TTL", key]);
        assert!((1790..=1800).contains(&ttl));
        assert_eq!(q::<String>(&mut con, &["HGET", key, "last_activity"]), "1700000100");
        assert_eq!(q::<i64>(&mut con, &["PERSIST", key]), 1);
        assert_eq!(q::<i64>(&mut con, &["TTL", key]), -1);
        assert_eq!(q::<i64>(&mut con, &["DEL", key]), 1);
        assert_eq!(q::<i64>(&mut con, &["TTL", key]), -2);
        // A session that expires reads as empty.
        let _: i64 = q(&mut con, &["HSET", "session:short", "user_id", "7"]);
        assert_eq!(q::<i64>(&mut con, &["PEXPIRE", "session:short", "50"]), 1);
        let deadline = Instant::now() + Duration::from_secs(5);
        while q::<i64>(&mut con, &["PTTL", "session:short"]) != -2 {
            assert!(Instant::now() < deadline, "session never expired");
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(getall(&mut con, "session:short").is_empty());
        assert_eq!(q::<i64>(&mut con, &["HLEN", "session:short"]), 0);
    }

    fn s15_shopping_cart(srv: &Server) {
        let mut con = srv.client();
        let cart = "cart:1000";
        assert_eq!(q::<i64>(&mut con, &["HSET", cart, "item:1", r#"{"qty":1,"price":10.0}"#]), 1);
        assert_eq!(q::<i64>(&mut con, &["HSET", cart, "item:2", r#"{"qty":2,"price":2.5}"#]), 1);
        assert_eq!(q::<i64>(&mut con, &["EXPIRE", cart, "604800"]), 1);
        let item: String = q(&mut con, &["HGET", cart, "item:1"]);
        assert!(item.contains("\"qty\":1"));
        assert_eq!(q::<i64>(&mut con, &["HSET", cart, "item:1", r#"{"qty":3,"price":10.0}"#]), 0);
        assert_eq!(q::<i64>(&mut con, &["HSET", cart, "item:3", r#"{"qty":1,"price":1.0}"#]), 1);
        assert_eq!(q::<i64>(&mut con, &["HDEL", cart, "item:3"]), 1);
        let all = getall(&mut con, cart);
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].0, "item:1");
        assert!(all[0].1.contains("\"qty\":3"));
        assert!(q::<i64>(&mut con, &["TTL", cart]) > 604000);
        assert_eq!(q::<i64>(&mut con, &["DEL", cart]), 1);
        assert!(getall(&mut con, cart).is_empty());
        // Count variant.
        assert_eq!(
            q::<i64>(&mut con, &["HSET", "cart:session123", "product:1", "2", "product:5", "1", "product:12", "3"]),
            3
        );
        assert_eq!(q::<i64>(&mut con, &["HINCRBY", "cart:session123", "product:1", "1"]), 3);
        let counts: HashMap<String, i64> = q(&mut con, &["HGETALL", "cart:session123"]);
        assert_eq!(counts.values().sum::<i64>(), 7);
    }

    fn s22_profile_stats(srv: &Server) {
        let mut con = srv.client();
        let key = "user:1000:stats";
        assert_eq!(
            q::<i64>(&mut con, &["HSET", key, "posts", "0", "followers", "0", "following", "0", "likes_received", "0"]),
            4
        );
        assert_eq!(q::<i64>(&mut con, &["HINCRBY", key, "posts", "1"]), 1);
        assert_eq!(q::<i64>(&mut con, &["HINCRBY", key, "followers", "5"]), 5);
        assert_eq!(q::<i64>(&mut con, &["HINCRBY", key, "likes_received", "10"]), 10);
        assert_eq!(
            getall(&mut con, key),
            [
                ("posts".into(), "1".into()),
                ("followers".into(), "5".into()),
                ("following".into(), "0".into()),
                ("likes_received".into(), "10".into()),
            ]
        );
    }

    fn s62_hashes_as_objects(srv: &Server) {
        let mut con = srv.client();
        assert_eq!(q::<i64>(&mut con, &["HSET", "user:1", "name", "Alice Johnson"]), 1);
        assert_eq!(
            q::<String>(&mut con, &["HMSET", "user:1", "email", "alice@example.com", "age", "28", "city", "New York"]),
            "OK"
        );
        let flat: Vec<String> = q(&mut con, &["HGETALL", "user:1"]);
        assert_eq!(
            flat,
            ["name", "Alice Johnson", "email", "alice@example.com", "age", "28", "city", "New York"]
        );
        assert_eq!(
            q::<Vec<String>>(&mut con, &["HMGET", "user:1", "name", "email"]),
            ["Alice Johnson", "alice@example.com"]
        );
        assert_eq!(q::<i64>(&mut con, &["HDEL", "user:1", "city"]), 1);
        assert_eq!(q::<i64>(&mut con, &["HEXISTS", "user:1", "name"]), 1);
        assert_eq!(q::<i64>(&mut con, &["HLEN", "user:1"]), 3);
        assert_eq!(q::<Vec<String>>(&mut con, &["HKEYS", "user:1"]), ["name", "email", "age"]);
        assert_eq!(q::<Vec<String>>(&mut con, &["HVALS", "user:1"]), ["Alice Johnson", "alice@example.com", "28"]);
        assert_eq!(q::<i64>(&mut con, &["HSET", "product:1", "views", "100"]), 1);
        assert_eq!(q::<i64>(&mut con, &["HINCRBY", "product:1", "views", "1"]), 101);
        let _: i64 = q(&mut con, &["HSET", "product:456", "price", "199.99"]);
        assert_eq!(q::<String>(&mut con, &["HINCRBYFLOAT", "product:456", "price", "-50.00"]), "149.99");
        let _: i64 = q(&mut con, &["HSET", "user:1000", "email", "a@example.com", "email_verified", "1", "name", "A"]);
        assert_eq!(q::<i64>(&mut con, &["HSETNX", "user:1000", "created_at", "1700000000"]), 1);
        assert_eq!(q::<i64>(&mut con, &["HSETNX", "user:1000", "created_at", "1800000000"]), 0);
        let (cursor, items): (String, Vec<(String, String)>) =
            q(&mut con, &["HSCAN", "user:1000", "0", "MATCH", "email*", "COUNT", "10"]);
        assert_eq!(cursor, "0");
        assert_eq!(items, [("email".into(), "a@example.com".into()), ("email_verified".into(), "1".into())]);
    }
}
