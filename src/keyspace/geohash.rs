//! Geohash arithmetic of Redis 7.0 (`geohash.c`, `geohash_helper.c`): the
//! 52-bit interleaved scores geo members are stored under, their decoding
//! to cell centres, the neighbouring cells a radius or box search visits,
//! and the haversine distance on a sphere of radius 6372797.560856 m.
//!
//! Pure functions, used by `command::geo` on the owning shard. Every
//! floating-point step is Redis's, in its order (the same libm calls, no
//! fused operations), so scores, positions, distances and the set of
//! cells searched come out bit-identical to Redis's, and with them the
//! members found and their order.

pub const LAT_MIN: f64 = -85.051_128_78;
pub const LAT_MAX: f64 = 85.051_128_78;
pub const LONG_MIN: f64 = -180.0;
pub const LONG_MAX: f64 = 180.0;
/// 26 steps of 2 bits: 52-bit scores.
pub const STEP_MAX: u8 = 26;

const D_R: f64 = std::f64::consts::PI / 180.0;
const EARTH_RADIUS_IN_METERS: f64 = 6_372_797.560_856;
const MERCATOR_MAX: f64 = 20_037_726.37;

/// A cell: its interleaved bits and how many steps (bit pairs) it has.
/// The all-zero value is "no cell" (Redis's `GZERO`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Bits {
    pub bits: u64,
    pub step: u8,
}

impl Bits {
    fn is_zero(&self) -> bool {
        self.bits == 0 && self.step == 0
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Range {
    pub min: f64,
    pub max: f64,
}

/// A cell's extent.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Area {
    pub hash: Bits,
    pub lon: Range,
    pub lat: Range,
}

const WGS84_LON: Range = Range {
    min: LONG_MIN,
    max: LONG_MAX,
};
const WGS84_LAT: Range = Range {
    min: LAT_MIN,
    max: LAT_MAX,
};

fn deg_rad(ang: f64) -> f64 {
    ang * D_R
}

fn rad_deg(ang: f64) -> f64 {
    ang / D_R
}

fn interleave64(xlo: u32, ylo: u32) -> u64 {
    const B: [u64; 5] = [
        0x5555_5555_5555_5555,
        0x3333_3333_3333_3333,
        0x0F0F_0F0F_0F0F_0F0F,
        0x00FF_00FF_00FF_00FF,
        0x0000_FFFF_0000_FFFF,
    ];
    const S: [u32; 5] = [1, 2, 4, 8, 16];
    let (mut x, mut y) = (xlo as u64, ylo as u64);
    for i in (0..5).rev() {
        x = (x | (x << S[i])) & B[i];
        y = (y | (y << S[i])) & B[i];
    }
    x | (y << 1)
}

fn deinterleave64(interleaved: u64) -> u64 {
    const B: [u64; 6] = [
        0x5555_5555_5555_5555,
        0x3333_3333_3333_3333,
        0x0F0F_0F0F_0F0F_0F0F,
        0x00FF_00FF_00FF_00FF,
        0x0000_FFFF_0000_FFFF,
        0x0000_0000_FFFF_FFFF,
    ];
    const S: [u32; 6] = [0, 1, 2, 4, 8, 16];
    let (mut x, mut y) = (interleaved, interleaved >> 1);
    for i in 0..6 {
        x = (x | (x >> S[i])) & B[i];
        y = (y | (y >> S[i])) & B[i];
    }
    x | (y << 32)
}

/// The cell of `step` steps holding the point, within the given ranges;
/// None outside them (or outside Redis's global limits).
pub fn encode(lon_r: Range, lat_r: Range, lon: f64, lat: f64, step: u8) -> Option<Bits> {
    if step > 32 || step == 0 {
        return None;
    }
    if !(LONG_MIN..=LONG_MAX).contains(&lon) || !(LAT_MIN..=LAT_MAX).contains(&lat) {
        return None;
    }
    if lat < lat_r.min || lat > lat_r.max || lon < lon_r.min || lon > lon_r.max {
        return None;
    }
    let scale = (1u64 << step) as f64;
    let lat_offset = (lat - lat_r.min) / (lat_r.max - lat_r.min) * scale;
    let lon_offset = (lon - lon_r.min) / (lon_r.max - lon_r.min) * scale;
    Some(Bits {
        bits: interleave64(lat_offset as u32, lon_offset as u32),
        step,
    })
}

/// The cell of `step` steps holding the point, in the WGS84 ranges.
pub fn encode_wgs84(lon: f64, lat: f64, step: u8) -> Option<Bits> {
    encode(WGS84_LON, WGS84_LAT, lon, lat, step)
}

fn decode(lon_r: Range, lat_r: Range, hash: Bits) -> Option<Area> {
    if hash.is_zero() {
        return None;
    }
    let sep = deinterleave64(hash.bits);
    let (ilat, ilon) = (sep as u32, (sep >> 32) as u32);
    let div = (1u64 << hash.step) as f64;
    let lat_scale = lat_r.max - lat_r.min;
    let lon_scale = lon_r.max - lon_r.min;
    Some(Area {
        hash,
        lat: Range {
            min: lat_r.min + (ilat as f64 * 1.0 / div) * lat_scale,
            max: lat_r.min + (ilat.wrapping_add(1) as f64 * 1.0 / div) * lat_scale,
        },
        lon: Range {
            min: lon_r.min + (ilon as f64 * 1.0 / div) * lon_scale,
            max: lon_r.min + (ilon.wrapping_add(1) as f64 * 1.0 / div) * lon_scale,
        },
    })
}

fn decode_wgs84(hash: Bits) -> Option<Area> {
    decode(WGS84_LON, WGS84_LAT, hash)
}

/// The centre of a cell, clamped to the limits: [longitude, latitude].
fn area_center(a: &Area) -> [f64; 2] {
    let lon = ((a.lon.min + a.lon.max) / 2.0).clamp(LONG_MIN, LONG_MAX);
    let lat = ((a.lat.min + a.lat.max) / 2.0).clamp(LAT_MIN, LAT_MAX);
    [lon, lat]
}

/// The position a sorted-set score stands for: the centre of its 26-step
/// cell, [longitude, latitude] (Redis's `decodeGeohash`).
pub fn score_to_lonlat(score: f64) -> Option<[f64; 2]> {
    let hash = Bits {
        bits: score as u64,
        step: STEP_MAX,
    };
    decode_wgs84(hash).map(|a| area_center(&a))
}

/// The sorted-set score of a point (its 26-step cell, aligned to 52 bits).
pub fn lonlat_to_score(lon: f64, lat: f64) -> Option<u64> {
    encode_wgs84(lon, lat, STEP_MAX).map(align52)
}

/// A cell's bits shifted to the 52-bit score scale.
pub fn align52(hash: Bits) -> u64 {
    hash.bits << (52 - hash.step as u32 * 2)
}

/// The standard 11-character geohash of a score (`GEOHASH`): re-encoded
/// with latitude in -90..90, the 11th character always '0'.
pub fn geohash_string(score: f64) -> Option<[u8; 11]> {
    const ALPHABET: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";
    let [lon, lat] = score_to_lonlat(score)?;
    let hash = encode(
        Range {
            min: -180.0,
            max: 180.0,
        },
        Range {
            min: -90.0,
            max: 90.0,
        },
        lon,
        lat,
        26,
    )
    .unwrap_or_default();
    let mut out = [b'0'; 11];
    for (i, c) in out.iter_mut().enumerate().take(10) {
        *c = ALPHABET[((hash.bits >> (52 - (i + 1) * 5)) & 0x1f) as usize];
    }
    Some(out)
}

fn move_x(h: &mut Bits, d: i8) {
    if d == 0 {
        return;
    }
    let mut x = h.bits & 0xaaaa_aaaa_aaaa_aaaa;
    let y = h.bits & 0x5555_5555_5555_5555;
    let zz = 0x5555_5555_5555_5555u64 >> (64 - h.step as u32 * 2);
    if d > 0 {
        x = x.wrapping_add(zz + 1);
    } else {
        x |= zz;
        x = x.wrapping_sub(zz + 1);
    }
    x &= 0xaaaa_aaaa_aaaa_aaaau64 >> (64 - h.step as u32 * 2);
    h.bits = x | y;
}

fn move_y(h: &mut Bits, d: i8) {
    if d == 0 {
        return;
    }
    let x = h.bits & 0xaaaa_aaaa_aaaa_aaaa;
    let mut y = h.bits & 0x5555_5555_5555_5555;
    let zz = 0xaaaa_aaaa_aaaa_aaaau64 >> (64 - h.step as u32 * 2);
    if d > 0 {
        y = y.wrapping_add(zz + 1);
    } else {
        y |= zz;
        y = y.wrapping_sub(zz + 1);
    }
    y &= 0x5555_5555_5555_5555u64 >> (64 - h.step as u32 * 2);
    h.bits = x | y;
}

/// The eight neighbours of a cell.
#[derive(Clone, Copy, Debug, Default)]
struct Neighbors {
    north: Bits,
    east: Bits,
    west: Bits,
    south: Bits,
    north_east: Bits,
    south_east: Bits,
    north_west: Bits,
    south_west: Bits,
}

fn neighbors(h: Bits) -> Neighbors {
    let moved = |dx: i8, dy: i8| {
        let mut n = h;
        move_x(&mut n, dx);
        move_y(&mut n, dy);
        n
    };
    Neighbors {
        east: moved(1, 0),
        west: moved(-1, 0),
        south: moved(0, -1),
        north: moved(0, 1),
        north_west: moved(-1, 1),
        north_east: moved(1, 1),
        south_east: moved(1, -1),
        south_west: moved(-1, -1),
    }
}

/// The step whose cells are about as large as the search radius.
fn estimate_steps(mut range_meters: f64, lat: f64) -> u8 {
    if range_meters == 0.0 {
        return 26;
    }
    let mut step: i32 = 1;
    while range_meters < MERCATOR_MAX {
        range_meters *= 2.0;
        step += 1;
    }
    step -= 2;
    if !(-66.0..=66.0).contains(&lat) {
        step -= 1;
        if !(-80.0..=80.0).contains(&lat) {
            step -= 1;
        }
    }
    step.clamp(1, 26) as u8
}

/// The searched area: a circle of `radius` or a `width` × `height` box
/// (both in units of `conversion` meters) around `xy` = [lon, lat].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ShapeKind {
    Radius(f64),
    Box { width: f64, height: f64 },
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Shape {
    pub xy: [f64; 2],
    pub conversion: f64,
    pub kind: ShapeKind,
}

impl Shape {
    /// [min lon, min lat, max lon, max lat] of the search area.
    fn bounding_box(&self) -> [f64; 4] {
        let [lon, lat] = self.xy;
        let (height, width) = match self.kind {
            ShapeKind::Radius(r) => (self.conversion * r, self.conversion * r),
            ShapeKind::Box { width, height } => (
                self.conversion * (height / 2.0),
                self.conversion * (width / 2.0),
            ),
        };
        let lat_delta = rad_deg(height / EARTH_RADIUS_IN_METERS);
        let long_delta_top =
            rad_deg(width / EARTH_RADIUS_IN_METERS / deg_rad(lat + lat_delta).cos());
        let long_delta_bottom =
            rad_deg(width / EARTH_RADIUS_IN_METERS / deg_rad(lat - lat_delta).cos());
        let delta = if lat < 0.0 {
            long_delta_bottom
        } else {
            long_delta_top
        };
        [lon - delta, lat - lat_delta, lon + delta, lat + lat_delta]
    }

    /// The point of `score` and its distance from the centre in meters,
    /// if it lies within the shape (Redis's `geoWithinShape`).
    pub fn contains(&self, score: f64) -> Option<([f64; 2], f64)> {
        let xy = score_to_lonlat(score)?;
        let [x1, y1] = self.xy;
        let dist = match self.kind {
            ShapeKind::Radius(r) => {
                let d = distance(x1, y1, xy[0], xy[1]);
                if d > r * self.conversion {
                    return None;
                }
                d
            }
            ShapeKind::Box { width, height } => {
                let (w, h) = (width * self.conversion, height * self.conversion);
                if lat_distance(xy[1], y1) > h / 2.0 {
                    return None;
                }
                if distance(xy[0], xy[1], x1, xy[1]) > w / 2.0 {
                    return None;
                }
                distance(x1, y1, xy[0], xy[1])
            }
        };
        Some((xy, dist))
    }

    /// The cells to search, in Redis's order: the centre cell, then north,
    /// south, east, west, north-east, north-west, south-east, south-west;
    /// cells that cannot hold results are dropped (Redis's
    /// `geohashCalculateAreasByShapeWGS84` and `membersOfAllNeighbors`,
    /// which also skips a cell equal to the one searched before it).
    pub fn cells(&self) -> Vec<Bits> {
        let [min_lon, min_lat, max_lon, max_lat] = self.bounding_box();
        let [lon, lat] = self.xy;
        let radius_meters = match self.kind {
            ShapeKind::Radius(r) => r,
            ShapeKind::Box { width, height } => {
                ((width / 2.0) * (width / 2.0) + (height / 2.0) * (height / 2.0)).sqrt()
            }
        } * self.conversion;
        let mut steps = estimate_steps(radius_meters, lat);
        let mut hash = encode_wgs84(lon, lat, steps).unwrap_or_default();
        let mut n = neighbors(hash);
        let mut area = decode_wgs84(hash).unwrap_or_default();
        let edge = |b: Bits| decode_wgs84(b).unwrap_or_default();
        let decrease = edge(n.north).lat.max < max_lat
            || edge(n.south).lat.min > min_lat
            || edge(n.east).lon.max < max_lon
            || edge(n.west).lon.min > min_lon;
        if steps > 1 && decrease {
            steps -= 1;
            hash = encode_wgs84(lon, lat, steps).unwrap_or_default();
            n = neighbors(hash);
            area = decode_wgs84(hash).unwrap_or_default();
        }
        if steps >= 2 {
            let zero = Bits::default();
            if area.lat.min < min_lat {
                (n.south, n.south_west, n.south_east) = (zero, zero, zero);
            }
            if area.lat.max > max_lat {
                (n.north, n.north_east, n.north_west) = (zero, zero, zero);
            }
            if area.lon.min < min_lon {
                (n.west, n.south_west, n.north_west) = (zero, zero, zero);
            }
            if area.lon.max > max_lon {
                (n.east, n.south_east, n.north_east) = (zero, zero, zero);
            }
        }
        let all = [
            hash,
            n.north,
            n.south,
            n.east,
            n.west,
            n.north_east,
            n.north_west,
            n.south_east,
            n.south_west,
        ];
        // Redis compares with the last cell searched only once that is not
        // the centre (`last_processed` starts at 0 and 0 means "none").
        let mut out: Vec<Bits> = Vec::with_capacity(9);
        let mut last = 0;
        for (i, b) in all.into_iter().enumerate() {
            if b.is_zero() || (last != 0 && all[last] == b) {
                continue;
            }
            out.push(b);
            last = i;
        }
        out
    }
}

/// The score range [min, max) of the members inside cell `hash`.
pub fn score_range(hash: Bits) -> (f64, f64) {
    let min = align52(hash);
    let max = align52(Bits {
        bits: hash.bits.wrapping_add(1),
        step: hash.step,
    });
    (min as f64, max as f64)
}

fn lat_distance(lat1d: f64, lat2d: f64) -> f64 {
    EARTH_RADIUS_IN_METERS * (deg_rad(lat2d) - deg_rad(lat1d)).abs()
}

/// Great-circle distance in meters (Redis's haversine).
pub fn distance(lon1d: f64, lat1d: f64, lon2d: f64, lat2d: f64) -> f64 {
    let lon1r = deg_rad(lon1d);
    let lon2r = deg_rad(lon2d);
    let v = ((lon2r - lon1r) / 2.0).sin();
    if v == 0.0 {
        return lat_distance(lat1d, lat2d);
    }
    let lat1r = deg_rad(lat1d);
    let lat2r = deg_rad(lat2d);
    let u = ((lat2r - lat1r) / 2.0).sin();
    let a = u * u + lat1r.cos() * lat2r.cos() * v * v;
    2.0 * EARTH_RADIUS_IN_METERS * a.sqrt().asin()
}

/// A distance as Redis prints it: fixed point with 4 decimals, rounded to
/// nearest even (`fixedpoint_d2string`).
pub fn format_distance(d: f64) -> String {
    if d == 0.0 {
        return "0.0000".into();
    }
    let v = (d * 10000.0).round_ties_even() as i64;
    let (sign, abs) = if v < 0 {
        ("-", v.unsigned_abs())
    } else {
        ("", v as u64)
    };
    format!("{sign}{}.{:04}", abs / 10000, abs % 10000)
}

/// A coordinate as Redis's `addReplyHumanLongDouble` prints it: `%.17Lf`
/// with trailing zeros (and a bare dot) removed.
pub fn format_coord(d: f64) -> String {
    let mut s = format!("{d:.17}");
    if s.contains('.') {
        let kept = s.trim_end_matches('0').trim_end_matches('.').len();
        s.truncate(kept);
    }
    if s == "-0" {
        s = "0".into();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interleave_round_trips() {
        for (x, y) in [
            (0u32, 0u32),
            (1, 0),
            (0, 1),
            (0x3ff_ffff, 0x155_5555),
            (u32::MAX, 7),
        ] {
            let d = deinterleave64(interleave64(x, y));
            assert_eq!((d as u32, (d >> 32) as u32), (x, y));
        }
    }

    #[test]
    fn scores_match_redis_examples() {
        // GEOADD Sicily 13.361389 38.115556 "Palermo" stores 3479099956230698.
        assert_eq!(
            lonlat_to_score(13.361389, 38.115556),
            Some(3_479_099_956_230_698)
        );
        assert_eq!(
            lonlat_to_score(15.087269, 37.502669),
            Some(3_479_447_370_796_909)
        );
        let [lon, lat] = score_to_lonlat(3_479_099_956_230_698.0).unwrap();
        assert_eq!(format_coord(lon), "13.36138933897018433");
        assert_eq!(format_coord(lat), "38.11555639549629859");
        let [lon2, lat2] = score_to_lonlat(3_479_447_370_796_909.0).unwrap();
        let d = distance(lon, lat, lon2, lat2);
        assert_eq!(format_distance(d), "166274.1516");
        assert_eq!(
            &geohash_string(3_479_099_956_230_698.0).unwrap(),
            b"sqc8b49rny0"
        );
        assert_eq!(lonlat_to_score(181.0, 0.0), None);
        assert_eq!(lonlat_to_score(0.0, 85.06), None);
    }

    #[test]
    fn formats_follow_redis() {
        assert_eq!(format_distance(0.0), "0.0000");
        assert_eq!(format_distance(0.00004), "0.0000");
        assert_eq!(format_distance(0.77501), "0.7750");
        assert_eq!(format_distance(12.5), "12.5000");
        assert_eq!(format_coord(0.5), "0.5");
        assert_eq!(format_coord(-180.0), "-180");
        assert_eq!(format_coord(-0.0), "0");
    }

    #[test]
    fn steps_grow_with_smaller_radius_and_shrink_near_poles() {
        assert_eq!(estimate_steps(0.0, 0.0), 26);
        assert!(estimate_steps(100.0, 0.0) > estimate_steps(100_000.0, 0.0));
        assert_eq!(estimate_steps(100.0, 70.0) + 1, estimate_steps(100.0, 0.0));
        assert_eq!(estimate_steps(100.0, 85.0) + 2, estimate_steps(100.0, 0.0));
        assert_eq!(estimate_steps(f64::INFINITY, 0.0), 1);
    }

    #[test]
    fn a_search_covers_its_centre_and_drops_useless_cells() {
        let shape = Shape {
            xy: [13.361389, 38.115556],
            conversion: 1000.0,
            kind: ShapeKind::Radius(200.0),
        };
        let cells = shape.cells();
        assert!(!cells.is_empty() && cells.len() <= 9);
        let score = lonlat_to_score(15.087269, 37.502669).unwrap() as f64;
        assert!(cells.iter().any(|&c| {
            let (lo, hi) = score_range(c);
            lo <= score && score < hi
        }));
        assert!(shape.contains(score).is_some());
        let boxed = Shape {
            kind: ShapeKind::Box {
                width: 10.0,
                height: 10.0,
            },
            ..shape
        };
        assert!(boxed.contains(score).is_none());
    }
}
