"""End to end on the moto sandbox: `infraleash exec -- terraform apply p.tfplan` with a policy naming a real
approval server process.  Held on the server with the review of that exact plan, approved by an approver's
token, claimed, run exactly once, the result reported, and `audit verify --server` finds the chain intact; a
plan file swapped after approval is refused (APPROVAL-PLAN-CHANGED) and nothing runs."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from infraleash.errors import ExitCode
from infraleash.gate.audit import AuditLog
from infraleash.server.db import make_engine, session_factory
from infraleash.server.models import ApprovalRequest

from .team import Team, start_team

pytestmark = pytest.mark.sandbox

CONFIG = """
variable "suffix" {
  type    = string
  default = "one"
}

resource "aws_s3_bucket" "artifacts" {
  bucket = "team-approval-${var.suffix}"
}

variable "api_key" {
  type      = string
  sensitive = true
  default   = "sk-live-e2e-9f8e7d6c5b4a"
}

resource "terraform_data" "key_holder" {
  input = var.api_key
}
"""
SECRET = "sk-live-e2e-9f8e7d6c5b4a"


@dataclass
class Runner:
    path: Path
    env: dict[str, str]
    endpoint: str
    team: Team

    def cli(self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str,
            **env: str) -> tuple[int, str, str]:
        """The real CLI entry, in-process, in the workdir with the runner's environment: (code, stdout, stderr)."""
        from infraleash.surfaces.cli import main

        monkeypatch.chdir(self.path)
        for k, v in {**self.env, **env}.items():
            monkeypatch.setenv(k, v)
        with pytest.raises(SystemExit) as exc:
            main(list(args))
        out, err = capsys.readouterr()
        return int(exc.value.code or 0), out, err

    def audit(self) -> list[Any]:
        return list(AuditLog(self.path / ".infraleash" / "audit.jsonl").records())

    def start(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen([sys.executable, "-m", "infraleash", *args], cwd=self.path, env=self.env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def buckets(self) -> set[str]:
        import boto3

        s3 = boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                          aws_access_key_id="test", aws_secret_access_key="test")  # noqa: S106
        return {b["Name"] for b in s3.list_buckets().get("Buckets", [])}


@pytest.fixture(scope="module")
def runner(sandbox, plugin_cache, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runner]:  # type: ignore[no-untyped-def]
    base = tmp_path_factory.mktemp("team")
    team = start_team(f"sqlite:///{base / 'server.db'}", base)
    try:
        path = sandbox.workdir(base / "infra", CONFIG)
        (path / "infraleash.yaml").write_text(
            f"version: 1\ntrust_level: act-with-approval\napprovals:\n  server: {team.url}\n  wait_seconds: 90\n")
        env = {**sandbox.env(), "INFRALEASH_RUNNER_CONFIG": str(sandbox.runner_file()),
               "INFRALEASH_APPROVAL_TOKEN": team.tokens["ci-agent"], "INFRALEASH_ACTOR": "ci-agent"}
        for argv in (["init", "-input=false"], ["plan", "-input=false", "-out", "p.tfplan"],
                     ["plan", "-input=false", "-var", "suffix=two", "-out", "other.tfplan"]):
            sandbox.terraform(path, *argv)  # the plans come from an earlier job; the apply goes through the gate
        yield Runner(path, env, sandbox.endpoint, team)
    finally:
        team.stop()


def wait_for_pending(team: Team, argv_tail: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [r for r in team.pending() if r["argv"][-1] == argv_tail]
        if found:
            return found[0]
        time.sleep(0.2)
    raise AssertionError(f"no pending request for {argv_tail} within {timeout} s")


def test_held_on_the_server_approved_claimed_run_once_and_audited(runner: Runner, capsys, monkeypatch) -> None:
    team = runner.team
    proc = runner.start("exec", "--reason", "create the artifacts bucket", "--", "terraform", "apply",
                        "-input=false", "p.tfplan")
    try:
        pending = wait_for_pending(team, "p.tfplan")
        full = team.api("alice", "GET", f"/requests/{pending['id']}").json()
        # the approver reads the review of exactly the plan that will run: uploaded as show -json with its hash
        assert full["has_plan_json"] and full["plan_sha256"] == _sha256(runner.path / "p.tfplan")
        assert "aws_s3_bucket.artifacts" in json.dumps(full["review"])
        assert full["requester"] == "ci-agent" and full["reason"] == "create the artifacts bucket"
        assert "TF-APPLY-SAVED-PLAN" in [r["id"] for r in full["rules"]]
        # the plan went up as show -json, with the value Terraform marks sensitive masked before it left
        engine = make_engine(team.database_url)
        with session_factory(engine)() as s:
            row = s.get(ApprovalRequest, pending["id"])
            assert row is not None and row.plan_json is not None
            assert "terraform_data.key_holder" in row.plan_json and SECRET not in row.plan_json
        engine.dispose()
        assert "team-approval-one" not in runner.buckets()
        decided = team.api("alice", "POST", f"/requests/{pending['id']}/decision",
                           json={"decision": "approve", "comment": "one new bucket, reviewed"})
        assert decided.status_code == 200, decided.text
        out, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "Apply complete! Resources: 2 added" in out
    assert "team-approval-one" in runner.buckets()
    done = team.api("alice", "GET", f"/requests/{pending['id']}").json()
    assert done["status"] == "done" and done["result_exit_code"] == 0 and done["decided_by"] == "alice"
    # ran exactly once: the claim is spent, a replay of it is refused and audited by the server
    replay = team.api("ci-agent", "POST", f"/requests/{pending['id']}/claim",
                      json={"plan_sha256": done["plan_sha256"]})
    assert replay.status_code == 409
    events = [json.loads(line) for line in team.api("alice", "GET", "/audit").text.splitlines()]
    assert [e["action"] for e in events if e["request_id"] == pending["id"]] == [
        "created", "approved", "claimed", "done", "refused"]
    code, _, err = runner.cli(capsys, monkeypatch, "approvals", "run", pending["id"])  # the runner's own replay
    assert code == ExitCode.DENIED and "[APPROVAL-SERVER-REFUSED]" in err, err
    assert [e.data.get("request_id") for e in runner.audit() if e.event == "execution"] == [pending["id"]]
    code, out, err = runner.cli(capsys, monkeypatch, "audit", "verify", "--server", team.url,
                                INFRALEASH_SERVER_TOKEN=team.tokens["alice"])
    assert code == 0 and "intact" in out, err


def test_plan_swapped_after_approval_is_refused_and_nothing_runs(runner: Runner) -> None:
    team = runner.team
    shutil.copyfile(runner.path / "p.tfplan", runner.path / "swap.tfplan")
    proc = runner.start("exec", "--", "terraform", "apply", "-input=false", "swap.tfplan")
    try:
        pending = wait_for_pending(team, "swap.tfplan")
        # the agent replaces the reviewed plan with another one (a bucket named "two") after the request
        shutil.copyfile(runner.path / "other.tfplan", runner.path / "swap.tfplan")
        team.api("alice", "POST", f"/requests/{pending['id']}/decision",
                 json={"decision": "approve", "comment": "looks fine"}).raise_for_status()
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == ExitCode.DENIED, err
    assert "APPROVAL-PLAN-CHANGED" in err and "Traceback" not in err
    assert "team-approval-two" not in runner.buckets()
    # never claimed: the server still has it approved, nothing was run or reported
    assert team.api("alice", "GET", f"/requests/{pending['id']}").json()["status"] == "approved"
    refused = [e for e in runner.audit() if e.event == "execution_refused" and e.data.get("request_id") == pending["id"]]
    assert refused and refused[-1].data["rules"][0]["id"] == "APPROVAL-PLAN-CHANGED"


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()
