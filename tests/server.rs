//! Server commands against a real server, at 1 and 4 shards: INFO (fields
//! named as Redis names them, counters summed over every core), CONFIG
//! GET / SET / RESETSTAT / REWRITE, COMMAND, TIME, DBSIZE, and the two ways
//! to stop a server (SHUTDOWN and SIGTERM), both exiting with status 0.

mod common;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{RawConn, Server};

fn cmd(c: &mut RawConn, line: &str) -> String {
    let args: Vec<&[u8]> = line.split_whitespace().map(str::as_bytes).collect();
    String::from_utf8_lossy(&c.cmd(&args)).into_owned()
}

/// The INFO text of `sections` (a bulk reply), without the bulk header.
fn info(c: &mut RawConn, sections: &str) -> String {
    let reply = cmd(c, &format!("INFO {sections}"));
    assert!(
        reply.starts_with('$'),
        "INFO reply is not a bulk: {reply:?}"
    );
    let body = reply.split_once("\r\n").unwrap().1;
    body.strip_suffix("\r\n").unwrap().to_string()
}

/// The value of `name:` in an INFO text.
fn field(info: &str, name: &str) -> Option<String> {
    info.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
        .map(str::to_string)
}

fn num(info: &str, name: &str) -> u64 {
    field(info, name)
        .unwrap_or_else(|| panic!("no {name} in INFO:\n{info}"))
        .parse()
        .unwrap_or_else(|_| panic!("{name} is not a number in INFO:\n{info}"))
}

/// `cmdstat_<name>:calls=N,...` → N (0 when the line is absent).
fn calls(info: &str, name: &str) -> u64 {
    field(info, &format!("cmdstat_{name}")).map_or(0, |v| {
        v.strip_prefix("calls=")
            .unwrap()
            .split(',')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    })
}

common::shard_tests! {
    fn info_sections_have_redis_field_names(srv: &Server) {
        let mut c = srv.raw();
        let all = info(&mut c, "");
        for header in ["# Server", "# Clients", "# Memory", "# Stats", "# CPU", "# Errorstats", "# Keyspace"] {
            assert!(all.lines().any(|l| l == header), "default INFO lacks {header}:\n{all}");
        }
        assert!(!all.contains("# Commandstats"), "commandstats is not a default section");
        let cases: &[(&str, &str, &[&str])] = &[
            ("server", "# Server", &["redis_version", "redis_mode", "process_id", "tcp_port", "uptime_in_seconds", "run_id"]),
            ("clients", "# Clients", &["connected_clients", "maxclients", "blocked_clients"]),
            ("memory", "# Memory", &["used_memory", "used_memory_human", "used_memory_rss", "maxmemory", "maxmemory_policy"]),
            ("stats", "# Stats", &["total_connections_received", "total_commands_processed", "expired_keys", "evicted_keys", "keyspace_hits", "keyspace_misses", "rejected_connections"]),
            ("cpu", "# CPU", &["used_cpu_sys", "used_cpu_user"]),
        ];
        for (section, header, fields) in cases {
            let text = info(&mut c, section);
            assert_eq!(text.lines().next(), Some(*header), "INFO {section}:\n{text}");
            for f in *fields {
                assert!(field(&text, f).is_some(), "INFO {section} lacks {f}:\n{text}");
            }
            // Only the asked section.
            assert_eq!(text.matches("# ").count(), 1, "INFO {section}:\n{text}");
        }
        let server = info(&mut c, "server");
        assert_eq!(field(&server, "redis_version").unwrap(), "7.0.15");
        assert_eq!(num(&server, "tcp_port"), srv.port() as u64);
        assert_eq!(num(&server, "process_id"), srv.pid() as u64);
        let memory = info(&mut c, "memory");
        assert!(num(&memory, "used_memory_rss") > 0);
        assert_eq!(cmd(&mut c, "INFO nosuchsection"), "$0\r\n\r\n");
        // Several sections at once, case-insensitive.
        let two = info(&mut c, "CLIENTS Keyspace");
        assert!(two.starts_with("# Clients\r\n") && two.contains("# Keyspace\r\n"), "{two}");
        assert!(info(&mut c, "everything").contains("# Commandstats"));
    }

    fn info_keyspace_hits_misses_and_db_keys(srv: &Server) {
        let mut c = srv.raw();
        let before = info(&mut c, "stats");
        let (hits, misses) = (num(&before, "keyspace_hits"), num(&before, "keyspace_misses"));
        for i in 0..20 {
            assert_eq!(cmd(&mut c, &format!("SET key:{i} v")), "+OK\r\n");
        }
        for i in 0..20 {
            assert_eq!(cmd(&mut c, &format!("GET key:{i}")), "$1\r\nv\r\n");
        }
        for i in 0..7 {
            assert_eq!(cmd(&mut c, &format!("GET nokey:{i}")), "$-1\r\n");
        }
        let after = info(&mut c, "stats");
        assert_eq!(num(&after, "keyspace_hits") - hits, 20, "{after}");
        assert_eq!(num(&after, "keyspace_misses") - misses, 7, "{after}");
        assert_eq!(num(&after, "evicted_keys"), 0);

        for i in 0..5 {
            assert_eq!(cmd(&mut c, &format!("EXPIRE key:{i} 1000")), ":1\r\n");
        }
        let ks = info(&mut c, "keyspace");
        assert_eq!(field(&ks, "db0").unwrap(), "keys=20,expires=5,avg_ttl=0", "{ks}");
        assert!(field(&ks, "db1").is_none(), "empty databases are not listed");
        assert_eq!(cmd(&mut c, "SELECT 2"), "+OK\r\n");
        assert_eq!(cmd(&mut c, "SET other 1"), "+OK\r\n");
        let ks = info(&mut c, "keyspace");
        assert!(field(&ks, "db2").unwrap().starts_with("keys=1,expires=0"), "{ks}");
    }

    fn info_counts_expired_keys(srv: &Server) {
        let mut c = srv.raw();
        for i in 0..10 {
            assert_eq!(cmd(&mut c, &format!("SET ex:{i} v PX 30")), "+OK\r\n");
        }
        // Expired either lazily (on access) or by the active cycle.
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            for i in 0..10 {
                cmd(&mut c, &format!("GET ex:{i}"));
            }
            let stats = info(&mut c, "stats");
            if num(&stats, "expired_keys") == 10 {
                break;
            }
            assert!(Instant::now() < deadline, "expired_keys never reached 10:\n{stats}");
        }
        assert_eq!(cmd(&mut c, "DBSIZE"), ":0\r\n");
    }

    fn info_sums_commands_run_on_every_core(srv: &Server) {
        let mut admin = srv.raw();
        assert_eq!(cmd(&mut admin, "CONFIG RESETSTAT"), "+OK\r\n");
        // Connections land on the listeners of different cores.
        let mut conns: Vec<RawConn> = (0..12).map(|_| srv.raw()).collect();
        for (n, c) in conns.iter_mut().enumerate() {
            for i in 0..5 {
                assert_eq!(cmd(c, &format!("SET k:{n}:{i} x")), "+OK\r\n");
                assert_eq!(cmd(c, &format!("GET k:{n}:{i}")), "$1\r\nx\r\n");
            }
            assert_eq!(cmd(c, "PING"), "+PONG\r\n");
        }
        let stats = info(&mut admin, "commandstats");
        assert_eq!(calls(&stats, "set"), 60, "{stats}");
        assert_eq!(calls(&stats, "get"), 60, "{stats}");
        assert_eq!(calls(&stats, "ping"), 12, "{stats}");
        let line = field(&stats, "cmdstat_get").unwrap();
        assert!(line.contains(",usec=") && line.contains(",usec_per_call=") && line.ends_with(",rejected_calls=0,failed_calls=0"), "{line}");
        let totals = info(&mut admin, "stats");
        // 132 commands plus RESETSTAT and the INFO calls of this connection.
        let total = num(&totals, "total_commands_processed");
        assert!((132..=136).contains(&total), "total_commands_processed={total}");
        let clients = info(&mut admin, "clients");
        assert_eq!(num(&clients, "connected_clients"), 13);
    }

    fn errorstats_and_rejected_calls(srv: &Server) {
        let mut c = srv.raw();
        assert_eq!(cmd(&mut c, "CONFIG RESETSTAT"), "+OK\r\n");
        cmd(&mut c, "NOSUCHCMD");
        cmd(&mut c, "GET");
        cmd(&mut c, "SET s notanumber");
        assert_eq!(cmd(&mut c, "INCR s"), "-ERR value is not an integer or out of range\r\n");
        let errs = info(&mut c, "errorstats");
        assert_eq!(field(&errs, "errorstat_ERR").unwrap(), "count=3", "{errs}");
        let cs = info(&mut c, "commandstats");
        assert!(field(&cs, "cmdstat_get").unwrap().contains("rejected_calls=1"), "{cs}");
        assert!(field(&cs, "cmdstat_incr").unwrap().contains("failed_calls=1"), "{cs}");
        assert_eq!(num(&info(&mut c, "stats"), "total_error_replies"), 3);
    }

    fn config_resetstat_zeroes_counters(srv: &Server) {
        let mut c = srv.raw();
        let mut other = srv.raw();
        for _ in 0..5 {
            cmd(&mut other, "GET missing");
            cmd(&mut c, "GET missing");
        }
        assert!(calls(&info(&mut c, "commandstats"), "get") >= 10);
        assert_eq!(cmd(&mut c, "CONFIG RESETSTAT"), "+OK\r\n");
        let cs = info(&mut c, "commandstats");
        assert_eq!(calls(&cs, "get"), 0, "{cs}");
        let stats = info(&mut c, "stats");
        assert_eq!(num(&stats, "keyspace_misses"), 0, "{stats}");
        let errs = info(&mut c, "errorstats");
        assert_eq!(errs, "# Errorstats\r\n", "{errs:?}");
    }

    fn config_get_patterns_and_set(srv: &Server) {
        let mut c = srv.raw();
        assert_eq!(
            cmd(&mut c, "CONFIG GET maxmemory"),
            "*2\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n"
        );
        assert_eq!(cmd(&mut c, "CONFIG SET maxmemory 512mb"), "+OK\r\n");
        assert_eq!(
            cmd(&mut c, "CONFIG GET maxmemory"),
            "*2\r\n$9\r\nmaxmemory\r\n$9\r\n536870912\r\n"
        );
        // Another connection (maybe on another core) sees the new value.
        let mut d = srv.raw();
        assert_eq!(
            cmd(&mut d, "CONFIG GET maxmemory"),
            "*2\r\n$9\r\nmaxmemory\r\n$9\r\n536870912\r\n"
        );
        assert_eq!(num(&info(&mut d, "memory"), "maxmemory"), 536870912);

        let star = cmd(&mut c, "CONFIG GET maxmemory*");
        for name in ["maxmemory", "maxmemory-policy", "maxmemory-samples"] {
            assert!(star.contains(&format!("${}\r\n{name}\r\n", name.len())), "{star}");
        }
        let two = cmd(&mut c, "CONFIG GET hz maxclients");
        assert!(two.starts_with("*4\r\n"), "{two}");
        assert_eq!(cmd(&mut c, "CONFIG GET nosuch*"), "*0\r\n");

        // Several pairs at once.
        assert_eq!(cmd(&mut c, "CONFIG SET maxmemory-policy allkeys-lru hz 20"), "+OK\r\n");
        assert_eq!(
            cmd(&mut c, "CONFIG GET maxmemory-policy"),
            "*2\r\n$16\r\nmaxmemory-policy\r\n$11\r\nallkeys-lru\r\n"
        );
        assert_eq!(cmd(&mut c, "CONFIG GET hz"), "*2\r\n$2\r\nhz\r\n$2\r\n20\r\n");

        // Errors, and all-or-nothing.
        assert_eq!(
            cmd(&mut c, "CONFIG SET nosuch 1"),
            "-ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'\r\n"
        );
        assert_eq!(
            cmd(&mut c, "CONFIG SET maxmemory abc"),
            "-ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value\r\n"
        );
        assert_eq!(
            cmd(&mut c, "CONFIG SET hz 30 maxmemory abc"),
            "-ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value\r\n"
        );
        assert_eq!(cmd(&mut c, "CONFIG GET hz"), "*2\r\n$2\r\nhz\r\n$2\r\n20\r\n", "failed SET changed hz");
        assert_eq!(
            cmd(&mut c, "CONFIG SET maxmemory 1 maxmemory 2"),
            "-ERR CONFIG SET failed (possibly related to argument 'maxmemory') - duplicate parameter\r\n"
        );
        assert_eq!(
            cmd(&mut c, "CONFIG SET daemonize yes"),
            "-ERR CONFIG SET failed (possibly related to argument 'daemonize') - can't set immutable config\r\n"
        );
        assert_eq!(cmd(&mut c, "CONFIG SET hz"), "-ERR wrong number of arguments for 'config|set' command\r\n");
        assert_eq!(cmd(&mut c, "CONFIG GET"), "-ERR wrong number of arguments for 'config|get' command\r\n");
        assert_eq!(cmd(&mut c, "CONFIG FOO"), "-ERR unknown subcommand 'FOO'. Try CONFIG HELP.\r\n");
        assert_eq!(cmd(&mut c, "CONFIG REWRITE"), "-ERR The server is running without a config file\r\n");
    }

    fn command_count_info_docs_list_getkeys(srv: &Server) {
        let mut c = srv.raw();
        let count = cmd(&mut c, "COMMAND COUNT");
        let n: usize = count.trim_start_matches(':').trim_end().parse().unwrap();
        // COUNT counts commands; LIST names subcommands too (Redis 7.0).
        let list = cmd(&mut c, "COMMAND LIST");
        let listed: usize = list[1..list.find('\r').unwrap()].parse().unwrap();
        assert!(listed > n, "COMMAND LIST ({listed}) lists subcommands beyond COUNT ({n})");
        assert_eq!(list.matches('|').count(), listed - n, "{list}");
        for name in ["get", "set", "client", "config", "info", "ping", "client|list", "config|get"] {
            assert!(list.contains(&format!("\r\n{name}\r\n")), "COMMAND LIST lacks {name}");
        }
        assert!(cmd(&mut c, "COMMAND").starts_with(&format!("*{n}\r\n")));
        assert_eq!(
            cmd(&mut c, "COMMAND INFO get"),
            // Redis 7.0.15's bytes: the key spec is the sixth-to-last field.
            "*1\r\n*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n\
             *3\r\n+@read\r\n+@string\r\n+@fast\r\n*0\r\n*1\r\n*6\r\n$5\r\nflags\r\n*2\r\n+RO\r\n+access\r\n\
             $12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:1\r\n\
             $9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n\
             $7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n*0\r\n"
        );
        let two = cmd(&mut c, "COMMAND INFO nosuch mset");
        assert!(two.starts_with("*2\r\n$-1\r\n*10\r\n$4\r\nmset\r\n:-3\r\n"), "{two}");
        assert!(two.contains(":1\r\n:-1\r\n:2\r\n"), "mset key spec first 1 last -1 step 2: {two}");
        let docs = cmd(&mut c, "COMMAND DOCS get");
        assert!(docs.starts_with("*2\r\n$3\r\nget\r\n"), "{docs}");
        assert!(docs.contains("$7\r\nsummary\r\n") && docs.contains("$5\r\ngroup\r\n$6\r\nstring\r\n"), "{docs}");
        assert_eq!(
            cmd(&mut c, "COMMAND GETKEYS mset a b c d"),
            "*2\r\n$1\r\na\r\n$1\r\nc\r\n"
        );
        assert_eq!(cmd(&mut c, "COMMAND GETKEYS get k"), "*1\r\n$1\r\nk\r\n");
        assert_eq!(
            cmd(&mut c, "COMMAND GETKEYS del x y z"),
            "*3\r\n$1\r\nx\r\n$1\r\ny\r\n$1\r\nz\r\n"
        );
        // Keys after a count: Redis's `movablekeys`.
        assert_eq!(
            cmd(&mut c, "COMMAND INFO zunion"),
            "*1\r\n*10\r\n$6\r\nzunion\r\n:-3\r\n*2\r\n+readonly\r\n+movablekeys\r\n:0\r\n:0\r\n:0\r\n\
             *3\r\n+@read\r\n+@sortedset\r\n+@slow\r\n*0\r\n*1\r\n*6\r\n$5\r\nflags\r\n*2\r\n+RO\r\n+access\r\n\
             $12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:1\r\n\
             $9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$6\r\nkeynum\r\n$4\r\nspec\r\n*6\r\n$9\r\nkeynumidx\r\n:0\r\n\
             $8\r\nfirstkey\r\n:1\r\n$7\r\nkeystep\r\n:1\r\n*0\r\n"
        );
        let store = cmd(&mut c, "COMMAND INFO zinterstore");
        assert!(store.contains("*3\r\n+write\r\n+denyoom\r\n+movablekeys\r\n:1\r\n:1\r\n:1\r\n"), "{store}");
        assert!(!cmd(&mut c, "COMMAND INFO zrange").contains("movablekeys"));
        assert_eq!(
            cmd(&mut c, "COMMAND GETKEYS zinterstore d 2 a b WEIGHTS 1 2"),
            "*3\r\n$1\r\nd\r\n$1\r\na\r\n$1\r\nb\r\n"
        );
        assert_eq!(cmd(&mut c, "COMMAND GETKEYS lmpop 1 l LEFT"), "*1\r\n$1\r\nl\r\n");
        assert_eq!(
            cmd(&mut c, "COMMAND GETKEYS sintercard 3 a b"),
            "-ERR Invalid arguments specified for command\r\n"
        );
        assert_eq!(cmd(&mut c, "COMMAND GETKEYS nosuch a"), "-ERR Invalid command specified\r\n");
        assert_eq!(cmd(&mut c, "COMMAND GETKEYS ping x"), "-ERR The command has no key arguments\r\n");
        assert_eq!(
            cmd(&mut c, "COMMAND GETKEYS get a b"),
            "-ERR Invalid number of arguments specified for command\r\n"
        );
        assert_eq!(
            cmd(&mut c, "COMMAND GETKEYS get"),
            "-ERR wrong number of arguments for 'command|getkeys' command\r\n"
        );
    }

    fn time_and_dbsize(srv: &Server) {
        let mut c = srv.raw();
        let reply = cmd(&mut c, "TIME");
        let parts: Vec<&str> = reply.split("\r\n").collect();
        assert_eq!(parts[0], "*2", "{reply:?}");
        let secs: u64 = parts[2].parse().unwrap();
        let micros: u64 = parts[4].parse().unwrap();
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        assert!(secs.abs_diff(now) <= 2, "TIME {secs} vs {now}");
        assert!(micros < 1_000_000);
        assert_eq!(cmd(&mut c, "DBSIZE"), ":0\r\n");
        for i in 0..50 {
            cmd(&mut c, &format!("SET d:{i} v"));
        }
        assert_eq!(cmd(&mut c, "DBSIZE"), ":50\r\n", "keys on every shard are counted");
        assert_eq!(cmd(&mut c, "SELECT 1"), "+OK\r\n");
        assert_eq!(cmd(&mut c, "DBSIZE"), ":0\r\n");
        assert_eq!(cmd(&mut c, "TIME x"), "-ERR wrong number of arguments for 'time' command\r\n");
    }
}

#[test]
fn shutdown_exit_status_is_zero() {
    for shards in [1, 4] {
        let mut srv = Server::start(shards, &[]);
        let mut c = srv.raw();
        assert_eq!(cmd(&mut c, "SHUTDOWN FOO"), "-ERR syntax error\r\n");
        assert_eq!(
            cmd(&mut c, "SHUTDOWN ABORT"),
            "-ERR No shutdown in progress.\r\n"
        );
        c.send(b"SHUTDOWN\r\n");
        // Redis sends no reply to a successful SHUTDOWN: the connection closes.
        assert_eq!(c.read_to_close(Duration::from_secs(10)), b"");
        let deadline = Instant::now() + Duration::from_secs(10);
        let status = loop {
            if let Some(s) = srv.exited() {
                break s;
            }
            assert!(
                Instant::now() < deadline,
                "lanner did not exit after SHUTDOWN"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(status.success(), "SHUTDOWN exit status {status}");
        assert!(
            srv.output().contains("User requested shutdown"),
            "{}",
            srv.output()
        );
    }
}

#[test]
fn sigterm_stops_gracefully_with_status_zero() {
    for shards in [1, 4] {
        let srv = Server::start(shards, &[]);
        // Connected clients must not keep it alive.
        let mut a = srv.raw();
        let mut b = srv.raw();
        assert_eq!(cmd(&mut a, "SET k v"), "+OK\r\n");
        assert_eq!(cmd(&mut b, "PING"), "+PONG\r\n");
        let status = srv.stop();
        assert!(status.success(), "SIGTERM exit status {status}");
        assert!(a.is_closed());
    }
}

/// A lanner started from a config file (as its first argument, which the
/// shared harness cannot do); killed on drop.
struct FileServer {
    child: Child,
    port: u16,
    output: mpsc::Receiver<String>,
}

impl FileServer {
    fn start(conf: &PathBuf) -> FileServer {
        let mut child = Command::new(common::lanner_bin())
            .arg(conf)
            .args(["--metrics-port", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, rx) = mpsc::channel();
        for pipe in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines() {
                    let Ok(line) = line else { break };
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut seen = String::new();
        let port = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(p) = line.split("Ready to accept connections on port ").nth(1) {
                        break p.trim().parse().unwrap();
                    }
                    seen.push_str(&line);
                    seen.push('\n');
                }
                Err(_) => {
                    let _ = child.kill();
                    panic!("lanner {} not ready:\n{seen}", conf.display());
                }
            }
        };
        FileServer {
            child,
            port,
            output: rx,
        }
    }

    fn raw(&self) -> RawConn {
        RawConn::connect(self.port)
    }

    fn stop(mut self) {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let status = self.child.wait().unwrap();
        assert!(status.success(), "exit status {status}");
        while self.output.try_recv().is_ok() {}
    }
}

impl Drop for FileServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn temp_conf(name: &str, text: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("lanner-test-{}-{name}.conf", std::process::id()));
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn config_rewrite_persists_across_restart() {
    for shards in [1, 4] {
        let conf = temp_conf(
            &format!("rewrite-{shards}"),
            &format!(
                "# lanner test config\nbind 127.0.0.1\nport 0\nshards {shards}\n\n# memory\nmaxmemory 100mb\nhz 10\n"
            ),
        );
        let srv = FileServer::start(&conf);
        let mut c = srv.raw();
        assert_eq!(
            cmd(&mut c, "CONFIG GET maxmemory"),
            "*2\r\n$9\r\nmaxmemory\r\n$9\r\n104857600\r\n"
        );
        let server_info = info(&mut c, "server");
        assert_eq!(
            field(&server_info, "config_file").unwrap(),
            std::path::absolute(&conf).unwrap().display().to_string()
        );
        assert_eq!(
            cmd(
                &mut c,
                "CONFIG SET maxmemory 512mb maxmemory-policy allkeys-lru"
            ),
            "+OK\r\n"
        );
        assert_eq!(cmd(&mut c, "CONFIG SET timeout 300"), "+OK\r\n");
        assert_eq!(cmd(&mut c, "CONFIG REWRITE"), "+OK\r\n");
        srv.stop();

        let text = std::fs::read_to_string(&conf).unwrap();
        assert!(
            text.contains("# lanner test config") && text.contains("# memory"),
            "comments lost:\n{text}"
        );
        assert_eq!(text.matches("\nmaxmemory ").count(), 1, "{text}");

        let srv = FileServer::start(&conf);
        let mut c = srv.raw();
        assert_eq!(
            cmd(&mut c, "CONFIG GET maxmemory"),
            "*2\r\n$9\r\nmaxmemory\r\n$9\r\n536870912\r\n"
        );
        assert_eq!(
            cmd(&mut c, "CONFIG GET maxmemory-policy"),
            "*2\r\n$16\r\nmaxmemory-policy\r\n$11\r\nallkeys-lru\r\n"
        );
        assert_eq!(
            cmd(&mut c, "CONFIG GET timeout"),
            "*2\r\n$7\r\ntimeout\r\n$3\r\n300\r\n"
        );
        assert_eq!(
            cmd(&mut c, "CONFIG GET shards"),
            format!("*2\r\n$6\r\nshards\r\n$1\r\n{shards}\r\n")
        );
        srv.stop();
        let _ = std::fs::remove_file(&conf);
    }
}
