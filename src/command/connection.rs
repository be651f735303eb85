//! Connection commands: PING ECHO QUIT RESET AUTH HELLO SELECT CLIENT.
//!
//! They run on the connection's core against its `Session`; CLIENT LIST and
//! CLIENT KILL visit every core's client registry.

use std::rc::Rc;

use bytes::Bytes;
use futures::future::LocalBoxFuture;

use super::args::{self, eq};
use super::errors::{self, err};
use super::keys::help_reply;
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
            Err(_) => return err("ERR Protocol version is not an integer or out of range"),
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
            return Reply::error(format!(
                "ERR Syntax error in HELLO option '{}'",
                args::lossy(&a[j])
            ));
        }
    }
    if !s.authed {
        return err("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time");
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
fn valid_name(n: &[u8]) -> Result<(), Reply> {
    if n.iter().any(|&c| !(b'!'..=b'~').contains(&c)) {
        return Err(err(errors::CLIENT_NAME));
    }
    Ok(())
}

const CLIENT_HELP: &[&str] = &[
    "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GETNAME",
    "    Return the name of the current connection.",
    "ID",
    "    Return the ID of the current connection.",
    "INFO",
    "    Return information about the current client connection.",
    "KILL <ip:port>",
    "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Kill connections. Options are:",
    "    * ADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made from the specified address",
    "    * LADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made to specified local address",
    "    * ID <client-id>",
    "      Kill connections by client id.",
    "    * USER <username>",
    "      Kill connections authenticated by <username>.",
    "    * SKIPME (YES|NO)",
    "      Skip killing current connection (default: yes).",
    "    * MAXAGE <maxage>",
    "      Kill connections older than the specified age.",
    "LIST [options ...]",
    "    Return information about client connections. Options:",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Return clients of specified type.",
    "    * ID <client-id> [<client-id> ...]",
    "      Return clients of specified IDs only.",
    "UNPAUSE",
    "    Stop the current client pause, resuming traffic.",
    "PAUSE <timeout> [WRITE|ALL]",
    "    Suspend all, or just write, clients for <timeout> milliseconds.",
    "TRACKINGINFO",
    "    Report tracking status for the current connection.",
    "NO-EVICT (ON|OFF)",
    "    Protect current client connection from eviction.",
    "NO-TOUCH (ON|OFF)",
    "    Will not touch LRU/LFU stats when this mode is on.",
    "REPLY (ON|OFF|SKIP)",
    "    Control the replies sent to the current connection.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
    "SETINFO <option> <value>",
    "    Set client meta attr. Options are:",
    "    * LIB-NAME: the client lib name.",
    "    * LIB-VER: the client lib version.",
    "HELP",
    "    Print this help.",
];

/// Which connections CLIENT KILL / LIST select.
#[derive(Clone, Default)]
struct ClientFilter {
    ids: Option<Vec<u64>>,
    addr: Option<String>,
    laddr: Option<String>,
    skip: Option<u64>,
    /// TYPE master/replica: lanner has no such connections.
    type_other: bool,
    /// TYPE normal (false) or pubsub (true).
    type_pubsub: Option<bool>,
    /// Only connections older than this many seconds (CLIENT KILL MAXAGE).
    max_age: Option<u64>,
}

impl ClientFilter {
    fn matches(&self, c: &crate::clients::ClientInfo) -> bool {
        !self.type_other
            && self
                .type_pubsub
                .is_none_or(|p| p == (c.sub + c.psub + c.ssub > 0))
            && self.ids.as_ref().is_none_or(|ids| ids.contains(&c.id))
            && self.addr.as_ref().is_none_or(|a| *a == c.addr)
            && self.laddr.as_ref().is_none_or(|a| *a == c.laddr)
            && self.skip != Some(c.id)
            && self
                .max_age
                .is_none_or(|m| c.created.elapsed().as_secs() > m)
    }
}

/// CLIENT ID | SETNAME | GETNAME | SETINFO | LIST | INFO | KILL | PAUSE | UNPAUSE |
/// TRACKINGINFO | NO-EVICT | NO-TOUCH | REPLY | HELP
pub fn client<'a>(
    sh: &'a Rc<Shard>,
    s: &'a mut Session,
    a: Vec<Bytes>,
) -> LocalBoxFuture<'a, Reply> {
    Box::pin(async move {
        let sub = String::from_utf8_lossy(&a[1]).to_ascii_lowercase();
        let n = a.len();
        let arity = || errors::arity(&format!("client|{sub}"));
        match sub.as_str() {
            "help" if n == 2 => help_reply(CLIENT_HELP),
            "id" if n == 2 => Reply::Int(s.id as i64),
            "id" => arity(),
            "getname" if n == 2 => {
                let name = s.info.borrow().name.clone();
                if name.is_empty() {
                    Reply::Nil
                } else {
                    Reply::Bulk(Bytes::from(name))
                }
            }
            "getname" => arity(),
            "setname" if n == 3 => {
                if let Err(e) = valid_name(&a[2]) {
                    return e;
                }
                s.info.borrow_mut().name = args::lossy(&a[2]);
                sh.host.shared.observe.renamed(s.id, &args::lossy(&a[2]));
                Reply::Ok
            }
            "setname" => arity(),
            "pause" if n == 3 || n == 4 => {
                let ms = match args::int(&a[2]) {
                    Ok(ms) if ms < 0 => return err("ERR timeout is negative"),
                    Ok(ms) => ms as u64,
                    Err(_) => return err("ERR timeout is not an integer or out of range"),
                };
                let writes_only = match a.get(3) {
                    None => false,
                    Some(m) if eq(m, "write") => true,
                    Some(m) if eq(m, "all") => false,
                    Some(_) => return err("ERR CLIENT PAUSE mode must be WRITE or ALL"),
                };
                let until = crate::keyspace::store::unix_ms().saturating_add(ms);
                sh.host.shared.pause.pause(until, writes_only);
                Reply::Ok
            }
            "pause" => arity(),
            "unpause" if n == 2 => {
                sh.host.shared.pause.unpause();
                Reply::Ok
            }
            "unpause" => arity(),
            "trackinginfo" if n == 2 => {
                let bulk = |t: &'static str| Reply::Bulk(Bytes::from_static(t.as_bytes()));
                Reply::Map(vec![
                    (bulk("flags"), Reply::Set(vec![bulk("off")])),
                    (bulk("redirect"), Reply::Int(-1)),
                    (bulk("prefixes"), Reply::Array(Vec::new())),
                ])
            }
            "trackinginfo" => arity(),
            "no-touch" if n == 3 => {
                if eq(&a[2], "on") || eq(&a[2], "off") {
                    s.no_touch = eq(&a[2], "on");
                    s.info.borrow_mut().no_touch = s.no_touch;
                    Reply::Ok
                } else {
                    errors::syntax()
                }
            }
            "no-touch" => arity(),
            "setinfo" if n == 4 => {
                let field = String::from_utf8_lossy(&a[2]).to_ascii_lowercase();
                if field != "lib-name" && field != "lib-ver" {
                    return Reply::error(format!(
                        "ERR Unrecognized option '{}'",
                        args::lossy(&a[2])
                    ));
                }
                if a[3].iter().any(|&c| !(b'!'..=b'~').contains(&c)) {
                    return Reply::error(format!(
                        "ERR {field} cannot contain spaces, newlines or special characters."
                    ));
                }
                let mut info = s.info.borrow_mut();
                if field == "lib-name" {
                    info.lib_name = args::lossy(&a[3]);
                } else {
                    info.lib_ver = args::lossy(&a[3]);
                }
                Reply::Ok
            }
            "setinfo" => arity(),
            "info" if n == 2 => {
                Reply::Verbatim(Bytes::from(format!("{}\n", s.info.borrow().line())))
            }
            "info" => arity(),
            "no-evict" if n == 3 => {
                if eq(&a[2], "on") || eq(&a[2], "off") {
                    s.info.borrow_mut().no_evict = eq(&a[2], "on");
                    Reply::Ok
                } else {
                    errors::syntax()
                }
            }
            "no-evict" => arity(),
            "reply" if n == 3 => {
                if eq(&a[2], "on") {
                    s.reply_mode = ReplyMode::On;
                    Reply::Ok
                } else if eq(&a[2], "off") {
                    // Redis sends nothing for OFF and SKIP themselves.
                    s.reply_mode = ReplyMode::Off;
                    Reply::Raw(Bytes::new())
                } else if eq(&a[2], "skip") {
                    // SKIP while OFF keeps everything off, as in Redis.
                    if s.reply_mode != ReplyMode::Off {
                        s.reply_mode = ReplyMode::Skip;
                    }
                    Reply::Raw(Bytes::new())
                } else {
                    errors::syntax()
                }
            }
            "reply" => arity(),
            "list" => {
                let mut f = ClientFilter::default();
                let mut j = 2;
                while j < n {
                    if eq(&a[j], "type") && j + 1 < n {
                        let t = String::from_utf8_lossy(&a[j + 1]).to_ascii_lowercase();
                        match t.as_str() {
                            "normal" => f.type_pubsub = Some(false),
                            "pubsub" => f.type_pubsub = Some(true),
                            "master" | "replica" | "slave" => f.type_other = true,
                            _ => {
                                return Reply::error(format!(
                                    "ERR Unknown client type '{}'",
                                    args::lossy(&a[j + 1])
                                ))
                            }
                        }
                        j += 2;
                    } else if eq(&a[j], "id") && j + 1 < n {
                        let mut ids = Vec::new();
                        for id in &a[j + 1..] {
                            match args::int(id) {
                                Ok(v) if v > 0 => ids.push(v as u64),
                                _ => return err("ERR Invalid client ID"),
                            }
                        }
                        f.ids = Some(ids);
                        j = n;
                    } else {
                        return errors::syntax();
                    }
                }
                let lines = sh
                    .on_every_shard(s.parent, move |shard: &Shard| {
                        let clients = shard.host.clients.borrow();
                        let mut v: Vec<(u64, String)> = clients
                            .values()
                            .map(|c| c.borrow())
                            .filter(|c| f.matches(c))
                            .map(|c| (c.id, c.line()))
                            .collect();
                        v.sort();
                        v
                    })
                    .await;
                let mut all: Vec<(u64, String)> = lines.into_iter().flatten().collect();
                all.sort();
                let text: String = all.into_iter().map(|(_, l)| l + "\n").collect();
                Reply::Verbatim(Bytes::from(text))
            }
            "kill" if n == 3 => {
                // Old form: CLIENT KILL addr:port.
                let f = ClientFilter {
                    addr: Some(args::lossy(&a[2])),
                    ..Default::default()
                };
                if kill(sh, s, f).await == 0 {
                    err(errors::NO_SUCH_CLIENT)
                } else {
                    Reply::Ok
                }
            }
            "kill" if n >= 4 && n % 2 == 0 => {
                let mut f = ClientFilter {
                    skip: Some(s.id),
                    ..Default::default()
                };
                for pair in a[2..].chunks(2) {
                    let v = &pair[1];
                    if eq(&pair[0], "id") {
                        match args::int(v) {
                            Ok(id) if id > 0 => f.ids = Some(vec![id as u64]),
                            _ => return err("ERR client-id should be greater than 0"),
                        }
                    } else if eq(&pair[0], "addr") {
                        f.addr = Some(args::lossy(v));
                    } else if eq(&pair[0], "laddr") {
                        f.laddr = Some(args::lossy(v));
                    } else if eq(&pair[0], "user") {
                        // "default" is the only user lanner has.
                        if v.as_ref() != b"default" {
                            return Reply::error(format!("ERR No such user '{}'", args::lossy(v)));
                        }
                    } else if eq(&pair[0], "type") {
                        let t = String::from_utf8_lossy(v).to_ascii_lowercase();
                        match t.as_str() {
                            "normal" => f.type_pubsub = Some(false),
                            "pubsub" => f.type_pubsub = Some(true),
                            "master" | "replica" | "slave" => f.type_other = true,
                            _ => {
                                return Reply::error(format!(
                                    "ERR Unknown client type '{}'",
                                    args::lossy(v)
                                ))
                            }
                        }
                    } else if eq(&pair[0], "maxage") {
                        match args::int(v) {
                            Ok(age) if age >= 0 => f.max_age = Some(age as u64),
                            _ => return err("ERR maxage is not an integer or out of range"),
                        }
                    } else if eq(&pair[0], "skipme") {
                        if eq(v, "yes") {
                            f.skip = Some(s.id);
                        } else if eq(v, "no") {
                            f.skip = None;
                        } else {
                            return errors::syntax();
                        }
                    } else {
                        return errors::syntax();
                    }
                }
                let killed = kill(sh, s, f).await;
                Reply::Int(killed as i64)
            }
            "kill" => errors::syntax(),
            _ => errors::unknown_subcommand(&a[1], "client"),
        }
    })
}

/// Kills every matching connection on every core; returns how many. The
/// calling connection, if it matches, is closed only after this reply is
/// written (Redis's CLIENT_CLOSE_AFTER_REPLY), so it still gets its answer.
async fn kill(sh: &Rc<Shard>, s: &mut Session, f: ClientFilter) -> usize {
    let me = s.id;
    let killed: Vec<(usize, bool)> = sh
        .on_every_shard(s.parent, move |shard: &Shard| {
            let (mut n, mut me_too) = (0, false);
            for c in shard.host.clients.borrow().values() {
                let mut c = c.borrow_mut();
                if !c.killed && f.matches(&c) {
                    if c.id == me {
                        me_too = true;
                    } else {
                        c.kill();
                    }
                    n += 1;
                }
            }
            (n, me_too)
        })
        .await;
    if killed.iter().any(|&(_, me_too)| me_too) {
        s.close = true;
    }
    killed.into_iter().map(|(n, _)| n).sum()
}
