#!/usr/bin/env python3
"""Longest stall while one huge set is deleted: UNLINK vs DEL, lanner vs Redis.

Starts lanner and redis-server fresh on free loopback ports; in each, builds
one set of `--members` members (SADD, 1000 members per command, pipelined),
then, while a second connection sends PING after PING and times each reply,
deletes the key: once with UNLINK (freed off the request path), once with DEL
and `lazyfree-lazy-user-del no` (freed in place, the stall to compare with).
Reports the longest PING round trip and its 99.9th percentile in the window
around the delete.

It measures how long other clients wait, not how fast memory returns.
The default is Redis's classic 10M-member example; `--members 2000000` runs
the same comparison in about a fifth of the time.

    python3 bench/unlink_stall.py [--lanner target/release/lanner]
        [--shards 1] [--members 10000000] [--json out.json]
"""

import argparse
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def encode(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class Conn:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.file = self.sock.makefile("rb", buffering=1 << 20)

    def reply(self):
        line = self.file.readline()
        kind, rest = line[:1], line[1:-2]
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self.file.read(n + 2)[:-2]
        if kind == b"*":
            return [self.reply() for _ in range(int(rest))]
        if kind == b"-":
            raise RuntimeError(rest.decode())
        if kind == b":":
            return int(rest)
        return rest

    def pipeline(self, data, n):
        self.sock.sendall(data)
        return [self.reply() for _ in range(n)]

    def cmd(self, *args):
        return self.pipeline(encode(*args), 1)[0]

    def info(self, section):
        text = self.cmd("INFO", section).decode()
        return dict(l.split(":", 1) for l in text.split("\r\n") if ":" in l)


class Server:
    """A server process on a free port, stopped (SIGTERM, then SIGKILL) by stop()."""

    def __init__(self, kind, lanner, shards, extra):
        self.kind, self.port = kind, free_port()
        self.dir = tempfile.mkdtemp(prefix="evict-bench-")
        if kind == "lanner":
            cmd = [lanner, "--port", str(self.port), "--metrics-port", "0",
                   "--shards", str(shards), "--bind", "127.0.0.1"]
        else:
            cmd = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                   "--save", "", "--appendonly", "no", "--dir", self.dir]
        for k, v in extra:
            cmd += ["--" + k, str(v)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, cwd=self.dir)
        deadline = time.time() + 20
        while True:
            try:
                self.conn = Conn(self.port)
                if self.conn.cmd("PING") == b"PONG":
                    break
            except (OSError, RuntimeError):
                pass
            if time.time() > deadline or self.proc.poll() is not None:
                self.stop()
                raise RuntimeError(f"{kind} did not start")
            time.sleep(0.05)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def parse_size(s):
    s = s.lower()
    for unit, mul in (("gb", 1 << 30), ("mb", 1 << 20), ("kb", 1 << 10)):
        if s.endswith(unit):
            return int(float(s[: -len(unit)]) * mul)
    return int(s)


def build_set(c, members, per_cmd=1000, depth=50):
    sent = 0
    while sent < members:
        cmds = []
        for _ in range(depth):
            if sent >= members:
                break
            n = min(per_cmd, members - sent)
            cmds.append(encode(b"SADD", b"big", *[b"m%d" % i for i in range(sent, sent + n)]))
            sent += n
        c.pipeline(b"".join(cmds), len(cmds))
    assert c.cmd("SCARD", "big") == members


def measure(port, action, settle):
    """PING round trips (seconds) from 0.2 s before `action` to `settle` after."""
    pinger = Conn(port)
    times, stop = [], threading.Event()

    def loop():
        ping = encode("PING")
        while not stop.is_set():
            t = time.perf_counter()
            pinger.pipeline(ping, 1)
            times.append(time.perf_counter() - t)

    th = threading.Thread(target=loop)
    th.start()
    time.sleep(0.2)
    t = time.perf_counter()
    action()
    took = time.perf_counter() - t
    time.sleep(settle)
    stop.set()
    th.join()
    times.sort()
    return {
        "max_ms": times[-1] * 1e3,
        "p999_ms": times[min(len(times) - 1, int(len(times) * 0.999))] * 1e3,
        "pings": len(times),
        "command_ms": took * 1e3,
    }


def one_server(kind, a):
    srv = Server(kind, os.path.abspath(a.lanner), a.shards, [])
    out = {}
    try:
        c = srv.conn
        for how in ("UNLINK", "DEL"):
            c.cmd("CONFIG", "SET", "lazyfree-lazy-user-del", "no")
            t = time.time()
            build_set(c, a.members)
            load = time.time() - t
            out[how] = measure(srv.port, lambda: c.cmd(how, "big"), a.settle)
            out[how]["load_s"] = round(load, 1)
            print(f"  {kind} {how}: {out[how]}", flush=True)
    finally:
        srv.stop()
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lanner", default="target/release/lanner")
    ap.add_argument("--shards", type=int, default=1)
    ap.add_argument("--members", type=int, default=10_000_000)
    ap.add_argument("--settle", type=float, default=1.5, help="seconds measured after the delete")
    ap.add_argument("--json")
    a = ap.parse_args()
    print(f"one set of {a.members} members; PING loop on a second connection; "
          f"lanner --shards {a.shards}")
    rows = {kind: one_server(kind, a) for kind in ("lanner", "redis")}
    print()
    print("| server | command | longest PING ms | p99.9 PING ms | command took ms | PINGs |")
    print("|---|---|---|---|---|---|")
    for kind, r in rows.items():
        for how in ("UNLINK", "DEL"):
            m = r[how]
            label = how if how == "UNLINK" else "DEL (lazyfree-lazy-user-del no)"
            print(f"| {kind} | {label} | {m['max_ms']:.2f} | {m['p999_ms']:.2f} "
                  f"| {m['command_ms']:.2f} | {m['pings']} |")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"params": vars(a), "results": rows}, f, indent=2)


if __name__ == "__main__":
    main()
