//! HTTP on the client port, at 1 and 4 shards: Prometheus's `GET /metrics`
//! and `GET /` are answered (keep-alive, HEAD, Basic authentication when
//! requirepass is set), any other HTTP request closes the connection, an
//! HTTP connection is not a client, and with `metrics-on-client-port no`
//! the same bytes are Redis commands, as in Redis.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::{q, Server};

fn connect(srv: &Server) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", srv.port())).unwrap();
    s.set_read_timeout(Some(common::CLIENT_TIMEOUT)).unwrap();
    s
}

/// One HTTP/1.1 exchange on `stream`: (status, head, body).
fn exchange(stream: &mut TcpStream, request: &str) -> (u16, String, String) {
    stream.write_all(request.as_bytes()).unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 64 * 1024];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_string();
            let status: u16 = head.split(' ').nth(1).unwrap().parse().unwrap();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("Content-Length: "))
                .map_or(0, |v| v.trim().parse().unwrap());
            let body_len = if request.starts_with("HEAD") { 0 } else { len };
            if buf.len() >= end + 4 + body_len {
                let body = String::from_utf8(buf[end + 4..end + 4 + body_len].to_vec()).unwrap();
                return (status, head, body);
            }
        }
        let n = stream.read(&mut chunk).unwrap();
        assert!(
            n > 0,
            "connection closed mid-response: {}",
            buf.escape_ascii()
        );
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Everything the server sends until it closes the connection.
fn until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    match stream.read_to_end(&mut out) {
        Ok(_) => out,
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => out,
        Err(e) => panic!("the server did not close the connection: {e}; got {out:?}"),
    }
}

fn connected_clients(con: &mut redis::Connection) -> u64 {
    let info: String = q(con, &["INFO", "clients"]);
    info.lines()
        .find_map(|l| l.strip_prefix("connected_clients:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

common::shard_tests! {
    fn get_metrics_on_the_client_port_serves_prometheus_text(srv: &Server) {
        let mut con = srv.client();
        for i in 0..5 {
            let _: () = q(&mut con, &["SET", &format!("k{i}"), "v"]);
        }
        let mut http = connect(srv);
        let (status, head, body) =
            exchange(&mut http, "GET /metrics HTTP/1.1\r\nHost: cache:6379\r\nUser-Agent: Prometheus/2\r\n\r\n");
        assert_eq!(status, 200, "{head}");
        assert!(head.contains("Content-Type: text/plain; version=0.0.4"), "{head}");
        assert!(body.contains("lanner_commands_total{cmd=\"set\"} 5"), "{body}");
        assert!(body.contains(&format!("shards=\"{}\"", srv.shards())), "{body}");
        // Keep-alive: the same connection serves the next requests.
        let (status, _, body) = exchange(&mut http, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(status, 200);
        assert!(body.starts_with("lanner ") && body.contains("/metrics"), "{body}");
        let (status, _, body) = exchange(&mut http, "HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!((status, body.as_str()), (200, ""));
        // The scraper is not a client: only `con` counts.
        assert_eq!(connected_clients(&mut con), 1);
        let (status, _, _) = exchange(&mut http, "GET /other HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(status, 404);
        assert!(until_closed(&mut http).is_empty());
        // Redis clients are unaffected.
        let v: String = q(&mut con, &["GET", "k1"]);
        assert_eq!(v, "v");
    }

    fn other_http_requests_close_the_connection(srv: &Server) {
        let mut con = srv.client();
        let _: () = q(&mut con, &["SET", "kept", "1"]);
        for request in [
            "PUT /metrics HTTP/1.1\r\nHost: x\r\n\r\n",
            "DELETE / HTTP/1.1\r\nHost: x\r\n\r\n",
            "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\nFLUSHALL\n",
        ] {
            let mut s = connect(srv);
            s.write_all(request.as_bytes()).unwrap();
            assert_eq!(until_closed(&mut s), b"", "{request}");
        }
        // A later request on a kept connection is held to the same rules.
        let mut s = connect(srv);
        let (status, _, _) = exchange(&mut s, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(status, 200);
        s.write_all(b"POST / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        assert_eq!(until_closed(&mut s), b"");
        common::wait_for_output(srv, "Possible SECURITY ATTACK detected");
        // The body's FLUSHALL never ran.
        let kept: Option<String> = q(&mut con, &["GET", "kept"]);
        assert_eq!(kept.as_deref(), Some("1"));
    }
}

#[test]
fn metrics_need_the_password_when_requirepass_is_set() {
    let srv = Server::start(2, &["--requirepass", "s3cret"]);
    let mut s = connect(&srv);
    let (status, head, _) = exchange(&mut s, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(status, 401);
    assert!(
        head.contains("WWW-Authenticate: Basic realm=\"lanner\""),
        "{head}"
    );
    assert!(until_closed(&mut s).is_empty());
    // "prometheus:wrong", then "prometheus:s3cret" in base64.
    let mut s = connect(&srv);
    let (status, _, _) = exchange(
        &mut s,
        "GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Basic cHJvbWV0aGV1czp3cm9uZw==\r\n\r\n",
    );
    assert_eq!(status, 401);
    let mut s = connect(&srv);
    let (status, _, body) = exchange(
        &mut s,
        "GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Basic cHJvbWV0aGV1czpzM2NyZXQ=\r\n\r\n",
    );
    assert_eq!(status, 200);
    assert!(body.contains("lanner_build_info"), "{body}");
}

/// With the client-port endpoint off, an HTTP request is what it is to
/// Redis: `GET /metrics HTTP/1.1` a GET with too many arguments, and the
/// `Host:` line that follows closes the connection before any reply.
#[test]
fn with_metrics_on_client_port_off_http_gets_redis_treatment() {
    let srv = Server::start(1, &["--metrics-on-client-port", "no"]);
    let redis = common::start_redis();
    for port in [srv.port(), redis.port()] {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(common::CLIENT_TIMEOUT)).unwrap();
        s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        assert_eq!(until_closed(&mut s), b"", "port {port}");
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(common::CLIENT_TIMEOUT)).unwrap();
        s.write_all(b"GET /metrics HTTP/1.1\r\n").unwrap();
        let mut reply = [0u8; 128];
        let n = s.read(&mut reply).unwrap();
        assert_eq!(
            &reply[..n],
            b"-ERR wrong number of arguments for 'get' command\r\n",
            "port {port}"
        );
    }
    // CONFIG SET turns it back on for new connections.
    let mut con = srv.client();
    let _: () = q(
        &mut con,
        &["CONFIG", "SET", "metrics-on-client-port", "yes"],
    );
    let mut s = connect(&srv);
    let (status, _, _) = exchange(&mut s, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(status, 200);
}

/// A request line split over several reads is still recognised.
#[test]
fn a_request_line_in_pieces_is_still_http() {
    let srv = Server::start(1, &[]);
    let mut s = connect(&srv);
    s.set_nodelay(true).unwrap();
    for piece in ["GE", "T /met", "rics HT", "TP/1.1\r", "\nHost: x\r\n\r\n"] {
        s.write_all(piece.as_bytes()).unwrap();
        // Spaced out so that the server reads the pieces one by one.
        std::thread::sleep(Duration::from_millis(20));
    }
    let (status, _, body) = exchange(&mut s, "");
    assert_eq!(status, 200);
    assert!(body.contains("lanner_uptime_seconds"));
}
