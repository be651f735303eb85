//! Tickets: what tasks of this core wait for from other cores (or from
//! this core's own shard), and the delivery of it.
//!
//! A ticket is a slot index plus the slot's generation. A task that stops
//! waiting (its future dropped: the client went away, a timeout) frees the
//! slot at once; a delivery that arrives later finds another generation
//! there and is dropped, so an answer can never reach the wrong waiter and
//! nothing leaks when an answer never comes (a blocked client that gave
//! up). Touched only by the owning core.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use super::shard::{Cmd, Done};
use crate::keyspace::blocked::Answer;

/// What is delivered for a ticket.
pub enum Delivery {
    /// A batch's commands, handed back, and their replies in order.
    Batch(Vec<Cmd>, Vec<Done>),
    /// An operation ran; its result is in its `Out`.
    Ran,
    /// A blocked client was served.
    Served(Answer),
}

enum State {
    Free,
    Waiting(Option<Waker>),
    Got(Delivery),
}

struct Entry {
    gen: u32,
    state: State,
}

#[derive(Default)]
pub struct Tickets {
    entries: Vec<Entry>,
    free: Vec<u32>,
}

fn split(ticket: u64) -> (usize, u32) {
    ((ticket & 0xffff_ffff) as usize, (ticket >> 32) as u32)
}

impl Tickets {
    /// A new ticket to wait on.
    pub fn open(&mut self) -> u64 {
        let i = match self.free.pop() {
            Some(i) => i as usize,
            None => {
                self.entries.push(Entry {
                    gen: 0,
                    state: State::Free,
                });
                self.entries.len() - 1
            }
        };
        let e = &mut self.entries[i];
        e.gen = e.gen.wrapping_add(1);
        e.state = State::Waiting(None);
        (e.gen as u64) << 32 | i as u64
    }

    /// Delivers `d` for `ticket`; dropped if nobody waits on it any more.
    pub fn deliver(&mut self, ticket: u64, d: Delivery) {
        let (i, gen) = split(ticket);
        let Some(e) = self.entries.get_mut(i) else {
            return;
        };
        if e.gen != gen {
            return;
        }
        if let State::Waiting(Some(w)) = std::mem::replace(&mut e.state, State::Got(d)) {
            w.wake();
        }
    }

    fn poll(&mut self, ticket: u64, cx: &mut Context<'_>) -> Poll<Delivery> {
        let (i, gen) = split(ticket);
        let e = &mut self.entries[i];
        debug_assert_eq!(e.gen, gen);
        match std::mem::replace(&mut e.state, State::Free) {
            State::Got(d) => {
                self.free.push(i as u32);
                Poll::Ready(d)
            }
            _ => {
                e.state = State::Waiting(Some(cx.waker().clone()));
                Poll::Pending
            }
        }
    }

    /// Stops waiting on `ticket` (a later delivery is dropped).
    pub fn close(&mut self, ticket: u64) {
        let (i, gen) = split(ticket);
        if let Some(e) = self.entries.get_mut(i) {
            if e.gen == gen && !matches!(e.state, State::Free) {
                e.state = State::Free;
                self.free.push(i as u32);
            }
        }
    }

    /// Tickets waited on.
    #[cfg(test)]
    pub fn open_count(&self) -> usize {
        self.entries.len() - self.free.len()
    }
}

/// Waits for `ticket`'s delivery; dropping it closes the ticket.
pub struct Awaiting<'a> {
    tickets: &'a std::cell::RefCell<Tickets>,
    ticket: u64,
    done: bool,
}

impl<'a> Awaiting<'a> {
    pub fn new(tickets: &'a std::cell::RefCell<Tickets>, ticket: u64) -> Self {
        Awaiting {
            tickets,
            ticket,
            done: false,
        }
    }
}

impl Future for Awaiting<'_> {
    type Output = Delivery;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Delivery> {
        let out = self.tickets.borrow_mut().poll(self.ticket, cx);
        if out.is_ready() {
            self.done = true;
        }
        out
    }
}

impl Drop for Awaiting<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.tickets.borrow_mut().close(self.ticket);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noop_cx() -> Context<'static> {
        Context::from_waker(Waker::noop())
    }

    #[test]
    fn delivery_reaches_its_ticket_once() {
        let t = std::cell::RefCell::new(Tickets::default());
        let a = t.borrow_mut().open();
        t.borrow_mut().deliver(a, Delivery::Ran);
        let mut f = Awaiting::new(&t, a);
        assert!(matches!(
            Pin::new(&mut f).poll(&mut noop_cx()),
            Poll::Ready(Delivery::Ran)
        ));
        drop(f);
        assert_eq!(t.borrow().open_count(), 0);
    }

    #[test]
    fn late_delivery_to_a_reused_slot_is_dropped() {
        let t = std::cell::RefCell::new(Tickets::default());
        let a = t.borrow_mut().open();
        drop(Awaiting::new(&t, a)); // gave up before the answer
        let b = t.borrow_mut().open();
        assert_eq!(a & 0xffff_ffff, b & 0xffff_ffff, "slot reused");
        t.borrow_mut().deliver(a, Delivery::Ran); // the late answer
        let mut f = Awaiting::new(&t, b);
        assert!(Pin::new(&mut f).poll(&mut noop_cx()).is_pending());
        t.borrow_mut().deliver(b, Delivery::Ran);
        assert!(Pin::new(&mut f).poll(&mut noop_cx()).is_ready());
    }
}
