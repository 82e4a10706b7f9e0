"""Split a log line into its header fields and its message (the part templates are mined from).

With a Loghub-style format string (``<Date> <Time> <Level> <Component>: <Content>``) the split is exact:
``<Field>`` names a header field, the text between fields is a regular expression in which every run of
spaces matches any run of whitespace, and the whole line must match. Without one, a generic leading header
(timestamp, level, host, ``proc[pid]:``, ``component:``) is stripped heuristically.
"""

from __future__ import annotations

import re
from functools import lru_cache

_FIELD = re.compile(r"<([A-Za-z_]\w*)>")

_MONTHS = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*"
_TIMESTAMP = (
    r"(?:\[?"
    r"(?:\d{4}-\d{2}-\d{2}[T ]\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?"  # ISO 8601
    rf"|{_MONTHS}\s+\d{{1,2}}\s+\d{{1,2}}:\d{{2}}:\d{{2}}(?:\.\d+)?(?:\s+\d{{4}})?"  # syslog
    rf"|(?:\w{{3}}\s+)?{_MONTHS}\s+\d{{1,2}}\s+\d{{1,2}}:\d{{2}}:\d{{2}}(?:\.\d+)?\s+\d{{4}}"  # ctime
    rf"|\d{{1,2}}/{_MONTHS}/\d{{4}}:\d{{2}}:\d{{2}}:\d{{2}}\s*[+-]\d{{4}}"  # apache / nginx
    r"|\d{2}/\d{2}/\d{2,4}\s+\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?"  # 01/02/24 10:00:00
    r"|\d{2}-\d{2}\s+\d{2}:\d{2}:\d{2}\.\d+"  # android logcat
    r"|\d{10}(?:\.\d+)?"  # epoch seconds
    r")\]?)"
)
_LEVEL = r"(?:\[?(?:TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|ERR|CRITICAL|CRIT|FATAL|SEVERE|ALERT|EMERG|[VDIWEF])\]?:?)"
_GENERIC = re.compile(
    rf"^\s*(?P<timestamp>{_TIMESTAMP})"
    rf"(?:,?\s+(?P<level>{_LEVEL})(?=\s))?"
    r"(?:\s+(?P<host>[\w.-]+)(?=\s+[\w./-]+(?:\[\d+\])?:\s))?"
    r"(?:\s+(?P<component>[\w./-]+)(?:\[(?P<pid>\d+)\])?:(?=\s))?"
    rf"(?:\s+(?P<level2>{_LEVEL})(?=\s))?"
    r"\s*"
)


@lru_cache(maxsize=64)
def compile_format(log_format: str) -> re.Pattern[str]:
    """Turn a ``<Field>`` format string into an anchored regex with one named group per field."""
    parts = _FIELD.split(log_format)
    regex = ""
    for i, part in enumerate(parts):
        if i % 2 == 0:
            regex += re.sub(r" +", r"\\s+", part)
        else:
            regex += f"(?P<{part}>.*?)"
    return re.compile("^" + regex + "$")


def split_header(line: str, log_format: str | None = None) -> tuple[dict[str, str], str]:
    """Return ``(header fields, message)``.

    With ``log_format`` the fields are the format's ``<Field>`` names and the message is ``<Content>``; a line
    that does not match the format is returned whole as the message with no fields. Without it, the generic
    header keys are ``timestamp``, ``level``, ``host``, ``component`` and ``pid`` (only those found).
    """
    line = line.rstrip("\r\n")
    if log_format is not None:
        m = compile_format(log_format).match(line)
        if not m:
            return {}, line.strip()
        fields = {k: v for k, v in m.groupdict().items() if k != "Content" and v is not None}
        return fields, (m.group("Content") if "Content" in m.groupdict() else "").strip()
    m = _GENERIC.match(line)
    if not m:
        return _level_only(line)
    fields = {k: v for k, v in m.groupdict().items() if v}
    if "level2" in fields:
        fields.setdefault("level", fields["level2"])
        del fields["level2"]
    if "level" in fields:
        fields["level"] = fields["level"].strip("[]:")
    return fields, line[m.end() :].strip()


_LEADING_LEVEL = re.compile(rf"^\s*(?P<level>{_LEVEL})\s+")


def _level_only(line: str) -> tuple[dict[str, str], str]:
    m = _LEADING_LEVEL.match(line)
    if m and len(m.group("level").strip("[]:")) > 1:
        return {"level": m.group("level").strip("[]:")}, line[m.end() :].strip()
    return {}, line.strip()
