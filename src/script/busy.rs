//! Which script runs now, server-wide: for SCRIPT KILL / FUNCTION KILL,
//! FUNCTION STATS, and the `-BUSY` reply other clients get once it has run
//! past `busy-reply-threshold`.
//!
//! A script holds every shard while it runs (`command::atomic`), so at most
//! one runs at a time. Its core sets these fields; any core reads them.
//! `busy` is the only one read per command (one relaxed load, in
//! [`super::busy_reply`]); the rest is touched at script start and end and
//! by the KILL and STATS commands.

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use bytes::Bytes;

use crate::command::errors::{BUSY_EVAL, BUSY_FUNCTION, NOTBUSY, UNKILLABLE};
use crate::resp::Reply;

/// What runs: an EVAL-family script or a function.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Eval = 1,
    Function = 2,
}

pub struct Running {
    pub kind: Kind,
    /// The SHA1 or the function name.
    pub name: String,
    /// The command that started it (FUNCTION STATS shows it).
    pub args: Vec<Bytes>,
    pub start: Instant,
}

#[derive(Default)]
pub struct Busy {
    /// 0: nothing past the threshold; else the `Kind` of the busy script.
    /// Every command on every core reads it, so it has a cache line of its
    /// own, away from what each script writes.
    busy: crossbeam::utils::CachePadded<AtomicU8>,
    /// The running script has run a write command.
    written: AtomicBool,
    /// SCRIPT KILL / FUNCTION KILL asked the running script to stop.
    kill: AtomicBool,
    running: Mutex<Option<Running>>,
}

impl Busy {
    /// The `-BUSY` error for a command arriving now, if a script is busy.
    #[inline]
    pub fn reply(&self) -> Option<Reply> {
        match self.busy.load(Ordering::Relaxed) {
            0 => None,
            1 => Some(Reply::error(BUSY_EVAL)),
            _ => Some(Reply::error(BUSY_FUNCTION)),
        }
    }

    pub fn is_busy(&self) -> bool {
        self.busy.load(Ordering::Relaxed) != 0
    }

    pub fn start(&self, r: Running) {
        self.written.store(false, Ordering::Relaxed);
        self.kill.store(false, Ordering::Relaxed);
        *self.running.lock().unwrap_or_else(|p| p.into_inner()) = Some(r);
    }

    /// The running script went past the threshold.
    pub fn set_busy(&self, kind: Kind) {
        self.busy.store(kind as u8, Ordering::Relaxed);
    }

    pub fn finish(&self) {
        *self.running.lock().unwrap_or_else(|p| p.into_inner()) = None;
        if self.busy.load(Ordering::Relaxed) != 0 {
            self.busy.store(0, Ordering::Relaxed);
        }
        self.kill.store(false, Ordering::Relaxed);
    }

    pub fn wrote(&self) {
        self.written.store(true, Ordering::Relaxed);
    }

    pub fn kill_requested(&self) -> bool {
        self.kill.load(Ordering::Relaxed)
    }

    /// SCRIPT KILL (`eval`) or FUNCTION KILL, with Redis's checks in its order.
    pub fn kill(&self, eval: bool) -> Reply {
        let running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        let Some(r) = running.as_ref() else {
            return Reply::error(NOTBUSY);
        };
        if self.written.load(Ordering::Relaxed) {
            return Reply::error(UNKILLABLE);
        }
        match (eval, r.kind) {
            (true, Kind::Function) => Reply::error(BUSY_FUNCTION),
            (false, Kind::Eval) => Reply::error(BUSY_EVAL),
            _ => {
                self.kill.store(true, Ordering::Relaxed);
                Reply::Ok
            }
        }
    }

    /// FUNCTION STATS' `running_script`: name, command, duration_ms.
    pub fn running_function(&self) -> Reply {
        let running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        match running.as_ref() {
            Some(r) if r.kind == Kind::Function => Reply::Map(vec![
                (
                    Reply::bulk_from(b"name"),
                    Reply::bulk_from(r.name.as_bytes()),
                ),
                (
                    Reply::bulk_from(b"command"),
                    Reply::Array(r.args.iter().cloned().map(Reply::Bulk).collect()),
                ),
                (
                    Reply::bulk_from(b"duration_ms"),
                    Reply::Int(r.start.elapsed().as_millis() as i64),
                ),
            ]),
            _ => Reply::Nil,
        }
    }
}
