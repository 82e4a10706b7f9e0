"""No silent pass: what could not be checked is counted and named in every format; --strict fails."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from infraleash.checks.coverage import NO_CONFIGURATION, merge
from infraleash.checks.engine import CheckReport, run_checks
from infraleash.checks.registry import all_rules
from infraleash.checks.report import render
from infraleash.policy import Policy

MIXED = Path(__file__).parent / "fixtures" / "mixed_providers"
EXPECTED = {
    "2 azurerm resources: no hallucination checks, no security rules",
    "3 google resources: no hallucination checks, no security rules",
    "1 google data source: no hallucination checks",
    "1 module call not evaluated (no installed source): nothing they create is checked",
    "1 file could not be read",
}


@pytest.fixture(scope="module")
def report() -> CheckReport:
    return run_checks(MIXED, Policy(), use_terraform=False)


def test_the_summary_names_what_was_not_checked(report: CheckReport) -> None:
    gaps = {e["text"]: e for e in report.summary()["not_checked"]}
    assert set(gaps) == EXPECTED
    assert gaps["3 google resources: no hallucination checks, no security rules"]["names"] == [
        "google_compute_instance.web", "google_storage_bucket.public", "google_storage_bucket_iam_member.everyone"]
    assert gaps["1 module call not evaluated (no installed source): nothing they create is checked"]["names"] == \
        ["module.network"]
    assert gaps["1 file could not be read"]["names"] == ["broken.tf"]
    assert not any(e["provider"] == "aws" for e in gaps.values())  # aws has a schema and rules


@pytest.mark.parametrize("fmt", ["human", "json", "sarif", "junit", "markdown"])
def test_every_format_says_it(report: CheckReport, fmt: str) -> None:
    text = render(report.findings, report.summary(), fmt, rules={r.id: r for r in all_rules()})
    for line in EXPECTED:
        assert line in text.replace("\n", " ") or line in " ".join(text.split()), (fmt, line)
    if fmt == "sarif":
        notes = json.loads(text)["runs"][0]["invocations"][0]["toolExecutionNotifications"]
        assert len(notes) == len(EXPECTED)
        assert all(any(n["message"]["text"].startswith("not checked: " + e) for n in notes) for e in EXPECTED)
    if fmt == "junit":
        suite = next(s for s in ET.fromstring(text.split("\n", 1)[1]).iter("testsuite") if s.get("name") == "not checked")
        assert suite.get("skipped") == str(len(EXPECTED))


def test_a_fully_checked_directory_has_no_gaps(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text('resource "aws_vpc" "main" {\n  cidr_block = "10.0.0.0/16"\n}\n'
                                      'resource "terraform_data" "x" {}\n')
    assert run_checks(tmp_path, Policy(), use_terraform=False).not_checked == []


def test_merge_adds_up_roots() -> None:
    one = {"category": "resources", "provider": "google", "count": 1, "names": ["a:google_x.a"],
           "missing": ["no hallucination checks"], "text": "1 google resource: no hallucination checks"}
    two = {**one, "count": 2, "names": ["b:google_x.b", "b:google_x.c"]}
    (m,) = merge([one, two])
    assert m["count"] == 3 and m["text"] == "3 google resources: no hallucination checks" and len(m["names"]) == 3


def test_no_configuration_message_is_shared() -> None:
    assert NO_CONFIGURATION.startswith("no .tf files here")


@pytest.mark.parametrize("fmt", ["human", "json", "markdown", "sarif"])
def test_review_formats_say_it_too(fmt: str) -> None:
    from infraleash.review import review
    from infraleash.review.render import render as render_review

    text = render_review(review(MIXED, Policy(), run_plan=False), fmt)
    flat = " ".join(text.split())
    for line in EXPECTED:
        assert line in flat, (fmt, line)
