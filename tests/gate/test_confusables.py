"""TR39 skeletons from Unicode's confusables.txt: real look-alike pairs."""

from __future__ import annotations

import pytest

from infraleash.gate.confusables import confusable, prototypes, skeleton


def test_the_unicode_data_is_loaded() -> None:
    table = prototypes()
    assert len(table) > 6000
    assert table["\u0430"] == "a" and table["m"] == "rn"  # Cyrillic а -> a; m -> rn (TR39's own example class)


@pytest.mark.parametrize(("a", "b"), [
    ("\u0430gent-1", "agent-1"),          # Cyrillic а
    ("sre-lead", "\u0455re-l\u0435ad"),  # Cyrillic dze and ie
    ("agent-l", "agent-1"),               # l / 1
    ("admin", "adrnin"),                  # m / rn
    ("agent\u200b-1", "agent-1"),         # a zero-width space is default ignorable
    ("ops\u2010bot", "ops-bot"),          # hyphen U+2010
    ("\u03bfps", "ops"),                  # Greek omicron
    ("paypal", "\U0001d52d\U0001d51e\U0001d536\U0001d52d\U0001d51e\U0001d529"),  # mathematical fraktur
])
def test_look_alike_pairs_share_a_skeleton(a: str, b: str) -> None:
    assert a != b and confusable(a, b)


@pytest.mark.parametrize(("a", "b"), [("agent-1", "agent-2"), ("alice", "bob"), ("sre-lead", "sre-leads")])
def test_different_names_differ(a: str, b: str) -> None:
    assert not confusable(a, b)


def test_skeleton_is_nfd() -> None:
    assert skeleton("\u00e9") == skeleton("e\u0301")
