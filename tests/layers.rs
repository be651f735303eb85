//! The layers of `src/lib.rs` hold: a module reaches only the layers below
//! it. Reads every source file's `crate::…` paths (outside comments) and
//! fails on one that reaches up, naming the file, the line and the rule.

use std::path::{Path, PathBuf};

/// Top-level modules, bottom layer first, and what each may use besides
/// itself.
const RULES: &[(&str, &[&str])] = &[
    ("errors", &[]),
    ("resp", &["errors"]),
    ("glob", &[]),
    ("config", &["glob", "errors"]),
    ("log", &[]),
    ("alloc", &[]),
    ("keyspace", &["resp", "glob", "alloc", "errors"]),
    ("runtime", &["keyspace", "resp", "glob", "alloc", "errors"]),
    ("pubsub", &["resp", "glob", "log", "keyspace", "errors"]),
];

/// Modules of the command layer: anything below, never the server.
const COMMAND_LAYER: &[&str] = &[
    "command", "script", "services", "stats", "observe", "clients", "pubsub",
];
const ABOVE_COMMANDS: &[&str] = &["server", "metrics"];

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

/// The top-level module a file of `src/` belongs to.
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

/// Every `crate::<module>` a line of code names, with its line number.
fn crate_paths(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(i) = rest.find("crate::") {
            let after = &rest[i + 7..];
            let name: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            // `crate::{a, b}` groups and constants at the root are fine.
            if !name.is_empty() && name.chars().next().unwrap().is_ascii_lowercase() {
                out.push((n + 1, name));
            }
            rest = after;
        }
    }
    out
}

/// What a file of `module` may not name, if anything.
fn violation(module: &str, used: &str) -> Option<String> {
    if used == module {
        return None;
    }
    if let Some((_, allowed)) = RULES.iter().find(|(m, _)| *m == module) {
        if !allowed.contains(&used) {
            return Some(format!("`{module}` may use only {allowed:?}"));
        }
        return None;
    }
    if COMMAND_LAYER.contains(&module) && ABOVE_COMMANDS.contains(&used) {
        return Some(format!("`{module}` is below {ABOVE_COMMANDS:?}"));
    }
    None
}

#[test]
fn no_module_reaches_a_higher_layer() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut wrong = Vec::new();
    for f in &files {
        let module = module_of(&src, f);
        let text = std::fs::read_to_string(f).unwrap();
        // Unit tests below a module's `#[cfg(test)]` may reach anywhere.
        let code = text
            .split("#[cfg(test)]\nmod tests")
            .next()
            .unwrap_or(&text);
        for (line, used) in crate_paths(code) {
            if let Some(rule) = violation(&module, &used) {
                wrong.push(format!(
                    "{}:{line}: uses crate::{used}: {rule}",
                    f.strip_prefix(&src).unwrap().display()
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "layer violations:\n{}", wrong.join("\n"));
}

#[test]
fn the_checker_sees_an_upward_path() {
    let paths = crate_paths("use crate::keyspace::store::Store; // crate::server\n");
    assert_eq!(paths, vec![(1, "keyspace".to_string())]);
    assert!(violation("keyspace", "runtime").is_some());
    assert!(violation("runtime", "command").is_some());
    assert!(violation("resp", "keyspace").is_some());
    assert!(violation("command", "server").is_some());
    assert!(violation("runtime", "keyspace").is_none());
    assert!(violation("server", "command").is_none());
}
