//! The script cache every core shares: SHA1 → script body and its shebang
//! flags. EVAL and SCRIPT LOAD add to it; EVALSHA reads it; SCRIPT FLUSH
//! empties it and bumps the generation, which tells each core to drop the
//! functions it compiled (`script::vm`).
//!
//! Touched once per EVAL/EVALSHA (a read lock), never per command a
//! script runs.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use bytes::Bytes;

use super::flags::Flags;

pub struct Script {
    /// Lowercase hex SHA1 of the body.
    pub sha: String,
    pub body: Bytes,
    /// None: no shebang (Redis's compatibility mode).
    pub flags: Option<Flags>,
    /// Seen touching more than the shard of its declared keys: it runs
    /// holding every shard from then on (`command::scripting`).
    pub spans: AtomicBool,
}

#[derive(Default)]
pub struct Cache {
    scripts: RwLock<HashMap<String, Arc<Script>>>,
    generation: AtomicU64,
}

/// Lowercase hex SHA1, as SCRIPT LOAD answers and `redis.sha1hex` returns.
pub fn sha1_hex(data: &[u8]) -> String {
    sha1_smol::Sha1::from(data).digest().to_string()
}

impl Cache {
    pub fn get(&self, sha: &str) -> Option<Arc<Script>> {
        let map = self.scripts.read().unwrap_or_else(|p| p.into_inner());
        map.get(sha).cloned()
    }

    /// SCRIPT EXISTS: the SHA1's case does not matter, as in Redis.
    pub fn exists(&self, sha: &[u8]) -> bool {
        self.get(&String::from_utf8_lossy(sha).to_ascii_lowercase())
            .is_some()
    }

    /// Adds a compiled-and-checked script (or returns the one already there).
    pub fn insert(&self, sha: String, body: Bytes, flags: Option<Flags>) -> Arc<Script> {
        let mut map = self.scripts.write().unwrap_or_else(|p| p.into_inner());
        map.entry(sha.clone())
            .or_insert_with(|| {
                Arc::new(Script {
                    sha,
                    body,
                    flags,
                    spans: AtomicBool::new(false),
                })
            })
            .clone()
    }

    pub fn flush(&self) {
        let mut map = self.scripts.write().unwrap_or_else(|p| p.into_inner());
        // A new table: the old one's memory goes back, as in Redis.
        *map = HashMap::new();
        self.generation.fetch_add(1, Ordering::Release);
    }

    /// Changes with every flush; a core whose compiled scripts are of an
    /// older generation drops them.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Bytes the cache holds (INFO `used_memory_scripts_eval`): bodies,
    /// SHA1s, the entries and the table, as Redis counts its script dict.
    pub fn memory(&self) -> usize {
        use std::mem::size_of;
        let map = self.scripts.read().unwrap_or_else(|p| p.into_inner());
        let slot = size_of::<(String, Arc<Script>)>() + 1;
        map.capacity() * slot
            + map
                .iter()
                .map(|(k, s)| {
                    // The Arc's two counters precede the Script.
                    k.len() + s.sha.len() + s.body.len() + size_of::<Script>() + 16
                })
                .sum::<usize>()
    }

    pub fn len(&self) -> usize {
        self.scripts.read().map(|m| m.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
