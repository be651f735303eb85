#!/usr/bin/env python3
"""Bytes per element of one large hash, set and sorted set, lanner vs Redis.

Starts a fresh server process per collection type on a free port, loads one
collection of N members through one pipelined connection (1000 members per command), and reports the growth
of the process RSS (and the server's own `used_memory`) per member. Members
are `member:<12 digits>` (19 bytes), hash values `value:<12 digits>`, scores
the member number.

    python3 bench/collection_memory.py \
        --server "$PWD/target/release/lanner --port {port} --shards 1" [-n 1000000]
"""

import argparse
import os
import shlex
import socket
import subprocess
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
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def read_line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise RuntimeError("connection closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def read_reply(self):
        line = self.read_line()
        kind = line[:1]
        if kind == b"-":
            raise RuntimeError(line.decode())
        if kind == b"$":
            n = int(line[1:])
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                self.buf += self.sock.recv(1 << 16)
            data, self.buf = self.buf[:n], self.buf[n + 2 :]
            return data
        if kind == b"*":
            return [self.read_reply() for _ in range(int(line[1:]))]
        return line[1:]

    def cmd(self, *args):
        self.send(encode(*args))
        return self.read_reply()


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def used_memory(conn):
    info = conn.cmd("INFO", "memory").decode()
    for line in info.splitlines():
        if line.startswith("used_memory:"):
            return int(line.split(":")[1])
    raise RuntimeError("no used_memory")


def commands(kind, n, per=1000):
    for start in range(0, n, per):
        members = range(start, min(start + per, n))
        if kind == "hash":
            args = ["HSET", "h"]
            for i in members:
                args += [f"member:{i:012d}", f"value:{i:012d}"]
        elif kind == "set":
            args = ["SADD", "s"] + [f"member:{i:012d}" for i in members]
        else:
            args = ["ZADD", "z"]
            for i in members:
                args += [str(i), f"member:{i:012d}"]
        yield encode(*args)


def measure(template, n):
    """Loads each collection type into a fresh server process."""
    results = {}
    for kind in ("hash", "set", "zset"):
        port = free_port()
        results[kind] = measure_one(shlex.split(template.format(port=port)), port, n, kind)
    return results


def measure_one(argv, port, n, kind):
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                conn = Conn(port)
                conn.cmd("PING")
                break
            except OSError:
                time.sleep(0.05)
        else:
            raise RuntimeError(f"{argv[0]} did not start")
        time.sleep(0.3)
        rss0, used0 = rss_bytes(proc.pid), used_memory(conn)
        batch = []
        for c in commands(kind, n):
            batch.append(c)
            if len(batch) == 50:
                conn.send(b"".join(batch))
                for _ in batch:
                    conn.read_reply()
                batch = []
        if batch:
            conn.send(b"".join(batch))
            for _ in batch:
                conn.read_reply()
        time.sleep(0.3)
        rss1, used1 = rss_bytes(proc.pid), used_memory(conn)
        encoding = conn.cmd("OBJECT", "ENCODING", kind[0]).decode()
        return ((rss1 - rss0) / n, (used1 - used0) / n, encoding)
    finally:
        proc.terminate()
        proc.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--server", required=True, help="lanner command line with {port}")
    ap.add_argument("--redis", default="redis-server --port {port} --save '' --appendonly no")
    ap.add_argument("-n", type=int, default=1_000_000)
    a = ap.parse_args()
    rows = {}
    for name, template in (("lanner", a.server), ("redis", a.redis)):
        rows[name] = measure(template, a.n)
    print(f"{a.n} members per collection; bytes per member (RSS growth / used_memory growth)")
    print("| type | lanner RSS | Redis RSS | ratio | lanner used_memory | Redis used_memory | encodings |")
    print("|---|---|---|---|---|---|---|")
    for kind in ("hash", "set", "zset"):
        l, r = rows["lanner"][kind], rows["redis"][kind]
        print(
            f"| {kind} | {l[0]:.1f} | {r[0]:.1f} | {l[0] / r[0]:.2f} | {l[1]:.1f} | {r[1]:.1f} | {l[2]} / {r[2]} |"
        )


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
