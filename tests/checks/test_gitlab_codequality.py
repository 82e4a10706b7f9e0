"""GitLab Code Quality output: valid against GitLab's documented format, repository-relative paths,
fingerprints that survive line moves, suppressed findings left out."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from infraleash.checks.engine import run_checks
from infraleash.checks.report import render
from infraleash.findings import Outcome
from infraleash.policy import Policy

SCHEMA = json.loads((Path(__file__).parents[1] / "data" / "gitlab-codequality.schema.json").read_text())
MAIN = '''resource "aws_security_group" "web" {
  name   = "web"
  vpc_id = "vpc-1"
  ingress {
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_s3_bucket" "logs" {
  bucket = "acme-logs"
}
'''


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "infra" / "prod").mkdir(parents=True)
    (tmp_path / "infra" / "prod" / "main.tf").write_text(MAIN)
    return tmp_path


def _report(root: Path) -> list[dict[str, Any]]:
    report = run_checks(root, Policy(), use_terraform=False)
    return json.loads(render(report.findings, report.summary(), "gitlab-codequality"))


def test_valid_against_gitlabs_format_with_repository_relative_paths(repo: Path) -> None:
    issues = _report(repo / "infra" / "prod")
    jsonschema.validate(issues, SCHEMA)
    assert issues, "an open security group and a bare bucket give findings"
    assert {i["location"]["path"] for i in issues} == {"infra/prod/main.tf"}
    ssh = [i for i in issues if i["check_name"] == "AWS-SG-OPEN-SSH"]
    assert [i["severity"] for i in ssh] == ["major"]  # infraleash's high
    assert 1 <= ssh[0]["location"]["lines"]["begin"] <= 10  # in the security group's block
    assert len({i["fingerprint"] for i in issues}) == len(issues)


def test_fingerprints_stable_across_line_shifts(repo: Path) -> None:
    root = repo / "infra" / "prod"
    before = {i["fingerprint"]: (i["check_name"], i["location"]["lines"]["begin"]) for i in _report(root)}
    (root / "main.tf").write_text("# moved down\n\n\n" + MAIN)
    after = {i["fingerprint"]: (i["check_name"], i["location"]["lines"]["begin"]) for i in _report(root)}
    assert before.keys() == after.keys()
    assert all(after[fp][1] == before[fp][1] + 3 for fp in before)


def test_suppressed_findings_are_left_out_and_unknown_is_info(repo: Path) -> None:
    root = repo / "infra" / "prod"
    report = run_checks(root, Policy(), use_terraform=False)
    first, second = report.findings[0], report.findings[1]
    changed = [first.model_copy(update={"suppressed": "inline: accepted risk"}),
               second.model_copy(update={"outcome": Outcome.UNKNOWN}), *report.findings[2:]]
    issues = json.loads(render(changed, report.summary(), "gitlab-codequality"))
    jsonschema.validate(issues, SCHEMA)
    assert len(issues) == len(report.findings) - 1
    unknown = [i for i in issues if i["description"].startswith(second.message) and "unknown" in i["description"]]
    assert [i["severity"] for i in unknown] == ["info"]
