"""Plans with checkpoints: a hallucinated data source is caught and fixed before the next step starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from infraleash.agent.models.scripted import ScriptedModel, Turn, call
from infraleash.agent.planner import CheckpointResult, run_checkpoint
from infraleash.agent.runtime import RunOptions, resume_run, start_run
from infraleash.policy import load_policy

HALLUCINATED = '''data "aws_s3_bucket_encryption" "logs" {
  bucket = "acme-logs"
}

resource "aws_s3_bucket" "logs" {
  bucket = "acme-logs"
}
'''
FIXED = '''resource "aws_s3_bucket" "logs" {
  bucket = "acme-logs"
}

resource "aws_s3_bucket_public_access_block" "logs" {
  bucket                  = aws_s3_bucket.logs.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "aws:kms"
    }
  }
}
'''


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "infra"
    ws.mkdir()
    (ws / "infraleash.yaml").write_text("version: 1\ntrust_level: plan\n")
    return ws


def _opts(ws: Path, model: ScriptedModel, **kw: object) -> RunOptions:
    return RunOptions(workspace=ws, policy=load_policy(ws / "infraleash.yaml"), model=model,
                      validate_checkpoints=False, **kw)  # type: ignore[arg-type]


def test_checkpoint_catches_a_hallucinated_data_source_before_step_two(workspace: Path) -> None:
    model = ScriptedModel([
        Turn(tool_calls=[call("write_plan", steps=["Add the logs bucket with encryption", "Add outputs"])]),
        Turn(tool_calls=[call("write_file", path="main.tf", content=HALLUCINATED)]),
        Turn(tool_calls=[call("complete_step", step=1, summary="bucket + encryption lookup")]),
        Turn(tool_calls=[call("complete_step", step=2, summary="skipping ahead")]),  # refused: step 1 is open
        Turn(tool_calls=[call("write_file", path="main.tf", content=FIXED)]),
        Turn(tool_calls=[call("complete_step", step=1, summary="encryption as a resource")]),
        Turn(tool_calls=[call("write_file", path="outputs.tf",
                              content='output "bucket" {\n  value = aws_s3_bucket.logs.id\n}\n')]),
        Turn(tool_calls=[call("complete_step", step=2, summary="output added")]),
        Turn(text="Bucket with KMS encryption and an output."),
    ])
    state = start_run("an encrypted S3 bucket for logs", _opts(workspace, model))
    assert state.status == "done", state.stop_reason
    results = [m for m in state.messages if m.role == "tool"]
    by_call = [(m.name, m.is_error, m.content) for m in results]
    blocked = by_call[2]
    assert blocked[0] == "complete_step" and blocked[1]
    assert "TF-UNKNOWN-DATA-SOURCE" in blocked[2] and "aws_s3_bucket_encryption" in blocked[2]
    assert "step 2 cannot start" in blocked[2]
    assert by_call[3][1] and "step 1 is the current step" in by_call[3][2]
    assert not by_call[5][1] and "step 1 done" in by_call[5][2] and "clean" in by_call[5][2]
    # the step-2 write came only after step 1's checkpoint was clean
    order = [m.name for m in results]
    assert order.index("complete_step", 5) < order.index("write_file", 5)
    plan = (workspace / ".infraleash" / "runs" / state.run_id / "plan.md").read_text()
    assert "1. [x] Add the logs bucket" in plan and "2. [x] Add outputs" in plan
    checkpoints = state.extra["plan"]["checkpoints"]
    assert [bool(c["blocking"]) for c in checkpoints] == [True, False, False]


def test_the_run_cannot_finish_with_unchecked_broken_terraform(workspace: Path) -> None:
    model = ScriptedModel([
        Turn(tool_calls=[call("write_file", path="main.tf", content=HALLUCINATED)]),
        Turn(text="Done."),  # refused: the checkpoint runs at the finish
        Turn(tool_calls=[call("write_file", path="main.tf", content=FIXED)]),
        Turn(text="Done, fixed."),
    ])
    state = start_run("an encrypted bucket", _opts(workspace, model))
    assert state.status == "done" and state.final == "Done, fixed."
    nudge = [m.content for m in model.seen[2] if m.role == "user"][-1]
    assert nudge.startswith("Not finished yet") and "TF-UNKNOWN-DATA-SOURCE" in nudge


def test_plan_only_then_the_user_edits_the_plan_and_resumes(workspace: Path) -> None:
    model = ScriptedModel([
        Turn(tool_calls=[call("write_plan", steps=["Create a VPC", "Create subnets", "Delete the old VPC"])]),
        Turn(text="Following the edited plan."),
    ])
    paused = start_run("network for the new region", _opts(workspace, model, plan_only=True))
    assert paused.status == "plan_review" and paused.pending is not None
    plan = workspace / ".infraleash" / "runs" / paused.run_id / "plan.md"
    text = plan.read_text()
    assert "1. [ ] Create a VPC" in text and "3. [ ] Delete the old VPC" in text
    plan.write_text(text.replace("3. [ ] Delete the old VPC\n", "").replace("Create subnets", "Create two private subnets"))
    model2 = ScriptedModel([Turn(tool_calls=[call("complete_step", step=1, summary="vpc")]),
                            Turn(tool_calls=[call("complete_step", step=2, summary="subnets")]),
                            Turn(text="done")])
    done = resume_run(paused.run_id, _opts(workspace, model2))
    assert done.status == "done"
    shown = [m for m in model2.seen[0] if m.role == "tool"][-1].content
    assert "Create two private subnets" in shown and "Delete the old VPC" not in shown


@pytest.mark.sandbox
def test_checkpoint_runs_real_terraform_validate(tmp_path: Path, plugin_cache: Path) -> None:
    """With the provider mirror, the checkpoint's `terraform validate` reports the invented data source too.

    One validation only: loading the AWS provider schema costs ~10 s per `terraform validate`.
    """
    from infraleash.agent.guarded import GateSession
    from infraleash.agent.planner import run_checkpoint
    from infraleash.agent.tools import Workspace
    from infraleash.gate.runner_config import RunnerConfig
    from infraleash.terraform.sandbox import provider_block, sandbox_env, why_unavailable

    reason = why_unavailable()
    if reason:
        pytest.skip(f"real Terraform sandbox unavailable: {reason}")
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "provider.tf").write_text(provider_block("http://127.0.0.1:1"))
    (ws / "main.tf").write_text(HALLUCINATED)
    env = sandbox_env(tmp_path / "tfcfg")
    # init and validate run through the gate, in the sandbox, with the runner configuration's environment
    runner = RunnerConfig.for_tests(env={"TF_PLUGIN_CACHE_DIR": str(plugin_cache), "CHECKPOINT_DISABLE": "1"},
                                    cli_config=env["TF_CLI_CONFIG_FILE"])
    (ws / "infraleash.yaml").write_text("version: 1\ntrust_level: plan\n")
    policy = load_policy(ws / "infraleash.yaml")
    result = run_checkpoint(Workspace(ws), policy, ["."],
                            gate=GateSession.for_workspace(policy, ws, requester="agent:test", runner=runner))
    validate = [b for b in result.blocking if b.startswith("[terraform validate]")]
    assert validate and "aws_s3_bucket_encryption" in validate[0] and "main.tf:1" in validate[0], result.render()
    assert any(b.startswith("[TF-UNKNOWN-DATA-SOURCE]") for b in result.blocking)


PLAN_ONLY_BUG = '''variable "replicas" {
  type    = string
  default = "three"
}

resource "terraform_data" "replicas" {
  input = tonumber(var.replicas) + 1
}
'''


def _checkpoint(ws: Path, trust: str = "plan", gate: bool = True) -> tuple[CheckpointResult, Path]:
    import shutil

    from infraleash.agent.guarded import GateSession
    from infraleash.agent.tools import Workspace

    if shutil.which("terraform") is None:
        pytest.skip("no terraform binary on PATH: the checkpoint plan needs real terraform")
    (ws / "infraleash.yaml").write_text(f"version: 1\ntrust_level: {trust}\n")
    policy = load_policy(ws / "infraleash.yaml")
    session = GateSession.for_workspace(policy, ws, requester="agent:test") if gate else None
    return run_checkpoint(Workspace(ws), policy, ["."], gate=session), ws / ".infraleash" / "audit.jsonl"


def test_checkpoint_plan_catches_what_validate_cannot_see(tmp_path: Path) -> None:
    """`tonumber(var.replicas)` on a default of "three" is valid to `terraform validate`; the plan fails."""
    from infraleash.gate.audit import AuditLog

    (tmp_path / "main.tf").write_text(PLAN_ONLY_BUG)
    result, audit = _checkpoint(tmp_path)
    assert [b for b in result.blocking if b.startswith("[terraform validate]")] == []
    plan = [b for b in result.blocking if b.startswith("[terraform plan]")]
    assert plan and 'cannot convert "three" to number' in plan[0], result.render()
    decisions = [r.data for r in AuditLog(audit).records() if r.event == "decision"]
    assert [(d["tool"], d["verdict"], d["effect"]) for d in decisions] == [  # every checkpoint command is gated
        ("checkpoint_init", "allow", "write"), ("checkpoint_validate", "allow", "plan"),
        ("checkpoint_plan", "allow", "plan")]

    (tmp_path / "main.tf").write_text(PLAN_ONLY_BUG.replace('"three"', '"3"'))
    clean, _ = _checkpoint(tmp_path)
    assert clean.blocking == [], clean.render()
    assert any("terraform plan (no refresh): Plan: 1 to add" in n for n in clean.notes)


@pytest.mark.parametrize("trust, backend, gate, why", [
    ("observe", "", True, "terraform plan skipped: the gate says deny"),
    ("plan", 'terraform {\n  backend "s3" {\n    bucket = "state"\n  }\n}\n', True, "remote backend is configured"),
    ("plan", "", False, "no gate session"),
])
def test_checkpoint_says_when_and_why_the_plan_was_skipped(tmp_path: Path, trust: str, backend: str, gate: bool,
                                                            why: str) -> None:
    (tmp_path / "main.tf").write_text(backend + PLAN_ONLY_BUG)
    result, audit = _checkpoint(tmp_path, trust, gate)
    assert not [b for b in result.blocking if b.startswith("[terraform plan]")]
    assert any(why in n for n in result.notes), result.render()
    assert "plan skipped" in result.render()
