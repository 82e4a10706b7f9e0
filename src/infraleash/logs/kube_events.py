"""Kubernetes events as people paste them during incidents: ``kubectl get events -o json`` (an ``EventList``,
one ``Event``, or the concatenated objects of ``--watch -o json``; ``v1`` and ``events.k8s.io/v1``) and the
table of ``kubectl get events`` / ``-o wide`` / ``-A``.

An event object says when it was first and last seen and how often (``firstTimestamp``, ``lastTimestamp``,
``count``; newer objects: ``eventTime`` and ``series.lastObservedTime``/``series.count``); the record is
placed at the first sighting and carries the rest in :class:`KubeEvent`.

The table gives only ages (``LAST SEEN`` ``5m``, ``FIRST SEEN`` ``2m3s``), relative to the moment kubectl
ran, which the output does not say; they are placed against a reference time the caller names (the file's
modification time) and the caller reports that it did so.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from infraleash.logs.fields import lookup

_AGE_PART = re.compile(r"(\d+)([dhms])")
_AGE = re.compile(r"^(?:\d+[dhms])+$")
_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
_TABLE_COLUMNS = ("NAMESPACE", "LAST SEEN", "TYPE", "REASON", "OBJECT", "SUBOBJECT", "SOURCE", "MESSAGE",
                  "FIRST SEEN", "COUNT", "NAME")


@dataclass(slots=True)
class KubeEvent:
    """One Kubernetes event object: what happened to which object, how often, from when to when."""

    type: str  # Normal | Warning
    reason: str
    object: str  # kind/name, e.g. Pod/api-7f9c-2kx
    namespace: str | None
    message: str
    count: int
    first: datetime | None
    last: datetime | None
    node: str | None  # the node that reported it (source.host / reportingInstance)

    @property
    def warning(self) -> bool:
        return self.type.lower() == "warning"

    @property
    def text(self) -> str:
        return f"{self.reason} {self.object}: {self.message}"


def is_event(obj: Any) -> bool:
    return isinstance(obj, dict) and "reason" in obj and ("involvedObject" in obj or "regarding" in obj)


def event_from_object(obj: dict[str, Any], parse_time: Callable[[object], datetime | None]) -> KubeEvent:
    involved = obj.get("involvedObject") or obj.get("regarding") or {}
    kind = str(involved.get("kind") or "object")
    name = str(involved.get("name") or "?")
    first = parse_time(obj.get("firstTimestamp")) or parse_time(obj.get("eventTime")) or parse_time(
        lookup(obj, ("deprecatedFirstTimestamp",)))
    last = parse_time(obj.get("lastTimestamp")) or parse_time(lookup(obj, ("series.lastObservedTime",))) or first
    first = first or last
    count = obj.get("count") or lookup(obj, ("series.count", "deprecatedCount")) or 1
    node = lookup(obj, ("source.host", "deprecatedSource.host", "reportingInstance"))
    return KubeEvent(type=str(obj.get("type") or "Normal"), reason=str(obj.get("reason") or "?"),
                     object=f"{kind}/{name}", namespace=involved.get("namespace") or lookup(obj, ("metadata.namespace",)),
                     message=" ".join(str(obj.get("message") or obj.get("note") or "").split()),
                     count=int(count) if str(count).isdigit() else 1, first=first, last=last,
                     node=str(node) if node else None)


def parse_age(text: str) -> timedelta | None:
    """``5m`` / ``2m3s`` / ``3h10m`` / ``4d`` -> timedelta; ``<unknown>`` -> None."""
    text = text.strip()
    if not _AGE.match(text):
        return None
    return timedelta(seconds=sum(int(n) * _UNITS[u] for n, u in _AGE_PART.findall(text)))


def table_columns(header: str) -> list[tuple[str, int]] | None:
    """Column names and start offsets of a ``kubectl get events`` table header, or None."""
    cols: list[tuple[str, int]] = []
    pos = 0
    rest = header.rstrip()
    while pos < len(rest):
        while pos < len(rest) and rest[pos] == " ":
            pos += 1
        for name in _TABLE_COLUMNS:
            if rest.startswith(name, pos):
                cols.append((name, pos))
                pos += len(name)
                break
        else:
            return None
    names = [c for c, _ in cols]
    return cols if "LAST SEEN" in names and "REASON" in names and "MESSAGE" in names else None


def event_from_row(row: str, columns: list[tuple[str, int]], now: datetime) -> KubeEvent | None:
    """One table row, cut at the header's column offsets (a message may contain spaces; it ends where the
    next column starts). Ages are taken back from ``now``."""
    cells: dict[str, str] = {}
    for i, (name, start) in enumerate(columns):
        end = columns[i + 1][1] if i + 1 < len(columns) else len(row)
        cells[name] = row[start:end].strip() if start < len(row) else ""
    last_age = parse_age(cells.get("LAST SEEN", ""))
    first_age = parse_age(cells.get("FIRST SEEN", "")) if "FIRST SEEN" in cells else None
    if not cells.get("REASON"):
        return None
    last = now - last_age if last_age is not None else None
    first = now - first_age if first_age is not None else last
    source = cells.get("SOURCE", "")
    node = source.split(", ", 1)[1] if ", " in source else None
    count = cells.get("COUNT", "1")
    return KubeEvent(type=cells.get("TYPE") or "Normal", reason=cells["REASON"], object=cells.get("OBJECT", "?"),
                     namespace=cells.get("NAMESPACE") or None, message=cells.get("MESSAGE", ""),
                     count=int(count) if count.isdigit() else 1, first=first, last=last, node=node)
