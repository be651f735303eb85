//! XINFO STREAM [FULL [COUNT n]], XINFO GROUPS, XINFO CONSUMERS, XINFO
//! HELP: read-only views of a stream and its groups, maps in RESP3 and flat
//! arrays in RESP2, fields in Redis 7.0's order.
//!
//! `radix-tree-nodes` is what Redis's radix tree holds for the node keys
//! when built by appends (`Stream::rax_nodes`); after deletions Redis's
//! tree may keep a few more.

use bytes::Bytes;

use super::group::subcommand;
use super::{entry_reply, id_reply, read_stream};
use crate::command::args::{self, eq};
use crate::command::errors;
use crate::command::keys::help_reply;
use crate::keyspace::store::Store;
use crate::keyspace::stream::{Group, Stream, StreamId};
use crate::resp::Reply;

const XINFO_HELP: &[&str] = &[
    "XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CONSUMERS <key> <groupname>",
    "    Show consumers of <groupname>.",
    "GROUPS <key>",
    "    Show the stream consumer groups.",
    "STREAM <key> [FULL [COUNT <count>]",
    "    Show information about the stream.",
    "HELP",
    "    Prints this help.",
];

fn field(name: &'static str, value: Reply) -> (Reply, Reply) {
    (Reply::Bulk(Bytes::from_static(name.as_bytes())), value)
}

/// XINFO STREAM key [FULL [COUNT count]] | GROUPS key | CONSUMERS key
/// group | HELP
pub fn xinfo(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    let subs = [("consumers", 4), ("groups", 3), ("stream", -3), ("help", 2)];
    let sub = tri!(subcommand(a, "xinfo", &subs));
    if sub == "help" {
        return help_reply(XINFO_HELP);
    }
    let key = &a[2];
    let now = st.now as i64;
    let Some(s) = tri!(read_stream(st, db, key)) else {
        return errors::err(errors::NO_SUCH_KEY);
    };
    match sub {
        "consumers" => {
            let Some(g) = s.group(&a[3]) else {
                return errors::no_group_for_key(&a[3], key);
            };
            Reply::Array(
                g.consumers()
                    .map(|(name, c)| {
                        Reply::Map(vec![
                            field("name", Reply::bulk_from(name)),
                            field("pending", Reply::Int(c.pending().len() as i64)),
                            field(
                                "idle",
                                Reply::Int(now.wrapping_sub(c.seen_time as i64).max(0)),
                            ),
                        ])
                    })
                    .collect(),
            )
        }
        "groups" => Reply::Array(
            s.groups()
                .map(|(name, g)| {
                    Reply::Map(vec![
                        field("name", Reply::bulk_from(name)),
                        field("consumers", Reply::Int(g.consumers().len() as i64)),
                        field("pending", Reply::Int(g.pel().len() as i64)),
                        field("last-delivered-id", id_reply(g.last_id)),
                        field(
                            "entries-read",
                            g.entries_read.map_or(Reply::Nil, Reply::Int),
                        ),
                        field("lag", s.lag(g).map_or(Reply::Nil, Reply::Int)),
                    ])
                })
                .collect(),
        ),
        _ => stream_info(s, &a[1], &a[3..]),
    }
}

/// XINFO STREAM's reply for the options after the key (`sub` is the
/// subcommand as typed, for the error).
fn stream_info(s: &Stream, sub: &[u8], opts: &[Bytes]) -> Reply {
    let syntax = || errors::subcommand_syntax(sub, "xinfo");
    let full = match opts.len() {
        0 => None,
        1 | 3 if !eq(&opts[0], "full") => return syntax(),
        1 => Some(10),
        3 if !eq(&opts[1], "count") => return syntax(),
        3 => Some(match tri!(args::int(&opts[2])) {
            n if n < 0 => 10,
            n => n as u64,
        }),
        _ => return syntax(),
    };
    let mut m = vec![
        field("length", Reply::Int(s.len() as i64)),
        field("radix-tree-keys", Reply::Int(s.node_count() as i64)),
        field("radix-tree-nodes", Reply::Int(s.rax_nodes() as i64)),
        field("last-generated-id", id_reply(s.last_id)),
        field("max-deleted-entry-id", id_reply(s.max_deleted_id)),
        field("entries-added", Reply::Int(s.entries_added as i64)),
        field("recorded-first-entry-id", id_reply(s.first_id)),
    ];
    let Some(count) = full else {
        let all = (StreamId::MIN, StreamId::MAX);
        m.push(field("groups", Reply::Int(s.groups().len() as i64)));
        m.push(field(
            "first-entry",
            s.range(all.0, all.1).next().map_or(Reply::Nil, entry_reply),
        ));
        m.push(field(
            "last-entry",
            s.rev_range(all.0, all.1)
                .next()
                .map_or(Reply::Nil, entry_reply),
        ));
        return Reply::Map(m);
    };
    let limit = if count == 0 {
        usize::MAX
    } else {
        count as usize
    };
    m.push(field(
        "entries",
        Reply::Array(
            s.range(StreamId::MIN, StreamId::MAX)
                .take(limit)
                .map(entry_reply)
                .collect(),
        ),
    ));
    m.push(field(
        "groups",
        Reply::Array(
            s.groups()
                .map(|(n, g)| group_full(s, n, g, limit))
                .collect(),
        ),
    ));
    Reply::Map(m)
}

/// One group of XINFO STREAM FULL, its PELs cut at `limit` entries.
fn group_full(s: &Stream, name: &[u8], g: &Group, limit: usize) -> Reply {
    let pending = g
        .pel()
        .iter()
        .take(limit)
        .map(|(id, nack)| {
            Reply::Array(vec![
                id_reply(*id),
                Reply::bulk_from(&nack.consumer),
                Reply::Int(nack.delivery_time as i64),
                Reply::Int(nack.delivery_count as i64),
            ])
        })
        .collect();
    let consumers = g
        .consumers()
        .map(|(cname, c)| {
            let pending = c
                .pending()
                .iter()
                .take(limit)
                .map(|id| {
                    let nack = &g.pel()[id];
                    Reply::Array(vec![
                        id_reply(*id),
                        Reply::Int(nack.delivery_time as i64),
                        Reply::Int(nack.delivery_count as i64),
                    ])
                })
                .collect();
            Reply::Map(vec![
                field("name", Reply::bulk_from(cname)),
                field("seen-time", Reply::Int(c.seen_time as i64)),
                field("pel-count", Reply::Int(c.pending().len() as i64)),
                field("pending", Reply::Array(pending)),
            ])
        })
        .collect();
    Reply::Map(vec![
        field("name", Reply::bulk_from(name)),
        field("last-delivered-id", id_reply(g.last_id)),
        field(
            "entries-read",
            g.entries_read.map_or(Reply::Nil, Reply::Int),
        ),
        field("lag", s.lag(g).map_or(Reply::Nil, Reply::Int)),
        field("pel-count", Reply::Int(g.pel().len() as i64)),
        field("pending", Reply::Array(pending)),
        field("consumers", Reply::Array(consumers)),
    ])
}
