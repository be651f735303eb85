//! `cmsgpack`: lua-cmsgpack 0.4.0 as Redis 7.0 bundles it — MessagePack
//! `pack` of any number of values and `unpack`, `unpack_one`,
//! `unpack_limit` of a stream of them.
//!
//! Encoding choices are the C library's: a number that converts to int64
//! exactly is an integer in the smallest format (fixint, uint8..64 for
//! non-negatives, int8..64 for negatives), else a float32 when that is exact,
//! else a float64 (so 2^63, inf and -inf pack as float32). Strings use fixstr,
//! str8, str16, str32. A table whose keys are exactly the integers 1..n is an
//! array, anything else a map in `next` order. Tables nested 16 deep, and
//! values of other types, pack as nil.
//!
//! Decoding knows nil, booleans, all ints, floats, str8/16/32, arrays and
//! maps; bin, ext and 0xc1 are "Bad data format". uint64 values at or above
//! 2^63 come back negative, as the C library pushes them through a signed
//! `lua_Integer`. Decoding is iterative; the C library's use of Lua stack
//! slots is counted so its "stack overflow" errors appear at the same depth
//! (about 4000 nested arrays) and the same count (8000 values at once).

use mlua::{Lua, Table, Value};

use super::{arg_error, error, module_table, Args, Fail, LibResult, Ret, ValueStack, MAX_C_STACK};

/// Tables nested this deep pack as nil, so cyclic tables terminate.
const MAX_NESTING: usize = 16;

pub(super) fn module(lua: &Lua) -> mlua::Result<Table> {
    type F = fn(&Lua, Args) -> LibResult<Ret>;
    let t = module_table::<F>(
        lua,
        vec![
            ("pack", pack),
            ("unpack", unpack),
            ("unpack_one", unpack_one),
            ("unpack_limit", unpack_limit),
        ],
    )?;
    t.raw_set("_NAME", "cmsgpack")?;
    t.raw_set("_VERSION", "lua-cmsgpack 0.4.0")?;
    t.raw_set("_COPYRIGHT", "Copyright (C) 2012, Salvatore Sanfilippo")?;
    t.raw_set("_DESCRIPTION", "MessagePack C implementation for Lua")?;
    Ok(t)
}

// ---------------------------------------------------------------- encoding

/// `cmsgpack.pack(v1, v2, ...)`: the encodings concatenated.
fn pack(lua: &Lua, args: Args) -> LibResult<Ret> {
    if args.len() == 0 {
        return arg_error(0, "MessagePack pack needs input.");
    }
    // lua_checkstack(L, nargs) with the nargs arguments already on the stack.
    if 2 * args.len() > MAX_C_STACK {
        return arg_error(0, "Too many arguments for MessagePack pack.");
    }
    let mut buf = Vec::new();
    for v in &args.0 {
        encode(&mut buf, v, 0)?;
    }
    Ok(Ret::One(Value::String(lua.create_string(buf)?)))
}

fn encode(buf: &mut Vec<u8>, v: &Value, level: usize) -> LibResult<()> {
    match v {
        Value::String(s) => encode_bytes(buf, &s.as_bytes()),
        Value::Boolean(b) => buf.push(if *b { 0xc3 } else { 0xc2 }),
        Value::Integer(i) => encode_number(buf, *i as f64),
        Value::Number(n) => encode_number(buf, *n),
        Value::Table(t) if level < MAX_NESTING => encode_table(buf, t, level)?,
        _ => buf.push(0xc0),
    }
    Ok(())
}

fn encode_bytes(buf: &mut Vec<u8>, s: &[u8]) {
    let len = s.len();
    if len < 32 {
        buf.push(0xa0 | len as u8);
    } else if len <= 0xff {
        buf.extend_from_slice(&[0xd9, len as u8]);
    } else if len <= 0xffff {
        buf.push(0xda);
        buf.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        buf.push(0xdb);
        buf.extend_from_slice(&(len as u32).to_be_bytes());
    }
    buf.extend_from_slice(s);
}

/// Integers when the number converts to int64 exactly, else float/double.
fn encode_number(buf: &mut Vec<u8>, n: f64) {
    let i = super::c_double_to_i64(n);
    if !n.is_infinite() && i as f64 == n {
        encode_int(buf, i);
    } else if f64::from(n as f32) == n {
        buf.push(0xca);
        buf.extend_from_slice(&(n as f32).to_be_bytes());
    } else {
        buf.push(0xcb);
        buf.extend_from_slice(&n.to_be_bytes());
    }
}

fn encode_int(buf: &mut Vec<u8>, n: i64) {
    if n >= 0 {
        if n <= 127 {
            buf.push(n as u8);
        } else if n <= 0xff {
            buf.extend_from_slice(&[0xcc, n as u8]);
        } else if n <= 0xffff {
            buf.push(0xcd);
            buf.extend_from_slice(&(n as u16).to_be_bytes());
        } else if n <= 0xffff_ffff {
            buf.push(0xce);
            buf.extend_from_slice(&(n as u32).to_be_bytes());
        } else {
            buf.push(0xcf);
            buf.extend_from_slice(&(n as u64).to_be_bytes());
        }
    } else if n >= -32 {
        buf.push(n as u8);
    } else if n >= -128 {
        buf.extend_from_slice(&[0xd0, n as u8]);
    } else if n >= -32768 {
        buf.push(0xd1);
        buf.extend_from_slice(&(n as i16).to_be_bytes());
    } else if n >= -2_147_483_648 {
        buf.push(0xd2);
        buf.extend_from_slice(&(n as i32).to_be_bytes());
    } else {
        buf.push(0xd3);
        buf.extend_from_slice(&n.to_be_bytes());
    }
}

fn encode_table(buf: &mut Vec<u8>, t: &Table, level: usize) -> LibResult<()> {
    if is_array(t)? {
        let len = t.raw_len();
        encode_header(buf, len, 0x90, 0xdc);
        for j in 1..=len {
            // lua_gettable: metamethods apply, as in the C library.
            let v: Value = t.get(j)?;
            encode(buf, &v, level + 1)?;
        }
    } else {
        let mut len = 0;
        t.for_each(|_: Value, _: Value| {
            len += 1;
            Ok(())
        })?;
        encode_header(buf, len, 0x80, 0xde);
        for pair in t.pairs::<Value, Value>() {
            let (k, v) = pair?;
            encode(buf, &k, level + 1)?;
            encode(buf, &v, level + 1)?;
        }
    }
    Ok(())
}

/// An array or map header: fix form up to 15, then 16- and 32-bit counts.
fn encode_header(buf: &mut Vec<u8>, n: usize, fix: u8, wide: u8) {
    if n <= 15 {
        buf.push(fix | n as u8);
    } else if n <= 0xffff {
        buf.push(wide);
        buf.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        buf.push(wide + 1);
        buf.extend_from_slice(&(n as u32).to_be_bytes());
    }
}

/// `table_is_an_array`: every key a number that is a positive C `int`, and
/// the largest equal to the count (so there are no holes).
fn is_array(t: &Table) -> mlua::Result<bool> {
    let (mut count, mut max) = (0i64, 0i32);
    for pair in t.pairs::<Value, Value>() {
        let n = match pair?.0 {
            Value::Integer(i) => i as f64,
            Value::Number(n) => n,
            _ => return Ok(false),
        };
        let i = super::c_double_to_i32(n);
        if n <= 0.0 || f64::from(i) != n {
            return Ok(false);
        }
        max = max.max(i);
        count += 1;
    }
    Ok(i64::from(max) == count)
}

// ---------------------------------------------------------------- decoding

/// `cmsgpack.unpack(s)`: every value in `s`.
fn unpack(lua: &Lua, args: Args) -> LibResult<Ret> {
    unpack_full(lua, &args, args.len(), 0, 0)
}

/// `cmsgpack.unpack_one(s [, offset])`: the next offset (-1 at the end),
/// then one value.
fn unpack_one(lua: &Lua, args: Args) -> LibResult<Ret> {
    let offset = args.opt_integer(lua, 2, 0)?;
    unpack_full(lua, &args, 1, 1, offset)
}

/// `cmsgpack.unpack_limit(s, limit [, offset])`: the next offset, then up
/// to `limit` values. A limit and offset of 0 decode everything, with no
/// offset returned.
fn unpack_limit(lua: &Lua, args: Args) -> LibResult<Ret> {
    let limit = args.check_integer(lua, 2)?;
    let offset = args.opt_integer(lua, 3, 0)?;
    unpack_full(lua, &args, 1, limit, offset)
}

/// `mp_unpack_full`. `stack_args` is how many arguments the C function
/// still has on its stack while it decodes.
fn unpack_full(
    lua: &Lua,
    args: &Args,
    stack_args: usize,
    limit: i64,
    offset: i64,
) -> LibResult<Ret> {
    let s = args.check_bytes(lua, 1)?;
    let s = s.as_bytes();
    let len = s.len();
    if offset < 0 || limit < 0 {
        // The C message prints the input length as the limit.
        return error(format!(
            "Invalid request to unpack with offset of {} and limit of {}.",
            offset as i32, len as i32
        ));
    }
    if offset as u64 > len as u64 {
        return error(format!(
            "Start offset {} greater than input length {}.",
            offset as i32, len as i32
        ));
    }
    let decode_all = limit == 0 && offset == 0;
    let limit = if decode_all {
        i64::from(i32::MAX)
    } else {
        limit
    };
    let mut cur = Cursor {
        s: &s,
        at: offset as usize,
    };
    let mut out = ValueStack::new(lua)?;
    if !decode_all {
        // Slot 1 is for the next offset.
        out.push(Value::Nil)?;
    }
    let first = out.len;
    let mut open = ValueStack::new(lua)?;
    while cur.left() > 0 && ((out.len - first) as i64) < limit {
        let top = stack_args + out.len - first;
        match decode(lua, &mut cur, top, &mut open) {
            Ok(v) => out.push(v)?,
            Err(DecodeError::Eof) => return error("Missing bytes in input."),
            Err(DecodeError::BadFormat) => return error("Bad data format in input."),
            Err(DecodeError::StackOverflow(what)) => {
                return error(format!("stack overflow ({what})"))
            }
            Err(DecodeError::Fail(f)) => return Err(f),
        }
    }
    if !decode_all {
        let next = if cur.left() == 0 { -1 } else { cur.at as i64 };
        out.set(1, next as f64)?;
    }
    Ok(out.into_ret())
}

enum DecodeError {
    Eof,
    BadFormat,
    StackOverflow(&'static str),
    Fail(Fail),
}

impl From<mlua::Error> for DecodeError {
    fn from(e: mlua::Error) -> DecodeError {
        DecodeError::Fail(Fail::Lua(e))
    }
}

struct Cursor<'a> {
    s: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn left(&self) -> usize {
        self.s.len() - self.at
    }

    /// `mp_cur_need`: at least `n` bytes left.
    fn need(&self, n: usize) -> Result<(), DecodeError> {
        if self.left() < n {
            Err(DecodeError::Eof)
        } else {
            Ok(())
        }
    }

    /// The `n` bytes after the type byte, consuming them and the type byte.
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        self.need(1 + n)?;
        let b = &self.s[self.at + 1..self.at + 1 + n];
        self.at += 1 + n;
        Ok(b)
    }

    /// A big-endian length of `n` bytes after the type byte.
    fn take_len(&mut self, n: usize) -> Result<usize, DecodeError> {
        Ok(self
            .take(n)?
            .iter()
            .fold(0usize, |l, &b| (l << 8) | usize::from(b)))
    }

    /// `len` bytes of string data.
    fn take_str(&mut self, len: usize) -> Result<&'a [u8], DecodeError> {
        self.need(len)?;
        let b = &self.s[self.at..self.at + len];
        self.at += len;
        Ok(b)
    }
}

/// One decoded item: a complete value, or the header of a container whose
/// elements follow.
enum Item {
    Value(Value),
    Array(usize),
    Map(usize),
}

/// A container being filled; its table (and a map's pending key) are in
/// the `open` value stack. `top` is the C stack height before its table was
/// pushed.
struct Frame {
    /// Arrays: the next index. Maps: None.
    next: Option<i64>,
    /// Elements (map pairs) still to come.
    left: usize,
    /// A map's key is decoded and waits for its value.
    has_key: bool,
    top: usize,
}

/// Decodes one top-level value, its containers filled without recursion.
/// `top` is the C stack height before the value is pushed.
fn decode(
    lua: &Lua,
    cur: &mut Cursor,
    top: usize,
    open: &mut ValueStack,
) -> Result<Value, DecodeError> {
    let mut frames: Vec<Frame> = Vec::new();
    open.truncate(0)?;
    loop {
        let done = frames.last().is_some_and(|f| f.left == 0 && !f.has_key);
        let value = if done {
            frames.pop();
            let t: Value = open.get(2 * frames.len() + 1)?;
            open.truncate(2 * frames.len())?;
            t
        } else {
            // Slots in use when the next value is decoded: the parent's
            // table plus its pending index (array) or key (map value).
            let child_top = match frames.last() {
                None => top,
                Some(f) if f.next.is_some() || f.has_key => f.top + 2,
                Some(f) => f.top + 1,
            };
            match read_item(lua, cur, child_top)? {
                Item::Value(v) => v,
                Item::Array(len) => {
                    let t = lua.create_table()?;
                    if child_top + 2 > MAX_C_STACK {
                        return Err(DecodeError::StackOverflow(
                            "in function mp_decode_to_lua_array",
                        ));
                    }
                    open_frame(open, &mut frames, t, Some(1), len, child_top)?;
                    continue;
                }
                Item::Map(len) => {
                    let t = lua.create_table()?;
                    open_frame(open, &mut frames, t, None, len, child_top)?;
                    continue;
                }
            }
        };
        let n = frames.len();
        let Some(f) = frames.last_mut() else {
            return Ok(value);
        };
        let slot = 2 * n - 1;
        match f.next.as_mut() {
            Some(next) => {
                let t: Table = open.get(slot)?;
                t.raw_set(*next, value)?;
                *next += 1;
                f.left -= 1;
            }
            None if !f.has_key => {
                open.set(slot + 1, value)?;
                f.has_key = true;
            }
            None => {
                // lua_settable refuses these keys with a VM error.
                let k: Value = open.get(slot + 1)?;
                match k {
                    Value::Nil => return Err(raw("table index is nil")),
                    Value::Number(n) if n.is_nan() => return Err(raw("table index is NaN")),
                    _ => {}
                }
                let t: Table = open.get(slot)?;
                t.raw_set(k, value)?;
                open.set(slot + 1, Value::Nil)?;
                f.has_key = false;
                f.left -= 1;
            }
        }
    }
}

fn open_frame(
    open: &mut ValueStack,
    frames: &mut Vec<Frame>,
    t: Table,
    next: Option<i64>,
    left: usize,
    top: usize,
) -> mlua::Result<()> {
    open.push(t)?;
    open.push(Value::Nil)?;
    frames.push(Frame {
        next,
        left,
        has_key: false,
        top,
    });
    Ok(())
}

fn raw(msg: &str) -> DecodeError {
    DecodeError::Fail(Fail::Raw(msg.as_bytes().to_vec()))
}

/// `mp_decode_to_lua_type` for one item at stack height `top`.
fn read_item(lua: &Lua, cur: &mut Cursor, top: usize) -> Result<Item, DecodeError> {
    cur.need(1)?;
    if top + 1 > MAX_C_STACK {
        return Err(DecodeError::StackOverflow(
            "too many return values at once; use unpack_one or unpack_limit instead.",
        ));
    }
    let num = |n: f64| Ok(Item::Value(Value::Number(n)));
    let be = |b: &[u8]| b.iter().fold(0u64, |l, &x| (l << 8) | u64::from(x));
    let b = cur.s[cur.at];
    match b {
        0xcc => num(be(cur.take(1)?) as f64),
        0xd0 => num(f64::from(cur.take(1)?[0] as i8)),
        0xcd => num(be(cur.take(2)?) as f64),
        0xd1 => num(f64::from(be(cur.take(2)?) as u16 as i16)),
        0xce => num(be(cur.take(4)?) as f64),
        0xd2 => num(f64::from(be(cur.take(4)?) as u32 as i32)),
        // Pushed as a signed lua_Integer: 2^63 and above come back negative.
        0xcf => num(be(cur.take(8)?) as i64 as f64),
        0xd3 => num(be(cur.take(8)?) as i64 as f64),
        0xc0 => {
            cur.at += 1;
            Ok(Item::Value(Value::Nil))
        }
        0xc3 | 0xc2 => {
            cur.at += 1;
            Ok(Item::Value(Value::Boolean(b == 0xc3)))
        }
        0xca => num(f64::from(f32::from_bits(be(cur.take(4)?) as u32))),
        0xcb => num(f64::from_bits(be(cur.take(8)?))),
        0xd9 => {
            cur.need(2)?;
            let len = usize::from(cur.s[cur.at + 1]);
            cur.need(2 + len)?;
            cur.at += 2;
            string(lua, cur.take_str(len)?)
        }
        0xda => {
            cur.need(3)?;
            let len = usize::from(cur.s[cur.at + 1]) << 8 | usize::from(cur.s[cur.at + 2]);
            cur.need(3 + len)?;
            cur.at += 3;
            string(lua, cur.take_str(len)?)
        }
        0xdb => {
            let len = cur.take_len(4)?;
            string(lua, cur.take_str(len)?)
        }
        0xdc => Ok(Item::Array(cur.take_len(2)?)),
        0xdd => Ok(Item::Array(cur.take_len(4)?)),
        0xde => Ok(Item::Map(cur.take_len(2)?)),
        0xdf => Ok(Item::Map(cur.take_len(4)?)),
        _ if b & 0x80 == 0 => {
            cur.at += 1;
            num(f64::from(b))
        }
        _ if b & 0xe0 == 0xe0 => {
            cur.at += 1;
            num(f64::from(b as i8))
        }
        _ if b & 0xe0 == 0xa0 => {
            let len = usize::from(b & 0x1f);
            cur.need(1 + len)?;
            cur.at += 1;
            string(lua, cur.take_str(len)?)
        }
        _ if b & 0xf0 == 0x90 => {
            cur.at += 1;
            Ok(Item::Array(usize::from(b & 0xf)))
        }
        _ if b & 0xf0 == 0x80 => {
            cur.at += 1;
            Ok(Item::Map(usize::from(b & 0xf)))
        }
        _ => Err(DecodeError::BadFormat),
    }
}

fn string(lua: &Lua, b: &[u8]) -> Result<Item, DecodeError> {
    Ok(Item::Value(Value::String(lua.create_string(b)?)))
}

#[cfg(test)]
mod tests {
    use super::super::{eval, test_lua, HEX};

    fn hex(lua: &mlua::Lua, expr: &str) -> String {
        eval(lua, &format!("{HEX}return hex({expr})"))
    }

    /// A script's results as strings joined with spaces.
    fn list(lua: &mlua::Lua, exprs: &str) -> String {
        eval(
            lua,
            &format!("local t = {{{exprs}}} for i = 1, select('#', {exprs}) do t[i] = tostring(t[i]) end return table.concat(t, ' ')"),
        )
    }

    fn err(lua: &mlua::Lua, call: &str) -> String {
        eval(lua, &format!("local ok, e = pcall({call}) return e"))
    }

    #[test]
    fn positive_integers_use_the_smallest_format() {
        let lua = test_lua();
        assert_eq!(
            hex(
                &lua,
                "cmsgpack.pack(0, 127, 128, 255, 256, 65535, 65536, 2^32-1, 2^32, 2^53)"
            ),
            "007fcc80ccffcd0100cdffffce00010000ceffffffffcf0000000100000000cf0020000000000000"
        );
    }

    #[test]
    fn negative_integers_of_every_width() {
        let lua = test_lua();
        assert_eq!(
            hex(
                &lua,
                "cmsgpack.pack(-1, -32, -33, -128, -129, -32768, -32769, -2^31, -2^31-1, -2^53)"
            ),
            "ffe0d0dfd080d1ff7fd18000d2ffff7fffd280000000d3ffffffff7fffffffd3ffe0000000000000"
        );
    }

    #[test]
    fn floats_prefer_float32_when_exact() {
        let lua = test_lua();
        assert_eq!(
            hex(&lua, "cmsgpack.pack(2^63, -2^63, 2^64, 1/0, -1/0, 0/0)"),
            "ca5f000000d38000000000000000ca5f800000ca7f800000caff800000cbfff8000000000000"
        );
        assert_eq!(
            hex(&lua, "cmsgpack.pack(0.5, 0.1, 1.5, -0.0, 3.4e38, 1e39, 1e-45)"),
            "ca3f000000cb3fb999999999999aca3fc0000000cb47eff933c78cdfadcb48078287f49c4a1dcb3696d601ad376ab9"
        );
    }

    #[test]
    fn tables_nil_and_booleans() {
        let lua = test_lua();
        assert_eq!(
            hex(
                &lua,
                "cmsgpack.pack({1,2,3}, {a=1}, {}, {[2]=1}, {1,nil,3}, true, false, nil)"
            ),
            "9301020381a16101908102018201010303c3c2c0"
        );
        assert_eq!(hex(&lua, "cmsgpack.pack({[1.5]=1})"), "81ca3fc0000001");
        assert_eq!(hex(&lua, "cmsgpack.pack({[0]=1, [1]=2})"), "8200010102");
        assert_eq!(hex(&lua, "cmsgpack.pack({[2^31]=1})"), "81ce8000000001");
        assert_eq!(hex(&lua, "cmsgpack.pack(cjson.null)"), "c0");
        assert_eq!(
            hex(&lua, "(function() local t={} local c=t for i=1,20 do c[1]={} c=c[1] end return cmsgpack.pack(t) end)()"),
            "91919191919191919191919191919191c0"
        );
    }

    #[test]
    fn string_and_container_headers_at_each_boundary() {
        let lua = test_lua();
        let cases = [
            ("cmsgpack.pack(string.rep('a',31)):sub(1,2)", "bf61"),
            ("cmsgpack.pack(string.rep('a',32)):sub(1,3)", "d92061"),
            ("cmsgpack.pack(string.rep('a',255)):sub(1,3)", "d9ff61"),
            ("cmsgpack.pack(string.rep('a',256)):sub(1,4)", "da010061"),
            ("cmsgpack.pack(string.rep('a',65535)):sub(1,4)", "daffff61"),
            ("cmsgpack.pack(string.rep('a',65536)):sub(1,6)", "db0001000061"),
            ("(function() local t={} for i=1,15 do t[i]=i end return cmsgpack.pack(t) end)():sub(1,3)", "9f0102"),
            ("(function() local t={} for i=1,16 do t[i]=i end return cmsgpack.pack(t) end)():sub(1,4)", "dc001001"),
            ("(function() local t={} for i=1,65536 do t[i]=0 end return cmsgpack.pack(t) end)():sub(1,6)", "dd0001000000"),
            ("(function() local t={} for i=1,16 do t['k'..i]=i end return cmsgpack.pack(t) end)():sub(1,3)", "de0010"),
        ];
        for (expr, want) in cases {
            assert_eq!(hex(&lua, expr), want, "{expr}");
        }
        assert_eq!(
            eval(
                &lua,
                "return tostring(#cmsgpack.pack(string.rep('a',65536)))"
            ),
            "65541"
        );
    }

    #[test]
    fn unpack_returns_every_value_and_offsets() {
        let lua = test_lua();
        assert_eq!(list(&lua, "cmsgpack.unpack('\\1\\2\\3')"), "1 2 3");
        assert_eq!(list(&lua, "cmsgpack.unpack_one('\\1\\2\\3')"), "1 1");
        assert_eq!(list(&lua, "cmsgpack.unpack_one('\\1\\2\\3', 2)"), "-1 3");
        assert_eq!(list(&lua, "cmsgpack.unpack_one('\\1\\2\\3', 3)"), "-1");
        assert_eq!(list(&lua, "cmsgpack.unpack_limit('\\1\\2\\3', 2)"), "2 1 2");
        assert_eq!(
            list(&lua, "cmsgpack.unpack_limit('\\1\\2\\3', 2, 1)"),
            "-1 2 3"
        );
        assert_eq!(list(&lua, "cmsgpack.unpack_limit('\\1\\2\\3', 0)"), "1 2 3");
        assert_eq!(list(&lua, "cmsgpack.unpack_limit('\\1\\2\\3', 0, 1)"), "1");
        assert_eq!(list(&lua, "cmsgpack.unpack('')"), "");
        assert_eq!(list(&lua, "cmsgpack.unpack(12)"), "49 50");
        assert_eq!(list(&lua, "cmsgpack.unpack('\\192\\1')"), "nil 1");
    }

    #[test]
    fn unpack_numbers_of_every_format() {
        let lua = test_lua();
        assert_eq!(
            list(
                &lua,
                "cmsgpack.unpack('\\207\\255\\255\\255\\255\\255\\255\\255\\255\\207\\127\\255\\255\\255\\255\\255\\255\\255\
                 \\211\\128\\0\\0\\0\\0\\0\\0\\0\\209\\255\\254\\210\\255\\255\\255\\254\\202\\63\\192\\0\\0\\208\\128\\224')"
            ),
            "-1 9.2233720368548e+18 -9.2233720368548e+18 -2 -2 1.5 -128 -32"
        );
    }

    #[test]
    fn round_trip_nested_values() {
        let lua = test_lua();
        assert_eq!(
            eval(&lua, "return cjson.encode(cmsgpack.unpack(cmsgpack.pack({1, 'two', {x = {true, false}}, 0.25, -70000})))"),
            "[1,\"two\",{\"x\":[true,false]},0.25,-70000]"
        );
        assert_eq!(
            eval(
                &lua,
                "return cjson.encode(cmsgpack.unpack('\\130\\1\\2\\3\\4'))"
            ),
            "[2,null,4]"
        );
        assert_eq!(
            eval(
                &lua,
                "return cjson.encode(cmsgpack.unpack('\\147\\1\\192\\3'))"
            ),
            "[1,null,3]"
        );
    }

    #[test]
    fn errors_match_redis() {
        let lua = test_lua();
        let cases = [
            (
                "cmsgpack.unpack_one, '\\1\\2\\3', 4",
                "Start offset 4 greater than input length 3.",
            ),
            (
                "cmsgpack.unpack_one, '\\1', -1",
                "Invalid request to unpack with offset of -1 and limit of 1.",
            ),
            (
                "cmsgpack.unpack_limit, '\\1', -1",
                "Invalid request to unpack with offset of 0 and limit of 1.",
            ),
            ("cmsgpack.unpack, '\\205\\1'", "Missing bytes in input."),
            ("cmsgpack.unpack, '\\147\\1'", "Missing bytes in input."),
            (
                "cmsgpack.unpack, '\\219\\0\\0\\0\\5ab'",
                "Missing bytes in input.",
            ),
            ("cmsgpack.unpack, '\\193'", "Bad data format in input."),
            ("cmsgpack.unpack, '\\196\\1a'", "Bad data format in input."),
            (
                "cmsgpack.unpack",
                "bad argument #1 to '?' (string expected, got no value)",
            ),
            (
                "cmsgpack.unpack, {}",
                "bad argument #1 to '?' (string expected, got table)",
            ),
            (
                "cmsgpack.unpack_limit, '\\1'",
                "bad argument #2 to '?' (number expected, got no value)",
            ),
            (
                "cmsgpack.unpack_one, '\\1', 'x'",
                "bad argument #2 to '?' (number expected, got string)",
            ),
            (
                "cmsgpack.pack",
                "bad argument #0 to '?' (MessagePack pack needs input.)",
            ),
            ("cmsgpack.unpack, '\\129\\192\\1'", "table index is nil"),
            (
                "cmsgpack.unpack, '\\129\\203\\255\\248\\0\\0\\0\\0\\0\\0\\1'",
                "table index is NaN",
            ),
        ];
        for (call, want) in cases {
            assert_eq!(err(&lua, call), want, "{call}");
        }
        assert!(eval(
            &lua,
            "local ok, e = pcall(function() return cmsgpack.pack() end) return e"
        )
        .ends_with(":1: bad argument #0 to 'pack' (MessagePack pack needs input.)"));
    }

    #[test]
    fn stack_limits_match_the_c_library() {
        let lua = test_lua();
        assert_eq!(
            err(&lua, "cmsgpack.unpack, string.rep('\\145', 5000)..'\\1'"),
            "stack overflow (in function mp_decode_to_lua_array)"
        );
        assert_eq!(
            err(&lua, "cmsgpack.unpack, string.rep('\\1', 9000)"),
            "stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)"
        );
        assert_eq!(
            eval(
                &lua,
                "return tostring(select('#', cmsgpack.unpack(string.rep('\\1', 7999))))"
            ),
            "7999"
        );
        assert_eq!(
            err(&lua, "cmsgpack.unpack, string.rep('\\1', 8000)"),
            "stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)"
        );
    }

    #[test]
    fn long_and_deep_data_stay_within_mluas_reference_limit() {
        let lua = test_lua();
        assert_eq!(
            err(&lua, "cmsgpack.unpack, string.rep('\\129\\1', 5000)..'\\1'"),
            "stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)"
        );
        assert_eq!(
            err(&lua, "cmsgpack.unpack, string.rep('\\129', 9000)..'\\1'"),
            "stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)"
        );
        assert_eq!(
            eval(
                &lua,
                "return tostring(select('#', cmsgpack.unpack(string.rep('\\161a', 7999))))"
            ),
            "7999"
        );
        assert_eq!(
            eval(
                &lua,
                "local t={} for i=1,20000 do t[i]='s'..i end return tostring(#cmsgpack.pack(t))"
            ),
            "128897"
        );
        assert_eq!(
            eval(
                &lua,
                "local t={} for i=1,20000 do t['k'..i]='v' end return tostring(#cmsgpack.pack(t))"
            ),
            "168897"
        );
    }

    #[test]
    fn module_metadata() {
        let lua = test_lua();
        assert_eq!(
            eval(&lua, "return cmsgpack._NAME .. '|' .. cmsgpack._VERSION .. '|' .. cmsgpack._COPYRIGHT .. '|' .. cmsgpack._DESCRIPTION"),
            "cmsgpack|lua-cmsgpack 0.4.0|Copyright (C) 2012, Salvatore Sanfilippo|MessagePack C implementation for Lua"
        );
    }
}
