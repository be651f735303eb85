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
use mlua::{Function, HookTriggers, Lua, LuaOptions, StdLib, Table, Value, Variadic, VmState};

use super::busy::{Kind, KILLED};
use super::convert::{self, error_table, fmt_number};
use super::driver::{self, Down, Up};
use super::flags::{self, Flags};
use super::function::{FuncMeta, Library};
use crate::command::table::{self, flags as cf};
use crate::resp::Reply;
use crate::server::Shared;
use crate::shard::core::Shard;

/// Instructions between two hook calls (Redis's `LUA_MASKCOUNT` period).
const HOOK_PERIOD: u32 = 100_000;
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

/// This core's VM, created on first use.
pub fn core_vm(sh: &Shard) -> Rc<CoreVm> {
    VM.with(|v| {
        v.get_or_init(|| Rc::new(CoreVm::new(sh.shared.clone()).expect("creating the Lua VM")))
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
        let api = lua.create_table()?;
        let name = |i: usize| API[i].to_str().unwrap_or_default();
        lua.set_named_registry_value(
            name(0),
            lua.create_function(|lua, a: Variadic<Value>| call(lua, a, true))?,
        )?;
        lua.set_named_registry_value(name(1), lua.create_function(sha1hex)?)?;
        lua.set_named_registry_value(name(2), lua.create_function(log)?)?;
        lua.set_named_registry_value(name(3), lua.create_function(setresp)?)?;
        lua.set_named_registry_value(name(4), lua.create_function(set_repl)?)?;
        lua.set_named_registry_value(name(5), lua.create_function(acl_check_cmd)?)?;
        lua.set_named_registry_value(name(6), lua.create_function(register_function)?)?;
        // SAFETY: `raising` only calls the registered function and raises
        // its error value; it holds nothing that needs dropping.
        unsafe {
            api.raw_set("call", lua.create_c_function(raising::<0>)?)?;
            api.raw_set("sha1hex", lua.create_c_function(raising::<1>)?)?;
            api.raw_set("log", lua.create_c_function(raising::<2>)?)?;
            api.raw_set("setresp", lua.create_c_function(raising::<3>)?)?;
            api.raw_set("set_repl", lua.create_c_function(raising::<4>)?)?;
            api.raw_set("acl_check_cmd", lua.create_c_function(raising::<5>)?)?;
            api.raw_set("register_function", lua.create_c_function(raising::<6>)?)?;
        }
        api.raw_set(
            "hook_thread",
            lua.create_function(|_, t: mlua::Thread| {
                t.set_hook(HookTriggers::new().every_nth_instruction(HOOK_PERIOD), hook)
            })?,
        )?;
        api.raw_set(
            "pcall",
            lua.create_function(|lua, a: Variadic<Value>| call(lua, a, false).map(|(v, _)| v))?,
        )?;
        let (env, env_meta, load_env, runner): (Table, Table, Table, Function) = lua
            .load(include_str!("prelude.lua"))
            .set_name("=prelude")
            .call((
                globals.clone(),
                api,
                crate::server::REDIS_VERSION,
                version_num(crate::server::REDIS_VERSION),
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
            .map_err(|e| format!("ERR Error compiling script (new function): {}", message(&e)))
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
            .map_err(|e| format!("ERR Error compiling function: {}", message(&e)))?;
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
            Ok((false, e)) => {
                return Err(format!(
                    "ERR Error registering functions: {}",
                    error_message(&e)
                ))
            }
            Err(e) => return Err(format!("ERR Error registering functions: {}", message(&e))),
        }
        if registered.is_empty() {
            return Err("ERR No functions registered".into());
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
        f.ok_or_else(|| "ERR Function not found".to_string())
    }

    /// Sets KEYS and ARGV for an EVAL script.
    pub fn set_keys_argv(&self, keys: &[Bytes], argv: &[Bytes]) -> mlua::Result<()> {
        self.globals.raw_set("KEYS", self.strings(keys)?)?;
        self.globals.raw_set("ARGV", self.strings(argv)?)
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
                    .create_string(format!("ERR {}", message(&e)))
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

/// Registry names of the `redis` API functions that may raise, in the
/// order of `raising`'s index.
const API: [&std::ffi::CStr; 7] = [
    c"lanner.call",
    c"lanner.sha1hex",
    c"lanner.log",
    c"lanner.setresp",
    c"lanner.set_repl",
    c"lanner.acl_check_cmd",
    c"lanner.register_function",
];

/// A C function calling the API function `API[I]`, which answers
/// `(value, error)`, and raising the error value when there is one. The
/// API functions are C functions to Lua, as in Redis: a script's
/// `return redis.call(…)` then keeps the script's frame on the stack (Lua
/// 5.1 tail-calls only Lua functions), so errors can name its line.
unsafe extern "C-unwind" fn raising<const I: usize>(
    l: *mut mlua::ffi::lua_State,
) -> std::os::raw::c_int {
    use mlua::ffi;
    let n = ffi::lua_gettop(l);
    ffi::lua_getfield(l, ffi::LUA_REGISTRYINDEX, API[I].as_ptr());
    ffi::lua_insert(l, 1);
    ffi::lua_call(l, n, 2);
    if ffi::lua_type(l, -1) != ffi::LUA_TNIL {
        ffi::lua_error(l);
    }
    ffi::lua_settop(l, -2);
    1
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
            _ => "ERR unknown error".into(),
        },
        Value::String(s) => String::from_utf8_lossy(&s.as_bytes()).into_owned(),
        Value::Error(e) => format!("ERR {}", message(e)),
        _ => "ERR unknown error".into(),
    }
}

/// `__redis__err__handler`: turns any error into `{err=…}` and records
/// where in the user's code it happened (the innermost frame of a chunk
/// named `@user_…`).
fn error_handler(lua: &Lua, e: Value) -> mlua::Result<Table> {
    let t = match e {
        Value::Table(t) => t,
        Value::Error(err) => error_table(lua, &format!("ERR {}", message(&err)))?,
        Value::String(s) => error_table(
            lua,
            &format!("ERR {}", String::from_utf8_lossy(&s.as_bytes())),
        )?,
        Value::Integer(n) => error_table(lua, &format!("ERR {n}"))?,
        Value::Number(n) => error_table(lua, &format!("ERR {}", fmt_number(n)))?,
        Value::Nil => error_table(lua, "ERR nil")?,
        Value::Boolean(b) => error_table(lua, &format!("ERR {b}"))?,
        _ => error_table(lua, "ERR unknown error")?,
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
fn hook(lua: &Lua, d: &mlua::Debug) -> mlua::Result<VmState> {
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
        let shared = VM.with(|v| v.get().map(|vm| vm.shared.clone()));
        let Some(shared) = shared else {
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
        HookAction::LoadTimeout => Err(mlua::Error::runtime("FUNCTION LOAD timeout")),
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

/// An `(value, error)` pair for the API functions: `raise` puts an error
/// in the second slot (the prelude raises it), else it is the value.
fn fail(lua: &Lua, text: &str, raise: bool) -> mlua::Result<(Value, Value)> {
    let t = Value::Table(error_table(lua, text)?);
    Ok(if raise {
        (Value::Nil, t)
    } else {
        (t, Value::Nil)
    })
}

/// `redis.call` (`raise`) and `redis.pcall`: checks the command as Redis's
/// `scriptCall` does, then hands it to the driver, which runs it in the
/// script's hold and resumes with the reply.
fn call(lua: &Lua, a: Variadic<Value>, raise: bool) -> mlua::Result<(Value, Value)> {
    if a.is_empty() {
        return fail(
            lua,
            "ERR Please specify at least one argument for this redis lib call",
            raise,
        );
    }
    let mut args: Vec<Bytes> = Vec::with_capacity(a.len());
    for v in a.iter() {
        match v {
            Value::String(s) => args.push(Bytes::copy_from_slice(&s.as_bytes())),
            Value::Integer(n) => args.push(Bytes::from(n.to_string())),
            Value::Number(n) => args.push(Bytes::from(fmt_number(*n))),
            _ => {
                return fail(
                    lua,
                    "ERR Lua redis lib command arguments must be strings or integers",
                    raise,
                )
            }
        }
    }
    let Some(spec) = table::lookup(&args[0]) else {
        return fail(lua, "ERR Unknown Redis command called from script", raise);
    };
    if !spec.arity_ok(args.len()) {
        return fail(
            lua,
            "ERR Wrong number of args calling Redis command from script",
            raise,
        );
    }
    if spec.has(cf::NOSCRIPT) {
        return fail(
            lua,
            "ERR This Redis command is not allowed from script",
            raise,
        );
    }
    let (yielder, no_writes, resp3) = CTX.with(|c| {
        let c = c.borrow();
        (c.yielder, c.no_writes, c.resp3)
    });
    if spec.has(cf::WRITE) {
        if no_writes {
            return fail(
                lua,
                "ERR Write commands are not allowed from read-only scripts.",
                raise,
            );
        }
        VM.with(|v| {
            if let Some(vm) = v.get() {
                vm.shared.scripts.busy.wrote();
            }
        });
    }
    if yielder == 0 {
        return fail(lua, "ERR redis.call is not available here", raise);
    }
    if spec.has(cf::BLOCKING) {
        // A script never blocks: BLMPOP and BZMPOP run as LMPOP and ZMPOP
        // (nil when nothing is there), as Redis runs them for scripts.
        if let Err(e) = non_blocking(&mut args) {
            return fail(lua, e, raise);
        }
    }
    let reply = match driver::suspend(yielder, Up::Call(args)) {
        Down::Reply(r) => r,
        _ => Reply::error(format!("ERR {KILLED}")),
    };
    let v = convert::reply_to_lua(lua, &reply, resp3)?;
    Ok(if raise && reply.is_error() {
        (Value::Nil, v)
    } else {
        (v, Value::Nil)
    })
}

/// BLMPOP/BZMPOP timeout numkeys … → LMPOP/ZMPOP numkeys …, after
/// checking the timeout as the blocking form would.
fn non_blocking(args: &mut Vec<Bytes>) -> Result<(), &'static str> {
    use crate::command::blocking::{TIMEOUT_NEGATIVE, TIMEOUT_NOT_FLOAT};
    let secs = crate::command::args::parse_float(&args[1]).ok_or(TIMEOUT_NOT_FLOAT)?;
    if secs * 1000.0 <= -1.0 || secs.is_nan() {
        return Err(TIMEOUT_NEGATIVE);
    }
    let name = if args[0].eq_ignore_ascii_case(b"bzmpop") {
        "zmpop"
    } else {
        "lmpop"
    };
    args.remove(1);
    args[0] = Bytes::from_static(name.as_bytes());
    Ok(())
}

fn sha1hex(lua: &Lua, a: Variadic<Value>) -> mlua::Result<(Value, Value)> {
    if a.len() != 1 {
        return fail(lua, "ERR wrong number of arguments", true);
    }
    let data = match &a[0] {
        Value::String(s) => s.as_bytes().to_vec(),
        Value::Integer(n) => n.to_string().into_bytes(),
        Value::Number(n) => fmt_number(*n).into_bytes(),
        _ => Vec::new(),
    };
    let hex = super::cache::sha1_hex(&data);
    Ok((Value::String(lua.create_string(hex)?), Value::Nil))
}

fn log(lua: &Lua, a: Variadic<Value>) -> mlua::Result<(Value, Value)> {
    if a.len() < 2 {
        return fail(lua, "ERR redis.log() requires two arguments or more.", true);
    }
    let level = match &a[0] {
        Value::Integer(n) => *n,
        Value::Number(n) => *n as i64,
        Value::String(s) => match std::str::from_utf8(&s.as_bytes())
            .ok()
            .and_then(|s| s.trim().parse::<f64>().ok())
        {
            Some(n) => n as i64,
            None => {
                return fail(
                    lua,
                    "ERR First argument must be a number (log level).",
                    true,
                )
            }
        },
        _ => {
            return fail(
                lua,
                "ERR First argument must be a number (log level).",
                true,
            )
        }
    };
    if !(0..=3).contains(&level) {
        return fail(lua, "ERR Invalid debug level.", true);
    }
    let mut msg = String::new();
    for (i, v) in a.iter().skip(1).enumerate() {
        let piece = match v {
            Value::String(s) => String::from_utf8_lossy(&s.as_bytes()).into_owned(),
            Value::Integer(n) => n.to_string(),
            Value::Number(n) => fmt_number(*n),
            _ => continue,
        };
        if i > 0 {
            msg.push(' ');
        }
        msg.push_str(&piece);
    }
    match level {
        3 => crate::log::warning(&msg),
        2 => crate::log::notice(&msg),
        _ => {}
    }
    Ok((Value::Nil, Value::Nil))
}

fn setresp(lua: &Lua, a: Variadic<Value>) -> mlua::Result<(Value, Value)> {
    if a.len() != 1 {
        return fail(lua, "ERR redis.setresp() requires one argument.", true);
    }
    let v = match &a[0] {
        Value::Integer(n) => *n,
        Value::Number(n) => *n as i64,
        _ => 0,
    };
    if v != 2 && v != 3 {
        return fail(lua, "ERR RESP version must be 2 or 3.", true);
    }
    CTX.with(|c| c.borrow_mut().resp3 = v == 3);
    Ok((Value::Nil, Value::Nil))
}

fn set_repl(lua: &Lua, a: Variadic<Value>) -> mlua::Result<(Value, Value)> {
    if a.len() != 1 {
        return fail(lua, "ERR redis.set_repl() requires two arguments.", true);
    }
    let v = match &a[0] {
        Value::Integer(n) => *n,
        Value::Number(n) => *n as i64,
        _ => -1,
    };
    if !(0..=3).contains(&v) {
        return fail(
            lua,
            "ERR Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.",
            true,
        );
    }
    Ok((Value::Nil, Value::Nil))
}

fn acl_check_cmd(lua: &Lua, a: Variadic<Value>) -> mlua::Result<(Value, Value)> {
    let name = match a.first() {
        Some(Value::String(s)) => s.as_bytes().to_vec(),
        _ => {
            return fail(
                lua,
                "ERR Please specify at least one argument for this redis lib call",
                true,
            )
        }
    };
    match table::lookup(&name) {
        Some(_) => Ok((Value::Boolean(true), Value::Nil)),
        None => fail(
            lua,
            "ERR Invalid command passed to redis.acl_check_cmd()",
            true,
        ),
    }
}

/// `redis.register_function(name, callback)` or
/// `redis.register_function{function_name=…, callback=…, flags=…, description=…}`.
fn register_function(lua: &Lua, a: Variadic<Value>) -> mlua::Result<(Value, Value)> {
    let err = |t: &str| fail(lua, &format!("ERR {t}"), true);
    let loading = CTX.with(|c| c.borrow().loading.is_some());
    if !loading {
        return err("redis.register_function can only be called on FUNCTION LOAD command");
    }
    let (name, callback, flags, description) = match a.len() {
        1 => {
            let Value::Table(t) = &a[0] else {
                return err("calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).");
            };
            let (mut name, mut callback, mut flags, mut description) =
                (None, None, Flags::default(), None);
            for pair in t.pairs::<Value, Value>() {
                let (k, v) = pair?;
                let key =
                    match &k {
                        Value::String(s) => s.as_bytes().to_vec(),
                        _ => return err(
                            "named argument key given to redis.register_function is not a string",
                        ),
                    };
                match &key[..] {
                    b"function_name" => match v {
                        Value::String(s) => name = Some(s.as_bytes().to_vec()),
                        _ => return err("function_name argument given to redis.register_function must be a string"),
                    },
                    b"description" => match v {
                        Value::String(s) => description = Some(String::from_utf8_lossy(&s.as_bytes()).into_owned()),
                        _ => return err("description argument given to redis.register_function must be a string"),
                    },
                    b"callback" => match v {
                        Value::Function(f) => callback = Some(f),
                        _ => return err("callback argument given to redis.register_function must be a function"),
                    },
                    b"flags" => match v {
                        Value::Table(ft) => {
                            for f in ft.sequence_values::<Value>() {
                                let bit = match f? {
                                    Value::String(s) => Flags::by_name(&s.as_bytes()),
                                    _ => None,
                                };
                                match bit {
                                    Some(b) => flags.0 |= b,
                                    None => return err("unknown flag given"),
                                }
                            }
                        }
                        _ => return err("flags argument to redis.register_function must be a table representing function flags"),
                    },
                    _ => return err("unknown argument given to redis.register_function"),
                }
            }
            let Some(name) = name else {
                return err("redis.register_function must get a function name argument");
            };
            let Some(callback) = callback else {
                return err("redis.register_function must get a callback argument");
            };
            (name, callback, flags, description)
        }
        2 => {
            let Value::String(n) = &a[0] else {
                return err("first argument to redis.register_function must be a string");
            };
            let Value::Function(f) = &a[1] else {
                return err("second argument to redis.register_function must be a function");
            };
            (n.as_bytes().to_vec(), f.clone(), Flags::default(), None)
        }
        _ => return err("wrong number of arguments to redis.register_function"),
    };
    if !flags::valid_name(&name) {
        return err("Library names can only contain letters, numbers, or underscores(_) and must be at least one character long");
    }
    let name = String::from_utf8_lossy(&name).into_owned();
    let dup = CTX.with(|c| {
        let mut c = c.borrow_mut();
        let Some((list, _)) = c.loading.as_mut() else {
            return false;
        };
        if list.iter().any(|r| r.meta.name == name) {
            return true;
        }
        list.push(Registered {
            meta: FuncMeta {
                name: name.clone(),
                flags,
                description,
            },
            func: callback,
        });
        false
    });
    if dup {
        return err("Function already exists in the library");
    }
    Ok((Value::Nil, Value::Nil))
}
