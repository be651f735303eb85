//! Stream entry IDs (`<ms>-<seq>`, two unsigned 64-bit numbers ordered by
//! milliseconds, then sequence) and the way Redis 7.0 reads them from
//! command arguments (`streamGenericParseIDOrReply`).
//!
//! Pure functions, no store access. Redis reads each half with
//! `string2ull`: the canonical integer form first, and when that fails C's
//! `strtoull`, which also takes leading white space, a sign, leading zeros
//! and negates a leading '-' (so "-01" is 2^64 - 1 while "-1" is refused).
//! Those quirks are kept, since clients that send such IDs to Redis get
//! answers rather than errors.

use std::fmt;

use bytes::Bytes;

use crate::keyspace::value::parse_canonical_i64;

/// One entry ID. The derived order (ms, then seq) is the stream's order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamId {
    pub ms: u64,
    pub seq: u64,
}

impl StreamId {
    pub const MIN: StreamId = StreamId { ms: 0, seq: 0 };
    pub const MAX: StreamId = StreamId {
        ms: u64::MAX,
        seq: u64::MAX,
    };

    pub const fn new(ms: u64, seq: u64) -> StreamId {
        StreamId { ms, seq }
    }

    pub fn is_zero(self) -> bool {
        self == StreamId::MIN
    }

    /// The next ID; None after the last possible one (`streamIncrID`
    /// failing).
    pub fn next(self) -> Option<StreamId> {
        match (self.ms, self.seq) {
            (u64::MAX, u64::MAX) => None,
            (ms, u64::MAX) => Some(StreamId::new(ms + 1, 0)),
            (ms, seq) => Some(StreamId::new(ms, seq + 1)),
        }
    }

    /// The previous ID; None before 0-0 (`streamDecrID` failing).
    pub fn prev(self) -> Option<StreamId> {
        match (self.ms, self.seq) {
            (0, 0) => None,
            (ms, 0) => Some(StreamId::new(ms - 1, u64::MAX)),
            (ms, seq) => Some(StreamId::new(ms, seq - 1)),
        }
    }

    /// The `<ms>-<seq>` text.
    pub fn to_bytes(self) -> Bytes {
        let mut out = Vec::with_capacity(41);
        out.extend_from_slice(itoa::Buffer::new().format(self.ms).as_bytes());
        out.push(b'-');
        out.extend_from_slice(itoa::Buffer::new().format(self.seq).as_bytes());
        Bytes::from(out)
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

/// An ID read from an argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParsedId {
    pub id: StreamId,
    /// False for XADD's `<ms>-*` form: the sequence is to be generated.
    pub seq_given: bool,
}

/// How an ID argument may be written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IdSyntax {
    /// The sequence of an ID written as `<ms>` alone.
    pub missing_seq: u64,
    /// Refuse the special IDs "-" and "+".
    pub strict: bool,
    /// Accept `<ms>-*` (XADD only).
    pub auto_seq: bool,
}

impl IdSyntax {
    /// "-" and "+" refused, a lone `<ms>` means `<ms>-0`.
    pub const STRICT: IdSyntax = IdSyntax {
        missing_seq: 0,
        strict: true,
        auto_seq: false,
    };

    /// A range bound: "-" and "+" allowed, a lone `<ms>` completed with
    /// `missing_seq`.
    pub const fn bound(missing_seq: u64) -> IdSyntax {
        IdSyntax {
            missing_seq,
            strict: false,
            auto_seq: false,
        }
    }
}

/// Longest argument Redis reads as an ID (its 128-byte buffer).
const MAX_LEN: usize = 127;

/// Reads `arg` as Redis's `streamGenericParseIDOrReply` does; None where
/// Redis answers "Invalid stream ID specified as stream command argument".
pub fn parse(arg: &[u8], syntax: IdSyntax) -> Option<ParsedId> {
    if arg.len() > MAX_LEN {
        return None;
    }
    // Redis parses a C string: an embedded NUL ends the argument.
    let s = match arg.iter().position(|&b| b == 0) {
        Some(nul) => &arg[..nul],
        None => arg,
    };
    let given = |id| {
        Some(ParsedId {
            id,
            seq_given: true,
        })
    };
    match s {
        b"-" | b"+" if syntax.strict => None,
        b"-" => given(StreamId::MIN),
        b"+" => given(StreamId::MAX),
        _ => {
            let (ms_part, seq_part) = match s.iter().position(|&b| b == b'-') {
                Some(dash) => (&s[..dash], Some(&s[dash + 1..])),
                None => (s, None),
            };
            let ms = string2ull(ms_part)?;
            match seq_part {
                None => given(StreamId::new(ms, syntax.missing_seq)),
                Some(b"*") if syntax.auto_seq => Some(ParsedId {
                    id: StreamId::new(ms, 0),
                    seq_given: false,
                }),
                Some(seq) => given(StreamId::new(ms, string2ull(seq)?)),
            }
        }
    }
}

/// Redis's `string2ull`: the canonical integer form (negative refused),
/// else glibc's `strtoull` over the whole text.
fn string2ull(s: &[u8]) -> Option<u64> {
    if let Some(v) = parse_canonical_i64(s) {
        return u64::try_from(v).ok();
    }
    strtoull(s)
}

/// `strtoull(s, &end, 10)` that must consume all of `s`, without overflow:
/// leading C white space, an optional sign ('-' negates modulo 2^64),
/// then at least one digit.
fn strtoull(s: &[u8]) -> Option<u64> {
    let start = s
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'))?;
    let s = &s[start..];
    let (neg, digits) = match s {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut v: u64 = 0;
    for &d in digits {
        v = v.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    Some(if neg { v.wrapping_neg() } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strict(s: &str) -> Option<StreamId> {
        parse(s.as_bytes(), IdSyntax::STRICT).map(|p| p.id)
    }

    #[test]
    fn plain_and_extreme_ids() {
        assert_eq!(strict("0-0"), Some(StreamId::MIN));
        assert_eq!(strict("1-2"), Some(StreamId::new(1, 2)));
        assert_eq!(strict("5"), Some(StreamId::new(5, 0)));
        assert_eq!(
            strict("18446744073709551615-18446744073709551615"),
            Some(StreamId::MAX)
        );
        assert_eq!(strict("18446744073709551616-0"), None, "ms overflows");
        assert_eq!(strict("0-18446744073709551616"), None, "seq overflows");
        assert_eq!(strict("99999999999999999999999"), None);
        let bound = |s: &str, missing| parse(s.as_bytes(), IdSyntax::bound(missing)).map(|p| p.id);
        assert_eq!(bound("7", u64::MAX), Some(StreamId::new(7, u64::MAX)));
        assert_eq!(bound("-", u64::MAX), Some(StreamId::MIN));
        assert_eq!(bound("+", 0), Some(StreamId::MAX));
        assert_eq!(strict("-"), None);
        assert_eq!(strict("+"), None);
    }

    #[test]
    fn strtoull_quirks_are_redis_quirks() {
        assert_eq!(strict("01-02"), Some(StreamId::new(1, 2)));
        assert_eq!(strict(" 1-\t2"), Some(StreamId::new(1, 2)));
        assert_eq!(strict("+1-+2"), Some(StreamId::new(1, 2)));
        assert_eq!(strict("1--1"), None, "a canonical negative is refused");
        assert_eq!(strict("1--01"), Some(StreamId::new(1, u64::MAX)));
        assert_eq!(strict("1--0"), Some(StreamId::new(1, 0)));
        assert_eq!(strict("-5"), None, "empty milliseconds");
        for bad in [
            "", "a", "1-", "1-a", "1 ", "1-2-3", "1.5", "0x10", "1- ", "-", "--",
        ] {
            assert_eq!(strict(bad), None, "{bad:?}");
        }
        assert_eq!(
            parse(b"3\x00junk", IdSyntax::STRICT).map(|p| p.id),
            Some(StreamId::new(3, 0))
        );
        assert_eq!(parse(&[b'1'; 128], IdSyntax::STRICT), None);
    }

    #[test]
    fn auto_sequence_only_where_allowed() {
        let xadd = IdSyntax {
            auto_seq: true,
            ..IdSyntax::STRICT
        };
        assert_eq!(
            parse(b"5-*", xadd),
            Some(ParsedId {
                id: StreamId::new(5, 0),
                seq_given: false
            })
        );
        assert_eq!(parse(b"5-*", IdSyntax::STRICT), None);
        assert_eq!(parse(b"*", xadd), None);
        assert_eq!(parse(b"5-**", xadd), None);
    }

    #[test]
    fn successor_and_predecessor_stop_at_the_edges() {
        assert_eq!(StreamId::MAX.next(), None);
        assert_eq!(StreamId::MIN.prev(), None);
        assert_eq!(StreamId::new(1, u64::MAX).next(), Some(StreamId::new(2, 0)));
        assert_eq!(StreamId::new(2, 0).prev(), Some(StreamId::new(1, u64::MAX)));
        assert_eq!(StreamId::new(2, 5).next(), Some(StreamId::new(2, 6)));
        assert_eq!(
            &StreamId::MAX.to_bytes()[..],
            b"18446744073709551615-18446744073709551615"
        );
        assert!(StreamId::new(1, 9) < StreamId::new(2, 0));
    }
}
