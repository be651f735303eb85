//! SLOWLOG GET | LEN | RESET | HELP.
//!
//! Each core keeps the slow entries of the commands it timed (`observe`);
//! these commands visit every core and merge, newest first by id (ids come
//! from one shared counter, so they order entries across cores).

use std::rc::Rc;

use bytes::Bytes;
use futures::future::LocalBoxFuture;

use super::args;
use super::errors::{self, err};
use super::keys::help_reply;
use crate::command::session::Session;
use crate::observe::SlowEntry;
use crate::resp::Reply;
use crate::services::Shard;

const HELP: &[&str] = &[
    "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GET [<count>]",
    "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
    "    Entries are made of:",
    "    id, timestamp, time in microseconds, arguments array, client IP and port,",
    "    client name",
    "LEN",
    "    Return the length of the slowlog.",
    "RESET",
    "    Reset the slowlog.",
    "HELP",
    "    Prints this help.",
];

/// Redis's reply for a known subcommand with the wrong arguments, when the
/// container checks them itself.
pub fn subcommand_syntax(a: &[Bytes]) -> Reply {
    errors::subcommand_syntax(&a[1], &a[0])
}

fn entry(e: SlowEntry) -> Reply {
    Reply::Array(vec![
        Reply::Int(e.id as i64),
        Reply::Int(e.time as i64),
        Reply::Int(e.usec as i64),
        Reply::Array(e.argv.into_iter().map(Reply::Bulk).collect()),
        Reply::Bulk(Bytes::from(e.addr)),
        Reply::Bulk(Bytes::from(e.name)),
    ])
}

/// SLOWLOG GET [count] | LEN | RESET | HELP
pub fn slowlog<'a>(
    sh: &'a Rc<Shard>,
    s: &'a mut Session,
    a: Vec<Bytes>,
) -> LocalBoxFuture<'a, Reply> {
    Box::pin(async move {
        let sub = String::from_utf8_lossy(&a[1]).to_ascii_lowercase();
        let n = a.len();
        match sub.as_str() {
            "help" if n == 2 => help_reply(HELP),
            "len" if n == 2 => {
                let lens = sh
                    .on_every_shard(s.parent, |shard: &Shard| {
                        shard.host.observe.slowlog.borrow().len()
                    })
                    .await;
                // Each core keeps up to slowlog-max-len entries; the merged
                // log is the newest slowlog-max-len of them.
                let max_len = sh.host.config().slowlog_max_len as usize;
                Reply::Int(lens.into_iter().sum::<usize>().min(max_len) as i64)
            }
            "reset" if n == 2 => {
                sh.on_every_shard(s.parent, |shard: &Shard| {
                    shard.host.observe.slowlog.borrow_mut().clear()
                })
                .await;
                Reply::Ok
            }
            "get" if n <= 3 => {
                let count = match a.get(2).map(|c| args::int(c)) {
                    None => 10,
                    Some(Ok(c)) if c >= -1 => c,
                    Some(_) => return err(errors::SLOWLOG_COUNT),
                };
                let logs = sh
                    .on_every_shard(s.parent, |shard: &Shard| {
                        shard
                            .host
                            .observe
                            .slowlog
                            .borrow()
                            .iter()
                            .cloned()
                            .collect::<Vec<_>>()
                    })
                    .await;
                let mut all: Vec<SlowEntry> = logs.into_iter().flatten().collect();
                all.sort_by_key(|e| std::cmp::Reverse(e.id));
                let max_len = sh.host.config().slowlog_max_len as usize;
                let take = if count == -1 {
                    all.len()
                } else {
                    count as usize
                };
                Reply::Array(all.into_iter().take(take.min(max_len)).map(entry).collect())
            }
            "help" | "len" | "reset" => errors::arity(&format!("slowlog|{sub}")),
            "get" => subcommand_syntax(&a),
            _ => errors::unknown_subcommand(&a[1], "slowlog"),
        }
    })
}
