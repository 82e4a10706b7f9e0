"""Counters that a stream of (record, template match) pairs is folded into.

Memory is bounded by the number of templates, origins and the time span, not by
the number of lines: each template keeps a per-second event histogram and one per
origin (host, pod or service), as :class:`SecondCounts` (a dense array of 4-byte
counts once a dict would be larger); numeric variables keep a decimated series of
at most ``MAX_POINTS`` points per (template, position, origin).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache

from infraleash.logs.kube_events import KubeEvent
from infraleash.logs.masking import WILDCARD, mask_tokens
from infraleash.logs.records import LEVELS, LogRecord
from infraleash.logs.second_counts import SecondCounts
from infraleash.logs.variables import FAMILIES, convert, parse_quantity

MAX_POINTS = 256
MAX_KUBE_EVENTS = 500
MAX_PENDING = 50_000  # count keys held before they are folded into the counters (bounds memory)
_SEVERE = ("error", "critical")


def to_datetime(second: int) -> datetime:
    return datetime.fromtimestamp(second, tz=UTC)


@dataclass
class TemplateSeries:
    """Everything kept about one template."""

    template_id: int
    count: int = 0
    untimed: int = 0
    seconds: SecondCounts = field(default_factory=SecondCounts)  # epoch second -> events
    origins: Counter[str] = field(default_factory=Counter)
    origin_seconds: dict[str, SecondCounts] = field(default_factory=dict)  # origin -> second -> events
    sources: Counter[str] = field(default_factory=Counter)
    levels: Counter[str] = field(default_factory=Counter)
    first_time: datetime | None = None
    first_location: str = ""
    example: str = ""

    @property
    def level(self) -> str | None:
        """The most common level of the template's records."""
        return self.levels.most_common(1)[0][0] if self.levels else None

    @property
    def severe(self) -> bool:
        return self.level in _SEVERE

    def origins_between(self, first: int, last: int) -> Counter[str]:
        """Events per origin between two epoch seconds (inclusive)."""
        out: Counter[str] = Counter()
        for origin, secs in self.origin_seconds.items():
            n = sum(c for s, c in secs.items() if first <= s <= last)
            if n:
                out[origin] = n
        return out

    def merge(self, other: TemplateSeries) -> None:
        self.count += other.count
        self.untimed += other.untimed
        self.seconds.update(other.seconds)
        self.origins.update(other.origins)
        for origin, secs in other.origin_seconds.items():
            self.origin_seconds.setdefault(origin, SecondCounts()).update(secs)
        self.sources.update(other.sources)
        self.levels.update(other.levels)
        if other.first_time is not None and (self.first_time is None or other.first_time < self.first_time):
            self.first_time, self.first_location, self.example = other.first_time, other.first_location, other.example


@dataclass
class SourceStats:
    """Per-file totals: records, levels, error and warning seconds."""

    source: str
    services: Counter[str] = field(default_factory=Counter)
    origins: Counter[str] = field(default_factory=Counter)
    records: int = 0
    levels: Counter[str] = field(default_factory=Counter)
    error_seconds: SecondCounts = field(default_factory=SecondCounts)
    error_origins: Counter[str] = field(default_factory=Counter)
    warning_seconds: SecondCounts = field(default_factory=SecondCounts)
    first_time: datetime | None = None
    last_time: datetime | None = None

    @property
    def errors(self) -> int:
        return sum(self.levels[lv] for lv in _SEVERE)

    @property
    def warnings(self) -> int:
        return self.levels["warning"]

    @property
    def service(self) -> str:
        return self.services.most_common(1)[0][0] if self.services else self.source


@dataclass
class NumericSeries:
    """A decimated series of one numeric variable (the collector samples every ``stride``-th record)."""

    template_id: int
    position: int
    origin: str
    type: str
    template: str  # the template text when the series started (positions refer to it)
    points: list[tuple[float, float]] = field(default_factory=list)  # (epoch seconds, value)
    seen: int = 0  # records of this template and origin, sampled or not
    last: tuple[float, float] | None = None
    unit: str | None = None  # the unit of the first value; later values are converted to it

    def add(self, t: float, value: float, unit: str | None = None) -> None:
        if unit != self.unit:
            converted = convert(value, unit, self.unit)
            if converted is None:
                return  # another family (ms in a series of MB) or a unit where there was none
            value = converted
        self.points.append((t, value))
        self.last = (t, value)

    def all_points(self) -> list[tuple[float, float]]:
        """The kept points plus the very last one, in time order."""
        pts = list(self.points)
        if self.last is not None and (not pts or pts[-1] != self.last):
            pts.append(self.last)
        pts.sort()
        return pts


def numeric_variables(template: str, content: str) -> list[tuple[int, str, float, str | None]]:
    """(position, type, value, unit) of the variables of ``content`` that are plain numbers, sizes, durations
    or percentages.

    Tokens of the template and the content are aligned; a ``<*>`` token whose text is one number with
    an optional unit (``512``, ``512MB``, ``35ms``, ``97%``) is numeric; ids, IPs and versions are not.  When
    masking joined tokens (``1.2 GB`` is one variable), the content is masked again to align it.
    """
    length, slots = _variable_slots(template)
    c_tokens = content.split()
    if length != len(c_tokens):
        return _numeric_masked(template, content)
    out = []
    for index, t, position in slots:
        c = c_tokens[index]
        if t != c:
            q = parse_quantity(c if t == WILDCARD else _strip_constant(t, c))
            if q is not None:
                unit = q[1] or _suffix_unit(t)
                out.append((position, _kind(unit), q[0], unit))
    return out


def _suffix_unit(template_token: str) -> str | None:
    """``<*>%`` / ``<*>ms,``: a unit the template keeps as constant text right after the variable."""
    suffix = template_token.partition(WILDCARD)[2].rstrip(",;.)]")
    return suffix if suffix in FAMILIES else None


def _kind(unit: str | None) -> str:
    return FAMILIES[unit][0] if unit is not None else "number"


def _numeric_masked(template: str, content: str) -> list[tuple[int, str, float, str | None]]:
    t_tokens = template.split()
    masked = mask_tokens(content)
    if len(t_tokens) != len(masked):
        return []
    out = []
    position = 0
    for t, (_, variables) in zip(t_tokens, masked, strict=True):
        k = t.count(WILDCARD)
        if k == 1 and len(variables) == 1:
            q = parse_quantity(variables[0].value)
            if q is not None:
                unit = q[1] or _suffix_unit(t)
                out.append((position, _kind(unit), q[0], unit))
        position += k
    return out


@lru_cache(maxsize=4096)
def _variable_slots(template: str) -> tuple[int, tuple[tuple[int, str, int], ...]]:
    """(token count, (token index, template token, variable position) of each token with exactly one ``<*>``)."""
    slots = []
    position = 0
    tokens = template.split()
    for index, t in enumerate(tokens):
        wild = t.count(WILDCARD)
        if wild == 1:
            slots.append((index, t, position))
        position += wild
    return len(tokens), tuple(slots)


def _strip_constant(template_token: str, token: str) -> str:
    """``heap=<*>`` and ``heap=512MB`` -> ``512MB``."""
    before, _, after = template_token.partition(WILDCARD)
    if token.startswith(before) and token.endswith(after) and len(token) > len(before) + len(after):
        return token[len(before): len(token) - len(after)]
    return ""


_Meta = tuple[int, str, str, str | None, str | None]  # template, source, origin, service, level


class Collector:
    """Folds records and their template ids into per-template, per-source and per-variable counters.

    ``add`` only counts the record under two keys, (template, source, origin, service, level) and (template,
    origin, second), and keeps the earliest example per template; the per-template and per-source counters
    are folded from those counts when ``templates`` or ``sources`` is read (or every ``MAX_PENDING`` keys),
    so a line costs two dict updates instead of a dozen counter updates.
    """

    def __init__(self) -> None:
        self._templates: dict[int, TemplateSeries] = {}
        self._sources: dict[str, SourceStats] = {}
        self._pending_meta: dict[_Meta, int] = {}  # counts without time: aggregates to a few hundred keys
        self._pending_untimed: dict[int, int] = {}
        self._pending_seconds: dict[tuple[int, str, int], int] = {}  # (template, origin, second)
        self._pending_alerts: dict[tuple[str, str, int, bool], int] = {}  # (source, origin, second, error?)
        self._firsts: dict[int, tuple[datetime, str, str]] = {}  # template -> earliest (time, file:line, text)
        self._untimed_examples: dict[int, tuple[str, str]] = {}
        self.numeric: dict[tuple[int, int, str], NumericSeries] = {}
        self.first_time: datetime | None = None
        self.last_time: datetime | None = None
        self.records = 0
        self._var_seen: dict[tuple[int, str], int] = {}
        self._var_stride: dict[tuple[int, str], int] = {}
        self._var_sampled: dict[tuple[int, str], int] = {}
        self._key_series: dict[tuple[int, str], list[NumericSeries]] = {}
        self.lookback_first: float | None = None  # epoch of the earliest look-back record read
        self.untimed_by_source: Counter[str] = Counter()  # records that could not be placed in time
        self.kube_warnings: list[KubeEvent] = []  # Kubernetes Warning events, first MAX_KUBE_EVENTS

    @property
    def templates(self) -> dict[int, TemplateSeries]:
        self._fold()
        return self._templates

    @property
    def sources(self) -> dict[str, SourceStats]:
        self._fold()
        return self._sources

    def add(self, record: LogRecord, template_id: int, template: str, content: str) -> None:
        """Count one record that the miner put in ``template`` (``content`` is what it mined)."""
        self.records += 1
        source = record.source
        level = record.level
        origin = record.host or record.pod or record.service or source
        meta: _Meta = (template_id, source, origin, record.service, level)
        self._pending_meta[meta] = self._pending_meta.get(meta, 0) + 1
        if record.event is not None and record.event.warning and len(self.kube_warnings) < MAX_KUBE_EVENTS:
            self.kube_warnings.append(record.event)
        t = record.time
        if t is None:
            self.untimed_by_source[source] += 1
            self._pending_untimed[template_id] = self._pending_untimed.get(template_id, 0) + 1
            if template_id not in self._untimed_examples:
                self._untimed_examples[template_id] = (f"{source}:{record.line_no}", record.raw[:500])
            return
        epoch = t.timestamp()
        second = int(epoch)
        key = (template_id, origin, second)
        pending = self._pending_seconds
        pending[key] = pending.get(key, 0) + 1
        if level in _SEVERE or level == "warning":
            alert = (source, origin, second, level in _SEVERE)
            self._pending_alerts[alert] = self._pending_alerts.get(alert, 0) + 1
        if len(pending) >= MAX_PENDING:
            self._fold()
        first = self._firsts.get(template_id)
        if first is None or t < first[0]:
            self._firsts[template_id] = (t, f"{source}:{record.line_no}", record.raw[:500])
        src = self._sources.get(source)
        if src is None:
            src = self._sources[source] = SourceStats(source)
        if src.first_time is None or t < src.first_time:
            src.first_time = t
            if self.first_time is None or t < self.first_time:
                self.first_time = t
        if src.last_time is None or t > src.last_time:
            src.last_time = t
            if self.last_time is None or t > self.last_time:
                self.last_time = t
        self._sample(template_id, origin, template, epoch, content)

    def add_lookback(self, record: LogRecord, template_id: int, template: str, content: str) -> None:
        """A record from the look-back before ``--since``: only its numeric variables are kept, so a climb
        that began before the window shows when it began; it is not counted anywhere else."""
        if record.time is None:
            return
        origin = record.host or record.pod or record.service or record.source
        epoch = record.time.timestamp()
        if self.lookback_first is None or epoch < self.lookback_first:
            self.lookback_first = epoch
        self._sample(template_id, origin, template, epoch, content)

    def _fold(self) -> None:
        """Move the pending counts into the per-template and per-source counters."""
        templates, sources = self._templates, self._sources
        for (tid, source, origin, service, level), n in self._pending_meta.items():
            ts = templates.get(tid)
            if ts is None:
                ts = templates[tid] = TemplateSeries(tid)
            src = sources.get(source)
            if src is None:
                src = sources[source] = SourceStats(source)
            ts.count += n
            ts.origins[origin] += n
            ts.sources[source] += n
            src.records += n
            src.origins[origin] += n
            if service:
                src.services[service] += n
            if level in LEVELS:
                ts.levels[level] += n
                src.levels[level] += n
        for tid, n in self._pending_untimed.items():
            templates[tid].untimed += n
        for (tid, origin, second), n in self._pending_seconds.items():
            ts = templates[tid]
            ts.seconds.add(second, n)
            per_origin = ts.origin_seconds.get(origin)
            if per_origin is None:
                per_origin = ts.origin_seconds[origin] = SecondCounts()
            per_origin.add(second, n)
        for (source, origin, second, severe), n in self._pending_alerts.items():
            src = sources[source]
            if severe:
                src.error_seconds.add(second, n)
                src.error_origins[origin] += n
            else:
                src.warning_seconds.add(second, n)
        self._pending_meta.clear()
        self._pending_untimed.clear()
        self._pending_seconds.clear()
        self._pending_alerts.clear()
        if self._firsts or self._untimed_examples:
            for tid, (location, example) in self._untimed_examples.items():
                ts = templates[tid]
                if not ts.example:
                    ts.first_location, ts.example = location, example
            for tid, (t, location, example) in self._firsts.items():
                ts = templates[tid]
                if ts.first_time is None or t < ts.first_time:
                    ts.first_time, ts.first_location, ts.example = t, location, example
            self._untimed_examples.clear()
            self._firsts.clear()

    def _sample(self, template_id: int, origin: str, template: str, t: float, content: str) -> None:
        """Read numeric variables of every ``stride``-th record of a (template, origin); halve when full."""
        if WILDCARD not in template:
            return
        key = (template_id, origin)
        seen = self._var_seen.get(key, 0)
        self._var_seen[key] = seen + 1
        stride = self._var_stride.get(key, 1)
        if seen % stride != 0:
            return
        for position, vtype, value, unit in numeric_variables(template, content):
            nkey = (template_id, position, origin)
            series = self.numeric.get(nkey)
            if series is None:
                series = self.numeric[nkey] = NumericSeries(template_id, position, origin, vtype, template,
                                                            unit=unit)
                self._key_series.setdefault(key, []).append(series)
            series.add(t, value, unit)
        sampled = self._var_sampled.get(key, 0) + 1
        if sampled > MAX_POINTS:  # keep every other point and sample half as often from now on
            for series in self._key_series.get(key, ()):
                series.points = series.points[::2]
            self._var_stride[key] = stride * 2
            sampled //= 2
        self._var_sampled[key] = sampled

    def regroup(self, group_of: Callable[[int], int], final_template: Callable[[int], str]) -> None:
        """Fold templates that the miner merged later into the group they ended in.

        A merge can turn a constant token into ``<*>``, which shifts the positions of later
        variables; numeric series are re-keyed by their position in the final template.
        """
        for (tid, _, origin), series in self.numeric.items():
            series.seen = self._var_seen.get((tid, origin), series.seen)
        merged: dict[int, TemplateSeries] = {}
        for tid, ts in self.templates.items():  # (reading ``templates`` folds what is pending)
            root = group_of(tid)
            if root in merged:
                merged[root].merge(ts)
            else:
                ts.template_id = root
                merged[root] = ts
        self._templates = merged
        numeric: dict[tuple[int, int, str], NumericSeries] = {}
        for (tid, pos, origin), series in self.numeric.items():
            root = group_of(tid)
            final = final_template(root)
            key = (root, remap_position(series.template, final, pos), origin)
            if key in numeric:
                target = numeric[key]
                target.points.extend(series.points)
                target.seen += series.seen
                if series.last is not None and (target.last is None or series.last > target.last):
                    target.last = series.last
            else:
                series.template_id, series.position, series.template = key[0], key[1], final
                numeric[key] = series
        self.numeric = numeric


def remap_position(old: str, new: str, position: int) -> int:
    """The index of variable ``position`` of template ``old`` in template ``new`` (same tokens, more ``<*>``)."""
    old_tokens, new_tokens = old.split(), new.split()
    if old == new or len(old_tokens) != len(new_tokens):
        return position
    before_old = before_new = 0
    for o, n in zip(old_tokens, new_tokens, strict=True):
        k = o.count(WILDCARD)
        if position < before_old + k:
            j = position - before_old
            return before_new if (n == WILDCARD and o != n) else before_new + j
        before_old += k
        before_new += n.count(WILDCARD)
    return position
