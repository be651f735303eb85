//! CLIENT and its subcommands (one table row each: `client|list` …),
//! except the client-side caching ones (`command::tracking`).
//!
//! They run on the connection's core against its `Session`; CLIENT LIST,
//! KILL and UNBLOCK visit every core's client registry as one multi-shard
//! read.

use std::rc::Rc;

use bytes::Bytes;
use futures::future::LocalBoxFuture;

use super::args::{self, eq};
use super::connection::valid_name;
use super::errors::{self, err};
use super::keys::help_reply;
use crate::clients::ClientInfo;
use crate::command::session::{ReplyMode, Session};
use crate::resp::Reply;
use crate::services::Shard;

const HELP: &[&str] = &[
    "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CACHING (YES|NO)",
    "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
    "GETREDIR",
    "    Return the client ID we are redirecting to when tracking is enabled.",
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
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Kill connections by type.",
    "    * USER <username>",
    "      Kill connections authenticated by <username>.",
    "    * SKIPME (YES|NO)",
    "      Skip killing current connection (default: yes).",
    "LIST [options ...]",
    "    Return information about client connections. Options:",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Return clients of specified type.",
    "UNPAUSE",
    "    Stop the current client pause, resuming traffic.",
    "PAUSE <timeout> [WRITE|ALL]",
    "    Suspend all, or just write, clients for <timeout> milliseconds.",
    "REPLY (ON|OFF|SKIP)",
    "    Control the replies sent to the current connection.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
    "UNBLOCK <clientid> [TIMEOUT|ERROR]",
    "    Unblock the specified blocked client.",
    "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
    "         [OPTIN] [OPTOUT] [NOLOOP]",
    "    Control server assisted client side caching.",
    "TRACKINGINFO",
    "    Report tracking status for the current connection.",
    "NO-EVICT (ON|OFF)",
    "    Protect current client connection from eviction.",
    "NO-TOUCH (ON|OFF)",
    "    Will not touch LRU/LFU stats when this mode is on.",
    "SETINFO <option> <value>",
    "    Set client meta attr. Options are:",
    "    * LIB-NAME: the client lib name.",
    "    * LIB-VER: the client lib version.",
    "HELP",
    "    Prints this help.",
];

/// CLIENT HELP
pub fn client_help(_sh: &Rc<Shard>, _s: &mut Session, _a: &[Bytes]) -> Reply {
    help_reply(HELP)
}

/// CLIENT ID
pub fn client_id(_sh: &Rc<Shard>, s: &mut Session, _a: &[Bytes]) -> Reply {
    Reply::Int(s.id as i64)
}

/// CLIENT GETNAME
pub fn client_getname(_sh: &Rc<Shard>, s: &mut Session, _a: &[Bytes]) -> Reply {
    let name = s.info.borrow().name.clone();
    if name.is_empty() {
        Reply::Nil
    } else {
        Reply::Bulk(Bytes::from(name))
    }
}

/// CLIENT SETNAME connection-name
pub fn client_setname(sh: &Rc<Shard>, s: &mut Session, a: &[Bytes]) -> Reply {
    tri!(valid_name(&a[2]));
    s.info.borrow_mut().name = args::lossy(&a[2]);
    sh.host.shared.observe.renamed(s.id, &args::lossy(&a[2]));
    Reply::Ok
}

/// CLIENT SETINFO LIB-NAME libname | LIB-VER libver (Redis 7.2)
pub fn client_setinfo(_sh: &Rc<Shard>, s: &mut Session, a: &[Bytes]) -> Reply {
    let field = String::from_utf8_lossy(&a[2]).to_ascii_lowercase();
    if field != "lib-name" && field != "lib-ver" {
        return errors::unrecognized_option(&a[2]);
    }
    if a[3].iter().any(|&c| !(b'!'..=b'~').contains(&c)) {
        return errors::client_attr_chars(&field);
    }
    let mut info = s.info.borrow_mut();
    if field == "lib-name" {
        info.lib_name = args::lossy(&a[3]);
    } else {
        info.lib_ver = args::lossy(&a[3]);
    }
    Reply::Ok
}

/// CLIENT INFO
pub fn client_info(_sh: &Rc<Shard>, s: &mut Session, _a: &[Bytes]) -> Reply {
    Reply::Verbatim(Bytes::from(format!("{}\n", s.info.borrow().line())))
}

/// CLIENT PAUSE timeout [WRITE|ALL]
pub fn client_pause(sh: &Rc<Shard>, _s: &mut Session, a: &[Bytes]) -> Reply {
    if a.len() > 4 {
        return errors::subcommand_syntax(&a[1], &a[0]);
    }
    let ms = match args::int(&a[2]) {
        Ok(ms) if ms < 0 => return err(errors::TIMEOUT_NEGATIVE),
        Ok(ms) => ms as u64,
        Err(_) => return err(errors::TIMEOUT_NOT_INTEGER),
    };
    let writes_only = match a.get(3) {
        None => false,
        Some(m) if eq(m, "write") => true,
        Some(m) if eq(m, "all") => false,
        Some(_) => return err(errors::PAUSE_MODE),
    };
    let until = crate::keyspace::store::unix_ms().saturating_add(ms);
    sh.host.shared.pause.pause(until, writes_only);
    Reply::Ok
}

/// CLIENT UNPAUSE
pub fn client_unpause(sh: &Rc<Shard>, _s: &mut Session, _a: &[Bytes]) -> Reply {
    sh.host.shared.pause.unpause();
    Reply::Ok
}

fn on_off(a: &[u8]) -> Option<bool> {
    if eq(a, "on") {
        Some(true)
    } else if eq(a, "off") {
        Some(false)
    } else {
        None
    }
}

/// CLIENT NO-TOUCH ON|OFF (Redis 7.2)
pub fn client_no_touch(_sh: &Rc<Shard>, s: &mut Session, a: &[Bytes]) -> Reply {
    let Some(on) = on_off(&a[2]) else {
        return errors::syntax();
    };
    s.no_touch = on;
    s.info.borrow_mut().no_touch = on;
    Reply::Ok
}

/// CLIENT NO-EVICT ON|OFF
pub fn client_no_evict(_sh: &Rc<Shard>, s: &mut Session, a: &[Bytes]) -> Reply {
    let Some(on) = on_off(&a[2]) else {
        return errors::syntax();
    };
    s.info.borrow_mut().no_evict = on;
    Reply::Ok
}

/// CLIENT REPLY ON|OFF|SKIP. OFF and SKIP are answered with nothing; ON
/// is answered even right after SKIP, as in Redis.
pub fn client_reply(_sh: &Rc<Shard>, s: &mut Session, a: &[Bytes]) -> Reply {
    if eq(&a[2], "on") {
        s.reply_mode = ReplyMode::On;
        Reply::Ok
    } else if eq(&a[2], "off") {
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
    fn matches(&self, c: &ClientInfo) -> bool {
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

    /// TYPE normal|master|replica|slave|pubsub.
    fn set_type(&mut self, t: &[u8]) -> Result<(), Reply> {
        match &t.to_ascii_lowercase()[..] {
            b"normal" => self.type_pubsub = Some(false),
            b"pubsub" => self.type_pubsub = Some(true),
            b"master" | b"replica" | b"slave" => self.type_other = true,
            _ => return Err(errors::unknown_client_type(t)),
        }
        Ok(())
    }
}

/// CLIENT LIST [TYPE normal|master|replica|pubsub] [ID client-id ...]
pub fn client_list<'a>(
    sh: &'a Rc<Shard>,
    s: &'a mut Session,
    a: Vec<Bytes>,
) -> LocalBoxFuture<'a, Reply> {
    Box::pin(async move {
        let n = a.len();
        let mut f = ClientFilter::default();
        let mut j = 2;
        while j < n {
            if eq(&a[j], "type") && j + 1 < n {
                tri!(f.set_type(&a[j + 1]));
                j += 2;
            } else if eq(&a[j], "id") && j + 1 < n {
                let mut ids = Vec::new();
                for id in &a[j + 1..] {
                    match args::int(id) {
                        Ok(v) if v > 0 => ids.push(v as u64),
                        _ => return err(errors::INVALID_CLIENT_ID),
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
    })
}

/// CLIENT KILL ip:port | CLIENT KILL [ID id] [TYPE type] [USER user]
/// [ADDR ip:port] [LADDR ip:port] [SKIPME yes|no] [MAXAGE secs] ...
pub fn client_kill<'a>(
    sh: &'a Rc<Shard>,
    s: &'a mut Session,
    a: Vec<Bytes>,
) -> LocalBoxFuture<'a, Reply> {
    Box::pin(async move {
        if a.len() == 3 {
            // Old form: CLIENT KILL addr:port.
            let f = ClientFilter {
                addr: Some(args::lossy(&a[2])),
                ..Default::default()
            };
            return if kill(sh, s, f).await == 0 {
                err(errors::NO_SUCH_CLIENT)
            } else {
                Reply::Ok
            };
        }
        if a.len() % 2 != 0 {
            return errors::syntax();
        }
        let mut f = ClientFilter {
            skip: Some(s.id),
            ..Default::default()
        };
        for pair in a[2..].chunks(2) {
            let v = &pair[1];
            if eq(&pair[0], "id") {
                match args::int(v) {
                    Ok(id) if id > 0 => f.ids = Some(vec![id as u64]),
                    _ => return err(errors::CLIENT_ID_POSITIVE),
                }
            } else if eq(&pair[0], "addr") {
                f.addr = Some(args::lossy(v));
            } else if eq(&pair[0], "laddr") {
                f.laddr = Some(args::lossy(v));
            } else if eq(&pair[0], "user") {
                // "default" is the only user lanner has.
                if v.as_ref() != b"default" {
                    return errors::no_such_user(v);
                }
            } else if eq(&pair[0], "type") {
                tri!(f.set_type(v));
            } else if eq(&pair[0], "maxage") {
                match args::int(v) {
                    Ok(age) if age >= 0 => f.max_age = Some(age as u64),
                    _ => return err(errors::MAXAGE_NOT_INTEGER),
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
        Reply::Int(kill(sh, s, f).await as i64)
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

/// CLIENT UNBLOCK client-id [TIMEOUT|ERROR]: ends the wait of a client
/// blocked in BLPOP, XREAD BLOCK …, as if it timed out or with
/// `-UNBLOCKED`; 1 if it was blocked, else 0.
pub fn client_unblock<'a>(
    sh: &'a Rc<Shard>,
    s: &'a mut Session,
    a: Vec<Bytes>,
) -> LocalBoxFuture<'a, Reply> {
    Box::pin(async move {
        if a.len() > 4 {
            return errors::subcommand_syntax(&a[1], &a[0]);
        }
        let error = match a.get(3) {
            None => false,
            Some(r) if eq(r, "timeout") => false,
            Some(r) if eq(r, "error") => true,
            Some(_) => return err(errors::UNBLOCK_REASON),
        };
        let id = tri!(args::int(&a[2]));
        let done = sh
            .on_every_shard(s.parent, move |shard: &Shard| {
                let clients = shard.host.clients.borrow();
                let Some(c) = u64::try_from(id).ok().and_then(|id| clients.get(&id)) else {
                    return false;
                };
                let mut c = c.borrow_mut();
                if !c.unblockable || c.unblock.is_some() {
                    return false;
                }
                c.unblock = Some(error);
                if let Some(w) = c.unblock_waker.take() {
                    w.wake();
                }
                true
            })
            .await;
        Reply::Int(done.into_iter().any(|d| d) as i64)
    })
}
