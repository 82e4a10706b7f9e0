"""Run rules on HCL text directly (load_text + the rule's check), for behaviour tests."""

from __future__ import annotations

from typing import Any

from infraleash.checks.rule import CheckContext, Result, Rule
from infraleash.findings import Outcome
from infraleash.policy import Policy
from infraleash.terraform.config import Config
from infraleash.terraform.hcl import load_text


def run(rule: Rule, text: str, policy: Policy | None = None) -> list[tuple[str, Result]]:
    """(address, result) for every result the rule gives on the configuration in ``text``."""
    config = load_text(text)
    return run_config(rule, config, policy)


def run_config(rule: Rule, config: Config, policy: Policy | None = None) -> list[tuple[str, Result]]:
    ctx = CheckContext(config=config, policy=policy or Policy())
    out = []
    for block in config.resources:
        if block.type in rule.resource_types or "*" in rule.resource_types:
            for inst in block.instance_blocks or [block]:  # per instance, as the engine checks them
                out.extend((inst.instance_address, r) for r in rule.check(inst, ctx))
    return out


def outcomes(rule: Rule, text: str, **kw: Any) -> dict[str, set[Outcome]]:
    """address -> outcomes the rule gave there."""
    found: dict[str, set[Outcome]] = {}
    for address, result in run(rule, text, **kw):
        found.setdefault(address, set()).add(result.outcome)
    return found


def fails(rule: Rule, text: str) -> set[str]:
    return {a for a, r in run(rule, text) if r.outcome is Outcome.FAIL}


def unknowns(rule: Rule, text: str) -> set[str]:
    return {a for a, r in run(rule, text) if r.outcome is Outcome.UNKNOWN}
