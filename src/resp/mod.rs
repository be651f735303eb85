//! RESP wire protocol: request framing in, reply encoding out.
//!
//! Sits at both ends of the request path on the connection's core: the
//! connection task frames requests with [`parse_request`] after each read, and
//! encodes replies with [`encode`] before its single write per batch. Shards
//! only build [`Reply`] values; they never touch wire bytes.
//!
//! ```text
//! socket ─► BytesMut ─► parse_request ─► Vec<Bytes> args ─► command layer
//! socket ◄─ BytesMut ◄─ encode ◄──────── Reply ◄──────────── handlers
//! ```
//!
//! Architecture invariants: this module never names a command and knows no
//! connection state beyond the protocol version it is told ([`Proto`]); it is
//! pure code over byte buffers (no I/O, never awaits, never panics on input).
//! Behaviour and error texts follow Redis 7.0 `networking.c` byte for byte;
//! each file documents its few deliberate differences.
//!
//! Not here: RESP3 *request* types (clients send arrays of bulk strings or
//! inline lines only, as Redis accepts), reply buffering and write scheduling.

pub mod parse;
pub mod reply;

pub use parse::{parse_request, Limits, ProtocolError};
pub use reply::{encode, format_double, Proto, Reply};
