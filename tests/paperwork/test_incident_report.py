"""`incident report` on a synthetic multi-service incident: timeline times and counts, and a customer update
with none of the planted host names, IPs, service names, secrets or stack traces."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from infraleash.logs.analysis import analyze
from infraleash.paperwork.incident_report import IncidentFacts, customer_update, rca_markdown, scrub

sys.path.insert(0, str(Path(__file__).parent))
import incident_logs as planted  # noqa: E402

PLANTED = [*planted.HOSTS, *planted.IPS, *planted.SERVICES, *planted.SECRETS, "Traceback", "/srv/checkout/db.py",
           "10.12.4.18"]
NOW = datetime(2026, 12, 3, 2, 40, tzinfo=UTC)


@pytest.fixture(scope="module")
def facts(tmp_path_factory: pytest.TempPathFactory) -> IncidentFacts:
    paths = planted.write(tmp_path_factory.mktemp("incident"))
    return IncidentFacts.from_logs(paths, analyze(paths))


def test_rca_timeline_has_exact_times_and_counts(facts: IncidentFacts) -> None:
    rca = rca_markdown(facts, severity=2)
    assert rca.startswith("# Incident RCA draft (sev2)")
    rows = [line for line in rca.splitlines() if line.startswith("| 02:")]
    assert "| 02:15:00 | new_template, burst: checkout-api could not connect to payments-db at <*>:<*> (<*>): " \
           "connection refused | 360 | checkout-api |" in rows
    assert any(r.startswith("| 02:15:00 | new_template: payments-db primary <*> stopped: disk full") and
               r.endswith("| 1 | payments-db |") for r in rows)
    assert any(r.startswith("| 02:27:00 | new_template: payments-db failover complete") for r in rows)
    assert "2026-12-03 02:15:00 – 02:26:58 UTC (11 min)" in rca
    assert "**Hypothesis**: payments-db primary <*> stopped: disk full" in rca
    assert "no errors from edge-proxy in this window" in rca  # ruled out
    assert planted.PASSWORD not in rca and planted.AWS_KEY not in rca  # internal, but never secrets


def test_customer_update_has_no_planted_item(facts: IncidentFacts) -> None:
    update = customer_update(facts, severity=2, now=NOW)
    assert "(severity 2)" in update
    assert "between 02:15 and 02:26 UTC on 2026-12-03" in update
    assert "the errors stopped at 02:26 UTC" in update and "**Next update:** by 03:40 UTC" in update
    for item in PLANTED:
        assert item.lower() not in update.lower(), item


def test_scrub_withholds_every_planted_item_in_free_text(facts: IncidentFacts) -> None:
    leaky = ("checkout-api on checkout-7f9c.prod.internal (10.12.8.33) lost payments-db at 10.12.4.17:5432; "
             f"key {planted.AWS_KEY}, password={planted.PASSWORD}. Traceback (most recent call last): "
             'File "/srv/checkout/db.py", line 88. The edge-proxy recovered.')
    clean = scrub(leaky, facts.denylist)
    for item in PLANTED:
        assert item.lower() not in clean.lower(), item
    assert "lost" in clean and "[withheld]" in clean
