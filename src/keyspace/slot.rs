//! Key → hash slot → owning shard: the only place that maps keys to shards.
//!
//! A slot is CRC16/XMODEM (poly 0x1021, init 0, check value `crc16("123456789")
//! = 0x31C3`) of the key, or of its `{hash tag}`, modulo 16384, exactly as Redis
//! Cluster computes it, so that hash tags co-locate keys here as they do there.
//! The slot table is built once at start-up and is read-only afterwards, so
//! every core holds a copy and looks it up without synchronisation.

/// Number of hash slots, as Redis Cluster.
pub const SLOTS: usize = 16384;

/// A hash slot, 0..16384.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Slot(pub u16);

/// A shard (one per executor core), 0..n_shards.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ShardId(pub usize);

/// The slot of `key`: CRC16 of the hash tag when the key has a non-empty one
/// (`{user}:1` and `{user}:2` share a slot; `{}foo` hashes the whole key).
pub fn slot_of(key: &[u8]) -> Slot {
    let hashed = match key.iter().position(|&b| b == b'{') {
        Some(open) => match key[open + 1..].iter().position(|&b| b == b'}') {
            Some(len) if len > 0 => &key[open + 1..open + 1 + len],
            _ => key,
        },
        None => key,
    };
    Slot(crc16::State::<crc16::XMODEM>::calculate(hashed) & (SLOTS as u16 - 1))
}

/// Maps every slot to its owning shard; contiguous slot ranges per shard, as
/// a cluster node would own them.
#[derive(Clone, Debug)]
pub struct SlotTable {
    owner: Box<[u16]>,
    shards: usize,
}

impl SlotTable {
    pub fn new(shards: usize) -> SlotTable {
        assert!((1..=SLOTS).contains(&shards), "shard count out of range");
        let owner = (0..SLOTS).map(|s| (s * shards / SLOTS) as u16).collect();
        SlotTable { owner, shards }
    }

    pub fn shards(&self) -> usize {
        self.shards
    }

    pub fn shard_of_slot(&self, slot: Slot) -> ShardId {
        ShardId(self.owner[slot.0 as usize] as usize)
    }

    pub fn shard_of(&self, key: &[u8]) -> ShardId {
        if self.shards == 1 {
            // Skip the CRC for the common single-shard deployment.
            return ShardId(0);
        }
        self.shard_of_slot(slot_of(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc16_is_xmodem() {
        assert_eq!(
            crc16::State::<crc16::XMODEM>::calculate(b"123456789"),
            0x31C3
        );
    }

    #[test]
    fn slots_match_redis_cluster() {
        assert_eq!(slot_of(b"somekey"), Slot(11058));
        assert_eq!(slot_of(b"foo{hash_tag}"), Slot(2515));
        assert_eq!(slot_of(b"{hash_tag}bar"), Slot(2515));
        assert_eq!(slot_of(b"{}foo"), slot_of(b"{}foo"));
        assert_ne!(slot_of(b"{}foo"), slot_of(b"foo"));
        assert_eq!(
            slot_of(b"{user1000}.following"),
            slot_of(b"{user1000}.followers")
        );
        assert_eq!(slot_of(b"foo{}{bar}"), slot_of(b"foo{}{bar}"));
        assert_eq!(slot_of(b"foo{{bar}}zap"), slot_of(b"{bar"));
    }

    #[test]
    fn table_spreads_slots_evenly() {
        let t = SlotTable::new(4);
        assert_eq!(t.shard_of_slot(Slot(0)), ShardId(0));
        assert_eq!(t.shard_of_slot(Slot(4095)), ShardId(0));
        assert_eq!(t.shard_of_slot(Slot(4096)), ShardId(1));
        assert_eq!(t.shard_of_slot(Slot(16383)), ShardId(3));
        let one = SlotTable::new(1);
        assert!((0..SLOTS as u16).all(|s| one.shard_of_slot(Slot(s)) == ShardId(0)));
    }
}
