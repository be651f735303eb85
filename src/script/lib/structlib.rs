//! `struct`: Roberto Ierusalimschy's lua-struct 0.2 as Redis 7.0 bundles it
//! (with Redis's overflow and offset fixes) — `struct.pack`, `struct.unpack`
//! and `struct.size` on an x86-64 layout.
//!
//! Format: `<` `>` byte order (default little), `![n]` maximum alignment
//! (default 8), `x` pad byte, `b/B` 1, `h/H` 2, `l/L` and `T` 8, `i/I[n]` n
//! bytes (default 4, at most 32), `f` float, `d` double, `c[n]` n chars (0:
//! the whole string when packing, the previous result when unpacking), `s`
//! zero-terminated string, ' ' ignored. The format is read as a C string (up
//! to its first NUL byte).
//!
//! Numbers convert as the C code's casts do on x86-64: integers wider than 8
//! bytes carry only the low 8 bytes, values outside 64 bits pack as
//! `0x8000000000000000` or 0, and unpacked integers are doubles.

use mlua::{Lua, Table, Value};

use super::{arg_error, error, module_table, Args, LibResult, Ret, ValueStack, MAX_C_STACK};

/// Largest `i`/`I` size in bytes.
const MAXINTSIZE: usize = 32;
/// Default maximum alignment for `!`: the alignment of a double.
const MAXALIGN: usize = 8;

pub(super) fn module(lua: &Lua) -> mlua::Result<Table> {
    type F = fn(&Lua, Args) -> LibResult<Ret>;
    module_table::<F>(
        lua,
        vec![("pack", pack), ("unpack", unpack), ("size", size)],
    )
}

#[derive(Clone, Copy)]
struct Header {
    little: bool,
    align: usize,
}

impl Default for Header {
    fn default() -> Header {
        Header {
            little: true,
            align: 1,
        }
    }
}

/// A format string read one option at a time, as `const char *fmt`.
struct Format<'a> {
    fmt: &'a [u8],
    at: usize,
}

impl<'a> Format<'a> {
    fn new(fmt: &'a [u8]) -> Format<'a> {
        let end = fmt.iter().position(|&b| b == 0).unwrap_or(fmt.len());
        Format {
            fmt: &fmt[..end],
            at: 0,
        }
    }

    fn next_opt(&mut self) -> Option<u8> {
        let opt = *self.fmt.get(self.at)?;
        self.at += 1;
        Some(opt)
    }

    /// `getnum`: an optional decimal count, refused past `INT_MAX`.
    fn getnum(&mut self, default: usize) -> LibResult<usize> {
        if !self.fmt.get(self.at).is_some_and(u8::is_ascii_digit) {
            return Ok(default);
        }
        let mut a: i32 = 0;
        while let Some(&d) = self.fmt.get(self.at).filter(|d| d.is_ascii_digit()) {
            let d = i32::from(d - b'0');
            if a > i32::MAX / 10 || a * 10 > i32::MAX - d {
                return error("integral size overflow");
            }
            a = a * 10 + d;
            self.at += 1;
        }
        Ok(a as usize)
    }

    /// `optsize`: the byte size of option `opt`, reading its count.
    fn optsize(&mut self, opt: u8) -> LibResult<usize> {
        Ok(match opt {
            b'B' | b'b' => 1,
            b'H' | b'h' => 2,
            b'L' | b'l' | b'T' | b'd' => 8,
            b'f' => 4,
            b'x' => 1,
            b'c' => self.getnum(1)?,
            b'i' | b'I' => {
                let sz = self.getnum(4)?;
                if sz > MAXINTSIZE {
                    return error(format!(
                        "integral size {sz} is larger than limit of {MAXINTSIZE}"
                    ));
                }
                sz
            }
            _ => 0,
        })
    }

    /// `controloptions`: byte order, alignment, spaces; anything else is an
    /// invalid option.
    fn control(&mut self, opt: u8, h: &mut Header) -> LibResult<()> {
        match opt {
            b' ' => {}
            b'>' => h.little = false,
            b'<' => h.little = true,
            b'!' => {
                let a = self.getnum(MAXALIGN)?;
                if !a.is_power_of_two() {
                    return error(format!("alignment {a} is not a power of 2"));
                }
                h.align = a;
            }
            _ => {
                let mut msg = b"invalid format option '".to_vec();
                msg.push(opt);
                msg.push(b'\'');
                return arg_error(1, msg);
            }
        }
        Ok(())
    }
}

/// `gettoalign`: padding before an item of `size` bytes at offset `len`.
fn gettoalign(len: usize, h: &Header, opt: u8, size: usize) -> usize {
    if size == 0 || opt == b'c' {
        return 0;
    }
    let size = size.min(h.align);
    (size.wrapping_sub(len & (size - 1))) & (size - 1)
}

/// `struct.pack(fmt, v1, v2, ...)`.
fn pack(lua: &Lua, mut args: Args) -> LibResult<Ret> {
    let fmt_s = args.check_bytes(lua, 1)?;
    let fmt_b = fmt_s.as_bytes();
    let mut fmt = Format::new(&fmt_b);
    // The C code pushes a nil after the arguments, so the first missing
    // value reads as "nil" rather than "no value".
    args.0.push(Value::Nil);
    let mut h = Header::default();
    let mut arg = 2;
    let mut out: Vec<u8> = Vec::new();
    while let Some(opt) = fmt.next_opt() {
        let mut size = fmt.optsize(opt)?;
        let pad = gettoalign(out.len(), &h, opt, size);
        out.resize(out.len() + pad, 0);
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let n = args.check_number(lua, arg)?;
                arg += 1;
                let mut value = if n < 0.0 {
                    super::c_double_to_i64(n) as u64
                } else {
                    super::c_double_to_u64(n)
                };
                let mut buf = [0u8; MAXINTSIZE];
                for i in 0..size {
                    let slot = if h.little { i } else { size - 1 - i };
                    buf[slot] = value as u8;
                    value >>= 8;
                }
                out.extend_from_slice(&buf[..size]);
            }
            b'x' => out.push(0),
            b'f' => {
                let f = args.check_number(lua, arg)? as f32;
                arg += 1;
                out.extend_from_slice(&if h.little {
                    f.to_le_bytes()
                } else {
                    f.to_be_bytes()
                });
            }
            b'd' => {
                let d = args.check_number(lua, arg)?;
                arg += 1;
                out.extend_from_slice(&if h.little {
                    d.to_le_bytes()
                } else {
                    d.to_be_bytes()
                });
            }
            b'c' | b's' => {
                let s = args.check_bytes(lua, arg)?;
                arg += 1;
                let s = s.as_bytes();
                if size == 0 {
                    size = s.len();
                }
                if s.len() < size {
                    // The C code reports the argument after the string.
                    return arg_error(arg as i32, "string too short");
                }
                out.extend_from_slice(&s[..size]);
                if opt == b's' {
                    out.push(0);
                }
            }
            _ => fmt.control(opt, &mut h)?,
        }
    }
    Ok(Ret::One(Value::String(lua.create_string(out)?)))
}

/// `struct.unpack(fmt, s [, pos])`: the values, then the position after them.
fn unpack(lua: &Lua, args: Args) -> LibResult<Ret> {
    let fmt_s = args.check_bytes(lua, 1)?;
    let data_s = args.check_bytes(lua, 2)?;
    let start = args.opt_integer(lua, 3, 1)? as usize;
    if start == 0 {
        return arg_error(3, "offset must be 1 or greater");
    }
    let fmt_b = fmt_s.as_bytes();
    let data = data_s.as_bytes();
    let ld = data.len();
    let mut fmt = Format::new(&fmt_b);
    let mut h = Header::default();
    let mut pos = start - 1;
    let mut out = ValueStack::new(lua)?;
    let fits = |pos: usize, size: usize| size <= ld && pos <= ld - size;
    while let Some(opt) = fmt.next_opt() {
        let mut size = fmt.optsize(opt)?;
        pos = pos.wrapping_add(gettoalign(pos, &h, opt, size));
        if !fits(pos, size) {
            return arg_error(2, "data string too short");
        }
        if args.len() + out.len + 2 > MAX_C_STACK {
            return error("stack overflow (too many results)");
        }
        let item = &data[pos..pos + size];
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let n = getinteger(item, h.little, opt.is_ascii_lowercase());
                out.push(n)?;
            }
            b'x' => {}
            b'f' => {
                let b: [u8; 4] = item.try_into().unwrap_or_default();
                let f = if h.little {
                    f32::from_le_bytes(b)
                } else {
                    f32::from_be_bytes(b)
                };
                out.push(f64::from(f))?;
            }
            b'd' => {
                let b: [u8; 8] = item.try_into().unwrap_or_default();
                let d = if h.little {
                    f64::from_le_bytes(b)
                } else {
                    f64::from_be_bytes(b)
                };
                out.push(d)?;
            }
            b'c' => {
                if size == 0 {
                    let prev = match out.len {
                        0 => None,
                        n => super::to_number(lua, &out.get(n)?),
                    };
                    let Some(n) = prev else {
                        return error("format 'c0' needs a previous size");
                    };
                    size = super::c_double_to_u64(n) as usize;
                    out.truncate(out.len - 1)?;
                    if !fits(pos, size) {
                        return arg_error(2, "data string too short");
                    }
                }
                out.push(lua.create_string(&data[pos..pos + size])?)?;
            }
            b's' => {
                let Some(len) = data[pos..].iter().position(|&b| b == 0) else {
                    return error("unfinished string in data");
                };
                size = len + 1;
                out.push(lua.create_string(&data[pos..pos + len])?)?;
            }
            _ => fmt.control(opt, &mut h)?,
        }
        pos = pos.wrapping_add(size);
    }
    out.push((pos.wrapping_add(1) as i64) as f64)?;
    Ok(out.into_ret())
}

/// `getinteger`: `bytes` as an unsigned or sign-extended integer. Only the
/// last 8 bytes read survive in the 64-bit accumulator.
fn getinteger(bytes: &[u8], little: bool, signed: bool) -> f64 {
    let fold = |l: u64, &b: &u8| (l << 8) | u64::from(b);
    let l = if little {
        bytes.iter().rev().fold(0, fold)
    } else {
        bytes.iter().fold(0, fold)
    };
    if !signed {
        return l as f64;
    }
    // `~0 << (size*8 - 1)`: x86 masks the shift count to 6 bits.
    let shift = ((bytes.len() as u32).wrapping_mul(8).wrapping_sub(1)) & 63;
    let mask = u64::MAX << shift;
    let l = if l & mask != 0 { l | mask } else { l };
    l as i64 as f64
}

/// `struct.size(fmt)`: the packed size of a format without `s` or `c0`.
fn size(lua: &Lua, args: Args) -> LibResult<Ret> {
    let fmt_s = args.check_bytes(lua, 1)?;
    let fmt_b = fmt_s.as_bytes();
    let mut fmt = Format::new(&fmt_b);
    let mut h = Header::default();
    let mut pos: usize = 0;
    while let Some(opt) = fmt.next_opt() {
        let size = fmt.optsize(opt)?;
        pos = pos.wrapping_add(gettoalign(pos, &h, opt, size));
        if opt == b's' {
            return arg_error(1, "option 's' has no fixed size");
        }
        if opt == b'c' && size == 0 {
            return arg_error(1, "option 'c0' has no fixed size");
        }
        // Letters are never control options here, so an unknown letter is
        // ignored by `size` while `pack` refuses it.
        if !opt.is_ascii_alphanumeric() {
            fmt.control(opt, &mut h)?;
        }
        pos = pos.wrapping_add(size);
    }
    Ok(Ret::One(Value::Number(pos as f64)))
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
            &format!("local t = {{{exprs}}} for i = 1, #t do t[i] = tostring(t[i]) end return table.concat(t, ' ')"),
        )
    }

    /// The message of a failing call, without the caller's position.
    fn err(lua: &mlua::Lua, call: &str) -> String {
        let e = eval(
            lua,
            &format!("local ok, e = pcall(function() return {call} end) return e"),
        );
        e.split_once(":1: ").map(|(_, m)| m.to_owned()).unwrap_or(e)
    }

    #[test]
    fn pack_integers_in_both_byte_orders() {
        let lua = test_lua();
        assert_eq!(hex(&lua, "struct.pack('>i', 1)"), "00000001");
        assert_eq!(
            hex(&lua, "struct.pack('<i2l', 1, -2)"),
            "0100feffffffffffffff"
        );
        assert_eq!(hex(&lua, "struct.pack('T', 5)"), "0500000000000000");
        assert_eq!(hex(&lua, "struct.pack('>b', 300)"), "2c");
        assert_eq!(
            hex(&lua, "struct.pack('<i16', -1)"),
            "ffffffffffffffff0000000000000000"
        );
        assert_eq!(
            hex(&lua, "struct.pack('>I16', 2^70)"),
            "00000000000000000000000000000000"
        );
        assert_eq!(hex(&lua, "struct.pack('i0', 1)"), "");
        assert_eq!(eval(&lua, "return struct.pack('i', '12')"), "\x0c\0\0\0");
    }

    #[test]
    fn pack_out_of_range_numbers_as_the_c_casts_do() {
        let lua = test_lua();
        assert_eq!(hex(&lua, "struct.pack('>l', 2^64)"), "0000000000000000");
        assert_eq!(hex(&lua, "struct.pack('>l', -2^63)"), "8000000000000000");
        assert_eq!(hex(&lua, "struct.pack('>l', 1e300)"), "0000000000000000");
        assert_eq!(hex(&lua, "struct.pack('>l', 2^63)"), "8000000000000000");
        assert_eq!(hex(&lua, "struct.pack('>L', -1.5)"), "ffffffffffffffff");
        assert_eq!(list(&lua, "struct.pack('>l', 0/0):byte(1)"), "128");
    }

    #[test]
    fn pack_floats_strings_and_alignment() {
        let lua = test_lua();
        assert_eq!(hex(&lua, "struct.pack('>f', 0.1)"), "3dcccccd");
        assert_eq!(hex(&lua, "struct.pack('s', 'ab')"), "616200");
        assert_eq!(hex(&lua, "struct.pack('c0', 'ab')"), "6162");
        assert_eq!(hex(&lua, "struct.pack('c', 'ab')"), "61");
        assert_eq!(hex(&lua, "struct.pack('!4 b i', 1, 2)"), "0100000002000000");
        assert_eq!(
            hex(&lua, "struct.pack('!4 b d', 1, 2)"),
            "010000000000000000000040"
        );
        assert_eq!(hex(&lua, "struct.pack('!2 b i', 1, 2)"), "010002000000");
        assert_eq!(hex(&lua, "struct.pack('! b i', 1, 2)"), "0100000002000000");
        assert_eq!(
            hex(&lua, "struct.pack('!4 b c3 x h', 1, 'abc', 7)"),
            "0161626300000700"
        );
        assert_eq!(
            hex(&lua, "struct.pack('!8 i1 i8', 1, 2)"),
            "01000000000000000200000000000000"
        );
    }

    #[test]
    fn unpack_values_then_next_position() {
        let lua = test_lua();
        assert_eq!(list(&lua, "struct.unpack('>I3', 'abc')"), "6382179 4");
        assert_eq!(
            list(&lua, "struct.unpack('<i3', '\\255\\255\\255')"),
            "-1 4"
        );
        assert_eq!(list(&lua, "struct.unpack('bc0', '\\3abc')"), "abc 5");
        assert_eq!(list(&lua, "struct.unpack('', 'abcd', 10)"), "10");
        assert_eq!(list(&lua, "struct.unpack('i0', 'ab')"), "0 1");
        assert_eq!(
            list(&lua, "struct.unpack('<d', struct.pack('<d', 0.1))"),
            "0.1 9"
        );
        assert_eq!(
            list(
                &lua,
                "struct.unpack('>I8', '\\255\\255\\255\\255\\255\\255\\255\\255')"
            ),
            "1.844674407371e+19 9"
        );
        assert_eq!(
            list(
                &lua,
                "struct.unpack('>i16', string.rep('\\255', 15) .. '\\254')"
            ),
            "-2 17"
        );
        assert_eq!(
            list(
                &lua,
                "struct.unpack('>I16', '\\1' .. string.rep('\\0', 14) .. '\\1')"
            ),
            "1 17"
        );
        assert_eq!(list(&lua, "struct.unpack('>s h', 'hi\\0\\0\\7')"), "hi 7 6");
    }

    #[test]
    fn round_trips() {
        let lua = test_lua();
        let got = list(
            &lua,
            "struct.unpack('<!4 b B h H i I l d f c2 s', \
             struct.pack('<!4 b B h H i I l d f c2 s', -1, 255, -300, 65535, -7, 4000000000, -2^40, 1.25, 0.5, 'xy', 'zz'))",
        );
        assert_eq!(
            got,
            "-1 255 -300 65535 -7 4000000000 -1099511627776 1.25 0.5 xy zz 42"
        );
    }

    #[test]
    fn size_of_fixed_formats() {
        let lua = test_lua();
        assert_eq!(
            list(&lua, "struct.size('i3'), struct.size('!8bd'), struct.size('!bd'), struct.size('<>! '), struct.size('z'), struct.size('!4bxhi'), struct.size('c10'), struct.size('x!d')"),
            "3 16 16 0 0 8 10 16"
        );
    }

    #[test]
    fn invalid_option_message_carries_the_raw_byte() {
        let lua = test_lua();
        assert_eq!(
            super::super::eval_bytes(&lua, "return select(2, pcall(struct.pack, '\\200', 1))"),
            b"bad argument #1 to '?' (invalid format option '\xc8')".to_vec()
        );
    }

    #[test]
    fn result_count_is_limited_like_the_c_stack() {
        let lua = test_lua();
        assert_eq!(
            eval(&lua, "return tostring(select('#', struct.unpack(string.rep('c1', 7997), string.rep('a', 7997))))"),
            "7998"
        );
        assert_eq!(
            eval(&lua, "return select(2, pcall(struct.unpack, string.rep('c1', 7999), string.rep('a', 7999)))"),
            "stack overflow (too many results)"
        );
    }

    #[test]
    fn errors_match_redis() {
        let lua = test_lua();
        let cases = [
            (
                "struct.pack('i33', 1)",
                "integral size 33 is larger than limit of 32",
            ),
            ("struct.pack('!3', 1)", "alignment 3 is not a power of 2"),
            (
                "struct.pack('q', 1)",
                "bad argument #1 to 'pack' (invalid format option 'q')",
            ),
            (
                "struct.unpack('i', 'ab')",
                "bad argument #2 to 'unpack' (data string too short)",
            ),
            (
                "struct.unpack('i', 'abcd', 0)",
                "bad argument #3 to 'unpack' (offset must be 1 or greater)",
            ),
            (
                "struct.unpack('i', 'abcd', 6)",
                "bad argument #2 to 'unpack' (data string too short)",
            ),
            (
                "struct.unpack('i', 'abcd', 5)",
                "bad argument #2 to 'unpack' (data string too short)",
            ),
            (
                "struct.unpack('i', 'abcd', -5)",
                "bad argument #2 to 'unpack' (data string too short)",
            ),
            (
                "struct.unpack('c0', 'abcd')",
                "format 'c0' needs a previous size",
            ),
            ("struct.unpack('s', 'abcd')", "unfinished string in data"),
            (
                "struct.size('s')",
                "bad argument #1 to 'size' (option 's' has no fixed size)",
            ),
            (
                "struct.size('c0')",
                "bad argument #1 to 'size' (option 'c0' has no fixed size)",
            ),
            ("struct.size('!3')", "alignment 3 is not a power of 2"),
            (
                "struct.pack('c5', 'ab')",
                "bad argument #3 to 'pack' (string too short)",
            ),
            ("struct.pack('i99999999999', 1)", "integral size overflow"),
            (
                "struct.pack('i', 'x')",
                "bad argument #2 to 'pack' (number expected, got string)",
            ),
            (
                "struct.pack('i')",
                "bad argument #2 to 'pack' (number expected, got nil)",
            ),
            (
                "struct.pack('iii', 1)",
                "bad argument #3 to 'pack' (number expected, got nil)",
            ),
            (
                "struct.pack()",
                "bad argument #1 to 'pack' (string expected, got no value)",
            ),
            (
                "struct.unpack('i')",
                "bad argument #2 to 'unpack' (string expected, got no value)",
            ),
        ];
        for (call, want) in cases {
            assert_eq!(err(&lua, call), want, "{call}");
        }
    }
}
