"""`pr-description` on real sandbox plans: an RDS class change, an S3 rename with data, a protected security
group replacement, a tags-only change; the facts (addresses, action kinds, forcing attribute, reboot, verdict)
asserted in the text.  One apply to moto is shared by the module (the RDS instance takes most of it)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import pytest

from infraleash.findings import Verdict
from infraleash.paperwork.pr_description import GITHUB_COMMENT_LIMIT, describe
from infraleash.policy import Policy, ProtectedResources
from infraleash.review import review_plan
from infraleash.review.sandbox_plan import Production
from infraleash.surfaces.cli import main
from infraleash.terraform.plan import parse_plan

pytestmark = pytest.mark.sandbox

PRODUCTION = """\
resource "aws_security_group" "legacy" {
  name        = "pr-legacy-app"
  description = "hard-coded by ID in the legacy app"
}

resource "aws_db_instance" "main" {
  identifier             = "pr-db"
  engine                 = "postgres"
  engine_version         = "16.3"
  instance_class         = "db.t3.micro"
  allocated_storage      = 20
  username               = "app"
  password               = "not-a-real-secret-1"
  skip_final_snapshot    = true
  apply_immediately      = true
  vpc_security_group_ids = [aws_security_group.legacy.id]
}

resource "aws_s3_bucket" "data" {
  bucket = "pr-data-bucket"
  tags   = { Owner = "platform" }
}
"""

SCENARIOS = {
    "rds_class": ('"db.t3.micro"', '"db.t3.small"'),
    "s3_rename": ('"pr-data-bucket"', '"pr-data-bucket-2"'),
    "sg_rename": ('"pr-legacy-app"', '"pr-legacy-app-v2"'),
    "tags_only": ('Owner = "platform"', 'Owner = "data-team"'),
}
PROTECTED = Policy(protected=ProtectedResources(addresses=["aws_security_group.legacy"]))
POLICY_YAML = 'version: 1\nprotected:\n  addresses: ["aws_security_group.legacy"]\n'


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """This module's own moto server: its RDS instance on the session's shared one made moto lose the other
    modules' instance (test_plan_sandbox's apply then failed reading it back)."""
    from types import SimpleNamespace

    from infraleash.terraform.sandbox import MotoServer, sandbox_env, why_unavailable

    reason = why_unavailable()
    if reason:
        pytest.skip(f"real Terraform sandbox unavailable: {reason}")
    base = tmp_path_factory.mktemp("pr-sandbox")
    moto = MotoServer(log_path=base / "moto.log").start()
    try:
        yield SimpleNamespace(endpoint=moto.endpoint, env=lambda: sandbox_env(base / "tfconfig"))
    finally:
        moto.stop()


@pytest.fixture(scope="module")
def production(sandbox: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Production]:
    base = tmp_path_factory.mktemp("pr-production")
    prod = Production.apply(base / "prod", {"main.tf": PRODUCTION}, endpoint=sandbox.endpoint, env=sandbox.env())
    boto3.client("s3", endpoint_url=sandbox.endpoint, region_name="us-east-1", aws_access_key_id="test",
                 aws_secret_access_key="test").put_object(  # noqa: S106
        Bucket="pr-data-bucket", Key="orders/2026-12-01.csv", Body=b"id,total\n1,10\n")
    yield prod


@pytest.fixture(scope="module")
def plans(production: Production, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """scenario -> its working directory, holding plan.json and an infraleash.yaml protecting the SG."""
    base = tmp_path_factory.mktemp("pr-scenarios")

    def one(name: str) -> Path:
        old, new = SCENARIOS[name]
        scenario = production.derive(base / name, {"main.tf": PRODUCTION.replace(old, new)})
        (scenario.workdir / "plan.json").write_text(scenario.plan_json("-refresh=false"), encoding="utf-8")
        (scenario.workdir / "infraleash.yaml").write_text(POLICY_YAML, encoding="utf-8")
        return scenario.workdir

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(SCENARIOS, pool.map(one, SCENARIOS), strict=True))


def markdown(workdir: Path) -> str:
    plan = parse_plan((workdir / "plan.json").read_text(encoding="utf-8"), "plan.json")
    text = describe(review_plan(plan, PROTECTED)).markdown()
    assert len(text) < GITHUB_COMMENT_LIMIT
    return text


def section(text: str, title: str) -> str:
    return text.split(f"## {title}", 1)[1].split("\n## ", 1)[0]


def test_rds_class_change_is_an_update_that_reboots(plans: dict[str, Path]) -> None:
    text = markdown(plans["rds_class"])
    assert text.startswith("**1 to change in place**; review verdict: needs_approval")
    assert "**Updated in place** (1)\n- `aws_db_instance.main`: instance_class" in section(text, "Changes")
    assert "Risk: needs approval" in text and "**Interruption**" in text and "instance_class" in section(text, "Risk")
    rollout = section(text, "Rollout and rollback")
    assert "`aws_db_instance.main` instance_class:" in rollout and "restart" in rollout
    assert "maintenance window" in rollout and "not-a-real-secret-1" not in text


def test_s3_rename_with_data_is_a_replace_that_loses_data(plans: dict[str, Path]) -> None:
    text = markdown(plans["s3_rename"])
    changes = section(text, "Changes")
    assert "**Replaced (destroyed and created)** (1)\n- `aws_s3_bucket.data`: bucket \"pr-data-bucket\" -> " \
           "\"pr-data-bucket-2\"" in changes
    assert "**Data loss**" in section(text, "Risk") and "aws_s3_bucket.data" in section(text, "Risk")
    assert "`aws_s3_bucket.data` holds data" in section(text, "Rollout and rollback")
    assert "take a snapshot or backup before apply" in text
    assert "`aws_s3_bucket.data` is replaced because of bucket" in section(text, "What the reviewer should check")


def test_protected_security_group_replacement_is_blocked(plans: dict[str, Path]) -> None:
    text = markdown(plans["sg_rename"])
    assert "review verdict: block" in text.splitlines()[0] and "## Risk: block" in text
    assert "- `aws_security_group.legacy`: name \"pr-legacy-app\" -> \"pr-legacy-app-v2\"" in section(text, "Changes")
    assert "**Protected resource** (critical)" in section(text, "Risk")
    assert "`aws_security_group.legacy` is protected" in section(text, "What the reviewer should check")


def test_tags_only_change_is_allowed(plans: dict[str, Path]) -> None:
    text = markdown(plans["tags_only"])
    assert text.startswith("**1 to change in place**; review verdict: allow")
    assert "- `aws_s3_bucket.data`: tags only" in section(text, "Changes")
    assert "No risky change found." in section(text, "Risk: allow")


def test_cli_json_on_the_protected_replacement(plans: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    workdir = plans["sg_rename"]
    with pytest.raises(SystemExit) as exc:
        main(["pr-description", str(workdir), "--plan", str(workdir / "plan.json"), "--format", "json", "--no-model"])
    out, err = capsys.readouterr()
    assert exc.value.code == 0, err
    doc = json.loads(out)
    assert doc["verdict"] == Verdict.BLOCK.value
    assert doc["changes"]["replace"] == [{"address": "aws_security_group.legacy",
                                          "detail": 'name "pr-legacy-app" -> "pr-legacy-app-v2"'}]
