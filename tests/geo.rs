//! Geo commands through a real client, at 1 and 4 shards: GEOADD and its
//! options, GEODIST in every unit, GEOHASH, GEOPOS, GEOSEARCH by radius and
//! box, GEOSEARCHSTORE and GEORADIUS … STORE with the destination on
//! another shard, the tutorials' city and "restaurants within 5 km,
//! nearest first" patterns, and a randomised side-by-side run against
//! Debian's `redis-server` (positions, distances, hashes and search results
//! byte for byte). Fixed edge cases are in `tests/diff/geo.txt`.

mod common;

use common::{fails, q};
use redis::Value;

/// `{a}`, `{b}`, `{c}` and `{d}` hash to four different shards at 4 shards.
fn on(tag: &str, name: &str) -> String {
    format!("{{{tag}}}{name}")
}

fn cities(con: &mut redis::Connection, key: &str) {
    let n: i64 = q(
        con,
        &[
            "GEOADD",
            key,
            "-122.4194",
            "37.7749",
            "San Francisco",
            "-74.0059",
            "40.7128",
            "New York",
            "-0.1276",
            "51.5074",
            "London",
            "2.3522",
            "48.8566",
            "Paris",
        ],
    );
    assert_eq!(n, 4);
}

fn dist(con: &mut redis::Connection, args: &[&str]) -> f64 {
    q::<String>(con, args).parse().unwrap()
}

common::shard_tests! {
    fn cities_distances_positions_and_hashes(srv: &Server) {
        let mut con = srv.client();
        cities(&mut con, "cities");
        let sf_ny = dist(&mut con, &["GEODIST", "cities", "San Francisco", "New York", "km"]);
        assert!((sf_ny - 4129.0).abs() < 5.0, "{sf_ny}");
        let lon_par = dist(&mut con, &["GEODIST", "cities", "London", "Paris", "mi"]);
        assert!((lon_par - 214.0).abs() < 2.0, "{lon_par}");
        let m = dist(&mut con, &["GEODIST", "cities", "London", "Paris"]);
        let ft = dist(&mut con, &["GEODIST", "cities", "London", "Paris", "ft"]);
        assert!((m / 0.3048 - ft).abs() < 0.01);
        assert_eq!(q::<Option<String>>(&mut con, &["GEODIST", "cities", "London", "Atlantis"]), None);
        assert_eq!(fails(&mut con, &["GEODIST", "cities", "London", "Paris", "yd"]), "ERR unsupported unit provided. please use M, KM, FT, MI");
        let r: Vec<String> = q(&mut con, &["GEORADIUS", "cities", "-122.4194", "37.7749", "1000", "km"]);
        assert_eq!(r, ["San Francisco"]);
        let r: Vec<String> = q(&mut con, &["GEORADIUSBYMEMBER", "cities", "London", "500", "km", "ASC"]);
        assert_eq!(r, ["London", "Paris"]);
        let pos: Vec<Option<(String, String)>> = q(&mut con, &["GEOPOS", "cities", "London", "Atlantis"]);
        let (lon, lat) = pos[0].clone().unwrap();
        assert!((lon.parse::<f64>().unwrap() + 0.1276).abs() < 1e-5, "{lon}");
        assert!((lat.parse::<f64>().unwrap() - 51.5074).abs() < 1e-5, "{lat}");
        assert_eq!(pos[1], None);
        let hashes: Vec<Option<String>> = q(&mut con, &["GEOHASH", "cities", "London", "Atlantis"]);
        assert!(hashes[0].as_deref().unwrap().starts_with("gcpvj0e"), "{hashes:?}");
        assert_eq!(hashes[0].as_deref().unwrap().len(), 11);
        assert_eq!(hashes[1], None);
        // A geo index is a sorted set.
        assert_eq!(q::<String>(&mut con, &["TYPE", "cities"]), "zset");
        assert_eq!(q::<i64>(&mut con, &["ZCARD", "cities"]), 4);
        assert_eq!(q::<i64>(&mut con, &["ZREM", "cities", "Paris"]), 1);
        let r: Vec<String> = q(&mut con, &["GEORADIUSBYMEMBER", "cities", "London", "500", "km"]);
        assert_eq!(r, ["London"]);
    }

    fn geoadd_options_and_errors(srv: &Server) {
        let mut con = srv.client();
        assert_eq!(q::<i64>(&mut con, &["GEOADD", "g", "13.361389", "38.115556", "Palermo"]), 1);
        assert_eq!(q::<i64>(&mut con, &["GEOADD", "g", "NX", "15", "37", "Palermo", "15.087269", "37.502669", "Catania"]), 1);
        assert_eq!(q::<i64>(&mut con, &["GEOADD", "g", "XX", "CH", "13.5", "38", "Palermo", "1", "1", "Nowhere"]), 1);
        assert_eq!(q::<i64>(&mut con, &["ZCARD", "g"]), 2);
        assert_eq!(fails(&mut con, &["GEOADD", "g", "NX", "XX", "1", "1", "x"]), "ERR syntax error");
        assert_eq!(fails(&mut con, &["GEOADD", "g", "1", "1", "x", "2"]), "ERR syntax error");
        assert_eq!(fails(&mut con, &["GEOADD", "g", "181", "1", "x"]), "ERR invalid longitude,latitude pair 181.000000,1.000000");
        assert_eq!(fails(&mut con, &["GEOADD", "g", "1", "85.1", "x"]), "ERR invalid longitude,latitude pair 1.000000,85.100000");
        assert_eq!(fails(&mut con, &["GEOADD", "g", "a", "1", "x"]), "ERR value is not a valid float");
        q::<()>(&mut con, &["SET", "s", "v"]);
        assert!(fails(&mut con, &["GEOADD", "s", "1", "1", "x"]).starts_with("WRONGTYPE"));
        assert!(fails(&mut con, &["GEOSEARCH", "s", "FROMLONLAT", "1", "1", "BYRADIUS", "1", "km"]).starts_with("WRONGTYPE"));
    }

    fn restaurants_within_5km_nearest_first(srv: &Server) {
        let mut con = srv.client();
        // Around Times Square (-73.9855, 40.7580).
        let places = [
            ("-73.9851", "40.7589", "joes-pizza"),
            ("-73.9776", "40.7527", "grand-central-oyster"),
            ("-73.9934", "40.7505", "penn-deli"),
            ("-73.9632", "40.7794", "museum-cafe"),
            ("-74.0445", "40.6892", "liberty-snacks"),
            ("-73.7781", "40.6413", "jfk-burger"),
        ];
        for (lon, lat, name) in places {
            q::<i64>(&mut con, &["GEOADD", "restaurants", lon, lat, name]);
        }
        let r: Vec<(String, String)> = q(&mut con, &["GEOSEARCH", "restaurants", "FROMLONLAT", "-73.9855", "40.7580", "BYRADIUS", "5", "km", "ASC", "WITHDIST"]);
        let names: Vec<&str> = r.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["joes-pizza", "grand-central-oyster", "penn-deli", "museum-cafe"]);
        let d: Vec<f64> = r.iter().map(|(_, d)| d.parse().unwrap()).collect();
        assert!(d.windows(2).all(|w| w[0] <= w[1]) && d[3] < 5.0, "{d:?}");
        let r: Vec<String> = q(&mut con, &["GEOSEARCH", "restaurants", "FROMLONLAT", "-73.9855", "40.7580", "BYRADIUS", "5", "km", "ASC", "COUNT", "2"]);
        assert_eq!(r, ["joes-pizza", "grand-central-oyster"]);
        let r: Vec<String> = q(&mut con, &["GEOSEARCH", "restaurants", "FROMMEMBER", "joes-pizza", "BYBOX", "4", "4", "km", "DESC"]);
        assert_eq!(r, ["penn-deli", "grand-central-oyster", "joes-pizza"]);
        let r: Value = q(&mut con, &["GEOSEARCH", "restaurants", "FROMLONLAT", "-73.9855", "40.7580", "BYRADIUS", "500", "m", "WITHCOORD", "WITHHASH", "WITHDIST"]);
        let Value::Array(items) = r else { panic!("{r:?}") };
        assert_eq!(items.len(), 1);
        let Value::Array(item) = &items[0] else { panic!() };
        assert_eq!(item.len(), 4);
        assert!(matches!(item[2], Value::Int(h) if h > 0));
        // Stores within 50 km: all of them (JFK is about 22 km away).
        let r: Vec<String> = q(&mut con, &["GEORADIUS", "restaurants", "-73.9855", "40.7580", "50", "km"]);
        assert_eq!(r.len(), 6);
        assert_eq!(fails(&mut con, &["GEOSEARCH", "restaurants", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km", "ANY"]), "ERR the ANY argument requires COUNT argument");
        assert_eq!(fails(&mut con, &["GEOSEARCH", "restaurants", "BYRADIUS", "1", "km", "ASC", "WITHDIST"]), "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for GEOSEARCH");
        assert_eq!(fails(&mut con, &["GEOSEARCH", "restaurants", "FROMMEMBER", "nobody", "BYRADIUS", "1", "km"]), "ERR could not decode requested zset member");
    }

    fn storing_searches_write_destinations_on_any_shard(srv: &Server) {
        let mut con = srv.client();
        let src = on("a", "cities");
        cities(&mut con, &src);
        for dst in [on("a", "near"), on("b", "near")] {
            let n: i64 = q(&mut con, &["GEOSEARCHSTORE", &dst, &src, "FROMMEMBER", "London", "BYRADIUS", "500", "km"]);
            assert_eq!(n, 2);
            assert_eq!(q::<Vec<String>>(&mut con, &["ZRANGE", &dst, "0", "-1"]), ["London", "Paris"]);
            let n: i64 = q(&mut con, &["GEOSEARCHSTORE", &dst, &src, "FROMMEMBER", "London", "BYRADIUS", "500", "km", "STOREDIST"]);
            assert_eq!(n, 2);
            let r: Vec<(String, f64)> = q(&mut con, &["ZRANGE", &dst, "0", "-1", "WITHSCORES"]);
            assert_eq!(r[0], ("London".to_string(), 0.0));
            assert!((r[1].1 - 343.5).abs() < 1.0, "{r:?}");
            // GEORADIUS … STORE / STOREDIST.
            let n: i64 = q(&mut con, &["GEORADIUS", &src, "-0.1276", "51.5074", "10000", "km", "ASC", "COUNT", "3", "STORE", &dst]);
            assert_eq!(n, 3);
            assert_eq!(q::<i64>(&mut con, &["ZCARD", &dst]), 3);
            let n: i64 = q(&mut con, &["GEORADIUSBYMEMBER", &src, "Paris", "100", "km", "STOREDIST", &dst]);
            assert_eq!(n, 1);
            let pos: Vec<Option<(String, String)>> = q(&mut con, &["GEOPOS", &dst, "Paris"]);
            assert!(pos[0].is_some(), "a STOREDIST score still decodes");
            // Nothing found: the destination is deleted.
            let n: i64 = q(&mut con, &["GEORADIUS", &src, "100", "0", "1", "km", "STORE", &dst]);
            assert_eq!(n, 0);
            assert_eq!(q::<i64>(&mut con, &["EXISTS", &dst]), 0);
            q::<()>(&mut con, &["SET", &dst, "x"]);
            let n: i64 = q(&mut con, &["GEOSEARCHSTORE", &dst, &on("c", "none"), "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km"]);
            assert_eq!(n, 0);
            assert_eq!(q::<i64>(&mut con, &["EXISTS", &dst]), 0);
        }
        assert_eq!(fails(&mut con, &["GEORADIUS", &src, "0", "0", "1", "km", "WITHDIST", "STORE", &on("b", "x")]), "ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options");
        assert!(fails(&mut con, &["GEORADIUS_RO", &src, "0", "0", "1", "km", "STORE", "x"]).contains("syntax error"));
        let keys: Vec<String> = q(&mut con, &["COMMAND", "GETKEYS", "GEORADIUS", "k", "0", "0", "1", "km", "STORE", "d"]);
        assert_eq!(keys, ["k", "d"]);
    }
}

/// Random points and searches against redis-server and lanner: every
/// reply (scores, positions, hashes, distances, search results in order,
/// with COUNT, ANY, ASC/DESC, radius and box) must be identical.
#[test]
fn random_points_and_searches_match_redis() {
    let redis = common::start_redis();
    let mut r = redis.client();
    let srv = common::Server::start(4, &[]);
    let mut l = srv.client();
    q::<()>(&mut r, &["FLUSHALL"]);
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut rnd = move |lo: f64, hi: f64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        lo + (x >> 11) as f64 / (1u64 << 53) as f64 * (hi - lo)
    };
    // Clusters around a few centres, plus points all over the world.
    let centres = [
        (2.35, 48.85),
        (-73.98, 40.75),
        (139.7, 35.7),
        (179.9, 0.0),
        (0.0, 84.0),
    ];
    let mut args: Vec<String> = vec!["GEOADD".into(), "pts".into()];
    for i in 0..600 {
        let (lon, lat) = if i % 3 == 0 {
            (rnd(-180.0, 180.0), rnd(-85.0, 85.0))
        } else {
            let (cx, cy) = centres[i % centres.len()];
            (
                (cx + rnd(-0.5, 0.5)).clamp(-180.0, 180.0),
                (cy + rnd(-0.5, 0.5)).clamp(-85.0, 85.0),
            )
        };
        args.extend([format!("{lon:.6}"), format!("{lat:.6}"), format!("p{i}")]);
    }
    let run = |con: &mut redis::Connection, a: &[String]| -> Value {
        let mut cmd = redis::cmd(&a[0]);
        for x in &a[1..] {
            cmd.arg(x);
        }
        cmd.query(con)
            .unwrap_or_else(|e| Value::SimpleString(format!("error: {e}")))
    };
    assert_eq!(run(&mut l, &args), run(&mut r, &args));
    let members: Vec<String> = (0..600).step_by(7).map(|i| format!("p{i}")).collect();
    for cmd in ["GEOPOS", "GEOHASH"] {
        let mut a = vec![cmd.to_string(), "pts".to_string()];
        a.extend(members.iter().cloned());
        assert_eq!(run(&mut l, &a), run(&mut r, &a), "{cmd}");
    }
    let mut checks = 0;
    for i in 0..120 {
        let (cx, cy) = centres[i % centres.len()];
        let (lon, lat) = (
            (cx + rnd(-0.3, 0.3)).clamp(-180.0, 180.0),
            (cy + rnd(-0.3, 0.3)).clamp(-85.0, 85.0),
        );
        let shape: Vec<String> = if i % 2 == 0 {
            vec![
                "BYRADIUS".into(),
                format!("{:.3}", rnd(0.5, 80.0)),
                "km".into(),
            ]
        } else {
            vec![
                "BYBOX".into(),
                format!("{:.3}", rnd(1.0, 150.0)),
                format!("{:.3}", rnd(1.0, 150.0)),
                "km".into(),
            ]
        };
        let from: Vec<String> = if i % 4 == 1 {
            vec!["FROMMEMBER".into(), format!("p{}", (i * 5) % 600)]
        } else {
            vec![
                "FROMLONLAT".into(),
                format!("{lon:.5}"),
                format!("{lat:.5}"),
            ]
        };
        let extra: Vec<&str> = match i % 6 {
            0 => vec!["WITHDIST", "WITHHASH", "WITHCOORD"],
            1 => vec!["ASC", "WITHDIST"],
            2 => vec!["DESC", "COUNT", "5", "WITHDIST"],
            3 => vec!["COUNT", "3", "ANY"],
            4 => vec!["ASC", "COUNT", "7", "ANY", "WITHDIST"],
            _ => vec![],
        };
        let mut a = vec!["GEOSEARCH".to_string(), "pts".to_string()];
        a.extend(from.iter().cloned());
        a.extend(shape.iter().cloned());
        a.extend(extra.iter().map(|s| s.to_string()));
        assert_eq!(run(&mut l, &a), run(&mut r, &a), "{a:?}");
        let d = format!("{{t{i}}}dst");
        let mut s = vec!["GEOSEARCHSTORE".to_string(), d.clone(), "pts".to_string()];
        s.extend(from.iter().cloned());
        s.extend(shape.iter().cloned());
        s.push("STOREDIST".into());
        assert_eq!(run(&mut l, &s), run(&mut r, &s), "{s:?}");
        let z = vec![
            "ZRANGE".to_string(),
            d,
            "0".into(),
            "-1".into(),
            "WITHSCORES".into(),
        ];
        assert_eq!(run(&mut l, &z), run(&mut r, &z), "{s:?}");
        let g = vec![
            "GEORADIUS".to_string(),
            "pts".into(),
            format!("{lon:.5}"),
            format!("{lat:.5}"),
            format!("{:.2}", rnd(1.0, 500.0)),
            "mi".into(),
            "WITHDIST".into(),
            "ASC".into(),
        ];
        assert_eq!(run(&mut l, &g), run(&mut r, &g), "{g:?}");
        let p = vec![
            "GEODIST".to_string(),
            "pts".into(),
            format!("p{i}"),
            format!("p{}", i * 3 + 1),
            "km".into(),
        ];
        assert_eq!(run(&mut l, &p), run(&mut r, &p), "{p:?}");
        checks += 1;
    }
    assert_eq!(checks, 120);
}
