use super::*;

use crate::command::keys::event_script::{check, store};
use crate::command::test_args as args;

fn run(st: &mut Store, f: fn(&mut Store, usize, &[Bytes]) -> Reply, v: &[&str]) -> Reply {
    f(st, 0, &args(v))
}

/// Redis 7.0's events, class `t`, checked against `redis-server` by the
/// notifications integration test as well.
#[test]
fn stream_commands_raise_redis_events() {
    let mut st = store("KEA");
    check(
        &mut st,
        &[
            ("xadd s 1-1 f v", &["xadd s"]),
            ("xadd s 1-1 f v", &[]),
            ("xadd s maxlen 1 1-2 f v", &["xadd s", "xtrim s"]),
            ("xadd s maxlen 5 1-3 f v", &["xadd s"]),
            ("xadd nos nomkstream 1-1 f v", &[]),
            ("xdel s 9-9", &[]),
            ("xdel s 1-2", &["xdel s"]),
            ("xtrim s maxlen 5", &[]),
            ("xtrim s maxlen 0", &["xtrim s"]),
            ("xsetid s 5-0", &["xsetid s"]),
            ("xsetid nos 5-0", &[]),
            ("xgroup create s g $", &["xgroup-create s"]),
            ("xgroup create s g $", &[]),
            ("xgroup setid s g 0", &["xgroup-setid s"]),
            (
                "xgroup createconsumer s g alice",
                &["xgroup-createconsumer s"],
            ),
            ("xgroup createconsumer s g alice", &[]),
            ("xgroup delconsumer s g alice", &["xgroup-delconsumer s"]),
            ("xgroup delconsumer s g alice", &[]),
            ("xadd s 6-0 f v", &["xadd s"]),
            (
                "xreadgroup group g bob streams s >",
                &["xgroup-createconsumer s"],
            ),
            ("xreadgroup group g bob streams s 0", &[]),
            ("xreadgroup group g carol streams s >", &[]),
            ("xclaim s g dave 0 6-0", &["xgroup-createconsumer s"]),
            ("xclaim s g dave 0 6-0", &[]),
            ("xautoclaim s g erin 0 0", &["xgroup-createconsumer s"]),
            ("xautoclaim s g frank 999999 0", &[]),
            ("xack s g 6-0", &[]),
            ("xgroup destroy s g", &["xgroup-destroy s"]),
            ("xgroup destroy s g", &[]),
        ],
    );
    let mut st = store("AKEmn");
    check(
        &mut st,
        &[
            ("xadd s 1-1 f v", &["new s", "xadd s"]),
            (
                "xgroup create m g $ mkstream",
                &["new m", "xgroup-create m"],
            ),
            ("xlen nos", &["keymiss nos"]),
            ("xrange nos - +", &["keymiss nos"]),
            ("xadd nos nomkstream 1-1 f v", &[]),
        ],
    );
}

#[test]
fn memory_estimate_follows_the_stream_and_returns_to_zero() {
    let mut st = Store::new(1);
    for i in 1..=500 {
        let id = format!("{i}-0");
        run(&mut st, xadd, &["xadd", "s", &id, "field", "value"]);
    }
    let full = st.used_memory();
    assert!(
        full > 500 * 4 && full < 500 * 40,
        "{full} bytes for 500 entries"
    );
    run(&mut st, group::xgroup, &["xgroup", "create", "s", "g", "0"]);
    run(
        &mut st,
        read::xreadgroup,
        &["xreadgroup", "group", "g", "c", "streams", "s", ">"],
    );
    assert!(st.used_memory() > full, "pending entries take memory");
    assert_eq!(st.memory_of(0, b"s"), Some(st.used_memory()));
    run(&mut st, group::xack, &["xack", "s", "g", "1-0", "2-0"]);
    run(&mut st, xtrim, &["xtrim", "s", "maxlen", "0"]);
    run(&mut st, group::xgroup, &["xgroup", "destroy", "s", "g"]);
    assert!(st.used_memory() < full);
    st.remove(0, b"s");
    assert_eq!(st.used_memory(), 0);
}

#[test]
fn failed_xadd_on_a_new_key_stores_nothing() {
    let mut st = Store::new(1);
    let e = run(&mut st, xadd, &["xadd", "s", "0-0", "f", "v"]);
    assert_eq!(e, err(errors::XADD_ID_ZERO));
    assert_eq!(
        run(&mut st, xadd, &["xadd", "s", "bad", "f", "v"]),
        err(errors::INVALID_STREAM_ID)
    );
    assert!(!st.exists(0, b"s"));
    let e = run(
        &mut st,
        group::xgroup,
        &["xgroup", "create", "s", "g", "bad", "mkstream"],
    );
    assert_eq!(e, err(errors::INVALID_STREAM_ID));
    assert!(!st.exists(0, b"s"));
}

#[test]
fn add_and_trim_options_parse_in_redis_order() {
    let p = |v: &[&str], xadd| parse_add_trim(&args(v), xadd, 100).err();
    assert_eq!(
        p(&["xadd", "s", "maxlen", "1", "maxlen", "2", "*"], true),
        Some(err(errors::TRIM_BOTH_STRATEGIES))
    );
    assert_eq!(
        p(&["xadd", "s", "maxlen", "~", "x", "*"], true),
        Some(errors::not_integer())
    );
    assert_eq!(
        p(&["xtrim", "s", "limit", "0"], false),
        Some(err(errors::XTRIM_WITHOUT_STRATEGY))
    );
    assert_eq!(
        p(&["xadd", "s", "limit", "0", "*"], true),
        Some(err(errors::LIMIT_WITHOUT_APPROX)),
        "LIMIT 0 is no limit, but still needs ~"
    );
    let o = parse_add_trim(
        &args(&[
            "xadd",
            "s",
            "MINID",
            "~",
            "5",
            "NOMKSTREAM",
            "7-*",
            "f",
            "v",
        ]),
        true,
        100,
    )
    .unwrap();
    assert_eq!(o.trim, Some(Trim::MinId(StreamId::new(5, 0))));
    assert!(o.approx && o.nomkstream);
    assert_eq!(o.limit, 10_000, "100 nodes of 100");
    assert_eq!(o.id_pos, 6);
    assert_eq!(
        o.id.map(|p| (p.id, p.seq_given)),
        Some((StreamId::new(7, 0), false))
    );
    let limit = |max_entries| {
        parse_add_trim(
            &args(&["xtrim", "s", "maxlen", "~", "1"]),
            false,
            max_entries,
        )
        .unwrap()
        .limit
    };
    assert_eq!(limit(0), 10_000);
    assert_eq!(limit(1_000_000), 1_000_000);
    assert_eq!(limit(usize::MAX), 10_000, "the wrapped product is negative");
    let o = parse_add_trim(&args(&["xadd", "s", "*", "maxlen", "1"]), true, 100).unwrap();
    assert_eq!((o.trim, o.id_pos), (None, 2), "options end at the ID");
}

#[test]
fn interval_bounds_exclude_and_complete_ids() {
    assert_eq!(start_bound(b"(1-5"), Ok(StreamId::new(1, 6)));
    assert_eq!(start_bound(b"(1"), Ok(StreamId::new(1, 1)));
    assert_eq!(end_bound(b"(2"), Ok(StreamId::new(2, u64::MAX - 1)));
    assert_eq!(end_bound(b"(2-0"), Ok(StreamId::new(1, u64::MAX)));
    assert_eq!(end_bound(b"2"), Ok(StreamId::new(2, u64::MAX)));
    assert_eq!(start_bound(b"-"), Ok(StreamId::MIN));
    assert_eq!(end_bound(b"+"), Ok(StreamId::MAX));
    assert_eq!(start_bound(b"(-"), Err(err(errors::INVALID_STREAM_ID)));
    assert_eq!(start_bound(b"("), Err(err(errors::INVALID_STREAM_ID)));
    assert_eq!(
        start_bound(b"(18446744073709551615-18446744073709551615"),
        Err(err(errors::INVALID_START_ID))
    );
    assert_eq!(end_bound(b"(0-0"), Err(err(errors::INVALID_END_ID)));
}
