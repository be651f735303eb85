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

use super::convert::{self, error_table, fmt_number};
use super::driver::{self, Down, Up};
use super::flags::{self, Flags};
use super::function::FuncMeta;
use super::vm::{Registered, CTX, HOOK_PERIOD};
use crate::command::errors;
use crate::command::table::{self, flags as cf};

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
        return fail(lua, errors::LUA_NO_ARGUMENTS, raise);
    }
    let mut args: Vec<Bytes> = Vec::with_capacity(a.len());
    for v in a.iter() {
        match v {
            Value::String(s) => args.push(Bytes::copy_from_slice(&s.as_bytes())),
            Value::Integer(n) => args.push(Bytes::from(n.to_string())),
            Value::Number(n) => args.push(Bytes::from(fmt_number(*n))),
            _ => return fail(lua, errors::LUA_ARGUMENT_TYPE, raise),
        }
    }
    let Some(spec) = table::row_of(&args) else {
        return fail(lua, errors::LUA_UNKNOWN_COMMAND, raise);
    };
    if !spec.arity_ok(args.len()) {
        return fail(lua, errors::LUA_WRONG_ARITY, raise);
    }
    if spec.has(cf::NOSCRIPT) {
        return fail(lua, errors::LUA_NOSCRIPT_COMMAND, raise);
    }
    let (yielder, no_writes, resp3) = CTX.with(|c| {
        let c = c.borrow();
        (c.yielder, c.no_writes, c.resp3)
    });
    // May-replicate commands (PUBLISH, PFCOUNT) count as writes here, as
    // in Redis: that is what lets read-only scripts run during CLIENT
    // PAUSE WRITE.
    if no_writes && spec.has(cf::WRITE | cf::MAY_REPLICATE) {
        return fail(lua, errors::LUA_READ_ONLY, raise);
    }
    if spec.has(cf::WRITE) {
        if let Some(shared) = super::vm::shared() {
            shared.scripts.busy.wrote();
        }
    }
    if yielder == 0 {
        return fail(lua, errors::LUA_CALL_UNAVAILABLE, raise);
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
        _ => errors::script_killed(),
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
    use crate::command::errors::{TIMEOUT_NEGATIVE, TIMEOUT_NOT_FLOAT};
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
        return fail(lua, errors::LUA_SHA1HEX_ARITY, true);
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
        return fail(lua, errors::LUA_LOG_ARITY, true);
    }
    let level = match &a[0] {
        Value::Integer(n) => *n,
        Value::Number(n) => *n as i64,
        Value::String(s) => match std::str::from_utf8(&s.as_bytes())
            .ok()
            .and_then(|s| s.trim().parse::<f64>().ok())
        {
            Some(n) => n as i64,
            None => return fail(lua, errors::LUA_LOG_LEVEL, true),
        },
        _ => return fail(lua, errors::LUA_LOG_LEVEL, true),
    };
    if !(0..=3).contains(&level) {
        return fail(lua, errors::LUA_DEBUG_LEVEL, true);
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
        return fail(lua, errors::LUA_SETRESP_ARITY, true);
    }
    let v = match &a[0] {
        Value::Integer(n) => *n,
        Value::Number(n) => *n as i64,
        _ => 0,
    };
    if v != 2 && v != 3 {
        return fail(lua, errors::LUA_RESP_VERSION, true);
    }
    CTX.with(|c| c.borrow_mut().resp3 = v == 3);
    Ok((Value::Nil, Value::Nil))
}

fn set_repl(lua: &Lua, a: Variadic<Value>) -> mlua::Result<(Value, Value)> {
    if a.len() != 1 {
        return fail(lua, errors::LUA_SET_REPL_ARITY, true);
    }
    let v = match &a[0] {
        Value::Integer(n) => *n,
        Value::Number(n) => *n as i64,
        _ => -1,
    };
    if !(0..=3).contains(&v) {
        return fail(lua, errors::LUA_REPL_FLAGS, true);
    }
    Ok((Value::Nil, Value::Nil))
}

fn acl_check_cmd(lua: &Lua, a: Variadic<Value>) -> mlua::Result<(Value, Value)> {
    let name = match a.first() {
        Some(Value::String(s)) => s.as_bytes().to_vec(),
        _ => return fail(lua, errors::LUA_NO_ARGUMENTS, true),
    };
    match table::lookup(&name) {
        Some(_) => Ok((Value::Boolean(true), Value::Nil)),
        None => fail(lua, errors::LUA_ACL_CHECK_CMD, true),
    }
}

/// `redis.register_function(name, callback)` or
/// `redis.register_function{function_name=…, callback=…, flags=…, description=…}`.
fn register_function(lua: &Lua, a: Variadic<Value>) -> mlua::Result<(Value, Value)> {
    let err = |t: &str| fail(lua, t, true);
    let loading = CTX.with(|c| c.borrow().loading.is_some());
    if !loading {
        return err(errors::REGISTER_OUTSIDE_LOAD);
    }
    let (name, callback, flags, description) = match a.len() {
        1 => {
            let Value::Table(t) = &a[0] else {
                return err(errors::REGISTER_SINGLE_ARGUMENT);
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
                        _ => return err(errors::REGISTER_NAME_TYPE),
                    },
                    b"description" => match v {
                        Value::String(s) => {
                            description = Some(String::from_utf8_lossy(&s.as_bytes()).into_owned())
                        }
                        _ => return err(errors::REGISTER_DESCRIPTION_TYPE),
                    },
                    b"callback" => match v {
                        Value::Function(f) => callback = Some(f),
                        _ => return err(errors::REGISTER_CALLBACK_TYPE),
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
                                    None => return err(errors::REGISTER_UNKNOWN_FLAG),
                                }
                            }
                        }
                        _ => return err(errors::REGISTER_FLAGS_TYPE),
                    },
                    _ => return err(errors::REGISTER_UNKNOWN_ARGUMENT),
                }
            }
            let Some(name) = name else {
                return err(errors::REGISTER_NO_NAME);
            };
            let Some(callback) = callback else {
                return err(errors::REGISTER_NO_CALLBACK);
            };
            (name, callback, flags, description)
        }
        2 => {
            let Value::String(n) = &a[0] else {
                return err(errors::REGISTER_FIRST_ARGUMENT);
            };
            let Value::Function(f) = &a[1] else {
                return err(errors::REGISTER_SECOND_ARGUMENT);
            };
            (n.as_bytes().to_vec(), f.clone(), Flags::default(), None)
        }
        _ => return err(errors::REGISTER_ARITY),
    };
    if !flags::valid_name(&name) {
        return err(errors::LIBRARY_NAME_CHARS);
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
        return err(errors::REGISTER_FUNCTION_EXISTS);
    }
    Ok((Value::Nil, Value::Nil))
}
