//! Conversions between command replies and Lua values, both ways, as Redis
//! 7.0 makes them (`redisProtocolToLuaType` and `luaReplyToRedisReply`).
//!
//! Runs on the core executing a script, inside its coroutine; pure functions
//! of their inputs apart from allocating in the VM.
//!
//! * Reply → Lua depends on the protocol the script chose with
//!   `redis.setresp`: RESP2 sees what a RESP2 client would (maps flattened,
//!   doubles as strings, nil as `false`); RESP3 gets `{map=…}`, `{set=…}`,
//!   `{double=…}`, booleans and `nil`.
//! * Lua → reply: numbers truncate to integers, `true` is 1 (a RESP3 boolean
//!   after `setresp(3)`), `false` is nil, tables with `err`/`ok`/`double`/
//!   `big_number`/`verbatim_string`/`map`/`set` are those types, any other
//!   table is an array that stops at its first nil.

use bytes::Bytes;
use mlua::{Lua, Table, Value};

use crate::command::errors;
use crate::resp::{format_double, Proto, Reply};

/// How deep nested replies and tables are followed (Redis: about 8000, bound
/// by the Lua stack; here by the coroutine's stack).
const MAX_DEPTH: usize = 1000;

/// The text Redis stores in a Lua error table for an error `e` given with
/// or without its leading '-' (`luaPushErrorBuff`): "CODE message", where a
/// message with no space gets the code ERR, trailing CR/LF trimmed.
pub fn error_text(e: &str) -> String {
    let trim = |s: &str| s.trim_matches(|c| c == '\r' || c == '\n').to_string();
    match e.strip_prefix('-') {
        Some(rest) => match rest.split_once(' ') {
            Some((code, msg)) => format!("{code} {}", trim(msg)),
            None => errors::generic(trim(rest)),
        },
        None => errors::generic(trim(e)),
    }
}

/// `{err = text}`.
pub fn error_table(lua: &Lua, text: &str) -> mlua::Result<Table> {
    let t = lua.create_table_with_capacity(0, 1)?;
    t.raw_set("err", text)?;
    Ok(t)
}

/// A command's reply as the Lua value `redis.call` returns.
pub fn reply_to_lua(lua: &Lua, r: &Reply, resp3: bool) -> mlua::Result<Value> {
    to_lua(lua, r, resp3, 0)
}

fn to_lua(lua: &Lua, r: &Reply, resp3: bool, depth: usize) -> mlua::Result<Value> {
    if depth > MAX_DEPTH {
        return Ok(Value::Nil);
    }
    let str_val = |b: &[u8]| -> mlua::Result<Value> { Ok(Value::String(lua.create_string(b)?)) };
    let single = |k: &str, v: Value| -> mlua::Result<Value> {
        let t = lua.create_table_with_capacity(0, 1)?;
        t.raw_set(k, v)?;
        Ok(Value::Table(t))
    };
    let array = |items: &mut dyn Iterator<Item = &Reply>, n: usize| -> mlua::Result<Value> {
        let t = lua.create_table_with_capacity(n, 0)?;
        for (i, item) in items.enumerate() {
            t.raw_set(i + 1, to_lua(lua, item, resp3, depth + 1)?)?;
        }
        Ok(Value::Table(t))
    };
    match r {
        Reply::Ok => single("ok", str_val(b"OK")?),
        Reply::Status(s) => single("ok", str_val(s.as_bytes())?),
        Reply::SimpleString(s) => single("ok", str_val(s)?),
        Reply::Error(_) | Reply::ErrorBytes(_) => {
            let e = r.error_text().unwrap_or_default();
            single("err", str_val(error_text(&format!("-{e}")).as_bytes())?)
        }
        Reply::Int(n) => Ok(Value::Number(*n as f64)),
        Reply::Bulk(b) | Reply::Verbatim(b) if !resp3 => str_val(b),
        Reply::Bulk(b) => str_val(b),
        Reply::Verbatim(b) => {
            let t = lua.create_table_with_capacity(0, 2)?;
            t.raw_set("format", "txt")?;
            t.raw_set("string", lua.create_string(b)?)?;
            single("verbatim_string", Value::Table(t))
        }
        Reply::Nil | Reply::NilArray if resp3 => Ok(Value::Nil),
        Reply::Nil | Reply::NilArray => Ok(Value::Boolean(false)),
        Reply::Array(items) | Reply::Push(items) => array(&mut items.iter(), items.len()),
        Reply::Set(items) if resp3 => {
            let t = lua.create_table_with_capacity(0, items.len())?;
            for item in items {
                let k = to_lua(lua, item, resp3, depth + 1)?;
                if !k.is_nil() {
                    t.raw_set(k, true)?;
                }
            }
            single("set", Value::Table(t))
        }
        Reply::Set(items) => array(&mut items.iter(), items.len()),
        Reply::Map(pairs) | Reply::NestedMap(pairs) if resp3 => {
            let t = lua.create_table_with_capacity(0, pairs.len())?;
            for (k, v) in pairs {
                let k = to_lua(lua, k, resp3, depth + 1)?;
                if !k.is_nil() {
                    t.raw_set(k, to_lua(lua, v, resp3, depth + 1)?)?;
                }
            }
            single("map", Value::Table(t))
        }
        // Nested pairs; a RESP3 NestedMap was a map above.
        Reply::Pairs(pairs) | Reply::NestedMap(pairs)
            if resp3 || matches!(r, Reply::NestedMap(_)) =>
        {
            let t = lua.create_table_with_capacity(pairs.len(), 0)?;
            for (i, (k, v)) in pairs.iter().enumerate() {
                let pair = lua.create_table_with_capacity(2, 0)?;
                pair.raw_set(1, to_lua(lua, k, resp3, depth + 1)?)?;
                pair.raw_set(2, to_lua(lua, v, resp3, depth + 1)?)?;
                t.raw_set(i + 1, pair)?;
            }
            Ok(Value::Table(t))
        }
        Reply::Map(pairs) | Reply::Pairs(pairs) | Reply::NestedMap(pairs) => {
            array(&mut pairs.iter().flat_map(|(k, v)| [k, v]), pairs.len() * 2)
        }
        Reply::Double(d) if resp3 => single("double", Value::Number(*d)),
        Reply::Double(d) => str_val(format_double(*d).as_bytes()),
        Reply::DoubleText(t) if resp3 => {
            let d = std::str::from_utf8(t).ok().and_then(|t| t.parse().ok());
            single("double", Value::Number(d.unwrap_or(0.0)))
        }
        Reply::DoubleText(t) => str_val(t),
        Reply::Bool(b) if resp3 => Ok(Value::Boolean(*b)),
        Reply::Bool(b) => Ok(Value::Number(if *b { 1.0 } else { 0.0 })),
        // Only commands scripts may not call answer pre-encoded bytes or
        // several replies (SHUTDOWN, SUBSCRIBE).
        Reply::Raw(_) | Reply::Many(_) => Ok(Value::Boolean(false)),
    }
}

/// A script's result as the reply its client gets. `resp3` is the script's
/// `redis.setresp` choice, `proto` the client's protocol (big numbers are
/// encoded here, as `Reply` has no such type).
pub fn lua_to_reply(v: &Value, resp3: bool, proto: Proto) -> Reply {
    from_lua(v, resp3, proto, 0)
}

fn from_lua(v: &Value, resp3: bool, proto: Proto, depth: usize) -> Reply {
    if depth > MAX_DEPTH {
        // Redis ends a too deep result the same way (at ~8000 levels).
        return Reply::error(errors::LUA_STACK_LIMIT);
    }
    match v {
        Value::Nil => Reply::Nil,
        Value::Boolean(b) if resp3 => Reply::Bool(*b),
        Value::Boolean(true) => Reply::Int(1),
        Value::Boolean(false) => Reply::Nil,
        Value::Integer(n) => Reply::Int(*n),
        Value::Number(n) => Reply::Int(*n as i64),
        Value::String(s) => Reply::Bulk(Bytes::copy_from_slice(&s.as_bytes())),
        Value::Table(t) => table_to_reply(t, resp3, proto, depth),
        _ => Reply::Nil,
    }
}

fn field(t: &Table, k: &str) -> Value {
    t.raw_get(k).unwrap_or(Value::Nil)
}

fn string_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(String::from_utf8_lossy(&s.as_bytes()).into_owned()),
        Value::Integer(n) => Some(n.to_string()),
        Value::Number(n) => Some(fmt_number(*n)),
        _ => None,
    }
}

/// Status and error texts cannot hold CR or LF; Redis turns them into spaces.
fn one_line(s: String) -> String {
    s.replace(['\r', '\n'], " ")
}

fn table_to_reply(t: &Table, resp3: bool, proto: Proto, depth: usize) -> Reply {
    if let Value::String(_) = field(t, "err") {
        let e = string_of(&field(t, "err")).unwrap_or_default();
        return Reply::Error(one_line(e).into());
    }
    if let Value::String(_) = field(t, "ok") {
        let s = string_of(&field(t, "ok")).unwrap_or_default();
        return Reply::SimpleString(Bytes::from(one_line(s)));
    }
    match field(t, "double") {
        Value::Number(d) => return Reply::Double(d),
        Value::Integer(d) => return Reply::Double(d as f64),
        _ => {}
    }
    if let Value::String(s) = field(t, "big_number") {
        let s = one_line(String::from_utf8_lossy(&s.as_bytes()).into_owned());
        let mut out = bytes::BytesMut::new();
        match proto {
            Proto::Resp3 => {
                out.extend_from_slice(b"(");
                out.extend_from_slice(s.as_bytes());
                out.extend_from_slice(b"\r\n");
            }
            Proto::Resp2 => crate::resp::encode(&Reply::Bulk(Bytes::from(s)), proto, &mut out),
        }
        return Reply::Raw(out.freeze());
    }
    if let Value::Table(v) = field(t, "verbatim_string") {
        if let (Value::String(_), Value::String(s)) = (field(&v, "format"), field(&v, "string")) {
            return Reply::Verbatim(Bytes::copy_from_slice(&s.as_bytes()));
        }
    }
    if let Value::Table(m) = field(t, "map") {
        let pairs = m
            .pairs::<Value, Value>()
            .filter_map(Result::ok)
            .map(|(k, v)| {
                (
                    from_lua(&k, resp3, proto, depth + 1),
                    from_lua(&v, resp3, proto, depth + 1),
                )
            })
            .collect();
        return Reply::Map(pairs);
    }
    if let Value::Table(s) = field(t, "set") {
        let items = s
            .pairs::<Value, Value>()
            .filter_map(Result::ok)
            .map(|(k, _)| from_lua(&k, resp3, proto, depth + 1))
            .collect();
        return Reply::Set(items);
    }
    let mut items = Vec::new();
    for i in 1.. {
        let v: Value = t.raw_get(i).unwrap_or(Value::Nil);
        if v.is_nil() {
            break;
        }
        items.push(from_lua(&v, resp3, proto, depth + 1));
    }
    Reply::Array(items)
}

/// A Lua number as Lua 5.1 turns it into a string (`%.14g`), which is what
/// `redis.call` sends for a number argument.
pub fn fmt_number(n: f64) -> String {
    let mut buf = [0u8; 64];
    // SAFETY: snprintf writes at most buf.len() bytes, NUL-terminated, for one double.
    let len = unsafe {
        libc::snprintf(
            buf.as_mut_ptr() as *mut libc::c_char,
            buf.len(),
            c"%.14g".as_ptr(),
            n,
        )
    };
    let len = (len.max(0) as usize).min(buf.len() - 1);
    String::from_utf8_lossy(&buf[..len]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_format_like_lua() {
        assert_eq!(fmt_number(10.0), "10");
        assert_eq!(fmt_number(3.5), "3.5");
        assert_eq!(fmt_number(1e20), "1e+20");
        assert_eq!(fmt_number(0.1), "0.1");
        assert_eq!(fmt_number(1700000000.123456), "1700000000.1235");
        assert_eq!(fmt_number(-0.0001), "-0.0001");
    }

    #[test]
    fn error_texts_get_a_code() {
        assert_eq!(error_text("-My Error"), "My Error");
        assert_eq!(error_text("-oops"), "ERR oops");
        assert_eq!(error_text("plain words"), "ERR plain words");
        assert_eq!(
            error_text("-WRONGTYPE Operation\r\n"),
            "WRONGTYPE Operation"
        );
    }

    #[test]
    fn replies_round_trip_through_lua() {
        let lua = Lua::new();
        let r = Reply::Array(vec![
            Reply::Int(3),
            Reply::Nil,
            Reply::bulk_from(b"x"),
            Reply::Status("PONG"),
        ]);
        let v = reply_to_lua(&lua, &r, false).unwrap();
        let back = lua_to_reply(&v, false, Proto::Resp2);
        assert_eq!(
            back,
            Reply::Array(vec![
                Reply::Int(3),
                Reply::Nil,
                Reply::bulk_from(b"x"),
                Reply::SimpleString(Bytes::from_static(b"PONG"))
            ])
        );
        let m = Reply::Map(vec![(Reply::bulk_from(b"a"), Reply::Double(1.5))]);
        let v = reply_to_lua(&lua, &m, true).unwrap();
        assert_eq!(
            lua_to_reply(&v, true, Proto::Resp3),
            Reply::Map(vec![(Reply::bulk_from(b"a"), Reply::Double(1.5))])
        );
        let v = reply_to_lua(&lua, &m, false).unwrap();
        assert_eq!(
            lua_to_reply(&v, false, Proto::Resp2),
            Reply::Array(vec![Reply::bulk_from(b"a"), Reply::bulk_from(b"1.5")])
        );
    }
}
