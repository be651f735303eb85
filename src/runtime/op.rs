//! Typed operations: work for another core's shard whose result comes back
//! typed.
//!
//! An operation is a closure over the receiving core's [`Shard`]; it is
//! boxed to travel through the mesh, runs there, and puts its result into
//! the [`Out`] its sender kept. Only the *completion* travels back (a
//! ticket in the answer packet), so a result of any type rides the same
//! batched answers as everything else, and the sender takes it out with
//! its type known: no `dyn Any`, no downcast.

use std::sync::{Arc, Mutex};

use super::shard::Shard;

/// A boxed operation as it crosses cores.
pub trait RemoteOp<H>: Send {
    fn run(self: Box<Self>, sh: &Shard<H>);
}

/// Where an operation's result waits for its sender.
struct Slot<T>(Mutex<Option<T>>);

/// The result of an operation, once the plan or step that ran it was
/// awaited.
pub struct Out<T>(Arc<Slot<T>>);

impl<T> Out<T> {
    /// The operation's result. Call it after awaiting what ran the
    /// operation: it has run by then (the runtime answers only after).
    pub fn take(self) -> T {
        self.0
             .0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .expect("an awaited operation has run")
    }
}

struct Typed<F, T> {
    f: F,
    out: Arc<Slot<T>>,
}

impl<H, F, T> RemoteOp<H> for Typed<F, T>
where
    F: FnOnce(&Shard<H>) -> T + Send,
    T: Send,
{
    fn run(self: Box<Self>, sh: &Shard<H>) {
        let v = (self.f)(sh);
        *self.out.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(v);
    }
}

struct OneWay<F>(F);

impl<H, F> RemoteOp<H> for OneWay<F>
where
    F: FnOnce(&Shard<H>) + Send,
{
    fn run(self: Box<Self>, sh: &Shard<H>) {
        (self.0)(sh)
    }
}

/// Boxes `f` for another core; nobody waits for it.
pub fn one_way<H, F>(f: F) -> Box<dyn RemoteOp<H>>
where
    H: 'static,
    F: FnOnce(&Shard<H>) + Send + 'static,
{
    Box::new(OneWay(f))
}

/// Boxes `f` for another core, with the [`Out`] its result will be in.
pub fn op<H, T, F>(f: F) -> (Box<dyn RemoteOp<H>>, Out<T>)
where
    H: 'static,
    T: Send + 'static,
    F: FnOnce(&Shard<H>) -> T + Send + 'static,
{
    let out = Arc::new(Slot(Mutex::new(None)));
    let boxed = Box::new(Typed {
        f,
        out: out.clone(),
    });
    (boxed, Out(out))
}
