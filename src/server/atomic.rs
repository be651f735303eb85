//! Placeholder for the all-shard hold scripts run under; replaced by the
//! real implementation on main. Runs each command as a client would,
//! without holding anything.

use std::rc::Rc;

use bytes::Bytes;

use crate::command::fanout::{self, Fanout};
use crate::command::table::{self, Handler};
use crate::resp::Reply;
use crate::server::session::Session;
use crate::shard::core::Shard;
use crate::shard::router::Cmd;

pub struct Atomic;

impl Atomic {
    pub async fn begin(_sh: &Rc<Shard>, _s: &mut Session) -> Atomic {
        Atomic
    }

    pub async fn call(&mut self, sh: &Rc<Shard>, s: &mut Session, args: Vec<Bytes>) -> Reply {
        let Some(spec) = table::lookup(&args[0]) else {
            return Reply::error("ERR unknown command");
        };
        let cmd = |args| Cmd {
            spec,
            db: s.db,
            args,
            client: s.id,
            no_touch: s.no_touch,
        };
        match spec.handler {
            Handler::Local(f) => f(sh, s, &args),
            Handler::Coordinated(f) => f(sh, s, args).await,
            Handler::Keyed(_) | Handler::Multi(..) | Handler::Fanout(..) => {
                let mut shards = spec
                    .key_positions(args.len())
                    .map(|p| sh.slots.shard_of(&args[p]));
                let first = shards.next().unwrap_or(sh.id);
                if shards.all(|x| x == first) {
                    return sh
                        .run_batch(first, vec![cmd(args)])
                        .await
                        .pop()
                        .unwrap_or_else(|| Reply::error("ERR shard unavailable"));
                }
                match spec.handler {
                    Handler::Multi(_, f) => f(sh, s, args).await,
                    Handler::Fanout(f, merge) => {
                        let group = [Fanout {
                            spec,
                            f,
                            merge,
                            args,
                        }];
                        fanout::run_group(sh, s.db, &group)
                            .await
                            .pop()
                            .unwrap_or(Reply::Nil)
                    }
                    _ => Reply::error("ERR CROSSSLOT"),
                }
            }
        }
    }

    pub async fn end(self, _sh: &Rc<Shard>, _s: &mut Session) {}
}
