//! Client-side caching (Redis 7.0's CLIENT TRACKING): CLIENT TRACKING,
//! CACHING, GETREDIR and TRACKINGINFO, and the delivery of invalidation
//! messages to the connections that asked for them.
//!
//! ```text
//!  core A: GET k (tracked) ──► owning shard S remembers k → (client, A)
//!  core B: SET k v ─────────► shard S: Store::notify(k) → notice for client
//!  shard S, after the command: one-way operation to core A ──► deliver:
//!     client gone / tracking off / NOLOOP own write → nothing
//!     REDIRECT r → r's core (tracking-redir-broken if r is gone)
//!     the receiving connection's queue: `>invalidate [k]` (RESP3) or
//!     `message __redis__:invalidate [k]` (RESP2 subscriber of a redirect)
//! ```
//!
//! Tracked keys live on the shard that owns them (`keyspace::tracking`),
//! so a read on one core and a write on another still meet. A connection's
//! mode lives in its `Session` and, for the cores delivering to it, in its
//! `ClientInfo`. BCAST prefixes are registered on every shard. FLUSHDB and
//! FLUSHALL clear every table and send each tracking client one null.

use std::rc::Rc;

use bytes::Bytes;
use futures::future::LocalBoxFuture;

use super::args::{self, eq};
use super::errors::{self, err};
use super::session::Session;
use crate::clients::ClientInfo;
use crate::keyspace::slot::ShardId;
use crate::keyspace::tracking::{Caller, Notice};
use crate::pubsub::Message;
use crate::resp::Reply;
use crate::services::Shard;

/// The channel invalidations go to for a RESP2 connection redirected to.
const CHANNEL: &[u8] = b"__redis__:invalidate";

/// A connection's CLIENT TRACKING mode.
#[derive(Clone, Debug, Default)]
pub struct Tracking {
    /// The client invalidations go to instead (0: this one), and its core.
    pub redirect: u64,
    pub redirect_core: u16,
    pub bcast: bool,
    pub optin: bool,
    pub optout: bool,
    pub noloop: bool,
    /// BCAST prefixes, sorted.
    pub prefixes: Vec<Bytes>,
    /// The redirect target went away (flag `R`, `broken_redirect`).
    pub broken: bool,
}

impl Session {
    /// The tracking part of the caller of a command of row `spec`: its
    /// keys are remembered for this client when it reads them in tracking
    /// mode (not BCAST), as CLIENT CACHING and OPTIN/OPTOUT allow.
    pub fn caller(&self, spec: &super::table::CommandSpec) -> Caller {
        use super::table::flags;
        let track = self.tracking.as_ref().is_some_and(|t| {
            !t.bcast && (!t.optin || self.caching) && (!t.optout || !self.caching)
        }) && spec.has(flags::READONLY)
            && !spec.has(flags::PUBSUB);
        Caller {
            client: self.id,
            core: self.core,
            track,
        }
    }
}

/// CLIENT TRACKING ON|OFF [REDIRECT id] [PREFIX prefix ...] [BCAST]
/// [OPTIN] [OPTOUT] [NOLOOP]
pub fn client_tracking<'a>(
    sh: &'a Rc<Shard>,
    s: &'a mut Session,
    a: Vec<Bytes>,
) -> LocalBoxFuture<'a, Reply> {
    Box::pin(async move {
        let mut new = Tracking::default();
        let mut j = 3;
        while j < a.len() {
            let more = j + 1 < a.len();
            if eq(&a[j], "redirect") && more {
                j += 1;
                if new.redirect != 0 {
                    return err(errors::TRACKING_ONE_REDIRECT);
                }
                let id = tri!(args::int(&a[j]));
                match find_client(sh, s, id).await {
                    Some(core) => {
                        new.redirect = id as u64;
                        new.redirect_core = core.0 as u16;
                    }
                    None => return err(errors::TRACKING_NO_REDIRECT_CLIENT),
                }
            } else if eq(&a[j], "bcast") {
                new.bcast = true;
            } else if eq(&a[j], "optin") {
                new.optin = true;
            } else if eq(&a[j], "optout") {
                new.optout = true;
            } else if eq(&a[j], "noloop") {
                new.noloop = true;
            } else if eq(&a[j], "prefix") && more {
                j += 1;
                new.prefixes.push(a[j].clone());
            } else {
                return errors::syntax();
            }
            j += 1;
        }
        if eq(&a[2], "off") {
            disable(sh, s);
            return Reply::Ok;
        }
        if !eq(&a[2], "on") {
            return errors::syntax();
        }
        if let Some(e) = check(s.tracking.as_ref(), &new) {
            return e;
        }
        if new.bcast {
            let mut all = s
                .tracking
                .as_ref()
                .map_or_else(Vec::new, |t| t.prefixes.clone());
            if new.prefixes.is_empty() && !all.iter().any(|p| p.is_empty()) {
                new.prefixes.push(Bytes::new());
            }
            for p in &new.prefixes {
                if !all.contains(p) {
                    all.push(p.clone());
                }
            }
            let (client, core) = (s.id, sh.id.0 as u16);
            let add = new.prefixes.clone();
            sh.on_every_shard(s.parent, move |shard: &Shard| {
                let mut st = shard.store.borrow_mut();
                for p in &add {
                    st.tracking.add_prefix(p.clone(), client, core);
                }
            })
            .await;
            // Kept sorted, as Redis's prefix tree lists them.
            all.sort();
            new.prefixes = all;
        }
        s.core = sh.id.0 as u16;
        // Pushes need the connection's message queue, idle or not.
        let feed = s.feed().sender();
        let mut info = s.info.borrow_mut();
        info.feed = Some(feed);
        info.tracking = Some(new.clone());
        s.tracking = Some(new);
        Reply::Ok
    })
}

/// Redis 7.0's checks of CLIENT TRACKING ON's options against each other
/// and against the mode already on, in its order.
fn check(old: Option<&Tracking>, new: &Tracking) -> Option<Reply> {
    if !new.bcast && !new.prefixes.is_empty() {
        return Some(err(errors::TRACKING_PREFIX_NEEDS_BCAST));
    }
    if old.is_some_and(|o| o.bcast != new.bcast) {
        return Some(err(errors::TRACKING_BCAST_SWITCH));
    }
    if new.bcast && (new.optin || new.optout) {
        return Some(err(errors::TRACKING_OPT_BCAST));
    }
    if new.optin && new.optout {
        return Some(err(errors::TRACKING_OPTIN_OPTOUT));
    }
    if old.is_some_and(|o| (new.optin && o.optout) || (new.optout && o.optin)) {
        return Some(err(errors::TRACKING_OPT_SWITCH));
    }
    if new.bcast {
        let existing = old.map_or(&[][..], |o| &o.prefixes[..]);
        for (i, p) in new.prefixes.iter().enumerate() {
            if let Some(e) = existing.iter().find(|e| overlap(e, p)) {
                return Some(errors::tracking_prefix_overlap(p, e, true));
            }
            if let Some(q) = new.prefixes[i + 1..].iter().find(|q| overlap(p, q)) {
                return Some(errors::tracking_prefix_overlap(p, q, false));
            }
        }
    }
    None
}

/// Two prefixes would both match some key.
fn overlap(a: &[u8], b: &[u8]) -> bool {
    let n = a.len().min(b.len());
    a[..n] == b[..n]
}

/// Turns tracking off for `s` (CLIENT TRACKING OFF, RESET, disconnect):
/// its BCAST prefixes leave every shard (one-way messages, ahead of any
/// later operation of this connection on those shards); table entries
/// go lazily.
pub fn disable(sh: &Shard, s: &mut Session) {
    let Some(t) = s.tracking.take() else {
        return;
    };
    s.caching = false;
    s.info.borrow_mut().tracking = None;
    if t.bcast {
        let client = s.id;
        for shard in sh.all_shards() {
            sh.post_op(shard, move |there: &Shard| {
                there.store.borrow_mut().tracking.drop_prefixes(client);
            });
        }
    }
}

/// The core of the connection with id `id`, if there is one.
async fn find_client(sh: &Rc<Shard>, s: &Session, id: i64) -> Option<ShardId> {
    let id = u64::try_from(id).ok()?;
    let found = sh
        .on_every_shard(s.parent, move |shard: &Shard| {
            shard.host.clients.borrow().contains_key(&id)
        })
        .await;
    found.into_iter().position(|f| f).map(ShardId)
}

/// CLIENT CACHING YES|NO
pub fn client_caching(_sh: &Rc<Shard>, s: &mut Session, a: &[Bytes]) -> Reply {
    let Some(t) = &s.tracking else {
        return err(errors::CACHING_NOT_TRACKING);
    };
    if eq(&a[2], "yes") {
        if !t.optin {
            return err(errors::CACHING_YES_OPTIN);
        }
    } else if eq(&a[2], "no") {
        if !t.optout {
            return err(errors::CACHING_NO_OPTOUT);
        }
    } else {
        return errors::syntax();
    }
    s.caching = true;
    Reply::Ok
}

/// CLIENT GETREDIR
pub fn client_getredir(_sh: &Rc<Shard>, s: &mut Session, _a: &[Bytes]) -> Reply {
    Reply::Int(s.tracking.as_ref().map_or(-1, |t| t.redirect as i64))
}

/// CLIENT TRACKINGINFO
pub fn client_trackinginfo(_sh: &Rc<Shard>, s: &mut Session, _a: &[Bytes]) -> Reply {
    let bulk = |t: &'static str| Reply::Bulk(Bytes::from_static(t.as_bytes()));
    let info = s.info.borrow();
    let t = info.tracking.as_ref();
    let mut flags = vec![bulk(if t.is_some() { "on" } else { "off" })];
    if let Some(t) = t {
        let on = [
            (t.bcast, "bcast"),
            (t.optin, "optin"),
            (t.optin && s.caching, "caching-yes"),
            (t.optout, "optout"),
            (t.optout && s.caching, "caching-no"),
            (t.noloop, "noloop"),
            (t.broken, "broken_redirect"),
        ];
        flags.extend(on.iter().filter(|(f, _)| *f).map(|(_, n)| bulk(n)));
    }
    Reply::Map(vec![
        (bulk("flags"), Reply::Set(flags)),
        (
            bulk("redirect"),
            Reply::Int(t.map_or(-1, |t| t.redirect as i64)),
        ),
        (
            bulk("prefixes"),
            Reply::Array(
                t.map_or(&[][..], |t| &t.prefixes[..])
                    .iter()
                    .cloned()
                    .map(Reply::Bulk)
                    .collect(),
            ),
        ),
    ])
}

/// Sends the invalidations this shard's changes owe, each client's to the
/// core its connection lives on (after every command, with the keyspace
/// events: `Services::after_work`).
pub fn send_pending(sh: &Shard) {
    let pending = sh.store.borrow_mut().tracking.take();
    let mut by_core: Vec<(u16, Vec<Notice>)> = Vec::new();
    for (core, notice) in pending {
        match by_core.iter_mut().find(|(c, _)| *c == core) {
            Some((_, v)) => v.push(notice),
            None => by_core.push((core, vec![notice])),
        }
    }
    for (core, notices) in by_core {
        sh.post_op(ShardId(core as usize), move |there: &Shard| {
            for n in notices {
                deliver(there, n);
            }
        });
    }
}

/// What one invalidation message carries: keys, or None for "everything"
/// (a flush).
type Keys = Option<Vec<Bytes>>;

/// Delivers a notice to tracking client `n.client`, which lives here.
fn deliver(sh: &Shard, n: Notice) {
    let messages: Vec<Keys> = {
        let clients = sh.host.clients.borrow();
        let Some(info) = clients.get(&n.client) else {
            return;
        };
        let info = info.borrow();
        // Off, or switched to or from BCAST since the key was read.
        let Some(t) = info.tracking.as_ref().filter(|t| t.bcast == n.bcast) else {
            return;
        };
        let keys: Vec<Bytes> = n
            .keys
            .into_iter()
            .filter(|(_, writer)| !(t.noloop && *writer == n.client))
            .map(|(k, _)| k)
            .collect();
        if keys.is_empty() {
            return;
        }
        if n.bcast {
            vec![Some(keys)]
        } else {
            keys.into_iter().map(|k| Some(vec![k])).collect()
        }
    };
    send(sh, n.client, messages);
}

/// Sends invalidation messages on behalf of tracking client `client` (of
/// this core): to itself, or to its redirect target wherever it lives.
fn send(sh: &Shard, client: u64, messages: Vec<Keys>) {
    let route = {
        let clients = sh.host.clients.borrow();
        let Some(info) = clients.get(&client) else {
            return;
        };
        let info = info.borrow();
        match &info.tracking {
            None => return,
            Some(t) => (t.redirect, t.redirect_core),
        }
    };
    match route {
        (0, _) => {
            let clients = sh.host.clients.borrow();
            if let Some(info) = clients.get(&client) {
                push(sh, &info.borrow(), &messages, false);
            }
        }
        (to, core) => {
            let from = sh.id;
            sh.post_op(ShardId(core as usize), move |there: &Shard| {
                let clients = there.host.clients.borrow();
                if let Some(target) = clients.get(&to) {
                    push(there, &target.borrow(), &messages, true);
                } else {
                    drop(clients);
                    there.post_op(from, move |home: &Shard| broken(home, client));
                }
            });
        }
    }
}

/// The redirect target of `client` (of this core) is gone: flag `R`, and
/// a RESP3 client is told.
fn broken(sh: &Shard, client: u64) {
    let clients = sh.host.clients.borrow();
    let Some(info) = clients.get(&client) else {
        return;
    };
    let mut info = info.borrow_mut();
    let Some(t) = info.tracking.as_mut() else {
        return;
    };
    t.broken = true;
    let redirect = t.redirect as i64;
    if info.resp == 3 {
        let reply = Reply::Push(vec![
            Reply::Bulk(Bytes::from_static(b"tracking-redir-broken")),
            Reply::Int(redirect),
        ]);
        queue(sh, &info, reply, 48);
    }
}

/// Queues invalidation messages on connection `to`: RESP3 pushes, or for
/// a RESP2 connection redirected to and in Pub/Sub mode, messages of
/// `__redis__:invalidate`; nothing for a RESP2 connection otherwise, as it
/// cannot take pushes.
fn push(sh: &Shard, to: &ClientInfo, messages: &[Keys], redirected: bool) {
    let subscribed = to.sub + to.psub + to.ssub > 0;
    for keys in messages {
        let body = match keys {
            Some(k) => Reply::Array(k.iter().cloned().map(Reply::Bulk).collect()),
            None => Reply::Nil,
        };
        let size = keys
            .as_ref()
            .map_or(0, |k| k.iter().map(|k| k.len() + 16).sum());
        let reply = if to.resp == 3 {
            Reply::Push(vec![Reply::Bulk(Bytes::from_static(b"invalidate")), body])
        } else if redirected && subscribed {
            Reply::Push(vec![
                Reply::Bulk(Bytes::from_static(b"message")),
                Reply::Bulk(Bytes::from_static(CHANNEL)),
                body,
            ])
        } else {
            return;
        };
        queue(sh, to, reply, size + 48);
    }
}

fn queue(sh: &Shard, to: &ClientInfo, reply: Reply, size: usize) {
    if let Some(feed) = &to.feed {
        let limit = sh.host.pubsub_limit();
        sh.host
            .shared
            .pubsub
            .send_to(feed, Message::Push(reply, size), limit);
    }
}

/// FLUSHDB / FLUSHALL: every shard forgets its tracked keys and every
/// tracking client, BCAST ones included, gets one null.
pub async fn flushed(sh: &Rc<Shard>, s: &Session) {
    sh.on_every_shard(s.parent, |shard: &Shard| {
        shard.store.borrow_mut().tracking.clear();
        let clients: Vec<u64> = shard
            .host
            .clients
            .borrow()
            .values()
            .filter_map(|c| {
                let c = c.borrow();
                c.tracking.is_some().then_some(c.id)
            })
            .collect();
        for client in clients {
            send(shard, client, vec![None]);
        }
    })
    .await;
}

/// INFO's `tracking_clients` (this core's connections in tracking mode).
pub fn clients_here(sh: &Shard) -> usize {
    sh.host
        .clients
        .borrow()
        .values()
        .filter(|c| c.borrow().tracking.is_some())
        .count()
}
