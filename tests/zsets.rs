//! Sorted-set commands through a real client, at 1 and 4 shards: every
//! command and option, scores with infinities and exclusive bounds, lex
//! ranges, the RESP2/RESP3 reply shapes, the listpack → skiplist conversion
//! at both thresholds, and the leaderboard, trending, time-index, priority
//! queue, lex-range and sliding-window patterns applications build.

mod common;

use common::{fails, q};

use std::collections::{HashMap, HashSet};

use redis::{Connection, Value};

fn strs(con: &mut Connection, args: &[&str]) -> Vec<String> {
    q(con, args)
}

fn members(con: &mut Connection, key: &str) -> Vec<String> {
    strs(con, &["ZRANGE", key, "0", "-1"])
}

fn encoding(con: &mut Connection, key: &str) -> String {
    q(con, &["OBJECT", "ENCODING", key])
}

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
const NOT_FLOAT: &str = "ERR value is not a valid float";
const MINMAX: &str = "ERR min or max is not a float";
const LEX: &str = "ERR min or max not valid string range item";

common::shard_tests! {
    fn zadd_flags_follow_redis(srv: &Server) {
        let mut con = srv.client();
        assert_eq!(q::<i64>(&mut con, &["ZADD", "z", "1", "a", "2", "b", "3", "c"]), 3);
        assert_eq!(q::<i64>(&mut con, &["ZADD", "z", "10", "a", "4", "d"]), 1, "updates are not counted");
        assert_eq!(q::<i64>(&mut con, &["ZADD", "z", "CH", "11", "a", "2", "b", "5", "e"]), 2);
        assert_eq!(q::<i64>(&mut con, &["ZADD", "z", "NX", "100", "a", "6", "f"]), 1);
        assert_eq!(q::<String>(&mut con, &["ZSCORE", "z", "a"]), "11");
        assert_eq!(q::<i64>(&mut con, &["ZADD", "z", "XX", "CH", "12", "a", "7", "g"]), 1);
        assert_eq!(q::<Value>(&mut con, &["ZSCORE", "z", "g"]), Value::Nil);
        assert_eq!(q::<i64>(&mut con, &["ZADD", "z", "GT", "CH", "5", "a"]), 0);
        assert_eq!(q::<i64>(&mut con, &["ZADD", "z", "GT", "CH", "20", "a"]), 1);
        assert_eq!(q::<i64>(&mut con, &["ZADD", "z", "LT", "CH", "30", "a"]), 0);
        assert_eq!(q::<i64>(&mut con, &["ZADD", "z", "LT", "CH", "0", "a"]), 1);
        assert_eq!(q::<i64>(&mut con, &["ZADD", "z", "GT", "9", "new"]), 1, "GT still adds new members");
        assert_eq!(q::<String>(&mut con, &["ZADD", "z", "INCR", "2.5", "a"]), "2.5");
        assert_eq!(q::<Value>(&mut con, &["ZADD", "z", "NX", "INCR", "1", "a"]), Value::Nil);
        assert_eq!(q::<Value>(&mut con, &["ZADD", "z", "XX", "INCR", "1", "zz"]), Value::Nil);
        assert_eq!(q::<Value>(&mut con, &["ZADD", "z", "GT", "INCR", "-1", "a"]), Value::Nil);
        assert_eq!(q::<String>(&mut con, &["ZADD", "z", "LT", "INCR", "-1", "a"]), "1.5");
        assert_eq!(q::<i64>(&mut con, &["ZADD", "missing", "XX", "1", "a"]), 0);
        assert_eq!(q::<i64>(&mut con, &["EXISTS", "missing"]), 0);
        assert_eq!(fails(&mut con, &["ZADD", "z", "XX", "NX", "1", "a"]), "ERR XX and NX options at the same time are not compatible");
        for flags in [["NX", "GT"], ["NX", "LT"], ["GT", "LT"]] {
            assert_eq!(
                fails(&mut con, &["ZADD", "z", flags[0], flags[1], "1", "a"]),
                "ERR GT, LT, and/or NX options at the same time are not compatible"
            );
        }
        assert_eq!(fails(&mut con, &["ZADD", "z", "INCR", "1", "a", "2", "b"]), "ERR INCR option supports a single increment-element pair");
        assert_eq!(fails(&mut con, &["ZADD", "z", "1", "a", "2"]), "ERR syntax error");
        assert_eq!(fails(&mut con, &["ZADD", "z", "NX", "CH"]), "ERR syntax error");
        for bad in ["x", "nan", " 1", "1 ", ""] {
            assert_eq!(fails(&mut con, &["ZADD", "z", bad, "a"]), NOT_FLOAT, "{bad:?}");
        }
        assert_eq!(fails(&mut con, &["ZADD", "z", "1", "ok", "nan", "b"]), NOT_FLOAT);
        assert_eq!(q::<Value>(&mut con, &["ZSCORE", "z", "ok"]), Value::Nil, "a bad score adds nothing");
        q::<String>(&mut con, &["SET", "s", "x"]);
        assert_eq!(fails(&mut con, &["ZADD", "s", "1", "a"]), WRONGTYPE);
        assert_eq!(fails(&mut con, &["ZADD", "s", "x", "a"]), NOT_FLOAT, "scores are parsed before the type check");
        assert_eq!(fails(&mut con, &["ZADD", "z"]), "ERR wrong number of arguments for 'zadd' command");
    }

    fn infinite_scores_and_nan_results(srv: &Server) {
        let mut con = srv.client();
        assert_eq!(q::<i64>(&mut con, &["ZADD", "z", "inf", "top", "-inf", "bottom", "+inf", "top2", "0", "zero"]), 4);
        assert_eq!(
            strs(&mut con, &["ZRANGE", "z", "0", "-1", "WITHSCORES"]),
            ["bottom", "-inf", "zero", "0", "top", "inf", "top2", "inf"]
        );
        assert_eq!(fails(&mut con, &["ZADD", "z", "INCR", "-inf", "top"]), "ERR resulting score is not a number (NaN)");
        assert_eq!(fails(&mut con, &["ZINCRBY", "z", "-inf", "top"]), "ERR resulting score is not a number (NaN)");
        assert_eq!(q::<String>(&mut con, &["ZSCORE", "z", "top"]), "inf");
        assert_eq!(q::<String>(&mut con, &["ZINCRBY", "z", "+inf", "zero"]), "inf");
        assert_eq!(q::<i64>(&mut con, &["ZCOUNT", "z", "(-inf", "(+inf"]), 0);
        assert_eq!(q::<i64>(&mut con, &["ZCOUNT", "z", "-inf", "+inf"]), 4);
        assert_eq!(q::<i64>(&mut con, &["ZCOUNT", "z", "inf", "inf"]), 3);
    }

    fn zincrby_zrem_zcard_zscore_zmscore(srv: &Server) {
        let mut con = srv.client();
        assert_eq!(q::<String>(&mut con, &["ZINCRBY", "z", "1.5", "m"]), "1.5");
        assert_eq!(q::<String>(&mut con, &["ZINCRBY", "z", "0.1", "m"]), "1.6000000000000001");
        assert_eq!(fails(&mut con, &["ZINCRBY", "z", "x", "m"]), NOT_FLOAT);
        q::<i64>(&mut con, &["ZADD", "z", "1", "a", "2", "b"]);
        assert_eq!(q::<i64>(&mut con, &["ZCARD", "z"]), 3);
        assert_eq!(q::<i64>(&mut con, &["ZCARD", "missing"]), 0);
        assert_eq!(
            q::<Vec<Option<String>>>(&mut con, &["ZMSCORE", "z", "a", "x", "b"]),
            [Some("1".to_string()), None, Some("2".to_string())]
        );
        assert_eq!(q::<Vec<Option<String>>>(&mut con, &["ZMSCORE", "missing", "a"]), [None]);
        assert_eq!(q::<i64>(&mut con, &["ZREM", "z", "a", "x", "a"]), 1);
        assert_eq!(q::<i64>(&mut con, &["ZREM", "z", "b", "m"]), 2);
        assert_eq!(q::<i64>(&mut con, &["EXISTS", "z"]), 0, "an emptied sorted set is deleted");
        q::<String>(&mut con, &["SET", "s", "x"]);
        for cmd in [&["ZCARD", "s"][..], &["ZSCORE", "s", "a"], &["ZMSCORE", "s", "a"], &["ZREM", "s", "a"], &["ZINCRBY", "s", "1", "a"]] {
            assert_eq!(fails(&mut con, cmd), WRONGTYPE, "{cmd:?}");
        }
    }

    fn zcount_and_score_ranges_with_exclusive_bounds(srv: &Server) {
        let mut con = srv.client();
        q::<i64>(&mut con, &["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"]);
        for (min, max, n) in [("2", "4", 3), ("(2", "4", 2), ("2", "(4", 2), ("(2", "(4", 1), ("(2", "(2", 0), ("4", "2", 0), ("-inf", "+inf", 5), ("", "2", 2), (" 3", "3", 1)] {
            assert_eq!(q::<i64>(&mut con, &["ZCOUNT", "z", min, max]), n, "[{min} {max}]");
        }
        for (min, max) in [("a", "1"), ("1", "b"), ("nan", "1"), ("1", "2 ")] {
            assert_eq!(fails(&mut con, &["ZCOUNT", "z", min, max]), MINMAX);
            assert_eq!(fails(&mut con, &["ZRANGEBYSCORE", "z", min, max]), MINMAX);
            assert_eq!(fails(&mut con, &["ZREMRANGEBYSCORE", "z", min, max]), MINMAX);
        }
        assert_eq!(fails(&mut con, &["ZCOUNT", "missing", "x", "1"]), MINMAX, "the range is parsed before the key is read");
        assert_eq!(strs(&mut con, &["ZRANGEBYSCORE", "z", "(1", "3"]), ["b", "c"]);
        assert_eq!(strs(&mut con, &["ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "1", "2"]), ["b", "c"]);
        assert_eq!(strs(&mut con, &["ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "3", "-1"]), ["d", "e"]);
        assert_eq!(strs(&mut con, &["ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "-1", "2"]), Vec::<String>::new());
        assert_eq!(strs(&mut con, &["ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "5", "2"]), Vec::<String>::new());
        assert_eq!(strs(&mut con, &["ZRANGEBYSCORE", "z", "2", "3", "WITHSCORES"]), ["b", "2", "c", "3"]);
        assert_eq!(strs(&mut con, &["ZREVRANGEBYSCORE", "z", "(4", "2"]), ["c", "b"]);
        assert_eq!(strs(&mut con, &["ZREVRANGEBYSCORE", "z", "+inf", "-inf", "WITHSCORES", "LIMIT", "1", "1"]), ["d", "4"]);
        assert_eq!(strs(&mut con, &["ZREVRANGEBYSCORE", "z", "2", "4"]), Vec::<String>::new());
        assert_eq!(fails(&mut con, &["ZRANGEBYSCORE", "z", "1", "2", "REV"]), "ERR syntax error");
        assert_eq!(fails(&mut con, &["ZRANGEBYSCORE", "z", "1", "2", "LIMIT", "0"]), "ERR syntax error");
    }

    fn zrange_every_option(srv: &Server) {
        let mut con = srv.client();
        q::<i64>(&mut con, &["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"]);
        assert_eq!(strs(&mut con, &["ZRANGE", "z", "1", "2", "WITHSCORES"]), ["b", "2", "c", "3"]);
        assert_eq!(strs(&mut con, &["ZRANGE", "z", "-2", "-1"]), ["d", "e"]);
        assert_eq!(strs(&mut con, &["ZRANGE", "z", "-100", "1"]), ["a", "b"]);
        assert_eq!(strs(&mut con, &["ZRANGE", "z", "3", "1"]), Vec::<String>::new());
        assert_eq!(strs(&mut con, &["ZRANGE", "z", "0", "1", "REV"]), ["e", "d"]);
        assert_eq!(strs(&mut con, &["ZREVRANGE", "z", "0", "1", "WITHSCORES"]), ["e", "5", "d", "4"]);
        assert_eq!(strs(&mut con, &["ZRANGE", "z", "(1", "3", "BYSCORE"]), ["b", "c"]);
        assert_eq!(strs(&mut con, &["ZRANGE", "z", "4", "2", "BYSCORE", "REV", "LIMIT", "1", "5"]), ["c", "b"]);
        assert_eq!(strs(&mut con, &["ZRANGE", "z", "[b", "(d", "BYLEX"]), ["b", "c"]);
        assert_eq!(strs(&mut con, &["ZRANGE", "z", "+", "-", "BYLEX", "REV", "LIMIT", "0", "2"]), ["e", "d"]);
        assert_eq!(strs(&mut con, &["ZRANGE", "missing", "0", "-1"]), Vec::<String>::new());
        assert_eq!(
            fails(&mut con, &["ZRANGE", "z", "0", "1", "LIMIT", "0", "1"]),
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
        );
        assert_eq!(
            fails(&mut con, &["ZRANGE", "z", "-", "+", "BYLEX", "WITHSCORES"]),
            "ERR syntax error, WITHSCORES not supported in combination with BYLEX"
        );
        assert_eq!(fails(&mut con, &["ZRANGE", "z", "0", "1", "REV", "REV"]), "ERR syntax error");
        assert_eq!(fails(&mut con, &["ZRANGE", "z", "0", "1", "BYSCORE", "BYLEX"]), "ERR syntax error");
        assert_eq!(fails(&mut con, &["ZRANGE", "z", "a", "1"]), "ERR value is not an integer or out of range");
        assert_eq!(fails(&mut con, &["ZRANGE", "z", "a", "1", "BYLEX"]), LEX);
        assert_eq!(fails(&mut con, &["ZREVRANGE", "z", "0", "1", "REV"]), "ERR syntax error");
        q::<String>(&mut con, &["SET", "s", "x"]);
        assert_eq!(fails(&mut con, &["ZRANGE", "s", "0", "1"]), WRONGTYPE);
        assert_eq!(fails(&mut con, &["ZREVRANGEBYSCORE", "s", "1", "0"]), WRONGTYPE);
    }

    fn ranks_and_pops(srv: &Server) {
        let mut con = srv.client();
        q::<i64>(&mut con, &["ZADD", "z", "1", "a", "2", "b", "3", "c", "3", "bb"]);
        assert_eq!(q::<i64>(&mut con, &["ZRANK", "z", "a"]), 0);
        assert_eq!(q::<i64>(&mut con, &["ZRANK", "z", "bb"]), 2, "equal scores order by member");
        assert_eq!(q::<i64>(&mut con, &["ZREVRANK", "z", "bb"]), 1);
        assert_eq!(q::<Value>(&mut con, &["ZRANK", "z", "x"]), Value::Nil);
        assert_eq!(q::<Value>(&mut con, &["ZREVRANK", "missing", "x"]), Value::Nil);
        assert_eq!(strs(&mut con, &["ZPOPMIN", "z"]), ["a", "1"]);
        assert_eq!(strs(&mut con, &["ZPOPMAX", "z", "2"]), ["c", "3", "bb", "3"]);
        assert_eq!(q::<Value>(&mut con, &["ZPOPMAX", "z", "0"]), Value::Array(vec![]));
        assert_eq!(strs(&mut con, &["ZPOPMIN", "z", "10"]), ["b", "2"]);
        assert_eq!(q::<i64>(&mut con, &["EXISTS", "z"]), 0);
        assert_eq!(q::<Value>(&mut con, &["ZPOPMIN", "z"]), Value::Array(vec![]));
        for bad in ["-1", "x"] {
            assert_eq!(fails(&mut con, &["ZPOPMIN", "z", bad]), "ERR value is out of range, must be positive");
        }
        assert_eq!(fails(&mut con, &["ZPOPMIN", "z", "1", "2"]), "ERR syntax error");
        q::<String>(&mut con, &["SET", "s", "x"]);
        assert_eq!(fails(&mut con, &["ZPOPMIN", "s", "0"]), WRONGTYPE);
        assert_eq!(fails(&mut con, &["ZRANK", "s", "a"]), WRONGTYPE);
    }

    fn lex_ranges_counts_and_removals(srv: &Server) {
        let mut con = srv.client();
        q::<i64>(&mut con, &["ZADD", "w", "0", "apple", "0", "banana", "0", "cherry", "0", "date"]);
        assert_eq!(strs(&mut con, &["ZRANGEBYLEX", "w", "(banana", "+"]), ["cherry", "date"]);
        assert_eq!(strs(&mut con, &["ZRANGEBYLEX", "w", "-", "+", "LIMIT", "1", "2"]), ["banana", "cherry"]);
        assert_eq!(strs(&mut con, &["ZREVRANGEBYLEX", "w", "[cherry", "-"]), ["cherry", "banana", "apple"]);
        assert_eq!(strs(&mut con, &["ZRANGEBYLEX", "w", "+", "-"]), Vec::<String>::new());
        assert_eq!(q::<i64>(&mut con, &["ZLEXCOUNT", "w", "[b", "(d"]), 2);
        assert_eq!(q::<i64>(&mut con, &["ZLEXCOUNT", "w", "-", "+"]), 4);
        for (min, max) in [("a", "[b"), ("[a", "b"), ("+a", "+"), ("", "+")] {
            assert_eq!(fails(&mut con, &["ZRANGEBYLEX", "w", min, max]), LEX);
            assert_eq!(fails(&mut con, &["ZLEXCOUNT", "w", min, max]), LEX);
            assert_eq!(fails(&mut con, &["ZREMRANGEBYLEX", "w", min, max]), LEX);
        }
        assert_eq!(q::<i64>(&mut con, &["ZREMRANGEBYLEX", "w", "(cherry", "+"]), 1);
        assert_eq!(members(&mut con, "w"), ["apple", "banana", "cherry"]);
        q::<i64>(&mut con, &["ZADD", "r", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"]);
        assert_eq!(q::<i64>(&mut con, &["ZREMRANGEBYRANK", "r", "-2", "-1"]), 2);
        assert_eq!(q::<i64>(&mut con, &["ZREMRANGEBYRANK", "r", "5", "9"]), 0);
        assert_eq!(q::<i64>(&mut con, &["ZREMRANGEBYSCORE", "r", "(1", "2"]), 1);
        assert_eq!(members(&mut con, "r"), ["a", "c"]);
        assert_eq!(q::<i64>(&mut con, &["ZREMRANGEBYRANK", "r", "0", "-1"]), 2);
        assert_eq!(q::<i64>(&mut con, &["EXISTS", "r"]), 0);
        assert_eq!(q::<i64>(&mut con, &["ZREMRANGEBYSCORE", "r", "-inf", "+inf"]), 0);
    }

    fn zrandmember_counts_and_uniqueness(srv: &Server) {
        let mut con = srv.client();
        let all: Vec<String> = (0..20).map(|i| format!("m{i}")).collect();
        for (i, m) in all.iter().enumerate() {
            q::<i64>(&mut con, &["ZADD", "z", &i.to_string(), m]);
        }
        let one: String = q(&mut con, &["ZRANDMEMBER", "z"]);
        assert!(all.contains(&one));
        let five = strs(&mut con, &["ZRANDMEMBER", "z", "5"]);
        assert_eq!(five.iter().collect::<HashSet<_>>().len(), 5, "a positive count gives distinct members");
        assert_eq!(strs(&mut con, &["ZRANDMEMBER", "z", "50"]).len(), 20);
        let repeated = strs(&mut con, &["ZRANDMEMBER", "z", "-50"]);
        assert_eq!(repeated.len(), 50, "a negative count may repeat");
        assert!(repeated.iter().all(|m| all.contains(m)));
        let scored = strs(&mut con, &["ZRANDMEMBER", "z", "3", "WITHSCORES"]);
        for pair in scored.chunks(2) {
            assert_eq!(format!("m{}", pair[1]), pair[0]);
        }
        assert_eq!(q::<Value>(&mut con, &["ZRANDMEMBER", "missing"]), Value::Nil);
        assert_eq!(q::<Value>(&mut con, &["ZRANDMEMBER", "missing", "2"]), Value::Array(vec![]));
        assert_eq!(fails(&mut con, &["ZRANDMEMBER", "z", "1", "x"]), "ERR syntax error");
        assert_eq!(fails(&mut con, &["ZRANDMEMBER", "z", "9223372036854775807", "WITHSCORES"]), "ERR value is out of range");
    }

    fn zscan_small_set_answers_whole_with_cursor_zero(srv: &Server) {
        let mut con = srv.client();
        for i in 0..100 {
            q::<i64>(&mut con, &["ZADD", "z", &format!("{i}.5"), &format!("k{i}")]);
        }
        assert_eq!(encoding(&mut con, "z"), "listpack");
        let (cursor, items): (String, Vec<String>) = q(&mut con, &["ZSCAN", "z", "0", "COUNT", "10"]);
        assert_eq!(cursor, "0");
        assert_eq!(items.len(), 200);
        assert_eq!(items[..4], ["k0", "0.5", "k1", "1.5"], "in score order, as a listpack is");
        let (_, matched): (String, Vec<String>) = q(&mut con, &["ZSCAN", "z", "0", "MATCH", "k9*"]);
        assert_eq!(matched.chunks(2).map(|p| p[0].clone()).collect::<HashSet<_>>().len(), 11);
        assert!(matched.chunks(2).any(|p| p == ["k99", "99.5"]));
        let (cursor, items): (String, Vec<String>) = q(&mut con, &["ZSCAN", "missing", "0", "COUNT", "0"]);
        assert_eq!((cursor.as_str(), items.len()), ("0", 0));
        assert_eq!(fails(&mut con, &["ZSCAN", "z", "x"]), "ERR invalid cursor");
        assert_eq!(fails(&mut con, &["ZSCAN", "z", "0", "COUNT", "0"]), "ERR syntax error");
        assert_eq!(fails(&mut con, &["ZSCAN", "z", "0", "TYPE", "zset"]), "ERR syntax error");
    }

    fn zscan_pages_a_big_set_and_returns_every_stable_member_while_it_changes(srv: &Server) {
        let mut con = srv.client();
        let mut other = srv.client();
        let mut cmd = redis::cmd("ZADD");
        cmd.arg("big");
        for i in 0..2000 {
            cmd.arg(i).arg(format!("stable:{i}")).arg(-i - 1).arg(format!("temp:{i}"));
        }
        assert_eq!(cmd.query::<i64>(&mut con).unwrap(), 4000);
        assert_eq!(encoding(&mut con, "big"), "skiplist");
        let mut seen: HashMap<String, HashSet<String>> = HashMap::new();
        let mut cursor = "0".to_string();
        let mut calls = 0;
        loop {
            let (next, items): (String, Vec<(String, String)>) =
                q(&mut con, &["ZSCAN", "big", &cursor, "COUNT", "50"]);
            assert!(items.len() <= 50, "COUNT bounds a step ({})", items.len());
            for (m, s) in items {
                seen.entry(m).or_default().insert(s);
            }
            // Another client changes the set between steps: members leave,
            // new ones arrive, a stable member is rescored.
            for j in 0..7 {
                let n = calls * 7 + j;
                assert_eq!(q::<i64>(&mut other, &["ZREM", "big", &format!("temp:{n}")]), 1);
                assert_eq!(q::<i64>(&mut other, &["ZADD", "big", "0.5", &format!("new:{n}")]), 1);
            }
            q::<String>(&mut other, &["ZINCRBY", "big", "0.25", &format!("stable:{}", 1999 - calls)]);
            calls += 1;
            if next == "0" {
                break;
            }
            cursor = next;
        }
        assert!(calls > 20, "a big sorted set is scanned in steps ({calls})");
        for i in 0..2000 {
            let scores = seen.get(&format!("stable:{i}")).unwrap_or_else(|| panic!("stable:{i} missed"));
            let (old, new) = (i.to_string(), format!("{i}.25"));
            assert!(scores.iter().all(|s| *s == old || *s == new), "stable:{i} {scores:?}");
        }
        // MATCH filters what a step returns, not what it walks; the default
        // COUNT is 10.
        let (next, items): (String, Vec<String>) = q(&mut con, &["ZSCAN", "big", "0"]);
        assert_ne!(next, "0");
        assert!(items.len() <= 20);
        let mut matched = HashSet::new();
        let mut cursor = "0".to_string();
        loop {
            let (next, items): (String, Vec<(String, String)>) =
                q(&mut con, &["ZSCAN", "big", &cursor, "MATCH", "stable:1?", "COUNT", "100"]);
            matched.extend(items.into_iter().map(|(m, _)| m));
            if next == "0" {
                break;
            }
            cursor = next;
        }
        assert_eq!(matched, (10..20).map(|i| format!("stable:{i}")).collect::<HashSet<_>>());
    }

    fn pair_replies_batch_like_other_single_key_commands(srv: &Server) {
        let mut con = srv.client();
        let keys: Vec<String> = (0..32).map(|i| format!("z{i}")).collect();
        for k in &keys {
            q::<i64>(&mut con, &["ZADD", k, "1", "a", "2", "b", "3", "c"]);
        }
        let hops = |con: &mut Connection| -> u64 {
            let text: String = q(con, &["INFO", "stats"]);
            text.lines()
                .find_map(|l| l.strip_prefix("cross_shard_hops:"))
                .expect("cross_shard_hops in INFO")
                .trim()
                .parse()
                .unwrap()
        };
        let before = hops(&mut con);
        let mut pipe = redis::pipe();
        for k in &keys {
            pipe.cmd("ZRANGE").arg(k).arg(0).arg(-1).arg("WITHSCORES");
            pipe.cmd("ZREVRANGEBYSCORE").arg(k).arg("+inf").arg("-inf").arg("WITHSCORES");
            pipe.cmd("ZRANDMEMBER").arg(k).arg(5).arg("WITHSCORES");
            pipe.cmd("ZPOPMIN").arg(k).arg(1);
        }
        let replies: Vec<Vec<String>> = pipe.query(&mut con).unwrap();
        assert_eq!(replies.len(), 4 * keys.len());
        for r in replies.chunks(4) {
            assert_eq!(r[0], ["a", "1", "b", "2", "c", "3"]);
            assert_eq!(r[1], ["c", "3", "b", "2", "a", "1"]);
            assert_eq!(r[2], ["c", "3", "b", "2", "a", "1"]);
            assert_eq!(r[3], ["a", "1"]);
        }
        let taken = hops(&mut con) - before;
        if srv.shards() == 1 {
            assert_eq!(taken, 0);
        } else {
            // One batch per remote shard per read, not one hop per command.
            assert!((1..keys.len() as u64).contains(&taken), "{taken} hops for {} commands", 4 * keys.len());
        }
    }

    fn resp3_shapes_nest_score_pairs(srv: &Server) {
        let mut raw = srv.raw();
        raw.cmd(&[b"ZADD", b"z", b"1", b"a", b"2.5", b"b"]);
        assert_eq!(raw.cmd(&[b"ZRANGE", b"z", b"0", b"-1", b"WITHSCORES"]), b"*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$3\r\n2.5\r\n");
        assert_eq!(raw.cmd(&[b"ZPOPMIN", b"missing"]), b"*0\r\n");
        raw.cmd(&[b"HELLO", b"3"]);
        assert_eq!(raw.cmd(&[b"ZRANGE", b"z", b"0", b"-1", b"WITHSCORES"]), b"*2\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2.5\r\n");
        assert_eq!(raw.cmd(&[b"ZRANGEBYSCORE", b"z", b"2", b"+inf", b"WITHSCORES"]), b"*1\r\n*2\r\n$1\r\nb\r\n,2.5\r\n");
        assert_eq!(raw.cmd(&[b"ZSCORE", b"z", b"b"]), b",2.5\r\n");
        assert_eq!(raw.cmd(&[b"ZMSCORE", b"z", b"b", b"x"]), b"*2\r\n,2.5\r\n_\r\n");
        assert_eq!(raw.cmd(&[b"ZPOPMIN", b"z"]), b"*2\r\n$1\r\na\r\n,1\r\n");
        assert_eq!(raw.cmd(&[b"ZPOPMAX", b"z", b"1"]), b"*1\r\n*2\r\n$1\r\nb\r\n,2.5\r\n");
        raw.cmd(&[b"ZADD", b"one", b"7", b"only"]);
        assert_eq!(raw.cmd(&[b"ZRANDMEMBER", b"one", b"1", b"WITHSCORES"]), b"*1\r\n*2\r\n$4\r\nonly\r\n,7\r\n");
        assert_eq!(raw.cmd(&[b"ZRANDMEMBER", b"missing"]), b"_\r\n");
    }

    fn encoding_converts_at_the_entry_threshold_and_never_back(srv: &Server) {
        let mut con = srv.client();
        for i in 0..128 {
            q::<i64>(&mut con, &["ZADD", "z", &i.to_string(), &format!("m{i}")]);
        }
        assert_eq!(encoding(&mut con, "z"), "listpack");
        q::<i64>(&mut con, &["ZADD", "z", "1000", "one-more"]);
        assert_eq!(encoding(&mut con, "z"), "skiplist");
        assert_eq!(q::<i64>(&mut con, &["ZREMRANGEBYRANK", "z", "0", "-3"]), 127);
        assert_eq!(encoding(&mut con, "z"), "skiplist");
        assert_eq!(strs(&mut con, &["ZRANGE", "z", "0", "-1", "WITHSCORES"]), ["m127", "127", "one-more", "1000"]);
    }

    fn encoding_converts_at_the_value_threshold(srv: &Server) {
        let mut con = srv.client();
        let at = "x".repeat(64);
        let over = "y".repeat(65);
        q::<i64>(&mut con, &["ZADD", "a", "1", &at]);
        assert_eq!(encoding(&mut con, "a"), "listpack");
        q::<i64>(&mut con, &["ZADD", "a", "2", &over]);
        assert_eq!(encoding(&mut con, "a"), "skiplist");
        q::<i64>(&mut con, &["ZADD", "b", "1", &over]);
        assert_eq!(encoding(&mut con, "b"), "skiplist");
        assert_eq!(members(&mut con, "a"), [at, over]);
    }

    fn large_skiplist_sets_answer_ranks_and_ranges(srv: &Server) {
        let mut con = srv.client();
        let mut pipe = redis::pipe();
        for i in 0..5000 {
            pipe.cmd("ZADD").arg("big").arg(i * 2).arg(format!("m{i:05}")).ignore();
        }
        pipe.query::<()>(&mut con).unwrap();
        assert_eq!(q::<i64>(&mut con, &["ZCARD", "big"]), 5000);
        assert_eq!(q::<i64>(&mut con, &["ZRANK", "big", "m04321"]), 4321);
        assert_eq!(q::<i64>(&mut con, &["ZREVRANK", "big", "m04321"]), 678);
        assert_eq!(q::<i64>(&mut con, &["ZCOUNT", "big", "(100", "200"]), 50);
        assert_eq!(strs(&mut con, &["ZRANGE", "big", "2500", "2501"]), ["m02500", "m02501"]);
        assert_eq!(strs(&mut con, &["ZRANGEBYSCORE", "big", "(9990", "+inf"]), ["m04996", "m04997", "m04998", "m04999"]);
        assert_eq!(q::<i64>(&mut con, &["ZREMRANGEBYSCORE", "big", "-inf", "(5000"]), 2500);
        assert_eq!(q::<i64>(&mut con, &["ZRANK", "big", "m04321"]), 1821);
        assert_eq!(strs(&mut con, &["ZPOPMAX", "big"]), ["m04999", "9998"]);
    }

    // S23: a game leaderboard, including "players around me".
    fn leaderboard(srv: &Server) {
        let mut con = srv.client();
        assert_eq!(q::<i64>(&mut con, &["ZADD", "game:leaderboard", "15000", "player1", "12000", "player2", "18000", "player3"]), 3);
        assert_eq!(
            strs(&mut con, &["ZREVRANGE", "game:leaderboard", "0", "9", "WITHSCORES"]),
            ["player3", "18000", "player1", "15000", "player2", "12000"]
        );
        assert_eq!(q::<i64>(&mut con, &["ZREVRANK", "game:leaderboard", "player1"]), 1);
        assert_eq!(q::<String>(&mut con, &["ZINCRBY", "game:leaderboard", "500", "player1"]), "15500");
        assert_eq!(q::<String>(&mut con, &["ZINCRBY", "game:leaderboard", "-50", "player2"]), "11950");
        assert_eq!(
            strs(&mut con, &["ZRANGEBYSCORE", "game:leaderboard", "15000", "20000", "WITHSCORES"]),
            ["player1", "15500", "player3", "18000"]
        );
        assert_eq!(q::<Value>(&mut con, &["ZREVRANK", "game:leaderboard", "nobody"]), Value::Nil);
        assert_eq!(q::<Value>(&mut con, &["ZSCORE", "game:leaderboard", "nobody"]), Value::Nil);
        assert_eq!(q::<i64>(&mut con, &["EXPIRE", "game:leaderboard", "2592000"]), 1);
        // Players around me, on a bigger board.
        for i in 0..30 {
            q::<i64>(&mut con, &["ZADD", "board", &(i * 10).to_string(), &format!("p{i:02}")]);
        }
        let rank: i64 = q(&mut con, &["ZREVRANK", "board", "p20"]);
        assert_eq!(rank, 9);
        let around = strs(&mut con, &["ZREVRANGE", "board", &(rank - 5).max(0).to_string(), &(rank + 5).to_string(), "WITHSCORES"]);
        let names: Vec<&str> = around.chunks(2).map(|p| p[0].as_str()).collect();
        assert_eq!(names, ["p25", "p24", "p23", "p22", "p21", "p20", "p19", "p18", "p17", "p16", "p15"]);
        assert_eq!(around[11], "200");
        assert_eq!(q::<i64>(&mut con, &["ZREM", "game:leaderboard", "player2"]), 1);
        assert_eq!(q::<i64>(&mut con, &["ZCARD", "game:leaderboard"]), 2);
    }

    // S24: the tutorial's golden outputs (ZCOUNT corrected to 3).
    fn golden_sorted_set_outputs(srv: &Server) {
        let mut con = srv.client();
        assert_eq!(q::<i64>(&mut con, &["ZADD", "leaderboard", "1000", "alice", "850", "bob", "950", "carol"]), 3);
        assert_eq!(members(&mut con, "leaderboard"), ["bob", "carol", "alice"]);
        assert_eq!(strs(&mut con, &["ZRANGE", "leaderboard", "0", "-1", "WITHSCORES"]), ["bob", "850", "carol", "950", "alice", "1000"]);
        assert_eq!(strs(&mut con, &["ZREVRANGE", "leaderboard", "0", "2", "WITHSCORES"]), ["alice", "1000", "carol", "950", "bob", "850"]);
        assert_eq!(q::<i64>(&mut con, &["ZRANK", "leaderboard", "bob"]), 0);
        assert_eq!(q::<i64>(&mut con, &["ZREVRANK", "leaderboard", "alice"]), 0);
        assert_eq!(q::<String>(&mut con, &["ZSCORE", "leaderboard", "alice"]), "1000");
        assert_eq!(q::<String>(&mut con, &["ZINCRBY", "leaderboard", "50", "bob"]), "900");
        assert_eq!(q::<i64>(&mut con, &["ZCOUNT", "leaderboard", "900", "1000"]), 3);
        assert_eq!(
            strs(&mut con, &["ZRANGEBYSCORE", "leaderboard", "900", "1000", "WITHSCORES"]),
            ["bob", "900", "carol", "950", "alice", "1000"]
        );
        assert_eq!(q::<i64>(&mut con, &["ZREM", "leaderboard", "bob"]), 1);
        assert_eq!(q::<i64>(&mut con, &["ZCARD", "leaderboard"]), 2);
    }

    // S25: trending posts with decimal scores.
    fn trending_with_decimal_scores(srv: &Server) {
        let mut con = srv.client();
        q::<i64>(&mut con, &["ZADD", "trending:posts", "0.5", "post:1", "3.75", "post:2", "1.0", "post:3", "12.25", "post:4"]);
        assert_eq!(
            strs(&mut con, &["ZREVRANGE", "trending:posts", "0", "9", "WITHSCORES"]),
            ["post:4", "12.25", "post:2", "3.75", "post:3", "1", "post:1", "0.5"]
        );
        assert_eq!(q::<i64>(&mut con, &["ZREMRANGEBYSCORE", "trending:posts", "-inf", "1.0"]), 2);
        assert_eq!(members(&mut con, "trending:posts"), ["post:2", "post:4"]);
    }

    // S26: time-indexed and range queries.
    fn time_indexed_range_queries(srv: &Server) {
        let mut con = srv.client();
        q::<i64>(&mut con, &["ZADD", "user:123:actions", "1720099200", "login", "1720099500", "view", "1720100000", "logout"]);
        assert_eq!(strs(&mut con, &["ZRANGEBYSCORE", "user:123:actions", "1720099000", "1720099999"]), ["login", "view"]);
        q::<i64>(&mut con, &["ZADD", "products:by_price", "29.99", "product:1", "99.5", "product:2", "49", "product:3", "19.99", "product:4"]);
        assert_eq!(
            strs(&mut con, &["ZRANGEBYSCORE", "products:by_price", "25", "75", "WITHSCORES"]),
            ["product:1", "29.989999999999998", "product:3", "49"]
        );
        q::<i64>(&mut con, &["ZADD", "hotels:by_rating", "4.7", "h1", "4.5", "h2", "3.9", "h3"]);
        assert_eq!(strs(&mut con, &["ZRANGEBYSCORE", "hotels:by_rating", "4.5", "+inf", "WITHSCORES"]), ["h2", "4.5", "h1", "4.7000000000000002"]);
        for i in 0..15 {
            q::<i64>(&mut con, &["ZADD", "leaderboard", &i.to_string(), &format!("u{i:02}")]);
        }
        let top = strs(&mut con, &["ZRANGEBYSCORE", "leaderboard", "-inf", "+inf", "WITHSCORES", "LIMIT", "0", "10"]);
        assert_eq!(top.len(), 20);
        assert_eq!(top[..4], ["u00", "0", "u01", "1"]);
    }

    // S28: a priority queue popped from both ends.
    fn priority_queue(srv: &Server) {
        let mut con = srv.client();
        q::<i64>(&mut con, &["ZADD", "task:queue", "10", "task:low", "50", "task:medium", "90", "task:high", "100", "task:critical"]);
        assert_eq!(strs(&mut con, &["ZPOPMAX", "task:queue"]), ["task:critical", "100"]);
        assert_eq!(
            strs(&mut con, &["ZPOPMAX", "task:queue", "5"]),
            ["task:high", "90", "task:medium", "50", "task:low", "10"]
        );
        assert_eq!(q::<i64>(&mut con, &["EXISTS", "task:queue"]), 0);
        q::<i64>(&mut con, &["ZADD", "queue:priority:q", "-5", r#"{"id":1}"#, "-9", r#"{"id":2}"#]);
        assert_eq!(strs(&mut con, &["ZPOPMIN", "queue:priority:q"]), [r#"{"id":2}"#, "-9"]);
        assert_eq!(strs(&mut con, &["ZPOPMIN", "queue:priority:q"]), [r#"{"id":1}"#, "-5"]);
        assert_eq!(q::<Value>(&mut con, &["ZPOPMIN", "queue:priority:q"]), Value::Array(vec![]));
    }

    // S29: lexicographic ranges over equal scores.
    fn lexicographic_ranges(srv: &Server) {
        let mut con = srv.client();
        q::<i64>(&mut con, &["ZADD", "words", "0", "apple", "0", "banana", "0", "cherry", "0", "date"]);
        assert_eq!(strs(&mut con, &["ZRANGEBYLEX", "words", "[a", "[c"]), ["apple", "banana"]);
        assert_eq!(strs(&mut con, &["ZRANGEBYLEX", "words", "-", "[c"]), ["apple", "banana"]);
        assert_eq!(q::<i64>(&mut con, &["ZREMRANGEBYLEX", "words", "[a", "[b"]), 1);
        assert_eq!(members(&mut con, "words"), ["banana", "cherry", "date"]);
    }

    // S33: a sliding-window rate limiter over a sorted-set log.
    fn sliding_window_rate_limiter(srv: &Server) {
        let mut con = srv.client();
        let (window, limit) = (60_000i64, 5i64);
        let mut allowed = 0;
        for i in 0..8i64 {
            let now = 1_700_000_000_000 + i * 1000;
            let (count,): (i64,) = redis::pipe()
                .cmd("ZREMRANGEBYSCORE").arg("rl:u1").arg(0).arg(now - window).ignore()
                .cmd("ZCARD").arg("rl:u1")
                .query(&mut con)
                .unwrap();
            if count < limit {
                allowed += 1;
                let _: () = redis::pipe()
                    .cmd("ZADD").arg("rl:u1").arg(now).arg(format!("{now}:{i}")).ignore()
                    .cmd("EXPIRE").arg("rl:u1").arg(window / 1000 + 1).ignore()
                    .query(&mut con)
                    .unwrap();
            }
        }
        assert_eq!(allowed, limit);
        assert_eq!(q::<i64>(&mut con, &["ZCARD", "rl:u1"]), limit);
        assert!(q::<i64>(&mut con, &["TTL", "rl:u1"]) > 0);
        // A minute later the old entries fall out of the window.
        let later = 1_700_000_000_000 + 7000 + window;
        assert_eq!(q::<i64>(&mut con, &["ZREMRANGEBYSCORE", "rl:u1", "0", &(later - window).to_string()]), 5);
        assert_eq!(q::<i64>(&mut con, &["EXISTS", "rl:u1"]), 0);
        // Float-second scores, as the Python variant writes them.
        q::<i64>(&mut con, &["ZADD", "rl:py", "1700000000.25", "a", "1700000030.5", "b"]);
        assert_eq!(q::<i64>(&mut con, &["ZREMRANGEBYSCORE", "rl:py", "0", "1700000010.0"]), 1);
        assert_eq!(q::<i64>(&mut con, &["ZCARD", "rl:py"]), 1);
    }

    // S30: weighted set algebra, with inputs on different shards.
    fn weighted_set_algebra(srv: &Server) {
        let mut con = srv.client();
        q::<i64>(&mut con, &["ZADD", "set1", "1", "a", "2", "b", "3", "c"]);
        q::<i64>(&mut con, &["ZADD", "set2", "1", "b", "2", "c", "3", "d"]);
        assert_eq!(q::<i64>(&mut con, &["ZUNIONSTORE", "result", "2", "set1", "set2"]), 4);
        assert_eq!(strs(&mut con, &["ZRANGE", "result", "0", "-1", "WITHSCORES"]), ["a", "1", "b", "3", "d", "3", "c", "5"]);
        q::<i64>(&mut con, &["ZUNIONSTORE", "result", "2", "set1", "set2", "AGGREGATE", "MAX"]);
        assert_eq!(q::<Vec<Option<String>>>(&mut con, &["ZMSCORE", "result", "b", "c"]), [Some("2".into()), Some("3".into())]);
        q::<i64>(&mut con, &["ZUNIONSTORE", "result", "2", "set1", "set2", "WEIGHTS", "2", "3"]);
        assert_eq!(strs(&mut con, &["ZRANGE", "result", "0", "-1", "WITHSCORES"]), ["a", "2", "b", "7", "d", "9", "c", "12"]);
        assert_eq!(q::<i64>(&mut con, &["ZINTERSTORE", "result", "2", "set1", "set2"]), 2);
        q::<i64>(&mut con, &["ZINTERSTORE", "result", "2", "set1", "set2", "WEIGHTS", "1", "2"]);
        assert_eq!(strs(&mut con, &["ZRANGE", "result", "0", "-1", "WITHSCORES"]), ["b", "4", "c", "7"]);
        assert_eq!(strs(&mut con, &["ZDIFF", "2", "set1", "set2", "WITHSCORES"]), ["a", "1"]);
        assert_eq!(q::<i64>(&mut con, &["ZDIFFSTORE", "result", "2", "set2", "set1"]), 1);
        assert_eq!(strs(&mut con, &["ZUNION", "2", "set1", "set2"]), ["a", "b", "d", "c"]);
        assert_eq!(strs(&mut con, &["ZINTER", "2", "set1", "set2", "AGGREGATE", "MIN", "WITHSCORES"]), ["b", "1", "c", "2"]);
        assert_eq!(q::<i64>(&mut con, &["ZINTERCARD", "2", "set1", "set2"]), 2);
        assert_eq!(q::<i64>(&mut con, &["ZINTERCARD", "2", "set1", "set2", "LIMIT", "1"]), 1);
        assert_eq!(q::<i64>(&mut con, &["ZINTERSTORE", "result", "2", "set1", "missing"]), 0);
        assert_eq!(q::<i64>(&mut con, &["EXISTS", "result"]), 0, "an empty result deletes the destination");
        q::<String>(&mut con, &["SET", "s", "x"]);
        assert_eq!(fails(&mut con, &["ZUNION", "2", "set1", "s", "WEIGHTS", "x"]), WRONGTYPE, "the type check comes first");
        assert_eq!(fails(&mut con, &["ZUNION", "1", "set1", "WEIGHTS", "x"]), "ERR weight value is not a float");
        assert_eq!(fails(&mut con, &["ZUNIONSTORE", "d", "0", "set1"]), "ERR at least 1 input key is needed for 'zunionstore' command");
        assert_eq!(fails(&mut con, &["ZINTERCARD", "1", "set1", "LIMIT", "-1"]), "ERR LIMIT can't be negative");
        assert_eq!(fails(&mut con, &["ZDIFF", "1", "set1", "AGGREGATE", "SUM"]), "ERR syntax error");
    }

    fn zrangestore_and_zmpop_across_shards(srv: &Server) {
        let mut con = srv.client();
        q::<i64>(&mut con, &["ZADD", "a", "1", "x", "2", "y", "3", "z"]);
        assert_eq!(q::<i64>(&mut con, &["ZRANGESTORE", "b", "a", "(1", "+inf", "BYSCORE"]), 2);
        assert_eq!(strs(&mut con, &["ZRANGE", "b", "0", "-1", "WITHSCORES"]), ["y", "2", "z", "3"]);
        assert_eq!(q::<i64>(&mut con, &["ZRANGESTORE", "c", "a", "0", "0", "REV"]), 1);
        assert_eq!(members(&mut con, "c"), ["z"]);
        assert_eq!(q::<i64>(&mut con, &["ZRANGESTORE", "c", "missing", "0", "-1"]), 0);
        assert_eq!(q::<i64>(&mut con, &["EXISTS", "c"]), 0);
        assert_eq!(fails(&mut con, &["ZRANGESTORE", "c", "a", "0", "-1", "WITHSCORES"]), "ERR syntax error");
        let popped: Value = q(&mut con, &["ZMPOP", "3", "c", "d", "b", "MAX", "COUNT", "5"]);
        assert_eq!(
            popped,
            Value::Array(vec![
                Value::BulkString(b"b".to_vec()),
                Value::Array(vec![
                    Value::Array(vec![Value::BulkString(b"z".to_vec()), Value::BulkString(b"3".to_vec())]),
                    Value::Array(vec![Value::BulkString(b"y".to_vec()), Value::BulkString(b"2".to_vec())]),
                ]),
            ])
        );
        assert_eq!(q::<i64>(&mut con, &["EXISTS", "b"]), 0);
        assert_eq!(q::<Value>(&mut con, &["ZMPOP", "2", "c", "d", "MIN"]), Value::Nil);
        q::<String>(&mut con, &["SET", "s", "x"]);
        assert_eq!(fails(&mut con, &["ZMPOP", "3", "c", "s", "a", "MIN"]), WRONGTYPE);
        assert_eq!(fails(&mut con, &["ZMPOP", "0", "a", "MIN"]), "ERR numkeys should be greater than 0");
        assert_eq!(fails(&mut con, &["ZMPOP", "1", "a", "MIN", "COUNT", "0"]), "ERR count should be greater than 0");
    }

    fn commands_on_many_keys_across_shards(srv: &Server) {
        let mut con = srv.client();
        for k in ["a", "b", "c", "d"] {
            q::<i64>(&mut con, &["ZADD", k, "1", "x", "2", "y"]);
        }
        let mut pipe = redis::pipe();
        for k in ["a", "b", "c", "d"] {
            pipe.cmd("ZRANGE").arg(k).arg(0).arg(-1).arg("WITHSCORES");
            pipe.cmd("ZCARD").arg(k);
            pipe.cmd("ZPOPMIN").arg(k);
        }
        let replies: Vec<Value> = pipe.query(&mut con).unwrap();
        assert_eq!(replies.len(), 12);
        for k in ["a", "b", "c", "d"] {
            assert_eq!(strs(&mut con, &["ZRANGE", k, "0", "-1"]), ["y"]);
        }
        assert_eq!(q::<i64>(&mut con, &["DEL", "a", "b", "c", "d"]), 4);
    }
}

#[test]
fn config_set_limits_reach_every_shard() {
    common::with_each_shards(
        &[
            "--zset-max-listpack-entries",
            "2",
            "--zset-max-listpack-value",
            "4",
        ],
        |srv| {
            let mut con = srv.client();
            for k in ["a", "b", "c", "d"] {
                q::<i64>(&mut con, &["ZADD", k, "1", "x", "2", "y"]);
                assert_eq!(encoding(&mut con, k), "listpack");
                q::<i64>(&mut con, &["ZADD", k, "3", "z"]);
                assert_eq!(encoding(&mut con, k), "skiplist");
                q::<i64>(&mut con, &["ZADD", &format!("{k}2"), "1", "long!"]);
                assert_eq!(encoding(&mut con, &format!("{k}2")), "skiplist");
            }
        },
    );
}
