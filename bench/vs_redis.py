#!/usr/bin/env python3
"""lanner side by side with Debian's redis-server, driven by redis-benchmark.

What it does:

  1. Starts both servers fresh on free loopback ports: lanner (the release
     build, --shards N) and redis-server without persistence.
  2. Throughput: for each pipeline depth, each round and each test of
     redis-benchmark's default list (or --tests), runs redis-benchmark
     against one server and then the other, the order swapping every round
     (A B, B A, ...) so that machine noise hits both alike. One
     redis-benchmark process per test and server, so that each test gets
     its own CPU figure.
  3. Memory: after the throughput phase, on the same running servers:
     FLUSHALL, RSS, load N string keys through one pipelined connection,
     RSS again (bytes per key = growth / N), FLUSHALL, RSS once more (what
     the server gave back).

What it reports, per test and pipeline depth: requests/s of each server
(median over the rounds) and the ratio lanner / Redis (median of the
per-round ratios), p99 latency (redis-benchmark's, median over rounds), and
server CPU time per request (the server's CPU time, every thread, from
/proc/<pid>/task/*/schedstat before and after the run, divided by the
requests redis-benchmark sent; for an LRANGE test that includes the LPUSH
that redis-benchmark runs first to fill the list). Then the geometric mean of
the ratios and CPU per request over all tests, and the memory figures.
--json writes all of it, with every round's raw numbers, the command lines
and the machine.

--tests types runs, instead of the default list, the data types
redis-benchmark has no -t name for, as custom commands on one key each
(CUSTOM_TESTS below): XADD to a stream capped with MAXLEN ~, PFADD and
PFCOUNT on a HyperLogLog, SETBIT and BITCOUNT on a bitmap, and GEOSEARCH
(nearest 10 within 5 km) in a set of 100000 places; keys that a test
reads are filled before its first run against each server.

It does not measure: clients on another machine (redis-benchmark shares the
cores with both servers), latency under a fixed request rate (redis-benchmark
sends as fast as it can), or anything redis-benchmark has no test for
(transactions, Pub/Sub, scripts: see bench/features.rs).

Needs redis-server and redis-benchmark (Debian packages redis-server and
redis-tools) and a release build (cargo build --release). Examples:

    python3 bench/vs_redis.py                                 # everything, default shards
    python3 bench/vs_redis.py --shards 1 --json target/vs_redis.json
    python3 bench/vs_redis.py --tests types --memory-keys 0   # streams, HLL, bitmaps, geo
    python3 bench/vs_redis.py --tests ping_mbulk,set --rounds 1 --requests 20000
    python3 bench/vs_redis.py --server "target/release/lanner --port {port} --shards 1" \\
        --redis "target/release/lanner --port {port} --shards 1 --metrics-port 9400" \\
        --names plain,scraped --memory-keys 0                  # a build against itself
"""

import argparse
import csv
import io
import json
import math
import os
import platform
import shlex
import signal
import socket
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")

# redis-benchmark 7.0's default tests, in the order it runs them; -t names.
DEFAULT_TESTS = [
    "ping_inline", "ping_mbulk", "set", "get", "incr", "lpush", "rpush", "lpop",
    "rpop", "sadd", "hset", "spop", "zadd", "zpopmin", "lrange_100",
    "lrange_300", "lrange_500", "lrange_600", "mset",
]

# Tests redis-benchmark has no -t name for: the command it sends (with
# __rand_int__ drawn from --keyspace), and what the key holds before the
# first run against each server. Named in --tests like the default ones.
def _geo_members(n):
    # A fixed spread of points over about 440 x 440 km around (14, 38).
    for i in range(n):
        h = (i * 2654435761) & 0xFFFFFFFF
        yield 12 + (h & 0xFFFF) / 0xFFFF * 4, 36 + (h >> 16) / 0xFFFF * 4, b"place:%d" % i


def _fill_geo(conn, n=100000):
    pipe = [Conn.encode(b"GEOADD", b"bench:geo", b"%.6f" % lon, b"%.6f" % lat, m)
            for lon, lat, m in _geo_members(n)]
    conn.pipeline(pipe)


def _fill_hll(conn, n=100000):
    conn.pipeline([Conn.encode(b"PFADD", b"bench:hll", *(b"visitor:%d" % j for j in range(i, i + 100)))
                   for i in range(0, n, 100)])


def _fill_bits(conn, n=100000):
    conn.pipeline([Conn.encode(b"SETBIT", b"bench:bits", i, 1) for i in range(0, n, 3)])


CUSTOM_TESTS = {
    "xadd": (["XADD", "bench:stream", "MAXLEN", "~", "100000", "*", "user", "__rand_int__"], None),
    "pfadd": (["PFADD", "bench:hll", "visitor:__rand_int__"], None),
    "pfcount": (["PFCOUNT", "bench:hll"], _fill_hll),
    "setbit": (["SETBIT", "bench:bits", "__rand_int__", "1"], None),
    "bitcount": (["BITCOUNT", "bench:bits"], _fill_bits),
    "geosearch": (["GEOSEARCH", "bench:geo", "FROMLONLAT", "14", "38", "BYRADIUS", "5", "km",
                   "ASC", "COUNT", "10", "WITHDIST"], _fill_geo),
}
TYPE_TESTS = list(CUSTOM_TESTS)


# ---------------------------------------------------------------- processes

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pids_of(pid):
    """pid and its descendants (a wrapper such as taskset may start the server)."""
    pids, todo = [pid], [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/task/{p}/children") as f:
                kids = [int(x) for x in f.read().split()]
        except OSError:
            kids = []
        pids += kids
        todo += kids
    return pids


def cpu_seconds(pid):
    """CPU time of the process tree, every thread included: the nanoseconds
    on CPU of /proc/<pid>/task/<tid>/schedstat where the kernel has it (user
    and system time alike), else utime + stime of /proc/<pid>/stat, which
    counts in clock ticks (10 ms)."""
    total = 0.0
    for p in pids_of(pid):
        try:
            ns = 0
            for tid in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{tid}/schedstat") as f:
                    ns += int(f.read().split()[0])
            total += ns / 1e9
        except (OSError, ValueError, IndexError):
            try:
                with open(f"/proc/{p}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / CLK_TCK
            except OSError:
                pass
    return total


def rss_bytes(pid):
    total = 0
    for p in pids_of(pid):
        try:
            with open(f"/proc/{p}/statm") as f:
                total += int(f.read().split()[1]) * PAGE
        except OSError:
            pass
    return total


class Conn:
    """A minimal RESP client: enough for PING, FLUSHALL, DBSIZE, INFO."""

    def __init__(self, port, timeout=60.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""

    def close(self):
        self.sock.close()

    @staticmethod
    def encode(*args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        return b"".join(out)

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise ConnectionError("server closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"-":
            raise RuntimeError(rest.decode(errors="replace"))
        if kind in (b"+", b":"):
            return rest
        if kind in (b"$", b"="):
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                chunk = self.sock.recv(1 << 16)
                if not chunk:
                    raise ConnectionError("server closed the connection")
                self.buf += chunk
            data, self.buf = self.buf[:n], self.buf[n + 2:]
            return data
        raise RuntimeError(f"unexpected reply {line[:40]!r}")

    def call(self, *args):
        self.sock.sendall(self.encode(*args))
        return self.reply()

    def pipeline(self, encoded, chunk=1000):
        """Sends encoded commands `chunk` at a time, reading every reply."""
        for i in range(0, len(encoded), chunk):
            part = encoded[i:i + chunk]
            self.sock.sendall(b"".join(part))
            for _ in part:
                self.reply()


class Server:
    def __init__(self, name, template, workdir):
        self.name = name
        self.template = template
        self.workdir = workdir
        self.proc = None
        self.log = None
        self.filled = set()
        for attempt in range(5):
            self.port = free_port()
            if self._start(attempt):
                return
        raise SystemExit(f"{name} did not start; see {self.log.name}")

    def _start(self, attempt):
        self.argv = shlex.split(self.template.format(port=self.port, dir=self.workdir))
        self.log = open(os.path.join(self.workdir, f"{self.name}.{attempt}.log"), "wb")
        self.proc = subprocess.Popen(self.argv, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                return False  # most likely the port was taken meanwhile: retry
            try:
                c = Conn(self.port, timeout=1)
                ok = c.call("PING") == b"PONG"
                c.close()
                if ok:
                    return True
            except (OSError, RuntimeError):
                pass
            time.sleep(0.05)
        self.stop()
        raise SystemExit(f"{self.name} did not answer PING within 60 s; see {self.log.name}")

    def version(self):
        c = Conn(self.port)
        info = c.call("INFO", "server").decode(errors="replace")
        c.close()
        fields = dict(l.split(":", 1) for l in info.splitlines() if ":" in l)
        v = fields.get("lanner_version")
        return f"lanner {v}" if v else f"redis {fields.get('redis_version', '?')}"

    def info_field(self, section, name):
        c = Conn(self.port)
        info = c.call("INFO", section).decode(errors="replace")
        c.close()
        for line in info.splitlines():
            if line.startswith(name + ":"):
                return line.split(":", 1)[1].strip()
        return None

    def stop(self):
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
            except ProcessLookupError:
                pass


# ---------------------------------------------------------------- throughput

def run_test(server, test, args, pipeline, requests):
    """One redis-benchmark run of one test: {"rps", "p99_ms", "cpu_us", "requests"}."""
    cmd = ["redis-benchmark", "-h", "127.0.0.1", "-p", str(server.port),
           "-c", str(args.clients), "-n", str(requests), "-P", str(pipeline),
           "-r", str(args.keyspace), "-d", str(args.data_size), "--csv"]
    if args.threads > 1:
        cmd += ["--threads", str(args.threads)]
    name = test
    if test in CUSTOM_TESTS:
        argv, fill = CUSTOM_TESTS[test]
        if fill is not None and test not in server.filled:
            c = Conn(server.port, timeout=300)
            fill(c)
            c.close()
            server.filled.add(test)
        cmd += argv
        name = argv[0]
    else:
        cmd += ["-t", test]
    cpu0 = cpu_seconds(server.proc.pid)
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    cpu = cpu_seconds(server.proc.pid) - cpu0
    if out.returncode != 0:
        raise SystemExit(f"redis-benchmark {test} against {server.name} failed: {out.stderr.strip()}")
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    if not rows:
        raise SystemExit(f"redis-benchmark {test} against {server.name} printed no result:\n{out.stdout}")
    # An LRANGE test runs "LPUSH (needed to benchmark LRANGE)" first.
    mine = [r for r in rows if r["test"].upper().split(" ")[0] == name.upper()]
    if len(mine) != 1:
        raise SystemExit(f"redis-benchmark {test}: unexpected rows {[r['test'] for r in rows]}")
    sent = requests * len(rows)
    return {
        "rps": float(mine[0]["rps"]),
        "p99_ms": float(mine[0]["p99_latency_ms"]),
        "cpu_us": cpu / sent * 1e6,
        "requests": sent,
        "cpu_s": cpu,
    }


def geomean(xs):
    xs = [x for x in xs if x > 0]
    return math.exp(sum(map(math.log, xs)) / len(xs)) if xs else float("nan")


def throughput(servers, tests, args):
    a, b = servers
    result = {}
    for p in args.pipeline:
        n = args.requests * p if args.scale_requests else args.requests
        raw = {t: {a.name: [], b.name: []} for t in tests}
        for r in range(args.rounds):
            order = servers if r % 2 == 0 else servers[::-1]
            for t in tests:
                for s in order:
                    raw[t][s.name].append(run_test(s, t, args, p, n))
            print(f"  pipeline {p}: round {r + 1}/{args.rounds} done", file=sys.stderr)
        table = {}
        for t in tests:
            ra, rb = raw[t][a.name], raw[t][b.name]
            table[t] = {
                "ratio": statistics.median(x["rps"] / y["rps"] for x, y in zip(ra, rb)),
                a.name: summarize(ra),
                b.name: summarize(rb),
                "rounds": raw[t],
            }
        cpu = {s.name: sum(x["cpu_s"] for t in tests for x in raw[t][s.name])
               / sum(x["requests"] for t in tests for x in raw[t][s.name]) * 1e6
               for s in servers}
        result[str(p)] = {
            "requests_per_test": n,
            "tests": table,
            "geomean_ratio": geomean([v["ratio"] for v in table.values()]),
            "min_ratio": min(v["ratio"] for v in table.values()),
            "cpu_us_per_request": cpu,
        }
        print_pipeline(p, n, args, servers, result[str(p)])
    return result


def summarize(runs):
    return {
        "rps": statistics.median(x["rps"] for x in runs),
        "p99_ms": statistics.median(x["p99_ms"] for x in runs),
        "cpu_us_per_request": statistics.median(x["cpu_us"] for x in runs),
    }


def print_pipeline(p, n, args, servers, res):
    a, b = (s.name for s in servers)
    print(f"\n== pipeline {p}: {args.clients} clients, {n} requests per test, "
          f"{args.rounds} rounds, keyspace {args.keyspace}, {args.data_size}-byte values")
    print(f"{'test':<13}{a + ' rps':>14}{b + ' rps':>14}{'ratio':>7}"
          f"{a + ' p99':>13}{b + ' p99':>13}{a + ' cpu/req':>15}{b + ' cpu/req':>15}")
    for t, v in res["tests"].items():
        x, y = v[a], v[b]
        print(f"{t.upper():<13}{x['rps']:>14,.0f}{y['rps']:>14,.0f}{v['ratio']:>7.2f}"
              f"{x['p99_ms']:>10.3f} ms{y['p99_ms']:>10.3f} ms"
              f"{x['cpu_us_per_request']:>12.2f} us{y['cpu_us_per_request']:>12.2f} us")
    c = res["cpu_us_per_request"]
    print(f"geomean ratio {res['geomean_ratio']:.3f}, min {res['min_ratio']:.3f}; "
          f"server CPU per request over all tests: {a} {c[a]:.2f} us, {b} {c[b]:.2f} us "
          f"({c[a] / c[b]:.2f})")


# ---------------------------------------------------------------- memory

def settled_rss(server, timeout=5.0):
    """RSS once two readings 200 ms apart agree within 0.5% (or at the timeout)."""
    deadline = time.time() + timeout
    last = rss_bytes(server.proc.pid)
    while time.time() < deadline:
        time.sleep(0.2)
        now = rss_bytes(server.proc.pid)
        if abs(now - last) <= last * 0.005:
            return now
        last = now
    return last


def load_keys(server, n, value_size):
    value = b"v" * value_size
    c = Conn(server.port, timeout=300)
    chunk = 10000
    for start in range(0, n, chunk):
        end = min(n, start + chunk)
        c.sock.sendall(b"".join(Conn.encode(b"SET", b"key:%012d" % i, value)
                                for i in range(start, end)))
        for _ in range(end - start):
            c.reply()
    c.close()


def memory(servers, args):
    result = {}
    for s in servers:
        c = Conn(s.port, timeout=300)
        c.call("FLUSHALL")
        before = settled_rss(s)
        load_keys(s, args.memory_keys, args.memory_value_size)
        loaded = settled_rss(s)
        keys = int(c.call("DBSIZE"))
        used = s.info_field("memory", "used_memory")
        c.call("FLUSHALL")
        c.close()
        after_flush = settled_rss(s)
        result[s.name] = {
            "keys": keys,
            "rss_before": before,
            "rss_loaded": loaded,
            "rss_after_flushall": after_flush,
            "bytes_per_key": (loaded - before) / max(1, args.memory_keys),
            "used_memory_loaded": int(used) if used and used.isdigit() else None,
        }
    a, b = (s.name for s in servers)
    print(f"\n== memory: {args.memory_keys} keys (key:<12 digits>, "
          f"{args.memory_value_size}-byte values) after the throughput phase")
    for name, m in result.items():
        print(f"{name:<8} RSS {m['rss_before'] / 2**20:.1f} -> {m['rss_loaded'] / 2**20:.1f} MiB, "
              f"{m['bytes_per_key']:.1f} bytes/key; after FLUSHALL {m['rss_after_flushall'] / 2**20:.1f} MiB")
    ra, rb = result[a]["bytes_per_key"], result[b]["bytes_per_key"]
    if rb > 0:
        print(f"bytes per key {a} / {b}: {ra / rb:.3f}")
    return result


# ---------------------------------------------------------------- main

def machine():
    cpus = os.cpu_count()
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            model = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "")
    except OSError:
        pass
    return {"cpus": cpus, "cpu_model": model, "kernel": platform.release(),
            "affinity": sorted(os.sched_getaffinity(0))}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 epilog="See the module doc (head of this file) for what is measured.")
    ap.add_argument("--lanner", default=os.path.join(REPO, "target/release/lanner"),
                    help="the lanner binary (default: the release build)")
    ap.add_argument("--shards", type=int,
                    help="lanner --shards (default: lanner's own, one per usable core)")
    ap.add_argument("--lanner-args", default="", help="more lanner flags, e.g. '--maxmemory 1gb'")
    ap.add_argument("--server", help="command starting the server under test instead of "
                    "--lanner/--shards; {port} and {dir} (a private directory) are replaced")
    ap.add_argument("--redis", default="redis-server --bind 127.0.0.1 --port {port} "
                    "--save '' --appendonly no --dir {dir}",
                    help="command starting the reference server (default: %(default)s)")
    ap.add_argument("--names", default="lanner,redis", help="labels of the two servers")
    ap.add_argument("--tests", help="comma-separated redis-benchmark -t names, or of "
                    f"{', '.join(TYPE_TESTS)}; 'types' for the latter "
                    "(default: redis-benchmark's whole default list)")
    ap.add_argument("--pipeline", default="1,16", help="pipeline depths (default: %(default)s)")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--requests", type=int, default=100000,
                    help="requests per test at pipeline 1, times the depth at deeper "
                         "pipelines (default: %(default)s)")
    ap.add_argument("--no-scale-requests", dest="scale_requests", action="store_false",
                    help="the same --requests at every pipeline depth")
    ap.add_argument("--keyspace", type=int, default=100000, help="redis-benchmark -r")
    ap.add_argument("--data-size", type=int, default=3, help="redis-benchmark -d")
    ap.add_argument("--threads", type=int, default=1, help="redis-benchmark --threads")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--memory-keys", type=int, default=1000000, help="0 skips the memory phase")
    ap.add_argument("--memory-value-size", type=int, default=16)
    ap.add_argument("--json", help="write every figure, raw rounds included, to this file")
    ap.add_argument("--keep-logs", action="store_true",
                    help="keep the servers' logs (they are kept anyway when a run fails)")
    args = ap.parse_args()
    args.pipeline = [int(x) for x in args.pipeline.split(",")]
    tests = [t.strip().lower() for t in args.tests.split(",")] if args.tests else DEFAULT_TESTS
    tests = [x for t in tests for x in (TYPE_TESTS if t == "types" else [t])]
    names = args.names.split(",")
    if len(names) != 2 or names[0] == names[1]:
        raise SystemExit("--names takes two different labels")
    if args.server is None:
        if not os.access(args.lanner, os.X_OK):
            raise SystemExit(f"{args.lanner} not found: cargo build --release first")
        shards = f"--shards {args.shards} " if args.shards else ""
        args.server = (f"{shlex.quote(args.lanner)} --bind 127.0.0.1 --port {{port}} "
                       f"{shards}--dir {{dir}} {args.lanner_args}")
    for tool in ("redis-benchmark",):
        if subprocess.run(["sh", "-c", f"command -v {tool}"], capture_output=True).returncode:
            raise SystemExit(f"{tool} not found: apt-get install redis-tools")

    workdir = tempfile.mkdtemp(prefix="vs_redis-")
    servers = []

    def interrupted(*_):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    try:
        for name, template in zip(names, (args.server, args.redis)):
            d = os.path.join(workdir, name)
            os.makedirs(d)
            servers.append(Server(name, template, d))
        result = {
            "harness": "bench/vs_redis.py",
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "machine": machine(),
            "servers": {s.name: {"command": s.argv, "version": s.version()} for s in servers},
            "settings": {k: v for k, v in vars(args).items() if k not in ("server", "redis")},
            "tests": tests,
            "pipelines": throughput(servers, tests, args),
            "memory": memory(servers, args) if args.memory_keys > 0 else None,
        }
        if args.json:
            with open(args.json, "w") as f:
                json.dump(result, f, indent=2)
            print(f"\nfigures written to {args.json}")
    except KeyboardInterrupt:
        print(f"interrupted; server logs in {workdir}", file=sys.stderr)
        return 130
    except BaseException:
        print(f"server logs in {workdir}", file=sys.stderr)
        raise
    finally:
        for s in servers:
            s.stop()
    if args.keep_logs:
        print(f"server logs in {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
