//! Commands: the table, argument parsing, error texts, and one file per
//! command family. Handlers are named after their command in lowercase;
//! shared bodies end in `_generic`.

/// `tri!(expr)`: the value of an `Ok`, or return the `Err` reply from the
/// handler (handlers answer errors as replies, not as `Result`s).
macro_rules! tri {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(reply) => return reply,
        }
    };
}

pub mod args;
pub mod atomic;
pub mod bitmap;
pub mod blocking;
pub mod client;
pub mod commands;
pub mod connection;
pub mod errors;
pub mod fanout;
pub mod gather;
pub mod geo;
pub mod hash;
pub mod hll;
pub mod keys;
pub mod keyspec;
pub mod latency;
pub mod list;
pub mod memory;
pub mod monitor;
pub mod multi;
pub mod place;
pub mod pubsub;
pub mod scripting;
pub mod server;
pub mod session;
pub mod set;
pub mod slowlog;
pub mod sort;
pub mod stream;
pub mod string;
pub mod table;
pub mod tracking;
pub mod zset;

use crate::keyspace::store::Store;
use crate::keyspace::value::Value;
use crate::services::Shard;

/// Work on the receiving shard's store, in database `db`, with the store's
/// clock refreshed: the shape of most parts of multi-shard operations
/// (`Plan::part`, `Txn::step`).
pub fn on_store<T>(
    db: usize,
    f: impl FnOnce(&mut Store, usize) -> T + Send + 'static,
) -> impl FnOnce(&Shard) -> T + Send + 'static {
    move |shard: &Shard| {
        let mut st = shard.store.borrow_mut();
        st.refresh_clock();
        f(&mut st, db)
    }
}

/// Changes the collection at `key` in place. `pick` selects its variant
/// (None: the key holds another type, WRONGTYPE); the key is deleted when
/// `f` leaves the collection empty, as Redis never keeps an empty one.
/// Ok(None) when the key is absent.
pub fn modify_collection<C, R>(
    st: &mut Store,
    db: usize,
    key: &[u8],
    pick: fn(&mut Value) -> Option<&mut C>,
    is_empty: fn(&C) -> bool,
    f: impl FnOnce(&mut C) -> R,
) -> Result<Option<R>, crate::resp::Reply> {
    let res = st.modify(db, key, |e| match pick(&mut e.value) {
        Some(c) => Ok((f(c), is_empty(c))),
        None => Err(errors::wrongtype()),
    });
    match res {
        None => Ok(None),
        Some(Err(e)) => Err(e),
        Some(Ok((r, empty))) => {
            if empty {
                st.remove(db, key);
            }
            Ok(Some(r))
        }
    }
}

/// Command arguments from string literals, for unit tests.
#[cfg(test)]
pub fn test_args(v: &[&str]) -> Vec<bytes::Bytes> {
    v.iter()
        .map(|s| bytes::Bytes::copy_from_slice(s.as_bytes()))
        .collect()
}

/// A SCAN-family reply: the next cursor (0 when done) and this call's items.
pub fn scan_reply(next: u64, items: Vec<crate::resp::Reply>) -> crate::resp::Reply {
    use crate::resp::Reply;
    Reply::Array(vec![
        Reply::Bulk(bytes::Bytes::copy_from_slice(
            itoa::Buffer::new().format(next).as_bytes(),
        )),
        Reply::Array(items),
    ])
}
