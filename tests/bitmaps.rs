//! Bitmap commands through a real client, at 1 and 4 shards: SETBIT GETBIT
//! BITCOUNT BITPOS BITOP BITFIELD BITFIELD_RO on every string encoding,
//! BITOP with keys on different shards (atomic against concurrent
//! writers), and the daily-active-users and feature-flag patterns of the
//! tutorials. Exact reply bytes for edge cases are in
//! `tests/diff/bitmaps.txt`.

mod common;

use common::{fails, q};
use redis::Value;

/// `{a}`, `{b}`, `{c}` and `{d}` hash to four different shards at 4 shards.
fn on(tag: &str, name: &str) -> String {
    format!("{{{tag}}}{name}")
}

common::shard_tests! {
    fn setbit_getbit_and_the_string_they_build(srv: &Server) {
        let mut con = srv.client();
        assert_eq!(q::<i64>(&mut con, &["SETBIT", "b", "7", "1"]), 0);
        assert_eq!(q::<i64>(&mut con, &["SETBIT", "b", "7", "1"]), 1);
        assert_eq!(q::<i64>(&mut con, &["GETBIT", "b", "7"]), 1);
        assert_eq!(q::<i64>(&mut con, &["GETBIT", "b", "6"]), 0);
        assert_eq!(q::<i64>(&mut con, &["GETBIT", "b", "1000000"]), 0);
        assert_eq!(q::<Vec<u8>>(&mut con, &["GET", "b"]), b"\x01");
        q::<i64>(&mut con, &["SETBIT", "b", "23", "1"]);
        assert_eq!(q::<Vec<u8>>(&mut con, &["GET", "b"]), b"\x01\x00\x01");
        assert_eq!(q::<i64>(&mut con, &["STRLEN", "b"]), 3);
        assert_eq!(q::<i64>(&mut con, &["GETBIT", "missing", "3"]), 0);
        // An integer-encoded string: its decimal text is the bitmap.
        q::<()>(&mut con, &["SET", "n", "12"]);
        assert_eq!(q::<i64>(&mut con, &["BITCOUNT", "n"]), 6);
        assert_eq!(q::<i64>(&mut con, &["SETBIT", "n", "6", "1"]), 0);
        assert_eq!(q::<String>(&mut con, &["GET", "n"]), "32");
        assert_eq!(q::<String>(&mut con, &["OBJECT", "ENCODING", "n"]), "raw");
        assert_eq!(q::<i64>(&mut con, &["INCR", "n"]), 33, "still a number after SETBIT");
        let offset_err = "ERR bit offset is not an integer or out of range";
        assert_eq!(fails(&mut con, &["SETBIT", "b", "-1", "1"]), offset_err);
        assert_eq!(fails(&mut con, &["SETBIT", "b", "4294967296", "1"]), offset_err);
        assert_eq!(fails(&mut con, &["GETBIT", "b", "x"]), offset_err);
        assert_eq!(fails(&mut con, &["SETBIT", "b", "1", "2"]), "ERR bit is not an integer or out of range");
        q::<i64>(&mut con, &["RPUSH", "l", "x"]);
        assert!(fails(&mut con, &["SETBIT", "l", "1", "1"]).starts_with("WRONGTYPE"));
    }

    fn bitcount_and_bitpos_ranges(srv: &Server) {
        let mut con = srv.client();
        q::<()>(&mut con, &["SET", "k", "foobar"]);
        assert_eq!(q::<i64>(&mut con, &["BITCOUNT", "k"]), 26);
        assert_eq!(q::<i64>(&mut con, &["BITCOUNT", "k", "0", "0"]), 4);
        assert_eq!(q::<i64>(&mut con, &["BITCOUNT", "k", "1", "1"]), 6);
        assert_eq!(q::<i64>(&mut con, &["BITCOUNT", "k", "1", "1", "BYTE"]), 6);
        assert_eq!(q::<i64>(&mut con, &["BITCOUNT", "k", "5", "30", "BIT"]), 17);
        assert_eq!(q::<i64>(&mut con, &["BITCOUNT", "missing", "0", "100"]), 0);
        assert_eq!(fails(&mut con, &["BITCOUNT", "k", "0"]), "ERR syntax error");
        redis::cmd("SET").arg("p").arg(&b"\xff\xf0\x00"[..]).query::<()>(&mut con).unwrap();
        assert_eq!(q::<i64>(&mut con, &["BITPOS", "p", "0"]), 12);
        assert_eq!(q::<i64>(&mut con, &["BITPOS", "p", "1", "2"]), -1);
        assert_eq!(q::<i64>(&mut con, &["BITPOS", "p", "1", "7", "15", "BIT"]), 7);
        // Clear bits: past the end only when no end is given.
        redis::cmd("SET").arg("f").arg(&b"\xff\xff"[..]).query::<()>(&mut con).unwrap();
        assert_eq!(q::<i64>(&mut con, &["BITPOS", "f", "0"]), 16);
        assert_eq!(q::<i64>(&mut con, &["BITPOS", "f", "0", "0"]), 16);
        assert_eq!(q::<i64>(&mut con, &["BITPOS", "f", "0", "0", "-1"]), -1);
        assert_eq!(q::<i64>(&mut con, &["BITPOS", "missing", "0"]), 0);
        assert_eq!(q::<i64>(&mut con, &["BITPOS", "missing", "1"]), -1);
        assert_eq!(fails(&mut con, &["BITPOS", "f", "2"]), "ERR The bit argument must be 1 or 0.");
    }

    fn bitop_combines_keys_on_any_shards(srv: &Server) {
        let mut con = srv.client();
        let (a, b, c, d) = (on("a", "x"), on("b", "y"), on("c", "z"), on("d", "dst"));
        redis::cmd("SET").arg(&a).arg(&b"\xf0\x0f"[..]).query::<()>(&mut con).unwrap();
        redis::cmd("SET").arg(&b).arg(&b"\xff"[..]).query::<()>(&mut con).unwrap();
        for (op, want) in [("AND", &b"\xf0\x00"[..]), ("OR", b"\xff\x0f"), ("XOR", b"\x0f\x0f")] {
            assert_eq!(q::<i64>(&mut con, &["BITOP", op, &d, &a, &b, &c]), 2, "{op}");
            let got: Vec<u8> = q(&mut con, &["GET", &d]);
            let want = if op == "AND" { &b"\x00\x00"[..] } else { want };
            assert_eq!(got, want, "{op} with a missing key");
        }
        assert_eq!(q::<i64>(&mut con, &["BITOP", "AND", &d, &a, &b]), 2);
        assert_eq!(q::<Vec<u8>>(&mut con, &["GET", &d]), b"\xf0\x00");
        assert_eq!(q::<i64>(&mut con, &["BITOP", "NOT", &d, &a]), 2);
        assert_eq!(q::<Vec<u8>>(&mut con, &["GET", &d]), b"\x0f\xf0");
        // An empty result deletes the destination, wherever it lives.
        assert_eq!(q::<i64>(&mut con, &["BITOP", "OR", &d, &c, &on("a", "none")]), 0);
        assert_eq!(q::<i64>(&mut con, &["EXISTS", &d]), 0);
        assert_eq!(
            fails(&mut con, &["BITOP", "NOT", &d, &a, &b]),
            "ERR BITOP NOT must be called with a single source key."
        );
        q::<i64>(&mut con, &["RPUSH", &c, "x"]);
        assert!(fails(&mut con, &["BITOP", "AND", &d, &a, &c]).starts_with("WRONGTYPE"));
        assert_eq!(q::<i64>(&mut con, &["EXISTS", &d]), 0);
        assert_eq!(fails(&mut con, &["BITOP", "NAND", &d, &a]), "ERR syntax error");
    }

    fn bitop_across_shards_is_atomic_against_writers(srv: &Server) {
        let (a, b, d) = (on("a", "m"), on("b", "m"), on("c", "m"));
        let mut con = srv.client();
        // A writer flips the same bit of both sources in one transaction;
        // every XOR must see both flipped or neither, so the bit is 0.
        let port = srv.port();
        let (a2, b2) = (a.clone(), b.clone());
        let writer = std::thread::spawn(move || {
            let mut w = common::client(port);
            for i in 0..300 {
                let v = (i % 2).to_string();
                let _: Value = redis::pipe()
                    .atomic()
                    .cmd("SETBIT").arg(&a2).arg(5).arg(&v)
                    .cmd("SETBIT").arg(&b2).arg(5).arg(&v)
                    .query(&mut w)
                    .unwrap();
            }
        });
        for _ in 0..300 {
            q::<i64>(&mut con, &["BITOP", "XOR", &d, &a, &b]);
            if q::<i64>(&mut con, &["EXISTS", &d]) == 1 {
                assert_eq!(q::<i64>(&mut con, &["GETBIT", &d, "5"]), 0);
            }
        }
        writer.join().unwrap();
    }

    fn bitfield_operations_and_overflow(srv: &Server) {
        let mut con = srv.client();
        let r: Vec<i64> = q(&mut con, &["BITFIELD", "bf", "SET", "i8", "0", "100", "GET", "u4", "0", "INCRBY", "i5", "100", "1"]);
        assert_eq!(r, [0, 6, 1]);
        let r: Vec<Option<i64>> = q(&mut con, &["BITFIELD", "bf", "OVERFLOW", "SAT", "INCRBY", "u8", "#1", "300", "OVERFLOW", "FAIL", "INCRBY", "u8", "#1", "1", "OVERFLOW", "WRAP", "INCRBY", "u8", "#1", "1"]);
        assert_eq!(r, [Some(255), None, Some(0)]);
        let r: Vec<i64> = q(&mut con, &["BITFIELD", "bf", "SET", "i64", "64", "-1", "GET", "i64", "64", "GET", "u63", "65"]);
        assert_eq!(r, [1 << 23, -1, i64::MAX], "the i5 at 100 lies inside");
        let r: Vec<i64> = q(&mut con, &["BITFIELD_RO", "bf", "GET", "i8", "0", "GET", "u8", "#20"]);
        assert_eq!(r, [100, 0]);
        assert_eq!(
            fails(&mut con, &["BITFIELD_RO", "bf", "SET", "u8", "0", "1"]),
            "ERR BITFIELD_RO only supports the GET subcommand"
        );
        assert_eq!(
            fails(&mut con, &["BITFIELD", "bf", "GET", "u64", "0"]),
            "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is."
        );
        assert_eq!(fails(&mut con, &["BITFIELD", "bf", "OVERFLOW", "x"]), "ERR Invalid OVERFLOW type specified");
        assert_eq!(q::<Vec<i64>>(&mut con, &["BITFIELD", "nokey", "GET", "i8", "0"]), [0]);
        assert_eq!(q::<i64>(&mut con, &["EXISTS", "nokey"]), 0);
        // Counters packed in one string: per-slot increments.
        for _ in 0..5 {
            q::<Vec<i64>>(&mut con, &["BITFIELD", "ctr", "INCRBY", "u16", "#3", "7"]);
        }
        assert_eq!(q::<Vec<i64>>(&mut con, &["BITFIELD", "ctr", "GET", "u16", "#3"]), [35]);
        assert_eq!(q::<i64>(&mut con, &["STRLEN", "ctr"]), 8);
    }

    fn daily_active_users_with_bitop_across_days(srv: &Server) {
        let mut con = srv.client();
        // One bitmap per day, user id = bit offset; days on different shards.
        let days = [on("a", "user:active:2025-07-04"), on("b", "user:active:2025-07-03"), on("c", "user:active:2025-07-02")];
        q::<i64>(&mut con, &["SETBIT", &days[0], "123", "1"]);
        q::<i64>(&mut con, &["SETBIT", &days[0], "456", "1"]);
        q::<i64>(&mut con, &["SETBIT", &days[1], "123", "1"]);
        q::<i64>(&mut con, &["SETBIT", &days[2], "123", "1"]);
        q::<i64>(&mut con, &["SETBIT", &days[2], "999", "1"]);
        assert_eq!(q::<i64>(&mut con, &["GETBIT", &days[0], "123"]), 1);
        assert_eq!(q::<i64>(&mut con, &["BITCOUNT", &days[0]]), 2);
        assert_eq!(q::<i64>(&mut con, &["BITCOUNT", &days[0], "0", "100"]), 2);
        let (both, any) = (on("d", "active:both"), on("a", "active:any"));
        q::<i64>(&mut con, &["BITOP", "AND", &both, &days[0], &days[1]]);
        assert_eq!(q::<i64>(&mut con, &["BITCOUNT", &both]), 1, "active both days");
        q::<i64>(&mut con, &["BITOP", "OR", &any, &days[0], &days[1]]);
        assert_eq!(q::<i64>(&mut con, &["BITCOUNT", &any]), 2);
        // Retention over three days, and the first user active every day.
        q::<i64>(&mut con, &["BITOP", "AND", &both, &days[0], &days[1], &days[2]]);
        assert_eq!(q::<i64>(&mut con, &["BITPOS", &both, "1"]), 123);
        q::<i64>(&mut con, &["BITOP", "OR", &any, &days[0], &days[1], &days[2]]);
        assert_eq!(q::<i64>(&mut con, &["BITCOUNT", &any]), 3);
        // Visitors for one day (002's example).
        for uid in ["1000", "1001", "1002"] {
            q::<i64>(&mut con, &["SETBIT", "visitors:2024-01-15", uid, "1"]);
        }
        assert_eq!(q::<i64>(&mut con, &["BITCOUNT", "visitors:2024-01-15"]), 3);
    }

    fn feature_flags_per_user(srv: &Server) {
        let mut con = srv.client();
        // Bit i of features:user:<id> = feature i enabled.
        q::<i64>(&mut con, &["SETBIT", "features:user:123", "0", "1"]);
        q::<i64>(&mut con, &["SETBIT", "features:user:123", "5", "1"]);
        assert_eq!(q::<i64>(&mut con, &["GETBIT", "features:user:123", "0"]), 1);
        assert_eq!(q::<i64>(&mut con, &["GETBIT", "features:user:123", "1"]), 0);
        assert_eq!(q::<i64>(&mut con, &["BITCOUNT", "features:user:123"]), 2);
        assert_eq!(q::<i64>(&mut con, &["SETBIT", "features:user:123", "5", "0"]), 1);
        assert_eq!(q::<Vec<u8>>(&mut con, &["GET", "features:user:123"]), b"\x80");
        // Several flags at once with BITFIELD.
        let r: Vec<i64> = q(&mut con, &["BITFIELD", "features:user:123", "GET", "u1", "0", "SET", "u1", "3", "1", "GET", "u4", "0"]);
        assert_eq!(r, [1, 0, 0b1001]);
    }
}
