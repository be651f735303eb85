//! Pub/Sub: every connection's channel, pattern and shard-channel
//! subscriptions, shared by all cores.
//!
//! Subscriptions live in one registry behind a read-write lock, so a
//! PUBLISH on any core finds every subscriber on every core and answers
//! the true receiver count. Publishing takes the read lock and pushes the
//! message into each subscriber's unbounded queue; the subscriber's
//! connection task, on whatever core, is woken and writes it. A publisher
//! never waits for a subscriber: per subscriber, in publish order.
//!
//! A subscriber that stops reading lets its queue grow; the publisher counts
//! the queued bytes against `client-output-buffer-limit pubsub` and, past the
//! hard limit (or past the soft limit for longer than its seconds), marks the
//! subscriber dropped and shuts its socket down, as Redis closes such a
//! client. Its connection task then ends and unsubscribes it. The socket is
//! only shut down while the subscriber is still registered (under the read
//! lock), and a connection unregisters (under the write lock) before its
//! socket is closed, so the descriptor is never one that was reused.

use std::collections::HashMap;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use bytes::Bytes;
use futures::channel::mpsc::{unbounded, UnboundedReceiver, UnboundedSender};
use indexmap::IndexSet;

use crate::glob::glob_match;
use crate::resp::Reply;

/// A message on its way to one subscriber.
#[derive(Clone, Debug)]
pub enum Message {
    Message {
        channel: Bytes,
        payload: Bytes,
    },
    PMessage {
        pattern: Bytes,
        channel: Bytes,
        payload: Bytes,
    },
    SMessage {
        channel: Bytes,
        payload: Bytes,
    },
    /// A push already shaped for its connection (client-side caching's
    /// invalidations), with its size in the output buffer.
    Push(Reply, usize),
}

impl Message {
    /// The push reply the subscriber writes (an array in RESP2).
    pub fn reply(self) -> Reply {
        match self {
            Message::Message { channel, payload } => Reply::Push(vec![
                Reply::Bulk(Bytes::from_static(b"message")),
                Reply::Bulk(channel),
                Reply::Bulk(payload),
            ]),
            Message::PMessage {
                pattern,
                channel,
                payload,
            } => Reply::Push(vec![
                Reply::Bulk(Bytes::from_static(b"pmessage")),
                Reply::Bulk(pattern),
                Reply::Bulk(channel),
                Reply::Bulk(payload),
            ]),
            Message::SMessage { channel, payload } => Reply::Push(vec![
                Reply::Bulk(Bytes::from_static(b"smessage")),
                Reply::Bulk(channel),
                Reply::Bulk(payload),
            ]),
            Message::Push(reply, _) => reply,
        }
    }

    /// Bytes it takes in the subscriber's output buffer (RESP2 framing).
    pub fn size(&self) -> usize {
        match self {
            Message::Message { channel, payload } | Message::SMessage { channel, payload } => {
                channel.len() + payload.len() + 40
            }
            Message::PMessage {
                pattern,
                channel,
                payload,
            } => pattern.len() + channel.len() + payload.len() + 54,
            Message::Push(_, size) => *size,
        }
    }
}

/// `client-output-buffer-limit pubsub <hard> <soft> <seconds>` (0 = none).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Limit {
    pub hard: u64,
    pub soft: u64,
    pub soft_seconds: u64,
}

/// The publishing side of one subscribed connection.
pub struct Subscriber {
    pub id: u64,
    tx: UnboundedSender<Message>,
    fd: RawFd,
    /// Bytes queued and not yet written by the connection.
    queued: AtomicUsize,
    /// Unix ms when the queue first passed the soft limit (0: below it).
    soft_since: AtomicU64,
    dropped: AtomicBool,
}

impl Subscriber {
    fn deliver(&self, msg: Message, limit: Limit, now_ms: u64, drops: &AtomicU64) {
        if self.dropped.load(Ordering::Relaxed) {
            return;
        }
        let size = msg.size();
        let queued = (self.queued.fetch_add(size, Ordering::Relaxed) + size) as u64;
        if self.tx.unbounded_send(msg).is_err() {
            self.queued.fetch_sub(size, Ordering::Relaxed);
            return;
        }
        let over_hard = limit.hard > 0 && queued > limit.hard;
        let mut over_soft = false;
        if limit.soft > 0 && queued > limit.soft {
            let since = self.soft_since.load(Ordering::Relaxed);
            if since == 0 {
                self.soft_since.store(now_ms, Ordering::Relaxed);
            } else {
                over_soft = now_ms.saturating_sub(since) > limit.soft_seconds * 1000;
            }
        }
        if (over_hard || over_soft) && !self.dropped.swap(true, Ordering::Relaxed) {
            drops.fetch_add(1, Ordering::Relaxed);
            crate::log::warning(&format!(
                "Client id={} scheduled to be closed ASAP for overcoming of output buffer limits.",
                self.id
            ));
            // SAFETY: the connection that owns `fd` is still registered (we
            // hold the registry's read lock) and closes it only after
            // unregistering; shutdown(2) just ends its pending I/O.
            unsafe {
                libc::shutdown(self.fd, libc::SHUT_RDWR);
            }
        }
    }
}

#[derive(Default)]
struct Registry {
    channels: HashMap<Bytes, Vec<Arc<Subscriber>>>,
    patterns: HashMap<Bytes, Vec<Arc<Subscriber>>>,
    shard_channels: HashMap<Bytes, Vec<Arc<Subscriber>>>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Channel,
    Pattern,
    Shard,
}

impl Registry {
    fn map(&mut self, kind: Kind) -> &mut HashMap<Bytes, Vec<Arc<Subscriber>>> {
        match kind {
            Kind::Channel => &mut self.channels,
            Kind::Pattern => &mut self.patterns,
            Kind::Shard => &mut self.shard_channels,
        }
    }
}

#[derive(Default)]
pub struct PubSub {
    reg: RwLock<Registry>,
    /// Subscribers closed for passing the output buffer limit.
    pub drops: AtomicU64,
}

/// A connection's subscriptions and the queue its messages arrive on.
pub struct Subscription {
    me: Arc<Subscriber>,
    pub rx: UnboundedReceiver<Message>,
    pub channels: IndexSet<Bytes>,
    pub patterns: IndexSet<Bytes>,
    pub shard_channels: IndexSet<Bytes>,
}

impl Subscription {
    pub fn new(id: u64, fd: RawFd) -> Subscription {
        let (tx, rx) = unbounded();
        Subscription {
            me: Arc::new(Subscriber {
                id,
                tx,
                fd,
                queued: AtomicUsize::new(0),
                soft_since: AtomicU64::new(0),
                dropped: AtomicBool::new(false),
            }),
            rx,
            channels: IndexSet::new(),
            patterns: IndexSet::new(),
            shard_channels: IndexSet::new(),
        }
    }

    /// Channels and patterns (what SUBSCRIBE replies count).
    pub fn count(&self) -> usize {
        self.channels.len() + self.patterns.len()
    }

    pub fn is_empty(&self) -> bool {
        self.count() == 0 && self.shard_channels.is_empty()
    }

    pub fn set(&mut self, kind: Kind) -> &mut IndexSet<Bytes> {
        match kind {
            Kind::Channel => &mut self.channels,
            Kind::Pattern => &mut self.patterns,
            Kind::Shard => &mut self.shard_channels,
        }
    }

    /// The connection wrote a message of `size` bytes.
    pub fn written(&self, size: usize) {
        let left = self.me.queued.fetch_sub(size, Ordering::Relaxed) - size;
        if left == 0 {
            self.me.soft_since.store(0, Ordering::Relaxed);
        }
    }

    pub fn dropped(&self) -> bool {
        self.me.dropped.load(Ordering::Relaxed)
    }

    /// Bytes queued for this connection (CLIENT LIST `omem`).
    pub fn queued(&self) -> usize {
        self.me.queued.load(Ordering::Relaxed)
    }

    /// The sending end of this connection's queue, for messages meant for
    /// it alone (client-side caching's invalidations).
    pub fn sender(&self) -> Arc<Subscriber> {
        self.me.clone()
    }
}

impl PubSub {
    /// Queues `msg` for one connection, under the same output-buffer limit
    /// as its other messages.
    pub fn send_to(&self, to: &Subscriber, msg: Message, limit: Limit) {
        to.deliver(msg, limit, crate::keyspace::store::unix_ms(), &self.drops);
    }

    /// Adds `name` to the connection's subscriptions of `kind`; false if it
    /// was there already.
    pub fn subscribe(&self, sub: &mut Subscription, kind: Kind, name: Bytes) -> bool {
        if !sub.set(kind).insert(name.clone()) {
            return false;
        }
        let mut reg = self.reg.write().unwrap_or_else(|p| p.into_inner());
        reg.map(kind).entry(name).or_default().push(sub.me.clone());
        true
    }

    /// Removes `name`; false if the connection was not subscribed to it.
    pub fn unsubscribe(&self, sub: &mut Subscription, kind: Kind, name: &[u8]) -> bool {
        if !sub.set(kind).shift_remove(name) {
            return false;
        }
        let mut reg = self.reg.write().unwrap_or_else(|p| p.into_inner());
        let map = reg.map(kind);
        if let Some(subs) = map.get_mut(name) {
            subs.retain(|s| !Arc::ptr_eq(s, &sub.me));
            if subs.is_empty() {
                map.remove(name);
            }
        }
        true
    }

    /// Drops every subscription of a closing connection.
    pub fn unsubscribe_all(&self, sub: &mut Subscription) {
        for kind in [Kind::Channel, Kind::Pattern, Kind::Shard] {
            let names: Vec<Bytes> = sub.set(kind).iter().cloned().collect();
            for name in names {
                self.unsubscribe(sub, kind, &name);
            }
        }
    }

    /// Delivers `payload` to the subscribers of `channel` and of every
    /// matching pattern (or, for `Kind::Shard`, of the shard channel) and
    /// returns how many received it.
    pub fn publish(&self, kind: Kind, channel: &Bytes, payload: &Bytes, limit: Limit) -> usize {
        let now = crate::keyspace::store::unix_ms();
        let reg = self.reg.read().unwrap_or_else(|p| p.into_inner());
        let mut n = 0;
        let direct = match kind {
            Kind::Shard => &reg.shard_channels,
            _ => &reg.channels,
        };
        if let Some(subs) = direct.get(channel) {
            for s in subs {
                let msg = match kind {
                    Kind::Shard => Message::SMessage {
                        channel: channel.clone(),
                        payload: payload.clone(),
                    },
                    _ => Message::Message {
                        channel: channel.clone(),
                        payload: payload.clone(),
                    },
                };
                s.deliver(msg, limit, now, &self.drops);
                n += 1;
            }
        }
        if kind != Kind::Shard {
            for (pattern, subs) in &reg.patterns {
                if !glob_match(pattern, channel, false) {
                    continue;
                }
                for s in subs {
                    let msg = Message::PMessage {
                        pattern: pattern.clone(),
                        channel: channel.clone(),
                        payload: payload.clone(),
                    };
                    s.deliver(msg, limit, now, &self.drops);
                    n += 1;
                }
            }
        }
        n
    }

    /// Active channels (shard channels with `Kind::Shard`) matching
    /// `pattern`, for PUBSUB CHANNELS / SHARDCHANNELS.
    pub fn channels(&self, kind: Kind, pattern: Option<&[u8]>) -> Vec<Bytes> {
        let reg = self.reg.read().unwrap_or_else(|p| p.into_inner());
        let map = match kind {
            Kind::Shard => &reg.shard_channels,
            _ => &reg.channels,
        };
        map.keys()
            .filter(|c| pattern.is_none_or(|p| glob_match(p, c, false)))
            .cloned()
            .collect()
    }

    /// Subscribers of `channel`, for PUBSUB NUMSUB / SHARDNUMSUB.
    pub fn numsub(&self, kind: Kind, channel: &[u8]) -> usize {
        let reg = self.reg.read().unwrap_or_else(|p| p.into_inner());
        let map = match kind {
            Kind::Shard => &reg.shard_channels,
            _ => &reg.channels,
        };
        map.get(channel).map_or(0, Vec::len)
    }

    /// Distinct patterns subscribed to, for PUBSUB NUMPAT.
    pub fn numpat(&self) -> usize {
        self.reg
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .patterns
            .len()
    }

    /// (channels, patterns, shard channels) with at least one subscriber:
    /// INFO and the metrics gauges.
    pub fn counts(&self) -> (usize, usize, usize) {
        let reg = self.reg.read().unwrap_or_else(|p| p.into_inner());
        (
            reg.channels.len(),
            reg.patterns.len(),
            reg.shard_channels.len(),
        )
    }
}
