//! Settings: the typed `Config` every other module reads, and the one table
//! (`table::SETTINGS`) that drives the config file, the command line, `--help`,
//! CONFIG GET / SET / REWRITE and the example `config/lanner.example.conf`.
//!
//! Where it sits: `main` builds a `Config` once at start-up (`from_args`), hands
//! copies to every core, and the CONFIG command calls `get`, `set` and `rewrite`
//! on the connection's core; propagating a changed value to the other cores is
//! the server's job, not this module's.
//!
//! Invariants: a `Config` only ever holds values its row accepted (every write
//! goes through the table); `set` is all-or-nothing; values print exactly as
//! Redis 7.0 prints them (memory in bytes, yes/no, `save` as "900 1 300 10").
//! Error texts of CONFIG SET are Redis's, start-up errors are one line naming
//! the file and line or the flag.
//!
//! Limits: `include` is supported without wildcards; settings lanner does not
//! have are errors, not warnings, so a typo never goes unnoticed. `dir` is
//! stored and reported as written (Redis reports the absolute working
//! directory because it chdirs into it).
//!
//! Layout: `syntax` (quoting, numbers, memory units), `table` (the rows),
//! `file` (file parsing, CONFIG REWRITE, the example file), this file (the API).

mod file;
mod syntax;
mod table;

use std::fmt;
use std::path::{Path, PathBuf};

use crate::errors;

pub use file::example_file;
pub use syntax::parse_memory;

use table::{lookup, Change, Setting, SETTINGS};

/// Why the configuration could not be loaded. `Display` is one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// The config file (or an included one) could not be read.
    Read { path: PathBuf, reason: String },
    /// A line of a config file is wrong; `reason` names the directive.
    File {
        path: PathBuf,
        line: usize,
        reason: String,
    },
    /// A `--directive` on the command line is wrong (`option` without dashes).
    Arg { option: String, reason: String },
    /// The command line is not of the form `lanner [config-file] [--directive value ...]`.
    Usage(String),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Read { path, reason } => {
                write!(f, "cannot read config file {}: {reason}", path.display())
            }
            ConfigError::File { path, line, reason } => {
                write!(f, "config file {} line {line}: {reason}", path.display())
            }
            ConfigError::Arg { option, reason } => write!(f, "--{option}: {reason}"),
            ConfigError::Usage(msg) => write!(f, "{msg} (see lanner --help)"),
        }
    }
}

impl std::error::Error for ConfigError {}

/// Every setting, typed. Names follow the Redis directives (`-` becomes `_`);
/// each field's meaning, default and limits are documented once, in the table
/// (`lanner --help`, `config/lanner.example.conf`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub bind: Vec<String>,
    pub port: u16,
    pub protected_mode: bool,
    pub tcp_keepalive: u64,
    pub timeout: u64,
    /// `None` = no password (the file or CONFIG SET gave "").
    pub requirepass: Option<String>,
    pub maxclients: u64,
    /// 0 = one shard per usable CPU.
    pub shards: usize,
    pub io_memory: u64,
    /// Always false: lanner never daemonizes.
    pub daemonize: bool,
    pub databases: usize,
    pub hz: u64,
    /// One of debug, verbose, notice, warning.
    pub loglevel: String,
    /// "" = stdout.
    pub logfile: String,
    pub maxmemory: u64,
    /// One of Redis's 8 policy names, lower case.
    pub maxmemory_policy: String,
    pub maxmemory_samples: u64,
    pub maxmemory_eviction_tenacity: u64,
    pub lfu_log_factor: u64,
    pub lfu_decay_time: u64,
    /// Bytes all clients' buffers may take before the biggest are
    /// disconnected; 0 = no limit.
    pub maxmemory_clients: u64,
    pub lazyfree_lazy_eviction: bool,
    pub lazyfree_lazy_expire: bool,
    pub lazyfree_lazy_server_del: bool,
    pub lazyfree_lazy_user_del: bool,
    pub lazyfree_lazy_user_flush: bool,
    pub proto_max_bulk_len: u64,
    pub client_query_buffer_limit: u64,
    /// Milliseconds.
    pub busy_reply_threshold: u64,
    pub dir: String,
    pub dbfilename: String,
    /// Canonical "seconds changes ..." pairs, "" for none; see `save_points`.
    pub save: String,
    pub appendonly: bool,
    pub list_max_listpack_size: i64,
    pub list_compress_depth: i64,
    pub hash_max_listpack_entries: u64,
    pub hash_max_listpack_value: u64,
    pub set_max_intset_entries: u64,
    pub set_max_listpack_entries: u64,
    pub set_max_listpack_value: u64,
    pub zset_max_listpack_entries: u64,
    pub zset_max_listpack_value: u64,
    pub hll_sparse_max_bytes: u64,
    pub stream_node_max_bytes: u64,
    pub stream_node_max_entries: u64,
    /// Microseconds; -1 disables the slow log.
    pub slowlog_log_slower_than: i64,
    pub slowlog_max_len: u64,
    /// Milliseconds; 0 = off.
    pub latency_monitor_threshold: u64,
    pub latency_tracking: bool,
    pub tracking_table_max_keys: u64,
    /// Canonical Redis class letters ("" = off), as CONFIG GET prints them.
    pub notify_keyspace_events: String,
    /// [hard, soft, seconds] for the normal, replica and pubsub classes.
    pub client_output_buffer_limit: [[u64; 3]; 3],
    /// HTTP GET /metrics on the client port.
    pub metrics_on_client_port: bool,
    /// 0 = no separate metrics endpoint.
    pub metrics_port: u16,
    pub metrics_bind: String,
    config_file: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            bind: vec!["127.0.0.1".into(), "-::1".into()],
            port: 6379,
            protected_mode: true,
            tcp_keepalive: 300,
            timeout: 0,
            requirepass: None,
            maxclients: 10000,
            shards: 0,
            io_memory: 512 * 1024,
            daemonize: false,
            databases: 16,
            hz: 10,
            loglevel: "notice".into(),
            logfile: String::new(),
            maxmemory: 0,
            maxmemory_policy: "noeviction".into(),
            maxmemory_samples: 5,
            maxmemory_eviction_tenacity: 10,
            lfu_log_factor: 10,
            lfu_decay_time: 1,
            maxmemory_clients: 0,
            lazyfree_lazy_eviction: false,
            lazyfree_lazy_expire: false,
            lazyfree_lazy_server_del: false,
            lazyfree_lazy_user_del: false,
            lazyfree_lazy_user_flush: false,
            proto_max_bulk_len: 512 * 1024 * 1024,
            client_query_buffer_limit: 1024 * 1024 * 1024,
            busy_reply_threshold: 5000,
            dir: "./".into(),
            dbfilename: "dump.rdb".into(),
            save: "3600 1 300 100 60 10000".into(),
            appendonly: false,
            list_max_listpack_size: -2,
            list_compress_depth: 0,
            hash_max_listpack_entries: 128,
            hash_max_listpack_value: 64,
            set_max_intset_entries: 512,
            set_max_listpack_entries: 128,
            set_max_listpack_value: 64,
            zset_max_listpack_entries: 128,
            zset_max_listpack_value: 64,
            hll_sparse_max_bytes: 3000,
            stream_node_max_bytes: 4096,
            stream_node_max_entries: 100,
            slowlog_log_slower_than: 10000,
            slowlog_max_len: 128,
            latency_monitor_threshold: 0,
            latency_tracking: true,
            tracking_table_max_keys: 1_000_000,
            notify_keyspace_events: String::new(),
            client_output_buffer_limit: [
                [0, 0, 0],
                [268435456, 67108864, 60],
                [33554432, 8388608, 60],
            ],
            metrics_on_client_port: true,
            metrics_port: 0,
            metrics_bind: "127.0.0.1".into(),
            config_file: None,
        }
    }
}

impl Config {
    /// Builds the configuration from the command line (without the program
    /// name): `[config-file] [--directive value ...]`. Prints the help or the
    /// version and returns `Ok(None)` for `--help`/`-h` and `--version`/`-v`.
    pub fn from_args(args: &[String]) -> Result<Option<Config>, ConfigError> {
        if args.iter().any(|a| a == "--help" || a == "-h") {
            print!("{}", help_text());
            return Ok(None);
        }
        if args.iter().any(|a| a == "--version" || a == "-v") {
            println!("lanner {}", env!("CARGO_PKG_VERSION"));
            return Ok(None);
        }
        let (path, overrides) = split_command_line(args)?;
        Config::from_file_and_overrides(path.as_deref(), &overrides).map(Some)
    }

    /// Defaults, then the file (if any), then each override in order; later
    /// values win. An override's name may be written with or without `--`;
    /// a multi-valued setting given one value splits it on whitespace, so
    /// `--save "900 1 300 10"` and `--save 900 1 300 10` are the same.
    pub fn from_file_and_overrides(
        path: Option<&Path>,
        overrides: &[(String, Vec<String>)],
    ) -> Result<Config, ConfigError> {
        let mut config = Config::default();
        if let Some(path) = path {
            file::load(&mut config, path)?;
            config.config_file = Some(std::path::absolute(path).unwrap_or(path.to_path_buf()));
        }
        for (name, values) in overrides {
            let option = name.trim_start_matches("--").to_string();
            let Some(setting) = lookup(&option) else {
                return Err(ConfigError::Arg {
                    reason: format!("unknown directive '{option}'"),
                    option,
                });
            };
            let values = override_values(setting, values);
            setting
                .apply(&mut config, &values)
                .map_err(|e| ConfigError::Arg {
                    reason: e.describe(setting, &values),
                    option,
                })?;
        }
        Ok(config)
    }

    /// CONFIG GET: each `(name, value)` whose name or alias matches one of the
    /// glob `patterns` (case-insensitive), in table order, each name once. An
    /// alias is reported under the alias name, as Redis does.
    pub fn get(&self, patterns: &[&[u8]]) -> Vec<(String, String)> {
        let matches = |name: &str| {
            patterns
                .iter()
                .any(|p| crate::glob::glob_match(p, name.as_bytes(), true))
        };
        let mut out = Vec::new();
        for setting in SETTINGS {
            for name in std::iter::once(setting.name).chain(setting.alias) {
                if matches(name) {
                    out.push((name.to_string(), setting.show(self)));
                }
            }
        }
        out
    }

    /// CONFIG SET name value [name value ...], all or nothing, with Redis 7.0's
    /// error texts (the `Err` string is the whole error reply, its code included).
    pub fn set(&mut self, pairs: &[(&[u8], &[u8])]) -> Result<(), String> {
        if pairs.is_empty() {
            return Err(errors::arity_text("config|set"));
        }
        let failed = errors::config_set_failed;
        let mut chosen: Vec<(&Setting, String, String)> = Vec::with_capacity(pairs.len());
        for (raw_name, raw_value) in pairs {
            let name = String::from_utf8_lossy(raw_name).into_owned();
            let Some(setting) = lookup(&name) else {
                return Err(errors::config_set_unknown(&name));
            };
            match setting.change {
                Change::Immutable => return Err(failed(&name, errors::CONFIG_IMMUTABLE)),
                Change::Protected => return Err(failed(&name, errors::CONFIG_PROTECTED)),
                Change::Runtime => {}
            }
            if chosen.iter().any(|(s, _, _)| std::ptr::eq(*s, setting)) {
                return Err(failed(&name, errors::CONFIG_DUPLICATE));
            }
            let value = String::from_utf8_lossy(raw_value).into_owned();
            chosen.push((setting, name.to_ascii_lowercase(), value));
        }
        let mut next = self.clone();
        for (setting, name, value) in &chosen {
            // Redis splits multi-valued settings on single spaces; "" is no value.
            let args: Vec<String> = if !setting.multi() {
                vec![value.clone()]
            } else if value.is_empty() {
                vec![String::new()]
            } else {
                value.split(' ').map(str::to_string).collect()
            };
            setting
                .apply(&mut next, &args)
                .map_err(|e| failed(name, &e.redis()))?;
        }
        *self = next;
        Ok(())
    }

    /// CONFIG REWRITE: rewrites the file this configuration was loaded from,
    /// keeping its comments and layout (see `file::rewrite` for the rules).
    pub fn rewrite(&self) -> Result<(), String> {
        let Some(path) = &self.config_file else {
            return Err(errors::NO_CONFIG_FILE.into());
        };
        file::rewrite(self, path).map_err(errors::config_rewrite_failed)
    }

    /// The absolute path of the file the configuration was loaded from.
    pub fn config_file(&self) -> Option<&Path> {
        self.config_file.as_deref()
    }

    /// The `save` schedule as (seconds, changes) pairs; empty = no snapshots.
    pub fn save_points(&self) -> Vec<(u64, u64)> {
        let nums: Vec<u64> = self
            .save
            .split_ascii_whitespace()
            .filter_map(|n| n.parse().ok())
            .collect();
        nums.chunks_exact(2).map(|p| (p[0], p[1])).collect()
    }
}

/// For a multi-valued setting, one override value holding spaces is a list
/// (`--bind "127.0.0.1 ::1"`); no value at all means "" (`--save` alone).
fn override_values(setting: &Setting, values: &[String]) -> Vec<String> {
    if !setting.multi() {
        return values.to_vec();
    }
    match values {
        [] => vec![String::new()],
        [one] if !one.trim().is_empty() => {
            one.split_ascii_whitespace().map(str::to_string).collect()
        }
        _ => values.to_vec(),
    }
}

/// `(directive, values)` pairs from the command line, in order.
type Overrides = Vec<(String, Vec<String>)>;

/// Splits `[config-file] [--directive value ...]`: every `--name` takes the
/// arguments up to the next `--name`, so values may start with `-` (`-::1`, `-2`).
fn split_command_line(args: &[String]) -> Result<(Option<PathBuf>, Overrides), ConfigError> {
    let mut rest = args;
    let mut path = None;
    if let Some(first) = rest.first().filter(|a| !a.starts_with("--")) {
        path = Some(PathBuf::from(first));
        rest = &rest[1..];
    }
    let mut overrides: Overrides = Vec::new();
    for arg in rest {
        if let Some(name) = arg.strip_prefix("--") {
            if name.is_empty() {
                return Err(ConfigError::Usage("empty option '--'".into()));
            }
            overrides.push((name.to_string(), Vec::new()));
        } else if let Some((_, values)) = overrides.last_mut() {
            values.push(arg.clone());
        } else {
            return Err(ConfigError::Usage(format!(
                "unexpected argument '{arg}': only the first argument may be a config file, \
                 settings are given as --directive value"
            )));
        }
    }
    Ok((path, overrides))
}

/// The `--help` text: usage, then every directive with its default and the
/// first sentence of its doc (rendered by clap).
pub(crate) fn help_text() -> String {
    use clap::{Arg, ArgAction, Command};
    let mut cmd = Command::new("lanner")
        .version(env!("CARGO_PKG_VERSION"))
        .about("A Redis-compatible cache server, thread-per-core and shared-nothing")
        .override_usage("lanner [config-file] [--directive value ...]")
        .disable_help_flag(true)
        .disable_version_flag(true)
        .after_help(
            "Settings come from the defaults, then the config file (redis.conf syntax, see \
             config/lanner.example.conf), then the command line; later values win. Multi-word values: \
             --save \"900 1 300 10\" or --bind 127.0.0.1 -::1.\n\
             Examples: lanner /etc/lanner.conf --port 7000 --maxmemory 2gb",
        )
        .arg(
            Arg::new("config-file")
                .value_name("config-file")
                .help("Optional config file in redis.conf syntax"),
        )
        .arg(
            Arg::new("help")
                .short('h')
                .long("help")
                .action(ArgAction::SetTrue)
                .help("Print this help and exit"),
        )
        .arg(
            Arg::new("version")
                .short('v')
                .long("version")
                .action(ArgAction::SetTrue)
                .help("Print the version and exit"),
        );
    for setting in SETTINGS {
        let mut help = format!(
            "{} [default: {}]",
            setting.summary(),
            setting.default_for_humans()
        );
        if let Some(alias) = setting.alias {
            help.push_str(&format!(" [alias: --{alias}]"));
        }
        cmd = cmd.arg(
            Arg::new(setting.name)
                .long(setting.name)
                .value_name(if setting.multi() { "VALUE..." } else { "VALUE" })
                .help(help),
        );
    }
    cmd.render_help().to_string()
}

#[cfg(test)]
mod tests;
