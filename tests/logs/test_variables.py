"""Variable names from keys or the words before them; units from the value, the next token or the key."""

from __future__ import annotations

import pytest

from infraleash.logs.variables import convert, parse_quantity, unit_after, unit_of_key, variable_name


@pytest.mark.parametrize(("template", "position", "name"), [
    ("[monitor] heap used <*> of <*>", 0, "heap used"),
    ("heap status jvm.heap_used_mb=<*>", 0, "jvm.heap_used_mb"),
    ('{"latency_ms":<*>,', 0, "latency_ms"),
    ("pool wait:<*> active=<*>", 1, "active"),
    ("HikariPool-<*> - Connection is not available, request timed out after <*>.", 1, "request timed out"),
    ("duration: <*> ms statement: SELECT <*>", 0, "duration"),
    ("HikariPool-<*> - Connection", 0, None),  # part of a name, not a measure
    ("[monitor] heap used <*> of <*>", 1, None),  # only a preposition before it
])
def test_variable_names(template: str, position: int, name: str | None) -> None:
    assert variable_name(template, position) == name


def test_units_from_the_value_the_next_token_and_the_key() -> None:
    assert parse_quantity("800MB") == (800.0, "MB") and parse_quantity("1.2 GB") == (1.2, "GB")
    assert parse_quantity("97%") == (97.0, "%") and parse_quantity("35ms,") == (35.0, "ms")
    assert parse_quantity("512") == (512.0, None) and parse_quantity("a1") is None
    assert parse_quantity("12abc") is None  # an unknown suffix is no unit
    assert unit_after("heap used <*> MB of <*> MB", 0) == "MB" and unit_after("retry <*> s", 0) is None
    assert unit_of_key("jvm.heap_used_mb") == "MB" and unit_of_key("latency_ms") == "ms"
    assert unit_of_key("cpu_pct") == "%" and unit_of_key("requests") is None


def test_conversion_stays_within_a_family() -> None:
    assert convert(1.2, "GB", "MB") == pytest.approx(1200.0) and convert(1.0, "GiB", "MiB") == 1024.0
    assert convert(1500.0, "ms", "s") == 1.5 and convert(3.0, "ms", "MB") is None
