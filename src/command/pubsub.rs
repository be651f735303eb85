//! Pub/Sub commands: (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PUBLISH, SPUBLISH
//! and PUBSUB. All run on the connection's core against the registry every
//! core shares (`crate::pubsub`); messages reach subscribers through their
//! connection tasks (`server::conn`).

use std::rc::Rc;

use bytes::Bytes;

use super::errors;
use super::table::CommandSpec;
use crate::command::session::Session;
use crate::pubsub::{Kind, Subscription};
use crate::resp::Reply;
use crate::services::Shard;

/// The error for any other command, as Redis words it: under the row's
/// full name (`pubsub|numpat` for a subcommand).
pub fn not_allowed_while_subscribed(spec: &CommandSpec) -> Reply {
    errors::subscribed_context(spec.name)
}

/// PING in RESP2 subscribed mode: `["pong", message or ""]` (a reply,
/// not a push: CLIENT REPLY OFF silences it).
pub fn subscribed_ping(a: &[Bytes]) -> Reply {
    Reply::Array(vec![
        Reply::Bulk(Bytes::from_static(b"pong")),
        Reply::Bulk(a.get(1).cloned().unwrap_or_default()),
    ])
}

pub fn subscribe(sh: &Rc<Shard>, s: &mut Session, a: &[Bytes]) -> Reply {
    subscribe_generic(sh, s, a, Kind::Channel)
}

pub fn psubscribe(sh: &Rc<Shard>, s: &mut Session, a: &[Bytes]) -> Reply {
    subscribe_generic(sh, s, a, Kind::Pattern)
}

pub fn ssubscribe(sh: &Rc<Shard>, s: &mut Session, a: &[Bytes]) -> Reply {
    subscribe_generic(sh, s, a, Kind::Shard)
}

pub fn unsubscribe(sh: &Rc<Shard>, s: &mut Session, a: &[Bytes]) -> Reply {
    unsubscribe_generic(sh, s, a, Kind::Channel)
}

pub fn punsubscribe(sh: &Rc<Shard>, s: &mut Session, a: &[Bytes]) -> Reply {
    unsubscribe_generic(sh, s, a, Kind::Pattern)
}

pub fn sunsubscribe(sh: &Rc<Shard>, s: &mut Session, a: &[Bytes]) -> Reply {
    unsubscribe_generic(sh, s, a, Kind::Shard)
}

fn verb(kind: Kind, sub: bool) -> &'static [u8] {
    match (kind, sub) {
        (Kind::Channel, true) => b"subscribe",
        (Kind::Pattern, true) => b"psubscribe",
        (Kind::Shard, true) => b"ssubscribe",
        (Kind::Channel, false) => b"unsubscribe",
        (Kind::Pattern, false) => b"punsubscribe",
        (Kind::Shard, false) => b"sunsubscribe",
    }
}

/// What a (un)subscribe confirmation counts: shard channels on their own,
/// channels and patterns together.
fn count(sub: &Subscription, kind: Kind) -> i64 {
    match kind {
        Kind::Shard => sub.shard_channels.len() as i64,
        _ => sub.count() as i64,
    }
}

fn confirm(kind: Kind, subscribing: bool, name: Option<Bytes>, n: i64) -> Reply {
    Reply::Push(vec![
        Reply::Bulk(Bytes::from_static(verb(kind, subscribing))),
        name.map_or(Reply::Nil, Reply::Bulk),
        Reply::Int(n),
    ])
}

fn subscribe_generic(sh: &Rc<Shard>, s: &mut Session, a: &[Bytes], kind: Kind) -> Reply {
    let sub = s.feed();
    let mut replies = Vec::with_capacity(a.len() - 1);
    for name in &a[1..] {
        sh.host.shared.pubsub.subscribe(sub, kind, name.clone());
        replies.push(confirm(kind, true, Some(name.clone()), count(sub, kind)));
    }
    s.sync_subscriptions();
    Reply::Many(replies)
}

fn unsubscribe_generic(sh: &Rc<Shard>, s: &mut Session, a: &[Bytes], kind: Kind) -> Reply {
    let Some(sub) = s.sub.as_mut() else {
        if a.len() > 1 {
            return Reply::Many(
                a[1..]
                    .iter()
                    .map(|n| confirm(kind, false, Some(n.clone()), 0))
                    .collect(),
            );
        }
        return confirm(kind, false, None, 0);
    };
    let names: Vec<Bytes> = if a.len() > 1 {
        a[1..].to_vec()
    } else {
        sub.set(kind).iter().cloned().collect()
    };
    if names.is_empty() {
        return confirm(kind, false, None, count(sub, kind));
    }
    let mut replies = Vec::with_capacity(names.len());
    for name in names {
        sh.host.shared.pubsub.unsubscribe(sub, kind, &name);
        replies.push(confirm(kind, false, Some(name), count(sub, kind)));
    }
    s.sync_subscriptions();
    Reply::Many(replies)
}

/// PUBLISH channel message
pub fn publish(sh: &Rc<Shard>, _s: &mut Session, a: &[Bytes]) -> Reply {
    let n = sh
        .host
        .shared
        .pubsub
        .publish(Kind::Channel, &a[1], &a[2], sh.host.pubsub_limit());
    Reply::Int(n as i64)
}

/// SPUBLISH shardchannel message
pub fn spublish(sh: &Rc<Shard>, _s: &mut Session, a: &[Bytes]) -> Reply {
    let n = sh
        .host
        .shared
        .pubsub
        .publish(Kind::Shard, &a[1], &a[2], sh.host.pubsub_limit());
    Reply::Int(n as i64)
}

const HELP: &[&str] = &[
    "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CHANNELS [<pattern>]",
    "    Return the currently active channels matching a <pattern> (default: '*').",
    "NUMPAT",
    "    Return number of subscriptions to patterns.",
    "NUMSUB [<channel> ...]",
    "    Return the number of subscribers for the specified channels, excluding",
    "    pattern subscriptions(default: no channels).",
    "SHARDCHANNELS [<pattern>]",
    "    Return the currently active shard level channels matching a <pattern> (default: '*').",
    "SHARDNUMSUB [<shardchannel> ...]",
    "    Return the number of subscribers for the specified shard level channel(s)",
    "HELP",
    "    Prints this help.",
];

/// PUBSUB CHANNELS | NUMSUB | NUMPAT | SHARDCHANNELS | SHARDNUMSUB | HELP
pub fn pubsub(sh: &Rc<Shard>, _s: &mut Session, a: &[Bytes]) -> Reply {
    let ps = &sh.host.shared.pubsub;
    let sub = String::from_utf8_lossy(&a[1]).to_ascii_lowercase();
    match (sub.as_str(), a.len()) {
        ("help", 2) => Reply::Array(
            HELP.iter()
                .map(|l| Reply::SimpleString(Bytes::from_static(l.as_bytes())))
                .collect(),
        ),
        ("channels" | "shardchannels", 2 | 3) => {
            let kind = if sub == "channels" {
                Kind::Channel
            } else {
                Kind::Shard
            };
            let names = ps.channels(kind, a.get(2).map(|p| &p[..]));
            Reply::Array(names.into_iter().map(Reply::Bulk).collect())
        }
        ("numsub" | "shardnumsub", _) => {
            let kind = if sub == "numsub" {
                Kind::Channel
            } else {
                Kind::Shard
            };
            let mut out = Vec::with_capacity((a.len() - 2) * 2);
            for c in &a[2..] {
                out.push(Reply::Bulk(c.clone()));
                out.push(Reply::Int(ps.numsub(kind, c) as i64));
            }
            Reply::Array(out)
        }
        ("numpat", 2) => Reply::Int(ps.numpat() as i64),
        _ => errors::unknown_subcommand(&a[1], "PUBSUB"),
    }
}
