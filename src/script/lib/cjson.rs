//! `cjson`: lua-cjson 2.1.0 as Redis 7.0 bundles it — `encode`, `decode`,
//! `null`, `new` and the configuration functions, with Redis's defaults
//! (nesting limit 1000 both ways, invalid numbers refused when encoding and
//! accepted when decoding).
//!
//! Encoding follows the C library exactly: numbers as `%.14g` (the precision
//! is configurable, 1..14), '/' escaped as `\/`, control characters and DEL
//! as `\u00XX`, other bytes (invalid UTF-8 included) passed through. A table
//! whose keys are all positive integers is an array, holes written as null,
//! unless it is "excessively sparse" (largest index over twice the count
//! and over 10), which is an error by default; an empty table is `{}`.
//! Object members come in `next` order.
//!
//! Decoding reads the input as a C string — a NUL byte ends it — and numbers
//! with the C library's `strtod`, so hex, `inf` and `nan` are accepted as in
//! Redis. Errors name the token and 1-based byte position as lua-cjson does.
//! Configuration is per module table and lasts for the life of the VM, as in
//! Redis, where a script's `cjson.encode_number_precision(3)` stays in force
//! for later scripts.

use std::cell::Cell;
use std::rc::Rc;

use mlua::{Function, LightUserData, Lua, Table, Value};

use super::{
    arg_error, create, error, format_g, lua_type_name, Args, LibResult, Ret, ValueStack,
    MAX_C_STACK,
};

/// A module table's settings, shared by its functions.
#[derive(Clone, Copy)]
struct Config {
    encode_sparse_convert: i32,
    encode_sparse_ratio: i32,
    encode_sparse_safe: i32,
    encode_max_depth: i32,
    /// 0 refuse, 1 write `inf`/`nan`, 2 write `null`.
    encode_invalid_numbers: i32,
    encode_number_precision: i32,
    /// Only reported back: there is no shared encode buffer to keep here.
    encode_keep_buffer: i32,
    decode_invalid_numbers: i32,
    decode_max_depth: i32,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            encode_sparse_convert: 0,
            encode_sparse_ratio: 2,
            encode_sparse_safe: 10,
            encode_max_depth: 1000,
            encode_invalid_numbers: 0,
            encode_number_precision: 14,
            encode_keep_buffer: 1,
            decode_invalid_numbers: 1,
            decode_max_depth: 1000,
        }
    }
}

/// What a module table's functions share: its settings, and Lua's `next`
/// (taken when the module is made) to walk objects without holding an
/// mlua reference per member.
struct Module {
    cfg: Cell<Config>,
    next: Function,
}

type Shared = Rc<Module>;

/// `cjson.null`: JSON null, a NULL light userdata.
fn null() -> Value {
    Value::LightUserData(LightUserData(std::ptr::null_mut()))
}

pub(super) fn module(lua: &Lua) -> mlua::Result<Table> {
    let cfg: Shared = Rc::new(Module {
        cfg: Cell::new(Config::default()),
        next: lua.globals().get("next")?,
    });
    let t = lua.create_table()?;
    type Func = fn(&Lua, &Shared, Args) -> LibResult<Ret>;
    let funcs: [(&str, Func); 9] = [
        ("encode", encode),
        ("decode", decode),
        ("encode_sparse_array", encode_sparse_array),
        ("encode_max_depth", |lua, cfg, args| {
            int_setting(lua, cfg, args, 1, i32::MAX, |c| &mut c.encode_max_depth)
        }),
        ("decode_max_depth", |lua, cfg, args| {
            int_setting(lua, cfg, args, 1, i32::MAX, |c| &mut c.decode_max_depth)
        }),
        ("encode_number_precision", |lua, cfg, args| {
            int_setting(lua, cfg, args, 1, 14, |c| &mut c.encode_number_precision)
        }),
        ("encode_keep_buffer", |lua, cfg, args| {
            enum_setting(lua, cfg, args, BOOL_OPTIONS, |c| &mut c.encode_keep_buffer)
        }),
        ("encode_invalid_numbers", |lua, cfg, args| {
            enum_setting(lua, cfg, args, &["off", "on", "null"], |c| {
                &mut c.encode_invalid_numbers
            })
        }),
        ("decode_invalid_numbers", |lua, cfg, args| {
            enum_setting(lua, cfg, args, BOOL_OPTIONS, |c| {
                &mut c.decode_invalid_numbers
            })
        }),
    ];
    for (name, f) in funcs {
        let cfg = cfg.clone();
        t.raw_set(name, create(lua, move |lua, args| f(lua, &cfg, args))?)?;
    }
    t.raw_set(
        "new",
        create(lua, |lua, _| Ok(Ret::One(Value::Table(module(lua)?))))?,
    )?;
    t.raw_set("null", null())?;
    t.raw_set("_NAME", "cjson")?;
    t.raw_set("_VERSION", "2.1.0")?;
    Ok(t)
}

// ----------------------------------------------------------- configuration

const BOOL_OPTIONS: &[&str] = &["off", "on"];

/// `json_arg_init`: at most `n` arguments.
fn arg_init(args: &Args, n: usize) -> LibResult<()> {
    if args.len() > n {
        return arg_error(n as i32 + 1, "found too many arguments");
    }
    Ok(())
}

/// `json_integer_option`: sets the value from argument `i` unless nil.
/// lua-cjson reports a range error against argument 1 whatever `i` is.
fn int_option(
    lua: &Lua,
    args: &Args,
    i: usize,
    setting: &mut i32,
    min: i32,
    max: i32,
) -> LibResult<Value> {
    if !args.is_none_or_nil(i) {
        // Assigned to a C int: the low 32 bits.
        let value = args.check_integer(lua, i)? as i32;
        if !(min..=max).contains(&value) {
            return arg_error(1, format!("expected integer between {min} and {max}"));
        }
        *setting = value;
    }
    Ok(Value::Number((*setting).into()))
}

/// `json_enum_option` with `bool_true` 1: a boolean or one of `options`;
/// answers with a boolean for the first two, else the option's name.
fn enum_option(
    lua: &Lua,
    args: &Args,
    i: usize,
    setting: &mut i32,
    options: &[&str],
) -> LibResult<Value> {
    match args.get(i) {
        None | Some(Value::Nil) => {}
        Some(Value::Boolean(b)) => *setting = i32::from(*b),
        Some(_) => {
            // luaL_checkoption compares C strings.
            let s = args.check_bytes(lua, i)?;
            let s = s.as_bytes();
            let name = &s[..s.iter().position(|&b| b == 0).unwrap_or(s.len())];
            match options.iter().position(|o| o.as_bytes() == name) {
                Some(n) => *setting = n as i32,
                None => {
                    let mut msg = b"invalid option '".to_vec();
                    msg.extend_from_slice(name);
                    msg.push(b'\'');
                    return arg_error(i as i32, msg);
                }
            }
        }
    }
    Ok(match *setting {
        0 | 1 => Value::Boolean(*setting == 1),
        n => Value::String(lua.create_string(options[n as usize])?),
    })
}

fn int_setting(
    lua: &Lua,
    cfg: &Shared,
    args: Args,
    min: i32,
    max: i32,
    field: fn(&mut Config) -> &mut i32,
) -> LibResult<Ret> {
    arg_init(&args, 1)?;
    let mut c = cfg.cfg.get();
    let v = int_option(lua, &args, 1, field(&mut c), min, max)?;
    cfg.cfg.set(c);
    Ok(Ret::One(v))
}

fn enum_setting(
    lua: &Lua,
    cfg: &Shared,
    args: Args,
    options: &[&str],
    field: fn(&mut Config) -> &mut i32,
) -> LibResult<Ret> {
    arg_init(&args, 1)?;
    let mut c = cfg.cfg.get();
    let v = enum_option(lua, &args, 1, field(&mut c), options)?;
    cfg.cfg.set(c);
    Ok(Ret::One(v))
}

/// `cjson.encode_sparse_array([convert [, ratio [, safe]]])`.
fn encode_sparse_array(lua: &Lua, cfg: &Shared, args: Args) -> LibResult<Ret> {
    arg_init(&args, 3)?;
    let mut c = cfg.cfg.get();
    // Each setting takes effect even when a later argument is refused.
    let result = (|| {
        Ok(vec![
            enum_option(lua, &args, 1, &mut c.encode_sparse_convert, BOOL_OPTIONS)?,
            int_option(lua, &args, 2, &mut c.encode_sparse_ratio, 0, i32::MAX)?,
            int_option(lua, &args, 3, &mut c.encode_sparse_safe, 0, i32::MAX)?,
        ])
    })();
    cfg.cfg.set(c);
    result.map(Ret::Many)
}

// ---------------------------------------------------------------- encoding

/// `cjson.encode(value)`.
fn encode(lua: &Lua, cfg: &Shared, args: Args) -> LibResult<Ret> {
    if args.len() != 1 {
        return arg_error(1, "expected 1 argument");
    }
    let mut enc = Encoder {
        lua,
        cfg: cfg.cfg.get(),
        next: &cfg.next,
        out: Vec::new(),
    };
    enc.append_root(&args.0[0])?;
    Ok(Ret::One(Value::String(lua.create_string(enc.out)?)))
}

struct Encoder<'a> {
    lua: &'a Lua,
    cfg: Config,
    next: &'a Function,
    out: Vec<u8>,
}

impl Encoder<'_> {
    /// Appends `root`. Nested tables are walked with an explicit stack, so
    /// a deep structure cannot overflow the native stack; each open table
    /// and its last key sit in `open` (slots 2i+1 and 2i+2).
    fn append_root(&mut self, root: &Value) -> LibResult<()> {
        let mut open = ValueStack::new(self.lua)?;
        let mut frames: Vec<Open> = Vec::new();
        self.append_value(root, 0, 1, &mut open, &mut frames)?;
        while !frames.is_empty() {
            let slot = 2 * frames.len() - 1;
            let last = frames.len() - 1;
            let f = &mut frames[last];
            let t: Table = open.get(slot)?;
            let item = if f.object {
                let last: Value = open.get(slot + 1)?;
                let (k, v): (Value, Value) = self.next.call((t, last))?;
                if k.is_nil() {
                    None
                } else {
                    open.set(slot + 1, &k)?;
                    Some((k, v))
                }
            } else if f.next <= f.len {
                f.next += 1;
                Some((Value::Nil, t.raw_get(f.next - 1)?))
            } else {
                None
            };
            let Some((k, v)) = item else {
                self.out.push(if f.object { b'}' } else { b']' });
                frames.pop();
                open.truncate(2 * frames.len())?;
                continue;
            };
            if f.written > 0 {
                self.out.push(b',');
            }
            f.written += 1;
            let (object, depth, top) = (f.object, f.depth, f.top + if f.object { 2 } else { 1 });
            if object {
                self.append_key(&k)?;
            }
            self.append_value(&v, depth, top, &mut open, &mut frames)?;
        }
        Ok(())
    }

    /// Appends a scalar, or opens a table: `depth` tables enclose `v` and
    /// the C encoder would have `top` Lua stack slots in use, `v` included
    /// (it stops at `LUAI_MAXCSTACK`).
    fn append_value(
        &mut self,
        v: &Value,
        depth: i32,
        top: usize,
        open: &mut ValueStack,
        frames: &mut Vec<Open>,
    ) -> LibResult<()> {
        match v {
            Value::String(s) => self.append_string(&s.as_bytes()),
            Value::Integer(i) => self.append_number(*i as f64)?,
            Value::Number(n) => self.append_number(*n)?,
            Value::Boolean(b) => self
                .out
                .extend_from_slice(if *b { b"true" } else { b"false" }),
            Value::Table(t) => {
                let depth = depth + 1;
                if depth > self.cfg.encode_max_depth || top + 3 > MAX_C_STACK {
                    return error(format!("Cannot serialise, excessive nesting ({depth})"));
                }
                let len = self.array_length(t)?;
                let object = len <= 0;
                self.out.push(if object { b'{' } else { b'[' });
                open.push(t)?;
                open.push(Value::Nil)?;
                frames.push(Open {
                    object,
                    len,
                    next: 1,
                    written: 0,
                    depth,
                    top,
                });
            }
            Value::Nil => self.out.extend_from_slice(b"null"),
            Value::LightUserData(p) if p.0.is_null() => self.out.extend_from_slice(b"null"),
            _ => {
                return error(format!(
                    "Cannot serialise {}: type not supported",
                    lua_type_name(v)
                ))
            }
        }
        Ok(())
    }

    /// An object member's key and the ':' after it.
    fn append_key(&mut self, k: &Value) -> LibResult<()> {
        match k {
            Value::Integer(_) | Value::Number(_) => {
                self.out.push(b'"');
                self.append_number(super::to_number_value(k))?;
                self.out.extend_from_slice(b"\":");
            }
            Value::String(s) => {
                self.append_string(&s.as_bytes());
                self.out.push(b':');
            }
            _ => {
                return error(format!(
                    "Cannot serialise {}: table key must be a number or string",
                    lua_type_name(k)
                ))
            }
        }
        Ok(())
    }

    fn append_string(&mut self, s: &[u8]) {
        self.out.push(b'"');
        for &c in s {
            match c {
                b'"' => self.out.extend_from_slice(b"\\\""),
                b'\\' => self.out.extend_from_slice(b"\\\\"),
                b'/' => self.out.extend_from_slice(b"\\/"),
                b'\x08' => self.out.extend_from_slice(b"\\b"),
                b'\t' => self.out.extend_from_slice(b"\\t"),
                b'\n' => self.out.extend_from_slice(b"\\n"),
                b'\x0c' => self.out.extend_from_slice(b"\\f"),
                b'\r' => self.out.extend_from_slice(b"\\r"),
                0..=0x1f | 0x7f => {
                    self.out.extend_from_slice(format!("\\u{c:04x}").as_bytes());
                }
                _ => self.out.push(c),
            }
        }
        self.out.push(b'"');
    }

    fn append_number(&mut self, n: f64) -> LibResult<()> {
        let invalid = n.is_nan() || n.is_infinite();
        match self.cfg.encode_invalid_numbers {
            0 if invalid => return error("Cannot serialise number: must not be NaN or Inf"),
            1 if n.is_nan() => {
                // Written by hand: some C libraries print "-nan".
                self.out.extend_from_slice(b"nan");
                return Ok(());
            }
            2 if invalid => {
                self.out.extend_from_slice(b"null");
                return Ok(());
            }
            _ => {}
        }
        let prec = self.cfg.encode_number_precision as usize;
        self.out.extend_from_slice(format_g(n, prec).as_bytes());
        Ok(())
    }

    /// `lua_array_length`: the largest index when every key is an integer
    /// >= 1, else -1 (an object). Sparse arrays are an error or an object.
    fn array_length(&self, t: &Table) -> LibResult<i32> {
        let (mut max, mut items) = (0i32, 0i32);
        for pair in t.pairs::<Value, Value>() {
            let k = match pair?.0 {
                Value::Integer(i) => i as f64,
                Value::Number(n) => n,
                _ => return Ok(-1),
            };
            if k == 0.0 || k.floor() != k || k < 1.0 {
                return Ok(-1);
            }
            // Compared as doubles, stored in a C int (INT_MIN when out of
            // range, as the x86-64 conversion gives).
            if k > f64::from(max) {
                max = super::c_double_to_i32(k);
            }
            items = items.wrapping_add(1);
        }
        let c = &self.cfg;
        if c.encode_sparse_ratio > 0
            && max > items.wrapping_mul(c.encode_sparse_ratio)
            && max > c.encode_sparse_safe
        {
            if c.encode_sparse_convert == 0 {
                return error("Cannot serialise table: excessively sparse array");
            }
            return Ok(-1);
        }
        Ok(max)
    }
}

/// A table being encoded; the table itself is in the `open` value stack.
struct Open {
    object: bool,
    /// Arrays: the length and the next index to write.
    len: i32,
    next: i32,
    written: usize,
    depth: i32,
    /// Lua stack slots the C encoder would use, the table included.
    top: usize,
}

// ---------------------------------------------------------------- decoding

/// `cjson.decode(json)`.
fn decode(lua: &Lua, cfg: &Shared, args: Args) -> LibResult<Ret> {
    if args.len() != 1 {
        return arg_error(1, "expected 1 argument");
    }
    let s = args.check_bytes(lua, 1)?;
    let data = s.as_bytes();
    // Only the first character is sure to be ASCII; a NUL in the first two
    // means UTF-16 or UTF-32.
    if data.len() >= 2 && (data[0] == 0 || data[1] == 0) {
        return error("JSON parser does not support UTF-16 or UTF-32");
    }
    let mut p = Parser {
        lua,
        cfg: cfg.cfg.get(),
        data: &data,
        pos: 0,
        depth: 0,
    };
    let tok = p.next_token();
    let v = p.parse(tok)?;
    let tok = p.next_token();
    if !matches!(tok.kind, Kind::End) {
        return p.parse_error("the end", &tok);
    }
    Ok(Ret::One(v))
}

enum Kind {
    ObjBegin,
    ObjEnd,
    ArrBegin,
    ArrEnd,
    Str(Vec<u8>),
    Number(f64),
    Boolean(bool),
    Null,
    Colon,
    Comma,
    End,
    Error(&'static str),
}

struct Token {
    kind: Kind,
    /// 0-based byte offset, printed 1-based in errors.
    index: usize,
}

struct Parser<'a> {
    lua: &'a Lua,
    cfg: Config,
    data: &'a [u8],
    pos: usize,
    depth: i32,
}

impl Parser<'_> {
    /// The byte at `i`; 0 past the end, as at a C string's terminator.
    fn at(&self, i: usize) -> u8 {
        self.data.get(i).copied().unwrap_or(0)
    }

    fn next_token(&mut self) -> Token {
        while matches!(self.at(self.pos), b' ' | b'\t' | b'\n' | b'\r') {
            self.pos += 1;
        }
        let index = self.pos;
        let single = |kind| Some(kind);
        let ch = self.at(self.pos);
        let simple = match ch {
            b'{' => single(Kind::ObjBegin),
            b'}' => single(Kind::ObjEnd),
            b'[' => single(Kind::ArrBegin),
            b']' => single(Kind::ArrEnd),
            b',' => single(Kind::Comma),
            b':' => single(Kind::Colon),
            _ => None,
        };
        if let Some(kind) = simple {
            self.pos += 1;
            return Token { kind, index };
        }
        let rest = &self.data[self.pos.min(self.data.len())..];
        let kind = match ch {
            0 => Kind::End,
            b'"' => return self.string_token(),
            b'-' | b'0'..=b'9' => {
                if self.cfg.decode_invalid_numbers == 0 && self.is_invalid_number() {
                    Kind::Error("invalid number")
                } else {
                    return self.number_token();
                }
            }
            b'f' | b'i' | b'I' | b'n' | b'N' | b't' | b'+' => {
                if rest.starts_with(b"true") {
                    self.pos += 4;
                    Kind::Boolean(true)
                } else if rest.starts_with(b"false") {
                    self.pos += 5;
                    Kind::Boolean(false)
                } else if rest.starts_with(b"null") {
                    self.pos += 4;
                    Kind::Null
                } else if self.cfg.decode_invalid_numbers != 0 && self.is_invalid_number() {
                    return self.number_token();
                } else {
                    Kind::Error("invalid token")
                }
            }
            _ => Kind::Error("invalid token"),
        };
        Token { kind, index }
    }

    /// `json_is_invalid_number`: numbers strict JSON forbids but `strtod`
    /// reads — a leading '+', hex, leading zeros, inf and nan.
    fn is_invalid_number(&self) -> bool {
        let mut p = self.pos;
        match self.at(p) {
            b'+' => return true,
            b'-' => p += 1,
            _ => {}
        }
        let c = self.at(p);
        if c == b'0' {
            let c2 = self.at(p + 1);
            return c2 | 0x20 == b'x' || c2.is_ascii_digit();
        }
        // C's `char` is signed: bytes from 0x80 compare below '9'.
        if (c as i8) <= b'9' as i8 {
            return false;
        }
        let word: Vec<u8> = (0..3)
            .map(|i| self.at(p + i).to_ascii_lowercase())
            .collect();
        word == b"inf" || word == b"nan"
    }

    fn number_token(&mut self) -> Token {
        let index = self.pos;
        match strtod(&self.data[self.pos..]) {
            Some((n, used)) => {
                self.pos += used;
                Token {
                    kind: Kind::Number(n),
                    index,
                }
            }
            None => Token {
                kind: Kind::Error("invalid number"),
                index,
            },
        }
    }

    fn string_token(&mut self) -> Token {
        let index = self.pos;
        self.pos += 1;
        let mut buf = Vec::new();
        loop {
            let ch = self.at(self.pos);
            if ch == b'"' {
                break;
            }
            if ch == 0 {
                return self.token_error("unexpected end of string");
            }
            if ch != b'\\' {
                buf.push(ch);
                self.pos += 1;
                continue;
            }
            let c = match self.at(self.pos + 1) {
                b'"' => b'"',
                b'\\' => b'\\',
                b'/' => b'/',
                b'b' => b'\x08',
                b't' => b'\t',
                b'n' => b'\n',
                b'f' => b'\x0c',
                b'r' => b'\r',
                b'u' => {
                    if self.unicode_escape(&mut buf) {
                        continue;
                    }
                    return self.token_error("invalid unicode escape code");
                }
                _ => return self.token_error("invalid escape code"),
            };
            buf.push(c);
            self.pos += 2;
        }
        self.pos += 1;
        Token {
            kind: Kind::Str(buf),
            index,
        }
    }

    fn token_error(&self, what: &'static str) -> Token {
        Token {
            kind: Kind::Error(what),
            index: self.pos,
        }
    }

    /// `json_append_unicode_escape` at `\uXXXX`: one code unit, or a
    /// surrogate pair, as UTF-8.
    fn unicode_escape(&mut self, buf: &mut Vec<u8>) -> bool {
        let Some(mut cp) = self.hex4(self.pos + 2) else {
            return false;
        };
        let mut len = 6;
        if cp & 0xf800 == 0xd800 {
            if cp & 0x400 != 0 || self.at(self.pos + 6) != b'\\' || self.at(self.pos + 7) != b'u' {
                return false;
            }
            let Some(low) = self.hex4(self.pos + 8) else {
                return false;
            };
            if low & 0xfc00 != 0xdc00 {
                return false;
            }
            cp = (((cp & 0x3ff) << 10) | (low & 0x3ff)) + 0x10000;
            len = 12;
        }
        let Some(c) = char::from_u32(cp) else {
            return false;
        };
        buf.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
        self.pos += len;
        true
    }

    fn hex4(&self, at: usize) -> Option<u32> {
        (0..4).try_fold(0, |acc, i| {
            let d = char::from(self.at(at + i)).to_digit(16)?;
            Some(acc << 4 | d)
        })
    }

    fn parse_error<T>(&self, expected: &str, tok: &Token) -> LibResult<T> {
        let found = match &tok.kind {
            Kind::ObjBegin => "T_OBJ_BEGIN",
            Kind::ObjEnd => "T_OBJ_END",
            Kind::ArrBegin => "T_ARR_BEGIN",
            Kind::ArrEnd => "T_ARR_END",
            Kind::Str(_) => "T_STRING",
            Kind::Number(_) => "T_NUMBER",
            Kind::Boolean(_) => "T_BOOLEAN",
            Kind::Null => "T_NULL",
            Kind::Colon => "T_COLON",
            Kind::Comma => "T_COMMA",
            Kind::End => "T_END",
            Kind::Error(what) => what,
        };
        error(format!(
            "Expected {expected} but found {found} at character {}",
            tok.index + 1
        ))
    }

    /// `json_decode_descend`: one level deeper, `slots` more stack slots.
    fn descend(&mut self, top: usize, slots: usize) -> LibResult<()> {
        self.depth += 1;
        if self.depth > self.cfg.decode_max_depth || top + slots > MAX_C_STACK {
            return error(format!(
                "Found too many nested data structures ({}) at character {}",
                self.depth, self.pos
            ));
        }
        Ok(())
    }

    /// The value starting at `tok`. Containers being filled are kept on an
    /// explicit stack, so deep input cannot overflow the native stack; each
    /// one's table and pending key sit in `open` (slots 2i+1 and 2i+2).
    fn parse(&mut self, mut tok: Token) -> LibResult<Value> {
        let mut open = ValueStack::new(self.lua)?;
        let mut frames: Vec<Filling> = Vec::new();
        loop {
            // Slots in use below the next value: the table, plus its key.
            let top = match frames.last() {
                None => 1,
                Some(f) if f.object => f.top + 2,
                Some(f) => f.top + 1,
            };
            let mut value = match tok.kind {
                Kind::Str(s) => Value::String(self.lua.create_string(s)?),
                Kind::Number(n) => Value::Number(n),
                Kind::Boolean(b) => Value::Boolean(b),
                Kind::Null => null(),
                Kind::ObjBegin | Kind::ArrBegin => {
                    let object = matches!(tok.kind, Kind::ObjBegin);
                    // Slots: the table and a value, plus a key for objects.
                    self.descend(top, if object { 3 } else { 2 })?;
                    let t = self.lua.create_table()?;
                    tok = self.next_token();
                    if matches!(tok.kind, Kind::ObjEnd) && object
                        || matches!(tok.kind, Kind::ArrEnd) && !object
                    {
                        self.depth -= 1;
                        Value::Table(t)
                    } else {
                        open.push(t)?;
                        if object {
                            open.push(self.member_key(tok)?)?;
                            tok = self.next_token();
                        } else {
                            open.push(Value::Nil)?;
                        }
                        frames.push(Filling {
                            object,
                            next: 1,
                            top,
                        });
                        continue;
                    }
                }
                _ => return self.parse_error("value", &tok),
            };
            // Store the finished value; close every container it finishes.
            loop {
                let slot = (2 * frames.len()).saturating_sub(1);
                let Some(f) = frames.last_mut() else {
                    return Ok(value);
                };
                let t: Table = open.get(slot)?;
                tok = self.next_token();
                if f.object {
                    let key: Value = open.get(slot + 1)?;
                    t.raw_set(key, value)?;
                    match tok.kind {
                        Kind::ObjEnd => {}
                        Kind::Comma => {
                            let key_tok = self.next_token();
                            open.set(slot + 1, self.member_key(key_tok)?)?;
                            tok = self.next_token();
                            break;
                        }
                        _ => return self.parse_error("comma or object end", &tok),
                    }
                } else {
                    t.raw_set(f.next, value)?;
                    f.next += 1;
                    match tok.kind {
                        Kind::ArrEnd => {}
                        Kind::Comma => {
                            tok = self.next_token();
                            break;
                        }
                        _ => return self.parse_error("comma or array end", &tok),
                    }
                }
                self.depth -= 1;
                frames.pop();
                open.truncate(2 * frames.len())?;
                value = Value::Table(t);
            }
        }
    }

    /// An object member's key at `tok`, and the ':' after it.
    fn member_key(&mut self, tok: Token) -> LibResult<mlua::String> {
        let Kind::Str(key) = tok.kind else {
            return self.parse_error("object key string", &tok);
        };
        let key = self.lua.create_string(key)?;
        let tok = self.next_token();
        if !matches!(tok.kind, Kind::Colon) {
            return self.parse_error("colon", &tok);
        }
        Ok(key)
    }
}

/// A JSON object or array being decoded; its table and an object's pending
/// key are in the parser's value stack.
struct Filling {
    object: bool,
    /// Arrays: the next index.
    next: i64,
    /// Lua stack slots in use below the table in the C decoder.
    top: usize,
}

/// C `strtod` at the start of `s`: the value and the bytes it read, or None
/// when it reads nothing. Only bytes `strtod` can accept are handed to it.
fn strtod(s: &[u8]) -> Option<(f64, usize)> {
    let len = s
        .iter()
        .position(|&b| !(b.is_ascii_alphanumeric() || b"+-.()_".contains(&b)))
        .unwrap_or(s.len());
    let mut buf = Vec::with_capacity(len + 1);
    buf.extend_from_slice(&s[..len]);
    buf.push(0);
    let mut end: *mut libc::c_char = std::ptr::null_mut();
    // SAFETY: `buf` is NUL-terminated and outlives the call; strtod leaves
    // `end` inside it.
    let (v, used) = unsafe {
        let v = libc::strtod(buf.as_ptr().cast(), &mut end);
        (v, end.offset_from(buf.as_ptr().cast()) as usize)
    };
    (used > 0).then_some((v, used))
}

#[cfg(test)]
mod tests {
    use super::super::{eval, eval_bytes, test_lua, HEX};

    /// The message of a failing call, without the caller's position.
    fn err(lua: &mlua::Lua, call: &str) -> String {
        let e = eval(
            lua,
            &format!("local ok, e = pcall(function() return {call} end) return e"),
        );
        e.split_once(":1: ").map(|(_, m)| m.to_owned()).unwrap_or(e)
    }

    fn enc(lua: &mlua::Lua, lua_value: &str) -> String {
        eval(lua, &format!("return cjson.encode({lua_value})"))
    }

    /// Decodes `json` (passed as a Lua long string) and encodes it back.
    fn round(lua: &mlua::Lua, json: &str) -> String {
        eval(
            lua,
            &format!(
                "local ok, v = pcall(cjson.decode, [==[{json}]==]) \
                 if not ok then return v end return cjson.encode(v)"
            ),
        )
    }

    #[test]
    fn encodes_arrays_objects_and_empty_tables() {
        let lua = test_lua();
        assert_eq!(enc(&lua, "{1,2,{a=1}}"), "[1,2,{\"a\":1}]");
        assert_eq!(enc(&lua, "{}"), "{}");
        assert_eq!(enc(&lua, "{{},{{}}}"), "[{},[{}]]");
        assert_eq!(enc(&lua, "{a={b={}}}"), "{\"a\":{\"b\":{}}}");
        assert_eq!(enc(&lua, "{[0]=1}"), "{\"0\":1}");
        assert_eq!(enc(&lua, "{[1.5]=1}"), "{\"1.5\":1}");
        assert_eq!(enc(&lua, "{[-1]=1}"), "{\"-1\":1}");
        assert_eq!(enc(&lua, "{cjson.null, true, false}"), "[null,true,false]");
        assert_eq!(enc(&lua, "nil"), "null");
        assert_eq!(enc(&lua, "cjson.null"), "null");
        assert_eq!(
            enc(&lua, "{b=1,a=2,c=3,d=4,e=5}"),
            "{\"a\":2,\"c\":3,\"b\":1,\"e\":5,\"d\":4}"
        );
        assert_eq!(
            enc(&lua, "{[1]='a',[2]='b',x=1,y=2,z=3,[10]=4}"),
            "{\"y\":2,\"2\":\"b\",\"z\":3,\"1\":\"a\",\"10\":4,\"x\":1}"
        );
    }

    #[test]
    fn sparse_arrays_fill_holes_until_excessively_sparse() {
        let lua = test_lua();
        assert_eq!(enc(&lua, "{[1]=1,[2]=2,[4]=4}"), "[1,2,null,4]");
        assert_eq!(enc(&lua, "{[1]=1,[3]=2,[5]=5}"), "[1,null,2,null,5]");
        assert_eq!(enc(&lua, "{[3]=1}"), "[null,null,1]");
        assert_eq!(enc(&lua, "{1,2,3,nil,5}"), "[1,2,3,null,5]");
        assert_eq!(enc(&lua, "{1,2,x=3}"), "{\"1\":1,\"2\":2,\"x\":3}");
        assert_eq!(
            err(&lua, "cjson.encode({[1]=1,[11]=2})"),
            "Cannot serialise table: excessively sparse array"
        );
        assert_eq!(enc(&lua, "{[2^40]=1}"), "{\"1099511627776\":1}");
        // The largest index is kept in a C int: 2^40 wraps to INT_MIN and
        // is then forgotten, as in Redis.
        assert_eq!(enc(&lua, "{[2^40]=1, [2]=3}"), "[null,3]");
    }

    #[test]
    fn numbers_use_fourteen_significant_digits() {
        let lua = test_lua();
        let cases = [
            ("0.1", "0.1"),
            ("1/3", "0.33333333333333"),
            ("1e300", "1e+300"),
            ("1e-300", "1e-300"),
            ("2^53+1", "9.007199254741e+15"),
            ("2^63", "9.2233720368548e+18"),
            ("-0", "-0"),
            ("123456789012345", "1.2345678901234e+14"),
            ("12345678901234", "12345678901234"),
            ("100", "100"),
            ("1e15", "1e+15"),
            ("0.0001", "0.0001"),
            ("0.00001", "1e-05"),
        ];
        for (lua_num, want) in cases {
            assert_eq!(enc(&lua, lua_num), want, "{lua_num}");
        }
    }

    #[test]
    fn strings_escape_slash_and_control_bytes_and_pass_other_bytes() {
        let lua = test_lua();
        assert_eq!(
            eval_bytes(
                &lua,
                "return cjson.encode('a/b\"c\\\\d\\n\\1\\127\\255\\8\\12\\r\\t')"
            ),
            b"\"a\\/b\\\"c\\\\d\\n\\u0001\\u007f\xff\\b\\f\\r\\t\"".to_vec()
        );
    }

    #[test]
    fn encode_errors() {
        let lua = test_lua();
        let cases = [
            (
                "cjson.encode({[true]=1})",
                "Cannot serialise boolean: table key must be a number or string",
            ),
            (
                "cjson.encode(function() end)",
                "Cannot serialise function: type not supported",
            ),
            (
                "cjson.encode(1/0)",
                "Cannot serialise number: must not be NaN or Inf",
            ),
            (
                "cjson.encode(0/0)",
                "Cannot serialise number: must not be NaN or Inf",
            ),
            (
                "cjson.encode({1/0})",
                "Cannot serialise number: must not be NaN or Inf",
            ),
            (
                "cjson.encode({[1/0]=1})",
                "Cannot serialise number: must not be NaN or Inf",
            ),
            (
                "cjson.encode(1, 2)",
                "bad argument #1 to 'encode' (expected 1 argument)",
            ),
            (
                "cjson.encode()",
                "bad argument #1 to 'encode' (expected 1 argument)",
            ),
        ];
        for (call, want) in cases {
            assert_eq!(err(&lua, call), want, "{call}");
        }
    }

    #[test]
    fn nesting_is_limited_to_1000_tables() {
        let lua = test_lua();
        assert_eq!(
            eval(&lua, "local t={} local c=t for i=1,999 do c[1]={} c=c[1] end return tostring(#cjson.encode(t))"),
            "2000"
        );
        assert_eq!(
            err(&lua, "(function() local t={} local c=t for i=1,1000 do c[1]={} c=c[1] end return cjson.encode(t) end)()"),
            "Cannot serialise, excessive nesting (1001)"
        );
        assert_eq!(
            err(
                &lua,
                "(function() local t={} t[1]=t return cjson.encode(t) end)()"
            ),
            "Cannot serialise, excessive nesting (1001)"
        );
        assert_eq!(
            err(
                &lua,
                "cjson.decode(string.rep('[',1001)..string.rep(']',1001))"
            ),
            "Found too many nested data structures (1001) at character 1001"
        );
        assert_eq!(
            err(
                &lua,
                "cjson.decode(string.rep('{\"a\":',1001)..'1'..string.rep('}',1001))"
            ),
            "Found too many nested data structures (1001) at character 5001"
        );
        assert_eq!(
            eval(&lua, "return tostring(#cjson.encode(cjson.decode(string.rep('[',1000)..string.rep(']',1000))))"),
            "2000"
        );
    }

    #[test]
    fn raised_depth_limits_stop_where_the_c_stack_would() {
        let lua = test_lua();
        let cases = [
            (
                "cjson.encode_max_depth(100000) local t={} local c=t for i=1,9000 do c[1]={} c=c[1] end return select(2, pcall(cjson.encode, t))",
                "Cannot serialise, excessive nesting (7998)",
            ),
            (
                "cjson.encode_max_depth(100000) local t={} local c=t for i=1,9000 do c.a={} c=c.a end return select(2, pcall(cjson.encode, t))",
                "Cannot serialise, excessive nesting (4000)",
            ),
            (
                "cjson.decode_max_depth(100000) return select(2, pcall(cjson.decode, string.rep('[',9000)..string.rep(']',9000)))",
                "Found too many nested data structures (7999) at character 7999",
            ),
            (
                "cjson.decode_max_depth(100000) return select(2, pcall(cjson.decode, string.rep('{\"a\":',9000)..'1'..string.rep('}',9000)))",
                "Found too many nested data structures (4000) at character 19996",
            ),
        ];
        for (code, want) in cases {
            assert_eq!(eval(&lua, code), want, "{code}");
        }
    }

    #[test]
    fn large_tables_encode_and_decode() {
        let lua = test_lua();
        assert_eq!(
            eval(
                &lua,
                "local t={} for i=1,20000 do t['k'..i]=i end return tostring(#cjson.encode(t))"
            ),
            "277789"
        );
        assert_eq!(
            eval(&lua, "local t={} for i=1,20000 do t[i]='s'..i end return tostring(#cjson.decode(cjson.encode(t)))"),
            "20000"
        );
    }

    #[test]
    fn decodes_values_and_round_trips() {
        let lua = test_lua();
        let cases = [
            ("[1,2,3]", "[1,2,3]"),
            ("{\"a\":[1,{\"b\":null}]}", "{\"a\":[1,{\"b\":null}]}"),
            ("  [1 , 2 ]  ", "[1,2]"),
            ("\"\\u00e9\"", "\"\u{e9}\""),
            ("\"\\ud83d\\ude00\"", "\"\u{1f600}\""),
            ("0x10", "16"),
            ("+1", "1"),
            ("01", "1"),
            ("1.", "1"),
            ("1e5", "100000"),
            ("0x1p3", "8"),
            ("\"\\/\"", "\"\\/\""),
            ("[true,false,null]", "[true,false,null]"),
            ("\"a\\u0000b\"", "\"a\\u0000b\""),
            ("123456789012345678901234567890", "1.2345678901235e+29"),
            ("-0", "-0"),
            ("\"a\tb\"", "\"a\\tb\""),
            ("[[[[]]]]", "[[[{}]]]"),
            ("{\"\":1}", "{\"\":1}"),
            ("{\"a\":1,\"a\":2}", "{\"a\":2}"),
        ];
        for (json, want) in cases {
            assert_eq!(round(&lua, json), want, "{json}");
        }
        assert_eq!(
            eval(&lua, "return tostring(cjson.decode('null') == cjson.null)"),
            "true"
        );
        assert_eq!(eval(&lua, "return type(cjson.decode('null'))"), "userdata");
        assert_eq!(eval(&lua, "return cjson.decode('\"a\"\\0garbage')"), "a");
        assert_eq!(eval(&lua, "return tostring(cjson.decode(123))"), "123");
        // Invalid numbers decode, then cannot be encoded.
        for json in [
            "1e400",
            "-1e400",
            "NaN",
            "nan",
            "-nan",
            "inf",
            "-Infinity",
            "nan(123)",
            "Inf",
        ] {
            assert_eq!(
                round(&lua, json),
                "ERR user_script:1: Cannot serialise number: must not be NaN or Inf",
                "{json}"
            );
        }
    }

    #[test]
    fn decoded_objects_iterate_in_redis_order() {
        let lua = test_lua();
        assert_eq!(
            round(
                &lua,
                r#"{"name":"x","id":7,"tags":["a","b"],"nested":{"k1":1,"k2":[1,2,{"z":null}],"k3":false},"e":{},"f":[]}"#
            ),
            r#"{"name":"x","tags":["a","b"],"id":7,"nested":{"k1":1,"k3":false,"k2":[1,2,{"z":null}]},"e":{},"f":{}}"#
        );
        assert_eq!(
            eval(
                &lua,
                &format!(
                    "{HEX}return hex(cmsgpack.pack(cjson.decode('{}')))",
                    r#"{"name":"x","id":7,"tags":["a","b"],"nested":{"k1":1,"k2":[1,2,{"z":null}],"k3":false}}"#
                )
            ),
            "84a2696407a66e657374656483a26b3101a26b33c2a26b3293010281a17ac0a46e616d65a178a47461677392a161a162"
        );
    }

    #[test]
    fn decode_errors_name_the_token_and_position() {
        let lua = test_lua();
        let cases = [
            ("[", "Expected value but found T_END at character 2"),
            (
                "{",
                "Expected object key string but found T_END at character 2",
            ),
            ("{\"a\"", "Expected colon but found T_END at character 5"),
            ("{\"a\":", "Expected value but found T_END at character 6"),
            (
                "{\"a\":1",
                "Expected comma or object end but found T_END at character 7",
            ),
            (
                "{\"a\":1,",
                "Expected object key string but found T_END at character 8",
            ),
            (
                "{1:2}",
                "Expected object key string but found T_NUMBER at character 2",
            ),
            ("[1,]", "Expected value but found T_ARR_END at character 4"),
            (
                "[1 2]",
                "Expected comma or array end but found T_NUMBER at character 4",
            ),
            ("", "Expected value but found T_END at character 1"),
            ("   ", "Expected value but found T_END at character 4"),
            (
                "nul",
                "Expected value but found invalid token at character 1",
            ),
            (
                "nulll",
                "Expected the end but found invalid token at character 5",
            ),
            (
                "tru",
                "Expected value but found invalid token at character 1",
            ),
            (
                "\"abc",
                "Expected value but found unexpected end of string at character 5",
            ),
            (
                "\"\\q\"",
                "Expected value but found invalid escape code at character 2",
            ),
            (
                "\"\\ud83d\"",
                "Expected value but found invalid unicode escape code at character 2",
            ),
            (
                "\"\\ude00\"",
                "Expected value but found invalid unicode escape code at character 2",
            ),
            (
                "\"\\u12\"",
                "Expected value but found invalid unicode escape code at character 2",
            ),
            (
                "-",
                "Expected value but found invalid number at character 1",
            ),
            (
                ".5",
                "Expected value but found invalid token at character 1",
            ),
            (
                "[1]x",
                "Expected the end but found invalid token at character 4",
            ),
            ("1 2", "Expected the end but found T_NUMBER at character 3"),
            (
                "{\"a\":1}}",
                "Expected the end but found T_OBJ_END at character 8",
            ),
            (
                "1e",
                "Expected the end but found invalid token at character 2",
            ),
            ("x", "Expected value but found invalid token at character 1"),
        ];
        for (json, want) in cases {
            assert_eq!(round(&lua, json), want, "{json}");
        }
        assert_eq!(
            err(&lua, "cjson.decode('x\\0')"),
            "JSON parser does not support UTF-16 or UTF-32"
        );
        assert_eq!(
            err(&lua, "cjson.decode('\\0x')"),
            "JSON parser does not support UTF-16 or UTF-32"
        );
        assert_eq!(
            eval(&lua, "local ok, e = pcall(cjson.decode) return e"),
            "bad argument #1 to '?' (expected 1 argument)"
        );
        assert_eq!(
            eval(&lua, "local ok, e = pcall(cjson.decode, 'a', 'b') return e"),
            "bad argument #1 to '?' (expected 1 argument)"
        );
        assert_eq!(
            err(&lua, "cjson.decode({})"),
            "bad argument #1 to 'decode' (string expected, got table)"
        );
    }

    #[test]
    fn configuration_functions() {
        let lua = test_lua();
        assert_eq!(
            eval(
                &lua,
                "local a, b, c = cjson.encode_sparse_array() return tostring(a)..' '..b..' '..c"
            ),
            "false 2 10"
        );
        assert_eq!(
            eval(&lua, "return table.concat({cjson.encode_max_depth(), cjson.decode_max_depth(), cjson.encode_number_precision(), tostring(cjson.encode_keep_buffer()), tostring(cjson.encode_invalid_numbers()), tostring(cjson.decode_invalid_numbers())}, ' ')"),
            "1000 1000 14 true false true"
        );
        let cases = [
            ("cjson.encode_number_precision(15)", "bad argument #1 to 'encode_number_precision' (expected integer between 1 and 14)"),
            ("cjson.encode_max_depth(0)", "bad argument #1 to 'encode_max_depth' (expected integer between 1 and 2147483647)"),
            ("cjson.encode_max_depth(1,2)", "bad argument #2 to 'encode_max_depth' (found too many arguments)"),
            ("cjson.encode_invalid_numbers('x')", "bad argument #1 to 'encode_invalid_numbers' (invalid option 'x')"),
            ("cjson.encode_max_depth('x')", "bad argument #1 to 'encode_max_depth' (number expected, got string)"),
            ("cjson.encode_sparse_array(true, -1)", "bad argument #1 to 'encode_sparse_array' (expected integer between 0 and 2147483647)"),
        ];
        for (call, want) in cases {
            assert_eq!(err(&lua, call), want, "{call}");
        }
        assert_eq!(
            eval(&lua, "return cjson.encode_invalid_numbers('null')"),
            "null"
        );
        assert_eq!(
            eval(&lua, "return tostring(cjson.encode_invalid_numbers(true))"),
            "true"
        );
        assert_eq!(
            eval(&lua, "return cjson.encode({1/0, -1/0, 0/0})"),
            "[inf,-inf,nan]"
        );
        assert_eq!(
            eval(
                &lua,
                "cjson.encode_invalid_numbers('null') return cjson.encode({1/0, 0/0})"
            ),
            "[null,null]"
        );
        assert_eq!(
            eval(&lua, "return tostring(cjson.encode_invalid_numbers(false))"),
            "false"
        );
        assert_eq!(
            eval(&lua, "return tostring(cjson.encode_sparse_array('on'))"),
            "true"
        );
        assert_eq!(
            eval(&lua, "return cjson.encode({[1]=1,[12]=2})"),
            "{\"1\":1,\"12\":2}"
        );
        assert_eq!(
            eval(
                &lua,
                "cjson.encode_number_precision(3) return cjson.encode(1/3)"
            ),
            "0.333"
        );
        // Settings last for the VM, as in Redis.
        assert_eq!(eval(&lua, "return cjson.encode(1/3)"), "0.333");
        // A new module table starts from the defaults.
        assert_eq!(
            eval(&lua, "return cjson.new().encode(1/3)"),
            "0.33333333333333"
        );
        assert_eq!(
            eval(
                &lua,
                "cjson.decode_invalid_numbers(false) return select(2, pcall(cjson.decode, '0x10'))"
            ),
            "Expected value but found invalid number at character 1"
        );
    }

    #[test]
    fn more_redis_observations() {
        let lua = test_lua();
        let cases = [
            (
                "cjson.encode_sparse_array(1)",
                "bad argument #1 to 'encode_sparse_array' (invalid option '1')",
            ),
            (
                "cjson.encode_sparse_array({})",
                "bad argument #1 to 'encode_sparse_array' (string expected, got table)",
            ),
            (
                "cjson.encode(coroutine.create(function() end))",
                "Cannot serialise thread: type not supported",
            ),
            // A method call shifts the argument numbers, as luaL_argerror does.
            (
                "cjson:encode(1)",
                "calling 'encode' on bad self (expected 1 argument)",
            ),
        ];
        for (call, want) in cases {
            assert_eq!(err(&lua, call), want, "{call}");
        }
        assert_eq!(
            eval(&lua, "return tostring(cjson.encode_keep_buffer('off'))"),
            "false"
        );
        assert_eq!(
            eval(&lua, "return tostring(cjson.encode_number_precision('5'))"),
            "5"
        );
        assert_eq!(enc(&lua, "{[1]=1, [-1]=2}"), "{\"1\":1,\"-1\":2}");
        assert_eq!(
            enc(&lua, "{'a', {b={1,{}}}, 'c'}"),
            "[\"a\",{\"b\":[1,{}]},\"c\"]"
        );
    }

    #[test]
    fn module_fields() {
        let lua = test_lua();
        assert_eq!(
            eval(&lua, "return cjson._NAME .. ' ' .. cjson._VERSION"),
            "cjson 2.1.0"
        );
        assert_eq!(
            eval(
                &lua,
                "return tostring(cjson.new() ~= cjson) .. type(cjson.new().null)"
            ),
            "trueuserdata"
        );
    }
}
