"""The approval server under concurrent load, SQLite side by side with PostgreSQL.

Same run, same machine, same client: a real ``infraleash server run`` process on each database (SQLite
file; PostgreSQL from tests/server/pg.py, Debian's binaries), one agent token and --approvers approver
tokens, then over HTTP (httpx, one client per thread):

  create   --agents threads POST /requests until --requests exist
  decide   --approvers threads approve every request (POST /requests/{id}/decision)
  claim    --agents threads claim every request (POST /requests/{id}/claim)

Prints requests/s and p50/p99 latency per operation per database, and the PostgreSQL/SQLite ratio.
Every response must be 201/200: any other status aborts the run.

    .venv/bin/python bench/approval_server.py [--agents 50] [--approvers 10] [--requests 1000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

# tests/server holds the PostgreSQL and server-process helpers (a site-packages "tests" shadows the name).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from infraleash.server.db import make_engine, migrate, session_factory  # noqa: E402
from infraleash.server.tokens import add_principal, create_token  # noqa: E402
from server.pg import PostgresServer  # noqa: E402
from server.serverproc import ServerProcess  # noqa: E402

PLAN = "e" * 64
OPS = ("create", "decide", "claim")


def tokens(url: str, approvers: int) -> tuple[str, list[str]]:
    migrate(url)
    engine = make_engine(url)
    with session_factory(engine)() as s:
        agent = create_token(s, add_principal(s, "bench-agent", "agent"), "bench")[1]
        deciders = [create_token(s, add_principal(s, f"approver{i}", "approver"), "bench")[1]
                    for i in range(approvers)]
        s.commit()
    engine.dispose()
    return agent, deciders


def run_phase(n_threads: int, items: list[int], call: Callable[[httpx.Client, int, int], None],
              tokens_for: Callable[[int], str], base: str) -> tuple[float, list[float]]:
    """Run ``call(client, thread_no, item)`` for every item on n_threads threads; wall seconds and latencies."""
    latencies: list[float] = []
    lock = threading.Lock()
    todo = iter(items)

    def worker(t: int) -> None:
        with httpx.Client(base_url=base, timeout=60,
                          headers={"Authorization": f"Bearer {tokens_for(t)}"}) as client:
            while True:
                with lock:
                    item = next(todo, None)
                if item is None:
                    return
                start = time.perf_counter()
                call(client, t, item)
                took = time.perf_counter() - start
                with lock:
                    latencies.append(took)

    start = time.perf_counter()
    with ThreadPoolExecutor(n_threads) as pool:
        list(pool.map(worker, range(n_threads)))
    return time.perf_counter() - start, latencies


def expect(resp: httpx.Response, code: int) -> httpx.Response:
    if resp.status_code != code:
        raise SystemExit(f"{resp.request.method} {resp.request.url.path}: {resp.status_code} {resp.text[:300]}")
    return resp


def bench(url: str, work: Path, args: argparse.Namespace) -> dict[str, tuple[float, float, float]]:
    agent, deciders = tokens(url, args.approvers)
    server = ServerProcess(url, work / "data", work / "server.log")
    ids: list[str] = [""] * args.requests
    try:
        def create(c: httpx.Client, _t: int, i: int) -> None:
            ids[i] = expect(c.post("/api/v1/requests", json={
                "argv": ["terraform", "apply", "tfplan"], "cwd": "/srv/app", "environment": "prod",
                "reason": f"bench {i}", "plan_sha256": PLAN}), 201).json()["id"]

        def decide(c: httpx.Client, _t: int, i: int) -> None:
            expect(c.post(f"/api/v1/requests/{ids[i]}/decision",
                          json={"decision": "approve", "comment": "bench"}), 200)

        def claim(c: httpx.Client, _t: int, i: int) -> None:
            expect(c.post(f"/api/v1/requests/{ids[i]}/claim", json={"plan_sha256": PLAN}), 200)

        items = list(range(args.requests))
        out: dict[str, tuple[float, float, float]] = {}
        for op, fn, n, tok in (("create", create, args.agents, lambda _t: agent),
                               ("decide", decide, args.approvers, lambda t: deciders[t]),
                               ("claim", claim, args.agents, lambda _t: agent)):
            wall, lat = run_phase(n, items, fn, tok, server.url)
            ms = sorted(x * 1000 for x in lat)
            out[op] = (len(ms) / wall, statistics.median(ms), ms[min(len(ms) - 1, int(len(ms) * 0.99))])
        return out
    finally:
        server.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--agents", type=int, default=50)
    ap.add_argument("--approvers", type=int, default=10)
    ap.add_argument("--requests", type=int, default=1000)
    args = ap.parse_args()
    results: dict[str, dict[str, tuple[float, float, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="infraleash-bench-") as tmp:
        work = Path(tmp)
        (work / "sqlite").mkdir()
        results["SQLite"] = bench(f"sqlite:///{work / 'sqlite' / 'server.db'}", work / "sqlite", args)
        pg = PostgresServer().start()
        try:
            (work / "pg").mkdir()
            results["PostgreSQL"] = bench(pg.create_database("bench"), work / "pg", args)
        finally:
            pg.stop()
    print(f"approval server: {args.agents} agent threads, {args.approvers} approver threads, "
          f"{args.requests} requests (create, approve, claim each)")
    print(f"{'op':<8} {'SQLite req/s':>13} {'p50 ms':>8} {'p99 ms':>8}   {'PostgreSQL req/s':>17} {'p50 ms':>8} "
          f"{'p99 ms':>8}   {'PG/SQLite req/s':>15}")
    for op in OPS:
        s, p = results["SQLite"][op], results["PostgreSQL"][op]
        print(f"{op:<8} {s[0]:>13.1f} {s[1]:>8.1f} {s[2]:>8.1f}   {p[0]:>17.1f} {p[1]:>8.1f} {p[2]:>8.1f}   "
              f"{p[0] / s[0]:>14.2f}x")


if __name__ == "__main__":
    main()
