//! SORT and SORT_RO through a real client, at 1 and 4 shards: lists, sets
//! and sorted sets, numeric and ALPHA order, LIMIT, BY weights and GET
//! values read from keys on other shards, STORE to another shard, the
//! errors, COMMAND INFO/GETKEYS, and a concurrent check that a SORT BY/GET
//! never sees a multi-shard write half done. Keys `a`, `b`, `c`, `d` live
//! on four different shards when there are 4.

mod common;

use common::{fails, q};

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use redis::{Connection, Value};

fn sorted(con: &mut Connection, args: &[&str]) -> Vec<String> {
    q(con, args)
}

fn range(con: &mut Connection, key: &str) -> Vec<String> {
    q(con, &["LRANGE", key, "0", "-1"])
}

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
const NOT_DOUBLE: &str = "ERR One or more scores can't be converted into double";

common::shard_tests! {
    fn sorts_lists_by_number_and_alpha(srv: &Server) {
        let mut con = srv.client();
        let _: i64 = q(&mut con, &["RPUSH", "a", "3", "1", "10", "2", "-1.5", "0x10"]);
        assert_eq!(sorted(&mut con, &["SORT", "a"]), ["-1.5", "1", "2", "3", "10", "0x10"]);
        assert_eq!(sorted(&mut con, &["SORT", "a", "DESC"]), ["0x10", "10", "3", "2", "1", "-1.5"]);
        assert_eq!(sorted(&mut con, &["SORT", "a", "ALPHA"]), ["-1.5", "0x10", "1", "10", "2", "3"]);
        assert_eq!(sorted(&mut con, &["SORT", "a", "LIMIT", "1", "2"]), ["1", "2"]);
        assert_eq!(sorted(&mut con, &["SORT", "a", "LIMIT", "-3", "2", "DESC"]), ["0x10", "10"]);
        assert_eq!(sorted(&mut con, &["SORT", "a", "LIMIT", "4", "-1"]), ["10", "0x10"]);
        assert!(sorted(&mut con, &["SORT", "a", "LIMIT", "6", "1"]).is_empty());
        assert_eq!(sorted(&mut con, &["SORT_RO", "a", "ALPHA", "DESC", "LIMIT", "0", "1"]), ["3"]);
        // Equal numbers are ordered by their bytes.
        let _: i64 = q(&mut con, &["RPUSH", "b", "1.0", "1", "01", "0"]);
        assert_eq!(sorted(&mut con, &["SORT", "b"]), ["0", "01", "1", "1.0"]);
        // BY without '*' keeps the list's order; DESC reverses it.
        assert_eq!(sorted(&mut con, &["SORT", "a", "BY", "nosort", "DESC", "LIMIT", "0", "2"]), ["0x10", "-1.5"]);
        assert!(sorted(&mut con, &["SORT", "missing"]).is_empty());
    }

    fn sorts_sets_and_sorted_sets(srv: &Server) {
        let mut con = srv.client();
        let _: i64 = q(&mut con, &["SADD", "a", "5", "3", "9"]);
        assert_eq!(sorted(&mut con, &["SORT", "a"]), ["3", "5", "9"]);
        assert_eq!(sorted(&mut con, &["SORT", "a", "DESC"]), ["9", "5", "3"]);
        let _: i64 = q(&mut con, &["SADD", "b", "pear", "apple", "fig"]);
        assert_eq!(sorted(&mut con, &["SORT", "b", "ALPHA"]), ["apple", "fig", "pear"]);
        assert_eq!(fails(&mut con, &["SORT", "b"]), NOT_DOUBLE);
        // An unsorted set is stored sorted, so replicas would agree.
        assert_eq!(q::<i64>(&mut con, &["SORT", "b", "BY", "nosort", "STORE", "c"]), 3);
        assert_eq!(range(&mut con, "c"), ["apple", "fig", "pear"]);
        // A sorted set sorts its members; BY nosort keeps score order.
        let _: i64 = q(&mut con, &["ZADD", "d", "1", "30", "2", "10", "3", "20"]);
        assert_eq!(sorted(&mut con, &["SORT", "d"]), ["10", "20", "30"]);
        assert_eq!(sorted(&mut con, &["SORT", "d", "BY", "nosort"]), ["30", "10", "20"]);
        assert_eq!(sorted(&mut con, &["SORT", "d", "BY", "nosort", "DESC", "LIMIT", "1", "5"]), ["10", "30"]);
    }

    fn by_reads_weights_and_hash_fields_on_other_shards(srv: &Server) {
        let mut con = srv.client();
        let _: i64 = q(&mut con, &["RPUSH", "a", "b", "c", "d", "x"]);
        let _: () = q(&mut con, &["MSET", "w_b", "3", "w_c", "1", "w_d", "2"]);
        // w_x is missing: weight 0.
        assert_eq!(sorted(&mut con, &["SORT", "a", "BY", "w_*"]), ["x", "c", "d", "b"]);
        assert_eq!(sorted(&mut con, &["SORT", "a", "BY", "w_*", "DESC", "LIMIT", "0", "2"]), ["b", "d"]);
        assert_eq!(sorted(&mut con, &["SORT_RO", "a", "BY", "w_*"]), ["x", "c", "d", "b"]);
        for (k, age, name) in [("b", "30", "zed"), ("c", "20", "amy"), ("d", "25", "kim"), ("x", "40", "bob")] {
            let _: i64 = q(&mut con, &["HSET", &format!("h_{k}"), "age", age, "name", name]);
        }
        assert_eq!(sorted(&mut con, &["SORT", "a", "BY", "h_*->age"]), ["c", "d", "b", "x"]);
        assert_eq!(sorted(&mut con, &["SORT", "a", "BY", "h_*->name", "ALPHA"]), ["c", "x", "d", "b"]);
        let _: () = q(&mut con, &["SET", "w_x", "heavy"]);
        assert_eq!(fails(&mut con, &["SORT", "a", "BY", "w_*"]), NOT_DOUBLE);
        // A weight of the wrong type counts as missing.
        let _: () = q(&mut con, &["DEL", "w_x"]);
        let _: i64 = q(&mut con, &["RPUSH", "w_x", "9"]);
        assert_eq!(sorted(&mut con, &["SORT", "a", "BY", "w_*"]), ["x", "c", "d", "b"]);
    }

    fn get_returns_elements_values_and_nil(srv: &Server) {
        let mut con = srv.client();
        let _: i64 = q(&mut con, &["RPUSH", "a", "b", "c", "d"]);
        let _: () = q(&mut con, &["MSET", "w_b", "2", "w_c", "1", "v_b", "B", "v_d", "D"]);
        let _: i64 = q(&mut con, &["HSET", "h_c", "name", "Cee"]);
        let got: Vec<Option<String>> = q(&mut con, &["SORT", "a", "BY", "w_*", "GET", "#", "GET", "v_*", "GET", "h_*->name"]);
        let s = |v: &str| Some(v.to_string());
        assert_eq!(
            got,
            [s("d"), s("D"), None, s("c"), None, s("Cee"), s("b"), s("B"), None]
        );
        let got: Vec<Option<String>> = q(&mut con, &["SORT", "a", "ALPHA", "GET", "nostar"]);
        assert_eq!(got, [None, None, None]);
        let got: Vec<Option<String>> = q(&mut con, &["SORT", "a", "BY", "nosort", "DESC", "GET", "v_*"]);
        assert_eq!(got, [s("D"), None, s("B")]);
    }

    fn store_writes_a_list_on_another_shard(srv: &Server) {
        let mut con = srv.client();
        let _: i64 = q(&mut con, &["RPUSH", "a", "3", "1", "2"]);
        let _: () = q(&mut con, &["SET", "b", "old"]);
        let _: i64 = q(&mut con, &["EXPIRE", "b", "100"]);
        assert_eq!(q::<i64>(&mut con, &["SORT", "a", "STORE", "b"]), 3);
        assert_eq!(range(&mut con, "b"), ["1", "2", "3"]);
        assert_eq!(q::<i64>(&mut con, &["TTL", "b"]), -1);
        // Source and destination on one shard (hash tag).
        let _: i64 = q(&mut con, &["RPUSH", "{t}src", "y", "x"]);
        assert_eq!(q::<i64>(&mut con, &["SORT", "{t}src", "ALPHA", "STORE", "{t}dst"]), 2);
        assert_eq!(range(&mut con, "{t}dst"), ["x", "y"]);
        // GET values; a missing one is stored as an empty string.
        let _: () = q(&mut con, &["MSET", "v_1", "one", "v_3", "three"]);
        assert_eq!(q::<i64>(&mut con, &["SORT", "a", "GET", "#", "GET", "v_*", "STORE", "c"]), 6);
        assert_eq!(range(&mut con, "c"), ["1", "one", "2", "", "3", "three"]);
        // BY weights and STORE across shards together.
        let _: () = q(&mut con, &["MSET", "w_1", "3", "w_2", "2", "w_3", "1"]);
        assert_eq!(q::<i64>(&mut con, &["SORT", "a", "BY", "w_*", "STORE", "d"]), 3);
        assert_eq!(range(&mut con, "d"), ["3", "2", "1"]);
        // An empty result deletes the destination.
        assert_eq!(q::<i64>(&mut con, &["SORT", "missing", "STORE", "d"]), 0);
        assert_eq!(q::<i64>(&mut con, &["EXISTS", "d"]), 0);
        assert_eq!(q::<i64>(&mut con, &["SORT", "a", "LIMIT", "5", "1", "STORE", "c"]), 0);
        assert_eq!(q::<i64>(&mut con, &["EXISTS", "c"]), 0);
        // A failed sort leaves the destination alone.
        let _: i64 = q(&mut con, &["RPUSH", "bad", "x"]);
        assert_eq!(fails(&mut con, &["SORT", "bad", "STORE", "b"]), NOT_DOUBLE);
        assert_eq!(range(&mut con, "b"), ["1", "2", "3"]);
        // Sorting a list into itself.
        assert_eq!(q::<i64>(&mut con, &["SORT", "a", "DESC", "STORE", "a"]), 3);
        assert_eq!(range(&mut con, "a"), ["3", "2", "1"]);
    }

    fn errors_follow_redis(srv: &Server) {
        let mut con = srv.client();
        let _: i64 = q(&mut con, &["RPUSH", "a", "1"]);
        let _: () = q(&mut con, &["SET", "b", "str"]);
        let syntax = "ERR syntax error";
        let not_int = "ERR value is not an integer or out of range";
        assert_eq!(fails(&mut con, &["SORT", "a", "LIMIT", "1"]), syntax);
        assert_eq!(fails(&mut con, &["SORT", "a", "BY"]), syntax);
        assert_eq!(fails(&mut con, &["SORT", "a", "GET"]), syntax);
        assert_eq!(fails(&mut con, &["SORT", "a", "STORE"]), syntax);
        assert_eq!(fails(&mut con, &["SORT", "a", "bogus"]), syntax);
        assert_eq!(fails(&mut con, &["SORT", "a", "LIMIT", "x", "1"]), not_int);
        assert_eq!(fails(&mut con, &["SORT", "a", "LIMIT", "0", "1.5"]), not_int);
        assert_eq!(fails(&mut con, &["SORT_RO", "a", "STORE", "c"]), syntax);
        assert_eq!(q::<i64>(&mut con, &["EXISTS", "c"]), 0);
        // Options are checked before the key's type.
        assert_eq!(fails(&mut con, &["SORT", "b", "bogus"]), syntax);
        assert_eq!(fails(&mut con, &["SORT", "b"]), WRONGTYPE);
        assert_eq!(fails(&mut con, &["SORT_RO", "b", "BY", "nosort"]), WRONGTYPE);
        assert_eq!(fails(&mut con, &["SORT", "b", "STORE", "c"]), WRONGTYPE);
        assert_eq!(fails(&mut con, &["SORT"]), "ERR wrong number of arguments for 'sort' command");
        assert_eq!(fails(&mut con, &["SORT_RO"]), "ERR wrong number of arguments for 'sort_ro' command");
    }

    fn command_info_and_getkeys_know_the_store_key(srv: &Server) {
        let mut con = srv.client();
        let keys: Vec<String> = q(&mut con, &["COMMAND", "GETKEYS", "SORT", "a", "BY", "w_*", "STORE", "b", "LIMIT", "0", "1", "STORE", "c"]);
        assert_eq!(keys, ["a", "c"]);
        let keys: Vec<String> = q(&mut con, &["COMMAND", "GETKEYS", "SORT_RO", "a", "GET", "x"]);
        assert_eq!(keys, ["a"]);
        let info: Vec<Value> = q(&mut con, &["COMMAND", "INFO", "sort", "sort_ro"]);
        let flags = |v: &Value| -> Vec<String> {
            let Value::Array(row) = v else { panic!("{v:?}") };
            redis::from_redis_value(&row[2]).unwrap()
        };
        assert_eq!(flags(&info[0]), ["write", "denyoom", "movablekeys"]);
        assert_eq!(flags(&info[1]), ["readonly", "movablekeys"]);
    }

    fn sort_by_get_never_sees_a_multi_shard_write_half_done(srv: &Server) {
        // The writer rewrites every weight key with one MSET per generation g:
        // w_i = g*N + (i + g) % N. A consistent SORT therefore sees weights
        // g*N .. g*N+N-1 of a single g, elements rotated by g; a torn read
        // mixes generations.
        const N: u64 = 12;
        let port = srv.port();
        let mut con = srv.client();
        let elems: Vec<String> = (0..N).map(|i| i.to_string()).collect();
        let _: i64 = redis::cmd("RPUSH").arg("a").arg(&elems).query(&mut con).unwrap();
        let mset = |g: u64| {
            let mut c = redis::cmd("MSET");
            for i in 0..N {
                c.arg(format!("w_{i}")).arg(g * N + (i + g) % N);
            }
            c
        };
        let _: () = mset(0).query(&mut con).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let written = Arc::new(AtomicU64::new(0));
        let writer = {
            let (stop, written) = (stop.clone(), written.clone());
            thread::spawn(move || {
                let mut con = common::client(port);
                let mut g = 1;
                while !stop.load(Ordering::Relaxed) {
                    let _: () = mset(g).query(&mut con).unwrap();
                    written.store(g, Ordering::Relaxed);
                    g += 1;
                }
            })
        };
        let check = |pairs: &[String]| -> u64 {
            let weights: Vec<u64> = pairs.iter().skip(1).step_by(2).map(|w| w.parse().unwrap()).collect();
            let g = weights[0] / N;
            for (k, w) in weights.iter().enumerate() {
                assert_eq!(*w, g * N + k as u64, "weights of mixed generations: {pairs:?}");
                let elem: u64 = pairs[2 * k].parse().unwrap();
                assert_eq!((elem + g) % N, k as u64, "element order of another generation: {pairs:?}");
            }
            g
        };
        let readers: Vec<_> = [false, true]
            .into_iter()
            .map(|store| {
                let stop = stop.clone();
                thread::spawn(move || {
                    let mut con = common::client(port);
                    let (mut last, mut reads) = (0, 0);
                    while !stop.load(Ordering::Relaxed) {
                        let sort = redis::cmd("SORT").arg(&["a", "BY", "w_*", "GET", "#", "GET", "w_*"]).clone();
                        let pairs: Vec<String> = if store {
                            let n: i64 = sort.clone().arg(&["STORE", "out"]).query(&mut con).unwrap();
                            assert_eq!(n, 2 * N as i64);
                            range(&mut con, "out")
                        } else {
                            sort.query(&mut con).unwrap()
                        };
                        let g = check(&pairs);
                        assert!(g >= last, "SORT went back in time: {g} after {last}");
                        last = g;
                        reads += 1;
                    }
                    reads
                })
            })
            .collect();
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline && written.load(Ordering::Relaxed) < 300 {
            thread::sleep(Duration::from_millis(20));
        }
        stop.store(true, Ordering::Relaxed);
        writer.join().unwrap();
        for r in readers {
            assert!(r.join().unwrap() > 0, "a reader never completed a SORT");
        }
        assert!(written.load(Ordering::Relaxed) > 0, "the writer never completed an MSET");
    }
}
