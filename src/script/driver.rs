//! Runs one script on this core as one atomic operation across shards.
//!
//! `redis.call` is synchronous for Lua but a command on another shard needs
//! a hop, so the script runs on its own stack (a `corosensei` coroutine):
//! `redis.call` suspends it with the command, [`execute`] awaits the command
//! inside the script's all-shard hold (`command::atomic`) and resumes it with
//! the reply. A script past `busy-reply-threshold` also suspends itself
//! every few milliseconds (`vm::hook`) so this core serves its other
//! clients (a `-BUSY` reply, SCRIPT KILL, SHUTDOWN NOSAVE).
//!
//! ```text
//!  connection task (async)              coroutine stack (sync Lua)
//!  execute ── resume(Start) ──────────► runner → script → redis.call
//!     ◄──────────────── Yield(Call(args)) ─┘
//!  atomic.call(args).await
//!     ── resume(Reply(r)) ────────────► … → return value
//!     ◄──────────────── Return(reply)
//! ```
//!
//! Stacks come from a per-core pool (a mapping per EVAL would cost more than
//! a small script). A coroutine is never dropped while suspended: Lua's
//! frames on it cannot be unwound, so a dropped run is driven to its end
//! with every command failing and the kill flag set.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use corosensei::stack::DefaultStack;
use corosensei::{Coroutine, CoroutineResult, Yielder};
use mlua::{Function, Value};

use super::busy::{Kind, Running};
use super::convert;
use super::vm::{self, CoreVm, CTX};
use crate::command::atomic::{self, Atomic, Undo};
use crate::command::errors;
use crate::command::session::Session;
use crate::command::table;
use crate::keyspace::tracking::Caller;
use crate::observe::Call;
use crate::resp::{Proto, Reply};
use crate::services::{Shard, Shared};

/// 16 MiB of address space: Lua nests C calls up to 200 deep, and
/// converting a result nested 1000 deep recurses (several MiB in a debug
/// build); pages are only touched when used.
const STACK_SIZE: usize = 16 << 20;
/// Stacks kept per core.
const POOL_MAX: usize = 4;

/// From the script to the driver.
pub enum Up {
    /// Run this command and resume with its reply.
    Call(Vec<Bytes>),
    /// Let other tasks of this core run, then resume.
    Pause,
}

/// From the driver to the script.
pub enum Down {
    Start,
    Reply(Reply),
    Go,
}

type Co = Coroutine<Down, Up, Reply, DefaultStack>;

thread_local! {
    static STACKS: RefCell<Vec<DefaultStack>> = const { RefCell::new(Vec::new()) };
}

/// Suspends the running script's coroutine (`yielder` from `Ctx`).
pub fn suspend(yielder: usize, up: Up) -> Down {
    // SAFETY: `yielder` is set by the coroutine body while it runs and
    // cleared before it returns; it is only used from inside that body.
    let y = unsafe { &*(yielder as *const Yielder<Down, Up>) };
    y.suspend(up)
}

/// What to run.
pub struct Job {
    pub func: Function,
    /// The callback's two arguments (KEYS and ARGV tables for functions).
    pub a: Value,
    pub b: Value,
    pub kind: Kind,
    /// SHA1 or function name, for errors and FUNCTION STATS.
    pub name: String,
    /// The command that runs it.
    pub args: Vec<Bytes>,
    pub no_writes: bool,
    /// Declared `allow-oom`: its writes run over `maxmemory` too.
    pub allow_oom: bool,
}

/// A running script: on drop (finished, or its task dropped) the coroutine
/// is driven to its end and the core and the server forget the script.
struct Guard(Option<Co>, Arc<Shared>);

impl Drop for Guard {
    fn drop(&mut self) {
        CTX.with(|c| {
            let mut c = c.borrow_mut();
            c.running = false;
            c.busy = false;
        });
        self.1.scripts.busy.finish();
        let Some(mut co) = self.0.take() else {
            return;
        };
        if co.started() && !co.done() {
            CTX.with(|c| c.borrow_mut().killed = true);
            let mut input = Down::Go;
            loop {
                match co.resume(input) {
                    CoroutineResult::Return(_) => break,
                    CoroutineResult::Yield(Up::Call(_)) => {
                        input = Down::Reply(errors::script_killed())
                    }
                    CoroutineResult::Yield(Up::Pause) => input = Down::Go,
                }
            }
        }
        give_back(co);
    }
}

fn give_back(co: Co) {
    if !co.done() {
        return;
    }
    let stack = co.into_stack();
    STACKS.with(|s| {
        let mut s = s.borrow_mut();
        if s.len() < POOL_MAX {
            s.push(stack);
        }
    });
}

fn take_stack() -> Option<DefaultStack> {
    STACKS
        .with(|s| s.borrow_mut().pop())
        .or_else(|| DefaultStack::new(STACK_SIZE).ok())
}

/// Lets the core's other tasks run, I/O included: a timer (not a plain
/// yield, after which this task would run again first) so that connections
/// with a request waiting are read and answered meanwhile.
async fn pause() {
    glommio::timer::sleep(std::time::Duration::from_micros(100)).await;
}

/// Marks the script running (CLIENT and SCRIPT KILL see it, the hook
/// times it) and builds its coroutine on a pooled stack.
fn start(sh: &Shard, vm: &Rc<CoreVm>, job: Job, proto: Proto) -> Option<Guard> {
    let stack = take_stack()?;
    let threshold = std::time::Duration::from_millis(sh.host.config().busy_reply_threshold);
    sh.host.shared.scripts.busy.start(Running {
        kind: job.kind,
        name: job.name.clone(),
        args: job.args.clone(),
        start: Instant::now(),
    });
    vm.reset_hook();
    let now = Instant::now();
    CTX.with(|c| {
        let mut c = c.borrow_mut();
        c.resp3 = false;
        c.no_writes = job.no_writes;
        c.running = true;
        c.kind = job.kind;
        c.start = now;
        c.last_pause = now;
        c.threshold = threshold;
        c.busy = false;
        c.killed = false;
        c.killed_at = None;
    });
    let body_vm = vm.clone();
    let Job {
        func, a, b, name, ..
    } = job;
    let co: Co = Coroutine::with_stack(stack, move |y: &Yielder<Down, Up>, _start: Down| {
        CTX.with(|c| c.borrow_mut().yielder = y as *const Yielder<Down, Up> as usize);
        let out = body_vm.run(func, a, b);
        CTX.with(|c| c.borrow_mut().yielder = 0);
        let resp3 = CTX.with(|c| c.borrow().resp3);
        match out {
            Ok(v) => convert::lua_to_reply(&v, resp3, proto),
            Err(e) => vm::error_reply(&e, &name),
        }
    });
    Some(Guard(Some(co), sh.host.shared.clone()))
}

/// Runs `job` on this core's VM (the caller holds its lock) inside
/// `atomic`, and returns the reply for the client.
pub async fn execute(
    sh: &Rc<Shard>,
    s: &mut Session,
    atomic: &mut Atomic,
    vm: &Rc<CoreVm>,
    job: Job,
) -> Reply {
    let allow_oom = job.allow_oom;
    let Some(mut guard) = start(sh, vm, job, s.proto) else {
        return Reply::error(errors::SCRIPT_STACK);
    };
    CTX.with(|c| c.borrow_mut().client = s.id);
    let outer_allow_oom = std::mem::replace(&mut s.allow_oom, allow_oom);
    let mut input = Down::Start;
    let reply = loop {
        let co = guard
            .0
            .as_mut()
            .expect("coroutine present until it returns");
        match co.resume(input) {
            CoroutineResult::Yield(Up::Call(args)) => {
                // A script busy calling commands may run few instructions
                // between calls: check the time here too.
                if vm::pause_due(&sh.host.shared) {
                    pause().await;
                }
                input = Down::Reply(atomic.call(sh, s, args).await);
                if atomic.escalated() {
                    // The run is void (its changes are undone); the
                    // caller runs the script again holding every shard.
                    break Reply::Nil;
                }
            }
            CoroutineResult::Yield(Up::Pause) => {
                pause().await;
                input = Down::Go;
            }
            CoroutineResult::Return(r) => break r,
        }
    };
    s.allow_oom = outer_allow_oom;
    drop(guard);
    reply
}

/// Runs `job` to its end right here, synchronously, on the shard whose
/// keys it declared, inside a step that holds this shard (a script
/// forwarded by another core). Commands run through an undo log; see
/// [`Here`] for the outcomes. A script that
/// turns busy here keeps this core until it ends (or is killed).
pub fn execute_here(
    sh: &Shard,
    proto: Proto,
    db: usize,
    client: u64,
    make: impl FnOnce(&CoreVm) -> Option<Job>,
) -> Here {
    let vm = vm::core_vm(sh);
    let Some(_vm_lock) = vm.try_lock() else {
        return Here::NotNow;
    };
    let Some(job) = make(&vm) else {
        return Here::NotNow;
    };
    let allow_oom = job.allow_oom;
    let Some(mut guard) = start(sh, &vm, job, proto) else {
        return Here::NotNow;
    };
    let mut undo = Undo::new(sh);
    let mut input = Down::Start;
    let reply = loop {
        let co = guard
            .0
            .as_mut()
            .expect("coroutine present until it returns");
        match co.resume(input) {
            CoroutineResult::Yield(Up::Call(args)) => {
                let Some(spec) = table::row_of(&args) else {
                    input = Down::Reply(crate::command::errors::unknown_command(&args));
                    continue;
                };
                let caller = Caller {
                    client,
                    ..Caller::default()
                };
                let Some(cmd) = atomic::here(sh, spec, db, caller, args, allow_oom) else {
                    undo.undo(sh);
                    break Here::Further;
                };
                match undo.call(sh, spec, cmd) {
                    Some((done, args)) => {
                        let call = Call {
                            spec,
                            args: &args,
                            db,
                            client,
                            from_script: true,
                        };
                        sh.host.account(&call, done.took, &done.reply);
                        input = Down::Reply(done.reply);
                    }
                    None => break Here::Further,
                }
            }
            // Nothing else can run on this core until the step returns.
            CoroutineResult::Yield(Up::Pause) => input = Down::Go,
            CoroutineResult::Return(r) => break Here::Done(r),
        }
    };
    drop(guard);
    // This core accounted the script's commands: their MONITOR lines go
    // out now, not with this core's next batch of its own.
    sh.host.observe.flush(&sh.host.shared.observe);
    reply
}

/// How a script run by [`execute_here`] ended.
pub enum Here {
    Done(Reply),
    /// It reached beyond this shard; its changes are put back.
    Further,
    /// This core's VM is in use: nothing ran.
    NotNow,
}
