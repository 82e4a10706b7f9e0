"""How a monorepo's roots go out to the check workers: in what order, what each weighs, where a run may be cut.

The workers take contiguous runs of roots (:mod:`~infraleash.checks.workers`), and a worker parses a file once
however many of its roots load it (the parse cache is keyed by the file and by its content). Work is done twice
only where a run is cut between roots that load the same files: the local modules of one project, or copies of
one tree (an environment's directory copied for the next, a vendored tree twice). So:

* **order**: as given (sorted: a project's roots are neighbours), except that roots holding a copy of the same file
  (the same name and size, at least ``SHARED_FILE_MIN_BYTES``) follow the first of them (:func:`copies_together`);
* **weight**: the bytes of a root's configuration files, all that is known before parsing;
* **cut cost** of the boundary before each root: how many directories and groups of copies have roots on both
  sides of it (:func:`cut_costs`). A cut between two projects costs nothing; one deep inside a project costs its
  depth. Name and size stand for content and directories for module calls, as nothing is parsed yet: a wrong
  guess only costs a parse, never a finding.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

_CONFIG_SUFFIXES = (".tf", ".tf.json", ".tofu", ".tofu.json")
SHARED_FILE_MIN_BYTES = 256  # smaller files that recur under one name are cheap to parse twice: no tie


def for_workers(roots: Sequence[Path]) -> tuple[list[int], list[float], list[float]]:
    """(the order to hand ``roots`` out in, as indexes; each one's weight and cut cost, in that order)."""
    listed = [_root_files(r) for r in roots]
    order, groups = copies_together(listed)
    paths = [str(roots[i]) for i in order]
    base = os.path.commonpath(paths) if len(paths) > 1 else os.path.dirname(paths[0]) if paths else ""
    weights: list[float] = [max(1, sum(size for _, size in listed[i])) for i in order]
    return order, weights, cut_costs(paths, base, [groups[i] for i in order])


def _root_files(root: Path) -> list[tuple[str, int]]:
    """(name, size) of each configuration file directly in ``root``."""
    try:
        with os.scandir(root) as it:
            return [(e.name, e.stat().st_size) for e in it if e.name.endswith(_CONFIG_SUFFIXES) and e.is_file()]
    except OSError:  # a file, or a directory it cannot read
        return []


def copies_together(listed: Sequence[Sequence[tuple[str, int]]]) -> tuple[list[int], list[int]]:
    """(the order: each group of roots holding copies of the same files right where its first root is; each root's
    group, named by its first root). ``listed``: each root's (name, size) files."""
    group = list(range(len(listed)))  # union-find over roots; a group is named by its first root

    def find(i: int) -> int:
        while group[i] != i:
            group[i] = group[group[i]]
            i = group[i]
        return i

    holder: dict[tuple[str, int], int] = {}
    for i, files in enumerate(listed):
        for key in files:
            if key[1] >= SHARED_FILE_MIN_BYTES:
                a, b = find(i), find(holder.setdefault(key, i))
                group[max(a, b)] = min(a, b)
    groups = [find(i) for i in range(len(listed))]
    return sorted(range(len(listed)), key=lambda i: (groups[i], i)), groups


def cut_costs(paths: Sequence[str], base: str, groups: Sequence[int]) -> list[float]:
    """For each position ``i`` in the order, how many directories below ``base`` and groups of copies have roots
    both before ``i`` and from ``i`` on (position 0: nothing before it, 0). ``paths``: normalised, under ``base``
    (as ``os.path.commonpath`` gives it)."""
    spans: dict[object, list[int]] = {}  # a directory, or ("copies", group) -> [first, last] position

    def seen(key: object, at: int) -> None:
        span = spans.get(key)
        if span is None:
            spans[key] = [at, at]
        else:
            span[1] = at

    skip = len(base.rstrip(os.sep)) + 1 if base else 0  # the paths are under base: its prefix is cut off
    for at, (path, group) in enumerate(zip(paths, groups, strict=True)):
        rel = path[skip:]
        end = rel.find(os.sep)
        while end >= 0:  # every directory the root is in, below base
            seen(rel[:end], at)
            end = rel.find(os.sep, end + 1)
        if rel:
            seen(rel, at)  # its own directory too: roots below it are in it
        seen(("copies", group), at)
    change = [0] * (len(paths) + 1)
    for first, last in spans.values():
        if first < last:  # spans the boundaries first + 1 .. last
            change[first + 1] += 1
            change[last + 1] -= 1
    costs: list[float] = []
    running = 0
    for i in range(len(paths)):
        running += change[i]
        costs.append(float(running))
    return costs
