//! The `lanner` process's command line and config file: `--help` and
//! `--version`, start-up errors (one clear line on stderr, non-zero exit),
//! a port already taken, and a config file combined with overrides.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::RawConn;

struct Outcome {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs `lanner args...` expecting it to exit on its own within 10 s.
fn run(args: &[&str]) -> Outcome {
    let mut child = Command::new(common::lanner_bin())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let err_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("lanner {args:?} did not exit within 10 s");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Outcome {
        code: status.code(),
        stdout: out_t.join().unwrap(),
        stderr: err_t.join().unwrap(),
    }
}

/// Asserts a start-up failure: non-zero exit, nothing on stdout, and exactly
/// one line on stderr; returns that line.
fn fails(args: &[&str]) -> String {
    let o = run(args);
    assert!(
        o.code.is_some_and(|c| c != 0),
        "lanner {args:?} exited with {:?}; stderr: {}",
        o.code,
        o.stderr
    );
    assert_eq!(
        o.stderr.lines().count(),
        1,
        "stderr of {args:?}:\n{}",
        o.stderr
    );
    o.stderr.trim_end().to_string()
}

fn temp_conf(name: &str, text: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("lanner-test-{}-{name}.conf", std::process::id()));
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn help_lists_directives_and_exits_zero() {
    let o = run(&["--help"]);
    assert_eq!(o.code, Some(0), "stderr: {}", o.stderr);
    assert!(
        o.stdout.contains("Usage: lanner [config-file]"),
        "{}",
        o.stdout
    );
    for directive in [
        "--port",
        "--bind",
        "--maxmemory",
        "--maxmemory-policy",
        "--requirepass",
        "--maxclients",
        "--timeout",
        "--shards",
    ] {
        assert!(
            o.stdout.contains(&format!("{directive} <")),
            "--help lacks {directive}:\n{}",
            o.stdout
        );
    }
    assert!(o.stdout.contains("[default: 6379]"), "{}", o.stdout);
    assert_eq!(run(&["-h"]).stdout, o.stdout);
}

#[test]
fn version_prints_and_exits_zero() {
    let o = run(&["--version"]);
    assert_eq!(o.code, Some(0));
    assert_eq!(o.stdout, format!("lanner {}\n", env!("CARGO_PKG_VERSION")));
    assert_eq!(run(&["-v"]).stdout, o.stdout);
}

#[test]
fn unknown_directive_is_one_line_and_non_zero() {
    let line = fails(&["--nosuch", "1"]);
    assert!(
        line.contains("nosuch") && line.contains("unknown directive"),
        "{line}"
    );
}

#[test]
fn bad_value_names_the_directive() {
    let line = fails(&["--port", "abc"]);
    assert!(line.contains("--port") && line.contains("abc"), "{line}");
    let line = fails(&["--maxmemory", "12zz"]);
    assert!(
        line.contains("--maxmemory") && line.contains("12zz"),
        "{line}"
    );
    let line = fails(&["--port", "70000"]);
    assert!(line.contains("--port"), "{line}");
    let line = fails(&["--maxmemory-policy", "sometimes"]);
    assert!(line.contains("--maxmemory-policy"), "{line}");
}

#[test]
fn port_in_use_fails_naming_the_problem() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let line = fails(&["--bind", "127.0.0.1", "--port", &port, "--shards", "1"]);
    assert!(line.contains(&port), "{line}");
    assert!(line.to_lowercase().contains("in use"), "{line}");
    drop(taken);
}

#[test]
fn config_file_errors_name_file_and_line() {
    let conf = temp_conf("bad", "# comment\nport 0\nmaxmemory lots\n");
    let line = fails(&[conf.to_str().unwrap()]);
    assert!(
        line.contains(conf.to_str().unwrap())
            && line.contains("line 3")
            && line.contains("maxmemory"),
        "{line}"
    );
    std::fs::write(&conf, "nosuchdirective yes\n").unwrap();
    let line = fails(&[conf.to_str().unwrap()]);
    assert!(
        line.contains("line 1") && line.contains("nosuchdirective"),
        "{line}"
    );
    let _ = std::fs::remove_file(&conf);
    let line = fails(&["/nonexistent/lanner.conf"]);
    assert!(line.contains("/nonexistent/lanner.conf"), "{line}");
    // Only the first argument may be a file.
    let line = fails(&["--port", "0", "extra.conf", "--", "x"]);
    assert!(!line.is_empty());
}

/// Starts lanner with `args`, waits for its ready line and returns the
/// child and port; the child is killed by the caller.
fn start(args: &[&str]) -> (std::process::Child, u16) {
    let mut child = Command::new(common::lanner_bin())
        .args(args)
        .args(["--metrics-port", "0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(p) = line.split("Ready to accept connections on port ").nth(1) {
                let _ = tx.send(p.trim().parse::<u16>().unwrap());
            }
        }
    });
    match rx.recv_timeout(Duration::from_secs(20)) {
        Ok(port) => (child, port),
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            let mut stderr = String::new();
            let _ = child.stderr.take().unwrap().read_to_string(&mut stderr);
            panic!("lanner {args:?} never became ready; stderr: {stderr}");
        }
    }
}

fn config_get(c: &mut RawConn, name: &str) -> String {
    let reply = c.cmd(&[b"CONFIG", b"GET", name.as_bytes()]);
    let text = String::from_utf8_lossy(&reply).into_owned();
    let parts: Vec<&str> = text.split("\r\n").collect();
    assert_eq!(parts[0], "*2", "CONFIG GET {name}: {text:?}");
    parts[4].to_string()
}

#[test]
fn config_file_plus_overrides_later_values_win() {
    let conf = temp_conf(
        "overrides",
        "# base\nbind 127.0.0.1\nport 0\nshards 2\nmaxmemory 100mb\nhz 15\ntimeout 30\n\
         save 900 1 300 10\n",
    );
    let (mut child, port) = start(&[
        conf.to_str().unwrap(),
        "--hz",
        "25",
        "--shards",
        "1",
        "--maxclients",
        "77",
    ]);
    let mut c = RawConn::connect(port);
    assert_eq!(config_get(&mut c, "hz"), "25", "override beats the file");
    assert_eq!(
        config_get(&mut c, "maxmemory"),
        "104857600",
        "file beats the default"
    );
    assert_eq!(config_get(&mut c, "timeout"), "30");
    assert_eq!(config_get(&mut c, "maxclients"), "77");
    assert_eq!(config_get(&mut c, "shards"), "1");
    assert_eq!(config_get(&mut c, "save"), "900 1 300 10");
    let info = String::from_utf8_lossy(&c.cmd(&[b"INFO", b"server"])).into_owned();
    assert!(info.contains("shards:1\r\n"), "{info}");
    assert!(info.contains(&format!("tcp_port:{port}\r\n")), "{info}");
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_file(&conf);
}

#[test]
fn config_file_accepts_quoted_save_list() {
    // redis.conf allows the list as one quoted argument (Redis 7.0 loads it).
    let conf = temp_conf(
        "quoted-save",
        "bind 127.0.0.1\nport 0\nshards 1\nsave \"900 1 300 10\"\n",
    );
    let (mut child, port) = start(&[conf.to_str().unwrap()]);
    let mut c = RawConn::connect(port);
    assert_eq!(config_get(&mut c, "save"), "900 1 300 10");
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_file(&conf);
}
