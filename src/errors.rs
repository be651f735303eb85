//! The error texts the layers below `command` answer, exactly as Redis 7.0
//! writes them: protocol errors (`resp`), CONFIG SET's and CONFIG REWRITE's
//! (`config`), PFSELFTEST's (`keyspace::hll`) and a shard that cannot be
//! reached (`runtime`).
//!
//! It sits at the bottom of the layers and depends on nothing, so every
//! layer may use it; `command::errors` re-exports it, and together the two
//! files hold every error reply text of `src/` (`tests/error_texts.rs`
//! fails on one written anywhere else). Texts are constants; a text with a
//! parameter is a function returning the whole text, code included, as a
//! `String` (these layers answer with `String`s or build the `Reply`
//! themselves).

/// The arity error of command `name` (`get`, `config|set`).
pub fn arity_text(name: &str) -> String {
    format!("ERR wrong number of arguments for '{name}' command")
}

/// A malformed request (`reason` as Redis words it); the connection is
/// closed after this reply.
pub fn protocol(reason: &str) -> String {
    format!("ERR Protocol error: {reason}")
}

/// A command whose owning shard went away (the executor is shutting down).
pub const SHARD_UNAVAILABLE: &str = "ERR shard unavailable";

// CONFIG SET and CONFIG REWRITE (Redis 7.0's config.c).
pub const NO_CONFIG_FILE: &str = "ERR The server is running without a config file";

/// CONFIG SET's reasons of its own; a setting's complaint about its value
/// comes from its row of the settings table.
pub const CONFIG_IMMUTABLE: &str = "can't set immutable config";
pub const CONFIG_PROTECTED: &str = "can't set protected config";
pub const CONFIG_DUPLICATE: &str = "duplicate parameter";

/// CONFIG SET refusing setting `name` (as the client typed it) for `why`.
pub fn config_set_failed(name: &str, why: &str) -> String {
    format!("ERR CONFIG SET failed (possibly related to argument '{name}') - {why}")
}

pub fn config_set_unknown(name: &str) -> String {
    format!("ERR Unknown option or number of arguments for CONFIG SET - '{name}'")
}

pub fn config_rewrite_failed(e: impl std::fmt::Display) -> String {
    format!("ERR Rewriting config file: {e}")
}

// PFSELFTEST (hyperloglog.c; Redis answers these with their own code).
pub const SELFTEST_CORRUPTED: &str = "TESTFAILED corrupted sketch";
pub const SELFTEST_NOT_SPARSE: &str = "TESTFAILED sparse encoding not used";
pub const SELFTEST_DISAGREE: &str = "TESTFAILED dense/sparse disagree";

pub fn selftest_register(i: usize, want: u8, got: u8) -> String {
    format!("TESTFAILED Register {i} should be {want} but is {got}")
}

pub fn selftest_error(card: u64, abserr: u64) -> String {
    format!("TESTFAILED Too big error. card:{card} abserr:{abserr}")
}
