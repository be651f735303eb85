//! Client-side caching (CLIENT TRACKING) through real sockets, at 1 and 4
//! shards: invalidation pushes in RESP3 and, redirected, as
//! `__redis__:invalidate` messages to a RESP2 subscriber; the default mode,
//! BCAST with prefixes, OPTIN/OPTOUT with CLIENT CACHING, NOLOOP; changes
//! from any core, by expiry and by FLUSHALL; CLIENT TRACKINGINFO,
//! GETREDIR and INFO's `tracking_*` fields; and the "cached user profile in
//! the web tier" pattern.
//!
//! The keys `b`, `c`, `somekey` and `a` hash to slots 3300, 7365, 11058 and
//! 15495, so at 4 shards they live on shards 0, 1, 2 and 3. Writers open
//! several connections so that, at 4 shards, writes come from other cores
//! than the reader's.

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::{RawConn, Server};

/// One key per shard at 4 shards.
const SPREAD: [&str; 4] = ["a", "b", "c", "somekey"];

fn cmd(c: &mut RawConn, line: &str) -> String {
    let args: Vec<&[u8]> = line.split_whitespace().map(str::as_bytes).collect();
    String::from_utf8_lossy(&c.cmd(&args)).into_owned()
}

fn reply(c: &mut RawConn) -> String {
    String::from_utf8_lossy(&c.read_reply()).into_owned()
}

/// A connection switched to RESP3.
fn resp3(srv: &Server) -> RawConn {
    let mut c = srv.raw();
    assert!(cmd(&mut c, "HELLO 3").starts_with('%'));
    c
}

/// Several plain connections, likely spread over the cores.
fn writers(srv: &Server) -> Vec<RawConn> {
    (0..8).map(|_| srv.raw()).collect()
}

fn array(keys: &[&str]) -> String {
    let mut s = format!("*{}\r\n", keys.len());
    for k in keys {
        s += &format!("${}\r\n{k}\r\n", k.len());
    }
    s
}

/// The RESP3 invalidation push for `keys`.
fn invalidate(keys: &[&str]) -> String {
    format!(">2\r\n$10\r\ninvalidate\r\n{}", array(keys))
}

/// Nothing more is waiting on `c`: a PING is answered next.
fn quiet(c: &mut RawConn) {
    assert_eq!(
        cmd(c, "PING"),
        "+PONG\r\n",
        "an unexpected message was waiting"
    );
}

fn info_field(c: &mut RawConn, name: &str) -> i64 {
    let info = cmd(c, "INFO everything");
    let line = info
        .lines()
        .find(|l| l.starts_with(&format!("{name}:")))
        .unwrap_or_else(|| panic!("no {name} in INFO"));
    line[name.len() + 1..].trim().parse().unwrap()
}

common::shard_tests! {
    fn reads_on_one_core_are_invalidated_by_writes_from_any_core(srv: &Server) {
        let mut w = writers(srv);
        assert_eq!(cmd(&mut w[0], "MSET a 1 b 2 c 3 somekey 4"), "+OK\r\n");
        let mut r = resp3(srv);
        assert_eq!(cmd(&mut r, "CLIENT TRACKING ON"), "+OK\r\n");
        // A multi-shard read and a single-key one both track their keys.
        assert_eq!(cmd(&mut r, "MGET a b c"), array(&["1", "2", "3"]));
        assert_eq!(cmd(&mut r, "GET somekey"), "$1\r\n4\r\n");
        assert_eq!(info_field(&mut w[0], "tracking_clients"), 1);
        assert_eq!(info_field(&mut w[0], "tracking_total_keys"), 4);
        for (i, key) in SPREAD.iter().enumerate() {
            let writer = &mut w[i % 8];
            assert_eq!(cmd(writer, &format!("SET {key} new")), "+OK\r\n");
            assert_eq!(reply(&mut r), invalidate(&[key]), "{key}");
            // Invalidated once: the next write is not reported until the
            // key is read again.
            assert_eq!(cmd(writer, &format!("SET {key} newer")), "+OK\r\n");
            quiet(&mut r);
        }
        assert_eq!(info_field(&mut w[0], "tracking_total_keys"), 0);
        // Every kind of change: DEL of several keys, an expiry.
        assert_eq!(cmd(&mut r, "MGET a b c somekey").matches("newer").count(), 4);
        assert_eq!(cmd(&mut w[1], "DEL a b"), ":2\r\n");
        let mut got = vec![reply(&mut r), reply(&mut r)];
        got.sort();
        assert_eq!(got, [invalidate(&["a"]), invalidate(&["b"])]);
        assert_eq!(cmd(&mut w[2], "PEXPIRE c 300"), ":1\r\n");
        assert_eq!(reply(&mut r), invalidate(&["c"]));
        assert_eq!(cmd(&mut r, "GET c"), "$5\r\nnewer\r\n");
        // Expired untouched: active expiry deletes it and tells the reader.
        assert_eq!(reply(&mut r), invalidate(&["c"]));
        // FLUSHALL: one null for everything.
        assert_eq!(cmd(&mut w[3], "FLUSHALL"), "+OK\r\n");
        assert_eq!(reply(&mut r), ">2\r\n$10\r\ninvalidate\r\n_\r\n");
        quiet(&mut r);
    }

    fn noloop_optin_optout_and_own_writes(srv: &Server) {
        let mut w = srv.raw();
        let mut r = resp3(srv);
        // Default mode: the reader's own write is reported (after its reply).
        assert_eq!(cmd(&mut r, "CLIENT TRACKING ON"), "+OK\r\n");
        assert_eq!(cmd(&mut r, "GET a"), "_\r\n");
        r.send(b"SET a 1\r\n");
        let mut got = vec![reply(&mut r), reply(&mut r)];
        got.sort();
        assert_eq!(got, ["+OK\r\n".to_string(), invalidate(&["a"])]);
        // NOLOOP: own writes are not reported, others' are.
        assert_eq!(cmd(&mut r, "CLIENT TRACKING ON NOLOOP"), "+OK\r\n");
        for key in SPREAD {
            cmd(&mut r, &format!("GET {key}"));
            assert_eq!(cmd(&mut r, &format!("SET {key} mine")), "+OK\r\n");
            quiet(&mut r);
            assert_eq!(cmd(&mut r, &format!("GET {key}")), "$4\r\nmine\r\n");
            assert_eq!(cmd(&mut w, &format!("SET {key} theirs")), "+OK\r\n");
            assert_eq!(reply(&mut r), invalidate(&[key]));
        }
        assert_eq!(cmd(&mut r, "CLIENT TRACKING OFF"), "+OK\r\n");
        // OPTIN: only reads after CLIENT CACHING YES are tracked.
        assert_eq!(cmd(&mut r, "CLIENT TRACKING ON OPTIN"), "+OK\r\n");
        assert_eq!(cmd(&mut r, "GET b"), "$6\r\ntheirs\r\n");
        assert_eq!(cmd(&mut w, "SET b 1"), "+OK\r\n");
        quiet(&mut r);
        assert_eq!(cmd(&mut r, "CLIENT CACHING YES"), "+OK\r\n");
        assert_eq!(cmd(&mut r, "GET b"), "$1\r\n1\r\n");
        assert_eq!(cmd(&mut r, "GET c"), "$6\r\ntheirs\r\n");
        assert_eq!(cmd(&mut w, "MSET b 2 c 2"), "+OK\r\n");
        assert_eq!(reply(&mut r), invalidate(&["b"]), "only the read right after CACHING YES");
        quiet(&mut r);
        assert_eq!(
            cmd(&mut r, "CLIENT CACHING NO"),
            "-ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.\r\n"
        );
        assert_eq!(cmd(&mut r, "CLIENT TRACKING OFF"), "+OK\r\n");
        // OPTOUT: every read is tracked except right after CACHING NO.
        assert_eq!(cmd(&mut r, "CLIENT TRACKING ON OPTOUT"), "+OK\r\n");
        assert_eq!(cmd(&mut r, "CLIENT CACHING NO"), "+OK\r\n");
        assert_eq!(cmd(&mut r, "GET b"), "$1\r\n2\r\n");
        assert_eq!(cmd(&mut r, "GET c"), "$1\r\n2\r\n");
        assert_eq!(cmd(&mut w, "MSET b 3 c 3"), "+OK\r\n");
        assert_eq!(reply(&mut r), invalidate(&["c"]));
        quiet(&mut r);
    }

    fn bcast_prefixes_report_every_matching_change(srv: &Server) {
        let mut w = srv.raw();
        let mut r = resp3(srv);
        assert_eq!(cmd(&mut r, "CLIENT TRACKING ON BCAST PREFIX user: PREFIX obj:"), "+OK\r\n");
        assert_eq!(info_field(&mut w, "tracking_total_prefixes"), 2);
        // Nothing read, still told; keys of other prefixes are not.
        assert_eq!(cmd(&mut w, "SET user:1 a"), "+OK\r\n");
        assert_eq!(reply(&mut r), invalidate(&["user:1"]));
        assert_eq!(cmd(&mut w, "SET other x"), "+OK\r\n");
        quiet(&mut r);
        // One message per prefix for a command's keys on one shard.
        assert_eq!(cmd(&mut w, "MSET {t}user:2 a {t}obj:2 b {t}user:3 c"), "+OK\r\n");
        // A hash tag does not make a prefix match: "{t}user:2" is not "user:".
        quiet(&mut r);
        assert_eq!(cmd(&mut w, "MSET user:{t}2 a obj:{t}2 b user:{t}3 c"), "+OK\r\n");
        assert_eq!(reply(&mut r), invalidate(&["obj:{t}2"]));
        assert_eq!(reply(&mut r), invalidate(&["user:{t}2", "user:{t}3"]));
        let info = cmd(&mut r, "CLIENT TRACKINGINFO");
        assert_eq!(
            info,
            "%3\r\n$5\r\nflags\r\n~2\r\n$2\r\non\r\n$5\r\nbcast\r\n$8\r\nredirect\r\n:0\r\n\
             $8\r\nprefixes\r\n*2\r\n$4\r\nobj:\r\n$5\r\nuser:\r\n"
        );
        assert_eq!(
            cmd(&mut r, "CLIENT TRACKING ON BCAST PREFIX us"),
            "-ERR Prefix 'us' overlaps with an existing prefix 'user:'. Prefixes for a single client must not overlap.\r\n"
        );
        assert_eq!(
            cmd(&mut r, "CLIENT TRACKING ON"),
            "-ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.\r\n"
        );
        // Off: the prefixes go from every shard.
        assert_eq!(cmd(&mut r, "CLIENT TRACKING OFF"), "+OK\r\n");
        assert_eq!(cmd(&mut w, "SET user:1 b"), "+OK\r\n");
        quiet(&mut r);
        assert_eq!(info_field(&mut w, "tracking_total_prefixes"), 0);
        // A disconnected BCAST client leaves nothing behind either.
        let mut gone = resp3(srv);
        assert_eq!(cmd(&mut gone, "CLIENT TRACKING ON BCAST"), "+OK\r\n");
        assert_eq!(info_field(&mut w, "tracking_total_prefixes"), 1);
        drop(gone);
        let deadline = Instant::now() + Duration::from_secs(5);
        while info_field(&mut w, "tracking_total_prefixes") != 0 {
            assert!(Instant::now() < deadline, "the prefix stayed");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn redirect_to_a_resp2_subscriber_and_broken_redirect(srv: &Server) {
        let mut w = srv.raw();
        let mut target = srv.raw();
        let target_id: i64 = cmd(&mut target, "CLIENT ID")[1..].trim().parse().unwrap();
        assert_eq!(
            cmd(&mut target, "SUBSCRIBE __redis__:invalidate"),
            "*3\r\n$9\r\nsubscribe\r\n$20\r\n__redis__:invalidate\r\n:1\r\n"
        );
        let mut d = srv.raw();
        assert_eq!(cmd(&mut d, "CLIENT GETREDIR"), ":-1\r\n");
        assert_eq!(cmd(&mut d, &format!("CLIENT TRACKING ON REDIRECT {target_id}")), "+OK\r\n");
        assert_eq!(cmd(&mut d, "CLIENT GETREDIR"), format!(":{target_id}\r\n"));
        for key in SPREAD {
            assert_eq!(cmd(&mut d, &format!("GET {key}")), "$-1\r\n");
            assert_eq!(cmd(&mut w, &format!("SET {key} 1")), "+OK\r\n");
            assert_eq!(
                reply(&mut target),
                format!("*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n{}", array(&[key]))
            );
        }
        let line = cmd(&mut d, "CLIENT INFO");
        assert!(line.contains(&format!(" redir={target_id} ")) && line.contains("flags=t "), "{line}");
        // The target goes away: the next invalidation finds it gone.
        drop(target);
        assert_eq!(cmd(&mut d, "GET a"), "$1\r\n1\r\n");
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(cmd(&mut w, "SET a 2"), "+OK\r\n");
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let info = cmd(&mut d, "CLIENT TRACKINGINFO");
            if info.contains("broken_redirect") {
                assert_eq!(
                    info,
                    format!(
                        "*6\r\n$5\r\nflags\r\n*2\r\n$2\r\non\r\n$15\r\nbroken_redirect\r\n\
                         $8\r\nredirect\r\n:{target_id}\r\n$8\r\nprefixes\r\n*0\r\n"
                    )
                );
                break;
            }
            assert!(Instant::now() < deadline, "never flagged broken: {info}");
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(
            cmd(&mut d, "CLIENT TRACKING ON REDIRECT 999999"),
            "-ERR The client ID you want redirect to does not exist\r\n"
        );
        assert_eq!(cmd(&mut d, "CLIENT TRACKING ON PREFIX x"), "-ERR PREFIX option requires BCAST mode to be enabled\r\n");
        assert_eq!(cmd(&mut d, "CLIENT TRACKING MAYBE"), "-ERR syntax error\r\n");
        assert_eq!(cmd(&mut d, "RESET"), "+RESET\r\n");
        assert_eq!(cmd(&mut d, "CLIENT GETREDIR"), ":-1\r\n");
        assert_eq!(info_field(&mut w, "tracking_clients"), 0);
    }

    fn cached_user_profiles_in_a_web_tier_stay_fresh(srv: &Server) {
        // The web tier: a local copy of each profile, dropped when the
        // server says the key changed.
        let mut web = resp3(srv);
        assert_eq!(cmd(&mut web, "CLIENT TRACKING ON"), "+OK\r\n");
        let mut admin = writers(srv);
        let users: Vec<String> = (0..16).map(|i| format!("user:{i}:profile")).collect();
        for (i, u) in users.iter().enumerate() {
            assert_eq!(cmd(&mut admin[0], &format!("SET {u} v0-{i}")), "+OK\r\n");
        }
        let mut cache: HashMap<String, String> = HashMap::new();
        let mut worst = Duration::ZERO;
        for round in 1..=5 {
            // Serve every profile, filling the cache from the server.
            for u in &users {
                if !cache.contains_key(u) {
                    let v = cmd(&mut web, &format!("GET {u}"));
                    cache.insert(u.clone(), v);
                }
            }
            // Profiles are edited on other connections; once the edit is
            // acknowledged, the web tier hears of it within one round trip.
            for (i, u) in users.iter().enumerate().filter(|(i, _)| i % 3 == round % 3) {
                let value = format!("v{round}-{i}");
                let editor = &mut admin[i % 8];
                assert_eq!(cmd(editor, &format!("SET {u} {value}")), "+OK\r\n");
                let edited = Instant::now();
                assert_eq!(reply(&mut web), invalidate(&[u]));
                worst = worst.max(edited.elapsed());
                cache.remove(u);
            }
            // Every cached copy is what the server has.
            for u in &users {
                if let Some(v) = cache.get(u) {
                    assert_eq!(*v, cmd(&mut admin[0], &format!("GET {u}")), "stale {u}");
                }
            }
        }
        assert!(worst < Duration::from_millis(500), "an invalidation took {worst:?}");
        quiet(&mut web);
    }
}

#[test]
fn tracking_table_max_keys_evicts_with_invalidations() {
    common::with_each_shards(&["--tracking-table-max-keys", "4"], |srv| {
        let mut r = resp3(srv);
        let mut w = srv.raw();
        assert_eq!(
            cmd(&mut w, "CONFIG GET tracking-table-max-keys"),
            "*2\r\n$23\r\ntracking-table-max-keys\r\n$1\r\n4\r\n"
        );
        assert_eq!(cmd(&mut r, "CLIENT TRACKING ON"), "+OK\r\n");
        // Read many keys: the table stays small, and keys dropped from it
        // are invalidated so the client stops trusting its copies.
        let keys: Vec<String> = (0..40).map(|i| format!("k{i}")).collect();
        let mut told = 0;
        for k in &keys {
            r.send(format!("GET {k}\r\n").as_bytes());
            loop {
                let got = reply(&mut r);
                if got.starts_with('>') {
                    told += 1;
                } else {
                    assert_eq!(got, "_\r\n");
                    break;
                }
            }
        }
        let tracked = info_field(&mut w, "tracking_total_keys");
        assert!(tracked <= 4 + srv.shards() as i64, "{tracked} keys tracked");
        // Every key is either still tracked or was invalidated, possibly
        // right after the read that evicted it.
        let mut late = 0;
        while told + late + tracked < keys.len() as i64 {
            assert!(reply(&mut r).starts_with('>'));
            late += 1;
        }
        assert_eq!(told + late + tracked, keys.len() as i64);
    });
}
