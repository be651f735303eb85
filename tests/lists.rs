//! List commands through a real client, at 1 and 4 shards: every command and
//! option, the reply shapes that differ between RESP2 and RESP3, cross-shard
//! LMOVE/RPOPLPUSH/LMPOP (keys `a`, `b`, `c`, `d` live on four different
//! shards when there are 4), a concurrent rotation stress, and the queue and
//! capped-feed patterns applications build from lists.

mod common;

use common::{fails, q};

use std::collections::HashSet;
use std::time::{Duration, Instant};

use redis::{Connection, Value};

fn range(con: &mut Connection, key: &str) -> Vec<String> {
    q(con, &["LRANGE", key, "0", "-1"])
}

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

common::shard_tests! {
    fn push_commands_add_at_either_end(srv: &Server) {
        let mut con = srv.client();
        assert_eq!(q::<i64>(&mut con, &["LPUSH", "l", "a", "b", "c"]), 3);
        assert_eq!(q::<i64>(&mut con, &["RPUSH", "l", "d", "e"]), 5);
        assert_eq!(range(&mut con, "l"), ["c", "b", "a", "d", "e"]);
        assert_eq!(q::<i64>(&mut con, &["LPUSHX", "l", "x", "y"]), 7);
        assert_eq!(q::<i64>(&mut con, &["RPUSHX", "l", "z"]), 8);
        assert_eq!(range(&mut con, "l"), ["y", "x", "c", "b", "a", "d", "e", "z"]);
        assert_eq!(q::<i64>(&mut con, &["LPUSHX", "missing", "a"]), 0);
        assert_eq!(q::<i64>(&mut con, &["RPUSHX", "missing", "a"]), 0);
        assert_eq!(q::<i64>(&mut con, &["EXISTS", "missing"]), 0);
        assert_eq!(q::<i64>(&mut con, &["LLEN", "l"]), 8);
        assert_eq!(q::<i64>(&mut con, &["LLEN", "missing"]), 0);
        assert_eq!(q::<String>(&mut con, &["TYPE", "l"]), "list");
        assert_eq!(q::<String>(&mut con, &["OBJECT", "ENCODING", "l"]), "quicklist");
        assert_eq!(fails(&mut con, &["LPUSH", "l"]), "ERR wrong number of arguments for 'lpush' command");
    }

    fn pops_with_and_without_count(srv: &Server) {
        let mut con = srv.client();
        q::<i64>(&mut con, &["RPUSH", "l", "1", "2", "3", "4", "5", "6"]);
        assert_eq!(q::<String>(&mut con, &["LPOP", "l"]), "1");
        assert_eq!(q::<String>(&mut con, &["RPOP", "l"]), "6");
        assert_eq!(q::<Vec<String>>(&mut con, &["LPOP", "l", "2"]), ["2", "3"]);
        assert_eq!(q::<Vec<String>>(&mut con, &["RPOP", "l", "1"]), ["5"]);
        assert_eq!(q::<Value>(&mut con, &["LPOP", "l", "0"]), Value::Array(vec![]));
        assert_eq!(q::<Vec<String>>(&mut con, &["RPOP", "l", "10"]), ["4"]);
        assert_eq!(q::<i64>(&mut con, &["EXISTS", "l"]), 0, "an emptied list is deleted");
        assert_eq!(q::<Value>(&mut con, &["LPOP", "l"]), Value::Nil);
        assert_eq!(q::<Value>(&mut con, &["LPOP", "l", "0"]), Value::Nil);
        assert_eq!(q::<Value>(&mut con, &["RPOP", "l", "3"]), Value::Nil);
        for bad in ["-1", "x"] {
            assert_eq!(fails(&mut con, &["LPOP", "l", bad]), "ERR value is out of range, must be positive");
        }
        assert_eq!(fails(&mut con, &["RPOP", "l", "1", "2"]), "ERR wrong number of arguments for 'rpop' command");
    }

    fn missing_key_with_count_is_a_null_array_in_resp2_and_null_in_resp3(srv: &Server) {
        let mut raw = srv.raw();
        assert_eq!(raw.cmd(&[b"LPOP", b"missing", b"2"]), b"*-1\r\n");
        assert_eq!(raw.cmd(&[b"LPOP", b"missing"]), b"$-1\r\n");
        assert_eq!(raw.cmd(&[b"LMPOP", b"2", b"a", b"b", b"LEFT"]), b"*-1\r\n");
        raw.cmd(&[b"HELLO", b"3"]);
        assert_eq!(raw.cmd(&[b"LPOP", b"missing", b"2"]), b"_\r\n");
        assert_eq!(raw.cmd(&[b"RPOP", b"missing"]), b"_\r\n");
        assert_eq!(raw.cmd(&[b"LMPOP", b"2", b"a", b"b", b"LEFT"]), b"_\r\n");
        assert_eq!(raw.cmd(&[b"LPOS", b"missing", b"x", b"COUNT", b"0"]), b"*0\r\n");
        raw.cmd(&[b"RPUSH", b"l", b"x"]);
        assert_eq!(raw.cmd(&[b"LPOP", b"l", b"0"]), b"*0\r\n");
    }

    fn lrange_lindex_and_lset_use_redis_indexes(srv: &Server) {
        let mut con = srv.client();
        q::<i64>(&mut con, &["RPUSH", "r", "a", "b", "c", "d", "e"]);
        assert_eq!(q::<Vec<String>>(&mut con, &["LRANGE", "r", "-2", "-1"]), ["d", "e"]);
        assert_eq!(q::<Vec<String>>(&mut con, &["LRANGE", "r", "-100", "1"]), ["a", "b"]);
        assert_eq!(q::<Vec<String>>(&mut con, &["LRANGE", "r", "3", "1"]), Vec::<String>::new());
        assert_eq!(q::<Vec<String>>(&mut con, &["LRANGE", "r", "5", "9"]), Vec::<String>::new());
        assert_eq!(q::<Vec<String>>(&mut con, &["LRANGE", "missing", "0", "-1"]), Vec::<String>::new());
        assert_eq!(q::<String>(&mut con, &["LINDEX", "r", "-1"]), "e");
        assert_eq!(q::<Value>(&mut con, &["LINDEX", "r", "5"]), Value::Nil);
        assert_eq!(q::<Value>(&mut con, &["LINDEX", "missing", "x"]), Value::Nil);
        assert_eq!(fails(&mut con, &["LINDEX", "r", "x"]), "ERR value is not an integer or out of range");
        assert_eq!(q::<String>(&mut con, &["LSET", "r", "-1", "E"]), "OK");
        assert_eq!(q::<String>(&mut con, &["LSET", "r", "0", "A"]), "OK");
        assert_eq!(range(&mut con, "r"), ["A", "b", "c", "d", "E"]);
        assert_eq!(fails(&mut con, &["LSET", "r", "5", "x"]), "ERR index out of range");
        assert_eq!(fails(&mut con, &["LSET", "r", "-6", "x"]), "ERR index out of range");
        assert_eq!(fails(&mut con, &["LSET", "missing", "0", "x"]), "ERR no such key");
    }

    fn linsert_lrem_and_ltrim(srv: &Server) {
        let mut con = srv.client();
        assert_eq!(q::<i64>(&mut con, &["LINSERT", "i", "BEFORE", "a", "x"]), 0);
        q::<i64>(&mut con, &["RPUSH", "i", "a", "b", "c", "b"]);
        assert_eq!(q::<i64>(&mut con, &["LINSERT", "i", "BEFORE", "b", "x"]), 5);
        assert_eq!(q::<i64>(&mut con, &["LINSERT", "i", "after", "b", "y"]), 6);
        assert_eq!(q::<i64>(&mut con, &["LINSERT", "i", "AFTER", "nope", "z"]), -1);
        assert_eq!(range(&mut con, "i"), ["a", "x", "b", "y", "c", "b"]);
        assert_eq!(fails(&mut con, &["LINSERT", "i", "MIDDLE", "a", "x"]), "ERR syntax error");

        q::<i64>(&mut con, &["RPUSH", "m", "a", "b", "a", "c", "a", "b", "a"]);
        assert_eq!(q::<i64>(&mut con, &["LREM", "m", "2", "a"]), 2);
        assert_eq!(range(&mut con, "m"), ["b", "c", "a", "b", "a"]);
        assert_eq!(q::<i64>(&mut con, &["LREM", "m", "-1", "a"]), 1);
        assert_eq!(range(&mut con, "m"), ["b", "c", "a", "b"]);
        assert_eq!(q::<i64>(&mut con, &["LREM", "m", "0", "b"]), 2);
        assert_eq!(q::<i64>(&mut con, &["LREM", "m", "0", "c"]), 1);
        assert_eq!(q::<i64>(&mut con, &["LREM", "m", "0", "a"]), 1);
        assert_eq!(q::<i64>(&mut con, &["EXISTS", "m"]), 0);
        assert_eq!(q::<i64>(&mut con, &["LREM", "m", "0", "a"]), 0);

        q::<i64>(&mut con, &["RPUSH", "t", "0", "1", "2", "3", "4", "5"]);
        assert_eq!(q::<String>(&mut con, &["LTRIM", "t", "1", "-2"]), "OK");
        assert_eq!(range(&mut con, "t"), ["1", "2", "3", "4"]);
        assert_eq!(q::<String>(&mut con, &["LTRIM", "t", "-100", "100"]), "OK");
        assert_eq!(range(&mut con, "t"), ["1", "2", "3", "4"]);
        assert_eq!(q::<String>(&mut con, &["LTRIM", "t", "3", "1"]), "OK");
        assert_eq!(q::<i64>(&mut con, &["EXISTS", "t"]), 0);
        assert_eq!(q::<String>(&mut con, &["LTRIM", "missing", "0", "1"]), "OK");
        assert_eq!(fails(&mut con, &["LTRIM", "t", "x", "1"]), "ERR value is not an integer or out of range");
    }

    fn lpos_rank_count_and_maxlen(srv: &Server) {
        let mut con = srv.client();
        q::<i64>(&mut con, &["RPUSH", "p", "a", "b", "c", "a", "b", "c", "a"]);
        assert_eq!(q::<i64>(&mut con, &["LPOS", "p", "c"]), 2);
        assert_eq!(q::<i64>(&mut con, &["LPOS", "p", "a", "RANK", "2"]), 3);
        assert_eq!(q::<i64>(&mut con, &["LPOS", "p", "a", "RANK", "-1"]), 6);
        assert_eq!(q::<i64>(&mut con, &["LPOS", "p", "a", "RANK", "-3"]), 0);
        assert_eq!(q::<Value>(&mut con, &["LPOS", "p", "a", "RANK", "4"]), Value::Nil);
        assert_eq!(q::<Value>(&mut con, &["LPOS", "p", "z"]), Value::Nil);
        assert_eq!(q::<Vec<i64>>(&mut con, &["LPOS", "p", "a", "COUNT", "0"]), [0, 3, 6]);
        assert_eq!(q::<Vec<i64>>(&mut con, &["LPOS", "p", "a", "COUNT", "2"]), [0, 3]);
        assert_eq!(q::<Vec<i64>>(&mut con, &["LPOS", "p", "a", "RANK", "-1", "COUNT", "2"]), [6, 3]);
        assert_eq!(q::<Vec<i64>>(&mut con, &["LPOS", "p", "a", "RANK", "2", "COUNT", "0"]), [3, 6]);
        assert_eq!(q::<Vec<i64>>(&mut con, &["LPOS", "p", "a", "COUNT", "0", "MAXLEN", "4"]), [0, 3]);
        assert_eq!(q::<Vec<i64>>(&mut con, &["LPOS", "p", "z", "COUNT", "0"]), Vec::<i64>::new());
        assert_eq!(q::<Vec<i64>>(&mut con, &["LPOS", "missing", "a", "COUNT", "1"]), Vec::<i64>::new());
        assert_eq!(q::<Value>(&mut con, &["LPOS", "p", "a", "MAXLEN", "3", "RANK", "2"]), Value::Nil);
        assert_eq!(
            fails(&mut con, &["LPOS", "p", "a", "RANK", "0"]),
            "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list"
        );
        assert_eq!(fails(&mut con, &["LPOS", "p", "a", "COUNT", "-1"]), "ERR COUNT can't be negative");
        assert_eq!(fails(&mut con, &["LPOS", "p", "a", "MAXLEN", "-1"]), "ERR MAXLEN can't be negative");
        assert_eq!(fails(&mut con, &["LPOS", "p", "a", "RANK"]), "ERR syntax error");
        assert_eq!(fails(&mut con, &["LPOS", "p", "a", "BOGUS", "1"]), "ERR syntax error");
    }

    fn lmove_and_rpoplpush_move_elements_between_shards(srv: &Server) {
        let mut con = srv.client();
        q::<i64>(&mut con, &["RPUSH", "a", "1", "2", "3", "4"]);
        assert_eq!(q::<String>(&mut con, &["LMOVE", "a", "b", "LEFT", "RIGHT"]), "1");
        assert_eq!(q::<String>(&mut con, &["LMOVE", "a", "c", "RIGHT", "LEFT"]), "4");
        assert_eq!(q::<String>(&mut con, &["LMOVE", "a", "d", "left", "left"]), "2");
        assert_eq!(q::<String>(&mut con, &["RPOPLPUSH", "a", "b"]), "3");
        assert_eq!(q::<i64>(&mut con, &["EXISTS", "a"]), 0);
        assert_eq!(range(&mut con, "b"), ["3", "1"]);
        assert_eq!(range(&mut con, "c"), ["4"]);
        assert_eq!(range(&mut con, "d"), ["2"]);
        assert_eq!(q::<String>(&mut con, &["RPOPLPUSH", "b", "c"]), "1");
        assert_eq!(range(&mut con, "c"), ["1", "4"]);
        assert_eq!(q::<Value>(&mut con, &["LMOVE", "a", "b", "LEFT", "RIGHT"]), Value::Nil);
        assert_eq!(q::<Value>(&mut con, &["RPOPLPUSH", "a", "b"]), Value::Nil);
        // Same key: a rotation that keeps the key (and its TTL).
        assert_eq!(q::<String>(&mut con, &["LMOVE", "c", "c", "LEFT", "RIGHT"]), "1");
        assert_eq!(range(&mut con, "c"), ["4", "1"]);
        q::<i64>(&mut con, &["RPUSH", "one", "x"]);
        q::<i64>(&mut con, &["EXPIRE", "one", "1000"]);
        assert_eq!(q::<String>(&mut con, &["RPOPLPUSH", "one", "one"]), "x");
        assert!(q::<i64>(&mut con, &["TTL", "one"]) > 0);
        assert_eq!(fails(&mut con, &["LMOVE", "c", "d", "UP", "LEFT"]), "ERR syntax error");
        assert_eq!(fails(&mut con, &["LMOVE", "missing", "d", "LEFT", "DOWN"]), "ERR syntax error");
    }

    fn lmove_to_a_wrong_type_destination_leaves_the_source_intact(srv: &Server) {
        let mut con = srv.client();
        q::<i64>(&mut con, &["RPUSH", "a", "1", "2"]);
        q::<String>(&mut con, &["SET", "b", "string"]);
        q::<String>(&mut con, &["SET", "{a}s", "string"]);
        assert_eq!(fails(&mut con, &["LMOVE", "a", "b", "LEFT", "RIGHT"]), WRONGTYPE);
        assert_eq!(fails(&mut con, &["RPOPLPUSH", "a", "b"]), WRONGTYPE);
        assert_eq!(fails(&mut con, &["RPOPLPUSH", "a", "{a}s"]), WRONGTYPE);
        assert_eq!(range(&mut con, "a"), ["1", "2"]);
        assert_eq!(fails(&mut con, &["LMOVE", "b", "a", "LEFT", "RIGHT"]), WRONGTYPE);
        // A missing source answers nil before the destination is looked at.
        assert_eq!(q::<Value>(&mut con, &["LMOVE", "c", "b", "LEFT", "RIGHT"]), Value::Nil);
        assert_eq!(q::<String>(&mut con, &["GET", "b"]), "string");
    }

    fn lmpop_pops_the_first_non_empty_list_in_key_order(srv: &Server) {
        let mut con = srv.client();
        assert_eq!(q::<Value>(&mut con, &["LMPOP", "4", "a", "b", "c", "d", "LEFT"]), Value::Nil);
        q::<i64>(&mut con, &["RPUSH", "c", "c1", "c2", "c3"]);
        q::<i64>(&mut con, &["RPUSH", "d", "d1", "d2"]);
        assert_eq!(
            q::<(String, Vec<String>)>(&mut con, &["LMPOP", "4", "a", "b", "d", "c", "LEFT"]),
            ("d".to_string(), vec!["d1".to_string()])
        );
        assert_eq!(
            q::<(String, Vec<String>)>(&mut con, &["LMPOP", "4", "a", "b", "c", "d", "RIGHT", "COUNT", "10"]),
            ("c".to_string(), vec!["c3".to_string(), "c2".to_string(), "c1".to_string()])
        );
        assert_eq!(q::<i64>(&mut con, &["EXISTS", "c"]), 0);
        assert_eq!(
            q::<(String, Vec<String>)>(&mut con, &["LMPOP", "2", "{t}x", "d", "left", "count", "1"]),
            ("d".to_string(), vec!["d2".to_string()])
        );
        q::<i64>(&mut con, &["RPUSH", "{t}x", "1", "2", "3"]);
        assert_eq!(
            q::<(String, Vec<String>)>(&mut con, &["LMPOP", "2", "{t}y", "{t}x", "LEFT", "COUNT", "2"]),
            ("{t}x".to_string(), vec!["1".to_string(), "2".to_string()])
        );
        q::<String>(&mut con, &["SET", "s", "v"]);
        q::<i64>(&mut con, &["RPUSH", "b", "b1"]);
        assert_eq!(fails(&mut con, &["LMPOP", "3", "a", "s", "b", "LEFT"]), WRONGTYPE);
        assert_eq!(
            q::<(String, Vec<String>)>(&mut con, &["LMPOP", "3", "a", "b", "s", "LEFT"]),
            ("b".to_string(), vec!["b1".to_string()])
        );
        assert_eq!(fails(&mut con, &["LMPOP", "0", "a", "LEFT"]), "ERR numkeys should be greater than 0");
        assert_eq!(fails(&mut con, &["LMPOP", "x", "a", "LEFT"]), "ERR numkeys should be greater than 0");
        assert_eq!(fails(&mut con, &["LMPOP", "2", "a", "LEFT"]), "ERR syntax error");
        assert_eq!(fails(&mut con, &["LMPOP", "1", "a", "MIDDLE"]), "ERR syntax error");
        assert_eq!(fails(&mut con, &["LMPOP", "1", "a", "LEFT", "COUNT", "0"]), "ERR count should be greater than 0");
        assert_eq!(fails(&mut con, &["LMPOP", "1", "a", "LEFT", "COUNT", "1", "COUNT", "1"]), "ERR syntax error");
        assert_eq!(fails(&mut con, &["LMPOP", "1", "a"]), "ERR wrong number of arguments for 'lmpop' command");
    }

    fn every_list_command_rejects_other_types(srv: &Server) {
        let mut con = srv.client();
        q::<String>(&mut con, &["SET", "s", "v"]);
        for cmd in [
            &["LPUSH", "s", "a"][..],
            &["RPUSH", "s", "a"],
            &["LPUSHX", "s", "a"],
            &["RPUSHX", "s", "a"],
            &["LPOP", "s"],
            &["RPOP", "s", "0"],
            &["LLEN", "s"],
            &["LRANGE", "s", "0", "-1"],
            &["LINDEX", "s", "x"],
            &["LSET", "s", "x", "v"],
            &["LINSERT", "s", "BEFORE", "a", "b"],
            &["LREM", "s", "0", "a"],
            &["LTRIM", "s", "0", "1"],
            &["LPOS", "s", "a"],
            &["LMPOP", "1", "s", "LEFT"],
        ] {
            assert_eq!(fails(&mut con, cmd), WRONGTYPE, "{cmd:?}");
        }
        assert_eq!(q::<String>(&mut con, &["GET", "s"]), "v");
    }

    fn concurrent_moves_across_shards_never_lose_or_duplicate(srv: &Server) {
        const KEYS: [&str; 4] = ["a", "b", "c", "d"];
        const ELEMENTS: usize = 200;
        let mut con = srv.client();
        for (i, key) in KEYS.iter().enumerate() {
            let items: Vec<String> = (0..ELEMENTS / KEYS.len()).map(|j| format!("e{i}-{j}")).collect();
            redis::cmd("RPUSH").arg(*key).arg(&items).query::<i64>(&mut con).unwrap();
        }
        let deadline = Instant::now() + Duration::from_secs(1);
        let port = srv.port();
        let workers: Vec<_> = (0..4u64)
            .map(|t| {
                std::thread::spawn(move || {
                    let mut con = common::client(port);
                    let mut rng = 0x9E37_79B9_7F4A_7C15u64 ^ (t + 1);
                    let mut next = move || {
                        rng ^= rng << 13;
                        rng ^= rng >> 7;
                        rng ^= rng << 17;
                        rng
                    };
                    let mut moves = 0u64;
                    while Instant::now() < deadline {
                        let r = next();
                        let src = KEYS[(r % 4) as usize];
                        let dst = KEYS[((r >> 8) % 4) as usize];
                        if r % 16 == 0 {
                            // LMPOP across every shard, then put the popped
                            // elements back: the total is restored once all
                            // workers are done.
                            let popped: Option<(String, Vec<String>)> = redis::cmd("LMPOP")
                                .arg(4)
                                .arg(&KEYS[..])
                                .arg("LEFT")
                                .arg("COUNT")
                                .arg(2)
                                .query(&mut con)
                                .unwrap();
                            if let Some((_, items)) = popped {
                                redis::cmd("RPUSH").arg(dst).arg(items).query::<i64>(&mut con).unwrap();
                            }
                            continue;
                        }
                        let moved: Option<String> = if r & (1 << 20) != 0 {
                            redis::cmd("RPOPLPUSH").arg(src).arg(dst).query(&mut con).unwrap()
                        } else {
                            let from = if r & (1 << 21) != 0 { "LEFT" } else { "RIGHT" };
                            let to = if r & (1 << 22) != 0 { "LEFT" } else { "RIGHT" };
                            redis::cmd("LMOVE").arg(src).arg(dst).arg(from).arg(to).query(&mut con).unwrap()
                        };
                        moves += moved.is_some() as u64;
                    }
                    moves
                })
            })
            .collect();
        let moves: u64 = workers.into_iter().map(|w| w.join().unwrap()).sum();
        assert!(moves > 100, "only {moves} moves in 1 s");
        let mut seen = HashSet::new();
        let mut total = 0;
        for key in KEYS {
            for e in range(&mut con, key) {
                total += 1;
                assert!(seen.insert(e.clone()), "{e} duplicated");
            }
        }
        assert_eq!(total, ELEMENTS, "element count changed after {moves} moves");
    }

    fn reliable_queue_with_rpoplpush_and_lrem(srv: &Server) {
        let mut producer = srv.client();
        let mut worker = srv.client();
        for i in 0..5 {
            q::<i64>(&mut producer, &["RPUSH", "queue", &format!("job{i}")]);
        }
        let mut done = Vec::new();
        while let Some(job) = q::<Option<String>>(&mut worker, &["RPOPLPUSH", "queue", "processing"]) {
            assert_eq!(q::<i64>(&mut worker, &["LPOS", "processing", &job]), 0);
            assert_eq!(q::<i64>(&mut worker, &["LREM", "processing", "1", &job]), 1);
            done.push(job);
        }
        // RPUSH appends and RPOPLPUSH takes from the tail: newest first.
        assert_eq!(done, ["job4", "job3", "job2", "job1", "job0"]);
        assert_eq!(q::<i64>(&mut worker, &["EXISTS", "queue", "processing"]), 0);
    }

    fn activity_feed_capped_with_lpush_and_ltrim(srv: &Server) {
        let mut con = srv.client();
        for i in 0..25 {
            let (n, ok): (i64, String) = redis::pipe()
                .cmd("LPUSH").arg("feed").arg(format!("event{i}"))
                .cmd("LTRIM").arg("feed").arg(0).arg(9)
                .query(&mut con)
                .unwrap();
            assert_eq!((n, ok.as_str()), ((i + 1).min(11), "OK"));
        }
        let feed = range(&mut con, "feed");
        let expected: Vec<String> = (15..25).rev().map(|i| format!("event{i}")).collect();
        assert_eq!(feed, expected);
        assert_eq!(q::<String>(&mut con, &["LINDEX", "feed", "0"]), "event24");
    }
}
