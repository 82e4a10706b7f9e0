"""The common currency: findings, severities and review verdicts.

Every part of infraleash that judges something (static checks, plan analysis,
the review that joins them) reports :class:`Finding` objects.  JSON output of
``check`` and ``review`` is ``Finding.model_dump(mode="json")`` so that a CI job
or an agent can consume both with one parser.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field


class Severity(StrEnum):
    """How bad a finding is, in increasing order."""

    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITY_ORDER.index(self)

    def at_least(self, other: Severity) -> bool:
        return self.rank >= other.rank


_SEVERITY_ORDER = [Severity.INFO, Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL]


class Kind(StrEnum):
    """What family of problem a finding belongs to."""

    # static checks
    HALLUCINATION = "hallucination"
    SECURITY = "security"
    MODULE_SOURCE = "module_source"
    PROVIDER_CONSTRAINT = "provider_constraint"
    CONVENTION = "convention"
    # plan analysis
    DESTROY = "destroy"
    REPLACE = "replace"
    DATA_LOSS = "data_loss"
    DISRUPTION = "disruption"
    PROTECTED = "protected"
    DRIFT = "drift"
    APPLY_FAILS = "apply_fails"  # planned, but the provider rejects it at apply
    STATE_OPERATION = "state_operation"  # import / removed (forget) / moved blocks: state changed, not the cloud
    # input that could not be read (malformed HCL, binary file, ...)
    INPUT = "input"


class Outcome(StrEnum):
    """A rule's answer for one resource: failed, or could not be decided."""

    FAIL = "fail"
    UNKNOWN = "unknown"  # value depends on a variable or is known only after apply


class Verdict(StrEnum):
    """The single answer of a review, for a human, a CI job or an agent."""

    ALLOW = "allow"
    NEEDS_APPROVAL = "needs_approval"
    BLOCK = "block"


class Finding(BaseModel):
    """One thing worth a human's attention, with where it is and why."""

    rule: str
    kind: Kind
    severity: Severity
    message: str
    file: str | None = None
    line: int | None = None
    address: str | None = None
    outcome: Outcome = Outcome.FAIL
    suggestion: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)
    suppressed: str | None = None  # the reason, when a suppression matched

    @property
    def location(self) -> str:
        if self.file and self.line:
            return f"{self.file}:{self.line}"
        return self.file or self.address or ""


def worst(findings: list[Finding]) -> Severity | None:
    """The highest severity among active (unsuppressed, failed) findings."""
    active = [f.severity for f in findings if f.suppressed is None and f.outcome is Outcome.FAIL]
    return max(active, key=lambda s: s.rank) if active else None
