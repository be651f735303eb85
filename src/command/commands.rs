//! COMMAND and its subcommands: the command table as clients see it
//! (redis-cli's hints, client libraries' key routing, ACL tooling).
//!
//! Everything is read from the table's rows (`command::table`): names,
//! arities, flags, ACL categories, tips, key specs and subcommands, in
//! Redis 7.0's reply shapes. Runs on the connection's core; touches no
//! shard. Redis lists commands in its dictionary's order; lanner lists
//! them in table order.

use std::rc::Rc;

use bytes::Bytes;

use super::args::eq;
use super::errors;
use super::keys::help_reply;
use super::keyspec::{kf, Begin, Find, KeySpec};
use super::table::{self, flags, CommandSpec, Resolved, COMMANDS};
use crate::command::session::Session;
use crate::resp::Reply;
use crate::services::Shard;

fn bulk(s: &str) -> Reply {
    Reply::Bulk(Bytes::copy_from_slice(s.as_bytes()))
}

/// A set of flag names, as Redis's `addReplyCommandFlags` writes them.
fn flag_set(names: impl Iterator<Item = &'static str>) -> Reply {
    Reply::Set(names.map(Reply::Status).collect())
}

fn key_flags(flags: u16) -> Reply {
    flag_set(
        kf::NAMES
            .iter()
            .filter(|(f, _)| flags & f != 0)
            .map(|(_, n)| *n),
    )
}

fn key_spec(k: &KeySpec) -> Reply {
    let map = |pairs: Vec<(&str, Reply)>| {
        Reply::Map(pairs.into_iter().map(|(k, v)| (bulk(k), v)).collect())
    };
    let int = |n: i32| Reply::Int(n as i64);
    let begin = match k.begin {
        Begin::Index(pos) => map(vec![
            ("type", bulk("index")),
            ("spec", map(vec![("index", int(pos))])),
        ]),
        Begin::Keyword(word, from) => map(vec![
            ("type", bulk("keyword")),
            (
                "spec",
                map(vec![("keyword", bulk(word)), ("startfrom", int(from))]),
            ),
        ]),
        Begin::BeginUnknown => map(vec![("type", bulk("unknown")), ("spec", map(vec![]))]),
    };
    let find = match k.find {
        Find::Range(last, step, limit) => map(vec![
            ("type", bulk("range")),
            (
                "spec",
                map(vec![
                    ("lastkey", int(last)),
                    ("keystep", int(step)),
                    ("limit", int(limit)),
                ]),
            ),
        ]),
        Find::Keynum(idx, first, step) => map(vec![
            ("type", bulk("keynum")),
            (
                "spec",
                map(vec![
                    ("keynumidx", int(idx)),
                    ("firstkey", int(first)),
                    ("keystep", int(step)),
                ]),
            ),
        ]),
        Find::FindUnknown => map(vec![("type", bulk("unknown")), ("spec", map(vec![]))]),
    };
    let mut pairs = Vec::with_capacity(4);
    if let Some(notes) = k.notes {
        pairs.push(("notes", bulk(notes)));
    }
    pairs.push(("flags", key_flags(k.flags)));
    pairs.push(("begin_search", begin));
    pairs.push(("find_keys", find));
    map(pairs)
}

/// One command's entry of COMMAND / COMMAND INFO (Redis's
/// `addReplyCommandInfo`).
fn info(c: &CommandSpec) -> Reply {
    let names = flags::NAMES
        .iter()
        .filter(|(f, _)| c.flags & f != 0)
        .map(|(_, n)| *n)
        .chain(c.movablekeys.then_some("movablekeys"))
        .chain(c.has(flags::ALLOW_BUSY).then_some("allow_busy"));
    Reply::Array(vec![
        bulk(c.name),
        Reply::Int(c.arity as i64),
        flag_set(names),
        Reply::Int(c.first_key as i64),
        Reply::Int(c.last_key as i64),
        Reply::Int(c.step as i64),
        // Redis writes the categories as simple strings (`+@read`).
        Reply::Set(
            c.acl
                .iter()
                .map(|a| Reply::SimpleString(Bytes::from(format!("@{a}"))))
                .collect(),
        ),
        Reply::Set(c.tips.iter().map(|t| bulk(t)).collect()),
        Reply::Set(c.key_specs.iter().map(key_spec).collect()),
        Reply::Array(c.subcommands.iter().map(info).collect()),
    ])
}

/// One command's entry of COMMAND DOCS: the documentation lanner keeps.
fn docs(c: &CommandSpec) -> Reply {
    let mut pairs = vec![
        (bulk("summary"), bulk(c.summary)),
        (bulk("since"), bulk(c.since)),
        (bulk("group"), bulk(c.group)),
    ];
    if !c.subcommands.is_empty() {
        pairs.push((
            bulk("subcommands"),
            Reply::Map(
                c.subcommands
                    .iter()
                    .map(|s| (bulk(s.name), docs(s)))
                    .collect(),
            ),
        ));
    }
    Reply::Map(pairs)
}

/// COMMAND
pub fn command(_sh: &Rc<Shard>, _s: &mut Session, _a: &[Bytes]) -> Reply {
    Reply::Array(COMMANDS.iter().map(info).collect())
}

/// COMMAND COUNT
pub fn command_count(_sh: &Rc<Shard>, _s: &mut Session, _a: &[Bytes]) -> Reply {
    Reply::Int(COMMANDS.len() as i64)
}

/// COMMAND INFO [command-name ...]: unknown names are nil; subcommands by
/// their full names (`config|get`).
pub fn command_info(_sh: &Rc<Shard>, _s: &mut Session, a: &[Bytes]) -> Reply {
    if a.len() == 2 {
        return Reply::Array(COMMANDS.iter().map(info).collect());
    }
    Reply::Array(
        a[2..]
            .iter()
            .map(|n| table::lookup_full(n).map_or(Reply::Nil, info))
            .collect(),
    )
}

/// COMMAND DOCS [command-name ...]: unknown names are left out.
pub fn command_docs(_sh: &Rc<Shard>, _s: &mut Session, a: &[Bytes]) -> Reply {
    let pick: Vec<&CommandSpec> = if a.len() == 2 {
        COMMANDS.iter().collect()
    } else {
        a[2..]
            .iter()
            .filter_map(|n| table::lookup_full(n))
            .collect()
    };
    Reply::Map(pick.into_iter().map(|c| (bulk(c.name), docs(c))).collect())
}

/// COMMAND LIST [FILTERBY MODULE name | ACLCAT category | PATTERN pattern]:
/// every command and subcommand; lanner has no modules.
pub fn command_list(_sh: &Rc<Shard>, _s: &mut Session, a: &[Bytes]) -> Reply {
    type Filter = Box<dyn Fn(&CommandSpec) -> bool>;
    let mut filter: Option<Filter> = None;
    let mut i = 2;
    while i < a.len() {
        if !(eq(&a[i], "filterby") && a.len() - 1 - i == 2) {
            return errors::syntax();
        }
        let v = a[i + 2].clone();
        filter = Some(if eq(&a[i + 1], "module") {
            Box::new(|_| false)
        } else if eq(&a[i + 1], "aclcat") {
            let cat = String::from_utf8_lossy(&v).to_ascii_lowercase();
            Box::new(move |c| c.acl.contains(&cat.as_str()))
        } else if eq(&a[i + 1], "pattern") {
            Box::new(move |c| crate::glob::glob_match(&v, c.name.as_bytes(), true))
        } else {
            return errors::syntax();
        });
        i += 3;
    }
    Reply::Array(
        table::all()
            .filter(|c| filter.as_ref().is_none_or(|f| f(c)))
            .map(|c| bulk(c.name))
            .collect(),
    )
}

/// COMMAND GETKEYS command [arg ...]
pub fn command_getkeys(_sh: &Rc<Shard>, _s: &mut Session, a: &[Bytes]) -> Reply {
    getkeys_generic(a, false)
}

/// COMMAND GETKEYSANDFLAGS command [arg ...]
pub fn command_getkeysandflags(_sh: &Rc<Shard>, _s: &mut Session, a: &[Bytes]) -> Reply {
    getkeys_generic(a, true)
}

/// COMMAND GETKEYS and GETKEYSANDFLAGS, with Redis 7.0's checks in its
/// order: a known command (subcommands resolved), one that has keys, its
/// arity, then the keys its specs or key function find.
fn getkeys_generic(a: &[Bytes], with_flags: bool) -> Reply {
    let cmd = &a[2..];
    let Resolved::Row(spec) = table::resolve(cmd) else {
        return errors::err(errors::GETKEYS_INVALID_COMMAND);
    };
    if !spec.has_keys() {
        return errors::err(errors::GETKEYS_NO_KEYS);
    }
    if !spec.arity_ok(cmd.len()) {
        return errors::err(errors::GETKEYS_ARITY);
    }
    let keys = spec.keys_and_flags(cmd).unwrap_or_default();
    if keys.is_empty() {
        return if spec.has(flags::NO_MANDATORY_KEYS) {
            Reply::Array(Vec::new())
        } else {
            errors::err(errors::GETKEYS_INVALID_ARGUMENTS)
        };
    }
    Reply::Array(
        keys.into_iter()
            .map(|(p, f)| {
                let key = Reply::Bulk(cmd[p].clone());
                if with_flags {
                    Reply::Array(vec![key, key_flags(f)])
                } else {
                    key
                }
            })
            .collect(),
    )
}

const HELP: &[&str] = &[
    "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "(no subcommand)",
    "    Return details about all Redis commands.",
    "COUNT",
    "    Return the total number of commands in this Redis server.",
    "LIST",
    "    Return a list of all commands in this Redis server.",
    "INFO [<command-name> ...]",
    "    Return details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "DOCS [<command-name> ...]",
    "    Return documentation details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "GETKEYS <full-command>",
    "    Return the keys from a full Redis command.",
    "GETKEYSANDFLAGS <full-command>",
    "    Return the keys and the access flags from a full Redis command.",
    "HELP",
    "    Prints this help.",
];

/// COMMAND HELP
pub fn command_help(_sh: &Rc<Shard>, _s: &mut Session, _a: &[Bytes]) -> Reply {
    help_reply(HELP)
}
