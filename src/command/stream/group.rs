//! Consumer-group commands: XGROUP (CREATE SETID DESTROY CREATECONSUMER
//! DELCONSUMER HELP), XACK, XPENDING, XCLAIM, XAUTOCLAIM.
//!
//! Single-key keyed handlers on the stream's owning shard; the group state
//! and its rules live in `keyspace::stream`. XGROUP is one table row whose
//! handler checks each subcommand's arity as Redis's command table does
//! (`xgroup|create` …), then runs Redis 7.0's `xgroupCommand` checks in
//! its order: options, key, group, subcommand.

use bytes::Bytes;

use super::{
    end_bound, entry_reply, id_reply, modify_stream, probe_stream, read_stream, signal_blocked,
    start_bound, strict_id,
};
use crate::command::args::{self, eq};
use crate::command::errors::{self, err};
use crate::command::keys::help_reply;
use crate::keyspace::notify;
use crate::keyspace::store::Store;
use crate::keyspace::stream::{parse_id, Claim, IdSyntax, Stream, StreamId};
use crate::keyspace::value::Value;
use crate::resp::Reply;

const XGROUP_HELP: &[&str] = &[
    "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CREATE <key> <groupname> <id|$> [option]",
    "    Create a new consumer group. Options are:",
    "    * MKSTREAM",
    "      Create the empty stream if it does not exist.",
    "    * ENTRIESREAD entries_read",
    "      Set the group's entries_read counter (internal use).",
    "CREATECONSUMER <key> <groupname> <consumer>",
    "    Create a new consumer in the specified group.",
    "DELCONSUMER <key> <groupname> <consumer>",
    "    Remove the specified consumer.",
    "DESTROY <key> <groupname>",
    "    Remove the specified group.",
    "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
    "    Set the current group ID and entries_read counter.",
    "HELP",
    "    Prints this help.",
];

/// Subcommands of a container row with their Redis arities, for the
/// arity and unknown-subcommand errors Redis's command table gives.
pub(crate) fn subcommand<'a>(
    a: &[Bytes],
    container: &str,
    subs: &[(&'a str, i32)],
) -> Result<&'a str, Reply> {
    let Some(&(name, arity)) = subs.iter().find(|(n, _)| eq(&a[1], n)) else {
        return Err(errors::unknown_subcommand(&a[1], container));
    };
    let ok = if arity >= 0 {
        a.len() == arity as usize
    } else {
        a.len() >= arity.unsigned_abs() as usize
    };
    if !ok {
        return Err(errors::arity(&format!("{container}|{name}")));
    }
    Ok(name)
}

/// XGROUP CREATE key group id|$ [MKSTREAM] [ENTRIESREAD n] | SETID key
/// group id|$ [ENTRIESREAD n] | DESTROY key group | CREATECONSUMER key
/// group consumer | DELCONSUMER key group consumer | HELP
pub fn xgroup(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    let subs = [
        ("create", -5),
        ("setid", -5),
        ("destroy", 4),
        ("createconsumer", 5),
        ("delconsumer", 5),
        ("help", 2),
    ];
    let sub = tri!(subcommand(a, "xgroup", &subs));
    if sub == "help" {
        return help_reply(XGROUP_HELP);
    }
    let syntax = || errors::subcommand_syntax(&a[1], "xgroup");
    let mut mkstream = false;
    let mut entries_read: Option<i64> = None;
    let mut i = 5;
    while i < a.len() {
        if sub == "create" && eq(&a[i], "mkstream") {
            mkstream = true;
            i += 1;
        } else if matches!(sub, "create" | "setid") && eq(&a[i], "entriesread") && i + 1 < a.len() {
            let n = tri!(args::int(&a[i + 1]));
            if n < -1 {
                return err(errors::ENTRIESREAD_RANGE);
            }
            entries_read = (n >= 0).then_some(n);
            i += 2;
        } else {
            return syntax();
        }
    }
    let (key, group) = (&a[2], &a[3]);
    let exists = tri!(probe_stream(st, db, key));
    if !mkstream {
        if !exists {
            return err(errors::XGROUP_NO_KEY);
        }
        if matches!(sub, "setid" | "createconsumer" | "delconsumer") {
            let has_group = tri!(modify_stream(st, db, key, |s| s.group(group).is_some()));
            if has_group != Some(true) {
                return errors::no_group_for_key(group, key);
            }
        }
    }
    let now = st.now;
    let (reply, event) = match sub {
        "create" if a.len() <= 8 => {
            let id = match &a[4][..] {
                b"$" => None,
                arg => Some(tri!(strict_id(arg))),
            };
            if !exists {
                st.insert(db, key, Value::Stream(Box::new(Stream::new())), 0);
            }
            let created = tri!(modify_stream(st, db, key, |s| {
                let id = id.unwrap_or(s.last_id);
                s.create_group(group, id, entries_read)
            }));
            match created {
                Some(true) => (Reply::Ok, Some("xgroup-create")),
                _ => (err(errors::BUSYGROUP), None),
            }
        }
        "setid" if a.len() == 5 || a.len() == 7 => {
            let id = match &a[4][..] {
                b"$" => None,
                arg => Some(tri!(parse_id(arg, IdSyntax::bound(0))
                    .map(|p| p.id)
                    .ok_or_else(|| err(errors::INVALID_STREAM_ID)))),
            };
            tri!(modify_stream(st, db, key, |s| {
                let id = id.unwrap_or(s.last_id);
                if let Some(g) = s.group_mut(group) {
                    g.last_id = id;
                    g.entries_read = entries_read;
                }
            }));
            (Reply::Ok, Some("xgroup-setid"))
        }
        "destroy" if a.len() == 4 => {
            let gone = tri!(modify_stream(st, db, key, |s| s.destroy_group(group)));
            if gone == Some(true) {
                // Readers blocked on the group must learn it is gone.
                signal_blocked(st, db, key);
                (Reply::Int(1), Some("xgroup-destroy"))
            } else {
                (Reply::Int(0), None)
            }
        }
        "createconsumer" if a.len() == 5 => {
            let created = tri!(modify_stream(st, db, key, |s| {
                s.group_mut(group)
                    .is_some_and(|g| g.create_consumer(&a[4], now))
            }));
            match created {
                Some(true) => (Reply::Int(1), Some("xgroup-createconsumer")),
                _ => (Reply::Int(0), None),
            }
        }
        "delconsumer" if a.len() == 5 => {
            let pending = tri!(modify_stream(st, db, key, |s| {
                s.group_mut(group).and_then(|g| g.delete_consumer(&a[4]))
            }));
            match pending.flatten() {
                Some(n) => (Reply::Int(n as i64), Some("xgroup-delconsumer")),
                None => (Reply::Int(0), None),
            }
        }
        _ => return syntax(),
    };
    if let Some(event) = event {
        st.notify(notify::STREAM, event, db, key);
    }
    reply
}

/// XACK key group id [id ...]: a missing key or group acknowledges
/// nothing, before the IDs are even parsed.
pub fn xack(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    let (key, group) = (&a[1], &a[2]);
    let has_group = tri!(read_stream(st, db, key)).is_some_and(|s| s.group(group).is_some());
    if !has_group {
        return Reply::Int(0);
    }
    let ids: Vec<StreamId> = tri!(a[3..].iter().map(|i| strict_id(i)).collect());
    let acked = tri!(modify_stream(st, db, key, |s| {
        s.group_mut(group)
            .map_or(0, |g| ids.iter().filter(|&&id| g.ack(id)).count())
    }));
    Reply::Int(acked.unwrap_or(0) as i64)
}

/// XPENDING key group [[IDLE min-idle-time] start end count [consumer]]
///
/// The summary form answers `[count, first, last, [[consumer, count] …]]`
/// (the counts of consumers as bulk strings, as Redis); the extended form
/// `[[id, consumer, idle ms, deliveries] …]`.
pub fn xpending(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    if a.len() != 3 && !(6..=9).contains(&a.len()) {
        return errors::syntax();
    }
    let mut min_idle: i64 = 0;
    let mut range = None;
    if a.len() >= 6 {
        let mut at = 3;
        if eq(&a[3], "idle") {
            min_idle = tri!(args::int(&a[4]));
            if a.len() < 8 {
                return errors::syntax();
            }
            at += 2;
        }
        let count = tri!(args::int(&a[at + 2])).max(0) as u64;
        let start = tri!(start_bound(&a[at]));
        let end = tri!(end_bound(&a[at + 1]));
        range = Some((start, end, count, a.get(at + 3)));
    }
    let (key, group) = (&a[1], &a[2]);
    let now = st.now as i64;
    let s = tri!(read_stream(st, db, key));
    let Some(g) = s.and_then(|s| s.group(group)) else {
        return errors::no_key_or_group(key, group);
    };
    let Some((start, end, mut count, consumer)) = range else {
        let pel = g.pel();
        let (Some((first, _)), Some((last, _))) = (pel.first_key_value(), pel.last_key_value())
        else {
            return Reply::Array(vec![Reply::Int(0), Reply::Nil, Reply::Nil, Reply::NilArray]);
        };
        let owners = g
            .consumers()
            .filter(|(_, c)| !c.pending().is_empty())
            .map(|(name, c)| {
                let n = itoa::Buffer::new()
                    .format(c.pending().len())
                    .as_bytes()
                    .to_vec();
                Reply::Array(vec![Reply::bulk_from(name), Reply::Bulk(Bytes::from(n))])
            })
            .collect();
        return Reply::Array(vec![
            Reply::Int(pel.len() as i64),
            id_reply(*first),
            id_reply(*last),
            Reply::Array(owners),
        ]);
    };
    let ids: Vec<StreamId> = match consumer {
        Some(name) => match g.consumer(name) {
            Some(c) => c.pending().range(start..).copied().collect(),
            None => return Reply::Array(Vec::new()),
        },
        None => g.pel().range(start..).map(|(id, _)| *id).collect(),
    };
    let mut out = Vec::new();
    for id in ids {
        if count == 0 || id > end {
            break;
        }
        let nack = &g.pel()[&id];
        let idle = now.wrapping_sub(nack.delivery_time as i64);
        if min_idle != 0 && idle < min_idle {
            continue;
        }
        count -= 1;
        out.push(Reply::Array(vec![
            id_reply(id),
            Reply::bulk_from(&nack.consumer),
            Reply::Int(idle.max(0)),
            Reply::Int(nack.delivery_count as i64),
        ]));
    }
    Reply::Array(out)
}

/// Looks up `key` and `group` for XCLAIM and XAUTOCLAIM: WRONGTYPE, or
/// NOGROUP when either is missing.
fn require_group(st: &mut Store, db: usize, key: &[u8], group: &[u8]) -> Result<(), Reply> {
    match read_stream(st, db, key)? {
        Some(s) if s.group(group).is_some() => Ok(()),
        _ => Err(errors::no_key_or_group(key, group)),
    }
}

/// An integer option of XCLAIM or XAUTOCLAIM with its own error text.
fn int_or(arg: &[u8], text: &'static str) -> Result<i64, Reply> {
    args::int(arg).map_err(|_| err(text))
}

/// XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms]
/// [TIME unix-time-milliseconds] [RETRYCOUNT count] [FORCE] [JUSTID]
/// [LASTID lastid]
pub fn xclaim(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    let (key, group, consumer) = (&a[1], &a[2], &a[3]);
    tri!(require_group(st, db, key, group));
    let min_idle = tri!(int_or(&a[4], errors::XCLAIM_MIN_IDLE)).max(0) as u64;
    // IDs run until the first argument that is not one; options follow.
    let mut ids = Vec::new();
    let mut j = 5;
    while let Some(id) = a.get(j).and_then(|arg| parse_id(arg, IdSyntax::STRICT)) {
        ids.push(id.id);
        j += 1;
    }
    let now = st.now as i64;
    let (mut force, mut justid) = (false, false);
    let mut time: Option<i64> = None;
    let mut retry: Option<u64> = None;
    let mut last_id = StreamId::MIN;
    while j < a.len() {
        let more = a.len() - 1 - j;
        let opt = &a[j];
        if eq(opt, "force") {
            force = true;
        } else if eq(opt, "justid") {
            justid = true;
        } else if eq(opt, "idle") && more > 0 {
            j += 1;
            time = Some(now.wrapping_sub(tri!(int_or(&a[j], errors::XCLAIM_IDLE))));
        } else if eq(opt, "time") && more > 0 {
            j += 1;
            time = Some(tri!(int_or(&a[j], errors::XCLAIM_TIME)));
        } else if eq(opt, "retrycount") && more > 0 {
            j += 1;
            // A negative count is as good as none (Redis's -1 sentinel).
            retry = u64::try_from(tri!(int_or(&a[j], errors::XCLAIM_RETRYCOUNT))).ok();
        } else if eq(opt, "lastid") && more > 0 {
            j += 1;
            last_id = tri!(strict_id(&a[j]));
        } else {
            return errors::xclaim_unknown_option(opt);
        }
        j += 1;
    }
    // A bogus delivery time (negative, or in the future) is now.
    let time = time.filter(|t| (0..=now).contains(t)).unwrap_or(now) as u64;
    let c = Claim {
        consumer,
        min_idle,
        time,
        retry,
        justid,
        force,
        now: now as u64,
    };
    let mut out = Vec::new();
    let done = tri!(modify_stream(st, db, key, |s| {
        if let Some(g) = s.group_mut(group) {
            g.last_id = g.last_id.max(last_id);
        }
        s.claim(group, &ids, &c, |e| {
            out.push(if justid {
                id_reply(e.id)
            } else {
                entry_reply(e)
            })
        })
    }));
    if done.is_some_and(|d| d.created_consumer) {
        st.notify(notify::STREAM, "xgroup-createconsumer", db, key);
    }
    Reply::Array(out)
}

/// Largest XAUTOCLAIM COUNT (Redis: LONG_MAX / 16).
const AUTOCLAIM_MAX_COUNT: i64 = i64::MAX / 16;

/// XAUTOCLAIM key group consumer min-idle-time start [COUNT count]
/// [JUSTID]: `[next-start, claimed, deleted-ids]`.
pub fn xautoclaim(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    let (key, group, consumer) = (&a[1], &a[2], &a[3]);
    let min_idle = tri!(int_or(&a[4], errors::XAUTOCLAIM_MIN_IDLE)).max(0) as u64;
    let start = tri!(start_bound(&a[5]));
    let mut count: i64 = 100;
    let mut justid = false;
    let mut j = 6;
    while j < a.len() {
        let more = a.len() - 1 - j;
        if eq(&a[j], "count") && more > 0 {
            count = match args::int(&a[j + 1]) {
                Ok(n) if (1..=AUTOCLAIM_MAX_COUNT).contains(&n) => n,
                _ => return err(errors::XAUTOCLAIM_COUNT),
            };
            j += 1;
        } else if eq(&a[j], "justid") {
            justid = true;
        } else {
            return errors::syntax();
        }
        j += 1;
    }
    tri!(require_group(st, db, key, group));
    let now = st.now;
    let mut out = Vec::new();
    let done = tri!(modify_stream(st, db, key, |s| {
        s.autoclaim(
            group,
            consumer,
            start,
            count as u64,
            min_idle,
            justid,
            now,
            |e| {
                out.push(if justid {
                    id_reply(e.id)
                } else {
                    entry_reply(e)
                })
            },
        )
    }))
    .unwrap_or_default();
    if done.created_consumer {
        st.notify(notify::STREAM, "xgroup-createconsumer", db, key);
    }
    Reply::Array(vec![
        id_reply(done.next),
        Reply::Array(out),
        Reply::Array(done.deleted.into_iter().map(id_reply).collect()),
    ])
}
