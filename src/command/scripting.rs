//! Scripting and functions: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO, FCALL,
//! FCALL_RO, SCRIPT and FUNCTION.
//!
//! All run on the connection's core (`Coordinated`). A script or function
//! takes the all-shard hold (`command::atomic`) and this core's VM, then runs
//! in the driver (`script::driver`); its keys may live on any shard,
//! declared or not. SCRIPT/FUNCTION management touches the shared cache and
//! libraries and this core's VM only; other cores catch up lazily.

use std::rc::Rc;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use futures::future::LocalBoxFuture;

use super::atomic::Atomic;
use super::errors;
use super::session::Session;
use super::table::CommandSpec;
use crate::keyspace::locks::Claim;
use crate::keyspace::slot::ShardId;
use crate::resp::Reply;
use crate::runtime::Plan;
use crate::script::busy::Kind;
use crate::script::cache::{sha1_hex, Script};
use crate::script::driver::{self, Here, Job};
use crate::script::flags::{self, Flags};
use crate::script::function::{self, Library, Policy};
use crate::script::vm::{core_vm, CoreVm};
use crate::services::Shard;

/// EVAL script numkeys [key ...] [arg ...]
pub fn eval<'a>(sh: &'a Rc<Shard>, s: &'a mut Session, a: Vec<Bytes>) -> LocalBoxFuture<'a, Reply> {
    Box::pin(eval_generic(sh, s, a, false, false))
}

/// EVALSHA sha1 numkeys [key ...] [arg ...]
pub fn evalsha<'a>(
    sh: &'a Rc<Shard>,
    s: &'a mut Session,
    a: Vec<Bytes>,
) -> LocalBoxFuture<'a, Reply> {
    Box::pin(eval_generic(sh, s, a, true, false))
}

/// EVAL_RO script numkeys [key ...] [arg ...]
pub fn eval_ro<'a>(
    sh: &'a Rc<Shard>,
    s: &'a mut Session,
    a: Vec<Bytes>,
) -> LocalBoxFuture<'a, Reply> {
    Box::pin(eval_generic(sh, s, a, false, true))
}

/// EVALSHA_RO sha1 numkeys [key ...] [arg ...]
pub fn evalsha_ro<'a>(
    sh: &'a Rc<Shard>,
    s: &'a mut Session,
    a: Vec<Bytes>,
) -> LocalBoxFuture<'a, Reply> {
    Box::pin(eval_generic(sh, s, a, true, true))
}

/// FCALL function numkeys [key ...] [arg ...]
pub fn fcall<'a>(
    sh: &'a Rc<Shard>,
    s: &'a mut Session,
    a: Vec<Bytes>,
) -> LocalBoxFuture<'a, Reply> {
    Box::pin(fcall_generic(sh, s, a, false))
}

/// FCALL_RO function numkeys [key ...] [arg ...]
pub fn fcall_ro<'a>(
    sh: &'a Rc<Shard>,
    s: &'a mut Session,
    a: Vec<Bytes>,
) -> LocalBoxFuture<'a, Reply> {
    Box::pin(fcall_generic(sh, s, a, true))
}

/// EVAL's and EVAL_RO's flags (Redis's `evalGetCommandFlags`): those its
/// shebang declares, if it has one.
pub fn eval_flags(sh: &Shard, _s: &Session, spec: &CommandSpec, a: &[Bytes]) -> u32 {
    let cached = sh.host.shared.scripts.cache.get(&sha1_hex(&a[1]));
    let declared = match cached {
        Some(script) => script.flags,
        None => flags::eval_flags(&a[1]).ok().flatten(),
    };
    script_flags(spec.flags, declared)
}

/// EVALSHA's and EVALSHA_RO's flags: those of the cached script's shebang.
pub fn evalsha_flags(sh: &Shard, _s: &Session, spec: &CommandSpec, a: &[Bytes]) -> u32 {
    let sha = String::from_utf8_lossy(&a[1]).to_ascii_lowercase();
    let declared = sh.host.shared.scripts.cache.get(&sha).and_then(|s| s.flags);
    script_flags(spec.flags, declared)
}

/// FCALL's and FCALL_RO's flags: those the function registered with.
pub fn fcall_flags(sh: &Shard, _s: &Session, spec: &CommandSpec, a: &[Bytes]) -> u32 {
    let found = sh
        .host
        .shared
        .scripts
        .functions
        .find(&String::from_utf8_lossy(&a[1]));
    script_flags(spec.flags, found.map(|(_, meta)| meta.flags))
}

/// Redis's `scriptFlagsToCmdFlags`: declared flags replace the row's
/// write, deny-OOM, stale and may-replicate flags; without any (a script
/// with no shebang, one not found) the row's stay.
fn script_flags(row: u32, declared: Option<Flags>) -> u32 {
    use super::table::flags as cf;
    let Some(f) = declared else {
        return row;
    };
    let mut out = row & !(cf::STALE | cf::DENYOOM | cf::WRITE | cf::MAY_REPLICATE);
    if !f.has(Flags::ALLOW_OOM) && !f.has(Flags::NO_WRITES) {
        out |= cf::DENYOOM;
    }
    if !f.has(Flags::NO_WRITES) {
        out |= cf::WRITE;
    }
    if f.has(Flags::ALLOW_STALE) {
        out |= cf::STALE;
    }
    out
}

/// The key count at a[2], checked against the arguments, or Redis's error
/// (`bad` is the text for a count that is not an integer).
fn numkeys(a: &[Bytes], bad: &'static str) -> Result<usize, Reply> {
    let n = std::str::from_utf8(&a[2])
        .ok()
        .and_then(|t| crate::keyspace::value::parse_canonical_i64(t.as_bytes()))
        .ok_or_else(|| Reply::error(bad))?;
    if n > (a.len() - 3) as i64 {
        return Err(Reply::error(errors::NUMKEYS_ARGS));
    }
    if n < 0 {
        return Err(Reply::error(errors::NUMKEYS_NEGATIVE));
    }
    Ok(n as usize)
}

/// EVAL, EVALSHA and their _RO forms.
async fn eval_generic(
    sh: &Rc<Shard>,
    s: &mut Session,
    a: Vec<Bytes>,
    by_sha: bool,
    ro: bool,
) -> Reply {
    monitor_start(sh, s, &a);
    if by_sha && a[1].len() != 40 {
        return Reply::error(errors::NOSCRIPT);
    }
    let n = tri!(numkeys(&a, errors::NOT_INTEGER));
    let cache = &sh.host.shared.scripts.cache;
    let vm = core_vm(sh);
    let script = if by_sha {
        // EVALSHA ignores the case of the SHA1 (SCRIPT EXISTS does not).
        match cache.get(&String::from_utf8_lossy(&a[1]).to_ascii_lowercase()) {
            Some(script) => script,
            None => return Reply::error(errors::NOSCRIPT),
        }
    } else {
        let sha = sha1_hex(&a[1]);
        match cache.get(&sha) {
            Some(script) => script,
            None => {
                let flags = match flags::eval_flags(&a[1]) {
                    Ok(f) => f,
                    Err(e) => return Reply::error(e),
                };
                let guard = vm.lock().await;
                let compiled = vm.script(&sha, &a[1]);
                drop(guard);
                if let Err(e) = compiled {
                    return Reply::error(e);
                }
                cache.insert(sha, a[1].clone(), flags)
            }
        }
    };
    let declared_no_writes = script.flags.map(|f| f.has(Flags::NO_WRITES));
    if ro && declared_no_writes == Some(false) {
        return Reply::error(errors::RO_WITH_WRITE);
    }
    let no_writes = ro || declared_no_writes == Some(true);
    let allow_oom = script.flags.is_some_and(|f| f.has(Flags::ALLOW_OOM));
    // A script declaring its flags, and that it may write, is refused
    // whole over maxmemory (Redis's script flags); one without flags is
    // checked command by command.
    if script.flags.is_some() && !allow_oom && !no_writes && out_of_memory(sh) {
        return errors::oom();
    }
    let keys = &a[3..3 + n];
    let job = {
        let (sha, body) = (script.sha.clone(), script.body.clone());
        let (keys, argv, args) = (keys.to_vec(), a[3 + n..].to_vec(), a.clone());
        let limits = Limits {
            no_writes,
            allow_oom,
        };
        move |vm: &CoreVm| eval_job(vm, sha, &body, &keys, &argv, args, limits)
    };
    let mark = Mark::Script(&script);
    let here = if let Some(owner) = owner_elsewhere(sh, s, keys, &mark) {
        forward(sh, s, owner, move |vm: &CoreVm| job(vm).ok()).await
    } else if !keys.is_empty() && may_run_locally(sh, keys, &mark) && sh.is_free() && !s.atomic {
        // Its keys are here and nothing holds this shard: run it now, to
        // its end, as a forwarded script runs on its keys' core.
        let here = driver::execute_here(sh, s.proto, s.db, s.id, |vm: &CoreVm| job(vm).ok());
        sh.serve_blocked();
        here
    } else {
        Here::NotNow
    };
    match here {
        Here::Done(reply) => return reply,
        Here::Further => mark.set(),
        Here::NotNow => {}
    }
    let mut local = may_run_locally(sh, keys, &mark);
    loop {
        let mut atomic = if local {
            Atomic::begin_local(sh, s).await
        } else {
            Atomic::begin(sh, s).await
        };
        let guard = vm.lock().await;
        let db = s.db;
        let job = eval_job(
            &vm,
            script.sha.clone(),
            &script.body,
            keys,
            &a[3 + n..],
            a.clone(),
            Limits {
                no_writes,
                allow_oom,
            },
        );
        let reply = match job {
            Ok(job) => driver::execute(sh, s, &mut atomic, &vm, job).await,
            Err(e) => e,
        };
        drop(guard);
        // SELECT inside a script does not change the caller's database.
        s.db = db;
        let escalated = atomic.escalated();
        atomic.end(s);
        if !escalated {
            return reply;
        }
        mark.set();
        local = false;
    }
}

/// Over `maxmemory` with nothing left to evict on this core's shard.
fn out_of_memory(sh: &Shard) -> bool {
    let mut st = sh.store.borrow_mut();
    st.memory.limit != 0 && !st.room_for_write()
}

/// Where the mark "seen touching more than the shard of its declared
/// keys" of a script or function lives: with the cached script, or with
/// the function's library. Marked ones run holding every shard; the mark
/// goes with them (SCRIPT FLUSH, FUNCTION DELETE/FLUSH, a reload).
enum Mark<'a> {
    Script(&'a Script),
    Function(&'a Library, usize),
}

impl Mark<'_> {
    fn spans(&self) -> bool {
        match self {
            Mark::Script(s) => s.spans.load(Ordering::Relaxed),
            Mark::Function(lib, i) => lib.spans[*i].load(Ordering::Relaxed),
        }
    }

    fn set(&self) {
        match self {
            Mark::Script(s) => s.spans.store(true, Ordering::Relaxed),
            Mark::Function(lib, i) => lib.spans[*i].store(true, Ordering::Relaxed),
        }
    }
}

/// What a script may do: write, and write over maxmemory.
#[derive(Clone, Copy)]
struct Limits {
    no_writes: bool,
    allow_oom: bool,
}

/// EVAL's job: the compiled script with KEYS and ARGV set.
#[allow(clippy::too_many_arguments)]
fn eval_job(
    vm: &CoreVm,
    sha: String,
    body: &[u8],
    keys: &[Bytes],
    argv: &[Bytes],
    args: Vec<Bytes>,
    limits: Limits,
) -> Result<Job, Reply> {
    let func = vm.script(&sha, body).map_err(Reply::error)?;
    vm.set_keys_argv(keys, argv)
        .map_err(|e| Reply::error(errors::generic(e)))?;
    Ok(Job {
        func,
        a: mlua::Value::Nil,
        b: mlua::Value::Nil,
        kind: Kind::Eval,
        name: sha,
        args,
        no_writes: limits.no_writes,
        allow_oom: limits.allow_oom,
    })
}

/// The shard owning every declared key of a script, when it is another
/// core's and the script may run there first (see `forward`).
fn owner_elsewhere(sh: &Shard, s: &Session, keys: &[Bytes], mark: &Mark) -> Option<ShardId> {
    if sh.shards() == 1 || keys.is_empty() || s.atomic || s.parent.is_some() {
        return None;
    }
    let owner = sh.slots.shard_of(&keys[0]);
    (owner != sh.id && keys.iter().all(|k| sh.slots.shard_of(k) == owner) && !mark.spans())
        .then_some(owner)
}

/// Runs a script on the core of the shard owning its declared keys, in
/// one step holding that shard: the script sees only that shard and runs
/// to its end there (`driver::execute_here`). When it reached further (its
/// changes are put back; it is remembered as needing every shard) or could
/// not run there now, the caller runs it here, holding every shard.
async fn forward(
    sh: &Rc<Shard>,
    s: &Session,
    owner: ShardId,
    make: impl FnOnce(&CoreVm) -> Option<Job> + Send + 'static,
) -> Here {
    let (proto, db, client) = (s.proto, s.db, s.id);
    let mut plan = Plan::new(sh, s.parent);
    let here = plan.part(owner, Claim::Whole, move |there: &Shard| {
        driver::execute_here(there, proto, db, client, make)
    });
    plan.run().await;
    here.take()
}

/// Whether a script may first run holding only this core's shard: its
/// declared keys all live here and it has not been seen to need more.
/// (With one shard that is always the case.)
fn may_run_locally(sh: &Shard, keys: &[Bytes], mark: &Mark) -> bool {
    sh.shards() > 1 && keys.iter().all(|k| sh.slots.shard_of(k) == sh.id) && !mark.spans()
}

/// FCALL and FCALL_RO.
/// MONITOR shows a script command as it starts, before what it calls.
fn monitor_start(sh: &Shard, s: &Session, a: &[Bytes]) {
    if let Some(spec) = super::table::row_of(a) {
        super::place::monitor_script(sh, s, spec, a);
    }
}

async fn fcall_generic(sh: &Rc<Shard>, s: &mut Session, a: Vec<Bytes>, ro: bool) -> Reply {
    monitor_start(sh, s, &a);
    let asked = String::from_utf8_lossy(&a[1]);
    let Some((lib, meta)) = sh.host.shared.scripts.functions.find(&asked) else {
        return Reply::error(errors::FUNCTION_NOT_FOUND);
    };
    // The name it was registered under (the lookup ignores case).
    let name = meta.name.clone();
    let n = tri!(numkeys(&a, errors::FCALL_NUMKEYS));
    let declared_no_writes = meta.flags.has(Flags::NO_WRITES);
    if ro && !declared_no_writes {
        return Reply::error(errors::RO_WITH_WRITE);
    }
    let allow_oom = meta.flags.has(Flags::ALLOW_OOM);
    if !(allow_oom || ro || declared_no_writes) && out_of_memory(sh) {
        return errors::oom();
    }
    let vm = core_vm(sh);
    let keys = &a[3..3 + n];
    let index = lib
        .functions
        .iter()
        .position(|f| f.name == name)
        .unwrap_or(0);
    let mark = Mark::Function(&lib, index);
    let mut local = may_run_locally(sh, keys, &mark);
    loop {
        let mut atomic = if local {
            Atomic::begin_local(sh, s).await
        } else {
            Atomic::begin(sh, s).await
        };
        let guard = vm.lock().await;
        let db = s.db;
        let reply = match vm.function(&lib, &name) {
            Err(e) => Reply::error(e),
            Ok(func) => match (vm.strings(keys), vm.strings(&a[3 + n..])) {
                (Ok(k), Ok(args)) if vm.clear_keys_argv().is_ok() => {
                    let job = Job {
                        func,
                        a: mlua::Value::Table(k),
                        b: mlua::Value::Table(args),
                        kind: Kind::Function,
                        name: name.clone(),
                        args: a.clone(),
                        no_writes: ro || declared_no_writes,
                        allow_oom,
                    };
                    driver::execute(sh, s, &mut atomic, &vm, job).await
                }
                (Err(e), _) | (_, Err(e)) => Reply::error(errors::generic(e)),
                _ => Reply::error(errors::FUNCTION_ARGS),
            },
        };
        drop(guard);
        s.db = db;
        let escalated = atomic.escalated();
        atomic.end(s);
        if !escalated {
            return reply;
        }
        mark.set();
        local = false;
    }
}

fn eq(a: &[u8], b: &str) -> bool {
    a.eq_ignore_ascii_case(b.as_bytes())
}

fn sub_arity(container: &str, sub: &[u8]) -> Reply {
    errors::arity(&format!(
        "{container}|{}",
        String::from_utf8_lossy(sub).to_ascii_lowercase()
    ))
}

fn help(lines: &[&'static str]) -> Reply {
    Reply::Array(lines.iter().map(|l| Reply::Status(l)).collect())
}

const SCRIPT_HELP: &[&str] = &[
    "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DEBUG (YES|SYNC|NO)",
    "    Set the debug mode for subsequent scripts executed.",
    "EXISTS <sha1> [<sha1> ...]",
    "    Return information about the existence of the scripts in the script cache.",
    "FLUSH [ASYNC|SYNC]",
    "    Flush the Lua scripts cache. Very dangerous on replicas.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the scripts cache.",
    "    * SYNC: Synchronously flush the scripts cache.",
    "KILL",
    "    Kill the currently executing Lua script.",
    "LOAD <script>",
    "    Load a script into the scripts cache without executing it.",
    "HELP",
    "    Prints this help.",
];

/// SCRIPT LOAD | EXISTS | FLUSH [ASYNC|SYNC] | KILL | DEBUG | HELP.
/// DEBUG YES and SYNC are refused: lanner has no Lua debugger.
pub fn script<'a>(
    sh: &'a Rc<Shard>,
    _s: &'a mut Session,
    a: Vec<Bytes>,
) -> LocalBoxFuture<'a, Reply> {
    Box::pin(async move {
        let sub = a[1].clone();
        let scripts = &sh.host.shared.scripts;
        if eq(&sub, "kill") {
            return match a.len() {
                2 => scripts.busy.kill(true),
                _ => sub_arity("script", &sub),
            };
        }
        if let Some(busy) = scripts.busy.reply() {
            return busy;
        }
        if eq(&sub, "help") {
            return match a.len() {
                2 => help(SCRIPT_HELP),
                _ => sub_arity("script", &sub),
            };
        }
        if eq(&sub, "load") {
            if a.len() != 3 {
                return sub_arity("script", &sub);
            }
            let flags = match flags::eval_flags(&a[2]) {
                Ok(f) => f,
                Err(e) => return Reply::error(e),
            };
            let sha = sha1_hex(&a[2]);
            if scripts.cache.get(&sha).is_none() {
                let vm = core_vm(sh);
                let guard = vm.lock().await;
                let compiled = vm.script(&sha, &a[2]);
                drop(guard);
                if let Err(e) = compiled {
                    return Reply::error(e);
                }
                scripts.cache.insert(sha.clone(), a[2].clone(), flags);
            }
            return Reply::Bulk(Bytes::from(sha));
        }
        if eq(&sub, "exists") {
            if a.len() < 3 {
                return sub_arity("script", &sub);
            }
            return Reply::Array(
                a[2..]
                    .iter()
                    .map(|sha| Reply::Int(scripts.cache.exists(sha) as i64))
                    .collect(),
            );
        }
        if eq(&sub, "flush") {
            if a.len() > 3 {
                return sub_arity("script", &sub);
            }
            if a.len() == 3 && !eq(&a[2], "sync") && !eq(&a[2], "async") {
                return Reply::error(errors::SCRIPT_FLUSH_MODE);
            }
            scripts.cache.flush();
            let vm = core_vm(sh);
            let _guard = vm.lock().await;
            vm.forget_all();
            return Reply::Ok;
        }
        if eq(&sub, "debug") {
            if a.len() != 3 {
                return sub_arity("script", &sub);
            }
            return if eq(&a[2], "no") {
                Reply::Ok
            } else if eq(&a[2], "yes") || eq(&a[2], "sync") {
                Reply::error(errors::SCRIPT_DEBUG_UNSUPPORTED)
            } else {
                Reply::error(errors::SCRIPT_DEBUG_MODE)
            };
        }
        errors::unknown_subcommand(&sub, "script")
    })
}

const FUNCTION_HELP: &[&str] = &[
    "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "LOAD [REPLACE] <FUNCTION CODE>",
    "    Create a new library with the given library name and code.",
    "DELETE <LIBRARY NAME>",
    "    Delete the given library.",
    "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
    "    Return general information on all the libraries:",
    "    * Library name",
    "    * The engine used to run the Library",
    "    * Library description",
    "    * Functions list",
    "    * Library code (if WITHCODE is given)",
    "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
    "STATS",
    "    Return information about the current function running:",
    "    * Function name",
    "    * Command used to run the function",
    "    * Duration in MS that the function is running",
    "    If no function is running, return nil",
    "    In addition, returns a list of available engines.",
    "KILL",
    "    Kill the current running function.",
    "FLUSH [ASYNC|SYNC]",
    "    Delete all the libraries.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the libraries.",
    "    * SYNC: Synchronously flush the libraries.",
    "DUMP",
    "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
    "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
    "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
    "    control how to handle existing libraries (default APPEND):",
    "    * FLUSH: delete all existing libraries.",
    "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
    "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
    "      libraries with the new libraries (notice that even on this option there is a chance of failure",
    "      in case of functions name collision with another library).",
    "HELP",
    "    Prints this help.",
];

/// FUNCTION LOAD [REPLACE] code | DELETE lib | FLUSH [ASYNC|SYNC] |
/// LIST [LIBRARYNAME pattern] [WITHCODE] | DUMP | RESTORE payload
/// [FLUSH|APPEND|REPLACE] | STATS | KILL | HELP.
pub fn function<'a>(
    sh: &'a Rc<Shard>,
    _s: &'a mut Session,
    a: Vec<Bytes>,
) -> LocalBoxFuture<'a, Reply> {
    Box::pin(async move {
        let sub = a[1].clone();
        let scripts = &sh.host.shared.scripts;
        let arity = |ok: bool| (!ok).then(|| sub_arity("function", &sub));
        if eq(&sub, "kill") {
            return arity(a.len() == 2).unwrap_or_else(|| scripts.busy.kill(false));
        }
        if eq(&sub, "stats") {
            if let Some(r) = arity(a.len() == 2) {
                return r;
            }
            let (libs, funcs) = scripts.functions.counts();
            return Reply::Map(vec![
                (
                    Reply::bulk_from(b"running_script"),
                    scripts.busy.running_function(),
                ),
                (
                    Reply::bulk_from(b"engines"),
                    Reply::Map(vec![(
                        Reply::bulk_from(b"LUA"),
                        Reply::Map(vec![
                            (
                                Reply::bulk_from(b"libraries_count"),
                                Reply::Int(libs as i64),
                            ),
                            (
                                Reply::bulk_from(b"functions_count"),
                                Reply::Int(funcs as i64),
                            ),
                        ]),
                    )]),
                ),
            ]);
        }
        if let Some(busy) = scripts.busy.reply() {
            return busy;
        }
        if eq(&sub, "help") {
            return arity(a.len() == 2).unwrap_or_else(|| help(FUNCTION_HELP));
        }
        if eq(&sub, "load") {
            if let Some(r) = arity(a.len() >= 3) {
                return r;
            }
            let mut replace = false;
            for opt in &a[2..a.len() - 1] {
                if eq(opt, "replace") {
                    replace = true;
                } else {
                    return errors::function_load_option(opt);
                }
            }
            let code = a[a.len() - 1].clone();
            return match load(sh, code, replace).await {
                Ok(name) => Reply::Bulk(Bytes::from(name)),
                Err(e) => Reply::error(e),
            };
        }
        if eq(&sub, "delete") {
            if let Some(r) = arity(a.len() == 3) {
                return r;
            }
            return if scripts.functions.delete(&String::from_utf8_lossy(&a[2])) {
                Reply::Ok
            } else {
                Reply::error(errors::LIBRARY_NOT_FOUND)
            };
        }
        if eq(&sub, "flush") {
            if let Some(r) = arity(a.len() <= 3) {
                return r;
            }
            if a.len() == 3 && !eq(&a[2], "sync") && !eq(&a[2], "async") {
                return Reply::error(errors::FUNCTION_FLUSH_MODE);
            }
            scripts.functions.flush();
            let vm = core_vm(sh);
            let _guard = vm.lock().await;
            vm.forget_all();
            return Reply::Ok;
        }
        if eq(&sub, "list") {
            return list(sh, &a);
        }
        if eq(&sub, "dump") {
            return arity(a.len() == 2)
                .unwrap_or_else(|| Reply::Bulk(function::dump(&scripts.functions.all())));
        }
        if eq(&sub, "restore") {
            // Redis's own check: a subcommand syntax error past the policy.
            if a.len() > 4 {
                return errors::subcommand_syntax(&a[1], &a[0]);
            }
            let policy = match a.get(3) {
                None => Policy::Append,
                Some(p) if eq(p, "append") => Policy::Append,
                Some(p) if eq(p, "replace") => Policy::Replace,
                Some(p) if eq(p, "flush") => Policy::Flush,
                Some(_) => return Reply::error(errors::RESTORE_POLICY),
            };
            return match restore(sh, &a[2], policy).await {
                Ok(()) => Reply::Ok,
                Err(e) => Reply::error(e),
            };
        }
        errors::unknown_subcommand(&sub, "function")
    })
}

/// The name of a library's code, after Redis's checks of its metadata.
fn library_name(code: &[u8]) -> Result<String, String> {
    let (engine, name) = flags::library_meta(code)?;
    if !engine.eq_ignore_ascii_case("lua") {
        return Err(errors::engine_not_found(&engine));
    }
    if !flags::valid_name(name.as_bytes()) {
        return Err(errors::LIBRARY_NAME_CHARS.into());
    }
    Ok(name)
}

/// Checks a library's code by running it in this core's VM; returns the
/// library (not yet added) with what it registered.
async fn build(sh: &Rc<Shard>, code: Bytes) -> Result<function::Library, String> {
    let name = library_name(&code)?;
    let vm = core_vm(sh);
    let guard = vm.lock().await;
    let registered = vm.load_library(&code);
    drop(guard);
    let functions = registered?.into_iter().map(|r| r.meta).collect();
    Ok(sh
        .host
        .shared
        .scripts
        .functions
        .new_library(name, code, functions))
}

async fn load(sh: &Rc<Shard>, code: Bytes, replace: bool) -> Result<String, String> {
    let name = library_name(&code)?;
    let functions = &sh.host.shared.scripts.functions;
    // Checked again when adding: another core may load it meanwhile.
    if !replace && functions.library(&name).is_some() {
        return Err(errors::library_exists(&name));
    }
    let lib = build(sh, code).await?;
    let policy = if replace {
        Policy::Replace
    } else {
        Policy::Append
    };
    functions.add(vec![lib], policy)?;
    Ok(name)
}

async fn restore(sh: &Rc<Shard>, payload: &[u8], policy: Policy) -> Result<(), String> {
    let codes = function::undump(payload)?;
    let mut libs = Vec::with_capacity(codes.len());
    for code in codes {
        libs.push(build(sh, code).await?);
    }
    sh.host.shared.scripts.functions.add(libs, policy)
}

/// FUNCTION LIST [LIBRARYNAME pattern] [WITHCODE]
fn list(sh: &Rc<Shard>, a: &[Bytes]) -> Reply {
    let mut with_code = false;
    let mut pattern: Option<&Bytes> = None;
    let mut i = 2;
    while i < a.len() {
        if eq(&a[i], "withcode") && !with_code {
            with_code = true;
        } else if eq(&a[i], "libraryname") && pattern.is_none() {
            i += 1;
            match a.get(i) {
                Some(p) => pattern = Some(p),
                None => return Reply::error(errors::LIBRARY_NAME_ARGUMENT),
            }
        } else {
            return errors::function_list_argument(&a[i]);
        }
        i += 1;
    }
    let libs = sh.host.shared.scripts.functions.all();
    let bulk = |s: &str| Reply::bulk_from(s.as_bytes());
    Reply::Array(
        libs.iter()
            .filter(|l| {
                pattern.is_none_or(|p| crate::glob::glob_match(p, l.name.as_bytes(), false))
            })
            .map(|l| {
                let funcs = l
                    .functions
                    .iter()
                    .map(|f| {
                        Reply::Map(vec![
                            (bulk("name"), bulk(&f.name)),
                            (
                                bulk("description"),
                                f.description.as_deref().map_or(Reply::Nil, bulk),
                            ),
                            (
                                bulk("flags"),
                                Reply::Set(f.flags.names().map(Reply::Status).collect()),
                            ),
                        ])
                    })
                    .collect();
                let mut m = vec![
                    (bulk("library_name"), bulk(&l.name)),
                    (bulk("engine"), bulk("LUA")),
                    (bulk("functions"), Reply::Array(funcs)),
                ];
                if with_code {
                    m.push((bulk("library_code"), Reply::Bulk(l.code.clone())));
                }
                Reply::Map(m)
            })
            .collect(),
    )
}
