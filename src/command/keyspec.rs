//! Key positions of commands whose keys move: a count argument says how many
//! keys follow (`ZUNION numkeys key …`), or a keyword starts them (`XREAD
//! … STREAMS key … id …`). Redis flags these `movablekeys`.
//!
//! A table row names one of these functions; `COMMAND GETKEYS` and
//! `COMMAND INFO` read it. Routing does not: these commands are coordinated
//! and find their keys while parsing their arguments, with their own errors.
//! The exceptions are GEORADIUS and GEORADIUSBYMEMBER: `Multi` rows placed
//! by the keys their function finds, so a STORE destination counts.
//! `COMMAND INFO` read it. Routing reads it only for `Multi` rows (XREAD,
//! XREADGROUP: is every key on one shard?); the other movable commands are
//! coordinated and find their keys while parsing their arguments, with
//! their own errors.
//!
//! Redis 7.0 answers GETKEYS from the command's key specs and, when a spec
//! does not fit the arguments, from the command's older `getkeys_proc`,
//! which reads the count with `atoi` and lists a destination last. Both
//! passes are reproduced, so inputs such as `ZUNIONSTORE d 02 a b` get
//! Redis's exact answer (`a b d`). Pure functions of the arguments.

use bytes::Bytes;

use crate::keyspace::value::parse_canonical_i64;

/// Finds the key positions in a full command (`a[0]` is its name); empty
/// when the arguments hold no valid key list.
pub type KeysFn = fn(&[Bytes]) -> Vec<usize>;

/// Keys after a count at argument 1: ZUNION ZINTER ZDIFF ZINTERCARD
/// SINTERCARD LMPOP ZMPOP.
pub fn numkeys_first(a: &[Bytes]) -> Vec<usize> {
    numkeys_generic(a, 1, false)
}

/// Keys after a count at argument 2, behind a timeout: BLMPOP BZMPOP.
pub fn numkeys_second(a: &[Bytes]) -> Vec<usize> {
    numkeys_generic(a, 2, false)
}

/// A destination at argument 1, then keys after a count at argument 2:
/// ZUNIONSTORE ZINTERSTORE ZDIFFSTORE.
pub fn destination_then_numkeys(a: &[Bytes]) -> Vec<usize> {
    numkeys_generic(a, 2, true)
}

/// Keys after the STREAMS keyword of XREAD, searched from argument 1.
pub fn streams_xread(a: &[Bytes]) -> Vec<usize> {
    streams_generic(a, 1)
}

/// Keys after the STREAMS keyword of XREADGROUP, searched from argument 4
/// (after `GROUP group consumer`).
pub fn streams_xreadgroup(a: &[Bytes]) -> Vec<usize> {
    streams_generic(a, 4)
}

/// Redis 7.0's "keyword" key spec: the first STREAMS at or after `from`
/// (never the last argument), then half of the arguments after it. When
/// that leaves no key (one argument after STREAMS) Redis falls back to its
/// `xreadGetKeys`, which walks the options instead.
fn streams_generic(a: &[Bytes], from: usize) -> Vec<usize> {
    let found = (from..a.len().saturating_sub(1)).find(|&i| a[i].eq_ignore_ascii_case(b"streams"));
    let Some(first) = found.map(|i| i + 1) else {
        return Vec::new();
    };
    let n = (a.len() - first) / 2;
    if n > 0 {
        return (first..first + n).collect();
    }
    xread_get_keys(a)
}

/// Redis's `xreadGetKeys`: skip BLOCK, COUNT and GROUP with their values
/// and NOACK up to STREAMS; the keys are the first half of what follows,
/// none when that is odd or empty.
fn xread_get_keys(a: &[Bytes]) -> Vec<usize> {
    let mut i = 1;
    while i < a.len() {
        let arg = a[i].to_ascii_lowercase();
        match &arg[..] {
            b"block" | b"count" => i += 2,
            b"group" => i += 3,
            b"noack" => i += 1,
            b"streams" => {
                let num = a.len() - i - 1;
                if num == 0 || num % 2 != 0 {
                    return Vec::new();
                }
                return (i + 1..i + 1 + num / 2).collect();
            }
            _ => return Vec::new(),
        }
    }
    Vec::new()
}

/// Keys after the count at `a[count_at]`, preceded by a destination at
/// `a[1]` when `destination`.
fn numkeys_generic(a: &[Bytes], count_at: usize, destination: bool) -> Vec<usize> {
    if let Some(keys) = by_key_spec(a, count_at, destination) {
        return keys;
    }
    // `genericGetKeys`: num < 1 or more keys than arguments is no key at all.
    let first = count_at + 1;
    let num = c_atoi(a.get(count_at).map_or(&[][..], |c| &c[..]));
    if num < 1 || num as usize > a.len().saturating_sub(first) {
        return Vec::new();
    }
    let mut keys: Vec<usize> = (first..first + num as usize).collect();
    if destination {
        keys.push(1);
    }
    keys
}

/// Redis's `getKeysUsingKeySpecs` for a "keynum" spec: the count must be a
/// canonical non-negative integer, truncated to a C `int`, and the keys it
/// announces must all be present. None sends Redis to the fallback.
fn by_key_spec(a: &[Bytes], count_at: usize, destination: bool) -> Option<Vec<usize>> {
    let n = parse_canonical_i64(a.get(count_at)?)?;
    if n < 0 {
        return None;
    }
    let argc = i32::try_from(a.len()).ok()?;
    let first = count_at as i32 + 1;
    let last = first.wrapping_add(n as i32).wrapping_sub(1);
    if last >= argc || last < first || first >= argc {
        return None;
    }
    let mut keys = if destination { vec![1] } else { Vec::new() };
    keys.extend(first as usize..=last as usize);
    Some(keys)
}

/// glibc's `atoi`: `(int) strtol(s, NULL, 10)` — leading white space, a
/// sign, digits up to the first other byte; saturated at the `long` range,
/// then truncated to 32 bits.
fn c_atoi(s: &[u8]) -> i32 {
    let s = match s.iter().position(|b| !b" \t\n\x0b\x0c\r".contains(b)) {
        Some(i) => &s[i..],
        None => return 0,
    };
    let (neg, digits) = match s {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        _ => (false, s),
    };
    let mut v: i64 = 0;
    for &d in digits.iter().take_while(|d| d.is_ascii_digit()) {
        let d = i64::from(d - b'0');
        v = match v.checked_mul(10).and_then(|v| {
            if neg {
                v.checked_sub(d)
            } else {
                v.checked_add(d)
            }
        }) {
            Some(v) => v,
            None if neg => i64::MIN,
            None => i64::MAX,
        };
    }
    v as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::command::test_args as args;

    #[test]
    fn atoi_is_glibcs() {
        assert_eq!(c_atoi(b"12"), 12);
        assert_eq!(c_atoi(b" +3x"), 3);
        assert_eq!(c_atoi(b"-4"), -4);
        assert_eq!(c_atoi(b"abc"), 0);
        assert_eq!(c_atoi(b""), 0);
        assert_eq!(c_atoi(b"4294967297"), 1);
        assert_eq!(c_atoi(b"2147483649"), -2147483647);
        assert_eq!(c_atoi(b"99999999999999999999"), -1);
        assert_eq!(c_atoi(b"-99999999999999999999"), 0);
    }

    #[test]
    fn numkeys_forms_match_redis() {
        let first = |v: &[&str]| numkeys_first(&args(v));
        let dest = |v: &[&str]| destination_then_numkeys(&args(v));
        assert_eq!(
            first(&["zunion", "2", "a", "b", "WEIGHTS", "1", "2"]),
            [2, 3]
        );
        assert_eq!(first(&["zunion", "1", "a", "b"]), [2]);
        assert!(first(&["zunion", "0", "a"]).is_empty());
        assert!(first(&["zunion", "-1", "a"]).is_empty());
        assert!(first(&["zunion", "3", "a", "b"]).is_empty());
        assert!(first(&["zunion", "x", "a"]).is_empty());
        assert_eq!(first(&["zunion", "2x", "a", "b"]), [2, 3]);
        assert_eq!(first(&["zunion", "4294967297", "a", "b"]), [2]);
        assert!(first(&["zunion", "2147483649", "a", "b"]).is_empty());
        assert_eq!(dest(&["zunionstore", "d", "2", "a", "b"]), [1, 3, 4]);
        assert_eq!(dest(&["zunionstore", "d", "02", "a", "b"]), [3, 4, 1]);
        assert!(dest(&["zunionstore", "d", "3", "a", "b"]).is_empty());
        assert!(dest(&["zunionstore", "d", "0", "a"]).is_empty());
    }

    /// Answers of Redis 7.0.15's COMMAND GETKEYS.
    #[test]
    fn streams_keyword_forms_match_redis() {
        let x = |v: &[&str]| streams_xread(&args(v));
        let g = |v: &[&str]| streams_xreadgroup(&args(v));
        assert_eq!(x(&["xread", "streams", "a", "b", "0", "0"]), [2, 3]);
        assert_eq!(x(&["xread", "streams", "a", "b", "0"]), [2]);
        assert_eq!(x(&["xread", "count", "5", "streams", "a", "0"]), [4]);
        assert_eq!(
            x(&["xread", "block", "5", "streams", "streams", "a", "0", "1"]),
            [4, 5]
        );
        assert_eq!(x(&["xread", "count", "streams", "streams", "a", "0"]), [3]);
        assert!(x(&["xread", "count", "1", "a", "streams"]).is_empty());
        assert!(x(&["xread", "count", "1", "streams", "a"]).is_empty());
        assert_eq!(
            g(&[
                "xreadgroup",
                "group",
                "g",
                "c",
                "streams",
                "a",
                "b",
                "0",
                "0"
            ]),
            [5, 6]
        );
        assert_eq!(
            g(&["xreadgroup", "group", "g", "streams", "streams", "a", "0"]),
            [5]
        );
    }
}
