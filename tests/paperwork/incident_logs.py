"""A synthetic multi-service incident: the payments database fails over at 02:15, checkout errors follow.

Planted (the customer update must contain none of them): host names, IPs, internal service names, an AWS
access key, a database password and a Python stack trace.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

START = datetime(2026, 12, 3, 2, 0, 0)
ONSET = datetime(2026, 12, 3, 2, 15, 0)
RECOVERY = datetime(2026, 12, 3, 2, 27, 0)
HOSTS = ["pay-db-primary-1.prod.internal", "checkout-7f9c.prod.internal", "edge-lb-2.prod.internal"]
IPS = ["10.12.4.17", "10.12.8.33", "172.31.9.200"]
SERVICES = ["checkout-api", "payments-db", "edge-proxy"]
AWS_KEY = "AKIAIOSFODNN7EXAMPLE"
PASSWORD = "Hunt3r2-prod-pw"
SECRETS = [AWS_KEY, PASSWORD]
CHECKOUT_ERRORS = 12 * 30  # one every 2 s from 02:15 to 02:27
DB_FAILOVER_LINES = 1


def ts(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def write(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    checkout, db, edge = [], [], []
    t = START
    while t < START + timedelta(minutes=40):
        checkout.append(f"{ts(t)} INFO checkout-api host=checkout-7f9c.prod.internal order placed in 41 ms")
        edge.append(f"{ts(t)} INFO edge-proxy 10.12.8.33 GET /api/checkout 200 upstream=checkout-api")
        if ONSET <= t < RECOVERY and (t - ONSET).seconds % 2 == 0:
            checkout.append(f"{ts(t)} ERROR checkout-api could not connect to payments-db at "
                            f"10.12.4.17:5432 (pay-db-primary-1.prod.internal): connection refused")
            edge.append(f"{ts(t)} WARN edge-proxy 172.31.9.200 POST /api/pay 502 upstream=checkout-api")
        if t.second == 0 and t.minute % 5 == 0:
            db.append(f"{ts(t)} INFO payments-db checkpoint complete on pay-db-primary-1.prod.internal")
        t += timedelta(seconds=1)
    db.append(f"{ts(ONSET)} FATAL payments-db primary pay-db-primary-1.prod.internal stopped: disk full; "
              f"failover started (admin password={PASSWORD})")
    db.append(f"{ts(RECOVERY)} INFO payments-db failover complete, new primary 10.12.4.18 accepting connections")
    checkout.append(f"{ts(ONSET + timedelta(seconds=1))} ERROR checkout-api Traceback (most recent call last): "
                    f'File "/srv/checkout/db.py", line 88, in connect aws_access_key_id={AWS_KEY}')
    paths = []
    for name, lines in (("checkout-api.log", checkout), ("payments-db.log", sorted(db)), ("edge-proxy.log", edge)):
        p = directory / name
        p.write_text("\n".join(lines) + "\n", encoding="utf-8")
        paths.append(p)
    return paths
