"""A rule: a small, pure, self-documenting unit.

A rule is a function of (resource, context) -> results, plus its documentation.
Rules keep no state, read no environment and do not register themselves on
import: ``infraleash.checks.registry.all_rules()`` lists them explicitly.

    RULE = Rule(
        id="AWS-S3-VERSIONING",
        title="S3 bucket has versioning disabled",
        severity=Severity.MEDIUM,
        kind=Kind.SECURITY,
        resource_types=("aws_s3_bucket",),
        why="Without versioning an overwritten or deleted object is gone ...",
        fail_example='resource "aws_s3_bucket" "fail" { bucket = "x" }',
        pass_example='...',
        check=_check,
    )

The examples are test data: the suite loads each example as a configuration and
asserts the rule fires on ``fail_example`` (at the resource named ``fail``) and
stays silent on ``pass_example``.  ``unknown_example`` (optional) must give an
UNKNOWN outcome.  A rule that only ever reports what could not be checked
(``unknown_only=True``) gives UNKNOWN findings on ``fail_example``.

An example may span several files: a line ``# file: NAME`` starts a new file (e.g. a
``.terraform.lock.hcl`` beside ``main.tf``).  ``example_policy`` (optional, YAML) is the
``infraleash.yaml`` the examples are checked with (for policy-driven rules such as
provider pins or allowed module sources).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from infraleash.findings import Kind, Outcome, Severity
from infraleash.terraform.config import Block, Config


@dataclass(frozen=True)
class Result:
    """A rule's answer for one resource: it failed, or could not be decided."""

    message: str
    outcome: Outcome = Outcome.FAIL
    attribute: str | None = None  # for the line number
    block: Block | None = None  # when the finding is on another block than the one checked
    details: dict[str, Any] = field(default_factory=dict)


T = TypeVar("T")


@dataclass(frozen=True)
class CheckContext:
    """What a rule may look at besides the resource: the whole configuration and the policy."""

    config: Config
    policy: Any  # infraleash.policy.Policy (Any to keep rules importable without it)
    # facts several rules derive from the same block, for this one check of this configuration (remembered)
    _facts: dict[tuple[str, int], tuple[Block | None, Any]] = field(default_factory=dict, compare=False, repr=False)

    def fact(self, name: str, block: Block | None, derive: Callable[[], T]) -> T:
        """``derive()``, worked out once per block (``None``: once) for this check: five IAM rules read each
        policy's statements, a conventions rule the house style of every resource name.

        Keyed by the block's identity (the block is kept with the answer, so the key cannot be reused);
        a context lives for one check of one configuration, so an edited file is read afresh next time.
        """
        key = (name, id(block))
        hit = self._facts.get(key)
        if hit is not None and hit[0] is block:
            return cast(T, hit[1])
        value = derive()
        self._facts[key] = (block, value)
        return value


CheckFn = Callable[[Block, CheckContext], Iterable[Result]]
ConfigCheckFn = Callable[[CheckContext], Iterable[Result]]


def no_resource_check(_block: Block, _ctx: CheckContext) -> Iterable[Result]:
    """``Rule.check`` of a rule that only has a ``config_check`` (or whose findings come from elsewhere)."""
    return ()


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    severity: Severity
    kind: Kind
    resource_types: tuple[str, ...]
    why: str
    fail_example: str
    pass_example: str
    check: CheckFn
    unknown_example: str | None = None
    checkov_ids: tuple[str, ...] = ()  # the equivalent Checkov checks, for side-by-side benchmarks
    references: tuple[str, ...] = ()  # documentation the rule is based on
    example_policy: str | None = None  # infraleash.yaml (YAML text) the examples are checked with
    # the rule says what could NOT be checked: its findings are always UNKNOWN, fail_example gives one
    unknown_only: bool = False
    # a rule over the whole configuration (Rego rules, an org's cross-resource rules): called once per
    # run; each Result names its block (``Result.block``) for the location
    config_check: ConfigCheckFn | None = None
