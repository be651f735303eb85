//! Where a command's keys are: Redis 7.0's key specifications (each
//! table row carries its command's, as `COMMAND INFO` shows them) and the
//! functions of commands whose keys move with their arguments (a count of
//! keys, a STREAMS or STORE keyword), which Redis calls `getkeys_proc`.
//!
//! * [`KeySpec`] — one `begin_search` / `find_keys` pair with its flags;
//!   [`legacy_range`] derives the first/last/step triple and the
//!   `movablekeys` flag from a row's specs, as Redis's
//!   `populateCommandLegacyRangeSpec` does, so the table states each fact
//!   once.
//! * [`keys_by_specs`] is Redis's `getKeysUsingKeySpecs`: COMMAND GETKEYS
//!   and GETKEYSANDFLAGS try it first and fall back to the row's key
//!   function when a spec does not fit the arguments.
//! * The key functions reproduce Redis's fallbacks, so inputs such as
//!   `ZUNIONSTORE d 02 a b` get Redis's exact answer (`a b d`). Routing
//!   reads them for `Multi` rows (GEORADIUS's STORE, XREAD's streams: is
//!   every key on one shard?); the other movable commands are coordinated
//!   and find their keys while parsing their arguments, with their own
//!   errors. Pure functions of the arguments.

use bytes::Bytes;

use crate::keyspace::value::parse_canonical_i64;

/// Key-spec flags, as `COMMAND INFO` and `COMMAND GETKEYSANDFLAGS` name
/// them (in this order).
pub mod kf {
    pub const RO: u16 = 1 << 0;
    pub const RW: u16 = 1 << 1;
    pub const OW: u16 = 1 << 2;
    pub const RM: u16 = 1 << 3;
    pub const ACCESS: u16 = 1 << 4;
    pub const UPDATE: u16 = 1 << 5;
    pub const INSERT: u16 = 1 << 6;
    pub const DELETE: u16 = 1 << 7;
    pub const NOT_KEY: u16 = 1 << 8;
    pub const INCOMPLETE: u16 = 1 << 9;
    pub const VARIABLE_FLAGS: u16 = 1 << 10;

    pub const NAMES: &[(u16, &str)] = &[
        (RO, "RO"),
        (RW, "RW"),
        (OW, "OW"),
        (RM, "RM"),
        (ACCESS, "access"),
        (UPDATE, "update"),
        (INSERT, "insert"),
        (DELETE, "delete"),
        (NOT_KEY, "not_key"),
        (INCOMPLETE, "incomplete"),
        (VARIABLE_FLAGS, "variable_flags"),
    ];
}

/// Where the search for a spec's keys begins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Begin {
    /// At this argument.
    Index(i32),
    /// After this keyword, searched from `startfrom` (negative: from the
    /// end, backwards).
    Keyword(&'static str, i32),
    BeginUnknown,
}

/// Which arguments, from the beginning, are keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Find {
    /// `Range(lastkey, step, limit)`: up to `lastkey` (relative to the
    /// first key; negative counts from the end); with a `limit`, only the
    /// first 1/limit of the rest.
    Range(i32, i32, i32),
    /// `Keynum(keynumidx, firstkey, step)`: a count at `keynumidx`, keys
    /// from `firstkey` (both relative to the beginning).
    Keynum(i32, i32, i32),
    FindUnknown,
}

/// One of a command's key specifications (Redis 7.0's `keySpec`).
#[derive(Clone, Copy, Debug)]
pub struct KeySpec {
    pub notes: Option<&'static str>,
    pub flags: u16,
    pub begin: Begin,
    pub find: Find,
}

pub const fn ks(flags: u16, begin: Begin, find: Find) -> KeySpec {
    KeySpec {
        notes: None,
        flags,
        begin,
        find,
    }
}

pub const fn ks_noted(notes: &'static str, flags: u16, begin: Begin, find: Find) -> KeySpec {
    KeySpec {
        notes: Some(notes),
        flags,
        begin,
        find,
    }
}

/// The first/last/step triple `COMMAND INFO` shows and whether the
/// command has `movablekeys`, from its key specs (Redis's
/// `populateCommandLegacyRangeSpec`): consecutive plain index ranges merge
/// into one; any other spec makes the keys movable.
pub const fn legacy_range(specs: &[KeySpec]) -> (i32, i32, i32, bool) {
    if specs.is_empty() {
        return (0, 0, 0, false);
    }
    if let [KeySpec {
        flags,
        begin: Begin::Index(pos),
        find: Find::Range(lastkey, step, _),
        ..
    }] = specs
    {
        let last = if *lastkey >= 0 {
            *lastkey + *pos
        } else {
            *lastkey
        };
        return (*pos, last, *step, *flags & kf::INCOMPLETE != 0);
    }
    let (mut first, mut last, mut prev, mut movable) = (i32::MAX, 0i32, 0i32, false);
    let mut i = 0;
    while i < specs.len() {
        let s = &specs[i];
        i += 1;
        let (pos, lastkey, step) = match (s.begin, s.find) {
            (Begin::Index(pos), Find::Range(lastkey, step, _)) => (pos, lastkey, step),
            _ => {
                movable = true;
                continue;
            }
        };
        if step != 1 || (prev != 0 && prev != pos - 1) {
            movable = true;
            continue;
        }
        if s.flags & kf::INCOMPLETE != 0 {
            movable = true;
        }
        if pos < first {
            first = pos;
        }
        let abs = if lastkey >= 0 { lastkey + pos } else { lastkey };
        // Redis compares these unsigned, so a negative (from the end) wins.
        if abs as u32 > last as u32 {
            last = abs;
        }
        prev = last;
    }
    if first == i32::MAX {
        return (0, 0, 0, true);
    }
    (first, last, 1, movable)
}

/// Redis's `getKeysUsingKeySpecs`: the position and spec flags of every
/// key `specs` find in `a` (`a[0]` is the command's name), skipping specs
/// of things that are not keys. Err when a spec does not fit the
/// arguments or is incomplete (None): the caller falls back to the command's key
/// function.
pub fn keys_by_specs(specs: &[KeySpec], a: &[Bytes]) -> Option<Vec<(usize, u16)>> {
    let argc = a.len() as i64;
    let mut keys = Vec::new();
    for spec in specs {
        if spec.flags & kf::NOT_KEY != 0 {
            continue;
        }
        let first: i64 = match spec.begin {
            Begin::Index(pos) => pos as i64,
            Begin::Keyword(word, from) => {
                let (start, end) = if from > 0 {
                    (from as i64, argc - 1)
                } else {
                    (argc + from as i64, 1)
                };
                // Redis's loop: never looks at `end` itself.
                let mut i = start;
                let mut found = 0;
                while i != end && (1..argc).contains(&i) {
                    if a[i as usize].eq_ignore_ascii_case(word.as_bytes()) {
                        found = i + 1;
                        break;
                    }
                    i = if start <= end { i + 1 } else { i - 1 };
                }
                if found == 0 {
                    continue;
                }
                found
            }
            Begin::BeginUnknown => return None,
        };
        let (first, last, step) = match spec.find {
            Find::Range(lastkey, step, limit) => {
                let last = if lastkey >= 0 {
                    first + lastkey as i64
                } else if limit == 0 {
                    argc + lastkey as i64
                } else {
                    first + ((argc - first) / limit as i64 + lastkey as i64)
                };
                (first, last, step as i64)
            }
            Find::Keynum(idx, firstkey, step) => {
                if idx as i64 >= argc || first + idx as i64 >= argc {
                    return None;
                }
                let n = match parse_canonical_i64(&a[(first + idx as i64) as usize]) {
                    Some(n) if n >= 0 => n,
                    _ => return None,
                };
                let first = first + firstkey as i64;
                // Redis adds the count as a C int.
                (first, first + (n as i32 as i64) - 1, step as i64)
            }
            Find::FindUnknown => return None,
        };
        if last >= argc || last < first || first >= argc {
            return None;
        }
        let mut i = first;
        while i <= last {
            // Past the end only with a negative arity: no key there.
            if i < argc {
                keys.push((i as usize, spec.flags));
            }
            i += step.max(1);
        }
        if spec.flags & kf::INCOMPLETE != 0 {
            return None;
        }
    }
    Some(keys)
}

/// SET's key flags (Redis's `setGetKeys`): read too when GET is given.
pub fn set_key_flags(a: &[Bytes]) -> u16 {
    if a.iter().skip(3).any(|x| x.eq_ignore_ascii_case(b"get")) {
        kf::RW | kf::ACCESS | kf::UPDATE
    } else {
        kf::OW | kf::UPDATE
    }
}

/// BITFIELD's key flags (Redis's `bitfieldGetKeys`): read-only when every
/// operation is a GET (or OVERFLOW); anything else may write.
pub fn bitfield_key_flags(a: &[Bytes]) -> u16 {
    let mut i = 2;
    while i < a.len() {
        let rest = a.len() - i - 1;
        if a[i].eq_ignore_ascii_case(b"get") && rest >= 2 {
            i += 3;
        } else if a[i].eq_ignore_ascii_case(b"overflow") && rest >= 1 {
            i += 2;
        } else {
            return kf::RW | kf::ACCESS | kf::UPDATE;
        }
    }
    kf::RO | kf::ACCESS
}

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
