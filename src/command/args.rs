//! Parsing of command arguments with Redis's rules and error replies.

use bytes::Bytes;

use super::errors;
use crate::resp::Reply;
use crate::shard::value::parse_canonical_i64;

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
