//! One node of a stream: a run of consecutive entries in one contiguous byte
//! buffer, the counterpart of one listpack in Redis's radix tree.
//!
//! ```text
//! buf: [master field names ...][entry][entry] ...
//! entry: flags u8 | ms-delta | seq-delta | (nfields | field value ...)
//!                                        | (value ...)    with SAME_FIELDS
//! ```
//!
//! IDs are stored as deltas from the node's master ID (the ID of its first
//! entry, which is also its key in the stream's map), and an entry whose
//! field names are those of the node's first entry stores only its values
//! (flag SAME_FIELDS). Numbers and lengths are LEB128 varints, the seq delta
//! zigzag-encoded (it is negative when the millisecond grew). A deleted
//! entry stays in place, flagged DELETED, until its whole node goes, as in
//! Redis. Only the stream module builds or reads nodes.
//!
//! Besides its own bytes a node keeps the size the same content would take
//! as a Redis listpack (`lp_bytes`), because Redis closes a node when that
//! size reaches `stream-node-max-bytes`: the same node boundaries make
//! approximate trimming (`MAXLEN ~`, `MINID ~`) remove exactly what Redis
//! removes.

use bytes::Bytes;

use super::id::StreamId;
use crate::keyspace::value::{alloc_size, parse_canonical_i64};

pub(super) const DELETED: u8 = 1;
pub(super) const SAME_FIELDS: u8 = 2;

/// Redis never lets a listpack grow past 1 GiB (`STREAM_LISTPACK_MAX_SIZE`).
pub const LISTPACK_MAX: usize = 1 << 30;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    buf: Vec<u8>,
    /// Where the first entry starts (after the master field names).
    entries_at: usize,
    master_fields: usize,
    live: usize,
    deleted: usize,
    /// Listpack bytes of the master fields, their terminator and every
    /// entry: everything but the header and the two counters.
    lp_body: usize,
}

/// One decoded entry header.
#[derive(Clone, Copy, Debug)]
pub struct RawEntry {
    pub id: StreamId,
    pub flags: u8,
    /// Offset of its first field (or value, with SAME_FIELDS).
    body: usize,
    pub fields: usize,
    /// Offset just past the entry.
    pub end: usize,
}

impl RawEntry {
    pub fn is_deleted(&self) -> bool {
        self.flags & DELETED != 0
    }
}

impl Node {
    /// A node whose master entry takes its field names from `pairs`
    /// (field, value, field, value …), holding that one entry.
    pub fn new(master: StreamId, pairs: &[Bytes]) -> Node {
        let fields = pairs.len() / 2;
        let mut buf = Vec::with_capacity(64 + pairs.iter().map(Bytes::len).sum::<usize>() * 2);
        let mut lp_body = lp_int_cost(fields as i64) + lp_int_cost(0);
        for f in pairs.iter().step_by(2) {
            put_bytes(&mut buf, f);
            lp_body += lp_str_cost(f);
        }
        let mut node = Node {
            entries_at: buf.len(),
            buf,
            master_fields: fields,
            live: 0,
            deleted: 0,
            lp_body,
        };
        node.push(master, master, pairs, SAME_FIELDS);
        node
    }

    pub fn live(&self) -> usize {
        self.live
    }

    /// Whether Redis would start a new node rather than add an entry of
    /// `add_bytes` field and value bytes here (`streamAppendItem`).
    pub fn is_full(&self, add_bytes: usize, max_bytes: usize, max_entries: usize) -> bool {
        let max_bytes = if max_bytes == 0 || max_bytes > LISTPACK_MAX {
            LISTPACK_MAX
        } else {
            max_bytes
        };
        self.lp_bytes() + add_bytes >= max_bytes
            || (max_entries != 0 && self.live + self.deleted >= max_entries)
    }

    /// What the node would take as a Redis listpack: 6 header bytes, the
    /// live and deleted counters, the body, the end byte.
    pub fn lp_bytes(&self) -> usize {
        7 + lp_int_cost(self.live as i64) + lp_int_cost(self.deleted as i64) + self.lp_body
    }

    /// Appends entry `id` (greater than every ID here).
    pub fn append(&mut self, master: StreamId, id: StreamId, pairs: &[Bytes]) {
        let same = pairs.len() / 2 == self.master_fields
            && self
                .master_names()
                .zip(pairs.iter().step_by(2))
                .all(|(m, f)| m == &f[..]);
        self.push(master, id, pairs, if same { SAME_FIELDS } else { 0 });
    }

    fn push(&mut self, master: StreamId, id: StreamId, pairs: &[Bytes], flags: u8) {
        let same = flags & SAME_FIELDS != 0;
        let fields = pairs.len() / 2;
        let ms_delta = id.ms.wrapping_sub(master.ms);
        let seq_delta = id.seq.wrapping_sub(master.seq) as i64;
        self.buf.push(flags);
        put_varint(&mut self.buf, ms_delta);
        put_varint(&mut self.buf, zigzag(seq_delta));
        let mut cost =
            lp_int_cost(i64::from(flags)) + lp_int_cost(ms_delta as i64) + lp_int_cost(seq_delta);
        if !same {
            put_varint(&mut self.buf, fields as u64);
            cost += lp_int_cost(fields as i64);
        }
        for pair in pairs.chunks_exact(2) {
            if !same {
                put_bytes(&mut self.buf, &pair[0]);
                cost += lp_str_cost(&pair[0]);
            }
            put_bytes(&mut self.buf, &pair[1]);
            cost += lp_str_cost(&pair[1]);
        }
        let pieces = fields + 3 + if same { 0 } else { fields + 1 };
        cost += lp_int_cost(pieces as i64);
        self.lp_body += cost;
        self.live += 1;
    }

    fn master_names(&self) -> impl Iterator<Item = &[u8]> {
        let mut pos = 0;
        (0..self.master_fields).map(move |_| get_bytes(&self.buf, &mut pos))
    }

    /// Offset of the first entry; `end()` when the node holds none.
    pub fn first_at(&self) -> usize {
        self.entries_at
    }

    pub fn end(&self) -> usize {
        self.buf.len()
    }

    /// Decodes the entry starting at `at`.
    pub fn entry_at(&self, master: StreamId, at: usize) -> RawEntry {
        let mut pos = at;
        let flags = self.buf[pos];
        pos += 1;
        let ms = master.ms.wrapping_add(get_varint(&self.buf, &mut pos));
        let seq = master
            .seq
            .wrapping_add(unzigzag(get_varint(&self.buf, &mut pos)) as u64);
        let fields = if flags & SAME_FIELDS != 0 {
            self.master_fields
        } else {
            get_varint(&self.buf, &mut pos) as usize
        };
        let body = pos;
        let per_field = if flags & SAME_FIELDS != 0 { 1 } else { 2 };
        for _ in 0..fields * per_field {
            skip_bytes(&self.buf, &mut pos);
        }
        RawEntry {
            id: StreamId::new(ms, seq),
            flags,
            body,
            fields,
            end: pos,
        }
    }

    /// Offsets of every entry, deleted ones included, in order.
    pub fn offsets(&self, master: StreamId) -> Vec<usize> {
        let mut out = Vec::with_capacity(self.live + self.deleted);
        let mut at = self.entries_at;
        while at < self.buf.len() {
            out.push(at);
            at = self.entry_at(master, at).end;
        }
        out
    }

    /// The ID of the last entry, deleted or not (`lpGetEdgeStreamID`).
    pub fn last_id(&self, master: StreamId) -> StreamId {
        let offsets = self.offsets(master);
        let last = *offsets.last().expect("a node holds at least one entry");
        self.entry_at(master, last).id
    }

    /// The field-value pairs of `e`.
    pub fn pairs(&self, e: &RawEntry) -> Pairs<'_> {
        Pairs {
            buf: &self.buf,
            names: (e.flags & SAME_FIELDS != 0).then_some(0),
            pos: e.body,
            left: e.fields,
        }
    }

    /// Flags the live entry at `at` deleted.
    pub fn mark_deleted(&mut self, at: usize) {
        debug_assert_eq!(self.buf[at] & DELETED, 0);
        self.buf[at] |= DELETED;
        self.live -= 1;
        self.deleted += 1;
    }

    /// Gives back the spare capacity of a node no longer appended to.
    pub fn shrink(&mut self) {
        self.buf.shrink_to_fit();
    }

    pub fn heap_bytes(&self) -> usize {
        alloc_size(self.buf.capacity())
    }
}

/// The field-value pairs of one entry.
pub struct Pairs<'a> {
    buf: &'a [u8],
    /// Cursor in the master field names, for a SAME_FIELDS entry.
    names: Option<usize>,
    pos: usize,
    left: usize,
}

impl<'a> Iterator for Pairs<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let field = match &mut self.names {
            Some(at) => get_bytes(self.buf, at),
            None => get_bytes(self.buf, &mut self.pos),
        };
        Some((field, get_bytes(self.buf, &mut self.pos)))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for Pairs<'_> {}

fn put_varint(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push(v as u8 | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

fn get_varint(buf: &[u8], pos: &mut usize) -> u64 {
    let mut v = 0u64;
    let mut shift = 0;
    loop {
        let b = buf[*pos];
        *pos += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            return v;
        }
        shift += 7;
    }
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    (v >> 1) as i64 ^ -((v & 1) as i64)
}

fn put_bytes(buf: &mut Vec<u8>, b: &[u8]) {
    put_varint(buf, b.len() as u64);
    buf.extend_from_slice(b);
}

fn get_bytes<'a>(buf: &'a [u8], pos: &mut usize) -> &'a [u8] {
    let len = get_varint(buf, pos) as usize;
    let b = &buf[*pos..*pos + len];
    *pos += len;
    b
}

fn skip_bytes(buf: &[u8], pos: &mut usize) {
    let len = get_varint(buf, pos) as usize;
    *pos += len;
}

/// Bytes a listpack spends on integer `v`: its encoding plus one back-length
/// byte (`lpEncodeIntegerGetType`).
fn lp_int_cost(v: i64) -> usize {
    1 + match v {
        0..=127 => 1,
        -4096..=4095 => 2,
        -32768..=32767 => 3,
        -8_388_608..=8_388_607 => 4,
        -2_147_483_648..=2_147_483_647 => 5,
        _ => 9,
    }
}

/// Bytes a listpack spends on string `s`: an integer when `s` is the
/// canonical form of one, else its length header, bytes and back-length.
fn lp_str_cost(s: &[u8]) -> usize {
    if s.len() <= 20 {
        if let Some(v) = parse_canonical_i64(s) {
            return lp_int_cost(v);
        }
    }
    let len = s.len();
    let enc = if len < 64 {
        1 + len
    } else if len < 4096 {
        2 + len
    } else {
        5 + len
    };
    enc + match enc {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2_097_150 => 3,
        2_097_151..=268_435_454 => 4,
        _ => 5,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(v: &[&str]) -> Vec<Bytes> {
        v.iter()
            .map(|s| Bytes::copy_from_slice(s.as_bytes()))
            .collect()
    }

    /// Per entry: its ID, whether it is deleted, its pairs.
    type Decoded = Vec<(String, bool, Vec<(String, String)>)>;

    fn decoded(n: &Node, master: StreamId) -> Decoded {
        n.offsets(master)
            .into_iter()
            .map(|at| {
                let e = n.entry_at(master, at);
                let kv = n
                    .pairs(&e)
                    .map(|(f, v)| {
                        (
                            String::from_utf8_lossy(f).into_owned(),
                            String::from_utf8_lossy(v).into_owned(),
                        )
                    })
                    .collect();
                (e.id.to_string(), e.is_deleted(), kv)
            })
            .collect()
    }

    #[test]
    fn entries_round_trip_with_shared_and_own_field_names() {
        let m = StreamId::new(1000, 5);
        let mut n = Node::new(m, &pairs(&["temp", "20", "hum", "0.5"]));
        n.append(
            m,
            StreamId::new(1000, 6),
            &pairs(&["temp", "21", "hum", ""]),
        );
        n.append(m, StreamId::new(1001, 0), &pairs(&["other", "x"]));
        n.append(
            m,
            StreamId::new(u64::MAX, u64::MAX),
            &pairs(&["temp", "-1", "hum", "9"]),
        );
        let got = decoded(&n, m);
        let kv = |v: &[(&str, &str)]| -> Vec<(String, String)> {
            v.iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect()
        };
        assert_eq!(
            got,
            vec![
                (
                    "1000-5".into(),
                    false,
                    kv(&[("temp", "20"), ("hum", "0.5")])
                ),
                ("1000-6".into(), false, kv(&[("temp", "21"), ("hum", "")])),
                ("1001-0".into(), false, kv(&[("other", "x")])),
                (
                    "18446744073709551615-18446744073709551615".into(),
                    false,
                    kv(&[("temp", "-1"), ("hum", "9")])
                ),
            ]
        );
        let flags: Vec<u8> = n
            .offsets(m)
            .iter()
            .map(|&at| n.entry_at(m, at).flags)
            .collect();
        assert_eq!(flags, [SAME_FIELDS, SAME_FIELDS, 0, SAME_FIELDS]);
        assert_eq!(n.last_id(m), StreamId::MAX);
        n.mark_deleted(n.offsets(m)[1]);
        assert_eq!(n.live(), 3);
        assert!(decoded(&n, m)[1].1, "deleted entries stay, flagged");
        assert_eq!(decoded(&n, m)[2].2, kv(&[("other", "x")]));
    }

    #[test]
    fn varints_and_zigzag_round_trip() {
        for v in [0, 1, 127, 128, 300, u64::MAX >> 1, u64::MAX] {
            let mut b = Vec::new();
            put_varint(&mut b, v);
            let mut pos = 0;
            assert_eq!(get_varint(&b, &mut pos), v);
            assert_eq!(pos, b.len());
        }
        for v in [0, 1, -1, 63, -64, i64::MAX, i64::MIN] {
            assert_eq!(unzigzag(zigzag(v)), v);
        }
    }

    /// Checked against Redis 7.0.15: after `XADD s 1-1 a 1 b 2`, a second
    /// such XADD opens a new node at `stream-node-max-bytes 37` but not at
    /// 38, so the listpack holds 33 bytes: header and end 7, counters 2 + 2,
    /// nfields 2, "a" 3, "b" 3, terminator 2, then the entry: flags 2,
    /// deltas 2 + 2, values 2 + 2, lp-count 2.
    #[test]
    fn listpack_size_follows_redis_encoding() {
        let m = StreamId::new(1, 1);
        let n = Node::new(m, &pairs(&["a", "1", "b", "2"]));
        assert_eq!(n.lp_bytes(), 33);
        assert_eq!(lp_int_cost(-1), 3);
        assert_eq!(lp_int_cost(i64::MIN), 10);
        assert_eq!(lp_str_cost(b"01"), 4);
        assert_eq!(lp_str_cost(&[b'x'; 63]), 65);
        assert_eq!(lp_str_cost(&[b'x'; 64]), 67);
        assert_eq!(lp_str_cost(&[b'x'; 200]), 204);
        assert!(n.is_full(4096, 4096, 100));
        assert!(!n.is_full(10, 4096, 100));
        assert!(n.is_full(0, 4096, 1), "one entry fills a node of one");
        assert!(!n.is_full(10, 0, 0), "0 means the 1 GiB cap and no count");
    }
}
