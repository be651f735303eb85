//! Differential tests: the same command scripts go to Debian's `redis-server`
//! and to lanner, and every reply must match byte for byte.
//!
//! Scripts are `tests/diff/*.txt`, run in name order. Each one runs on a fresh
//! connection pair after FLUSHALL on both servers, once per lanner shard count
//! (one lanner per count, one redis-server for all). Every script runs even if
//! an earlier one fails; the test fails at the end listing every mismatch with
//! script, line, command and both replies.
//!
//! Script format, one item per line:
//!
//! ```text
//! # a comment; blank lines are ignored
//! SET key "with spaces\r\n\x00"   a command, quoted like redis-cli:
//!                                 "..." knows \n \r \t \b \a \\ \" \xHH,
//!                                 '...' knows only \'
//! !type RANDOMKEY                 compare only the reply's type byte, for
//!                                 replies that differ between two servers
//! !sleep 150                      sleep 150 ms (key expiry)
//! !resp3                          send HELLO 3 to both (reply compared by type)
//! !resp2                          send HELLO 2 to both (reply compared by type)
//! ```
//!
//! Environment:
//! * `LANNER_DIFF_SELFTEST=1` compares redis-server with a second
//!   redis-server instead of lanner: a script that fails there depends on
//!   something that legitimately differs between servers and must use `!type`.
//! * `LANNER_DIFF_ONLY=<word>` runs only scripts whose file name contains it.
//! * `LANNER_DIFF_DUMP=1` prints every command with the reference reply.

mod common;

use common::{RawConn, RedisServer, Server, SHARD_COUNTS};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Mismatches reported per script run before the rest are only counted: after
/// the first divergence later lines often differ only as a consequence.
const MAX_REPORTED: usize = 20;

#[derive(Debug, PartialEq)]
enum Step {
    /// Compare the whole reply.
    Exact(Vec<Vec<u8>>),
    /// Compare only the reply's first (type) byte.
    TypeOnly(Vec<Vec<u8>>),
    Sleep(Duration),
}

struct Line {
    number: usize,
    text: String,
    step: Step,
}

/// The server under test: lanner, or a second redis-server in self-test mode.
enum Candidate {
    Lanner(Server),
    Redis(RedisServer),
}

impl Candidate {
    fn port(&self) -> u16 {
        match self {
            Candidate::Lanner(s) => s.port(),
            Candidate::Redis(s) => s.port(),
        }
    }
}

#[test]
fn scripts_match_redis() {
    let selftest = std::env::var_os("LANNER_DIFF_SELFTEST").is_some_and(|v| v != "0");
    let dump = std::env::var_os("LANNER_DIFF_DUMP").is_some_and(|v| v != "0");
    let only = std::env::var("LANNER_DIFF_ONLY").unwrap_or_default();

    let scripts = load_scripts(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/diff"),
        &only,
    );
    assert!(
        !scripts.is_empty(),
        "no scripts in tests/diff matching {only:?}"
    );

    let reference = common::start_redis();
    let candidates: Vec<(String, Candidate)> = SHARD_COUNTS
        .iter()
        .map(|&shards| {
            if selftest {
                (
                    format!("self-test {shards}"),
                    Candidate::Redis(common::start_redis()),
                )
            } else {
                let label = format!(
                    "lanner {shards} shard{}",
                    if shards == 1 { "" } else { "s" }
                );
                (label, Candidate::Lanner(Server::start(shards, &[])))
            }
        })
        .collect();

    let mut report = String::new();
    let mut failed_runs = 0;
    for (name, lines) in &scripts {
        for (label, candidate) in &candidates {
            let problems = run_script(name, lines, reference.port(), candidate.port(), dump);
            if !problems.is_empty() {
                failed_runs += 1;
                let _ = writeln!(report, "==== {name} against {label} ====\n{problems}");
            }
        }
    }
    assert!(
        failed_runs == 0,
        "{failed_runs} script run(s) differ from redis-server:\n\n{report}"
    );
}

/// Runs one script against fresh connections to both servers and returns the
/// formatted mismatches (empty if none).
fn run_script(name: &str, lines: &[Line], reference: u16, candidate: u16, dump: bool) -> String {
    let mut ours = RawConn::connect(reference);
    let mut theirs = RawConn::connect(candidate);
    let flushall = common::encode_request(&[b"FLUSHALL"]);
    ours.send(&flushall);
    let reply = ours.try_read_reply();
    assert!(
        matches!(&reply, Ok(r) if r == b"+OK\r\n"),
        "{name}: FLUSHALL on redis-server: {reply:?}"
    );
    theirs.send(&flushall);
    match theirs.try_read_reply() {
        Ok(r) if r == b"+OK\r\n" => {}
        Ok(r) => return format!("FLUSHALL before the script: \"{}\"\n", r.escape_ascii()),
        Err(e) => return format!("FLUSHALL before the script: {e}\n"),
    }

    let mut out = String::new();
    let mut mismatches = 0;
    for line in lines {
        let (args, type_only) = match &line.step {
            Step::Sleep(d) => {
                std::thread::sleep(*d);
                continue;
            }
            Step::Exact(args) => (args, false),
            Step::TypeOnly(args) => (args, true),
        };
        let args: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
        let request = common::encode_request(&args);
        ours.send(&request);
        let expected = ours.try_read_reply().unwrap_or_else(|e| {
            panic!("{name}:{} `{}`: redis-server: {e}", line.number, line.text)
        });
        if dump {
            let shown = expected.escape_ascii().to_string();
            let cut = shown
                .char_indices()
                .nth(300)
                .map_or(shown.len(), |(i, _)| i);
            eprintln!("{name}:{} {} -> {}", line.number, line.text, &shown[..cut]);
        }
        theirs.send(&request);
        let got = match theirs.try_read_reply() {
            Ok(got) => got,
            Err(e) => {
                let _ = writeln!(
                    out,
                    "{name}:{} {}\n  expected: \"{}\"\n  got:      {e}\n  (script run aborted)",
                    line.number,
                    line.text,
                    expected.escape_ascii()
                );
                return out;
            }
        };
        let same = if type_only {
            expected.first() == got.first()
        } else {
            expected == got
        };
        if !same {
            mismatches += 1;
            if mismatches <= MAX_REPORTED {
                let _ = writeln!(
                    out,
                    "{name}:{} {}{}\n  expected: \"{}\"\n  got:      \"{}\"",
                    line.number,
                    if type_only { "(type only) " } else { "" },
                    line.text,
                    expected.escape_ascii(),
                    got.escape_ascii()
                );
            }
        }
    }
    if mismatches > MAX_REPORTED {
        let _ = writeln!(out, "... and {} more", mismatches - MAX_REPORTED);
    }
    out
}

fn load_scripts(dir: &Path, only: &str) -> Vec<(String, Vec<Line>)> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&path).unwrap();
            let lines = parse_script(&text).unwrap_or_else(|e| panic!("{name}:{e}"));
            (name, lines)
        })
        .filter(|(name, _)| name.contains(only))
        .collect()
}

/// Parses a script; errors are `"<line>: <message>"`.
fn parse_script(text: &str) -> Result<Vec<Line>, String> {
    let mut lines = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let number = i + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let parse = |s: &str| -> Result<Vec<Vec<u8>>, String> {
            let args = split_args(s).map_err(|e| format!("{number}: {e}"))?;
            if args.is_empty() {
                return Err(format!("{number}: empty command"));
            }
            Ok(args)
        };
        let step = if let Some(rest) = trimmed.strip_prefix("!type ") {
            Step::TypeOnly(parse(rest)?)
        } else if let Some(ms) = trimmed.strip_prefix("!sleep ") {
            let ms = ms
                .trim()
                .parse()
                .map_err(|_| format!("{number}: bad sleep {ms:?}"))?;
            Step::Sleep(Duration::from_millis(ms))
        } else if trimmed == "!resp3" || trimmed == "!resp2" {
            let version = &trimmed[5..];
            Step::TypeOnly(vec![b"HELLO".to_vec(), version.as_bytes().to_vec()])
        } else if trimmed.starts_with('!') {
            return Err(format!("{number}: unknown directive {trimmed:?}"));
        } else {
            Step::Exact(parse(trimmed)?)
        };
        lines.push(Line {
            number,
            text: trimmed.to_string(),
            step,
        });
    }
    Ok(lines)
}

/// Splits a line into arguments the way redis-cli does (`sdssplitargs`).
fn split_args(line: &str) -> Result<Vec<Vec<u8>>, String> {
    let bytes = line.as_bytes();
    let mut args = Vec::new();
    let mut i = 0;
    loop {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if i == bytes.len() {
            return Ok(args);
        }
        let mut arg = Vec::new();
        match bytes[i] {
            b'"' => {
                i += 1;
                loop {
                    match bytes.get(i) {
                        None => return Err("unterminated \"".into()),
                        Some(b'"') => break,
                        Some(b'\\') => {
                            let hex = bytes.get(i + 2..i + 4).and_then(|h| {
                                u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()
                            });
                            match (bytes.get(i + 1), hex) {
                                (Some(b'x'), Some(h)) => {
                                    arg.push(h);
                                    i += 2;
                                }
                                (Some(&c), _) => arg.push(match c {
                                    b'n' => b'\n',
                                    b'r' => b'\r',
                                    b't' => b'\t',
                                    b'b' => 8,
                                    b'a' => 7,
                                    c => c,
                                }),
                                (None, _) => return Err("unterminated \"".into()),
                            }
                            i += 2;
                        }
                        Some(&c) => {
                            arg.push(c);
                            i += 1;
                        }
                    }
                }
                i += 1;
            }
            b'\'' => {
                i += 1;
                loop {
                    match bytes.get(i) {
                        None => return Err("unterminated '".into()),
                        Some(b'\'') => break,
                        Some(b'\\') if bytes.get(i + 1) == Some(&b'\'') => {
                            arg.push(b'\'');
                            i += 2;
                        }
                        Some(&c) => {
                            arg.push(c);
                            i += 1;
                        }
                    }
                }
                i += 1;
            }
            _ => {
                while i < bytes.len() && !bytes[i].is_ascii_whitespace() {
                    arg.push(bytes[i]);
                    i += 1;
                }
                args.push(arg);
                continue;
            }
        }
        // Like redis-cli: a closing quote must end the argument.
        if i < bytes.len() && !bytes[i].is_ascii_whitespace() {
            return Err("closing quote must be followed by a space".into());
        }
        args.push(arg);
    }
}

#[test]
fn split_args_follows_redis_cli_quoting() {
    let args = split_args(r#"SET "a b\x00\r\n\"" 'it\'s' plain"#).unwrap();
    assert_eq!(
        args,
        vec![
            b"SET".to_vec(),
            b"a b\x00\r\n\"".to_vec(),
            b"it's".to_vec(),
            b"plain".to_vec()
        ]
    );
    assert_eq!(split_args(r#""""#).unwrap(), vec![Vec::<u8>::new()]);
    assert!(split_args(r#""abc"def"#).is_err());
    assert!(split_args(r#""abc"#).is_err());
}

#[test]
fn script_directives_parse() {
    let lines = parse_script("# c\n\n!type TIME\n!sleep 5\n!resp3\nGET k\n").unwrap();
    let steps: Vec<&Step> = lines.iter().map(|l| &l.step).collect();
    assert_eq!(
        steps,
        vec![
            &Step::TypeOnly(vec![b"TIME".to_vec()]),
            &Step::Sleep(Duration::from_millis(5)),
            &Step::TypeOnly(vec![b"HELLO".to_vec(), b"3".to_vec()]),
            &Step::Exact(vec![b"GET".to_vec(), b"k".to_vec()]),
        ]
    );
    assert_eq!(lines[3].number, 6);
    assert!(parse_script("!bogus").is_err());
}

#[test]
fn frame_len_handles_nested_and_partial_replies() {
    let reply = b"*2\r\n$3\r\nfoo\r\n%1\r\n+a\r\n:1\r\n";
    assert_eq!(common::frame_len(reply), Ok(Some(reply.len())));
    for cut in 0..reply.len() {
        assert_eq!(common::frame_len(&reply[..cut]), Ok(None), "cut at {cut}");
    }
    assert_eq!(common::frame_len(b"$-1\r\n+OK\r\n"), Ok(Some(5)));
    assert_eq!(common::frame_len(b"|1\r\n+k\r\n+v\r\n:7\r\n"), Ok(Some(16)));
    assert_eq!(common::frame_len(b"$3\r\na\r\n\r\n"), Ok(Some(9)));
    assert!(common::frame_len(b"?x\r\n").is_err());
}
