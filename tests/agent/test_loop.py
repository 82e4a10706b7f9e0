"""The loop with the scripted model and the real gate, executor, approvals store and audit log."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from infraleash.agent.messages import Message
from infraleash.agent.models.scripted import ScriptedModel, Turn, call, raw_call
from infraleash.agent.run_store import RunStore
from infraleash.agent.runtime import RunOptions, resume_run, start_run
from infraleash.gate.approvals import ApprovalStore, Status
from infraleash.gate.audit import AuditLog
from infraleash.policy import load_policy

POLICY = "version: 1\ntrust_level: act-with-approval\n"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "infra"
    ws.mkdir()
    (ws / "infraleash.yaml").write_text(POLICY)
    (ws / "main.tf").write_text('resource "terraform_data" "marker" {\n  input = "v1"\n}\n')
    return ws


def opts(ws: Path, model: ScriptedModel, **kw: object) -> RunOptions:
    return RunOptions(workspace=ws, policy=load_policy(ws / "infraleash.yaml"), model=model,
                      validate_checkpoints=False, **kw)  # type: ignore[arg-type]


def audit(ws: Path) -> list[dict]:  # type: ignore[type-arg]
    return [r.model_dump() for r in AuditLog(ws / ".infraleash" / "audit.jsonl").records()]


def tool_results(messages: list[Message]) -> list[Message]:
    return [m for m in messages if m.role == "tool"]


def test_success_reads_writes_and_saves_the_trajectory(workspace: Path) -> None:
    model = ScriptedModel([
        Turn(tool_calls=[call("read_file", path="main.tf")]),
        Turn(text="Changing the input.", tool_calls=[call("write_file", path="main.tf",
                                                          content='resource "terraform_data" "marker" {\n  input = "v2"\n}\n')]),
        Turn(text="Done: marker input is v2."),
    ])
    state = start_run("set the marker input to v2", opts(workspace, model))
    assert state.status == "done" and state.final == "Done: marker input is v2."
    assert 'input = "v2"' in (workspace / "main.tf").read_text()
    # the model saw the file it read, with line numbers
    assert '    2    input = "v1"' in tool_results(model.seen[1])[0].content
    saved = json.loads((workspace / ".infraleash" / "runs" / state.run_id / "trajectory.json").read_text())
    assert saved["status"] == "done" and len(saved["steps"]) == 3
    assert [o["tool"] for s in saved["steps"] for o in s["observations"]] == ["read_file", "write_file"]
    decisions = [r["data"] for r in audit(workspace) if r["event"] == "decision"]
    assert [(d["tool"], d["verdict"]) for d in decisions] == [("read_file", "allow"), ("write_file", "allow")]


def test_denied_terraform_apply_comes_back_as_a_tool_error_with_the_rule(workspace: Path) -> None:
    model = ScriptedModel([
        Turn(tool_calls=[call("terraform", args=["apply", "-auto-approve"])]),
        Turn(text="The gate refused the apply; a human must apply a reviewed plan."),
    ])
    state = start_run("apply the change", opts(workspace, model))
    assert state.status == "done"
    [refusal] = tool_results(model.seen[1])
    assert refusal.is_error and "TF-APPLY-UNSAVED-PLAN" in refusal.content and "refused by the gate" in refusal.content
    [denied] = [r["data"] for r in audit(workspace) if r["event"] == "decision"]
    assert denied["verdict"] == "deny" and denied["rules"][0]["id"] == "TF-APPLY-UNSAVED-PLAN"
    assert not any(r["event"] == "execution" for r in audit(workspace))


def test_bad_arguments_unknown_tool_and_malformed_json_go_back_to_the_model(workspace: Path) -> None:
    model = ScriptedModel([
        Turn(tool_calls=[call("write_file", path="notes.md"),  # content missing
                         call("delete_everything"),
                         raw_call("read_file", '{"path": "main.tf"'),
                         call("write_file", path="../outside.tf", content="x")]),
        Turn(tool_calls=[call("write_file", path="notes.md", content="hello")]),
        Turn(text="ok"),
    ])
    state = start_run("write notes", opts(workspace, model))
    assert state.status == "done"
    errors = [m.content for m in tool_results(model.seen[1])]
    assert "tool write_file: content: required parameter missing" in errors[0]
    assert "unknown tool 'delete_everything'" in errors[1] and "read_file" in errors[1]
    assert "not valid JSON" in errors[2]
    assert "outside the workspace" in errors[3]
    assert not (workspace.parent / "outside.tf").exists()
    assert (workspace / "notes.md").read_text() == "hello"


def test_step_limit_stops_the_run_before_the_next_model_call(workspace: Path) -> None:
    model = ScriptedModel(lambda msgs: Turn(tool_calls=[call("list_files")]))
    state = start_run("loop forever", opts(workspace, model, max_steps=3))
    assert state.status == "limit_reached"
    assert "step limit reached: 3 of 3" in (state.stop_reason or "")
    assert len(model.seen) == 3 and len(state.steps) == 3
    assert RunStore(workspace).load(state.run_id).status == "limit_reached"


@pytest.mark.skipif(shutil.which("terraform") is None, reason="needs the terraform binary for a real plan/apply")
def test_approval_pause_then_resume_runs_the_approved_apply_exactly_once(workspace: Path) -> None:
    model = ScriptedModel([
        Turn(tool_calls=[call("terraform_init")]),
        Turn(tool_calls=[call("terraform_plan", out="tfplan")]),
        Turn(tool_calls=[call("terraform", args=["apply", "tfplan"]), call("list_files")]),
        Turn(text="Applied the reviewed plan."),
    ])
    o = opts(workspace, model)
    paused = start_run("apply the marker", o)
    assert paused.status == "waiting_for_approval"
    assert paused.pending is not None and paused.pending.request_id
    assert [c.name for c in paused.deferred] == ["list_files"]
    assert not (workspace / "terraform.tfstate").exists()
    store = ApprovalStore(workspace / ".infraleash" / "approvals.db")
    req = store.get(paused.pending.request_id)
    assert req.status is Status.PENDING and req.argv[-2:] == ["apply", "tfplan"] and req.plan_sha256

    # resuming before anyone decided keeps it paused, without calling the model
    assert resume_run(paused.run_id, o).status == "waiting_for_approval"
    assert len(model.seen) == 3

    store.approve(req.id, "alice", "reviewed the plan")
    done = resume_run(paused.run_id, o)
    assert done.status == "done" and done.final == "Applied the reviewed plan."
    results = tool_results(model.seen[3])
    assert "approved by alice" in results[-2].content and results[-2].name == "terraform"
    assert results[-1].name == "list_files"  # the deferred call of the paused turn ran after it
    assert json.loads((workspace / "terraform.tfstate").read_text())["resources"][0]["type"] == "terraform_data"
    assert store.get(req.id).status is Status.EXECUTED
    runs = [r for r in audit(workspace) if r["event"] == "execution" and r["data"].get("request_id") == req.id]
    assert len(runs) == 1 and runs[0]["data"]["approver"] == "alice"


def test_denied_approval_is_told_to_the_model(workspace: Path) -> None:
    (workspace / "tfplan").write_bytes(b"not really a plan")
    model = ScriptedModel([Turn(tool_calls=[call("terraform", args=["apply", "tfplan"])]),
                           Turn(text="Understood, not applying.")])
    o = opts(workspace, model)
    paused = start_run("apply", o)
    assert paused.status == "waiting_for_approval" and paused.pending is not None
    ApprovalStore(workspace / ".infraleash" / "approvals.db").deny(paused.pending.request_id, "bob", "not today")
    done = resume_run(paused.run_id, o)
    assert done.status == "done"
    [told] = tool_results(model.seen[1])
    assert told.is_error and "a human denied" in told.content and "bob: not today" in told.content


@pytest.mark.parametrize("field, value, expected", [
    ("max_tokens", 50, "token limit reached"),
    ("max_cost_usd", 0.0, "cost limit reached"),
    ("max_seconds", 0.0, "time limit reached"),
])
def test_token_cost_and_time_limits_are_checked_before_the_model_call(workspace: Path, field: str, value: float,
                                                                      expected: str) -> None:
    from infraleash.agent.loop import Agent, Limits

    model = ScriptedModel(lambda msgs: Turn(text="x" * 400, tool_calls=[call("list_files")]))
    limits = Limits(**{"max_steps": 50, field: value})  # type: ignore[arg-type]
    from infraleash.agent.guarded import GateSession, GuardedToolset
    from infraleash.agent.tools import Workspace, file_tools

    policy = load_policy(workspace / "infraleash.yaml")
    agent = Agent(model, GuardedToolset(file_tools(Workspace(workspace)), GateSession.for_workspace(policy, workspace)),
                  store=RunStore(workspace), limits=limits)
    state = agent.run(agent.start("t", workspace, "system"))
    assert state.status == "limit_reached" and expected in (state.stop_reason or "")
    assert len(model.seen) == len(state.steps) < 50
