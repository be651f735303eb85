//! What CLIENT LIST / INFO / KILL know about a connection.
//!
//! Each core keeps the `ClientInfo` of its own connections in its shard's
//! registry; the connection task updates it after every batch. A CLIENT LIST
//! or KILL visits every core's registry as one multi-shard step, so nothing
//! here is shared between cores.

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
    pub no_evict: bool,
    /// Waiting in a blocking command (flag `b`; exempt from the idle timeout).
    pub blocked: bool,
    /// Set when CLIENT KILL or the idle timeout closed it.
    pub killed: bool,
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
            no_evict: false,
            blocked: false,
            killed: false,
        }
    }

    /// One CLIENT LIST line, with Redis 7's fields in Redis's order.
    pub fn line(&self) -> String {
        let flags = match (self.blocked, self.no_evict) {
            (true, true) => "be",
            (true, false) => "b",
            (false, true) => "e",
            (false, false) => "N",
        };
        format!(
            "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub=0 psub=0 ssub=0 multi=-1 \
             qbuf={} qbuf-free=0 argv-mem=0 multi-mem=0 rbs=16384 rbp=0 obl=0 oll=0 omem=0 tot-mem={} events=r \
             cmd={} user=default redir=-1 resp={} lib-name={} lib-ver={}",
            self.id,
            self.addr,
            self.laddr,
            self.fd,
            self.name,
            self.created.elapsed().as_secs(),
            self.last_interaction.elapsed().as_secs(),
            flags,
            self.db,
            self.query_buf,
            32 * 1024 + self.query_buf,
            self.last_cmd,
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
