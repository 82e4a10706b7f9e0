"""Report renderers: JSON fields, SARIF 2.1.0 structure, JUnit XML, Markdown headline."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from xml.etree import ElementTree as ET

from infraleash.checks.report import render
from infraleash.findings import Finding, Kind, Outcome, Severity

FINDINGS = [
    Finding(rule="TF-UNKNOWN-ARGUMENT", kind=Kind.HALLUCINATION, severity=Severity.HIGH, message="unknown `x`",
            file="main.tf", line=3, address="aws_vpc.v", suggestion="y"),
    Finding(rule="AWS-S3-X", kind=Kind.SECURITY, severity=Severity.MEDIUM, message="maybe", file="s3.tf", line=9,
            address="aws_s3_bucket.b", outcome=Outcome.UNKNOWN),
    Finding(rule="TF-MODULE-NO-VERSION", kind=Kind.MODULE_SOURCE, severity=Severity.MEDIUM, message="no version",
            file="main.tf", line=12, address="module.m", suppressed="policy: vendored"),
]
SUMMARY = {"root": ".", "files_checked": 2, "resources_checked": 3, "findings": 1, "unknown": 1, "suppressed": 1,
           "by_severity": {"high": 1}, "duration_s": 0.1, "notes": [], "errors": []}

def test_json_has_the_documented_fields() -> None:
    doc = json.loads(render(FINDINGS, SUMMARY, "json"))
    first = doc["findings"][0]
    for key in ("rule", "kind", "severity", "file", "line", "address", "message"):
        assert key in first
    assert doc["summary"]["suppressed"] == 1
    assert [f["outcome"] for f in doc["findings"]].count("unknown") == 1


def test_sarif_is_valid_2_1_0(assert_valid_sarif: Callable[[dict[str, Any]], None]) -> None:
    doc = json.loads(render(FINDINGS, SUMMARY, "sarif"))
    assert_valid_sarif(doc)
    run = doc["runs"][0]
    rules = [r["id"] for r in run["tool"]["driver"]["rules"]]
    for result in run["results"]:
        assert rules[result["ruleIndex"]] == result["ruleId"]
    suppressed = [r for r in run["results"] if "suppressions" in r]
    assert len(suppressed) == 1 and suppressed[0]["suppressions"][0]["justification"] == "policy: vendored"


def test_junit_counts() -> None:
    root = ET.fromstring(render(FINDINGS, SUMMARY, "junit"))
    assert root.get("tests") == "3" and root.get("failures") == "1" and root.get("skipped") == "2"
    assert {s.get("name") for s in root.iter("testsuite")} == {"main.tf", "s3.tf"}


def test_markdown_headline_first_and_details_collapsed() -> None:
    text = render(FINDINGS, SUMMARY, "markdown")
    assert text.splitlines()[0].startswith("### :x: infraleash: 1 finding(s) (1 high)")
    assert "<details><summary>Suppressed (1)</summary>" in text
    assert render([], SUMMARY, "markdown").startswith("### :white_check_mark:")


def test_human_groups_by_file() -> None:
    text = render(FINDINGS, SUMMARY, "human")
    assert text.index("main.tf") < text.index("TF-UNKNOWN-ARGUMENT") < text.index("s3.tf")
    assert "suppressed: policy: vendored" in text
