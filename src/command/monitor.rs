//! MONITOR: the connection receives a line for every command any core runs
//! from then on, in Redis's format (`+<unix time> [<db> <addr>] "arg" …`).
//!
//! Runs on the connection's core; it only registers the connection's feed
//! with `observe::Global`. Each core appends the lines of the commands it
//! accounts (`observe::Local`) and forwards them as one batch per batch of
//! commands, so a monitor sees each core's commands in execution order. The
//! connection task writes the batches as they come (`server::conn`).

use std::rc::Rc;

use bytes::Bytes;

use crate::command::errors;
use crate::command::session::Session;
use crate::resp::Reply;
use crate::services::Shard;

/// MONITOR. A second MONITOR on the same connection gets no reply, as in
/// Redis.
pub fn monitor(sh: &Rc<Shard>, s: &mut Session, _a: &[Bytes]) -> Reply {
    if s.atomic {
        return Reply::error(errors::MONITOR_DENY_BLOCKING);
    }
    if s.monitor.is_some() {
        return Reply::Raw(Bytes::new());
    }
    s.monitor = Some(sh.host.shared.observe.monitor(s.id));
    s.info.borrow_mut().monitor = true;
    Reply::Ok
}
