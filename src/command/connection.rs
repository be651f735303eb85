//! Connection commands: PING ECHO QUIT RESET AUTH HELLO SELECT (CLIENT is
//! `command::client`).
//!
//! They run on the connection's core against its `Session`.

use std::rc::Rc;

use bytes::Bytes;

use super::args::{self, eq};
use super::errors::{self, err};
use crate::command::session::{ReplyMode, Session};
use crate::resp::{Proto, Reply};
use crate::services::Shard;
use crate::REDIS_VERSION;

/// PING [message]
pub fn ping(_sh: &Rc<Shard>, s: &mut Session, a: &[Bytes]) -> Reply {
    match a.len() {
        // RESP2 subscribed mode: `["pong", message or ""]`.
        1 | 2 if s.subscribed() => super::pubsub::subscribed_ping(a),
        1 => Reply::Status("PONG"),
        2 => Reply::Bulk(a[1].clone()),
        _ => errors::arity("ping"),
    }
}

/// ECHO message
pub fn echo(_sh: &Rc<Shard>, _s: &mut Session, a: &[Bytes]) -> Reply {
    Reply::Bulk(a[1].clone())
}

/// QUIT: answers OK, then the connection closes.
pub fn quit(_sh: &Rc<Shard>, s: &mut Session, _a: &[Bytes]) -> Reply {
    s.close = true;
    Reply::Ok
}

/// RESET: back to a fresh connection's state (db 0, RESP2, no name,
/// replies on, out of MONITOR and NO-TOUCH, unauthenticated when a password
/// is set).
pub fn reset(sh: &Rc<Shard>, s: &mut Session, _a: &[Bytes]) -> Reply {
    s.db = 0;
    s.proto = Proto::Resp2;
    s.reply_mode = ReplyMode::On;
    s.authed = sh.host.config().requirepass.is_none();
    s.no_touch = false;
    super::tracking::disable(sh, s);
    sh.host.shared.observe.renamed(s.id, "");
    if s.monitor.take().is_some() {
        sh.host.shared.observe.unmonitor(s.id);
    }
    s.end(sh);
    s.sync_subscriptions();
    s.info.borrow_mut().multi = -1;
    let mut info = s.info.borrow_mut();
    info.monitor = false;
    info.name.clear();
    info.no_evict = false;
    info.no_touch = false;
    Reply::Status("RESET")
}

/// Checks a username/password pair against `requirepass` (lanner has only
/// Redis's "default" user).
fn check_password(sh: &Shard, user: Option<&[u8]>, pass: &[u8]) -> bool {
    let config = sh.host.config();
    if user.is_some_and(|u| u != b"default") {
        return false;
    }
    match &config.requirepass {
        None => true,
        Some(p) => p.as_bytes() == pass,
    }
}

/// AUTH [username] password
pub fn auth(sh: &Rc<Shard>, s: &mut Session, a: &[Bytes]) -> Reply {
    if a.len() > 3 {
        return errors::syntax();
    }
    if a.len() == 2 && sh.host.config().requirepass.is_none() {
        return err(errors::AUTH_NOT_CONFIGURED);
    }
    let (user, pass) = if a.len() == 3 {
        (Some(&a[1][..]), &a[2])
    } else {
        (None, &a[1])
    };
    if check_password(sh, user, pass) {
        s.authed = true;
        Reply::Ok
    } else {
        err(errors::WRONGPASS)
    }
}

/// HELLO [protover [AUTH username password] [SETNAME clientname]]
pub fn hello(sh: &Rc<Shard>, s: &mut Session, a: &[Bytes]) -> Reply {
    let mut proto = s.proto;
    if a.len() >= 2 {
        let v = match args::int(&a[1]) {
            Ok(v) => v,
            Err(_) => return err(errors::HELLO_PROTO),
        };
        if !(2..=3).contains(&v) {
            return err(errors::NOPROTO);
        }
        proto = if v == 3 { Proto::Resp3 } else { Proto::Resp2 };
    }
    let mut name = None;
    let mut j = 2;
    while j < a.len() {
        let more = a.len() - j - 1;
        if eq(&a[j], "auth") && more >= 2 {
            if !check_password(sh, Some(&a[j + 1]), &a[j + 2]) {
                return err(errors::WRONGPASS);
            }
            s.authed = true;
            j += 3;
        } else if eq(&a[j], "setname") && more >= 1 {
            if let Err(e) = valid_name(&a[j + 1]) {
                return e;
            }
            name = Some(a[j + 1].clone());
            j += 2;
        } else {
            return errors::hello_option(&a[j]);
        }
    }
    if !s.authed {
        return err(errors::HELLO_NOAUTH);
    }
    if let Some(n) = name {
        s.info.borrow_mut().name = args::lossy(&n);
        sh.host.shared.observe.renamed(s.id, &args::lossy(&n));
    }
    s.proto = proto;
    let bulk = |t: &'static str| Reply::Bulk(Bytes::from_static(t.as_bytes()));
    Reply::Map(vec![
        (bulk("server"), bulk("redis")),
        (bulk("version"), bulk(REDIS_VERSION)),
        (
            bulk("proto"),
            Reply::Int(if proto == Proto::Resp3 { 3 } else { 2 }),
        ),
        (bulk("id"), Reply::Int(s.id as i64)),
        (bulk("mode"), bulk("standalone")),
        (bulk("role"), bulk("master")),
        (bulk("modules"), Reply::Array(Vec::new())),
    ])
}

/// SELECT index
pub fn select(sh: &Rc<Shard>, s: &mut Session, a: &[Bytes]) -> Reply {
    let databases = sh.host.shared.databases;
    let n = match args::int(&a[1]) {
        Ok(n) => n,
        Err(e) => return e,
    };
    if n < 0 || n as u64 >= databases as u64 {
        return err(errors::DB_RANGE);
    }
    s.db = n as usize;
    Reply::Ok
}

/// Client names, lib-name and lib-ver may not contain spaces or control
/// characters (Redis's `validateClientAttr`).
pub(crate) fn valid_name(n: &[u8]) -> Result<(), Reply> {
    if n.iter().any(|&c| !(b'!'..=b'~').contains(&c)) {
        return Err(err(errors::CLIENT_NAME));
    }
    Ok(())
}
