"""Headers that database servers and logfmt writers put in front of the message.

After the timestamp has been cut off:

- **PostgreSQL** (``log_line_prefix`` ``'%m [%p] %q%u@%d '`` and the like):
  ``UTC [1234] app@orders ERROR:  canceling statement`` -> level error, message
  ``canceling statement``; ``[%p]: [3-1] user=app,db=orders LOG:`` works too. ``LOG``, ``STATEMENT``,
  ``DETAIL``, ``HINT`` and ``CONTEXT`` are info.
- **MySQL 8** error log: ``12 [Warning] [MY-010055] [Server] IP address ...`` -> level warning (``Note`` and
  ``System`` are info), thread id, error code and subsystem removed.
- **logfmt** (``time=... level=warn msg="pool exhausted" host=api-2 wait_ms=3000``): :func:`parse_logfmt`
  returns the pairs; the caller takes time, level, message and origin fields from them and keeps the rest.
"""

from __future__ import annotations

import re

_ZONE = r"(?:(?:UTC|GMT|Z)\s+)?"
_POSTGRES = re.compile(
    _ZONE + r"\[(\d+)\](?::\s*\[\d+-\d+\])?\s+(?:(?:[\w.$\[\]-]*@[\w.$\[\]-]*|(?:user|db|app|client)=\S*)\s+)?"
    r"(LOG|ERROR|WARNING|FATAL|PANIC|NOTICE|INFO|DEBUG[1-5]?|DETAIL|HINT|STATEMENT|CONTEXT|LOCATION):\s+")
_POSTGRES_LEVELS = {"ERROR": "error", "FATAL": "critical", "PANIC": "critical", "WARNING": "warning",
                    "NOTICE": "info", "INFO": "info", "LOG": "info", "DETAIL": "info", "HINT": "info",
                    "STATEMENT": "info", "CONTEXT": "info", "LOCATION": "info"}
_MYSQL = re.compile(r"(\d+)\s+\[(System|Warning|Error|Note|ERROR|Warn)\]\s+(?:\[MY-\d+\]\s+)?(?:\[\w+\]\s+)?")
_MYSQL_LEVELS = {"system": "info", "note": "info", "warning": "warning", "warn": "warning", "error": "error"}
_ZONE_WORD = re.compile(r"(?:UTC|GMT)\s+")

_LOGFMT_PAIR = re.compile(r'([\w.\-/]+)=("(?:[^"\\]|\\.)*"|\S*)')
_LOGFMT_START = re.compile(r"[\w.\-]+=")


def strip_server_header(body: str) -> tuple[str | None, str] | None:
    """(level, message) when ``body`` starts with a PostgreSQL or MySQL header, else None."""
    m = _POSTGRES.match(body)
    if m is not None:
        level = m.group(2)
        return _POSTGRES_LEVELS.get(level, "debug"), body[m.end():].strip()
    m = _MYSQL.match(body)
    if m is not None:
        return _MYSQL_LEVELS[m.group(2).lower()], body[m.end():].strip()
    return None


def strip_zone_word(body: str) -> str:
    """``UTC message`` -> ``message``: the zone word some writers put after the time (read as UTC already)."""
    m = _ZONE_WORD.match(body)
    return body[m.end():] if m is not None else body


def parse_logfmt(line: str) -> dict[str, str] | None:
    """The pairs of a logfmt line (quoted values unquoted), or None when the line is not logfmt: it must
    start with ``key=`` and be made of pairs (at least three of them)."""
    if not _LOGFMT_START.match(line):
        return None
    pairs: dict[str, str] = {}
    pos = 0
    n = len(line)
    while pos < n:
        while pos < n and line[pos] == " ":
            pos += 1
        if pos >= n:
            break
        m = _LOGFMT_PAIR.match(line, pos)
        if m is None:
            return None
        value = m.group(2)
        if value.startswith('"') and value.endswith('"') and len(value) >= 2:
            value = value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        pairs[m.group(1)] = value
        pos = m.end()
    return pairs if len(pairs) >= 3 else None
