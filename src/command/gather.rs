//! The two steps of a multi-key write whose keys live on several shards
//! (BITOP, PFMERGE, GEOSEARCHSTORE …): read the sources on their owning
//! shards while the destination is claimed too, compute on the
//! connection's core, then write the destination and end the operation.
//!
//! Runs on the connection's core (the coordinator) inside one ordered
//! multi-shard operation (`runtime::txn`), so no other command sees the
//! sources change between the read and the write, nor the destination
//! half-written. Only keys are claimed, not whole shards.

use std::rc::Rc;

use bytes::Bytes;

use super::on_store;
use crate::keyspace::locks::Claim;
use crate::keyspace::slot::ShardId;
use crate::keyspace::store::Store;
use crate::runtime::{Out, Plan, TxId, Txn};
use crate::services::{Services, Shard};

/// Reads every key of `keys` (each with its owning shard) with `read`, one
/// part per shard, inside `parent` if given, and returns the outputs in key
/// order. With `dst`, it is claimed as well and every claim stays held in
/// the returned operation; without, the reads release as they finish.
pub async fn read_keys<T: Send + 'static>(
    sh: &Rc<Shard>,
    db: usize,
    parent: Option<TxId>,
    keys: &[(Bytes, ShardId)],
    dst: Option<&(Bytes, ShardId)>,
    read: fn(&mut Store, usize, &[u8]) -> T,
) -> (Option<Txn<Services>>, Vec<T>) {
    let mut shares: Vec<(ShardId, Vec<usize>)> = Vec::new();
    for (i, (_, shard)) in keys.iter().enumerate() {
        match shares.iter_mut().find(|(s, _)| s == shard) {
            Some((_, idxs)) => idxs.push(i),
            None => shares.push((*shard, vec![i])),
        }
    }
    if let Some((_, shard)) = dst {
        if !shares.iter().any(|(s, _)| s == shard) {
            shares.push((*shard, Vec::new()));
        }
    }
    let mut plan = Plan::new(sh, parent);
    let outs: Vec<Out<Vec<T>>> = shares
        .iter()
        .map(|(shard, idxs)| {
            let mine: Vec<Bytes> = idxs.iter().map(|&i| keys[i].0.clone()).collect();
            let mut claim = mine.clone();
            claim.extend(dst.filter(|d| d.1 == *shard).map(|d| d.0.clone()));
            plan.part(
                *shard,
                Claim::Keys(claim),
                on_store(db, move |st, db| {
                    mine.iter().map(|k| read(st, db, k)).collect::<Vec<T>>()
                }),
            )
        })
        .collect();
    let txn = match dst {
        Some(_) => Some(plan.hold().await),
        None => {
            plan.run().await;
            None
        }
    };
    let mut slots: Vec<Option<T>> = (0..keys.len()).map(|_| None).collect();
    for ((_, idxs), out) in shares.iter().zip(outs) {
        for (&i, v) in idxs.iter().zip(out.take()) {
            slots[i] = Some(v);
        }
    }
    (txn, slots.into_iter().flatten().collect())
}

/// Runs `write` on `dst`'s shard within the held operation `txn`, ends the
/// operation and returns what `write` returned.
pub async fn write_and_end<T: Send + 'static>(
    mut txn: Txn<Services>,
    db: usize,
    dst: (Bytes, ShardId),
    write: impl FnOnce(&mut Store, usize, &[u8]) -> T + Send + 'static,
) -> T {
    let (key, shard) = dst;
    let out = txn.step(shard, on_store(db, move |st, db| write(st, db, &key)));
    txn.end().await;
    out.take()
}
