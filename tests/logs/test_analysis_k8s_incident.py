"""The Kubernetes incident of incident_k8s.py, analysed with --since/--until: a climb that began before the
window, a variable named from its JSON key, hosts from nested fields, Kubernetes events on the timeline, and
no negative fact about a source whose records could not be placed in time."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from infraleash.logs.analysis import LogAnalysis, analyze

from .incident_k8s import (
    BACKOFF_FIRST,
    CLIMB_HOST,
    CLIMB_START,
    HEAP_EVERY,
    POOL_COUNTS,
    POOL_FIRST,
    SINCE,
    UNHEALTHY_FIRST,
    UNTIL,
    heap_mb,
    write_incident,
)

POOL = "HikariPool-<*> - Connection is not available, request timed out after <*>."


@pytest.fixture(scope="module")
def incident(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], LogAnalysis]:
    paths = write_incident(tmp_path_factory.mktemp("k8s"))
    return paths, analyze(paths, since=SINCE, until=UNTIL)


def test_the_heap_climb_is_reported_from_when_it_started_before_since(
        incident: tuple[list[Path], LogAnalysis]) -> None:
    _, a = incident
    (trend,) = a.trends
    assert (trend.origin, trend.direction, trend.name, trend.unit) == (CLIMB_HOST, "up", "jvm.heap_used_mb", "MB")
    assert abs((trend.started - CLIMB_START).total_seconds()) <= HEAP_EVERY  # within one sample
    assert trend.started == CLIMB_START and trend.started_before_window and not trend.started_at_input_start
    assert (trend.started_value, trend.last_value) == (heap_mb(CLIMB_HOST, CLIMB_START), heap_mb(CLIMB_HOST, UNTIL))
    assert a.lookback_start == SINCE - timedelta(minutes=30) and a.lookback_records > 0
    assert a.window_start >= SINCE  # the look-back counts for the trend only
    (event,) = [e for e in a.timeline if e.kinds == ["trend"]]
    assert event.time == CLIMB_START and "jvm.heap_used_mb up on ip-10-0-1-23 from 01:55:00 (513 MB) to 932 MB at 02:30:00" in event.detail
    assert "began before --since" in event.detail


def test_pool_errors_are_attributed_to_the_hosts_in_the_nested_json(incident: tuple[list[Path], LogAnalysis]) -> None:
    _, a = incident
    (att,) = [x for x in a.attributions if x.template.startswith(POOL)]
    assert att.origins == POOL_COUNTS and att.count == sum(POOL_COUNTS.values())
    (checkout,) = [r for r in a.rates if r.source.endswith("checkout.jsonl")]
    assert checkout.service == "checkout" and checkout.error_origins == POOL_COUNTS
    assert checkout.error_onset == POOL_FIRST
    assert not any("checkout.jsonl" in o for t in a.templates for o in t.origins)  # never the file name


def test_kubernetes_warning_events_are_on_the_timeline(incident: tuple[list[Path], LogAnalysis]) -> None:
    _, a = incident
    warnings = [(e.time, e.subject.split(":")[0], e.count) for e in a.timeline if "k8s_warning" in e.kinds]
    assert warnings == [(UNHEALTHY_FIRST, "Unhealthy Pod/checkout-5d8f7-9vbrt", 9),
                        (BACKOFF_FIRST, "BackOff Pod/checkout-5d8f7-9vbrt", 4)]
    (unhealthy,) = [e for e in a.timeline if e.kinds == ["k8s_warning"]]
    assert unhealthy.origins == {CLIMB_HOST: 9} and "9x, last 02:18:00" in unhealthy.detail
    assert not any(f.kind == "silent" and f.subject.endswith("events.json") for f in a.negative_facts)


def test_no_negative_fact_about_a_source_without_timestamps(incident: tuple[list[Path], LogAnalysis]) -> None:
    _, a = incident
    worker = [f for f in a.negative_facts if "worker" in f.subject]
    assert [f.kind for f in worker] == ["not_judged"]
    assert "60 record(s) have no timestamp" in worker[0].message
    assert not any(f.kind == "no_errors" and "worker" in f.subject for f in a.negative_facts)
    payments = [f.message for f in a.negative_facts if f.kind == "no_errors" and f.subject == "payments"]
    assert payments == ["no errors and no warnings from payments in this window (2026-11-24 02:00:00–02:30:00 UTC; "
                        "90 records)"]


def test_without_since_an_untimed_source_is_not_judged_either(tmp_path: Path) -> None:
    paths = write_incident(tmp_path)
    a = analyze([paths[3], paths[2]])
    assert [(f.kind, f.subject) for f in a.negative_facts if f.kind in ("no_errors", "not_judged")] == [
        ("no_errors", "payments"), ("not_judged", "worker")]
    (fact,) = [f for f in a.negative_facts if f.kind == "not_judged"]
    assert "60 record(s) of" in fact.message and "have no timestamp and could not be placed" in fact.message
