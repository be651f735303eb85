//! Geo commands: GEOADD GEODIST GEOHASH GEOPOS here; the searches
//! (GEOSEARCH, GEOSEARCHSTORE, GEORADIUS and its variants) in `search`.
//!
//! A geo index is a sorted set whose scores are 52-bit interleaved
//! geohashes (`keyspace::geohash`), exactly Redis's, so ZRANGE, ZREM and the
//! other sorted-set commands work on it and its members' positions,
//! distances and order match Redis's to the last digit. Keyed handlers run
//! on the index's owning shard. GEOADD is ZADD with computed scores, so it
//! answers and raises events ("zadd") as ZADD does.

use bytes::Bytes;

use super::args::{self, eq};
use super::errors::{self, err};
use crate::keyspace::geohash::{self, LAT_MAX, LAT_MIN, LONG_MAX, LONG_MIN};
use crate::keyspace::store::Store;
use crate::keyspace::value::Value;
use crate::keyspace::zset::ZSetValue;
use crate::resp::Reply;

pub(crate) mod search;

pub use search::{
    georadius, georadius_ro, georadius_spanning, georadiusbymember, georadiusbymember_ro,
    georadiusbymember_spanning, geosearch, geosearchstore, geosearchstore_spanning, radius_keys,
};

/// A longitude, latitude pair within Redis's limits (`extractLongLatOrReply`).
fn lonlat(lon: &[u8], lat: &[u8]) -> Result<[f64; 2], Reply> {
    let (lon, lat) = (args::float(lon)?, args::float(lat)?);
    if !(LONG_MIN..=LONG_MAX).contains(&lon) || !(LAT_MIN..=LAT_MAX).contains(&lat) {
        return Err(errors::geo_pair(lon, lat));
    }
    Ok([lon, lat])
}

/// Meters per unit (`extractUnitOrReply`).
fn unit(arg: &[u8]) -> Result<f64, Reply> {
    if eq(arg, "m") {
        Ok(1.0)
    } else if eq(arg, "km") {
        Ok(1000.0)
    } else if eq(arg, "ft") {
        Ok(0.3048)
    } else if eq(arg, "mi") {
        Ok(1609.34)
    } else {
        Err(err(errors::GEO_UNIT))
    }
}

/// A non-negative number with its own error text.
fn measure(arg: &[u8], not_number: &'static str) -> Result<f64, Reply> {
    args::parse_float(arg).ok_or_else(|| err(not_number))
}

/// The index at `key` for a read: Ok(None) when absent.
fn read_index<'a>(
    st: &'a mut Store,
    db: usize,
    key: &[u8],
) -> Result<Option<&'a ZSetValue>, Reply> {
    match st.read(db, key).map(|e| &e.value) {
        None => Ok(None),
        Some(Value::ZSet(z)) => Ok(Some(z)),
        Some(_) => Err(errors::wrongtype()),
    }
}

/// A member's position, [longitude, latitude].
fn member_pos(z: &ZSetValue, member: &[u8]) -> Option<[f64; 2]> {
    z.score(member).and_then(geohash::score_to_lonlat)
}

/// A coordinate as Redis replies it (bulk in RESP2, double in RESP3).
fn coord(d: f64) -> Reply {
    Reply::DoubleText(Bytes::from(geohash::format_coord(d)))
}

/// GEOADD key [NX | XX] [CH] longitude latitude member [longitude latitude
/// member ...]
pub fn geoadd(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    let (mut nx, mut xx) = (false, false);
    let mut first = 2;
    while first < a.len() {
        let opt = &a[first];
        if eq(opt, "nx") {
            nx = true;
        } else if eq(opt, "xx") {
            xx = true;
        } else if !eq(opt, "ch") {
            break;
        }
        first += 1;
    }
    if (a.len() - first) % 3 != 0 || (xx && nx) {
        return errors::syntax();
    }
    let mut zadd: Vec<Bytes> = Vec::with_capacity(first + (a.len() - first) / 3 * 2);
    zadd.push(Bytes::from_static(b"zadd"));
    zadd.extend_from_slice(&a[1..first]);
    for point in a[first..].chunks(3) {
        let [lon, lat] = tri!(lonlat(&point[0], &point[1]));
        let score = geohash::lonlat_to_score(lon, lat).expect("checked limits");
        zadd.push(Bytes::copy_from_slice(
            itoa::Buffer::new().format(score).as_bytes(),
        ));
        zadd.push(point[2].clone());
    }
    super::zset::zadd(st, db, &zadd)
}

/// GEODIST key member1 member2 [M | KM | FT | MI]
pub fn geodist(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    let to_meters = match a.len() {
        4 => 1.0,
        5 => tri!(unit(&a[4])),
        _ => return errors::syntax(),
    };
    let Some(z) = tri!(read_index(st, db, &a[1])) else {
        return Reply::Nil;
    };
    match (member_pos(z, &a[2]), member_pos(z, &a[3])) {
        (Some([x1, y1]), Some([x2, y2])) => {
            let d = geohash::distance(x1, y1, x2, y2) / to_meters;
            Reply::Bulk(Bytes::from(geohash::format_distance(d)))
        }
        _ => Reply::Nil,
    }
}

/// GEOHASH key [member [member ...]]
pub fn geohash(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    let z = tri!(read_index(st, db, &a[1]));
    Reply::Array(
        a[2..]
            .iter()
            .map(|m| {
                z.and_then(|z| z.score(m))
                    .and_then(geohash::geohash_string)
                    .map_or(Reply::Nil, |h| Reply::bulk_from(&h))
            })
            .collect(),
    )
}

/// GEOPOS key [member [member ...]]
pub fn geopos(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    let z = tri!(read_index(st, db, &a[1]));
    Reply::Array(
        a[2..]
            .iter()
            .map(|m| match z.and_then(|z| member_pos(z, m)) {
                Some([lon, lat]) => Reply::Array(vec![coord(lon), coord(lat)]),
                None => Reply::NilArray,
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::test_args as args;

    #[test]
    fn geo_commands_raise_zset_events() {
        use crate::command::keys::event_script::{check, store};
        let mut st = store("KEA");
        check(
            &mut st,
            &[
                ("geoadd g 13.361389 38.115556 Palermo", &["zadd g"]),
                ("geoadd g nx 13.361389 38.115556 Palermo", &[]),
                ("geoadd g xx ch 15 37 Palermo", &["zadd g"]),
                (
                    "geosearchstore d g fromlonlat 15 37 byradius 10 km",
                    &["geosearchstore d"],
                ),
                ("geosearchstore d g fromlonlat 0 0 byradius 1 m", &["del d"]),
                ("georadius g 15 37 10 km store d", &["georadiusstore d"]),
            ],
        );
    }

    #[test]
    fn geoadd_stores_redis_scores() {
        let mut st = Store::new(1);
        let a = args(&["geoadd", "Sicily", "13.361389", "38.115556", "Palermo"]);
        assert_eq!(geoadd(&mut st, 0, &a), Reply::Int(1));
        let Some(Value::ZSet(z)) = st.read(0, b"Sicily").map(|e| &e.value) else {
            panic!("no index");
        };
        assert_eq!(z.score(b"Palermo"), Some(3_479_099_956_230_698.0));
        let e = geoadd(&mut st, 0, &args(&["geoadd", "g", "181", "0", "x"]));
        assert_eq!(e, errors::geo_pair(181.0, 0.0));
        let e = geoadd(
            &mut st,
            0,
            &args(&["geoadd", "g", "nx", "xx", "1", "1", "x"]),
        );
        assert_eq!(e, errors::syntax());
    }
}
