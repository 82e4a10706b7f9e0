from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from infraleash.logs.anomalies import (
    bucket_seconds,
    detect_bursts,
    detect_new_templates,
    detect_trends,
    find_bursts_in,
    kendall_tau,
    source_rates,
)
from infraleash.logs.records import LogRecord
from infraleash.logs.series import Collector, NumericSeries

BASE = 1795485600  # 2026-11-24 02:00:00 UTC


def at(second: int) -> datetime:
    return datetime.fromtimestamp(BASE + second, tz=UTC)


def add(c: Collector, second: int, tid: int, *, host: str = "h1", level: str = "info",
        source: str = "a.log") -> None:
    rec = LogRecord(source, second, at(second), level, host, None, source.split(".")[0], "x", "x")
    c.add(rec, tid, "t", "t")


def test_bucket_width_is_a_minute_for_ordinary_incident_windows() -> None:
    assert bucket_seconds(25 * 60) == 60 and bucket_seconds(6 * 3600) == 60
    assert bucket_seconds(120) == 2 and bucket_seconds(7 * 86400) == 900


def test_a_burst_over_a_steady_baseline_is_found_with_exact_bounds_and_count() -> None:
    seconds: Counter[int] = Counter({BASE + s: 1 for s in range(0, 1800, 30)})  # 2 per minute, 30 min
    for s in range(600, 690, 3):  # 30 extra events 02:10:00..02:11:27
        seconds[BASE + s] += 1
    (burst,) = find_bursts_in(seconds, BASE, BASE + 1799, 60)
    first, last, count, peak, median = burst
    # minutes 10 and 11 burst (22 and 12 events against a median of 2); the burst counts every event in
    # them: 30 extra + 4 baseline, the last being the baseline event at 02:11:30
    assert (first - BASE, last - BASE) == (600, 690)
    assert count == 34 and peak == 22 and median == 2.0


def test_steady_traffic_is_not_a_burst() -> None:
    seconds: Counter[int] = Counter({BASE + s: 1 for s in range(0, 3600, 10)})
    assert find_bursts_in(seconds, BASE, BASE + 3599, 60) == []


def test_new_templates_bursts_and_error_onsets_from_a_collector() -> None:
    c = Collector()
    for s in range(0, 1500, 10):
        add(c, s, 0)
    for i in range(12):  # an error template that appears only after 02:20:00, on h2
        add(c, 1200 + 5 * i, 1, host="h2", level="error")
    names = {0: "GET <*>", 1: "pool exhausted"}
    cutoff = at(500)
    (new,) = detect_new_templates(c, names, cutoff)
    assert (new.template_id, new.first_seen, new.count, new.origins) == (1, at(1200), 12, {"h2": 12})
    (burst,) = detect_bursts(c, names, 60)
    assert (burst.template_id, burst.start, burst.end, burst.count) == (1, at(1200), at(1255), 12)
    (rates,) = source_rates(c, 60)
    assert (rates.errors, rates.error_onset, rates.error_onset_count, rates.error_origins) == (
        12, at(1200), 12, {"h2": 12})


def test_kendall_tau() -> None:
    assert kendall_tau([1, 2, 3, 4]) == 1.0 and kendall_tau([4, 3, 2, 1]) == -1.0
    assert abs(kendall_tau([1, 3, 2, 4])) < 1


def _series(values: list[float], origin: str = "h2") -> NumericSeries:
    s = NumericSeries(7, 0, origin, "size", "heap <*>")
    for i, v in enumerate(values):
        s.add(BASE + 30.0 * i, v)
    s.seen = len(values)
    return s


def test_a_climbing_memory_figure_is_a_trend_and_flat_noise_or_a_counter_is_not() -> None:
    climbing = _series([400 + 8 * i for i in range(20)])
    flat = _series([512 + (i % 3) for i in range(20)], "h1")
    counter = _series([1000 + i for i in range(20)], "h3")
    (trend,) = detect_trends([climbing, flat, counter], {7: "heap <*>"})
    assert (trend.origin, trend.first_value, trend.last_value, trend.points) == ("h2", 400, 552, 20)
    assert trend.direction == "up" and trend.tau == 1.0 and trend.slope_per_minute == 16.0
    assert (trend.first_seen, trend.last_seen) == (at(0), at(570))


def test_steady_random_traffic_of_many_templates_gives_no_bursts() -> None:
    """Counting noise: 100 templates at ~3 events a minute for 6 hours (random seconds, seeded); a robust
    z of 4 alone flagged dozens of these chance peaks as bursts."""
    import random

    rng = random.Random(5)
    false_bursts = 0
    for _ in range(100):
        seconds: Counter[int] = Counter(BASE + rng.randrange(6 * 3600) for _ in range(3 * 360))
        false_bursts += len(find_bursts_in(seconds, BASE, BASE + 6 * 3600 - 1, 60))
    assert false_bursts == 0
    spike: Counter[int] = Counter(BASE + rng.randrange(6 * 3600) for _ in range(3 * 360))
    spike.update(BASE + 3 * 3600 + i for i in range(0, 60, 4))  # 15 more events in one minute: still found
    ((first, last, count, _, _),) = find_bursts_in(spike, BASE, BASE + 6 * 3600 - 1, 60)
    assert first <= BASE + 3 * 3600 and last >= BASE + 3 * 3600 + 56 and count >= 15
