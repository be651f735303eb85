//! Keyspace notifications: the event classes of `notify-keyspace-events` and
//! the per-shard buffer of events the commands raise.
//!
//! A handler that changes a key calls `Store::notify` with the event's class
//! and Redis's event name. When no class is enabled that is one branch; when
//! one is, the event is buffered in the store (which does no I/O) and the
//! shard publishes the buffer on `__keyspace@<db>__:<key>` and
//! `__keyevent@<db>__:<event>` after the command (`services`, the runtime's
//! `Hooks::after_work`).

use bytes::Bytes;

pub const KEYSPACE: u32 = 1 << 0;
pub const KEYEVENT: u32 = 1 << 1;
pub const GENERIC: u32 = 1 << 2;
pub const STRING: u32 = 1 << 3;
pub const LIST: u32 = 1 << 4;
pub const SET: u32 = 1 << 5;
pub const HASH: u32 = 1 << 6;
pub const ZSET: u32 = 1 << 7;
pub const EXPIRED: u32 = 1 << 8;
pub const EVICTED: u32 = 1 << 9;
pub const STREAM: u32 = 1 << 10;
pub const KEY_MISS: u32 = 1 << 11;
pub const MODULE: u32 = 1 << 12;
pub const NEW: u32 = 1 << 13;
/// `A`: every class but key-miss and new.
pub const ALL: u32 =
    GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE;

/// The bits of a `notify-keyspace-events` value (already validated by the
/// config layer; unknown characters are ignored).
pub fn parse_flags(s: &str) -> u32 {
    s.chars().fold(0, |f, c| {
        f | match c {
            'A' => ALL,
            'g' => GENERIC,
            '$' => STRING,
            'l' => LIST,
            's' => SET,
            'h' => HASH,
            'z' => ZSET,
            'x' => EXPIRED,
            'e' => EVICTED,
            'K' => KEYSPACE,
            'E' => KEYEVENT,
            't' => STREAM,
            'm' => KEY_MISS,
            'd' => MODULE,
            'n' => NEW,
            _ => 0,
        }
    })
}

/// One raised event, waiting to be published.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub db: usize,
    pub class: u32,
    pub event: &'static str,
    pub key: Bytes,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_parse_as_redis() {
        assert_eq!(parse_flags(""), 0);
        assert_eq!(parse_flags("KEA") & NEW, 0);
        assert_eq!(parse_flags("KEA") & KEY_MISS, 0);
        assert_eq!(parse_flags("Ex"), KEYEVENT | EXPIRED);
        assert_eq!(
            parse_flags("AKEmn"),
            ALL | KEYSPACE | KEYEVENT | KEY_MISS | NEW
        );
    }
}
