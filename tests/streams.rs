//! Stream commands through a real client, at 1 and 4 shards: every command
//! and option, Redis 7.0's error texts, the RESP2/RESP3 reply shapes, reads
//! of streams on several shards, the node settings, and the patterns
//! applications build on streams (scenarios S56–S59): an event log, capped
//! streams, consumer groups splitting work, fan-out to several groups, and
//! an order pipeline whose crashed consumer's pending orders another
//! consumer recovers with XAUTOCLAIM.
//!
//! With 4 shards the keys `a`, `b`, `c`, `d` live on four different shards;
//! `{t}x` and `{t}y` share one.

mod common;

use common::{fails, q};

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use redis::{Connection, Value};

/// `[id, [field, value, …]]` entries.
type Entries = Vec<(String, Vec<String>)>;
/// An XREAD reply: per stream, its key and entries.
type Read = Option<Vec<(String, Entries)>>;

fn entries(con: &mut Connection, args: &[&str]) -> Entries {
    q(con, args)
}

fn ids(e: &Entries) -> Vec<&str> {
    e.iter().map(|(id, _)| id.as_str()).collect()
}

fn read(con: &mut Connection, args: &[&str]) -> Read {
    q(con, args)
}

/// The IDs an XREAD/XREADGROUP reply holds per stream.
fn read_ids(r: &Read) -> Vec<(String, Vec<String>)> {
    r.iter()
        .flatten()
        .map(|(k, e)| (k.clone(), e.iter().map(|(id, _)| id.clone()).collect()))
        .collect()
}

/// A RESP2 map reply (XINFO) as field name → value.
fn map(con: &mut Connection, args: &[&str]) -> HashMap<String, Value> {
    let v: Vec<Value> = q(con, args);
    v.chunks(2)
        .map(|kv| (redis::from_redis_value(&kv[0]).unwrap(), kv[1].clone()))
        .collect()
}

fn int(v: &Value) -> i64 {
    redis::from_redis_value(v).unwrap()
}

/// One group of XINFO GROUPS: consumers, pending, last-delivered-id,
/// entries-read, lag.
type GroupInfo = (i64, i64, String, Option<i64>, Option<i64>);

/// XINFO GROUPS by group name.
fn groups(con: &mut Connection, key: &str) -> BTreeMap<String, GroupInfo> {
    let all: Vec<Vec<Value>> = q(con, &["XINFO", "GROUPS", key]);
    all.into_iter()
        .map(|g| {
            let m: HashMap<String, Value> = g
                .chunks(2)
                .map(|kv| (redis::from_redis_value(&kv[0]).unwrap(), kv[1].clone()))
                .collect();
            let get = |k: &str| m[k].clone();
            (
                redis::from_redis_value(&get("name")).unwrap(),
                (
                    int(&get("consumers")),
                    int(&get("pending")),
                    redis::from_redis_value(&get("last-delivered-id")).unwrap(),
                    redis::from_redis_value(&get("entries-read")).unwrap(),
                    redis::from_redis_value(&get("lag")).unwrap(),
                ),
            )
        })
        .collect()
}

/// XPENDING's summary: count, first, last, per-consumer counts.
type Summary = (
    i64,
    Option<String>,
    Option<String>,
    Option<Vec<(String, String)>>,
);

/// Adds entries `<ms>-0` for each `ms`, field "n" = ms.
/// A request as RESP bytes, for raw connections.
fn req(args: &[&str]) -> Vec<u8> {
    let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    common::encode_request(&args)
}

fn add_all(con: &mut Connection, key: &str, ms: impl IntoIterator<Item = u64>) {
    for m in ms {
        let id = format!("{m}-0");
        let _: String = q(con, &["XADD", key, &id, "n", &m.to_string()]);
    }
}

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
const INVALID_ID: &str = "ERR Invalid stream ID specified as stream command argument";

common::shard_tests! {
    fn xadd_generates_increasing_ids_and_checks_given_ones(srv: &Server) {
        let mut con = srv.client();
        let before = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
        let mut last = (0u64, 0u64);
        for _ in 0..50 {
            let id: String = q(&mut con, &["XADD", "log", "*", "event", "page_view"]);
            let (ms, seq) = id.split_once('-').unwrap();
            let now = (ms.parse::<u64>().unwrap(), seq.parse::<u64>().unwrap());
            assert!(now > last, "{now:?} after {last:?}");
            assert!(now.0 >= before.saturating_sub(1000));
            last = now;
        }
        assert_eq!(q::<i64>(&mut con, &["XLEN", "log"]), 50);
        assert_eq!(q::<String>(&mut con, &["XADD", "s", "5-1", "a", "1"]), "5-1");
        assert_eq!(q::<String>(&mut con, &["XADD", "s", "5-*", "a", "2"]), "5-2");
        assert_eq!(q::<String>(&mut con, &["XADD", "s", "7-*", "a", "3"]), "7-0");
        assert_eq!(q::<String>(&mut con, &["XADD", "s", "8", "a", "4"]), "8-0");
        assert_eq!(
            fails(&mut con, &["XADD", "s", "8-0", "a", "5"]),
            "ERR The ID specified in XADD is equal or smaller than the target stream top item"
        );
        assert_eq!(
            fails(&mut con, &["XADD", "s", "6-*", "a", "5"]),
            "ERR The ID specified in XADD is equal or smaller than the target stream top item"
        );
        assert_eq!(fails(&mut con, &["XADD", "s", "0-0", "a", "5"]), "ERR The ID specified in XADD must be greater than 0-0");
        assert_eq!(fails(&mut con, &["XADD", "fresh", "0-0", "a", "5"]), "ERR The ID specified in XADD must be greater than 0-0");
        assert_eq!(q::<i64>(&mut con, &["EXISTS", "fresh"]), 0);
        assert_eq!(q::<String>(&mut con, &["XADD", "fresh", "0-*", "a", "5"]), "0-1");
        for bad in ["x", "1-x", "-", "+", "1-2-3", "18446744073709551616-0", "1--1"] {
            assert_eq!(fails(&mut con, &["XADD", "s", bad, "a", "b"]), INVALID_ID, "{bad}");
        }
        assert_eq!(fails(&mut con, &["XADD", "s", "9-0", "a"]), "ERR wrong number of arguments for 'xadd' command");
        assert_eq!(fails(&mut con, &["XADD", "s", "9-0", "a", "b", "c"]), "ERR wrong number of arguments for 'xadd' command");
        assert_eq!(fails(&mut con, &["XADD", "s", "MAXLEN", "5"]), "ERR wrong number of arguments for 'xadd' command");
        // The last possible ID, then nothing more.
        assert_eq!(q::<String>(&mut con, &["XADD", "s", "18446744073709551615-*", "a", "b"]), "18446744073709551615-0");
        assert_eq!(
            q::<String>(&mut con, &["XADD", "s", "18446744073709551615-18446744073709551615", "a", "b"]),
            "18446744073709551615-18446744073709551615"
        );
        assert_eq!(
            fails(&mut con, &["XADD", "s", "*", "a", "b"]),
            "ERR The stream has exhausted the last possible ID, unable to add more items"
        );
        // Binary-safe, empty fields and values, repeated field names.
        let mut cmd = redis::cmd("XADD");
        cmd.arg("bin").arg("1-1").arg(&b"\x00\r\n"[..]).arg(&b""[..]).arg(&b""[..]).arg(&b"v"[..]).arg(&b"f"[..]).arg(&b"1"[..]).arg(&b"f"[..]).arg(&b"2"[..]);
        assert_eq!(cmd.query::<String>(&mut con).unwrap(), "1-1");
        let got: Vec<(Vec<u8>, Vec<Vec<u8>>)> = q(&mut con, &["XRANGE", "bin", "-", "+"]);
        assert_eq!(got[0].1, [&b"\x00\r\n"[..], b"", b"", b"v", b"f", b"1", b"f", b"2"]);
    }

    fn nomkstream_and_types(srv: &Server) {
        let mut con = srv.client();
        assert_eq!(q::<Option<String>>(&mut con, &["XADD", "s", "NOMKSTREAM", "1-1", "a", "b"]), None);
        assert_eq!(q::<i64>(&mut con, &["EXISTS", "s"]), 0);
        let _: String = q(&mut con, &["XADD", "s", "1-1", "a", "b"]);
        assert_eq!(q::<String>(&mut con, &["XADD", "s", "NOMKSTREAM", "2-1", "a", "b"]), "2-1");
        assert_eq!(q::<String>(&mut con, &["TYPE", "s"]), "stream");
        assert_eq!(q::<String>(&mut con, &["OBJECT", "ENCODING", "s"]), "stream");
        let _: () = q(&mut con, &["SET", "str", "v"]);
        for cmd in [
            &["XADD", "str", "1-1", "a", "b"][..],
            &["XLEN", "str"],
            &["XRANGE", "str", "-", "+"],
            &["XREVRANGE", "str", "+", "-"],
            &["XDEL", "str", "1-1"],
            &["XTRIM", "str", "MAXLEN", "1"],
            &["XSETID", "str", "1-1"],
            &["XREAD", "STREAMS", "str", "0"],
            &["XGROUP", "CREATE", "str", "g", "0"],
            &["XACK", "str", "g", "1-1"],
            &["XPENDING", "str", "g"],
            &["XCLAIM", "str", "g", "c", "0", "1-1"],
            &["XAUTOCLAIM", "str", "g", "c", "0", "0"],
            &["XINFO", "STREAM", "str"],
        ] {
            assert_eq!(fails(&mut con, cmd), WRONGTYPE, "{cmd:?}");
        }
        for cmd in [
            &["GET", "s"][..],
            &["LPUSH", "s", "x"],
            &["HSET", "s", "f", "v"],
            &["SADD", "s", "m"],
            &["ZADD", "s", "1", "m"],
            &["INCR", "s"],
            &["LRANGE", "s", "0", "-1"],
        ] {
            assert_eq!(fails(&mut con, cmd), WRONGTYPE, "{cmd:?}");
        }
        let _: () = q(&mut con, &["SET", "s", "replaced"]);
        assert_eq!(q::<String>(&mut con, &["TYPE", "s"]), "string");
        let _: String = q(&mut con, &["XADD", "e", "1-1", "a", "b"]);
        assert_eq!(q::<i64>(&mut con, &["PEXPIRE", "e", "30"]), 1);
        let deadline = Instant::now() + Duration::from_secs(5);
        while q::<i64>(&mut con, &["EXISTS", "e"]) == 1 {
            assert!(Instant::now() < deadline, "the stream never expired");
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(q::<i64>(&mut con, &["XLEN", "e"]), 0);
    }

    fn xrange_and_xrevrange_bounds_and_counts(srv: &Server) {
        let mut con = srv.client();
        for id in ["1-0", "1-1", "2-0", "2-5", "3-0"] {
            let _: String = q(&mut con, &["XADD", "s", id, "id", id]);
        }
        let all = entries(&mut con, &["XRANGE", "s", "-", "+"]);
        assert_eq!(ids(&all), ["1-0", "1-1", "2-0", "2-5", "3-0"]);
        assert_eq!(all[3].1, ["id", "2-5"]);
        assert_eq!(ids(&entries(&mut con, &["XRANGE", "s", "2", "2"])), ["2-0", "2-5"], "a lone ms covers the millisecond");
        assert_eq!(ids(&entries(&mut con, &["XRANGE", "s", "(1-0", "(2-5"])), ["1-1", "2-0"]);
        assert_eq!(ids(&entries(&mut con, &["XRANGE", "s", "(1", "+"])), ["1-1", "2-0", "2-5", "3-0"]);
        assert_eq!(ids(&entries(&mut con, &["XRANGE", "s", "-", "+", "COUNT", "2"])), ["1-0", "1-1"]);
        assert_eq!(ids(&entries(&mut con, &["XRANGE", "s", "-", "+", "COUNT", "-1"])).len(), 0);
        assert_eq!(q::<Value>(&mut con, &["XRANGE", "s", "-", "+", "COUNT", "0"]), Value::Nil);
        assert_eq!(ids(&entries(&mut con, &["XREVRANGE", "s", "+", "-", "COUNT", "2"])), ["3-0", "2-5"]);
        assert_eq!(ids(&entries(&mut con, &["XREVRANGE", "s", "(2-5", "(1"])), ["2-0", "1-1"]);
        assert!(entries(&mut con, &["XRANGE", "s", "3", "1"]).is_empty());
        assert!(entries(&mut con, &["XRANGE", "missing", "-", "+"]).is_empty());
        assert_eq!(fails(&mut con, &["XRANGE", "s", "(18446744073709551615-18446744073709551615", "+"]), "ERR invalid start ID for the interval");
        assert_eq!(fails(&mut con, &["XRANGE", "s", "-", "(0-0"]), "ERR invalid end ID for the interval");
        assert_eq!(fails(&mut con, &["XRANGE", "s", "(-", "+"]), INVALID_ID);
        assert_eq!(fails(&mut con, &["XRANGE", "s", "-", "+", "COUNT"]), "ERR syntax error");
        assert_eq!(fails(&mut con, &["XRANGE", "s", "-", "+", "COUNT", "x"]), "ERR value is not an integer or out of range");
        assert_eq!(fails(&mut con, &["XRANGE", "s", "-"]), "ERR wrong number of arguments for 'xrange' command");
    }

    fn xdel_flags_entries_and_keeps_an_emptied_stream(srv: &Server) {
        let mut con = srv.client();
        add_all(&mut con, "s", 1..=5);
        assert_eq!(q::<i64>(&mut con, &["XDEL", "s", "2-0", "9-0", "2-0"]), 1);
        assert_eq!(q::<i64>(&mut con, &["XDEL", "missing", "not-an-id"]), 0, "the key is looked up first");
        assert_eq!(fails(&mut con, &["XDEL", "s", "3-0", "bad"]), INVALID_ID);
        assert_eq!(q::<i64>(&mut con, &["XLEN", "s"]), 4, "an invalid ID deletes nothing");
        let info = map(&mut con, &["XINFO", "STREAM", "s"]);
        assert_eq!(redis::from_redis_value::<String>(&info["max-deleted-entry-id"]).unwrap(), "2-0");
        assert_eq!(q::<i64>(&mut con, &["XDEL", "s", "1-0", "3-0", "4-0", "5-0"]), 4);
        assert_eq!(q::<i64>(&mut con, &["EXISTS", "s"]), 1, "streams stay when empty");
        let info = map(&mut con, &["XINFO", "STREAM", "s"]);
        assert_eq!(int(&info["length"]), 0);
        assert_eq!(redis::from_redis_value::<String>(&info["last-generated-id"]).unwrap(), "5-0");
        assert_eq!(redis::from_redis_value::<String>(&info["recorded-first-entry-id"]).unwrap(), "0-0");
        assert_eq!(info["first-entry"], Value::Nil);
        assert_eq!(fails(&mut con, &["XADD", "s", "5-0", "a", "b"]), "ERR The ID specified in XADD is equal or smaller than the target stream top item");
    }

    fn trimming_exact_approximate_and_limited(srv: &Server) {
        let mut con = srv.client();
        add_all(&mut con, "s", 1..=1000);
        let info = map(&mut con, &["XINFO", "STREAM", "s"]);
        assert_eq!(int(&info["radix-tree-keys"]), 10, "100 entries per node");
        // Approximate trims drop whole nodes only.
        assert_eq!(q::<i64>(&mut con, &["XTRIM", "s", "MAXLEN", "~", "550"]), 400);
        assert_eq!(q::<i64>(&mut con, &["XLEN", "s"]), 600);
        assert_eq!(q::<i64>(&mut con, &["XTRIM", "s", "MAXLEN", "~", "550"]), 0);
        assert_eq!(q::<i64>(&mut con, &["XTRIM", "s", "MAXLEN", "~", "0", "LIMIT", "250"]), 200, "LIMIT counts whole nodes");
        assert_eq!(q::<i64>(&mut con, &["XTRIM", "s", "MAXLEN", "=", "350"]), 50);
        assert_eq!(ids(&entries(&mut con, &["XRANGE", "s", "-", "+", "COUNT", "1"])), ["651-0"]);
        assert_eq!(q::<i64>(&mut con, &["XTRIM", "s", "MINID", "~", "800"]), 50);
        assert_eq!(q::<i64>(&mut con, &["XTRIM", "s", "MINID", "899"]), 198);
        assert_eq!(ids(&entries(&mut con, &["XRANGE", "s", "-", "+", "COUNT", "1"])), ["899-0"]);
        assert_eq!(q::<i64>(&mut con, &["XTRIM", "s", "MAXLEN", "0"]), 102);
        assert_eq!(q::<i64>(&mut con, &["XLEN", "s"]), 0);
        // XADD trims after adding.
        add_all(&mut con, "t", 1..=5);
        let _: String = q(&mut con, &["XADD", "t", "MAXLEN", "3", "6-0", "n", "6"]);
        assert_eq!(ids(&entries(&mut con, &["XRANGE", "t", "-", "+"])), ["4-0", "5-0", "6-0"]);
        let _: String = q(&mut con, &["XADD", "t", "MINID", "6", "7-0", "n", "7"]);
        assert_eq!(ids(&entries(&mut con, &["XRANGE", "t", "-", "+"])), ["6-0", "7-0"]);
        for (cmd, want) in [
            (&["XTRIM", "t"][..], "ERR wrong number of arguments for 'xtrim' command"),
            (&["XTRIM", "t", "LIMIT", "0"], "ERR syntax error, XTRIM must be called with a trimming strategy"),
            (&["XTRIM", "t", "LIMIT", "5"], "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy"),
            (&["XTRIM", "t", "MAXLEN", "1", "LIMIT", "5"], "ERR syntax error, LIMIT cannot be used without the special ~ option"),
            (&["XTRIM", "t", "MAXLEN", "1", "MINID", "1"], "ERR syntax error, MAXLEN and MINID options at the same time are not compatible"),
            (&["XTRIM", "t", "MAXLEN", "-1"], "ERR The MAXLEN argument must be >= 0."),
            (&["XTRIM", "t", "MAXLEN", "~", "1", "LIMIT", "-1"], "ERR The LIMIT argument must be >= 0."),
            (&["XTRIM", "t", "FOO", "1"], "ERR syntax error"),
            (&["XADD", "t", "LIMIT", "5", "8-0", "a", "b"], "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy"),
            (&["XTRIM", "t", "MINID", "-"], INVALID_ID),
        ] {
            assert_eq!(fails(&mut con, cmd), want, "{cmd:?}");
        }
        assert_eq!(q::<i64>(&mut con, &["XTRIM", "missing", "MAXLEN", "0"]), 0);
    }

    fn capped_event_stream_stays_near_its_cap(srv: &Server) {
        // S59: the corrected argument order of the tutorial.
        let mut con = srv.client();
        let mut pipe = redis::pipe();
        for i in 0..1500 {
            pipe.cmd("XADD").arg("events").arg("MAXLEN").arg("~").arg("1000").arg("*").arg("event").arg("user_signup").arg("n").arg(i).ignore();
        }
        pipe.query::<()>(&mut con).unwrap();
        let len: i64 = q(&mut con, &["XLEN", "events"]);
        assert!((1000..=1100).contains(&len), "{len}");
        let last = entries(&mut con, &["XREVRANGE", "events", "+", "-", "COUNT", "1"]);
        assert_eq!(last[0].1, ["event", "user_signup", "n", "1499"]);
        assert_eq!(
            fails(&mut con, &["XADD", "events2", "*", "event", "user_signup", "MAXLEN", "~", "1000"]),
            "ERR wrong number of arguments for 'xadd' command"
        );
    }

    fn xsetid_moves_the_last_id_and_counters(srv: &Server) {
        let mut con = srv.client();
        add_all(&mut con, "s", [5]);
        assert_eq!(q::<String>(&mut con, &["XSETID", "s", "10-0", "ENTRIESADDED", "7", "MAXDELETEDID", "3-0"]), "OK");
        let info = map(&mut con, &["XINFO", "STREAM", "s"]);
        assert_eq!(redis::from_redis_value::<String>(&info["last-generated-id"]).unwrap(), "10-0");
        assert_eq!(int(&info["entries-added"]), 7);
        assert_eq!(redis::from_redis_value::<String>(&info["max-deleted-entry-id"]).unwrap(), "3-0");
        assert_eq!(fails(&mut con, &["XADD", "s", "9-0", "a", "b"]), "ERR The ID specified in XADD is equal or smaller than the target stream top item");
        assert_eq!(fails(&mut con, &["XSETID", "s", "4-0"]), "ERR The ID specified in XSETID is smaller than the target stream top item");
        assert_eq!(fails(&mut con, &["XSETID", "s", "11-0", "ENTRIESADDED", "0"]), "ERR The entries_added specified in XSETID is smaller than the target stream length");
        assert_eq!(fails(&mut con, &["XSETID", "s", "11-0", "ENTRIESADDED", "-1"]), "ERR entries_added must be positive");
        assert_eq!(fails(&mut con, &["XSETID", "s", "11-0", "MAXDELETEDID", "12-0"]), "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id");
        assert_eq!(fails(&mut con, &["XSETID", "missing", "1-0"]), "ERR no such key");
        assert_eq!(fails(&mut con, &["XSETID", "s", "1-0", "FOO", "1"]), "ERR syntax error");
    }

    fn consumer_groups_split_entries_between_consumers(srv: &Server) {
        // S58: two consumers with COUNT 5 share the work, XACK shrinks the PEL.
        let mut con = srv.client();
        assert_eq!(fails(&mut con, &["XGROUP", "CREATE", "tasks", "processors", "0"]),
            "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.");
        assert_eq!(q::<String>(&mut con, &["XGROUP", "CREATE", "tasks", "processors", "0", "MKSTREAM"]), "OK");
        assert_eq!(fails(&mut con, &["XGROUP", "CREATE", "tasks", "processors", "0"]), "BUSYGROUP Consumer Group name already exists");
        add_all(&mut con, "tasks", 1..=8);
        let first = read(&mut con, &["XREADGROUP", "GROUP", "processors", "w1", "COUNT", "5", "STREAMS", "tasks", ">"]);
        let second = read(&mut con, &["XREADGROUP", "GROUP", "processors", "w2", "COUNT", "5", "STREAMS", "tasks", ">"]);
        assert_eq!(read_ids(&first), [("tasks".into(), vec!["1-0".to_string(), "2-0".into(), "3-0".into(), "4-0".into(), "5-0".into()])]);
        assert_eq!(read_ids(&second), [("tasks".into(), vec!["6-0".to_string(), "7-0".into(), "8-0".into()])]);
        assert_eq!(read(&mut con, &["XREADGROUP", "GROUP", "processors", "w3", "STREAMS", "tasks", ">"]), None);
        let summary: Summary = q(&mut con, &["XPENDING", "tasks", "processors"]);
        assert_eq!(summary, (8, Some("1-0".into()), Some("8-0".into()), Some(vec![("w1".into(), "5".into()), ("w2".into(), "3".into())])));
        assert_eq!(q::<i64>(&mut con, &["XACK", "tasks", "processors", "1-0", "2-0", "1-0", "99-0"]), 2);
        let summary: Summary = q(&mut con, &["XPENDING", "tasks", "processors"]);
        assert_eq!(summary.0, 6);
        // The consumer's own history: what it has pending, re-delivered.
        let history = read(&mut con, &["XREADGROUP", "GROUP", "processors", "w1", "STREAMS", "tasks", "0"]);
        assert_eq!(read_ids(&history), [("tasks".into(), vec!["3-0".to_string(), "4-0".into(), "5-0".into()])]);
        let detail: Vec<(String, String, i64, i64)> = q(&mut con, &["XPENDING", "tasks", "processors", "-", "+", "10", "w1"]);
        assert_eq!(detail.iter().map(|d| (d.0.as_str(), d.1.as_str(), d.3)).collect::<Vec<_>>(),
            [("3-0", "w1", 2), ("4-0", "w1", 2), ("5-0", "w1", 2)]);
        let g = groups(&mut con, "tasks");
        assert_eq!(g["processors"], (2, 6, "8-0".into(), Some(8), Some(0)));
        let consumers: Vec<Vec<Value>> = q(&mut con, &["XINFO", "CONSUMERS", "tasks", "processors"]);
        let names: Vec<String> = consumers.iter().map(|c| redis::from_redis_value(&c[1]).unwrap()).collect();
        assert_eq!(names, ["w1", "w2"], "w3 read nothing and was not created");
        assert_eq!(q::<i64>(&mut con, &["XGROUP", "DELCONSUMER", "tasks", "processors", "w2"]), 3);
        let summary: Summary = q(&mut con, &["XPENDING", "tasks", "processors"]);
        assert_eq!(summary.0, 3);
        // NOACK reads advance the group without pending entries.
        add_all(&mut con, "tasks", [9]);
        let r = read(&mut con, &["XREADGROUP", "GROUP", "processors", "w9", "NOACK", "STREAMS", "tasks", ">"]);
        assert_eq!(read_ids(&r), [("tasks".into(), vec!["9-0".to_string()])]);
        assert_eq!(q::<Summary>(&mut con, &["XPENDING", "tasks", "processors"]).0, 3);
    }

    fn fan_out_every_group_receives_every_entry(srv: &Server) {
        let mut con = srv.client();
        add_all(&mut con, "orders", 1..=3);
        for g in ["billing", "shipping", "analytics"] {
            let _: String = q(&mut con, &["XGROUP", "CREATE", "orders", g, "0"]);
        }
        for g in ["billing", "shipping", "analytics"] {
            let r = read(&mut con, &["XREADGROUP", "GROUP", g, "worker", "STREAMS", "orders", ">"]);
            assert_eq!(read_ids(&r), [("orders".into(), vec!["1-0".to_string(), "2-0".into(), "3-0".into()])], "{g}");
        }
        let g = groups(&mut con, "orders");
        assert_eq!(g.keys().collect::<Vec<_>>(), ["analytics", "billing", "shipping"], "groups in name order");
        assert!(g.values().all(|v| v.1 == 3 && v.4 == Some(0)));
        assert_eq!(q::<i64>(&mut con, &["XGROUP", "DESTROY", "orders", "billing"]), 1);
        assert_eq!(q::<i64>(&mut con, &["XGROUP", "DESTROY", "orders", "billing"]), 0);
        assert_eq!(fails(&mut con, &["XREADGROUP", "GROUP", "billing", "w", "STREAMS", "orders", ">"]),
            "NOGROUP No such key 'orders' or consumer group 'billing' in XREADGROUP with GROUP option");
    }

    fn order_pipeline_recovers_a_crashed_consumers_orders(srv: &Server) {
        // Orders arrive; two workers in group "fulfil" take them; worker-1
        // crashes after reading (it never ACKs); worker-2 finishes its own
        // share, then claims worker-1's pending orders once they have been
        // idle long enough, processes them and acknowledges them.
        let mut producer = srv.client();
        let mut w1 = srv.client();
        let mut w2 = srv.client();
        let _: String = q(&mut producer, &["XGROUP", "CREATE", "orders", "fulfil", "$", "MKSTREAM"]);
        let mut placed = Vec::new();
        for n in 1..=10 {
            let id: String = q(&mut producer, &["XADD", "orders", "*", "order", &n.to_string(), "total", &format!("{}.99", n * 10)]);
            placed.push(id);
        }
        let crashed = read(&mut w1, &["XREADGROUP", "GROUP", "fulfil", "worker-1", "COUNT", "4", "STREAMS", "orders", ">"]);
        let lost: Vec<String> = read_ids(&crashed)[0].1.clone();
        assert_eq!(lost, placed[..4]);
        drop(w1);
        // worker-2 drains the rest and acknowledges each order.
        loop {
            let r = read(&mut w2, &["XREADGROUP", "GROUP", "fulfil", "worker-2", "COUNT", "3", "STREAMS", "orders", ">"]);
            let Some(streams) = r else { break };
            for (id, fields) in &streams[0].1 {
                assert_eq!(fields[0], "order");
                assert_eq!(q::<i64>(&mut w2, &["XACK", "orders", "fulfil", id]), 1);
            }
        }
        let summary: Summary = q(&mut w2, &["XPENDING", "orders", "fulfil"]);
        assert_eq!(summary, (4, Some(placed[0].clone()), Some(placed[3].clone()), Some(vec![("worker-1".into(), "4".into())])));
        // Not idle long enough yet: nothing to claim.
        let none: (String, Entries, Vec<String>) = q(&mut w2, &["XAUTOCLAIM", "orders", "fulfil", "worker-2", "3600000", "0"]);
        assert!(none.1.is_empty());
        // Wait until they are 100 ms idle (the server's clock decides).
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut recovered = Vec::new();
        let mut cursor = "0-0".to_string();
        while recovered.len() < 4 {
            assert!(Instant::now() < deadline, "never became claimable");
            let (next, claimed, deleted): (String, Entries, Vec<String>) =
                q(&mut w2, &["XAUTOCLAIM", "orders", "fulfil", "worker-2", "100", &cursor, "COUNT", "2"]);
            assert!(deleted.is_empty());
            for (id, fields) in claimed {
                assert_eq!(fields[0], "order", "full entries without JUSTID");
                recovered.push(id);
            }
            cursor = next;
            if recovered.is_empty() {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        assert_eq!(recovered, placed[..4]);
        assert_eq!(cursor, "0-0", "the whole PEL was scanned");
        let detail: Vec<(String, String, i64, i64)> = q(&mut w2, &["XPENDING", "orders", "fulfil", "-", "+", "10"]);
        assert!(detail.iter().all(|(_, owner, _, deliveries)| owner == "worker-2" && *deliveries == 2), "{detail:?}");
        for id in &recovered {
            assert_eq!(q::<i64>(&mut w2, &["XACK", "orders", "fulfil", id]), 1);
        }
        assert_eq!(q::<Summary>(&mut w2, &["XPENDING", "orders", "fulfil"]), (0, None, None, None));
        let g = groups(&mut w2, "orders");
        assert_eq!(g["fulfil"], (2, 0, placed[9].clone(), Some(10), Some(0)));
        let consumers: Vec<Vec<Value>> = q(&mut w2, &["XINFO", "CONSUMERS", "orders", "fulfil"]);
        let pending: Vec<(String, i64)> = consumers.iter().map(|c| (redis::from_redis_value(&c[1]).unwrap(), int(&c[3]))).collect();
        assert_eq!(pending, [("worker-1".into(), 0), ("worker-2".into(), 0)]);
    }

    fn xpending_extended_form_filters_by_idle_range_and_consumer(srv: &Server) {
        let mut con = srv.client();
        add_all(&mut con, "s", 1..=4);
        let _: String = q(&mut con, &["XGROUP", "CREATE", "s", "g", "0"]);
        let _: Read = q(&mut con, &["XREADGROUP", "GROUP", "g", "alice", "COUNT", "3", "STREAMS", "s", ">"]);
        let _: Read = q(&mut con, &["XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", ">"]);
        // Backdate 1-0 by an hour.
        let hour_ago = (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() - 3_600_000).to_string();
        let _: Vec<String> = q(&mut con, &["XCLAIM", "s", "g", "alice", "0", "1-0", "TIME", &hour_ago, "JUSTID"]);
        let detail: Vec<(String, String, i64, i64)> = q(&mut con, &["XPENDING", "s", "g", "IDLE", "600000", "-", "+", "10"]);
        assert_eq!(detail.len(), 1);
        assert_eq!((detail[0].0.as_str(), detail[0].1.as_str(), detail[0].3), ("1-0", "alice", 1));
        assert!(detail[0].2 >= 3_599_000);
        let all: Vec<(String, String, i64, i64)> = q(&mut con, &["XPENDING", "s", "g", "(1", "+", "2"]);
        assert_eq!(all.iter().map(|d| d.0.as_str()).collect::<Vec<_>>(), ["2-0", "3-0"]);
        let bobs: Vec<(String, String, i64, i64)> = q(&mut con, &["XPENDING", "s", "g", "-", "+", "10", "bob"]);
        assert_eq!(bobs.iter().map(|d| d.0.as_str()).collect::<Vec<_>>(), ["4-0"]);
        assert!(q::<Vec<Value>>(&mut con, &["XPENDING", "s", "g", "-", "+", "10", "nobody"]).is_empty());
        assert_eq!(fails(&mut con, &["XPENDING", "s", "g", "-", "+"]), "ERR syntax error");
        assert_eq!(fails(&mut con, &["XPENDING", "s", "g", "IDLE", "5", "-", "+"]), "ERR syntax error");
        assert_eq!(fails(&mut con, &["XPENDING", "s", "nog"]), "NOGROUP No such key 's' or consumer group 'nog'");
        assert_eq!(fails(&mut con, &["XPENDING", "missing", "g", "-", "+", "1"]), "NOGROUP No such key 'missing' or consumer group 'g'");
    }

    fn xclaim_options(srv: &Server) {
        let mut con = srv.client();
        add_all(&mut con, "s", 1..=4);
        let _: String = q(&mut con, &["XGROUP", "CREATE", "s", "g", "0"]);
        let _: Read = q(&mut con, &["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", ">"]);
        assert!(entries(&mut con, &["XCLAIM", "s", "g", "bob", "3600000", "1-0"]).is_empty(), "not idle enough");
        let claimed = entries(&mut con, &["XCLAIM", "s", "g", "bob", "0", "1-0", "2-0", "9-0"]);
        assert_eq!(ids(&claimed), ["1-0", "2-0"]);
        assert_eq!(claimed[0].1, ["n", "1"]);
        assert_eq!(q::<Vec<String>>(&mut con, &["XCLAIM", "s", "g", "bob", "0", "3-0", "JUSTID", "RETRYCOUNT", "7"]), ["3-0"]);
        let detail: Vec<(String, String, i64, i64)> = q(&mut con, &["XPENDING", "s", "g", "-", "+", "10"]);
        let counts: Vec<(&str, &str, i64)> = detail.iter().map(|d| (d.0.as_str(), d.1.as_str(), d.3)).collect();
        assert_eq!(counts, [("1-0", "bob", 2), ("2-0", "bob", 2), ("3-0", "bob", 7), ("4-0", "alice", 1)]);
        // A deleted entry leaves the PEL; FORCE makes an unread one pending.
        assert_eq!(q::<i64>(&mut con, &["XDEL", "s", "2-0"]), 1);
        assert!(entries(&mut con, &["XCLAIM", "s", "g", "carol", "0", "2-0"]).is_empty());
        assert_eq!(q::<i64>(&mut con, &["XACK", "s", "g", "4-0"]), 1);
        assert_eq!(q::<Vec<String>>(&mut con, &["XCLAIM", "s", "g", "carol", "0", "4-0", "FORCE", "JUSTID"]), ["4-0"]);
        let summary: Summary = q(&mut con, &["XPENDING", "s", "g"]);
        assert_eq!(summary, (3, Some("1-0".into()), Some("4-0".into()), Some(vec![("bob".into(), "2".into()), ("carol".into(), "1".into())])));
        // LASTID only moves the group forward.
        let _: Vec<String> = q(&mut con, &["XCLAIM", "s", "g", "bob", "0", "1-0", "JUSTID", "LASTID", "10-0"]);
        assert_eq!(groups(&mut con, "s")["g"].2, "10-0");
        let _: Vec<String> = q(&mut con, &["XCLAIM", "s", "g", "bob", "0", "1-0", "JUSTID", "LASTID", "5-0"]);
        assert_eq!(groups(&mut con, "s")["g"].2, "10-0");
        for (cmd, want) in [
            (&["XCLAIM", "s", "g", "bob", "x", "1-0"][..], "ERR Invalid min-idle-time argument for XCLAIM"),
            (&["XCLAIM", "s", "g", "bob", "0", "1-0", "IDLE", "x"], "ERR Invalid IDLE option argument for XCLAIM"),
            (&["XCLAIM", "s", "g", "bob", "0", "1-0", "TIME", "x"], "ERR Invalid TIME option argument for XCLAIM"),
            (&["XCLAIM", "s", "g", "bob", "0", "1-0", "RETRYCOUNT", "x"], "ERR Invalid RETRYCOUNT option argument for XCLAIM"),
            (&["XCLAIM", "s", "g", "bob", "0", "1-0", "FOO"], "ERR Unrecognized XCLAIM option 'FOO'"),
            (&["XCLAIM", "s", "nog", "bob", "0", "1-0"], "NOGROUP No such key 's' or consumer group 'nog'"),
            (&["XCLAIM", "s", "g", "bob", "0"], "ERR wrong number of arguments for 'xclaim' command"),
        ] {
            assert_eq!(fails(&mut con, cmd), want, "{cmd:?}");
        }
    }

    fn xautoclaim_cursor_count_and_deleted_ids(srv: &Server) {
        let mut con = srv.client();
        add_all(&mut con, "s", 1..=6);
        let _: String = q(&mut con, &["XGROUP", "CREATE", "s", "g", "0"]);
        let _: Read = q(&mut con, &["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", ">"]);
        let _: i64 = q(&mut con, &["XDEL", "s", "2-0", "3-0"]);
        let (next, claimed, deleted): (String, Vec<String>, Vec<String>) =
            q(&mut con, &["XAUTOCLAIM", "s", "g", "bob", "0", "0", "COUNT", "3", "JUSTID"]);
        assert_eq!((next.as_str(), claimed, deleted), ("4-0", vec!["1-0".to_string()], vec!["2-0".to_string(), "3-0".into()]),
            "deleted entries count against COUNT and are reported");
        let (next, claimed, deleted): (String, Entries, Vec<String>) = q(&mut con, &["XAUTOCLAIM", "s", "g", "bob", "0", &next]);
        assert_eq!((next.as_str(), ids(&claimed), deleted.len()), ("0-0", vec!["4-0", "5-0", "6-0"], 0));
        let summary: Summary = q(&mut con, &["XPENDING", "s", "g"]);
        assert_eq!(summary.3, Some(vec![("bob".into(), "4".into())]));
        assert_eq!(fails(&mut con, &["XAUTOCLAIM", "s", "g", "bob", "0", "0", "COUNT", "0"]), "ERR COUNT must be > 0");
        assert_eq!(fails(&mut con, &["XAUTOCLAIM", "s", "g", "bob", "x", "0"]), "ERR Invalid min-idle-time argument for XAUTOCLAIM");
        assert_eq!(fails(&mut con, &["XAUTOCLAIM", "s", "g", "bob", "0", "x"]), INVALID_ID);
        assert_eq!(fails(&mut con, &["XAUTOCLAIM", "s", "g", "bob", "0", "0", "FOO"]), "ERR syntax error");
        assert_eq!(fails(&mut con, &["XAUTOCLAIM", "s", "nog", "bob", "0", "0"]), "NOGROUP No such key 's' or consumer group 'nog'");
    }

    fn xgroup_subcommands_and_errors(srv: &Server) {
        let mut con = srv.client();
        add_all(&mut con, "s", 1..=3);
        assert_eq!(q::<String>(&mut con, &["XGROUP", "CREATE", "s", "g", "$"]), "OK");
        assert_eq!(q::<String>(&mut con, &["XGROUP", "CREATE", "s", "h", "1", "ENTRIESREAD", "1"]), "OK");
        assert_eq!(q::<String>(&mut con, &["XGROUP", "SETID", "s", "g", "0"]), "OK");
        let g = groups(&mut con, "s");
        assert_eq!(g["g"], (0, 0, "0-0".into(), None, Some(3)));
        assert_eq!(g["h"], (0, 0, "1-0".into(), Some(1), Some(2)));
        assert_eq!(q::<String>(&mut con, &["XGROUP", "SETID", "s", "g", "$", "ENTRIESREAD", "3"]), "OK");
        assert_eq!(groups(&mut con, "s")["g"], (0, 0, "3-0".into(), Some(3), Some(0)));
        assert_eq!(q::<i64>(&mut con, &["XGROUP", "CREATECONSUMER", "s", "g", "alice"]), 1);
        assert_eq!(q::<i64>(&mut con, &["XGROUP", "CREATECONSUMER", "s", "g", "alice"]), 0);
        assert_eq!(q::<i64>(&mut con, &["XGROUP", "DELCONSUMER", "s", "g", "alice"]), 0);
        assert_eq!(q::<i64>(&mut con, &["XGROUP", "DELCONSUMER", "s", "g", "alice"]), 0);
        for (cmd, want) in [
            (&["XGROUP", "SETID", "s", "nog", "0"][..], "NOGROUP No such consumer group 'nog' for key name 's'"),
            (&["XGROUP", "CREATECONSUMER", "s", "nog", "c"], "NOGROUP No such consumer group 'nog' for key name 's'"),
            (&["XGROUP", "CREATE", "s", "x", "0", "ENTRIESREAD", "-2"], "ERR value for ENTRIESREAD must be positive or -1"),
            (&["XGROUP", "CREATE", "s", "x", "0", "FOO"], "ERR unknown subcommand or wrong number of arguments for 'CREATE'. Try XGROUP HELP."),
            (&["XGROUP", "SETID", "s", "g", "0", "MKSTREAM"], "ERR unknown subcommand or wrong number of arguments for 'SETID'. Try XGROUP HELP."),
            (&["XGROUP", "CREATE", "s", "x", "+"], INVALID_ID),
            (&["XGROUP", "FOO", "s", "g"], "ERR unknown subcommand 'FOO'. Try XGROUP HELP."),
            (&["XGROUP", "CREATE", "s", "g"], "ERR wrong number of arguments for 'xgroup|create' command"),
            (&["XGROUP", "DESTROY", "s"], "ERR wrong number of arguments for 'xgroup|destroy' command"),
            (&["XGROUP"], "ERR wrong number of arguments for 'xgroup' command"),
        ] {
            assert_eq!(fails(&mut con, cmd), want, "{cmd:?}");
        }
        let help: Vec<String> = q(&mut con, &["XGROUP", "HELP"]);
        assert_eq!(help[0], "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
        assert_eq!(help.last().unwrap(), "    Prints this help.");
        assert_eq!(help.len(), 17);
    }

    fn xinfo_stream_groups_and_consumers(srv: &Server) {
        let mut con = srv.client();
        assert_eq!(fails(&mut con, &["XINFO", "STREAM", "s"]), "ERR no such key");
        let _: String = q(&mut con, &["XADD", "s", "1-0", "a", "1", "b", "2"]);
        let _: String = q(&mut con, &["XADD", "s", "2-0", "c", "3"]);
        let info = map(&mut con, &["XINFO", "STREAM", "s"]);
        assert_eq!(int(&info["length"]), 2);
        assert_eq!(int(&info["radix-tree-keys"]), 1);
        assert_eq!(int(&info["radix-tree-nodes"]), 2);
        assert_eq!(int(&info["entries-added"]), 2);
        assert_eq!(int(&info["groups"]), 0);
        let first: (String, Vec<String>) = redis::from_redis_value(&info["first-entry"]).unwrap();
        let last: (String, Vec<String>) = redis::from_redis_value(&info["last-entry"]).unwrap();
        assert_eq!((first.0.as_str(), first.1.len(), last.0.as_str()), ("1-0", 4, "2-0"));
        let _: String = q(&mut con, &["XGROUP", "CREATE", "s", "g", "0"]);
        let _: Read = q(&mut con, &["XREADGROUP", "GROUP", "g", "c1", "COUNT", "1", "STREAMS", "s", ">"]);
        let full = map(&mut con, &["XINFO", "STREAM", "s", "FULL"]);
        let all: Entries = redis::from_redis_value(&full["entries"]).unwrap();
        assert_eq!(ids(&all), ["1-0", "2-0"]);
        let g: Vec<Vec<Value>> = redis::from_redis_value(&full["groups"]).unwrap();
        let g: HashMap<String, Value> = g[0].chunks(2).map(|kv| (redis::from_redis_value(&kv[0]).unwrap(), kv[1].clone())).collect();
        assert_eq!(int(&g["pel-count"]), 1);
        assert_eq!(int(&g["lag"]), 1);
        let pel: Vec<(String, String, i64, i64)> = redis::from_redis_value(&g["pending"]).unwrap();
        assert_eq!((pel[0].0.as_str(), pel[0].1.as_str(), pel[0].3), ("1-0", "c1", 1));
        let limited = map(&mut con, &["XINFO", "STREAM", "s", "FULL", "COUNT", "1"]);
        assert_eq!(redis::from_redis_value::<Entries>(&limited["entries"]).unwrap().len(), 1);
        let consumers: Vec<Vec<Value>> = q(&mut con, &["XINFO", "CONSUMERS", "s", "g"]);
        assert_eq!(consumers[0].len(), 6, "name, pending, idle");
        assert!(int(&consumers[0][5]) >= 0);
        assert_eq!(fails(&mut con, &["XINFO", "CONSUMERS", "s", "nog"]), "NOGROUP No such consumer group 'nog' for key name 's'");
        assert_eq!(fails(&mut con, &["XINFO", "STREAM", "s", "FOO"]), "ERR unknown subcommand or wrong number of arguments for 'STREAM'. Try XINFO HELP.");
        assert_eq!(fails(&mut con, &["XINFO", "FOO", "s"]), "ERR unknown subcommand 'FOO'. Try XINFO HELP.");
        assert_eq!(fails(&mut con, &["XINFO", "GROUPS"]), "ERR wrong number of arguments for 'xinfo|groups' command");
        assert_eq!(q::<Vec<String>>(&mut con, &["XINFO", "HELP"]).len(), 9);
    }

    fn resp3_shapes(srv: &Server) {
        let mut raw = srv.raw();
        raw.cmd(&[b"XADD", b"s", b"1-0", b"f", b"v"]);
        raw.cmd(&[b"XGROUP", b"CREATE", b"s", b"g", b"0"]);
        let entry = b"*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n";
        let mut resp2 = b"*1\r\n*2\r\n$1\r\ns\r\n".to_vec();
        resp2.extend_from_slice(entry);
        assert_eq!(raw.cmd(&[b"XREAD", b"STREAMS", b"s", b"0"]), resp2);
        assert_eq!(raw.cmd(&[b"XREAD", b"STREAMS", b"s", b"1"]), b"*-1\r\n");
        assert_eq!(raw.cmd(&[b"XRANGE", b"s", b"-", b"+", b"COUNT", b"0"]), b"*-1\r\n");
        assert_eq!(raw.cmd(&[b"XPENDING", b"s", b"g"]), b"*4\r\n:0\r\n$-1\r\n$-1\r\n*-1\r\n");
        raw.cmd(&[b"HELLO", b"3"]);
        let mut resp3 = b"%1\r\n$1\r\ns\r\n".to_vec();
        resp3.extend_from_slice(entry);
        assert_eq!(raw.cmd(&[b"XREAD", b"STREAMS", b"s", b"0"]), resp3);
        assert_eq!(raw.cmd(&[b"XREADGROUP", b"GROUP", b"g", b"c", b"STREAMS", b"s", b">"]), resp3);
        assert_eq!(raw.cmd(&[b"XREAD", b"STREAMS", b"s", b"1"]), b"_\r\n");
        assert_eq!(raw.cmd(&[b"XPENDING", b"s", b"nog"]), b"-NOGROUP No such key 's' or consumer group 'nog'\r\n");
        let groups = raw.cmd(&[b"XINFO", b"GROUPS", b"s"]);
        assert!(groups.starts_with(b"*1\r\n%6\r\n$4\r\nname\r\n$1\r\ng\r\n"), "{}", groups.escape_ascii());
        let info = raw.cmd(&[b"XINFO", b"STREAM", b"s"]);
        assert!(info.starts_with(b"%10\r\n$6\r\nlength\r\n:1\r\n"), "{}", info.escape_ascii());
        let full = raw.cmd(&[b"XINFO", b"STREAM", b"s", b"FULL"]);
        assert!(full.starts_with(b"%9\r\n"), "{}", full.escape_ascii());
        raw.cmd(&[b"XADD", b"empty", b"1-0", b"f", b"v"]);
        raw.cmd(&[b"XDEL", b"empty", b"1-0"]);
        let empty = raw.cmd(&[b"XINFO", b"STREAM", b"empty"]);
        assert!(empty.ends_with(b"$11\r\nfirst-entry\r\n_\r\n$10\r\nlast-entry\r\n_\r\n"), "{}", empty.escape_ascii());
    }

    fn reads_of_streams_on_several_shards(srv: &Server) {
        let mut con = srv.client();
        add_all(&mut con, "a", [1, 2]);
        add_all(&mut con, "b", [3]);
        add_all(&mut con, "c", [4, 5, 6]);
        let r = read(&mut con, &["XREAD", "STREAMS", "a", "b", "c", "d", "0", "0", "0", "0"]);
        assert_eq!(read_ids(&r), [
            ("a".into(), vec!["1-0".to_string(), "2-0".into()]),
            ("b".into(), vec!["3-0".to_string()]),
            ("c".into(), vec!["4-0".to_string(), "5-0".into(), "6-0".into()]),
        ]);
        let r = read(&mut con, &["XREAD", "COUNT", "1", "STREAMS", "c", "a", "$", "1"]);
        assert_eq!(read_ids(&r), [("a".into(), vec!["2-0".to_string()])], "reply order follows the arguments");
        assert_eq!(read(&mut con, &["XREAD", "STREAMS", "a", "b", "$", "$"]), None);
        let _: () = q(&mut con, &["SET", "d", "str"]);
        assert_eq!(fails(&mut con, &["XREAD", "STREAMS", "a", "d", "0", "0"]), WRONGTYPE);
        assert_eq!(fails(&mut con, &["XREAD", "STREAMS", "a", "b", "0", "bad"]), INVALID_ID);
        for k in ["a", "c"] {
            let _: String = q(&mut con, &["XGROUP", "CREATE", k, "g", "0"]);
        }
        // b has no group g: the error leaves a and c untouched.
        assert_eq!(fails(&mut con, &["XREADGROUP", "GROUP", "g", "w", "STREAMS", "a", "b", "c", ">", ">", ">"]),
            "NOGROUP No such key 'b' or consumer group 'g' in XREADGROUP with GROUP option");
        assert_eq!(q::<Summary>(&mut con, &["XPENDING", "a", "g"]).0, 0);
        assert!(q::<Vec<Value>>(&mut con, &["XINFO", "CONSUMERS", "a", "g"]).is_empty());
        let r = read(&mut con, &["XREADGROUP", "GROUP", "g", "w", "COUNT", "2", "STREAMS", "c", "a", ">", ">"]);
        assert_eq!(read_ids(&r), [
            ("c".into(), vec!["4-0".to_string(), "5-0".into()]),
            ("a".into(), vec!["1-0".to_string(), "2-0".into()]),
        ]);
        let r = read(&mut con, &["XREADGROUP", "GROUP", "g", "w", "STREAMS", "a", "c", ">", ">"]);
        assert_eq!(read_ids(&r), [("c".into(), vec!["6-0".to_string()])]);
        let r = read(&mut con, &["XREADGROUP", "GROUP", "g", "w", "STREAMS", "a", "c", "0", "0"]);
        assert_eq!(read_ids(&r), [
            ("a".into(), vec!["1-0".to_string(), "2-0".into()]),
            ("c".into(), vec!["4-0".to_string(), "5-0".into(), "6-0".into()]),
        ]);
        assert_eq!(q::<Summary>(&mut con, &["XPENDING", "c", "g"]).0, 3);
        let keys: Vec<String> = q(&mut con, &["COMMAND", "GETKEYS", "XREADGROUP", "GROUP", "g", "w", "STREAMS", "a", "c", ">", ">"]);
        assert_eq!(keys, ["a", "c"]);
        let keys: Vec<String> = q(&mut con, &["COMMAND", "GETKEYS", "XREAD", "COUNT", "1", "STREAMS", "a", "b", "0", "0"]);
        assert_eq!(keys, ["a", "b"]);
    }

    fn xread_errors_and_block_with_entries_at_hand(srv: &Server) {
        let mut con = srv.client();
        add_all(&mut con, "s", [1, 2]);
        // BLOCK with entries at hand answers at once, as in Redis.
        let r = read(&mut con, &["XREAD", "BLOCK", "0", "COUNT", "1", "STREAMS", "s", "0"]);
        assert_eq!(read_ids(&r), [("s".into(), vec!["1-0".to_string()])]);
        let _: String = q(&mut con, &["XGROUP", "CREATE", "s", "g", "0"]);
        let r = read(&mut con, &["XREADGROUP", "GROUP", "g", "c", "BLOCK", "1000", "STREAMS", "s", ">"]);
        assert_eq!(read_ids(&r), [("s".into(), vec!["1-0".to_string(), "2-0".into()])]);
        for (cmd, want) in [
            (&["XREAD", "STREAMS", "s"][..], "ERR wrong number of arguments for 'xread' command"),
            (&["XREAD", "STREAMS", "s", "t", "0"], "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified."),
            (&["XREAD", "COUNT", "1", "s", "0"], "ERR syntax error"),
            (&["XREAD", "STREAMS", "s", ">"], "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option."),
            (&["XREAD", "GROUP", "g", "c", "STREAMS", "s", "0"], "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead."),
            (&["XREAD", "NOACK", "STREAMS", "s", "0"], "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead."),
            (&["XREAD", "BLOCK", "x", "STREAMS", "s", "0"], "ERR timeout is not an integer or out of range"),
            (&["XREAD", "BLOCK", "-1", "STREAMS", "s", "0"], "ERR timeout is negative"),
            (&["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "$"],
             "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set."),
            (&["XREADGROUP", "COUNT", "1", "NOACK", "STREAMS", "s", ">"], "ERR Missing GROUP option for XREADGROUP"),
            (&["XREADGROUP", "GROUP", "g", "c", "STREAMS", "missing", ">"], "NOGROUP No such key 'missing' or consumer group 'g' in XREADGROUP with GROUP option"),
        ] {
            assert_eq!(fails(&mut con, cmd), want, "{cmd:?}");
        }
    }

    fn xread_block_waits_for_an_xadd_from_another_client(srv: &Server) {
        // Two streams on (usually) different shards: the reader blocks on
        // both and the writer's XADD to the second wakes it, with only
        // that stream's new entry.
        let mut con = srv.client();
        add_all(&mut con, "feed:a", [1]);
        add_all(&mut con, "feed:b", [1]);
        let port = srv.port();
        let reader = std::thread::spawn(move || {
            let mut raw = common::RawConn::connect(port);
            let start = Instant::now();
            raw.send(&req(&["XREAD", "BLOCK", "5000", "STREAMS", "feed:a", "feed:b", "$", "$"]));
            (raw.read_reply(), start.elapsed())
        });
        // Poll until the reader is registered, then write.
        let deadline = Instant::now() + Duration::from_secs(5);
        while !q::<String>(&mut con, &["INFO", "clients"]).contains("blocked_clients:1") {
            assert!(Instant::now() < deadline, "the reader never blocked");
            std::thread::sleep(Duration::from_millis(2));
        }
        let _: String = q(&mut con, &["XADD", "feed:b", "5-0", "price", "42"]);
        let (reply, took) = reader.join().unwrap();
        assert_eq!(
            String::from_utf8(reply).unwrap(),
            "*1\r\n*2\r\n$6\r\nfeed:b\r\n*1\r\n*2\r\n$3\r\n5-0\r\n*2\r\n$5\r\nprice\r\n$2\r\n42\r\n"
        );
        assert!(took < Duration::from_secs(4), "woken by the XADD, not the timeout: {took:?}");
    }

    fn xread_block_times_out_with_a_null_array_and_serves_at_once_when_entries_exist(srv: &Server) {
        let mut con = srv.client();
        add_all(&mut con, "s", [1, 2]);
        let start = Instant::now();
        let r: Value = q(&mut con, &["XREAD", "BLOCK", "150", "STREAMS", "s", "$"]);
        let took = start.elapsed();
        assert_eq!(r, Value::Nil);
        assert!(took >= Duration::from_millis(150) && took < Duration::from_millis(1500), "{took:?}");
        // Entries after the ID are there: no wait at all.
        let r = read(&mut con, &["XREAD", "BLOCK", "0", "STREAMS", "s", "1-0"]);
        assert_eq!(read_ids(&r), [("s".into(), vec!["2-0".to_string()])]);
        // Inside MULTI a read that would wait answers a null array at once.
        let (got,): (Value,) = redis::pipe()
            .atomic()
            .cmd("XREAD").arg("BLOCK").arg("0").arg("STREAMS").arg("s").arg("$")
            .query(&mut con)
            .unwrap();
        assert_eq!(got, Value::Nil);
    }

    fn xreadgroup_block_serves_new_entries_once_and_unblocks_on_deletion(srv: &Server) {
        let mut con = srv.client();
        let _: String = q(&mut con, &["XGROUP", "CREATE", "jobs", "workers", "$", "MKSTREAM"]);
        let port = srv.port();
        let worker = |name: &'static str| {
            std::thread::spawn(move || {
                let mut raw = common::RawConn::connect(port);
                raw.send(&req(&[
                    "XREADGROUP", "GROUP", "workers", name, "BLOCK", "5000", "STREAMS", "jobs", ">",
                ]));
                String::from_utf8(raw.read_reply()).unwrap()
            })
        };
        let (w1, w2) = (worker("w1"), worker("w2"));
        let deadline = Instant::now() + Duration::from_secs(5);
        while !q::<String>(&mut con, &["INFO", "clients"]).contains("blocked_clients:2") {
            assert!(Instant::now() < deadline, "the workers never blocked");
            std::thread::sleep(Duration::from_millis(2));
        }
        // One job: exactly one worker gets it; deleting the stream then
        // tells the other its stream is gone, as Redis does.
        let _: String = q(&mut con, &["XADD", "jobs", "1-0", "job", "resize"]);
        let deadline = Instant::now() + Duration::from_secs(5);
        while !q::<String>(&mut con, &["INFO", "clients"]).contains("blocked_clients:1") {
            assert!(Instant::now() < deadline, "nobody took the job");
            std::thread::sleep(Duration::from_millis(2));
        }
        let _: i64 = q(&mut con, &["DEL", "jobs"]);
        let mut got = [w1.join().unwrap(), w2.join().unwrap()];
        got.sort();
        assert_eq!(got[0], "*1\r\n*2\r\n$4\r\njobs\r\n*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$3\r\njob\r\n$6\r\nresize\r\n");
        assert_eq!(got[1], "-UNBLOCKED the stream key no longer exists\r\n");
    }

    fn stream_node_settings_shape_nodes(srv: &Server) {
        let mut con = srv.client();
        let got: Vec<String> = q(&mut con, &["CONFIG", "GET", "stream-node-max-*"]);
        assert_eq!(got.len(), 4);
        let got: HashMap<String, String> = got.chunks(2).map(|kv| (kv[0].clone(), kv[1].clone())).collect();
        assert_eq!(got["stream-node-max-bytes"], "4096");
        assert_eq!(got["stream-node-max-entries"], "100");
        let _: () = q(&mut con, &["CONFIG", "SET", "stream-node-max-entries", "10"]);
        // Every shard applies it before its next command.
        for key in ["a", "b", "c", "d"] {
            add_all(&mut con, key, 1..=25);
            let info = map(&mut con, &["XINFO", "STREAM", key]);
            assert_eq!(int(&info["radix-tree-keys"]), 3, "{key}");
        }
        let _: () = q(&mut con, &["CONFIG", "SET", "stream-node-max-entries", "100"]);
        let _: () = q(&mut con, &["CONFIG", "SET", "stream-node-max-bytes", "1kb"]);
        assert_eq!(q::<Vec<String>>(&mut con, &["CONFIG", "GET", "stream-node-max-bytes"])[1], "1024");
        let big = "x".repeat(300);
        for i in 1..=10 {
            let _: String = q(&mut con, &["XADD", "e", &format!("{i}-0"), "f", &big]);
        }
        let info = map(&mut con, &["XINFO", "STREAM", "e"]);
        assert_eq!(int(&info["radix-tree-keys"]), 4, "three 300-byte values per 1kb node");
        assert_eq!(fails(&mut con, &["CONFIG", "SET", "stream-node-max-entries", "-1"]).split(' ').next(), Some("ERR"));
    }

    fn entries_are_stored_compactly(srv: &Server) {
        let mut con = srv.client();
        let mut pipe = redis::pipe();
        for i in 0..10_000u64 {
            pipe.cmd("XADD").arg("sensor").arg(format!("{}-0", 1_700_000_000_000 + i)).arg("temp").arg(20 + i % 10).arg("room").arg("kitchen").ignore();
        }
        pipe.query::<()>(&mut con).unwrap();
        let bytes: i64 = q(&mut con, &["MEMORY", "USAGE", "sensor"]);
        // Redis 7.0.15 answers 267380 bytes for this stream; one
        // allocation per entry would cost several times that.
        assert!(bytes < 10_000 * 24, "{bytes} bytes for 10000 entries");
        assert!(bytes > 10_000 * 4, "{bytes}");
    }

    fn transactions_and_scripts_see_streams(srv: &Server) {
        let mut con = srv.client();
        let (id, len): (String, i64) = redis::pipe().atomic()
            .cmd("XADD").arg("s").arg("1-1").arg("f").arg("v")
            .cmd("XLEN").arg("s")
            .query(&mut con).unwrap();
        assert_eq!((id.as_str(), len), ("1-1", 1));
        let script = "redis.call('XADD', KEYS[1], '2-1', 'f', 'w'); return redis.call('XRANGE', KEYS[1], '-', '+')";
        let got: Entries = redis::cmd("EVAL").arg(script).arg(1).arg("s").query(&mut con).unwrap();
        assert_eq!(ids(&got), ["1-1", "2-1"]);
        let got: Read = redis::cmd("EVAL").arg("return redis.call('XREAD', 'STREAMS', KEYS[1], '1')").arg(1).arg("s").query(&mut con).unwrap();
        assert_eq!(read_ids(&got), [("s".into(), vec!["1-1".to_string(), "2-1".into()])]);
        let e = redis::cmd("EVAL").arg("return redis.call('xread', 'BLOCK', '0', 'STREAMS', KEYS[1], '0')").arg(1).arg("s").query::<Value>(&mut con).unwrap_err();
        assert!(common::error_text(e).starts_with("ERR xread command is not allowed with BLOCK option from scripts"));
        // WATCH notices an XADD from another connection.
        let mut other = srv.client();
        let _: () = q(&mut con, &["WATCH", "s"]);
        let _: String = q(&mut other, &["XADD", "s", "3-1", "f", "x"]);
        let res: Option<(i64,)> = redis::pipe().atomic().cmd("XLEN").arg("s").query(&mut con).unwrap();
        assert_eq!(res, None);
    }

    fn rename_copy_and_move_carry_groups_along(srv: &Server) {
        let mut con = srv.client();
        add_all(&mut con, "a", [1, 2]);
        let _: String = q(&mut con, &["XGROUP", "CREATE", "a", "g", "0"]);
        let _: Read = q(&mut con, &["XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "a", ">"]);
        let _: () = q(&mut con, &["RENAME", "a", "b"]);
        assert_eq!(q::<Summary>(&mut con, &["XPENDING", "b", "g"]).0, 1);
        assert_eq!(q::<i64>(&mut con, &["COPY", "b", "c"]), 1);
        let r = read(&mut con, &["XREADGROUP", "GROUP", "g", "c", "STREAMS", "c", ">"]);
        assert_eq!(read_ids(&r), [("c".into(), vec!["2-0".to_string()])]);
        assert_eq!(q::<Summary>(&mut con, &["XPENDING", "b", "g"]).0, 1, "the copy is independent");
        assert_eq!(q::<i64>(&mut con, &["MOVE", "c", "1"]), 1);
        let _: () = q(&mut con, &["SELECT", "1"]);
        assert_eq!(q::<Summary>(&mut con, &["XPENDING", "c", "g"]).0, 2);
    }
}
