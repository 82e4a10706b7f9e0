"""Split a log line into its header fields and its message (the part templates are mined from).

With a Loghub-style format string (``<Date> <Time> <Level> <Component>: <Content>``) the split is exact and
the whole line must match.  The format's grammar (:func:`compile_format`), the one Loghub's formats are written in:

* ``<Field>`` is a header field (a name of letters, digits and ``_``; each name once);
* a run of spaces matches any run of whitespace;
* ``( ... )?`` is an optional part (Linux's ``<Component>(\\[<PID>\\])?: <Content>``);
* ``\\x`` is the character ``x`` itself (``\\[``, ``\\|``, ``\\(``);
* every other character is itself: ``.``, ``*``, ``[`` or ``|`` are not regular-expression syntax.

The format is compiled for RE2, whose matching time is linear in the line whatever the format.  Without a
format, a generic leading header (timestamp, level, host, ``proc[pid]:``, ``component:``) is stripped
heuristically.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import re2

_FIELD = re.compile(r"<([A-Za-z_][A-Za-z0-9_]*)>")

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


MAX_FORMAT_CHARS = 2000


class FormatError(ValueError):
    """A ``--log-format`` that the grammar above cannot read (the message says where)."""


@lru_cache(maxsize=64)
def compile_format(log_format: str) -> Any:
    """Turn a format string (the grammar above) into an anchored RE2 pattern with one named group per field."""
    if len(log_format) > MAX_FORMAT_CHARS:
        raise FormatError(f"longer than {MAX_FORMAT_CHARS} characters")
    names: set[str] = set()
    regex, _ = _format_part(log_format, 0, names, optional=False)
    options = re2.Options()
    options.log_errors = False
    try:
        return re2.compile("^" + regex + "$", options)
    except re2.error as e:  # not expected from the grammar's output; said as a format error all the same
        raise FormatError(f"cannot be compiled ({e})") from None


def _format_part(fmt: str, i: int, names: set[str], *, optional: bool) -> tuple[str, int]:
    """The regex of ``fmt[i:]`` up to the ``)?`` closing an optional part (or the end), and where it stopped."""
    out: list[str] = []
    while i < len(fmt):
        c = fmt[i]
        if c == "<" and (m := _FIELD.match(fmt, i)):
            name = m.group(1)
            if name in names:
                raise FormatError(f"<{name}> appears twice (column {i + 1})")
            names.add(name)
            out.append(f"(?P<{name}>.*?)")
            i = m.end()
        elif c == "\\" and i + 1 < len(fmt):
            out.append(re2.escape(fmt[i + 1]))
            i += 2
        elif c == " ":
            while i < len(fmt) and fmt[i] == " ":
                i += 1
            out.append(r"\s+")
        elif c == "(" and _closes(fmt, i + 1):
            inner, i = _format_part(fmt, i + 1, names, optional=True)
            out.append(f"(?:{inner})?")
        elif c == ")" and optional and fmt.startswith(")?", i):
            return "".join(out), i + 2
        else:
            out.append(re2.escape(c))
            i += 1
    return "".join(out), i


def _closes(fmt: str, i: int) -> bool:
    """Whether an optional part opened before ``i`` is closed by a matching ``)?``."""
    depth = 0
    while i < len(fmt):
        c = fmt[i]
        if c == "\\":
            i += 2
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            if depth == 0:
                return fmt.startswith(")?", i)
            depth -= 1
        i += 1
    return False


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
