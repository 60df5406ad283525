#!/usr/bin/env python3
# bench_setup.py: how long a one-name rudp connection takes (start of hola-client to its
# "Hola" line) against a server that accepts the first INITIAL at once and one that
# always sends the RETRY (--always-retry), alternated in one run, each side impaired the
# same way (--loss, and optionally --delay, on client and server). Prints mean, median
# and p90 per variant and their ratios. Loopback only.
# Usage: scripts/bench_setup.py BINDIR [RUNS [LOSS_PCT ["MORE IMPAIRMENT OPTIONS"]]]
#   e.g. scripts/bench_setup.py build/src/hola 200 10 "--delay 25"
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

if len(sys.argv) < 2 or sys.argv[1] in ("-h", "--help"):
    sys.exit(__doc__ or "usage: bench_setup.py BINDIR [RUNS [LOSS_PCT [OPTIONS]]]")
BIN = sys.argv[1]
RUNS = int(sys.argv[2]) if len(sys.argv) > 2 else 200
LOSS = sys.argv[3] if len(sys.argv) > 3 else "10"
EXTRA = sys.argv[4].split() if len(sys.argv) > 4 else []
VARIANTS = (("always-retry", ["--always-retry"]), ("at-once", []))
tmp = tempfile.mkdtemp(prefix="hola-bench-setup.")


def start_server(name, extra):
    portfile = os.path.join(tmp, name + ".port")
    p = subprocess.Popen([os.path.join(BIN, "hola-server"), "-p", "rudp", "-b", "127.0.0.1",
                          "-P", "0", "--port-file", portfile, "--loss", LOSS] + EXTRA + extra,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):  # 10 s at most
        if os.path.exists(portfile) and os.path.getsize(portfile) > 0:
            return p, int(open(portfile).read())
        time.sleep(0.1)
    p.kill()
    sys.exit(f"bench_setup: {name} server did not start")


def p90(v):
    return sorted(v)[int(0.9 * (len(v) - 1))]


servers = {name: start_server(name, extra) for name, extra in VARIANTS}
times = {name: [] for name, _ in VARIANTS}
fails = {name: 0 for name, _ in VARIANTS}
try:
    for i in range(RUNS):
        order = [n for n, _ in VARIANTS]
        if i % 2:
            order.reverse()
        for name in order:
            t0 = time.monotonic()
            c = subprocess.Popen([os.path.join(BIN, "hola-client"), "-p", "rudp", "-H",
                                  "127.0.0.1", "-P", str(servers[name][1]), "--loss", LOSS] +
                                 EXTRA + [f"n{i}"],
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            line = c.stdout.readline()
            t1 = time.monotonic()
            c.wait(timeout=60)
            if line.strip() == f"Hola n{i}".encode():
                times[name].append((t1 - t0) * 1000)
            else:
                fails[name] += 1
finally:
    for p, _ in servers.values():
        p.terminate()
        p.wait(timeout=10)
print(f"{RUNS} one-name connections each, --loss {LOSS} {' '.join(EXTRA)} on both sides")
for name, v in times.items():
    print(f"{name:13s} n={len(v)} failed={fails[name]} mean={statistics.mean(v):.1f} ms "
          f"median={statistics.median(v):.1f} ms p90={p90(v):.1f} ms")
a, b = times["always-retry"], times["at-once"]
print(f"at-once / always-retry: mean {statistics.mean(b) / statistics.mean(a):.2f}, "
      f"median {statistics.median(b) / statistics.median(a):.2f}, p90 {p90(b) / p90(a):.2f}")
