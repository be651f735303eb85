//! INFO fields that measure something, at 1 and 4 shards: `os` names the
//! running kernel, the scripting fields follow the script cache, the
//! function libraries and the Lua VMs, `avg_ttl` converges on the keys'
//! TTL as Redis estimates it, the reply-buffer counters move, and
//! `used_memory` adds up from its parts so that an idle server's
//! `mem_fragmentation_ratio` is near 1.

mod common;

use std::collections::HashMap;
use std::io::{Read, Write};
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

fn float(con: &mut redis::Connection, section: &str, name: &str) -> f64 {
    field(con, section, name)
        .trim_end_matches('%')
        .parse()
        .unwrap()
}

/// MEMORY STATS's integer figure `name`.
fn memory_stat(con: &mut redis::Connection, name: &str) -> i64 {
    let stats: HashMap<String, redis::Value> = q(con, &["MEMORY", "STATS"]);
    match stats.get(name) {
        Some(redis::Value::Int(n)) => *n,
        other => panic!("MEMORY STATS {name}: {other:?}"),
    }
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

    fn an_idle_servers_used_memory_is_close_to_its_rss(srv: &Server) {
        let mut con = srv.client();
        let used = num(&mut con, "memory", "used_memory");
        let startup = num(&mut con, "memory", "used_memory_startup");
        assert!(startup > 1024 * 1024, "used_memory_startup={startup}");
        assert!(used >= startup, "{used} < {startup}");
        // As in Redis, an idle server's RSS is mostly code and start-up
        // buffers: the ratio is RSS over what the allocator gave out.
        let text: String = q(&mut con, &["INFO", "memory"]);
        let get = |name: &str| -> f64 {
            text.lines()
                .find_map(|l| l.strip_prefix(&format!("{name}:")))
                .unwrap()
                .trim()
                .parse()
                .unwrap()
        };
        let frag = get("mem_fragmentation_ratio");
        let want = get("used_memory_rss") / get("used_memory");
        assert!(frag > 1.0 && (frag - want).abs() < 0.01, "{text}");
        assert_eq!(
            get("mem_fragmentation_bytes"),
            get("used_memory_rss") - get("used_memory"),
            "{text}"
        );
        assert_eq!(num(&mut con, "memory", "used_memory_dataset"), 0);
        assert_eq!(field(&mut con, "memory", "mem_allocator"), "jemalloc-5.3.0");
    }

    fn used_memory_adds_up_and_follows_the_keyspace(srv: &Server) {
        let mut con = srv.client();
        let before = num(&mut con, "memory", "used_memory");
        let value = "x".repeat(1000);
        for chunk in 0..20 {
            let mut p = redis::pipe();
            for i in 0..1000 {
                p.cmd("SET").arg(format!("k{chunk}:{i}")).arg(&value).ignore();
            }
            let _: () = p.query(&mut con).unwrap();
        }
        let used = num(&mut con, "memory", "used_memory");
        let dataset = num(&mut con, "memory", "used_memory_dataset");
        let overhead = num(&mut con, "memory", "used_memory_overhead");
        assert!(dataset >= 20_000 * 1000, "used_memory_dataset={dataset}");
        assert!(used >= before + 20_000 * 1000, "{before} -> {used}");
        // One INFO call computes the fields from the same figures.
        let text: String = q(&mut con, &["INFO", "memory"]);
        let get = |name: &str| -> u64 {
            text.lines()
                .find_map(|l| l.strip_prefix(&format!("{name}:")))
                .unwrap()
                .trim()
                .parse()
                .unwrap()
        };
        assert_eq!(
            get("used_memory_overhead") + get("used_memory_dataset"),
            get("used_memory"),
            "{text}"
        );
        assert!(overhead >= num(&mut con, "memory", "used_memory_startup"));
        let peak = num(&mut con, "memory", "used_memory_peak");
        assert!(peak >= used, "peak {peak} < used {used}");
        assert_eq!(memory_stat(&mut con, "keys.count"), 20_000);
        assert_eq!(memory_stat(&mut con, "dataset.bytes") as u64, dataset);

        let _: () = q(&mut con, &["FLUSHALL"]);
        let after = num(&mut con, "memory", "used_memory");
        assert!(after + 20_000 * 1000 <= used, "{used} -> {after} after FLUSHALL");
        assert!(num(&mut con, "memory", "used_memory_peak") >= used);
        assert!(float(&mut con, "memory", "used_memory_peak_perc") < 100.0);
    }

    fn client_buffers_count_in_mem_clients_normal(srv: &Server) {
        let mut con = srv.client();
        let one = num(&mut con, "memory", "mem_clients_normal");
        assert!(one >= 32 * 1024, "mem_clients_normal={one}");
        let others: Vec<_> = (0..3).map(|_| srv.client()).collect();
        let four = num(&mut con, "memory", "mem_clients_normal");
        // The request being answered sits in its client's query buffer.
        let info_request = b"*2\r\n$4\r\nINFO\r\n$6\r\nmemory\r\n".len() as u64;
        let idle = one - info_request;
        assert_eq!(four, 4 * idle + info_request, "one client {one}, four {four}");
        let stats_request = b"*2\r\n$6\r\nMEMORY\r\n$5\r\nSTATS\r\n".len() as u64;
        assert_eq!(memory_stat(&mut con, "clients.normal") as u64, 4 * idle + stats_request);
        drop(others);
        let deadline = Instant::now() + Duration::from_secs(10);
        while num(&mut con, "memory", "mem_clients_normal") != one {
            assert!(Instant::now() < deadline, "closed clients still counted");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn memory_stats_reports_startup_and_script_caches(srv: &Server) {
        let mut con = srv.client();
        let startup = num(&mut con, "memory", "used_memory_startup");
        assert_eq!(memory_stat(&mut con, "startup.allocated") as u64, startup);
        assert_eq!(memory_stat(&mut con, "lua.caches"), 0);
        let _: String = q(&mut con, &["SCRIPT", "LOAD", "return 1"]);
        let eval = num(&mut con, "memory", "used_memory_scripts_eval");
        assert!(eval > 0);
        assert_eq!(memory_stat(&mut con, "lua.caches") as u64, eval);
    }

    fn a_scrape_raises_the_memory_peak(srv: &Server) {
        let mut con = srv.client();
        let value = "x".repeat(1000);
        for chunk in 0..20 {
            let mut p = redis::pipe();
            for i in 0..1000 {
                p.cmd("SET").arg(format!("k{chunk}:{i}")).arg(&value).ignore();
            }
            let _: () = p.query(&mut con).unwrap();
        }
        // The scrape is the only thing that measures memory while the keys exist.
        let mut http = std::net::TcpStream::connect(("127.0.0.1", srv.port())).unwrap();
        http.write_all(b"GET /metrics HTTP/1.0\r\n\r\n").unwrap();
        let mut text = String::new();
        http.read_to_string(&mut text).unwrap();
        assert!(text.starts_with("HTTP/1.0 200") || text.starts_with("HTTP/1.1 200"), "{text}");
        let _: () = q(&mut con, &["FLUSHALL"]);
        let startup = num(&mut con, "memory", "used_memory_startup");
        let peak = num(&mut con, "memory", "used_memory_peak");
        assert!(peak >= startup + 2000 * 1000, "startup {startup}, peak {peak}");
    }
}
