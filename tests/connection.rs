//! Connection commands against a real server, at 1 and 4 shards: PING ECHO
//! QUIT RESET SELECT, AUTH / HELLO with `requirepass`, RESP3 switching,
//! the CLIENT family (LIST across cores, KILL in all its forms, REPLY), and
//! the connection limits `maxclients` and `timeout`.
//!
//! Wire bytes matter here, so most tests use `RawConn` and compare replies
//! byte for byte with what Redis 7.0 sends.

mod common;

use std::time::{Duration, Instant};

use common::{RawConn, Server};

/// Sends a whitespace-separated command and returns the reply as text.
fn cmd(c: &mut RawConn, line: &str) -> String {
    let args: Vec<&[u8]> = line.split_whitespace().map(str::as_bytes).collect();
    String::from_utf8_lossy(&c.cmd(&args)).into_owned()
}

/// The integer of a `:n` reply.
fn int(reply: &str) -> i64 {
    reply
        .strip_prefix(':')
        .and_then(|r| r.strip_suffix("\r\n"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("not an integer reply: {reply:?}"))
}

fn client_id(c: &mut RawConn) -> u64 {
    int(&cmd(c, "CLIENT ID")) as u64
}

/// The value of `field=` in a CLIENT INFO / LIST line.
fn field<'a>(line: &'a str, name: &str) -> &'a str {
    let key = format!("{name}=");
    line.split(' ')
        .find_map(|kv| kv.strip_prefix(key.as_str()))
        .unwrap_or_else(|| panic!("no {name}= in {line:?}"))
}

/// The connection's own `addr` as CLIENT INFO reports it.
fn own_addr(c: &mut RawConn) -> String {
    let info = cmd(c, "CLIENT INFO");
    field(&info, "addr").to_string()
}

/// Polls until `c` is closed by the server, for at most `within`.
fn closed_within(c: &mut RawConn, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if c.is_closed() {
            return true;
        }
    }
    false
}

/// The `id=` values of a CLIENT LIST reply.
fn listed_ids(list: &str) -> Vec<u64> {
    list.lines()
        .filter(|l| l.starts_with("id="))
        .map(|l| field(l, "id").parse().unwrap())
        .collect()
}

common::shard_tests! {
    fn ping_and_echo_reply_like_redis(srv: &Server) {
        let mut c = srv.raw();
        assert_eq!(cmd(&mut c, "PING"), "+PONG\r\n");
        assert_eq!(cmd(&mut c, "ping hello"), "$5\r\nhello\r\n");
        assert_eq!(cmd(&mut c, "PING a b"), "-ERR wrong number of arguments for 'ping' command\r\n");
        assert_eq!(c.cmd(&[b"ECHO", b"bin\x00\r\nary"]), b"$9\r\nbin\x00\r\nary\r\n");
        assert_eq!(cmd(&mut c, "ECHO"), "-ERR wrong number of arguments for 'echo' command\r\n");
        // The connection survives command errors.
        assert_eq!(cmd(&mut c, "PING"), "+PONG\r\n");
    }

    fn quit_answers_ok_then_closes(srv: &Server) {
        let mut c = srv.raw();
        c.send(b"QUIT\r\nPING\r\n");
        assert_eq!(c.read_to_close(Duration::from_secs(5)), b"+OK\r\n");
        // The server itself is fine.
        assert_eq!(cmd(&mut srv.raw(), "PING"), "+PONG\r\n");
    }

    fn select_switches_database_per_connection(srv: &Server) {
        let mut a = srv.raw();
        let mut b = srv.raw();
        assert_eq!(cmd(&mut a, "SET k db0"), "+OK\r\n");
        assert_eq!(cmd(&mut a, "SELECT 3"), "+OK\r\n");
        assert_eq!(cmd(&mut a, "GET k"), "$-1\r\n");
        assert_eq!(cmd(&mut a, "SET k db3"), "+OK\r\n");
        assert_eq!(cmd(&mut a, "GET k"), "$3\r\ndb3\r\n");
        // Another connection still sees db 0.
        assert_eq!(cmd(&mut b, "GET k"), "$3\r\ndb0\r\n");
        assert_eq!(cmd(&mut a, "SELECT 16"), "-ERR DB index is out of range\r\n");
        assert_eq!(cmd(&mut a, "SELECT x"), "-ERR value is not an integer or out of range\r\n");
        // A failed SELECT keeps the current database.
        assert_eq!(cmd(&mut a, "GET k"), "$3\r\ndb3\r\n");
        assert!(field(&cmd(&mut a, "CLIENT INFO"), "db") == "3");
    }

    fn reset_restores_fresh_connection_state(srv: &Server) {
        let mut c = srv.raw();
        assert_eq!(cmd(&mut c, "SET k v"), "+OK\r\n");
        assert_eq!(cmd(&mut c, "SELECT 2"), "+OK\r\n");
        assert_eq!(cmd(&mut c, "CLIENT SETNAME someone"), "+OK\r\n");
        assert!(cmd(&mut c, "HELLO 3").starts_with("%7\r\n"));
        assert_eq!(cmd(&mut c, "RESET"), "+RESET\r\n");
        assert_eq!(cmd(&mut c, "GET k"), "$1\r\nv\r\n", "RESET goes back to db 0");
        assert_eq!(cmd(&mut c, "CLIENT GETNAME"), "$-1\r\n", "RESET drops the name and RESP3");
    }

    fn hello_3_switches_to_resp3_and_back(srv: &Server) {
        let mut c = srv.raw();
        let id = client_id(&mut c);
        let hello = cmd(&mut c, "HELLO 3");
        let expected = format!(
            "%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:3\r\n\
             $2\r\nid\r\n:{id}\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n\
             $7\r\nmodules\r\n*0\r\n"
        );
        assert_eq!(hello, expected);
        // RESP3 null and map types from now on.
        assert_eq!(cmd(&mut c, "GET missing"), "_\r\n");
        assert!(cmd(&mut c, "CONFIG GET maxclients").starts_with("%1\r\n"));
        let back = cmd(&mut c, "HELLO 2");
        assert!(back.starts_with("*14\r\n$6\r\nserver\r\n"), "{back:?}");
        assert!(back.contains("$5\r\nproto\r\n:2\r\n"), "{back:?}");
        assert_eq!(cmd(&mut c, "GET missing"), "$-1\r\n");
        assert_eq!(cmd(&mut c, "HELLO 4"), "-NOPROTO unsupported protocol version\r\n");
        assert_eq!(cmd(&mut c, "HELLO 1"), "-NOPROTO unsupported protocol version\r\n");
        // A failed HELLO keeps RESP2.
        assert_eq!(cmd(&mut c, "GET missing"), "$-1\r\n");
        let named = cmd(&mut c, "HELLO 3 SETNAME viahello");
        assert!(named.starts_with("%7\r\n"));
        assert_eq!(cmd(&mut c, "CLIENT GETNAME"), "$8\r\nviahello\r\n");
    }

    fn client_id_setname_getname_setinfo_info(srv: &Server) {
        let mut a = srv.raw();
        let mut b = srv.raw();
        let (ida, idb) = (client_id(&mut a), client_id(&mut b));
        assert_ne!(ida, idb, "client ids are unique across cores");
        assert_eq!(cmd(&mut a, "CLIENT GETNAME"), "$-1\r\n");
        assert_eq!(cmd(&mut a, "CLIENT SETNAME worker-1"), "+OK\r\n");
        assert_eq!(cmd(&mut a, "CLIENT GETNAME"), "$8\r\nworker-1\r\n");
        assert_eq!(
            a.cmd(&[b"CLIENT", b"SETNAME", b"has space"]),
            b"-ERR Client names cannot contain spaces, newlines or special characters.\r\n"
        );
        assert_eq!(cmd(&mut a, "CLIENT GETNAME"), "$8\r\nworker-1\r\n");
        assert_eq!(cmd(&mut a, "CLIENT SETINFO lib-name mylib"), "+OK\r\n");
        assert_eq!(cmd(&mut a, "CLIENT SETINFO LIB-VER 1.2.3"), "+OK\r\n");
        assert_eq!(cmd(&mut a, "CLIENT SETINFO bogus x"), "-ERR Unrecognized option 'bogus'\r\n");
        let info = cmd(&mut a, "CLIENT INFO");
        assert!(info.starts_with('$'), "{info:?}");
        let line = info.lines().nth(1).unwrap();
        assert_eq!(field(line, "id"), ida.to_string());
        assert_eq!(field(line, "name"), "worker-1");
        assert_eq!(field(line, "lib-name"), "mylib");
        assert_eq!(field(line, "lib-ver"), "1.2.3");
        assert_eq!(field(line, "laddr"), srv.addr());
        assert_eq!(field(line, "flags"), "N");
        // The name is per connection.
        assert_eq!(cmd(&mut b, "CLIENT GETNAME"), "$-1\r\n");
        assert_eq!(cmd(&mut a, "CLIENT NO-EVICT on"), "+OK\r\n");
        assert_eq!(cmd(&mut a, "CLIENT NO-EVICT maybe"), "-ERR syntax error\r\n");
        assert_eq!(cmd(&mut a, "CLIENT NO-EVICT off"), "+OK\r\n");
    }

    fn client_list_shows_connections_of_every_core(srv: &Server) {
        // Sixteen connections spread over the listeners of every core.
        let mut conns: Vec<RawConn> = (0..16).map(|_| srv.raw()).collect();
        let mut ids: Vec<u64> = conns.iter_mut().map(client_id).collect();
        let mut me = srv.raw();
        ids.push(client_id(&mut me));
        let list = cmd(&mut me, "CLIENT LIST");
        let listed = listed_ids(&list);
        for id in &ids {
            assert!(listed.contains(id), "id {id} missing from CLIENT LIST:\n{list}");
        }
        assert_eq!(listed.len(), ids.len(), "{list}");
        for line in list.lines().filter(|l| l.starts_with("id=")) {
            assert_eq!(field(line, "user"), "default");
            assert_eq!(field(line, "laddr"), srv.addr());
        }
        let typed = cmd(&mut me, "CLIENT LIST TYPE normal");
        assert_eq!(listed_ids(&typed).len(), ids.len());
        assert_eq!(listed_ids(&cmd(&mut me, "CLIENT LIST TYPE pubsub")), Vec::<u64>::new());
        let some = cmd(&mut me, &format!("CLIENT LIST ID {} {}", ids[3], ids[11]));
        let mut got = listed_ids(&some);
        got.sort();
        let mut want = vec![ids[3], ids[11]];
        want.sort();
        assert_eq!(got, want);
        // Closed connections leave the list.
        drop(conns.pop());
        drop(conns.pop());
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let n = listed_ids(&cmd(&mut me, "CLIENT LIST")).len();
            if n == ids.len() - 2 {
                break;
            }
            assert!(Instant::now() < deadline, "closed clients still listed ({n})");
        }
    }

    fn client_kill_old_form_and_id_and_addr(srv: &Server) {
        let mut killer = srv.raw();
        let mut v1 = srv.raw();
        let mut v2 = srv.raw();
        let mut v3 = srv.raw();

        let addr1 = own_addr(&mut v1);
        assert_eq!(cmd(&mut killer, &format!("CLIENT KILL {addr1}")), "+OK\r\n");
        assert!(closed_within(&mut v1, Duration::from_secs(5)), "old-form kill left it open");
        assert_eq!(cmd(&mut killer, &format!("CLIENT KILL {addr1}")), "-ERR No such client\r\n");

        let id2 = client_id(&mut v2);
        assert_eq!(cmd(&mut killer, &format!("CLIENT KILL ID {id2}")), ":1\r\n");
        assert!(closed_within(&mut v2, Duration::from_secs(5)));
        assert_eq!(cmd(&mut killer, &format!("CLIENT KILL ID {id2}")), ":0\r\n");
        assert_eq!(cmd(&mut killer, "CLIENT KILL ID 0"), "-ERR client-id should be greater than 0\r\n");

        let addr3 = own_addr(&mut v3);
        assert_eq!(cmd(&mut killer, &format!("CLIENT KILL ADDR {addr3}")), ":1\r\n");
        assert!(closed_within(&mut v3, Duration::from_secs(5)));

        assert_eq!(cmd(&mut killer, "CLIENT KILL FOO bar"), "-ERR syntax error\r\n");
        assert_eq!(cmd(&mut killer, "PING"), "+PONG\r\n");
    }

    fn client_kill_laddr_and_user_skip_the_caller(srv: &Server) {
        let mut killer = srv.raw();
        let mut victims: Vec<RawConn> = (0..5).map(|_| srv.raw()).collect();
        for v in &mut victims {
            assert_eq!(cmd(v, "PING"), "+PONG\r\n");
        }
        assert_eq!(cmd(&mut killer, "CLIENT KILL LADDR 127.0.0.1:1"), ":0\r\n");
        assert_eq!(cmd(&mut killer, &format!("CLIENT KILL LADDR {}", srv.addr())), ":5\r\n");
        for v in &mut victims {
            assert!(closed_within(v, Duration::from_secs(5)));
        }
        assert_eq!(cmd(&mut killer, "PING"), "+PONG\r\n", "SKIPME defaults to yes");

        let mut more: Vec<RawConn> = (0..3).map(|_| srv.raw()).collect();
        for v in &mut more {
            assert_eq!(cmd(v, "PING"), "+PONG\r\n");
        }
        assert_eq!(cmd(&mut killer, "CLIENT KILL USER nosuch"), "-ERR No such user 'nosuch'\r\n");
        assert_eq!(cmd(&mut killer, "CLIENT KILL USER default"), ":3\r\n");
        for v in &mut more {
            assert!(closed_within(v, Duration::from_secs(5)));
        }
        assert_eq!(cmd(&mut killer, "PING"), "+PONG\r\n");
    }

    fn client_kill_self_with_skipme_no_replies_then_closes(srv: &Server) {
        let mut c = srv.raw();
        let id = client_id(&mut c);
        c.send(&common::encode_request(&[
            b"CLIENT", b"KILL", b"ID", id.to_string().as_bytes(), b"SKIPME", b"no",
        ]));
        assert_eq!(c.read_to_close(Duration::from_secs(5)), b":1\r\n");

        // The old form on one's own address answers +OK before closing too.
        let mut d = srv.raw();
        let addr = own_addr(&mut d);
        d.send(&common::encode_request(&[b"CLIENT", b"KILL", addr.as_bytes()]));
        assert_eq!(d.read_to_close(Duration::from_secs(5)), b"+OK\r\n");
    }

    fn client_reply_off_on_skip(srv: &Server) {
        let mut c = srv.raw();
        // Everything in one write, so the replies arrive together.
        c.send(
            b"CLIENT REPLY OFF\r\nSET k 1\r\nINCR k\r\nCLIENT REPLY ON\r\nGET k\r\n\
              CLIENT REPLY SKIP\r\nINCR k\r\nGET k\r\n",
        );
        c.send(b"QUIT\r\n");
        assert_eq!(
            String::from_utf8_lossy(&c.read_to_close(Duration::from_secs(5))),
            "+OK\r\n$1\r\n2\r\n$1\r\n3\r\n+OK\r\n"
        );
    }

    fn client_reply_off_silences_across_reads(srv: &Server) {
        let mut c = srv.raw();
        assert_eq!(c.cmd(&[b"PING"]), b"+PONG\r\n");
        c.send(b"CLIENT REPLY OFF\r\n");
        c.send(b"SET a 1\r\n");
        c.send(b"GET a\r\n");
        c.send(b"CLIENT REPLY SKIP\r\n");
        c.send(b"PING\r\n");
        // Still OFF: SKIP does not turn replies back on.
        assert!(!c.is_closed());
        let mut other = srv.raw();
        assert_eq!(cmd(&mut other, "GET a"), "$1\r\n1\r\n", "commands still ran");
        // ON answers +OK itself (Redis), then replies flow again.
        c.send(b"CLIENT REPLY ON\r\nGET a\r\nQUIT\r\n");
        assert_eq!(
            String::from_utf8_lossy(&c.read_to_close(Duration::from_secs(5))),
            "+OK\r\n$1\r\n1\r\n+OK\r\n"
        );
    }

    fn client_list_query_buffer_is_real_and_shrinks_after_a_big_request(srv: &Server) {
        let mut c = srv.raw();
        let id = client_id(&mut c);
        // The command being run is still in the buffer, as in Redis:
        // `*2\r\n$6\r\nCLIENT\r\n$4\r\nINFO\r\n` is 26 bytes.
        let info = cmd(&mut c, "CLIENT INFO");
        assert_eq!(field(&info, "qbuf"), "26", "{info}");
        assert!(field(&info, "qbuf-free").parse::<usize>().unwrap() > 0, "{info}");
        let big = vec![b'x'; 300_000];
        assert_eq!(c.cmd(&[b"SET", b"big", &big]), b"+OK\r\n");
        let mut other = srv.raw();
        let line = cmd(&mut other, &format!("CLIENT LIST ID {id}"));
        assert_eq!(field(&line, "qbuf"), "0", "{line}");
        let free: usize = field(&line, "qbuf-free").parse().unwrap();
        assert!(free <= 32 * 1024, "the 300 KB buffer was kept: {line}");
    }

    fn client_reply_off_still_delivers_pubsub_pushes(srv: &Server) {
        let mut publisher = srv.raw();
        for resp3 in [false, true] {
            let mut c = srv.raw();
            let kind = if resp3 { '>' } else { '*' };
            if resp3 {
                assert!(cmd(&mut c, "HELLO 3").starts_with('%'));
            }
            // Silenced: the OFF itself and SET; the confirmation is a push.
            c.send(b"CLIENT REPLY OFF\r\nSET k v\r\nSUBSCRIBE news\r\n");
            assert_eq!(
                String::from_utf8(c.read_reply()).unwrap(),
                format!("{kind}3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n")
            );
            assert_eq!(cmd(&mut publisher, "PUBLISH news hello"), ":1\r\n");
            assert_eq!(
                String::from_utf8(c.read_reply()).unwrap(),
                format!("{kind}3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$5\r\nhello\r\n")
            );
            c.send(b"UNSUBSCRIBE news\r\n");
            assert_eq!(
                String::from_utf8(c.read_reply()).unwrap(),
                format!("{kind}3\r\n$11\r\nunsubscribe\r\n$4\r\nnews\r\n:0\r\n")
            );
            // SKIP then ON: ON is answered, and so is what follows.
            c.send(b"CLIENT REPLY SKIP\r\nCLIENT REPLY ON\r\nPING\r\n");
            assert_eq!(c.read_reply(), b"+OK\r\n");
            assert_eq!(c.read_reply(), b"+PONG\r\n");
        }
    }

    fn client_kill_closes_a_subscribed_connection(srv: &Server) {
        let mut admin = srv.raw();
        for (resp3, by) in [(false, "ID"), (true, "ID"), (false, "TYPE"), (true, "ADDR")] {
            let mut sub = srv.raw();
            if resp3 {
                assert!(cmd(&mut sub, "HELLO 3").starts_with('%'));
            }
            let id = client_id(&mut sub);
            let addr = own_addr(&mut sub);
            assert!(cmd(&mut sub, "SUBSCRIBE news").contains("subscribe"));
            let target = match by {
                "ID" => format!("CLIENT KILL ID {id}"),
                "TYPE" => "CLIENT KILL TYPE pubsub".to_string(),
                _ => format!("CLIENT KILL ADDR {addr}"),
            };
            assert_eq!(cmd(&mut admin, &target), ":1\r\n", "{target}");
            assert!(closed_within(&mut sub, Duration::from_secs(2)), "{target}: subscriber still open");
            // Its subscriptions go with it (its core drops them just after).
            let deadline = Instant::now() + Duration::from_secs(2);
            while cmd(&mut admin, "PUBLISH news x") != ":0\r\n" {
                assert!(Instant::now() < deadline, "{target}: still subscribed");
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    }

    fn client_unblock_ends_blocked_pops_and_stream_reads(srv: &Server) {
        let mut admin = srv.raw();
        let mut b = srv.raw();
        let id = client_id(&mut b);
        assert_eq!(cmd(&mut admin, &format!("CLIENT UNBLOCK {id}")), ":0\r\n", "not blocked");
        let cases: [(&str, &str, &str); 4] = [
            ("BLPOP nolist 0", "TIMEOUT", "*-1\r\n"),
            ("BLPOP nolist 0", "ERROR", "-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n"),
            ("BLMOVE nolist other LEFT RIGHT 0", "", "*-1\r\n"),
            ("XREAD BLOCK 0 STREAMS nostream $", "ERROR", "-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n"),
        ];
        for (blocking, reason, reply) in cases {
            let args: Vec<&[u8]> = blocking.split(' ').map(str::as_bytes).collect();
            b.send(&common::encode_request(&args));
            let unblock = format!("CLIENT UNBLOCK {id} {reason}");
            let deadline = Instant::now() + Duration::from_secs(5);
            // 1 once the client is blocked (0 before it got there).
            while cmd(&mut admin, unblock.trim_end()) != ":1\r\n" {
                assert!(Instant::now() < deadline, "{blocking} never blocked");
                std::thread::sleep(Duration::from_millis(5));
            }
            assert_eq!(String::from_utf8(b.read_reply()).unwrap(), reply, "{blocking} {reason}");
            assert_eq!(cmd(&mut admin, unblock.trim_end()), ":0\r\n");
        }
        // The list was never touched by the unblocked pops.
        assert_eq!(cmd(&mut admin, "RPUSH nolist a"), ":1\r\n");
        assert_eq!(cmd(&mut b, "LPOP nolist"), "$1\r\na\r\n");
        assert_eq!(
            cmd(&mut admin, &format!("CLIENT UNBLOCK {id} MAYBE")),
            "-ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR\r\n"
        );
        assert_eq!(cmd(&mut admin, "CLIENT UNBLOCK x"), "-ERR value is not an integer or out of range\r\n");
        assert_eq!(cmd(&mut admin, "CLIENT GETREDIR"), ":-1\r\n");
    }
}

#[test]
fn auth_with_requirepass() {
    common::with_each_shards(&["--requirepass", "s3cret"], |srv| {
        let mut c = srv.raw();
        assert_eq!(cmd(&mut c, "GET k"), "-NOAUTH Authentication required.\r\n");
        assert_eq!(
            cmd(&mut c, "SET k v"),
            "-NOAUTH Authentication required.\r\n"
        );
        assert_eq!(
            cmd(&mut c, "CLIENT ID"),
            "-NOAUTH Authentication required.\r\n"
        );
        assert_eq!(
            cmd(&mut c, "AUTH wrong"),
            "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
        );
        assert_eq!(
            cmd(&mut c, "AUTH nosuchuser s3cret"),
            "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
        );
        assert_eq!(cmd(&mut c, "GET k"), "-NOAUTH Authentication required.\r\n");
        assert_eq!(cmd(&mut c, "AUTH s3cret"), "+OK\r\n");
        assert_eq!(cmd(&mut c, "SET k v"), "+OK\r\n");
        assert_eq!(cmd(&mut c, "GET k"), "$1\r\nv\r\n");

        // AUTH default <pass>, the Redis 6 form.
        let mut d = srv.raw();
        assert_eq!(cmd(&mut d, "AUTH default s3cret"), "+OK\r\n");
        assert_eq!(cmd(&mut d, "GET k"), "$1\r\nv\r\n");
        // RESET logs out again.
        assert_eq!(cmd(&mut d, "RESET"), "+RESET\r\n");
        assert_eq!(cmd(&mut d, "GET k"), "-NOAUTH Authentication required.\r\n");

        // HELLO without AUTH is refused, HELLO AUTH logs in.
        let mut h = srv.raw();
        let refused = cmd(&mut h, "HELLO 3");
        assert!(
            refused
                .starts_with("-NOAUTH HELLO must be called with the client already authenticated"),
            "{refused:?}"
        );
        assert_eq!(cmd(&mut h, "GET k"), "-NOAUTH Authentication required.\r\n");
        assert_eq!(
            cmd(&mut h, "HELLO 3 AUTH default nope"),
            "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
        );
        assert!(cmd(&mut h, "HELLO 3 AUTH default s3cret").starts_with("%7\r\n"));
        assert_eq!(cmd(&mut h, "GET k"), "$1\r\nv\r\n");

        // QUIT works unauthenticated.
        let mut q = srv.raw();
        q.send(b"QUIT\r\n");
        assert_eq!(q.read_to_close(Duration::from_secs(5)), b"+OK\r\n");
    });
}

#[test]
fn auth_without_configured_password() {
    let srv = Server::start(1, &[]);
    let mut c = srv.raw();
    assert_eq!(
        cmd(&mut c, "AUTH foo"),
        "-ERR AUTH <password> called without any password configured for the default user. \
         Are you sure your configuration is correct?\r\n"
    );
    // The default user has no password: any password is accepted.
    assert_eq!(cmd(&mut c, "AUTH default anything"), "+OK\r\n");
    assert_eq!(
        cmd(&mut c, "AUTH other anything"),
        "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
    );
}

#[test]
fn maxclients_rejects_the_extra_connection() {
    common::with_each_shards(&["--maxclients", "2"], |srv| {
        let mut a = srv.raw();
        let mut b = srv.raw();
        assert_eq!(cmd(&mut a, "PING"), "+PONG\r\n");
        assert_eq!(cmd(&mut b, "PING"), "+PONG\r\n");
        let mut c = srv.raw();
        assert_eq!(
            c.read_to_close(Duration::from_secs(5)),
            b"-ERR max number of clients reached\r\n"
        );
        // Once one leaves, a new client gets in (the count is released).
        drop(a);
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let mut d = srv.raw();
            d.send(b"PING\r\n");
            match d.try_read_reply() {
                Ok(r) if r == b"+PONG\r\n" => break,
                Ok(r) => assert_eq!(r, b"-ERR max number of clients reached\r\n"),
                Err(e) => panic!("{e}"),
            }
            assert!(
                Instant::now() < deadline,
                "slot of the closed client never freed"
            );
        }
        let info = cmd(&mut b, "INFO stats");
        let rejected: u64 = info
            .lines()
            .find_map(|l| l.strip_prefix("rejected_connections:"))
            .unwrap()
            .parse()
            .unwrap();
        assert!(rejected >= 1, "{info}");
    });
}

#[test]
fn idle_timeout_closes_quiet_clients_only() {
    common::with_each_shards(&["--timeout", "1"], |srv| {
        let mut idle = srv.raw();
        let mut busy = srv.raw();
        assert_eq!(cmd(&mut idle, "PING"), "+PONG\r\n");
        let start = Instant::now();
        // The busy client talks every 250 ms while the idle one waits.
        while !idle.is_closed() {
            assert_eq!(cmd(&mut busy, "PING"), "+PONG\r\n");
            assert!(
                start.elapsed() < Duration::from_secs(3),
                "idle client not closed after 3 s"
            );
        }
        let took = start.elapsed();
        assert!(
            took >= Duration::from_millis(900),
            "closed too early: {took:?}"
        );
        assert_eq!(
            cmd(&mut busy, "PING"),
            "+PONG\r\n",
            "the active client stays"
        );
    });
}
