//! Reply values and their RESP2 / RESP3 encoding.
//!
//! Handlers build a [`Reply`] (on the owning shard or on the connection's core);
//! the connection task encodes replies in request order into one output buffer
//! with [`encode`], in the protocol the client chose with HELLO.
//!
//! Invariants: encoding never fails and never panics; it only appends to `out`,
//! and allocates nothing per integer, length or double (stack buffers).
//! The encoder trusts `Status` and `SimpleString` to hold no CR or LF (Redis
//! writes them raw too); only `Error` text is sanitised, as Redis does.
//!
//! Numbers follow Redis 7.0 byte for byte: `%.17g` doubles ([`format_double`]),
//! `inf`/`-inf` spelled out, and the INCRBYFLOAT "human" form
//! ([`format_long_double_human`]), which Redis computes in `long double`.

use std::borrow::Cow;
use std::fmt::Write as _;

use bytes::{BufMut, Bytes, BytesMut};

/// The protocol version a connection speaks (HELLO 2 / HELLO 3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proto {
    Resp2,
    Resp3,
}

/// One reply. Types RESP2 lacks degrade to what Redis 7.0 sends a RESP2 client.
#[derive(Clone, Debug, PartialEq)]
pub enum Reply {
    /// `+OK`
    Ok,
    /// `+<text>`, static.
    Status(&'static str),
    /// `+<text>`, dynamic.
    SimpleString(Bytes),
    /// Full error text without the leading '-', e.g. `ERR syntax error`.
    Error(Cow<'static, str>),
    /// An error whose text is not UTF-8: Redis echoes a client's bytes as
    /// they came in some errors (an unknown command's name).
    ErrorBytes(Bytes),
    /// `:n`
    Int(i64),
    /// `$len`
    Bulk(Bytes),
    /// RESP2 `$-1`, RESP3 `_`.
    Nil,
    /// RESP2 `*-1`, RESP3 `_`.
    NilArray,
    /// `*n`
    Array(Vec<Reply>),
    /// RESP2: flat array of 2n; RESP3: `%n`.
    Map(Vec<(Reply, Reply)>),
    /// A list of pairs (member and score, field and value): RESP2 a flat
    /// array of 2n, RESP3 an array of n two-element arrays, as Redis 7.0
    /// answers ZRANGE … WITHSCORES or HRANDFIELD … WITHVALUES.
    Pairs(Vec<(Reply, Reply)>),
    /// RESP2: an array of n two-element arrays; RESP3: `%n`. Redis 7.0
    /// answers so where RESP2 clients have always read `[key, value]`
    /// pairs and RESP3 ones get a map (reads of several keys at once).
    NestedMap(Vec<(Reply, Reply)>),
    /// RESP2: array; RESP3: `~n`.
    Set(Vec<Reply>),
    /// RESP2: bulk string of [`format_double`]; RESP3: `,<format_double>`.
    Double(f64),
    /// A double already formatted by the command (Redis's
    /// `addReplyHumanLongDouble`): RESP2 bulk string, RESP3 `,<text>`.
    DoubleText(Bytes),
    /// RESP2 `:1`/`:0`; RESP3 `#t`/`#f`.
    Bool(bool),
    /// RESP2: bulk string; RESP3: `=<len+4>\r\ntxt:<data>`.
    Verbatim(Bytes),
    /// RESP2: array; RESP3: `>n`.
    Push(Vec<Reply>),
    /// Already encoded bytes, written as they are.
    Raw(Bytes),
    /// Several replies in a row for one command (SUBSCRIBE a b c).
    Many(Vec<Reply>),
}

impl Reply {
    pub fn error(msg: impl Into<Cow<'static, str>>) -> Reply {
        Reply::Error(msg.into())
    }

    /// A bulk reply holding a copy of `b`.
    pub fn bulk_from(b: &[u8]) -> Reply {
        Reply::Bulk(Bytes::copy_from_slice(b))
    }

    pub fn is_error(&self) -> bool {
        matches!(self, Reply::Error(_) | Reply::ErrorBytes(_))
    }

    /// The text of an error reply (lossy for `ErrorBytes`).
    pub fn error_text(&self) -> Option<Cow<'_, str>> {
        match self {
            Reply::Error(e) => Some(Cow::Borrowed(e)),
            Reply::ErrorBytes(e) => Some(String::from_utf8_lossy(e)),
            _ => None,
        }
    }
}

/// Appends the encoding of `reply` to `out`. Error text is written after '-'
/// with any '\r' or '\n' replaced by ' ', as Redis's `addReplyErrorLength`
/// callers do, so a message can never break the framing.
pub fn encode(reply: &Reply, proto: Proto, out: &mut BytesMut) {
    let resp3 = proto == Proto::Resp3;
    match reply {
        Reply::Ok => out.extend_from_slice(b"+OK\r\n"),
        Reply::Status(s) => line(out, b'+', s.as_bytes()),
        Reply::SimpleString(s) => line(out, b'+', s),
        Reply::Error(e) => error_line(out, e.as_bytes()),
        Reply::ErrorBytes(e) => error_line(out, e),
        Reply::Int(n) => int_line(out, b':', *n),
        Reply::Bulk(b) => bulk(out, b),
        Reply::Nil if resp3 => out.extend_from_slice(b"_\r\n"),
        Reply::Nil => out.extend_from_slice(b"$-1\r\n"),
        Reply::NilArray if resp3 => out.extend_from_slice(b"_\r\n"),
        Reply::NilArray => out.extend_from_slice(b"*-1\r\n"),
        Reply::Array(items) => aggregate(out, b'*', items, proto),
        Reply::Set(items) => aggregate(out, if resp3 { b'~' } else { b'*' }, items, proto),
        Reply::Push(items) => aggregate(out, if resp3 { b'>' } else { b'*' }, items, proto),
        Reply::Map(pairs) => {
            if resp3 {
                len_line(out, b'%', pairs.len() as u64);
            } else {
                len_line(out, b'*', pairs.len() as u64 * 2);
            }
            for (k, v) in pairs {
                encode(k, proto, out);
                encode(v, proto, out);
            }
        }
        Reply::NestedMap(pairs) => {
            len_line(out, if resp3 { b'%' } else { b'*' }, pairs.len() as u64);
            for (k, v) in pairs {
                if !resp3 {
                    out.extend_from_slice(b"*2\r\n");
                }
                encode(k, proto, out);
                encode(v, proto, out);
            }
        }
        Reply::Pairs(pairs) => {
            len_line(out, b'*', pairs.len() as u64 * if resp3 { 1 } else { 2 });
            for (a, b) in pairs {
                if resp3 {
                    out.extend_from_slice(b"*2\r\n");
                }
                encode(a, proto, out);
                encode(b, proto, out);
            }
        }
        Reply::Double(d) => {
            let mut buf = StackStr::new();
            write_double(*d, &mut buf);
            if resp3 {
                line(out, b',', buf.as_bytes());
            } else {
                bulk(out, buf.as_bytes());
            }
        }
        Reply::DoubleText(t) => {
            if resp3 {
                line(out, b',', t);
            } else {
                bulk(out, t);
            }
        }
        Reply::Bool(b) => out.extend_from_slice(match (resp3, b) {
            (true, true) => b"#t\r\n",
            (true, false) => b"#f\r\n",
            (false, true) => b":1\r\n",
            (false, false) => b":0\r\n",
        }),
        Reply::Verbatim(v) if resp3 => {
            len_line(out, b'=', v.len() as u64 + 4);
            out.reserve(v.len() + 6);
            out.extend_from_slice(b"txt:");
            out.extend_from_slice(v);
            out.extend_from_slice(b"\r\n");
        }
        Reply::Verbatim(v) => bulk(out, v),
        Reply::Raw(r) => out.extend_from_slice(r),
        Reply::Many(replies) => {
            for r in replies {
                encode(r, proto, out);
            }
        }
    }
}

fn error_line(out: &mut BytesMut, e: &[u8]) {
    out.reserve(e.len() + 3);
    out.put_u8(b'-');
    for &b in e {
        out.put_u8(if b == b'\r' || b == b'\n' { b' ' } else { b });
    }
    out.extend_from_slice(b"\r\n");
}

fn line(out: &mut BytesMut, tag: u8, text: &[u8]) {
    out.reserve(text.len() + 3);
    out.put_u8(tag);
    out.extend_from_slice(text);
    out.extend_from_slice(b"\r\n");
}

fn bulk(out: &mut BytesMut, data: &[u8]) {
    len_line(out, b'$', data.len() as u64);
    out.reserve(data.len() + 2);
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}

fn aggregate(out: &mut BytesMut, tag: u8, items: &[Reply], proto: Proto) {
    len_line(out, tag, items.len() as u64);
    for item in items {
        encode(item, proto, out);
    }
}

fn len_line(out: &mut BytesMut, tag: u8, n: u64) {
    let mut digits = [0u8; 20];
    let text = format_u64(n, &mut digits);
    line(out, tag, text);
}

fn int_line(out: &mut BytesMut, tag: u8, n: i64) {
    let mut digits = [0u8; 21];
    let mut start = digits.len() - format_u64(n.unsigned_abs(), &mut digits[1..]).len();
    if n < 0 {
        start -= 1;
        digits[start] = b'-';
    }
    line(out, tag, &digits[start..]);
}

/// Writes `n` in decimal at the end of `buf` (at least 20 bytes) and returns
/// the written tail.
fn format_u64(mut n: u64, buf: &mut [u8]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[i..];
        }
    }
}

/// Redis 7.0's double formatting (ZSCORE, ZINCRBY, RESP3 doubles): C's `%.17g`
/// exactly (1.5 → "1.5", 0.1 → "0.10000000000000001", 1e20 → "1e+20",
/// 100.0 → "100", -0.0 → "-0"), and "inf" / "-inf" / "nan" spelled out.
pub fn format_double(d: f64) -> String {
    let mut buf = StackStr::new();
    write_double(d, &mut buf);
    buf.as_str().to_owned()
}

/// `%.17g`: 17 significant digits; with X the decimal exponent after rounding,
/// fixed notation when -4 <= X < 17, else `d.ddde±XX`; trailing fraction zeros
/// and a bare '.' removed. Rust's `{:.16e}` gives the correctly rounded digits
/// (ties to even, like glibc), so only the layout is done here.
fn write_double(d: f64, out: &mut StackStr) {
    if d.is_nan() {
        return out.push_str("nan");
    }
    if d.is_infinite() {
        return out.push_str(if d > 0.0 { "inf" } else { "-inf" });
    }
    let mut sci = StackStr::new();
    let _ = write!(sci, "{:.16e}", d);
    let s = sci.as_str();
    let (mantissa, exp) = s.split_once('e').unwrap_or((s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (negative, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mantissa),
    };
    // 17 digits: the one before the '.' and the 16 after it.
    let mut digits = [b'0'; 17];
    for (slot, b) in digits
        .iter_mut()
        .zip(mantissa.bytes().filter(u8::is_ascii_digit))
    {
        *slot = b;
    }
    let significant = digits.len() - digits.iter().rev().take_while(|&&b| b == b'0').count();
    let significant = significant.max(1);
    if negative {
        out.push_str("-");
    }
    if (-4..17).contains(&exp) {
        if exp >= 0 {
            let int_len = exp as usize + 1;
            out.push_bytes(&digits[..int_len]);
            if significant > int_len {
                out.push_str(".");
                out.push_bytes(&digits[int_len..significant]);
            }
        } else {
            out.push_str("0.");
            for _ in 0..(-exp - 1) {
                out.push_str("0");
            }
            out.push_bytes(&digits[..significant]);
        }
    } else {
        out.push_bytes(&digits[..1]);
        if significant > 1 {
            out.push_str(".");
            out.push_bytes(&digits[1..significant]);
        }
        let _ = write!(
            out,
            "e{}{:02}",
            if exp < 0 { '-' } else { '+' },
            exp.unsigned_abs()
        );
    }
}

/// What Redis 7.0 INCRBYFLOAT and HINCRBYFLOAT print (`ld2string` in
/// `LD_STR_HUMAN` mode): `%.17Lf`, then trailing zeros and a trailing '.'
/// removed, "-0" written as "0", and "inf" / "-inf" / "nan" spelled out.
///
/// Redis computes in x87 `long double` (64-bit mantissa), so its 17 decimals
/// are noise-free for everyday values: 10.5 + 0.1 prints "10.6" and 0.1 + 0.2
/// prints "0.3". `%.17f` of an `f64` would print the binary error instead
/// ("10.59999999999999964"), so with f64 the rule here is: round to 15
/// significant digits (`DBL_DIG`, all an f64 holds reliably) but never to more
/// than 17 decimals (Redis's cut-off: 1e-18 prints "0"), then strip as Redis
/// does. Integral values print all their digits (2^60 → "1152921504606846976").
/// Values that need 16+ significant digits differ from Redis in the last ones.
pub fn format_long_double_human(d: f64) -> String {
    if d.is_nan() {
        return "nan".to_owned();
    }
    if d.is_infinite() {
        return if d > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    let mut sci = StackStr::new();
    let _ = write!(sci, "{:.14e}", d);
    let exp: i32 = sci
        .as_str()
        .split_once('e')
        .and_then(|(_, e)| e.parse().ok())
        .unwrap_or(0);
    let decimals = (14 - exp).clamp(0, 17) as usize;
    let mut s = format!("{:.*}", decimals, d);
    if s.contains('.') {
        let kept = s.trim_end_matches('0').trim_end_matches('.').len();
        s.truncate(kept);
    }
    if s == "-0" {
        s.remove(0);
    }
    s
}

/// A fixed stack buffer for number text, so encoding a double allocates nothing.
/// 40 bytes hold any `{:.16e}` and any `%.17g` output (at most 24).
struct StackStr {
    buf: [u8; 40],
    len: usize,
}

impl StackStr {
    fn new() -> StackStr {
        StackStr {
            buf: [0; 40],
            len: 0,
        }
    }

    fn push_bytes(&mut self, b: &[u8]) {
        let n = b.len().min(self.buf.len() - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&b[..n]);
        self.len += n;
    }

    fn push_str(&mut self, s: &str) {
        self.push_bytes(s.as_bytes());
    }

    fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    fn as_str(&self) -> &str {
        std::str::from_utf8(self.as_bytes()).unwrap_or("")
    }
}

impl std::fmt::Write for StackStr {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        if s.len() > self.buf.len() - self.len {
            return Err(std::fmt::Error);
        }
        self.push_str(s);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn enc(reply: &Reply, proto: Proto) -> Vec<u8> {
        let mut out = BytesMut::new();
        encode(reply, proto, &mut out);
        out.to_vec()
    }

    /// Both encodings of one reply.
    fn check(reply: Reply, resp2: &[u8], resp3: &[u8]) {
        assert_eq!(enc(&reply, Proto::Resp2), resp2, "RESP2 {reply:?}");
        assert_eq!(enc(&reply, Proto::Resp3), resp3, "RESP3 {reply:?}");
    }

    #[test]
    fn every_variant_encodes_as_redis_does() {
        check(Reply::Ok, b"+OK\r\n", b"+OK\r\n");
        check(Reply::Status("PONG"), b"+PONG\r\n", b"+PONG\r\n");
        check(
            Reply::SimpleString(Bytes::from_static(b"string")),
            b"+string\r\n",
            b"+string\r\n",
        );
        check(
            Reply::error("ERR syntax error"),
            b"-ERR syntax error\r\n",
            b"-ERR syntax error\r\n",
        );
        check(
            Reply::error(String::from("ERR bad\r\nline\n")),
            b"-ERR bad  line \r\n",
            b"-ERR bad  line \r\n",
        );
        check(Reply::Int(0), b":0\r\n", b":0\r\n");
        check(Reply::Int(-42), b":-42\r\n", b":-42\r\n");
        check(
            Reply::Int(i64::MIN),
            b":-9223372036854775808\r\n",
            b":-9223372036854775808\r\n",
        );
        check(
            Reply::Int(i64::MAX),
            b":9223372036854775807\r\n",
            b":9223372036854775807\r\n",
        );
        check(
            Reply::bulk_from(b"a\r\nb"),
            b"$4\r\na\r\nb\r\n",
            b"$4\r\na\r\nb\r\n",
        );
        check(Reply::bulk_from(b""), b"$0\r\n\r\n", b"$0\r\n\r\n");
        check(Reply::Nil, b"$-1\r\n", b"_\r\n");
        check(Reply::NilArray, b"*-1\r\n", b"_\r\n");
        check(Reply::Array(vec![]), b"*0\r\n", b"*0\r\n");
        check(
            Reply::Array(vec![Reply::Int(1), Reply::Nil, Reply::bulk_from(b"x")]),
            b"*3\r\n:1\r\n$-1\r\n$1\r\nx\r\n",
            b"*3\r\n:1\r\n_\r\n$1\r\nx\r\n",
        );
        check(
            Reply::Map(vec![
                (Reply::bulk_from(b"a"), Reply::Int(1)),
                (Reply::bulk_from(b"b"), Reply::Double(1.5)),
            ]),
            b"*4\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n$3\r\n1.5\r\n",
            b"%2\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n,1.5\r\n",
        );
        check(
            Reply::Pairs(vec![
                (Reply::bulk_from(b"a"), Reply::Double(1.5)),
                (Reply::bulk_from(b"b"), Reply::bulk_from(b"v")),
            ]),
            b"*4\r\n$1\r\na\r\n$3\r\n1.5\r\n$1\r\nb\r\n$1\r\nv\r\n",
            b"*2\r\n*2\r\n$1\r\na\r\n,1.5\r\n*2\r\n$1\r\nb\r\n$1\r\nv\r\n",
        );
        check(Reply::Pairs(vec![]), b"*0\r\n", b"*0\r\n");
        check(
            Reply::NestedMap(vec![(
                Reply::bulk_from(b"k"),
                Reply::Array(vec![Reply::Int(1)]),
            )]),
            b"*1\r\n*2\r\n$1\r\nk\r\n*1\r\n:1\r\n",
            b"%1\r\n$1\r\nk\r\n*1\r\n:1\r\n",
        );
        check(
            Reply::Set(vec![Reply::bulk_from(b"m")]),
            b"*1\r\n$1\r\nm\r\n",
            b"~1\r\n$1\r\nm\r\n",
        );
        check(
            Reply::Double(0.1),
            b"$19\r\n0.10000000000000001\r\n",
            b",0.10000000000000001\r\n",
        );
        check(Reply::Double(f64::INFINITY), b"$3\r\ninf\r\n", b",inf\r\n");
        check(
            Reply::Double(f64::NEG_INFINITY),
            b"$4\r\n-inf\r\n",
            b",-inf\r\n",
        );
        check(Reply::Double(f64::NAN), b"$3\r\nnan\r\n", b",nan\r\n");
        check(
            Reply::DoubleText(Bytes::from_static(b"13.5")),
            b"$4\r\n13.5\r\n",
            b",13.5\r\n",
        );
        check(Reply::Bool(true), b":1\r\n", b"#t\r\n");
        check(Reply::Bool(false), b":0\r\n", b"#f\r\n");
        check(
            Reply::Verbatim(Bytes::from_static(b"Some string")),
            b"$11\r\nSome string\r\n",
            b"=15\r\ntxt:Some string\r\n",
        );
        check(
            Reply::Push(vec![Reply::bulk_from(b"message"), Reply::Array(vec![])]),
            b"*2\r\n$7\r\nmessage\r\n*0\r\n",
            b">2\r\n$7\r\nmessage\r\n*0\r\n",
        );
        check(
            Reply::Raw(Bytes::from_static(b"+RAW\r\n")),
            b"+RAW\r\n",
            b"+RAW\r\n",
        );
    }

    #[test]
    fn encode_appends_to_existing_output() {
        let mut out = BytesMut::from(&b"+OK\r\n"[..]);
        encode(&Reply::Int(7), Proto::Resp2, &mut out);
        assert_eq!(&out[..], b"+OK\r\n:7\r\n");
    }

    #[test]
    fn reply_helpers() {
        assert!(Reply::error("ERR x").is_error());
        assert!(!Reply::Ok.is_error());
        assert_eq!(
            Reply::bulk_from(b"ab"),
            Reply::Bulk(Bytes::from_static(b"ab"))
        );
    }

    #[test]
    fn format_double_is_percent_17g() {
        let cases: &[(f64, &str)] = &[
            (1.5, "1.5"),
            (0.1, "0.10000000000000001"),
            (100.0, "100"),
            (1e20, "1e+20"),
            (1.0 / 3.0, "0.33333333333333331"),
            (-0.0, "-0"),
            (0.0, "0"),
            (123456789012345678.0, "1.2345678901234568e+17"),
            (12345678901234567.0, "12345678901234568"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (f64::NAN, "nan"),
            (3.0e-5, "3.0000000000000001e-05"),
            (1e-4, "0.0001"),
            (-2.5, "-2.5"),
            (1e100, "1e+100"),
            (f64::MAX, "1.7976931348623157e+308"),
            (5e-324, "4.9406564584124654e-324"),
            // An exact tie at the 17th digit rounds to even, as glibc does.
            (1e15 + 0.25, "1000000000000000.2"),
            (1e15 + 0.75, "1000000000000000.8"),
        ];
        for &(d, want) in cases {
            assert_eq!(format_double(d), want, "{d:e}");
        }
    }

    /// C's snprintf, the reference `format_double` must match.
    fn c_format(fmt: &str, d: f64) -> String {
        let mut buf = [0u8; 512];
        let fmt = std::ffi::CString::new(fmt).unwrap();
        // SAFETY: the buffer length is passed, the format takes one double.
        let n = unsafe { libc::snprintf(buf.as_mut_ptr().cast(), buf.len(), fmt.as_ptr(), d) };
        String::from_utf8_lossy(&buf[..n as usize]).into_owned()
    }

    proptest! {
        #[test]
        fn format_double_matches_c_printf(bits in any::<u64>()) {
            let d = f64::from_bits(bits);
            prop_assume!(!d.is_nan());
            prop_assert_eq!(format_double(d), c_format("%.17g", d));
        }

        #[test]
        fn format_double_matches_c_printf_on_short_decimals(m in -1_000_000i64..1_000_000, e in -25i32..25) {
            let d = m as f64 * 10f64.powi(e);
            prop_assert_eq!(format_double(d), c_format("%.17g", d));
        }
    }

    #[test]
    fn format_long_double_human_matches_redis_on_x86() {
        let cases: &[(f64, &str)] = &[
            (10.5, "10.5"),
            (3.0e3, "3000"),
            (0.1 + 0.2, "0.3"),
            (10.5 + 0.1, "10.6"),
            (1.0 - 1.1, "-0.1"),
            (1.0 + 0.25, "1.25"),
            (17179869184.0 + 1.5, "17179869185.5"),
            (17179869184.0 * 2.0, "34359738368"),
            (-0.0, "0"),
            (-1e-30, "0"),
            (1e-18, "0"),
            (1e-17, "0.00000000000000001"),
            (1e20, "100000000000000000000"),
            (1152921504606846976.0, "1152921504606846976"),
            (1.0 / 3.0, "0.333333333333333"),
            (9.999999999999999, "10"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (f64::NAN, "nan"),
        ];
        for &(d, want) in cases {
            assert_eq!(format_long_double_human(d), want, "{d:e}");
        }
    }
}
