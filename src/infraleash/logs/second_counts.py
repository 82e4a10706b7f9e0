"""Events per epoch second, in memory bounded by the time span rather than by the number of lines.

A ``Counter[int]`` costs about 100 bytes per distinct second; a template that fires every second on six
hosts for six hours holds 130,000 of them, and the count of such entries keeps growing with the input as
more (template, host, second) cells fill.  :class:`SecondCounts` starts as a dict and, once it is dense
enough that an array is smaller (``DENSE_FACTOR`` slots per entry), switches to an ``array('I')`` of one
4-byte count per second between its first and last second.  A far-off second (a clock jump) that would
stretch the array past ``DENSE_FACTOR`` times the filled seconds goes to a small side dict instead.

It reads like a ``Counter[int]``: ``c[s]`` (0 when absent), iteration over the seconds with events in time
order, ``items()``, ``values()``, ``len()``, ``update()``.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator, Mapping

DENSE_AFTER = 64  # entries before the dense form is considered
DENSE_FACTOR = 16  # an array slot costs 4 bytes, a dict entry ~64+: dense when span <= 16 x entries
_SLACK = 4096  # seconds an array may grow by without the density check


class SecondCounts:
    """Counts per epoch second (see the module docstring)."""

    __slots__ = ("_dict", "_base", "_dense", "_filled", "_side")

    def __init__(self, counts: Mapping[int, int] | None = None) -> None:
        self._dict: dict[int, int] | None = {}
        self._base = 0
        self._dense: array[int] | None = None
        self._filled = 0  # seconds with events in the dense array
        self._side: dict[int, int] = {}
        if counts:
            self.update(counts)

    # -- writing ------------------------------------------------------------------------------------

    def add(self, second: int, n: int = 1) -> None:
        d = self._dict
        if d is not None:
            d[second] = d.get(second, 0) + n
            if len(d) > DENSE_AFTER and (max(d) - min(d) + 1) <= DENSE_FACTOR * len(d):
                self._to_dense()
            return
        dense = self._dense
        assert dense is not None
        i = second - self._base
        if 0 <= i < len(dense):
            if dense[i] == 0:
                self._filled += 1
            dense[i] += n
            return
        if second in self._side:
            self._side[second] += n
            return
        lo = min(self._base, second)
        hi = max(self._base + len(dense) - 1, second)
        if hi - lo + 1 > DENSE_FACTOR * (self._filled + len(self._side) + 1) + _SLACK:
            self._side[second] = n  # far off: keep it aside rather than stretch the array
            return
        if i >= len(dense):
            dense.extend(array("I", [0]) * (i - len(dense) + 1))
        else:
            self._dense = array("I", [0]) * (-i) + dense
            self._base = second
        self.add(second, n)

    def __setitem__(self, second: int, value: int) -> None:
        self.add(second, value - self[second])

    def update(self, other: Mapping[int, int] | SecondCounts | Iterable[tuple[int, int]]) -> None:
        items = other.items() if isinstance(other, Mapping | SecondCounts) else other
        for second, n in items:
            self.add(second, n)

    def _to_dense(self) -> None:
        d = self._dict
        assert d is not None
        lo, hi = min(d), max(d)
        dense = array("I", [0]) * (hi - lo + 1)
        for s, n in d.items():
            dense[s - lo] = n
        self._base, self._dense, self._filled, self._dict = lo, dense, sum(1 for n in d.values() if n), None

    # -- reading ------------------------------------------------------------------------------------

    def __getitem__(self, second: int) -> int:
        if self._dict is not None:
            return self._dict.get(second, 0)
        dense = self._dense
        assert dense is not None
        i = second - self._base
        if 0 <= i < len(dense):
            return dense[i]
        return self._side.get(second, 0)

    def get(self, second: int, default: int = 0) -> int:
        return self[second] or default

    def items(self) -> Iterator[tuple[int, int]]:
        """(second, count) for every second with events, in time order."""
        if self._dict is not None:
            yield from sorted((s, n) for s, n in self._dict.items() if n)
            return
        dense = self._dense
        assert dense is not None
        side = sorted(self._side.items())
        k = 0
        base = self._base
        before = [(s, n) for s, n in side if s < base]
        after = [(s, n) for s, n in side if s >= base]
        yield from before
        for i, n in enumerate(dense):
            if n:
                s = base + i
                while k < len(after) and after[k][0] < s:
                    yield after[k]
                    k += 1
                yield s, n
        yield from after[k:]

    def __iter__(self) -> Iterator[int]:
        return (s for s, _ in self.items())

    def keys(self) -> Iterator[int]:
        return iter(self)

    def values(self) -> Iterator[int]:
        return (n for _, n in self.items())

    def __len__(self) -> int:
        if self._dict is not None:
            return sum(1 for n in self._dict.values() if n)
        return self._filled + len(self._side)

    def __bool__(self) -> bool:
        return len(self) > 0

    def __contains__(self, second: object) -> bool:
        return isinstance(second, int) and self[second] > 0

    def __eq__(self, other: object) -> bool:
        if isinstance(other, SecondCounts | Mapping):
            return dict(self.items()) == {s: n for s, n in other.items() if n}
        return NotImplemented

    def __repr__(self) -> str:
        return f"SecondCounts({dict(self.items())})"
