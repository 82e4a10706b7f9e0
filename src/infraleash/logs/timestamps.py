"""Timestamp detection for log lines of any common format.

A :class:`TimestampDetector` belongs to one source.  It tries the format that
matched last time first (one regex match per line in the usual case) and falls
back to every known format only when that fails, so mixed files still work.

Formats (all anchored at the start of the line, after an optional ``[``):

    iso8601     2026-11-24T02:17:33Z, 2026-11-24 02:17:33.123+01:00, RFC 3339 (nanoseconds too)
    log4j       2026-11-24 02:17:33,123
    slashed     2026/11/24 02:17:33
    apache      [24/Nov/2026:02:17:33 +0000]           (access logs)
    apache_err  [Tue Nov 24 02:17:33.123 2026]         (error logs)
    syslog      Nov 24 02:17:33                        (year inferred)
    klog        I1124 02:17:33.123456                  (Kubernetes; year inferred)
    android     11-24 02:17:33.123                     (logcat; year inferred)
    yymmdd      261124 021733                          (HDFS)
    compact     20261124-02:17:33:123                  (HealthApp)
    month_dot   [11.24 02:17:33]                       (Proxifier; year inferred)
    yy_slash    26/11/24 02:17:33                      (Spark)
    epoch       1795486653 or 1795486653123 at the start of a line; numbers in JSON

Every result is timezone-aware: times without a zone are read in ``default_tz``
(UTC unless told otherwise), so sources with and without zones sort together.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo

_MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}

# Plausible epoch range for numbers that claim to be timestamps: 2000-01-01 .. 2100-01-01.
_EPOCH_MIN, _EPOCH_MAX = 946_684_800, 4_102_444_800


@dataclass(slots=True)  # not frozen: a frozen dataclass costs a microsecond more per line to build
class TimestampMatch:
    """A timestamp found at the start of a line: the time and where it ends."""

    time: datetime
    end: int
    format: str
    start: int = 0  # > 0 when the timestamp follows a prefix ("10.0.0.1 - - [24/Nov/2026:...]")


class _Context:
    """What a parser needs besides the match: default zone and the inferred year."""

    __slots__ = ("default_tz", "year", "last_month", "seconds", "fractions")

    def __init__(self, default_tz: tzinfo, year: int) -> None:
        self.default_tz = default_tz
        self.year = year
        self.last_month = 0
        self.seconds: dict[tuple[str, str | None], datetime] = {}  # parsed "2026-11-24T02:17:33" (+ zone)
        self.fractions: dict[str, timedelta] = {}  # ".123" -> 123 ms

    def infer_year(self, month: int) -> int:
        """Year for formats without one; a jump from December back to January rolls it over.

        A line from a host whose clock is behind (December again, just after the new year) belongs to the
        previous year and does not move the running year back.
        """
        if self.last_month and month > self.last_month + 6:
            return self.year - 1
        if self.last_month and month < self.last_month - 6:
            self.year += 1
        self.last_month = month
        return self.year


def _fraction(text: str | None) -> int:
    """Microseconds from a fraction of any length ("1" -> 100000, nanoseconds truncated)."""
    if not text:
        return 0
    return int((text + "000000")[:6])


def _zone(text: str | None, default: tzinfo) -> tzinfo:
    if not text:
        return default
    if text == "Z" or text == "z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _month(name: str) -> int:
    month = _MONTHS.get(name[:3].lower())
    if month is None:
        raise ValueError(name)
    return month


def _make(ctx: _Context, year: int, month: int, day: int, hh: int, mm: int, ss: int, us: int = 0,
          tz: tzinfo | None = None) -> datetime:
    return datetime(year, month, day, hh, mm, min(ss, 59), us, tzinfo=tz or ctx.default_tz)


def _p_iso(m: re.Match[str], ctx: _Context) -> datetime:
    """Dates with a year: the second (and zone) is parsed once and cached, the fraction added to it."""
    g = m.groups()
    key = (m.string[m.start(1):m.end(6)], g[7])
    base = ctx.seconds.get(key)
    if base is None:
        base = _make(ctx, int(g[0]), int(g[1]), int(g[2]), int(g[3]), int(g[4]), int(g[5]), 0,
                     _zone(g[7], ctx.default_tz))
        if len(ctx.seconds) >= 4096:
            ctx.seconds.clear()
        ctx.seconds[key] = base
    frac = g[6]
    if not frac:
        return base
    step = ctx.fractions.get(frac)
    if step is None:  # adding a cached timedelta is ~15x cheaper than datetime.replace
        step = timedelta(microseconds=_fraction(frac))
        if len(ctx.fractions) >= 4096:
            ctx.fractions.clear()
        ctx.fractions[frac] = step
    return base + step


def _p_apache(m: re.Match[str], ctx: _Context) -> datetime:
    d, mon, y, hh, mm, ss, z = m.groups()
    return _make(ctx, int(y), _month(mon), int(d), int(hh), int(mm), int(ss), 0, _zone(z, ctx.default_tz))


def _p_apache_err(m: re.Match[str], ctx: _Context) -> datetime:
    mon, d, hh, mm, ss, frac, y = m.groups()
    return _make(ctx, int(y), _month(mon), int(d), int(hh), int(mm), int(ss), _fraction(frac))


def _p_syslog(m: re.Match[str], ctx: _Context) -> datetime:
    mon, d, hh, mm, ss, frac = m.groups()
    month = _month(mon)
    return _make(ctx, ctx.infer_year(month), month, int(d), int(hh), int(mm), int(ss), _fraction(frac))


def _p_klog(m: re.Match[str], ctx: _Context) -> datetime:
    _level, mon, d, hh, mm, ss, frac = m.groups()
    month = int(mon)
    return _make(ctx, ctx.infer_year(month), month, int(d), int(hh), int(mm), int(ss), _fraction(frac))


def _p_android(m: re.Match[str], ctx: _Context) -> datetime:
    g = m.groups()
    mon, d, hh, mm, ss = g[:5]
    frac = g[5] if len(g) > 5 else None
    month = int(mon)
    return _make(ctx, ctx.infer_year(month), month, int(d), int(hh), int(mm), int(ss), _fraction(frac))


def _p_short_year(m: re.Match[str], ctx: _Context) -> datetime:
    y, mon, d, hh, mm, ss = m.groups()
    return _make(ctx, 2000 + int(y), int(mon), int(d), int(hh), int(mm), int(ss))


def _p_epoch(m: re.Match[str], ctx: _Context) -> datetime:
    value = epoch_to_datetime(float(m.group(0)))
    if value is None:
        raise ValueError(m.group(0))
    return value


_Parser = Callable[[re.Match[str], _Context], datetime]
_Format = tuple[str, re.Pattern[str], _Parser, bool]  # name, regex, parser, searched after a prefix

_FORMATS: list[_Format] = [
    ("iso8601", re.compile(
        r"\[?(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?\s?(Z|z|[+-]\d{2}:?\d{2})?\]?(?!\d|,\d)"),
     _p_iso, False),
    ("log4j", re.compile(
        r"\[?(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2}),(\d{1,9})\s?(Z|[+-]\d{2}:?\d{2})?\]?"), _p_iso, False),
    ("slashed", re.compile(
        r"\[?(\d{4})/(\d{2})/(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?\s?(Z|[+-]\d{2}:?\d{2})?\]?"),
     _p_iso, False),
    ("apache", re.compile(r"\[?(\d{2})/(\w{3})/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-]\d{4})\]?"), _p_apache, False),
    ("apache_err", re.compile(r"\[\w{3} (\w{3}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d+))? (\d{4})\]"),
     _p_apache_err, False),
    ("syslog", re.compile(r"\[?([A-Z][a-z]{2}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?\]?(?!\d)"),
     _p_syslog, False),
    ("klog", re.compile(r"([IWEF])(\d{2})(\d{2}) (\d{2}):(\d{2}):(\d{2})\.(\d{1,6})\b"), _p_klog, False),
    ("android", re.compile(r"(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})\.(\d{3})\b"), _p_android, False),
    ("yymmdd", re.compile(r"(\d{2})(\d{2})(\d{2}) (\d{2})(\d{2})(\d{2})\b"), _p_short_year, False),
    ("yy_slash", re.compile(r"(\d{2})/(\d{2})/(\d{2}) (\d{2}):(\d{2}):(\d{2})\b"), _p_short_year, False),
    ("compact", re.compile(r"(\d{4})(\d{2})(\d{2})-(\d{2}):(\d{2}):(\d{2})(?:[:.,](\d{1,6}))?()"), _p_iso, False),
    ("month_dot", re.compile(r"\[(\d{2})\.(\d{2}) (\d{2}):(\d{2}):(\d{2})\]"), _p_android, False),
    ("epoch", re.compile(r"\d{10}(?:\d{3})?(?:\.\d+)?(?![\d.])"), _p_epoch, False),
]


# Timestamps after a short prefix: "api-1  | 2026-11-24T02:17:33Z ...", nginx/Apache access logs.
_FORMATS += [
    ("iso8601", re.compile(_FORMATS[0][1].pattern.removeprefix(r"\[?")), _p_iso, True),
    ("apache", re.compile(r"\[(\d{2})/(\w{3})/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-]\d{4})\]"), _p_apache, True),
]
_PREFIX_SEARCH = 100
FORMAT_NAMES: tuple[str, ...] = tuple(dict.fromkeys(name for name, _, _, _ in _FORMATS))


def epoch_to_datetime(value: float) -> datetime | None:
    """Seconds, milliseconds, microseconds or nanoseconds since 1970, chosen by magnitude."""
    for scale in (1, 1e3, 1e6, 1e9):
        seconds = value / scale
        if _EPOCH_MIN <= seconds < _EPOCH_MAX:
            return datetime.fromtimestamp(seconds, tz=UTC)
    return None


class TimestampDetector:
    """Finds the timestamp at the start of each line of one source.

    The format that matched last is tried first; the others only when it fails.
    ``format`` is the name of that format (``None`` until a line matched).
    """

    def __init__(self, *, default_tz: tzinfo = UTC, year: int | None = None) -> None:
        self._ctx = _Context(default_tz, year or datetime.now(tz=UTC).year)
        self._current: _Format | None = None
        self.format: str | None = None

    def find(self, line: str) -> TimestampMatch | None:
        """The timestamp at the start of ``line`` (or after a short prefix), or None."""
        current = self._current
        if current is not None:
            found = self._try(current, line)
            if found is not None:
                return found
        for fmt in _FORMATS:
            if fmt is current:
                continue
            found = self._try(fmt, line)
            if found is not None:
                self._current = fmt
                self.format = fmt[0]
                return found
        return None

    def _try(self, fmt: _Format, line: str) -> TimestampMatch | None:
        name, pattern, parse, anywhere = fmt
        m = pattern.search(line, 0, _PREFIX_SEARCH) if anywhere else pattern.match(line)
        if m is None:
            return None
        try:
            return TimestampMatch(parse(m, self._ctx), m.end(), name, m.start())
        except ValueError:  # 2026-13-45, "Foo 12 10:00:00": looks like a time, is not one
            return None

    def parse_value(self, value: object) -> datetime | None:
        """A timestamp from a JSON value: an epoch number or a string in any known format."""
        if isinstance(value, bool):
            return None
        if isinstance(value, int | float):
            return epoch_to_datetime(float(value))
        if isinstance(value, str):
            text = value.strip()
            if text.replace(".", "", 1).isdigit():
                return epoch_to_datetime(float(text))
            found = self.find(text)
            return found.time if found is not None else None
        return None


def parse_time(text: str, *, default_tz: tzinfo = UTC) -> datetime:
    """A user-given time (``--since``/``--until``) in any known format; ValueError says what is accepted."""
    found = TimestampDetector(default_tz=default_tz).parse_value(text)
    if found is None:
        raise ValueError(f"cannot read {text!r} as a time; use ISO 8601 such as 2026-11-24T02:17:33Z")
    return found
