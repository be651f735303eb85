//! Hostile and malformed input against lanner and the reference
//! redis-server side by side, at 1 and 4 shards: the same bytes on a fresh
//! connection must get the same bytes back. Covers Redis 7.0's
//! cross-protocol guard (a request named `POST` or `Host:` closes the
//! connection without a reply, even to the commands before it, and is
//! logged at most once a minute) and unknown-command errors that echo the
//! client's bytes, UTF-8 or not.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;

use common::q;

/// Sends `payload` and then QUIT on a fresh connection to `port` and
/// returns everything received until the server closes it.
fn exchange(port: u16, payload: &[u8]) -> Vec<u8> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(common::CLIENT_TIMEOUT)).unwrap();
    let mut bytes = payload.to_vec();
    bytes.extend_from_slice(b"*1\r\n$4\r\nQUIT\r\n");
    s.write_all(&bytes).unwrap();
    let mut out = Vec::new();
    match s.read_to_end(&mut out) {
        Ok(_) => out,
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => out,
        Err(e) => panic!("port {port} kept the connection open: {e}; got {out:?}"),
    }
}

const SECURITY: &str = "Possible SECURITY ATTACK detected. It looks like somebody is sending POST or Host: commands to Redis. This is likely due to an attacker attempting to use Cross Protocol Scripting to compromise your Redis instance. Connection aborted.";

fn cases() -> Vec<(&'static str, Vec<u8>)> {
    let mut long_args = b"*3\r\n$3\r\nfoo\r\n$200\r\n".to_vec();
    long_args.extend_from_slice(&[b'x'; 200]);
    long_args.extend_from_slice(b"\r\n$3\r\nabc\r\n");
    let mut many_args = b"*41\r\n$6\r\nnosuch\r\n".to_vec();
    for i in 0..40 {
        many_args.extend_from_slice(format!("$6\r\narg{i:03}\r\n").as_bytes());
    }
    let mut long_name = b"*2\r\n$300\r\n".to_vec();
    long_name.extend((0..300).map(|i| 0x80 + (i % 100) as u8));
    long_name.extend_from_slice(b"\r\n$1\r\na\r\n");
    vec![
        (
            "non-UTF-8 name and argument",
            b"*2\r\n$2\r\n\xff\xfe\r\n$3\r\n\xe9a\x01\r\n".to_vec(),
        ),
        (
            "CR, LF and NUL in the name",
            b"*1\r\n$5\r\na\r\nb\x00\r\n".to_vec(),
        ),
        (
            "NUL in an argument",
            b"*2\r\n$3\r\nfoo\r\n$3\r\na\x00b\r\n".to_vec(),
        ),
        ("a 200-byte argument", long_args),
        ("forty arguments", many_args),
        ("a 300-byte non-UTF-8 name", long_name),
        ("inline non-UTF-8 name", b"\xff\xfe a\r\n".to_vec()),
        (
            "POST after PING",
            b"PING\r\nPOST / HTTP/1.1\r\nPING\r\n".to_vec(),
        ),
        (
            "Host: after a write",
            b"SET hostile:a 1\r\nHost: x\r\n".to_vec(),
        ),
        ("multibulk host:", b"*1\r\n$5\r\nhost:\r\n".to_vec()),
        (
            "mixed-case PoSt",
            b"*2\r\n$4\r\nPoSt\r\n$1\r\nx\r\n".to_vec(),
        ),
        (
            "POST inside MULTI",
            b"MULTI\r\nSET hostile:m 1\r\nPOST\r\n".to_vec(),
        ),
        (
            "an HTTP POST first",
            b"POST /x HTTP/1.1\r\nHost: y\r\n\r\nSET hostile:b 2\r\n".to_vec(),
        ),
    ]
}

common::shard_tests! {
    fn hostile_input_gets_the_bytes_redis_sends(srv: &Server) {
        let redis = common::start_redis();
        for (what, payload) in cases() {
            let ours = exchange(srv.port(), &payload);
            let theirs = exchange(redis.port(), &payload);
            assert_eq!(
                ours.escape_ascii().to_string(),
                theirs.escape_ascii().to_string(),
                "{what}"
            );
        }
        // What ran before the attack ran; what followed it did not.
        for port in [srv.port(), redis.port()] {
            let mut con = common::client(port);
            let a: Option<String> = q(&mut con, &["GET", "hostile:a"]);
            let b: Option<String> = q(&mut con, &["GET", "hostile:b"]);
            let m: Option<String> = q(&mut con, &["GET", "hostile:m"]);
            assert_eq!((a.as_deref(), b, m), (Some("1"), None, None), "port {port}");
        }
        // Logged once, however many attacks followed within the minute.
        common::wait_for_output(srv, SECURITY);
        assert_eq!(srv.output().matches(SECURITY).count(), 1, "{}", srv.output());
    }

    fn unknown_commands_count_as_errors(srv: &Server) {
        exchange(srv.port(), b"*1\r\n$2\r\n\xff\xfe\r\n");
        let mut con = srv.client();
        let stats: String = q(&mut con, &["INFO", "stats"]);
        assert!(stats.contains("total_error_replies:1\r\n"), "{stats}");
        let errors: String = q(&mut con, &["INFO", "errorstats"]);
        assert!(errors.contains("errorstat_ERR:count=1\r\n"), "{errors}");
    }
}
