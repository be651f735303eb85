//! Set commands through a real client, at 1 and 4 shards: every command and
//! option, RESP2/RESP3 reply shapes, intset → hashtable conversions, the
//! algebra and *STORE forms with keys on different shards, a concurrent
//! cross-shard SMOVE stress, the SSCAN guarantee while the set changes, and
//! the tagging, unique-visitor and social-graph patterns built from sets.

mod common;

use common::{fails, q};

use std::collections::HashSet;
use std::thread;

use redis::Connection;

fn members(con: &mut Connection, key: &str) -> HashSet<String> {
    q(con, &["SMEMBERS", key])
}

fn set_of(v: &[&str]) -> HashSet<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn encoding(con: &mut Connection, key: &str) -> String {
    q(con, &["OBJECT", "ENCODING", key])
}

/// Other cores pick a CONFIG SET up on their next cron tick: poll until a
/// five-integer set on each of four shards is a hashtable.
fn wait_for_intset_limit(con: &mut Connection) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    for key in ["{a}probe", "{b}probe", "{c}probe", "{d}probe"] {
        loop {
            q::<i64>(con, &["DEL", key]);
            q::<i64>(con, &["SADD", key, "1", "2", "3", "4", "5"]);
            if encoding(con, key) == "hashtable" {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "limit never applied on {key}"
            );
        }
        q::<i64>(con, &["DEL", key]);
    }
}

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

common::shard_tests! {
    fn sadd_srem_and_membership(srv: &Server) {
        let mut con = srv.client();
        assert_eq!(q::<i64>(&mut con, &["SADD", "s", "a", "b", "c", "a"]), 3);
        assert_eq!(q::<i64>(&mut con, &["SADD", "s", "c", "d"]), 1);
        assert_eq!(members(&mut con, "s"), set_of(&["a", "b", "c", "d"]));
        assert_eq!(q::<i64>(&mut con, &["SCARD", "s"]), 4);
        assert_eq!(q::<i64>(&mut con, &["SCARD", "missing"]), 0);
        assert_eq!(q::<i64>(&mut con, &["SISMEMBER", "s", "a"]), 1);
        assert_eq!(q::<i64>(&mut con, &["SISMEMBER", "s", "z"]), 0);
        assert_eq!(q::<i64>(&mut con, &["SISMEMBER", "missing", "z"]), 0);
        assert_eq!(q::<Vec<i64>>(&mut con, &["SMISMEMBER", "s", "a", "z", "d"]), [1, 0, 1]);
        assert_eq!(q::<Vec<i64>>(&mut con, &["SMISMEMBER", "missing", "a"]), [0]);
        assert_eq!(q::<i64>(&mut con, &["SREM", "s", "a", "z", "b"]), 2);
        assert_eq!(q::<i64>(&mut con, &["SREM", "missing", "a"]), 0);
        assert_eq!(q::<i64>(&mut con, &["SREM", "s", "c", "d"]), 2);
        assert_eq!(q::<i64>(&mut con, &["EXISTS", "s"]), 0);
        assert!(members(&mut con, "missing").is_empty());
        assert_eq!(q::<String>(&mut con, &["TYPE", "x"]), "none");
        q::<i64>(&mut con, &["SADD", "x", "1"]);
        assert_eq!(q::<String>(&mut con, &["TYPE", "x"]), "set");
        q::<()>(&mut con, &["SET", "str", "v"]);
        for cmd in [
            &["SADD", "str", "a"][..],
            &["SREM", "str", "a"],
            &["SMEMBERS", "str"],
            &["SISMEMBER", "str", "a"],
            &["SMISMEMBER", "str", "a"],
            &["SCARD", "str"],
            &["SPOP", "str"],
            &["SRANDMEMBER", "str"],
            &["SSCAN", "str", "0"],
        ] {
            assert_eq!(fails(&mut con, cmd), WRONGTYPE, "{cmd:?}");
        }
        assert_eq!(fails(&mut con, &["SADD", "s"]), "ERR wrong number of arguments for 'sadd' command");
        assert_eq!(fails(&mut con, &["SMISMEMBER", "s"]), "ERR wrong number of arguments for 'smismember' command");
    }

    fn spop_and_srandmember_counts(srv: &Server) {
        let mut con = srv.client();
        let all = set_of(&["a", "b", "c", "d", "e"]);
        q::<i64>(&mut con, &["SADD", "s", "a", "b", "c", "d", "e"]);
        let one: String = q(&mut con, &["SRANDMEMBER", "s"]);
        assert!(all.contains(&one));
        let three: Vec<String> = q(&mut con, &["SRANDMEMBER", "s", "3"]);
        assert_eq!(three.iter().collect::<HashSet<_>>().len(), 3);
        assert!(three.iter().all(|m| all.contains(m)));
        let whole: Vec<String> = q(&mut con, &["SRANDMEMBER", "s", "10"]);
        assert_eq!(whole.into_iter().collect::<HashSet<_>>(), all);
        let rep: Vec<String> = q(&mut con, &["SRANDMEMBER", "s", "-20"]);
        assert_eq!(rep.len(), 20);
        assert!(rep.iter().all(|m| all.contains(m)));
        assert!(q::<Vec<String>>(&mut con, &["SRANDMEMBER", "s", "0"]).is_empty());
        assert!(q::<Vec<String>>(&mut con, &["SRANDMEMBER", "missing", "3"]).is_empty());
        assert_eq!(q::<Option<String>>(&mut con, &["SRANDMEMBER", "missing"]), None);
        assert_eq!(q::<i64>(&mut con, &["SCARD", "s"]), 5);
        assert_eq!(fails(&mut con, &["SRANDMEMBER", "s", "x"]), "ERR value is not an integer or out of range");
        assert_eq!(
            fails(&mut con, &["SRANDMEMBER", "s", "-9223372036854775808"]),
            "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
        );
        assert_eq!(fails(&mut con, &["SRANDMEMBER", "s", "1", "2"]), "ERR syntax error");

        let popped: String = q(&mut con, &["SPOP", "s"]);
        assert!(all.contains(&popped));
        let two: Vec<String> = q(&mut con, &["SPOP", "s", "2"]);
        assert_eq!(two.iter().collect::<HashSet<_>>().len(), 2);
        assert_eq!(q::<i64>(&mut con, &["SCARD", "s"]), 2);
        assert!(q::<Vec<String>>(&mut con, &["SPOP", "s", "0"]).is_empty());
        let rest: Vec<String> = q(&mut con, &["SPOP", "s", "9"]);
        let mut seen: HashSet<String> = rest.into_iter().chain(two).collect();
        seen.insert(popped);
        assert_eq!(seen, all);
        assert_eq!(q::<i64>(&mut con, &["EXISTS", "s"]), 0);
        assert_eq!(q::<Option<String>>(&mut con, &["SPOP", "s"]), None);
        assert!(q::<Vec<String>>(&mut con, &["SPOP", "s", "3"]).is_empty());
        assert_eq!(fails(&mut con, &["SPOP", "s", "-1"]), "ERR value is out of range, must be positive");
        assert_eq!(fails(&mut con, &["SPOP", "s", "x"]), "ERR value is out of range, must be positive");
        assert_eq!(fails(&mut con, &["SPOP", "s", "1", "2"]), "ERR syntax error");
        q::<i64>(&mut con, &["SADD", "one", "x"]);
        assert_eq!(q::<String>(&mut con, &["SPOP", "one"]), "x");
        assert_eq!(q::<i64>(&mut con, &["EXISTS", "one"]), 0);
    }

    fn resp3_replies_are_sets_where_redis_sends_sets(srv: &Server) {
        let mut raw = srv.raw();
        raw.cmd(&[b"HELLO", b"3"]);
        raw.cmd(&[b"SADD", b"s", b"1", b"2"]);
        assert_eq!(raw.cmd(&[b"SMEMBERS", b"s"]), b"~2\r\n$1\r\n1\r\n$1\r\n2\r\n");
        assert_eq!(raw.cmd(&[b"SMEMBERS", b"missing"]), b"~0\r\n");
        assert_eq!(raw.cmd(&[b"SINTER", b"s", b"s"]), b"~2\r\n$1\r\n1\r\n$1\r\n2\r\n");
        assert_eq!(raw.cmd(&[b"SUNION", b"missing"]), b"~0\r\n");
        assert_eq!(raw.cmd(&[b"SRANDMEMBER", b"s", b"5"]), b"*2\r\n$1\r\n1\r\n$1\r\n2\r\n");
        assert_eq!(raw.cmd(&[b"SRANDMEMBER", b"missing", b"5"]), b"*0\r\n");
        assert_eq!(raw.cmd(&[b"SMISMEMBER", b"s", b"1", b"3"]), b"*2\r\n:1\r\n:0\r\n");
        assert_eq!(raw.cmd(&[b"SPOP", b"missing", b"2"]), b"~0\r\n");
        assert_eq!(raw.cmd(&[b"SPOP", b"missing"]), b"_\r\n");
        assert_eq!(raw.cmd(&[b"SPOP", b"s", b"5"]), b"~2\r\n$1\r\n1\r\n$1\r\n2\r\n");
        assert_eq!(raw.cmd(&[b"SSCAN", b"missing", b"0"]), b"*2\r\n$1\r\n0\r\n*0\r\n");
        raw.cmd(&[b"HELLO", b"2"]);
        raw.cmd(&[b"SADD", b"s", b"1"]);
        assert_eq!(raw.cmd(&[b"SMEMBERS", b"s"]), b"*1\r\n$1\r\n1\r\n");
        assert_eq!(raw.cmd(&[b"SPOP", b"s", b"1"]), b"*1\r\n$1\r\n1\r\n");
    }

    fn encodings_follow_redis_7_0(srv: &Server) {
        let mut con = srv.client();
        q::<i64>(&mut con, &["SADD", "i", "1", "-5", "9223372036854775807"]);
        assert_eq!(encoding(&mut con, "i"), "intset");
        // intset members come out sorted, as in Redis.
        assert_eq!(q::<Vec<String>>(&mut con, &["SMEMBERS", "i"]), ["-5", "1", "9223372036854775807"]);
        q::<i64>(&mut con, &["SADD", "i", "01"]);
        assert_eq!(encoding(&mut con, "i"), "hashtable");
        q::<i64>(&mut con, &["SREM", "i", "01"]);
        assert_eq!(encoding(&mut con, "i"), "hashtable", "never converts back");
        q::<i64>(&mut con, &["SADD", "w", "a"]);
        assert_eq!(encoding(&mut con, "w"), "hashtable");
        let many: Vec<String> = (0..512).map(|i| i.to_string()).collect();
        let mut cmd = redis::cmd("SADD");
        cmd.arg("big").arg(&many);
        cmd.query::<i64>(&mut con).unwrap();
        assert_eq!(encoding(&mut con, "big"), "intset");
        q::<i64>(&mut con, &["SADD", "big", "512"]);
        assert_eq!(encoding(&mut con, "big"), "hashtable");
        assert_eq!(q::<i64>(&mut con, &["SCARD", "big"]), 513);
        assert_eq!(q::<i64>(&mut con, &["SISMEMBER", "big", "511"]), 1);

        q::<()>(&mut con, &["CONFIG", "SET", "set-max-intset-entries", "4"]);
        wait_for_intset_limit(&mut con);
        q::<i64>(&mut con, &["SADD", "small", "1", "2", "3", "4"]);
        assert_eq!(encoding(&mut con, "small"), "intset");
        q::<i64>(&mut con, &["SADD", "small", "5"]);
        assert_eq!(encoding(&mut con, "small"), "hashtable");
        q::<i64>(&mut con, &["SADD", "five", "1", "2", "3", "4", "5"]);
        assert_eq!(encoding(&mut con, "five"), "hashtable");
        // *STORE results are built member by member, like SADD.
        q::<i64>(&mut con, &["SINTERSTORE", "dst", "small", "small"]);
        assert_eq!(encoding(&mut con, "dst"), "hashtable");
        q::<i64>(&mut con, &["SADD", "two", "1", "2"]);
        q::<i64>(&mut con, &["SINTERSTORE", "dst", "small", "two"]);
        assert_eq!(encoding(&mut con, "dst"), "intset");
        q::<i64>(&mut con, &["SMOVE", "small", "fresh", "5"]);
        assert_eq!(encoding(&mut con, "fresh"), "intset");
        assert_eq!(encoding(&mut con, "small"), "hashtable");
    }

    fn smove_same_and_different_shards(srv: &Server) {
        let mut con = srv.client();
        // a, b, c, d live on four different shards with 4 shards.
        q::<i64>(&mut con, &["SADD", "a", "x", "y"]);
        q::<i64>(&mut con, &["SADD", "{a}2", "z"]);
        for dst in ["b", "{a}2"] {
            assert_eq!(q::<i64>(&mut con, &["SMOVE", "a", dst, "x"]), 1);
            assert!(members(&mut con, dst).contains("x"));
            assert!(!members(&mut con, "a").contains("x"));
            assert_eq!(q::<i64>(&mut con, &["SMOVE", dst, "a", "x"]), 1);
        }
        assert_eq!(q::<i64>(&mut con, &["SMOVE", "a", "b", "nope"]), 0);
        assert_eq!(q::<i64>(&mut con, &["SMOVE", "missing", "b", "x"]), 0);
        assert_eq!(q::<i64>(&mut con, &["SMOVE", "a", "a", "x"]), 1);
        assert_eq!(q::<i64>(&mut con, &["SMOVE", "a", "a", "q"]), 0);
        q::<()>(&mut con, &["SET", "c", "str"]);
        assert_eq!(q::<i64>(&mut con, &["SMOVE", "missing", "c", "x"]), 0);
        assert_eq!(fails(&mut con, &["SMOVE", "a", "c", "x"]), WRONGTYPE);
        assert_eq!(fails(&mut con, &["SMOVE", "c", "a", "x"]), WRONGTYPE);
        // Moving an existing member still answers 1 and empties the source.
        q::<i64>(&mut con, &["SADD", "d", "y"]);
        q::<i64>(&mut con, &["SREM", "a", "x"]);
        q::<()>(&mut con, &["EXPIRE", "a", "100"]);
        assert_eq!(q::<i64>(&mut con, &["SMOVE", "a", "d", "y"]), 1);
        assert_eq!(q::<i64>(&mut con, &["EXISTS", "a"]), 0);
        assert_eq!(members(&mut con, "d"), set_of(&["y"]));
    }

    fn algebra_and_store_across_shards(srv: &Server) {
        let mut con = srv.client();
        let n = 12;
        let mut model: Vec<HashSet<String>> = Vec::new();
        for i in 0..n {
            let key = format!("k{i}");
            let m: HashSet<String> = (0..30)
                .filter(|x| x % (i + 2) == 0 || x % 7 == i % 7)
                .map(|x| if x % 3 == 0 { x.to_string() } else { format!("m{x}") })
                .collect();
            let mut cmd = redis::cmd("SADD");
            cmd.arg(&key).arg(m.iter().collect::<Vec<_>>());
            cmd.query::<i64>(&mut con).unwrap();
            model.push(m);
        }
        let key = |i: usize| format!("k{i}");
        for i in 0..n {
            for j in [(i + 1) % n, (i + 5) % n] {
                let (x, y) = (&model[i], &model[j]);
                let inter: HashSet<String> = x.intersection(y).cloned().collect();
                let union: HashSet<String> = x.union(y).cloned().collect();
                let diff: HashSet<String> = x.difference(y).cloned().collect();
                let (ki, kj) = (key(i), key(j));
                assert_eq!(q::<HashSet<String>>(&mut con, &["SINTER", &ki, &kj]), inter);
                assert_eq!(q::<HashSet<String>>(&mut con, &["SUNION", &ki, &kj]), union);
                assert_eq!(q::<HashSet<String>>(&mut con, &["SDIFF", &ki, &kj]), diff);
                assert_eq!(q::<i64>(&mut con, &["SINTERCARD", "2", &ki, &kj]), inter.len() as i64);
                assert_eq!(
                    q::<i64>(&mut con, &["SINTERCARD", "2", &ki, &kj, "LIMIT", "1"]),
                    inter.len().min(1) as i64
                );
                for (cmd, want) in [("SINTERSTORE", &inter), ("SUNIONSTORE", &union), ("SDIFFSTORE", &diff)] {
                    let dst = format!("dst{}", (i * 3 + j) % 7);
                    q::<()>(&mut con, &["SET", &dst, "old", "EX", "100"]);
                    assert_eq!(q::<i64>(&mut con, &[cmd, &dst, &ki, &kj]), want.len() as i64);
                    if want.is_empty() {
                        assert_eq!(q::<i64>(&mut con, &["EXISTS", &dst]), 0);
                    } else {
                        assert_eq!(&members(&mut con, &dst), want);
                        assert_eq!(q::<i64>(&mut con, &["TTL", &dst]), -1);
                    }
                }
            }
        }
        let three: HashSet<String> = model[0].intersection(&model[1]).filter(|m| model[2].contains(*m)).cloned().collect();
        assert_eq!(q::<HashSet<String>>(&mut con, &["SINTER", "k0", "k1", "k2"]), three);
        assert_eq!(q::<i64>(&mut con, &["SINTERCARD", "3", "k0", "k1", "k2", "LIMIT", "0"]), three.len() as i64);
        // Destination among the sources.
        let u: HashSet<String> = model[3].union(&model[4]).cloned().collect();
        assert_eq!(q::<i64>(&mut con, &["SUNIONSTORE", "k3", "k3", "k4"]), u.len() as i64);
        assert_eq!(members(&mut con, "k3"), u);
        // Missing keys are empty sets; a wrong type anywhere is an error.
        assert!(q::<HashSet<String>>(&mut con, &["SINTER", "k0", "missing"]).is_empty());
        assert_eq!(q::<HashSet<String>>(&mut con, &["SUNION", "missing", "k1"]), model[1]);
        assert_eq!(q::<HashSet<String>>(&mut con, &["SDIFF", "k1", "missing"]), model[1]);
        assert!(q::<HashSet<String>>(&mut con, &["SDIFF", "missing", "k1"]).is_empty());
        assert_eq!(q::<i64>(&mut con, &["SINTERSTORE", "k5", "k0", "missing"]), 0);
        assert_eq!(q::<i64>(&mut con, &["EXISTS", "k5"]), 0);
        q::<()>(&mut con, &["SET", "str", "v"]);
        for cmd in [
            &["SINTER", "missing", "str"][..],
            &["SUNION", "k0", "str"],
            &["SDIFF", "missing", "k1", "str"],
            &["SINTERSTORE", "d", "missing", "str"],
            &["SUNIONSTORE", "d", "k0", "str"],
            &["SDIFFSTORE", "d", "k1", "str"],
            &["SINTERCARD", "2", "missing", "str"],
        ] {
            assert_eq!(fails(&mut con, cmd), WRONGTYPE, "{cmd:?}");
        }
        assert_eq!(q::<String>(&mut con, &["GET", "str"]), "v");
        assert_eq!(q::<i64>(&mut con, &["SUNIONSTORE", "str", "k0"]), model[0].len() as i64);
        assert_eq!(q::<String>(&mut con, &["TYPE", "str"]), "set");
        assert_eq!(fails(&mut con, &["SINTERCARD", "0", "k0"]), "ERR numkeys should be greater than 0");
        assert_eq!(fails(&mut con, &["SINTERCARD", "x", "k0"]), "ERR numkeys should be greater than 0");
        assert_eq!(fails(&mut con, &["SINTERCARD", "3", "k0", "k1"]), "ERR Number of keys can't be greater than number of args");
        assert_eq!(fails(&mut con, &["SINTERCARD", "1", "k0", "LIMIT", "-1"]), "ERR LIMIT can't be negative");
        assert_eq!(fails(&mut con, &["SINTERCARD", "1", "k0", "FOO"]), "ERR syntax error");
        assert_eq!(fails(&mut con, &["SINTERSTORE", "d"]), "ERR wrong number of arguments for 'sinterstore' command");
    }

    fn concurrent_smove_never_loses_or_duplicates(srv: &Server) {
        let mut con = srv.client();
        let keys = ["a", "b", "c", "d"];
        let total = 200;
        for i in 0..total {
            q::<i64>(&mut con, &["SADD", keys[i % 4], &format!("m{i}")]);
        }
        let workers: Vec<_> = (0..4)
            .map(|w| {
                let mut con = srv.client();
                thread::spawn(move || {
                    let mut moved = 0;
                    for i in 0..400usize {
                        let m = format!("m{}", (i * 7 + w * 13) % total);
                        let (src, dst) = (keys[(i + w) % 4], keys[(i + w + 1 + i % 3) % 4]);
                        moved += q::<i64>(&mut con, &["SMOVE", src, dst, &m]);
                    }
                    moved
                })
            })
            .collect();
        let moved: i64 = workers.into_iter().map(|w| w.join().unwrap()).sum();
        assert!(moved > 0);
        let mut seen = HashSet::new();
        let mut count = 0;
        for k in keys {
            for m in members(&mut con, k) {
                count += 1;
                assert!(seen.insert(m.clone()), "{m} duplicated");
            }
        }
        assert_eq!(count, total);
        assert_eq!(q::<i64>(&mut con, &["SUNIONSTORE", "all", "a", "b", "c", "d"]), total as i64);
    }

    fn sscan_options_and_small_sets(srv: &Server) {
        let mut con = srv.client();
        q::<i64>(&mut con, &["SADD", "i", "3", "1", "2", "10"]);
        let (cursor, found): (String, Vec<String>) = q(&mut con, &["SSCAN", "i", "0", "COUNT", "1"]);
        assert_eq!((cursor.as_str(), found), ("0", vec!["1".into(), "2".into(), "3".into(), "10".into()]));
        let (_, found): (String, Vec<String>) = q(&mut con, &["SSCAN", "i", "0", "MATCH", "1*"]);
        assert_eq!(found, ["1", "10"]);
        let (cursor, found): (String, Vec<String>) = q(&mut con, &["SSCAN", "missing", "0", "BOGUS"]);
        assert_eq!((cursor.as_str(), found.len()), ("0", 0));
        assert_eq!(fails(&mut con, &["SSCAN", "i", "x"]), "ERR invalid cursor");
        assert_eq!(fails(&mut con, &["SSCAN", "i", "0", "COUNT", "0"]), "ERR syntax error");
        assert_eq!(fails(&mut con, &["SSCAN", "i", "0", "COUNT", "x"]), "ERR value is not an integer or out of range");
        assert_eq!(fails(&mut con, &["SSCAN", "i", "0", "TYPE", "set"]), "ERR syntax error");
        assert_eq!(fails(&mut con, &["SSCAN", "i", "0", "MATCH"]), "ERR syntax error");
        let m: Vec<String> = (0..100).map(|i| format!("member{i}")).collect();
        let mut cmd = redis::cmd("SADD");
        cmd.arg("h").arg(&m).arg("other");
        cmd.query::<i64>(&mut con).unwrap();
        let mut cursor = "0".to_string();
        let mut seen = HashSet::new();
        let mut calls = 0;
        loop {
            let (next, found): (String, Vec<String>) =
                q(&mut con, &["SSCAN", "h", &cursor, "MATCH", "member*", "COUNT", "10"]);
            calls += 1;
            seen.extend(found);
            cursor = next;
            if cursor == "0" {
                break;
            }
        }
        assert!(calls > 1, "a hashtable is walked in steps");
        assert_eq!(seen, m.into_iter().collect::<HashSet<_>>());
    }

    fn sscan_returns_every_stable_member_while_the_set_changes(srv: &Server) {
        let mut con = srv.client();
        let mut other = srv.client();
        let stable: Vec<String> = (0..500).map(|i| format!("s{i}")).collect();
        let temp: Vec<String> = (0..500).map(|i| format!("t{i}")).collect();
        let mut cmd = redis::cmd("SADD");
        cmd.arg("h").arg(&stable).arg(&temp);
        cmd.query::<i64>(&mut con).unwrap();
        let mut cursor = "0".to_string();
        let mut seen = HashSet::new();
        let mut step = 0;
        loop {
            let (next, found): (String, Vec<String>) = q(&mut con, &["SSCAN", "h", &cursor, "COUNT", "15"]);
            seen.extend(found);
            q::<i64>(&mut other, &["SREM", "h", &format!("t{step}"), &format!("t{}", 499 - step)]);
            q::<i64>(&mut other, &["SADD", "h", &format!("n{step}")]);
            step += 1;
            cursor = next;
            if cursor == "0" {
                break;
            }
        }
        for s in &stable {
            assert!(seen.contains(s), "{s} never returned");
        }
    }

    fn s06_tag_invalidation(srv: &Server) {
        let mut con = srv.client();
        for p in 1..=3 {
            let key = format!("cache:product:{p}");
            q::<()>(&mut con, &["SETEX", &key, "3600", &format!("{{\"id\":{p}}}")]);
            let tag = if p == 3 { "cache:tag:books" } else { "cache:tag:electronics" };
            q::<i64>(&mut con, &["SADD", tag, &key]);
        }
        q::<i64>(&mut con, &["SADD", "cache:deps:cache:product:1", "cache:category:1"]);
        let tagged = members(&mut con, "cache:tag:electronics");
        assert_eq!(tagged, set_of(&["cache:product:1", "cache:product:2"]));
        for k in &tagged {
            assert_eq!(q::<i64>(&mut con, &["DEL", k]), 1);
        }
        assert_eq!(q::<i64>(&mut con, &["DEL", "cache:tag:electronics"]), 1);
        assert_eq!(q::<i64>(&mut con, &["EXISTS", "cache:product:1", "cache:product:2"]), 0);
        assert_eq!(q::<i64>(&mut con, &["EXISTS", "cache:product:3"]), 1);
        assert_eq!(members(&mut con, "cache:deps:cache:product:1"), set_of(&["cache:category:1"]));
    }

    fn s21_unique_visitors(srv: &Server) {
        let mut con = srv.client();
        q::<i64>(&mut con, &["SADD", "visitors:2024-01-15", "user:1", "user:2", "user:3"]);
        q::<i64>(&mut con, &["SADD", "visitors:2024-01-16", "user:2", "user:3", "user:4"]);
        assert_eq!(q::<i64>(&mut con, &["SADD", "visitors:2024-01-15", "user:1"]), 0);
        assert_eq!(q::<i64>(&mut con, &["SCARD", "visitors:2024-01-15"]), 3);
        assert_eq!(
            q::<HashSet<String>>(&mut con, &["SINTER", "visitors:2024-01-15", "visitors:2024-01-16"]),
            set_of(&["user:2", "user:3"])
        );
        assert_eq!(
            q::<HashSet<String>>(&mut con, &["SUNION", "visitors:2024-01-15", "visitors:2024-01-16"]).len(),
            4
        );
    }

    fn s60_tagging_and_social_graph(srv: &Server) {
        let mut con = srv.client();
        assert_eq!(q::<i64>(&mut con, &["SADD", "tags:post:1", "mongodb", "nosql", "database"]), 3);
        assert_eq!(q::<i64>(&mut con, &["SADD", "tags:post:1", "nosql"]), 0);
        assert_eq!(q::<i64>(&mut con, &["SISMEMBER", "tags:post:1", "nosql"]), 1);
        assert_eq!(q::<i64>(&mut con, &["SREM", "tags:post:1", "database"]), 1);
        assert_eq!(q::<i64>(&mut con, &["SCARD", "tags:post:1"]), 2);
        q::<i64>(&mut con, &["SADD", "set1", "a", "b", "c"]);
        q::<i64>(&mut con, &["SADD", "set2", "b", "c", "d"]);
        assert_eq!(q::<HashSet<String>>(&mut con, &["SINTER", "set1", "set2"]), set_of(&["b", "c"]));
        assert_eq!(q::<HashSet<String>>(&mut con, &["SUNION", "set1", "set2"]), set_of(&["a", "b", "c", "d"]));
        assert_eq!(q::<HashSet<String>>(&mut con, &["SDIFF", "set1", "set2"]), set_of(&["a"]));
        assert_eq!(q::<i64>(&mut con, &["SINTERSTORE", "common", "set1", "set2"]), 2);
        assert_eq!(q::<i64>(&mut con, &["SUNIONSTORE", "all", "set1", "set2"]), 4);
        assert_eq!(q::<i64>(&mut con, &["SDIFFSTORE", "only1", "set1", "set2"]), 1);
        assert_eq!(q::<i64>(&mut con, &["SMOVE", "set1", "set2", "a"]), 1);
        assert_eq!(members(&mut con, "set2"), set_of(&["a", "b", "c", "d"]));
        let my: Vec<String> = (1..=20).map(|i| format!("member{i}")).collect();
        let mut cmd = redis::cmd("SADD");
        cmd.arg("myset").arg(&my);
        cmd.query::<i64>(&mut con).unwrap();
        assert!(my.contains(&q::<String>(&mut con, &["SPOP", "myset"])));
        assert_eq!(q::<Vec<String>>(&mut con, &["SRANDMEMBER", "myset", "3"]).len(), 3);
        let (_, found): (String, Vec<String>) = q(&mut con, &["SSCAN", "myset", "0", "MATCH", "member*", "COUNT", "10"]);
        assert!(!found.is_empty() && found.iter().all(|m| m.starts_with("member")));
        // Reverse index with integer members: AND / OR / NOT.
        q::<i64>(&mut con, &["SADD", "tag:electronics", "1234", "5678", "9012"]);
        q::<i64>(&mut con, &["SADD", "tag:sale", "5678", "3456"]);
        assert_eq!(encoding(&mut con, "tag:electronics"), "intset");
        assert_eq!(q::<HashSet<String>>(&mut con, &["SINTER", "tag:electronics", "tag:sale"]), set_of(&["5678"]));
        assert_eq!(q::<i64>(&mut con, &["SCARD", "tag:electronics"]), 3);
        assert_eq!(q::<HashSet<String>>(&mut con, &["SUNION", "tag:electronics", "tag:sale"]).len(), 4);
        assert_eq!(q::<HashSet<String>>(&mut con, &["SDIFF", "tag:electronics", "tag:sale"]), set_of(&["1234", "9012"]));
        // Permissions and online users.
        q::<i64>(&mut con, &["SADD", "role:admin:perms", "read", "write", "delete"]);
        assert_eq!(q::<i64>(&mut con, &["SISMEMBER", "role:admin:perms", "delete"]), 1);
        q::<i64>(&mut con, &["SADD", "online", "alice", "bob"]);
        q::<i64>(&mut con, &["SREM", "online", "bob"]);
        assert_eq!(members(&mut con, "online"), set_of(&["alice"]));
        // Follows: mutual follows via SINTER of following and followers.
        for (who, whom) in [("alice", "bob"), ("bob", "alice"), ("alice", "carol"), ("dave", "alice"), ("alice", "dave")] {
            q::<i64>(&mut con, &["SADD", &format!("following:{who}"), whom]);
            q::<i64>(&mut con, &["SADD", &format!("followers:{whom}"), who]);
        }
        assert_eq!(
            q::<HashSet<String>>(&mut con, &["SINTER", "following:alice", "followers:alice"]),
            set_of(&["bob", "dave"])
        );
        assert_eq!(q::<i64>(&mut con, &["SINTERCARD", "2", "following:alice", "followers:alice"]), 2);
        assert_eq!(q::<i64>(&mut con, &["SCARD", "followers:alice"]), 2);
        assert_eq!(
            q::<HashSet<String>>(&mut con, &["SDIFF", "following:alice", "followers:alice"]),
            set_of(&["carol"])
        );
    }
}
