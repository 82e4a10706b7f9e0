"""The common currency: findings, severities and review verdicts.

Every part of infraleash that judges something (static checks, plan analysis,
the review that joins them) reports :class:`Finding` objects.  JSON output of
``check`` and ``review`` is ``Finding.model_dump(mode="json")`` so that a CI job
or an agent can consume both with one parser.

:class:`Finding` is a slotted dataclass, not a pydantic model: every command imports it and
pydantic's import alone costs more than a one-file ``check`` may take (BENCHMARKS.md, One-file
check).  It keeps the model API its callers use (``model_dump``, ``model_copy``,
``model_validate``) and pydantic models still hold it as a field (``ReviewReport.findings``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from pathlib import PurePath
from typing import Any


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


@dataclass(slots=True, kw_only=True)
class Finding:
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
    details: dict[str, Any] = field(default_factory=dict)
    suppressed: str | None = None  # the reason, when a suppression matched

    def __post_init__(self) -> None:  # the enums from their values, as the JSON document carries them
        # (the type tests first: rules pass the members themselves, and an Enum call costs ~0.5 us)
        if type(self.kind) is not Kind:
            self.kind = Kind(self.kind)
        if type(self.severity) is not Severity:
            self.severity = Severity(self.severity)
        if type(self.outcome) is not Outcome:
            self.outcome = Outcome(self.outcome)

    @property
    def location(self) -> str:
        if self.file and self.line:
            return f"{self.file}:{self.line}"
        return self.file or self.address or ""

    def model_dump(self, *, mode: str = "python", exclude_defaults: bool = False) -> dict[str, Any]:
        """The fields as a dict; ``mode="json"``: JSON values only (enums as their values)."""
        out: dict[str, Any] = {}
        for f in _FIELDS:
            value = getattr(self, f.name)
            if exclude_defaults and value == _DEFAULTS[f.name]:
                continue
            out[f.name] = jsonable(value) if mode == "json" else value
        return out

    def model_copy(self, *, update: dict[str, Any] | None = None) -> Finding:
        """A copy with ``update``'s fields replaced (``details`` is shared unless replaced, as pydantic does)."""
        if type(self) is not Finding or (update and not update.keys() <= _NAMES):
            return dataclasses.replace(self, **(update or {}))  # a subclass, or an unknown field (its error)
        # field by field: a third of dataclasses.replace's cost (every finding of a `check -r` is copied)
        new = _new_finding(Finding)
        for name in _NAMES:
            setattr(new, name, getattr(self, name))
        if update:
            for name, value in update.items():
                setattr(new, name, value)
            new.__post_init__()
        return new

    @classmethod
    def model_validate(cls, data: Finding | dict[str, Any]) -> Finding:
        """A finding from one of :meth:`model_dump`'s dicts (the JSON document's ``findings`` entries)."""
        if isinstance(data, Finding):
            return data
        names = {f.name for f in _FIELDS}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError(f"not a finding: unknown field(s) {', '.join(unknown)}")
        return cls(**data)


_FIELDS = dataclasses.fields(Finding)
_NAMES = frozenset(f.name for f in _FIELDS)
_new_finding = object.__new__
_DEFAULTS: dict[str, Any] = {f.name: f.default_factory() if f.default_factory is not dataclasses.MISSING
                             else f.default for f in _FIELDS}


def jsonable(value: Any) -> Any:
    """``value`` with JSON types only, as pydantic's ``mode="json"`` gives them for the values rules put in details."""
    if value is None or isinstance(value, (bool, int, float)) and not isinstance(value, Enum):
        return value
    if isinstance(value, Enum):
        return jsonable(value.value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, dict):
        return {str(jsonable(k)): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if isinstance(value, PurePath):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable(dataclasses.asdict(value))
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    return str(value)


def worst(findings: list[Finding]) -> Severity | None:
    """The highest severity among active (unsuppressed, failed) findings."""
    active = [f.severity for f in findings if f.suppressed is None and f.outcome is Outcome.FAIL]
    return max(active, key=lambda s: s.rank) if active else None
