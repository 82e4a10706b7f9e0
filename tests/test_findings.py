"""Finding: a slotted dataclass with the model API its callers use (model_dump, model_copy, model_validate)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infraleash.findings import Finding, Kind, Outcome, Severity
from infraleash.review import ReviewReport


def _finding() -> Finding:
    return Finding(rule="AWS-SG-OPEN-SSH", kind=Kind.SECURITY, severity=Severity.HIGH, message="open",
                   file="main.tf", line=5, details={"ports": (22, 22), "kind": Kind.SECURITY, "file": Path("a/b.tf"),
                                                    "cidrs": frozenset({"0.0.0.0/0"})})


def test_json_dump_is_json_and_round_trips() -> None:
    doc = _finding().model_dump(mode="json")
    assert json.loads(json.dumps(doc)) == doc
    assert doc["kind"] == "security" and doc["outcome"] == "fail" and doc["details"] == {
        "ports": [22, 22], "kind": "security", "file": "a/b.tf", "cidrs": ["0.0.0.0/0"]}
    back = Finding.model_validate(doc)
    assert back.kind is Kind.SECURITY and back.severity is Severity.HIGH and back.outcome is Outcome.FAIL
    assert back.model_dump(mode="json") == doc


def test_exclude_defaults_copy_and_strictness() -> None:
    f = _finding()
    assert set(f.model_dump(mode="json", exclude_defaults=True)) == {"rule", "kind", "severity", "message", "file",
                                                                     "line", "details"}
    moved = f.model_copy(update={"line": 9})
    assert (moved.line, f.line, moved.details is f.details) == (9, 5, True)
    with pytest.raises(TypeError):
        Finding("AWS-X", Kind.SECURITY, Severity.LOW, "positional")  # type: ignore[misc]
    with pytest.raises(ValueError):
        Finding(rule="X", kind="no-such-kind", severity="high", message="m")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown field"):
        Finding.model_validate({**f.model_dump(mode="json"), "severty": "low"})


def test_pydantic_models_hold_findings() -> None:
    report = ReviewReport.model_validate({"path": ".", "verdict": "block", "headline": "h",
                                          "findings": [_finding().model_dump(mode="json")]})
    assert isinstance(report.findings[0], Finding) and report.findings[0].severity is Severity.HIGH
    assert report.model_dump(mode="json")["findings"][0]["details"]["ports"] == [22, 22]
