use super::*;

fn kv(v: &[&str]) -> Vec<Bytes> {
    v.iter()
        .map(|s| Bytes::copy_from_slice(s.as_bytes()))
        .collect()
}

fn id(ms: u64, seq: u64) -> StreamId {
    StreamId::new(ms, seq)
}

fn given(ms: u64, seq: u64) -> Option<ParsedId> {
    Some(ParsedId {
        id: id(ms, seq),
        seq_given: true,
    })
}

fn ids(it: impl Iterator<Item = StreamId>) -> Vec<String> {
    it.map(|i| i.to_string()).collect()
}

/// A stream of `n` entries `1-0` … `n-0`, field "f" = the index.
fn filled(n: u64, limits: NodeLimits) -> Stream {
    let mut s = Stream::new();
    for i in 1..=n {
        s.add(given(i, 0), 0, &kv(&["f", &i.to_string()]), limits)
            .unwrap();
    }
    s
}

/// The memory counter equals a recount, and the length the live entries.
fn check(s: &Stream) {
    let recount: usize = s.nodes.values().map(Node::heap_bytes).sum();
    assert_eq!(s.node_bytes, recount);
    assert_eq!(
        s.len(),
        s.range(StreamId::MIN, StreamId::MAX).count() as u64
    );
    let first = s.range(StreamId::MIN, StreamId::MAX).next().map(|e| e.id);
    assert_eq!(s.first_id, first.unwrap_or(StreamId::MIN));
}

#[test]
fn ids_are_generated_and_checked_as_xadd_does() {
    let lim = NodeLimits::default();
    let mut s = Stream::new();
    assert_eq!(s.add(None, 1000, &kv(&["a", "1"]), lim), Ok(id(1000, 0)));
    assert_eq!(s.add(None, 1000, &kv(&["a", "1"]), lim), Ok(id(1000, 1)));
    assert_eq!(
        s.add(None, 999, &kv(&["a", "1"]), lim),
        Ok(id(1000, 2)),
        "clock went back"
    );
    let auto_seq = |ms| {
        Some(ParsedId {
            id: id(ms, 0),
            seq_given: false,
        })
    };
    assert_eq!(
        s.add(auto_seq(1000), 0, &kv(&["a", "1"]), lim),
        Ok(id(1000, 3))
    );
    assert_eq!(
        s.add(auto_seq(2000), 0, &kv(&["a", "1"]), lim),
        Ok(id(2000, 0))
    );
    assert_eq!(
        s.add(auto_seq(1999), 0, &kv(&["a", "1"]), lim),
        Err(AddError::IdTooSmall)
    );
    assert_eq!(
        s.add(given(2000, 0), 0, &kv(&["a", "1"]), lim),
        Err(AddError::IdTooSmall)
    );
    assert_eq!(
        s.add(given(3000, u64::MAX), 0, &kv(&["a", "1"]), lim),
        Ok(id(3000, u64::MAX))
    );
    assert_eq!(
        s.add(auto_seq(3000), 0, &kv(&["a", "1"]), lim),
        Err(AddError::TooLarge),
        "the error Redis answers"
    );
    assert_eq!(
        s.add(given(u64::MAX, u64::MAX - 1), 0, &kv(&["a", "1"]), lim),
        Ok(id(u64::MAX, u64::MAX - 1))
    );
    assert_eq!(
        s.add(auto_seq(u64::MAX), 0, &kv(&["a", "1"]), lim),
        Ok(StreamId::MAX)
    );
    assert_eq!(
        s.add(None, u64::MAX, &kv(&["a", "1"]), lim),
        Err(AddError::IdTooSmall)
    );
    assert_eq!(s.len(), 8);
    assert_eq!(s.entries_added, 8);
    assert_eq!(s.last_id, StreamId::MAX);
    check(&s);
}

#[test]
fn nodes_fill_up_to_the_entry_and_byte_limits() {
    let s = filled(250, NodeLimits::default());
    assert_eq!(s.node_count(), 3, "100 entries per node");
    let keys: Vec<String> = s.nodes.keys().map(|k| k.to_string()).collect();
    assert_eq!(keys, ["1-0", "101-0", "201-0"]);
    let small = filled(
        10,
        NodeLimits {
            max_bytes: 60,
            max_entries: 0,
        },
    );
    assert!(small.node_count() > 2, "a byte limit splits too");
    let unlimited = filled(
        1000,
        NodeLimits {
            max_bytes: 0,
            max_entries: 0,
        },
    );
    assert_eq!(unlimited.node_count(), 1);
    check(&s);
    check(&small);
}

#[test]
fn ranges_cross_nodes_both_ways_and_skip_deleted_entries() {
    let mut s = filled(
        25,
        NodeLimits {
            max_bytes: 4096,
            max_entries: 4,
        },
    );
    assert_eq!(
        s.delete_ids(&[id(5, 0), id(6, 0), id(7, 0), id(8, 0), id(12, 0)]),
        5
    );
    let fwd = ids(s.range(id(3, 0), id(14, 0)).map(|e| e.id));
    assert_eq!(fwd, ["3-0", "4-0", "9-0", "10-0", "11-0", "13-0", "14-0"]);
    let back = ids(s.rev_range(id(3, 0), id(14, 0)).map(|e| e.id));
    assert_eq!(back, ["14-0", "13-0", "11-0", "10-0", "9-0", "4-0", "3-0"]);
    assert_eq!(
        ids(s.range(id(5, 0), id(8, 5)).map(|e| e.id)),
        Vec::<String>::new()
    );
    assert_eq!(
        ids(s.rev_range(StreamId::MIN, id(1, 0)).map(|e| e.id)),
        ["1-0"]
    );
    assert_eq!(s.range(id(26, 0), StreamId::MAX).count(), 0);
    let e = s.get(id(13, 0)).unwrap();
    let pairs: Vec<(&[u8], &[u8])> = e.pairs().collect();
    assert_eq!(pairs, [(&b"f"[..], &b"13"[..])]);
    assert!(s.get(id(12, 0)).is_none());
    assert_eq!(s.last_live_id(), Some(id(25, 0)));
    check(&s);
}

#[test]
fn xdel_drops_a_node_with_its_last_entry_and_tracks_first_and_max_deleted() {
    let mut s = filled(
        8,
        NodeLimits {
            max_bytes: 4096,
            max_entries: 4,
        },
    );
    assert_eq!(s.node_count(), 2);
    assert_eq!(s.delete_ids(&[id(1, 0), id(1, 0), id(99, 0)]), 1);
    assert_eq!(s.first_id, id(2, 0));
    assert_eq!(s.max_deleted_id, id(1, 0));
    assert_eq!(s.delete_ids(&[id(3, 0), id(2, 0), id(4, 0)]), 3);
    assert_eq!(s.node_count(), 1, "the emptied node went");
    assert_eq!(s.first_id, id(5, 0));
    assert_eq!(s.max_deleted_id, id(4, 0));
    assert_eq!(s.delete_ids(&[id(8, 0), id(5, 0), id(6, 0), id(7, 0)]), 4);
    assert_eq!((s.len(), s.node_count(), s.first_id), (0, 0, StreamId::MIN));
    assert_eq!(s.max_deleted_id, id(8, 0));
    assert_eq!(s.last_id, id(8, 0), "the last ID stays");
    check(&s);
}

#[test]
fn exact_trims_flag_entries_inside_a_node_approximate_ones_drop_whole_nodes() {
    let lim = NodeLimits {
        max_bytes: 4096,
        max_entries: 10,
    };
    let mut s = filled(35, lim);
    assert_eq!(s.trim(Trim::MaxLen(30), true, 0), 0, "no whole node can go");
    assert_eq!(s.trim(Trim::MaxLen(25), true, 0), 10);
    assert_eq!(s.len(), 25);
    assert_eq!(s.trim(Trim::MaxLen(18), false, 0), 7);
    assert_eq!(s.first_id, id(18, 0));
    assert_eq!(s.node_count(), 3, "the partly trimmed node stays");
    check(&s);
    let mut s = filled(35, lim);
    assert_eq!(
        s.trim(Trim::MaxLen(0), true, 20),
        20,
        "LIMIT in whole nodes"
    );
    assert_eq!(s.trim(Trim::MaxLen(0), true, 5), 0);
    assert_eq!(s.trim(Trim::MaxLen(0), false, 0), 15);
    assert_eq!((s.len(), s.node_count(), s.first_id), (0, 0, StreamId::MIN));
    check(&s);
    let mut s = filled(35, lim);
    assert_eq!(s.trim(Trim::MinId(id(15, 0)), true, 0), 10);
    assert_eq!(s.trim(Trim::MinId(id(15, 0)), false, 0), 4);
    assert_eq!(s.first_id, id(15, 0));
    assert_eq!(s.trim(Trim::MinId(id(15, 0)), false, 0), 0);
    check(&s);
}

#[test]
fn a_node_whose_live_entries_all_go_stays_while_its_last_tombstone_is_needed() {
    // MINID removes a node only when its last entry, deleted or not, is
    // below the threshold; else it flags the live entries below it.
    let lim = NodeLimits {
        max_bytes: 4096,
        max_entries: 4,
    };
    let mut s = filled(6, lim);
    s.delete_ids(&[id(4, 0)]);
    assert_eq!(s.trim(Trim::MinId(id(4, 0)), false, 0), 3);
    assert_eq!(s.node_count(), 2);
    assert_eq!(s.nodes[&id(1, 0)].live(), 0);
    let more = s.add(given(7, 0), 0, &kv(&["f", "7"]), lim);
    assert_eq!(more, Ok(id(7, 0)));
    assert_eq!(
        ids(s.range(StreamId::MIN, StreamId::MAX).map(|e| e.id)),
        ["5-0", "6-0", "7-0"]
    );
    check(&s);
}

#[test]
fn radix_tree_node_counts_follow_redis() {
    assert_eq!(Stream::new().rax_nodes(), 1);
    let one = filled(1, NodeLimits::default());
    assert_eq!(one.rax_nodes(), 2);
    // Checked against Redis 7.0.15 (stream-node-max-entries 1).
    let lim = NodeLimits {
        max_bytes: 4096,
        max_entries: 1,
    };
    assert_eq!(filled(2, lim).rax_nodes(), 6);
    assert_eq!(filled(3, lim).rax_nodes(), 8);
    assert_eq!(filled(300, lim).rax_nodes(), 604);
    let mut s = filled(5, lim);
    s.delete_ids(&[id(2, 0)]);
    assert_eq!(s.rax_nodes(), 10);
}

#[test]
fn lag_and_entries_read_follow_redis_70() {
    let lim = NodeLimits::default();
    let mut s = filled(5, lim);
    assert!(s.create_group(b"g", StreamId::MIN, Some(0)));
    assert!(!s.create_group(b"g", StreamId::MIN, None));
    let lag = |s: &Stream| s.lag(s.group(b"g").unwrap());
    assert_eq!(lag(&s), Some(5));
    s.group_mut(b"g").unwrap().create_consumer(b"c", 1);
    let r = |count| GroupRead {
        group: b"g",
        consumer: b"c",
        count,
        noack: false,
        now: 10,
    };
    let n = s.read_group(&r(2), StreamId::MIN, |_| {});
    assert_eq!(n, 2);
    assert_eq!(s.group(b"g").unwrap().entries_read, Some(2));
    assert_eq!(lag(&s), Some(3));
    // A deletion ahead of the group makes the lag unknown.
    s.delete_ids(&[id(4, 0)]);
    assert_eq!(lag(&s), None);
    s.read_group(&r(0), id(2, 0), |_| {});
    assert_eq!(s.group(b"g").unwrap().last_id, id(5, 0));
    assert_eq!(
        s.group(b"g").unwrap().entries_read,
        Some(5),
        "the last ID's counter is known"
    );
    assert_eq!(lag(&s), Some(0));
    // A group created mid-stream without a counter estimates it.
    let mut t = filled(5, lim);
    t.create_group(b"g", id(3, 0), None);
    assert_eq!(t.lag(t.group(b"g").unwrap()), None);
    t.create_group(b"h", StreamId::MIN, None);
    assert_eq!(t.lag(t.group(b"h").unwrap()), Some(5));
    assert_eq!(t.entries_read_at(id(1, 0)), Some(1));
    assert_eq!(t.entries_read_at(id(5, 0)), Some(5));
    assert_eq!(t.entries_read_at(id(6, 0)), None);
    assert_eq!(Stream::new().entries_read_at(id(9, 9)), Some(0));
}

#[test]
fn group_reads_history_claims_and_autoclaims() {
    let mut s = filled(6, NodeLimits::default());
    s.create_group(b"g", StreamId::MIN, None);
    let g = s.group_mut(b"g").unwrap();
    g.create_consumer(b"alice", 0);
    g.create_consumer(b"bob", 0);
    let mut seen = Vec::new();
    let alice = GroupRead {
        group: b"g",
        consumer: b"alice",
        count: 4,
        noack: false,
        now: 100,
    };
    s.read_group(&alice, StreamId::MIN, |e| seen.push(e.id));
    assert_eq!(ids(seen.into_iter()), ["1-0", "2-0", "3-0", "4-0"]);
    let bob = GroupRead {
        consumer: b"bob",
        count: 0,
        noack: true,
        ..alice
    };
    s.read_group(&bob, id(4, 0), |_| {});
    assert_eq!(
        s.group(b"g").unwrap().pel().len(),
        4,
        "NOACK delivers without pending"
    );
    s.delete_ids(&[id(2, 0)]);
    let mut hist = Vec::new();
    let later = GroupRead {
        count: 2,
        now: 200,
        ..alice
    };
    s.read_history(&later, id(2, 0), |i, e| hist.push((i, e.is_some())));
    assert_eq!(hist, [(id(2, 0), false), (id(3, 0), true)]);
    assert_eq!(s.group(b"g").unwrap().pel()[&id(3, 0)].delivery_count, 2);
    assert_eq!(s.group(b"g").unwrap().pel()[&id(2, 0)].delivery_count, 1);
    let claim = Claim {
        consumer: b"carol",
        min_idle: 150,
        time: 300,
        retry: None,
        justid: false,
        force: false,
        now: 300,
    };
    let mut got = Vec::new();
    let d = s.claim(
        b"g",
        &[id(1, 0), id(3, 0), id(2, 0), id(6, 0)],
        &claim,
        |e| got.push(e.id),
    );
    assert_eq!(
        got,
        [id(1, 0)],
        "3-0 was delivered too recently, 6-0 is not pending"
    );
    assert!(d.created_consumer);
    assert!(
        !s.group(b"g").unwrap().pel().contains_key(&id(2, 0)),
        "a deleted entry leaves the PEL"
    );
    let mut got = Vec::new();
    let d = s.autoclaim(b"g", b"dave", StreamId::MIN, 1, 0, false, 400, |e| {
        got.push(e.id)
    });
    assert_eq!((got, d.next, d.deleted), (vec![id(1, 0)], id(3, 0), vec![]));
    let mut got = Vec::new();
    let d = s.autoclaim(b"g", b"dave", d.next, 10, 0, true, 400, |e| got.push(e.id));
    assert_eq!((got, d.next), (vec![id(3, 0), id(4, 0)], StreamId::MIN));
    assert!(!d.created_consumer);
    let pel = s.group(b"g").unwrap().pel();
    assert_eq!(pel[&id(1, 0)].delivery_count, 3);
    assert_eq!(pel[&id(4, 0)].delivery_count, 1, "JUSTID keeps the count");
    s.delete_ids(&[id(3, 0), id(4, 0)]);
    let d = s.autoclaim(b"g", b"erin", id(2, 0), 1, 0, false, 500, |_| {});
    assert_eq!(d.deleted, [id(3, 0)]);
    assert_eq!(d.next, id(4, 0), "a dropped entry counts against COUNT");
    assert!(!d.created_consumer);
    check(&s);
}
