//! Lua scripting and functions through real clients, at 1 and 4 shards:
//! EVAL/EVALSHA/_RO, SCRIPT, FUNCTION, FCALL/_RO, conversions both ways in
//! RESP2 and RESP3, the sandbox, error texts (taken from Redis 7.0.15),
//! atomicity of scripts whose keys span shards, the scenario scripts (locks,
//! rate limiters, transfers), SCRIPT KILL, `-BUSY` and SHUTDOWN NOSAVE
//! during a busy script.

mod common;

use common::{error_text, fails, q, RawConn, Server};
use redis::{Connection, Value};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

/// EVAL `script` with `keys` and `args`.
fn eval<T: redis::FromRedisValue>(
    con: &mut Connection,
    script: &str,
    keys: &[&str],
    args: &[&str],
) -> T {
    try_eval(con, script, keys, args).unwrap_or_else(|e| panic!("{script}: {e}"))
}

fn try_eval<T: redis::FromRedisValue>(
    con: &mut Connection,
    script: &str,
    keys: &[&str],
    args: &[&str],
) -> redis::RedisResult<T> {
    redis::cmd("EVAL")
        .arg(script)
        .arg(keys.len())
        .arg(keys)
        .arg(args)
        .query(con)
}

/// The error text EVAL of `script` (no keys) answers.
fn eval_err(con: &mut Connection, script: &str) -> String {
    match try_eval::<Value>(con, script, &[], &[]) {
        Ok(v) => panic!("{script} succeeded with {v:?}"),
        Err(e) => error_text(e),
    }
}

/// Sends one command on a raw connection and returns the reply's bytes.
fn raw(conn: &mut RawConn, args: &[&str]) -> String {
    let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    conn.send(&common::encode_request(&args));
    String::from_utf8_lossy(&conn.read_reply()).into_owned()
}

fn sha1(s: &str) -> String {
    sha1_smol::Sha1::from(s).digest().to_string()
}

/// Keys that land on different shards at 4 shards (different slots, one per
/// hash tag).
fn spread_keys(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{{t{i}}}")).collect()
}

/// Polls until `f` holds or 10 s pass.
fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(10));
    }
}

common::shard_tests! {
    fn eval_returns_lua_values_converted_like_redis(srv: &Server) {
        let mut con = srv.client();
        let v: Vec<i64> = eval(&mut con, "return {1,2,3,nil,4}", &[], &[]);
        assert_eq!(v, [1, 2, 3], "arrays stop at the first nil");
        let n: i64 = eval(&mut con, "return 3.99", &[], &[]);
        assert_eq!(n, 3, "numbers truncate");
        let n: i64 = eval(&mut con, "return -3.99", &[], &[]);
        assert_eq!(n, -3);
        let t: i64 = eval(&mut con, "return true", &[], &[]);
        assert_eq!(t, 1);
        let f: Option<String> = eval(&mut con, "return false", &[], &[]);
        assert_eq!(f, None);
        let s: String = eval(&mut con, "return {ok='fine'}", &[], &[]);
        assert_eq!(s, "fine");
        assert_eq!(eval_err(&mut con, "return {err='ERR2 bad thing'}"), "ERR2 bad thing");
        assert_eq!(eval_err(&mut con, "return redis.error_reply('oops')"), "ERR oops");
        assert_eq!(eval_err(&mut con, "return redis.error_reply('MY Error')"), "MY Error");
        let s: String = eval(&mut con, "return redis.status_reply('FINE')", &[], &[]);
        assert_eq!(s, "FINE");
        let v: Value = eval(&mut con, "return {1,{2,'a'},3.5,false,true}", &[], &[]);
        assert_eq!(
            v,
            Value::Array(vec![
                Value::Int(1),
                Value::Array(vec![Value::Int(2), Value::BulkString(b"a".to_vec())]),
                Value::Int(3),
                Value::Nil,
                Value::Int(1),
            ])
        );
        let v: Vec<String> = eval(&mut con, "return {KEYS[1], KEYS[2], ARGV[1]}", &["k1", "k2"], &["a1"]);
        assert_eq!(v, ["k1", "k2", "a1"]);
        // Redis replies become Lua values and back.
        let _: () = q(&mut con, &["RPUSH", "l", "a", "b"]);
        let v: Vec<String> = eval(&mut con, "return redis.call('lrange', KEYS[1], 0, -1)", &["l"], &[]);
        assert_eq!(v, ["a", "b"]);
        let s: String = eval(&mut con, "return redis.call('set', 'x', 'y')", &[], &[]);
        assert_eq!(s, "OK");
        let s: String = eval(&mut con, "return type(redis.call('get', 'nokey'))", &[], &[]);
        assert_eq!(s, "boolean", "nil bulk is false in RESP2");
        let s: String = eval(&mut con, "local r = redis.call('set','x','y') return r.ok", &[], &[]);
        assert_eq!(s, "OK", "status replies are {{ok=…}}");
        // Numbers sent to commands use Lua's %.14g.
        let s: String = eval(&mut con, "redis.call('set','n',1e20) return redis.call('get','n')", &[], &[]);
        assert_eq!(s, "1e+20");
        let s: String = eval(&mut con, "redis.call('set','n',0.1) return redis.call('get','n')", &[], &[]);
        assert_eq!(s, "0.1");
        let s: String = eval(&mut con, "return redis.sha1hex('')", &[], &[]);
        assert_eq!(s, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        let s: String = eval(&mut con, "return redis.REDIS_VERSION .. ' ' .. redis.REDIS_VERSION_NUM", &[], &[]);
        assert_eq!(s, "7.0.15 458767");
        let v: Vec<i64> = eval(&mut con, "return {redis.REPL_ALL, redis.REPL_AOF, redis.REPL_NONE, redis.REPL_REPLICA, redis.REPL_SLAVE, redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING}", &[], &[]);
        assert_eq!(v, [3, 1, 0, 2, 2, 0, 1, 2, 3]);
        let v: i64 = eval(&mut con, "return redis.replicate_commands() and 1 or 0", &[], &[]);
        assert_eq!(v, 1);
        let v: Option<i64> = eval(&mut con, "return redis.breakpoint()", &[], &[]);
        assert_eq!(v, None);
        let v: Option<i64> = eval(&mut con, "redis.set_repl(redis.REPL_NONE) redis.log(redis.LOG_WARNING, 'from a script') return redis.debug('x')", &[], &[]);
        assert_eq!(v, None);
    }

    fn deep_results_and_recursion_do_not_crash(srv: &Server) {
        let mut c = srv.raw();
        let deep = raw(&mut c, &["EVAL", "local t = {} local c = t for i=1,100000 do c[1] = {} c = c[1] end return t", "0"]);
        assert_eq!(deep.matches("*1\r\n").count(), 1001);
        assert!(deep.ends_with("-ERR reached lua stack limit\r\n"));
        let s = "local t = {} local c = t for i=1,100000 do c[1] = {} c = c[1] end return #cjson.encode(t)";
        assert!(raw(&mut c, &["EVAL", s, "0"]).starts_with("-ERR user_script:1: Cannot serialise, excessive nesting (1001)"));
        let s = "local function f(n) if n == 0 then return 0 end return 1 + f(n-1) end return f(100000)";
        assert!(raw(&mut c, &["EVAL", s, "0"]).starts_with("-ERR user_script:1: stack overflow"));
        assert_eq!(raw(&mut c, &["PING"]), "+PONG\r\n");
    }

    fn errors_have_redis_texts(srv: &Server) {
        let mut con = srv.client();
        let sha = |s: &str| sha1(s);
        let s = "return x";
        assert_eq!(eval_err(&mut con, s), format!("ERR user_script:1: Script attempted to access nonexistent global variable 'x' script: {}, on @user_script:1.", sha(s)));
        let s = "x = 1";
        assert_eq!(eval_err(&mut con, s), format!("ERR user_script:1: Attempt to modify a readonly table script: {}, on @user_script:1.", sha(s)));
        let s = "return redis.call('nosuch')";
        assert_eq!(eval_err(&mut con, s), format!("ERR Unknown Redis command called from script script: {}, on @user_script:1.", sha(s)));
        let s = "return redis.call('get')";
        assert_eq!(eval_err(&mut con, s), format!("ERR Wrong number of args calling Redis command from script script: {}, on @user_script:1.", sha(s)));
        let s = "return redis.call('config', 'get', 'x')";
        assert_eq!(eval_err(&mut con, s), format!("ERR This Redis command is not allowed from script script: {}, on @user_script:1.", sha(s)));
        let s = "local a = 1\nreturn redis.call('blpop', 'l', 0)";
        assert_eq!(eval_err(&mut con, s), format!("ERR This Redis command is not allowed from script script: {}, on @user_script:2.", sha(s)));
        let s = "return redis.call('get', {})";
        assert_eq!(eval_err(&mut con, s), format!("ERR Lua redis lib command arguments must be strings or integers script: {}, on @user_script:1.", sha(s)));
        let s = "return redis.call()";
        assert_eq!(eval_err(&mut con, s), format!("ERR Please specify at least one argument for this redis lib call script: {}, on @user_script:1.", sha(s)));
        let s = "error('boom')";
        assert_eq!(eval_err(&mut con, s), format!("ERR user_script:1: boom script: {}, on @user_script:1.", sha(s)));
        let s = "error({err='xx'})";
        assert_eq!(eval_err(&mut con, s), format!("xx script: {}, on @user_script:1.", sha(s)));
        let _: () = q(&mut con, &["LPUSH", "list", "a"]);
        let s = "return redis.call('get', 'list')";
        assert_eq!(eval_err(&mut con, s), format!("WRONGTYPE Operation against a key holding the wrong kind of value script: {}, on @user_script:1.", sha(s)));
        // redis.pcall answers errors as tables; pcall sees their text.
        assert_eq!(eval_err(&mut con, "return redis.pcall('get', 'list')"), "WRONGTYPE Operation against a key holding the wrong kind of value");
        assert_eq!(eval_err(&mut con, "return redis.pcall('get')"), "ERR Wrong number of args calling Redis command from script");
        let v: Vec<String> = eval(&mut con, "local ok, e = pcall(redis.call, 'get', 'list'); return {tostring(ok), type(e), e}", &[], &[]);
        assert_eq!(v, ["false", "string", "WRONGTYPE Operation against a key holding the wrong kind of value"]);
        let v: Vec<String> = eval(&mut con, "local r = redis.pcall('nosuch'); return {type(r), r.err}", &[], &[]);
        assert_eq!(v, ["table", "ERR Unknown Redis command called from script"]);
        let s = "return redis.setresp(4)";
        assert_eq!(eval_err(&mut con, s), format!("ERR RESP version must be 2 or 3. script: {}, on @user_script:1.", sha(s)));
        let s = "return redis.sha1hex()";
        assert_eq!(eval_err(&mut con, s), format!("ERR wrong number of arguments script: {}, on @user_script:1.", sha(s)));
        let s = "return redis.log(99, 'x')";
        assert_eq!(eval_err(&mut con, s), format!("ERR Invalid debug level. script: {}, on @user_script:1.", sha(s)));
        let s = "return redis.set_repl(99)";
        assert_eq!(eval_err(&mut con, s), format!("ERR Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE. script: {}, on @user_script:1.", sha(s)));
        assert_eq!(eval_err(&mut con, "return syntax error here"), "ERR Error compiling script (new function): user_script:1: '<eof>' expected near 'error'");
        assert_eq!(fails(&mut con, &["EVAL", "return 1", "2", "a"]), "ERR Number of keys can't be greater than number of args");
        assert_eq!(fails(&mut con, &["EVAL", "return 1", "-1"]), "ERR Number of keys can't be negative");
        assert_eq!(fails(&mut con, &["EVAL", "return 1", "abc"]), "ERR value is not an integer or out of range");
        assert_eq!(fails(&mut con, &["EVAL", "return 1"]), "ERR wrong number of arguments for 'eval' command");
        assert_eq!(fails(&mut con, &["EVALSHA", "ffffffffffffffffffffffffffffffffffffffff", "0"]), "NOSCRIPT No matching script. Please use EVAL.");
        assert_eq!(fails(&mut con, &["EVALSHA", "abc", "x"]), "NOSCRIPT No matching script. Please use EVAL.");
        // A failed compile does not enter the cache.
        let exists: Vec<i64> = q(&mut con, &["SCRIPT", "EXISTS", &sha("return syntax error here")]);
        assert_eq!(exists, [0]);
    }

    fn read_only_scripts_and_shebang_flags(srv: &Server) {
        let mut con = srv.client();
        let s = "return redis.call('set','x','1')";
        let e = fails(&mut con, &["EVAL_RO", s, "0"]);
        assert_eq!(e, format!("ERR Write commands are not allowed from read-only scripts. script: {}, on @user_script:1.", sha1(s)));
        let s = "#!lua flags=no-writes\nreturn redis.call('set','a','b')";
        assert_eq!(eval_err(&mut con, s), format!("ERR Write commands are not allowed from read-only scripts. script: {}, on @user_script:2.", sha1(s)));
        let _: () = q(&mut con, &["SET", "a", "v"]);
        let v: String = eval(&mut con, "#!lua flags=no-writes,allow-oom\nreturn redis.call('get','a')", &[], &[]);
        assert_eq!(v, "v");
        let v: String = q(&mut con, &["EVAL_RO", "return redis.call('get','a')", "0"]);
        assert_eq!(v, "v");
        assert_eq!(fails(&mut con, &["EVAL_RO", "#!lua\nreturn redis.call('set', 'x', 1)", "0"]), "ERR Can not execute a script with write flag using *_ro command.");
        assert_eq!(eval_err(&mut con, "#!lua flags=bogus\nreturn 1"), "ERR Unexpected flag in script shebang: bogus");
        assert_eq!(eval_err(&mut con, "#!lua name=x\nreturn 1"), "ERR Unknown lua shebang option: name=x");
        assert_eq!(eval_err(&mut con, "#!luax\nreturn 1"), "ERR Unexpected engine in script shebang: #!luax");
        let v: i64 = eval(&mut con, "#!lua flags=no-cluster,allow-cross-slot-keys,allow-stale\nreturn 1", &[], &[]);
        assert_eq!(v, 1);
        let sha = q::<String>(&mut con, &["SCRIPT", "LOAD", "#!lua flags=no-writes\nreturn redis.call('get', KEYS[1])"]);
        let v: String = q(&mut con, &["EVALSHA_RO", &sha, "1", "a"]);
        assert_eq!(v, "v");
    }

    fn info_memory_counts_cached_scripts_and_functions_and_flush_async_frees_them(srv: &Server) {
        let mut con = srv.client();
        let field = |con: &mut Connection, name: &str| -> i64 {
            let info: String = q(con, &["INFO", "memory"]);
            let line = info.lines().find(|l| l.starts_with(&format!("{name}:"))).unwrap();
            line[name.len() + 1..].trim().parse().unwrap()
        };
        let _: () = q(&mut con, &["SCRIPT", "FLUSH"]);
        let _: () = q(&mut con, &["FUNCTION", "FLUSH"]);
        assert_eq!(field(&mut con, "number_of_cached_scripts"), 0);
        let _: i64 = q(&mut con, &["EVAL", "return 1", "0"]);
        let _: i64 = q(&mut con, &["EVAL", "return 2", "0"]);
        let _: String = q(&mut con, &["SCRIPT", "LOAD", "return 3"]);
        let _: i64 = q(&mut con, &["EVAL", "return 1", "0"]);
        assert_eq!(field(&mut con, "number_of_cached_scripts"), 3);
        let lib = "#!lua name=lib\nredis.register_function('f1', function() return 1 end)\n\
                   redis.register_function('F2', function() return 2 end)";
        let _: String = q(&mut con, &["FUNCTION", "LOAD", lib]);
        assert_eq!(field(&mut con, "number_of_functions"), 2);
        assert_eq!(field(&mut con, "number_of_libraries"), 1);
        let _: () = q(&mut con, &["SCRIPT", "FLUSH", "ASYNC"]);
        assert_eq!(field(&mut con, "number_of_cached_scripts"), 0);
        assert_eq!(fails(&mut con, &["EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0"]).split(' ').next(), Some("NOSCRIPT"));
        // Functions are found whatever the case of the name.
        let v: i64 = q(&mut con, &["FCALL", "f2", "0"]);
        assert_eq!(v, 2);
    }

    fn script_cache_commands(srv: &Server) {
        let mut con = srv.client();
        let body = "return 'cached'";
        let sha: String = q(&mut con, &["SCRIPT", "LOAD", body]);
        assert_eq!(sha, sha1(body));
        let v: String = q(&mut con, &["EVALSHA", &sha, "0"]);
        assert_eq!(v, "cached");
        let v: String = q(&mut con, &["EVALSHA", &sha.to_uppercase(), "0"]);
        assert_eq!(v, "cached", "EVALSHA ignores case");
        // A script EVAL ran is cached too; SHA1s are not case-sensitive.
        let _: i64 = eval(&mut con, "return 7", &[], &[]);
        let e: Vec<i64> = q(&mut con, &["SCRIPT", "EXISTS", &sha, &sha1("return 7"), "nope", &sha.to_uppercase()]);
        assert_eq!(e, [1, 1, 0, 1]);
        // Every connection (so every core) sees the cache.
        for _ in 0..4 {
            let mut other = srv.client();
            let v: String = q(&mut other, &["EVALSHA", &sha, "0"]);
            assert_eq!(v, "cached");
        }
        let _: () = q(&mut con, &["SCRIPT", "FLUSH", "ASYNC"]);
        assert_eq!(fails(&mut con, &["EVALSHA", &sha, "0"]), "NOSCRIPT No matching script. Please use EVAL.");
        let _: () = q(&mut con, &["SCRIPT", "FLUSH"]);
        let _: () = q(&mut con, &["SCRIPT", "FLUSH", "sync"]);
        assert_eq!(fails(&mut con, &["SCRIPT", "FLUSH", "bogus"]), "ERR SCRIPT FLUSH only support SYNC|ASYNC option");
        assert_eq!(fails(&mut con, &["SCRIPT", "LOAD", "return +"]), "ERR Error compiling script (new function): user_script:1: unexpected symbol near '+'");
        assert_eq!(fails(&mut con, &["SCRIPT", "LOAD"]), "ERR wrong number of arguments for 'script|load' command");
        assert_eq!(fails(&mut con, &["SCRIPT", "EXISTS"]), "ERR wrong number of arguments for 'script|exists' command");
        assert_eq!(fails(&mut con, &["SCRIPT", "bogus"]), "ERR unknown subcommand 'bogus'. Try SCRIPT HELP.");
        assert_eq!(fails(&mut con, &["SCRIPT", "KILL"]), "NOTBUSY No scripts in execution right now.");
        let help: Vec<String> = q(&mut con, &["SCRIPT", "HELP"]);
        assert_eq!(help.len(), 17);
        assert_eq!(help[0], "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
        let info: Vec<Value> = q(&mut con, &["COMMAND", "INFO", "eval"]);
        let Value::Array(row) = &info[0] else { panic!("{info:?}") };
        assert_eq!(row[1], Value::Int(-3));
        let keys: Vec<String> = q(&mut con, &["COMMAND", "GETKEYS", "EVAL", "return 1", "2", "a", "b", "c"]);
        assert_eq!(keys, ["a", "b"]);
    }

    fn resp3_conversions_match_redis(srv: &Server) {
        let mut c = srv.raw();
        raw(&mut c, &["HELLO", "3"]);
        raw(&mut c, &["HSET", "h", "a", "1"]);
        raw(&mut c, &["SADD", "s", "x"]);
        raw(&mut c, &["ZADD", "z", "1.5", "m"]);
        let cases: &[(&str, &str)] = &[
            ("redis.setresp(3); return redis.call('hgetall','h')", "%1\r\n$1\r\na\r\n$1\r\n1\r\n"),
            ("return redis.call('hgetall','h')", "*2\r\n$1\r\na\r\n$1\r\n1\r\n"),
            ("redis.setresp(3); return {redis.call('hgetall','h'), redis.call('smembers','s')}", "*2\r\n%1\r\n$1\r\na\r\n$1\r\n1\r\n~1\r\n$1\r\nx\r\n"),
            ("redis.setresp(3); return redis.call('zscore','z','m')", ",1.5\r\n"),
            ("redis.setresp(3); local d = redis.call('zscore','z','m'); return type(d) .. ' ' .. tostring(d.double)", "$9\r\ntable 1.5\r\n"),
            ("return redis.call('zscore','z','m')", "$3\r\n1.5\r\n"),
            ("redis.setresp(3); local m = redis.call('hgetall','h'); local s = redis.call('smembers','s'); return {m.map.a, s.set.x, type(redis.call('get','nokey'))}", "*3\r\n$1\r\n1\r\n#t\r\n$3\r\nnil\r\n"),
            ("redis.setresp(3); return redis.call('zrange','z',0,-1,'withscores')", "*1\r\n*2\r\n$1\r\nm\r\n,1.5\r\n"),
            ("return redis.call('zrange','z',0,-1,'withscores')", "*2\r\n$1\r\nm\r\n$3\r\n1.5\r\n"),
            ("redis.setresp(3); return redis.call('exists','h') == 1", "#t\r\n"),
            ("return {double=3.5}", ",3.5\r\n"),
            ("return {big_number='123456789012345678901234567890'}", "(123456789012345678901234567890\r\n"),
            ("return {map={a=1}}", "%1\r\n$1\r\na\r\n:1\r\n"),
            ("return {set={a=true}}", "~1\r\n$1\r\na\r\n"),
            ("return {verbatim_string={format='txt', string='hello'}}", "=9\r\ntxt:hello\r\n"),
            ("return true", ":1\r\n"),
            ("return false", "_\r\n"),
            ("redis.setresp(3) return false", "#f\r\n"),
            ("redis.setresp(3) return nil", "_\r\n"),
            ("redis.setresp(3) return redis.call('get', 'nokey')", "_\r\n"),
        ];
        for (script, want) in cases {
            assert_eq!(raw(&mut c, &["EVAL", script, "0"]), *want, "{script}");
        }
        // The same values to a RESP2 client.
        let mut c2 = srv.raw();
        let cases2: &[(&str, &str)] = &[
            ("return {double=3.5}", "$3\r\n3.5\r\n"),
            ("return {big_number='12345'}", "$5\r\n12345\r\n"),
            ("return {map={a=1}}", "*2\r\n$1\r\na\r\n:1\r\n"),
            ("return {set={a=true}}", "*1\r\n$1\r\na\r\n"),
            ("redis.setresp(3) return true", ":1\r\n"),
            ("redis.setresp(3) return false", ":0\r\n"),
            ("return {ok='a\\r\\nb'}", "+a  b\r\n"),
        ];
        for (script, want) in cases2 {
            assert_eq!(raw(&mut c2, &["EVAL", script, "0"]), *want, "{script}");
        }
    }

    fn sandbox_is_redis_s(srv: &Server) {
        let mut con = srv.client();
        let globals: String = eval(&mut con, "local t={} for k,v in pairs(_G) do t[#t+1]=k end table.sort(t) return table.concat(t, ' ')", &[], &[]);
        for name in ["ARGV", "KEYS", "_G", "_VERSION", "assert", "collectgarbage", "coroutine", "error", "gcinfo", "getmetatable", "ipairs", "load", "loadstring", "math", "next", "pairs", "pcall", "rawequal", "rawget", "rawset", "redis", "select", "setmetatable", "string", "table", "tonumber", "tostring", "type", "unpack", "xpcall"] {
            assert!(globals.split(' ').any(|g| g == name), "{name} missing from {globals}");
        }
        for name in ["os", "io", "print", "dofile", "loadfile", "getfenv", "setfenv", "require", "module", "debug", "package", "newproxy"] {
            assert!(!globals.split(' ').any(|g| g == name), "{name} present in {globals}");
            let s = format!("return {name}");
            assert_eq!(eval_err(&mut con, &s), format!("ERR user_script:1: Script attempted to access nonexistent global variable '{name}' script: {}, on @user_script:1.", sha1(&s)));
        }
        let v: i64 = eval(&mut con, "return loadstring('return 1 + 1')()", &[], &[]);
        assert_eq!(v, 2);
        for s in ["string.x = 1", "redis.call = nil", "math.floor = nil"] {
            assert_eq!(eval_err(&mut con, s), format!("ERR user_script:1: Attempt to modify a readonly table script: {}, on @user_script:1.", sha1(s)));
        }
        for s in ["rawset(_G, 'x', 1)", "setmetatable(_G, nil)"] {
            assert_eq!(eval_err(&mut con, s), format!("ERR Attempt to modify a readonly table script: {}, on @user_script:1.", sha1(s)));
        }
        // Nothing leaked into the next script.
        let v: String = eval(&mut con, "return type(redis.call) .. type(string.format) .. tostring(rawget(_G, 'x'))", &[], &[]);
        assert_eq!(v, "functionfunctionnil");
        let v: String = eval(&mut con, "local t = {} t.x = 1 return tostring(t.x) .. string.format('%d', 5) .. ('ab'):upper()", &[], &[]);
        assert_eq!(v, "15AB", "local tables and string methods work");
        let v: i64 = eval(&mut con, "local n = 0 for k in pairs(redis) do n = n + 1 end return n", &[], &[]);
        assert_eq!(v, 23);
    }

    fn script_touches_undeclared_keys_on_every_shard(srv: &Server) {
        let mut con = srv.client();
        let keys = spread_keys("u:", 16);
        // Keys built inside the script, none declared.
        let n: i64 = eval(&mut con, "for i = 0, 15 do redis.call('set', 'u:{t' .. i .. '}', i) end return #redis.call('keys', 'u:*')", &[], &[]);
        assert_eq!(n, 16);
        for (i, k) in keys.iter().enumerate() {
            let v: i64 = q(&mut con, &["GET", k]);
            assert_eq!(v, i as i64);
        }
        let sum: i64 = eval(&mut con, "local s = 0 for i = 0, 15 do s = s + tonumber(redis.call('get', 'u:{t' .. i .. '}')) end return s", &[], &[]);
        assert_eq!(sum, 120);
        // MSET and MGET spanning shards from a script.
        let v: Vec<String> = eval(&mut con, "redis.call('mset', KEYS[1], 'a', KEYS[2], 'b', KEYS[3], 'c') return redis.call('mget', KEYS[1], KEYS[2], KEYS[3])", &[&keys[0], &keys[5], &keys[9]], &[]);
        assert_eq!(v, ["a", "b", "c"]);
        // SELECT inside a script does not leak to the connection.
        let _: () = q(&mut con, &["SET", "db0key", "zero"]);
        let v: Option<String> = eval(&mut con, "redis.call('select', 1) return redis.call('get', 'db0key')", &[], &[]);
        assert_eq!(v, None);
        let v: String = q(&mut con, &["GET", "db0key"]);
        assert_eq!(v, "zero");
    }

    fn eval_inside_multi_and_blocking_commands_in_scripts(srv: &Server) {
        let mut con = srv.client();
        let replies: Vec<Value> = redis::pipe()
            .atomic()
            .cmd("EVAL").arg("return redis.call('mset', 'a{1}', 'x', 'b{2}', 'y')").arg(0)
            .cmd("SET").arg("c").arg("1")
            .cmd("EVAL").arg("return redis.call('mget', 'a{1}', 'b{2}', 'c')").arg(0)
            .query(&mut con)
            .unwrap();
        assert_eq!(replies.len(), 3);
        assert_eq!(
            replies[2],
            Value::Array(vec![
                Value::BulkString(b"x".to_vec()),
                Value::BulkString(b"y".to_vec()),
                Value::BulkString(b"1".to_vec()),
            ])
        );
        // Scripts never block: BLMPOP/BZMPOP answer at once.
        let v: Option<String> = eval(&mut con, "return redis.call('blmpop', 0, 1, 'nolist', 'left')", &[], &[]);
        assert_eq!(v, None);
        let v: Vec<Value> = eval(&mut con, "redis.call('rpush', 'l2', 'a') return redis.call('blmpop', 0, 1, 'l2', 'left')", &[], &[]);
        assert_eq!(v.len(), 2);
        let s = "return redis.call('bzmpop', -1, 1, 'z', 'min')";
        assert_eq!(eval_err(&mut con, s), format!("ERR timeout is negative script: {}, on @user_script:1.", sha1(s)));
        let s = "return redis.call('blpop', 'l', 0)";
        assert_eq!(eval_err(&mut con, s), format!("ERR This Redis command is not allowed from script script: {}, on @user_script:1.", sha1(s)));
    }

    fn bundled_libraries_work_in_scripts(srv: &Server) {
        let mut c = srv.raw();
        // Replies from Redis 7.0.15.
        let cases: &[(&str, &str)] = &[
            ("return cjson.encode({a=1})", "$7\r\n{\"a\":1}\r\n"),
            ("return cjson.encode({1,2,'x',true})", "$14\r\n[1,2,\"x\",true]\r\n"),
            ("local t = cjson.decode('{\"a\":[1,2,{\"b\":null}]}') return {t.a[1], t.a[2], type(t.a[3].b)}", "*3\r\n:1\r\n:2\r\n$8\r\nuserdata\r\n"),
            ("return cmsgpack.pack({1,2,3})", "$4\r\n\u{93}\u{1}\u{2}\u{3}\r\n"),
            ("local t = cmsgpack.unpack(cmsgpack.pack({x=2})) return t.x", ":2\r\n"),
            ("return bit.band(0xff, 0x0f)", ":15\r\n"),
            ("return bit.tohex(65535)", "$8\r\n0000ffff\r\n"),
            ("return bit.bxor(5, 3)", ":6\r\n"),
            ("return bit.lshift(1, 10)", ":1024\r\n"),
            ("return {struct.unpack('>I2', struct.pack('>I2', 258))}", "*2\r\n:258\r\n:3\r\n"),
        ];
        for (script, want) in cases {
            let got = raw(&mut c, &["EVAL", script, "0"]);
            if script.contains("cmsgpack.pack({1,2,3})") {
                assert!(got.starts_with("$4\r\n"), "{script}: {got:?}");
                continue;
            }
            assert_eq!(got, *want, "{script}");
        }
        let mut con = srv.client();
        let s = "return cjson.decode('[1,2')";
        assert_eq!(eval_err(&mut con, s), format!("ERR user_script:1: Expected comma or array end but found T_END at character 5 script: {}, on @user_script:1.", sha1(s)));
        let s = "cjson.x = 1";
        assert_eq!(eval_err(&mut con, s), format!("ERR user_script:1: Attempt to modify a readonly table script: {}, on @user_script:1.", sha1(s)));
        let packed: Vec<u8> = eval(&mut con, "return cmsgpack.pack({1,2,3})", &[], &[]);
        assert_eq!(packed, [0x93, 1, 2, 3]);
    }

    fn scripts_spanning_shards_are_atomic(srv: &Server) {
        let port = srv.port();
        let keys = spread_keys("bal:", 4);
        let mut con = srv.client();
        for k in &keys {
            let _: () = q(&mut con, &["SET", k, "100"]);
        }
        // Move money between undeclared keys on different shards; readers
        // sum all balances in one script and must always see 400.
        let transfer = "local a = 'bal:{t' .. ARGV[1] .. '}' local b = 'bal:{t' .. ARGV[2] .. '}' \
            local x = tonumber(redis.call('get', a)) if x < 1 then return 0 end \
            redis.call('decrby', a, 1) redis.call('incrby', b, 1) return 1";
        let sum = "local s = 0 for i = 0, 3 do s = s + tonumber(redis.call('get', 'bal:{t' .. i .. '}')) end return s";
        let start = Arc::new(Barrier::new(5));
        let mut handles = Vec::new();
        for w in 0..3u32 {
            let start = start.clone();
            handles.push(thread::spawn(move || {
                let mut con = common::client(port);
                start.wait();
                for i in 0..200u32 {
                    let from = ((i + w) % 4).to_string();
                    let to = ((i + w + 1) % 4).to_string();
                    let _: i64 = eval(&mut con, transfer, &[], &[&from, &to]);
                }
            }));
        }
        let reader = {
            let start = start.clone();
            thread::spawn(move || {
                let mut con = common::client(port);
                start.wait();
                for _ in 0..300 {
                    let s: i64 = eval(&mut con, sum, &[], &[]);
                    assert_eq!(s, 400, "a script saw another script half done");
                }
            })
        };
        start.wait();
        for h in handles {
            h.join().unwrap();
        }
        reader.join().unwrap();
        let s: i64 = eval(&mut con, sum, &[], &[]);
        assert_eq!(s, 400);
    }

    fn s37_lock_with_lua_release_and_extend(srv: &Server) {
        let mut con = srv.client();
        let release = "if redis.call('get',KEYS[1]) == ARGV[1] then return redis.call('del',KEYS[1]) else return 0 end";
        let extend = "if redis.call('get',KEYS[1]) == ARGV[1] then return redis.call('pexpire',KEYS[1],ARGV[2]) else return 0 end";
        let acquire = "return redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX')";
        let ok: Option<String> = eval(&mut con, acquire, &["lock:res"], &["owner-1", "30000"]);
        assert_eq!(ok.as_deref(), Some("OK"));
        let again: Option<String> = eval(&mut con, acquire, &["lock:res"], &["owner-2", "30000"]);
        assert_eq!(again, None, "second acquire fails");
        let n: i64 = eval(&mut con, release, &["lock:res"], &["owner-2"]);
        assert_eq!(n, 0, "a non-owner cannot release");
        let n: i64 = eval(&mut con, extend, &["lock:res"], &["owner-1", "60000"]);
        assert_eq!(n, 1);
        let ttl: i64 = q(&mut con, &["PTTL", "lock:res"]);
        assert!(ttl > 30000 && ttl <= 60000, "{ttl}");
        let n: i64 = eval(&mut con, release, &["lock:res"], &["owner-1"]);
        assert_eq!(n, 1);
        let ok: Option<String> = eval(&mut con, acquire, &["lock:res"], &["owner-2", "50"]);
        assert_eq!(ok.as_deref(), Some("OK"));
        eventually("the lock to expire", || {
            let e: i64 = q(&mut con, &["EXISTS", "lock:res"]);
            e == 0
        });
        // Contended: of 8 clients racing for one lock, exactly one wins.
        let port = srv.port();
        let start = Arc::new(Barrier::new(8));
        let winners: Vec<bool> = (0..8)
            .map(|i| {
                let start = start.clone();
                thread::spawn(move || {
                    let mut con = common::client(port);
                    start.wait();
                    let r: Option<String> = eval(&mut con, acquire, &["lock:race"], &[&format!("o{i}"), "30000"]);
                    r.is_some()
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().unwrap())
            .collect();
        assert_eq!(winners.iter().filter(|w| **w).count(), 1);
    }

    fn s35_token_bucket_allows_exactly_capacity_under_concurrency(srv: &Server) {
        // Capacity 50, no refill during the test (rate 0): 6 clients x 20
        // requests must get exactly 50 grants; an interleaved HMGET/HMSET
        // would over-grant.
        let script = "local key = KEYS[1] local now = tonumber(ARGV[1]) local capacity = tonumber(ARGV[2]) local rate = tonumber(ARGV[3]) \
            local b = redis.call('HMGET', key, 'tokens', 'last_refill') \
            local tokens = tonumber(b[1]) or capacity local last = tonumber(b[2]) or now \
            tokens = math.min(capacity, tokens + (now - last) * rate) \
            local allowed = 0 if tokens >= 1 then tokens = tokens - 1 allowed = 1 end \
            redis.call('HMSET', key, 'tokens', tokens, 'last_refill', now) redis.call('EXPIRE', key, 3600) return allowed";
        let port = srv.port();
        let start = Arc::new(Barrier::new(6));
        let granted: i64 = (0..6)
            .map(|_| {
                let start = start.clone();
                thread::spawn(move || {
                    let mut con = common::client(port);
                    start.wait();
                    (0..20).map(|_| eval::<i64>(&mut con, script, &["rate_limit:u1"], &["1700000000", "50", "0"])).sum::<i64>()
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().unwrap())
            .sum();
        assert_eq!(granted, 50);
        let mut con = srv.client();
        let tokens: String = q(&mut con, &["HGET", "rate_limit:u1", "tokens"]);
        assert_eq!(tokens, "0");
        let ttl: i64 = q(&mut con, &["TTL", "rate_limit:u1"]);
        assert!(ttl > 3500);
    }

    fn s34_sliding_window_allows_exactly_limit_under_concurrency(srv: &Server) {
        let script = "local key = KEYS[1] local window = tonumber(ARGV[1]) local limit = tonumber(ARGV[2]) local now = tonumber(ARGV[3]) \
            redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window) \
            local count = redis.call('ZCARD', key) \
            if count < limit then redis.call('ZADD', key, now, now .. ':' .. ARGV[4]) redis.call('EXPIRE', key, window) return {1, limit - count - 1} end \
            return {0, 0}";
        let port = srv.port();
        let start = Arc::new(Barrier::new(5));
        let allowed: i64 = (0..5)
            .map(|t| {
                let start = start.clone();
                thread::spawn(move || {
                    let mut con = common::client(port);
                    start.wait();
                    let mut n = 0;
                    for i in 0..30 {
                        let r: Vec<i64> = eval(&mut con, script, &["rate_limit:7"], &["60", "40", "1700000000.25", &format!("{t}-{i}")]);
                        assert_eq!(r.len(), 2);
                        n += r[0];
                    }
                    n
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().unwrap())
            .sum();
        assert_eq!(allowed, 40);
        let mut con = srv.client();
        let card: i64 = q(&mut con, &["ZCARD", "rate_limit:7"]);
        assert_eq!(card, 40);
        // The float `now` reached ZADD as Lua formats it (%.14g).
        let first: Vec<String> = q(&mut con, &["ZRANGE", "rate_limit:7", "0", "0", "WITHSCORES"]);
        assert!(first[0].starts_with("1700000000.25:"), "{first:?}");
    }

    fn s32_fixed_window_builds_undeclared_keys(srv: &Server) {
        let script = "local key = 'ratelimit:' .. KEYS[1] .. ':' .. math.floor(tonumber(redis.call('TIME')[1]) / ARGV[1]) \
            local n = redis.call('INCR', key) if n == 1 then redis.call('EXPIRE', key, ARGV[1]) end \
            if n > tonumber(ARGV[2]) then return 0 end return 1";
        let mut con = srv.client();
        let got: Vec<i64> = (0..15).map(|_| eval(&mut con, script, &["user:1000"], &["3600", "10"])).collect();
        assert_eq!(got.iter().sum::<i64>(), 10);
        assert_eq!(&got[..10], &[1; 10]);
    }

    fn s41_bank_transfer_and_s42_inventory(srv: &Server) {
        let mut con = srv.client();
        let transfer = "local from = tonumber(redis.call('GET', KEYS[1])) local amount = tonumber(ARGV[1]) \
            if from < amount then return redis.error_reply('Insufficient funds') end \
            redis.call('DECRBY', KEYS[1], amount) redis.call('INCRBY', KEYS[2], amount) \
            redis.call('LPUSH', 'transactions:log', '{\"from\":\"' .. KEYS[1] .. '\",\"t\":' .. redis.call('TIME')[1] .. '}') \
            return redis.status_reply('OK')";
        let _: () = q(&mut con, &["SET", "account:1000", "1000"]);
        let _: () = q(&mut con, &["SET", "account:2000", "500"]);
        let r: String = eval(&mut con, transfer, &["account:1000", "account:2000"], &["100"]);
        assert_eq!(r, "OK");
        let e = try_eval::<Value>(&mut con, transfer, &["account:1000", "account:2000"], &["5000"]).unwrap_err();
        // error_reply keeps a first word as the error code, as Redis does.
        assert_eq!(error_text(e), "Insufficient funds");
        let a: i64 = q(&mut con, &["GET", "account:1000"]);
        let b: i64 = q(&mut con, &["GET", "account:2000"]);
        assert_eq!((a, b), (900, 600));
        let logged: i64 = q(&mut con, &["LLEN", "transactions:log"]);
        assert_eq!(logged, 1);
        let reserve = "local stock = tonumber(redis.call('HGET', 'inventory', KEYS[1])) local n = tonumber(ARGV[1]) \
            if not stock or stock < n then return redis.error_reply('Insufficient stock') end \
            redis.call('HINCRBY', 'inventory', KEYS[1], -n) redis.call('HINCRBY', 'inventory:reserved', KEYS[1], n) return 1";
        let release = "redis.call('HINCRBY', 'inventory', KEYS[1], ARGV[1]) redis.call('HINCRBY', 'inventory:reserved', KEYS[1], -ARGV[1]) return 1";
        let _: () = q(&mut con, &["HSET", "inventory", "prod:1", "100", "prod:2", "50", "prod:3", "25"]);
        let _: i64 = eval(&mut con, reserve, &["prod:1"], &["10"]);
        let _: i64 = eval(&mut con, release, &["prod:1"], &["5"]);
        let left: i64 = q(&mut con, &["HGET", "inventory", "prod:1"]);
        let held: i64 = q(&mut con, &["HGET", "inventory:reserved", "prod:1"]);
        assert_eq!((left, held), (95, 5));
        let e = try_eval::<Value>(&mut con, reserve, &["prod:3"], &["26"]).unwrap_err();
        assert_eq!(error_text(e), "Insufficient stock");
    }

    fn a_script_that_outgrows_its_declared_shard_runs_exactly_once(srv: &Server) {
        // Each script writes its declared key, then a key it did not
        // declare. Where the declared key lives on the connection's own
        // core the script first runs holding that shard only, meets the
        // undeclared key, has its write undone and runs again holding
        // every shard: the writes must land exactly once either way. A new
        // body per run (a comment) makes each script new to the server.
        let keys = spread_keys("undo", 64);
        let mut con = srv.client();
        // Each script's undeclared key has the next key's hash tag, so it
        // lives on another shard than the declared one about 3 times in 4.
        let other = |i: usize| format!("undo:other{{t{}}}", (i + 1) % keys.len());
        for (i, key) in keys.iter().enumerate() {
            let body = format!(
                "-- {i}\nredis.call('incr', KEYS[1]) redis.call('rpush', KEYS[1]..':log', 'a') \
                 redis.call('incr', ARGV[1]) return redis.call('get', KEYS[1])"
            );
            let got: String = eval(&mut con, &body, &[key.as_str()], &[other(i).as_str()]);
            assert_eq!(got, "1", "{key}");
            let log: Vec<String> = q(&mut con, &["LRANGE", &format!("{key}:log"), "0", "-1"]);
            assert_eq!(log, ["a"], "{key}");
        }
        for i in 0..keys.len() {
            let n: i64 = q(&mut con, &["GET", &other(i)]);
            assert_eq!(n, 1, "{}", other(i));
        }
        if srv.shards() > 1 {
            // Some declared keys live on the connection's core: those runs
            // were undone once and ran again, so RPUSH ran more often than
            // it took effect.
            let stats: String = q(&mut con, &["INFO", "commandstats"]);
            let calls: usize = stats
                .lines()
                .find_map(|l| l.strip_prefix("cmdstat_rpush:calls="))
                .and_then(|l| l.split(',').next())
                .and_then(|n| n.parse().ok())
                .expect("cmdstat_rpush");
            assert!(calls > keys.len(), "no run was undone: {calls} RPUSH calls");
        }
        // The same script again, now known to need every shard.
        let body = "redis.call('incr', KEYS[1]) redis.call('incr', ARGV[1]) return 1";
        for key in &keys {
            let _: i64 = eval(&mut con, body, &[key.as_str()], &["undo:total"]);
            let _: i64 = eval(&mut con, body, &[key.as_str()], &["undo:total"]);
        }
        let total: i64 = q(&mut con, &["GET", "undo:total"]);
        assert_eq!(total, 2 * keys.len() as i64);
    }

    fn functions_load_call_list_dump_restore(srv: &Server) {
        let mut con = srv.client();
        let lib = "#!lua name=mylib\n\
            redis.register_function('getk', function(keys, args) return redis.call('get', keys[1]) end)\n\
            redis.register_function{function_name='setk', callback=function(keys, args) return redis.call('set', keys[1], args[1]) end, description='sets a key'}\n\
            redis.register_function{function_name='ro', callback=function(keys, args) return #keys + #args end, flags={'no-writes', 'allow-stale'}}\n\
            redis.register_function('bad', function() return x end)";
        let name: String = q(&mut con, &["FUNCTION", "LOAD", lib]);
        assert_eq!(name, "mylib");
        let ok: String = q(&mut con, &["FCALL", "setk", "1", "fk", "val"]);
        assert_eq!(ok, "OK");
        // Every core loads the library lazily.
        for _ in 0..4 {
            let mut other = srv.client();
            let v: String = q(&mut other, &["FCALL", "getk", "1", "fk"]);
            assert_eq!(v, "val");
        }
        let n: i64 = q(&mut con, &["FCALL_RO", "ro", "2", "a", "b", "c"]);
        assert_eq!(n, 3);
        assert_eq!(fails(&mut con, &["FCALL_RO", "setk", "1", "fk", "v"]), "ERR Can not execute a script with write flag using *_ro command.");
        assert_eq!(fails(&mut con, &["FCALL", "bad", "0"]), "ERR user_function:5: Script attempted to access nonexistent global variable 'x' script: bad, on @user_function:5.");
        assert_eq!(fails(&mut con, &["FCALL", "nosuch", "0"]), "ERR Function not found");
        // Functions see no KEYS/ARGV globals, even after an EVAL on the core.
        let _: () = q(&mut con, &["FUNCTION", "LOAD", "#!lua name=kk\nredis.register_function('kk', function() return KEYS end)"]);
        let _: i64 = eval(&mut con, "return 1", &["a"], &[]);
        assert_eq!(fails(&mut con, &["FCALL", "kk", "0"]), "ERR user_function:2: Script attempted to access nonexistent global variable 'KEYS' script: kk, on @user_function:2.");
        let _: () = q(&mut con, &["FUNCTION", "DELETE", "kk"]);
        assert_eq!(fails(&mut con, &["FCALL", "getk", "x"]), "ERR Bad number of keys provided");
        assert_eq!(fails(&mut con, &["FCALL", "getk", "5"]), "ERR Number of keys can't be greater than number of args");
        assert_eq!(fails(&mut con, &["FUNCTION", "LOAD", lib]), "ERR Library 'mylib' already exists");
        assert_eq!(fails(&mut con, &["FUNCTION", "LOAD", "#!lua name=other\nredis.register_function('getk', function() return 1 end)"]), "ERR Function getk already exists");
        assert_eq!(fails(&mut con, &["FUNCTION", "LOAD", "return 1"]), "ERR Missing library metadata");
        assert_eq!(fails(&mut con, &["FUNCTION", "LOAD", "#!lua name=x\nreturn 1"]), "ERR No functions registered");
        assert_eq!(fails(&mut con, &["FUNCTION", "LOAD", "#!lua name=x\nredis.call('ping')"]), "ERR Error registering functions: ERR user_function:2: Script attempted to access nonexistent global variable 'call'");
        assert_eq!(fails(&mut con, &["FUNCTION", "LOAD", "#!lua name=tt\nwhile true do end"]), "ERR Error registering functions: ERR FUNCTION LOAD timeout");
        assert_eq!(fails(&mut con, &["FUNCTION", "LOAD", "#!lua name=x\nsyntax error here"]), "ERR Error compiling function: user_function:2: '=' expected near 'error'");
        assert_eq!(fails(&mut con, &["FUNCTION", "LOAD", "#!foo name=x\nreturn 1"]), "ERR Engine 'foo' not found");
        assert_eq!(fails(&mut con, &["FUNCTION", "LOAD", "#!lua name=z foo=bar\n"]), "ERR Invalid metadata value given: foo=bar");
        assert_eq!(fails(&mut con, &["FUNCTION", "LOAD", "#!lua name=y\nredis.register_function('a b', function() return 1 end)"]), "ERR Error registering functions: ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long");
        // LIST
        let list: Value = q(&mut con, &["FUNCTION", "LIST", "LIBRARYNAME", "my*", "WITHCODE"]);
        let text = format!("{list:?}");
        for needle in ["mylib", "sets a key", "no-writes", "allow-stale", "library_code", "LUA"] {
            assert!(text.contains(needle), "{needle} not in {text}");
        }
        let none: Vec<Value> = q(&mut con, &["FUNCTION", "LIST", "LIBRARYNAME", "zz"]);
        assert!(none.is_empty());
        assert_eq!(fails(&mut con, &["FUNCTION", "LIST", "foo"]), "ERR Unknown argument foo");
        assert_eq!(fails(&mut con, &["FUNCTION", "LIST", "LIBRARYNAME"]), "ERR library name argument was not given");
        // DUMP / FLUSH / RESTORE round trip.
        let dump: Vec<u8> = q(&mut con, &["FUNCTION", "DUMP"]);
        let _: () = q(&mut con, &["FUNCTION", "FLUSH"]);
        assert_eq!(fails(&mut con, &["FCALL", "getk", "1", "fk"]), "ERR Function not found");
        let _: () = redis::cmd("FUNCTION").arg("RESTORE").arg(&dump).query(&mut con).unwrap();
        let v: String = q(&mut con, &["FCALL", "getk", "1", "fk"]);
        assert_eq!(v, "val");
        let e: String = redis::cmd("FUNCTION").arg("RESTORE").arg(&dump).query::<()>(&mut con).map_err(error_text).unwrap_err();
        assert_eq!(e, "ERR Library 'mylib' already exists");
        let _: () = redis::cmd("FUNCTION").arg("RESTORE").arg(&dump).arg("REPLACE").query(&mut con).unwrap();
        let _: () = redis::cmd("FUNCTION").arg("RESTORE").arg(&dump).arg("FLUSH").query(&mut con).unwrap();
        assert_eq!(fails(&mut con, &["FUNCTION", "RESTORE", "abc"]), "ERR DUMP payload version or checksum are wrong");
        assert_eq!(fails(&mut con, &["FUNCTION", "RESTORE", "abc", "bogus"]), "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.");
        // REPLACE swaps the code on every core.
        let _: String = q(&mut con, &["FUNCTION", "LOAD", "REPLACE", "#!lua name=mylib\nredis.register_function('getk', function() return 'v2' end)"]);
        for _ in 0..4 {
            let mut other = srv.client();
            let v: String = q(&mut other, &["FCALL", "getk", "0"]);
            assert_eq!(v, "v2");
        }
        assert_eq!(fails(&mut con, &["FCALL", "setk", "0"]), "ERR Function not found");
        // STATS, DELETE, errors.
        let stats: Value = q(&mut con, &["FUNCTION", "STATS"]);
        let text = format!("{stats:?}");
        assert!(text.contains("libraries_count") && text.contains("functions_count"), "{text}");
        let _: () = q(&mut con, &["FUNCTION", "DELETE", "mylib"]);
        assert_eq!(fails(&mut con, &["FUNCTION", "DELETE", "mylib"]), "ERR Library not found");
        assert_eq!(fails(&mut con, &["FUNCTION", "FLUSH", "bogus"]), "ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
        assert_eq!(fails(&mut con, &["FUNCTION", "KILL"]), "NOTBUSY No scripts in execution right now.");
        assert_eq!(fails(&mut con, &["FUNCTION", "bogus"]), "ERR unknown subcommand 'bogus'. Try FUNCTION HELP.");
        let empty: Vec<u8> = q(&mut con, &["FUNCTION", "DUMP"]);
        assert_eq!(empty, b"\n\x00]\x9b\\@\x0f\x7f\xa2\xda");
    }
}

/// Starts a script that never ends on its own, on its own thread; returns
/// the thread, which yields the script's reply.
fn spawn_spinner(port: u16, cmd: &'static [&'static str]) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut con = common::client(port);
        con.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        match redis::cmd(cmd[0]).arg(&cmd[1..]).query::<Value>(&mut con) {
            Ok(v) => format!("{v:?}"),
            Err(e) => error_text(e),
        }
    })
}

/// Polls with PING (which never waits for the script's hold, unlike a key
/// command sent before the script turns busy) until it answers `-BUSY`;
/// then checks a key command gets the same.
fn wait_busy(con: &mut Connection) -> String {
    let mut last = String::new();
    eventually("the script to be busy", || {
        match redis::cmd("PING").query::<Value>(con) {
            Ok(_) => false,
            Err(e) => {
                last = error_text(e);
                true
            }
        }
    });
    assert_eq!(fails(con, &["GET", "k"]), last);
    last
}

#[test]
fn script_kill_busy_replies_and_unkillable() {
    common::with_each_shards(&["--busy-reply-threshold", "100"], |srv| {
        let port = srv.port();
        let mut con = srv.client();
        let spinner = spawn_spinner(
            port,
            &["EVAL", "local i = 0\nwhile true do i = i + 1 end", "0"],
        );
        assert_eq!(wait_busy(&mut con), "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.");
        assert_eq!(fails(&mut con, &["FUNCTION", "KILL"]), "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.");
        assert_eq!(fails(&mut con, &["SCRIPT", "LOAD", "return 1"]), "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.");
        let ok: String = q(&mut con, &["SCRIPT", "KILL"]);
        assert_eq!(ok, "OK");
        let reply = spinner.join().unwrap();
        assert_eq!(
            reply,
            format!(
                "ERR Script killed by user with SCRIPT KILL... script: {}, on @user_script:2.",
                sha1("local i = 0\nwhile true do i = i + 1 end")
            )
        );
        let pong: String = q(&mut con, &["PING"]);
        assert_eq!(pong, "PONG");
        // pcall cannot swallow the kill.
        let spinner = spawn_spinner(
            port,
            &[
                "EVAL",
                "pcall(function() while true do end end) return 'survived'",
                "0",
            ],
        );
        wait_busy(&mut con);
        let _: String = q(&mut con, &["SCRIPT", "KILL"]);
        assert!(spinner
            .join()
            .unwrap()
            .starts_with("ERR Script killed by user with SCRIPT KILL..."));
        // Functions: FUNCTION KILL, and the FUNCTION flavour of BUSY.
        let _: String = q(&mut con, &["FUNCTION", "LOAD", "#!lua name=busy\nredis.register_function('spin', function() while true do end end)"]);
        let spinner = spawn_spinner(port, &["FCALL", "spin", "0"]);
        assert_eq!(wait_busy(&mut con), "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.");
        assert_eq!(fails(&mut con, &["SCRIPT", "KILL"]), "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.");
        let stats: Value = q(&mut con, &["FUNCTION", "STATS"]);
        assert!(format!("{stats:?}").contains("spin"), "{stats:?}");
        let _: String = q(&mut con, &["FUNCTION", "KILL"]);
        assert_eq!(
            spinner.join().unwrap(),
            "ERR Script killed by user with SCRIPT KILL... script: spin, on @user_function:2."
        );
        // A script that wrote cannot be killed; it ends on its own.
        let spinner = spawn_spinner(port, &["EVAL", "redis.call('set', 'w', '1') local t = redis.call('time') local stop = tonumber(t[1]) + 1 while tonumber(redis.call('time')[1]) <= stop do end return 'done'", "0"]);
        wait_busy(&mut con);
        assert_eq!(fails(&mut con, &["SCRIPT", "KILL"]), "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.");
        assert_eq!(
            spinner.join().unwrap(),
            format!("{:?}", Value::BulkString(b"done".to_vec()))
        );
        let w: String = q(&mut con, &["GET", "w"]);
        assert_eq!(w, "1");
    });
}

#[test]
fn shutdown_nosave_stops_a_busy_script() {
    for shards in common::SHARD_COUNTS {
        let mut srv = Server::start(*shards, &["--busy-reply-threshold", "100"]);
        let port = srv.port();
        let mut con = srv.client();
        let spinner = spawn_spinner(
            port,
            &["EVAL", "redis.call('set', 'w', 1) while true do end", "0"],
        );
        wait_busy(&mut con);
        assert!(fails(&mut con, &["SCRIPT", "KILL"]).starts_with("UNKILLABLE"));
        let _ = redis::cmd("SHUTDOWN")
            .arg("NOSAVE")
            .query::<Value>(&mut con);
        eventually("the server to exit", || srv.exited().is_some());
        let _ = spinner.join();
    }
}
