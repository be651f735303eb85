//! The libraries Redis preloads into its Lua VM — `cjson`, `cmsgpack`, `bit`
//! and `struct` — written in Rust and registered as globals, matching Redis
//! 7.0's bundled C versions byte for byte, error texts included.
//!
//! Runs on whichever core runs the script, inside that core's VM; nothing
//! here is shared between VMs except immutable tables of constants.
//!
//! Every library function is a safe Rust closure behind a small C trampoline
//! ([`create`]). The trampoline exists because of how the C libraries raise
//! errors: `luaL_error` prefixes the *caller's* position (`user_script:1: `)
//! and `luaL_argerror` names the function as the caller sees it (`'encode'`,
//! `'?'` under `pcall`, a local's name). A Rust error surfacing through mlua
//! would be a userdata without either, so the closure returns a [`Fail`] and
//! the trampoline raises it with the real `lauxlib` calls from a C frame.
//!
//! Invariant: the trampoline holds no Rust values with destructors when it
//! raises (`lua_error` unwinds with `longjmp`).
//!
//! Limits: Lua's 8000-slot C stack limit (`LUAI_MAXCSTACK`) is emulated by
//! counting the slots the C code would use, so "stack overflow (...)" errors
//! appear at the same depth and count as in Redis.

mod bit;
mod cjson;
mod cmsgpack;
mod structlib;

use std::ffi::c_int;

use mlua::{ffi, Function, Lua, MultiValue, Table, Value};

/// Opens every library as a global table of `lua`.
pub fn open_all(lua: &Lua) -> mlua::Result<()> {
    let globals = lua.globals();
    globals.set("cjson", cjson::module(lua)?)?;
    globals.set("cmsgpack", cmsgpack::module(lua)?)?;
    globals.set("bit", bit::module(lua)?)?;
    globals.set("struct", structlib::module(lua)?)?;
    Ok(())
}

/// Lua 5.1's `LUAI_MAXCSTACK`: the most stack slots one C call may use.
const MAX_C_STACK: usize = 8000;

/// What a library function returns to Lua.
enum Ret {
    One(Value),
    Many(Vec<Value>),
    /// Values 1..=n of a table: for long result lists, which would
    /// otherwise hold one mlua reference per value.
    Seq(Table, usize),
}

/// How a library function fails, mirroring the C libraries' raise calls.
enum Fail {
    /// `luaL_error`: the caller's position, then the message.
    Error(Vec<u8>),
    /// `luaL_argerror(L, narg, msg)`: "bad argument #n to 'f' (msg)".
    Arg(i32, Vec<u8>),
    /// A runtime error raised by the VM inside the C function (`lua_settable`
    /// with a nil key): the message alone.
    Raw(Vec<u8>),
    /// An mlua failure (out of memory, a metamethod error).
    Lua(mlua::Error),
}

impl From<mlua::Error> for Fail {
    fn from(e: mlua::Error) -> Fail {
        Fail::Lua(e)
    }
}

type LibResult<T> = Result<T, Fail>;

fn error<T>(msg: impl Into<Vec<u8>>) -> LibResult<T> {
    Err(Fail::Error(msg.into()))
}

fn arg_error<T>(narg: i32, msg: impl Into<Vec<u8>>) -> LibResult<T> {
    Err(Fail::Arg(narg, msg.into()))
}

/// Tags of the three values a closure hands its trampoline.
const TAG_ONE: i64 = 0;
const TAG_MANY: i64 = 1;
const TAG_ERROR: i64 = 2;
const TAG_ARG: i64 = 3;
const TAG_RAW: i64 = 4;

/// Wraps `f` as a Lua C function that raises errors as `lauxlib` would.
fn create<F>(lua: &Lua, f: F) -> mlua::Result<Function>
where
    F: Fn(&Lua, Args) -> LibResult<Ret> + 'static,
{
    let inner = lua.create_function(move |lua, args: MultiValue| {
        let out = match f(lua, Args(args.into_vec())) {
            Ok(Ret::One(v)) => (TAG_ONE, v, Value::Nil),
            Ok(Ret::Many(vs)) => {
                let n = vs.len() as i64;
                let t = lua.create_sequence_from(vs)?;
                (TAG_MANY, Value::Table(t), Value::Integer(n))
            }
            Ok(Ret::Seq(t, n)) => (TAG_MANY, Value::Table(t), Value::Integer(n as i64)),
            Err(Fail::Error(m)) => (TAG_ERROR, Value::String(lua.create_string(m)?), Value::Nil),
            Err(Fail::Arg(n, m)) => (
                TAG_ARG,
                Value::String(lua.create_string(m)?),
                Value::Integer(n.into()),
            ),
            Err(Fail::Raw(m)) => (TAG_RAW, Value::String(lua.create_string(m)?), Value::Nil),
            Err(Fail::Lua(e)) => return Err(e),
        };
        Ok(out)
    })?;
    // SAFETY: `exec_raw` runs the closure with `inner` on top of a stack it
    // owns; `lua_pushcclosure` pops it as the closure's upvalue and leaves
    // the new closure as the one result.
    unsafe {
        lua.exec_raw::<Function>(inner, |state| {
            ffi::lua_pushcclosure(state, trampoline, 1);
        })
    }
}

/// Calls the closure in upvalue 1 with this call's arguments and turns its
/// tagged answer into results or a raised error.
unsafe extern "C-unwind" fn trampoline(state: *mut ffi::lua_State) -> c_int {
    let nargs = ffi::lua_gettop(state);
    if ffi::lua_checkstack(state, 1) == 0 {
        ffi::luaL_error(state, c"stack overflow".as_ptr());
    }
    ffi::lua_pushvalue(state, ffi::lua_upvalueindex(1));
    ffi::lua_insert(state, 1);
    ffi::lua_call(state, nargs, 3);
    // Stack: tag, a, b.
    match ffi::lua_tointeger(state, 1) {
        TAG_ONE => {
            ffi::lua_settop(state, 2);
            1
        }
        TAG_MANY => {
            let n = ffi::lua_tointeger(state, 3) as c_int;
            ffi::lua_settop(state, 2);
            ffi::lua_replace(state, 1);
            if ffi::lua_checkstack(state, n) == 0 {
                ffi::luaL_error(state, c"stack overflow".as_ptr());
            }
            for i in 1..=n {
                ffi::lua_rawgeti(state, 1, i.into());
            }
            n
        }
        TAG_ERROR => {
            ffi::luaL_where(state, 1);
            ffi::lua_pushvalue(state, 2);
            ffi::lua_concat(state, 2);
            ffi::lua_error(state)
        }
        TAG_ARG => {
            let narg = ffi::lua_tointeger(state, 3) as c_int;
            ffi::luaL_argerror(
                state,
                narg,
                ffi::lua_tolstring(state, 2, std::ptr::null_mut()),
            )
        }
        _ => {
            ffi::lua_settop(state, 2);
            ffi::lua_error(state)
        }
    }
}

/// Builds a module table from `(name, function)` pairs.
fn module_table<F>(lua: &Lua, funcs: Vec<(&str, F)>) -> mlua::Result<Table>
where
    F: Fn(&Lua, Args) -> LibResult<Ret> + 'static,
{
    let t = lua.create_table()?;
    for (name, f) in funcs {
        t.raw_set(name, create(lua, f)?)?;
    }
    Ok(t)
}

/// A stack of Lua values kept in a Lua table. mlua can hold only about
/// 8000 references at once (they live on an auxiliary Lua stack), so the
/// iterative encoders and decoders keep their open tables, pending keys and
/// results here: one reference however deep or long the data.
struct ValueStack {
    t: Table,
    len: usize,
}

impl ValueStack {
    fn new(lua: &Lua) -> mlua::Result<ValueStack> {
        Ok(ValueStack {
            t: lua.create_table()?,
            len: 0,
        })
    }

    fn push(&mut self, v: impl mlua::IntoLua) -> mlua::Result<()> {
        self.len += 1;
        self.t.raw_set(self.len, v)
    }

    /// Drops the values above `len`.
    fn truncate(&mut self, len: usize) -> mlua::Result<()> {
        while self.len > len {
            self.t.raw_set(self.len, Value::Nil)?;
            self.len -= 1;
        }
        Ok(())
    }

    fn get<V: mlua::FromLua>(&self, i: usize) -> mlua::Result<V> {
        self.t.raw_get(i)
    }

    fn set(&self, i: usize, v: impl mlua::IntoLua) -> mlua::Result<()> {
        self.t.raw_set(i, v)
    }

    /// The values as a function's results.
    fn into_ret(self) -> Ret {
        Ret::Seq(self.t, self.len)
    }
}

/// A C function's arguments, read with `lauxlib`'s rules and messages.
/// Indexes are 1-based as in Lua.
struct Args(Vec<Value>);

impl Args {
    fn len(&self) -> usize {
        self.0.len()
    }

    fn get(&self, i: usize) -> Option<&Value> {
        self.0.get(i.wrapping_sub(1))
    }

    /// `lua_isnoneornil`.
    fn is_none_or_nil(&self, i: usize) -> bool {
        matches!(self.get(i), None | Some(Value::Nil))
    }

    /// `luaL_checknumber`: numbers and numeric strings.
    fn check_number(&self, lua: &Lua, i: usize) -> LibResult<f64> {
        match self.get(i).and_then(|v| to_number(lua, v)) {
            Some(n) => Ok(n),
            None => self.type_error(i, "number"),
        }
    }

    /// `luaL_checkinteger`: the number truncated as C's cast does.
    fn check_integer(&self, lua: &Lua, i: usize) -> LibResult<i64> {
        self.check_number(lua, i).map(c_double_to_i64)
    }

    /// `luaL_optinteger`.
    fn opt_integer(&self, lua: &Lua, i: usize, default: i64) -> LibResult<i64> {
        if self.is_none_or_nil(i) {
            Ok(default)
        } else {
            self.check_integer(lua, i)
        }
    }

    /// `luaL_checklstring`: strings, and numbers formatted as Lua does.
    fn check_bytes(&self, lua: &Lua, i: usize) -> LibResult<mlua::String> {
        match self.get(i).and_then(|v| to_lua_string(lua, v)) {
            Some(s) => Ok(s),
            None => self.type_error(i, "string"),
        }
    }

    /// `luaL_typerror`.
    fn type_error<T>(&self, i: usize, expected: &str) -> LibResult<T> {
        arg_error(
            i as i32,
            format!("{expected} expected, got {}", type_name(self.get(i))),
        )
    }
}

/// `lua_tonumber`: numbers, and strings Lua reads as numbers.
fn to_number(lua: &Lua, v: &Value) -> Option<f64> {
    match v {
        Value::Integer(i) => Some(*i as f64),
        Value::Number(n) => Some(*n),
        Value::String(_) => lua.coerce_number(v.clone()).ok().flatten(),
        _ => None,
    }
}

/// A number value as the double Lua holds.
fn to_number_value(v: &Value) -> f64 {
    match v {
        Value::Integer(i) => *i as f64,
        Value::Number(n) => *n,
        _ => 0.0,
    }
}

/// `lua_tolstring`: strings, and numbers formatted as `%.14g`.
fn to_lua_string(lua: &Lua, v: &Value) -> Option<mlua::String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Integer(_) | Value::Number(_) => lua.coerce_string(v.clone()).ok().flatten(),
        _ => None,
    }
}

/// `luaL_typename`, with "no value" for a missing argument.
fn type_name(v: Option<&Value>) -> &'static str {
    match v {
        None => "no value",
        Some(v) => lua_type_name(v),
    }
}

/// `lua_typename(lua_type(v))`.
fn lua_type_name(v: &Value) -> &'static str {
    match v {
        Value::Nil => "nil",
        Value::Boolean(_) => "boolean",
        Value::Integer(_) | Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Table(_) => "table",
        Value::Function(_) => "function",
        Value::Thread(_) => "thread",
        _ => "userdata",
    }
}

/// A Lua number as a C `(int64_t)` cast on x86-64 (`cvttsd2si`): truncated,
/// and `INT64_MIN` for NaN and values out of range.
fn c_double_to_i64(n: f64) -> i64 {
    if (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&n) {
        n as i64
    } else {
        i64::MIN
    }
}

/// A Lua number as a C `(int)` cast on x86-64: `INT_MIN` when out of range.
fn c_double_to_i32(n: f64) -> i32 {
    if n > -2_147_483_649.0 && n < 2_147_483_648.0 {
        n as i32
    } else {
        i32::MIN
    }
}

/// A Lua number as a C `(uint64_t)` cast as gcc compiles it on x86-64:
/// below 2^63 through the signed conversion, else offset by 2^63.
fn c_double_to_u64(n: f64) -> u64 {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if n >= TWO_63 {
        (c_double_to_i64(n - TWO_63) as u64) ^ (1 << 63)
    } else {
        c_double_to_i64(n) as u64
    }
}

/// C's `printf("%.<prec>g", d)` for `prec` in 1..=17, as glibc prints it.
fn format_g(d: f64, prec: usize) -> String {
    if d.is_nan() {
        return if d.is_sign_negative() { "-nan" } else { "nan" }.to_owned();
    }
    if d.is_infinite() {
        return if d > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    let prec = prec.max(1);
    let sci = format!("{:.*e}", prec - 1, d);
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if exp < -4 || exp >= prec as i32 {
        let mantissa = strip_fraction_zeros(mantissa);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.unsigned_abs())
    } else {
        let decimals = (prec as i32 - 1 - exp) as usize;
        strip_fraction_zeros(&format!("{d:.decimals$}")).to_owned()
    }
}

/// `%g`'s removal of trailing fraction zeros and of a bare '.'.
fn strip_fraction_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

#[cfg(test)]
fn test_lua() -> Lua {
    let lua = Lua::new();
    open_all(&lua).expect("libraries open");
    lua
}

/// Runs a chunk and returns its single string result as bytes, or the error
/// message a script's `pcall` would see.
#[cfg(test)]
fn eval_bytes(lua: &Lua, code: &str) -> Vec<u8> {
    let wrapped = format!(
        "local ok, r = pcall(function() {code} end) \
         if ok then return r end return 'ERR ' .. tostring(r)"
    );
    match lua.load(&wrapped).set_name("@user_script").eval::<Value>() {
        Ok(Value::String(s)) => s.as_bytes().to_vec(),
        Ok(other) => format!("{other:?}").into_bytes(),
        Err(e) => format!("mlua error: {e}").into_bytes(),
    }
}

#[cfg(test)]
fn eval(lua: &Lua, code: &str) -> String {
    String::from_utf8_lossy(&eval_bytes(lua, code)).into_owned()
}

/// Lua source of a helper that hex-encodes a string.
#[cfg(test)]
const HEX: &str = "local function hex(s) return (s:gsub('.', function(c) \
                   return string.format('%02x', c:byte()) end)) end ";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_g_matches_printf() {
        assert_eq!(format_g(0.1, 14), "0.1");
        assert_eq!(format_g(1.0 / 3.0, 14), "0.33333333333333");
        assert_eq!(format_g(1e15, 14), "1e+15");
        assert_eq!(format_g(12345678901234.0, 14), "12345678901234");
        assert_eq!(format_g(123456789012345.0, 14), "1.2345678901234e+14");
        assert_eq!(format_g(0.0001, 14), "0.0001");
        assert_eq!(format_g(0.00001, 14), "1e-05");
        assert_eq!(format_g(-0.0, 14), "-0");
        assert_eq!(format_g(1e300, 14), "1e+300");
        assert_eq!(format_g(1.0 / 3.0, 3), "0.333");
        assert_eq!(format_g(100.0, 1), "1e+02");
        assert_eq!(format_g(9.5, 1), "1e+01");
    }

    #[test]
    fn c_casts_follow_x86_64() {
        assert_eq!(c_double_to_i64(-1.5), -1);
        assert_eq!(c_double_to_i64(9.3e18), i64::MIN);
        assert_eq!(c_double_to_i64(f64::NAN), i64::MIN);
        assert_eq!(c_double_to_u64(9_223_372_036_854_775_808.0), 1 << 63);
        assert_eq!(c_double_to_u64(18_446_744_073_709_551_616.0), 0);
        assert_eq!(c_double_to_u64(-1.0), u64::MAX);
        assert_eq!(c_double_to_i32(2_147_483_648.0), i32::MIN);
        assert_eq!(c_double_to_i32(-2_147_483_648.5), -2_147_483_648);
    }

    #[test]
    fn errors_carry_the_callers_position_and_name() {
        let lua = test_lua();
        // luaL_error from Lua code prefixes the caller's line.
        assert_eq!(
            eval(&lua, "return cjson.decode('[')"),
            "ERR user_script:1: Expected value but found T_END at character 2"
        );
        // Called straight from pcall (a C function): no position, name '?'.
        assert_eq!(
            eval(&lua, "local ok, e = pcall(cjson.decode, {}) return e"),
            "bad argument #1 to '?' (string expected, got table)"
        );
        assert_eq!(
            eval(&lua, "local ok, e = pcall(cjson.decode, '[') return e"),
            "Expected value but found T_END at character 2"
        );
    }

    #[test]
    fn open_all_registers_the_four_globals() {
        let lua = test_lua();
        assert_eq!(
            eval(
                &lua,
                "return type(cjson) .. type(cmsgpack) .. type(bit) .. type(struct)"
            ),
            "tabletabletabletable"
        );
    }
}
