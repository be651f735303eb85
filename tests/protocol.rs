//! The wire protocol against a real server, at 1 and 4 shards: malformed
//! frames (Redis's `-ERR Protocol error: …`, then only that connection
//! closes), huge declared counts and lengths that must not allocate, frames
//! split at every byte, deep pipelines, inline commands, clients vanishing
//! mid-pipeline, and a deterministic fuzz loop of random byte strings.

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

use common::{RawConn, Server};

fn cmd(c: &mut RawConn, line: &str) -> String {
    let args: Vec<&[u8]> = line.split_whitespace().map(str::as_bytes).collect();
    String::from_utf8_lossy(&c.cmd(&args)).into_owned()
}

/// Sends `bytes` on a fresh connection and returns everything the server
/// sent until it closed the connection (panics if it stays open).
fn send_expect_close(srv: &Server, bytes: &[u8]) -> String {
    let mut c = srv.raw();
    c.send(bytes);
    let got = c.read_to_close(Duration::from_secs(5));
    assert!(
        c.is_closed(),
        "connection still open after {:?}",
        bytes.escape_ascii().to_string()
    );
    String::from_utf8_lossy(&got).into_owned()
}

/// Resident set size of the server process, in bytes.
fn rss(pid: u32) -> u64 {
    let statm = std::fs::read_to_string(format!("/proc/{pid}/statm")).unwrap();
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

/// Parses `buf` as a sequence of complete RESP frames; returns how many.
fn count_frames(buf: &[u8]) -> usize {
    let mut pos = 0;
    let mut n = 0;
    while pos < buf.len() {
        match common::frame_len(&buf[pos..]) {
            Ok(Some(len)) => pos += len,
            other => panic!(
                "malformed reply bytes at {pos} ({other:?}): \"{}\"",
                buf.escape_ascii()
            ),
        }
        n += 1;
    }
    n
}

/// Deterministic xorshift64* generator: reproducible fuzz input, no deps.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A random request-ish byte string: mostly RESP punctuation, digits and
/// letters, so the parser's paths (counts, lengths, CRLF, quotes) are hit.
fn fuzz_input(rng: &mut XorShift) -> Vec<u8> {
    const ALPHABET: &[u8] = b"*$\r\n\r\n0123456789-+:\"' \\xabcGETSETPINGping";
    let len = 1 + rng.below(120) as usize;
    let mut out = Vec::with_capacity(len + 16);
    // Half the inputs start like a valid multibulk header.
    if rng.below(2) == 0 {
        out.extend_from_slice(format!("*{}\r\n${}\r\n", rng.below(5), rng.below(8)).as_bytes());
    }
    for _ in 0..len {
        let b = if rng.below(8) == 0 {
            rng.next() as u8
        } else {
            ALPHABET[rng.below(ALPHABET.len() as u64) as usize]
        };
        out.push(b);
    }
    out
}

common::shard_tests! {
    fn garbage_gets_protocol_error_and_only_that_connection_closes(srv: &Server) {
        let mut other = srv.raw();
        assert_eq!(cmd(&mut other, "SET keep me"), "+OK\r\n");
        assert_eq!(
            send_expect_close(srv, b"*1\r\nxyz\r\n"),
            "-ERR Protocol error: expected '$', got 'x'\r\n"
        );
        assert_eq!(
            send_expect_close(srv, b"*abc\r\n"),
            "-ERR Protocol error: invalid multibulk length\r\n"
        );
        assert_eq!(
            send_expect_close(srv, b"*1\r\n$-5\r\n"),
            "-ERR Protocol error: invalid bulk length\r\n"
        );
        // Commands before the bad frame in the same write are answered first.
        assert_eq!(
            send_expect_close(srv, b"PING\r\n*1\r\n$4\r\nPING\r\n*1\r\n!oops\r\n"),
            "+PONG\r\n+PONG\r\n-ERR Protocol error: expected '$', got '!'\r\n"
        );
        assert_eq!(cmd(&mut other, "GET keep"), "$2\r\nme\r\n");
        assert_eq!(cmd(&mut srv.raw(), "GET keep"), "$2\r\nme\r\n");
    }

    fn bulk_length_of_2_pow_40_is_invalid(srv: &Server) {
        assert_eq!(
            send_expect_close(srv, b"*1\r\n$1099511627776\r\n"),
            "-ERR Protocol error: invalid bulk length\r\n"
        );
        // proto-max-bulk-len (512 MiB) + 1 is rejected, the limit itself waits.
        assert_eq!(
            send_expect_close(srv, b"*1\r\n$536870913\r\n"),
            "-ERR Protocol error: invalid bulk length\r\n"
        );
        assert_eq!(
            send_expect_close(srv, b"*99999999999\r\n"),
            "-ERR Protocol error: invalid multibulk length\r\n"
        );
        assert_eq!(cmd(&mut srv.raw(), "PING"), "+PONG\r\n");
    }

    fn huge_declared_counts_do_not_allocate(srv: &Server) {
        let before = rss(srv.pid());
        for _ in 0..20 {
            let mut c = srv.raw();
            c.send(b"*10000000\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n");
            drop(c);
            let mut c = srv.raw();
            // 500 MB declared, 10 bytes sent.
            c.send(b"*2\r\n$3\r\nGET\r\n$500000000\r\n0123456789");
            drop(c);
        }
        let mut c = srv.raw();
        assert_eq!(cmd(&mut c, "PING"), "+PONG\r\n");
        assert_eq!(cmd(&mut c, "GET k"), "$-1\r\n", "the unfinished SET must not run");
        let after = rss(srv.pid());
        assert!(
            after < before + 64 * 1024 * 1024,
            "RSS grew from {before} to {after} bytes"
        );
        let mem = cmd(&mut c, "INFO memory");
        assert!(mem.contains("used_memory_rss:"), "{mem}");
    }

    fn frames_sent_byte_by_byte_work(srv: &Server) {
        let mut c = srv.raw();
        let value = "v".repeat(100);
        let mut bytes = common::encode_request(&[b"SET", b"slow", value.as_bytes()]);
        bytes.extend_from_slice(b"GET slow\r\n");
        bytes.extend_from_slice(&common::encode_request(&[b"ECHO", b"a\r\nb"]));
        for b in &bytes {
            c.send(std::slice::from_ref(b));
            std::thread::sleep(Duration::from_micros(300));
        }
        assert_eq!(c.read_reply(), b"+OK\r\n");
        assert_eq!(c.read_reply(), format!("$100\r\n{value}\r\n").into_bytes());
        assert_eq!(c.read_reply(), b"$4\r\na\r\nb\r\n");
    }

    fn pipeline_of_10000_commands_answers_in_order(srv: &Server) {
        let mut req = Vec::new();
        for i in 0..5000 {
            req.extend_from_slice(&common::encode_request(&[
                b"SET",
                format!("p:{i}").as_bytes(),
                i.to_string().as_bytes(),
            ]));
            req.extend_from_slice(&common::encode_request(&[b"GET", format!("p:{i}").as_bytes()]));
        }
        let stream = TcpStream::connect(("127.0.0.1", srv.port())).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut writer = stream.try_clone().unwrap();
        // Write from another thread: replies may fill the socket meanwhile.
        let w = std::thread::spawn(move || writer.write_all(&req).unwrap());
        let mut reader = stream;
        let mut buf = Vec::new();
        let mut chunk = vec![0u8; 64 * 1024];
        let mut replies = Vec::new();
        let mut pos = 0;
        while replies.len() < 10_000 {
            match common::frame_len(&buf[pos..]).unwrap() {
                Some(n) => {
                    replies.push(buf[pos..pos + n].to_vec());
                    pos += n;
                }
                None => {
                    let n = reader.read(&mut chunk).expect("reply stream stalled");
                    assert!(n > 0, "closed after {} replies", replies.len());
                    buf.extend_from_slice(&chunk[..n]);
                }
            }
        }
        w.join().unwrap();
        for i in 0..5000 {
            assert_eq!(replies[2 * i], b"+OK\r\n", "reply {}", 2 * i);
            let v = i.to_string();
            assert_eq!(
                replies[2 * i + 1],
                format!("${}\r\n{v}\r\n", v.len()).into_bytes(),
                "reply {}",
                2 * i + 1
            );
        }
        assert_eq!(pos, buf.len(), "extra bytes after 10000 replies");
    }

    fn inline_commands_and_quoting(srv: &Server) {
        let mut c = srv.raw();
        c.send(b"PING\r\n");
        assert_eq!(c.read_reply(), b"+PONG\r\n");
        c.send(b"SET a \"b c\"\r\n");
        assert_eq!(c.read_reply(), b"+OK\r\n");
        c.send(b"GET a\n");
        assert_eq!(c.read_reply(), b"$3\r\nb c\r\n");
        c.send(b"SET bin \"x\\x00y\\n\" \r\nSTRLEN bin\r\n");
        assert_eq!(c.read_reply(), b"+OK\r\n");
        assert_eq!(c.read_reply(), b":4\r\n");
        c.send(b"ECHO 'it\\'s'\r\n");
        assert_eq!(c.read_reply(), b"$4\r\nit's\r\n");
        // Blank lines are ignored.
        c.send(b"\r\n\r\n   \r\nPING x\r\n");
        assert_eq!(c.read_reply(), b"$1\r\nx\r\n");
        assert_eq!(
            send_expect_close(srv, b"SET a \"b\r\n"),
            "-ERR Protocol error: unbalanced quotes in request\r\n"
        );
        assert_eq!(
            send_expect_close(srv, b"SET a 'b\r\n"),
            "-ERR Protocol error: unbalanced quotes in request\r\n"
        );
        let mut big = vec![b'a'; 70 * 1024];
        big.insert(0, b'X');
        assert_eq!(
            send_expect_close(srv, &big),
            "-ERR Protocol error: too big inline request\r\n"
        );
        assert_eq!(cmd(&mut c, "GET a"), "$3\r\nb c\r\n");
    }

    fn wrong_arity_and_unknown_command_texts(srv: &Server) {
        let mut c = srv.raw();
        assert_eq!(cmd(&mut c, "GET"), "-ERR wrong number of arguments for 'get' command\r\n");
        assert_eq!(cmd(&mut c, "SET k"), "-ERR wrong number of arguments for 'set' command\r\n");
        assert_eq!(cmd(&mut c, "get a b"), "-ERR wrong number of arguments for 'get' command\r\n");
        assert_eq!(
            cmd(&mut c, "FOO"),
            "-ERR unknown command 'FOO', with args beginning with: \r\n"
        );
        assert_eq!(
            cmd(&mut c, "foo a b"),
            "-ERR unknown command 'foo', with args beginning with: 'a' 'b' \r\n"
        );
        c.send(b"NOSUCH x\r\n");
        assert_eq!(
            c.read_reply(),
            b"-ERR unknown command 'NOSUCH', with args beginning with: 'x' \r\n"
        );
        assert_eq!(cmd(&mut c, "PING"), "+PONG\r\n");
    }

    fn client_vanishing_mid_pipeline_leaves_server_consistent(srv: &Server) {
        let big = "x".repeat(10_000);
        let mut c = srv.raw();
        assert_eq!(c.cmd(&[b"SET", b"big", big.as_bytes()]), b"+OK\r\n");
        // 1000 GETs of 10 KB each, then vanish without reading the replies.
        let mut req = Vec::new();
        for _ in 0..1000 {
            req.extend_from_slice(b"GET big\r\n");
        }
        for i in 0..200 {
            req.extend_from_slice(format!("SET mid:{i} {i}\r\n").as_bytes());
        }
        // Half a command: must never run.
        req.extend_from_slice(b"*3\r\n$3\r\nSET\r\n$7\r\npartial\r\n$5\r\nab");
        let mut s = TcpStream::connect(("127.0.0.1", srv.port())).unwrap();
        s.write_all(&req).unwrap();
        s.shutdown(Shutdown::Both).unwrap();
        drop(s);

        let mut check = srv.raw();
        assert_eq!(cmd(&mut check, "PING"), "+PONG\r\n");
        assert_eq!(cmd(&mut check, "GET partial"), "$-1\r\n");
        for i in 0..200 {
            let got = cmd(&mut check, &format!("GET mid:{i}"));
            let v = i.to_string();
            assert!(
                got == "$-1\r\n" || got == format!("${}\r\n{v}\r\n", v.len()),
                "mid:{i} = {got:?}"
            );
        }
        assert_eq!(cmd(&mut c, "STRLEN big"), ":10000\r\n");
    }

    fn fuzzed_inputs_never_break_the_server(srv: &Server) {
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15 ^ srv.shards() as u64);
        let mut watch = srv.raw();
        assert_eq!(cmd(&mut watch, "SET canary alive"), "+OK\r\n");
        for round in 0..200 {
            let input = fuzz_input(&mut rng);
            let mut s = TcpStream::connect(("127.0.0.1", srv.port())).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            s.write_all(&input).unwrap();
            s.shutdown(Shutdown::Write).unwrap();
            let start = Instant::now();
            let mut got = Vec::new();
            // The server closes once it sees EOF (or after a protocol error).
            if let Err(e) = s.read_to_end(&mut got) {
                assert!(
                    e.kind() == std::io::ErrorKind::ConnectionReset,
                    "round {round}: {e} after {:?} for \"{}\"",
                    start.elapsed(),
                    input.escape_ascii()
                );
            }
            count_frames(&got);
            watch.send(b"PING\r\n");
            match watch.try_read_reply() {
                Ok(r) => assert_eq!(r, b"+PONG\r\n", "round {round}"),
                Err(e) => panic!(
                    "server stopped answering after round {round} (input \"{}\", reply \"{}\"): {e}",
                    input.escape_ascii(),
                    got.escape_ascii()
                ),
            }
        }
        assert_eq!(cmd(&mut watch, "GET canary"), "$5\r\nalive\r\n");
    }
}
