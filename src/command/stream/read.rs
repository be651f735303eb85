//! XREAD and XREADGROUP: reads of one or more streams, each after an ID of
//! its own (`$` the stream's last ID, `>` a group's undelivered entries, any
//! other ID a consumer's pending history).
//!
//! Both are `MayBlock` rows whose keys follow the STREAMS keyword
//! (`command::keyspec::streams_xread`). With every stream on one shard the
//! keyed handler runs there: it resolves and checks every stream first (so
//! an error leaves no trace), then serves them in argument order. Streams
//! on several shards go through `xread_spanning`: one multi-shard
//! operation claiming every stream, checking them all before serving any.
//!
//! A read with BLOCK outside MULTI and scripts runs `blocking::xread`: the
//! same checks and reads holding the streams' claims, and when nothing can
//! be served, the client registers on every stream's shard
//! (`keyspace::blocked`) and is served by the next write that gives it
//! something (`serve_blocked`). Replies: per served stream `[key,
//! entries]`, a map in RESP3; a null array when no stream had anything.

use std::rc::Rc;

use bytes::Bytes;
use futures::future::LocalBoxFuture;

use super::{entry_reply, id_reply, modify_stream, read_stream, strict_id};
use crate::command::args::{self, eq};
use crate::command::errors::{self, err};
use crate::command::on_store;
use crate::command::place::Split;
use crate::command::session::Session;
use crate::keyspace::locks::Claim;
use crate::keyspace::notify;
use crate::keyspace::slot::ShardId;
use crate::keyspace::store::Store;
use crate::keyspace::stream::{GroupRead, StreamId};
use crate::keyspace::value::Value;
use crate::resp::Reply;
use crate::runtime::{Out, Plan};
use crate::services::Shard;

/// Entries a blocked read takes at most when it gave no COUNT (Redis's
/// XREAD_BLOCKED_DEFAULT_COUNT).
pub const BLOCKED_DEFAULT_COUNT: usize = 1000;

/// The options of an XREAD or XREADGROUP.
#[derive(Clone, Debug)]
pub struct ReadArgs {
    /// Most entries per stream; 0 = all.
    pub count: usize,
    /// BLOCK milliseconds (0 = forever); None without BLOCK.
    pub block: Option<u64>,
    /// Position of the first key; the IDs follow the `n` keys.
    pub streams: usize,
    pub n: usize,
    /// XREADGROUP's group and consumer.
    pub group: Option<(Bytes, Bytes)>,
    pub noack: bool,
}

impl ReadArgs {
    pub fn keys<'a>(&self, a: &'a [Bytes]) -> &'a [Bytes] {
        &a[self.streams..self.streams + self.n]
    }

    pub fn ids<'a>(&self, a: &'a [Bytes]) -> &'a [Bytes] {
        &a[self.streams + self.n..]
    }
}

/// Parses the options up to STREAMS in Redis's order and with its errors.
pub fn parse(a: &[Bytes], xreadgroup: bool) -> Result<ReadArgs, Reply> {
    parse_generic(a, xreadgroup, false)
}

/// The checks of XREAD or XREADGROUP called from a script, where BLOCK is
/// an error at its place among the options (Redis's CLIENT_SCRIPT check).
pub fn check_in_script(a: &[Bytes]) -> Result<(), Reply> {
    parse_generic(a, a[0].eq_ignore_ascii_case(b"xreadgroup"), true).map(|_| ())
}

fn parse_generic(a: &[Bytes], xreadgroup: bool, in_script: bool) -> Result<ReadArgs, Reply> {
    let mut r = ReadArgs {
        count: 0,
        block: None,
        streams: 0,
        n: 0,
        group: None,
        noack: false,
    };
    let mut i = 1;
    while i < a.len() {
        let more = a.len() - i - 1;
        let o = &a[i];
        if eq(o, "block") && more > 0 {
            if in_script {
                return Err(errors::block_in_script(&a[0]));
            }
            i += 1;
            let ms = args::int(&a[i]).map_err(|_| err(errors::TIMEOUT_NOT_INTEGER))?;
            if ms < 0 {
                return Err(err(errors::TIMEOUT_NEGATIVE));
            }
            r.block = Some(ms as u64);
        } else if eq(o, "count") && more > 0 {
            i += 1;
            r.count = args::int(&a[i])?.max(0) as usize;
        } else if eq(o, "streams") && more > 0 {
            r.streams = i + 1;
            let rest = a.len() - r.streams;
            if rest % 2 != 0 {
                return Err(err(errors::XREAD_UNBALANCED));
            }
            r.n = rest / 2;
            break;
        } else if eq(o, "group") && more >= 2 {
            if !xreadgroup {
                return Err(err(errors::XREAD_GROUP_OPTION));
            }
            r.group = Some((a[i + 1].clone(), a[i + 2].clone()));
            i += 2;
        } else if eq(o, "noack") {
            if !xreadgroup {
                return Err(err(errors::XREAD_NOACK_OPTION));
            }
            r.noack = true;
        } else {
            return Err(errors::syntax());
        }
        i += 1;
    }
    if r.streams == 0 {
        return Err(errors::syntax());
    }
    if xreadgroup && r.group.is_none() {
        return Err(err(errors::XREADGROUP_MISSING_GROUP));
    }
    Ok(r)
}

/// Checks one stream of a read and resolves its ID to "entries after this
/// one" (`StreamId::MAX` is a group read of new entries, `>`).
pub(crate) fn resolve(
    st: &mut Store,
    db: usize,
    key: &[u8],
    id: &[u8],
    r: &ReadArgs,
) -> Result<StreamId, Reply> {
    let s = read_stream(st, db, key)?;
    if let Some((group, _)) = &r.group {
        if s.is_none_or(|s| s.group(group).is_none()) {
            return Err(errors::no_key_or_group_readgroup(key, group));
        }
    }
    match id {
        b"$" if r.group.is_some() => Err(err(errors::XREADGROUP_DOLLAR)),
        b"$" => Ok(s.map_or(StreamId::MIN, |s| s.last_id)),
        b">" if r.group.is_none() => Err(err(errors::XREAD_GREATER)),
        b">" => Ok(StreamId::MAX),
        _ => strict_id(id),
    }
}

/// Serves one resolved stream of a read: its entries, or None when it has
/// nothing to answer now.
pub(crate) fn serve(
    st: &mut Store,
    db: usize,
    key: &[u8],
    after: StreamId,
    r: &ReadArgs,
) -> Option<Reply> {
    match &r.group {
        Some((group, consumer)) => serve_group(st, db, key, after, group, consumer, r),
        None => {
            let s = read_stream(st, db, key).ok()??;
            let top = s.last_live_id()?;
            if top <= after {
                return None;
            }
            let start = after.next()?;
            let limit = if r.count == 0 { usize::MAX } else { r.count };
            Some(Reply::Array(
                s.range(start, StreamId::MAX)
                    .take(limit)
                    .map(entry_reply)
                    .collect(),
            ))
        }
    }
}

/// A group read of one stream (`after` MAX: new entries; else the
/// consumer's pending entries after `after`), creating the consumer when
/// the read is served.
fn serve_group(
    st: &mut Store,
    db: usize,
    key: &[u8],
    after: StreamId,
    group: &[u8],
    consumer: &[u8],
    r: &ReadArgs,
) -> Option<Reply> {
    let s = read_stream(st, db, key).ok()??;
    let g = s.group(group)?;
    let history = after != StreamId::MAX;
    if !history && s.last_live_id().is_none_or(|top| top <= g.last_id) {
        return None;
    }
    let reader = GroupRead {
        group,
        consumer,
        count: r.count,
        noack: r.noack,
        now: st.now,
    };
    read_as_consumer(st, db, key, &reader, history.then_some(after))
}

/// Reads `key` as `r.consumer` of `r.group`: the consumer's pending
/// entries after `history`, or with None the entries after the group's
/// last ID. Creates the consumer (raising its event) if needed. None when
/// the key or group is gone.
fn read_as_consumer(
    st: &mut Store,
    db: usize,
    key: &[u8],
    r: &GroupRead<'_>,
    history: Option<StreamId>,
) -> Option<Reply> {
    let mut created = false;
    let entries = modify_stream(st, db, key, |s| {
        let g = s.group_mut(r.group)?;
        created = !g.touch(r.consumer, r.now) && g.create_consumer(r.consumer, r.now);
        let mut out = Vec::new();
        match history {
            Some(after) => {
                let start = after.next()?;
                s.read_history(r, start, |id, e| {
                    out.push(match e {
                        Some(e) => entry_reply(e),
                        None => Reply::Array(vec![id_reply(id), Reply::NilArray]),
                    })
                });
            }
            None => {
                let after = s.group(r.group)?.last_id;
                s.read_group(r, after, |e| out.push(entry_reply(e)));
            }
        }
        Some(out)
    })
    .ok()
    .flatten()
    .flatten();
    if created {
        st.notify(notify::STREAM, "xgroup-createconsumer", db, key);
    }
    entries.map(Reply::Array)
}

/// The reply of a read: the served streams, or what a read answers when
/// none was (a null array; BLOCK would wait instead).
pub(crate) fn finish(served: Vec<(Reply, Reply)>) -> Reply {
    if served.is_empty() {
        Reply::NilArray
    } else {
        Reply::NestedMap(served)
    }
}

/// Whether an XREAD or XREADGROUP asks to wait (BLOCK): placement then
/// runs it through `blocking::xread` unless it is in MULTI or a script,
/// where a read with nothing to serve answers a null array at once.
pub fn blocks(a: &[Bytes]) -> bool {
    let streams = a.iter().position(|x| eq(x, "streams")).unwrap_or(a.len());
    a[1..streams].iter().any(|x| eq(x, "block"))
}

/// Shared body of XREAD and XREADGROUP with every stream on this shard.
fn read_generic(st: &mut Store, db: usize, a: &[Bytes], xreadgroup: bool) -> Reply {
    let r = tri!(parse(a, xreadgroup));
    let (keys, ids) = (r.keys(a), r.ids(a));
    let mut afters = Vec::with_capacity(r.n);
    for (key, id) in keys.iter().zip(ids) {
        afters.push(tri!(resolve(st, db, key, id, &r)));
    }
    let served = keys
        .iter()
        .zip(afters)
        .filter_map(|(key, after)| {
            serve(st, db, key, after, &r).map(|entries| (Reply::Bulk(key.clone()), entries))
        })
        .collect();
    finish(served)
}

/// XREAD [COUNT count] [BLOCK milliseconds] STREAMS key [key ...] id
/// [id ...]
pub fn xread(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    read_generic(st, db, a, false)
}

/// XREADGROUP GROUP group consumer [COUNT count] [BLOCK milliseconds]
/// [NOACK] STREAMS key [key ...] id [id ...]
pub fn xreadgroup(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    read_generic(st, db, a, true)
}

/// XREAD or XREADGROUP whose streams live on several shards, as one
/// multi-shard operation claiming every stream: each shard resolves and
/// checks its streams (XREAD serves them in the same step); XREADGROUP
/// serves them in a second step once every stream passed its checks, with
/// all the streams still claimed, so no client sees the groups half
/// updated.
pub fn xread_spanning<'a>(
    sh: &'a Rc<Shard>,
    s: &'a mut Session,
    a: Vec<Bytes>,
    split: Split,
) -> LocalBoxFuture<'a, Reply> {
    Box::pin(async move {
        let xreadgroup = eq(&a[0], "xreadgroup");
        let r = tri!(parse(&a, xreadgroup));
        let db = s.db;
        let keys = r.keys(&a).to_vec();
        let ids = r.ids(&a).to_vec();
        // Per shard, in first-seen order: the indexes of its streams.
        let mut shares: Vec<(ShardId, Vec<usize>)> = Vec::new();
        for (i, key) in keys.iter().enumerate() {
            let shard = split
                .keys
                .get(i)
                .map_or_else(|| sh.slots.shard_of(key), |k| k.1);
            match shares.iter_mut().find(|(s, _)| *s == shard) {
                Some((_, v)) => v.push(i),
                None => shares.push((shard, vec![i])),
            }
        }
        type Checked = Vec<Result<(StreamId, Option<Reply>), Reply>>;
        let mut plan = Plan::new(sh, s.parent);
        let checks: Vec<Out<Checked>> = shares
            .iter()
            .map(|(shard, idxs)| {
                let mine: Vec<(Bytes, Bytes)> = idxs
                    .iter()
                    .map(|&i| (keys[i].clone(), ids[i].clone()))
                    .collect();
                let claim = Claim::Keys(mine.iter().map(|(k, _)| k.clone()).collect());
                let r = r.clone();
                plan.part(
                    *shard,
                    claim,
                    on_store(db, move |st, db| {
                        mine.iter()
                            .map(|(k, id)| {
                                let after = resolve(st, db, k, id, &r)?;
                                let served = match r.group {
                                    Some(_) => None,
                                    None => serve(st, db, k, after, &r),
                                };
                                Ok((after, served))
                            })
                            .collect()
                    }),
                )
            })
            .collect();
        let mut txn = plan.hold().await;
        let mut checked: Vec<Option<(StreamId, Option<Reply>)>> = vec![None; keys.len()];
        let mut failed = None;
        for ((_, idxs), out) in shares.iter().zip(checks) {
            for (&i, c) in idxs.iter().zip(out.take()) {
                match c {
                    Ok(c) => checked[i] = Some(c),
                    Err(e) => failed = failed.or(Some(e)),
                }
            }
        }
        if let Some(e) = failed {
            txn.release();
            return e;
        }
        let checked: Vec<(StreamId, Option<Reply>)> = checked.into_iter().flatten().collect();
        let served: Vec<Option<Reply>> = if r.group.is_none() {
            txn.release();
            checked.into_iter().map(|(_, served)| served).collect()
        } else {
            let outs: Vec<Out<Vec<Option<Reply>>>> = shares
                .iter()
                .map(|(shard, idxs)| {
                    let mine: Vec<(Bytes, StreamId)> = idxs
                        .iter()
                        .map(|&i| (keys[i].clone(), checked[i].0))
                        .collect();
                    let r = r.clone();
                    txn.step(
                        *shard,
                        on_store(db, move |st, db| {
                            mine.iter()
                                .map(|(k, after)| serve(st, db, k, *after, &r))
                                .collect()
                        }),
                    )
                })
                .collect();
            txn.end().await;
            let mut served: Vec<Option<Reply>> = vec![None; keys.len()];
            for ((_, idxs), out) in shares.iter().zip(outs) {
                for (&i, v) in idxs.iter().zip(out.take()) {
                    served[i] = v;
                }
            }
            served
        };
        let served = keys
            .into_iter()
            .zip(served)
            .filter_map(|(key, entries)| entries.map(|e| (Reply::Bulk(key), e)))
            .collect();
        finish(served)
    })
}

/// What a client blocked in XREAD or XREADGROUP waits for on one stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamWait {
    /// XREAD: entries after this ID (`$` resolved when the client
    /// blocked). Group reads always wait for the group's new entries.
    pub after: StreamId,
    /// XREADGROUP's group and consumer.
    pub group: Option<(Bytes, Bytes)>,
    pub noack: bool,
    /// The read's COUNT, or [`BLOCKED_DEFAULT_COUNT`] when it gave none.
    pub count: usize,
}

/// What a blocked reader of `key` should do now.
enum Wake {
    Wait,
    Fail(&'static str),
    /// Read the entries after this ID (a group read: the group's last ID).
    Read(StreamId),
}

fn wake(st: &mut Store, db: usize, key: &[u8], w: &StreamWait) -> Wake {
    let Some(Value::Stream(s)) = st.lookup(db, key).map(|e| &e.value) else {
        // Only group readers give up when their stream goes.
        return match w.group {
            Some(_) => Wake::Fail(errors::XREADGROUP_KEY_GONE),
            None => Wake::Wait,
        };
    };
    let after = match &w.group {
        Some((group, _)) => match s.group(group) {
            Some(g) => g.last_id,
            None => return Wake::Fail(errors::XREADGROUP_GROUP_GONE),
        },
        None => w.after,
    };
    // Redis compares the stream's last ID, not its last live entry: a
    // reader woken past deleted entries gets an empty list.
    if s.last_id > after {
        Wake::Read(after)
    } else {
        Wake::Wait
    }
}

/// Whether [`serve_blocked`] would answer the reader now; no side effects,
/// so a shard can decide before it claims the reader.
pub fn blocked_ready(st: &mut Store, db: usize, key: &[u8], w: &StreamWait) -> bool {
    !matches!(wake(st, db, key, w), Wake::Wait)
}

/// Serves a client blocked on stream `key` after a write signalled it
/// (Redis's `serveClientsBlockedOnStreamKey` and
/// `unblockDeletedStreamReadgroupClients`). None: the client stays
/// blocked. Some(reply): the whole reply to send it — `[[key, entries]]`
/// (a one-key map in RESP3), entries possibly empty when the stream's last
/// ID moved past the wait without live entries (as Redis), or an error: a
/// group reader whose key is gone or no longer a stream gets UNBLOCKED,
/// one whose group was destroyed NOGROUP. A group read creates the
/// consumer if needed and makes the entries pending, as any group read.
/// A timed-out reader gets `Reply::NilArray`.
pub fn serve_blocked(st: &mut Store, db: usize, key: &Bytes, w: &StreamWait) -> Option<Reply> {
    let after = match wake(st, db, key, w) {
        Wake::Wait => return None,
        Wake::Fail(text) => return Some(err(text)),
        Wake::Read(after) => after,
    };
    let entries = match &w.group {
        Some((group, consumer)) => {
            let reader = GroupRead {
                group,
                consumer,
                count: w.count,
                noack: w.noack,
                now: st.now,
            };
            read_as_consumer(st, db, key, &reader, None)?
        }
        None => {
            let Some(Value::Stream(s)) = st.lookup(db, key).map(|e| &e.value) else {
                return None;
            };
            let start = after.next()?;
            Reply::Array(
                s.range(start, StreamId::MAX)
                    .take(w.count)
                    .map(entry_reply)
                    .collect(),
            )
        }
    };
    Some(Reply::NestedMap(vec![(Reply::Bulk(key.clone()), entries)]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::test_args as args;

    fn run(st: &mut Store, f: fn(&mut Store, usize, &[Bytes]) -> Reply, v: &[&str]) -> Reply {
        f(st, 0, &args(v))
    }

    #[test]
    fn parse_follows_redis_order_and_errors() {
        let p = |v: &[&str], g| parse(&args(v), g).err();
        assert_eq!(
            p(&["xread", "streams", "a", "b", "0"], false),
            Some(err(errors::XREAD_UNBALANCED))
        );
        assert_eq!(
            p(&["xread", "group", "g", "c", "streams", "a", "0"], false),
            Some(err(errors::XREAD_GROUP_OPTION))
        );
        assert_eq!(
            p(&["xread", "noack", "streams", "a", "0"], false),
            Some(err(errors::XREAD_NOACK_OPTION))
        );
        assert_eq!(
            p(&["xreadgroup", "streams", "a", "0"], true),
            Some(err(errors::XREADGROUP_MISSING_GROUP))
        );
        assert_eq!(
            p(&["xread", "count", "x", "streams", "a", "0"], false),
            Some(errors::not_integer())
        );
        assert_eq!(
            p(&["xread", "block", "x", "streams", "a", "0"], false),
            Some(err(errors::TIMEOUT_NOT_INTEGER))
        );
        assert_eq!(
            p(&["xread", "block", "-1", "streams", "a", "0"], false),
            Some(err(errors::TIMEOUT_NEGATIVE))
        );
        assert_eq!(
            p(&["xread", "count", "1", "a", "0"], false),
            Some(errors::syntax())
        );
        let r = parse(
            &args(&[
                "xread", "COUNT", "-5", "BLOCK", "0", "STREAMS", "a", "b", "1", "2",
            ]),
            false,
        )
        .unwrap();
        assert_eq!((r.count, r.block, r.streams, r.n), (0, Some(0), 6, 2));
    }

    #[test]
    fn blocked_readers_are_served_as_redis_serves_them() {
        let mut st = Store::new(1);
        let key = Bytes::from_static(b"s");
        let xread_wait = StreamWait {
            after: StreamId::new(1, 0),
            group: None,
            noack: false,
            count: 1000,
        };
        assert_eq!(
            serve_blocked(&mut st, 0, &key, &xread_wait),
            None,
            "no key: keep waiting"
        );
        run(&mut st, super::super::xadd, &["xadd", "s", "1-0", "f", "v"]);
        assert_eq!(serve_blocked(&mut st, 0, &key, &xread_wait), None);
        run(&mut st, super::super::xadd, &["xadd", "s", "2-0", "f", "w"]);
        assert!(blocked_ready(&mut st, 0, &key, &xread_wait));
        let reply = serve_blocked(&mut st, 0, &key, &xread_wait).unwrap();
        let Reply::NestedMap(m) = reply else {
            panic!("{reply:?}")
        };
        assert_eq!(m[0].0, Reply::bulk_from(b"s"));
        assert_eq!(
            m[0].1,
            Reply::Array(vec![Reply::Array(vec![
                Reply::bulk_from(b"2-0"),
                Reply::Array(vec![Reply::bulk_from(b"f"), Reply::bulk_from(b"w")]),
            ])])
        );
        let group_wait = StreamWait {
            after: StreamId::MAX,
            group: Some((Bytes::from_static(b"g"), Bytes::from_static(b"c"))),
            noack: false,
            count: 1,
        };
        assert_eq!(
            serve_blocked(&mut st, 0, &key, &group_wait),
            Some(err(errors::XREADGROUP_GROUP_GONE))
        );
        run(
            &mut st,
            super::super::group::xgroup,
            &["xgroup", "create", "s", "g", "$"],
        );
        assert_eq!(serve_blocked(&mut st, 0, &key, &group_wait), None);
        run(&mut st, super::super::xadd, &["xadd", "s", "3-0", "f", "x"]);
        run(&mut st, super::super::xadd, &["xadd", "s", "4-0", "f", "y"]);
        let Some(Reply::NestedMap(m)) = serve_blocked(&mut st, 0, &key, &group_wait) else {
            panic!()
        };
        assert_eq!(
            m[0].1,
            Reply::Array(vec![Reply::Array(vec![
                Reply::bulk_from(b"3-0"),
                Reply::Array(vec![Reply::bulk_from(b"f"), Reply::bulk_from(b"x")]),
            ])]),
            "COUNT applies; the consumer was created and got it pending"
        );
        let pending = run(
            &mut st,
            super::super::group::xpending,
            &["xpending", "s", "g"],
        );
        assert_eq!(
            pending,
            Reply::Array(vec![
                Reply::Int(1),
                Reply::bulk_from(b"3-0"),
                Reply::bulk_from(b"3-0"),
                Reply::Array(vec![Reply::Array(vec![
                    Reply::bulk_from(b"c"),
                    Reply::bulk_from(b"1")
                ])]),
            ])
        );
        st.remove(0, b"s");
        assert_eq!(
            serve_blocked(&mut st, 0, &key, &group_wait),
            Some(err(errors::XREADGROUP_KEY_GONE))
        );
        assert_eq!(serve_blocked(&mut st, 0, &key, &xread_wait), None);
    }
}
