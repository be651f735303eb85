#!/usr/bin/env python3
"""Write load of ten times maxmemory under allkeys-lru, lanner vs Redis.

Starts lanner (`--shards 2` by default) and redis-server fresh on free
loopback ports and runs `redis-benchmark -t set -r <range> -d 100 -P 16`
against each twice: with `maxmemory` and allkeys-lru, and with no limit.
The request count is chosen so the keys written take about `--factor` times
the limit. During each run /proc/<pid>/status is sampled every 20 ms for
VmRSS. Reports peak RSS against the limit, `used_memory` at the end, evicted
keys, and throughput with the limit over throughput without it (what
eviction costs).

It does not measure hit ratios (evict_hitratio.py) or latency tails.

    python3 bench/evict_writeload.py [--lanner target/release/lanner]
        [--shards 2] [--maxmemory 32mb] [--factor 10] [--json out.json]
"""

import argparse
import json
import os
import re
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


def rss(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def one_run(kind, a, limit, requests):
    extra = [("maxmemory", limit), ("maxmemory-policy", "allkeys-lru")] if limit else []
    srv = Server(kind, os.path.abspath(a.lanner), a.shards, extra)
    try:
        idle_rss = rss(srv.proc.pid)
        peak = [idle_rss]
        done = threading.Event()

        def sample():
            while not done.is_set():
                peak[0] = max(peak[0], rss(srv.proc.pid))
                time.sleep(0.02)

        t = threading.Thread(target=sample)
        t.start()
        out = subprocess.run(
            ["redis-benchmark", "-p", str(srv.port), "-t", "set", "-r", str(a.range),
             "-d", str(a.value_size), "-P", "16", "-c", str(a.clients),
             "-n", str(requests), "-q"],
            capture_output=True, text=True, check=True).stdout
        done.set()
        t.join()
        m = re.findall(r"SET: ([0-9.]+) requests per second", out)
        if not m:
            raise RuntimeError(f"no throughput in redis-benchmark output: {out!r}")
        time.sleep(0.5)  # let a background evictor finish
        mem, stats = srv.conn.info("memory"), srv.conn.info("stats")
        return {
            "rps": float(m[-1]),
            "idle_rss": idle_rss,
            "peak_rss": peak[0],
            "used_memory": int(mem["used_memory"]),
            "evicted_keys": int(stats["evicted_keys"]),
            "keys": srv.conn.cmd("DBSIZE"),
        }
    finally:
        srv.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lanner", default="target/release/lanner")
    ap.add_argument("--shards", type=int, default=2)
    ap.add_argument("--maxmemory", default="32mb")
    ap.add_argument("--factor", type=float, default=10)
    ap.add_argument("--value-size", type=int, default=100)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--range", type=int, default=100_000_000, help="-r of redis-benchmark")
    ap.add_argument("--json")
    a = ap.parse_args()
    limit = parse_size(a.maxmemory)
    # A 100-byte value with redis-benchmark's 16-byte key costs about 170
    # bytes in either server; -r far above -n keeps almost every key new.
    requests = int(limit * a.factor / (a.value_size + 70))
    print(f"redis-benchmark -t set -d {a.value_size} -P 16 -c {a.clients} -r {a.range} "
          f"-n {requests} (~{a.factor:g}x maxmemory {limit}), allkeys-lru, "
          f"lanner --shards {a.shards}")
    rows = {}
    for kind in ("lanner", "redis"):
        rows[kind] = {"limited": one_run(kind, a, limit, requests),
                      "unlimited": one_run(kind, a, 0, requests)}
    mib = lambda b: f"{b / (1 << 20):.1f}"
    print()
    print("| server | peak RSS MiB (limit) | peak RSS MiB (no limit) | used_memory MiB at end "
          "| maxmemory MiB | evicted keys | rps limit | rps no limit | ratio |")
    print("|---|---|---|---|---|---|---|---|---|")
    for kind, r in rows.items():
        lim, unl = r["limited"], r["unlimited"]
        r["throughput_ratio"] = lim["rps"] / unl["rps"]
        print(f"| {kind} | {mib(lim['peak_rss'])} | {mib(unl['peak_rss'])} | {mib(lim['used_memory'])} "
              f"| {mib(limit)} | {lim['evicted_keys']} | {lim['rps']:.0f} | {unl['rps']:.0f} "
              f"| {r['throughput_ratio']:.2f} |")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"params": vars(a), "requests": requests, "results": rows}, f, indent=2)


if __name__ == "__main__":
    main()
