//! Parser throughput: how fast `resp::parse_request` frames pipelined requests.
//!
//! Builds one buffer of N pipelined requests (alternating
//! `SET key:<i> <value>` and `GET key:<i>`, as redis-benchmark sends them), then
//! repeatedly copies it into a reused `BytesMut` (as a socket read would) and
//! parses until the buffer is empty. Prints requests/s and ns/request for the
//! copy plus parse, and for the copy alone, so the parse cost can be read off.
//!
//! Measures framing only, on one core, with warm caches. Does not measure
//! socket reads, command lookup, routing, store work or reply encoding; the
//! figure is an upper bound for the parser, not for the server. End-to-end
//! numbers come only from side-by-side runs against redis-server.

use std::hint::black_box;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use lanner::resp::{parse_request, Limits};

const REQUESTS: usize = 10_000;
const VALUE_LEN: usize = 32;
const ROUNDS: usize = 300;

fn main() {
    let value = "v".repeat(VALUE_LEN);
    let mut wire = Vec::new();
    for i in 0..REQUESTS {
        let key = format!("key:{i}");
        let args: &[&str] = if i % 2 == 0 {
            &["SET", &key, &value]
        } else {
            &["GET", &key]
        };
        wire.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
        for a in args {
            wire.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
        }
    }
    let limits = Limits::default();
    let mut buf = BytesMut::with_capacity(wire.len());

    let run = |buf: &mut BytesMut, parse: bool| -> Duration {
        let start = Instant::now();
        for _ in 0..ROUNDS {
            buf.extend_from_slice(&wire);
            if parse {
                let mut n = 0;
                while let Ok(Some(args)) = parse_request(buf, &limits) {
                    n += args.len();
                    black_box(&args);
                }
                assert!(buf.is_empty() && n > 0, "the buffer must parse completely");
            } else {
                black_box(&buf[..]);
                buf.clear();
            }
        }
        start.elapsed()
    };

    run(&mut buf, true); // warm-up
    let total = run(&mut buf, true);
    let copy = run(&mut buf, false);

    let n = (REQUESTS * ROUNDS) as f64;
    println!(
        "parser bench: {REQUESTS} pipelined requests per buffer ({} bytes, SET/GET alternating, \
         {VALUE_LEN}-byte values), {ROUNDS} rounds",
        wire.len()
    );
    let report = |label: &str, d: Duration| {
        println!(
            "  {label:<14} {:>8.1} ns/request  {:>12.0} requests/s",
            d.as_nanos() as f64 / n,
            n / d.as_secs_f64()
        );
    };
    report("copy + parse", total);
    report("copy only", copy);
    report("parse (diff)", total.saturating_sub(copy));
}
