//! This core's Lua 5.1 VM: created on first use with Redis's sandbox
//! (`prelude.lua`) and libraries, it holds the scripts and function
//! libraries compiled here.
//!
//! One VM per core, in a thread local of the core's executor thread; it is
//! `!Send` and nothing else touches it. A script suspended in the middle of
//! `redis.call` still owns the VM, so every user takes [`CoreVm::lock`]
//! first (SCRIPT LOAD on this core waits for a running script).
//!
//! Compiled scripts are dropped when the shared cache's generation moves
//! (SCRIPT FLUSH); a function library is reloaded when its version differs
//! from the one loaded here (FUNCTION LOAD REPLACE, DELETE, RESTORE).

use std::cell::{OnceCell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use mlua::{Function, HookTriggers, Lua, LuaOptions, StdLib, Table, Value, VmState};

use super::busy::Kind;
use super::convert::{error_table, fmt_number};
use super::driver::{self, Up};
use super::flags;
use super::function::{FuncMeta, Library};
use crate::command::errors::{self, KILLED};
use crate::resp::Reply;
use crate::services::Shard;
use crate::services::Shared;

/// Instructions between two hook calls (Redis's `LUA_MASKCOUNT` period).
pub const HOOK_PERIOD: u32 = 100_000;
/// How long a library's top-level code may run during FUNCTION LOAD.
const LOAD_TIMEOUT: Duration = Duration::from_millis(500);
/// How often a busy script lets this core serve its other clients.
const PAUSE_EVERY: Duration = Duration::from_millis(5);

/// A function `redis.register_function` registered while a library loads.
pub struct Registered {
    pub meta: FuncMeta,
    pub func: Function,
}

/// The state of the script running on this core (if any); read by the
/// `redis` API functions and the instruction hook.
pub struct Ctx {
    /// `*const Yielder<Down, Up>` of the running script's coroutine; 0 when
    /// no coroutine runs.
    pub yielder: usize,
    pub resp3: bool,
    pub no_writes: bool,
    pub running: bool,
    /// The client whose script runs (its commands are the script's).
    pub client: u64,
    pub kind: Kind,
    pub start: Instant,
    pub last_pause: Instant,
    pub threshold: Duration,
    pub busy: bool,
    pub killed: bool,
    /// The hook was re-armed to fire on every instruction (after a kill).
    pub rearmed: bool,
    /// While a library's code runs: its registrations and deadline.
    pub loading: Option<(Vec<Registered>, Instant)>,
    /// Where the hook stopped a killed script (source, line): errors raised
    /// from the hook do not always leave the script's frame for the handler.
    pub killed_at: Option<(String, usize)>,
}

impl Default for Ctx {
    fn default() -> Ctx {
        let now = Instant::now();
        Ctx {
            yielder: 0,
            resp3: false,
            no_writes: false,
            running: false,
            client: 0,
            kind: Kind::Eval,
            start: now,
            last_pause: now,
            threshold: Duration::from_secs(5),
            busy: false,
            killed: false,
            rearmed: false,
            loading: None,
            killed_at: None,
        }
    }
}

thread_local! {
    pub static CTX: RefCell<Ctx> = RefCell::new(Ctx::default());
    static VM: OnceCell<Rc<CoreVm>> = const { OnceCell::new() };
}

/// A library as loaded into this VM: its version and callbacks by name.
type LoadedLibrary = (u64, HashMap<String, Function>);

pub struct CoreVm {
    pub lua: Lua,
    pub shared: Arc<Shared>,
    globals: Table,
    env_meta: Table,
    load_env: Table,
    runner: Function,
    handler: Function,
    /// (generation, sha → compiled body).
    scripts: RefCell<(u64, HashMap<String, Function>)>,
    /// library name → (version, function name → callback).
    libs: RefCell<HashMap<String, LoadedLibrary>>,
    lock: futures::lock::Mutex<()>,
}

/// The shared state, seen from this core's VM (None before it exists).
pub fn shared() -> Option<Arc<Shared>> {
    VM.with(|v| v.get().map(|vm| vm.shared.clone()))
}

/// Bytes this core's Lua VM holds (0 before its first script or function).
pub fn memory() -> usize {
    VM.with(|v| v.get().map_or(0, |vm| vm.lua.used_memory()))
}

/// This core's VM, created on first use.
pub fn core_vm(sh: &Shard) -> Rc<CoreVm> {
    VM.with(|v| {
        v.get_or_init(|| Rc::new(CoreVm::new(sh.host.shared.clone()).expect("creating the Lua VM")))
            .clone()
    })
}

impl CoreVm {
    fn new(shared: Arc<Shared>) -> mlua::Result<CoreVm> {
        let lua = Lua::new_with(
            StdLib::TABLE | StdLib::STRING | StdLib::MATH,
            LuaOptions::new(),
        )?;
        let globals = lua.globals();
        for name in [
            "dofile", "loadfile", "print", "getfenv", "setfenv", "module", "require", "newproxy",
            "package", "io", "os", "debug",
        ] {
            globals.raw_set(name, Value::Nil)?;
        }
        super::lib::open_all(&lua)?;
        let api = super::api::table(&lua)?;
        let (env, env_meta, load_env, runner): (Table, Table, Table, Function) = lua
            .load(include_str!("prelude.lua"))
            .set_name("=prelude")
            .call((
                globals.clone(),
                api,
                crate::REDIS_VERSION,
                version_num(crate::REDIS_VERSION),
            ))?;
        lua.set_globals(env)?;
        let handler = lua.create_function(error_handler)?;
        globals.raw_set("__redis__err__handler", handler.clone())?;
        lua.set_hook(HookTriggers::new().every_nth_instruction(HOOK_PERIOD), hook)?;
        Ok(CoreVm {
            lua,
            shared,
            globals,
            env_meta,
            load_env,
            runner,
            handler,
            scripts: RefCell::new((0, HashMap::new())),
            libs: RefCell::new(HashMap::new()),
            lock: futures::lock::Mutex::new(()),
        })
    }

    /// Exclusive use of the VM (held for a whole script run).
    pub async fn lock(&self) -> futures::lock::MutexGuard<'_, ()> {
        self.lock.lock().await
    }

    /// The VM's lock, if nobody holds it.
    pub fn try_lock(&self) -> Option<futures::lock::MutexGuard<'_, ()>> {
        self.lock.try_lock()
    }

    /// The compiled body of a cached script, compiling it on first use.
    /// Errors are Redis's "Error compiling script" text.
    pub fn script(&self, sha: &str, body: &[u8]) -> Result<Function, String> {
        let generation = self.shared.scripts.cache.generation();
        let mut scripts = self.scripts.borrow_mut();
        if scripts.0 != generation {
            *scripts = (generation, HashMap::new());
        }
        if let Some(f) = scripts.1.get(sha) {
            return Ok(f.clone());
        }
        let f = self.compile(body)?;
        scripts.1.insert(sha.to_string(), f.clone());
        Ok(f)
    }

    /// Compiles a script body without caching it.
    pub fn compile(&self, body: &[u8]) -> Result<Function, String> {
        self.lua
            .load(&*flags::lua_source(body))
            .set_name("@user_script")
            .into_function()
            .map_err(|e| errors::compile_script(&message(&e)))
    }

    /// Drops this core's compiled scripts and libraries now (the flushes
    /// reach other cores through the generation and versions).
    pub fn forget_all(&self) {
        self.scripts.borrow_mut().1.clear();
        self.libs.borrow_mut().clear();
        let _ = self.lua.gc_collect();
    }

    /// Runs a library's code and returns what it registered, with Redis's
    /// FUNCTION LOAD errors.
    pub fn load_library(&self, code: &[u8]) -> Result<Vec<Registered>, String> {
        let chunk = self
            .lua
            .load(&*flags::lua_source(code))
            .set_name("@user_function")
            .into_function()
            .map_err(|e| errors::compile_function(&message(&e)))?;
        CTX.with(|c| c.borrow_mut().loading = Some((Vec::new(), Instant::now() + LOAD_TIMEOUT)));
        let _ = self.env_meta.raw_set("__index", self.load_env.clone());
        let out = self.runner.call::<(bool, Value)>((
            chunk,
            self.handler.clone(),
            Value::Nil,
            Value::Nil,
        ));
        let _ = self.env_meta.raw_set("__index", self.globals.clone());
        let registered = CTX
            .with(|c| c.borrow_mut().loading.take())
            .map(|(r, _)| r)
            .unwrap_or_default();
        match out {
            Ok((true, _)) => {}
            Ok((false, e)) => return Err(errors::register_functions(&error_message(&e))),
            Err(e) => return Err(errors::register_functions(&message(&e))),
        }
        if registered.is_empty() {
            return Err(errors::NO_FUNCTIONS_REGISTERED.into());
        }
        Ok(registered)
    }

    /// The callback of function `name` of `lib`, loading the library into
    /// this VM if this core has not got its current version.
    pub fn function(&self, lib: &Library, name: &str) -> Result<Function, String> {
        if let Some((v, funcs)) = self.libs.borrow().get(&lib.name) {
            if *v == lib.version {
                if let Some(f) = funcs.get(name) {
                    return Ok(f.clone());
                }
            }
        }
        let registered = self.load_library(&lib.code)?;
        let funcs: HashMap<String, Function> = registered
            .into_iter()
            .map(|r| (r.meta.name, r.func))
            .collect();
        let f = funcs.get(name).cloned();
        self.libs
            .borrow_mut()
            .insert(lib.name.clone(), (lib.version, funcs));
        f.ok_or_else(|| errors::FUNCTION_NOT_FOUND.to_string())
    }

    /// Sets KEYS and ARGV for an EVAL script.
    pub fn set_keys_argv(&self, keys: &[Bytes], argv: &[Bytes]) -> mlua::Result<()> {
        self.globals.raw_set("KEYS", self.strings(keys)?)?;
        self.globals.raw_set("ARGV", self.strings(argv)?)
    }

    /// Functions have no KEYS and ARGV globals (Redis runs them in a VM of
    /// their own); clears what the last EVAL on this core left.
    pub fn clear_keys_argv(&self) -> mlua::Result<()> {
        self.globals.raw_set("KEYS", Value::Nil)?;
        self.globals.raw_set("ARGV", Value::Nil)
    }

    pub fn strings(&self, items: &[Bytes]) -> mlua::Result<Table> {
        let t = self.lua.create_table_with_capacity(items.len(), 0)?;
        for (i, b) in items.iter().enumerate() {
            t.raw_set(i + 1, self.lua.create_string(b)?)?;
        }
        Ok(t)
    }

    /// Calls `f(a, b)` under the error handler: Ok(value) or Err(error table).
    pub fn run(&self, f: Function, a: Value, b: Value) -> Result<Value, Value> {
        match self
            .runner
            .call::<(bool, Value)>((f, self.handler.clone(), a, b))
        {
            Ok((true, v)) => Ok(v),
            Ok((false, e)) => Err(e),
            Err(e) => Err(Value::String(
                self.lua
                    .create_string(errors::generic(message(&e)))
                    .map_err(|_| Value::Nil)?,
            )),
        }
    }

    /// Puts the hook back to its normal period after a kill re-armed it.
    pub fn reset_hook(&self) {
        let rearmed = CTX.with(|c| std::mem::take(&mut c.borrow_mut().rearmed));
        if rearmed {
            let _ = self
                .lua
                .set_hook(HookTriggers::new().every_nth_instruction(HOOK_PERIOD), hook);
        }
    }
}

/// "7.0.15" → 0x00070015 the way Redis packs it: (major << 16) | (minor << 8) | patch.
fn version_num(v: &str) -> i64 {
    let mut parts = v.split('.').map(|p| p.parse::<i64>().unwrap_or(0));
    let (a, b, c) = (
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
    );
    (a << 16) | (b << 8) | c
}

/// The text of an mlua error without mlua's decorations.
pub fn message(e: &mlua::Error) -> String {
    match e {
        mlua::Error::SyntaxError { message, .. } => message.clone(),
        mlua::Error::RuntimeError(m) => m.clone(),
        mlua::Error::CallbackError { cause, .. } => message(cause),
        mlua::Error::WithContext { cause, .. } => message(cause),
        other => other.to_string(),
    }
}

/// The message of an error value a script raised: its `err` field, or the
/// value itself.
pub fn error_message(e: &Value) -> String {
    match e {
        Value::Table(t) => match t.raw_get::<Value>("err") {
            Ok(Value::String(s)) => String::from_utf8_lossy(&s.as_bytes()).into_owned(),
            Ok(Value::Number(n)) => fmt_number(n),
            Ok(Value::Integer(n)) => n.to_string(),
            _ => errors::LUA_UNKNOWN_ERROR.into(),
        },
        Value::String(s) => String::from_utf8_lossy(&s.as_bytes()).into_owned(),
        Value::Error(e) => errors::generic(message(e)),
        _ => errors::LUA_UNKNOWN_ERROR.into(),
    }
}

/// `__redis__err__handler`: turns any error into `{err=…}` and records
/// where in the user's code it happened (the innermost frame of a chunk
/// named `@user_…`).
fn error_handler(lua: &Lua, e: Value) -> mlua::Result<Table> {
    let t = match e {
        Value::Table(t) => t,
        Value::Error(err) => error_table(lua, &errors::generic(message(&err)))?,
        Value::String(s) => error_table(
            lua,
            &errors::generic(String::from_utf8_lossy(&s.as_bytes())),
        )?,
        Value::Integer(n) => error_table(lua, &errors::generic(n))?,
        Value::Number(n) => error_table(lua, &errors::generic(fmt_number(n)))?,
        Value::Nil => error_table(lua, &errors::generic("nil"))?,
        Value::Boolean(b) => error_table(lua, &errors::generic(b))?,
        _ => error_table(lua, errors::LUA_UNKNOWN_ERROR)?,
    };
    for level in 1..64 {
        let Some(found) = lua.inspect_stack(level, |d| {
            let src = d.source();
            let source = src.source.as_deref().unwrap_or("").to_string();
            (source, d.current_line())
        }) else {
            break;
        };
        if let (true, Some(line)) = (found.0.starts_with("@user_"), found.1) {
            t.raw_set("source", found.0)?;
            t.raw_set("line", line)?;
            return Ok(t);
        }
    }
    if let Some((source, line)) = CTX.with(|c| c.borrow_mut().killed_at.take()) {
        t.raw_set("source", source)?;
        t.raw_set("line", line)?;
    }
    Ok(t)
}

/// The reply for a script that failed with error value `e`: its message,
/// then " script: <name>, on <source>:<line>." when the location is known.
pub fn error_reply(e: &Value, name: &str) -> Reply {
    let msg = error_message(e);
    if let Value::Table(t) = e {
        let source: Option<String> = t.raw_get("source").ok();
        let line: Option<i64> = t.raw_get("line").ok();
        if let (Some(source), Some(line)) = (source, line) {
            return Reply::error(format!("{msg} script: {name}, on {source}:{line}."));
        }
    }
    Reply::error(msg)
}

/// Marks the running script busy once past the threshold, and says when it
/// should let the core serve others (returns its yielder then).
fn busy_check(c: &mut Ctx, shared: &Shared) -> Option<usize> {
    let now = Instant::now();
    if !c.running || now.duration_since(c.start) < c.threshold {
        return None;
    }
    if !c.busy {
        c.busy = true;
        shared.scripts.busy.set_busy(c.kind);
    }
    if now.duration_since(c.last_pause) >= PAUSE_EVERY && c.yielder != 0 {
        c.last_pause = now;
        return Some(c.yielder);
    }
    None
}

/// For the driver, between a script's commands: whether to pause now.
pub fn pause_due(shared: &Shared) -> bool {
    CTX.with(|c| busy_check(&mut c.borrow_mut(), shared).is_some())
}

/// What the hook decided, acted on once `CTX` is no longer borrowed.
enum HookAction {
    Continue,
    Kill(bool),
    Pause(usize),
    LoadTimeout,
}

/// The instruction-count hook: stops killed scripts, marks a script busy
/// past `busy-reply-threshold`, and then lets this core serve its other
/// clients every few milliseconds.
pub fn hook(lua: &Lua, d: &mlua::Debug) -> mlua::Result<VmState> {
    let action = CTX.with(|c| {
        let mut c = c.borrow_mut();
        if let Some((_, deadline)) = &c.loading {
            return if Instant::now() > *deadline {
                HookAction::LoadTimeout
            } else {
                HookAction::Continue
            };
        }
        if !c.running {
            return HookAction::Continue;
        }
        let Some(shared) = shared() else {
            return HookAction::Continue;
        };
        if c.killed
            || shared.scripts.busy.kill_requested()
            || shared.shutdown.load(std::sync::atomic::Ordering::Relaxed)
        {
            let first = !c.rearmed;
            c.killed = true;
            c.rearmed = true;
            return HookAction::Kill(first);
        }
        match busy_check(&mut c, &shared) {
            Some(y) => HookAction::Pause(y),
            None => HookAction::Continue,
        }
    });
    match action {
        HookAction::Continue => Ok(VmState::Continue),
        HookAction::LoadTimeout => {
            // Only in the library's code, so the runner returns the error.
            let source = d.source().source.as_deref().unwrap_or("").to_string();
            if source.starts_with("@user_") {
                Err(mlua::Error::runtime("FUNCTION LOAD timeout"))
            } else {
                Ok(VmState::Continue)
            }
        }
        HookAction::Kill(first) => {
            if first {
                // Every instruction from now on fails, so a pcall in the
                // script cannot swallow the kill.
                lua.set_hook(HookTriggers::new().every_nth_instruction(1), hook)?;
            }
            // Only in the script's own code: the runner around it must
            // return the error.
            let source = d.source().source.as_deref().unwrap_or("").to_string();
            if !source.starts_with("@user_") {
                return Ok(VmState::Continue);
            }
            if let Some(line) = d.current_line() {
                CTX.with(|c| c.borrow_mut().killed_at = Some((source, line)));
            }
            Err(mlua::Error::runtime(KILLED))
        }
        HookAction::Pause(y) => {
            driver::suspend(y, Up::Pause);
            Ok(VmState::Continue)
        }
    }
}
