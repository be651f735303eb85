use super::table::{lookup, Kind, SETTINGS};
use super::*;
use std::path::PathBuf;

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

/// A fresh directory under the system temp dir, unique per test and process.
fn temp_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lanner-config-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn from_text(text: &str) -> Result<Config, ConfigError> {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = temp_dir(&format!("text-{n}"));
    let path = write_file(&dir, "lanner.conf", text);
    let result = Config::from_file_and_overrides(Some(&path), &[]);
    std::fs::remove_dir_all(&dir).unwrap();
    result
}

fn get1(c: &Config, name: &str) -> String {
    let got = c.get(&[name.as_bytes()]);
    assert_eq!(got.len(), 1, "{name}: {got:?}");
    got[0].1.clone()
}

fn set(c: &mut Config, pairs: &[(&str, &str)]) -> Result<(), String> {
    let pairs: Vec<(&[u8], &[u8])> = pairs
        .iter()
        .map(|(n, v)| (n.as_bytes(), v.as_bytes()))
        .collect();
    c.set(&pairs)
}

// ---- the table --------------------------------------------------------------

#[test]
fn every_row_default_matches_config_default() {
    let c = Config::default();
    for setting in SETTINGS {
        assert_eq!(setting.show(&c), setting.default, "{}", setting.name);
    }
}

#[test]
fn every_row_default_parses_back_to_itself() {
    for setting in SETTINGS {
        let mut c = Config::default();
        if let Some(lines) = setting.rewrite_args(&Config::default()) {
            // Several lines (save) add up, as they do in a file.
            let args: Vec<String> = lines
                .iter()
                .flat_map(|l| super::syntax::split_args(l).unwrap())
                .collect();
            setting
                .apply(&mut c, &args)
                .unwrap_or_else(|e| panic!("{}: {e:?}", setting.name));
        }
        assert_eq!(setting.show(&c), setting.default, "{}", setting.name);
    }
}

#[test]
fn names_and_aliases_are_unique_lowercase_and_documented() {
    let mut seen = std::collections::HashSet::new();
    for setting in SETTINGS {
        for name in std::iter::once(setting.name).chain(setting.alias) {
            assert!(seen.insert(name), "duplicate name {name}");
            assert_eq!(name, name.to_ascii_lowercase());
        }
        assert!(setting.doc.len() > 40, "{} needs a real doc", setting.name);
        assert!(setting.summary().ends_with('.'), "{}", setting.name);
    }
}

#[test]
fn lookup_is_case_insensitive_and_knows_aliases() {
    assert_eq!(lookup("PORT").unwrap().name, "port");
    assert_eq!(
        lookup("hash-max-ziplist-entries").unwrap().name,
        "hash-max-listpack-entries"
    );
    assert_eq!(
        lookup("LUA-time-limit").unwrap().name,
        "busy-reply-threshold"
    );
    assert!(lookup("prot").is_none());
}

// ---- kinds: parsing and errors ---------------------------------------------

#[test]
fn bool_accepts_yes_no_in_any_case_only() {
    let mut c = Config::default();
    set(&mut c, &[("protected-mode", "NO")]).unwrap();
    assert!(!c.protected_mode);
    set(&mut c, &[("protected-mode", "Yes")]).unwrap();
    assert!(c.protected_mode);
    assert_eq!(
        set(&mut c, &[("protected-mode", "true")]),
        Err("ERR CONFIG SET failed (possibly related to argument 'protected-mode') - argument must be 'yes' or 'no'".into())
    );
}

#[test]
fn integer_parsing_and_range_errors_match_redis() {
    let mut c = Config::default();
    assert_eq!(
        set(&mut c, &[("maxclients", "abc")]),
        Err("ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument couldn't be parsed into an integer".into())
    );
    assert_eq!(
        set(&mut c, &[("maxclients", "0")]),
        Err("ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument must be between 1 and 4294967295 inclusive".into())
    );
    assert_eq!(
        set(&mut c, &[("hz", "501")]),
        Err("ERR CONFIG SET failed (possibly related to argument 'hz') - argument must be between 1 and 500 inclusive".into())
    );
    set(
        &mut c,
        &[
            ("list-max-listpack-size", "-5"),
            ("slowlog-log-slower-than", "-1"),
        ],
    )
    .unwrap();
    assert_eq!(c.list_max_listpack_size, -5);
    assert_eq!(c.slowlog_log_slower_than, -1);
    assert!(set(&mut c, &[("timeout", "+5")]).is_err());
    assert!(set(&mut c, &[("timeout", "05")]).is_err());
}

#[test]
fn memory_values_take_units_and_print_in_bytes() {
    let mut c = Config::default();
    set(&mut c, &[("maxmemory", "1gb")]).unwrap();
    assert_eq!(c.maxmemory, 1 << 30);
    assert_eq!(get1(&c, "maxmemory"), "1073741824");
    set(&mut c, &[("maxmemory", "100m")]).unwrap();
    assert_eq!(c.maxmemory, 100_000_000);
    set(&mut c, &[("hash-max-listpack-value", "1kb")]).unwrap();
    assert_eq!(c.hash_max_listpack_value, 1024);
    assert_eq!(get1(&Config::default(), "proto-max-bulk-len"), "536870912");
    assert_eq!(
        set(&mut c, &[("maxmemory", "-1")]),
        Err("ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value".into())
    );
    assert_eq!(
        set(&mut c, &[("proto-max-bulk-len", "1000")]),
        Err("ERR CONFIG SET failed (possibly related to argument 'proto-max-bulk-len') - argument must be between 1048576 and 9223372036854775807 inclusive".into())
    );
}

#[test]
fn enum_values_are_case_insensitive_and_stored_lowercase() {
    let mut c = Config::default();
    set(&mut c, &[("maxmemory-policy", "ALLKEYS-LRU")]).unwrap();
    assert_eq!(c.maxmemory_policy, "allkeys-lru");
    assert_eq!(
        set(&mut c, &[("loglevel", "loud")]),
        Err("ERR CONFIG SET failed (possibly related to argument 'loglevel') - argument must be one of the following: debug, verbose, notice, warning".into())
    );
    for policy in super::table::MAXMEMORY_POLICIES {
        set(&mut c, &[("maxmemory-policy", policy)]).unwrap();
    }
}

#[test]
fn strings_and_password() {
    let mut c = Config::default();
    set(&mut c, &[("requirepass", "s3cret")]).unwrap();
    assert_eq!(c.requirepass.as_deref(), Some("s3cret"));
    assert_eq!(get1(&c, "requirepass"), "s3cret");
    set(&mut c, &[("requirepass", "")]).unwrap();
    assert_eq!(c.requirepass, None);
    assert_eq!(get1(&c, "requirepass"), "");
    let c = from_text("dbfilename \"my dump.rdb\"\n").unwrap();
    assert_eq!(c.dbfilename, "my dump.rdb");
    let err = from_text("dbfilename /tmp/x.rdb\n")
        .unwrap_err()
        .to_string();
    assert!(err.ends_with("line 1: dbfilename: invalid value '/tmp/x.rdb' (dbfilename can't be a path, just a filename)"), "{err}");
}

#[test]
fn save_accepts_pairs_and_clears_with_empty_string() {
    let mut c = Config::default();
    assert_eq!(c.save_points(), vec![(3600, 1), (300, 100), (60, 10000)]);
    set(&mut c, &[("save", "900 1 300 10")]).unwrap();
    assert_eq!(get1(&c, "save"), "900 1 300 10");
    set(&mut c, &[("save", "")]).unwrap();
    assert_eq!(c.save, "");
    assert!(c.save_points().is_empty());
    for bad in ["900", "0 1", "900 -1", "a b"] {
        assert_eq!(
            set(&mut c, &[("save", bad)]),
            Err("ERR CONFIG SET failed (possibly related to argument 'save') - Invalid save parameters".into()),
            "{bad}"
        );
    }
}

#[test]
fn save_lines_in_a_file_add_up_and_empty_clears() {
    let c = from_text("save 900 1\nsave 300 10\n").unwrap();
    assert_eq!(c.save, "900 1 300 10");
    let c = from_text("save \"\"\n").unwrap();
    assert_eq!(c.save, "");
    let c = from_text("save 900 1\nsave \"\"\n").unwrap();
    assert_eq!(c.save, "");
    let c = from_text("save \"\"\nsave 60 5\n").unwrap();
    assert_eq!(c.save, "60 5");
}

#[test]
fn bind_takes_several_addresses() {
    let c = from_text("bind 10.0.0.1 -::1 192.168.1.1\n").unwrap();
    assert_eq!(c.bind, ["10.0.0.1", "-::1", "192.168.1.1"]);
    assert_eq!(get1(&Config::default(), "bind"), "127.0.0.1 -::1");
    let c = from_text("bind \"\"\n").unwrap();
    assert!(c.bind.is_empty());
    let many = (0..17)
        .map(|i| format!("10.0.0.{i}"))
        .collect::<Vec<_>>()
        .join(" ");
    let err = from_text(&format!("bind {many}\n"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("Too many bind addresses specified."), "{err}");
}

#[test]
fn notify_keyspace_events_are_validated_and_canonical() {
    let mut c = Config::default();
    set(&mut c, &[("notify-keyspace-events", "KEA")]).unwrap();
    assert_eq!(c.notify_keyspace_events, "AKE");
    set(&mut c, &[("notify-keyspace-events", "Ex")]).unwrap();
    assert_eq!(c.notify_keyspace_events, "xE");
    set(&mut c, &[("notify-keyspace-events", "KAnm")]).unwrap();
    assert_eq!(c.notify_keyspace_events, "AnKm");
    assert_eq!(
        set(&mut c, &[("notify-keyspace-events", "Q")]),
        Err("ERR CONFIG SET failed (possibly related to argument 'notify-keyspace-events') - Invalid event class character. Use 'Ag$lshzxeKEtmdn'.".into())
    );
}

#[test]
fn daemonize_yes_is_refused_with_a_clear_message() {
    let err = from_text("daemonize yes\n").unwrap_err().to_string();
    assert!(
        err.contains("line 1: daemonize: invalid value 'yes' (lanner does not daemonize"),
        "{err}"
    );
    assert!(from_text("daemonize no\n").is_ok());
}

// ---- file and command line --------------------------------------------------

#[test]
fn file_syntax_comments_case_quotes_and_later_wins() {
    let c = from_text(
        "# a comment\n\n   PORT 7000\r\nport 7001\nmaxmemory-policy 'allkeys-lfu'\n  # indented comment\nhash-max-ziplist-entries 7\n",
    )
    .unwrap();
    assert_eq!(c.port, 7001);
    assert_eq!(c.maxmemory_policy, "allkeys-lfu");
    assert_eq!(c.hash_max_listpack_entries, 7);
}

#[test]
fn file_errors_name_file_line_and_problem() {
    let dir = temp_dir("file-errors");
    let path = write_file(&dir, "lanner.conf", "port 7000\n\nprot 1\n");
    let err = Config::from_file_and_overrides(Some(&path), &[]).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "config file {} line 3: unknown directive 'prot'",
            path.display()
        )
    );
    let path = write_file(&dir, "b.conf", "port abc\n");
    let err = Config::from_file_and_overrides(Some(&path), &[])
        .unwrap_err()
        .to_string();
    assert!(
        err.ends_with("line 1: port: invalid value 'abc' (expected an integer from 0 to 65535)"),
        "{err}"
    );
    let path = write_file(&dir, "c.conf", "port 1 2\n");
    let err = Config::from_file_and_overrides(Some(&path), &[])
        .unwrap_err()
        .to_string();
    assert!(
        err.ends_with("line 1: port: expected exactly one value, got 2"),
        "{err}"
    );
    let path = write_file(&dir, "d.conf", "requirepass \"open\n");
    let err = Config::from_file_and_overrides(Some(&path), &[])
        .unwrap_err()
        .to_string();
    assert!(err.ends_with("line 1: unbalanced quotes"), "{err}");
    let missing = dir.join("missing.conf");
    let err = Config::from_file_and_overrides(Some(&missing), &[])
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        format!(
            "cannot read config file {}: No such file or directory",
            missing.display()
        )
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn include_reads_another_file_in_place() {
    let dir = temp_dir("include");
    let inner = write_file(&dir, "inner.conf", "port 7002\nmaxclients 5\n");
    let outer = write_file(
        &dir,
        "outer.conf",
        &format!("port 7001\ninclude {}\nmaxclients 6\n", inner.display()),
    );
    let c = Config::from_file_and_overrides(Some(&outer), &[]).unwrap();
    assert_eq!((c.port, c.maxclients), (7002, 6));
    let looped = write_file(
        &dir,
        "loop.conf",
        &format!("include {}\n", dir.join("loop.conf").display()),
    );
    let err = Config::from_file_and_overrides(Some(&looped), &[])
        .unwrap_err()
        .to_string();
    assert!(err.contains("nested too deeply"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn overrides_win_over_the_file() {
    let dir = temp_dir("overrides");
    let path = write_file(
        &dir,
        "lanner.conf",
        "port 7000\nmaxmemory 1mb\nsave 900 1\n",
    );
    let c = Config::from_file_and_overrides(
        Some(&path),
        &[
            ("port".into(), s(&["7100"])),
            ("--maxmemory-policy".into(), s(&["allkeys-lru"])),
            ("save".into(), s(&["60 5 30 10"])),
        ],
    )
    .unwrap();
    assert_eq!(c.port, 7100);
    assert_eq!(c.maxmemory, 1 << 20);
    assert_eq!(c.maxmemory_policy, "allkeys-lru");
    assert_eq!(c.save, "60 5 30 10");
    assert_eq!(c.config_file(), Some(path.as_path()));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn command_line_takes_file_then_directives_with_several_values() {
    let c = Config::from_args(&s(&[
        "--port",
        "7000",
        "--bind",
        "127.0.0.1",
        "-::1",
        "--save",
        "900 1 300 10",
        "--list-max-listpack-size",
        "-3",
    ]))
    .unwrap()
    .unwrap();
    assert_eq!(c.port, 7000);
    assert_eq!(c.bind, ["127.0.0.1", "-::1"]);
    assert_eq!(c.save, "900 1 300 10");
    assert_eq!(c.list_max_listpack_size, -3);
    assert_eq!(c.config_file(), None);
    let c = Config::from_args(&s(&["--save", "900", "1", "--bind", "10.0.0.1 10.0.0.2"]))
        .unwrap()
        .unwrap();
    assert_eq!(c.save, "900 1");
    assert_eq!(c.bind, ["10.0.0.1", "10.0.0.2"]);
    let c = Config::from_args(&s(&["--save", "--port", "1"]))
        .unwrap()
        .unwrap();
    assert_eq!(c.save, "");
    let c = Config::from_args(&s(&["--save", ""])).unwrap().unwrap();
    assert_eq!(c.save, "");
}

#[test]
fn command_line_errors_are_one_clear_line() {
    let err = Config::from_args(&s(&["--port", "abc"]))
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "--port: invalid value 'abc' (expected an integer from 0 to 65535)"
    );
    let err = Config::from_args(&s(&["--prot", "1"]))
        .unwrap_err()
        .to_string();
    assert_eq!(err, "--prot: unknown directive 'prot'");
    let err = Config::from_args(&s(&["--port"])).unwrap_err().to_string();
    assert_eq!(err, "--port: expected exactly one value, got 0");
    let err = Config::from_args(&s(&["a.conf", "b.conf"]))
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("unexpected argument 'b.conf'"), "{err}");
    let err = Config::from_args(&s(&["--maxmemory", "lots"]))
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("--maxmemory: invalid value 'lots' (expected a byte count"),
        "{err}"
    );
    assert!(!err.contains('\n'));
}

#[test]
fn help_lists_every_directive_with_its_default() {
    let help = help_text();
    for setting in SETTINGS {
        assert!(
            help.contains(&format!("--{}", setting.name)),
            "{} missing",
            setting.name
        );
        assert!(
            help.contains(setting.summary()),
            "{} summary missing",
            setting.name
        );
    }
    assert!(help.contains("[default: 512mb]"));
    assert!(help.contains("--version"));
    assert_eq!(Config::from_args(&s(&["--help"])), Ok(None));
    assert_eq!(Config::from_args(&s(&["-v"])), Ok(None));
}

// ---- CONFIG GET / SET -------------------------------------------------------

#[test]
fn get_returns_matches_in_table_order() {
    let c = Config::default();
    let got = c.get(&[b"maxmemory*"]);
    let names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "maxmemory",
            "maxmemory-policy",
            "maxmemory-samples",
            "maxmemory-eviction-tenacity",
            "maxmemory-clients"
        ]
    );
    assert_eq!(got[1].1, "noeviction");
    assert_eq!(
        c.get(&[b"MAXMEMORY"]),
        vec![("maxmemory".to_string(), "0".to_string())]
    );
    assert!(c.get(&[b"nosuch"]).is_empty());
}

#[test]
fn get_star_returns_every_name_once_including_aliases() {
    let c = Config::default();
    let all = c.get(&[b"*", b"port", b"p*"]);
    let expected: usize = SETTINGS
        .iter()
        .map(|s| 1 + usize::from(s.alias.is_some()))
        .sum();
    assert_eq!(all.len(), expected);
    let names: std::collections::HashSet<&str> = all.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names.len(), expected);
}

#[test]
fn get_by_alias_reports_the_alias_name() {
    let c = Config::default();
    assert_eq!(
        c.get(&[b"hash-max-ziplist-entries"]),
        vec![("hash-max-ziplist-entries".to_string(), "128".to_string())]
    );
    assert_eq!(get1(&c, "lua-time-limit"), "5000");
}

#[test]
fn set_is_all_or_nothing() {
    let mut c = Config::default();
    let before = c.clone();
    let err = set(&mut c, &[("maxmemory", "1mb"), ("port", "x")]).unwrap_err();
    assert_eq!(
        err,
        "ERR CONFIG SET failed (possibly related to argument 'port') - can't set immutable config"
    );
    let err = set(&mut c, &[("maxmemory", "1mb"), ("timeout", "x")]).unwrap_err();
    assert_eq!(err, "ERR CONFIG SET failed (possibly related to argument 'timeout') - argument couldn't be parsed into an integer");
    assert_eq!(c, before);
    set(
        &mut c,
        &[
            ("maxmemory", "1mb"),
            ("timeout", "30"),
            ("hash-max-ziplist-entries", "10"),
        ],
    )
    .unwrap();
    assert_eq!(
        (c.maxmemory, c.timeout, c.hash_max_listpack_entries),
        (1 << 20, 30, 10)
    );
}

#[test]
fn set_errors_match_redis_texts() {
    let mut c = Config::default();
    assert_eq!(
        set(&mut c, &[("foo", "1")]),
        Err("ERR Unknown option or number of arguments for CONFIG SET - 'foo'".into())
    );
    assert_eq!(
        set(&mut c, &[("daemonize", "no")]),
        Err("ERR CONFIG SET failed (possibly related to argument 'daemonize') - can't set immutable config".into())
    );
    assert_eq!(
        set(&mut c, &[("dir", "/tmp")]),
        Err("ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config".into())
    );
    assert_eq!(
        set(&mut c, &[("timeout", "1"), ("TIMEOUT", "2")]),
        Err(
            "ERR CONFIG SET failed (possibly related to argument 'TIMEOUT') - duplicate parameter"
                .into()
        )
    );
    assert_eq!(
        set(&mut c, &[("lua-time-limit", "x")]),
        Err("ERR CONFIG SET failed (possibly related to argument 'lua-time-limit') - argument couldn't be parsed into an integer".into())
    );
    assert!(set(&mut c, &[]).is_err());
}

// ---- CONFIG REWRITE ---------------------------------------------------------

#[test]
fn rewrite_without_file_is_an_error() {
    assert_eq!(
        Config::default().rewrite(),
        Err("ERR The server is running without a config file".into())
    );
}

#[test]
fn rewrite_keeps_comments_replaces_values_and_appends_changes() {
    let dir = temp_dir("rewrite");
    let original = "# my settings\nport 7000\n\n# memory\nmaxmemory 1mb\nsave 900 1\nsave 300 10\nhash-max-ziplist-entries 64\nrequirepass old\n";
    let path = write_file(&dir, "lanner.conf", original);
    let mut c = Config::from_file_and_overrides(Some(&path), &[]).unwrap();
    set(
        &mut c,
        &[
            ("maxmemory", "2gb"),
            ("save", "60 5"),
            ("timeout", "30"),
            ("requirepass", ""),
            ("notify-keyspace-events", "Ex"),
        ],
    )
    .unwrap();
    c.rewrite().unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        text,
        "# my settings\nport 7000\n\n# memory\nmaxmemory 2gb\nsave 60 5\n\nhash-max-listpack-entries 64\n\n\
         # Generated by CONFIG REWRITE\ntimeout 30\nnotify-keyspace-events \"xE\"\n"
    );
    let reloaded = Config::from_file_and_overrides(Some(&path), &[]).unwrap();
    assert_eq!(reloaded, c);
    // A second rewrite changes nothing.
    reloaded.rewrite().unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn rewrite_drops_nothing_at_default_and_comments_out_unknown_lines() {
    let c = Config::default();
    let out = super::file::rewrite_content(&c, "port 6379\nbogus 1\ninclude /x.conf\n");
    assert_eq!(out, "port 6379\n# ??? bogus 1\ninclude /x.conf\n");
    assert_eq!(super::file::rewrite_content(&c, ""), "");
    let mut c = Config::default();
    set(&mut c, &[("save", "")]).unwrap();
    assert_eq!(
        super::file::rewrite_content(&c, ""),
        "# Generated by CONFIG REWRITE\nsave \"\"\n"
    );
}

#[test]
fn rewrite_round_trips_every_setting() {
    let dir = temp_dir("rewrite-all");
    let path = write_file(&dir, "lanner.conf", "");
    let mut c = Config::from_file_and_overrides(Some(&path), &[]).unwrap();
    set(
        &mut c,
        &[
            ("protected-mode", "no"),
            ("tcp-keepalive", "10"),
            ("requirepass", "p\"a ss\n"),
            ("maxmemory", "12345"),
            ("maxmemory-policy", "volatile-ttl"),
            ("zset-max-listpack-value", "2kb"),
            ("slowlog-log-slower-than", "-1"),
            ("save", ""),
            ("appendonly", "yes"),
            ("notify-keyspace-events", "KEA"),
        ],
    )
    .unwrap();
    c.rewrite().unwrap();
    let reloaded = Config::from_file_and_overrides(Some(&path), &[]).unwrap();
    assert_eq!(reloaded, c);
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---- the example file -------------------------------------------------------

fn example_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("config/lanner.conf")
}

/// Fails when config/lanner.conf is stale. To regenerate it, run this test
/// with LANNER_WRITE_EXAMPLE_CONFIG=1.
#[test]
fn example_file_matches_config_lanner_conf() {
    let expected = example_file();
    if std::env::var_os("LANNER_WRITE_EXAMPLE_CONFIG").is_some() {
        std::fs::create_dir_all(example_path().parent().unwrap()).unwrap();
        std::fs::write(example_path(), &expected).unwrap();
    }
    let actual = std::fs::read_to_string(example_path()).unwrap_or_default();
    assert!(
        actual == expected,
        "config/lanner.conf is out of date with the settings table; regenerate it with \
         LANNER_WRITE_EXAMPLE_CONFIG=1 cargo test --lib config::tests::example_file"
    );
}

#[test]
fn example_file_documents_every_directive_and_loads_as_the_defaults() {
    let text = example_file();
    for setting in SETTINGS {
        assert!(
            text.contains(&format!("\n# {}: ", setting.name)),
            "{}",
            setting.name
        );
    }
    let mut expected = Config::default();
    let loaded = from_text(&text).unwrap();
    expected.config_file = loaded.config_file.clone();
    assert_eq!(loaded, expected);
    assert!(text.lines().all(|l| l.len() <= 100), "keep lines short");
}

#[test]
fn kinds_cover_every_variant() {
    // Guards the table shape: each kind appears at least once.
    let has = |f: fn(&Kind) -> bool| SETTINGS.iter().any(|s| f(&s.kind));
    assert!(has(|k| matches!(k, Kind::Bool { .. })));
    assert!(has(|k| matches!(k, Kind::Num { memory: true, .. })));
    assert!(has(|k| matches!(k, Kind::Num { memory: false, .. })));
    assert!(has(|k| matches!(k, Kind::Enum { .. })));
    assert!(has(|k| matches!(k, Kind::Str { .. })));
    assert!(has(|k| matches!(k, Kind::Special(_))));
}
