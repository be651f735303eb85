//! The memory allocator, jemalloc (the `lanner` binary installs it), and
//! what it tells about the process's memory.
//!
//! jemalloc was chosen over glibc malloc and mimalloc by measurement
//! (bench/README.md, "Memory"): with two shards glibc's arenas made the
//! cross-core frees of request buffers the slowest path, and jemalloc gives
//! per-thread counters cheap enough to read on every write command, the
//! statistics INFO and MEMORY report, and a purge that hands freed pages
//! back to the kernel at once.
//!
//! Each executor reads its own thread's allocated-minus-freed bytes
//! ([`thread_net`], two loads of thread-local counters): the shards' sum is
//! what the process holds, so `maxmemory` is enforced on what the allocator
//! really gave out, buffers and Lua included, not on an estimate. In unit
//! tests (the system allocator) every figure here reads 0.

use std::cell::Cell;

use tikv_jemalloc_ctl::thread::ThreadLocal;
use tikv_jemalloc_ctl::{epoch, stats, thread};

/// What `mem_allocator` reports.
pub const NAME: &str = "jemalloc-5.3.0";

thread_local! {
    static COUNTERS: Cell<Option<(ThreadLocal<u64>, ThreadLocal<u64>)>> = const { Cell::new(None) };
}

/// Bytes this thread allocated minus bytes it freed since it started
/// (whoever allocated them): summed over every thread, what the process
/// holds.
pub fn thread_net() -> i64 {
    COUNTERS.with(|c| {
        let counters = match c.get() {
            Some(p) => p,
            None => match (thread::allocatedp::read(), thread::deallocatedp::read()) {
                (Ok(a), Ok(d)) => {
                    c.set(Some((a, d)));
                    (a, d)
                }
                _ => return 0,
            },
        };
        counters.0.get().wrapping_sub(counters.1.get()) as i64
    })
}

/// The allocator's view of the whole process, in bytes.
#[derive(Clone, Copy, Debug, Default)]
pub struct Stats {
    /// Handed out to the program (Redis's `allocator_allocated`).
    pub allocated: u64,
    /// In pages holding allocations (`allocator_active`).
    pub active: u64,
    /// Resident pages the allocator maps (`allocator_resident`).
    pub resident: u64,
    pub mapped: u64,
    pub retained: u64,
    pub metadata: u64,
}

/// Fresh statistics (advances jemalloc's epoch: a few microseconds).
pub fn stats() -> Stats {
    let _ = epoch::advance();
    let read = |r: tikv_jemalloc_ctl::Result<usize>| r.unwrap_or(0) as u64;
    Stats {
        allocated: read(stats::allocated::read()),
        active: read(stats::active::read()),
        resident: read(stats::resident::read()),
        mapped: read(stats::mapped::read()),
        retained: read(stats::retained::read()),
        metadata: read(stats::metadata::read()),
    }
}

/// Returns every arena's unused dirty pages to the kernel now (MEMORY
/// PURGE, and after a flush or a large free).
pub fn purge() {
    // MALLCTL_ARENAS_ALL is 4096.
    // SAFETY: "arena.<i>.purge" takes no value; writing () is its call form.
    let _ = unsafe { tikv_jemalloc_ctl::raw::write(b"arena.4096.purge\0", ()) };
}

/// jemalloc's own statistics report (MEMORY MALLOC-STATS).
pub fn report() -> String {
    let mut out = Vec::new();
    let _ = tikv_jemalloc_ctl::stats_print::stats_print(&mut out, Default::default());
    String::from_utf8_lossy(&out).into_owned()
}

/// What an allocation of `n` bytes takes from jemalloc: its size class
/// (8, 16, 32, 48, 64, 80 … then four classes per doubling).
pub fn size_class(n: usize) -> usize {
    match n {
        0 => 0,
        1..=8 => 8,
        9..=128 => (n + 15) & !15,
        _ => {
            let group = (usize::BITS - (n - 1).leading_zeros() - 1) as usize;
            let step = 1usize << (group - 2);
            (n + step - 1) & !(step - 1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_classes_follow_jemalloc() {
        let want = [
            (1, 8),
            (8, 8),
            (9, 16),
            (17, 32),
            (33, 48),
            (100, 112),
            (128, 128),
            (129, 160),
            (161, 192),
            (257, 320),
            (1000, 1024),
            (1025, 1280),
        ];
        for (n, class) in want {
            assert_eq!(size_class(n), class, "{n}");
        }
    }
}
