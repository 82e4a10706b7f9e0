"""Anomalies measured against the baseline of the same input.

- **Bursts**: a template's events are counted per bucket (one minute for inputs
  of 10 minutes to 12 hours; shorter or longer buckets otherwise).  A bucket
  bursts when its count exceeds ``median + 4 * 1.4826 * MAD`` (and twice the
  median, and the median plus 3); a burst is extended to neighbouring buckets
  that are still above the median, and is reported with the time of its first
  and last event and its exact event count.
- **New templates**: first seen after the baseline period (the first third of
  the time range unless ``baseline_until`` says otherwise).
- **Error and warning rates by source**, with the onset of an error burst.
- **Trends**: a numeric variable series of one (template, position, origin) that
  moves monotonically (Kendall's tau) by a meaningful amount (least-squares slope), reported from its
  change point (when the move started, :mod:`infraleash.logs.change_points`), with the variable's name
  and unit read from the record (:mod:`infraleash.logs.variables`).
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime

from pydantic import BaseModel

from infraleash.logs.change_points import climb_start
from infraleash.logs.second_counts import SecondCounts
from infraleash.logs.series import Collector, NumericSeries, to_datetime
from infraleash.logs.variables import unit_after, unit_of_key, variable_name

_BUCKETS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400)
MIN_BURST_EVENTS = 5
POISSON_Z = 6  # P(Poisson(3) >= 14) ~ 2e-6: about 0.1 chance peaks over 300 templates x 300 buckets
MIN_TREND_POINTS = 8
MIN_TAU = 0.7
MIN_RELATIVE_CHANGE = 0.2


MAX_BUCKETS = 720  # per series: a record dated year 1 beside one dated 9999 widens the buckets, never multiplies them


def bucket_seconds(span: float) -> int:
    """Bucket width for a time range: one minute when it gives 10..720 buckets, else adaptive; past 720 days,
    whole days, as many as it takes to keep MAX_BUCKETS buckets (``analyze`` says so)."""
    if 600 <= span <= 720 * 60:
        return 60
    target = 60 if span < 600 else MAX_BUCKETS
    for width in _BUCKETS:
        if span / width <= target:
            return width
    return math.ceil(span / MAX_BUCKETS / _BUCKETS[-1]) * _BUCKETS[-1]


class Burst(BaseModel):
    template_id: int
    template: str
    start: datetime  # time of the first event in the burst
    end: datetime  # time of the last event in the burst
    count: int  # events in the burst
    peak: int  # events in the busiest bucket
    baseline: float  # median events per bucket over the whole input
    bucket_seconds: int
    origins: dict[str, int]


class NewTemplate(BaseModel):
    template_id: int
    template: str
    first_seen: datetime
    count: int
    location: str  # file:line of the first occurrence
    level: str | None
    origins: dict[str, int]


class SourceRates(BaseModel):
    source: str
    service: str
    records: int
    errors: int
    warnings: int
    first_seen: datetime | None
    last_seen: datetime | None
    error_rate: float  # errors / records
    error_onset: datetime | None = None  # first error of an error burst, if any
    error_onset_count: int = 0
    origins: dict[str, int]
    error_origins: dict[str, int] = {}


class Trend(BaseModel):
    template_id: int
    template: str
    position: int  # which variable of the template (0-based)
    type: str
    origin: str
    points: int  # values seen
    first_seen: datetime
    last_seen: datetime
    first_value: float
    last_value: float
    min_value: float
    max_value: float
    direction: str  # up | down
    slope_per_minute: float
    tau: float
    name: str  # from the record: a key (heap_used_mb), or the words before the value (heap used); else "var N"
    unit: str | None = None  # of the values (MB, ms, %), as the record writes it
    started: datetime  # the change point: the last sample before the series began to move
    started_value: float = 0.0
    started_before_window: bool = False  # the climb began in the look-back before --since
    started_at_input_start: bool = False  # moving from the first sample read: it may have begun earlier


def _bucketed(seconds: SecondCounts | Mapping[int, int], start: int, width: int) -> Counter[int]:
    out: Counter[int] = Counter()
    for s, n in seconds.items():
        out[(s - start) // width] += n
    return out


def find_bursts_in(seconds: SecondCounts | Mapping[int, int], start: int, end: int, width: int,
                   min_events: int = MIN_BURST_EVENTS) -> list[tuple[int, int, int, int, float]]:
    """Bursts of one event series: (first second, last second, count, peak, baseline median)."""
    total = sum(seconds.values())
    if total < min_events:
        return []
    n_buckets = (end - start) // width + 1
    if n_buckets < 3:
        return []
    buckets = _bucketed(seconds, start, width)
    counts = sorted(buckets.values())
    zeros = n_buckets - len(counts)
    values = [0] * zeros + counts
    median = statistics.median(values)
    mad = statistics.median(abs(v - median) for v in values)
    # The Poisson term keeps counting noise quiet: with hundreds of templates x hundreds of buckets, a robust
    # z of 4 alone flags dozens of chance peaks of a steady template (median 3, MAD 1 -> threshold 9).
    threshold = max(median + 4 * 1.4826 * mad, 2 * median, median + 3, median + POISSON_Z * math.sqrt(max(median, 1)))
    hot = sorted(b for b, n in buckets.items() if n > threshold)
    if not hot:
        return []
    spans: list[list[int]] = []
    for b in hot:
        if spans and b <= spans[-1][1] + 2:  # one quiet bucket does not split a burst
            spans[-1][1] = b
        else:
            spans.append([b, b])
    for span in spans:  # extend to neighbours still above the median
        while buckets.get(span[0] - 1, 0) > median:
            span[0] -= 1
        while buckets.get(span[1] + 1, 0) > median:
            span[1] += 1
    out: list[tuple[int, int, int, int, float]] = []
    for lo, hi in spans:
        if out and lo <= (out[-1][1] - start) // width:  # extensions met: already covered
            continue
        secs = [s for s in seconds if lo <= (s - start) // width <= hi]
        count = sum(seconds[s] for s in secs)
        if count < min_events:
            continue
        peak = max(buckets.get(b, 0) for b in range(lo, hi + 1))
        out.append((min(secs), max(secs), count, peak, float(median)))
    return out


def detect_bursts(collector: Collector, names: dict[int, str], width: int) -> list[Burst]:
    if collector.first_time is None or collector.last_time is None:
        return []
    start, end = int(collector.first_time.timestamp()), int(collector.last_time.timestamp())
    start -= start % width
    bursts = []
    for tid, ts in collector.templates.items():
        for first, last, count, peak, median in find_bursts_in(ts.seconds, start, end, width):
            origins = ts.origins_between(first, last)
            bursts.append(Burst(template_id=tid, template=names[tid], start=to_datetime(first), end=to_datetime(last),
                                count=count, peak=peak, baseline=median, bucket_seconds=width,
                                origins=dict(origins.most_common(10))))
    bursts.sort(key=lambda b: (b.start, -b.count))
    return bursts


def baseline_end(collector: Collector, baseline_until: datetime | None) -> datetime | None:
    if baseline_until is not None:
        return baseline_until
    if collector.first_time is None or collector.last_time is None:
        return None
    return collector.first_time + (collector.last_time - collector.first_time) / 3


def detect_new_templates(collector: Collector, names: dict[int, str], cutoff: datetime | None) -> list[NewTemplate]:
    if cutoff is None:
        return []
    out = [NewTemplate(template_id=tid, template=names[tid], first_seen=ts.first_time, count=ts.count,
                       location=ts.first_location, level=ts.level, origins=dict(ts.origins.most_common(10)))
           for tid, ts in collector.templates.items() if ts.first_time is not None and ts.first_time > cutoff]
    out.sort(key=lambda n: (n.first_seen, -n.count))
    return out


def source_rates(collector: Collector, width: int) -> list[SourceRates]:
    out = []
    start = int(collector.first_time.timestamp()) if collector.first_time else 0
    end = int(collector.last_time.timestamp()) if collector.last_time else 0
    start -= start % width
    for src in collector.sources.values():
        onset = None
        onset_count = 0
        bursts = find_bursts_in(src.error_seconds, start, end, width, min_events=3)
        if bursts:
            onset, onset_count = to_datetime(bursts[0][0]), bursts[0][2]
        out.append(SourceRates(source=src.source, service=src.service, records=src.records, errors=src.errors,
                               warnings=src.warnings, first_seen=src.first_time, last_seen=src.last_time,
                               error_rate=round(src.errors / src.records, 4) if src.records else 0.0,
                               error_onset=onset, error_onset_count=onset_count,
                               origins=dict(src.origins.most_common(10)),
                               error_origins=dict(src.error_origins.most_common(10))))
    return out


def kendall_tau(values: list[float]) -> float:
    """Kendall's tau-a of a series against its index: +1 strictly rising, -1 strictly falling."""
    n = len(values)
    if n < 2:
        return 0.0
    score = 0
    for i in range(n - 1):
        vi = values[i]
        for j in range(i + 1, n):
            d = values[j] - vi
            score += (d > 0) - (d < 0)
    return score / (n * (n - 1) / 2)


def _slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope in value per second."""
    n = len(points)
    mt = sum(t for t, _ in points) / n
    mv = sum(v for _, v in points) / n
    var = sum((t - mt) ** 2 for t, _ in points)
    if var == 0:
        return 0.0
    return sum((t - mt) * (v - mv) for t, v in points) / var


def _is_counter(values: list[float]) -> bool:
    """Sequence numbers (each value one more than the last) are not a resource trend."""
    diffs = {values[i + 1] - values[i] for i in range(len(values) - 1)}
    return diffs <= {1.0}


def detect_trends(series: Iterable[NumericSeries], names: dict[int, str],
                  window_start: datetime | None = None) -> list[Trend]:
    """Series that move monotonically by a meaningful amount, each with the time its move started (the change
    point of :func:`climb_start`; points before ``window_start`` are the look-back before ``--since``)."""
    out = []
    for s in series:
        pts = s.all_points()
        if len(pts) < MIN_TREND_POINTS:
            continue
        values = [v for _, v in pts]
        if len(set(values)) < MIN_TREND_POINTS // 2 or _is_counter(values):
            continue
        if max(values) - min(values) < MIN_RELATIVE_CHANGE * max(abs(values[0]), abs(values[-1]), 1e-9):
            continue  # checked before the change point and tau, which are quadratic in the points
        k = climb_start(pts)
        moving = pts[k:]
        mv = [v for _, v in moving]
        first, last = mv[0], mv[-1]
        if len(moving) < MIN_TREND_POINTS or abs(last - first) < MIN_RELATIVE_CHANGE * max(abs(first), abs(last), 1e-9):
            continue
        tau = kendall_tau(mv)
        if abs(tau) < MIN_TAU:
            continue
        template = names[s.template_id]
        name = variable_name(template, s.position)
        unit = s.unit or unit_after(template, s.position) or unit_of_key(name)
        started = to_datetime(int(moving[0][0]))
        out.append(Trend(template_id=s.template_id, template=template, position=s.position, type=s.type,
                         origin=s.origin, points=s.seen, first_seen=to_datetime(int(pts[0][0])),
                         last_seen=to_datetime(int(pts[-1][0])), first_value=values[0], last_value=values[-1],
                         min_value=min(values), max_value=max(values), direction="up" if tau > 0 else "down",
                         slope_per_minute=round(_slope(moving) * 60, 4), tau=round(tau, 3),
                         name=name or f"var {s.position}", unit=unit, started=started, started_value=first,
                         started_before_window=window_start is not None and started < window_start,
                         started_at_input_start=k == 0))
    out.sort(key=lambda t: (-abs(t.tau), t.first_seen))
    return out
