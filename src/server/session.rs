//! A connection's state: selected database, protocol, authentication and
//! reply mode. Owned by the connection task on its core; mirrored into the
//! core's client registry (`ClientInfo`) for CLIENT LIST.

use std::cell::RefCell;
use std::rc::Rc;

use crate::clients::ClientInfo;
use crate::resp::Proto;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ReplyMode {
    On,
    Off,
    /// Skip the reply of the next command only.
    Skip,
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
}

impl Session {
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
        }
    }
}
