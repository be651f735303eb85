//! THE settings table: one row per directive, driving the config file parser,
//! the `--directive` flags and `--help`, CONFIG GET/SET/REWRITE and the example
//! `config/lanner.example.conf`.
//!
//! A row holds the Redis-style name, an optional legacy alias, the kind (which
//! carries the typed field accessors, so a row cannot read one field and write
//! another), the default exactly as CONFIG GET prints it, whether CONFIG SET may
//! change it, and one paragraph of documentation whose first sentence is the
//! `--help` line. To add a setting: add a field to `Config`, its default to
//! `Config::default`, and a row here; the tests check that the row's default
//! and `Config::default` agree and that the example file is regenerated.

use super::syntax::{format_memory, parse_int, parse_memory};
use super::Config;

/// Whether CONFIG SET may change a setting (Redis's MODIFIABLE / IMMUTABLE /
/// PROTECTED flags; lanner has no `enable-protected-configs`, so protected
/// settings behave as Redis 7.0 does by default: refused).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Change {
    Runtime,
    Immutable,
    Protected,
}

type Check<T> = Option<fn(&T) -> Result<(), Invalid>>;

/// The kind of a setting: how its arguments parse, print and rewrite.
pub(crate) enum Kind {
    Bool {
        get: fn(&Config) -> bool,
        set: fn(&mut Config, bool),
        check: Check<bool>,
    },
    /// An integer (`memory: false`, Redis `string2ll`) or a byte count
    /// (`memory: true`, Redis `memtoull` units), inclusive bounds.
    Num {
        min: i128,
        max: i128,
        memory: bool,
        get: fn(&Config) -> i128,
        set: fn(&mut Config, i128),
    },
    Enum {
        values: &'static [&'static str],
        get: fn(&Config) -> &str,
        set: fn(&mut Config, String),
    },
    Str {
        get: fn(&Config) -> &str,
        set: fn(&mut Config, String),
        check: Check<str>,
    },
    /// Anything else; `multi` settings take several arguments on a file line
    /// and a space-separated list in CONFIG SET.
    Special(&'static Special),
}

pub(crate) struct Special {
    pub multi: bool,
    /// Validates and stores the arguments.
    pub set: fn(&mut Config, &[String]) -> Result<(), Invalid>,
    /// The CONFIG GET form.
    pub show: fn(&Config) -> String,
    /// The arguments of each line CONFIG REWRITE writes (`None`: no line at all).
    pub rewrite: fn(&Config) -> Option<Vec<String>>,
    /// What a valid value looks like, for start-up error messages.
    pub expect: &'static str,
}

pub(crate) struct Setting {
    pub name: &'static str,
    pub alias: Option<&'static str>,
    pub section: &'static str,
    pub kind: Kind,
    /// The default exactly as CONFIG GET prints it.
    pub default: &'static str,
    pub change: Change,
    pub doc: &'static str,
}

/// Why a value was refused. `redis()` is the Redis 7.0 text CONFIG SET sends;
/// `Display` (via `describe`) is the start-up message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Invalid {
    ArgCount(usize),
    NotInteger,
    NotMemory,
    Range(i128, i128),
    NotBool,
    NotEnum(&'static [&'static str]),
    /// A setting-specific message, identical in both forms.
    Other(String),
}

impl Invalid {
    pub fn redis(&self) -> String {
        match self {
            Invalid::ArgCount(_) => "wrong number of arguments".into(),
            Invalid::NotInteger => "argument couldn't be parsed into an integer".into(),
            Invalid::NotMemory => "argument must be a memory value".into(),
            Invalid::Range(lo, hi) => format!("argument must be between {lo} and {hi} inclusive"),
            Invalid::NotBool => "argument must be 'yes' or 'no'".into(),
            Invalid::NotEnum(values) => {
                format!(
                    "argument must be one of the following: {}",
                    values.join(", ")
                )
            }
            Invalid::Other(msg) => msg.clone(),
        }
    }

    /// The one-line start-up message: "invalid value 'x' (expected ...)".
    pub fn describe(&self, setting: &Setting, args: &[String]) -> String {
        match self {
            Invalid::ArgCount(n) => format!("expected exactly one value, got {n}"),
            Invalid::Other(msg) => format!("invalid value '{}' ({msg})", args.join(" ")),
            _ => format!(
                "invalid value '{}' (expected {})",
                args.join(" "),
                setting.expectation()
            ),
        }
    }
}

impl Setting {
    pub fn multi(&self) -> bool {
        matches!(self.kind, Kind::Special(s) if s.multi)
    }

    /// Does `name` (any case) name this setting, by its name or its alias?
    pub fn is_named(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
            || self.alias.is_some_and(|a| a.eq_ignore_ascii_case(name))
    }

    /// The value as CONFIG GET prints it.
    pub fn show(&self, c: &Config) -> String {
        match &self.kind {
            Kind::Bool { get, .. } => yes_no(get(c)).into(),
            Kind::Num { get, .. } => get(c).to_string(),
            Kind::Enum { get, .. } | Kind::Str { get, .. } => get(c).to_string(),
            Kind::Special(s) => (s.show)(c),
        }
    }

    /// Parses `args` and stores the value. Single-valued settings take exactly
    /// one argument.
    pub fn apply(&self, c: &mut Config, args: &[String]) -> Result<(), Invalid> {
        if !self.multi() && args.len() != 1 {
            return Err(Invalid::ArgCount(args.len()));
        }
        let arg = args.first().map(String::as_str).unwrap_or("");
        match &self.kind {
            Kind::Bool { set, check, .. } => {
                let v = match arg.to_ascii_lowercase().as_str() {
                    "yes" => true,
                    "no" => false,
                    _ => return Err(Invalid::NotBool),
                };
                if let Some(check) = check {
                    check(&v)?;
                }
                set(c, v);
            }
            Kind::Num {
                min,
                max,
                memory,
                set,
                ..
            } => {
                let v = match (memory, parse_memory(arg), parse_int(arg)) {
                    (true, Ok(v), _) => v as i128,
                    (true, Err(_), _) => return Err(Invalid::NotMemory),
                    (false, _, Some(v)) => v as i128,
                    (false, _, None) => return Err(Invalid::NotInteger),
                };
                if v < *min || v > *max {
                    return Err(Invalid::Range(*min, *max));
                }
                set(c, v);
            }
            Kind::Enum { values, set, .. } => {
                let Some(v) = values.iter().find(|v| v.eq_ignore_ascii_case(arg)) else {
                    return Err(Invalid::NotEnum(values));
                };
                set(c, v.to_string());
            }
            Kind::Str { set, check, .. } => {
                if let Some(check) = check {
                    check(arg)?;
                }
                set(c, arg.to_string());
            }
            Kind::Special(s) if s.multi && args.len() == 1 && !args[0].is_empty() => {
                // Redis splits a multi-valued setting given as one quoted
                // argument (`save "900 1 300 10"`) on spaces.
                let split: Vec<String> = args[0]
                    .split(' ')
                    .filter(|a| !a.is_empty())
                    .map(String::from)
                    .collect();
                (s.set)(c, &split)?
            }
            Kind::Special(s) => (s.set)(c, args)?,
        }
        Ok(())
    }

    /// The arguments of the lines CONFIG REWRITE writes, already quoted where
    /// needed; `None` means the directive must not appear in the file.
    pub fn rewrite_args(&self, c: &Config) -> Option<Vec<String>> {
        Some(vec![match &self.kind {
            Kind::Bool { get, .. } => yes_no(get(c)).into(),
            Kind::Num {
                get, memory: true, ..
            } if get(c) >= 0 => format_memory(get(c) as u128),
            Kind::Num { get, .. } => get(c).to_string(),
            Kind::Enum { get, .. } => get(c).to_string(),
            Kind::Str { get, .. } => super::syntax::repr(get(c)),
            Kind::Special(s) => return (s.rewrite)(c),
        }])
    }

    /// What a valid value looks like, for messages, `--help` and the example file.
    pub fn expectation(&self) -> String {
        match &self.kind {
            Kind::Bool { .. } => "yes or no".into(),
            Kind::Num {
                min,
                max,
                memory: false,
                ..
            } => {
                if *max >= i64::MAX as i128 {
                    format!("an integer of at least {min}")
                } else {
                    format!("an integer from {min} to {max}")
                }
            }
            Kind::Num {
                min,
                max,
                memory: true,
                ..
            } => {
                let unit = "a byte count, optionally with a unit (k kb m mb g gb)";
                if *max >= i64::MAX as i128 {
                    format!("{unit} of at least {}", format_memory(*min as u128))
                } else {
                    format!(
                        "{unit} from {} to {}",
                        format_memory(*min as u128),
                        format_memory(*max as u128)
                    )
                }
            }
            Kind::Enum { values, .. } => format!("one of: {}", values.join(", ")),
            Kind::Str { .. } => "a string".into(),
            Kind::Special(s) => s.expect.into(),
        }
    }

    /// The default as a config file would spell it (memory with units).
    pub fn default_for_humans(&self) -> String {
        match (&self.kind, self.default.parse::<u128>()) {
            (Kind::Num { memory: true, .. }, Ok(bytes)) => format_memory(bytes),
            (Kind::Str { .. }, _) if self.default.is_empty() => "\"\"".into(),
            (Kind::Special(_), _) if self.default.is_empty() => "\"\"".into(),
            _ => self.default.to_string(),
        }
    }

    /// First sentence of the doc: the `--help` line.
    pub fn summary(&self) -> &'static str {
        match self.doc.find(". ") {
            Some(end) => &self.doc[..=end],
            None => self.doc,
        }
    }
}

fn yes_no(v: bool) -> &'static str {
    if v {
        "yes"
    } else {
        "no"
    }
}

/// The row for `name` or its alias, any case.
pub(crate) fn lookup(name: &str) -> Option<&'static Setting> {
    SETTINGS.iter().find(|s| s.is_named(name))
}

// ---- special settings -------------------------------------------------------

/// Redis's CONFIG_BINDADDR_MAX.
const MAX_BIND_ADDRESSES: usize = 16;

static BIND: Special = Special {
    multi: true,
    set: |c, args| {
        if args.len() > MAX_BIND_ADDRESSES {
            return Err(Invalid::Other("Too many bind addresses specified.".into()));
        }
        // A single empty argument means "no address": all interfaces.
        c.bind = if args.len() == 1 && args[0].is_empty() {
            Vec::new()
        } else {
            args.to_vec()
        };
        Ok(())
    },
    show: |c| c.bind.join(" "),
    rewrite: |c| {
        Some(vec![if c.bind.is_empty() {
            "\"\"".into()
        } else {
            c.bind.join(" ")
        }])
    },
    expect: "one or more addresses",
};

static SAVE: Special = Special {
    multi: true,
    set: |c, args| {
        c.save = parse_save(args)?;
        Ok(())
    },
    show: |c| c.save.clone(),
    rewrite: |c| {
        let points = c.save_points();
        if points.is_empty() {
            return Some(vec!["\"\"".into()]);
        }
        Some(points.iter().map(|(s, n)| format!("{s} {n}")).collect())
    },
    expect: "pairs of <seconds> <changes>, or \"\" for none",
};

/// Validates `save` arguments as Redis does (an even count, seconds >= 1,
/// changes >= 0) and returns the canonical "s n s n" form.
pub(crate) fn parse_save(args: &[String]) -> Result<String, Invalid> {
    // One quoted argument ("900 1 300 10") is split on spaces, as Redis
    // does for every multi-valued setting; "" is no value at all.
    let split: Vec<String>;
    let args: &[String] = if args.len() == 1 {
        split = args[0]
            .split(' ')
            .filter(|a| !a.is_empty())
            .map(String::from)
            .collect();
        &split
    } else {
        args
    };
    let invalid = || Invalid::Other("Invalid save parameters".into());
    if args.len() % 2 != 0 {
        return Err(invalid());
    }
    let mut out = Vec::with_capacity(args.len());
    for (i, a) in args.iter().enumerate() {
        let v: i64 = a.parse().map_err(|_| invalid())?;
        if v < if i % 2 == 0 { 1 } else { 0 } {
            return Err(invalid());
        }
        out.push(v.to_string());
    }
    Ok(out.join(" "))
}

static REQUIREPASS: Special = Special {
    multi: false,
    set: |c, args| {
        c.requirepass = Some(args[0].clone()).filter(|p| !p.is_empty());
        Ok(())
    },
    show: |c| c.requirepass.clone().unwrap_or_default(),
    rewrite: |c| Some(vec![super::syntax::repr(c.requirepass.as_deref()?)]),
    expect: "a password",
};

/// Keyspace notification classes in Redis's canonical print order; `A` is all of
/// `g$lshzxetd` (not `m` nor `n`).
const EVENT_CLASSES: &str = "g$lshzxetdn";
const EVENT_ALL: &str = "g$lshzxetd";

static CLIENT_OUTPUT_BUFFER_LIMIT: Special = Special {
    multi: true,
    set: |c, args| {
        if args.len() % 4 != 0 {
            return Err(Invalid::Other(
                "Wrong number of arguments in buffer limit configuration.".into(),
            ));
        }
        let mut limits = c.client_output_buffer_limit;
        for group in args.chunks(4) {
            let class = match group[0].to_ascii_lowercase().as_str() {
                "normal" => 0,
                "slave" | "replica" => 1,
                "pubsub" => 2,
                _ => {
                    return Err(Invalid::Other(
                        "Invalid client class specified in buffer limit configuration.".into(),
                    ))
                }
            };
            let bad = || {
                Invalid::Other(
                    "Error in hard, soft or soft_seconds setting in buffer limit configuration."
                        .into(),
                )
            };
            let hard = super::syntax::parse_memory(&group[1]).map_err(|_| bad())?;
            let soft = super::syntax::parse_memory(&group[2]).map_err(|_| bad())?;
            let secs: u64 = group[3].parse().map_err(|_| bad())?;
            limits[class] = [hard, soft, secs];
        }
        c.client_output_buffer_limit = limits;
        Ok(())
    },
    show: |c| {
        let l = &c.client_output_buffer_limit;
        format!(
            "normal {} {} {} slave {} {} {} pubsub {} {} {}",
            l[0][0], l[0][1], l[0][2], l[1][0], l[1][1], l[1][2], l[2][0], l[2][1], l[2][2]
        )
    },
    rewrite: |c| {
        let l = &c.client_output_buffer_limit;
        Some(
            ["normal", "replica", "pubsub"]
                .iter()
                .zip(l)
                .map(|(n, v)| format!("{n} {} {} {}", v[0], v[1], v[2]))
                .collect(),
        )
    },
    expect: "<class> <hard> <soft> <seconds> ...",
};

static NOTIFY_KEYSPACE_EVENTS: Special = Special {
    multi: false,
    set: |c, args| {
        let mut classes = String::new();
        for ch in args[0].chars() {
            match ch {
                'A' => classes.push_str(EVENT_ALL),
                c if EVENT_CLASSES.contains(c) || "KEm".contains(c) => classes.push(c),
                _ => {
                    return Err(Invalid::Other(
                        "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.".into(),
                    ))
                }
            }
        }
        // Canonical form, as Redis's keyspaceEventsFlagsToString prints it.
        let mut out = String::new();
        if EVENT_ALL.chars().all(|e| classes.contains(e)) {
            out.push('A');
            out.extend(
                EVENT_CLASSES
                    .chars()
                    .filter(|e| !EVENT_ALL.contains(*e) && classes.contains(*e)),
            );
        } else {
            out.extend(EVENT_CLASSES.chars().filter(|e| classes.contains(*e)));
        }
        out.extend("KEm".chars().filter(|e| classes.contains(*e)));
        c.notify_keyspace_events = out;
        Ok(())
    },
    show: |c| c.notify_keyspace_events.clone(),
    rewrite: |c| Some(vec![super::syntax::repr(&c.notify_keyspace_events)]),
    expect: "a string of event classes from 'Ag$lshzxeKEtmdn', or \"\"",
};

fn base_name(v: &str) -> Result<(), Invalid> {
    if v.contains('/') || v.contains('\\') {
        Err(Invalid::Other(
            "dbfilename can't be a path, just a filename".into(),
        ))
    } else {
        Ok(())
    }
}

fn foreground_only(v: &bool) -> Result<(), Invalid> {
    if *v {
        Err(Invalid::Other(
            "lanner does not daemonize: it stays in the foreground; run it under a supervisor such as systemd".into(),
        ))
    } else {
        Ok(())
    }
}

// ---- the table --------------------------------------------------------------

macro_rules! bool_field {
    ($f:ident) => {
        bool_field!($f, None)
    };
    ($f:ident, $check:expr) => {
        Kind::Bool {
            get: |c| c.$f,
            set: |c, v| c.$f = v,
            check: $check,
        }
    };
}

macro_rules! num_field {
    ($f:ident, $min:expr, $max:expr) => {
        Kind::Num {
            min: $min as i128,
            max: $max as i128,
            memory: false,
            get: |c| c.$f as i128,
            set: |c, v| c.$f = v as _,
        }
    };
}

macro_rules! mem_field {
    ($f:ident, $min:expr, $max:expr) => {
        Kind::Num {
            min: $min as i128,
            max: $max as i128,
            memory: true,
            get: |c| c.$f as i128,
            set: |c, v| c.$f = v as _,
        }
    };
}

macro_rules! str_field {
    ($f:ident) => {
        str_field!($f, None)
    };
    ($f:ident, $check:expr) => {
        Kind::Str {
            get: |c| &c.$f,
            set: |c, v| c.$f = v,
            check: $check,
        }
    };
}

macro_rules! enum_field {
    ($f:ident, $values:expr) => {
        Kind::Enum {
            values: $values,
            get: |c| &c.$f,
            set: |c, v| c.$f = v,
        }
    };
}

const INT_MAX: i64 = i32::MAX as i64;
const LONG_MAX: i64 = i64::MAX;
const MB: i64 = 1024 * 1024;

pub(crate) const MAXMEMORY_POLICIES: &[&str] = &[
    "volatile-lru",
    "volatile-lfu",
    "volatile-random",
    "volatile-ttl",
    "allkeys-lru",
    "allkeys-lfu",
    "allkeys-random",
    "noeviction",
];
pub(crate) const LOGLEVELS: &[&str] = &["debug", "verbose", "notice", "warning"];

const NETWORK: &str = "NETWORK";
const SECURITY: &str = "SECURITY";
const CLIENTS: &str = "CLIENTS";
const SERVER: &str = "SERVER";
const MEMORY: &str = "MEMORY MANAGEMENT";
const PERSISTENCE: &str = "PERSISTENCE";
const ENCODING: &str = "DATA TYPE ENCODING";
const OBSERVABILITY: &str = "OBSERVABILITY";

use Change::{Immutable, Protected, Runtime};

pub(crate) static SETTINGS: &[Setting] = &[
    Setting {
        name: "bind",
        alias: None,
        section: NETWORK,
        kind: Kind::Special(&BIND),
        default: "127.0.0.1 -::1",
        change: Immutable,
        doc: "Addresses to listen on for client connections. Give several, separated by spaces; \
              an address prefixed with '-' is optional and skipped when it is not available on \
              this host (as in Redis 7), so the default serves IPv4 and IPv6 loopback and still \
              starts on hosts without IPv6. '*' means every IPv4 address and '::*' every IPv6 \
              address; bind \"\" also listens everywhere. Listening beyond loopback without \
              requirepass exposes the data to the network (see protected-mode). Fixed at \
              start-up: every core binds its own listener once.",
    },
    Setting {
        name: "port",
        alias: None,
        section: NETWORK,
        kind: num_field!(port, 0, 65535),
        default: "6379",
        change: Immutable,
        doc: "TCP port for client connections. Port 0 picks a free port, which tests use. \
              Start-up stops with an error when another process listens on the port (every core \
              opens its own SO_REUSEPORT listener, so lanner checks first that nobody else holds \
              it). The port also answers HTTP GET /metrics (see metrics-on-client-port). Fixed \
              at start-up (Redis can change it at runtime; lanner cannot move its per-core \
              listeners).",
    },
    Setting {
        name: "protected-mode",
        alias: None,
        section: NETWORK,
        kind: bool_field!(protected_mode),
        default: "yes",
        change: Runtime,
        doc: "Refuse clients from non-loopback addresses while no password is set. When yes and \
              requirepass is empty, connections from addresses other than 127.0.0.1 and ::1 get \
              the same DENIED error Redis sends. Set requirepass, or set this to no if the \
              network itself is trusted.",
    },
    Setting {
        name: "tcp-keepalive",
        alias: None,
        section: NETWORK,
        kind: num_field!(tcp_keepalive, 0, INT_MAX),
        default: "300",
        change: Runtime,
        doc: "Seconds between TCP keepalive probes on client connections; 0 turns keepalive off. \
              Keepalive detects dead peers and keeps idle connections alive through middleboxes \
              that drop silent flows. Applies to connections accepted after a change.",
    },
    Setting {
        name: "timeout",
        alias: None,
        section: NETWORK,
        kind: num_field!(timeout, 0, INT_MAX),
        default: "0",
        change: Runtime,
        doc: "Close a client connection after it has been idle for this many seconds; 0 never \
              closes idle clients. Clients blocked in a blocking command or subscribed to \
              channels are not considered idle.",
    },
    Setting {
        name: "requirepass",
        alias: None,
        section: SECURITY,
        kind: Kind::Special(&REQUIREPASS),
        default: "",
        change: Runtime,
        doc: "Password clients must send with AUTH before any other command. Empty (the \
              default) means no password; setting it to \"\" with CONFIG SET removes it. It is \
              compared in constant time but travels in clear text, so use long random passwords \
              and keep the server off untrusted networks.",
    },
    Setting {
        name: "maxclients",
        alias: None,
        section: CLIENTS,
        kind: num_field!(maxclients, 1, u32::MAX),
        default: "10000",
        change: Runtime,
        doc: "Maximum number of simultaneously connected clients, over all cores. Further \
              connections get 'ERR max number of clients reached' and are closed. Each client \
              needs a file descriptor: raise the process limit (ulimit -n, LimitNOFILE in \
              systemd) above this value.",
    },
    Setting {
        name: "shards",
        alias: None,
        section: SERVER,
        kind: num_field!(shards, 0, 1024),
        default: "0",
        change: Immutable,
        doc: "Number of shards, that is cores running an executor that owns a part of the \
              keyspace; 0 runs one per CPU this process may use. Each shard accepts connections \
              and owns the keys whose slot maps to it. Fewer shards than cores leaves cores for \
              other work; more shards than cores only adds cross-core hops. Fixed at start-up.",
    },
    Setting {
        name: "io-memory",
        alias: None,
        section: SERVER,
        kind: mem_field!(io_memory, 64 * 1024, LONG_MAX),
        default: "524288",
        change: Immutable,
        doc: "Memory each shard's executor registers with io_uring for I/O buffers. It is \
              locked memory: shards times io-memory (plus glommio's own rings) must fit in the \
              locked-memory limit (ulimit -l, LimitMEMLOCK in systemd), or start-up fails with \
              an error that says so. glommio's own default of 10mb per executor exceeds common \
              limits, hence the smaller default. Fixed at start-up.",
    },
    Setting {
        name: "daemonize",
        alias: None,
        section: SERVER,
        kind: bool_field!(daemonize, Some(foreground_only)),
        default: "no",
        change: Immutable,
        doc: "Accepted for compatibility with redis.conf, but only 'no' is valid: lanner always \
              stays in the foreground and logs to stdout or logfile. Run it under a supervisor \
              (systemd, a container runtime) to get a background service; 'daemonize yes' is \
              refused with an error rather than silently ignored.",
    },
    Setting {
        name: "databases",
        alias: None,
        section: SERVER,
        kind: num_field!(databases, 1, INT_MAX),
        default: "16",
        change: Immutable,
        doc: "Number of logical databases, numbered 0 to databases-1, selected with SELECT. \
              Every shard keeps a part of every database. Fixed at start-up.",
    },
    Setting {
        name: "hz",
        alias: None,
        section: SERVER,
        kind: num_field!(hz, 1, 500),
        default: "10",
        change: Runtime,
        doc: "How many times per second each shard runs its background tasks: expiring keys \
              that nobody reads, closing idle clients, sampling statistics. Higher values \
              reclaim expired memory sooner and cost more idle CPU; values above 100 are rarely \
              useful.",
    },
    Setting {
        name: "loglevel",
        alias: None,
        section: SERVER,
        kind: enum_field!(loglevel, LOGLEVELS),
        default: "notice",
        change: Runtime,
        doc: "How much to log: debug (a lot, for development), verbose, notice (moderately \
              verbose, what you want in production) or warning (only very important or \
              critical messages).",
    },
    Setting {
        name: "logfile",
        alias: None,
        section: SERVER,
        kind: str_field!(logfile),
        default: "",
        change: Immutable,
        doc: "File to append log lines to; \"\" logs to standard output, which is what systemd \
              and container runtimes collect. The file must be writable at start-up. Fixed at \
              start-up, as in Redis.",
    },
    Setting {
        name: "maxmemory",
        alias: None,
        section: MEMORY,
        kind: mem_field!(maxmemory, 0, u64::MAX),
        default: "0",
        change: Runtime,
        doc: "Memory limit, in bytes or with a unit (100mb, 4gb); 0 means no limit. It bounds \
              what the allocator gave out to the whole process: keys, values, connection \
              buffers, Pub/Sub queues and scripts (INFO used_memory). Any shard may use what \
              the others do not; over the limit, a write that may grow memory first evicts \
              keys of its shard according to maxmemory-policy, and with noeviction (or nothing \
              left to evict) it gets an OOM error while reads and deletes keep working. RSS \
              is higher by the allocator's fragmentation and the executors' fixed buffers.",
    },
    Setting {
        name: "maxmemory-policy",
        alias: None,
        section: MEMORY,
        kind: enum_field!(maxmemory_policy, MAXMEMORY_POLICIES),
        default: "noeviction",
        change: Runtime,
        doc: "Which keys to evict when maxmemory is reached: allkeys-lru, allkeys-lfu or \
              allkeys-random pick among all keys; volatile-lru, volatile-lfu, volatile-random \
              or volatile-ttl only among keys with an expire; noeviction evicts nothing and \
              refuses writes that need memory. As in Redis, LRU, LFU and TTL are approximated by \
              sampling (maxmemory-samples).",
    },
    Setting {
        name: "maxmemory-samples",
        alias: None,
        section: MEMORY,
        kind: num_field!(maxmemory_samples, 1, INT_MAX),
        default: "5",
        change: Runtime,
        doc: "How many keys each eviction samples to pick the best candidate. 5 is a good \
              balance; 10 approximates true LRU/LFU more closely at more CPU per eviction; 3 is \
              faster and less accurate.",
    },
    Setting {
        name: "maxmemory-eviction-tenacity",
        alias: None,
        section: MEMORY,
        kind: num_field!(maxmemory_eviction_tenacity, 0, 100),
        default: "10",
        change: Runtime,
        doc: "How long a write may spend evicting before it runs, 0..100: 10 allows 500 \
              microseconds (linear below, 15% more per step above, 100 no limit). Eviction \
              that needs more goes on in the background between requests.",
    },
    Setting {
        name: "lfu-log-factor",
        alias: None,
        section: MEMORY,
        kind: num_field!(lfu_log_factor, 0, INT_MAX),
        default: "10",
        change: Runtime,
        doc: "How slowly LFU's 8-bit access counter grows: a key is hit about 1M times before \
              it saturates at the default 10, 100 times at 0.",
    },
    Setting {
        name: "lfu-decay-time",
        alias: None,
        section: MEMORY,
        kind: num_field!(lfu_decay_time, 0, INT_MAX),
        default: "1",
        change: Runtime,
        doc: "Minutes after which an unread key's LFU counter drops by one; 0 never decays.",
    },
    Setting {
        name: "maxmemory-clients",
        alias: None,
        section: MEMORY,
        kind: mem_field!(maxmemory_clients, 0, u64::MAX),
        default: "0",
        change: Runtime,
        doc: "Memory all client connections' query and output buffers may take together; when \
              it is passed, the clients using the most are disconnected until it is not. 0 \
              means no limit.",
    },
    Setting {
        name: "lazyfree-lazy-eviction",
        alias: None,
        section: MEMORY,
        kind: bool_field!(lazyfree_lazy_eviction),
        default: "no",
        change: Runtime,
        doc: "Whether evicted values with more than 64 elements are freed on a background \
              thread (yes) or in place (no).",
    },
    Setting {
        name: "lazyfree-lazy-expire",
        alias: None,
        section: MEMORY,
        kind: bool_field!(lazyfree_lazy_expire),
        default: "no",
        change: Runtime,
        doc: "Whether expired values with more than 64 elements are freed on a background \
              thread.",
    },
    Setting {
        name: "lazyfree-lazy-server-del",
        alias: None,
        section: MEMORY,
        kind: bool_field!(lazyfree_lazy_server_del),
        default: "no",
        change: Runtime,
        doc: "Whether values a command replaces or deletes as a side effect (SET over a big \
              list, RENAME onto a key) are freed on a background thread when they have more \
              than 64 elements.",
    },
    Setting {
        name: "lazyfree-lazy-user-del",
        alias: None,
        section: MEMORY,
        kind: bool_field!(lazyfree_lazy_user_del),
        default: "no",
        change: Runtime,
        doc: "Whether DEL frees like UNLINK: values with more than 64 elements on a \
              background thread.",
    },
    Setting {
        name: "lazyfree-lazy-user-flush",
        alias: None,
        section: MEMORY,
        kind: bool_field!(lazyfree_lazy_user_flush),
        default: "no",
        change: Runtime,
        doc: "Whether FLUSHDB, FLUSHALL, SCRIPT FLUSH and FUNCTION FLUSH without a SYNC or ASYNC \
              argument free memory in the background (yes) or before replying (no), as in \
              Redis.",
    },
    Setting {
        name: "proto-max-bulk-len",
        alias: None,
        section: CLIENTS,
        kind: mem_field!(proto_max_bulk_len, MB, LONG_MAX),
        default: "536870912",
        change: Runtime,
        doc: "Largest bulk string a client may send in one request, at least 1mb. A request \
              announcing a longer string is a protocol error and the connection is closed, \
              before any memory is allocated for it.",
    },
    Setting {
        name: "client-query-buffer-limit",
        alias: None,
        section: CLIENTS,
        kind: mem_field!(client_query_buffer_limit, MB, LONG_MAX),
        default: "1073741824",
        change: Runtime,
        doc: "Largest amount of unparsed input buffered for one client, at least 1mb. A client \
              that exceeds it (a huge pipeline, or garbage) is disconnected, so that one client \
              cannot exhaust the server's memory.",
    },
    Setting {
        name: "busy-reply-threshold",
        alias: Some("lua-time-limit"),
        section: CLIENTS,
        kind: num_field!(busy_reply_threshold, 0, LONG_MAX),
        default: "5000",
        change: Runtime,
        doc: "Milliseconds a script or function may run before other clients get BUSY errors \
              and SCRIPT KILL or FUNCTION KILL become possible; 0 disables the check. The script \
              itself is not stopped. lua-time-limit is the old name.",
    },
    Setting {
        name: "client-output-buffer-limit",
        alias: None,
        section: CLIENTS,
        kind: Kind::Special(&CLIENT_OUTPUT_BUFFER_LIMIT),
        default: "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
        change: Runtime,
        doc: "Output buffer limits per client class, as <class> <hard> <soft> <seconds>: a \
              client whose unsent output passes <hard> bytes, or stays above <soft> for \
              <seconds>, is disconnected (0 = no limit). Enforced for pubsub, the class of a \
              subscriber that stops reading, so that it cannot grow memory without bound; \
              normal and replica are accepted for compatibility.",
    },
    Setting {
        name: "dir",
        alias: None,
        section: PERSISTENCE,
        kind: str_field!(dir),
        default: "./",
        change: Protected,
        doc: "Working directory, where snapshot files are written and read. Not yet used: \
              lanner has no persistence yet, but the value is accepted and reported for \
              compatibility. As in Redis 7 with enable-protected-configs off, CONFIG SET cannot \
              change it.",
    },
    Setting {
        name: "dbfilename",
        alias: None,
        section: PERSISTENCE,
        kind: str_field!(dbfilename, Some(base_name)),
        default: "dump.rdb",
        change: Protected,
        doc: "File name (not a path) of the snapshot inside dir. Not yet used: lanner has no \
              persistence yet; the value is accepted and reported for compatibility. As in \
              Redis 7 with enable-protected-configs off, CONFIG SET cannot change it.",
    },
    Setting {
        name: "save",
        alias: None,
        section: PERSISTENCE,
        kind: Kind::Special(&SAVE),
        default: "3600 1 300 100 60 10000",
        change: Runtime,
        doc: "Snapshot schedule as pairs of <seconds> <changes>: save after that many seconds if \
              at least that many writes happened; save \"\" disables snapshots. Several save \
              lines in a file add up. Accepted and reported but not acted on yet: lanner has no \
              persistence yet, so no snapshot is ever written whatever this says.",
    },
    Setting {
        name: "appendonly",
        alias: None,
        section: PERSISTENCE,
        kind: bool_field!(appendonly),
        default: "no",
        change: Runtime,
        doc: "Whether to log every write to an append-only file. Accepted and reported but not \
              acted on yet: lanner has no persistence yet, so 'yes' writes nothing and a restart \
              still starts empty.",
    },
    Setting {
        name: "list-max-listpack-size",
        alias: Some("list-max-ziplist-size"),
        section: ENCODING,
        kind: num_field!(list_max_listpack_size, i32::MIN, i32::MAX),
        default: "-2",
        change: Runtime,
        doc: "Size of each node of a list, as in Redis: a positive number is a count of \
              elements; -1 to -5 are byte limits of 4kb, 8kb, 16kb, 32kb and 64kb. Reported for \
              compatibility; lanner's own list layout may use it as a hint only.",
    },
    Setting {
        name: "list-compress-depth",
        alias: None,
        section: ENCODING,
        kind: num_field!(list_compress_depth, 0, i32::MAX),
        default: "0",
        change: Runtime,
        doc: "How many nodes at each end of a list stay uncompressed when Redis compresses the \
              inner nodes of long lists (0: none compressed). Accepted and reported for \
              compatibility; lanner does not compress list nodes.",
    },
    Setting {
        name: "hash-max-listpack-entries",
        alias: Some("hash-max-ziplist-entries"),
        section: ENCODING,
        kind: num_field!(hash_max_listpack_entries, 0, LONG_MAX),
        default: "128",
        change: Runtime,
        doc: "A hash with at most this many fields, each no longer than hash-max-listpack-value, \
              is stored in a compact encoding (OBJECT ENCODING reports listpack); bigger hashes \
              use a hash table.",
    },
    Setting {
        name: "hash-max-listpack-value",
        alias: Some("hash-max-ziplist-value"),
        section: ENCODING,
        kind: mem_field!(hash_max_listpack_value, 0, LONG_MAX),
        default: "64",
        change: Runtime,
        doc: "Longest field or value, in bytes, a hash may hold and keep its compact encoding.",
    },
    Setting {
        name: "set-max-intset-entries",
        alias: None,
        section: ENCODING,
        kind: num_field!(set_max_intset_entries, 0, LONG_MAX),
        default: "512",
        change: Runtime,
        doc: "A set made only of integers that fit in 64 bits, with at most this many members, \
              is stored as a sorted integer array (OBJECT ENCODING reports intset).",
    },
    Setting {
        name: "set-max-listpack-entries",
        alias: None,
        section: ENCODING,
        kind: num_field!(set_max_listpack_entries, 0, LONG_MAX),
        default: "128",
        change: Runtime,
        doc: "A set of non-integer members with at most this many members, each no longer than \
              set-max-listpack-value, is stored in a compact encoding (listpack).",
    },
    Setting {
        name: "set-max-listpack-value",
        alias: None,
        section: ENCODING,
        kind: mem_field!(set_max_listpack_value, 0, LONG_MAX),
        default: "64",
        change: Runtime,
        doc: "Longest member, in bytes, a set may hold and keep its compact encoding.",
    },
    Setting {
        name: "zset-max-listpack-entries",
        alias: Some("zset-max-ziplist-entries"),
        section: ENCODING,
        kind: num_field!(zset_max_listpack_entries, 0, LONG_MAX),
        default: "128",
        change: Runtime,
        doc: "A sorted set with at most this many members, each no longer than \
              zset-max-listpack-value, is stored in a compact encoding (listpack); bigger ones \
              use a skiplist.",
    },
    Setting {
        name: "zset-max-listpack-value",
        alias: Some("zset-max-ziplist-value"),
        section: ENCODING,
        kind: mem_field!(zset_max_listpack_value, 0, LONG_MAX),
        default: "64",
        change: Runtime,
        doc: "Longest member, in bytes, a sorted set may hold and keep its compact encoding.",
    },
    Setting {
        name: "hll-sparse-max-bytes",
        alias: None,
        section: ENCODING,
        kind: mem_field!(hll_sparse_max_bytes, 0, LONG_MAX),
        default: "3000",
        change: Runtime,
        doc: "Largest size, in bytes including the 16-byte header, of a HyperLogLog in its \
              sparse encoding; a sketch that would grow past it is converted to the dense \
              encoding (12304 bytes). Values above 16000 make sparse sketches slow to update, \
              as in Redis.",
    },
    Setting {
        name: "stream-node-max-bytes",
        alias: None,
        section: ENCODING,
        kind: mem_field!(stream_node_max_bytes, 0, LONG_MAX),
        default: "4096",
        change: Runtime,
        doc: "A stream stores its entries in nodes of consecutive entries; a node takes no new \
              entry once it holds about this many bytes (measured as Redis measures its \
              listpacks), and the entry starts a new node. 0 means no byte limit (1gb at most).",
    },
    Setting {
        name: "stream-node-max-entries",
        alias: None,
        section: ENCODING,
        kind: num_field!(stream_node_max_entries, 0, LONG_MAX),
        default: "100",
        change: Runtime,
        doc: "Most entries, deleted ones included, one stream node holds; 0 means no limit. \
              Approximate trimming (MAXLEN ~, MINID ~) removes whole nodes only, and trims at \
              most 100 nodes' worth of entries per call unless LIMIT says otherwise.",
    },
    Setting {
        name: "slowlog-log-slower-than",
        alias: None,
        section: OBSERVABILITY,
        kind: num_field!(slowlog_log_slower_than, -1, i64::MAX),
        default: "10000",
        change: Runtime,
        doc: "Commands that take longer than this many microseconds to execute (not counting \
              I/O) are recorded in the slow log (SLOWLOG GET); 0 records every command, -1 \
              disables the slow log.",
    },
    Setting {
        name: "slowlog-max-len",
        alias: None,
        section: OBSERVABILITY,
        kind: num_field!(slowlog_max_len, 0, LONG_MAX),
        default: "128",
        change: Runtime,
        doc: "Number of entries the slow log keeps; the oldest are dropped first. SLOWLOG RESET \
              frees the memory.",
    },
    Setting {
        name: "latency-monitor-threshold",
        alias: None,
        section: OBSERVABILITY,
        kind: num_field!(latency_monitor_threshold, 0, i64::MAX),
        default: "0",
        change: Runtime,
        doc: "Events that take at least this many milliseconds are recorded for the LATENCY \
              command; 0 turns the latency monitor off.",
    },
    Setting {
        name: "latency-tracking",
        alias: None,
        section: OBSERVABILITY,
        kind: bool_field!(latency_tracking),
        default: "yes",
        change: Runtime,
        doc: "Whether to keep per-command latency histograms, reported by INFO latencystats and \
              LATENCY HISTOGRAM.",
    },
    Setting {
        name: "tracking-table-max-keys",
        alias: None,
        section: CLIENTS,
        kind: num_field!(tracking_table_max_keys, 0, LONG_MAX),
        default: "1000000",
        change: Runtime,
        doc: "Most keys the client-side caching table remembers (CLIENT TRACKING); past it, \
              keys are dropped from the table and their clients told to invalidate them. 0 means \
              no limit. Each shard keeps its share of the limit.",
    },
    Setting {
        name: "notify-keyspace-events",
        alias: None,
        section: OBSERVABILITY,
        kind: Kind::Special(&NOTIFY_KEYSPACE_EVENTS),
        default: "",
        change: Runtime,
        doc: "Which keyspace events are published over Pub/Sub, as Redis's class letters: K \
              (keyspace channel) and/or E (keyevent channel), combined with g (generic), $ \
              (string), l (list), s (set), h (hash), z (sorted set), x (expired), e (evicted), t \
              (stream), d (module), n (new key), m (key miss) or A (alias for g$lshzxetd). \"\" \
              (the default) publishes nothing; \"KEA\" publishes almost everything.",
    },
    Setting {
        name: "metrics-on-client-port",
        alias: None,
        section: OBSERVABILITY,
        kind: bool_field!(metrics_on_client_port),
        default: "yes",
        change: Runtime,
        doc: "Whether the client port also answers HTTP: GET /metrics with the Prometheus \
              metrics and GET / with a short status line, so Prometheus scrapes each instance on \
              the port its clients use and two instances on one host never compete for a \
              metrics port. A connection is taken for HTTP only when its first line is an \
              HTTP/1.x request line; any other HTTP request closes it. When requirepass is set \
              the metrics need HTTP Basic authentication with that password (any user name). \
              With no, such a first line is read as a Redis command, as Redis does.",
    },
    Setting {
        name: "metrics-port",
        alias: None,
        section: OBSERVABILITY,
        kind: num_field!(metrics_port, 0, 65535),
        default: "0",
        change: Immutable,
        doc: "TCP port of a separate HTTP endpoint serving the Prometheus metrics at /metrics; \
              0 (the default) opens none, the client port serves them (metrics-on-client-port). \
              Set it to keep scrapers off the client port, for example to let a firewall or a \
              NetworkPolicy open only this port to Prometheus. Another process on the port stops \
              start-up. Fixed at start-up.",
    },
    Setting {
        name: "metrics-bind",
        alias: None,
        section: OBSERVABILITY,
        kind: str_field!(metrics_bind),
        default: "127.0.0.1",
        change: Immutable,
        doc: "Address the separate metrics endpoint listens on, when metrics-port is not 0. \
              That endpoint is not authenticated, so keep it on loopback or a private network. \
              Fixed at start-up.",
    },
];
