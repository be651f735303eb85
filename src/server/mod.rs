//! The server: one glommio executor per shard, pinned to a core, each with
//! its own SO_REUSEPORT listener, its shard and its connections.
//!
//! ```text
//!            main thread: Config → bind sockets → build meshes → spawn executors → join
//!   ┌──────────── core 0 ────────────┐      ┌──────────── core 1 ────────────┐
//!   │ listener → connection tasks     │      │ listener → connection tasks     │
//!   │ Shard 0: store, registry, cron  │◄────►│ Shard 1: store, registry, cron  │
//!   └─────────────────────────────────┘ mesh └─────────────────────────────────┘
//! ```
//!
//! Nothing mutable is shared between executors except the runtime's
//! `Global` (slot table, multi-shard sequencer) and `services::Shared`: the
//! config (read on change only), the client-count and client-id counters
//! and connection labels (touched per connection, not per request), the
//! CLIENT PAUSE deadline (one relaxed load per read), MONITOR feeds, the
//! Pub/Sub registry, the script cache and the shutdown flag.

pub mod conn;
pub mod cron;
pub mod dispatch;

use std::net::{SocketAddr, ToSocketAddrs};
use std::os::fd::{FromRawFd, IntoRawFd, RawFd};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use glommio::{LocalExecutorBuilder, Placement};

use crate::config::Config;
use crate::keyspace::lazy::{self, Freer};
use crate::keyspace::slot::ShardId;
use crate::keyspace::store::Store;
use crate::log;
use crate::runtime::mesh::{self, MeshParts};
use crate::runtime::Global;
use crate::services::{MemoryBoard, Services, Shard, Shared};

#[derive(Debug)]
pub struct StartError(pub String);

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StartError {}

/// Usable CPUs, in order (the affinity mask the process was started with).
fn usable_cpus() -> Vec<usize> {
    // SAFETY: sched_getaffinity fills the zeroed set we pass it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) == 0 {
            let cpus: Vec<usize> = (0..libc::CPU_SETSIZE as usize)
                .filter(|&c| libc::CPU_ISSET(c, &set))
                .collect();
            if !cpus.is_empty() {
                return cpus;
            }
        }
    }
    (0..std::thread::available_parallelism().map_or(1, |n| n.get())).collect()
}

/// Binds the metrics endpoint's socket (without SO_REUSEPORT: another
/// process on the port is an error, not a silent share), if enabled.
fn bind_metrics(config: &Config) -> Result<Option<RawFd>, StartError> {
    if config.metrics_port == 0 {
        return Ok(None);
    }
    let host = config.metrics_bind.as_str();
    let addr = (host, config.metrics_port)
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(|| StartError(format!("metrics-bind: cannot resolve address '{host}'")))?;
    let s = socket(addr, false).map_err(|e| {
        StartError(format!(
            "could not bind the metrics endpoint {addr}: {e} (set metrics-port to a free port, or 0 to disable it)"
        ))
    })?;
    log::notice(&format!("Prometheus metrics on http://{addr}/metrics"));
    Ok(Some(s.into_raw_fd()))
}

/// Binds one listening socket per shard for every bind address. Port 0
/// picks a free port once, shared by all. An address prefixed with '-' is
/// optional (skipped when unavailable), as in Redis 7.
fn bind_all(config: &Config, shards: usize) -> Result<(u16, Vec<Vec<RawFd>>), StartError> {
    let mut port = config.port;
    let mut per_shard: Vec<Vec<RawFd>> = vec![Vec::new(); shards];
    for spec in &config.bind {
        let (optional, host) = match spec.strip_prefix('-') {
            Some(h) => (true, h),
            None => (false, spec.as_str()),
        };
        let host = if host == "*" { "0.0.0.0" } else { host };
        let addr: SocketAddr = match (host, port)
            .to_socket_addrs()
            .ok()
            .and_then(|mut a| a.next())
        {
            Some(a) => a,
            None if optional => continue,
            None => return Err(StartError(format!("bind: cannot resolve address '{host}'"))),
        };
        // Probe without SO_REUSEPORT first: another process on the port
        // (even one that set SO_REUSEPORT) makes this fail, instead of
        // silently sharing its connections with us.
        let probe = match socket(addr, false) {
            Ok(s) => s,
            Err(_) if optional => continue,
            Err(e) => return Err(StartError(format!("could not bind {addr}: {e}"))),
        };
        if port == 0 {
            port = probe
                .local_addr()
                .ok()
                .and_then(|a| a.as_socket())
                .map_or(0, |a| a.port());
        }
        drop(probe);
        let addr = SocketAddr::new(addr.ip(), port);
        for fds in per_shard.iter_mut() {
            let s = socket(addr, true)
                .map_err(|e| StartError(format!("could not bind {addr}: {e}")))?;
            fds.push(s.into_raw_fd());
        }
    }
    if per_shard[0].is_empty() {
        return Err(StartError("no bind address could be used".into()));
    }
    Ok((port, per_shard))
}

fn socket(addr: SocketAddr, reuse_port: bool) -> std::io::Result<socket2::Socket> {
    use socket2::{Domain, Protocol, Socket, Type};
    let s = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    s.set_reuse_address(true)?;
    if addr.is_ipv6() {
        s.set_only_v6(true)?;
    }
    s.set_reuse_port(reuse_port)?;
    s.bind(&addr.into())?;
    s.listen(511)?;
    Ok(s)
}

/// Starts every executor and blocks until the server stops.
pub fn run(config: Config) -> Result<(), StartError> {
    if config.daemonize {
        return Err(StartError(
            "daemonize yes is not supported: lanner stays in the foreground (use systemd)".into(),
        ));
    }
    let cpus = usable_cpus();
    let shards = if config.shards == 0 {
        cpus.len()
    } else {
        config.shards
    };
    let (port, listeners) = bind_all(&config, shards)?;
    let mut metrics_fd = bind_metrics(&config)?;
    let shutdown = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(sig, shutdown.clone())
            .map_err(|e| StartError(format!("signal handler: {e}")))?;
    }
    // SAFETY: ignoring SIGPIPE so a write to a closed socket is an error, not death.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
    let io_memory = config.io_memory as usize;
    let global = Arc::new(Global::<Services>::new(shards));
    // Big values are freed on a thread of their own (`keyspace::lazy`).
    let (freer, garbage, lazy_counters) = Freer::new();
    std::thread::Builder::new()
        .name("lanner-lazyfree".into())
        .spawn({
            let counters = lazy_counters.clone();
            move || lazy::run(garbage, counters)
        })
        .map_err(|e| StartError(format!("could not start the lazy-free thread: {e}")))?;
    // Detached: it ends with the process.
    let shared = Arc::new(Shared {
        memory: MemoryBoard::new(shards),
        startup_memory: AtomicU64::new(0),
        lazyfree: lazy_counters,
        databases: config.databases,
        config_gen: AtomicU64::new(0),
        shutdown,
        clients: AtomicUsize::new(0),
        next_client_id: AtomicU64::new(1),
        started: Instant::now(),
        run_id: run_id(),
        port,
        executable: std::env::current_exe()
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
        config: RwLock::new(config),
        observe: Default::default(),
        pause: Default::default(),
        scripts: Default::default(),
        pubsub: Default::default(),
    });
    banner(&shared, shards, &cpus);
    let mut handles = Vec::new();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    for ((id, parts), fds) in mesh::build(shards).into_iter().enumerate().zip(listeners) {
        let (shared, global, freer) = (shared.clone(), global.clone(), freer.clone());
        let ready = ready_tx.clone();
        let metrics = metrics_fd.take();
        let placement = if shards <= cpus.len() {
            Placement::Fixed(cpus[id])
        } else {
            Placement::Unbound
        };
        let builder = LocalExecutorBuilder::new(placement)
            .name(&format!("lanner-shard-{id}"))
            .io_memory(io_memory)
            .preempt_timer(Duration::from_millis(10))
            .spin_before_park(Duration::from_micros(
                std::env::var("LANNER_SPIN_US")
                    .ok()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0),
            ));
        let handle = builder
            .spawn(move || async move {
                executor_main(
                    ShardId(id),
                    global,
                    shared,
                    freer,
                    parts,
                    fds,
                    metrics,
                    ready,
                )
                .await
            })
            .map_err(|e| StartError(executor_error(&e.to_string())))?;
        handles.push(handle);
    }
    drop(ready_tx);
    // Ready only once every shard has connected its meshes and listens.
    if (0..shards).any(|_| ready_rx.recv().is_err()) {
        return Err(StartError("an executor stopped during start-up".into()));
    }
    shared.startup_memory.store(
        crate::alloc::stats().allocated,
        std::sync::atomic::Ordering::Relaxed,
    );
    log::notice(&format!("Ready to accept connections on port {port}"));
    let mut failed = None;
    for h in handles {
        if let Err(e) = h.join() {
            failed = Some(executor_error(&e.to_string()));
        }
    }
    log::notice("lanner is now ready to exit, bye bye...");
    match failed {
        Some(e) => Err(StartError(e)),
        None => Ok(()),
    }
}

fn executor_error(e: &str) -> String {
    format!(
        "could not start an executor: {e} (io_uring needs kernel >= 5.8, enough locked memory \
         (ulimit -l, io-memory), and is blocked by Docker's default seccomp profile)"
    )
}

fn run_id() -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    (0..40)
        .map(|_| char::from_digit(rng.gen_range(0..16), 16).expect("hex digit"))
        .collect()
}

/// Polls `f` at least every millisecond until it completes. glommio's
/// channel `connect` waits for the peer's and can miss the wake-up when the
/// peer connects while this executor sleeps (seen: one shard in ~20 starts
/// of 4 shards on 2 cores never finished connecting); re-polling on a timer
/// cannot miss it.
async fn repoll<F: std::future::Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    loop {
        let tick = std::pin::pin!(glommio::timer::sleep(Duration::from_millis(1)));
        if let futures::future::Either::Left((v, _)) =
            futures::future::select(f.as_mut(), tick).await
        {
            return v;
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn executor_main(
    id: ShardId,
    global: Arc<Global<Services>>,
    shared: Arc<Shared>,
    freer: Freer,
    parts: MeshParts<Services>,
    fds: Vec<RawFd>,
    metrics: Option<RawFd>,
    ready: std::sync::mpsc::Sender<()>,
) {
    let ends = repoll(parts.connect()).await;
    let mut store = Store::new(shared.databases);
    store.freer = Some(freer);
    let shard = Shard::start(id, global, store, Services::new(shared.clone()), ends);
    let mut accepts = Vec::new();
    for fd in fds {
        // SAFETY: a listening socket bound by `bind_all`, owned by nobody else.
        let listener = unsafe { glommio::net::TcpListener::from_raw_fd(fd) };
        accepts.push(glommio::spawn_local(conn::accept_loop(
            shard.clone(),
            listener,
        )));
    }
    if let Some(fd) = metrics {
        // SAFETY: the metrics socket bound by `bind_metrics`, owned by nobody else.
        let listener = unsafe { glommio::net::TcpListener::from_raw_fd(fd) };
        accepts.push(glommio::spawn_local(crate::metrics::serve(
            shard.clone(),
            listener,
        )));
    }
    let _ = ready.send(());
    glommio::spawn_local(cron::evict(shard.clone())).detach();
    cron::run(shard.clone()).await;
    for a in accepts {
        a.cancel().await;
    }
    shard.host.close_all_clients();
    let _ = Rc::strong_count(&shard);
}

/// The start-up banner and warnings about risky settings.
fn banner(shared: &Shared, shards: usize, cpus: &[usize]) {
    let c = shared.config_snapshot();
    log::notice(&format!(
        "lanner {} (Redis {} compatible) starting: pid={}, shards={}, usable cores={}, port={}, config file={}",
        crate::LANNER_VERSION,
        crate::REDIS_VERSION,
        std::process::id(),
        shards,
        cpus.len(),
        shared.port,
        c.config_file().map_or("none (built-in defaults)".into(), |p| p.display().to_string())
    ));
    if shards > cpus.len() {
        log::warning(&format!(
            "WARNING {shards} shards on {} usable cores: shards share cores and are not pinned; expect lower throughput.",
            cpus.len()
        ));
    }
    if c.requirepass.is_none()
        && c.bind
            .iter()
            .any(|b| b == "*" || b == "0.0.0.0" || b == "::" || b == "-::*")
    {
        log::warning("WARNING lanner listens on all interfaces without a password (requirepass); anyone who can reach the port can read and write every key.");
    }
    if c.maxmemory == 0 {
        log::notice("maxmemory is 0: memory use is not bounded.");
    }
    if c.metrics_port != 0 && !is_loopback(&c.metrics_bind) {
        log::warning(&format!(
            "WARNING the metrics endpoint listens on {} without authentication; keep it on a private network.",
            c.metrics_bind
        ));
    }
    // Each executor locks its io_uring buffers (io-memory) plus its rings.
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit fills the struct we pass it.
    let known = unsafe { libc::getrlimit(libc::RLIMIT_MEMLOCK, &mut lim) } == 0;
    let need = shards as u64 * (c.io_memory + (256 << 10));
    if known && lim.rlim_cur != libc::RLIM_INFINITY && lim.rlim_cur < need {
        log::warning(&format!(
            "WARNING the locked-memory limit (ulimit -l) is {} KiB; {shards} shards need about {} KiB. \
             Raise LimitMEMLOCK (systemd) or --ulimit memlock (containers), or lower io-memory.",
            lim.rlim_cur / 1024,
            need / 1024
        ));
    }
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}
