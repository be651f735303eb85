//! A connection's state: selected database, protocol, authentication and
//! reply mode. Owned by the connection task on its core (`server::conn`)
//! and handed to every handler; mirrored into the
//! core's client registry (`ClientInfo`) for CLIENT LIST.

use std::cell::RefCell;
use std::rc::Rc;

use crate::clients::ClientInfo;
use crate::resp::Proto;
use crate::runtime::TxId;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ReplyMode {
    On,
    Off,
    /// Skip the reply of the next command only.
    Skip,
    /// The command being run now is the one skipped.
    Skipping,
}

pub struct Session {
    pub id: u64,
    pub db: usize,
    pub proto: Proto,
    pub authed: bool,
    pub reply_mode: ReplyMode,
    /// Close the connection once the pending replies are written.
    pub close: bool,
    /// CLIENT NO-TOUCH: its commands leave keys' access times alone.
    pub no_touch: bool,
    /// MONITOR's feed of other commands' lines, once MONITOR ran.
    pub monitor: Option<futures::channel::mpsc::UnboundedReceiver<bytes::Bytes>>,
    pub info: Rc<RefCell<ClientInfo>>,
    /// Pub/Sub subscriptions and their message queue, once subscribed.
    pub sub: Option<crate::pubsub::Subscription>,
    /// Between MULTI and EXEC: the queued commands.
    pub multi: Option<crate::command::multi::Multi>,
    /// WATCHed keys, until EXEC, DISCARD or UNWATCH.
    pub watching: Option<crate::command::multi::Watching>,
    /// Running inside EXEC or a script: blocking commands do not block.
    pub atomic: bool,
    /// While an atomic block holding every shard runs this connection's
    /// commands: the block, which the multi-shard operations they start
    /// run inside (`runtime::txn`).
    pub parent: Option<TxId>,
    /// CLIENT TRACKING: the connection's client-side caching mode.
    pub tracking: Option<crate::command::tracking::Tracking>,
    /// CLIENT CACHING YES|NO, for the next command (or transaction).
    pub caching: bool,
    /// The core the connection lives on.
    pub core: u16,
    /// Running a script declared `allow-oom`: its writes run over
    /// `maxmemory` too.
    pub allow_oom: bool,
}

impl Session {
    /// In RESP2 subscribed mode: only the subscribe family, PING, QUIT and
    /// RESET may run.
    pub fn subscribed(&self) -> bool {
        self.proto == Proto::Resp2 && self.sub.as_ref().is_some_and(|s| !s.is_empty())
    }

    /// The connection is closing (or RESET): drop its subscriptions, its
    /// transaction and its watched keys.
    pub fn end(&mut self, sh: &crate::services::Shard) {
        if let Some(mut sub) = self.sub.take() {
            sh.host.shared.pubsub.unsubscribe_all(&mut sub);
        }
        self.multi = None;
        crate::command::multi::unwatch_all(self);
    }

    /// The connection's message queue (Pub/Sub messages, invalidation
    /// pushes), created on first use; the connection task writes what
    /// arrives there even while the client sends nothing.
    pub fn feed(&mut self) -> &mut crate::pubsub::Subscription {
        if self.sub.is_none() {
            let fd = self.info.borrow().fd;
            let sub = crate::pubsub::Subscription::new(self.id, fd);
            self.info.borrow_mut().feed = Some(sub.sender());
            self.sub = Some(sub);
        }
        self.sub.as_mut().expect("just created")
    }

    /// Mirrors the subscription counts into CLIENT LIST.
    pub fn sync_subscriptions(&self) {
        let mut info = self.info.borrow_mut();
        if let Some(sub) = &self.sub {
            info.sub = sub.channels.len();
            info.psub = sub.patterns.len();
            info.ssub = sub.shard_channels.len();
        } else {
            (info.sub, info.psub, info.ssub) = (0, 0, 0);
        }
    }

    pub fn new(info: Rc<RefCell<ClientInfo>>, authed: bool) -> Session {
        let id = info.borrow().id;
        Session {
            id,
            db: 0,
            proto: Proto::Resp2,
            authed,
            reply_mode: ReplyMode::On,
            close: false,
            no_touch: false,
            monitor: None,
            info,
            sub: None,
            multi: None,
            watching: None,
            atomic: false,
            parent: None,
            tracking: None,
            caching: false,
            core: 0,
            allow_oom: false,
        }
    }
}
