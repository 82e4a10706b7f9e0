"""A synthetic incident on Kubernetes, written by the tests (no fixture files), analysed with
``--since 02:00:00 --until 02:30:00``.

- ``checkout.jsonl``: ECS-style nested JSON (``@timestamp``, ``log.level``, ``host.name``,
  ``kubernetes.pod.name``, ``service.name``, ``jvm.heap_used_mb``) from three pods on three nodes, from 01:20
  (before the window) to 02:30. Every 30 s each pod logs its heap; on ip-10-0-1-23 it rests at 512..514 MB
  until 01:55:00 and then climbs 6 MB per sample: the climb starts five minutes before ``--since``. From
  02:12:07 the connection pool times out every 5 s on ip-10-0-1-23 (40 times) and every 20 s on
  ip-10-0-1-31 (12 times); the records name their host only in the nested ``host.name`` field.
- ``events.json``: ``kubectl get events -o json``: readiness probe failures on the pod of ip-10-0-1-23
  (Warning Unhealthy, first 02:14:00, last 02:18:00, count 9), a BackOff at 02:19:30 (count 4), one Normal
  event at 02:01:00.
- ``payments.log``: logfmt, info only, every 20 s: "no errors and no warnings" can be said of it.
- ``worker.log``: lines without timestamps: nothing can be said about its errors in the window.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

SINCE = datetime(2026, 11, 24, 2, 0, 0, tzinfo=UTC)
UNTIL = SINCE + timedelta(minutes=30)
FIRST = SINCE - timedelta(minutes=40)
CLIMB_START = datetime(2026, 11, 24, 1, 55, 0, tzinfo=UTC)
HEAP_EVERY = 30
CLIMB_HOST = "ip-10-0-1-23"
PODS = {"ip-10-0-1-17": "checkout-5d8f7-2kqxz", "ip-10-0-1-23": "checkout-5d8f7-9vbrt",
        "ip-10-0-1-31": "checkout-5d8f7-tx4lm"}
POOL_FIRST = datetime(2026, 11, 24, 2, 12, 7, tzinfo=UTC)
POOL_COUNTS = {"ip-10-0-1-23": 40, "ip-10-0-1-31": 12}
POOL_EVERY = {"ip-10-0-1-23": 5, "ip-10-0-1-31": 20}
UNHEALTHY_FIRST = datetime(2026, 11, 24, 2, 14, 0, tzinfo=UTC)
BACKOFF_FIRST = datetime(2026, 11, 24, 2, 19, 30, tzinfo=UTC)


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def _checkout(t: datetime, host: str, level: str, message: str, **extra: object) -> tuple[datetime, str]:
    obj = {"@timestamp": _iso(t), "log.level": level, "message": message, "host": {"name": host},
           "kubernetes": {"pod": {"name": PODS[host]}, "namespace": "shop"}, "service": {"name": "checkout"},
           **extra}
    return t, json.dumps(obj)


def heap_mb(host: str, t: datetime) -> int:
    k = int((t - FIRST).total_seconds()) // HEAP_EVERY
    if host == CLIMB_HOST and t > CLIMB_START:
        return 512 + 6 * int((t - CLIMB_START).total_seconds() // HEAP_EVERY)
    return 512 + k % 3


def write_incident(directory: Path) -> list[Path]:
    """Write the four inputs into ``directory``; returns (checkout, events, payments, worker)."""
    checkout: list[tuple[datetime, str]] = []
    t = FIRST
    n = 0
    while t <= UNTIL:
        for host in PODS:
            checkout.append(_checkout(t, host, "info", "heap status", jvm={"heap_used_mb": heap_mb(host, t)}))
            checkout.append(_checkout(t + timedelta(seconds=7), host, "info",
                                      f"order {40000 + 3 * n} placed in {18 + n % 23} ms"))
        n += 1
        t += timedelta(seconds=HEAP_EVERY)
    for host, count in POOL_COUNTS.items():
        for i in range(count):
            at = POOL_FIRST + timedelta(seconds=POOL_EVERY[host] * i)
            checkout.append(_checkout(at, host, "error", "HikariPool-1 - Connection is not available, request "
                                      "timed out after 30000ms.", error={"type": "SQLTransientConnectionException"}))
    checkout.sort(key=lambda x: x[0])

    def event(reason: str, kind: str, first: datetime, last: datetime, count: int, message: str, node: str,
              pod: str) -> dict[str, object]:
        return {"apiVersion": "v1", "kind": "Event", "count": count, "type": kind, "reason": reason,
                "firstTimestamp": first.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "lastTimestamp": last.strftime("%Y-%m-%dT%H:%M:%SZ"), "message": message,
                "involvedObject": {"kind": "Pod", "name": pod, "namespace": "shop", "fieldPath": "spec.containers{app}"},
                "metadata": {"name": f"{pod}.{count:x}", "namespace": "shop"},
                "source": {"component": "kubelet", "host": node}}

    events = {"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": [
        event("Pulled", "Normal", SINCE + timedelta(minutes=1), SINCE + timedelta(minutes=1), 1,
              'Container image "shop/checkout:1.42.0" already present on machine', "ip-10-0-1-17",
              PODS["ip-10-0-1-17"]),
        event("Unhealthy", "Warning", UNHEALTHY_FIRST, UNHEALTHY_FIRST + timedelta(minutes=4), 9,
              "Readiness probe failed: HTTP probe failed with statuscode: 503", CLIMB_HOST, PODS[CLIMB_HOST]),
        event("BackOff", "Warning", BACKOFF_FIRST, BACKOFF_FIRST + timedelta(minutes=3), 4,
              "Back-off restarting failed container app in pod " + PODS[CLIMB_HOST], CLIMB_HOST,
              PODS[CLIMB_HOST]),
    ]}

    payments = []
    t = SINCE + timedelta(seconds=3)
    n = 0
    while t <= UNTIL:
        payments.append(f'time={_iso(t)} level=info msg="payment captured" service=payments host=pay-1 '
                        f"amount={(n * 37) % 500}.00 currency=EUR latency_ms={40 + n % 17}")
        t += timedelta(seconds=20)
        n += 1

    worker = [f"processing batch {b} of 500 items ok" for b in range(1, 61)]

    paths = [directory / "checkout.jsonl", directory / "events.json", directory / "payments.log",
             directory / "worker.log"]
    paths[0].write_text("\n".join(line for _, line in checkout) + "\n", encoding="utf-8")
    paths[1].write_text(json.dumps(events, indent=4) + "\n", encoding="utf-8")
    paths[2].write_text("\n".join(payments) + "\n", encoding="utf-8")
    paths[3].write_text("\n".join(worker) + "\n", encoding="utf-8")
    return paths
