"""``infraleash logs`` end to end on a large generated file, side by side with Drain3 and ``sort | uniq -c``.

    .venv/bin/python bench/logs_analyze.py [--lines 1000000] [--keep FILE]

What it does
* Writes a realistic incident log of ``--lines`` lines (Log4j-style text from 6 hosts over 6 hours: ~25 request,
  cache, GC, auth and DB templates with ids, IPs, latencies and sizes as variables; 1 % of records are
  errors with a 6-line Java stack trace; a connection-pool burst and a heap climb on one host near the end).
  A fixed seed makes the file identical from run to run.
* Runs, each in its own process so peak RSS is measured per tool (``ru_maxrss`` of the child):
  - infraleash: ``analyze([file])`` -- reading, timestamp detection, record grouping, mining, counters,
    bursts, new templates, trends, lead/lag and the timeline (everything ``infraleash logs`` does but print);
  - Drain3 (defaults, in ``bench/.venv-drain3``, set up by ``bench/loghub_drain3.py``): reads the same file
    line by line and calls ``add_log_message`` on each line -- template mining only, no timestamps, records
    or anomaly detection, so it does strictly less work than we do;
  - GNU ``sed`` masking digits + ``sort | uniq -c``: the shell one-liner an on-call engineer reaches for
    (counts of distinct digit-masked lines, no templates); peak RSS is the largest process of the pipeline.
* Prints lines/s, seconds, peak RSS and the ratios to infraleash as a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

from loghub_drain3 import ensure_drain3  # noqa: E402

HOSTS = ("api-1", "api-2", "api-3", "worker-1", "worker-2", "db-proxy-1")
USERS = ("alice", "bob", "carol", "dave", "erin", "svc-billing", "svc-report")
PATHS = ("/api/v1/orders", "/api/v1/orders/{id}", "/api/v1/users/{id}", "/api/v1/cart", "/healthz",
         "/api/v1/payments", "/api/v1/search")
START = datetime(2026, 11, 24, 0, 0, 0, tzinfo=UTC)
SPAN_SECONDS = 6 * 3600

STACK = [
    "java.sql.SQLTransientConnectionException: HikariPool-1 - Connection is not available, request timed out "
    "after {ms}ms.",
    "\tat com.zaxxer.hikari.pool.HikariPool.createTimeoutException(HikariPool.java:696)",
    "\tat com.zaxxer.hikari.pool.HikariPool.getConnection(HikariPool.java:197)",
    "\tat com.example.orders.OrderRepository.find(OrderRepository.java:{line})",
    "Caused by: java.net.SocketTimeoutException: connect timed out",
    "\t... 12 more",
]


def _ip(r: random.Random) -> str:
    return f"10.{r.randrange(256)}.{r.randrange(256)}.{r.randrange(1, 255)}"


def _message(r: random.Random, host: str, t: float) -> tuple[str, str, bool]:
    """(level, message, with stack trace)."""
    k = r.random()
    rid = f"{r.getrandbits(64):016x}"
    if k < 0.30:
        path = r.choice(PATHS).replace("{id}", str(r.randrange(1, 10**6)))
        return "INFO", (f"request_id={rid} method={r.choice(('GET', 'GET', 'POST', 'PUT'))} path={path} "
                        f"status={r.choice((200, 200, 200, 201, 204, 404))} duration={r.randrange(1, 900)}ms "
                        f"client={_ip(r)}"), False
    if k < 0.42:
        return "INFO", f"Cache hit for key user:{r.randrange(10**6)} in {r.randrange(1, 50)}us", False
    if k < 0.50:
        return "DEBUG", f"Cache miss for key order:{r.randrange(10**7)}; loading from db", False
    if k < 0.56:
        return "INFO", (f"User {r.choice(USERS)} logged in from {_ip(r)} session={rid} "
                        f"mfa={r.choice(('true', 'false'))}"), False
    if k < 0.61:
        return "INFO", f"Executed query SELECT * FROM orders WHERE id = ? in {r.randrange(1, 400)} ms rows={r.randrange(50)}", False
    if k < 0.65:
        return "INFO", (f"GC pause (G1 Evacuation Pause) young {r.randrange(5, 80)}ms heap "
                        f"{r.randrange(300, 700)}MB->{r.randrange(200, 400)}MB"), False
    if k < 0.69:
        return "INFO", f"Published {r.randrange(1, 500)} events to topic orders.v{r.randrange(1, 4)} partition {r.randrange(12)}", False
    if k < 0.72:
        return "INFO", f"Scheduled job reconcile-{r.choice(('payments', 'inventory', 'refunds'))} finished in {r.random() * 30:.3f}s", False
    if k < 0.75:
        return "WARN", f"Slow request {rid} took {r.randrange(1000, 9000)}ms on {r.choice(PATHS).replace('{id}', '1')}", False
    if k < 0.78:
        return "INFO", f"Connection from {_ip(r)}:{r.randrange(1024, 65535)} accepted (tls {r.choice(('1.2', '1.3'))})", False
    if k < 0.81:
        return "INFO", f"Flushed {r.randrange(1, 9000)} metrics to http://metrics.internal:8428/api/v1/import in {r.randrange(2, 90)}ms", False
    if k < 0.84:
        return "DEBUG", f"Token refreshed for client {r.choice(USERS)} expires_in={r.randrange(300, 3600)}s", False
    if k < 0.87:
        return "INFO", f"Uploaded s3://backups-prod/{host}/{r.randrange(10**9)}.tar.gz ({r.randrange(1, 900)} MB)", False
    if k < 0.90:
        return "INFO", f"Worker pool size {r.randrange(8, 64)} active {r.randrange(0, 8)} queued {r.randrange(0, 20)}", False
    if k < 0.93:
        return "WARN", f"Retrying payment {r.randrange(10**8)} attempt {r.randrange(1, 4)} of 3 after {r.randrange(100, 2000)}ms", False
    if k < 0.96:
        return "INFO", f"Order {r.randrange(10**8)} state changed from {r.choice(('NEW', 'PAID'))} to {r.choice(('PAID', 'SHIPPED'))}", False
    if k < 0.99:
        return "INFO", f"Rate limit for tenant t-{r.randrange(500)} at {r.randrange(1, 100)}% of quota", False
    return "ERROR", f"Failed to load order {r.randrange(10**8)} for request_id={rid}", True


def generate(path: Path, lines: int, seed: int = 7) -> int:
    """Write the incident log; returns the number of lines written."""
    r = random.Random(seed)
    written = 0
    step = SPAN_SECONDS / lines
    burst_from = SPAN_SECONDS * 0.85
    heap = 400.0
    with path.open("w", encoding="utf-8") as f:
        t = 0.0
        while written < lines:
            t += step * 1.0
            host = HOSTS[r.randrange(len(HOSTS))]
            stamp = (START + timedelta(seconds=t)).strftime("%Y-%m-%d %H:%M:%S,%f")[:-3]
            if t > burst_from and host == "api-2" and r.random() < 0.5:
                level, msg, trace = "ERROR", f"HikariPool-1 - Connection is not available, request timed out after {r.randrange(30000, 30100)}ms", False
            elif host == "api-2" and r.random() < 0.002:
                heap += 1.0 * (t > SPAN_SECONDS / 2)
                level, msg, trace = "INFO", f"Heap usage {int(heap)}MB of 2048MB", False
            else:
                level, msg, trace = _message(r, host, t)
            f.write(f"{stamp} {level:<5} [{host}] host={host} {msg}\n")
            written += 1
            if trace:
                for frame in STACK:
                    if written >= lines:
                        break
                    f.write(frame.format(ms=r.randrange(30000, 30100), line=r.randrange(40, 400)) + "\n")
                    written += 1
    return written


OURS_WORKER = r'''
import json, resource, sys, time
sys.path.insert(0, sys.argv[2])
from infraleash.logs.analysis import analyze
t0 = time.perf_counter()
a = analyze([sys.argv[1]])
elapsed = time.perf_counter() - t0
print(json.dumps({"seconds": elapsed, "rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  "records": a.records, "templates": len(a.templates), "bursts": len(a.bursts),
                  "trends": len(a.trends)}))
'''

DRAIN_WORKER = r'''
import json, resource, sys, time
from drain3 import TemplateMiner
from drain3.template_miner_config import TemplateMinerConfig
config = TemplateMinerConfig()
config.profiling_enabled = False
miner = TemplateMiner(config=config)
t0 = time.perf_counter()
with open(sys.argv[1], encoding="utf-8") as f:
    for line in f:
        miner.add_log_message(line.rstrip("\n"))
elapsed = time.perf_counter() - t0
print(json.dumps({"seconds": elapsed, "rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  "templates": len(miner.drain.clusters)}))
'''


def run_worker(python: str | Path, code: str, *args: str) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(code)
    try:
        out = subprocess.run([str(python), f.name, *args], check=True, capture_output=True, text=True).stdout
    finally:
        os.unlink(f.name)
    return json.loads(out.strip().splitlines()[-1])


SORT_WORKER = r'''
import json, os, resource, subprocess, sys, time
t0 = time.perf_counter()
out = subprocess.run(["bash", "-c", "sed 's/[0-9][0-9]*/N/g' \"$1\" | sort | uniq -c | sort -rn | wc -l", "_",
                      sys.argv[1]], check=True, capture_output=True, text=True,
                     env={**os.environ, "LC_ALL": "C"}).stdout
elapsed = time.perf_counter() - t0
print(json.dumps({"seconds": elapsed, "rss_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
                  "templates": int(out.strip())}))
'''


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, nargs="+", default=[1_000_000],
                    help="input sizes, e.g. --lines 1000000 5000000 (peak RSS side by side)")
    ap.add_argument("--keep", type=Path, help="write the generated file here and keep it (one size only)")
    ap.add_argument("--no-drain3", action="store_true", help="skip Drain3 (no bench/.venv-drain3)")
    ap.add_argument("--no-sort", action="store_true", help="skip the sed | sort | uniq -c pipeline")
    ap.add_argument("--baseline-commit", help="also run infraleash as of this git commit (before/after)")
    args = ap.parse_args()
    rss: dict[str, list[tuple[int, float]]] = {}
    for lines in args.lines:
        rows, n = run_size(args, lines)
        for name, r in rows:
            rss.setdefault(name, []).append((n, r["rss_kb"] / 1024))
    if len(args.lines) > 1:
        print()
        print("Peak RSS (MB) by input size:")
        sizes = [n for n, _ in next(iter(rss.values()))]
        print("| tool | " + " | ".join(f"{n:,} lines" for n in sizes) + " | largest / smallest |")
        print("|---|" + "---:|" * (len(sizes) + 1))
        for name, points in rss.items():
            values = [mb for _, mb in points]
            print(f"| {name} | " + " | ".join(f"{mb:,.0f}" for mb in values) + f" | {values[-1] / values[0]:.2f}x |")


def run_size(args: argparse.Namespace, lines: int) -> tuple[list[tuple[str, dict[str, float]]], int]:
    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "incident.log"
        n = generate(path, lines)
        size_mb = path.stat().st_size / 1e6
        print(f"input: {n:,} lines, {size_mb:,.0f} MB ({path.name}); load average {os.getloadavg()[0]:.1f}")
        ours = run_worker(sys.executable, OURS_WORKER, str(path), str(REPO / "src"))
        rows = [("infraleash `analyze` (read, time, group, mine, anomalies)", ours)]
        if args.baseline_commit:
            old = Path(tmp) / "baseline"
            old.mkdir()
            archive = subprocess.run(["git", "-C", str(REPO), "archive", args.baseline_commit, "src"],
                                     check=True, capture_output=True).stdout
            subprocess.run(["tar", "-x", "-C", str(old)], input=archive, check=True)
            rows.append((f"infraleash `analyze` at {args.baseline_commit}",
                         run_worker(sys.executable, OURS_WORKER, str(path), str(old / "src"))))
        if not args.no_drain3:
            rows.append(("Drain3 defaults (`add_log_message` per line, mining only)",
                         run_worker(ensure_drain3(), DRAIN_WORKER, str(path))))
        if not args.no_sort:
            rows.append(("`sed` digit mask + `sort | uniq -c` (LC_ALL=C)",
                         run_worker(sys.executable, SORT_WORKER, str(path))))
    print(f"infraleash: {ours['records']:,} records, {ours['templates']} templates, {ours['bursts']} bursts, "
          f"{ours['trends']} trends")
    print()
    print("| tool | seconds | lines/s | peak RSS MB | templates / groups | time vs infraleash |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, r in rows:
        print(f"| {name} | {r['seconds']:.1f} | {n / r['seconds']:,.0f} | {r['rss_kb'] / 1024:,.0f} | "
              f"{int(r['templates']):,} | {r['seconds'] / ours['seconds']:.2f}x |")
    print()
    return rows, n


if __name__ == "__main__":
    main()
