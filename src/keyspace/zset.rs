//! The sorted-set value type: members with f64 scores, ordered by (score,
//! member bytes), with Redis 7.0's two encodings.
//!
//! * "listpack": a Vec of (score, member) kept sorted, while the set has at
//!   most `zset-max-listpack-entries` members of at most
//!   `zset-max-listpack-value` bytes. Member lookups scan it, as Redis does.
//! * "skiplist": a member → score map plus an order-statistics tree (a treap
//!   with subtree sizes), so that rank, select-by-rank and counts below a
//!   bound are O(log n). Like Redis, a set never converts back.
//!
//! Invariants: scores are never NaN; both encodings hold exactly the same
//! members; `bytes` is the allocator estimate, updated by every mutation so
//! `heap_bytes` stays O(1). Owned by one shard's store: no locks. The map
//! is only ever shrunk with `swap_remove`, which moves the last member into
//! the hole, and `scan` walks its positions downwards, so a member present
//! for a whole ZSCAN is returned at least once (the argument of `Db::scan`).

use std::cmp::Ordering;

use super::compact::CompactBytes;
use super::value::alloc_size;

/// Per-entry overhead beyond the member's allocation, listpack encoding.
const LISTPACK_ENTRY: usize = 24;
/// Per-entry overhead of the skiplist encoding: a tree node (64 bytes, 80
/// with the allocator's header) plus a map entry and its index slot (48).
const SKIPLIST_ENTRY: usize = 128;

/// Bytes one member of a skiplist-encoded set costs: its map entry and tree
/// node, plus two heap copies of a member too long to sit inline (the map
/// and the tree each keep one).
fn skiplist_entry(len: usize) -> usize {
    let copy = if len > 22 { alloc_size(len) } else { 0 };
    2 * copy + SKIPLIST_ENTRY
}

/// The total order of a sorted set: score, then member bytes.
pub fn cmp_entry(s1: f64, m1: &[u8], s2: f64, m2: &[u8]) -> Ordering {
    s1.partial_cmp(&s2)
        .unwrap_or(Ordering::Equal)
        .then_with(|| m1.cmp(m2))
}

#[derive(Clone, Debug)]
struct Node {
    score: f64,
    member: CompactBytes,
    prio: u32,
    size: usize,
    left: Tree,
    right: Tree,
}

type Tree = Option<Box<Node>>;

fn size(t: &Tree) -> usize {
    t.as_ref().map_or(0, |n| n.size)
}

fn fix(n: &mut Node) {
    n.size = 1 + size(&n.left) + size(&n.right);
}

/// Splits `t` into the elements for which `before` holds (a prefix of the
/// order) and the rest.
fn split(t: Tree, before: &dyn Fn(f64, &[u8]) -> bool) -> (Tree, Tree) {
    match t {
        None => (None, None),
        Some(mut n) => {
            if before(n.score, &n.member) {
                let (l, r) = split(n.right.take(), before);
                n.right = l;
                fix(&mut n);
                (Some(n), r)
            } else {
                let (l, r) = split(n.left.take(), before);
                n.left = r;
                fix(&mut n);
                (l, Some(n))
            }
        }
    }
}

/// Joins two trees where every element of `a` orders before `b`'s.
fn merge(a: Tree, b: Tree) -> Tree {
    match (a, b) {
        (None, t) | (t, None) => t,
        (Some(mut x), Some(mut y)) => {
            if x.prio >= y.prio {
                x.right = merge(x.right.take(), Some(y));
                fix(&mut x);
                Some(x)
            } else {
                y.left = merge(Some(x), y.left.take());
                fix(&mut y);
                Some(y)
            }
        }
    }
}

/// An order-statistics tree over (score, member).
/// Inserts `node` into `t`: down by order while the subtrees' roots have
/// higher priority, then the subtree it lands on is split around it (a
/// small one, on average), touching only the path.
fn insert_at(t: &mut Tree, mut node: Box<Node>) {
    match t {
        Some(n) if n.prio >= node.prio => {
            let left = cmp_entry(node.score, &node.member, n.score, &n.member) == Ordering::Less;
            insert_at(if left { &mut n.left } else { &mut n.right }, node);
            n.size += 1;
        }
        _ => {
            let (l, r) = split(t.take(), &|s, m| {
                cmp_entry(s, m, node.score, &node.member) == Ordering::Less
            });
            node.left = l;
            node.right = r;
            fix(&mut node);
            *t = Some(node);
        }
    }
}

/// Removes (score, member) from `t`, joining its children in its place;
/// false when it is not there.
fn remove_at(t: &mut Tree, score: f64, member: &[u8]) -> bool {
    let Some(n) = t else {
        return false;
    };
    let found = match cmp_entry(score, member, n.score, &n.member) {
        Ordering::Less => remove_at(&mut n.left, score, member),
        Ordering::Greater => remove_at(&mut n.right, score, member),
        Ordering::Equal => {
            let mut gone = t.take().expect("matched above");
            *t = merge(gone.left.take(), gone.right.take());
            return true;
        }
    };
    if found {
        n.size -= 1;
    }
    found
}

#[derive(Clone, Debug, Default)]
struct Ranked {
    root: Tree,
    seed: u32,
}

impl Ranked {
    fn next_prio(&mut self) -> u32 {
        // xorshift32; the seed only shapes the tree, never the answers.
        let mut x = self.seed.wrapping_add(0x9E37_79B9) | 1;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.seed = x;
        x
    }

    fn insert(&mut self, score: f64, member: CompactBytes) {
        let prio = self.next_prio();
        let node = Box::new(Node {
            score,
            member,
            prio,
            size: 1,
            left: None,
            right: None,
        });
        insert_at(&mut self.root, node);
    }

    fn remove(&mut self, score: f64, member: &[u8]) {
        remove_at(&mut self.root, score, member);
    }

    /// How many elements satisfy `before`, a predicate true on a prefix.
    fn count_before(&self, before: &dyn Fn(f64, &[u8]) -> bool) -> usize {
        let mut n = 0;
        let mut t = &self.root;
        while let Some(node) = t {
            if before(node.score, &node.member) {
                n += size(&node.left) + 1;
                t = &node.right;
            } else {
                t = &node.left;
            }
        }
        n
    }

    fn select(&self, mut i: usize) -> Option<(f64, &[u8])> {
        let mut t = &self.root;
        while let Some(node) = t {
            let l = size(&node.left);
            match i.cmp(&l) {
                Ordering::Less => t = &node.left,
                Ordering::Equal => return Some((node.score, &node.member)),
                Ordering::Greater => {
                    i -= l + 1;
                    t = &node.right;
                }
            }
        }
        None
    }
}

type Hasher = hashbrown::DefaultHashBuilder;

#[derive(Clone, Debug)]
enum Repr {
    Listpack(Vec<(f64, Box<[u8]>)>),
    Skiplist {
        map: indexmap::IndexMap<CompactBytes, f64, Hasher>,
        tree: Ranked,
    },
}

/// A sorted-set value.
#[derive(Clone, Debug)]
pub struct ZSetValue {
    repr: Repr,
    bytes: usize,
}

impl Default for ZSetValue {
    fn default() -> Self {
        ZSetValue {
            repr: Repr::Listpack(Vec::new()),
            bytes: 0,
        }
    }
}

impl PartialEq for ZSetValue {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len()
            && (0..self.len()).all(|i| {
                let (s1, m1) = self.get(i).expect("in range");
                let (s2, m2) = other.get(i).expect("in range");
                s1 == s2 && m1 == m2
            })
    }
}

/// What [`ZSetValue::set`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetOutcome {
    Added,
    Updated,
    Unchanged,
}

impl ZSetValue {
    /// The name OBJECT ENCODING prints.
    pub fn encoding(&self) -> &'static str {
        match self.repr {
            Repr::Listpack(_) => "listpack",
            Repr::Skiplist { .. } => "skiplist",
        }
    }

    /// Allocator bytes owned, kept up to date by every mutation (O(1)).
    pub fn heap_bytes(&self) -> usize {
        self.bytes
    }

    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Listpack(v) => v.len(),
            Repr::Skiplist { map, .. } => map.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn score(&self, member: &[u8]) -> Option<f64> {
        match &self.repr {
            Repr::Listpack(v) => v.iter().find(|(_, m)| &m[..] == member).map(|e| e.0),
            Repr::Skiplist { map, .. } => map.get(member).copied(),
        }
    }

    /// Sets `member`'s score (never NaN), converting to "skiplist" first when
    /// the listpack limits (`max_entries`, `max_value` bytes) would be passed.
    pub fn set(
        &mut self,
        member: &[u8],
        score: f64,
        max_entries: usize,
        max_value: usize,
    ) -> SetOutcome {
        debug_assert!(!score.is_nan());
        let old = self.score(member);
        if old == Some(score) {
            return SetOutcome::Unchanged;
        }
        if let Some(old) = old {
            match &mut self.repr {
                Repr::Listpack(_) => {
                    self.remove_known(member, old);
                    self.insert_new(member, score);
                }
                // The map entry keeps its position, so a ZSCAN in progress
                // still finds a member whose score changes.
                Repr::Skiplist { map, tree } => {
                    *map.get_mut(member).expect("member present") = score;
                    tree.remove(old, member);
                    tree.insert(score, CompactBytes::new(member));
                }
            }
            return SetOutcome::Updated;
        }
        if matches!(self.repr, Repr::Listpack(_))
            && (self.len() + 1 > max_entries || member.len() > max_value)
        {
            self.convert();
        }
        self.insert_new(member, score);
        SetOutcome::Added
    }

    /// Removes `member`; its score when it was there.
    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        let score = self.score(member)?;
        self.remove_known(member, score);
        Some(score)
    }

    fn insert_new(&mut self, member: &[u8], score: f64) {
        match &mut self.repr {
            Repr::Listpack(v) => {
                let i =
                    v.partition_point(|(s, m)| cmp_entry(*s, m, score, member) == Ordering::Less);
                v.insert(i, (score, member.into()));
                self.bytes += alloc_size(member.len()) + LISTPACK_ENTRY;
            }
            Repr::Skiplist { map, tree } => {
                map.insert(CompactBytes::new(member), score);
                tree.insert(score, CompactBytes::new(member));
                self.bytes += skiplist_entry(member.len());
            }
        }
    }

    fn remove_known(&mut self, member: &[u8], score: f64) {
        match &mut self.repr {
            Repr::Listpack(v) => {
                if let Some(i) = v.iter().position(|(_, m)| &m[..] == member) {
                    v.remove(i);
                    self.bytes -= alloc_size(member.len()) + LISTPACK_ENTRY;
                }
            }
            Repr::Skiplist { map, tree } => {
                if map.swap_remove(member).is_some() {
                    tree.remove(score, member);
                    self.bytes -= skiplist_entry(member.len());
                }
            }
        }
    }

    fn convert(&mut self) {
        let Repr::Listpack(v) = std::mem::replace(
            &mut self.repr,
            Repr::Skiplist {
                map: indexmap::IndexMap::default(),
                tree: Ranked::default(),
            },
        ) else {
            return;
        };
        self.bytes = 0;
        for (score, member) in v {
            self.insert_new(&member, score);
        }
    }

    /// The element at 0-based rank `i` in ascending order.
    pub fn get(&self, i: usize) -> Option<(f64, &[u8])> {
        match &self.repr {
            Repr::Listpack(v) => v.get(i).map(|(s, m)| (*s, &m[..])),
            Repr::Skiplist { tree, .. } => tree.select(i),
        }
    }

    /// Number of elements for which `before` holds; `before` must be true
    /// on a prefix of the order (e.g. "score < x").
    pub fn count_before(&self, before: &dyn Fn(f64, &[u8]) -> bool) -> usize {
        match &self.repr {
            Repr::Listpack(v) => v.partition_point(|(s, m)| before(*s, m)),
            Repr::Skiplist { tree, .. } => tree.count_before(before),
        }
    }

    /// The ascending 0-based rank of `member`.
    pub fn rank(&self, member: &[u8]) -> Option<usize> {
        let score = self.score(member)?;
        Some(self.count_before(&|s, m| cmp_entry(s, m, score, member) == Ordering::Less))
    }

    /// One ZSCAN step over a skiplist's map positions `[0, remaining)`,
    /// walked downwards: visits about `count` positions, calls `f` on each
    /// (member, score) and returns the new `remaining` (0 when done). A
    /// listpack is visited whole, in order, in one step, as Redis does. See
    /// the module doc for the guarantee.
    pub fn scan(&self, remaining: usize, count: usize, mut f: impl FnMut(&[u8], f64)) -> usize {
        match &self.repr {
            Repr::Listpack(v) => {
                v.iter().for_each(|(s, m)| f(m, *s));
                0
            }
            Repr::Skiplist { map, .. } => {
                let mut pos = remaining.min(map.len());
                let stop = pos.saturating_sub(count.max(1));
                while pos > stop {
                    pos -= 1;
                    let (m, s) = map.get_index(pos).expect("position below len");
                    f(m, *s);
                }
                pos
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn members(z: &ZSetValue) -> Vec<(f64, Vec<u8>)> {
        (0..z.len())
            .map(|i| z.get(i).map(|(s, m)| (s, m.to_vec())).unwrap())
            .collect()
    }

    /// Random adds, rescores and removals on a skiplist-encoded set, checked
    /// after each step against a sorted model: order, ranks and subtree
    /// sizes.
    #[test]
    fn the_rank_tree_matches_a_sorted_model_under_churn() {
        fn sizes_ok(t: &Tree) -> usize {
            match t {
                None => 0,
                Some(n) => {
                    let size = 1 + sizes_ok(&n.left) + sizes_ok(&n.right);
                    assert_eq!(n.size, size);
                    size
                }
            }
        }
        let mut z = ZSetValue::default();
        let mut model: std::collections::BTreeMap<Vec<u8>, f64> = Default::default();
        let mut x: u64 = 12345;
        for step in 0..4000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let m = format!("m{}", x % 300).into_bytes();
            let score = ((x >> 20) % 50) as f64 - 10.0;
            if x % 5 == 0 {
                assert_eq!(z.remove(&m), model.remove(&m));
            } else {
                z.set(&m, score, 0, 0);
                model.insert(m, score);
            }
            if step % 97 == 0 || step > 3990 {
                let mut sorted: Vec<(f64, Vec<u8>)> =
                    model.iter().map(|(m, s)| (*s, m.clone())).collect();
                sorted.sort_by(|a, b| cmp_entry(a.0, &a.1, b.0, &b.1));
                assert_eq!(members(&z), sorted);
                for (i, (_, m)) in sorted.iter().enumerate() {
                    assert_eq!(z.rank(m), Some(i));
                }
                let Repr::Skiplist { tree, .. } = &z.repr else {
                    panic!("expected a skiplist");
                };
                assert_eq!(sizes_ok(&tree.root), sorted.len());
            }
        }
    }

    #[test]
    fn both_encodings_agree_on_order_rank_and_bytes() {
        let mut small = ZSetValue::default();
        let mut big = ZSetValue::default();
        let mut rng = 12345u64;
        for _ in 0..2000 {
            rng = rng
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let member = format!("m{}", (rng >> 33) % 300);
            let score = ((rng >> 20) % 50) as f64;
            if (rng >> 11) % 4 == 0 {
                assert_eq!(
                    small.remove(member.as_bytes()),
                    big.remove(member.as_bytes())
                );
            } else {
                assert_eq!(
                    small.set(member.as_bytes(), score, usize::MAX, usize::MAX),
                    big.set(member.as_bytes(), score, 0, 0)
                );
            }
        }
        assert_eq!(small.encoding(), "listpack");
        assert_eq!(big.encoding(), "skiplist");
        assert_eq!(members(&small), members(&big));
        let sorted = members(&small);
        assert!(sorted
            .windows(2)
            .all(|w| cmp_entry(w[0].0, &w[0].1, w[1].0, &w[1].1) == Ordering::Less));
        for (i, (_, m)) in sorted.iter().enumerate() {
            assert_eq!(big.rank(m), Some(i));
            assert_eq!(small.rank(m), Some(i));
        }
        let recount: usize = sorted.iter().map(|(_, m)| skiplist_entry(m.len())).sum();
        assert_eq!(big.heap_bytes(), recount);
        assert_eq!(
            big.count_before(&|s, _| s < 10.0),
            small.count_before(&|s, _| s < 10.0)
        );
        for (_, m) in sorted {
            small.remove(&m);
            big.remove(&m);
        }
        assert_eq!((small.heap_bytes(), big.heap_bytes()), (0, 0));
    }

    #[test]
    fn scan_pages_a_skiplist_and_returns_every_stable_member_despite_churn() {
        let mut z = ZSetValue::default();
        for i in 0..400 {
            z.set(format!("stable{i}").as_bytes(), i as f64, 0, 0);
            z.set(format!("temp{i}").as_bytes(), -(i as f64), 0, 0);
        }
        let mut seen = std::collections::HashSet::new();
        let (mut remaining, mut steps) = (usize::MAX, 0);
        loop {
            let mut page = 0;
            remaining = z.scan(remaining, 10, |m, s| {
                page += 1;
                assert_eq!(z.score(m), Some(s));
                seen.insert(m.to_vec());
            });
            assert!(page <= 10);
            z.remove(format!("temp{steps}").as_bytes());
            z.set(format!("new{steps}").as_bytes(), 0.5, 0, 0);
            z.set(format!("stable{}", 399 - steps).as_bytes(), 1e6, 0, 0);
            steps += 1;
            if remaining == 0 {
                break;
            }
        }
        assert!(steps > 40, "a skiplist is paged");
        for i in 0..400 {
            assert!(seen.contains(format!("stable{i}").as_bytes()), "stable{i}");
        }
        let mut small = ZSetValue::default();
        small.set(b"b", 2.0, 128, 64);
        small.set(b"a", 1.0, 128, 64);
        let mut all = Vec::new();
        assert_eq!(
            small.scan(usize::MAX, 1, |m, s| all.push((m.to_vec(), s))),
            0
        );
        assert_eq!(all, [(b"a".to_vec(), 1.0), (b"b".to_vec(), 2.0)]);
    }
}
