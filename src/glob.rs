//! Glob-style pattern matching with exactly Redis's semantics (`stringmatchlen`).
//!
//! Used by KEYS, SCAN MATCH, PSUBSCRIBE and CONFIG GET. Pure function over byte
//! slices: no allocation, runs on whichever core calls it.
//!
//! Syntax: `*` any run, `?` any one byte, `[abc]` / `[^abc]` / `[a-z]` classes
//! (a reversed range such as `[z-a]` works; an unterminated class ends at the
//! end of the pattern), `\x` matches `x` literally, inside or outside a class.
//! Bytes are compared as bytes; `nocase` folds ASCII letters only.
//!
//! Invariant: matching stays polynomial. Like Redis, once the rest of a pattern
//! after a `*` failed against every suffix, no earlier `*` retries with a longer
//! match (`skip_longer`), and recursion stops at a nesting depth of 1000, where
//! Redis also gives up and reports "no match".

/// Redis's `stringmatchlen`: does `string` match the glob `pattern`?
pub fn glob_match(pattern: &[u8], string: &[u8], nocase: bool) -> bool {
    let mut skip_longer = false;
    match_impl(pattern, string, nocase, &mut skip_longer, 0)
}

/// Deeper patterns are "no match", as in Redis (protection against abuse).
const MAX_NESTING: usize = 1000;

fn eq(a: u8, b: u8, nocase: bool) -> bool {
    if nocase {
        a.eq_ignore_ascii_case(&b)
    } else {
        a == b
    }
}

fn match_impl(
    mut p: &[u8],
    mut s: &[u8],
    nocase: bool,
    skip_longer: &mut bool,
    nesting: usize,
) -> bool {
    if nesting > MAX_NESTING {
        return false;
    }
    while !p.is_empty() && !s.is_empty() {
        match p[0] {
            b'*' => {
                while p.len() > 1 && p[1] == b'*' {
                    p = &p[1..];
                }
                if p.len() == 1 {
                    return true;
                }
                while !s.is_empty() {
                    if match_impl(&p[1..], s, nocase, skip_longer, nesting + 1) {
                        return true;
                    }
                    if *skip_longer {
                        return false;
                    }
                    s = &s[1..];
                }
                // The rest of the pattern matches no suffix of the string, so
                // no earlier '*' can succeed by matching more: stop everything.
                *skip_longer = true;
                return false;
            }
            b'?' => {
                s = &s[1..];
                p = &p[1..];
            }
            b'[' => {
                p = &p[1..];
                let not = p.first() == Some(&b'^');
                if not {
                    p = &p[1..];
                }
                let c = s[0];
                let mut matched = false;
                loop {
                    if p.is_empty() {
                        // Unterminated class: it runs to the end of the pattern.
                        break;
                    } else if p[0] == b'\\' && p.len() >= 2 {
                        // Escaped bytes in a class compare exactly, even with nocase (as Redis).
                        matched |= p[1] == c;
                        p = &p[2..];
                    } else if p[0] == b']' {
                        p = &p[1..];
                        break;
                    } else if p.len() >= 3 && p[1] == b'-' {
                        let (mut lo, mut hi, mut x) = (p[0], p[2], c);
                        if lo > hi {
                            std::mem::swap(&mut lo, &mut hi);
                        }
                        if nocase {
                            lo = lo.to_ascii_lowercase();
                            hi = hi.to_ascii_lowercase();
                            x = x.to_ascii_lowercase();
                        }
                        matched |= lo <= x && x <= hi;
                        p = &p[3..];
                    } else {
                        matched |= eq(p[0], c, nocase);
                        p = &p[1..];
                    }
                }
                if matched == not {
                    return false;
                }
                s = &s[1..];
            }
            first => {
                let (lit, rest) = if first == b'\\' && p.len() >= 2 {
                    (p[1], &p[2..])
                } else {
                    (first, &p[1..])
                };
                if !eq(lit, s[0], nocase) {
                    return false;
                }
                s = &s[1..];
                p = rest;
            }
        }
        if s.is_empty() {
            while p.first() == Some(&b'*') {
                p = &p[1..];
            }
            break;
        }
    }
    p.is_empty() && s.is_empty()
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    fn m(p: &str, s: &str) -> bool {
        glob_match(p.as_bytes(), s.as_bytes(), false)
    }

    #[test]
    fn question_mark_matches_exactly_one_byte() {
        assert!(m("h?llo", "hello"));
        assert!(m("h?llo", "hallo"));
        assert!(!m("h?llo", "hllo"));
        assert!(!m("h?llo", "heello"));
    }

    #[test]
    fn star_matches_any_run_including_empty() {
        assert!(m("h*llo", "hllo"));
        assert!(m("h*llo", "heeeello"));
        assert!(!m("h*llo", "hellox"));
        // Redis quirk: its loop stops as soon as the string is exhausted, so a
        // pattern is never matched against an empty string, not even "*".
        assert!(!m("*", ""));
        assert!(m("*", "anything"));
        assert!(m("**", "x"));
        assert!(m("a*", "a"));
        assert!(m("a**", "a"));
        assert!(!m("a*b", "a"));
        assert!(m("*b*", "abc"));
    }

    #[test]
    fn classes_sets_negation_and_ranges() {
        assert!(m("h[ae]llo", "hello"));
        assert!(m("h[ae]llo", "hallo"));
        assert!(!m("h[ae]llo", "hillo"));
        assert!(m("h[^e]llo", "hallo"));
        assert!(m("h[^e]llo", "hbllo"));
        assert!(!m("h[^e]llo", "hello"));
        assert!(m("h[a-b]llo", "hallo"));
        assert!(m("h[a-b]llo", "hbllo"));
        assert!(!m("h[a-b]llo", "hcllo"));
        assert!(m("h[b-a]llo", "hallo"), "reversed ranges are swapped");
        // "[]" is an empty class (matches nothing), then "]" is literal.
        assert!(!m("[]]", "]"));
        // "[a-]" is the range between ']' and 'a', unterminated: '^' is inside.
        assert!(m("[a-]", "^"));
        assert!(!m("[a-]", "-"));
    }

    #[test]
    fn unterminated_class_runs_to_end_of_pattern() {
        assert!(m("[abc", "a"));
        assert!(!m("[abc", "d"));
        assert!(!m("[", "a"));
        assert!(m("[^", "a"));
    }

    #[test]
    fn backslash_escapes_specials() {
        assert!(m("\\*", "*"));
        assert!(!m("\\*", "a"));
        assert!(m("a\\?b", "a?b"));
        assert!(!m("a\\?b", "axb"));
        assert!(m("[\\]]", "]"));
        assert!(m("[\\-]", "-"));
        assert!(m("\\", "\\"), "a trailing backslash is literal");
    }

    #[test]
    fn nocase_folds_ascii_letters() {
        assert!(glob_match(b"MAXMEMORY*", b"maxmemory-policy", true));
        assert!(glob_match(b"h[A-B]llo", b"hbllo", true));
        assert!(!glob_match(b"MAXMEMORY*", b"maxmemory-policy", false));
        assert!(glob_match(b"Port", b"port", true));
    }

    #[test]
    fn empty_pattern_and_string() {
        assert!(m("", ""));
        assert!(!m("", "a"));
        assert!(!m("a", ""));
        assert!(!m("?", ""));
    }

    #[test]
    fn pathological_pattern_is_fast() {
        let s = "a".repeat(5000);
        let start = std::time::Instant::now();
        assert!(!m("a*a*a*a*a*a*a*a*a*a*b", &s));
        assert!(!m(&"*a".repeat(300), &"a".repeat(200)));
        assert!(start.elapsed() < std::time::Duration::from_secs(2));
    }

    #[test]
    fn deep_nesting_gives_up_like_redis() {
        let pattern = "a*".repeat(1100);
        let s = "a".repeat(1100);
        assert!(
            !m(&pattern, &s),
            "more than 1000 nested stars is 'no match'"
        );
    }
}
