//! The `redis` table's functions that are written in Rust: `redis.call`
//! and `redis.pcall` (checked as Redis's `scriptCall` does, then handed to
//! the driver), `sha1hex`, `log`, `setresp`, `set_repl`, `acl_check_cmd`
//! and, while FUNCTION LOAD runs a library, `register_function`. The rest
//! of the table is Lua (`prelude.lua`).
//!
//! Run on the script's core, inside its coroutine; they read and write the
//! core's `vm::Ctx`. Each answers `(value, error)`: the C wrapper
//! `raising` raises the error value, so scripts see Redis's error tables.

use bytes::Bytes;
use mlua::{HookTriggers, Lua, Table, Value, Variadic};

use super::busy::KILLED;
use super::convert::{self, error_table, fmt_number};
use super::driver::{self, Down, Up};
use super::flags::{self, Flags};
use super::function::FuncMeta;
use super::vm::{Registered, CTX, HOOK_PERIOD};
use crate::command::table::{self, flags as cf};
use crate::resp::Reply;

/// The table of API functions the prelude builds `redis` from.
pub fn table(lua: &Lua) -> mlua::Result<Table> {
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
            t.set_hook(
                HookTriggers::new().every_nth_instruction(HOOK_PERIOD),
                super::vm::hook,
            )
        })?,
    )?;
    api.raw_set(
        "pcall",
        lua.create_function(|lua, a: Variadic<Value>| call(lua, a, false).map(|(v, _)| v))?,
    )?;
    Ok(api)
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
    let Some(spec) = table::row_of(&args) else {
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
    // May-replicate commands (PUBLISH, PFCOUNT) count as writes here, as
    // in Redis: that is what lets read-only scripts run during CLIENT
    // PAUSE WRITE.
    if no_writes && spec.has(cf::WRITE | cf::MAY_REPLICATE) {
        return fail(
            lua,
            "ERR Write commands are not allowed from read-only scripts.",
            raise,
        );
    }
    if spec.has(cf::WRITE) {
        if let Some(shared) = super::vm::shared() {
            shared.scripts.busy.wrote();
        }
    }
    if yielder == 0 {
        return fail(lua, "ERR redis.call is not available here", raise);
    }
    if spec.has(cf::BLOCKING) {
        // A script never blocks: BLMPOP and BZMPOP run as LMPOP and ZMPOP
        // (nil when nothing is there), as Redis runs them for scripts;
        // XREAD and XREADGROUP refuse their BLOCK option.
        if let Err(e) = non_blocking(&mut args) {
            return fail(lua, &e, raise);
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
/// checking the timeout as the blocking form would; XREAD and XREADGROUP
/// fail at a BLOCK option.
fn non_blocking(args: &mut Vec<Bytes>) -> Result<(), std::borrow::Cow<'static, str>> {
    use crate::command::blocking::{TIMEOUT_NEGATIVE, TIMEOUT_NOT_FLOAT};
    if args[0].eq_ignore_ascii_case(b"xread") || args[0].eq_ignore_ascii_case(b"xreadgroup") {
        return match crate::command::stream::read::check_in_script(args) {
            Err(crate::resp::Reply::Error(e)) => Err(e),
            _ => Ok(()),
        };
    }
    let secs = crate::command::args::parse_float(&args[1]).ok_or(TIMEOUT_NOT_FLOAT)?;
    if secs * 1000.0 <= -1.0 || secs.is_nan() {
        return Err(TIMEOUT_NEGATIVE.into());
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
