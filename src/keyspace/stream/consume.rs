//! Consumer-group work on a stream: reads that deliver new entries to a
//! consumer, reads of a consumer's own history, XCLAIM and XAUTOCLAIM
//! transfers, and the group counters of Redis 7.0 (entries-read and lag,
//! `streamEstimateDistanceFromFirstEverEntry`, `streamReplyWithCGLag`).
//!
//! The methods hand each entry they deliver to an `emit` callback while the
//! entry is borrowed from its node, so replies are built without copying
//! entries twice. Consumers created on the way are reported to the caller,
//! which raises the keyspace event.

use super::{range_in, EntryRef, Group, Stream, StreamId};

/// The stream counters the group arithmetic reads.
#[derive(Clone, Copy)]
struct Meta {
    length: u64,
    last_id: StreamId,
    first_id: StreamId,
    max_deleted_id: StreamId,
    entries_added: u64,
}

impl Meta {
    /// Whether an XDEL may have left a hole at or after `start`
    /// (`streamRangeHasTombstones` up to the end).
    fn tombstones_from(self, start: StreamId) -> bool {
        if self.length == 0 || self.max_deleted_id.is_zero() || self.first_id > self.max_deleted_id
        {
            return false;
        }
        start <= self.max_deleted_id
    }

    /// The logical read counter of `id`, None when it cannot be known.
    fn entries_read_at(self, id: StreamId) -> Option<i64> {
        let added = self.entries_added as i64;
        if self.entries_added == 0 {
            return Some(0);
        }
        if self.length == 0 && id <= self.last_id {
            return Some(added);
        }
        match id.cmp(&self.last_id) {
            std::cmp::Ordering::Equal => return Some(added),
            std::cmp::Ordering::Greater => return None,
            std::cmp::Ordering::Less => {}
        }
        if self.max_deleted_id.is_zero() || self.max_deleted_id < self.first_id {
            let before_first = added.wrapping_sub(self.length as i64);
            if id < self.first_id {
                return Some(before_first);
            }
            if id == self.first_id {
                return Some(before_first.wrapping_add(1));
            }
        }
        None
    }
}

/// A consumer reading through its group: up to `count` entries (0: all)
/// at time `now`; with `noack` new entries are not made pending.
#[derive(Clone, Copy, Debug)]
pub struct GroupRead<'a> {
    pub group: &'a [u8],
    pub consumer: &'a [u8],
    pub count: usize,
    pub noack: bool,
    pub now: u64,
}

/// How XCLAIM hands entries over.
#[derive(Clone, Copy, Debug)]
pub struct Claim<'a> {
    pub consumer: &'a [u8],
    /// Entries delivered less than this many ms ago stay (0: none stay).
    pub min_idle: u64,
    /// The new delivery time.
    pub time: u64,
    /// RETRYCOUNT: the new delivery count.
    pub retry: Option<u64>,
    pub justid: bool,
    /// FORCE: an entry of the stream not pending becomes pending.
    pub force: bool,
    pub now: u64,
}

/// What a claim did besides the entries it emitted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Delivered {
    /// The consumer did not exist and was created.
    pub created_consumer: bool,
    /// Pending IDs whose entries no longer exist, dropped from the PEL
    /// (XAUTOCLAIM reports them).
    pub deleted: Vec<StreamId>,
    /// XAUTOCLAIM's cursor: the next pending ID to look at, 0-0 at the end.
    pub next: StreamId,
}

/// Looks consumer `name` up, marking it seen, or creates it; true when
/// created.
fn ensure_consumer(g: &mut Group, name: &[u8], now: u64) -> bool {
    !g.touch(name, now) && g.create_consumer(name, now)
}

impl Stream {
    fn meta(&self) -> Meta {
        Meta {
            length: self.length,
            last_id: self.last_id,
            first_id: self.first_id,
            max_deleted_id: self.max_deleted_id,
            entries_added: self.entries_added,
        }
    }

    /// The read counter an ID would have (XGROUP CREATE/SETID without
    /// ENTRIESREAD keep Redis's own -1 instead; this is for reads).
    pub fn entries_read_at(&self, id: StreamId) -> Option<i64> {
        self.meta().entries_read_at(id)
    }

    /// Entries of the stream the group has yet to read; None when holes
    /// left by XDEL make it unknown (XINFO answers null).
    pub fn lag(&self, g: &Group) -> Option<i64> {
        let m = self.meta();
        if m.entries_added == 0 {
            return Some(0);
        }
        let added = m.entries_added as i64;
        match g.entries_read {
            Some(read) if !m.tombstones_from(g.last_id) => Some(added.wrapping_sub(read)),
            _ => m.entries_read_at(g.last_id).map(|r| added.wrapping_sub(r)),
        }
    }

    /// Delivers up to `r.count` entries after `after` to `r.consumer` of
    /// `r.group`, which both exist, advancing the group's last ID and read
    /// counter; unless `r.noack`, each becomes pending for the consumer.
    /// Returns how many were emitted.
    pub fn read_group(
        &mut self,
        r: &GroupRead<'_>,
        after: StreamId,
        mut emit: impl FnMut(EntryRef<'_>),
    ) -> usize {
        let meta = self.meta();
        let (Some(g), Some(start)) = (self.groups.get_mut(r.group), after.next()) else {
            return 0;
        };
        let mut n = 0;
        for e in range_in(&self.nodes, start, StreamId::MAX) {
            if e.id > g.last_id {
                match g.entries_read {
                    Some(read) if !meta.tombstones_from(e.id) => {
                        g.entries_read = Some(read.wrapping_add(1));
                    }
                    _ if meta.entries_added != 0 => g.entries_read = meta.entries_read_at(e.id),
                    _ => {}
                }
                g.last_id = e.id;
            }
            emit(e);
            if !r.noack {
                g.deliver(e.id, r.consumer, r.now);
            }
            n += 1;
            if n == r.count {
                break;
            }
        }
        n
    }

    /// Re-delivers `r.consumer`'s pending entries from `start` on, up to
    /// `r.count`: `emit` gets each ID with its entry, or None when the
    /// entry was deleted meanwhile (it stays pending, uncounted).
    pub fn read_history(
        &mut self,
        r: &GroupRead<'_>,
        start: StreamId,
        mut emit: impl FnMut(StreamId, Option<EntryRef<'_>>),
    ) -> usize {
        let Some(g) = self.groups.get_mut(r.group) else {
            return 0;
        };
        let ids: Vec<StreamId> = match g.consumer(r.consumer) {
            Some(c) => {
                let pending = c.pending().range(start..).copied();
                if r.count == 0 {
                    pending.collect()
                } else {
                    pending.take(r.count).collect()
                }
            }
            None => Vec::new(),
        };
        for &id in &ids {
            match range_in(&self.nodes, id, id).next() {
                Some(e) => {
                    emit(id, Some(e));
                    g.redeliver(id, r.now);
                }
                None => emit(id, None),
            }
        }
        ids.len()
    }

    /// XCLAIM: hands the pending entries `ids` to `c.consumer`, emitting
    /// each one claimed. An ID whose entry is gone leaves the PEL.
    pub fn claim(
        &mut self,
        group: &[u8],
        ids: &[StreamId],
        c: &Claim<'_>,
        mut emit: impl FnMut(EntryRef<'_>),
    ) -> Delivered {
        let mut out = Delivered::default();
        let Some(g) = self.groups.get_mut(group) else {
            return out;
        };
        let mut consumer_ready = false;
        for &id in ids {
            let Some(e) = range_in(&self.nodes, id, id).next() else {
                g.drop_pending(id);
                continue;
            };
            let forced = match g.pel().get(&id) {
                Some(nack) => {
                    let idle = (c.now as i64).wrapping_sub(nack.delivery_time as i64);
                    if c.min_idle != 0 && idle < c.min_idle as i64 {
                        continue;
                    }
                    false
                }
                None if c.force => true,
                None => continue,
            };
            if !consumer_ready {
                out.created_consumer = ensure_consumer(g, c.consumer, c.now);
                consumer_ready = true;
            }
            g.claim(id, c.consumer, c.time, c.retry, c.justid, forced);
            emit(e);
        }
        out
    }

    /// XAUTOCLAIM: walks the PEL from `start`, handing entries idle for at
    /// least `min_idle` ms to `consumer` until `count` are claimed or
    /// dropped (an entry gone from the stream is dropped and reported), at
    /// most `count * 10` looked at; `next` is where the next call resumes.
    #[allow(clippy::too_many_arguments)]
    pub fn autoclaim(
        &mut self,
        group: &[u8],
        consumer: &[u8],
        start: StreamId,
        mut count: u64,
        min_idle: u64,
        justid: bool,
        now: u64,
        mut emit: impl FnMut(EntryRef<'_>),
    ) -> Delivered {
        let mut out = Delivered::default();
        let Some(g) = self.groups.get_mut(group) else {
            return out;
        };
        let mut attempts = count.saturating_mul(10);
        let mut cursor = Some(start);
        let mut consumer_ready = false;
        while attempts > 0 && count > 0 {
            attempts -= 1;
            let Some(from) = cursor else { break };
            let Some((&id, nack)) = g.pel().range(from..).next() else {
                cursor = None;
                break;
            };
            let idle = (now as i64).wrapping_sub(nack.delivery_time as i64);
            cursor = id.next();
            let Some(e) = range_in(&self.nodes, id, id).next() else {
                g.drop_pending(id);
                out.deleted.push(id);
                count -= 1;
                continue;
            };
            if min_idle != 0 && idle < min_idle as i64 {
                continue;
            }
            if !consumer_ready {
                out.created_consumer = ensure_consumer(g, consumer, now);
                consumer_ready = true;
            }
            g.claim(id, consumer, now, None, justid, false);
            emit(e);
            count -= 1;
        }
        out.next = cursor
            .and_then(|from| g.pel().range(from..).next().map(|(id, _)| *id))
            .unwrap_or(StreamId::MIN);
        out
    }
}
