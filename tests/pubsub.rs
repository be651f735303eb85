//! Pub/Sub end to end, at 1 and 4 shards: the exact RESP2 and RESP3 frames of
//! SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE and their UNSUBSCRIBE forms, the
//! subscribed-mode command rule, PUBSUB introspection, and delivery under
//! concurrency (receiver counts over many connections, per-publisher order,
//! a pattern chat room, cache invalidation, slow-subscriber eviction).
//!
//! Subscribers are bare sockets ([`RawConn`]) so the frames are checked byte
//! for byte. Tests open 16 or more connections where it matters, so at 4
//! shards subscribers and publishers sit on different cores.

mod common;

use common::{encode_request, q, RawConn};
use std::collections::{HashMap, HashSet};
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

/// One element of an expected frame.
enum F<'a> {
    B(&'a str),
    I(i64),
    Nil,
}
use F::{Nil, B, I};

/// An aggregate frame with header byte `head` (`*` for RESP2 arrays, `>` for
/// RESP3 pushes) holding `parts`.
fn frame(head: char, parts: &[F]) -> Vec<u8> {
    let mut out = format!("{head}{}\r\n", parts.len());
    for p in parts {
        match p {
            B(s) => out.push_str(&format!("${}\r\n{s}\r\n", s.len())),
            I(n) => out.push_str(&format!(":{n}\r\n")),
            Nil => out.push_str("$-1\r\n"),
        }
    }
    out.into_bytes()
}

/// RESP2 (un)subscribe confirmation: `kind` is e.g. `subscribe`.
fn confirm(kind: &str, name: &str, count: i64) -> Vec<u8> {
    frame('*', &[B(kind), B(name), I(count)])
}

fn message(channel: &str, payload: &str) -> Vec<u8> {
    frame('*', &[B("message"), B(channel), B(payload)])
}

fn pmessage(pattern: &str, channel: &str, payload: &str) -> Vec<u8> {
    frame('*', &[B("pmessage"), B(pattern), B(channel), B(payload)])
}

fn request(args: &[&str]) -> Vec<u8> {
    let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    encode_request(&args)
}

/// Sends one command and reads one reply.
fn run(c: &mut RawConn, args: &[&str]) -> Vec<u8> {
    c.send(&request(args));
    c.read_reply()
}

/// Sends one command and asserts its reply is `want`.
fn check(c: &mut RawConn, args: &[&str], want: impl AsRef<[u8]>) {
    c.send(&request(args));
    expect(c, want.as_ref(), &format!("{args:?}"));
}

/// Asserts the next reply is `want`, printing both readably otherwise.
fn expect(c: &mut RawConn, want: &[u8], what: &str) {
    let got = c.read_reply();
    assert_eq!(
        got.escape_ascii().to_string(),
        want.escape_ascii().to_string(),
        "{what}"
    );
}

/// The elements of a flat array or push frame of bulk strings and integers,
/// integers rendered as decimal text.
fn fields(frame: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(frame);
    let mut lines = text.split("\r\n");
    let head = lines.next().unwrap_or_default();
    assert!(
        head.starts_with('*') || head.starts_with('>'),
        "not an array or push: {text:?}"
    );
    let n: usize = head[1..]
        .parse()
        .unwrap_or_else(|_| panic!("bad frame {text:?}"));
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let item = lines.next().unwrap_or_default();
        if let Some(int) = item.strip_prefix(':') {
            out.push(int.to_string());
        } else if item.starts_with('$') {
            out.push(lines.next().unwrap_or_default().to_string());
        } else {
            panic!("unexpected element {item:?} in {text:?}");
        }
    }
    out
}

/// A fresh connection that ran `kind` (SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE) for
/// `names`, with every confirmation checked.
fn subscriber(port: u16, kind: &str, names: &[&str]) -> RawConn {
    let mut c = RawConn::connect(port);
    subscribe(&mut c, kind, names, 0);
    c
}

/// Runs `kind names...` on `c`, which already holds `before` subscriptions
/// counted together with these, and checks every confirmation frame.
fn subscribe(c: &mut RawConn, kind: &str, names: &[&str], before: i64) {
    let mut args = vec![kind];
    args.extend_from_slice(names);
    c.send(&request(&args));
    for (i, name) in names.iter().enumerate() {
        let want = confirm(&kind.to_lowercase(), name, before + i as i64 + 1);
        expect(c, &want, kind);
    }
}

/// Reads the next frame and returns its fields.
fn next_fields(c: &mut RawConn) -> Vec<String> {
    fields(&c.read_reply())
}

/// Asserts no message is queued for `c`: a PING sent now must be answered
/// before anything else arrives.
fn assert_nothing_pending(c: &mut RawConn, what: &str) {
    c.send(&request(&["PING"]));
    expect(c, &frame('*', &[B("pong"), B("")]), what);
}

/// The integer value of `field` in an INFO section.
fn info_field(con: &mut redis::Connection, section: &str, field: &str) -> Option<i64> {
    let info: String = q(con, &["INFO", section]);
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .map(|v| v.trim().parse().unwrap())
}

/// The `CLIENT LIST` line of the client named `name`.
fn client_line(con: &mut redis::Connection, name: &str) -> Option<String> {
    let list: String = q(con, &["CLIENT", "LIST"]);
    let needle = format!(" name={name} ");
    list.lines()
        .find(|l| l.contains(&needle))
        .map(str::to_string)
}

/// Sorted names of the clients `CLIENT LIST TYPE pubsub` lists.
fn pubsub_clients(con: &mut redis::Connection) -> Vec<String> {
    let list: String = q(con, &["CLIENT", "LIST", "TYPE", "pubsub"]);
    let mut names: Vec<String> = list
        .lines()
        .map(|l| {
            l.split(" name=")
                .nth(1)
                .unwrap()
                .split(' ')
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    names.sort();
    names
}

/// Polls `f` for up to 5 s until it returns true.
fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(10));
    }
}

common::shard_tests! {
    fn subscribe_and_unsubscribe_reply_with_exact_frames_and_counts(srv: &Server) {
        let mut c = srv.raw();
        c.send(&request(&["SUBSCRIBE", "x", "y"]));
        expect(&mut c, &confirm("subscribe", "x", 1), "first channel");
        expect(&mut c, &confirm("subscribe", "y", 2), "second channel");
        // Subscribing again confirms without counting twice.
        c.send(&request(&["SUBSCRIBE", "x"]));
        expect(&mut c, &confirm("subscribe", "x", 2), "repeated channel");
        // Patterns count together with channels.
        c.send(&request(&["PSUBSCRIBE", "p*", "q?"]));
        expect(&mut c, &confirm("psubscribe", "p*", 3), "pattern");
        expect(&mut c, &confirm("psubscribe", "q?", 4), "pattern");
        // Unsubscribing what was never subscribed still answers.
        c.send(&request(&["UNSUBSCRIBE", "nope"]));
        expect(&mut c, &confirm("unsubscribe", "nope", 4), "unknown channel");
        c.send(&request(&["PUNSUBSCRIBE", "q?"]));
        expect(&mut c, &confirm("punsubscribe", "q?", 3), "one pattern");
        // UNSUBSCRIBE without arguments leaves every channel, in any order,
        // counting down; the pattern still counts.
        c.send(&request(&["UNSUBSCRIBE"]));
        let mut left = HashSet::new();
        for count in [2, 1] {
            let f = next_fields(&mut c);
            assert_eq!((f[0].as_str(), f[2].as_str()), ("unsubscribe", count.to_string().as_str()), "{f:?}");
            left.insert(f[1].clone());
        }
        assert_eq!(left, HashSet::from(["x".to_string(), "y".to_string()]));
        c.send(&request(&["PUNSUBSCRIBE"]));
        expect(&mut c, &confirm("punsubscribe", "p*", 0), "last pattern");
        // Nothing left: a nil name and a zero count.
        c.send(&request(&["UNSUBSCRIBE"]));
        expect(&mut c, &frame('*', &[B("unsubscribe"), Nil, I(0)]), "unsubscribe from nothing");
        c.send(&request(&["PUNSUBSCRIBE"]));
        expect(&mut c, &frame('*', &[B("punsubscribe"), Nil, I(0)]), "punsubscribe from nothing");
        // Back in normal mode.
        check(&mut c, &["SET", "k", "v"], b"+OK\r\n");
        check(&mut c, &["GET", "k"], b"$1\r\nv\r\n");
        // And the publisher no longer reaches it.
        let mut con = srv.client();
        assert_eq!(q::<i64>(&mut con, &["PUBLISH", "x", "m"]), 0);
        assert_eq!(q::<i64>(&mut con, &["PUBLISH", "pp", "m"]), 0);
    }

    fn publish_reaches_channel_and_pattern_subscribers(srv: &Server) {
        // S51: a client on a channel and on a matching pattern gets both
        // frames, channel first, and PUBLISH counts two.
        let mut sub = subscriber(srv.port(), "PSUBSCRIBE", &["news:*"]);
        subscribe(&mut sub, "SUBSCRIBE", &["news:tech"], 1);
        let mut con = srv.client();
        assert_eq!(q::<i64>(&mut con, &["PUBLISH", "news:tech", "hi"]), 2);
        expect(&mut sub, &message("news:tech", "hi"), "channel message");
        expect(&mut sub, &pmessage("news:*", "news:tech", "hi"), "pattern message");
        for ch in ["news:sports", "news:weather"] {
            assert_eq!(q::<i64>(&mut con, &["PUBLISH", ch, "x"]), 1);
            expect(&mut sub, &pmessage("news:*", ch, "x"), ch);
        }
        assert_eq!(q::<i64>(&mut con, &["PUBLISH", "newsroom", "x"]), 0);
        // Matching is case-sensitive.
        assert_eq!(q::<i64>(&mut con, &["PUBLISH", "NEWS:tech", "x"]), 0);
        sub.send(&request(&["PUNSUBSCRIBE", "news:*"]));
        expect(&mut sub, &confirm("punsubscribe", "news:*", 1), "punsubscribe");
        assert_eq!(q::<i64>(&mut con, &["PUBLISH", "news:sports", "x"]), 0);
        assert_eq!(q::<i64>(&mut con, &["PUBLISH", "news:tech", "y"]), 1);
        expect(&mut sub, &message("news:tech", "y"), "channel only");

        // Glob patterns as Redis matches them; binary-safe payloads.
        let mut globs = subscriber(
            srv.port(),
            "PSUBSCRIBE",
            &["user:*:notifications", "h?llo", "h[ae]llo", "notifications:*:priority:high"],
        );
        assert_eq!(q::<i64>(&mut con, &["PUBLISH", "user:42:notifications", "a b\r\nc"]), 1);
        expect(&mut globs, &pmessage("user:*:notifications", "user:42:notifications", "a b\r\nc"), "star");
        assert_eq!(q::<i64>(&mut con, &["PUBLISH", "hello", "e"]), 2);
        let got: HashSet<Vec<String>> = (0..2).map(|_| next_fields(&mut globs)).collect();
        let want: HashSet<Vec<String>> = ["h?llo", "h[ae]llo"]
            .iter()
            .map(|p| fields(&pmessage(p, "hello", "e")))
            .collect();
        assert_eq!(got, want);
        assert_eq!(q::<i64>(&mut con, &["PUBLISH", "hxllo", "x"]), 1);
        expect(&mut globs, &pmessage("h?llo", "hxllo", "x"), "question mark");
        assert_eq!(q::<i64>(&mut con, &["PUBLISH", "notifications:7:priority:high", ""]), 1);
        expect(&mut globs, &pmessage("notifications:*:priority:high", "notifications:7:priority:high", ""), "empty payload");
        assert_eq!(q::<i64>(&mut con, &["PUBLISH", "notifications:7:priority:low", "x"]), 0);
        assert_nothing_pending(&mut globs, "no stray pattern matches");
        assert_nothing_pending(&mut sub, "no stray channel matches");
    }

    fn subscribed_resp2_connection_accepts_only_subscription_commands(srv: &Server) {
        let mut c = subscriber(srv.port(), "SUBSCRIBE", &["ch"]);
        let refused = |cmd: &str| {
            format!(
                "-ERR Can't execute '{cmd}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n"
            )
            .into_bytes()
        };
        check(&mut c, &["GET", "k"], refused("get"));
        check(&mut c, &["set", "k", "v"], refused("set"));
        check(&mut c, &["PUBSUB", "NUMPAT"], refused("pubsub|numpat"));
        check(&mut c, &["PUBLISH", "ch", "m"], refused("publish"));
        check(&mut c, &["MULTI"], refused("multi"));
        // PING answers as a two-element array.
        check(&mut c, &["PING"], frame('*', &[B("pong"), B("")]));
        check(&mut c, &["PING", "hi"], frame('*', &[B("pong"), B("hi")]));
        // The refused commands did nothing.
        let mut con = srv.client();
        assert_eq!(q::<i64>(&mut con, &["EXISTS", "k"]), 0);
        // Still subscribed: messages keep flowing.
        assert_eq!(q::<i64>(&mut con, &["PUBLISH", "ch", "m1"]), 1);
        expect(&mut c, &message("ch", "m1"), "message after refusals");
        // Shard subscriptions alone keep the connection in subscribed mode,
        // though they are counted apart from channels and patterns.
        subscribe(&mut c, "SSUBSCRIBE", &["s1"], 0);
        c.send(&request(&["UNSUBSCRIBE"]));
        expect(&mut c, &confirm("unsubscribe", "ch", 0), "last channel");
        check(&mut c, &["GET", "k"], refused("get"));
        c.send(&request(&["SUNSUBSCRIBE"]));
        expect(&mut c, &confirm("sunsubscribe", "s1", 0), "last shard channel");
        check(&mut c, &["GET", "k"], b"$-1\r\n");

        // RESET leaves subscribed mode and drops the subscriptions.
        let mut r = subscriber(srv.port(), "PSUBSCRIBE", &["r*"]);
        check(&mut r, &["RESET"], b"+RESET\r\n");
        check(&mut r, &["GET", "k"], b"$-1\r\n");
        assert_eq!(q::<i64>(&mut con, &["PUBLISH", "rx", "m"]), 0);

        // QUIT answers OK and closes.
        let mut quitter = subscriber(srv.port(), "SUBSCRIBE", &["qc"]);
        check(&mut quitter, &["QUIT"], b"+OK\r\n");
        assert!(quitter.is_closed(), "QUIT left the connection open");
        eventually("the quitter's subscription to go", || {
            q::<i64>(&mut con, &["PUBLISH", "qc", "m"]) == 0
        });
    }

    fn resp3_subscriber_gets_pushes_and_runs_normal_commands(srv: &Server) {
        let mut c = srv.raw();
        let hello = run(&mut c, &["HELLO", "3"]);
        assert!(hello.starts_with(b"%"), "HELLO 3: {}", hello.escape_ascii());
        c.send(&request(&["SUBSCRIBE", "ch", "other"]));
        expect(&mut c, &frame('>', &[B("subscribe"), B("ch"), I(1)]), "push confirmation");
        expect(&mut c, &frame('>', &[B("subscribe"), B("other"), I(2)]), "push confirmation");
        c.send(&request(&["PSUBSCRIBE", "c*"]));
        expect(&mut c, &frame('>', &[B("psubscribe"), B("c*"), I(3)]), "push confirmation");
        // Any command works while subscribed in RESP3, PING included.
        check(&mut c, &["SET", "k", "v"], b"+OK\r\n");
        check(&mut c, &["GET", "k"], b"$1\r\nv\r\n");
        check(&mut c, &["GET", "missing"], b"_\r\n");
        check(&mut c, &["PING"], b"+PONG\r\n");
        check(&mut c, &["PUBSUB", "NUMSUB", "ch"], b"*2\r\n$2\r\nch\r\n:1\r\n");
        let mut con = srv.client();
        assert_eq!(q::<i64>(&mut con, &["PUBLISH", "ch", "hello"]), 2);
        expect(&mut c, &frame('>', &[B("message"), B("ch"), B("hello")]), "message push");
        expect(&mut c, &frame('>', &[B("pmessage"), B("c*"), B("ch"), B("hello")]), "pmessage push");
        // A message published before a command was sent is pushed before
        // that command's reply, and does not disturb the reply stream.
        assert_eq!(q::<i64>(&mut con, &["PUBLISH", "other", "o"]), 1);
        c.send(&request(&["INCR", "n"]));
        expect(&mut c, &frame('>', &[B("message"), B("other"), B("o")]), "earlier push");
        expect(&mut c, b":1\r\n", "INCR after the push");
        c.send(&request(&["UNSUBSCRIBE", "ch"]));
        expect(&mut c, &frame('>', &[B("unsubscribe"), B("ch"), I(2)]), "push unsubscribe");
        assert_eq!(q::<i64>(&mut con, &["PUBLISH", "ch", "x"]), 1);
        expect(&mut c, &frame('>', &[B("pmessage"), B("c*"), B("ch"), B("x")]), "pattern only");
    }

    fn pubsub_introspection_counts_subscribers_on_every_connection(srv: &Server) {
        let mut con = srv.client();
        let empty: Vec<String> = q(&mut con, &["PUBSUB", "CHANNELS"]);
        assert!(empty.is_empty(), "{empty:?}");
        assert_eq!(q::<i64>(&mut con, &["PUBSUB", "NUMPAT"]), 0);
        // 16 connections, so at 4 shards they are spread over the cores.
        let mut subs: Vec<RawConn> = (0..16)
            .map(|i| {
                let chans: &[&str] = if i % 2 == 0 { &["news", "news:tech"] } else { &["sports"] };
                subscriber(srv.port(), "SUBSCRIBE", chans)
            })
            .collect();
        let mut pats: Vec<RawConn> = (0..4)
            .map(|i| {
                let p: &[&str] = if i < 3 { &["news:*"] } else { &["news:*", "s*"] };
                subscriber(srv.port(), "PSUBSCRIBE", p)
            })
            .collect();
        let mut shard_subs: Vec<RawConn> = (0..3).map(|_| subscriber(srv.port(), "SSUBSCRIBE", &["orders"])).collect();
        let mut channels: Vec<String> = q(&mut con, &["PUBSUB", "CHANNELS"]);
        channels.sort();
        assert_eq!(channels, ["news", "news:tech", "sports"]);
        let mut matching: Vec<String> = q(&mut con, &["PUBSUB", "CHANNELS", "news*"]);
        matching.sort();
        assert_eq!(matching, ["news", "news:tech"]);
        let numsub: Vec<redis::Value> = q(&mut con, &["PUBSUB", "NUMSUB", "news", "sports", "none"]);
        assert_eq!(
            format!("{numsub:?}"),
            format!(
                "{:?}",
                [
                    redis::Value::BulkString(b"news".to_vec()),
                    redis::Value::Int(8),
                    redis::Value::BulkString(b"sports".to_vec()),
                    redis::Value::Int(8),
                    redis::Value::BulkString(b"none".to_vec()),
                    redis::Value::Int(0),
                ]
            )
        );
        assert!(q::<Vec<redis::Value>>(&mut con, &["PUBSUB", "NUMSUB"]).is_empty());
        // NUMPAT counts distinct patterns, not subscriptions.
        assert_eq!(q::<i64>(&mut con, &["PUBSUB", "NUMPAT"]), 2);
        // Shard channels are listed apart.
        assert_eq!(q::<Vec<String>>(&mut con, &["PUBSUB", "SHARDCHANNELS"]), ["orders"]);
        assert_eq!(q::<Vec<String>>(&mut con, &["PUBSUB", "SHARDCHANNELS", "o*"]), ["orders"]);
        assert!(q::<Vec<String>>(&mut con, &["PUBSUB", "SHARDCHANNELS", "x*"]).is_empty());
        let shardnumsub: (String, i64, String, i64) = q(&mut con, &["PUBSUB", "SHARDNUMSUB", "orders", "news"]);
        assert_eq!(shardnumsub, ("orders".into(), 3, "news".into(), 0));
        // PUBLISH agrees: 8 on the channel plus 4 on the pattern.
        assert_eq!(q::<i64>(&mut con, &["PUBLISH", "news:tech", "m"]), 12);
        assert_eq!(q::<i64>(&mut con, &["PUBLISH", "sports", "m"]), 9);
        assert_eq!(q::<i64>(&mut con, &["SPUBLISH", "orders", "m"]), 3);
        for s in subs.iter_mut().step_by(2) {
            expect(s, &message("news:tech", "m"), "news:tech subscriber");
        }
        for s in subs.iter_mut().skip(1).step_by(2) {
            expect(s, &message("sports", "m"), "sports subscriber");
        }
        for p in &mut pats[..3] {
            expect(p, &pmessage("news:*", "news:tech", "m"), "news:* subscriber");
        }
        expect(&mut pats[3], &pmessage("news:*", "news:tech", "m"), "news:* subscriber");
        expect(&mut pats[3], &pmessage("s*", "sports", "m"), "s* subscriber");
        for s in &mut shard_subs {
            expect(s, &frame('*', &[B("smessage"), B("orders"), B("m")]), "shard subscriber");
        }
        // Disconnected subscribers stop counting.
        drop(subs.drain(8..));
        drop(pats.pop());
        drop(shard_subs.pop());
        eventually("closed subscribers to be forgotten", || {
            q::<(String, i64)>(&mut con, &["PUBSUB", "NUMSUB", "news"]).1 == 4
                && q::<(String, i64)>(&mut con, &["PUBSUB", "NUMSUB", "sports"]).1 == 4
                && q::<i64>(&mut con, &["PUBSUB", "NUMPAT"]) == 1
                && q::<(String, i64)>(&mut con, &["PUBSUB", "SHARDNUMSUB", "orders"]).1 == 2
        });
        assert_eq!(q::<i64>(&mut con, &["PUBLISH", "news", "m"]), 4);
        // Once nobody listens, a channel leaves the list.
        drop(subs);
        eventually("empty channels to leave PUBSUB CHANNELS", || {
            q::<Vec<String>>(&mut con, &["PUBSUB", "CHANNELS"]).is_empty()
        });
    }

    fn sharded_pubsub_delivers_smessage_apart_from_channels(srv: &Server) {
        let mut c = srv.raw();
        c.send(&request(&["SSUBSCRIBE", "{t}1", "{t}2"]));
        expect(&mut c, &confirm("ssubscribe", "{t}1", 1), "first shard channel");
        expect(&mut c, &confirm("ssubscribe", "{t}2", 2), "second shard channel");
        let mut plain = subscriber(srv.port(), "SUBSCRIBE", &["{t}1"]);
        let mut pattern = subscriber(srv.port(), "PSUBSCRIBE", &["{t}*"]);
        let mut con = srv.client();
        // SPUBLISH reaches shard subscribers only, PUBLISH the others only.
        assert_eq!(q::<i64>(&mut con, &["SPUBLISH", "{t}1", "s"]), 1);
        expect(&mut c, &frame('*', &[B("smessage"), B("{t}1"), B("s")]), "smessage");
        assert_eq!(q::<i64>(&mut con, &["PUBLISH", "{t}1", "p"]), 2);
        expect(&mut plain, &message("{t}1", "p"), "message");
        expect(&mut pattern, &pmessage("{t}*", "{t}1", "p"), "pmessage");
        assert_eq!(q::<i64>(&mut con, &["SPUBLISH", "{t}3", "s"]), 0);
        assert_nothing_pending(&mut c, "PUBLISH must not reach shard subscribers");
        assert_nothing_pending(&mut pattern, "SPUBLISH must not reach patterns");
        c.send(&request(&["SUNSUBSCRIBE", "{t}1"]));
        expect(&mut c, &confirm("sunsubscribe", "{t}1", 1), "sunsubscribe");
        assert_eq!(q::<i64>(&mut con, &["SPUBLISH", "{t}1", "s"]), 0);
        assert_eq!(q::<i64>(&mut con, &["SPUBLISH", "{t}2", "s2"]), 1);
        expect(&mut c, &frame('*', &[B("smessage"), B("{t}2"), B("s2")]), "remaining shard channel");
        c.send(&request(&["SUNSUBSCRIBE"]));
        expect(&mut c, &confirm("sunsubscribe", "{t}2", 0), "sunsubscribe all");
        c.send(&request(&["SUNSUBSCRIBE"]));
        expect(&mut c, &frame('*', &[B("sunsubscribe"), Nil, I(0)]), "sunsubscribe from nothing");
        check(&mut c, &["GET", "k"], b"$-1\r\n");
        // Shard channels whose names land on different shards.
        let names = ["a", "b", "c", "somekey"];
        let mut subs: Vec<RawConn> = names.iter().map(|n| subscriber(srv.port(), "SSUBSCRIBE", &[n])).collect();
        for (n, s) in names.iter().zip(&mut subs) {
            assert_eq!(q::<i64>(&mut con, &["SPUBLISH", n, "hi"]), 1, "{n}");
            expect(s, &frame('*', &[B("smessage"), B(n), B("hi")]), n);
        }
    }

    fn keyspace_style_channel_names_are_ordinary_channels(srv: &Server) {
        let mut sub = subscriber(srv.port(), "SUBSCRIBE", &["__keyspace@0__:k"]);
        subscribe(&mut sub, "PSUBSCRIBE", &["__keyevent@0__:*"], 1);
        let mut con = srv.client();
        assert_eq!(q::<i64>(&mut con, &["PUBLISH", "__keyspace@0__:k", "set"]), 1);
        expect(&mut sub, &message("__keyspace@0__:k", "set"), "keyspace channel");
        assert_eq!(q::<i64>(&mut con, &["PUBLISH", "__keyevent@0__:del", "k"]), 1);
        expect(&mut sub, &pmessage("__keyevent@0__:*", "__keyevent@0__:del", "k"), "keyevent pattern");
        assert_eq!(
            q::<(String, i64)>(&mut con, &["PUBSUB", "NUMSUB", "__keyspace@0__:k"]),
            ("__keyspace@0__:k".to_string(), 1)
        );
    }

    fn publish_without_subscribers_is_lost(srv: &Server) {
        // S55: at-most-once delivery.
        let mut con = srv.client();
        assert_eq!(q::<i64>(&mut con, &["PUBLISH", "alerts:system", "early"]), 0);
        assert_eq!(q::<i64>(&mut con, &["SPUBLISH", "alerts:system", "early"]), 0);
        let mut sub = subscriber(srv.port(), "SUBSCRIBE", &["alerts:system"]);
        assert_nothing_pending(&mut sub, "a message published before subscribing");
        assert_eq!(q::<i64>(&mut con, &["PUBLISH", "alerts:system", "late"]), 1);
        expect(&mut sub, &message("alerts:system", "late"), "message after subscribing");
        drop(sub);
        eventually("the subscriber to go", || q::<i64>(&mut con, &["PUBLISH", "alerts:system", "gone"]) == 0);
    }

    fn publish_counts_every_receiver_across_many_connections(srv: &Server) {
        // S54 fan-out: 24 subscriber connections; some on the channel, some
        // on a pattern, some on both (counted twice).
        let port = srv.port();
        let subs: Vec<(usize, RawConn)> = thread::scope(|s| {
            let handles: Vec<_> = (0..24)
                .map(|i| {
                    s.spawn(move || {
                        let c = match i % 3 {
                            0 => subscriber(port, "SUBSCRIBE", &["alerts:system", "global:events"]),
                            1 => subscriber(port, "PSUBSCRIBE", &["alerts:*"]),
                            _ => {
                                let mut c = subscriber(port, "SUBSCRIBE", &["alerts:system"]);
                                subscribe(&mut c, "PSUBSCRIBE", &["alerts:*"], 1);
                                c
                            }
                        };
                        (i, c)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let mut con = srv.client();
        assert_eq!(q::<i64>(&mut con, &["PUBLISH", "alerts:system", "down"]), 8 + 8 + 16);
        assert_eq!(q::<i64>(&mut con, &["PUBLISH", "global:events", "e"]), 8);
        assert_eq!(q::<i64>(&mut con, &["PUBLISH", "alerts:db", "slow"]), 16);
        thread::scope(|s| {
            for (i, mut c) in subs {
                s.spawn(move || {
                    match i % 3 {
                        0 => {
                            expect(&mut c, &message("alerts:system", "down"), "channel subscriber");
                            expect(&mut c, &message("global:events", "e"), "second channel");
                        }
                        1 => {
                            expect(&mut c, &pmessage("alerts:*", "alerts:system", "down"), "pattern subscriber");
                            expect(&mut c, &pmessage("alerts:*", "alerts:db", "slow"), "pattern subscriber");
                        }
                        _ => {
                            expect(&mut c, &message("alerts:system", "down"), "both: channel");
                            expect(&mut c, &pmessage("alerts:*", "alerts:system", "down"), "both: pattern");
                            expect(&mut c, &pmessage("alerts:*", "alerts:db", "slow"), "both: pattern");
                        }
                    }
                    assert_nothing_pending(&mut c, "no duplicate deliveries");
                });
            }
        });
    }

    fn one_publisher_order_is_kept_for_every_subscriber(srv: &Server) {
        const N: usize = 10_000;
        const BATCH: usize = 200;
        let port = srv.port();
        let mut subs: Vec<RawConn> = (0..4).map(|_| subscriber(port, "SUBSCRIBE", &["seq"])).collect();
        subs.extend((0..4).map(|_| subscriber(port, "PSUBSCRIBE", &["se?"])));
        let readers: Vec<_> = subs
            .into_iter()
            .enumerate()
            .map(|(r, mut c)| {
                thread::spawn(move || {
                    for i in 0..N {
                        let f = next_fields(&mut c);
                        let payload = f.last().unwrap();
                        assert_eq!(*payload, i.to_string(), "subscriber {r} out of order: {f:?}");
                    }
                    assert_nothing_pending(&mut c, "extra messages");
                })
            })
            .collect();
        let mut publisher = RawConn::connect(port);
        for start in (0..N).step_by(BATCH) {
            let mut batch = Vec::new();
            for i in start..start + BATCH {
                batch.extend(request(&["PUBLISH", "seq", &i.to_string()]));
            }
            publisher.send(&batch);
            for i in start..start + BATCH {
                assert_eq!(publisher.read_reply(), b":8\r\n", "PUBLISH #{i}");
            }
        }
        for r in readers {
            r.join().unwrap();
        }
    }

    fn chat_room_users_see_every_message_once_in_publisher_order(srv: &Server) {
        // S53: every user PSUBSCRIBEs room:*; several publishers post to two
        // rooms concurrently.
        const USERS: usize = 16;
        const PUBLISHERS: usize = 4;
        const PER_PUBLISHER: usize = 250;
        let port = srv.port();
        let users: Vec<RawConn> = (0..USERS).map(|_| subscriber(port, "PSUBSCRIBE", &["room:*"])).collect();
        let readers: Vec<_> = users
            .into_iter()
            .enumerate()
            .map(|(u, mut c)| {
                thread::spawn(move || {
                    let mut next = [0usize; PUBLISHERS];
                    for _ in 0..PUBLISHERS * PER_PUBLISHER {
                        let f = next_fields(&mut c);
                        assert_eq!(f[0], "pmessage", "user {u}: {f:?}");
                        let (p, i) = f[3].split_once(':').unwrap();
                        let (p, i): (usize, usize) = (p.parse().unwrap(), i.parse().unwrap());
                        assert_eq!(f[2], format!("room:{}", p % 2), "user {u}: {f:?}");
                        assert_eq!(i, next[p], "user {u}: publisher {p} out of order or duplicated");
                        next[p] += 1;
                    }
                    assert_nothing_pending(&mut c, "extra messages");
                })
            })
            .collect();
        let start = Arc::new(Barrier::new(PUBLISHERS));
        let publishers: Vec<_> = (0..PUBLISHERS)
            .map(|p| {
                let start = start.clone();
                thread::spawn(move || {
                    let mut con = common::client(port);
                    start.wait();
                    for i in 0..PER_PUBLISHER {
                        let room = format!("room:{}", p % 2);
                        let n: i64 = q(&mut con, &["PUBLISH", &room, &format!("{p}:{i}")]);
                        assert_eq!(n, USERS as i64, "publisher {p} message {i}");
                        if i % 50 == 0 {
                            // History as the chat tutorials keep it.
                            let key = format!("chat:{room}:history");
                            let _: i64 = q(&mut con, &["LPUSH", &key, &format!("{p}:{i}")]);
                            let _: () = q(&mut con, &["LTRIM", &key, "0", "999"]);
                        }
                    }
                })
            })
            .collect();
        for p in publishers {
            p.join().unwrap();
        }
        for r in readers {
            r.join().unwrap();
        }
    }

    fn cache_invalidation_leaves_no_reader_with_a_stale_value(srv: &Server) {
        // S11: writers SET a key, then PUBLISH cache:invalidate:<key>
        // <version>; readers keep local copies, drop the entry on
        // invalidation and read it again. A reader that re-reads after the
        // invalidation must see at least that version, and once every
        // invalidation is in, every local copy equals the server's value.
        const KEYS: usize = 8;
        const WRITERS: usize = 2;
        const VERSIONS: u64 = 150;
        const READERS: usize = 4;
        let port = srv.port();
        let keys: Vec<String> = (0..KEYS).map(|k| format!("user:{k}")).collect();
        let mut con = srv.client();
        for k in &keys {
            let _: () = q(&mut con, &["SET", k, "0"]);
        }
        let readers: Vec<_> = (0..READERS)
            .map(|r| {
                let mut sub = subscriber(port, "PSUBSCRIBE", &["cache:invalidate:*"]);
                let keys = keys.clone();
                thread::spawn(move || {
                    let mut data = common::client(port);
                    let mut cache: HashMap<String, u64> = keys
                        .iter()
                        .map(|k| (k.clone(), q::<String>(&mut data, &["GET", k]).parse().unwrap()))
                        .collect();
                    let mut last_seen: HashMap<String, u64> = HashMap::new();
                    let mut done = 0;
                    while done < WRITERS {
                        let f = next_fields(&mut sub);
                        assert_eq!(f[0], "pmessage", "reader {r}: {f:?}");
                        let key = f[2].strip_prefix("cache:invalidate:").unwrap().to_string();
                        if key == "__done__" {
                            done += 1;
                            continue;
                        }
                        let version: u64 = f[3].parse().unwrap();
                        let prev = last_seen.insert(key.clone(), version).unwrap_or(0);
                        assert!(version > prev, "reader {r}: invalidations of {key} out of order");
                        cache.remove(&key);
                        let fresh: u64 = q::<String>(&mut data, &["GET", &key]).parse().unwrap();
                        assert!(
                            fresh >= version,
                            "reader {r}: {key} read {fresh} after invalidation {version}"
                        );
                        cache.insert(key, fresh);
                    }
                    for k in &keys {
                        assert_eq!(cache[k], VERSIONS, "reader {r}: stale {k} after all invalidations");
                    }
                })
            })
            .collect();
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let keys: Vec<String> = keys.iter().skip(w).step_by(WRITERS).cloned().collect();
                thread::spawn(move || {
                    let mut con = common::client(port);
                    for v in 1..=VERSIONS {
                        for k in &keys {
                            let _: () = q(&mut con, &["SET", k, &v.to_string()]);
                            let n: i64 = q(&mut con, &["PUBLISH", &format!("cache:invalidate:{k}"), &v.to_string()]);
                            assert_eq!(n, READERS as i64);
                        }
                    }
                    let _: i64 = q(&mut con, &["PUBLISH", "cache:invalidate:__done__", "1"]);
                })
            })
            .collect();
        for w in writers {
            w.join().unwrap();
        }
        for r in readers {
            r.join().unwrap();
        }
    }

    fn info_and_client_list_show_subscription_counts(srv: &Server) {
        let mut con = srv.client();
        let mut c = srv.raw();
        check(&mut c, &["CLIENT", "SETNAME", "watcher"], b"+OK\r\n");
        subscribe(&mut c, "SUBSCRIBE", &["a", "b"], 0);
        subscribe(&mut c, "PSUBSCRIBE", &["p*"], 2);
        let mut other = srv.raw();
        check(&mut other, &["CLIENT", "SETNAME", "other"], b"+OK\r\n");
        subscribe(&mut other, "SUBSCRIBE", &["b", "c"], 0);
        // S52: CLIENT LIST TYPE pubsub lists exactly the subscribers.
        assert_eq!(pubsub_clients(&mut con), ["other", "watcher"]);
        let line = client_line(&mut con, "watcher").expect("subscriber missing from CLIENT LIST");
        for field in [" flags=P ", " sub=2 ", " psub=1 "] {
            assert!(line.contains(field), "{field:?} missing in {line}");
        }
        // The listing connection itself is no subscriber.
        let list: String = q(&mut con, &["CLIENT", "LIST"]);
        let plain = list.lines().filter(|l| l.contains(" flags=N ")).count();
        assert!(plain >= 1, "{list}");
        // INFO counts distinct channels and patterns server-wide.
        assert_eq!(info_field(&mut con, "stats", "pubsub_channels"), Some(3));
        assert_eq!(info_field(&mut con, "stats", "pubsub_patterns"), Some(1));
        c.send(&request(&["UNSUBSCRIBE", "a"]));
        expect(&mut c, &confirm("unsubscribe", "a", 2), "unsubscribe");
        let line = client_line(&mut con, "watcher").unwrap();
        assert!(line.contains(" sub=1 ") && line.contains(" psub=1 "), "{line}");
        assert_eq!(info_field(&mut con, "stats", "pubsub_channels"), Some(2));
        c.send(&request(&["UNSUBSCRIBE"]));
        expect(&mut c, &confirm("unsubscribe", "b", 1), "unsubscribe");
        c.send(&request(&["PUNSUBSCRIBE"]));
        expect(&mut c, &confirm("punsubscribe", "p*", 0), "punsubscribe");
        let line = client_line(&mut con, "watcher").unwrap();
        assert!(line.contains(" flags=N ") && line.contains(" sub=0 ") && line.contains(" psub=0 "), "{line}");
        assert_eq!(info_field(&mut con, "stats", "pubsub_patterns"), Some(0));
        // `watcher` has left subscribed mode.
        assert_eq!(pubsub_clients(&mut con), ["other"]);
    }

    fn slow_subscriber_is_disconnected_at_the_pubsub_output_limit(srv: &Server) {
        const PAYLOAD: usize = 64 * 1024;
        const MAX_MESSAGES: usize = 1000;
        let port = srv.port();
        let mut con = srv.client();
        let _: () = q(&mut con, &["CONFIG", "SET", "client-output-buffer-limit", "pubsub 1mb 512kb 5"]);
        let mut slow = srv.raw();
        check(&mut slow, &["CLIENT", "SETNAME", "slowsub"], b"+OK\r\n");
        subscribe(&mut slow, "SUBSCRIBE", &["feed"], 0);
        // From here on `slow` reads nothing until the end.
        let mut good = subscriber(port, "SUBSCRIBE", &["feed"]);
        let received = Arc::new(AtomicU64::new(0));
        let reader = {
            let received = received.clone();
            thread::spawn(move || loop {
                let f = next_fields(&mut good);
                assert_eq!(f[1], "feed");
                if f[2] == "end" {
                    return;
                }
                assert_eq!(f[2].len(), PAYLOAD);
                received.fetch_add(1, Ordering::Relaxed);
            })
        };
        let payload = "x".repeat(PAYLOAD);
        let mut publisher = common::client(port);
        let mut sent = 0u64;
        let mut slowest = Duration::ZERO;
        let mut dropped_at = None;
        let started = Instant::now();
        while sent < MAX_MESSAGES as u64 && started.elapsed() < Duration::from_secs(4) {
            // Keep the good subscriber close behind, so only the slow one
            // builds up output.
            while sent - received.load(Ordering::Relaxed) > 8 {
                assert!(started.elapsed() < Duration::from_secs(8), "the good subscriber stalled");
                thread::sleep(Duration::from_micros(200));
            }
            let t = Instant::now();
            let n: i64 = q(&mut publisher, &["PUBLISH", "feed", &payload]);
            slowest = slowest.max(t.elapsed());
            sent += 1;
            match n {
                2 => {}
                1 => {
                    dropped_at.get_or_insert(sent);
                    if sent >= dropped_at.unwrap() + 20 {
                        break;
                    }
                }
                _ => panic!("PUBLISH reached {n} subscribers"),
            }
        }
        let dropped_at = dropped_at.unwrap_or_else(|| {
            panic!("slow subscriber still subscribed after {sent} messages of {PAYLOAD} bytes")
        });
        assert!(slowest < Duration::from_secs(1), "a PUBLISH took {slowest:?}");
        let _: i64 = q(&mut publisher, &["PUBLISH", "feed", "end"]);
        reader.join().unwrap();
        assert_eq!(received.load(Ordering::Relaxed), sent, "the good subscriber missed messages");
        // The slow subscriber's socket ends after what was already sent.
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut delivered = 0u64;
        let end = loop {
            match slow.try_read_reply() {
                Ok(f) => {
                    delivered += 1;
                    assert!(delivered <= dropped_at, "slow subscriber got messages after its eviction");
                    assert!(f.len() > PAYLOAD);
                }
                Err(e) => break e,
            }
            assert!(Instant::now() < deadline, "slow subscriber not closed");
        };
        assert!(
            matches!(end.kind(), io::ErrorKind::UnexpectedEof | io::ErrorKind::ConnectionReset),
            "slow subscriber: {end}"
        );
        eventually("the slow subscriber to leave CLIENT LIST", || {
            client_line(&mut con, "slowsub").is_none()
        });
        // Redis 7.0 has no such INFO field (7.2 added it); lanner must count.
        if !common::testing_redis() {
            let field = "client_output_buffer_limit_disconnections";
            let n = info_field(&mut con, "stats", field);
            assert!(n.unwrap_or(0) >= 1, "{field}: {n:?}");
        }
    }

    fn publish_inside_multi_is_delivered_at_exec(srv: &Server) {
        let mut sub = subscriber(srv.port(), "SUBSCRIBE", &["ch"]);
        let mut c = srv.raw();
        check(&mut c, &["MULTI"], b"+OK\r\n");
        check(&mut c, &["PUBLISH", "ch", "m1"], b"+QUEUED\r\n");
        assert_nothing_pending(&mut sub, "a queued PUBLISH must wait for EXEC");
        check(&mut c, &["PUBLISH", "ch", "m2"], b"+QUEUED\r\n");
        check(&mut c, &["PUBLISH", "nobody", "m"], b"+QUEUED\r\n");
        check(&mut c, &["EXEC"], b"*3\r\n:1\r\n:1\r\n:0\r\n");
        expect(&mut sub, &message("ch", "m1"), "first queued message");
        expect(&mut sub, &message("ch", "m2"), "second queued message");
        // DISCARD drops a queued PUBLISH.
        check(&mut c, &["MULTI"], b"+OK\r\n");
        check(&mut c, &["PUBLISH", "ch", "dropped"], b"+QUEUED\r\n");
        check(&mut c, &["DISCARD"], b"+OK\r\n");
        assert_nothing_pending(&mut sub, "a discarded PUBLISH");
    }
}
