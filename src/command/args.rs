//! Parsing of command arguments with Redis's rules and error replies.

use bytes::Bytes;

use super::errors;
use crate::keyspace::value::parse_canonical_i64;
use crate::resp::Reply;

/// Redis's `getLongLongFromObject`: the canonical i64 form only.
pub fn int(arg: &[u8]) -> Result<i64, Reply> {
    parse_canonical_i64(arg).ok_or_else(errors::not_integer)
}

/// A float argument as Redis's `strtold`-based parsers accept it: no
/// leading space, finite or "inf"-like, not NaN.
pub fn float(arg: &[u8]) -> Result<f64, Reply> {
    parse_float(arg).ok_or_else(|| errors::err(errors::NOT_FLOAT))
}

pub fn parse_float(arg: &[u8]) -> Option<f64> {
    if arg.is_empty() || arg[0].is_ascii_whitespace() || arg.len() > 5000 {
        return None;
    }
    let s = std::str::from_utf8(arg).ok()?;
    let v: f64 = s.parse().ok().or_else(|| {
        let l = s.to_ascii_lowercase();
        match l.trim_start_matches(['+', '-']) {
            "inf" | "infinity" => Some(if l.starts_with('-') {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            }),
            _ => None,
        }
    })?;
    if v.is_nan() {
        None
    } else {
        Some(v)
    }
}

pub fn eq(arg: &[u8], word: &str) -> bool {
    arg.eq_ignore_ascii_case(word.as_bytes())
}

/// The DB index argument of SELECT, MOVE, SWAPDB, COPY ... DB.
pub fn db_index(arg: &[u8], databases: usize) -> Result<usize, Reply> {
    let n = parse_canonical_i64(arg).ok_or_else(|| errors::err(errors::INVALID_DB))?;
    if n < 0 || n as u64 >= databases as u64 {
        return Err(errors::err(errors::DB_RANGE));
    }
    Ok(n as usize)
}

pub fn lossy(b: &Bytes) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A SCAN-family cursor as Redis's `parseScanCursorOrReply` reads it with
/// `strtoul`: a sign is allowed ("-1" wraps to the largest cursor), an empty
/// string is 0; leading space, other characters and overflow are refused.
pub fn scan_cursor(arg: &[u8]) -> Result<u64, Reply> {
    let (neg, digits) = match arg {
        [] => return Ok(0),
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        _ => (false, arg),
    };
    let n: u64 = std::str::from_utf8(digits)
        .ok()
        .filter(|d| !d.is_empty() && d.bytes().all(|c| c.is_ascii_digit()))
        .and_then(|d| d.parse().ok())
        .ok_or_else(|| errors::err(errors::SCAN_CURSOR))?;
    Ok(if neg { n.wrapping_neg() } else { n })
}

/// The options after a SCAN-family cursor: `MATCH pattern`, `COUNT count`
/// and, for SCAN only, `TYPE type`; Redis's `scanGenericCommand` rules.
pub struct ScanOpts<'a> {
    /// How many positions one call visits (10 unless given).
    pub count: usize,
    /// None for no pattern or "*".
    pub pattern: Option<&'a [u8]>,
    /// SCAN's TYPE, lowercased.
    pub type_name: Option<String>,
}

impl<'a> ScanOpts<'a> {
    /// Parses `opts` (everything after the cursor); `with_type` allows TYPE.
    pub fn parse(opts: &'a [Bytes], with_type: bool) -> Result<ScanOpts<'a>, Reply> {
        let mut o = ScanOpts {
            count: 10,
            pattern: None,
            type_name: None,
        };
        for pair in opts.chunks(2) {
            match pair {
                [name, n] if eq(name, "count") => {
                    o.count = match int(n)? {
                        n if n < 1 => return Err(errors::syntax()),
                        n => usize::try_from(n).unwrap_or(usize::MAX),
                    };
                }
                [name, p] if eq(name, "match") => {
                    o.pattern = Some(&p[..]).filter(|p| *p != b"*");
                }
                [name, t] if with_type && eq(name, "type") => {
                    o.type_name = Some(String::from_utf8_lossy(t).to_ascii_lowercase());
                }
                _ => return Err(errors::syntax()),
            }
        }
        Ok(o)
    }

    /// Whether `item` passes MATCH.
    pub fn matches(&self, item: &[u8]) -> bool {
        self.pattern
            .is_none_or(|p| crate::glob::glob_match(p, item, false))
    }
}

/// Where a collection scan (HSCAN, SSCAN, ZSCAN) resumes: how many of its
/// positions are left to walk, every one for cursor 0.
pub fn positions_left(cursor: u64) -> usize {
    match cursor {
        0 => usize::MAX,
        c => usize::try_from(c).unwrap_or(usize::MAX),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(v: &[&str]) -> Vec<Bytes> {
        v.iter()
            .map(|s| Bytes::copy_from_slice(s.as_bytes()))
            .collect()
    }

    #[test]
    fn scan_cursors_parse_like_strtoul() {
        assert_eq!(scan_cursor(b"0").ok(), Some(0));
        assert_eq!(scan_cursor(b"").ok(), Some(0));
        assert_eq!(scan_cursor(b"-1").ok(), Some(u64::MAX));
        assert_eq!(scan_cursor(b"+7").ok(), Some(7));
        assert_eq!(scan_cursor(b"18446744073709551615").ok(), Some(u64::MAX));
        for bad in [
            &b"x"[..],
            b" 1",
            b"1 ",
            b"-",
            b"+",
            b"18446744073709551616",
            b"0x1",
        ] {
            assert_eq!(scan_cursor(bad), Err(errors::err(errors::SCAN_CURSOR)));
        }
        assert_eq!(positions_left(0), usize::MAX);
        assert_eq!(positions_left(7), 7);
    }

    #[test]
    fn scan_options_follow_redis() {
        let opts = bytes(&["MATCH", "a*", "count", "5"]);
        let o = ScanOpts::parse(&opts, false).unwrap();
        assert_eq!((o.count, o.pattern), (5, Some(&b"a*"[..])));
        assert!(o.matches(b"abc") && !o.matches(b"b"));
        let star = bytes(&["MATCH", "*"]);
        assert_eq!(ScanOpts::parse(&star, false).unwrap().pattern, None);
        let typed = bytes(&["TYPE", "ZSet"]);
        assert!(ScanOpts::parse(&typed, false).is_err());
        assert_eq!(
            ScanOpts::parse(&typed, true).unwrap().type_name.as_deref(),
            Some("zset")
        );
        for bad in [&["COUNT", "0"][..], &["COUNT"], &["MATCH"], &["FOO", "x"]] {
            assert_eq!(
                ScanOpts::parse(&bytes(bad), true).err(),
                Some(errors::syntax())
            );
        }
        assert_eq!(
            ScanOpts::parse(&bytes(&["COUNT", "x"]), false).err(),
            Some(errors::not_integer())
        );
    }
}
