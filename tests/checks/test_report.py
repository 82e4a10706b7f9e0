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


def _through_rich(findings: list[Finding], summary: dict[str, Any], color: bool) -> str:
    """The human report with every line laid out by rich (what render_human's plain fast path must match)."""
    from rich.text import Text

    from infraleash.checks.report import _console, _human_lines

    console = _console(color)
    for pieces, _plain in _human_lines(findings, summary):
        console.print(Text.assemble(*pieces))
    return console.file.getvalue()


def test_human_plain_lines_are_what_rich_prints() -> None:
    import random

    rng = random.Random(11)
    pieces = [*"abcxyz[]/\\.-_:=\"'", " ", "\t", "\x07", "é", "漢", "[bold]", "[/]", ":a:", " " * 30, "x" * 130,
              *["word "] * 12, " " * 121]

    def text(n: int) -> str:
        return "".join(rng.choice(pieces) for _ in range(rng.randint(0, n)))

    for _ in range(300):
        findings = [Finding(rule=text(8) or "R", kind=rng.choice(list(Kind)), severity=rng.choice(list(Severity)),
                            message=text(rng.choice([60, 200])), file=rng.choice([None, "a.tf", text(10)]),
                            line=rng.choice([None, 1, 42]), address=rng.choice([None, "aws_s3_bucket.b", text(15)]),
                            outcome=rng.choice(list(Outcome)), suppressed=rng.choice([None, "", text(10)]))
                    for _ in range(rng.randint(0, 8))]
        summary = {**SUMMARY, "notes": [text(30)], "errors": [text(20)] if rng.random() < 0.3 else []}
        for color in (False, True):
            assert render(findings, summary, "human", color=color) == _through_rich(findings, summary, color)


def test_human_shows_brackets_backslashes_and_colons_as_written() -> None:
    f = Finding(rule="R\\", kind=Kind.SECURITY, severity=Severity.HIGH, message="arn:aws:iam::1:a:b [bold]x[/bold]",
                file="a.tf", line=3, address="aws_x.y[\"k\"]")
    text = render([f], SUMMARY, "human")
    assert "arn:aws:iam::1:a:b [bold]x[/bold]" in text  # no markup, no emoji
    assert 'R\\  aws_x.y["k"]' in text


def test_json_report_is_what_the_standard_library_reads_back() -> None:
    from infraleash.checks.report import dumps_indented

    doc = {"summary": {"notes": ["é 漢 \u2026"], "n": 3, "ratio": 0.1, "none": None},
           "findings": [{"details": {1: "int key", "big": 2**70, "nested": [[], {}, [1, [2]]]}}]}
    text = dumps_indented(doc)  # 2**70 and the key 1 are orjson's to refuse: the standard library writes them
    assert json.loads(text) == json.loads(json.dumps(doc)) and text.endswith("}\n")
    small = {"a": [1, {"b": "é"}], "c": {}}
    assert dumps_indented(small) == json.dumps(small, indent=2, ensure_ascii=False) + "\n"


def test_json_findings_are_their_model_dump_whatever_the_details_hold() -> None:
    import dataclasses
    from pathlib import PurePosixPath

    @dataclasses.dataclass
    class Where:
        file: str
        line: int

    details: list[dict[str, Any]] = [
        {"ports": {443, 80}, "path": PurePosixPath("a/b.tf"), "severity": Severity.HIGH, "at": Where("a.tf", 3),
         "pair": ("x", 1), "nested": {"k": [None, True, 1.5, "é"]}},
        {"wide": 2**70},  # orjson refuses it: the whole report is written the standard library's way
        {"unknown": object(), True: "key that is not a string"},
    ]
    for d in details:
        findings = [Finding(rule="R", kind=Kind.SECURITY, severity=Severity.HIGH, message="m", file="a.tf", line=1,
                            details=d), *FINDINGS]
        doc = json.loads(render(findings, SUMMARY, "json"))
        expected = [f.model_dump(mode="json") for f in sorted(
            findings, key=lambda f: (f.file or "", f.line or 0, -f.severity.rank, f.rule))]
        if "unknown" in d:  # an object's text holds its address: compare the rest
            assert doc["findings"][0]["details"]["unknown"].startswith("<object object at")
            for f in (doc["findings"][0], expected[0]):
                f["details"].pop("unknown")
        assert doc["findings"] == json.loads(json.dumps(expected))
