//! Observability against a real server, at 1 and 4 shards: SLOWLOG, LATENCY
//! (events, histograms, INFO latencystats), MEMORY, MONITOR over a raw
//! connection, CLIENT PAUSE / UNPAUSE / TRACKINGINFO / NO-TOUCH / KILL
//! filters, and the redis-cli tools that build on them (--stat, --bigkeys,
//! --memkeys, --latency, --scan) run as subprocesses.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::{RawConn, Server};
use redis::{Connection, Value};

type SlowEntry = (i64, i64, i64, Vec<String>, String, String);

fn slowlog(con: &mut Connection, count: i64) -> Vec<SlowEntry> {
    redis::cmd("SLOWLOG")
        .arg("GET")
        .arg(count)
        .query(con)
        .unwrap()
}

fn config_set(con: &mut Connection, name: &str, value: &str) {
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg(name)
        .arg(value)
        .query(con)
        .unwrap();
}

fn err_text(r: redis::RedisResult<Value>) -> String {
    let e = r.expect_err("an error reply");
    format!("{} {}", e.code().unwrap_or(""), e.detail().unwrap_or(""))
        .trim()
        .to_string()
}

fn text(v: &Value) -> String {
    match v {
        Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
        Value::SimpleString(s) => s.clone(),
        Value::VerbatimString { text, .. } => text.clone(),
        Value::Int(n) => n.to_string(),
        other => panic!("not a string: {other:?}"),
    }
}

/// A flat RESP2 map as (key, value) pairs.
fn pairs(v: &Value) -> Vec<(String, Value)> {
    match v {
        Value::Array(items) => items
            .chunks(2)
            .map(|p| (text(&p[0]), p[1].clone()))
            .collect(),
        Value::Map(items) => items.iter().map(|(k, v)| (text(k), v.clone())).collect(),
        other => panic!("not a map: {other:?}"),
    }
}

fn keys_on_every_shard(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("key:{i}")).collect()
}

/// Runs /usr/bin/redis-cli with `args` against `srv`, line-buffered, for at
/// most `secs` seconds, and returns what it printed.
fn redis_cli(srv: &Server, secs: &str, args: &[&str]) -> String {
    let out = Command::new("timeout")
        .args([secs, "stdbuf", "-oL", "/usr/bin/redis-cli", "-p"])
        .arg(srv.port().to_string())
        .args(args)
        .output()
        .expect("redis-cli runs");
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

common::shard_tests! {
    fn slowlog_logs_trims_redacts_and_merges_cores(srv: &Server) {
        let mut con = srv.client();
        config_set(&mut con, "slowlog-log-slower-than", "0");
        let _: () = redis::cmd("CLIENT").arg("SETNAME").arg("tester").query(&mut con).unwrap();
        let _: () = redis::cmd("SLOWLOG").arg("RESET").query(&mut con).unwrap();
        for k in keys_on_every_shard(8) {
            let _: () = redis::cmd("SET").arg(&k).arg("v").query(&mut con).unwrap();
        }
        let many: Vec<String> = (0..40).map(|i| i.to_string()).collect();
        let _: i64 = redis::cmd("RPUSH").arg("list").arg(&many).query(&mut con).unwrap();
        let _: () = redis::cmd("SET").arg("long").arg("x".repeat(200)).query(&mut con).unwrap();
        let _ = redis::cmd("AUTH").arg("secret").query::<Value>(&mut con);

        let all = slowlog(&mut con, -1);
        // SLOWLOG RESET, 8 SETs, RPUSH, SET, AUTH.
        assert_eq!(all.len(), 12, "{all:?}");
        assert!(all.windows(2).all(|w| w[0].0 > w[1].0), "newest first: {all:?}");
        let (_, time, _, argv, addr, name) = &all[0];
        assert_eq!(argv, &["AUTH", "(redacted)"]);
        assert_eq!(name, "tester");
        let me: String = redis::cmd("CLIENT").arg("INFO").query::<String>(&mut con).unwrap();
        assert!(me.contains(&format!("addr={addr} ")), "{addr} in {me}");
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
        assert!((now - time).abs() < 10);
        assert_eq!(all[1].3[0], "SET");
        assert_eq!(all[1].3[2].len(), 128 + "... (72 more bytes)".len());
        assert!(all[1].3[2].ends_with("... (72 more bytes)"));
        let rpush = &all[2].3;
        assert_eq!(rpush.len(), 32);
        assert_eq!(rpush[31], "... (11 more arguments)");
        // Every SET, whichever core ran it, carries the client's labels.
        for e in &all[3..11] {
            assert_eq!((e.3[0].as_str(), e.4.as_str(), e.5.as_str()), ("SET", addr.as_str(), "tester"));
        }
        assert_eq!(all[11].3, ["SLOWLOG", "RESET"]);

        assert_eq!(slowlog(&mut con, 1).len(), 1);
        assert_eq!(slowlog(&mut con, 0).len(), 0);
        // The default count is 10.
        let d: Vec<SlowEntry> = redis::cmd("SLOWLOG").arg("GET").query(&mut con).unwrap();
        assert_eq!(d.len(), 10);
        let len: i64 = redis::cmd("SLOWLOG").arg("LEN").query(&mut con).unwrap();
        assert!(len >= 12);

        config_set(&mut con, "slowlog-max-len", "3");
        for k in keys_on_every_shard(8) {
            let _: () = redis::cmd("SET").arg(&k).arg("w").query(&mut con).unwrap();
        }
        let len: i64 = redis::cmd("SLOWLOG").arg("LEN").query(&mut con).unwrap();
        assert_eq!(len, 3);
        assert_eq!(slowlog(&mut con, -1).len(), 3);

        config_set(&mut con, "slowlog-log-slower-than", "-1");
        let _: () = redis::cmd("SLOWLOG").arg("RESET").query(&mut con).unwrap();
        let _: () = redis::cmd("SET").arg("a").arg("1").query(&mut con).unwrap();
        let len: i64 = redis::cmd("SLOWLOG").arg("LEN").query(&mut con).unwrap();
        assert_eq!(len, 0);

        for (args, want) in [
            (&["GET", "-2"][..], "ERR count should be greater than or equal to -1"),
            (&["GET", "x"], "ERR count should be greater than or equal to -1"),
            (&["GET", "1", "2"], "ERR unknown subcommand or wrong number of arguments for 'GET'. Try SLOWLOG HELP."),
            (&["LEN", "x"], "ERR wrong number of arguments for 'slowlog|len' command"),
            (&["foo"], "ERR unknown subcommand 'foo'. Try SLOWLOG HELP."),
        ] {
            assert_eq!(err_text(redis::cmd("SLOWLOG").arg(args).query(&mut con)), want);
        }
        let help: Vec<String> = redis::cmd("SLOWLOG").arg("HELP").query(&mut con).unwrap();
        assert_eq!(help[1], "GET [<count>]");
    }

    fn latency_events_histograms_and_reports(srv: &Server) {
        let mut con = srv.client();
        let doctor: String = redis::cmd("LATENCY").arg("DOCTOR").query(&mut con).unwrap();
        assert!(doctor.starts_with("I'm sorry, Dave, I can't do that."), "{doctor}");
        for _ in 0..5 {
            let _: () = redis::cmd("SET").arg("k").arg("v").query(&mut con).unwrap();
        }
        let _: Option<String> = redis::cmd("GET").arg("k").query(&mut con).unwrap();

        let h: Value = redis::cmd("LATENCY").arg("HISTOGRAM").arg("set").arg("get").arg("nosuch").query(&mut con).unwrap();
        let h = pairs(&h);
        assert_eq!(h.iter().map(|p| p.0.as_str()).collect::<Vec<_>>(), ["set", "get"]);
        let set = pairs(&h[0].1);
        assert_eq!((set[0].0.as_str(), &set[0].1), ("calls", &Value::Int(5)));
        assert_eq!(set[1].0, "histogram_usec");
        let buckets = pairs(&set[1].1);
        let allowed = [1, 2, 4, 8, 16, 33, 66, 132, 264, 528, 1056, 2113, 4227, 8454, 16908, 33816, 67633];
        let mut last = 0;
        for (bucket, count) in &buckets {
            let Value::Int(count) = count else { panic!("{count:?}") };
            assert!(*count > last, "cumulative counts grow: {buckets:?}");
            last = *count;
            let b: i64 = bucket.parse().unwrap();
            assert!(allowed.contains(&b) || b > 67633, "{b}");
        }
        assert_eq!(last, 5);
        let all: Value = redis::cmd("LATENCY").arg("HISTOGRAM").query(&mut con).unwrap();
        // Subcommands have their own histograms, under their full names.
        let names: Vec<String> = pairs(&all).into_iter().map(|p| p.0).collect();
        assert!(names.iter().any(|n| n == "latency|histogram"), "{names:?}");
        assert!(!names.iter().any(|n| n == "latency"), "{names:?}");

        let mut raw = srv.raw();
        let info = String::from_utf8(raw.cmd(&[b"INFO", b"latencystats"])).unwrap();
        assert!(info.contains("# Latencystats\r\nlatency_percentiles_usec_"), "{info}");
        let line = info.lines().find(|l| l.starts_with("latency_percentiles_usec_set:")).unwrap();
        assert!(line.contains(":p50=") && line.contains(",p99=") && line.contains(",p99.9="), "{line}");

        // A slow non-fast command is a "command" event.
        config_set(&mut con, "latency-monitor-threshold", "1");
        let items: Vec<String> = (0..20000).map(|i| format!("{:08}", 20000 - i)).collect();
        let mut sorted = false;
        for chunk in items.chunks(5000) {
            let _: i64 = redis::cmd("RPUSH").arg("big").arg(chunk).query(&mut con).unwrap();
        }
        for _ in 0..20 {
            let _: Vec<String> = redis::cmd("SORT").arg("big").arg("ALPHA").query(&mut con).unwrap();
            let latest: Vec<(String, i64, i64, i64)> = redis::cmd("LATENCY").arg("LATEST").query(&mut con).unwrap();
            if latest.iter().any(|e| e.0 == "command" && e.2 >= 1 && e.3 >= e.2) {
                sorted = true;
                break;
            }
        }
        assert!(sorted, "SORT of 20000 elements never took 1 ms");
        let history: Vec<(i64, i64)> = redis::cmd("LATENCY").arg("HISTORY").arg("command").query(&mut con).unwrap();
        assert!(!history.is_empty() && history.iter().all(|s| s.1 >= 1));
        let graph: String = redis::cmd("LATENCY").arg("GRAPH").arg("command").query(&mut con).unwrap();
        assert!(graph.starts_with("command - high "), "{graph}");
        assert!(graph.lines().nth(1).unwrap() == "-".repeat(80));
        let doctor: String = redis::cmd("LATENCY").arg("DOCTOR").query(&mut con).unwrap();
        assert!(doctor.starts_with("Dave, I have observed latency spikes"), "{doctor}");
        assert!(doctor.contains(". command: "), "{doctor}");
        let reset: i64 = redis::cmd("LATENCY").arg("RESET").arg("command").arg("nosuch").query(&mut con).unwrap();
        assert_eq!(reset, 1);
        let history: Vec<(i64, i64)> = redis::cmd("LATENCY").arg("HISTORY").arg("nosuch").query(&mut con).unwrap();
        assert!(history.is_empty());

        for (args, want) in [
            (&["GRAPH", "nosuch"][..], "ERR No samples available for event 'nosuch'"),
            (&["HISTORY"], "ERR wrong number of arguments for 'latency|history' command"),
            (&["LATEST", "x"], "ERR wrong number of arguments for 'latency|latest' command"),
            (&["foo"], "ERR unknown subcommand 'foo'. Try LATENCY HELP."),
        ] {
            assert_eq!(err_text(redis::cmd("LATENCY").arg(args).query(&mut con)), want);
        }
    }

    fn memory_usage_stats_and_doctor(srv: &Server) {
        let mut con = srv.client();
        for k in keys_on_every_shard(8) {
            let _: () = redis::cmd("SET").arg(&k).arg("x".repeat(100)).query(&mut con).unwrap();
        }
        let _: i64 = redis::cmd("RPUSH").arg("list").arg(&["a"; 50][..]).query(&mut con).unwrap();
        for k in keys_on_every_shard(8) {
            let n: i64 = redis::cmd("MEMORY").arg("USAGE").arg(&k).query(&mut con).unwrap();
            assert!((100..400).contains(&n), "{k}: {n}");
        }
        let small: i64 = redis::cmd("MEMORY").arg("USAGE").arg("key:0").arg("SAMPLES").arg(0).query(&mut con).unwrap();
        let list: i64 = redis::cmd("MEMORY").arg("USAGE").arg("list").query(&mut con).unwrap();
        assert!(list > small, "{list} > {small}");
        let none: Value = redis::cmd("MEMORY").arg("USAGE").arg("nosuch").query(&mut con).unwrap();
        assert_eq!(none, Value::Nil);
        for (args, want) in [
            (&["USAGE", "key:0", "SAMPLES", "-1"][..], "ERR syntax error"),
            (&["USAGE", "key:0", "SAMPLES", "x"], "ERR value is not an integer or out of range"),
            (&["USAGE", "key:0", "foo", "1"], "ERR syntax error"),
            (&["USAGE"], "ERR wrong number of arguments for 'memory|usage' command"),
            (&["DOCTOR", "x"], "ERR wrong number of arguments for 'memory|doctor' command"),
            (&["foo"], "ERR unknown subcommand 'foo'. Try MEMORY HELP."),
        ] {
            assert_eq!(err_text(redis::cmd("MEMORY").arg(args).query(&mut con)), want);
        }

        let stats: Value = redis::cmd("MEMORY").arg("STATS").query(&mut con).unwrap();
        let stats = pairs(&stats);
        let names: Vec<&str> = stats.iter().map(|p| p.0.as_str()).collect();
        assert_eq!(&names[..11], ["peak.allocated", "total.allocated", "startup.allocated", "replication.backlog",
            "clients.slaves", "clients.normal", "cluster.links", "aof.buffer", "lua.caches", "functions.caches", "db.0"]);
        assert_eq!(names.last(), Some(&"fragmentation.bytes"));
        let get = |n: &str| stats.iter().find(|p| p.0 == n).unwrap().1.clone();
        assert_eq!(get("keys.count"), Value::Int(9));
        let Value::Int(total) = get("total.allocated") else { panic!() };
        assert!(total >= 8 * 100);

        let doctor: String = redis::cmd("MEMORY").arg("DOCTOR").query(&mut con).unwrap();
        assert!(doctor.starts_with("Hi Sam, this instance is empty"), "{doctor}");
        let malloc: String = redis::cmd("MEMORY").arg("MALLOC-STATS").query(&mut con).unwrap();
        assert!(!malloc.is_empty());
        let _: () = redis::cmd("MEMORY").arg("PURGE").query(&mut con).unwrap();
        let help: Vec<String> = redis::cmd("MEMORY").arg("HELP").query(&mut con).unwrap();
        assert_eq!(help[9], "USAGE <key> [SAMPLES <count>]");
    }

    fn monitor_shows_scripts_then_their_commands_from_lua(srv: &Server) {
        let mut mon = srv.raw();
        assert_eq!(mon.cmd(&[b"MONITOR"]), b"+OK\r\n");
        let mut con = srv.client();
        let addr = {
            let me: String = redis::cmd("CLIENT").arg("INFO").query::<String>(&mut con).unwrap();
            me.split(' ').find_map(|f| f.strip_prefix("addr=")).unwrap().to_string()
        };
        let body = "redis.call('set', KEYS[1], 'v') return redis.call('get', KEYS[1])";
        // Keys on every shard: the script runs on its key's core or holds
        // every shard; either way its commands show as `lua`.
        for key in keys_on_every_shard(4).iter().chain(std::iter::once(&"{t}x".to_string())) {
            let v: String = redis::cmd("EVAL").arg(body).arg(1).arg(key).query(&mut con).unwrap();
            assert_eq!(v, "v");
            // The connection's own CLIENT handshake lines come first.
            let mut lines: Vec<String> = Vec::new();
            while lines.len() < 3 {
                let line = mon.try_read_reply().unwrap_or_else(|e| panic!("{key}: {e}; lines so far {lines:?}"));
                let line = String::from_utf8(line).unwrap();
                if !line.contains("\"CLIENT\"") {
                    lines.push(line);
                }
            }
            let tail = |l: &String| l[l.find('[').unwrap()..].to_string();
            let eval = format!("[0 {addr}] \"EVAL\" \"{body}\" \"1\" \"{key}\"\r\n");
            let set = format!("[0 lua] \"set\" \"{key}\" \"v\"\r\n");
            let get = format!("[0 lua] \"get\" \"{key}\"\r\n");
            if srv.shards() == 1 {
                assert_eq!(lines.iter().map(tail).collect::<Vec<_>>(), [eval, set, get]);
            } else {
                // Lines of two cores may interleave: the script's line and
                // its commands' come from where each ran.
                lines.sort_by_key(tail);
                let mut want = vec![eval, set, get];
                want.sort();
                assert_eq!(lines.iter().map(tail).collect::<Vec<_>>(), want);
            }
        }
        // A script refused before it runs still shows, as in Redis.
        let _ = redis::cmd("EVALSHA").arg("ffffffffffffffffffffffffffffffffffffffff").arg(0).query::<Value>(&mut con);
        let line = String::from_utf8(mon.read_reply()).unwrap();
        assert!(line.ends_with(&format!("[0 {addr}] \"EVALSHA\" \"ffffffffffffffffffffffffffffffffffffffff\" \"0\"\r\n")), "{line}");
    }

    fn monitor_streams_every_core_in_order(srv: &Server) {
        let mut mon = srv.raw();
        assert_eq!(mon.cmd(&[b"MONITOR"]), b"+OK\r\n");
        let mut con = srv.client();
        let keys = keys_on_every_shard(8);
        for k in &keys {
            let _: () = redis::cmd("SET").arg(k).arg("v 1\"\n").query(&mut con).unwrap();
        }
        let _ = redis::cmd("AUTH").arg("pw").query::<Value>(&mut con);
        let _: () = redis::cmd("SELECT").arg(2).query(&mut con).unwrap();
        let _: Option<String> = redis::cmd("GET").arg("key:0").query(&mut con).unwrap();
        let _: () = redis::cmd("CONFIG").arg("SET").arg("maxclients").arg("1000").query(&mut con).unwrap();
        let _: Vec<Option<String>> = redis::cmd("MGET").arg(&keys).query(&mut con).unwrap();

        let mut lines = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(10);
        while !lines.last().is_some_and(|l: &String| l.contains("\"MGET\"")) {
            assert!(Instant::now() < deadline, "MONITOR lines so far: {lines:?}");
            let line = String::from_utf8(mon.read_reply()).unwrap();
            lines.push(line);
        }
        // The connection's own CLIENT SETINFO handshake comes first.
        let ours: Vec<&String> = lines.iter().filter(|l| !l.contains("\"CLIENT\"")).collect();
        let addr = {
            let me: String = redis::cmd("CLIENT").arg("INFO").query::<String>(&mut con).unwrap();
            me.split(' ').find_map(|f| f.strip_prefix("addr=")).unwrap().to_string()
        };
        for (i, k) in keys.iter().enumerate() {
            let l = ours[i];
            assert!(l.starts_with('+') && l.ends_with("\r\n"), "{l:?}");
            let (time, rest) = l[1..].split_once(' ').unwrap();
            let (secs, micros) = time.split_once('.').unwrap();
            assert!(secs.parse::<u64>().is_ok() && micros.len() == 6, "{l:?}");
            assert_eq!(rest, format!("[0 {addr}] \"SET\" \"{k}\" \"v 1\\\"\\n\"\r\n"));
        }
        assert!(ours[8].ends_with("] \"AUTH\" \"(redacted)\"\r\n"), "{:?}", ours[8]);
        assert_eq!(ours[9], &format!("{}[2 {addr}] \"SELECT\" \"2\"\r\n", &ours[9][..ours[9].find('[').unwrap()]));
        assert!(ours[10].ends_with(&format!("[2 {addr}] \"GET\" \"key:0\"\r\n")), "{:?}", ours[10]);
        // CONFIG is an admin command: not shown.
        assert!(ours[11].contains("\"MGET\" \"key:0\""), "{:?}", ours[11]);
        assert_eq!(ours.len(), 12, "{ours:?}");
        let list = String::from_utf8(RawConn::connect(srv.port()).cmd(&[b"CLIENT", b"LIST"])).unwrap();
        assert!(list.contains("flags=O "), "{list}");
    }

    fn client_pause_holds_writes_until_unpause(srv: &Server) {
        let mut admin = srv.client();
        let _: () = redis::cmd("CLIENT").arg("PAUSE").arg(400).arg("WRITE").query(&mut admin).unwrap();
        let mut con = srv.client();
        let start = Instant::now();
        let _: Option<String> = redis::cmd("GET").arg("k").query(&mut con).unwrap();
        assert!(start.elapsed() < Duration::from_millis(300), "reads run during a WRITE pause");
        let _: () = redis::cmd("SET").arg("k").arg("v").query(&mut con).unwrap();
        assert!(start.elapsed() >= Duration::from_millis(350), "writes wait: {:?}", start.elapsed());

        // ALL holds reads too (and CLIENT UNPAUSE itself, as in Redis).
        let _: () = redis::cmd("CLIENT").arg("PAUSE").arg(400).arg("ALL").query(&mut admin).unwrap();
        let start = Instant::now();
        let _: Option<String> = redis::cmd("GET").arg("k").query(&mut con).unwrap();
        assert!(start.elapsed() >= Duration::from_millis(350), "reads wait: {:?}", start.elapsed());

        // UNPAUSE (not a write) lifts a long WRITE pause at once.
        let _: () = redis::cmd("CLIENT").arg("PAUSE").arg(20000).arg("WRITE").query(&mut admin).unwrap();
        let port = srv.port();
        let waiter = std::thread::spawn(move || {
            let mut c = common::client(port);
            let start = Instant::now();
            let _: () = redis::cmd("SET").arg("k").arg("w").query(&mut c).unwrap();
            start.elapsed()
        });
        std::thread::sleep(Duration::from_millis(300));
        assert!(!waiter.is_finished(), "the SET waits");
        let _: () = redis::cmd("CLIENT").arg("UNPAUSE").query(&mut admin).unwrap();
        let waited = waiter.join().unwrap();
        assert!(waited < Duration::from_secs(5), "{waited:?}");
        let v: String = redis::cmd("GET").arg("k").query(&mut con).unwrap();
        assert_eq!(v, "w");

        for (args, want) in [
            (&["PAUSE"][..], "ERR wrong number of arguments for 'client|pause' command"),
            (&["PAUSE", "x"], "ERR timeout is not an integer or out of range"),
            (&["PAUSE", "-1"], "ERR timeout is negative"),
            (&["PAUSE", "10", "foo"], "ERR CLIENT PAUSE mode must be WRITE or ALL"),
            (&["UNPAUSE", "x"], "ERR wrong number of arguments for 'client|unpause' command"),
            (&["NO-TOUCH", "maybe"], "ERR syntax error"),
        ] {
            assert_eq!(err_text(redis::cmd("CLIENT").arg(args).query(&mut con)), want);
        }
    }

    fn client_pause_write_holds_writing_transactions_and_scripts_and_expiry(srv: &Server) {
        let mut con = srv.client();
        let info_field = |con: &mut Connection, section: &str, name: &str| -> i64 {
            let info: String = redis::cmd("INFO").arg(section).query(con).unwrap();
            let line = info.lines().find(|l| l.starts_with(&format!("{name}:"))).unwrap();
            line[name.len() + 1..].trim().parse().unwrap()
        };
        let _: () = redis::cmd("SET").arg("ro").arg("5").query(&mut con).unwrap();
        for k in ["e1", "e2", "e3", "e4"] {
            let _: () = redis::cmd("SET").arg(k).arg("x").arg("PX").arg(50).query(&mut con).unwrap();
        }
        let expired_before = info_field(&mut con, "stats", "expired_keys");
        let _: () = redis::cmd("CLIENT").arg("PAUSE").arg(20000).arg("WRITE").query(&mut con).unwrap();
        // Past the TTLs and several active-expiry cycles: the keys read as
        // missing but stay, and nothing counts as expired.
        std::thread::sleep(Duration::from_millis(400));
        let got: Option<String> = redis::cmd("GET").arg("e1").query(&mut con).unwrap();
        assert_eq!(got, None);
        let n: i64 = redis::cmd("EXISTS").arg(&["e1", "e2", "e3", "e4"]).query(&mut con).unwrap();
        assert_eq!(n, 0);
        let size: i64 = redis::cmd("DBSIZE").query(&mut con).unwrap();
        assert_eq!(size, 5, "expired keys are not deleted during a pause");
        assert_eq!(info_field(&mut con, "stats", "expired_keys"), expired_before);

        // A transaction with a write and a script that may write both wait,
        // counted as blocked clients.
        let port = srv.port();
        let writers: Vec<_> = [
            vec![vec!["MULTI"], vec!["GET", "ro"], vec!["SET", "w", "1"], vec!["EXEC"]],
            vec![vec!["EVAL", "return redis.call('set', 's', '1')", "0"]],
        ]
        .into_iter()
        .map(|cmds| {
            std::thread::spawn(move || {
                let mut c = common::client(port);
                let mut last = Value::Nil;
                for args in cmds {
                    last = redis::cmd(args[0]).arg(&args[1..]).query(&mut c).unwrap();
                }
                last
            })
        })
        .collect();
        let deadline = Instant::now() + Duration::from_secs(5);
        while info_field(&mut con, "clients", "blocked_clients") != 2 {
            assert!(Instant::now() < deadline, "the writers are not counted as blocked");
            std::thread::sleep(Duration::from_millis(5));
        }
        // Read-only scripts run; may-replicate commands in them are writes.
        let v: i64 = redis::cmd("EVAL_RO").arg("return tonumber(redis.call('get', 'ro'))").arg(0).query(&mut con).unwrap();
        assert_eq!(v, 5);
        let shebang = "#!lua flags=no-writes\nreturn tonumber(redis.call('get', 'ro'))";
        let v: i64 = redis::cmd("EVAL").arg(shebang).arg(0).query(&mut con).unwrap();
        assert_eq!(v, 5);
        let e = err_text(redis::cmd("EVAL_RO").arg("return redis.call('publish', 'ch', 'x')").arg(0).query(&mut con));
        assert!(e.starts_with("ERR Write commands are not allowed from read-only scripts."), "{e}");
        let e = err_text(redis::cmd("EVAL").arg("#!lua flags=no-writes\nreturn redis.call('set', 'ro', 1)").arg(0).query(&mut con));
        assert!(e.starts_with("ERR Write commands are not allowed from read-only scripts."), "{e}");
        assert!(writers.iter().all(|w| !w.is_finished()), "writers wait for UNPAUSE");

        let _: () = redis::cmd("CLIENT").arg("UNPAUSE").query(&mut con).unwrap();
        let results: Vec<Value> = writers.into_iter().map(|w| w.join().unwrap()).collect();
        assert_eq!(
            results[0],
            Value::Array(vec![Value::BulkString(b"5".to_vec()), Value::Okay])
        );
        assert_eq!(results[1], Value::Okay);
        assert_eq!(info_field(&mut con, "clients", "blocked_clients"), 0);
        // Expiry resumes: a read deletes, the cycle takes the rest.
        let got: Option<String> = redis::cmd("GET").arg("e1").query(&mut con).unwrap();
        assert_eq!(got, None);
        let deadline = Instant::now() + Duration::from_secs(5);
        while info_field(&mut con, "stats", "expired_keys") != expired_before + 4 {
            assert!(Instant::now() < deadline, "expiry did not resume");
            std::thread::sleep(Duration::from_millis(10));
        }
        let size: i64 = redis::cmd("DBSIZE").query(&mut con).unwrap();
        assert_eq!(size, 3, "ro, w and s");
    }

    fn client_trackinginfo_no_touch_and_kill_filters(srv: &Server) {
        let mut con = srv.client();
        let info: Value = redis::cmd("CLIENT").arg("TRACKINGINFO").query(&mut con).unwrap();
        let info = pairs(&info);
        assert_eq!(info[0].0, "flags");
        assert_eq!(info[0].1, Value::Array(vec![Value::BulkString(b"off".to_vec())]));
        assert_eq!(info[1], ("redirect".to_string(), Value::Int(-1)));
        assert_eq!(info[2], ("prefixes".to_string(), Value::Array(vec![])));

        for k in keys_on_every_shard(4) {
            let _: () = redis::cmd("SET").arg(&k).arg("v").query(&mut con).unwrap();
        }
        std::thread::sleep(Duration::from_millis(2100));
        let _: () = redis::cmd("CLIENT").arg("NO-TOUCH").arg("ON").query(&mut con).unwrap();
        let me: String = redis::cmd("CLIENT").arg("INFO").query(&mut con).unwrap();
        assert!(me.contains(" flags=T "), "{me}");
        let idle = |con: &mut Connection, k: &str| -> i64 {
            redis::cmd("OBJECT").arg("IDLETIME").arg(k).query(con).unwrap()
        };
        for k in keys_on_every_shard(4) {
            let _: String = redis::cmd("GET").arg(&k).query(&mut con).unwrap();
            assert!(idle(&mut con, &k) >= 2, "NO-TOUCH GET left {k} alone");
        }
        let _: i64 = redis::cmd("TOUCH").arg("key:0").query(&mut con).unwrap();
        assert!(idle(&mut con, "key:0") <= 1, "TOUCH still touches");
        let _: () = redis::cmd("CLIENT").arg("NO-TOUCH").arg("OFF").query(&mut con).unwrap();
        let _: String = redis::cmd("GET").arg("key:1").query(&mut con).unwrap();
        assert!(idle(&mut con, "key:1") <= 1);

        // KILL filters: each picks the one victim it names.
        let my_id: i64 = redis::cmd("CLIENT").arg("ID").query(&mut con).unwrap();
        let victim = |srv: &Server| -> (RawConn, i64, String) {
            let mut v = srv.raw();
            let id = String::from_utf8(v.cmd(&[b"CLIENT", b"ID"])).unwrap();
            let id: i64 = id.trim_start_matches(':').trim().parse().unwrap();
            let info = String::from_utf8(v.cmd(&[b"CLIENT", b"INFO"])).unwrap();
            let addr = info.split(' ').find_map(|f| f.strip_prefix("addr=")).unwrap().to_string();
            (v, id, addr)
        };
        let kill = |con: &mut Connection, args: &[&str]| -> i64 {
            redis::cmd("CLIENT").arg("KILL").arg(args).query(con).unwrap()
        };
        let (mut v, id, _) = victim(srv);
        assert_eq!(kill(&mut con, &["ID", &id.to_string()]), 1);
        assert!(v.is_closed());
        let (mut v, _, addr) = victim(srv);
        assert_eq!(kill(&mut con, &["ADDR", &addr, "SKIPME", "yes"]), 1);
        assert!(v.is_closed());
        let (mut v, _, addr) = victim(srv);
        let _: () = redis::cmd("CLIENT").arg("KILL").arg(&addr).query(&mut con).unwrap();
        assert!(v.is_closed());
        let (mut v, _, _) = victim(srv);
        assert_eq!(kill(&mut con, &["MAXAGE", "1000"]), 0);
        assert_eq!(kill(&mut con, &["TYPE", "pubsub"]), 0);
        assert_eq!(kill(&mut con, &["USER", "default", "LADDR", &srv.addr()]), 1);
        assert!(v.is_closed());
        let alive: i64 = redis::cmd("CLIENT").arg("ID").query(&mut con).unwrap();
        assert_eq!(alive, my_id, "SKIPME yes is the default");
        assert_eq!(
            err_text(redis::cmd("CLIENT").arg("KILL").arg("MAXAGE").arg("x").query(&mut con)),
            "ERR maxage is not an integer or out of range"
        );
    }

    fn redis_cli_tools_work(srv: &Server) {
        let mut con = srv.client();
        let _: () = redis::cmd("SET").arg("kk").arg("x".repeat(200)).query(&mut con).unwrap();
        let _: () = redis::cmd("SET").arg("s1").arg("hello").query(&mut con).unwrap();
        let _: i64 = redis::cmd("RPUSH").arg("l").arg(&["a"; 40][..]).query(&mut con).unwrap();
        let _: i64 = redis::cmd("HSET").arg("h").arg("f").arg("v").query(&mut con).unwrap();
        let _: i64 = redis::cmd("SADD").arg("st").arg("a").arg("b").query(&mut con).unwrap();
        let _: i64 = redis::cmd("ZADD").arg("z").arg(1).arg("a").query(&mut con).unwrap();

        let big = redis_cli(srv, "20", &["--bigkeys"]);
        for want in [
            "Sampled 6 keys in the keyspace!",
            "Biggest   list found '\"l\"' has 40 items",
            "Biggest   hash found '\"h\"' has 1 fields",
            "Biggest string found '\"kk\"' has 200 bytes",
            "Biggest    set found '\"st\"' has 2 members",
            "Biggest   zset found '\"z\"' has 1 members",
            "2 strings with 205 bytes",
        ] {
            assert!(big.contains(want), "{want:?} in\n{big}");
        }
        let mem = redis_cli(srv, "20", &["--memkeys"]);
        assert!(mem.contains("Sampled 6 keys in the keyspace!"), "{mem}");
        assert!(mem.contains("Biggest string found '\"kk\"' has "), "{mem}");
        assert!(mem.contains("1 lists with "), "{mem}");

        let mut scanned: Vec<String> = redis_cli(srv, "20", &["--scan", "--pattern", "s*"])
            .lines()
            .map(str::to_string)
            .collect();
        scanned.sort();
        assert_eq!(scanned, ["s1", "st"]);

        let latency = redis_cli(srv, "20", &["--latency"]);
        let fields: Vec<&str> = latency.split_whitespace().collect();
        assert_eq!(fields.len(), 4, "{latency}");
        assert!(fields.iter().all(|f| f.parse::<f64>().is_ok()), "{latency}");

        let stat = redis_cli(srv, "1.5", &["--stat", "-i", "0.2"]);
        let lines: Vec<&str> = stat.lines().collect();
        assert!(lines.len() >= 3, "{stat}");
        assert!(lines[1].starts_with("keys       mem      clients blocked requests"), "{stat}");
        assert!(lines[2].starts_with("6 "), "{stat}");
    }
}
