//! What CLIENT LIST / INFO / KILL know about a connection.
//!
//! Each core keeps the `ClientInfo` of its own connections in its shard's
//! registry; the connection task updates it after every batch. A CLIENT LIST
//! or KILL visits every core's registry as one multi-shard step, so nothing
//! here is shared between cores.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

pub struct ClientInfo {
    pub id: u64,
    pub addr: String,
    pub laddr: String,
    pub fd: i32,
    pub name: String,
    pub lib_name: String,
    pub lib_ver: String,
    pub created: Instant,
    pub last_interaction: Instant,
    pub db: usize,
    pub last_cmd: &'static str,
    pub resp: u8,
    pub query_buf: usize,
    /// Room left in the query buffer (`qbuf-free`).
    pub query_buf_free: usize,
    pub no_evict: bool,
    /// Waiting in a blocking command (flag `b`; exempt from the idle timeout).
    pub blocked: bool,
    /// Set when CLIENT KILL or the idle timeout closed it.
    pub killed: bool,
    /// CLIENT NO-TOUCH ON (flag `T`).
    pub no_touch: bool,
    /// In MONITOR mode (flag `O`).
    pub monitor: bool,
    /// Channels, patterns and shard channels subscribed to (flag `P`).
    pub sub: usize,
    pub psub: usize,
    pub ssub: usize,
    /// Commands queued since MULTI (flag `x`), or -1 outside MULTI.
    pub multi: i64,
    /// A watched key changed: EXEC will fail (flag `d`).
    pub dirty_cas: bool,
    /// Pub/Sub messages queued and not yet written.
    pub omem: usize,
    /// The connection's message queue, once it has one (`Session::feed`).
    pub feed: Option<std::sync::Arc<crate::pubsub::Subscriber>>,
    /// CLIENT TRACKING mode (flags `t`, `B`, `R`; `redir=`).
    pub tracking: Option<crate::command::tracking::Tracking>,
    /// In a blocking command that CLIENT UNBLOCK may end (a pop, XREAD
    /// BLOCK; not a wait for CLIENT PAUSE).
    pub unblockable: bool,
    /// CLIENT UNBLOCK asked the blocked command to end: with an error
    /// (true) or as a timeout.
    pub unblock: Option<bool>,
    /// Wakes the blocked command's task when CLIENT UNBLOCK asks.
    pub unblock_waker: Option<std::task::Waker>,
}

impl ClientInfo {
    pub fn new(id: u64, addr: String, laddr: String, fd: i32) -> ClientInfo {
        let now = Instant::now();
        ClientInfo {
            id,
            addr,
            laddr,
            fd,
            name: String::new(),
            lib_name: String::new(),
            lib_ver: String::new(),
            created: now,
            last_interaction: now,
            db: 0,
            last_cmd: "NULL",
            resp: 2,
            query_buf: 0,
            query_buf_free: 0,
            no_evict: false,
            blocked: false,
            killed: false,
            no_touch: false,
            monitor: false,
            sub: 0,
            psub: 0,
            ssub: 0,
            multi: -1,
            dirty_cas: false,
            omem: 0,
            feed: None,
            tracking: None,
            unblockable: false,
            unblock: None,
            unblock_waker: None,
        }
    }

    /// CLIENT LIST's `tot-mem`: the connection's 16 KiB read and 16 KiB
    /// reply buffers, its unparsed input and its queued Pub/Sub output.
    pub fn tot_mem(&self) -> usize {
        2 * 16 * 1024 + self.query_buf + self.omem
    }

    /// One CLIENT LIST line, with Redis 7's fields in Redis's order.
    pub fn line(&self) -> String {
        // Redis's order of flag letters; N when none applies.
        let mut flags = String::new();
        for (on, letter) in [
            (self.monitor, 'O'),
            (self.sub + self.psub + self.ssub > 0, 'P'),
            (self.multi >= 0, 'x'),
            (self.blocked, 'b'),
            (self.tracking.is_some(), 't'),
            (self.tracking.as_ref().is_some_and(|t| t.broken), 'R'),
            (self.tracking.as_ref().is_some_and(|t| t.bcast), 'B'),
            (self.dirty_cas, 'd'),
            (self.no_evict, 'e'),
            (self.no_touch, 'T'),
        ] {
            if on {
                flags.push(letter);
            }
        }
        if flags.is_empty() {
            flags.push('N');
        }
        format!(
            "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub={} psub={} ssub={} multi={} \
             qbuf={} qbuf-free={} argv-mem=0 multi-mem=0 rbs=16384 rbp=0 obl=0 oll=0 omem={} tot-mem={} events=r \
             cmd={} user=default redir={} resp={} lib-name={} lib-ver={}",
            self.id,
            self.addr,
            self.laddr,
            self.fd,
            self.name,
            self.created.elapsed().as_secs(),
            self.last_interaction.elapsed().as_secs(),
            flags,
            self.db,
            self.sub,
            self.psub,
            self.ssub,
            self.multi,
            self.query_buf,
            self.query_buf_free,
            self.omem,
            self.tot_mem(),
            self.last_cmd,
            self.tracking.as_ref().map_or(-1, |t| t.redirect as i64),
            self.resp,
            self.lib_name,
            self.lib_ver,
        )
    }

    /// Closes the socket under the connection task; its pending read ends
    /// and the task cleans up.
    pub fn kill(&mut self) {
        self.killed = true;
        // SAFETY: shutdown(2) on a descriptor this process owns; the task
        // that owns it closes it later, shutdown only wakes its read.
        unsafe {
            libc::shutdown(self.fd, libc::SHUT_RDWR);
        }
    }
}

/// CLIENT PAUSE: until when (unix ms, 0 = not paused) and whether only
/// writes wait. Shared by every core; read with one relaxed load per command.
#[derive(Default)]
pub struct Pause {
    until_ms: AtomicU64,
    writes_only: AtomicBool,
}

impl Pause {
    /// Pauses until `until_ms`; like Redis, a pause only ever grows, in
    /// time and in what it holds back (ALL over WRITE).
    pub fn pause(&self, until_ms: u64, writes_only: bool) {
        let now = crate::keyspace::store::unix_ms();
        let active = self.until_ms.load(Ordering::Relaxed) > now;
        let keep_all = active && !self.writes_only.load(Ordering::Relaxed);
        self.writes_only
            .store(writes_only && !keep_all, Ordering::Relaxed);
        self.until_ms.fetch_max(until_ms, Ordering::Relaxed);
    }

    pub fn unpause(&self) {
        self.until_ms.store(0, Ordering::Relaxed);
    }

    /// Is a pause on now (expiry waits for its end)?
    pub fn is_on(&self) -> bool {
        let until = self.until_ms.load(Ordering::Relaxed);
        until != 0 && crate::keyspace::store::unix_ms() < until
    }

    /// A pause may be on (one relaxed load; `holds` tells for sure).
    pub fn maybe_on(&self) -> bool {
        self.until_ms.load(Ordering::Relaxed) != 0
    }

    /// When a command must wait (`write`: it may write or replicate), the
    /// unix ms it waits until.
    pub fn holds(&self, write: bool) -> Option<u64> {
        let until = self.until_ms.load(Ordering::Relaxed);
        if until == 0 {
            return None;
        }
        if crate::keyspace::store::unix_ms() >= until {
            // Over: later commands skip the clock read.
            let _ = self
                .until_ms
                .compare_exchange(until, 0, Ordering::Relaxed, Ordering::Relaxed);
            return None;
        }
        (write || !self.writes_only.load(Ordering::Relaxed)).then_some(until)
    }
}
