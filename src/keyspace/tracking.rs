//! Client-side caching on one shard: which clients may hold a copy of
//! which of this shard's keys (Redis's tracking table), the prefixes
//! clients in BCAST mode follow, and the invalidations a change owes them.
//!
//! Keys live on the shard that owns them, so a read on any core and a
//! write on any core meet here. A tracked read remembers its keys
//! ([`Tracking::remember`]); every change of a key passes through
//! `Store::notify`, which calls [`Tracking::changed`]: the key leaves the
//! table and an invalidation is queued for each client that read it (and
//! for each BCAST client whose prefix matches). The layer above takes the
//! queue after the command ([`Tracking::take`]) and sends each client's
//! notices to the core its connection lives on.
//!
//! Like Redis, entries name clients by id and are dropped lazily: a client
//! that turned tracking off or went away is skipped where its notices
//! arrive. Touched only by the owning core; no I/O, no awaits.

use std::collections::HashMap;

use bytes::Bytes;

/// The client a command runs for, as tracking needs it: set on the store
/// before each command (`runtime::Cmd`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Caller {
    /// Client id; 0 when no client (expiry, eviction, internal work).
    pub client: u64,
    /// The core its connection lives on.
    pub core: u16,
    /// Remember the keys this command reads for the client.
    pub track: bool,
}

/// Invalidations owed to one client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    pub client: u64,
    /// The changed keys, each with the client that changed it (0: none),
    /// for NOLOOP.
    pub keys: Vec<(Bytes, u64)>,
    /// From a BCAST prefix (one message with every key that matched it)
    /// rather than from the table (one message per key).
    pub bcast: bool,
    /// The BCAST prefix the keys matched.
    pub prefix: Bytes,
}

#[derive(Default)]
pub struct Tracking {
    /// Key → the clients (id, core) that may cache it.
    keys: HashMap<Bytes, Vec<(u64, u16)>>,
    /// Client ids across `keys` (INFO `tracking_total_items`).
    items: usize,
    /// BCAST prefixes → their clients (id, core).
    prefixes: Vec<(Bytes, Vec<(u64, u16)>)>,
    /// Notices waiting to be sent, by core.
    pending: Vec<(u16, Notice)>,
    /// The client running the current command.
    pub caller: Caller,
    /// `tracking-table-max-keys` for this shard's table (0: no limit).
    pub max_keys: usize,
}

impl Tracking {
    /// Nothing to do on a change: no tracked key, no prefix.
    #[inline]
    pub fn is_idle(&self) -> bool {
        self.keys.is_empty() && self.prefixes.is_empty()
    }

    /// (keys, items, prefixes) for INFO.
    pub fn counts(&self) -> (usize, usize, usize) {
        (self.keys.len(), self.items, self.prefixes.len())
    }

    /// The caller read `key`: it may cache it from now on. Past
    /// `max_keys`, other keys are dropped from the table, their clients
    /// told as if the keys had changed.
    pub fn remember(&mut self, key: &[u8], caller: Caller) {
        let entry = (caller.client, caller.core);
        match self.keys.get_mut(key) {
            Some(ids) if ids.contains(&entry) => return,
            Some(ids) => ids.push(entry),
            None => {
                self.keys.insert(Bytes::copy_from_slice(key), vec![entry]);
            }
        }
        self.items += 1;
        if self.max_keys > 0 && self.keys.len() > self.max_keys {
            self.evict(key);
        }
    }

    /// Drops keys other than `keep` until the table fits `max_keys`.
    fn evict(&mut self, keep: &[u8]) {
        let over = self.keys.len() - self.max_keys;
        let victims: Vec<Bytes> = self
            .keys
            .keys()
            .filter(|k| k.as_ref() != keep)
            .take(over)
            .cloned()
            .collect();
        for k in victims {
            self.invalidate(&k, 0);
        }
    }

    /// `key` changed (written by the current caller): every client that
    /// may cache it, and every BCAST client of a matching prefix, is owed
    /// an invalidation.
    pub fn changed(&mut self, key: &[u8]) {
        let writer = self.caller.client;
        for (prefix, clients) in &self.prefixes {
            if !key.starts_with(prefix) {
                continue;
            }
            for &(client, core) in clients {
                let found = self
                    .pending
                    .iter_mut()
                    .find(|(_, n)| n.bcast && n.client == client && n.prefix == prefix);
                let item = (Bytes::copy_from_slice(key), writer);
                match found {
                    Some((_, n)) if n.keys.iter().any(|(k, _)| k == &item.0) => {
                        // The last writer counts, as in Redis's table.
                        if let Some(k) = n.keys.iter_mut().find(|(k, _)| k == &item.0) {
                            k.1 = writer;
                        }
                    }
                    Some((_, n)) => n.keys.push(item),
                    None => self.pending.push((
                        core,
                        Notice {
                            client,
                            keys: vec![item],
                            bcast: true,
                            prefix: prefix.clone(),
                        },
                    )),
                }
            }
        }
        self.invalidate(key, writer);
    }

    /// Takes `key` out of the table, queueing one notice per client.
    fn invalidate(&mut self, key: &[u8], writer: u64) {
        let Some(ids) = self.keys.remove(key) else {
            return;
        };
        self.items -= ids.len();
        let key = Bytes::copy_from_slice(key);
        for (client, core) in ids {
            self.pending.push((
                core,
                Notice {
                    client,
                    keys: vec![(key.clone(), writer)],
                    bcast: false,
                    prefix: Bytes::new(),
                },
            ));
        }
    }

    /// Follows `prefix` for a client in BCAST mode.
    pub fn add_prefix(&mut self, prefix: Bytes, client: u64, core: u16) {
        match self.prefixes.iter_mut().find(|(p, _)| *p == prefix) {
            Some((_, clients)) if clients.iter().any(|c| c.0 == client) => {}
            Some((_, clients)) => clients.push((client, core)),
            None => self.prefixes.push((prefix, vec![(client, core)])),
        }
    }

    /// Forgets every prefix of `client`.
    pub fn drop_prefixes(&mut self, client: u64) {
        for (_, clients) in &mut self.prefixes {
            clients.retain(|c| c.0 != client);
        }
        self.prefixes.retain(|(_, clients)| !clients.is_empty());
    }

    /// FLUSHDB / FLUSHALL: the whole table goes (clients are told once,
    /// by the command, with a null).
    pub fn clear(&mut self) {
        self.keys.clear();
        self.items = 0;
    }

    /// The notices queued since the last call, with their clients' cores;
    /// a client's BCAST notices in prefix order, as Redis walks its
    /// prefix tree.
    pub fn take(&mut self) -> Vec<(u16, Notice)> {
        let mut pending = std::mem::take(&mut self.pending);
        if pending.iter().any(|(_, n)| n.bcast) {
            pending.sort_by(|(_, a), (_, b)| (a.client, &a.prefix).cmp(&(b.client, &b.prefix)));
        }
        pending
    }

    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(client: u64, core: u16) -> Caller {
        Caller {
            client,
            core,
            track: true,
        }
    }

    #[test]
    fn a_change_notifies_each_reader_once_and_forgets_the_key() {
        let mut t = Tracking::default();
        t.remember(b"k", caller(1, 0));
        t.remember(b"k", caller(1, 0));
        t.remember(b"k", caller(2, 1));
        assert_eq!(t.counts(), (1, 2, 0));
        t.caller = caller(3, 0);
        t.changed(b"k");
        let sent = t.take();
        assert_eq!(sent.len(), 2);
        assert_eq!(sent[1].0, 1);
        assert_eq!(sent[1].1.keys, vec![(Bytes::from_static(b"k"), 3)]);
        assert_eq!(t.counts(), (0, 0, 0));
        t.changed(b"k");
        assert!(t.take().is_empty());
    }

    #[test]
    fn bcast_prefixes_collect_matching_keys_in_one_notice() {
        let mut t = Tracking::default();
        t.add_prefix(Bytes::from_static(b"user:"), 7, 2);
        t.changed(b"user:1");
        t.changed(b"order:1");
        t.changed(b"user:2");
        let sent = t.take();
        assert_eq!(sent.len(), 1);
        assert!(sent[0].1.bcast);
        assert_eq!(sent[0].1.keys.len(), 2);
        t.drop_prefixes(7);
        assert!(t.is_idle());
    }

    #[test]
    fn the_table_stays_within_its_limit() {
        let mut t = Tracking {
            max_keys: 2,
            ..Default::default()
        };
        for k in [&b"a"[..], b"b", b"c"] {
            t.remember(k, caller(1, 0));
        }
        assert_eq!(t.counts().0, 2);
        assert_eq!(t.take().len(), 1);
    }
}
