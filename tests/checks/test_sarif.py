"""SARIF for GitHub code scanning: repository-relative paths, fingerprints that survive line moves,
help from the rule's documentation, plan findings at their declaration, valid against 2.1.0."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from infraleash.checks.engine import run_checks
from infraleash.checks.registry import all_rules
from infraleash.checks.sarif import FINGERPRINT, render_sarif, repository_root
from infraleash.policy import Policy

RULES = {r.id: r for r in all_rules()}
MAIN = '''resource "aws_security_group" "web" {
  name   = "web"
  vpc_id = "vpc-1"
  ingress {
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
  ingress {
    from_port   = 3389
    to_port     = 3389
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


def _sarif(root: Path, sarif_root: Path | None = None) -> dict[str, Any]:
    report = run_checks(root, Policy(), use_terraform=False)
    return json.loads(render_sarif(report.findings, report.summary(), rules=RULES, sarif_root=sarif_root))


def _by_fingerprint(doc: dict[str, Any]) -> dict[str, tuple[str, str, int]]:
    out = {}
    for r in doc["runs"][0]["results"]:
        fp = r["partialFingerprints"][FINGERPRINT]
        assert fp not in out, f"two results share {fp}"
        phys = r["locations"][0]["physicalLocation"]
        out[fp] = (r["ruleId"], phys["artifactLocation"]["uri"], phys["region"]["startLine"])
    return out


def test_paths_are_relative_to_the_repository_root(repo: Path,
                                                   assert_valid_sarif: Callable[[dict[str, Any]], None]) -> None:
    assert repository_root(repo / "infra" / "prod") == repo.resolve()
    doc = _sarif(repo / "infra" / "prod")
    assert_valid_sarif(doc)
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in doc["runs"][0]["results"]}
    assert uris == {"infra/prod/main.tf"}
    assert doc["runs"][0]["originalUriBaseIds"]["SRCROOT"]["uri"] == repo.resolve().as_uri() + "/"
    assert {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in _sarif(repo / "infra" / "prod", sarif_root=repo / "infra")["runs"][0]["results"]} == \
        {"prod/main.tf"}


def test_a_result_stays_one_alert_when_lines_shift(repo: Path) -> None:
    root = repo / "infra" / "prod"
    before = _by_fingerprint(_sarif(root))
    shifted = "# a comment\n# another\n\nlocals {\n  x = 1\n}\n" + MAIN  # 6 lines above, an unrelated block
    (root / "main.tf").write_text(shifted)
    after = _by_fingerprint(_sarif(root))
    assert set(before) == set(after)
    for fp, (rule, uri, line) in before.items():
        assert after[fp] == (rule, uri, line + 6)
    rules = sorted(rule for rule, _, _ in before.values())
    assert "AWS-SG-OPEN-SSH" in rules and "AWS-SG-OPEN-RDP" in rules


def test_rules_carry_help_from_their_documentation(repo: Path) -> None:
    doc = _sarif(repo / "infra" / "prod")
    rules = {d["id"]: d for d in doc["runs"][0]["tool"]["driver"]["rules"]}
    ssh = rules["AWS-SG-OPEN-SSH"]
    assert ssh["helpUri"].endswith("/src/infraleash/checks/aws/network.py")
    assert RULES["AWS-SG-OPEN-SSH"].why in ssh["help"]["markdown"]
    assert "```hcl" in ssh["help"]["markdown"] and '"fail"' in ssh["help"]["markdown"]


def test_review_sarif_locates_plan_findings_at_the_declaration(
        assert_valid_sarif: Callable[[dict[str, Any]], None]) -> None:
    from infraleash.policy import load_policy
    from infraleash.review import review
    from infraleash.review.render import render

    examples = Path(__file__).parents[2] / "examples" / "review"
    report = review(examples / "proposed", load_policy(examples / "infraleash.yaml"),
                    plan_file=examples / "recorded-plan.json")
    doc = json.loads(render(report, "sarif", sarif_root=examples))
    assert_valid_sarif(doc)
    plan = [r for r in doc["runs"][0]["results"] if r["ruleId"].startswith("PLAN-")]
    assert plan
    source = (examples / "proposed" / "main.tf").read_text().splitlines()
    for r in plan:
        phys = r["locations"][0]["physicalLocation"]
        assert phys["artifactLocation"]["uri"] == "proposed/main.tf"
        address = r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]
        rtype, name = address.split(".")[-2:]
        assert source[phys["region"]["startLine"] - 1].startswith(f'resource "{rtype}" "{name}"')


def test_a_finding_in_an_installed_module_is_on_the_call_with_the_resource_related(
        tmp_path: Path, assert_valid_sarif: Callable[[dict[str, Any]], None]) -> None:
    from test_module_calls import install

    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    root = install(tmp_path / "infra")
    doc = _sarif(root)
    assert_valid_sarif(doc)
    (rds,) = [r for r in doc["runs"][0]["results"] if r["ruleId"] == "AWS-RDS-PUBLIC"]
    phys = rds["locations"][0]["physicalLocation"]
    assert (phys["artifactLocation"]["uri"], phys["region"]["startLine"]) == ("infra/main.tf", 52)
    (related,) = rds["relatedLocations"]
    assert related["physicalLocation"]["artifactLocation"]["uri"] == \
        "infra/.terraform/modules/db/modules/db_instance/main.tf"
