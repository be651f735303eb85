//! Keyspace notifications end to end: what a subscriber to `__keyspace@*`
//! and `__keyevent@*` channels receives.
//!
//! * A differential test runs one command script against Debian's
//!   `redis-server` and against lanner, both with `notify-keyspace-events
//!   KEA` and a PSUBSCRIBE connection, and compares the events each command
//!   raised, in order.
//! * Clients blocked in BLPOP, BLMOVE and BZPOPMIN, woken by pushes, raise
//!   the same events per key as Redis's.
//! * An application-style test drives a callback from `expired` events: keys
//!   with PX TTLs, nobody touching them, every one reported once by the
//!   active expiry cycle.
//!
//! Both run with 1 shard and with several. Multi-key commands in the script
//! keep their keys on one shard with a hash tag: events raised on different
//! shards reach a subscriber in no guaranteed order.

mod common;

use common::RawConn;
use redis::{Connection, Msg, PubSub};
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

/// Every channel a keyspace event can go to, as `redis-cli` users subscribe.
const ALL_EVENTS: &str = "__key*@*__:*";
/// Published after each command: the events before it belong to the command.
const MARKER: &str = "__keyevent@99__:end-of-command";
/// How long to wait for events a command is expected to raise.
const EVENT_WAIT: Duration = Duration::from_secs(3);

/// The script: every command family, each change and each no-op Redis
/// distinguishes (a missed NX, a pop on a missing key, an emptied
/// collection, an expiry in the past).
const SCRIPT: &[&str] = &[
    // strings
    "SET s 1",
    "SET s 2 XX",
    "SET nos 1 XX",
    "SET s 3 NX",
    "SET s 4 GET",
    "SET s 5 PX 100000",
    "SET s 6 KEEPTTL",
    "SETNX s 1",
    "SETNX s2 1",
    "SETEX s3 10 v",
    "PSETEX s4 10000 v",
    "GETSET s 9",
    "GETDEL s",
    "GETDEL s",
    "GETEX s2 EX 100",
    "GETEX s2 PERSIST",
    "GETEX s2",
    "GETEX s2 EXAT 1",
    "MSET {m}1 1 {m}2 2",
    "MSETNX {m}1 1 {m}3 3",
    "MSETNX {m}3 3 {m}4 4",
    "APPEND ap x",
    "APPEND ap y",
    "SETRANGE sr 2 x",
    "INCR i",
    "DECR i",
    "INCRBY i 5",
    "DECRBY i 2",
    "INCRBYFLOAT f 1.5",
    "INCR ap",
    // keyspace
    "DEL i nokey",
    "DEL i",
    "UNLINK f",
    "SET {r}a 1",
    "RENAME {r}a {r}b",
    "RENAME {r}nokey {r}c",
    "RENAME {r}b {r}b",
    "RENAMENX {r}b {r}c",
    "SET {r}b 1",
    "RENAMENX {r}b {r}c",
    "COPY {r}c {r}d",
    "COPY {r}c {r}d",
    "COPY {r}c {r}d REPLACE",
    "COPY {r}c {r}d DB 1",
    "MOVE {r}d 2",
    "MOVE {r}d 2",
    "EXPIRE {r}c 100",
    "PEXPIRE {r}c 100000 NX",
    "EXPIRE {r}c 200 GT",
    "PERSIST {r}c",
    "PERSIST {r}c",
    "EXPIREAT {r}c 1",
    "EXPIRE nokey 10",
    "SET e 1",
    "EXPIRE e -1",
    "EXISTS e",
    "TYPE ap",
    "GET nokey",
    "MGET {g}x {g}y",
    "STRLEN nokey",
    "TTL nokey",
    "LLEN nokey",
    "HGET nokey f",
    "SMEMBERS nokey",
    "ZSCORE nokey m",
    "ZUNION 2 {z}nok {z}nok2",
    "SINTERCARD 2 {t}nok {t}nok2",
    "SORT_RO nokey",
    // lists
    "LPUSH l a b",
    "RPUSH l c",
    "LPUSHX l d",
    "RPUSHX l e",
    "LPUSHX nol a",
    "LPOP l",
    "RPOP l",
    "LPOP l 0",
    "LPOP nol",
    "LSET l 0 x",
    "LSET l 9 x",
    "LINSERT l BEFORE x y",
    "LINSERT l BEFORE zz y",
    "LREM l 0 zz",
    "LREM l 1 y",
    "LTRIM l 0 -1",
    "LTRIM l 0 0",
    "RPUSH l b",
    "LPOP l 5",
    "RPUSH l a b",
    "LTRIM l 5 10",
    "RPUSH {q}s a b",
    "LMOVE {q}s {q}d LEFT RIGHT",
    "LMOVE {q}s {q}d LEFT LEFT",
    "RPOPLPUSH {q}d {q}d",
    "RPOPLPUSH {q}nos {q}d",
    "RPUSH one x",
    "LMOVE one one LEFT RIGHT",
    "LMPOP 2 {q}nol {q}d RIGHT COUNT 5",
    "RPUSH bl a b",
    "BLPOP bl 0",
    "BRPOP bl 0",
    "RPUSH {q}bm a",
    "BLMOVE {q}bm {q}bd LEFT LEFT 0",
    "BLMPOP 0 1 {q}bd LEFT COUNT 3",
    // hashes
    "HSET h a 1",
    "HSET h a 1",
    "HMSET h b 2",
    "HSETNX h a 1",
    "HSETNX h c 3",
    "HINCRBY h a 1",
    "HINCRBYFLOAT h a 1.5",
    "HINCRBY h c x",
    "HDEL h zz",
    "HDEL h a b",
    "HDEL h c",
    "HINCRBY h2 a 1",
    // sets
    "SADD st a b",
    "SADD st a",
    "SREM st zz",
    "SREM st a",
    "SPOP st",
    "SADD st a b c",
    "SPOP st 0",
    "SPOP st 2",
    "SPOP st 5",
    "SPOP st",
    "SADD {t}s a b",
    "SMOVE {t}s {t}t a",
    "SMOVE {t}s {t}t zz",
    "SMOVE {t}s {t}t b",
    "SMOVE {t}t {t}t a",
    "SADD {t}x 1 2",
    "SADD {t}y 2 3",
    "SINTERSTORE {t}d {t}x {t}y",
    "SINTERSTORE {t}d {t}x {t}nok",
    "SINTERSTORE {t}d {t}x {t}nok",
    "SUNIONSTORE {t}d {t}x {t}y",
    "SDIFFSTORE {t}d {t}x {t}y",
    "SDIFFSTORE {t}d {t}x {t}x",
    "SINTERCARD 2 {t}x {t}y",
    // sorted sets
    "ZADD z 1 a 2 b",
    "ZADD z 1 a",
    "ZADD z 5 a",
    "ZADD z NX 1 a",
    "ZADD z XX 1 c",
    "ZADD z INCR 1 a",
    "ZADD z GT 1 a",
    "ZADD z CH 7 a",
    "ZINCRBY z 1 a",
    "ZINCRBY z 1 new",
    "ZREM z zz",
    "ZREM z new",
    "ZPOPMIN z",
    "ZPOPMAX z 0",
    "ZPOPMAX z",
    "ZPOPMIN z",
    "ZADD z 1 a 2 b 3 c 4 d",
    "ZREMRANGEBYSCORE z 10 20",
    "ZREMRANGEBYSCORE z 1 1",
    "ZREMRANGEBYRANK z 0 0",
    "ZREMRANGEBYLEX z [a [c",
    "ZREMRANGEBYLEX z - +",
    "ZADD {z}a 1 a 2 b",
    "ZADD {z}b 1 a",
    "ZRANGESTORE {z}d {z}a 0 -1",
    "ZRANGESTORE {z}d {z}a 5 6",
    "ZRANGESTORE {z}d {z}a 5 6",
    "ZUNIONSTORE {z}u 2 {z}a {z}b",
    "ZINTERSTORE {z}i 2 {z}a {z}b",
    "ZDIFFSTORE {z}f 2 {z}a {z}b",
    "ZINTERSTORE {z}i 2 {z}a {z}nok",
    "ZMPOP 1 {z}a MIN",
    "ZMPOP 1 {z}a MAX COUNT 5",
    "ZADD bz 1 a 2 b",
    "BZPOPMIN bz 0",
    "BZPOPMAX bz 0",
    "ZADD bz 1 a",
    "BZMPOP 0 1 bz MIN COUNT 3",
    // streams
    "XADD x 1-1 f v",
    "XADD x 1-2 f v",
    "XADD x MAXLEN 1 1-3 f v",
    "XADD x MAXLEN 5 1-4 f v",
    "XADD x 1-1 f v",
    "XADD nox NOMKSTREAM 1-1 f v",
    "XDEL x 9-9",
    "XDEL x 1-3",
    "XTRIM x MAXLEN 5",
    "XTRIM x MAXLEN 0",
    "XSETID x 9-9",
    "XSETID nox 9-9",
    "XGROUP CREATE x g $",
    "XGROUP CREATE x g $",
    "XGROUP CREATE {x}new g $ MKSTREAM",
    "XGROUP SETID x g 0",
    "XGROUP CREATECONSUMER x g alice",
    "XGROUP CREATECONSUMER x g alice",
    "XGROUP DELCONSUMER x g alice",
    "XGROUP DELCONSUMER x g alice",
    "XADD x 10-1 f v",
    "XREADGROUP GROUP g bob STREAMS x >",
    "XREADGROUP GROUP g bob STREAMS x >",
    "XREADGROUP GROUP g carol STREAMS x >",
    "XREADGROUP GROUP g carol STREAMS x 0",
    "XCLAIM x g dave 0 10-1",
    "XCLAIM x g dave 0 10-1",
    "XAUTOCLAIM x g erin 0 0",
    "XAUTOCLAIM x g erin 0 0",
    "XAUTOCLAIM x g frank 999999 0",
    "XACK x g 10-1",
    "XLEN nox",
    "XRANGE nox - +",
    "XREAD STREAMS nox 0",
    "XINFO STREAM x",
    "XGROUP DESTROY x g",
    "XGROUP DESTROY x g",
    "XADD {x}a 1-1 f v",
    "XADD {x}b 1-1 f v",
    "XGROUP CREATE {x}a g 0",
    "XGROUP CREATE {x}b g 0",
    "XREADGROUP GROUP g c STREAMS {x}a {x}b > >",
    // SORT
    "RPUSH {o}l 3 1 2",
    "SORT {o}l STORE {o}d",
    "SORT {o}l STORE {o}d",
    "SORT {o}nol STORE {o}d",
    "SORT {o}nol STORE {o}d",
];

/// A connection subscribed to every keyspace event (plus the marker). The
/// subscription lasts as long as this value: the `redis` crate leaves
/// subscribed mode when its `PubSub` is dropped.
struct Subscriber<'a> {
    ps: PubSub<'a>,
}

impl<'a> Subscriber<'a> {
    fn new(con: &'a mut Connection) -> Subscriber<'a> {
        let mut ps = con.as_pubsub();
        ps.psubscribe(ALL_EVENTS).unwrap();
        Subscriber { ps }
    }

    /// The next message, or None after `until`.
    fn next(&mut self, until: Instant) -> Option<Msg> {
        let left = until.checked_duration_since(Instant::now())?;
        self.ps
            .set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .unwrap();
        match self.ps.get_message() {
            Ok(m) => Some(m),
            Err(e) if e.is_timeout() => None,
            Err(e) => panic!("subscriber: {e}"),
        }
    }

    /// The events of one command, as "event key" (with " @db" outside db 0),
    /// taken from the `__keyevent@` channels: everything up to the marker,
    /// and past it until `expect` events arrived (events a shard publishes
    /// after the reply may trail the marker).
    fn events(&mut self, expect: usize) -> Vec<String> {
        let until = Instant::now() + EVENT_WAIT;
        let (mut events, mut marked) = (Vec::new(), false);
        while !(marked && events.len() >= expect) {
            let Some(m) = self.next(until) else { break };
            let channel = m.get_channel_name().to_string();
            if channel == MARKER {
                marked = true;
                continue;
            }
            let Some(rest) = channel.strip_prefix("__keyevent@") else {
                continue;
            };
            let (db, event) = rest.split_once("__:").expect("keyevent channel");
            let key: String = m.get_payload().unwrap();
            events.push(match db {
                "0" => format!("{event} {key}"),
                _ => format!("{event} {key} @{db}"),
            });
        }
        events
    }
}

fn command(words: &[&str]) -> redis::Cmd {
    let mut c = redis::cmd(words[0]);
    for w in &words[1..] {
        c.arg(*w);
    }
    c
}

/// Runs `line` (then the marker) on `con`; errors are part of the script.
fn run(con: &mut Connection, line: &str) {
    let words: Vec<&str> = line.split_whitespace().collect();
    let _ = command(&words).query::<redis::Value>(con);
    let _: i64 = redis::cmd("PUBLISH")
        .arg(MARKER)
        .arg("x")
        .query(con)
        .unwrap();
}

/// A connection with `notify-keyspace-events` set to `flags` and an empty
/// keyspace.
fn prepare(mut con: Connection, flags: &str) -> Connection {
    let _: () = redis::cmd("FLUSHALL").query(&mut con).unwrap();
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("notify-keyspace-events")
        .arg(flags)
        .query(&mut con)
        .unwrap();
    con
}

/// Each command of `SCRIPT` with the events real Redis raised for it with
/// `notify-keyspace-events` set to `flags`.
fn reference_events(flags: &str) -> Vec<(&'static str, Vec<String>)> {
    let redis = common::start_redis();
    let mut con = prepare(redis.client(), flags);
    let mut sub_con = redis.client();
    let mut sub = Subscriber::new(&mut sub_con);
    SCRIPT
        .iter()
        .map(|line| {
            run(&mut con, line);
            (*line, sub.events(0))
        })
        .collect()
}

/// Pushes that wake clients blocked in BLPOP, BLMOVE and BZPOPMIN on the
/// server at `port`: the events each key raised, in order, once all of
/// `expect` events arrived (served pops may publish after the push's reply).
fn served_pop_events(port: u16, expect: usize) -> BTreeMap<String, Vec<String>> {
    let mut con = prepare(common::client(port), "KEA");
    let mut sub_con = common::client(port);
    let mut sub = Subscriber::new(&mut sub_con);
    let mut blocked: Vec<RawConn> = [
        &["BLPOP", "bl", "0"][..],
        &["BLMOVE", "{b}m", "{b}dst", "LEFT", "RIGHT", "0"],
        &["BZPOPMIN", "bz", "0"],
    ]
    .iter()
    .map(|args| {
        let mut raw = RawConn::connect(port);
        let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        raw.send(&common::encode_request(&args));
        raw
    })
    .collect();
    let start = Instant::now();
    while blocked_clients(&mut con) != 3 {
        assert!(start.elapsed() < EVENT_WAIT, "clients never blocked");
        std::thread::sleep(Duration::from_millis(2));
    }
    for line in ["RPUSH bl a b", "RPUSH {b}m x", "ZADD bz 1 m"] {
        run(&mut con, line);
    }
    for raw in &mut blocked {
        raw.read_reply();
    }
    let mut by_key: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for e in sub.events(expect) {
        let (event, key) = e.split_once(' ').expect("event and key");
        by_key
            .entry(key.to_string())
            .or_default()
            .push(event.to_string());
    }
    by_key
}

fn blocked_clients(con: &mut Connection) -> u64 {
    let info: String = redis::cmd("INFO").arg("clients").query(con).unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix("blocked_clients:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("blocked_clients in INFO")
}

/// Runs `SCRIPT` on `srv` and on redis-server with `flags` and asserts that
/// every command raised the same events.
fn same_events_as_redis(srv: &common::Server, flags: &str) {
    let want = reference_events(flags);
    assert!(
        want.iter().filter(|(_, e)| !e.is_empty()).count() > 100,
        "the reference server raised events"
    );
    let mut con = prepare(srv.client(), flags);
    let mut sub_con = srv.client();
    let mut sub = Subscriber::new(&mut sub_con);
    let mut wrong = Vec::new();
    for (line, events) in &want {
        run(&mut con, line);
        let got = sub.events(events.len());
        if got != *events {
            wrong.push(format!("{line}\n  redis:  {events:?}\n  lanner: {got:?}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} commands differ:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

common::shard_tests! {
    fn every_command_raises_the_events_redis_raises(srv: &Server) {
        same_events_as_redis(srv, "KEA");
    }

    fn read_misses_and_new_keys_raise_keymiss_and_new_as_redis(srv: &Server) {
        same_events_as_redis(srv, "AKEmn");
    }

    fn served_blocking_pops_raise_their_pop_events(srv: &Server) {
        let redis = common::start_redis();
        let want = served_pop_events(redis.port(), 9);
        assert_eq!(want.values().map(Vec::len).sum::<usize>(), 9);
        assert_eq!(served_pop_events(srv.port(), 9), want);
    }

    fn expired_events_drive_a_callback_for_every_key(srv: &Server) {
        let mut con = prepare(srv.client(), "Ex");
        let mut sub = srv.client();
        let mut ps = sub.as_pubsub();
        ps.subscribe("__keyevent@0__:expired").unwrap();
        // When each key was set and its TTL; some keys never expire.
        let mut pending: HashMap<String, (Instant, Duration)> = HashMap::new();
        for i in 0..200u64 {
            let key = format!("session:{i}");
            let _: () = if i % 10 == 9 {
                redis::cmd("SET").arg(&key).arg("v").query(&mut con).unwrap()
            } else {
                let ttl = Duration::from_millis(20 + i * 2);
                pending.insert(key.clone(), (Instant::now(), ttl));
                redis::cmd("SET")
                    .arg(&key)
                    .arg("v")
                    .arg("PX")
                    .arg(ttl.as_millis() as u64)
                    .query(&mut con)
                    .unwrap()
            };
        }
        let expected = pending.len();
        let mut calls = Vec::new();
        // The callback an application hangs on expiry: here it checks the
        // key was due and records it.
        let on_expired = |key: String, pending: &mut HashMap<_, (Instant, Duration)>, calls: &mut Vec<String>| {
            let (set_at, ttl) = pending
                .remove(&key)
                .unwrap_or_else(|| panic!("{key} reported twice or never set with a TTL"));
            assert!(set_at.elapsed() >= ttl, "{key} reported before its TTL");
            calls.push(key);
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        ps.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
        while calls.len() < expected && Instant::now() < deadline {
            match ps.get_message() {
                Ok(m) => {
                    assert_eq!(m.get_channel_name(), "__keyevent@0__:expired");
                    on_expired(m.get_payload().unwrap(), &mut pending, &mut calls);
                }
                Err(e) if e.is_timeout() => {}
                Err(e) => panic!("subscriber: {e}"),
            }
        }
        assert_eq!(calls.len(), expected, "keys never reported: {:?}", pending.keys());
        let left: i64 = redis::cmd("DBSIZE").query(&mut con).unwrap();
        assert_eq!(left, 20, "only the keys without a TTL are left");
    }
}
