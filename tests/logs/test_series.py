from __future__ import annotations

from datetime import UTC, datetime

from infraleash.logs.records import LogRecord
from infraleash.logs.series import MAX_POINTS, Collector, numeric_variables, remap_position


def _record(second: int, host: str, level: str = "info") -> LogRecord:
    t = datetime.fromtimestamp(1795486653 + second, tz=UTC)
    return LogRecord("app.log", second + 1, t, level, host, None, "app", "x", "x")


def test_numeric_variables_are_numbers_sizes_and_durations_not_ids_or_ips() -> None:
    template = "heap used <*> of <*> gc <*> id <*> from <*> took=<*> at <*>:<*>"
    content = "heap used 512MB of 2048MB gc 35ms id a1b2c3d4 from 10.0.0.7 took=12 at 10.0.0.1:80"
    assert numeric_variables(template, content) == [
        (0, "size", 512.0, "MB"), (1, "size", 2048.0, "MB"), (2, "duration", 35.0, "ms"), (5, "number", 12.0, None)]
    assert numeric_variables("a <*>", "a b c") == []  # not aligned: nothing


def test_a_value_and_its_unit_written_apart_are_one_quantity() -> None:
    # masking joins "1.2 GB" into one variable, so the line has one token more than the template
    assert numeric_variables("heap used <*> of <*> at <*>%", "heap used 1.2 GB of 4 GB at 30%") == [
        (0, "size", 1.2, "GB"), (1, "size", 4.0, "GB"), (2, "percent", 30.0, "%")]


def test_a_series_keeps_the_unit_of_its_first_value_and_converts_the_others() -> None:
    c = Collector()
    c.add(_record(0, "h1"), 1, "heap used <*>", "heap used 900MB")
    c.add(_record(1, "h1"), 1, "heap used <*>", "heap used 1.2 GB")
    c.add(_record(2, "h1"), 1, "heap used <*>", "heap used 15ms")  # another family: not this series
    (series,) = c.numeric.values()
    assert series.unit == "MB" and [v for _, v in series.all_points()] == [900.0, 1200.0]


def test_numeric_variables_are_sampled_to_a_bound_per_template_and_origin() -> None:
    c = Collector()
    for i in range(10_000):
        c.add(_record(i, "h1"), 3, "queue depth <*> id <*>", f"queue depth {i} id x{i}")
    c.regroup(lambda tid: tid, lambda tid: "queue depth <*> id <*>")
    (series,) = c.numeric.values()
    pts = series.all_points()
    assert MAX_POINTS // 2 <= len(pts) <= MAX_POINTS and series.seen == 10_000
    assert pts[0] == (1795486653.0, 0.0) and [v for _, v in pts] == sorted(v for _, v in pts)
    assert pts[-1][1] >= 10_000 - 64  # sampled to the end


def test_remap_position_follows_a_merge_that_adds_a_variable_in_front() -> None:
    old, new = "[monitor] host=h2 heap <*> of <*>", "[monitor] host=<*> heap <*> of <*>"
    assert remap_position(old, new, 0) == 1 and remap_position(old, new, 1) == 2
    assert remap_position("a <*>:<*> b", "a <*> b", 1) == 0  # a token that became one variable


def test_collector_counts_origins_levels_and_regroups_merged_templates() -> None:
    c = Collector()
    c.add(_record(0, "h1"), 1, "heap <*>", "heap 400MB")
    c.add(_record(5, "h2", "error"), 2, "heap <*>", "heap 410MB")
    c.add(_record(5, "h2", "error"), 2, "heap <*>", "heap abc123")
    c.regroup(lambda tid: 1, lambda tid: "heap <*>")
    (ts,) = c.templates.values()
    assert ts.count == 3 and dict(ts.origins) == {"h1": 1, "h2": 2} and ts.level == "error"
    assert dict(ts.origins_between(1795486653 + 1, 1795486653 + 10)) == {"h2": 2}
    assert sorted((k[2], s.seen, len(s.points)) for k, s in c.numeric.items()) == [("h1", 1, 1), ("h2", 2, 1)]
    assert c.sources["app.log"].errors == 2
