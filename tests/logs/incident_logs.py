"""A synthetic multi-service incident, written by the tests (no fixture files).

Window 2026-11-24 02:00:00 .. 02:25:00 UTC, three services in three formats:

- ``api.log`` (Log4j text, hosts h1..h3 tagged ``host=hN``): a request line per host every 10 s and a
  heap line per host every 30 s.  On h2 the heap climbs 400MB -> 800MB (8MB per sample, 51 samples);
  on h1 and h3 it stays at 512..514MB.  From 02:17:33, h2 logs connection-pool exhaustion every 4 s,
  87 times (last 02:23:17), each with a Java stack trace on continuation lines.
- ``db.log`` (JSON lines, host db1): a query line every 15 s; 2 or 3 s after each of the first 40 pool
  exhaustions, a statement timeout at level error (first 02:17:35, last 02:20:12).
- ``payment-service.log`` (``kubectl logs --timestamps --prefix``): healthy, info only, every 20 s.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

START = datetime(2026, 11, 24, 2, 0, 0, tzinfo=UTC)
END = START + timedelta(minutes=25)
POOL_FIRST = datetime(2026, 11, 24, 2, 17, 33, tzinfo=UTC)
POOL_COUNT = 87
POOL_EVERY = 4
POOL_LAST = POOL_FIRST + timedelta(seconds=POOL_EVERY * (POOL_COUNT - 1))
TIMEOUT_COUNT = 40
TIMEOUT_FIRST = POOL_FIRST + timedelta(seconds=2)
TIMEOUT_LAST = POOL_FIRST + timedelta(seconds=POOL_EVERY * (TIMEOUT_COUNT - 1) + 3)
HEAP_SAMPLES = 51


def _log4j(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S,") + f"{t.microsecond // 1000:03d}"


def _seconds(every: int, offset: int = 0) -> list[datetime]:
    out, t = [], START + timedelta(seconds=offset)
    while t <= END:
        out.append(t)
        t += timedelta(seconds=every)
    return out


def write_incident(directory: Path) -> list[Path]:
    """Write the three logs into ``directory`` and return their paths (api, db, payment-service)."""
    api: list[tuple[datetime, str]] = []
    for n, t in enumerate(_seconds(10)):
        for h in (1, 2, 3):
            api.append((t, f"{_log4j(t)} INFO [http-nio-{h}] host=h{h} GET /orders/{1000 + 7 * n + h} "
                           f"200 in {20 + (n * h) % 37}ms"))
    for k, t in enumerate(_seconds(30)):
        for h in (1, 2, 3):
            heap = 400 + 8 * k if h == 2 else 512 + (k % 3)
            api.append((t, f"{_log4j(t)} INFO [monitor] host=h{h} heap used {heap}MB of 2048MB"))
    for i in range(POOL_COUNT):
        t = POOL_FIRST + timedelta(seconds=POOL_EVERY * i)
        api.append((t, f"{_log4j(t)} ERROR [http-nio-2] host=h2 HikariPool-1 - Connection is not available, "
                       f"request timed out after 30000ms.\n"
                       "java.sql.SQLTransientConnectionException: HikariPool-1 - Connection is not available\n"
                       "\tat com.zaxxer.hikari.pool.HikariPool.createTimeoutException(HikariPool.java:696)\n"
                       "\tat com.example.orders.OrderRepository.find(OrderRepository.java:42)"))
    api.sort(key=lambda x: x[0])

    db: list[tuple[datetime, str]] = []
    for n, t in enumerate(_seconds(15, 5)):
        db.append((t, json.dumps({"ts": t.isoformat().replace("+00:00", "Z"), "level": "info",
                                  "msg": f"query ok in {3 + n % 9}ms", "host": "db1"})))
    for i in range(TIMEOUT_COUNT):
        t = POOL_FIRST + timedelta(seconds=POOL_EVERY * i + (2 if i % 2 == 0 else 3))
        db.append((t, json.dumps({"ts": t.isoformat().replace("+00:00", "Z"), "level": "error",
                                  "msg": "canceling statement due to statement timeout", "host": "db1"})))
    db.sort(key=lambda x: x[0])

    pay = [f"[pod/payment-7f9c/app] {t.strftime('%Y-%m-%dT%H:%M:%S.000000000Z')} payment {9000 + n} captured "
           f"amount={(n * 37) % 500}.00 EUR" for n, t in enumerate(_seconds(20, 3))]

    paths = [directory / "api.log", directory / "db.log", directory / "payment-service.log"]
    paths[0].write_text("\n".join(line for _, line in api) + "\n", encoding="utf-8")
    paths[1].write_text("\n".join(line for _, line in db) + "\n", encoding="utf-8")
    paths[2].write_text("\n".join(pay) + "\n", encoding="utf-8")
    return paths
