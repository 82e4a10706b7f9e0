"""The corpus itself: enough attacks, every class, stable unique ids, every one reachable on a surface."""

from __future__ import annotations

from collections import Counter

from attacks._corpus import SURFACES, load_corpus

CLASSES = {"code-execution", "owned-files", "credentials", "environment", "wrappers", "paths", "approvals",
           "hostile-state"}


def test_at_least_300_attacks_with_unique_ids() -> None:
    attacks = load_corpus()
    ids = Counter(a.id for a in attacks)
    assert not [i for i, n in ids.items() if n > 1], "duplicate attack ids"
    assert len(attacks) >= 300, len(attacks)


def test_every_class_is_covered_on_every_surface() -> None:
    for cls in CLASSES:
        rows = [a for a in load_corpus() if a.cls == cls]
        assert rows, f"no attacks of class {cls}"
        for surface in SURFACES:
            assert [a for a in rows if surface in a.surfaces], f"class {cls} is never run on {surface}"


def test_exec_only_attacks_say_why() -> None:
    for a in load_corpus():
        if a.surfaces == ["exec"]:
            assert a.why_exec_only, f"{a.id}: exec only, but why_exec_only is empty"
