//! Request framing: turns the bytes a client sent into one request's arguments.
//!
//! Runs on the connection's core, inside its connection task, right after each
//! read: the task calls [`parse_request`] until it returns `Ok(None)`, so every
//! complete request in the buffer is framed before any is routed to a shard.
//!
//! Invariants the code relies on:
//! * Stateless and prefix-monotone: a request is re-parsed from its first byte on
//!   every call, and `Ok(None)` consumes nothing. Resuming only re-walks header
//!   lines; a bulk payload is skipped by its declared length, never scanned, so a
//!   large value arriving slowly costs O(headers) per read, not O(bytes so far).
//! * Multibulk arguments are zero-copy slices of the frame split off `buf`.
//! * Never panics on any input, and never allocates from a declared count or
//!   length: argument slots grow with arguments actually present.
//!
//! Behaviour follows Redis 7.0 `processMultibulkBuffer` / `processInlineBuffer`
//! (networking.c), error texts included, with these deliberate differences:
//! * Redis looks for line ends with `strchr`, which stops at a NUL byte, so a
//!   header or inline line holding a NUL never completes there; here NUL is an
//!   ordinary byte (the line is rejected or split instead of waiting forever).
//! * `expected '$', got 'X'` shows a non-ASCII X as `?` (the text is a `&str`).
//! * No "unauthenticated multibulk/bulk length" checks: this module knows
//!   nothing about AUTH; the connection layer may apply them.

use bytes::{Bytes, BytesMut};

/// Framing limits, from the `proto-max-bulk-len` setting and Redis constants.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Largest accepted bulk argument (`proto-max-bulk-len`, default 512 MiB).
    pub max_bulk_len: u64,
    /// Bytes buffered without a line end before a header or inline request is
    /// rejected (Redis `PROTO_INLINE_MAX_SIZE`, 64 KiB).
    pub max_inline_len: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_bulk_len: 512 * 1024 * 1024,
            max_inline_len: 64 * 1024,
        }
    }
}

/// A malformed request; the connection is closed after replying.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolError(pub &'static str);

impl ProtocolError {
    /// The error reply's text without the leading '-', as Redis writes it.
    pub fn reply_text(&self) -> String {
        crate::errors::protocol(self.0)
    }
}

impl std::fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Protocol error: {}", self.0)
    }
}

impl std::error::Error for ProtocolError {}

const INVALID_MBULK: ProtocolError = ProtocolError("invalid multibulk length");
const INVALID_BULK: ProtocolError = ProtocolError("invalid bulk length");
const TOO_BIG_MBULK: ProtocolError = ProtocolError("too big mbulk count string");
const TOO_BIG_BULK: ProtocolError = ProtocolError("too big bulk count string");
const TOO_BIG_INLINE: ProtocolError = ProtocolError("too big inline request");
const UNBALANCED: ProtocolError = ProtocolError("unbalanced quotes in request");

/// Parses ONE request at the start of `buf`.
///
/// * `Ok(None)`: incomplete, keep reading; nothing was consumed.
/// * `Ok(Some(args))`: the request's bytes were split off the front of `buf`.
///   An empty request (`*0`, `*-1`, a blank inline line) yields an empty vector.
/// * `Err(e)`: malformed; reply `-` + [`ProtocolError::reply_text`] and close.
pub fn parse_request(
    buf: &mut BytesMut,
    limits: &Limits,
) -> Result<Option<Vec<Bytes>>, ProtocolError> {
    match buf.first() {
        None => Ok(None),
        Some(b'*') => parse_multibulk(buf, limits),
        Some(_) => parse_inline(buf, limits),
    }
}

/// Finds the header line starting at `pos`: returns the index of its '\r' and
/// the index after the line end. Like Redis, the byte after '\r' is skipped
/// without checking that it is '\n'.
fn header_line(
    data: &[u8],
    pos: usize,
    limits: &Limits,
    too_big: ProtocolError,
) -> Result<Option<(usize, usize)>, ProtocolError> {
    let rest = &data[pos..];
    match rest.iter().position(|&b| b == b'\r') {
        None if rest.len() > limits.max_inline_len => Err(too_big),
        None => Ok(None),
        Some(cr) if cr + 2 > rest.len() => Ok(None),
        Some(cr) => Ok(Some((pos + cr, pos + cr + 2))),
    }
}

fn parse_multibulk(
    buf: &mut BytesMut,
    limits: &Limits,
) -> Result<Option<Vec<Bytes>>, ProtocolError> {
    let data: &[u8] = buf;
    let Some((cr, mut pos)) = header_line(data, 0, limits, TOO_BIG_MBULK)? else {
        return Ok(None);
    };
    let count = match string2ll(&data[1..cr]) {
        Some(n) if n <= i64::from(i32::MAX) => n,
        _ => return Err(INVALID_MBULK),
    };
    if count <= 0 {
        let _ = buf.split_to(pos);
        return Ok(Some(Vec::new()));
    }

    let mut spans = Spans::new();
    for _ in 0..count {
        let Some((cr, start)) = header_line(data, pos, limits, TOO_BIG_BULK)? else {
            return Ok(None);
        };
        if data[pos] != b'$' {
            return Err(expected_dollar(data[pos]));
        }
        let len = match string2ll(&data[pos + 1..cr]) {
            Some(n) if n >= 0 && (n as u64) <= limits.max_bulk_len => n as u64,
            _ => return Err(INVALID_BULK),
        };
        // Checked: with a huge max_bulk_len the declared length may not fit.
        let end = match usize::try_from(len).ok().and_then(|l| start.checked_add(l)) {
            Some(end) if end.checked_add(2).is_some_and(|e| e <= data.len()) => end,
            _ => return Ok(None),
        };
        spans.push(start, end);
        pos = end + 2;
    }

    let frame = buf.split_to(pos).freeze();
    Ok(Some(spans.slices(&frame)))
}

/// Argument spans of a multibulk request. The first few live on the stack so a
/// typical request allocates once (its `Vec<Bytes>`), and the spill vector grows
/// only with arguments actually received, never from the declared count.
struct Spans {
    head: [(usize, usize); 8],
    len: usize,
    spill: Vec<(usize, usize)>,
}

impl Spans {
    fn new() -> Spans {
        Spans {
            head: [(0, 0); 8],
            len: 0,
            spill: Vec::new(),
        }
    }

    fn push(&mut self, start: usize, end: usize) {
        if self.len < self.head.len() {
            self.head[self.len] = (start, end);
        } else {
            self.spill.push((start, end));
        }
        self.len += 1;
    }

    fn slices(&self, frame: &Bytes) -> Vec<Bytes> {
        let head = &self.head[..self.len.min(self.head.len())];
        head.iter()
            .chain(self.spill.iter())
            .map(|&(s, e)| frame.slice(s..e))
            .collect()
    }
}

/// `expected '$', got 'X'` with X the offending byte. The texts live in a static
/// table because `ProtocolError` holds a `&'static str`. Redis's error
/// sanitising turns '\r' and '\n' into ' ', and its `%c` of NUL ends the C
/// string, dropping the closing quote; both are reproduced.
fn expected_dollar(byte: u8) -> ProtocolError {
    const PREFIX: &[u8] = b"expected '$', got '";
    const LEN: usize = PREFIX.len() + 2;
    static TEXTS: [[u8; LEN]; 256] = {
        let mut table = [[0u8; LEN]; 256];
        let mut b = 0;
        while b < 256 {
            let mut i = 0;
            while i < PREFIX.len() {
                table[b][i] = PREFIX[i];
                i += 1;
            }
            table[b][LEN - 2] = match b as u8 {
                b'\r' | b'\n' => b' ',
                c if c.is_ascii() => c,
                _ => b'?',
            };
            table[b][LEN - 1] = b'\'';
            b += 1;
        }
        table
    };
    let text = &TEXTS[byte as usize];
    let text = if byte == 0 {
        &text[..PREFIX.len()]
    } else {
        &text[..]
    };
    ProtocolError(std::str::from_utf8(text).unwrap_or("expected '$', got '?'"))
}

fn parse_inline(buf: &mut BytesMut, limits: &Limits) -> Result<Option<Vec<Bytes>>, ProtocolError> {
    let data: &[u8] = buf;
    let Some(nl) = data.iter().position(|&b| b == b'\n') else {
        return if data.len() > limits.max_inline_len {
            Err(TOO_BIG_INLINE)
        } else {
            Ok(None)
        };
    };
    let line_end = if nl > 0 && data[nl - 1] == b'\r' {
        nl - 1
    } else {
        nl
    };
    let pieces = split_args(&data[..line_end])?;
    let frame = buf.split_to(nl + 1).freeze();
    Ok(Some(
        pieces
            .into_iter()
            .map(|p| match p {
                Piece::Span(s, e) => frame.slice(s..e),
                Piece::Owned(v) => Bytes::from(v),
            })
            .collect(),
    ))
}

enum Piece {
    /// Unquoted token: its bytes are the wire bytes, so it is a slice.
    Span(usize, usize),
    /// Token with quotes: unquoting changed the bytes.
    Owned(Vec<u8>),
}

/// C `isspace` in the C locale, which `sdssplitargs` uses between tokens and
/// after a closing quote.
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn hex_value(b: Option<u8>) -> Option<u8> {
    match b? {
        c @ b'0'..=b'9' => Some(c - b'0'),
        c @ b'a'..=b'f' => Some(c - b'a' + 10),
        c @ b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Splits an inline line exactly like Redis's `sdssplitargs`: blanks separate
/// tokens (but only ' ', '\t', '\r', '\n' end an unquoted one, so '\v' inside a
/// token is kept), quotes may start mid-token (`a"b c"` is `ab c`), "double
/// quotes" know \n \r \t \b \a \xHH and take any other escaped byte literally,
/// 'single quotes' know only \', and a closing quote must be followed by a blank
/// or the end of the line.
fn split_args(line: &[u8]) -> Result<Vec<Piece>, ProtocolError> {
    let at = |i: usize| line.get(i).copied();
    let mut pieces = Vec::new();
    let mut p = 0;
    loop {
        while p < line.len() && is_c_space(line[p]) {
            p += 1;
        }
        if p == line.len() {
            return Ok(pieces);
        }
        let start = p;
        // Some(..) once the token has had a quote; holds the unquoted bytes.
        let mut owned: Option<Vec<u8>> = None;
        let (mut in_dq, mut in_sq) = (false, false);
        let end = loop {
            let c = at(p);
            if in_dq || in_sq {
                let cur = owned.get_or_insert_with(Vec::new);
                let Some(c) = c else { return Err(UNBALANCED) };
                if in_dq && c == b'\\' && at(p + 1) == Some(b'x') {
                    if let (Some(hi), Some(lo)) = (hex_value(at(p + 2)), hex_value(at(p + 3))) {
                        cur.push(hi * 16 + lo);
                        p += 4;
                        continue;
                    }
                }
                let quote = if in_dq { b'"' } else { b'\'' };
                if in_dq && c == b'\\' && p + 1 < line.len() {
                    cur.push(match line[p + 1] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 0x08,
                        b'a' => 0x07,
                        other => other,
                    });
                    p += 2;
                } else if in_sq && c == b'\\' && at(p + 1) == Some(b'\'') {
                    cur.push(b'\'');
                    p += 2;
                } else if c == quote {
                    if at(p + 1).is_some_and(|n| !is_c_space(n)) {
                        return Err(UNBALANCED);
                    }
                    p += 1;
                    break p;
                } else {
                    cur.push(c);
                    p += 1;
                }
            } else {
                match c {
                    None => break p,
                    Some(b' ' | b'\n' | b'\r' | b'\t') => {
                        p += 1;
                        break p - 1;
                    }
                    Some(q @ (b'"' | b'\'')) => {
                        owned.get_or_insert_with(|| line[start..p].to_vec());
                        in_dq = q == b'"';
                        in_sq = q == b'\'';
                        p += 1;
                    }
                    Some(c) => {
                        if let Some(cur) = owned.as_mut() {
                            cur.push(c);
                        }
                        p += 1;
                    }
                }
            }
        };
        pieces.push(match owned {
            Some(v) => Piece::Owned(v),
            None => Piece::Span(start, end),
        });
    }
}

/// Redis's `string2ll`: optional '-', no '+', no spaces, no leading zeros (but
/// "0" itself), at most 20 bytes, within i64.
fn string2ll(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() >= 21 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (negative, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    let mut v: u64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    if negative {
        0i64.checked_sub_unsigned(v)
    } else {
        i64::try_from(v).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    type Requests = Vec<Vec<Vec<u8>>>;

    fn req(args: &[&[u8]]) -> Vec<Vec<u8>> {
        args.iter().map(|a| a.to_vec()).collect()
    }

    /// Wire bytes and the requests they hold.
    fn corpus() -> Vec<(Vec<u8>, Requests)> {
        let big = vec![b'v'; 70_000];
        let mut big_wire = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$70000\r\n".to_vec();
        big_wire.extend_from_slice(&big);
        big_wire.extend_from_slice(b"\r\n");
        vec![
            (b"*1\r\n$4\r\nPING\r\n".to_vec(), vec![req(&[b"PING"])]),
            (
                b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n".to_vec(),
                vec![req(&[b"SET", b"key", b"value"])],
            ),
            (
                b"*2\r\n$3\r\nGET\r\n$0\r\n\r\n".to_vec(),
                vec![req(&[b"GET", b""])],
            ),
            (
                b"*3\r\n$3\r\nSET\r\n$4\r\n\r\n\r\n\r\n$5\r\n\x00\xff*$\n\r\n".to_vec(),
                vec![req(&[b"SET", b"\r\n\r\n", b"\x00\xff*$\n"])],
            ),
            (b"*0\r\n".to_vec(), vec![vec![]]),
            (b"*-1\r\n".to_vec(), vec![vec![]]),
            (b"*-7\r\n".to_vec(), vec![vec![]]),
            (b"PING\r\n".to_vec(), vec![req(&[b"PING"])]),
            (b"PING\n".to_vec(), vec![req(&[b"PING"])]),
            (b"\r\n".to_vec(), vec![vec![]]),
            (b" \t \n".to_vec(), vec![vec![]]),
            (
                b"  set  k\tv  \r\n".to_vec(),
                vec![req(&[b"set", b"k", b"v"])],
            ),
            (
                b"set \"a b\" 'c d'\r\n".to_vec(),
                vec![req(&[b"set", b"a b", b"c d"])],
            ),
            (
                b"x \"\\x41\\x4a\\x4B\\n\\r\\t\\b\\a\\\\\\\"\\q\" \"\\x4\"\r\n".to_vec(),
                vec![req(&[b"x", b"AJK\n\r\t\x08\x07\\\"q", b"x4"])],
            ),
            (
                b"x 'it\\'s' 'a\\nb' a\"b c\" \"\"\r\n".to_vec(),
                vec![req(&[b"x", b"it's", b"a\\nb", b"ab c", b""])],
            ),
            (
                b"a\x0bb \"q\"\x0b\x0c\r\n".to_vec(),
                vec![req(&[b"a\x0bb", b"q"])],
            ),
            (b"PING\r\r\n".to_vec(), vec![req(&[b"PING"])]),
            (
                b"*1\r\n$4\r\nPING\r\nECHO hi\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*0\r\n\r\n".to_vec(),
                vec![
                    req(&[b"PING"]),
                    req(&[b"ECHO", b"hi"]),
                    req(&[b"GET", b"k"]),
                    vec![],
                    vec![],
                ],
            ),
            (big_wire, vec![req(&[b"SET", b"k", &big])]),
        ]
    }

    /// Parses every complete request in `buf`, checking that a final `Ok(None)`
    /// left the buffer untouched.
    fn drain(buf: &mut BytesMut, limits: &Limits) -> Result<Requests, ProtocolError> {
        let mut out = Vec::new();
        loop {
            let before = buf.clone();
            match parse_request(buf, limits)? {
                None => {
                    assert_eq!(&before[..], &buf[..], "Ok(None) consumed bytes");
                    return Ok(out);
                }
                Some(args) => out.push(args.iter().map(|a| a.to_vec()).collect()),
            }
        }
    }

    fn parse_err(input: &[u8], limits: &Limits) -> String {
        let mut buf = BytesMut::from(input);
        match drain(&mut buf, limits) {
            Err(e) => e.reply_text(),
            Ok(r) => panic!("expected an error for {:?}, got {:?}", input, r),
        }
    }

    #[test]
    fn every_split_point_gives_the_same_requests() {
        let limits = Limits::default();
        for (wire, expected) in corpus() {
            // The 70 KB entry is checked at a spread of offsets to keep this fast.
            let step = if wire.len() > 1000 { 997 } else { 1 };
            let cuts = (0..wire.len()).step_by(step).chain([wire.len() - 1]);
            for cut in cuts {
                let mut buf = BytesMut::from(&wire[..cut]);
                let mut got = drain(&mut buf, &limits).unwrap();
                assert!(got.len() < expected.len() || cut == wire.len());
                buf.extend_from_slice(&wire[cut..]);
                got.extend(drain(&mut buf, &limits).unwrap());
                assert_eq!(
                    got,
                    expected,
                    "split at {cut} of {:?}",
                    String::from_utf8_lossy(&wire)
                );
                assert!(buf.is_empty());
            }
            let mut whole = BytesMut::from(&wire[..]);
            assert_eq!(drain(&mut whole, &limits).unwrap(), expected);
        }
    }

    #[test]
    fn multibulk_args_are_slices_of_the_read_buffer() {
        let mut buf = BytesMut::from(&b"*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n"[..]);
        let range = buf.as_ptr() as usize..buf.as_ptr() as usize + buf.len();
        let args = parse_request(&mut buf, &Limits::default())
            .unwrap()
            .unwrap();
        for a in &args {
            assert!(range.contains(&(a.as_ptr() as usize)));
        }
    }

    #[test]
    fn protocol_errors_use_redis_texts() {
        let d = Limits::default();
        let cases: &[(&[u8], &str)] = &[
            (b"*abc\r\n", "invalid multibulk length"),
            (b"*\r\n", "invalid multibulk length"),
            (b"*+1\r\n", "invalid multibulk length"),
            (b"*01\r\n", "invalid multibulk length"),
            (b"*-0\r\n", "invalid multibulk length"),
            (b"* 1\r\n", "invalid multibulk length"),
            (b"*2147483648\r\n", "invalid multibulk length"),
            (b"*99999999999999999999\r\n", "invalid multibulk length"),
            (b"*1\r\n$abc\r\n", "invalid bulk length"),
            (b"*1\r\n$-1\r\n", "invalid bulk length"),
            (b"*1\r\n$\r\n", "invalid bulk length"),
            (b"*1\r\n$1099511627776\r\n", "invalid bulk length"),
            (b"*1\r\n$536870913\r\n", "invalid bulk length"),
            (b"*1\r\nfoo\r\n", "expected '$', got 'f'"),
            // The next four are Redis's own tests/unit/protocol.tcl cases.
            (b"*3000000000\r\n", "invalid multibulk length"),
            (
                b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n",
                "expected '$', got 'f'",
            ),
            (
                b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$-10\r\n",
                "invalid bulk length",
            ),
            (
                b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$2000000000\r\n",
                "invalid bulk length",
            ),
            (b"*2\r\n$1\r\na\r\n:1\r\n", "expected '$', got ':'"),
            (b"*1\r\n\r\n", "expected '$', got ' '"),
            (b"*1\r\n\x00\r\n", "expected '$', got '"),
            (b"*1\r\n\xff\r\n", "expected '$', got '?'"),
            (b"SET \"a\"b\r\n", "unbalanced quotes in request"),
            (b"SET \"abc\r\n", "unbalanced quotes in request"),
            (b"SET \"abc\\\"\r\n", "unbalanced quotes in request"),
            (b"SET 'a\r\n", "unbalanced quotes in request"),
            (b"SET 'a'b\r\n", "unbalanced quotes in request"),
        ];
        for (input, text) in cases {
            assert_eq!(
                parse_err(input, &d),
                format!("ERR Protocol error: {text}"),
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn lines_without_end_are_limited_to_64k() {
        let d = Limits::default();
        let mut count = b"*".to_vec();
        count.resize(64 * 1024, b'1');
        assert_eq!(drain(&mut BytesMut::from(&count[..]), &d), Ok(vec![]));
        count.push(b'1');
        assert_eq!(
            parse_err(&count, &d),
            "ERR Protocol error: too big mbulk count string"
        );

        let mut bulk = b"*1\r\n$".to_vec();
        bulk.resize(4 + 64 * 1024, b'1');
        assert_eq!(drain(&mut BytesMut::from(&bulk[..]), &d), Ok(vec![]));
        bulk.push(b'1');
        assert_eq!(
            parse_err(&bulk, &d),
            "ERR Protocol error: too big bulk count string"
        );

        let mut inline = b"GET ".to_vec();
        inline.resize(64 * 1024, b'x');
        assert_eq!(drain(&mut BytesMut::from(&inline[..]), &d), Ok(vec![]));
        inline.push(b'x');
        assert_eq!(
            parse_err(&inline, &d),
            "ERR Protocol error: too big inline request"
        );
    }

    #[test]
    fn huge_declared_sizes_wait_without_allocating() {
        let d = Limits::default();
        let mut buf = BytesMut::from(&b"*2147483647\r\n$1\r\na\r\n"[..]);
        assert_eq!(parse_request(&mut buf, &d), Ok(None));
        let mut buf = BytesMut::from(&b"*10000000\r\n"[..]);
        assert_eq!(parse_request(&mut buf, &d), Ok(None));

        let unlimited = Limits {
            max_bulk_len: u64::MAX,
            ..Limits::default()
        };
        for wire in [
            &b"*1\r\n$1099511627776\r\nabc"[..],
            b"*1\r\n$9223372036854775807\r\nabc",
        ] {
            let mut buf = BytesMut::from(wire);
            assert_eq!(parse_request(&mut buf, &unlimited), Ok(None));
            assert_eq!(buf.len(), wire.len());
        }
        let mut buf = BytesMut::from(&b"*1\r\n$9223372036854775808\r\n"[..]);
        assert_eq!(parse_request(&mut buf, &unlimited), Err(INVALID_BULK));
    }

    #[test]
    fn bulk_terminator_is_skipped_unchecked_like_redis() {
        let mut buf = BytesMut::from(&b"*1\r\n$4\r\nPINGxy*0\rz"[..]);
        let got = drain(&mut buf, &Limits::default()).unwrap();
        assert_eq!(got, vec![req(&[b"PING"]), vec![]]);
    }

    #[test]
    fn string2ll_matches_redis() {
        assert_eq!(string2ll(b"0"), Some(0));
        assert_eq!(string2ll(b"-1"), Some(-1));
        assert_eq!(string2ll(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(string2ll(b"-9223372036854775808"), Some(i64::MIN));
        for bad in [
            &b""[..],
            b"-",
            b"00",
            b"-0",
            b"+1",
            b" 1",
            b"1 ",
            b"9223372036854775808",
            b"-9223372036854775809",
            b"1a",
        ] {
            assert_eq!(string2ll(bad), None, "{:?}", bad);
        }
    }

    fn small_limits() -> Limits {
        Limits {
            max_bulk_len: 64,
            max_inline_len: 32,
        }
    }

    fn check_never_overconsumes(input: &[u8], limits: &Limits) {
        let mut buf = BytesMut::from(input);
        let mut consumed = 0usize;
        loop {
            let before = buf.len();
            match parse_request(&mut buf, limits) {
                Ok(Some(args)) => {
                    let taken = before - buf.len();
                    assert!(taken > 0, "a request consumed nothing");
                    assert!(args.iter().map(|a| a.len()).sum::<usize>() <= taken);
                    consumed += taken;
                }
                Ok(None) => {
                    assert_eq!(buf.len(), before);
                    break;
                }
                Err(_) => break,
            }
        }
        assert!(consumed <= input.len());
    }

    const PIECES: &[&[u8]] = &[
        b"*", b"$", b"\r\n", b"\r", b"\n", b"\"", b"'", b"\\", b"\\x4", b" ", b"0", b"1", b"3",
        b"-1", b"a",
    ];

    proptest! {
        #[test]
        fn random_bytes_never_panic(input in proptest::collection::vec(any::<u8>(), 0..400)) {
            check_never_overconsumes(&input, &Limits::default());
            check_never_overconsumes(&input, &small_limits());
        }

        #[test]
        fn protocol_shaped_bytes_never_panic(
            parts in proptest::collection::vec(
                prop::sample::select(PIECES),
                0..60,
            )
        ) {
            let input = parts.concat();
            check_never_overconsumes(&input, &Limits::default());
            check_never_overconsumes(&input, &small_limits());
        }

        #[test]
        fn mutated_frames_never_panic(
            which in any::<prop::sample::Index>(),
            edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..6),
        ) {
            let corpus = corpus();
            let mut input = corpus[which.index(corpus.len())].0.clone();
            input.truncate(2_000);
            for (at, byte, kind) in edits {
                let i = at.index(input.len() + 1);
                match kind {
                    0 if i < input.len() => input[i] = byte,
                    1 => input.insert(i, byte),
                    _ if i < input.len() => { input.remove(i); }
                    _ => {}
                }
            }
            check_never_overconsumes(&input, &Limits::default());
            check_never_overconsumes(&input, &small_limits());
        }
    }
}
