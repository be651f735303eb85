//! The lexical layer of redis.conf: splitting a line into arguments, quoting a
//! value back, and Redis's number and memory-size formats.
//!
//! Pure functions, no I/O. Every function mirrors one Redis routine (named in
//! its doc) so that files written for Redis read the same here.

/// Redis `sdssplitargs`: split a config line into arguments. `"..."` takes
/// `\n \r \t \b \a \\ \"` and `\xHH` escapes; `'...'` takes only `\'`. A closing
/// quote must be followed by whitespace or the end of the line. Returns `None`
/// for unbalanced quotes.
pub(crate) fn split_args(line: &str) -> Option<Vec<String>> {
    let b = line.as_bytes();
    let mut i = 0;
    let mut args = Vec::new();
    loop {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i == b.len() {
            return Some(args);
        }
        let mut cur = Vec::new();
        let (mut in_dq, mut in_sq) = (false, false);
        loop {
            let c = b.get(i).copied();
            if in_dq {
                match c {
                    None => return None,
                    Some(b'\\')
                        if b.get(i + 1) == Some(&b'x')
                            && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit)
                            && b.get(i + 3).is_some_and(u8::is_ascii_hexdigit) =>
                    {
                        let hex = std::str::from_utf8(&b[i + 2..i + 4]).ok()?;
                        cur.push(u8::from_str_radix(hex, 16).ok()?);
                        i += 3;
                    }
                    Some(b'\\') if i + 1 < b.len() => {
                        i += 1;
                        cur.push(match b[i] {
                            b'n' => b'\n',
                            b'r' => b'\r',
                            b't' => b'\t',
                            b'b' => 8,
                            b'a' => 7,
                            other => other,
                        });
                    }
                    Some(b'"') => {
                        if b.get(i + 1).is_some_and(|n| !n.is_ascii_whitespace()) {
                            return None;
                        }
                        i += 1;
                        break;
                    }
                    Some(other) => cur.push(other),
                }
            } else if in_sq {
                match c {
                    None => return None,
                    Some(b'\\') if b.get(i + 1) == Some(&b'\'') => {
                        i += 1;
                        cur.push(b'\'');
                    }
                    Some(b'\'') => {
                        if b.get(i + 1).is_some_and(|n| !n.is_ascii_whitespace()) {
                            return None;
                        }
                        i += 1;
                        break;
                    }
                    Some(other) => cur.push(other),
                }
            } else {
                match c {
                    None | Some(b' ' | b'\n' | b'\r' | b'\t') => break,
                    Some(b'"') => in_dq = true,
                    Some(b'\'') => in_sq = true,
                    Some(other) => cur.push(other),
                }
            }
            i += 1;
        }
        args.push(String::from_utf8_lossy(&cur).into_owned());
    }
}

/// Redis `sdscatrepr`: the value in double quotes, with escapes, so that
/// [`split_args`] reads it back unchanged.
pub(crate) fn repr(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for &c in value.as_bytes() {
        match c {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            7 => out.push_str("\\a"),
            8 => out.push_str("\\b"),
            c if c.is_ascii_graphic() || c == b' ' => out.push(c as char),
            c => out.push_str(&format!("\\x{c:02x}")),
        }
    }
    out.push('"');
    out
}

/// Redis `string2ll`: an optional `-`, then `0` or digits without a leading zero;
/// no spaces, no `+`.
pub(crate) fn parse_int(s: &str) -> Option<i64> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let ok = match digits.as_bytes() {
        [] => false,
        [b'0'] => s.len() == 1,
        [first, rest @ ..] => (b'1'..=b'9').contains(first) && rest.iter().all(u8::is_ascii_digit),
    };
    if ok {
        s.parse().ok()
    } else {
        None
    }
}

/// Redis `memtoull`: digits with an optional unit, case-insensitive:
/// `b`, `k` (1000), `kb` (1024), `m` (1000²), `mb` (1024²), `g` (1000³), `gb` (1024³).
/// Negative numbers and overflow are errors. The error text is Redis's.
pub fn parse_memory(s: &str) -> Result<u64, String> {
    const ERR: &str = "argument must be a memory value";
    let split = s
        .bytes()
        .position(|c| !c.is_ascii_digit())
        .unwrap_or(s.len());
    let (digits, unit) = s.split_at(split);
    let mul: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1000 * 1000,
        "mb" => 1024 * 1024,
        "g" => 1000 * 1000 * 1000,
        "gb" => 1024 * 1024 * 1024,
        _ => return Err(ERR.to_string()),
    };
    let n: u64 = digits.parse().map_err(|_| ERR.to_string())?;
    n.checked_mul(mul).ok_or_else(|| ERR.to_string())
}

/// Redis `rewriteConfigFormatMemory`: the largest binary unit that divides
/// `bytes` exactly (`1gb`, `512mb`, `64kb`), else plain bytes.
pub(crate) fn format_memory(bytes: u128) -> String {
    const KB: u128 = 1024;
    if bytes == 0 {
        "0".to_string()
    } else if bytes % (KB * KB * KB) == 0 {
        format!("{}gb", bytes / (KB * KB * KB))
    } else if bytes % (KB * KB) == 0 {
        format!("{}mb", bytes / (KB * KB))
    } else if bytes % KB == 0 {
        format!("{}kb", bytes / KB)
    } else {
        bytes.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(line: &str) -> Vec<String> {
        split_args(line).expect("balanced")
    }

    #[test]
    fn split_args_handles_plain_and_quoted_arguments() {
        assert_eq!(split("save 900 1"), ["save", "900", "1"]);
        assert_eq!(
            split("  bind\t127.0.0.1   -::1 "),
            ["bind", "127.0.0.1", "-::1"]
        );
        assert_eq!(split("save \"\""), ["save", ""]);
        assert_eq!(
            split("a\"b\" c"),
            ["ab", "c"],
            "a quote may open mid-argument"
        );
        assert_eq!(split(r#"a "x\ty\"z\x41""#), ["a", "x\ty\"zA"]);
        assert_eq!(split(r"a 'it\'s'"), ["a", "it's"]);
        assert_eq!(split(""), Vec::<String>::new());
    }

    #[test]
    fn split_args_rejects_unbalanced_quotes() {
        assert_eq!(split_args("a \"open"), None);
        assert_eq!(split_args("a 'open"), None);
        assert_eq!(
            split_args("a \"x\"y"),
            None,
            "closing quote must end the arg"
        );
    }

    #[test]
    fn repr_round_trips_through_split_args() {
        for v in [
            "",
            "dump.rdb",
            "sp ace",
            "q\"uote",
            "back\\slash",
            "nl\n\t\x01",
            "ünï",
        ] {
            let line = format!("x {}", repr(v));
            assert_eq!(split(&line), ["x", v], "{line}");
        }
    }

    #[test]
    fn parse_int_is_strict_like_string2ll() {
        assert_eq!(parse_int("0"), Some(0));
        assert_eq!(parse_int("-2"), Some(-2));
        assert_eq!(parse_int("6379"), Some(6379));
        for bad in [
            "",
            "-",
            "+1",
            "01",
            "-0",
            " 1",
            "1 ",
            "abc",
            "1e3",
            "99999999999999999999",
        ] {
            assert_eq!(parse_int(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn parse_memory_follows_memtoull_units() {
        assert_eq!(parse_memory("5"), Ok(5));
        assert_eq!(parse_memory("5b"), Ok(5));
        assert_eq!(parse_memory("1k"), Ok(1000));
        assert_eq!(parse_memory("1kb"), Ok(1024));
        assert_eq!(parse_memory("1KB"), Ok(1024));
        assert_eq!(parse_memory("2m"), Ok(2_000_000));
        assert_eq!(parse_memory("100mb"), Ok(100 << 20));
        assert_eq!(parse_memory("1g"), Ok(1_000_000_000));
        assert_eq!(parse_memory("1gb"), Ok(1 << 30));
        for bad in ["", "-1", "1tb", "mb", "1.5mb", " 1", "99999999999gb"] {
            assert_eq!(
                parse_memory(bad),
                Err("argument must be a memory value".to_string()),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn format_memory_uses_largest_exact_unit() {
        assert_eq!(format_memory(0), "0");
        assert_eq!(format_memory(1 << 30), "1gb");
        assert_eq!(format_memory(512 << 20), "512mb");
        assert_eq!(format_memory(512 << 10), "512kb");
        assert_eq!(format_memory(1000), "1000");
    }
}
