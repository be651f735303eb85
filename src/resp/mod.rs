//! RESP wire protocol.
