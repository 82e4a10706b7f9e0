"""The default policy the check path reads without the policy model (policy=None) is Policy()'s."""

from __future__ import annotations

from pathlib import Path

from infraleash import policy_defaults
from infraleash.checks.engine import run_checks
from infraleash.policy import Policy

CONFIG = """module "vpc" {
  source = "terraform-aws-modules/vpc/aws"
}

module "local" {
  source = "./modules/x"
}

resource "aws_s3_bucket" "Logs" {
  bucket = "acme-logs"
}

resource "aws_security_group" "web" {
  ingress {
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
"""


def test_model_defaults_are_the_constants() -> None:
    p = Policy()
    assert p.checks.failing_severity == policy_defaults.FAILING_SEVERITY
    assert p.modules.allowed_sources == list(policy_defaults.MODULE_SOURCES)
    assert p.modules.require_version_pin is policy_defaults.REQUIRE_MODULE_VERSION_PIN


def test_no_policy_checks_as_the_default_policy(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(CONFIG)
    (tmp_path / "modules" / "x").mkdir(parents=True)
    (tmp_path / "modules" / "x" / "main.tf").write_text('resource "aws_ebs_volume" "v" {\n  size = 1\n}\n')
    without = run_checks(tmp_path, None, use_terraform=False)
    default = run_checks(tmp_path, Policy(), use_terraform=False)
    rules = {f.rule for f in without.findings}
    assert {"TF-MODULE-SOURCE-NOT-ALLOWED", "AWS-SG-OPEN-SSH"} <= rules, rules
    assert [f.model_dump() for f in without.findings] == [f.model_dump() for f in default.findings]
    assert without.not_checked == default.not_checked and without.notes == default.notes
