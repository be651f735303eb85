//! HyperLogLog commands through a real client, at 1 and 4 shards: PFADD,
//! PFCOUNT of one and of several keys, PFMERGE with keys on different
//! shards, the unique-visitor patterns of the tutorials (accuracy within 2%
//! at 100k distinct items), and a side-by-side run against Debian's
//! `redis-server`: the same PFADDs build byte-identical strings through
//! the sparse encoding, the promotion to dense and the dense encoding, and
//! sketches copied between the servers with GET/SET count the same.

mod common;

use common::{fails, q};

/// `{a}`, `{b}`, `{c}` and `{d}` hash to four different shards at 4 shards.
fn on(tag: &str, name: &str) -> String {
    format!("{{{tag}}}{name}")
}

fn pfadd(con: &mut redis::Connection, key: &str, items: impl IntoIterator<Item = String>) -> i64 {
    let mut cmd = redis::cmd("PFADD");
    cmd.arg(key);
    for i in items {
        cmd.arg(i);
    }
    cmd.query(con).unwrap()
}

fn get(con: &mut redis::Connection, key: &str) -> Vec<u8> {
    redis::cmd("GET").arg(key).query(con).unwrap()
}

common::shard_tests! {
    fn pfadd_and_pfcount_small_sets(srv: &Server) {
        let mut con = srv.client();
        assert_eq!(q::<i64>(&mut con, &["PFADD", "unique_visitors", "user123", "user456", "user789"]), 1);
        assert_eq!(q::<i64>(&mut con, &["PFADD", "unique_visitors", "user123", "user999"]), 1);
        assert_eq!(q::<i64>(&mut con, &["PFADD", "unique_visitors", "user123"]), 0);
        assert_eq!(q::<i64>(&mut con, &["PFCOUNT", "unique_visitors"]), 4);
        assert_eq!(q::<i64>(&mut con, &["PFCOUNT", "nokey"]), 0);
        assert_eq!(q::<i64>(&mut con, &["PFADD", "empty"]), 1);
        assert_eq!(q::<i64>(&mut con, &["PFADD", "empty"]), 0);
        assert_eq!(q::<i64>(&mut con, &["PFCOUNT", "empty"]), 0);
        assert_eq!(q::<String>(&mut con, &["TYPE", "empty"]), "string");
        let sketch = get(&mut con, "unique_visitors");
        assert_eq!(&sketch[..4], b"HYLL");
        q::<()>(&mut con, &["SET", "plain", "hello"]);
        let bad = "WRONGTYPE Key is not a valid HyperLogLog string value.";
        assert_eq!(fails(&mut con, &["PFADD", "plain", "x"]), bad);
        assert_eq!(fails(&mut con, &["PFCOUNT", "plain"]), bad);
        assert_eq!(fails(&mut con, &["PFMERGE", "dst", "plain"]), bad);
        q::<i64>(&mut con, &["RPUSH", "list", "x"]);
        assert!(fails(&mut con, &["PFADD", "list", "x"]).starts_with("WRONGTYPE Operation"));
        // A truncated sparse sketch: a valid cached count is still answered
        // (as Redis does); once the cache is stale, the damage shows.
        let mut broken = sketch[..17].to_vec();
        redis::cmd("SET").arg("broken").arg(&broken).query::<()>(&mut con).unwrap();
        assert_eq!(q::<i64>(&mut con, &["PFCOUNT", "broken"]), 4);
        broken[15] |= 0x80;
        redis::cmd("SET").arg("broken").arg(&broken).query::<()>(&mut con).unwrap();
        assert_eq!(fails(&mut con, &["PFCOUNT", "broken"]), "INVALIDOBJ Corrupted HLL object detected");
    }

    fn pfmerge_and_pfcount_across_shards(srv: &Server) {
        let mut con = srv.client();
        let (p1, p2, total) = (on("a", "page1_visitors"), on("b", "page2_visitors"), on("c", "total_visitors"));
        q::<i64>(&mut con, &["PFADD", &p1, "user1", "user2", "user3"]);
        q::<i64>(&mut con, &["PFADD", &p2, "user2", "user3", "user4"]);
        assert_eq!(q::<String>(&mut con, &["PFMERGE", &total, &p1, &p2]), "OK");
        assert_eq!(q::<i64>(&mut con, &["PFCOUNT", &total]), 4);
        assert_eq!(q::<i64>(&mut con, &["PFCOUNT", &p1, &p2]), 4);
        assert_eq!(q::<i64>(&mut con, &["PFCOUNT", &p1, &p2, &on("d", "none")]), 4);
        // The destination is itself a source.
        q::<i64>(&mut con, &["PFADD", &on("d", "more"), "user5"]);
        assert_eq!(q::<String>(&mut con, &["PFMERGE", &total, &on("d", "more")]), "OK");
        assert_eq!(q::<i64>(&mut con, &["PFCOUNT", &total]), 5);
        // Merging nothing creates an empty sketch.
        assert_eq!(q::<String>(&mut con, &["PFMERGE", &on("d", "fresh")]), "OK");
        assert_eq!(q::<i64>(&mut con, &["PFCOUNT", &on("d", "fresh")]), 0);
        q::<()>(&mut con, &["SET", &on("b", "str"), "x"]);
        assert!(fails(&mut con, &["PFMERGE", &total, &p1, &on("b", "str")]).starts_with("WRONGTYPE Key is not"));
        assert!(fails(&mut con, &["PFCOUNT", &p1, &on("b", "str")]).starts_with("WRONGTYPE Key is not"));
        assert_eq!(q::<i64>(&mut con, &["PFCOUNT", &total]), 5, "a failed merge changes nothing");
    }

    fn unique_visitors_per_page_and_site_within_two_percent(srv: &Server) {
        let mut con = srv.client();
        let pages = [on("a", "uv:home"), on("b", "uv:shop"), on("c", "uv:blog")];
        // 100k distinct visitors spread over three pages, some on several.
        let mut per_page = [0i64; 3];
        for chunk in 0..100 {
            let mut batches: [Vec<String>; 3] = Default::default();
            for i in chunk * 1000..(chunk + 1) * 1000 {
                let uid = format!("visitor:{i}");
                for (p, batch) in batches.iter_mut().enumerate() {
                    if i % (p + 2) == 0 || p == 0 {
                        batch.push(uid.clone());
                    }
                }
            }
            for (p, batch) in batches.into_iter().enumerate() {
                per_page[p] += batch.len() as i64;
                pfadd(&mut con, &pages[p], batch);
            }
        }
        let within = |got: i64, want: i64| ((got - want).abs() as f64) <= 0.02 * want as f64;
        for (p, page) in pages.iter().enumerate() {
            let n = q::<i64>(&mut con, &["PFCOUNT", page]);
            assert!(within(n, per_page[p]), "{page}: {n} vs {}", per_page[p]);
        }
        let site = on("d", "uv:site");
        q::<String>(&mut con, &["PFMERGE", &site, &pages[0], &pages[1], &pages[2]]);
        let n = q::<i64>(&mut con, &["PFCOUNT", &site]);
        assert!(within(n, 100_000), "site: {n}");
        assert_eq!(q::<i64>(&mut con, &["PFCOUNT", &pages[0], &pages[1], &pages[2]]), n);
        // Hourly page analytics (S17): counter plus sketch with a TTL.
        q::<i64>(&mut con, &["INCR", "stats:page_views:home:total"]);
        q::<i64>(&mut con, &["PFADD", "stats:unique_visitors:home:2024-01-15", "user:1000"]);
        q::<i64>(&mut con, &["EXPIRE", "stats:unique_visitors:home:2024-01-15", "604800"]);
        assert_eq!(q::<i64>(&mut con, &["PFCOUNT", "stats:unique_visitors:home:2024-01-15"]), 1);
        assert!(q::<i64>(&mut con, &["TTL", "stats:unique_visitors:home:2024-01-15"]) > 604_000);
    }

    fn pfcount_cache_is_a_change_watch_sees(srv: &Server) {
        let mut con = srv.client();
        q::<i64>(&mut con, &["PFADD", "h", "a", "b"]);
        q::<()>(&mut con, &["WATCH", "h"]);
        q::<i64>(&mut con, &["PFCOUNT", "h"]);
        q::<()>(&mut con, &["MULTI"]);
        q::<String>(&mut con, &["PING"]);
        let r: Option<Vec<String>> = redis::cmd("EXEC").query(&mut con).unwrap();
        assert_eq!(r, None, "PFCOUNT refreshed the cache inside the value");
        q::<()>(&mut con, &["WATCH", "h"]);
        q::<i64>(&mut con, &["PFCOUNT", "h"]);
        q::<()>(&mut con, &["MULTI"]);
        q::<String>(&mut con, &["PING"]);
        let r: Option<Vec<String>> = redis::cmd("EXEC").query(&mut con).unwrap();
        assert_eq!(r, Some(vec!["PONG".to_string()]), "a valid cache is not rewritten");
    }
}

/// The same PFADD batches against redis-server and lanner give the same
/// bytes at every step: sparse growth, promotion to dense (at the default
/// 3000 bytes and at a small limit), dense updates, and PFMERGE of sparse
/// and dense sketches; every sketch counts the same on both servers, and
/// sketches copied across count the same.
#[test]
fn sketches_are_byte_identical_to_redis() {
    let redis = common::start_redis();
    let mut r = redis.client();
    for shards in common::SHARD_COUNTS {
        let srv = common::Server::start(*shards, &[]);
        let mut l = srv.client();
        for limit in ["3000", "200"] {
            for con in [&mut r, &mut l] {
                q::<()>(con, &["FLUSHALL"]);
                q::<()>(con, &["CONFIG", "SET", "hll-sparse-max-bytes", limit]);
            }
            let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
            for step in 0..40 {
                let n = if step < 20 { 7 } else { 400 };
                let batch: Vec<String> = (0..n)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        format!("item-{}", x % 50_000)
                    })
                    .collect();
                let key = if step % 2 == 0 { "h1" } else { "h2" };
                let added_r = pfadd(&mut r, key, batch.clone());
                let added_l = pfadd(&mut l, key, batch);
                assert_eq!(added_l, added_r, "limit {limit} step {step}");
                assert_eq!(
                    get(&mut l, key),
                    get(&mut r, key),
                    "limit {limit} step {step}"
                );
                if step % 5 == 0 {
                    let c_r: i64 = q(&mut r, &["PFCOUNT", key]);
                    assert_eq!(q::<i64>(&mut l, &["PFCOUNT", key]), c_r);
                    assert_eq!(get(&mut l, key), get(&mut r, key), "cache written back");
                    assert_eq!(
                        q::<i64>(&mut l, &["PFCOUNT", "h1", "h2"]),
                        q::<i64>(&mut r, &["PFCOUNT", "h1", "h2"])
                    );
                }
                if step == 3 || step == 30 {
                    for con in [&mut r, &mut l] {
                        q::<String>(con, &["PFMERGE", "m", "h1", "h2"]);
                    }
                    assert_eq!(get(&mut l, "m"), get(&mut r, "m"), "merge at step {step}");
                }
            }
            // Copies across servers count the same.
            for key in ["h1", "h2", "m"] {
                let bytes = get(&mut r, key);
                redis::cmd("SET")
                    .arg("copy")
                    .arg(&bytes)
                    .query::<()>(&mut l)
                    .unwrap();
                let (cl, cr): (i64, i64) = (
                    q(&mut l, &["PFCOUNT", "copy"]),
                    q(&mut r, &["PFCOUNT", key]),
                );
                assert_eq!(cl, cr, "{key} copied into lanner");
                let bytes = get(&mut l, key);
                redis::cmd("SET")
                    .arg("copy")
                    .arg(&bytes)
                    .query::<()>(&mut r)
                    .unwrap();
                assert_eq!(
                    q::<i64>(&mut r, &["PFCOUNT", "copy"]),
                    cr,
                    "{key} copied into redis"
                );
            }
        }
        q::<()>(&mut r, &["CONFIG", "SET", "hll-sparse-max-bytes", "3000"]);
    }
}

/// PFSELFTEST runs Redis's register and accuracy self-test (10 million
/// elements) and answers OK; PFDEBUG reports and converts encodings.
#[test]
fn pfselftest_and_pfdebug() {
    let srv = common::Server::start(1, &[]);
    let mut con = srv.client();
    assert_eq!(q::<String>(&mut con, &["PFSELFTEST"]), "OK");
    q::<i64>(&mut con, &["PFADD", "h", "a", "b", "c"]);
    assert_eq!(
        q::<String>(&mut con, &["PFDEBUG", "ENCODING", "h"]),
        "sparse"
    );
    assert_eq!(
        q::<String>(&mut con, &["PFDEBUG", "DECODE", "h"])
            .split(' ')
            .count(),
        7
    );
    assert_eq!(q::<i64>(&mut con, &["PFDEBUG", "TODENSE", "h"]), 1);
    assert_eq!(
        q::<String>(&mut con, &["PFDEBUG", "ENCODING", "h"]),
        "dense"
    );
    assert_eq!(q::<i64>(&mut con, &["STRLEN", "h"]), 12304);
    let regs: Vec<i64> = q(&mut con, &["PFDEBUG", "GETREG", "h"]);
    assert_eq!(regs.len(), 16384);
    assert_eq!(regs.iter().filter(|&&r| r != 0).count(), 3);
    assert_eq!(q::<i64>(&mut con, &["PFCOUNT", "h"]), 3);
    assert_eq!(
        fails(&mut con, &["PFDEBUG", "GETREG", "nokey"]),
        "ERR The specified key does not exist"
    );
}
