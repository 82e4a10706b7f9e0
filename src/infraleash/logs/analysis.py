"""``analyze(paths)``: read, mine, count, then find anomalies, correlations and a timeline.

One pass over the inputs (streamed, file by file) feeds the template miner and the
counters in :mod:`infraleash.logs.series`; everything after that works on the
counters only.  The result is a pydantic model that serialises to JSON as is.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import cast

from pydantic import BaseModel

from infraleash.logs.anomalies import (
    MAX_BUCKETS,
    Burst,
    NewTemplate,
    SourceRates,
    Trend,
    baseline_end,
    bucket_seconds,
    detect_bursts,
    detect_new_templates,
    detect_trends,
    source_rates,
)
from infraleash.logs.correlation import (
    Attribution,
    LeadLag,
    NegativeFact,
    TimelineEvent,
    attribution,
    lead_lag,
    negative_facts,
    notable_ids,
    timeline,
    window_text,
)
from infraleash.logs.header import split_header
from infraleash.logs.miner import TemplateMiner
from infraleash.logs.records import FileProblem, LogSource
from infraleash.logs.series import Collector

TOP_TEMPLATES_WITH_BUCKETS = 10
DEFAULT_LOOKBACK = timedelta(minutes=30)  # read before --since, for numeric series only
PROGRESS_EVERY = 20_000  # records between two calls of analyze(on_progress=...)


class SourceSummary(BaseModel):
    source: str
    lines: int
    records: int
    timestamp_format: str | None
    analyzed: bool  # False when the file could not be read at all


class TemplateStat(BaseModel):
    template_id: int
    template: str
    count: int
    first_seen: datetime | None
    last_seen: datetime | None
    level: str | None
    location: str  # file:line of the first occurrence
    origins: dict[str, int]
    buckets: list[int] = []  # events per bucket over the window (top templates only)


class LogAnalysis(BaseModel):
    """Everything ``infraleash logs`` reports; ``model_dump_json()`` is the JSON output."""

    window_start: datetime | None
    window_end: datetime | None
    window: str
    bucket_seconds: int
    baseline_until: datetime | None
    records: int
    lines: int
    sources: list[SourceSummary]
    problems: list[FileProblem]
    templates: list[TemplateStat]
    bursts: list[Burst]
    new_templates: list[NewTemplate]
    rates: list[SourceRates]
    trends: list[Trend]
    correlations: list[LeadLag]
    attributions: list[Attribution]
    negative_facts: list[NegativeFact]
    timeline: list[TimelineEvent]
    lookback_start: datetime | None = None  # records from here to --since were read for numeric series only
    lookback_records: int = 0

    @property
    def analyzed_any(self) -> bool:
        return any(s.analyzed for s in self.sources)


def first_line(text: str) -> str:
    """The part of a record that is mined: its first line (a stack trace's headline)."""
    cut = text.find("\n")
    return text if cut < 0 else text[:cut]


def analyze(paths: Sequence[str | Path], *, since: datetime | None = None, until: datetime | None = None,
            baseline_until: datetime | None = None, miner: TemplateMiner | None = None,
            lookback: timedelta = DEFAULT_LOOKBACK,
            on_progress: Callable[[str, int], None] | None = None) -> LogAnalysis:
    """Analyse several log files as one incident window.

    ``on_progress(path, lines)`` is told every ``PROGRESS_EVERY`` records of each file and at its end.

    With ``since``, records from ``lookback`` before it are read too, for numeric series only: a climb that
    began before the window is reported from when it began (and says so); nothing else counts them.
    """
    miner = miner or TemplateMiner()
    collector = Collector()
    summaries: list[SourceSummary] = []
    problems: list[FileProblem] = []
    unplaced: dict[str, tuple[int, str]] = {}
    lines = 0
    lookback_records = 0
    read_since = since - lookback if since is not None and lookback else since
    for path in paths:
        source = LogSource(path, since=read_since, until=until)
        early = 0
        for n, record in enumerate(source, 1):
            if on_progress is not None and n % PROGRESS_EVERY == 0:
                on_progress(source.path, source.lines)
            content = first_line(record.content)
            match = miner.add(content)
            if since is not None and record.time is not None and record.time < since:
                collector.add_lookback(record, match.template_id, match.template, content)
                early += 1
                continue
            collector.add(record, match.template_id, match.template, content)
        lines += source.lines
        if on_progress is not None:
            on_progress(source.path, source.lines)
        lookback_records += early
        problems.extend(source.problems)
        untimed = collector.untimed_by_source.get(source.path, 0)
        if source.untimed_dropped:
            unplaced[source.path] = (source.untimed_dropped, "have no timestamp, so --since/--until left them out")
        elif untimed:
            unplaced[source.path] = (untimed, "have no timestamp and could not be placed in it")
        summaries.append(SourceSummary(source=source.path, lines=source.lines, records=source.records - early,
                                       timestamp_format=source.detector.format,
                                       analyzed=not any(p.fatal for p in source.problems)))
    collector.regroup(miner.group_of, miner.final_template)
    names = {tid: miner.final_template(tid) for tid in collector.templates}
    span = ((collector.last_time - collector.first_time).total_seconds()
            if collector.first_time and collector.last_time else 0.0)
    width = bucket_seconds(span)
    if width > DAY and collector.first_time and collector.last_time:
        problems.append(_wide_span(collector, collector.first_time, collector.last_time, width))
    cutoff = baseline_end(collector, baseline_until)
    bursts = detect_bursts(collector, names, width)
    new = detect_new_templates(collector, names, cutoff)
    rates = source_rates(collector, width)
    trends = detect_trends(collector.numeric.values(), names, since)
    ids = notable_ids(collector, bursts, new)
    correlations = lead_lag(collector, ids, names)
    attributions = attribution(collector, ids, names)
    window = window_text(collector.first_time, collector.last_time)
    facts = negative_facts(collector, rates, attributions, window, unplaced)
    events = timeline(bursts, new, rates, trends, facts, collector)
    return LogAnalysis(
        window_start=collector.first_time, window_end=collector.last_time, window=window, bucket_seconds=width,
        baseline_until=cutoff, records=collector.records, lines=lines, sources=summaries, problems=problems,
        templates=_template_stats(collector, names, width), bursts=bursts, new_templates=new, rates=rates,
        trends=trends, correlations=correlations, attributions=attributions, negative_facts=facts,
        timeline=events, lookback_records=lookback_records,
        lookback_start=read_since if since is not None and lookback_records else None)


DAY = 86_400


def _wide_span(collector: Collector, start: datetime, end: datetime, width: int) -> FileProblem:
    """The problem that says buckets were widened: records years apart (year 1 beside 9999) are a clock or
    parsing error more often than an incident."""
    timed = [s for s in collector.sources.values() if s.first_time is not None and s.last_time is not None]
    first = min(timed, key=lambda s: cast(datetime, s.first_time)).source if timed else "inputs"
    last = max(timed, key=lambda s: cast(datetime, s.last_time)).source if timed else "inputs"
    where = first if first == last else f"{first}, {last}"
    return FileProblem(source=where, kind="time_span",
                       message=f"records span {(end - start).days / 365.25:,.0f} years "
                       f"({start.date().isoformat()} to {end.date().isoformat()}): "
                       f"time buckets are {width // DAY:,} days wide so there are at most {MAX_BUCKETS}; a record "
                       "dated far from the others is probably a clock or timestamp error")


def _template_stats(collector: Collector, names: dict[int, str], width: int) -> list[TemplateStat]:
    ranked = sorted(collector.templates.values(), key=lambda ts: (-ts.count, ts.template_id))
    start = int(collector.first_time.timestamp()) if collector.first_time else 0
    start -= start % width
    end = int(collector.last_time.timestamp()) if collector.last_time else start
    n_buckets = (end - start) // width + 1
    out = []
    for rank, ts in enumerate(ranked):
        buckets: list[int] = []
        if rank < TOP_TEMPLATES_WITH_BUCKETS and ts.seconds:
            buckets = [0] * n_buckets
            for s, n in ts.seconds.items():
                buckets[(s - start) // width] += n
        last = max(ts.seconds) if ts.seconds else None
        out.append(TemplateStat(
            template_id=ts.template_id, template=names[ts.template_id], count=ts.count, first_seen=ts.first_time,
            last_seen=datetime.fromtimestamp(last, tz=ts.first_time.tzinfo) if last is not None and ts.first_time
            else None,
            level=ts.level, location=ts.first_location, origins=dict(ts.origins.most_common(5)), buckets=buckets))
    return out


def line_templates(path: str | Path, log_format: str | None = None,
                   miner: TemplateMiner | None = None) -> tuple[Iterator[dict[str, object]], LogSource]:
    """For each input line, ``{"line": N, "template": "..."}`` with the final template (variables ``<*>``).

    Lines are mined first and printed after, so every line gets the template its group ended with.
    The returned source carries the file's problems (missing, binary, ...).
    """
    miner = miner or TemplateMiner()
    source = LogSource(path)
    ids = array("q")
    for line in source.raw_lines():
        _, content = split_header(line, log_format)
        ids.append(miner.add(content).template_id)

    def rows() -> Iterator[dict[str, object]]:
        cache: dict[int, str] = {}
        for n, tid in enumerate(ids, start=1):
            text = cache.get(tid)
            if text is None:
                text = cache[tid] = miner.final_template(tid)
            yield {"line": n, "template": text, "template_id": miner.group_of(tid)}

    return rows(), source
