"""Every rule's documented examples are test data: fail fires at `fail`, pass is silent, unknown is UNKNOWN."""

from __future__ import annotations

import pytest

from infraleash.checks.engine import check_example
from infraleash.checks.registry import all_rules
from infraleash.checks.rule import Rule
from infraleash.findings import Outcome

RULES = all_rules()


def _at_fail(address: str | None) -> bool:
    return address is None or address.endswith(".fail") or ".fail." in address or address.endswith(".fail[0]")


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_fail_example_fires_at_fail(rule: Rule) -> None:
    expected = Outcome.UNKNOWN if rule.unknown_only else Outcome.FAIL
    findings = [f for f in check_example(rule, rule.fail_example) if f.outcome is expected]
    assert findings, f"{rule.id}: fail_example produced no finding"
    assert all(_at_fail(f.address) for f in findings), [f.address for f in findings]
    assert all(f.file and f.line for f in findings), [f.location for f in findings]


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_pass_example_is_silent(rule: Rule) -> None:
    findings = check_example(rule, rule.pass_example)
    assert findings == [], [f.message for f in findings]


WITH_UNKNOWN = [r for r in RULES if r.unknown_example]


@pytest.mark.parametrize("rule", WITH_UNKNOWN, ids=[r.id for r in WITH_UNKNOWN])
def test_unknown_example_is_unknown(rule: Rule) -> None:
    assert rule.unknown_example is not None
    findings = check_example(rule, rule.unknown_example)
    assert findings and all(f.outcome is Outcome.UNKNOWN for f in findings), [f.message for f in findings]


def test_every_rule_is_documented() -> None:
    for rule in RULES:
        assert rule.id and rule.title and rule.why and rule.fail_example and rule.pass_example, rule.id
    assert len({r.id for r in RULES}) == len(RULES)
