//! Geo searches: GEOSEARCH, GEOSEARCHSTORE, GEORADIUS, GEORADIUSBYMEMBER
//! and their _RO forms (Redis's `georadiusGeneric`), and the spanning
//! forms of the three that store.
//!
//! A search parses its options in Redis's order (looking the index and the
//! FROMMEMBER member up as it goes, so errors come out as Redis's), visits
//! the cells `Shape::cells` picks in their order, keeps the members inside
//! the shape, and sorts by distance: stably for a full sort (glibc's
//! `qsort` is a merge sort), with Redis's partial quicksort when COUNT
//! asks for fewer, so equal distances come out in Redis's order too.
//!
//! Runs on the index's shard. With STORE, STOREDIST or GEOSEARCHSTORE the
//! result becomes a sorted set at the destination ("georadiusstore" or
//! "geosearchstore"; "del" when empty); when the destination lives on
//! another shard, the search runs on the index's shard and the write on
//! the destination's, within one multi-shard operation.

use std::cmp::Ordering;
use std::rc::Rc;

use bytes::Bytes;
use futures::future::LocalBoxFuture;

use super::{coord, lonlat, measure, member_pos, read_index, unit};
use crate::command::args::{self, eq};
use crate::command::errors::{self, err};
use crate::command::on_store;
use crate::command::place::Split;
use crate::command::session::Session;
use crate::keyspace::geohash::{self, Shape, ShapeKind};
use crate::keyspace::locks::Claim;
use crate::keyspace::notify;
use crate::keyspace::store::Store;
use crate::keyspace::value::Value;
use crate::keyspace::zset::ZSetValue;
use crate::resp::Reply;
use crate::runtime::Plan;
use crate::services::Shard;

/// Which command form is searching (Redis's `RADIUS_*` / `GEOSEARCH*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Form {
    /// GEORADIUS: centre from arguments 2-3, radius from 4-5.
    Radius { store: bool },
    /// GEORADIUSBYMEMBER: centre from the member at argument 2.
    ByMember { store: bool },
    /// GEOSEARCH (no destination) or GEOSEARCHSTORE (destination first).
    Search { store: bool },
}

impl Form {
    fn src(self) -> usize {
        if matches!(self, Form::Search { store: true }) {
            2
        } else {
            1
        }
    }

    fn event(self) -> &'static str {
        if matches!(self, Form::Search { .. }) {
            "geosearchstore"
        } else {
            "georadiusstore"
        }
    }
}

/// What a search produced: a reply, or members and scores to store.
enum Found {
    Reply(Reply),
    Store {
        dst: Bytes,
        pairs: Vec<(Bytes, f64)>,
    },
}

/// One member found: position, distance in meters, score.
struct Point {
    member: Bytes,
    xy: [f64; 2],
    dist: f64,
    score: f64,
}

#[derive(Default)]
struct Options {
    withdist: bool,
    withhash: bool,
    withcoord: bool,
    any: bool,
    /// Sort by distance: None, Some(false) ascending, Some(true) descending.
    desc: Option<bool>,
    /// 0 = no limit.
    count: usize,
    store: Option<Bytes>,
    storedist: bool,
}

/// Collects the members of `z` in the score range of `cell` that lie in
/// `shape`, stopping once `limit` (0 = none) points are collected.
fn points_in_cell(
    z: &ZSetValue,
    cell: geohash::Bits,
    shape: &Shape,
    out: &mut Vec<Point>,
    limit: usize,
) {
    let (min, max) = geohash::score_range(cell);
    let mut i = z.count_before(&|s, _| s < min);
    while let Some((score, member)) = z.get(i) {
        if score >= max {
            break;
        }
        if let Some((xy, dist)) = shape.contains(score) {
            out.push(Point {
                member: Bytes::copy_from_slice(member),
                xy,
                dist,
                score,
            });
        }
        if limit != 0 && out.len() >= limit {
            break;
        }
        i += 1;
    }
}

/// Every member of `z` inside `shape`, in cell order (Redis's
/// `membersOfAllNeighbors`).
fn points_in_shape(z: &ZSetValue, shape: &Shape, limit: usize) -> Vec<Point> {
    let mut out = Vec::new();
    for cell in shape.cells() {
        if limit != 0 && out.len() >= limit {
            break;
        }
        points_in_cell(z, cell, shape, &mut out, limit);
    }
    out
}

/// Parses and runs a search on the index's shard (Redis's
/// `georadiusGeneric`, checks in its order).
fn run(st: &mut Store, db: usize, a: &[Bytes], form: Form) -> Result<Found, Reply> {
    let z = read_index(st, db, &a[form.src()])?;
    let mut xy = [0.0; 2];
    let mut conversion = 0.0;
    let mut kind = None;
    let mut o = Options::default();
    let base = match form {
        Form::Radius { .. } => {
            xy = lonlat(&a[2], &a[3])?;
            let (r, c) = radius(&a[4], &a[5])?;
            (kind, conversion) = (Some(ShapeKind::Radius(r)), c);
            6
        }
        Form::ByMember { .. } => {
            if let Some(z) = z {
                xy = member_pos(z, &a[2]).ok_or_else(|| err(errors::GEO_MEMBER))?;
                let (r, c) = radius(&a[3], &a[4])?;
                (kind, conversion) = (Some(ShapeKind::Radius(r)), c);
            }
            5
        }
        Form::Search { store } => {
            if store {
                o.store = Some(a[1].clone());
            }
            if store {
                3
            } else {
                2
            }
        }
    };
    let (search, searchstore) = match form {
        Form::Search { store } => (true, store),
        _ => (false, false),
    };
    let may_store = matches!(
        form,
        Form::Radius { store: true } | Form::ByMember { store: true }
    );
    let (mut frommember, mut fromloc) = (false, false);
    let rest = &a[base..];
    let mut i = 0;
    while i < rest.len() {
        let arg = &rest[i];
        let left = rest.len() - i - 1;
        if eq(arg, "withdist") {
            o.withdist = true;
        } else if eq(arg, "withhash") {
            o.withhash = true;
        } else if eq(arg, "withcoord") {
            o.withcoord = true;
        } else if eq(arg, "any") {
            o.any = true;
        } else if eq(arg, "asc") {
            o.desc = Some(false);
        } else if eq(arg, "desc") {
            o.desc = Some(true);
        } else if eq(arg, "count") && left >= 1 {
            let n = args::int(&rest[i + 1])?;
            if n <= 0 {
                return Err(err(errors::GEO_COUNT));
            }
            o.count = usize::try_from(n).unwrap_or(usize::MAX);
            i += 1;
        } else if (eq(arg, "store") || eq(arg, "storedist")) && left >= 1 && may_store {
            o.store = Some(rest[i + 1].clone());
            o.storedist = eq(arg, "storedist");
            i += 1;
        } else if eq(arg, "storedist") && searchstore {
            o.storedist = true;
        } else if eq(arg, "frommember") && left >= 1 && search && !fromloc {
            if let Some(z) = z {
                xy = member_pos(z, &rest[i + 1]).ok_or_else(|| err(errors::GEO_MEMBER))?;
            }
            frommember = true;
            i += 1;
        } else if eq(arg, "fromlonlat") && left >= 2 && search && !frommember {
            xy = lonlat(&rest[i + 1], &rest[i + 2])?;
            fromloc = true;
            i += 2;
        } else if eq(arg, "byradius")
            && left >= 2
            && search
            && !matches!(kind, Some(ShapeKind::Box { .. }))
        {
            let (r, c) = radius(&rest[i + 1], &rest[i + 2])?;
            (kind, conversion) = (Some(ShapeKind::Radius(r)), c);
            i += 2;
        } else if eq(arg, "bybox")
            && left >= 3
            && search
            && !matches!(kind, Some(ShapeKind::Radius(_)))
        {
            let (width, height, c) = bybox(&rest[i + 1], &rest[i + 2], &rest[i + 3])?;
            (kind, conversion) = (Some(ShapeKind::Box { width, height }), c);
            i += 3;
        } else {
            return Err(errors::syntax());
        }
        i += 1;
    }
    if o.store.is_some() && (o.withdist || o.withhash || o.withcoord) {
        return Err(err(if searchstore {
            errors::GEOSEARCHSTORE_STORE
        } else {
            errors::GEORADIUS_STORE
        }));
    }
    if search && !(frommember || fromloc) {
        return Err(errors::geo_from(&a[0]));
    }
    if search && kind.is_none() {
        return Err(errors::geo_by(&a[0]));
    }
    if o.any && o.count == 0 {
        return Err(err(errors::GEO_ANY));
    }
    let Some(z) = z else {
        return Ok(match o.store {
            Some(dst) => Found::Store {
                dst,
                pairs: Vec::new(),
            },
            None => Found::Reply(Reply::Array(Vec::new())),
        });
    };
    if o.count != 0 && o.desc.is_none() && !o.any {
        o.desc = Some(false);
    }
    let shape = Shape {
        xy,
        conversion,
        kind: kind.expect("every form has a shape by now"),
    };
    let mut points = points_in_shape(z, &shape, if o.any { o.count } else { 0 });
    let returned = if o.count == 0 {
        points.len()
    } else {
        points.len().min(o.count)
    };
    if let Some(desc) = o.desc {
        let cmp = |x: &Point, y: &Point| {
            let c = x.dist.partial_cmp(&y.dist).unwrap_or(Ordering::Equal);
            if desc {
                c.reverse()
            } else {
                c
            }
        };
        if returned == points.len() {
            points.sort_by(cmp);
        } else if returned > 0 {
            crate::command::sort::pqsort(&mut points, 0, returned - 1, &cmp);
        }
    }
    points.truncate(returned);
    for p in &mut points {
        p.dist /= conversion;
    }
    Ok(match o.store {
        Some(dst) => Found::Store {
            dst,
            pairs: points
                .into_iter()
                .map(|p| (p.member, if o.storedist { p.dist } else { p.score }))
                .collect(),
        },
        None => Found::Reply(reply(points, &o)),
    })
}

/// A radius and its unit (`extractDistanceOrReply`): (radius, meters per
/// unit).
fn radius(num: &[u8], u: &[u8]) -> Result<(f64, f64), Reply> {
    let r = measure(num, errors::GEO_RADIUS)?;
    if r < 0.0 {
        return Err(err(errors::GEO_RADIUS_NEGATIVE));
    }
    Ok((r, unit(u)?))
}

/// A box and its unit (`extractBoxOrReply`): (width, height, meters per
/// unit).
fn bybox(w: &[u8], h: &[u8], u: &[u8]) -> Result<(f64, f64, f64), Reply> {
    let w = measure(w, errors::GEO_WIDTH)?;
    let h = measure(h, errors::GEO_HEIGHT)?;
    if h < 0.0 || w < 0.0 {
        return Err(err(errors::GEO_BOX_NEGATIVE));
    }
    Ok((w, h, unit(u)?))
}

/// The reply of a search without a destination: members, or per member
/// `[member, dist?, hash?, [lon, lat]?]`.
fn reply(points: Vec<Point>, o: &Options) -> Reply {
    let extras = o.withdist || o.withhash || o.withcoord;
    Reply::Array(
        points
            .into_iter()
            .map(|p| {
                if !extras {
                    return Reply::Bulk(p.member);
                }
                let mut item = vec![Reply::Bulk(p.member)];
                if o.withdist {
                    item.push(Reply::Bulk(Bytes::from(geohash::format_distance(p.dist))));
                }
                if o.withhash {
                    item.push(Reply::Int(p.score as i64));
                }
                if o.withcoord {
                    item.push(Reply::Array(vec![coord(p.xy[0]), coord(p.xy[1])]));
                }
                Reply::Array(item)
            })
            .collect(),
    )
}

/// Replaces `dst` with a sorted set of `pairs` and raises `event`, or
/// deletes it ("del") when there are none; answers the count.
fn store_pairs(
    st: &mut Store,
    db: usize,
    dst: &[u8],
    pairs: &[(Bytes, f64)],
    event: &'static str,
) -> Reply {
    if pairs.is_empty() {
        if st.delete(db, dst) {
            st.notify(notify::GENERIC, "del", db, dst);
        }
        return Reply::Int(0);
    }
    let (max_entries, max_value) = (st.limits.zset_entries, st.limits.zset_value);
    let mut z = ZSetValue::default();
    for (m, s) in pairs {
        z.set(m, *s, max_entries, max_value);
    }
    st.insert(db, dst, Value::ZSet(Box::new(z)), 0);
    st.notify(notify::ZSET, event, db, dst);
    Reply::Int(pairs.len() as i64)
}

/// A search with every key on this shard.
fn search_keyed(st: &mut Store, db: usize, a: &[Bytes], form: Form) -> Reply {
    match tri!(run(st, db, a, form)) {
        Found::Reply(r) => r,
        Found::Store { dst, pairs } => store_pairs(st, db, &dst, &pairs, form.event()),
    }
}

/// The destination of GEORADIUS or GEORADIUSBYMEMBER, if any: the key after
/// the last STORE or STOREDIST (Redis's `georadiusGetKeys`).
fn radius_store(a: &[Bytes]) -> Option<usize> {
    let mut found = None;
    let mut i = 5;
    while i < a.len() {
        if (eq(&a[i], "store") || eq(&a[i], "storedist")) && i + 1 < a.len() {
            found = Some(i + 1);
            i += 1;
        }
        i += 1;
    }
    found
}

/// Key positions of GEORADIUS and GEORADIUSBYMEMBER: the index, then the
/// STORE destination if there is one.
pub fn radius_keys(a: &[Bytes]) -> Vec<usize> {
    std::iter::once(1).chain(radius_store(a)).collect()
}

/// A storing search whose destination lives on another shard than the
/// index: both keys are claimed, the search runs on the index's shard, the
/// result is written on the destination's, and the operation ends.
async fn search_spanning(
    sh: &Rc<Shard>,
    s: &Session,
    a: Vec<Bytes>,
    split: &Split,
    form: Form,
    dst: usize,
) -> Reply {
    let db = s.db;
    let (src, ss) = split.key_at(sh, &a, form.src());
    let dst = split.key_at(sh, &a, dst);
    let mut plan = Plan::new(sh, s.parent);
    let found = plan.part(
        ss,
        Claim::Keys(vec![src]),
        on_store(db, move |st, db| run(st, db, &a, form)),
    );
    plan.part(dst.1, Claim::Keys(vec![dst.0.clone()]), |_: &Shard| ());
    let txn = plan.hold().await;
    let pairs = match found.take() {
        Ok(Found::Store { pairs, .. }) => pairs,
        Ok(Found::Reply(r)) | Err(r) => {
            txn.release();
            return r;
        }
    };
    let event = form.event();
    crate::command::gather::write_and_end(txn, db, dst, move |st, db, dst| {
        store_pairs(st, db, dst, &pairs, event)
    })
    .await
}

/// GEOSEARCH key FROMMEMBER member | FROMLONLAT longitude latitude
/// BYRADIUS radius unit | BYBOX width height unit [ASC | DESC]
/// [COUNT count [ANY]] [WITHCOORD] [WITHDIST] [WITHHASH]
pub fn geosearch(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    search_keyed(st, db, a, Form::Search { store: false })
}

/// GEOSEARCHSTORE destination source FROMMEMBER member | FROMLONLAT
/// longitude latitude BYRADIUS radius unit | BYBOX width height unit
/// [ASC | DESC] [COUNT count [ANY]] [STOREDIST], both keys on this shard.
pub fn geosearchstore(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    search_keyed(st, db, a, Form::Search { store: true })
}

/// GEOSEARCHSTORE with source and destination on different shards.
pub fn geosearchstore_spanning<'a>(
    sh: &'a Rc<Shard>,
    s: &'a mut Session,
    a: Vec<Bytes>,
    split: Split,
) -> LocalBoxFuture<'a, Reply> {
    Box::pin(
        async move { search_spanning(sh, s, a, &split, Form::Search { store: true }, 1).await },
    )
}

/// GEORADIUS key longitude latitude radius M | KM | FT | MI [WITHCOORD]
/// [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC | DESC] [STORE key |
/// STOREDIST key], any destination on this shard.
pub fn georadius(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    search_keyed(st, db, a, Form::Radius { store: true })
}

/// GEORADIUSBYMEMBER key member radius M | KM | FT | MI [WITHCOORD]
/// [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC | DESC] [STORE key |
/// STOREDIST key], any destination on this shard.
pub fn georadiusbymember(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    search_keyed(st, db, a, Form::ByMember { store: true })
}

/// GEORADIUS_RO key longitude latitude radius M | KM | FT | MI [WITHCOORD]
/// [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC | DESC]
pub fn georadius_ro(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    search_keyed(st, db, a, Form::Radius { store: false })
}

/// GEORADIUSBYMEMBER_RO key member radius M | KM | FT | MI [WITHCOORD]
/// [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC | DESC]
pub fn georadiusbymember_ro(st: &mut Store, db: usize, a: &[Bytes]) -> Reply {
    search_keyed(st, db, a, Form::ByMember { store: false })
}

/// The spanning form of GEORADIUS and GEORADIUSBYMEMBER: routing only
/// picks it when a STORE destination lives on another shard.
fn radius_spanning<'a>(
    sh: &'a Rc<Shard>,
    s: &'a mut Session,
    a: Vec<Bytes>,
    split: Split,
    form: Form,
) -> LocalBoxFuture<'a, Reply> {
    Box::pin(async move {
        match radius_store(&a) {
            Some(dst) => search_spanning(sh, s, a, &split, form, dst).await,
            None => errors::internal("spanning search without a destination"),
        }
    })
}

/// GEORADIUS with a STORE destination on another shard than the index.
pub fn georadius_spanning<'a>(
    sh: &'a Rc<Shard>,
    s: &'a mut Session,
    a: Vec<Bytes>,
    split: Split,
) -> LocalBoxFuture<'a, Reply> {
    radius_spanning(sh, s, a, split, Form::Radius { store: true })
}

/// GEORADIUSBYMEMBER with a STORE destination on another shard.
pub fn georadiusbymember_spanning<'a>(
    sh: &'a Rc<Shard>,
    s: &'a mut Session,
    a: Vec<Bytes>,
    split: Split,
) -> LocalBoxFuture<'a, Reply> {
    radius_spanning(sh, s, a, split, Form::ByMember { store: true })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::test_args as args;

    fn sicily() -> Store {
        let mut st = Store::new(1);
        let a = args(&[
            "geoadd",
            "Sicily",
            "13.361389",
            "38.115556",
            "Palermo",
            "15.087269",
            "37.502669",
            "Catania",
        ]);
        super::super::geoadd(&mut st, 0, &a);
        st
    }

    #[test]
    fn radius_search_matches_redis_docs() {
        let mut st = sicily();
        let a = args(&[
            "georadius",
            "Sicily",
            "15",
            "37",
            "200",
            "km",
            "WITHDIST",
            "ASC",
        ]);
        let want = Reply::Array(vec![
            Reply::Array(vec![
                Reply::bulk_from(b"Catania"),
                Reply::bulk_from(b"56.4413"),
            ]),
            Reply::Array(vec![
                Reply::bulk_from(b"Palermo"),
                Reply::bulk_from(b"190.4424"),
            ]),
        ]);
        assert_eq!(georadius(&mut st, 0, &a), want);
        let a = args(&[
            "geosearch",
            "Sicily",
            "FROMLONLAT",
            "15",
            "37",
            "BYBOX",
            "400",
            "400",
            "km",
            "ASC",
            "WITHDIST",
        ]);
        assert_eq!(geosearch(&mut st, 0, &a), want);
    }

    #[test]
    fn option_errors_come_in_redis_order() {
        let mut st = sicily();
        let e = |st: &mut Store, v: &[&str]| geosearch(st, 0, &args(v));
        assert_eq!(
            e(&mut st, &["geosearch", "Sicily", "bybox", "1", "1", "km"]),
            errors::geo_from(b"geosearch")
        );
        assert_eq!(
            e(&mut st, &["GEOSEARCH", "Sicily", "fromlonlat", "1", "1"]),
            errors::geo_by(b"GEOSEARCH")
        );
        assert_eq!(
            e(
                &mut st,
                &[
                    "geosearch",
                    "Sicily",
                    "frommember",
                    "nobody",
                    "byradius",
                    "1",
                    "m"
                ]
            ),
            err(errors::GEO_MEMBER)
        );
        assert_eq!(
            e(
                &mut st,
                &[
                    "geosearch",
                    "Sicily",
                    "fromlonlat",
                    "1",
                    "1",
                    "byradius",
                    "1",
                    "m",
                    "any"
                ]
            ),
            err(errors::GEO_ANY)
        );
        let e = georadius(
            &mut st,
            0,
            &args(&[
                "georadius",
                "Sicily",
                "15",
                "37",
                "1",
                "km",
                "withdist",
                "store",
                "d",
            ]),
        );
        assert_eq!(e, err(errors::GEORADIUS_STORE));
        assert_eq!(
            radius_keys(&args(&[
                "georadius",
                "k",
                "1",
                "2",
                "3",
                "m",
                "store",
                "a",
                "storedist",
                "b"
            ])),
            [1, 9]
        );
        assert_eq!(
            radius_keys(&args(&["georadius", "k", "1", "2", "3", "m", "count", "2"])),
            [1]
        );
    }
}
