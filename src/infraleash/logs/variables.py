"""Numeric variables with names and units, read from the record itself.

A name comes from where the value stands in its template:

- a key: ``heap_used_mb=<*>`` (JSON fields reach the template as ``key=value``, nested ones dotted:
  ``jvm.heap_used_mb=<*>``), ``wait:<*>``, ``"latency_ms":<*>``;
- else the words before it, back to the previous variable or a bracketed tag, without trailing
  prepositions: ``[monitor] heap used <*> of <*>`` -> ``heap used``; ``request timed out after <*>`` ->
  ``request timed out``.

A unit comes from the value (``800MB``, ``35ms``, ``97%``, ``1.2 GB``), else the token after it
(``<*> MB``), else the key's suffix (``_mb``, ``_ms``, ``_bytes``, ``_pct``). Values of one series are
converted to the unit of its first value (``1.2 GB`` after ``900MB`` is 1200 MB), with the factor the unit
says (``kB``/``MB``/``GB``: powers of 1000, ``KiB``/``MiB``/``GiB``: powers of 1024); a value whose unit is
of another family (``ms`` in a series of ``MB``) is left out of the series.
"""

from __future__ import annotations

import re
from functools import lru_cache

from infraleash.logs.masking import WILDCARD

_SIZE = {"B": 1.0, "bytes": 1.0, "kB": 1e3, "KB": 1e3, "K": 1e3, "k": 1e3, "MB": 1e6, "M": 1e6, "GB": 1e9,
         "G": 1e9, "TB": 1e12, "KiB": 2.0**10, "MiB": 2.0**20, "GiB": 2.0**30, "TiB": 2.0**40}
_TIME = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "sec": 1.0, "secs": 1.0, "seconds": 1.0,
         "m": 60.0, "min": 60.0, "mins": 60.0, "h": 3600.0, "d": 86400.0}
_PERCENT = {"%": 1.0}
FAMILIES = {**{u: ("size", f) for u, f in _SIZE.items()}, **{u: ("duration", f) for u, f in _TIME.items()},
            **{u: ("percent", f) for u, f in _PERCENT.items()}}
_KEY_UNITS = {"mb": "MB", "kb": "KB", "gb": "GB", "mib": "MiB", "gib": "GiB", "kib": "KiB", "bytes": "B",
              "ms": "ms", "us": "us", "ns": "ns", "seconds": "s", "secs": "s", "sec": "s", "pct": "%",
              "percent": "%"}
_QUANTITY = re.compile(r"^[(\[=:]?(-?\d+(?:\.\d+)?)\s?([A-Za-zµ%]{0,7})[)\],;.]?$")
_KEY_BEFORE = re.compile(r"""^[{(\[,]*["']?([A-Za-z_][\w.\-/]*)["']?[=:]$""")
_WORD = re.compile(r"^[A-Za-z][A-Za-z_\-]*[:,]?$")
_STOP = frozenset({"of", "in", "to", "for", "after", "by", "at", "is", "was", "=", "on", "from", "with", "than",
                   "over", "now", "the", "a", "an", "and", "took", "reached"})
MAX_NAME_WORDS = 3


def parse_quantity(text: str) -> tuple[float, str | None] | None:
    """``800MB`` -> (800.0, "MB"); ``1.2 GB`` -> (1.2, "GB"); ``97%`` -> (97.0, "%"); ``512`` -> (512.0, None);
    ``a1`` or ``v2.1`` -> None. An unknown suffix is not a unit."""
    m = _QUANTITY.match(text.strip())
    if m is None:
        return None
    unit = m.group(2) or None
    if unit is not None and unit not in FAMILIES:
        return None
    return float(m.group(1)), unit


def unit_after(template: str, position: int) -> str | None:
    """A unit written as the token after variable ``position`` (``<*> MB``)."""
    index, tokens = _token_of(template, position)
    if index is None or index + 1 >= len(tokens):
        return None
    word = tokens[index + 1].rstrip(",;.)")
    return word if word in FAMILIES and (len(word) > 1 or word == "%") else None


def unit_of_key(name: str | None) -> str | None:
    """``heap_used_mb`` -> ``MB``; ``latency_ms`` -> ``ms``."""
    if not name:
        return None
    tail = re.split(r"[._\-]", name)[-1].lower()
    return _KEY_UNITS.get(tail)


def convert(value: float, unit: str | None, to: str | None) -> float | None:
    """``value`` in ``unit`` expressed in ``to``; None when the two are not of one family."""
    if unit == to:
        return value
    if unit is None or to is None:
        return None
    a, b = FAMILIES.get(unit), FAMILIES.get(to)
    if a is None or b is None or a[0] != b[0]:
        return None
    return value * a[1] / b[1]


def _token_of(template: str, position: int) -> tuple[int | None, list[str]]:
    tokens = template.split()
    seen = 0
    for i, t in enumerate(tokens):
        k = t.count(WILDCARD)
        if position < seen + k:
            return i, tokens
        seen += k
    return None, tokens


@lru_cache(maxsize=4096)
def variable_name(template: str, position: int) -> str | None:
    """The name of variable ``position`` of ``template``: its key, else the words before it; None if neither."""
    index, tokens = _token_of(template, position)
    if index is None:
        return None
    token = tokens[index]
    before = token.split(WILDCARD, 1)[0]
    key = _KEY_BEFORE.match(before) if before else None
    if key is not None:
        return key.group(1)
    if before and any(c.isalpha() for c in before):
        return None  # glued to a word: ``HikariPool-<*>`` is part of a name, not a measure
    words: list[str] = []
    for t in reversed(tokens[:index]):
        if WILDCARD in t or t.startswith(("[", "(", "{", "<")) or not _WORD.match(t):
            break
        words.append(t.rstrip(":,"))
        if t.endswith((":", ",")) and len(words) > 1:
            break
    words.reverse()
    while words and words[-1].lower() in _STOP:
        words.pop()
    if not words:
        return None
    return " ".join(words[-MAX_NAME_WORDS:])
