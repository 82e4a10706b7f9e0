"""Suppressions: inline ignores with reasons, policy suppressions, ignores without a reason."""

from __future__ import annotations

from pathlib import Path

from infraleash.checks.engine import run_checks
from infraleash.checks.meta_rules import RULES
from infraleash.checks.suppressions import NO_REASON, inline_ignores
from infraleash.policy import ChecksPolicy, Policy, Suppression

TEXT = '''# infraleash:ignore TF-UNKNOWN-RESOURCE-TYPE provided by our fork of the provider
resource "aws_s3_bukket" "a" {
  bucket = "x"
}
resource "aws_vpc" "b" {
  cidr_block = "10.0.0.0/16"
  enable_dns = true # infraleash:ignore TF-UNKNOWN-ARGUMENT
}
resource "aws_vpc" "c" {
  cidr_block = "10.0.0.0/16"
  enable_dns = true
}
'''


def test_inline_policy_and_missing_reason(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(TEXT)
    policy = Policy(checks=ChecksPolicy(suppressions=[Suppression(rule="TF-UNKNOWN-ARGUMENT", address="aws_vpc.c",
                                                                  reason="migrating next sprint")]))
    report = run_checks(tmp_path, policy, rules=RULES)
    by = {(f.rule, f.line): f for f in report.findings}
    assert by[("TF-UNKNOWN-RESOURCE-TYPE", 2)].suppressed.endswith("provided by our fork of the provider")
    assert by[("TF-UNKNOWN-ARGUMENT", 7)].suppressed is None  # no reason: not applied
    assert by[(NO_REASON, 7)].suppressed is None
    assert by[("TF-UNKNOWN-ARGUMENT", 11)].suppressed == "policy: migrating next sprint"
    assert {f.rule for f in report.suppressed} == {"TF-UNKNOWN-RESOURCE-TYPE", "TF-UNKNOWN-ARGUMENT"}
    assert report.summary()["suppressed"] == 2


def test_inline_parsing() -> None:
    got = inline_ignores("f.tf", "x = 1 // infraleash:ignore A-1,B-2 legacy system\n# infraleash:ignore\n")
    assert got[1][0].rules == ("A-1", "B-2") and got[1][0].reason == "legacy system"
    assert got[2][0].rules == () and got[2][0].reason is None
