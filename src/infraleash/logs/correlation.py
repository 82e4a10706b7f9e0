"""Correlation and timeline: what happened in what order, where, and what did not happen.

- **Timeline**: bursts, templates first seen after the baseline, error onsets per
  source, numeric trends (at the time they started) and Kubernetes Warning events, ordered by time (same
  template and time merged).
- **Lead/lag**: for two notable templates A and B, each B event is paired with the
  nearest preceding A event; when most B events follow an A event within a short
  lag, and A's events do not cover the time range so densely that this would
  happen by chance, "B follows A by lo–hi s" is reported (10th..90th percentile).
- **Attribution**: the origins (host, pod, service) of each notable template.
- **Negative facts**: services with no errors, sources that went silent, hosts of
  a service where a notable template never appeared; each only for sources whose records were all placed
  in time (otherwise a ``not_judged`` fact says what could not be judged and why).
"""

from __future__ import annotations

import bisect
from datetime import datetime

from pydantic import BaseModel

from infraleash.logs.anomalies import Burst, NewTemplate, SourceRates, Trend
from infraleash.logs.second_counts import SecondCounts
from infraleash.logs.series import Collector, TemplateSeries

MAX_NOTABLE = 25
MAX_LAG_SECONDS = 30
MIN_FOLLOWER_EVENTS = 3
MIN_MATCHED = 0.8
MIN_LIFT = 0.3  # matched fraction must beat the chance coverage by this much
SILENT_AFTER = 300  # seconds before the end of the input


class TimelineEvent(BaseModel):
    time: datetime
    kinds: list[str]  # burst | new_template | error_onset | trend | silent
    subject: str  # template text or source
    count: int
    origins: dict[str, int] = {}
    detail: str = ""


class LeadLag(BaseModel):
    leader_id: int
    leader: str
    follower_id: int
    follower: str
    leader_first: datetime
    follower_first: datetime
    leader_count: int
    follower_count: int
    lag_low: int  # seconds, 10th percentile
    lag_high: int  # seconds, 90th percentile
    lag_median: float
    matched: int  # follower events within MAX_LAG_SECONDS of a leader event
    chance: float  # fraction expected by chance from the leader's coverage
    summary: str


class Attribution(BaseModel):
    template_id: int
    template: str
    count: int
    origins: dict[str, int]
    only: str | None = None  # the single origin with >= 90% of the events


class NegativeFact(BaseModel):
    kind: str  # no_errors | silent | not_on | not_judged (could not say: records not placed in time)
    subject: str
    message: str


def _fmt(t: datetime) -> str:
    return t.strftime("%H:%M:%S")


def short(template: str, limit: int = 60) -> str:
    return template if len(template) <= limit else template[: limit - 1] + "…"


def notable_ids(collector: Collector, bursts: list[Burst], new: list[NewTemplate]) -> list[int]:
    """Templates worth correlating: bursting, new, or mostly error-level; most frequent first."""
    ids = {b.template_id for b in bursts} | {n.template_id for n in new}
    ids |= {tid for tid, ts in collector.templates.items() if ts.severe and ts.first_time is not None}
    ranked = sorted(ids, key=lambda tid: -collector.templates[tid].count)
    return ranked[:MAX_NOTABLE]


def _expanded(seconds: SecondCounts) -> list[int]:
    out: list[int] = []
    for s in sorted(seconds):
        out.extend([s] * seconds[s])
    return out


def _coverage(leader: list[int], width: int, span: int) -> float:
    """Fraction of the time range within ``width`` seconds after some leader event."""
    covered = 0
    reach = None
    for s in leader:
        lo, hi = s, s + width
        if reach is not None and lo <= reach:
            covered += max(0, hi - reach)
        else:
            covered += width + 1
        reach = hi if reach is None else max(reach, hi)
    return min(1.0, covered / max(span, 1))


def _percentile(values: list[int], q: float) -> int:
    return values[min(len(values) - 1, max(0, round(q * (len(values) - 1))))]


def lead_lag(collector: Collector, ids: list[int], names: dict[int, str]) -> list[LeadLag]:
    if collector.first_time is None or collector.last_time is None:
        return []
    span = int((collector.last_time - collector.first_time).total_seconds()) + 1
    series = {tid: collector.templates[tid] for tid in ids if collector.templates[tid].seconds}
    leaders = {tid: sorted(ts.seconds) for tid, ts in series.items()}
    out: list[LeadLag] = []
    for a, a_secs in leaders.items():
        ta = series[a]
        for b, tb in series.items():
            if a == b or tb.count < MIN_FOLLOWER_EVENTS or ta.first_time is None or tb.first_time is None:
                continue
            if tb.first_time < ta.first_time:
                continue
            found = _pair(ta, a_secs, tb, span)
            if found is None:
                continue
            lags, chance = found
            lo, hi = _percentile(lags, 0.1), _percentile(lags, 0.9)
            median = float(sorted(lags)[len(lags) // 2])
            if median == 0 and set(ta.sources) == set(tb.sources):
                continue  # two lines of the same event in one source, not a lead/lag
            lag_text = f"{lo} s" if lo == hi else f"{lo}–{hi} s"
            summary = (f"{short(names[a])} starts {_fmt(ta.first_time)}, {ta.count} occurrences; "
                       f"{short(names[b])} follows {lag_text} later ({len(lags)} of {tb.count} within "
                       f"{MAX_LAG_SECONDS} s)")
            out.append(LeadLag(leader_id=a, leader=names[a], follower_id=b, follower=names[b],
                               leader_first=ta.first_time, follower_first=tb.first_time, leader_count=ta.count,
                               follower_count=tb.count, lag_low=lo, lag_high=hi, lag_median=median,
                               matched=len(lags), chance=round(chance, 3), summary=summary))
    out.sort(key=lambda r: (-(r.matched / r.follower_count), r.leader_first, -r.follower_count))
    return out


def _pair(ta: TemplateSeries, a_secs: list[int], tb: TemplateSeries, span: int) -> tuple[list[int], float] | None:
    lags: list[int] = []
    considered = 0
    for t in _expanded(tb.seconds):
        i = bisect.bisect_right(a_secs, t) - 1
        if i < 0:
            continue
        considered += 1
        lag = t - a_secs[i]
        if lag <= MAX_LAG_SECONDS:
            lags.append(lag)
    if considered < MIN_FOLLOWER_EVENTS or len(lags) < MIN_MATCHED * tb.count:
        return None
    lags.sort()
    chance = _coverage(a_secs, _percentile(lags, 0.9), span)
    if len(lags) / tb.count < chance + MIN_LIFT:
        return None
    return lags, chance


def attribution(collector: Collector, ids: list[int], names: dict[int, str]) -> list[Attribution]:
    out = []
    for tid in ids:
        ts = collector.templates[tid]
        top = ts.origins.most_common(10)
        only = top[0][0] if top and top[0][1] >= 0.9 * ts.count else None
        out.append(Attribution(template_id=tid, template=names[tid], count=ts.count, origins=dict(top), only=only))
    return out


def negative_facts(collector: Collector, rates: list[SourceRates], attributions: list[Attribution],
                   window: str, unplaced: dict[str, tuple[int, str]] | None = None) -> list[NegativeFact]:
    """What did not happen, stated only where the input lets us know it.

    ``unplaced`` maps a source to (records that could not be placed in the window, why). "No errors from X"
    needs every record of X placed; otherwise a ``not_judged`` fact says what could not be judged and why.
    """
    unplaced = unplaced or {}
    facts: list[NegativeFact] = []
    by_service: dict[str, list[SourceRates]] = {}
    for r in rates:
        by_service.setdefault(r.service, []).append(r)
    for source, (n, why) in sorted(unplaced.items()):
        if n and not any(r.source == source for r in rates):
            facts.append(NegativeFact(kind="not_judged", subject=source,
                                      message=f"cannot say what {source} logged in this window ({window}): "
                                              f"{n} record(s) {why}"))
    for service, group in sorted(by_service.items()):
        records = sum(r.records for r in group)
        blind = [(r.source, *unplaced[r.source]) for r in group if unplaced.get(r.source, (0, ""))[0]]
        if records and blind and not sum(r.errors for r in group):
            what = "; ".join(f"{n} record(s) of {src} {why}" for src, n, why in blind)
            facts.append(NegativeFact(kind="not_judged", subject=service,
                                      message=f"cannot say whether {service} logged errors in this window "
                                              f"({window}): {what}"))
            continue
        if records and not sum(r.errors for r in group):
            warned = sum(r.warnings for r in group)
            extra = "" if warned else " and no warnings"
            facts.append(NegativeFact(kind="no_errors", subject=service,
                                      message=f"no errors{extra} from {service} in this window ({window}; "
                                              f"{records} records)"))
    if collector.last_time is not None and collector.first_time is not None:
        end = collector.last_time
        quiet = max(SILENT_AFTER, (end - collector.first_time).total_seconds() * 0.1)
        for r in rates:
            if r.service == "kubernetes":
                continue  # events come when something happens: a quiet event list is no silent service
            if r.last_seen is not None and (end - r.last_seen).total_seconds() > quiet:
                facts.append(NegativeFact(kind="silent", subject=r.source,
                                          message=f"no lines from {r.source} after {_fmt(r.last_seen)} "
                                                  f"(the input runs to {_fmt(end)})"))
    for att in attributions:
        if att.only is None:
            continue
        ts = collector.templates[att.template_id]
        if any(unplaced.get(source, (0, ""))[0] for source in ts.sources):
            continue  # some records of these sources were not placed: "none on" could be wrong
        peers: set[str] = set()
        for source in ts.sources:
            peers |= set(collector.sources[source].origins)
        others = sorted(peers - {att.only})
        if others:
            facts.append(NegativeFact(kind="not_on", subject=short(att.template),
                                      message=f"{short(att.template)}: only on {att.only}; none on "
                                              f"{', '.join(others[:8])}"))
    return facts


def timeline(bursts: list[Burst], new: list[NewTemplate], rates: list[SourceRates], trends: list[Trend],
             facts: list[NegativeFact], collector: Collector) -> list[TimelineEvent]:
    events: dict[tuple[datetime, str], TimelineEvent] = {}  # (second, subject) -> event

    def put(time: datetime, kind: str, subject: str, count: int, origins: dict[str, int], detail: str) -> None:
        key = (time.replace(microsecond=0), subject)  # a burst starts at the second its first event has
        if key in events:
            ev = events[key]
            if kind not in ev.kinds:
                ev.kinds.append(kind)
            ev.detail = "; ".join(x for x in (ev.detail, detail) if x)
            ev.count = max(ev.count, count)
        else:
            events[key] = TimelineEvent(time=time, kinds=[kind], subject=subject, count=count, origins=origins,
                                        detail=detail)

    for n in new:
        put(n.first_seen, "new_template", n.template, n.count, n.origins, f"first seen at {n.location}")
    for b in bursts:
        put(b.start, "burst", b.template, b.count, b.origins,
            f"{b.count} events {_fmt(b.start)}–{_fmt(b.end)}, peak {b.peak}/{b.bucket_seconds}s "
            f"vs baseline {b.baseline:g}")
    for r in rates:
        if r.error_onset is not None:
            put(r.error_onset, "error_onset", r.service, r.error_onset_count, r.error_origins,
                f"{r.error_onset_count} errors in the burst from {r.source}")
    for t in trends:
        put(t.started, "trend", t.template, t.points, {t.origin: t.points}, trend_text(t))
    for ev in collector.kube_warnings:
        if ev.first is None:
            continue
        until = f", last {_fmt(ev.last)}" if ev.last is not None and ev.last != ev.first else ""
        put(ev.first, "k8s_warning", ev.text, ev.count, {ev.node or ev.object: ev.count},
            f"Kubernetes Warning event on {ev.object}"
            + (f" in {ev.namespace}" if ev.namespace else "") + f", {ev.count}x{until}")
    for f in facts:
        if f.kind == "silent":
            last = collector.sources[f.subject].last_time
            if last is not None:
                put(last, "silent", f.subject, 0, {}, f.message)
    return sorted(events.values(), key=lambda e: (e.time, e.kinds))


def trend_text(t: Trend) -> str:
    """``heap used up on h2 from 02:00:00 (400 MB) to 800 MB at 02:25:00; started 5 min before --since``."""
    unit = f" {t.unit}" if t.unit else ""
    text = (f"{t.name} {t.direction} on {t.origin} from {_fmt(t.started)} ({t.started_value:g}{unit}) to "
            f"{t.last_value:g}{unit} at {_fmt(t.last_seen)}, {t.slope_per_minute:+.3g}{unit}/min")
    if t.started_before_window:
        text += "; the move began before --since (seen in the look-back read before the window)"
    elif t.started_at_input_start:
        text += "; already moving at the first value read, so it may have begun earlier"
    return text


def window_text(first: datetime | None, last: datetime | None) -> str:
    if first is None or last is None:
        return "no timestamps"
    if first.date() == last.date():
        return f"{first:%Y-%m-%d} {_fmt(first)}–{_fmt(last)} UTC"
    return f"{first:%Y-%m-%d %H:%M:%S} – {last:%Y-%m-%d %H:%M:%S} UTC"

