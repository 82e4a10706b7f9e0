"""Real Terraform against moto through `infraleash exec` / `approvals`: plan runs, apply is held or refused,
an approved saved plan applies exactly once, and a plan file changed after approval is refused."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from infraleash.errors import ExitCode

pytestmark = pytest.mark.sandbox

CONFIG = """
variable "suffix" {
  type    = string
  default = "one"
}

resource "aws_s3_bucket" "artifacts" {
  bucket = "gate-sandbox-${var.suffix}"
}

resource "aws_security_group" "runners" {
  name        = "gate-sandbox-${var.suffix}"
  description = "gate sandbox test"
}
"""

POLICY = """\
version: 1
trust_level: act-with-approval
approvals:
  store: .infraleash/approvals.db
audit:
  path: .infraleash/audit.jsonl
"""


@dataclass
class Work:
    path: Path
    env: dict[str, str]
    endpoint: str

    def cli(self, *args: str, actor: str = "agent-1") -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "infraleash", *args], cwd=self.path,
                              env={**self.env, "INFRALEASH_ACTOR": actor}, capture_output=True, text=True,
                              timeout=600)

    def buckets(self) -> set[str]:
        import boto3

        s3 = boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                          aws_access_key_id="test", aws_secret_access_key="test")  # noqa: S106
        return {b["Name"] for b in s3.list_buckets().get("Buckets", [])}


@pytest.fixture(scope="module")
def work(sandbox, tmp_path_factory: pytest.TempPathFactory) -> Work:  # type: ignore[no-untyped-def]
    """One init'ed workdir for the module, with a plan saved through `infraleash exec`."""
    path = sandbox.workdir(tmp_path_factory.mktemp("gate-exec"), CONFIG)
    (path / "infraleash.yaml").write_text(POLICY)
    # the CLI's children get their environment (CLI config, moto's fake credentials) from the runner configuration
    w = Work(path, {**sandbox.env(), "INFRALEASH_RUNNER_CONFIG": str(sandbox.runner_file())}, sandbox.endpoint)
    init = w.cli("exec", "--", "terraform", "init", "-input=false")
    assert init.returncode == 0, init.stderr
    return w


@pytest.fixture(scope="module")
def planned(work: Work) -> subprocess.CompletedProcess[str]:
    return work.cli("exec", "--", "terraform", "plan", "-input=false", "-no-color", "-out", "p.tfplan")


def _request_id(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == ExitCode.NEEDS_APPROVAL, proc.stderr
    return proc.stdout.strip().splitlines()[-1]


def test_plan_runs_through_exec(work: Work, planned: subprocess.CompletedProcess[str]) -> None:
    assert planned.returncode == 0, planned.stderr
    assert "Plan: 2 to add, 0 to change, 0 to destroy." in planned.stdout
    assert "aws_s3_bucket.artifacts will be created" in planned.stdout
    assert (work.path / "p.tfplan").is_file()
    decisions = [json.loads(line)["data"] for line in work.cli("audit", "show", "--json", "--decision", "allow"
                                                                 ).stdout.splitlines()]
    assert any(d["argv"][:2] == ["terraform", "plan"] for d in decisions)


def test_apply_auto_approve_is_refused(work: Work, planned: subprocess.CompletedProcess[str]) -> None:
    proc = work.cli("exec", "--", "terraform", "apply", "-auto-approve")
    assert proc.returncode == ExitCode.DENIED
    assert "denied" in proc.stderr and "Traceback" not in proc.stderr
    assert "gate-sandbox-one" not in work.buckets()
    listed = json.loads(work.cli("approvals", "list", "--json").stdout)
    assert all(r["argv"][-1] != "-auto-approve" for r in listed)


def test_approved_saved_plan_applies_exactly_once(work: Work, planned: subprocess.CompletedProcess[str]) -> None:
    rid = _request_id(work.cli("exec", "--reason", "ship it", "--", "terraform", "apply", "-input=false",
                               "p.tfplan"))
    assert "gate-sandbox-one" not in work.buckets()
    own = work.cli("approvals", "approve", rid, "--as", "agent-1")
    assert own.returncode == ExitCode.DENIED and "own request" in own.stderr
    approved = work.cli("approvals", "approve", rid, "--as", "sre-lead", "--comment", "reviewed")
    assert approved.returncode == 0, approved.stderr
    ran = work.cli("approvals", "run", rid, actor="sre-lead")
    assert ran.returncode == 0, ran.stderr
    assert "Apply complete! Resources: 2 added" in ran.stdout
    assert "gate-sandbox-one" in work.buckets()
    again = work.cli("approvals", "run", rid, actor="sre-lead")
    assert again.returncode == ExitCode.DENIED and "already ran" in again.stderr


def test_state_rm_is_refused_or_held_and_state_is_untouched(work: Work) -> None:
    before = subprocess.run(["terraform", "state", "list"], cwd=work.path, env=work.env, capture_output=True,
                            text=True, check=True).stdout
    proc = work.cli("exec", "--", "terraform", "state", "rm", "aws_s3_bucket.artifacts")
    assert proc.returncode in (ExitCode.NEEDS_APPROVAL, ExitCode.DENIED), proc.stderr
    after = subprocess.run(["terraform", "state", "list"], cwd=work.path, env=work.env, capture_output=True,
                           text=True, check=True).stdout
    assert after == before


def test_plan_file_changed_after_approval_is_refused(work: Work) -> None:
    # a saved plan to request (a copy keeps the test to one more real plan; only its hash matters here)
    shutil.copy(work.path / "p.tfplan", work.path / "p2.tfplan")
    rid = _request_id(work.cli("exec", "--", "terraform", "apply", "-input=false", "-no-color", "p2.tfplan"))
    assert work.cli("approvals", "approve", rid, "--as", "sre-lead").returncode == 0
    # the agent re-plans into the same file after approval: a different change than the one approved
    replanned = work.cli("exec", "--", "terraform", "plan", "-input=false", "-no-color", "-var", "suffix=two", "-out",
                         "p2.tfplan")
    assert replanned.returncode == 0, replanned.stderr
    ran = work.cli("approvals", "run", rid, actor="sre-lead")
    assert ran.returncode == ExitCode.DENIED and "changed since request" in ran.stderr
    assert "gate-sandbox-two" not in work.buckets()


def test_audit_chain_is_intact_after_the_session(work: Work) -> None:
    proc = work.cli("audit", "verify")
    assert proc.returncode == 0, proc.stderr
    shown = work.cli("audit", "show", "--json", "--event", "execution")
    runs = [json.loads(line)["data"] for line in shown.stdout.splitlines()]
    applied = [r for r in runs if r.get("request_id")]
    assert len(applied) == 1 and applied[0]["approver"] == "sre-lead" and applied[0]["exit_code"] == 0
