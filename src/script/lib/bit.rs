//! `bit`: LuaBitOp 1.0.2 as Redis 7.0 bundles it — 32-bit operations on Lua
//! 5.1's double numbers.
//!
//! Numbers become 32-bit values the way LuaBitOp does it: add 2^52 + 2^51 and
//! keep the low 32 bits of the double, so fractions round half to even and
//! large values wrap as the FPU leaves them (2^53 + 1 gives 0, 1e300 gives
//! -2013235812). Results are signed 32-bit numbers. Arguments follow Lua 5.1
//! `lua_tonumber`: numeric strings are accepted, anything else is "number
//! expected".

use mlua::{Lua, Table, Value};

use super::{module_table, Args, LibResult, Ret};

pub(super) fn module(lua: &Lua) -> mlua::Result<Table> {
    type Op = fn(&Lua, &Args) -> LibResult<i32>;
    let ops: Vec<(&str, Op)> = vec![
        ("tobit", |lua, a| Ok(barg(lua, a, 1)? as i32)),
        ("bnot", |lua, a| Ok(!barg(lua, a, 1)? as i32)),
        ("band", |lua, a| fold(lua, a, |x, y| x & y)),
        ("bor", |lua, a| fold(lua, a, |x, y| x | y)),
        ("bxor", |lua, a| fold(lua, a, |x, y| x ^ y)),
        ("lshift", |lua, a| shift(lua, a, |b, n| b << n)),
        ("rshift", |lua, a| shift(lua, a, |b, n| b >> n)),
        ("arshift", |lua, a| {
            shift(lua, a, |b, n| ((b as i32) >> n) as u32)
        }),
        ("rol", |lua, a| shift(lua, a, u32::rotate_left)),
        ("ror", |lua, a| shift(lua, a, u32::rotate_right)),
        ("bswap", |lua, a| Ok(barg(lua, a, 1)?.swap_bytes() as i32)),
    ];
    type LibFn = Box<dyn Fn(&Lua, Args) -> LibResult<Ret>>;
    let mut funcs: Vec<(&str, LibFn)> = ops
        .into_iter()
        .map(|(name, op)| {
            let f: LibFn =
                Box::new(move |lua, args| Ok(Ret::One(Value::Number(op(lua, &args)?.into()))));
            (name, f)
        })
        .collect();
    funcs.push(("tohex", Box::new(tohex)));
    module_table(lua, funcs)
}

/// LuaBitOp's `barg`: argument `i` as 32 bits.
fn barg(lua: &Lua, args: &Args, i: usize) -> LibResult<u32> {
    let n = args
        .get(i)
        .and_then(|v| super::to_number(lua, v))
        .unwrap_or(0.0);
    let b = tobit(n);
    // LuaBitOp checks the type only when the bits came out zero.
    if b == 0 && args.get(i).and_then(|v| super::to_number(lua, v)).is_none() {
        return args.type_error(i, "number");
    }
    Ok(b)
}

/// The 2^52 + 2^51 trick: the low word of the biased double.
fn tobit(n: f64) -> u32 {
    (n + 6_755_399_441_055_744.0).to_bits() as u32
}

/// `band`/`bor`/`bxor`: argument 1 combined with the rest, last to first.
fn fold(lua: &Lua, args: &Args, op: fn(u32, u32) -> u32) -> LibResult<i32> {
    let mut b = barg(lua, args, 1)?;
    for i in (2..=args.len()).rev() {
        b = op(b, barg(lua, args, i)?);
    }
    Ok(b as i32)
}

/// Shifts and rotates: the count is taken modulo 32.
fn shift(lua: &Lua, args: &Args, op: fn(u32, u32) -> u32) -> LibResult<i32> {
    let b = barg(lua, args, 1)?;
    let n = barg(lua, args, 2)? & 31;
    Ok(op(b, n) as i32)
}

/// `bit.tohex(x [, n])`: `n` hex digits (default 8, at most 8), upper case
/// when `n` is negative.
fn tohex(lua: &Lua, args: Args) -> LibResult<Ret> {
    let mut b = barg(lua, &args, 1)?;
    let mut n = if args.get(2).is_none() {
        8
    } else {
        barg(lua, &args, 2)? as i32
    };
    let digits: &[u8; 16] = if n < 0 {
        n = n.wrapping_neg();
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    // i32::MIN stays negative after negation; LuaBitOp then prints nothing.
    let n = n.clamp(0, 8) as usize;
    let mut buf = vec![0u8; n];
    for slot in buf.iter_mut().rev() {
        *slot = digits[(b & 15) as usize];
        b >>= 4;
    }
    Ok(Ret::One(Value::String(lua.create_string(buf)?)))
}

#[cfg(test)]
mod tests {
    use super::super::{eval, test_lua};

    /// Joins a script's numeric results with spaces, Lua formatting each.
    fn list(lua: &mlua::Lua, exprs: &str) -> String {
        eval(
            lua,
            &format!("local t = {{{exprs}}} for i = 1, #t do t[i] = tostring(t[i]) end return table.concat(t, ' ')"),
        )
    }

    #[test]
    fn tobit_wraps_and_rounds_like_luabitop() {
        let lua = test_lua();
        assert_eq!(
            list(&lua, "bit.tobit(2^32+5), bit.tobit(-1), bit.tobit(2^31), bit.tobit(2^52+3), bit.tobit(2^60+7)"),
            "5 -1 -2147483648 2 0"
        );
        assert_eq!(
            list(
                &lua,
                "bit.tobit(0.5), bit.tobit(-0.5), bit.tobit(1.5), bit.tobit(-1.5), bit.tobit(2.5)"
            ),
            "0 0 2 -2 2"
        );
        assert_eq!(
            list(&lua, "bit.tobit(0/0), bit.tobit(1/0), bit.tobit(-1/0), bit.tobit(1e300), bit.tobit(2^53+1)"),
            "0 0 0 -2013235812 0"
        );
        assert_eq!(
            list(&lua, "bit.tobit(2^31-0.5), bit.tobit(-2^31-0.5)"),
            "-2147483648 -2147483648"
        );
        assert_eq!(list(&lua, "bit.tobit('0x10'), bit.tobit(' 12 ')"), "16 12");
    }

    #[test]
    fn logical_ops_take_any_number_of_arguments() {
        let lua = test_lua();
        assert_eq!(
            list(&lua, "bit.bnot(0), bit.band(0xff, 0x0f, 0x3), bit.bor(1,2,4,8), bit.bxor(5,3), bit.band(-1, 2^33+3)"),
            "-1 3 15 6 3"
        );
    }

    #[test]
    fn shifts_and_rotates_use_the_count_modulo_32() {
        let lua = test_lua();
        assert_eq!(
            list(
                &lua,
                "bit.lshift(1, 31), bit.lshift(1, 32), bit.lshift(1, 33), bit.rshift(-1, 28), \
                 bit.arshift(-256, 4), bit.rol(0x12345678, 4), bit.ror(0x12345678, 4), \
                 bit.rol(1, 0), bit.ror(1, 32), bit.bswap(0x12345678)"
            ),
            "-2147483648 1 2 15 -16 591751041 -2128394905 1 1 2018915346"
        );
    }

    #[test]
    fn tohex_digits_and_case() {
        let lua = test_lua();
        assert_eq!(
            eval(&lua, "return table.concat({bit.tohex(-1), bit.tohex(255, 2), bit.tohex(255, -4), bit.tohex(0x12345678, 12), bit.tohex(1, 0), bit.tohex(1, -9)}, ',')"),
            "ffffffff,ff,00FF,12345678,,00000001"
        );
    }

    #[test]
    fn non_numbers_are_rejected_with_lauxlib_messages() {
        let lua = test_lua();
        let cases = [
            (
                "bit.band(1, 'x')",
                "bad argument #2 to 'band' (number expected, got string)",
            ),
            (
                "bit.tobit()",
                "bad argument #1 to 'tobit' (number expected, got no value)",
            ),
            (
                "bit.tohex(1, nil)",
                "bad argument #2 to 'tohex' (number expected, got nil)",
            ),
            (
                "bit.band()",
                "bad argument #1 to 'band' (number expected, got no value)",
            ),
            (
                "bit.bor(1, {})",
                "bad argument #2 to 'bor' (number expected, got table)",
            ),
        ];
        for (call, want) in cases {
            let got = eval(
                &lua,
                &format!("local ok, e = pcall(function() return {call} end) return e"),
            );
            assert!(got.ends_with(want), "{call}: {got}");
            assert!(got.contains(":1: "), "{call}: no position in {got}");
        }
    }
}
