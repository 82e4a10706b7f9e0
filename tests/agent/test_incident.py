"""Incident mode: sev1/sev2 read and draft only, enforced by the toolset and by the gate context."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from infraleash.agent.guarded import GateSession, GuardedToolset
from infraleash.agent.incident import IncidentMode
from infraleash.agent.models.scripted import ScriptedModel, Turn, call
from infraleash.agent.runtime import RunOptions, start_run
from infraleash.agent.tools import Workspace, terraform_tools
from infraleash.errors import UsageError
from infraleash.gate.model import GateContext
from infraleash.policy import load_policy


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "infraleash.yaml").write_text("version: 1\ntrust_level: act-with-approval\n"
                                        "incidents:\n  sev3_and_below_trust_level: plan\n")
    (ws / "api.log").write_text("2026-11-03T10:00:00Z INFO ok\n2026-11-03T10:01:00Z ERROR db timeout\n")
    return ws


def test_sev1_offers_only_read_tools_and_a_draft(workspace: Path) -> None:
    model = ScriptedModel([
        Turn(tool_calls=[call("read_file", path="api.log"), call("write_file", path="fix.tf", content="x"),
                         call("terraform", args=["apply", "tfplan"])]),
        Turn(tool_calls=[call("draft_incident_report", summary="API errors from 10:01: db timeouts.",
                              timeline=["10:01 first db timeout (api.log:2)"],
                              hypotheses=["database saturated"], next_checks=["db connections"],
                              actions_for_humans=["fail over the database if saturation is confirmed"])]),
        Turn(text="Drafted."),
    ])
    policy = load_policy(workspace / "infraleash.yaml")
    state = start_run("API 500s", RunOptions(workspace=workspace, policy=policy, model=model,
                                             incident=IncidentMode(1), validate_checkpoints=False))
    assert state.status == "done"
    assert state.incident == {"severity": 1, "read_only": True,
                              "gating": IncidentMode(1).gating(policy)}
    offered = set(model.tools_seen[0])
    assert {"read_file", "search_files", "logs", "kubectl", "draft_incident_report"} <= offered
    assert not offered & {"write_file", "terraform", "terraform_plan", "terraform_fmt", "write_plan"}
    results = [m for m in state.messages if m.role == "tool"]
    assert "db timeout" in results[0].content
    assert results[1].is_error and "unknown tool 'write_file'" in results[1].content
    assert results[2].is_error and "unknown tool 'terraform'" in results[2].content
    assert "INCIDENT MODE, severity 1" in state.messages[0].content
    draft = workspace / ".infraleash" / "runs" / state.run_id / "incident.md"
    assert draft.read_text().startswith("> INCIDENT sev1\n> gating: read-and-draft only")
    saved = json.loads(draft.with_suffix(".json").read_text())
    assert saved["incident"]["severity"] == 1 and saved["actions_for_humans"]


@pytest.mark.skipif(shutil.which("terraform") is None, reason="needs the terraform binary")
def test_the_gate_context_refuses_actions_at_sev2_even_with_the_full_toolset(workspace: Path) -> None:
    """If a mutating tool slipped into a sev2 toolset, the gate still refuses it (INCIDENT-SEV12)."""
    (workspace / "tfplan").write_bytes(b"plan")
    policy = load_policy(workspace / "infraleash.yaml")
    session = GateSession.for_workspace(policy, workspace, context=GateContext(incident_severity=2))
    toolset = GuardedToolset(terraform_tools(Workspace(workspace)), session)
    obs = toolset.call(call("terraform", args=["apply", "tfplan"]))
    assert obs.is_error and "INCIDENT-SEV12" in obs.output
    # the same call outside an incident is held for approval instead
    normal = GuardedToolset(terraform_tools(Workspace(workspace)),
                            GateSession.for_workspace(policy, workspace, context=GateContext()))
    with pytest.raises(Exception, match="held for a human"):
        normal.call(call("terraform", args=["apply", "tfplan"]))


def test_sev3_lets_the_policy_decide_and_says_so(workspace: Path) -> None:
    policy = load_policy(workspace / "infraleash.yaml")
    mode = IncidentMode(3)
    assert not mode.read_only
    assert mode.header(policy) == ["INCIDENT sev3", "gating: policy decides: trust level plan (never above it)"]
    with pytest.raises(UsageError, match="expected 1"):
        IncidentMode(0)
