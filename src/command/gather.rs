//! The two steps of a multi-key write whose keys live on several shards
//! (BITOP, PFMERGE, GEOSEARCHSTORE …): read the sources on their owning
//! shards while the destination's shard is held too, compute on the
//! connection's core, then write the destination and end the operation.
//!
//! Runs on the connection's core (the coordinator) inside one ordered
//! multi-shard operation (`shard::core`), so no other command sees the
//! sources change between the read and the write, nor the destination
//! half-written. Only keys are claimed, not whole shards.

use std::rc::Rc;

use bytes::Bytes;

use super::{store_step, take};
use crate::shard::core::{Shard, Txn};
use crate::shard::locks::Claim;
use crate::shard::slot::ShardId;
use crate::shard::store::Store;

/// Reads every key of `keys` with `read` on its owning shard, one step per
/// shard, and returns the outputs in key order. With `dst`, its shard is
/// claimed as well and every claim stays held in the returned operation;
/// without, the reads release as they finish.
pub async fn read_keys<T: Send + 'static>(
    sh: &Rc<Shard>,
    db: usize,
    keys: &[Bytes],
    dst: Option<&Bytes>,
    read: fn(&mut Store, usize, &[u8]) -> T,
) -> (Txn, Vec<T>) {
    let mut shares: Vec<(ShardId, Vec<usize>)> = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        let shard = sh.slots.shard_of(key);
        match shares.iter_mut().find(|(s, _)| *s == shard) {
            Some((_, idxs)) => idxs.push(i),
            None => shares.push((shard, vec![i])),
        }
    }
    if let Some(d) = dst {
        let shard = sh.slots.shard_of(d);
        if !shares.iter().any(|(s, _)| *s == shard) {
            shares.push((shard, Vec::new()));
        }
    }
    let parts = shares
        .iter()
        .map(|(shard, idxs)| {
            let mine: Vec<Bytes> = idxs.iter().map(|&i| keys[i].clone()).collect();
            let mut claim = mine.clone();
            claim.extend(dst.filter(|d| sh.slots.shard_of(d) == *shard).cloned());
            let step = store_step(db, move |st, db| {
                mine.iter().map(|k| read(st, db, k)).collect::<Vec<T>>()
            });
            (*shard, Claim::Keys(claim), step)
        })
        .collect();
    let (txn, outs) = sh.begin_claims(parts, dst.is_some()).await;
    let mut slots: Vec<Option<T>> = (0..keys.len()).map(|_| None).collect();
    for ((_, idxs), out) in shares.iter().zip(outs) {
        for (&i, v) in idxs.iter().zip(take::<Vec<T>>(out)) {
            slots[i] = Some(v);
        }
    }
    let values = slots
        .into_iter()
        .map(|v| v.expect("every key was read"))
        .collect();
    (txn, values)
}

/// Runs `write` on `dst`'s shard within the held operation `txn`, ends the
/// operation and returns what `write` returned.
pub async fn write_and_end<T: Send + 'static>(
    sh: &Rc<Shard>,
    txn: Txn,
    db: usize,
    dst: Bytes,
    write: impl FnOnce(&mut Store, usize, &[u8]) -> T + Send + 'static,
) -> T {
    let shard = sh.slots.shard_of(&dst);
    let step = store_step(db, move |st, db| write(st, db, &dst));
    let (_, mut outs) = txn.step(sh, vec![(shard, step)], true).await;
    take::<T>(outs.pop().expect("one step"))
}
