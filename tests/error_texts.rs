//! Every error reply text lives in `src/command/errors.rs`, or in
//! `src/errors.rs` for the layers below `command`. Reads every source file's
//! string literals (outside comments and `#[cfg(test)]` items) and fails on
//! one that starts like an error reply (`"ERR `, `"-WRONGTYPE `, …), naming
//! the file, the line and the text.

use std::path::{Path, PathBuf};

/// The files allowed to write error texts, relative to `src/`.
const ERROR_MODULES: &[&str] = &["errors.rs", "command/errors.rs"];

/// The codes an error reply starts with: Redis 7.0's, and the ones lanner
/// answers (INVALIDOBJ, TESTFAILED).
const CODES: &[&str] = &[
    "ERR",
    "WRONGTYPE",
    "NOSCRIPT",
    "BUSY",
    "BUSYGROUP",
    "BUSYKEY",
    "EXECABORT",
    "NOPERM",
    "OOM",
    "UNKILLABLE",
    "NOTBUSY",
    "NOGROUP",
    "NOREPLICAS",
    "LOADING",
    "MISCONF",
    "READONLY",
    "MASTERDOWN",
    "NOAUTH",
    "WRONGPASS",
    "NOPROTO",
    "UNBLOCKED",
    "CROSSSLOT",
    "CLUSTERDOWN",
    "TRYAGAIN",
    "MOVED",
    "ASK",
    "INVALIDOBJ",
    "TESTFAILED",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Whether a literal's text is an error reply: an optional '-', a code,
/// then a space.
fn is_error_text(lit: &str) -> bool {
    let t = lit.strip_prefix('-').unwrap_or(lit);
    CODES
        .iter()
        .any(|c| t.strip_prefix(c).is_some_and(|rest| rest.starts_with(' ')))
}

/// Every string literal of `src` (plain, byte and raw) with the line it
/// starts on; comments, char literals and lifetimes are skipped.
fn literals(src: &str) -> Vec<(usize, String)> {
    let c: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let (mut i, mut line) = (0, 1);
    let ident = |ch: char| ch.is_alphanumeric() || ch == '_';
    while i < c.len() {
        match c[i] {
            '\n' => {
                line += 1;
                i += 1;
            }
            '/' if c.get(i + 1) == Some(&'/') => {
                while i < c.len() && c[i] != '\n' {
                    i += 1;
                }
            }
            '/' if c.get(i + 1) == Some(&'*') => {
                i += 2;
                while i + 1 < c.len() && !(c[i] == '*' && c[i + 1] == '/') {
                    line += usize::from(c[i] == '\n');
                    i += 1;
                }
                i += 2;
            }
            '\'' => {
                if c.get(i + 1) == Some(&'\\') {
                    // An escape ('\n', '\'', '\u{…}'): up to the closing quote.
                    i += 3;
                    while i < c.len() && c[i] != '\'' {
                        i += 1;
                    }
                    i += 1;
                } else if c.get(i + 2) == Some(&'\'') {
                    i += 3;
                } else {
                    i += 1;
                }
            }
            '"' => {
                let (start, mut j) = (line, i + 1);
                let mut text = String::new();
                while j < c.len() && c[j] != '"' {
                    if c[j] == '\\' {
                        text.push(c[j]);
                        j += 1;
                    }
                    if j < c.len() {
                        line += usize::from(c[j] == '\n');
                        text.push(c[j]);
                    }
                    j += 1;
                }
                out.push((start, text));
                i = j + 1;
            }
            ch if ident(ch) => {
                let word_start = i;
                while i < c.len() && ident(c[i]) {
                    i += 1;
                }
                let word: String = c[word_start..i].iter().collect();
                if !(word == "r" || word == "br") || !matches!(c.get(i), Some('"' | '#')) {
                    continue;
                }
                // A raw string: r"…", r#"…"#, br"…".
                let mut j = i;
                let mut hashes = 0;
                while c.get(j) == Some(&'#') {
                    hashes += 1;
                    j += 1;
                }
                if c.get(j) != Some(&'"') {
                    continue;
                }
                let (start, from) = (line, j + 1);
                j += 1;
                while j < c.len()
                    && !(c[j] == '"' && (0..hashes).all(|h| c.get(j + 1 + h) == Some(&'#')))
                {
                    line += usize::from(c[j] == '\n');
                    j += 1;
                }
                out.push((start, c[from..j.min(c.len())].iter().collect()));
                i = j + 1 + hashes;
            }
            _ => i += 1,
        }
    }
    out
}

/// The line ranges (1-based, inclusive) of `#[cfg(test)]` items: a block
/// item ends at the `}` of its own indentation, any other at its `;`.
fn test_items(src: &str) -> Vec<(usize, usize)> {
    let lines: Vec<&str> = src.lines().collect();
    let mut out = Vec::new();
    let mut n = 0;
    while n < lines.len() {
        if lines[n].trim() != "#[cfg(test)]" || n + 1 >= lines.len() {
            n += 1;
            continue;
        }
        let item = lines[n + 1];
        let indent = &item[..item.len() - item.trim_start().len()];
        let mut end = n + 1;
        if item.trim_end().ends_with('{') {
            let close = format!("{indent}}}");
            while end < lines.len() && lines[end].trim_end() != close {
                end += 1;
            }
        } else {
            while end < lines.len() && !lines[end].trim_end().ends_with(';') {
                end += 1;
            }
        }
        out.push((n + 1, end + 1));
        n = end + 1;
    }
    out
}

/// Files that only exist under `#[cfg(test)] mod name;`.
fn test_module_files(src: &Path, files: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(f).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for w in lines.windows(2) {
            let Some(name) = w[1]
                .trim()
                .strip_prefix("mod ")
                .and_then(|r| r.strip_suffix(';'))
            else {
                continue;
            };
            if w[0].trim() != "#[cfg(test)]" {
                continue;
            }
            let stem = f.file_stem().unwrap().to_string_lossy();
            let dir = if stem == "mod" || stem == "lib" || f.parent() == Some(src) && stem == "main"
            {
                f.parent().unwrap().to_path_buf()
            } else {
                f.with_extension("")
            };
            out.push(dir.join(format!("{name}.rs")));
            out.push(dir.join(name).join("mod.rs"));
        }
    }
    out
}

/// The error texts written outside the error modules, as "file:line: text".
fn stray_error_texts() -> Vec<String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let test_only = test_module_files(&src, &files);
    let mut wrong = Vec::new();
    for f in &files {
        let rel = f.strip_prefix(&src).unwrap();
        let rel_name = rel.to_string_lossy().replace('\\', "/");
        if ERROR_MODULES.contains(&rel_name.as_str()) || test_only.contains(f) {
            continue;
        }
        let text = std::fs::read_to_string(f).unwrap();
        let skipped = test_items(&text);
        for (line, lit) in literals(&text) {
            if skipped.iter().any(|&(a, b)| (a..=b).contains(&line)) {
                continue;
            }
            if is_error_text(&lit) {
                wrong.push(format!("{rel_name}:{line}: \"{lit}\""));
            }
        }
    }
    wrong
}

#[test]
fn error_texts_live_only_in_the_error_modules() {
    let wrong = stray_error_texts();
    assert!(
        wrong.is_empty(),
        "error texts outside {ERROR_MODULES:?} (add them there and use the constant):\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_scanner_sees_an_error_literal() {
    let code = r####"
// "ERR in a comment"
/// "ERR in a doc comment"
fn f<'a>(x: &'a str) -> char {
    let q = '"';
    let e = Reply::error("ERR bad thing");
    let b = b"-WRONGTYPE Operation";
    let r = r#"NOSCRIPT raw"#;
    let ok = ("ERR", "ERRAND boy", "GET key");
    '\''
}
#[cfg(test)]
mod tests {
    const T: &str = "ERR only in a test";
}
"####;
    let found: Vec<(usize, String)> = literals(code)
        .into_iter()
        .filter(|(l, t)| {
            is_error_text(t) && !test_items(code).iter().any(|&(a, b)| (a..=b).contains(l))
        })
        .collect();
    assert_eq!(
        found,
        vec![
            (6, "ERR bad thing".to_string()),
            (7, "-WRONGTYPE Operation".to_string()),
            (8, "NOSCRIPT raw".to_string()),
        ]
    );
}
