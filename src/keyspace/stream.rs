//! The stream value type: an append-only log of entries, each an ID and a
//! list of field-value pairs, plus the stream's consumer groups.
//!
//! Storage follows Redis's radix tree of listpacks: a `BTreeMap` of nodes
//! keyed by their master ID (the ID of their first entry), each node one
//! contiguous buffer of up to `stream-node-max-entries` entries (and about
//! `stream-node-max-bytes`, measured as Redis measures its listpacks),
//! delta-encoded against the master ID, with field names stored once per
//! node when entries repeat them (`stream::node`). A million small entries
//! are ten thousand allocations, not a million.
//!
//! Node boundaries, deletion marks and trimming are Redis 7.0's
//! (`t_stream.c`): XDEL flags an entry and drops its node when the last
//! live entry goes; MAXLEN/MINID trimming drops whole nodes from the head
//! and, unless approximate, flags entries inside the next one. So
//! `MAXLEN ~`, `LIMIT` and XINFO's node count answer as Redis does.
//!
//! Touched only by the owning shard's core; never awaits. Every change goes
//! through a method here, which keeps the length, first ID and memory
//! estimate true. Consumer-group reads and claims are in `stream::consume`.

mod consume;
mod group;
mod id;
mod node;

use std::collections::BTreeMap;

use bytes::Bytes;

pub use self::consume::{Claim, Delivered, GroupRead};
pub use self::group::{Consumer, Group, Nack};
pub use self::id::{parse as parse_id, IdSyntax, ParsedId, StreamId};
pub use self::node::LISTPACK_MAX;
use self::node::{Node, Pairs, RawEntry};

/// `stream-node-max-bytes` and `stream-node-max-entries` (0 = no limit).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodeLimits {
    pub max_bytes: usize,
    pub max_entries: usize,
}

impl Default for NodeLimits {
    fn default() -> Self {
        NodeLimits {
            max_bytes: 4096,
            max_entries: 100,
        }
    }
}

/// How a stream is trimmed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trim {
    /// Keep at most this many entries.
    MaxLen(u64),
    /// Keep no entry below this ID.
    MinId(StreamId),
}

/// Why an XADD could not add its entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddError {
    /// The ID is not above the stream's last ID (or none is left).
    IdTooSmall,
    /// The fields and values exceed what one node may hold.
    TooLarge,
}

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Stream {
    nodes: BTreeMap<StreamId, Node>,
    length: u64,
    /// The last ID ever added (or set by XSETID); 0-0 for a new stream.
    pub last_id: StreamId,
    /// The first live entry's ID, 0-0 when empty (XINFO's
    /// recorded-first-entry-id).
    pub first_id: StreamId,
    /// The greatest ID ever deleted by XDEL (or set by XSETID).
    pub max_deleted_id: StreamId,
    /// Entries ever added.
    pub entries_added: u64,
    groups: BTreeMap<Box<[u8]>, Group>,
    /// Heap bytes of the node buffers.
    node_bytes: usize,
}

/// Estimated bytes of one node's slot in the node map (key, node header,
/// B-tree slack).
const NODE_SLOT: usize = std::mem::size_of::<(StreamId, Node)>() * 3 / 2;
/// Estimated bytes of a group's slot, beyond its name and PELs.
const GROUP_SLOT: usize = std::mem::size_of::<(Box<[u8]>, Group)>() * 3 / 2;

/// One live entry, borrowed from its node.
#[derive(Clone, Copy)]
pub struct EntryRef<'a> {
    pub id: StreamId,
    node: &'a Node,
    raw: RawEntry,
}

impl<'a> EntryRef<'a> {
    /// The entry's field-value pairs, in the order they were added.
    pub fn pairs(&self) -> Pairs<'a> {
        self.node.pairs(&self.raw)
    }
}

impl Stream {
    pub fn new() -> Stream {
        Stream::default()
    }

    /// Live entries.
    pub fn len(&self) -> u64 {
        self.length
    }

    pub fn is_empty(&self) -> bool {
        self.length == 0
    }

    /// Nodes (XINFO's radix-tree-keys).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// The nodes a Redis radix tree keyed by the node IDs (128-bit big
    /// endian) holds when built by insertions (XINFO's radix-tree-nodes):
    /// a compressed node per run of bytes all keys below share, a branching
    /// node where they part, a leaf per key.
    pub fn rax_nodes(&self) -> usize {
        let keys: Vec<[u8; 16]> = self
            .nodes
            .keys()
            .map(|id| {
                let mut k = [0u8; 16];
                k[..8].copy_from_slice(&id.ms.to_be_bytes());
                k[8..].copy_from_slice(&id.seq.to_be_bytes());
                k
            })
            .collect();
        fn below(keys: &[[u8; 16]], depth: usize) -> usize {
            if depth == 16 || keys.is_empty() {
                return 1;
            }
            let (first, last) = (&keys[0], &keys[keys.len() - 1]);
            let shared = (depth..16).take_while(|&i| first[i] == last[i]).count();
            if shared > 0 {
                return 1 + below(keys, depth + shared);
            }
            let mut n = 1;
            let mut rest = keys;
            while let Some(k) = rest.first() {
                let split = rest
                    .iter()
                    .position(|o| o[depth] != k[depth])
                    .unwrap_or(rest.len());
                n += below(&rest[..split], depth + 1);
                rest = &rest[split..];
            }
            n
        }
        below(&keys, 0)
    }

    /// Approximate heap bytes of the whole value (it is boxed in `Value`).
    pub fn heap_bytes(&self) -> usize {
        std::mem::size_of::<Stream>()
            + self.node_bytes
            + self.nodes.len() * NODE_SLOT
            + self
                .groups
                .iter()
                .map(|(n, g)| {
                    GROUP_SLOT + crate::keyspace::value::alloc_size(n.len()) + g.heap_bytes()
                })
                .sum::<usize>()
    }

    /// Adds an entry (`streamAppendItem`): `id` None generates one from
    /// `now_ms`; a given ID whose sequence is not (`<ms>-*`) takes the next
    /// sequence of `<ms>`. `pairs` alternates fields and values.
    pub fn add(
        &mut self,
        id: Option<ParsedId>,
        now_ms: u64,
        pairs: &[Bytes],
        limits: NodeLimits,
    ) -> Result<StreamId, AddError> {
        let id = match id {
            None if now_ms > self.last_id.ms => StreamId::new(now_ms, 0),
            None => self.last_id.next().ok_or(AddError::IdTooSmall)?,
            Some(p) if p.seq_given || self.last_id.ms != p.id.ms => p.id,
            // Redis fails here without setting errno, so its XADD reports
            // the other error.
            Some(_) if self.last_id.seq == u64::MAX => return Err(AddError::TooLarge),
            Some(_) => self.last_id.next().ok_or(AddError::IdTooSmall)?,
        };
        if id <= self.last_id {
            return Err(AddError::IdTooSmall);
        }
        let add_bytes: usize = pairs.iter().map(Bytes::len).sum();
        if add_bytes > LISTPACK_MAX {
            return Err(AddError::TooLarge);
        }
        let tail = self.nodes.last_entry();
        match tail {
            Some(mut tail)
                if !tail
                    .get()
                    .is_full(add_bytes, limits.max_bytes, limits.max_entries) =>
            {
                let master = *tail.key();
                let node = tail.get_mut();
                let before = node.heap_bytes();
                node.append(master, id, pairs);
                self.node_bytes = self.node_bytes + node.heap_bytes() - before;
            }
            tail => {
                if let Some(mut tail) = tail {
                    let node = tail.get_mut();
                    let before = node.heap_bytes();
                    node.shrink();
                    self.node_bytes = self.node_bytes + node.heap_bytes() - before;
                }
                let node = Node::new(id, pairs);
                self.node_bytes += node.heap_bytes();
                self.nodes.insert(id, node);
            }
        }
        self.length += 1;
        self.entries_added += 1;
        self.last_id = id;
        if self.length == 1 {
            self.first_id = id;
        }
        Ok(id)
    }

    /// Live entries with `start <= id <= end`, in order.
    pub fn range(&self, start: StreamId, end: StreamId) -> Range<'_> {
        range_in(&self.nodes, start, end)
    }

    /// Live entries with `start <= id <= end`, last first.
    pub fn rev_range(&self, start: StreamId, end: StreamId) -> RevRange<'_> {
        RevRange {
            nodes: self.nodes.range(..=end).rev(),
            cur: None,
            offsets: Vec::new(),
            start,
            end,
            done: false,
        }
    }

    /// The live entry `id`.
    pub fn get(&self, id: StreamId) -> Option<EntryRef<'_>> {
        self.range(id, id).next()
    }

    pub fn contains(&self, id: StreamId) -> bool {
        self.get(id).is_some()
    }

    /// The last live entry's ID (`streamLastValidID`).
    pub fn last_live_id(&self) -> Option<StreamId> {
        self.rev_range(StreamId::MIN, StreamId::MAX)
            .next()
            .map(|e| e.id)
    }

    fn first_live_id(&self) -> Option<StreamId> {
        self.range(StreamId::MIN, StreamId::MAX)
            .next()
            .map(|e| e.id)
    }

    /// Deletes the live entry `id` (`streamDeleteItem`); its node goes with
    /// its last live entry. First ID and greatest deleted ID are the
    /// caller's (`delete_ids`).
    fn delete_one(&mut self, id: StreamId) -> bool {
        let Some((&master, node)) = self.nodes.range_mut(..=id).next_back() else {
            return false;
        };
        let mut at = node.first_at();
        let found = loop {
            if at >= node.end() {
                break None;
            }
            let e = node.entry_at(master, at);
            if e.id == id && !e.is_deleted() {
                break Some(at);
            }
            if e.id >= id {
                break None;
            }
            at = e.end;
        };
        let Some(at) = found else {
            return false;
        };
        if node.live() == 1 {
            self.node_bytes -= node.heap_bytes();
            self.nodes.remove(&master);
        } else {
            node.mark_deleted(at);
        }
        self.length -= 1;
        true
    }

    /// XDEL: deletes the live entries among `ids`; how many were deleted.
    pub fn delete_ids(&mut self, ids: &[StreamId]) -> u64 {
        let mut deleted = 0;
        let mut first_gone = false;
        for &id in ids {
            if self.delete_one(id) {
                first_gone |= id == self.first_id;
                self.max_deleted_id = self.max_deleted_id.max(id);
                deleted += 1;
            }
        }
        if deleted > 0 {
            if self.length == 0 {
                self.first_id = StreamId::MIN;
            } else if first_gone {
                self.first_id = self.first_live_id().unwrap_or(StreamId::MAX);
            }
        }
        deleted
    }

    /// Trims from the head (`streamTrim`): whole nodes while they can go;
    /// then, unless `approx`, entries inside the next node are flagged
    /// deleted. At most `limit` entries go (0 = no limit), counted in whole
    /// nodes. Returns how many entries were removed.
    pub fn trim(&mut self, how: Trim, approx: bool, limit: u64) -> u64 {
        let mut deleted = 0u64;
        while let Some(mut first) = self.nodes.first_entry() {
            if let Trim::MaxLen(max) = how {
                if self.length <= max {
                    break;
                }
            }
            let master = *first.key();
            let entries = first.get().live() as u64;
            if limit != 0 && deleted + entries > limit {
                break;
            }
            let whole = match how {
                Trim::MaxLen(max) => self.length - entries >= max,
                Trim::MinId(min) => first.get().last_id(master) < min,
            };
            if whole {
                self.node_bytes -= first.get().heap_bytes();
                first.remove();
                self.length -= entries;
                deleted += entries;
                continue;
            }
            if approx {
                break;
            }
            let node = first.get_mut();
            for at in node.offsets(master) {
                let e = node.entry_at(master, at);
                let stop = match how {
                    Trim::MaxLen(max) => self.length <= max,
                    Trim::MinId(min) => e.id >= min,
                };
                if stop {
                    break;
                }
                if !e.is_deleted() {
                    node.mark_deleted(at);
                    self.length -= 1;
                    deleted += 1;
                }
            }
            break;
        }
        if self.length == 0 {
            self.first_id = StreamId::MIN;
        } else if deleted > 0 {
            self.first_id = self.first_live_id().unwrap_or(StreamId::MAX);
        }
        deleted
    }

    // ---- consumer groups ----------------------------------------------

    pub fn groups(&self) -> impl ExactSizeIterator<Item = (&[u8], &Group)> {
        self.groups.iter().map(|(n, g)| (&**n, g))
    }

    pub fn group(&self, name: &[u8]) -> Option<&Group> {
        self.groups.get(name)
    }

    pub fn group_mut(&mut self, name: &[u8]) -> Option<&mut Group> {
        self.groups.get_mut(name)
    }

    /// Creates group `name`; false if it exists.
    pub fn create_group(
        &mut self,
        name: &[u8],
        last_id: StreamId,
        entries_read: Option<i64>,
    ) -> bool {
        if self.groups.contains_key(name) {
            return false;
        }
        self.groups
            .insert(name.into(), Group::new(last_id, entries_read));
        true
    }

    pub fn destroy_group(&mut self, name: &[u8]) -> bool {
        self.groups.remove(name).is_some()
    }
}

/// Live entries of `nodes` with `start <= id <= end`, in order.
fn range_in(nodes: &BTreeMap<StreamId, Node>, start: StreamId, end: StreamId) -> Range<'_> {
    // A node's entries are at or above its key: start at the last node
    // keyed at or below `start`.
    let from = nodes
        .range(..=start)
        .next_back()
        .map_or(StreamId::MIN, |(k, _)| *k);
    Range {
        nodes: nodes.range(from..),
        cur: None,
        start,
        end,
        done: false,
    }
}

/// Live entries in ID order (see [`Stream::range`]).
pub struct Range<'a> {
    nodes: std::collections::btree_map::Range<'a, StreamId, Node>,
    /// The node being walked: its master ID, itself, the next offset.
    cur: Option<(StreamId, &'a Node, usize)>,
    start: StreamId,
    end: StreamId,
    /// Past the range: nothing later can be in it.
    done: bool,
}

impl<'a> Iterator for Range<'a> {
    type Item = EntryRef<'a>;

    fn next(&mut self) -> Option<EntryRef<'a>> {
        while !self.done {
            let (master, node, at) = match self.cur {
                Some(c) => c,
                None => {
                    let (k, n) = self.nodes.next()?;
                    (*k, n, n.first_at())
                }
            };
            if at >= node.end() {
                self.cur = None;
                continue;
            }
            let raw = node.entry_at(master, at);
            self.cur = Some((master, node, raw.end));
            if raw.is_deleted() || raw.id < self.start {
                continue;
            }
            if raw.id > self.end {
                self.done = true;
                return None;
            }
            return Some(EntryRef {
                id: raw.id,
                node,
                raw,
            });
        }
        None
    }
}

/// Live entries in reverse ID order (see [`Stream::rev_range`]).
pub struct RevRange<'a> {
    nodes: std::iter::Rev<std::collections::btree_map::Range<'a, StreamId, Node>>,
    cur: Option<(StreamId, &'a Node)>,
    /// Offsets of the current node's entries not yet walked.
    offsets: Vec<usize>,
    start: StreamId,
    end: StreamId,
    /// Below the range: nothing earlier can be in it.
    done: bool,
}

impl<'a> Iterator for RevRange<'a> {
    type Item = EntryRef<'a>;

    fn next(&mut self) -> Option<EntryRef<'a>> {
        while !self.done {
            let Some((master, node)) = self.cur else {
                let (k, n) = self.nodes.next()?;
                self.offsets = n.offsets(*k);
                self.cur = Some((*k, n));
                continue;
            };
            let Some(at) = self.offsets.pop() else {
                self.cur = None;
                continue;
            };
            let raw = node.entry_at(master, at);
            if raw.is_deleted() || raw.id > self.end {
                continue;
            }
            if raw.id < self.start {
                self.done = true;
                return None;
            }
            return Some(EntryRef {
                id: raw.id,
                node,
                raw,
            });
        }
        None
    }
}

#[cfg(test)]
mod tests;
