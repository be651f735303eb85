//! Start-up and shutdown as an operator sees them: two instances with the
//! default settings run side by side on one host (no shared metrics port),
//! a taken port stops start-up with one clear line, SIGTERM and SIGINT log
//! the signal and each shutdown step as Redis does, and the shipped
//! example configuration starts a server whose CONFIG REWRITE writes the
//! operator's copy, never the example.

mod common;

use std::net::TcpListener;
use std::process::Command;

use common::{q, Server};

fn lines_in_order(output: &str, expected: &[&str]) {
    let mut rest = output;
    for line in expected {
        match rest.find(line) {
            Some(at) => rest = &rest[at + line.len()..],
            None => panic!("{line:?} missing or out of order in:\n{output}"),
        }
    }
}

/// Two servers with the default metrics settings: both start, and each
/// serves its own metrics on its client port.
#[test]
fn two_instances_with_default_settings_run_side_by_side() {
    for shards in [1, 4] {
        let a = Server::start(shards, &[]);
        let b = Server::start(shards, &[]);
        for srv in [&a, &b] {
            let out = Command::new("curl")
                .args(["-sf", "--max-time", "10"])
                .arg(format!("http://127.0.0.1:{}/metrics", srv.port()))
                .output()
                .expect("curl runs");
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(out.status.success(), "{}", srv.output());
            assert!(text.contains("lanner_uptime_seconds"), "{text}");
            assert!(
                srv.output().contains(&format!(
                    "Prometheus metrics at http://127.0.0.1:{}/metrics (the client port)",
                    srv.port()
                )),
                "{}",
                srv.output()
            );
        }
        // Nothing listens on redis_exporter's port on lanner's behalf.
        assert!(!a.output().contains(":9121"), "{}", a.output());
    }
}

#[test]
fn a_taken_port_stops_start_up_with_one_line() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    for args in [
        vec!["--bind", "127.0.0.1", "--port", port.as_str()],
        vec!["--port", "0", "--metrics-port", port.as_str()],
    ] {
        let out = Command::new(common::lanner_bin())
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.starts_with("lanner: could not bind") && err.contains(&port),
            "{err}"
        );
    }
}

fn signal(srv: &Server, sig: &str) {
    let status = Command::new("kill")
        .args([sig, &srv.pid().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn sigterm_logs_the_signal_and_the_shutdown_steps() {
    for shards in [1, 4] {
        let srv = Server::start(shards, &[]);
        let _raw = srv.raw();
        let mut con = srv.client();
        let _: () = q(&mut con, &["SET", "k", "v"]);
        assert!(!srv.output().contains("scheduling shutdown"));
        signal(&srv, "-TERM");
        common::wait_for_output(&srv, "bye bye");
        lines_in_order(
            &srv.output(),
            &[
                "# Received SIGTERM scheduling shutdown...",
                "# User requested shutdown...",
                &format!(
                    "* Stopped {shards} shards and their listeners; closed 2 client connections."
                ),
                "* Not saving the data set: lanner keeps no data on disk.",
                "# lanner is now ready to exit, bye bye...",
            ],
        );
        assert!(srv.stop().success());
    }
}

#[test]
fn sigint_logs_the_signal_and_exits_cleanly() {
    let srv = Server::start(2, &[]);
    signal(&srv, "-INT");
    common::wait_for_output(&srv, "bye bye");
    lines_in_order(
        &srv.output(),
        &[
            "# Received SIGINT scheduling shutdown...",
            "# User requested shutdown...",
            "# lanner is now ready to exit, bye bye...",
        ],
    );
    assert!(srv.stop().success());
}

/// The example is a template: a server started from a copy rewrites the
/// copy, and the example in the repository stays as it is.
#[test]
fn config_rewrite_writes_the_copy_of_the_example() {
    let example =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/lanner.example.conf");
    let original = std::fs::read_to_string(&example).unwrap();
    assert!(
        original.contains("cp config/lanner.example.conf"),
        "the example says to copy it"
    );
    let dir = std::env::temp_dir().join(format!("lanner-startup-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let copy = dir.join("lanner.conf");
    std::fs::copy(&example, &copy).unwrap();
    let srv = Server::start_with_config(&copy, 2, &[]);
    let mut con = srv.client();
    let _: () = q(&mut con, &["CONFIG", "SET", "maxmemory", "64mb"]);
    let _: () = q(&mut con, &["CONFIG", "REWRITE"]);
    let file: String = {
        let info: String = q(&mut con, &["INFO", "server"]);
        info.lines()
            .find_map(|l| l.strip_prefix("config_file:"))
            .unwrap()
            .trim()
            .to_string()
    };
    assert_eq!(
        file,
        std::path::absolute(&copy).unwrap().display().to_string()
    );
    let rewritten = std::fs::read_to_string(&copy).unwrap();
    assert!(rewritten.contains("\nmaxmemory 64mb\n"), "{rewritten}");
    assert_eq!(std::fs::read_to_string(&example).unwrap(), original);
    drop(srv);
    std::fs::remove_dir_all(&dir).unwrap();
}
