//! The connection task: read, parse every complete request in the buffer,
//! dispatch them as one batch, write all replies with one write.
//!
//! Runs on the core whose listener accepted the socket, for the whole life
//! of the connection. Protocol errors get Redis's `-ERR Protocol error: …`
//! and close this connection only; a client whose unparsed input passes
//! `client-query-buffer-limit` is closed without a reply, as Redis does.
//!
//! Hostile input, as Redis 7.0 treats it: a request named `POST` or `Host:`
//! (an HTTP request a browser was tricked into sending) closes the
//! connection without a reply, not even to the commands before it in the
//! same read, and is logged at most once a minute. A connection whose
//! first line is an HTTP/1.x request line is handed to `http` instead
//! (Prometheus scraping `GET /metrics`), unless `metrics-on-client-port`
//! is off; it then stops counting as a client.

use std::cell::RefCell;
use std::os::fd::AsRawFd;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::BytesMut;
use futures::future::{select, Either};
use futures::StreamExt;
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use glommio::net::{TcpListener, TcpStream};

use super::dispatch;
use super::http::{self, Sniff};
use crate::clients::ClientInfo;
use crate::command::errors;
use crate::command::session::Session;
use crate::log;
use crate::pubsub::Message;
use crate::resp::{self, parse_request, Limits, Proto, Reply};
use crate::services::Shard;

const READ_CHUNK: usize = 16 * 1024;

const DENIED: &str = "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Set up an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";

pub async fn accept_loop(sh: Rc<Shard>, listener: TcpListener) {
    loop {
        let stream = match listener.accept().await {
            Ok(s) => s,
            Err(e) => {
                log::warning(&format!("accept: {e}"));
                glommio::timer::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        sh.host.stats.borrow_mut().connections_received += 1;
        let sh2 = sh.clone();
        glommio::spawn_local(async move { admit(sh2, stream).await }).detach();
    }
}

/// Applies maxclients and protected mode, then serves the connection.
async fn admit(sh: Rc<Shard>, mut stream: TcpStream) {
    let config = sh.host.config();
    let peer = stream.peer_addr().ok();
    let loopback = peer.is_none_or(|p| p.ip().is_loopback());
    if config.protected_mode && config.requirepass.is_none() && !loopback {
        let _ = stream.write_all(DENIED.as_bytes()).await;
        sh.host.stats.borrow_mut().rejected_connections += 1;
        return;
    }
    let count = sh.host.shared.clients.fetch_add(1, Ordering::Relaxed) + 1;
    if count as u64 > config.maxclients {
        sh.host.shared.clients.fetch_sub(1, Ordering::Relaxed);
        let _ = stream
            .write_all(format!("-{}\r\n", errors::MAX_CLIENTS).as_bytes())
            .await;
        sh.host.stats.borrow_mut().rejected_connections += 1;
        return;
    }
    let _ = stream.set_nodelay(true);
    let id = sh
        .host
        .shared
        .next_client_id
        .fetch_add(1, Ordering::Relaxed);
    let addr = peer.map(|p| p.to_string()).unwrap_or_default();
    let laddr = stream
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let info = Rc::new(RefCell::new(ClientInfo::new(
        id,
        addr,
        laddr,
        stream.as_raw_fd(),
    )));
    sh.host.shared.observe.connected(id, &info.borrow().addr);
    sh.host.clients.borrow_mut().insert(id, info.clone());
    sh.host.stats.borrow_mut().connected_clients += 1;
    let mut session = Session::new(info, config.requirepass.is_none());
    drop(config);
    let end = serve(&sh, &mut stream, &mut session).await;
    // Unsubscribe before the socket closes (see `pubsub`).
    session.end(&sh);
    crate::command::tracking::disable(&sh, &mut session);
    let http = match end {
        End::Http(read) => Some((stream, read)),
        End::Closed => {
            drop(stream);
            None
        }
    };
    sh.host.clients.borrow_mut().remove(&id);
    sh.host.shared.observe.disconnected(id);
    sh.host.stats.borrow_mut().connected_clients -= 1;
    sh.host.shared.clients.fetch_sub(1, Ordering::Relaxed);
    if let Some((stream, read)) = http {
        http::serve_client_port(&sh, stream, read.to_vec()).await;
    }
}

/// How a connection's Redis side ended.
enum End {
    Closed,
    /// Its first line was an HTTP request line; the bytes read so far.
    Http(BytesMut),
}

/// Whether a request's name is one Redis refuses as a cross-protocol
/// attack: `POST` or `Host:`, in any case.
fn is_cross_protocol(name: &[u8]) -> bool {
    name.eq_ignore_ascii_case(b"post") || name.eq_ignore_ascii_case(b"host:")
}

/// Logs Redis's warning for an HTTP request sent to the client port, at
/// most once a minute (as Redis, so that the attack cannot flood the log).
pub fn cross_protocol_attack() {
    static LOGGED: AtomicU64 = AtomicU64::new(0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let last = LOGGED.load(Ordering::Relaxed);
    if (last == 0 || now.abs_diff(last) > 60)
        && LOGGED
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    {
        log::warning(
            "Possible SECURITY ATTACK detected. It looks like somebody is sending POST or Host: \
             commands to Redis. This is likely due to an attacker attempting to use Cross \
             Protocol Scripting to compromise your Redis instance. Connection aborted.",
        );
    }
}

async fn serve(sh: &Rc<Shard>, stream: &mut TcpStream, session: &mut Session) -> End {
    let mut rbuf = BytesMut::with_capacity(READ_CHUNK);
    let mut chunk = vec![0u8; READ_CHUNK];
    let mut out = BytesMut::with_capacity(READ_CHUNK);
    let mut out_capacity = out.capacity();
    let mut reqs = Vec::new();
    let mut sniffing = sh.host.config().metrics_on_client_port;
    loop {
        let n = match next_input(stream, &mut chunk, session).await {
            Input::Read(Ok(0) | Err(_)) => return End::Closed,
            Input::Read(Ok(n)) => n,
            Input::Push(bytes, sent) => {
                if stream.write_all(&bytes).await.is_err() {
                    return End::Closed;
                }
                if let Some(sub) = &session.sub {
                    sub.written(sent);
                    session.info.borrow_mut().omem = sub.queued();
                    if sub.dropped() {
                        return End::Closed;
                    }
                }
                continue;
            }
        };
        rbuf.extend_from_slice(&chunk[..n]);
        if sniffing {
            match http::sniff(&rbuf) {
                Sniff::Http => return End::Http(rbuf),
                Sniff::Resp => sniffing = false,
                Sniff::Undecided => {}
            }
        }
        // CLIENT LIST's qbuf while these requests run counts them, as
        // Redis's query buffer still holds the command it executes.
        let (read_len, read_free) = (rbuf.len(), rbuf.capacity() - rbuf.len());
        let config = sh.host.config();
        {
            let mut stats = sh.host.stats.borrow_mut();
            stats.net_input_bytes += n as u64;
            stats.reads_processed += 1;
        }
        let limits = Limits {
            max_bulk_len: config.proto_max_bulk_len,
            ..Limits::default()
        };
        let mut failure = None;
        loop {
            match parse_request(&mut rbuf, &limits) {
                Ok(Some(args)) if args.is_empty() => continue,
                Ok(Some(args)) => reqs.push(args),
                Ok(None) => break,
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        if rbuf.len() as u64 > config.client_query_buffer_limit {
            log::warning(&format!(
                "Closing client that reached max query buffer length (qbuf={})",
                rbuf.len()
            ));
            sh.host.stats.borrow_mut().query_buffer_disconnections += 1;
            return End::Closed;
        }
        drop(config);
        // Redis runs the commands before the attack and sends nothing.
        if let Some(at) = reqs.iter().position(|a: &Vec<_>| is_cross_protocol(&a[0])) {
            reqs.truncate(at);
            if !reqs.is_empty() {
                dispatch::run(sh, session, std::mem::take(&mut reqs), &mut out).await;
            }
            cross_protocol_attack();
            return End::Closed;
        }
        // Messages published before these requests arrived go out first,
        // as Redis has them in the client's buffer already.
        let mut pushed = 0;
        if let Some(sub) = session.sub.as_mut() {
            while let Ok(msg) = sub.rx.try_recv() {
                pushed += msg.size();
                resp::encode(&msg.reply(), session.proto, &mut out);
            }
        }
        if !reqs.is_empty() {
            {
                let mut info = session.info.borrow_mut();
                info.query_buf = read_len;
                info.query_buf_free = read_free;
            }
            dispatch::run(sh, session, std::mem::take(&mut reqs), &mut out).await;
        }
        if let Some(e) = failure {
            resp::encode(&Reply::error(e.reply_text()), Proto::Resp2, &mut out);
            session.close = true;
        }
        {
            let mut info = session.info.borrow_mut();
            info.last_interaction = std::time::Instant::now();
            if info.killed {
                return End::Closed;
            }
        }
        if !out.is_empty() {
            {
                let mut stats = sh.host.stats.borrow_mut();
                stats.net_output_bytes += out.len() as u64;
                stats.writes_processed += 1;
                if out.capacity() > out_capacity {
                    stats.reply_buffer_expands += 1;
                }
            }
            if stream.write_all(&out).await.is_err() {
                return End::Closed;
            }
            if let Some(sub) = &session.sub {
                sub.written(pushed);
            }
            out.clear();
            if out.capacity() > 1 << 20 {
                out = BytesMut::with_capacity(READ_CHUNK);
                sh.host.stats.borrow_mut().reply_buffer_shrinks += 1;
            }
            out_capacity = out.capacity();
        }
        if session.close {
            let _ = stream.close().await;
            return End::Closed;
        }
        // A buffer grown by a big request shrinks back once it is drained
        // (Redis resizes an idle client's query buffer the same way).
        if rbuf.is_empty() && rbuf.capacity() > 2 * READ_CHUNK {
            rbuf = BytesMut::with_capacity(READ_CHUNK);
        }
        let mut info = session.info.borrow_mut();
        info.query_buf = rbuf.len();
        info.query_buf_free = rbuf.capacity() - rbuf.len();
    }
}

enum Input {
    Read(std::io::Result<usize>),
    /// MONITOR lines or Pub/Sub messages to pass on, and how many bytes of
    /// Pub/Sub messages they hold.
    Push(Vec<u8>, usize),
}

/// What arrived first on a connection's feeds.
enum First {
    Line(Option<bytes::Bytes>),
    Msg(Option<Message>),
}

/// The next read or, for a connection in MONITOR or with subscriptions,
/// whatever comes first of a read and what waits to be passed on (with
/// everything already queued behind it).
async fn next_input(stream: &mut TcpStream, chunk: &mut [u8], s: &mut Session) -> Input {
    if s.monitor.is_none() && s.sub.is_none() {
        return Input::Read(stream.read(chunk).await);
    }
    let first = {
        let feeds = async {
            match (s.monitor.as_mut(), s.sub.as_mut()) {
                (Some(m), Some(p)) => match select(m.next(), p.rx.next()).await {
                    Either::Left((line, _)) => First::Line(line),
                    Either::Right((msg, _)) => First::Msg(msg),
                },
                (Some(m), None) => First::Line(m.next().await),
                (None, Some(p)) => First::Msg(p.rx.next().await),
                (None, None) => futures::future::pending().await,
            }
        };
        let read = std::pin::pin!(stream.read(chunk));
        let feeds = std::pin::pin!(feeds);
        match select(read, feeds).await {
            Either::Left((r, _)) => return Input::Read(r),
            Either::Right((first, _)) => first,
        }
    };
    let (mut out, mut sent) = (BytesMut::new(), 0);
    let mut add = |msg: Message, out: &mut BytesMut| {
        sent += msg.size();
        resp::encode(&msg.reply(), s.proto, out);
    };
    match first {
        First::Line(Some(line)) => out.extend_from_slice(&line),
        First::Line(None) => s.monitor = None,
        First::Msg(Some(msg)) => add(msg, &mut out),
        First::Msg(None) => {}
    }
    if let Some(m) = s.monitor.as_mut() {
        while let Ok(line) = m.try_recv() {
            out.extend_from_slice(&line);
        }
    }
    if let Some(p) = s.sub.as_mut() {
        while let Ok(msg) = p.rx.try_recv() {
            add(msg, &mut out);
        }
    }
    Input::Push(out.to_vec(), sent)
}
