from __future__ import annotations

from datetime import UTC, datetime

from infraleash.logs.records import LogRecord
from infraleash.logs.series import MAX_POINTS, Collector, NumericSeries, numeric_value, remap_position


def _record(second: int, host: str, level: str = "info") -> LogRecord:
    t = datetime.fromtimestamp(1795486653 + second, tz=UTC)
    return LogRecord("app.log", second + 1, t, level, host, None, "app", "x", "x")


def test_numeric_value_strips_units() -> None:
    assert [numeric_value(v) for v in ("512", "512MB", "3.5s", "97%", "abc", "nan")] == [
        512.0, 512.0, 3.5, 97.0, None, None]


def test_series_are_decimated_to_a_bound_but_keep_the_last_point() -> None:
    s = NumericSeries(0, 0, "h1", "number", "t <*>")
    for i in range(10_000):
        s.add(float(i), float(i))
    pts = s.all_points()
    assert len(pts) <= MAX_POINTS + 1 and s.seen == 10_000
    assert pts[0] == (0.0, 0.0) and pts[-1] == (9999.0, 9999.0)


def test_remap_position_follows_a_merge_that_adds_a_variable_in_front() -> None:
    old, new = "[monitor] host=h2 heap <*> of <*>", "[monitor] host=<*> heap <*> of <*>"
    assert remap_position(old, new, 0) == 1 and remap_position(old, new, 1) == 2
    assert remap_position("a <*>:<*> b", "a <*> b", 1) == 0  # a token that became one variable


def test_collector_counts_origins_levels_and_regroups_merged_templates() -> None:
    c = Collector()
    c.add(_record(0, "h1"), 1, "heap <*>", lambda: [("size", "400MB")])
    c.add(_record(5, "h2", "error"), 2, "heap <*>", lambda: [("size", "410MB")])
    c.add(_record(5, "h2", "error"), 2, "heap <*>", lambda: [("id", "abc123")])
    c.regroup(lambda tid: 1, lambda tid: "heap <*>")
    (ts,) = c.templates.values()
    assert ts.count == 3 and dict(ts.origins) == {"h1": 1, "h2": 2} and ts.level == "error"
    assert dict(ts.origins_between(1795486653 + 1, 1795486653 + 10)) == {"h2": 2}
    assert sorted((k[2], s.seen) for k, s in c.numeric.items()) == [("h1", 1), ("h2", 1)]
    assert c.sources["app.log"].errors == 2
