#!/usr/bin/env python3
"""Hit ratio of a Zipf cache workload under maxmemory, lanner vs Redis.

Starts lanner and redis-server fresh on free loopback ports with the same
`maxmemory`, and runs the same pre-generated request stream against each, for
allkeys-lru and allkeys-lfu: a cache-aside loop (GET; on a miss, SET the
value) over a keyspace about ten times what fits in memory, key ranks drawn
from a Zipf distribution (exponent `--zipf`). Requests go in pipelined
batches over a raw socket: each batch's GETs, then SETs for its misses. The
first `--warmup` of the stream fills the cache and is not counted.

It measures which keys each eviction policy keeps (the hit ratio), not speed
(see evict_writeload.py) and not eviction under mixed value sizes.

    python3 bench/evict_hitratio.py [--lanner target/release/lanner]
        [--shards 1] [--maxmemory 16mb] [--keys 800000] [--requests 1500000]
        [--json out.json]
"""

import argparse
import bisect
import itertools
import json
import os
import random
import shutil
import socket
import subprocess
import tempfile
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


def zipf_stream(keys, n, s, seed):
    """`n` key ranks in 0..keys, P(rank r) ~ 1 / (r+1)^s, ranks shuffled
    over the key names so hot keys spread over every hash slot."""
    rng = random.Random(seed)
    cum = list(itertools.accumulate(1.0 / (r + 1) ** s for r in range(keys)))
    total = cum[-1]
    perm = list(range(keys))
    rng.shuffle(perm)
    return [perm[bisect.bisect(cum, rng.random() * total)] for _ in range(n)]


def run(server, policy, maxmemory, stream, warmup, batch, value):
    c = server.conn
    c.cmd("FLUSHALL")
    c.cmd("CONFIG", "SET", "maxmemory-policy", policy)
    c.cmd("CONFIG", "SET", "maxmemory", maxmemory)
    names = {}
    hits = misses = 0
    start = time.time()
    for at in range(0, len(stream), batch):
        ranks = stream[at : at + batch]
        keys = [names.setdefault(r, b"key:%d" % r) for r in ranks]
        got = c.pipeline(b"".join(encode(b"GET", k) for k in keys), len(keys))
        missed = [k for k, v in zip(keys, got) if v is None]
        if missed:
            c.pipeline(b"".join(encode(b"SET", k, value) for k in missed), len(missed))
        if at >= warmup:
            misses += len(missed)
            hits += len(keys) - len(missed)
    mem = c.info("memory")
    stats = c.info("stats")
    return {
        "hit_ratio": hits / (hits + misses),
        "seconds": round(time.time() - start, 1),
        "evicted_keys": int(stats["evicted_keys"]),
        "keys_cached": c.cmd("DBSIZE"),
        "used_memory": int(mem["used_memory"]),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lanner", default="target/release/lanner")
    ap.add_argument("--shards", type=int, default=1)
    ap.add_argument("--maxmemory", default="16mb")
    ap.add_argument("--keys", type=int, default=800_000)
    ap.add_argument("--requests", type=int, default=1_500_000)
    ap.add_argument("--warmup", type=float, default=0.2, help="fraction not counted")
    ap.add_argument("--zipf", type=float, default=0.99)
    ap.add_argument("--value-size", type=int, default=100)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--policies", default="allkeys-lru,allkeys-lfu")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json")
    a = ap.parse_args()
    maxmemory = parse_size(a.maxmemory)
    stream = zipf_stream(a.keys, a.requests, a.zipf, a.seed)
    warmup = int(a.requests * a.warmup)
    value = b"v" * a.value_size
    print(f"Zipf s={a.zipf} over {a.keys} keys, {a.requests} GET-miss-SET requests "
          f"({a.warmup:.0%} warm-up), {a.value_size}-byte values, maxmemory {maxmemory}, "
          f"lanner --shards {a.shards}")
    results = []
    for policy in a.policies.split(","):
        row = {"policy": policy}
        for kind in ("lanner", "redis"):
            srv = Server(kind, os.path.abspath(a.lanner), a.shards, [])
            try:
                row[kind] = run(srv, policy, maxmemory, stream, warmup, a.batch, value)
            finally:
                srv.stop()
        row["ratio"] = row["lanner"]["hit_ratio"] / row["redis"]["hit_ratio"]
        results.append(row)
    print()
    print("| policy | lanner hit ratio | Redis hit ratio | lanner/Redis | lanner keys cached | Redis keys cached |")
    print("|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['policy']} | {r['lanner']['hit_ratio']:.4f} | {r['redis']['hit_ratio']:.4f} "
              f"| {r['ratio']:.3f} | {r['lanner']['keys_cached']} | {r['redis']['keys_cached']} |")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"params": vars(a), "results": results}, f, indent=2)


if __name__ == "__main__":
    main()
