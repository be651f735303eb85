//! What a forwarded command costs: the runtime alone, two executors on two
//! cores, core 0 sending batches of single-shard commands to core 1's
//! shard through the mesh (`runtime::Shard::run_batch`) and waiting for the
//! replies.
//!
//! Measures, per batch size (1, 8, 64 commands):
//! * **waking peer** — one batch in flight at a time: every batch finds the
//!   peer parked, so each round trip pays two cross-core wake-ups (the
//!   request wakes core 1, the answer wakes core 0);
//! * **awake peer** — 32 tasks on core 0 keep batches in flight, so the
//!   peer finds more work before it would park and the outbox packs the
//!   tasks' batches into one packet per executor turn.
//!
//! It prints CPU nanoseconds per forwarded command (user + system time of
//! the whole process, both cores, divided by the commands), wall time per
//! batch, and voluntary context switches (parks) per batch. The command
//! itself does nothing (`Reply::Int`), so the figures are the hop's own
//! cost: parsing, the store and the network are not in them; see
//! `vs_redis.py` for end-to-end figures.
//!
//! `cargo bench --bench hop [-- --seconds S]`

use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use glommio::{LocalExecutorBuilder, Placement};
use lanner::keyspace::slot::ShardId;
use lanner::keyspace::store::Store;
use lanner::resp::Reply;
use lanner::runtime::mesh;
use lanner::runtime::{Cmd, Global, Keys, Shard};

fn nothing(_: &mut Store, _: usize, a: &[Bytes]) -> Reply {
    Reply::Int(a.len() as i64)
}

fn batch(n: usize) -> Vec<Cmd> {
    (0..n)
        .map(|_| Cmd {
            run: nothing,
            keys: Keys::default(),
            db: 0,
            args: vec![Bytes::from_static(b"nothing")],
            no_touch: false,
            caller: Default::default(),
            deny_oom: false,
        })
        .collect()
}

/// (user + system CPU seconds of the process, voluntary context switches).
fn usage() -> (f64, i64) {
    // SAFETY: getrusage fills the struct we pass it.
    unsafe {
        let mut u: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut u);
        let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
        (t(u.ru_utime) + t(u.ru_stime), u.ru_nvcsw)
    }
}

struct Row {
    mode: &'static str,
    size: usize,
    ns_per_cmd: f64,
    us_per_batch: f64,
    parks_per_batch: f64,
}

/// Runs `senders` tasks, each sending batches of `size` for `secs`.
async fn measure(
    sh: &Rc<Shard<()>>,
    mode: &'static str,
    size: usize,
    senders: usize,
    secs: f64,
) -> Row {
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let (cpu0, cs0) = usage();
    let start = Instant::now();
    let tasks: Vec<_> = (0..senders)
        .map(|_| {
            let sh = sh.clone();
            glommio::spawn_local(async move {
                let mut batches = 0u64;
                while Instant::now() < deadline {
                    let (_, done) = sh.run_batch(ShardId(1), batch(size)).await;
                    assert_eq!(done.len(), size);
                    batches += 1;
                }
                batches
            })
        })
        .collect();
    let mut batches = 0;
    for t in tasks {
        batches += t.await;
    }
    let wall = start.elapsed().as_secs_f64();
    let (cpu1, cs1) = usage();
    let cmds = (batches * size as u64) as f64;
    Row {
        mode,
        size,
        ns_per_cmd: (cpu1 - cpu0) * 1e9 / cmds,
        us_per_batch: wall * 1e6 * senders as f64 / batches as f64,
        parks_per_batch: (cs1 - cs0) as f64 / batches as f64,
    }
}

fn main() {
    let mut secs = 2.0;
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--seconds") {
        secs = args[i + 1].parse().expect("--seconds S");
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let global = Arc::new(Global::<()>::new(2));
    let done = Arc::new(AtomicBool::new(false));
    let mut handles = Vec::new();
    for (id, parts) in mesh::build::<()>(2).into_iter().enumerate() {
        let (global, done) = (global.clone(), done.clone());
        let placement = if cores >= 2 {
            Placement::Fixed(id)
        } else {
            Placement::Unbound
        };
        let h = LocalExecutorBuilder::new(placement)
            .name(&format!("hop-{id}"))
            .io_memory(512 << 10)
            .spawn(move || async move {
                let ends = parts.connect().await;
                let sh = Shard::start(ShardId(id), global, Store::new(1), (), ends);
                if id == 1 {
                    while !done.load(Ordering::Acquire) {
                        glommio::timer::sleep(Duration::from_millis(5)).await;
                    }
                    return Vec::new();
                }
                // Warm up both cores and the mesh.
                measure(&sh, "warm-up", 8, 4, 0.3).await;
                let mut rows = Vec::new();
                for size in [1, 8, 64] {
                    rows.push(measure(&sh, "waking peer", size, 1, secs).await);
                }
                for size in [1, 8, 64] {
                    rows.push(measure(&sh, "awake peer", size, 32, secs).await);
                }
                done.store(true, Ordering::Release);
                rows
            })
            .expect("executor (needs io_uring and 1 MiB of locked memory)");
        handles.push(h);
    }
    let rows = handles.remove(0).join().expect("sender");
    handles.remove(0).join().expect("receiver");
    println!("forwarded commands, core 0 -> core 1 ({cores} cores, {secs} s per row)");
    println!(
        "{:<12} {:>6} {:>14} {:>14} {:>16}",
        "mode", "batch", "CPU ns/cmd", "wall us/batch", "parks/batch"
    );
    for r in rows {
        println!(
            "{:<12} {:>6} {:>14.0} {:>14.1} {:>16.2}",
            r.mode, r.size, r.ns_per_cmd, r.us_per_batch, r.parks_per_batch
        );
    }
}
