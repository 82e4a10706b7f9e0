"""The synthetic multi-service incident (see incident_logs.py) and bad input next to it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infraleash.logs.analysis import LogAnalysis, analyze, line_templates

from .incident_logs import (
    END,
    HEAP_SAMPLES,
    POOL_COUNT,
    POOL_FIRST,
    POOL_LAST,
    START,
    TIMEOUT_COUNT,
    TIMEOUT_FIRST,
    TIMEOUT_LAST,
    write_incident,
)

POOL = "Connection is not available"
TIMEOUT = "canceling statement due to statement timeout"


@pytest.fixture(scope="module")
def incident(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], LogAnalysis]:
    paths = write_incident(tmp_path_factory.mktemp("incident"))
    return paths, analyze(paths)


def test_window_sources_and_multiline_records(incident: tuple[list[Path], LogAnalysis]) -> None:
    _, a = incident
    assert (a.window_start, a.window_end, a.bucket_seconds) == (START, END, 60)
    assert a.problems == []
    assert [(s.source.rsplit("/", 1)[1], s.timestamp_format) for s in a.sources] == [
        ("api.log", "log4j"), ("db.log", "json"), ("payment-service.log", "iso8601")]
    # each pool exhaustion is one record although it spans four lines (stack trace)
    api = a.sources[0]
    assert api.lines - api.records == 3 * POOL_COUNT


def test_the_burst_is_found_with_exact_times_counts_and_host(incident: tuple[list[Path], LogAnalysis]) -> None:
    _, a = incident
    pool = [b for b in a.bursts if POOL in b.template]
    assert len(pool) == 1
    (b,) = pool
    assert (b.start, b.end, b.count, b.origins, b.baseline) == (POOL_FIRST, POOL_LAST, POOL_COUNT, {"h2": 87}, 0)
    (t,) = [b for b in a.bursts if b.template == TIMEOUT]
    assert (t.start, t.end, t.count) == (TIMEOUT_FIRST, TIMEOUT_LAST, TIMEOUT_COUNT)
    assert len(a.bursts) == 2  # steady traffic does not burst


def test_the_lead_lag_correlation(incident: tuple[list[Path], LogAnalysis]) -> None:
    _, a = incident
    (c,) = a.correlations
    assert POOL in c.leader and c.follower == TIMEOUT
    assert (c.leader_first, c.leader_count, c.follower_first, c.follower_count) == (
        POOL_FIRST, POOL_COUNT, TIMEOUT_FIRST, TIMEOUT_COUNT)
    assert (c.lag_low, c.lag_high, c.matched) == (2, 3, TIMEOUT_COUNT)
    assert "starts 02:17:33, 87 occurrences" in c.summary and "follows 2–3 s later" in c.summary


def test_the_climbing_memory_series_on_one_host(incident: tuple[list[Path], LogAnalysis]) -> None:
    _, a = incident
    (trend,) = a.trends
    assert trend.template == "[monitor] heap used <*> of <*>" and trend.position == 0
    assert (trend.origin, trend.direction, trend.points) == ("h2", "up", HEAP_SAMPLES)
    assert (trend.first_seen, trend.last_seen, trend.first_value, trend.last_value) == (START, END, 400, 800)
    assert trend.slope_per_minute == 16.0
    assert (trend.name, trend.unit, trend.started, trend.started_value) == ("heap used", "MB", START, 400)
    assert trend.started_at_input_start and not trend.started_before_window  # no --since: no look-back


def test_the_timeline_in_order(incident: tuple[list[Path], LogAnalysis]) -> None:
    _, a = incident
    pool = "[http-nio-<*>] HikariPool-<*> - Connection is not available, request timed out after <*>."
    got = [(e.time, e.kinds, e.subject, e.count, e.origins) for e in a.timeline]
    assert got == [
        (START, ["trend"], "[monitor] heap used <*> of <*>", HEAP_SAMPLES, {"h2": HEAP_SAMPLES}),
        (POOL_FIRST, ["error_onset"], "api", POOL_COUNT, {"h2": POOL_COUNT}),
        (POOL_FIRST, ["new_template", "burst"], pool, POOL_COUNT, {"h2": POOL_COUNT}),
        (TIMEOUT_FIRST, ["error_onset"], "db", TIMEOUT_COUNT, {"db1": TIMEOUT_COUNT}),
        (TIMEOUT_FIRST, ["new_template", "burst"], TIMEOUT, TIMEOUT_COUNT, {"db1": TIMEOUT_COUNT}),
    ]


def test_new_templates_error_rates_and_negative_facts(incident: tuple[list[Path], LogAnalysis]) -> None:
    paths, a = incident
    assert [(n.first_seen, n.count, n.location) for n in a.new_templates] == [
        (POOL_FIRST, POOL_COUNT, f"{paths[0]}:427"), (TIMEOUT_FIRST, TIMEOUT_COUNT, f"{paths[1]}:72")]
    assert [(r.service, r.errors, r.error_onset) for r in a.rates] == [
        ("api", POOL_COUNT, POOL_FIRST), ("db", TIMEOUT_COUNT, TIMEOUT_FIRST), ("payment-service", 0, None)]
    facts = {f.kind: f.message for f in a.negative_facts}
    assert facts["no_errors"].startswith("no errors and no warnings from payment-service in this window")
    assert facts["not_on"].endswith("only on h2; none on h1, h3")
    assert set(facts) == {"no_errors", "not_on"}


def test_the_analysis_is_json_serialisable(incident: tuple[list[Path], LogAnalysis]) -> None:
    _, a = incident
    data = json.loads(a.model_dump_json())
    assert data["correlations"][0]["lag_low"] == 2 and data["bursts"][0]["start"] == "2026-11-24T02:17:33Z"


def test_since_until_narrow_the_window(incident: tuple[list[Path], LogAnalysis]) -> None:
    paths, _ = incident
    a = analyze(paths, since=POOL_FIRST, until=TIMEOUT_LAST)
    assert (a.window_start, a.window_end) == (POOL_FIRST, TIMEOUT_LAST)
    pool = next(t for t in a.templates if POOL in t.template)
    assert pool.count == 40  # 02:17:33 + 4 s * 39 = 02:20:09 is the last one up to 02:20:12


def test_bad_inputs_are_reported_and_the_good_ones_still_analysed(tmp_path: Path,
                                                                 incident: tuple[list[Path], LogAnalysis]) -> None:
    paths, full = incident
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(bytes(range(256)) * 100)
    huge = tmp_path / "huge.log"
    huge.write_bytes(b"2026-11-24 02:10:00,000 INFO " + b"A" * (10 * 1024 * 1024) + b"\n")
    mixed = tmp_path / "mixed.log"
    mixed.write_bytes("2026-11-24 02:10:01,000 INFO résumé\n".encode() + "2026-11-24 02:10:02,000 INFO résumé\n"
                      .encode("latin-1"))
    untimed = tmp_path / "untimed.log"
    untimed.write_text("worker started\nworker idle\n")
    empty = tmp_path / "empty.log"
    empty.write_text("")
    missing = tmp_path / "missing.log"
    a = analyze([garbage, huge, mixed, untimed, empty, missing, *paths])
    kinds = {(Path(p.source).name, p.kind) for p in a.problems}
    assert kinds == {("garbage.bin", "binary"), ("huge.log", "long_line"), ("mixed.log", "encoding"),
                     ("untimed.log", "no_timestamps"), ("empty.log", "empty"), ("missing.log", "missing")}
    assert [s.analyzed for s in a.sources] == [False, True, True, True, False, False, True, True, True]
    # the incident is still found in full
    pool = next(b for b in a.bursts if POOL in b.template)
    assert (pool.start, pool.count) == (POOL_FIRST, POOL_COUNT)
    assert a.correlations[0].summary == full.correlations[0].summary
    assert sum(t.count for t in a.templates if t.template.startswith("worker")) == 2


def test_line_templates_number_every_line_from_one(tmp_path: Path) -> None:
    p = tmp_path / "hdfs.log"
    p.write_text("081109 203615 148 INFO dfs.DataNode: Receiving block blk_1 src: /10.0.0.1:5 dest: /10.0.0.2:6\n"
                 "081109 203616 149 INFO dfs.DataNode: Receiving block blk_2 src: /10.0.0.3:7 dest: /10.0.0.4:8\n"
                 "081109 203617 150 INFO dfs.DataNode: Deleting block blk_3\n")
    rows, source = line_templates(p, "<Date> <Time> <Pid> <Level> <Component>: <Content>")
    got = [(r["line"], r["template"]) for r in rows]
    assert [n for n, _ in got] == [1, 2, 3]
    assert got[0][1] == got[1][1] and "<*>" in got[0][1] and got[2][1] != got[0][1]
    assert source.problems == []
