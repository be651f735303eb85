//! Script and function flags (`#!lua flags=no-writes,…` and
//! `redis.register_function{flags={…}}`) and the shebang line that carries
//! them. Pure parsing, shared by EVAL, SCRIPT LOAD and FUNCTION LOAD.

use crate::command::errors;

/// A set of flags; `None` for an EVAL script without a shebang (Redis's
/// "compatibility mode": writes allowed, checked per command).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Flags(pub u8);

impl Flags {
    pub const NO_WRITES: u8 = 1 << 0;
    pub const ALLOW_OOM: u8 = 1 << 1;
    pub const ALLOW_STALE: u8 = 1 << 2;
    pub const NO_CLUSTER: u8 = 1 << 3;
    pub const ALLOW_CROSS_SLOT: u8 = 1 << 4;

    /// Names in Redis's order (`scripts_flags_def`).
    pub const NAMES: &'static [(u8, &'static str)] = &[
        (Self::NO_WRITES, "no-writes"),
        (Self::ALLOW_OOM, "allow-oom"),
        (Self::ALLOW_STALE, "allow-stale"),
        (Self::NO_CLUSTER, "no-cluster"),
        (Self::ALLOW_CROSS_SLOT, "allow-cross-slot-keys"),
    ];

    pub fn by_name(name: &[u8]) -> Option<u8> {
        Self::NAMES
            .iter()
            .find(|(_, n)| n.as_bytes() == name)
            .map(|(f, _)| *f)
    }

    pub fn has(self, f: u8) -> bool {
        self.0 & f != 0
    }

    pub fn names(self) -> impl Iterator<Item = &'static str> {
        Self::NAMES
            .iter()
            .filter(move |(f, _)| self.has(*f))
            .map(|(_, n)| *n)
    }
}

/// Splits a shebang line into words as Redis's `sdssplitargs` does for
/// unquoted text: runs of non-blank bytes.
fn words(line: &[u8]) -> Vec<&[u8]> {
    line.split(|b| b.is_ascii_whitespace())
        .filter(|w| !w.is_empty())
        .collect()
}

/// The flags of an EVAL script body: Ok(None) without a shebang, else the
/// flags after `#!lua`, or Redis's error text.
pub fn eval_flags(body: &[u8]) -> Result<Option<Flags>, String> {
    if !body.starts_with(b"#!") {
        return Ok(None);
    }
    let Some(end) = body.iter().position(|&b| b == b'\n') else {
        return Err(errors::SHEBANG_INVALID.into());
    };
    let parts = words(&body[..end]);
    let Some(engine) = parts.first() else {
        return Err(errors::SHEBANG_ENGINE_INVALID.into());
    };
    if *engine != b"#!lua" {
        return Err(errors::shebang_engine(engine));
    }
    let mut flags = Flags::default();
    for part in &parts[1..] {
        let Some(list) = part.strip_prefix(b"flags=") else {
            return Err(errors::shebang_option(part));
        };
        if list.is_empty() {
            continue;
        }
        for name in list.split(|&b| b == b',') {
            match Flags::by_name(name) {
                Some(f) => flags.0 |= f,
                None => return Err(errors::shebang_flag(name)),
            }
        }
    }
    Ok(Some(flags))
}

/// The library name of a FUNCTION LOAD body (`#!<engine> name=<lib>`).
pub fn library_meta(code: &[u8]) -> Result<(String, String), String> {
    if !code.starts_with(b"#!") {
        return Err(errors::LIBRARY_META_MISSING.into());
    }
    let Some(end) = code.iter().position(|&b| b == b'\n') else {
        return Err(errors::LIBRARY_META_INVALID.into());
    };
    let parts = words(&code[..end]);
    let Some(engine) = parts.first() else {
        return Err(errors::LIBRARY_META_INVALID.into());
    };
    let engine = String::from_utf8_lossy(&engine[2..]).into_owned();
    let mut name = None;
    for part in &parts[1..] {
        if part.len() >= 5 && part[..5].eq_ignore_ascii_case(b"name=") {
            if name.is_some() {
                return Err(errors::LIBRARY_META_NAME_TWICE.into());
            }
            name = Some(String::from_utf8_lossy(&part[5..]).into_owned());
            continue;
        }
        return Err(errors::library_meta_value(part));
    }
    let Some(name) = name else {
        return Err(errors::LIBRARY_NAME_NOT_GIVEN.into());
    };
    Ok((engine, name))
}

/// Library and function names: letters, digits and underscores, at least one.
pub fn valid_name(name: &[u8]) -> bool {
    !name.is_empty() && name.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_')
}

/// The body Lua compiles: a shebang line becomes a comment, so line numbers
/// in errors stay those of the text the client sent.
pub fn lua_source(body: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    if body.starts_with(b"#!") {
        let mut v = body.to_vec();
        v[..2].copy_from_slice(b"--");
        std::borrow::Cow::Owned(v)
    } else {
        std::borrow::Cow::Borrowed(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eval_shebangs_parse_like_redis() {
        assert_eq!(eval_flags(b"return 1"), Ok(None));
        assert_eq!(eval_flags(b"#!lua\nreturn 1"), Ok(Some(Flags(0))));
        assert_eq!(eval_flags(b"#!lua flags=\nreturn 1"), Ok(Some(Flags(0))));
        assert_eq!(
            eval_flags(b"#!lua flags=no-writes,allow-oom\nreturn 1"),
            Ok(Some(Flags(Flags::NO_WRITES | Flags::ALLOW_OOM)))
        );
        assert_eq!(
            eval_flags(b"#!lua flags=bogus\n"),
            Err("ERR Unexpected flag in script shebang: bogus".into())
        );
        assert_eq!(
            eval_flags(b"#!lua name=x\n"),
            Err("ERR Unknown lua shebang option: name=x".into())
        );
        assert_eq!(
            eval_flags(b"#!luax\n"),
            Err("ERR Unexpected engine in script shebang: #!luax".into())
        );
    }

    #[test]
    fn library_metadata_parses_like_redis() {
        assert_eq!(
            library_meta(b"#!lua name=mylib\ncode"),
            Ok(("lua".into(), "mylib".into()))
        );
        assert_eq!(
            library_meta(b"return 1"),
            Err("ERR Missing library metadata".into())
        );
        assert_eq!(
            library_meta(b"#!lua\n"),
            Err("ERR Library name was not given".into())
        );
        assert_eq!(
            library_meta(b"#!lua name=z foo=bar\n"),
            Err("ERR Invalid metadata value given: foo=bar".into())
        );
        assert!(valid_name(b"a_1") && !valid_name(b"a b") && !valid_name(b""));
    }
}
