//! Shared harness for the integration tests: start the built `lanner` binary
//! (or Debian's `redis-server` as the reference) on a free port and talk to it.
//!
//! Every test file includes it with `mod common;` at its crate root. It runs on
//! the test thread only; the spawned servers are separate processes, so a test
//! sees exactly what a real client would.
//!
//! * [`Server`] starts lanner with `--port 0` and waits for its
//!   `Ready to accept connections on port <N>` line (polling, never sleeping a
//!   fixed time). Its stdout and stderr are drained into a buffer for the whole
//!   run, so the pipes never fill; a failing test prints that buffer.
//! * [`shard_tests!`] turns one test body into a test per shard count: every
//!   suite runs with 1 shard and with several, because cross-shard bugs only
//!   show with more than one.
//! * [`RawConn`] speaks RESP over a bare socket for tests where wire bytes
//!   matter; [`frame_len`] finds where one RESP2/RESP3 reply ends.
//! * [`start_redis`] starts the reference `redis-server` for differential tests.
//!
//! With `LANNER_TEST_SERVER=redis` in the environment, [`Server::start`] and
//! [`Server::start_with_config`] start the reference `redis-server` instead of
//! lanner, so a suite can be checked against Redis before lanner implements
//! what it tests: `LANNER_TEST_SERVER=redis cargo test --test pubsub`. The
//! shard count is then ignored (but [`Server::shards`] still reports it), and
//! the config file and extra flags go to `redis-server` unchanged, so only
//! flags both servers understand make sense there.
//!
//! Not every test file uses every item, hence the `dead_code` allowance.
#![allow(dead_code)]

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// Shard counts every suite runs with.
pub const SHARD_COUNTS: &[usize] = &[1, 4];

/// How long a server may take to print its ready line.
const READY_TIMEOUT: Duration = Duration::from_secs(20);
/// Read timeout of every client connection: a hung server fails the test
/// instead of hanging it.
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(10);
/// Grace period between SIGTERM and SIGKILL when a server is dropped.
const KILL_GRACE: Duration = Duration::from_secs(5);

const READY_MARKER: &str = "Ready to accept connections on port ";

/// Path of the `lanner` binary cargo built for these tests.
pub fn lanner_bin() -> &'static str {
    env!("CARGO_BIN_EXE_lanner")
}

/// Generates one `#[test]` per shard count for each body:
///
/// ```ignore
/// common::shard_tests! {
///     fn mget_preserves_order_across_shards(srv: &Server) {
///         let mut con = srv.client();
///         // ...
///     }
/// }
/// ```
///
/// expands to a module `mget_preserves_order_across_shards` holding the tests
/// `shards_1` and `shards_4`, each starting its own server. Attributes written
/// on the `fn` (e.g. `#[should_panic]`) go on both tests. Tests that need
/// extra server flags use [`with_each_shards`] instead.
#[allow(unused_macros)]
macro_rules! shard_tests {
    ($( $(#[$meta:meta])* fn $name:ident($srv:ident: &Server) $body:block )*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                fn body($srv: &crate::common::Server) $body

                $(#[$meta])*
                #[test]
                fn shards_1() {
                    body(&crate::common::Server::start(1, &[]));
                }

                $(#[$meta])*
                #[test]
                fn shards_4() {
                    body(&crate::common::Server::start(4, &[]));
                }
            }
        )*
    };
}
#[allow(unused_imports)]
pub(crate) use shard_tests;

// `shard_tests!` names its tests after these counts; keep the two in step.
const _: () = assert!(SHARD_COUNTS.len() == 2 && SHARD_COUNTS[0] == 1 && SHARD_COUNTS[1] == 4);

/// Runs `f` against a fresh server per entry of [`SHARD_COUNTS`], each started
/// with `args` as extra flags.
pub fn with_each_shards(args: &[&str], f: impl Fn(&Server)) {
    for &shards in SHARD_COUNTS {
        f(&Server::start(shards, args));
    }
}

/// Everything a child process printed, shared with the threads draining it.
#[derive(Default)]
struct Output {
    text: Mutex<String>,
    changed: Condvar,
}

/// A child process whose stdout and stderr are drained into an [`Output`] and
/// which is terminated (SIGTERM, then SIGKILL after [`KILL_GRACE`]) on drop.
struct Proc {
    name: String,
    child: Option<Child>,
    output: Arc<Output>,
}

impl Proc {
    fn spawn(name: &str, cmd: &mut Command) -> Proc {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name} ({cmd:?}): {e}"));
        let output = Arc::new(Output::default());
        drain(child.stdout.take().unwrap(), output.clone());
        drain(child.stderr.take().unwrap(), output.clone());
        Proc {
            name: name.to_string(),
            child: Some(child),
            output,
        }
    }

    fn output(&self) -> String {
        self.output.text.lock().unwrap().clone()
    }

    fn pid(&self) -> u32 {
        self.child.as_ref().expect("process already stopped").id()
    }

    /// Exit status if the process has exited, without waiting.
    fn exited(&mut self) -> Option<ExitStatus> {
        self.child.as_mut()?.try_wait().ok().flatten()
    }

    /// Waits until `found` returns `Some` for the output so far, the process
    /// exits, or `timeout` passes; the last two panic with the output.
    fn wait_for<T>(&mut self, timeout: Duration, found: impl Fn(&str) -> Option<T>) -> T {
        let deadline = Instant::now() + timeout;
        let mut text = self.output.text.lock().unwrap();
        loop {
            if let Some(v) = found(&text) {
                return v;
            }
            let now = Instant::now();
            let status = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            if let Some(status) = status {
                drop(text);
                // Let the drain threads pick up the last lines before reporting.
                thread::sleep(Duration::from_millis(50));
                panic!(
                    "{} exited ({status}) before it was ready; output:\n{}",
                    self.name,
                    self.output()
                );
            }
            if now >= deadline {
                drop(text);
                panic!(
                    "{} not ready after {timeout:?}; output:\n{}",
                    self.name,
                    self.output()
                );
            }
            // Short waits so an exit (which prints nothing) is noticed quickly.
            let wait = (deadline - now).min(Duration::from_millis(50));
            text = self.output.changed.wait_timeout(text, wait).unwrap().0;
        }
    }

    /// Sends SIGTERM and waits up to `grace` for the exit.
    fn terminate(&mut self, grace: Duration) -> Option<ExitStatus> {
        let child = self.child.as_mut()?;
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = child.try_wait() {
                return Some(status);
            }
            thread::sleep(Duration::from_millis(10));
        }
        None
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if self.child.is_none() {
            return;
        }
        if self.terminate(KILL_GRACE).is_none() {
            self.kill();
        }
        self.child = None;
        if thread::panicking() {
            eprintln!("---- {} output ----\n{}", self.name, self.output());
        }
    }
}

/// Copies everything `pipe` yields into `out`, line by line, until EOF.
fn drain(pipe: impl Read + Send + 'static, out: Arc<Output>) {
    thread::spawn(move || {
        let mut reader = BufReader::new(pipe);
        let mut line = Vec::new();
        loop {
            line.clear();
            match reader.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    out.text
                        .lock()
                        .unwrap()
                        .push_str(&String::from_utf8_lossy(&line));
                    out.changed.notify_all();
                }
            }
        }
    });
}

/// A running `lanner` process on a free port (or `redis-server`, see the
/// module doc).
pub struct Server {
    proc: Proc,
    port: u16,
    shards: usize,
    /// `redis-server`'s private directory; declared after `proc` so that
    /// the process is stopped before the directory goes.
    redis_dir: Option<RemovedOnDrop>,
}

/// A directory removed with everything in it on drop.
struct RemovedOnDrop(PathBuf);

impl Drop for RemovedOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Whether `LANNER_TEST_SERVER=redis` asks for the reference server.
pub fn testing_redis() -> bool {
    std::env::var_os("LANNER_TEST_SERVER").is_some_and(|v| v == "redis")
}

impl Server {
    /// Starts `lanner --bind 127.0.0.1 --port 0 --shards <shards>
    /// <args...>` and waits for its ready line.
    pub fn start(shards: usize, args: &[&str]) -> Server {
        Server::spawn(None, shards, args)
    }

    /// Starts `lanner <config> --bind 127.0.0.1 --port 0 --shards <shards>
    /// <args...>`: a config file first, as an operator runs it, with the
    /// test's own address and port overriding the file's.
    pub fn start_with_config(config: &Path, shards: usize, args: &[&str]) -> Server {
        Server::spawn(Some(config), shards, args)
    }

    fn spawn(config: Option<&Path>, shards: usize, args: &[&str]) -> Server {
        if testing_redis() {
            let (proc, port, dir) = spawn_redis(config, args);
            return Server {
                proc,
                port,
                shards,
                redis_dir: Some(RemovedOnDrop(dir)),
            };
        }
        let mut cmd = Command::new(lanner_bin());
        cmd.args(config);
        cmd.args(["--bind", "127.0.0.1", "--port", "0"])
            .arg("--shards")
            .arg(shards.to_string())
            .args(args);
        let mut proc = Proc::spawn(&format!("lanner ({shards} shards)"), &mut cmd);
        let port = proc.wait_for(READY_TIMEOUT, ready_port);
        Server {
            proc,
            port,
            shards,
            redis_dir: None,
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn shards(&self) -> usize {
        self.shards
    }

    pub fn pid(&self) -> u32 {
        self.proc.pid()
    }

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// A `redis` crate connection with read/write timeouts set.
    pub fn client(&self) -> redis::Connection {
        client(self.port)
    }

    pub fn raw(&self) -> RawConn {
        RawConn::connect(self.port)
    }

    /// Everything the server printed on stdout and stderr so far.
    pub fn output(&self) -> String {
        self.proc.output()
    }

    /// Stops the server with SIGTERM and returns its exit status; panics
    /// (after SIGKILL) if it has not exited within 10 s.
    pub fn stop(mut self) -> ExitStatus {
        match self.proc.terminate(Duration::from_secs(10)) {
            Some(status) => {
                self.proc.child = None;
                status
            }
            None => {
                self.proc.kill();
                panic!(
                    "lanner ignored SIGTERM for 10 s; output:\n{}",
                    self.proc.output()
                );
            }
        }
    }

    /// Exit status if the server has exited on its own.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.proc.exited()
    }
}

/// Waits until the server's output contains `text`; panics with the
/// output after [`READY_TIMEOUT`].
pub fn wait_for_output(srv: &Server, text: &str) {
    let deadline = Instant::now() + READY_TIMEOUT;
    while !srv.output().contains(text) {
        assert!(
            Instant::now() < deadline,
            "the server never printed {text:?}; output:\n{}",
            srv.output()
        );
        thread::sleep(Duration::from_millis(10));
    }
}

/// Port announced by the ready line, once the output holds a complete one.
fn ready_port(text: &str) -> Option<u16> {
    let at = text.find(READY_MARKER)? + READY_MARKER.len();
    let rest = &text[at..];
    let digits = rest.find(|c: char| !c.is_ascii_digit())?;
    rest[..digits].parse().ok()
}

/// Opens a `redis` crate connection to 127.0.0.1:`port`.
///
/// The crate pipelines `CLIENT SETINFO LIB-NAME` and `LIB-VER` while
/// connecting (it ignores error replies) and reads those replies without any
/// timeout, so the connect runs on a helper thread: a server that never
/// answers fails the test after [`CLIENT_TIMEOUT`] instead of hanging it.
pub fn client(port: u16) -> redis::Connection {
    let (tx, rx) = std::sync::mpsc::channel();
    thread::spawn(move || {
        let client = redis::Client::open(format!("redis://127.0.0.1:{port}/")).unwrap();
        let _ = tx.send(client.get_connection_with_timeout(CLIENT_TIMEOUT));
    });
    let con = match rx.recv_timeout(CLIENT_TIMEOUT) {
        Ok(Ok(con)) => con,
        Ok(Err(e)) => panic!("cannot connect to 127.0.0.1:{port}: {e}"),
        Err(_) => panic!(
            "127.0.0.1:{port} did not finish the redis crate's connection setup \
             (CLIENT SETINFO pipeline) within {CLIENT_TIMEOUT:?}"
        ),
    };
    con.set_read_timeout(Some(CLIENT_TIMEOUT)).unwrap();
    con.set_write_timeout(Some(CLIENT_TIMEOUT)).unwrap();
    con
}

/// A RESP connection over a bare socket, for tests that check wire bytes.
pub struct RawConn {
    stream: TcpStream,
    /// Bytes read but not yet returned.
    buf: Vec<u8>,
}

impl RawConn {
    pub fn connect(port: u16) -> RawConn {
        let stream = TcpStream::connect(("127.0.0.1", port))
            .unwrap_or_else(|e| panic!("cannot connect to 127.0.0.1:{port}: {e}"));
        stream.set_nodelay(true).unwrap();
        stream.set_read_timeout(Some(CLIENT_TIMEOUT)).unwrap();
        stream.set_write_timeout(Some(CLIENT_TIMEOUT)).unwrap();
        RawConn {
            stream,
            buf: Vec::new(),
        }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("send failed");
    }

    /// Reads exactly one complete reply and returns its bytes; panics on
    /// timeout or if the server closes the connection first.
    pub fn read_reply(&mut self) -> Vec<u8> {
        self.try_read_reply()
            .unwrap_or_else(|e| panic!("no complete reply: {e}"))
    }

    /// Like [`RawConn::read_reply`], but returns failures (timeout, EOF,
    /// malformed frame) as errors that name the bytes received so far.
    pub fn try_read_reply(&mut self) -> io::Result<Vec<u8>> {
        loop {
            match frame_len(&self.buf) {
                Ok(Some(n)) => return Ok(self.buf.drain(..n).collect()),
                Ok(None) => {}
                Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, e)),
            }
            let mut chunk = [0u8; 16 * 1024];
            match self.stream.read(&mut chunk) {
                Ok(0) => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!("connection closed after \"{}\"", self.buf.escape_ascii()),
                    ))
                }
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let what = match e.kind() {
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => {
                            format!("no complete reply within {CLIENT_TIMEOUT:?}")
                        }
                        _ => e.to_string(),
                    };
                    return Err(io::Error::new(
                        e.kind(),
                        format!("{what}; received \"{}\"", self.buf.escape_ascii()),
                    ));
                }
            }
        }
    }

    /// Sends `args` as a multibulk request and reads one reply.
    pub fn cmd(&mut self, args: &[&[u8]]) -> Vec<u8> {
        self.send(&encode_request(args));
        self.read_reply()
    }

    /// Reads until the server closes the connection or `timeout` passes, and
    /// returns everything received (including bytes already buffered).
    pub fn read_to_close(&mut self, timeout: Duration) -> Vec<u8> {
        let deadline = Instant::now() + timeout;
        let mut chunk = [0u8; 16 * 1024];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            self.stream.set_read_timeout(Some(left)).unwrap();
            match self.stream.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        self.stream.set_read_timeout(Some(CLIENT_TIMEOUT)).unwrap();
        std::mem::take(&mut self.buf)
    }

    /// Whether the server has closed the connection, allowing it 200 ms to do
    /// so. Bytes that arrive meanwhile are kept for the next read.
    pub fn is_closed(&mut self) -> bool {
        self.stream
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let mut chunk = [0u8; 16 * 1024];
        let closed = match self.stream.read(&mut chunk) {
            Ok(0) => true,
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                false
            }
            Err(e) => matches!(
                e.kind(),
                io::ErrorKind::ConnectionReset
                    | io::ErrorKind::ConnectionAborted
                    | io::ErrorKind::BrokenPipe
            ),
        };
        self.stream.set_read_timeout(Some(CLIENT_TIMEOUT)).unwrap();
        closed
    }
}

/// Encodes `args` as a RESP multibulk request.
pub fn encode_request(args: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Length of the first complete RESP2/RESP3 frame in `buf`: `Ok(None)` if it
/// is still incomplete, `Err` if it is malformed. An attribute (`|`) counts
/// as part of the reply that follows it.
pub fn frame_len(buf: &[u8]) -> Result<Option<usize>, String> {
    frame_end(buf, 0)
}

fn frame_end(buf: &[u8], pos: usize) -> Result<Option<usize>, String> {
    let Some(&kind) = buf.get(pos) else {
        return Ok(None);
    };
    let Some(cr) = buf[pos..].windows(2).position(|w| w == b"\r\n") else {
        return Ok(None);
    };
    let line = &buf[pos + 1..pos + cr];
    let after = pos + cr + 2;
    let count = || -> Result<i64, String> {
        std::str::from_utf8(line)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("bad length \"{}\" at byte {pos}", line.escape_ascii()))
    };
    match kind {
        b'+' | b'-' | b':' | b'_' | b',' | b'#' | b'(' => Ok(Some(after)),
        b'$' | b'=' | b'!' => {
            let n = count()?;
            if n < 0 {
                return Ok(Some(after));
            }
            let end = after + n as usize + 2;
            if buf.len() < end {
                Ok(None)
            } else if &buf[end - 2..end] != b"\r\n" {
                Err(format!("bulk at byte {pos} not terminated by CRLF"))
            } else {
                Ok(Some(end))
            }
        }
        b'*' | b'~' | b'>' | b'%' | b'|' => {
            let n = count()?;
            let items = match kind {
                b'%' | b'|' => 2 * n.max(0),
                _ => n.max(0),
            };
            let mut end = after;
            for _ in 0..items {
                match frame_end(buf, end)? {
                    Some(e) => end = e,
                    None => return Ok(None),
                }
            }
            if kind == b'|' {
                // Attributes decorate the reply that follows.
                return frame_end(buf, end);
            }
            Ok(Some(end))
        }
        other => Err(format!(
            "unknown RESP type byte {:?} at byte {pos}",
            other as char
        )),
    }
}

/// The reference `redis-server`, started by [`start_redis`]; killed on drop.
pub struct RedisServer {
    proc: Proc,
    port: u16,
    dir: PathBuf,
}

impl RedisServer {
    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn client(&self) -> redis::Connection {
        client(self.port)
    }

    pub fn raw(&self) -> RawConn {
        RawConn::connect(self.port)
    }

    pub fn output(&self) -> String {
        self.proc.output()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        // redis-server needs no graceful stop here: nothing is persisted.
        self.proc.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

const REDIS_SERVER: &str = "/usr/bin/redis-server";

/// Starts Debian's `redis-server` on a free port, without persistence, in a
/// private temporary directory, and waits until it answers PING.
pub fn start_redis() -> RedisServer {
    let (proc, port, dir) = spawn_redis(None, &[]);
    RedisServer { proc, port, dir }
}

/// Starts `redis-server [config] <args...>` as [`start_redis`] describes and
/// returns the process, its port and its directory.
fn spawn_redis(config: Option<&Path>, args: &[&str]) -> (Proc, u16, PathBuf) {
    assert!(
        std::path::Path::new(REDIS_SERVER).exists(),
        "redis-server not found: apt-get install redis-server"
    );
    // The free port is found by binding port 0 and releasing it, so another
    // process may grab it first; redis-server then exits and we try again.
    let mut last_output = String::new();
    for _ in 0..5 {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let dir =
            std::env::temp_dir().join(format!("lanner-test-redis-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut cmd = Command::new(REDIS_SERVER);
        cmd.args(config);
        cmd.args(["--bind", "127.0.0.1", "--port"])
            .arg(port.to_string())
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .args(["--loglevel", "warning", "--dir"])
            .arg(&dir)
            .args(args);
        let mut proc = Proc::spawn(&format!("redis-server (port {port})"), &mut cmd);
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Some(status) = proc.exited() {
                thread::sleep(Duration::from_millis(50));
                last_output = format!("exited with {status}:\n{}", proc.output());
                proc.child = None;
                let _ = std::fs::remove_dir_all(&dir);
                break;
            }
            if answers_ping(port) {
                return (proc, port, dir);
            }
            if Instant::now() >= deadline {
                panic!(
                    "redis-server not ready after {READY_TIMEOUT:?}:\n{}",
                    proc.output()
                );
            }
            thread::sleep(Duration::from_millis(20));
        }
    }
    panic!("redis-server failed to start 5 times; last attempt {last_output}");
}

fn answers_ping(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
    let mut reply = [0u8; 7];
    stream.write_all(b"PING\r\n").is_ok()
        && stream.read_exact(&mut reply).is_ok()
        && &reply == b"+PONG\r\n"
}

/// "CODE detail" of a server error reply.
pub fn error_text(e: redis::RedisError) -> String {
    format!("{} {}", e.code().unwrap_or("?"), e.detail().unwrap_or(""))
}

/// Runs `args` (name first) through the `redis` crate; panics on an error.
pub fn q<T: redis::FromRedisValue>(con: &mut redis::Connection, args: &[&str]) -> T {
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    cmd.query(con).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

/// Runs a command that must fail and returns its error text.
pub fn fails(con: &mut redis::Connection, args: &[&str]) -> String {
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    match cmd.query::<redis::Value>(con) {
        Ok(v) => panic!("{args:?} succeeded with {v:?}"),
        Err(e) => error_text(e),
    }
}
