//! The HTTP side of lanner: Prometheus scrapes `GET /metrics` on the client
//! port (a connection whose first line is an HTTP/1.x request line) or on
//! the separate `metrics-port` endpoint.
//!
//! Runs on the core that accepted the connection (the separate endpoint:
//! shard 0); a scrape is one all-shard read (`metrics::scrape`). It is a
//! small HTTP/1.1 server, no HTTP stack: request heads up to 8 KiB,
//! keep-alive, no bodies, no chunked encoding.
//!
//! On the client port HTTP exists only for the scrape, so that a browser
//! tricked into sending requests to the cache reaches nothing: `GET` or
//! `HEAD` of `/metrics` and `/` are answered (with HTTP Basic
//! authentication against `requirepass` when one is set), another path gets
//! a 404 and the connection closes, any other method closes it at once —
//! `POST` logged as the cross-protocol attack Redis reports
//! (`conn::cross_protocol_attack`). The separate endpoint answers 404 and
//! 405 and keeps its connections, as before.

use std::rc::Rc;

use futures_lite::{AsyncReadExt, AsyncWriteExt};
use glommio::net::{TcpListener, TcpStream};

use super::conn;
use crate::log;
use crate::services::Shard;

/// Requests with more than 8 KiB of headers are refused.
const MAX_HEAD: usize = 8 * 1024;

/// What the first bytes of a client-port connection are.
#[derive(Debug, PartialEq, Eq)]
pub enum Sniff {
    /// An HTTP/1.x request line.
    Http,
    /// A Redis request (multibulk, or an inline command line).
    Resp,
    /// Not a whole line yet.
    Undecided,
}

/// Tells an HTTP request from a Redis request by the connection's first
/// line. `GET /metrics HTTP/1.1` is not a valid Redis command (GET takes
/// one argument), so nothing a Redis client sends is taken for HTTP.
pub fn sniff(buf: &[u8]) -> Sniff {
    if buf.first() == Some(&b'*') {
        return Sniff::Resp;
    }
    match buf.iter().position(|&b| b == b'\n') {
        Some(end) if is_request_line(&buf[..end]) => Sniff::Http,
        Some(_) => Sniff::Resp,
        None if buf.len() > MAX_HEAD => Sniff::Resp,
        None => Sniff::Undecided,
    }
}

/// `METHOD SP target SP HTTP/1.x`, with or without the CR.
fn is_request_line(line: &[u8]) -> bool {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let mut parts = line.split(|&b| b == b' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    !method.is_empty()
        && method.iter().all(u8::is_ascii_uppercase)
        && !target.is_empty()
        && version.len() == 8
        && version.starts_with(b"HTTP/1.")
        && version[7].is_ascii_digit()
}

/// Which port a request came in on: the rules differ (see the module doc).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Port {
    Client,
    Metrics,
}

/// Serves the separate `metrics-port` endpoint until the executor stops.
pub async fn serve_metrics_port(sh: Rc<Shard>, listener: TcpListener) {
    loop {
        match listener.accept().await {
            Ok(stream) => {
                let sh = sh.clone();
                glommio::spawn_local(
                    async move { serve(&sh, stream, Vec::new(), Port::Metrics).await },
                )
                .detach();
            }
            Err(e) => {
                log::warning(&format!("metrics accept: {e}"));
                glommio::timer::sleep(std::time::Duration::from_millis(10)).await;
            }
        }
    }
}

/// Serves a client-port connection whose first line was an HTTP request
/// line; `read` holds what was read so far.
pub async fn serve_client_port(sh: &Rc<Shard>, stream: TcpStream, read: Vec<u8>) {
    serve(sh, stream, read, Port::Client).await
}

/// One request head.
struct Request<'a> {
    method: &'a str,
    path: &'a str,
    keep_alive: bool,
    /// The `Authorization` header's value.
    authorization: Option<&'a str>,
}

fn parse_head(head: &str) -> Request<'_> {
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or("").split(' ');
    let (method, target, version) = (
        first.next().unwrap_or(""),
        first.next().unwrap_or(""),
        first.next().unwrap_or(""),
    );
    let mut close_asked = false;
    let mut authorization = None;
    for l in lines {
        let Some((k, v)) = l.split_once(':') else {
            continue;
        };
        let (k, v) = (k.trim(), v.trim());
        if k.eq_ignore_ascii_case("connection") && v.eq_ignore_ascii_case("close") {
            close_asked = true;
        } else if k.eq_ignore_ascii_case("authorization") {
            authorization = Some(v);
        }
    }
    Request {
        method,
        path: target.split('?').next().unwrap_or(""),
        keep_alive: version == "HTTP/1.1" && !close_asked,
        authorization,
    }
}

/// What to do with one request.
enum Answer {
    /// Write this response; keep the connection if the flag says so.
    Respond(Vec<u8>, bool),
    /// Close without a word.
    Close,
}

/// HTTP/1.x requests answered in order until the client closes, asks to
/// close, or sends something the port does not serve.
async fn serve(sh: &Rc<Shard>, mut stream: TcpStream, mut buf: Vec<u8>, port: Port) {
    let mut chunk = [0u8; 1024];
    loop {
        let end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            if buf.len() > MAX_HEAD {
                if port == Port::Metrics {
                    let _ = stream
                        .write_all(&response(431, "text/plain", b"", false))
                        .await;
                }
                return;
            }
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..end]).into_owned();
        buf.drain(..end);
        let answer = answer(sh, &parse_head(&head), port).await;
        let Answer::Respond(bytes, keep) = answer else {
            return;
        };
        if stream.write_all(&bytes).await.is_err() || !keep {
            let _ = stream.close().await;
            return;
        }
    }
}

async fn answer(sh: &Rc<Shard>, req: &Request<'_>, port: Port) -> Answer {
    let keep = req.keep_alive;
    let get_or_head = req.method == "GET" || req.method == "HEAD";
    if !get_or_head {
        return match port {
            Port::Metrics => Answer::Respond(
                response(405, "text/plain", b"method not allowed\n", false),
                false,
            ),
            Port::Client => {
                if req.method == "POST" {
                    conn::cross_protocol_attack();
                }
                Answer::Close
            }
        };
    }
    let known = req.path == "/metrics" || (port == Port::Client && req.path == "/");
    if !known {
        let keep = keep && port == Port::Metrics;
        return Answer::Respond(
            response(404, "text/plain", b"not found: try /metrics\n", keep),
            keep,
        );
    }
    if port == Port::Client {
        let config = sh.host.config();
        if let Some(pass) = &config.requirepass {
            if !basic_auth_ok(req.authorization, pass) {
                let mut r = response(401, "text/plain", b"authentication required\n", false);
                let at = r.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or(0) + 2;
                r.splice(
                    at..at,
                    b"WWW-Authenticate: Basic realm=\"lanner\"\r\n"
                        .iter()
                        .copied(),
                );
                return Answer::Respond(r, false);
            }
        }
    }
    let body = if req.path == "/metrics" {
        crate::metrics::scrape(sh).await
    } else {
        format!(
            "lanner {} (Redis {} compatible): Prometheus metrics at /metrics\n",
            crate::LANNER_VERSION,
            crate::REDIS_VERSION
        )
    };
    let content_type = if req.path == "/metrics" {
        "text/plain; version=0.0.4; charset=utf-8"
    } else {
        "text/plain; charset=utf-8"
    };
    let mut r = response(200, content_type, body.as_bytes(), keep);
    if req.method == "HEAD" {
        r.truncate(r.len() - body.len());
    }
    Answer::Respond(r, keep)
}

/// Does `Authorization: Basic base64(user:password)` carry `pass`? Any
/// user name is accepted; the password is compared in constant time.
fn basic_auth_ok(header: Option<&str>, pass: &str) -> bool {
    let Some(encoded) = header.and_then(|h| {
        let (scheme, rest) = h.split_once(' ')?;
        scheme.eq_ignore_ascii_case("basic").then_some(rest.trim())
    }) else {
        return false;
    };
    let Some(decoded) = base64_decode(encoded) else {
        return false;
    };
    let Some(colon) = decoded.iter().position(|&b| b == b':') else {
        return false;
    };
    let given = &decoded[colon + 1..];
    let want = pass.as_bytes();
    given.len() == want.len()
        && given
            .iter()
            .zip(want)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// Standard base64 with padding (RFC 4648), as HTTP Basic uses it.
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let s = s.trim_end_matches('=');
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = acc << 6 | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

fn response(status: u16, content_type: &str, body: &[u8], keep_alive: bool) -> Vec<u8> {
    let reason = match status {
        200 => "OK",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "Request Header Fields Too Large",
    };
    let mut r = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: {}\r\n\r\n",
        body.len(),
        if keep_alive { "keep-alive" } else { "close" }
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_request_lines_are_told_from_redis_requests() {
        for http in [
            &b"GET /metrics HTTP/1.1\r\n"[..],
            b"GET / HTTP/1.0\r\nHost: x\r\n",
            b"POST /x?y=1 HTTP/1.1\r\n",
            b"HEAD /metrics HTTP/1.1\n",
        ] {
            assert_eq!(sniff(http), Sniff::Http, "{}", http.escape_ascii());
        }
        for resp in [
            &b"*1\r\n$4\r\nPING\r\n"[..],
            b"GET /metrics\r\n",
            b"PING\r\n",
            b"get / http/1.1\r\n",
            b"GET / HTTP/1.1 x\r\n",
            b"GET / HTTP/2.0\r\n",
            b"\r\nGET / HTTP/1.1\r\n",
        ] {
            assert_eq!(sniff(resp), Sniff::Resp, "{}", resp.escape_ascii());
        }
        assert_eq!(sniff(b"GET /metr"), Sniff::Undecided);
        assert_eq!(sniff(b""), Sniff::Undecided);
    }

    #[test]
    fn heads_parse_with_keep_alive_and_credentials() {
        let r = parse_head(
            "GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\nAuthorization: Basic Zm9vOmJhcg==\r\n\r\n",
        );
        assert_eq!((r.method, r.path, r.keep_alive), ("GET", "/metrics", true));
        assert_eq!(r.authorization, Some("Basic Zm9vOmJhcg=="));
        assert!(!parse_head("GET / HTTP/1.0\r\n\r\n").keep_alive);
        assert!(!parse_head("GET / HTTP/1.1\r\nConnection: Close\r\n\r\n").keep_alive);
    }

    #[test]
    fn basic_auth_checks_the_password_only() {
        // "foo:bar", "default:bar", ":bar", "foo:ba"
        assert!(basic_auth_ok(Some("Basic Zm9vOmJhcg=="), "bar"));
        assert!(basic_auth_ok(Some("basic ZGVmYXVsdDpiYXI="), "bar"));
        assert!(basic_auth_ok(Some("Basic OmJhcg=="), "bar"));
        assert!(!basic_auth_ok(Some("Basic Zm9vOmJh"), "bar"));
        assert!(!basic_auth_ok(Some("Bearer Zm9vOmJhcg=="), "bar"));
        assert!(!basic_auth_ok(Some("Basic !!!"), "bar"));
        assert!(!basic_auth_ok(None, "bar"));
        assert_eq!(base64_decode("YWJj").unwrap(), b"abc");
        assert_eq!(base64_decode("YQ==").unwrap(), b"a");
    }

    #[test]
    fn responses_carry_their_length() {
        let r = response(200, "text/plain", b"abc", true);
        let text = String::from_utf8(r).unwrap();
        assert!(text.starts_with("HTTP/1.1 200 OK\r\n"));
        assert!(text.contains("Content-Length: 3\r\n"));
        assert!(text.ends_with("\r\n\r\nabc"));
    }
}
