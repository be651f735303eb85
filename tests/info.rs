//! INFO fields that measure something, at 1 and 4 shards: `os` names the
//! running kernel, the scripting fields follow the script cache, the
//! function libraries and the Lua VMs, `avg_ttl` converges on the keys'
//! TTL as Redis estimates it, and the reply-buffer counters move.

mod common;

use std::time::{Duration, Instant};

use common::q;

fn field(con: &mut redis::Connection, section: &str, name: &str) -> String {
    let text: String = q(con, &["INFO", section]);
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .unwrap_or_else(|| panic!("INFO {section} has no {name}:\n{text}"))
        .trim()
        .to_string()
}

fn num(con: &mut redis::Connection, section: &str, name: &str) -> u64 {
    field(con, section, name).parse().unwrap()
}

common::shard_tests! {
    fn os_names_the_running_kernel(srv: &Server) {
        let mut con = srv.client();
        let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
        let os = field(&mut con, "server", "os");
        assert_eq!(
            os,
            format!("Linux {} {}", release.trim(), std::env::consts::ARCH),
            "{os}"
        );
        assert_eq!(field(&mut con, "server", "arch_bits"), "64");
    }

    fn scripting_fields_follow_scripts_functions_and_vms(srv: &Server) {
        let mut con = srv.client();
        assert_eq!(num(&mut con, "memory", "number_of_cached_scripts"), 0);
        assert_eq!(num(&mut con, "memory", "used_memory_scripts_eval"), 0);
        for i in 0..3 {
            let _: String = q(&mut con, &["SCRIPT", "LOAD", &format!("return {i}")]);
        }
        let _: i64 = q(&mut con, &["EVAL", "return #KEYS", "1", "k"]);
        assert_eq!(num(&mut con, "memory", "number_of_cached_scripts"), 4);
        let eval = num(&mut con, "memory", "used_memory_scripts_eval");
        assert!(eval > 4 * 40, "four bodies and SHA1s: {eval}");
        // The VM of the core that ran EVAL holds a few dozen KiB at least.
        let vm = num(&mut con, "memory", "used_memory_lua");
        assert!(vm > 16 * 1024, "{vm}");
        assert_eq!(num(&mut con, "memory", "used_memory_vm_eval"), vm);
        assert_eq!(num(&mut con, "memory", "used_memory_vm_total"), vm);

        let lib = "#!lua name=mylib\nredis.register_function('f1', function() return 1 end)\n\
                   redis.register_function('f2', function() return 2 end)";
        let _: String = q(&mut con, &["FUNCTION", "LOAD", lib]);
        assert_eq!(num(&mut con, "memory", "number_of_libraries"), 1);
        assert_eq!(num(&mut con, "memory", "number_of_functions"), 2);
        let functions = num(&mut con, "memory", "used_memory_functions");
        assert!(functions > lib.len() as u64, "{functions}");
        assert_eq!(num(&mut con, "memory", "used_memory_scripts"), eval + functions);

        let _: () = q(&mut con, &["SCRIPT", "FLUSH"]);
        let _: () = q(&mut con, &["FUNCTION", "FLUSH"]);
        assert_eq!(num(&mut con, "memory", "number_of_cached_scripts"), 0);
        assert_eq!(num(&mut con, "memory", "number_of_libraries"), 0);
        assert_eq!(num(&mut con, "memory", "used_memory_scripts"), 0);
    }

    fn avg_ttl_converges_on_the_keys_ttl(srv: &Server) {
        let mut con = srv.client();
        for i in 0..200 {
            let _: () = q(&mut con, &["SET", &format!("t{i}"), "v", "PX", "1000000"]);
            let _: () = q(&mut con, &["SET", &format!("p{i}"), "v"]);
        }
        // Active expiry samples the keys hz (10) times a second per shard.
        let deadline = Instant::now() + Duration::from_secs(20);
        let avg = loop {
            let ks: String = q(&mut con, &["INFO", "keyspace"]);
            let avg: u64 = ks
                .split("avg_ttl=")
                .nth(1)
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or_else(|| panic!("{ks}"));
            if avg > 0 {
                assert!(ks.contains("db0:keys=400,expires=200,"), "{ks}");
                break avg;
            }
            assert!(Instant::now() < deadline, "avg_ttl stayed 0: {ks}");
            std::thread::sleep(Duration::from_millis(50));
        };
        assert!((950_000..=1_000_000).contains(&avg), "avg_ttl={avg}");
        // Without keys that expire the estimate goes back to 0.
        for i in 0..200 {
            let _: i64 = q(&mut con, &["PERSIST", &format!("t{i}")]);
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ks: String = q(&mut con, &["INFO", "keyspace"]);
            if ks.contains("db0:keys=400,expires=0,avg_ttl=0\r\n") {
                break;
            }
            assert!(Instant::now() < deadline, "avg_ttl stayed: {ks}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn a_large_reply_expands_the_reply_buffer(srv: &Server) {
        let mut con = srv.client();
        let before = num(&mut con, "stats", "reply_buffer_expands");
        let _: () = q(&mut con, &["SET", "big", &"x".repeat(100_000)]);
        let _: String = q(&mut con, &["GET", "big"]);
        assert!(num(&mut con, "stats", "reply_buffer_expands") > before);
    }
}
