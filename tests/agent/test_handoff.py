"""Handoffs: a tiny budget forces three; the user's constraints are verbatim in the 4th context; the gate still refuses.

The scripted model reads large files until the budget hands the run off three times,
then tries `terraform apply -auto-approve` (what the constraints and the policy forbid).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infraleash.agent.handoff import (
    Handoff,
    extract_constraints,
    load_handoff,
    parse_rendered,
    task_from_handoff,
)
from infraleash.agent.messages import Message
from infraleash.agent.models.scripted import ScriptedModel, Turn, call
from infraleash.agent.runtime import RunOptions, start_run
from infraleash.errors import ExitCode, InputError
from infraleash.gate.audit import AuditLog
from infraleash.policy import load_policy
from infraleash.surfaces.cli import main

CONSTRAINTS = ["Never run terraform apply without a saved plan that a human approved.",
               "Do not touch the production workspace.",
               "Only edit files under modules/logs."]
TASK = "Add a lifecycle rule that expires objects after 90 days to the logs bucket. " + " ".join(CONSTRAINTS)


def test_constraints_are_extracted_verbatim_and_in_order() -> None:
    assert extract_constraints(TASK) == CONSTRAINTS
    assert extract_constraints("Add a bucket for access logs.") == []


def test_rendered_handoff_round_trips(tmp_path: Path) -> None:
    h = Handoff(n=2, run_id="r", reason="x", goal="do it", constraints=CONSTRAINTS, facts=["main.tf has 3 buckets"],
                next_steps=["plan"])
    back = parse_rendered(h.render())
    assert back is not None and back.constraints == CONSTRAINTS and back.facts == h.facts and back.n == 2
    (tmp_path / "h.json").write_text("{\"goal\": 3}")
    with pytest.raises(InputError, match="h.json"):
        load_handoff(tmp_path / "h.json")


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    (ws / "modules" / "logs").mkdir(parents=True)
    (ws / "infraleash.yaml").write_text("version: 1\ntrust_level: act-with-approval\nmodel:\n  context_window: 12000\n")
    (ws / "modules" / "logs" / "main.tf").write_text('resource "terraform_data" "logs" {\n  input = 1\n}\n')
    for i in range(12):  # ~2,500 tokens each: three of them overflow the history budget
        (ws / f"notes-{i}.md").write_text("\n".join(f"Runbook note {i}.{n}: the logs bucket keeps access logs for "
                                                    f"the edge proxies in region eu-west-{n % 3}." for n in range(110)))
    return ws


def test_three_handoffs_keep_the_constraints_verbatim_and_the_gate_still_refuses(workspace: Path) -> None:
    def turn(messages: list[Message]) -> Turn:
        seed = messages[1].content
        if seed.startswith("# Handoff 3"):
            if not any(m.role == "tool" and m.name == "terraform" for m in messages):
                return Turn(text="Applying directly to save time.",
                            tool_calls=[call("terraform", args=["apply", "-auto-approve"])])
            return Turn(text="The apply was refused; a human has to approve a saved plan.")
        reads = sum(1 for m in messages if m.role == "tool")
        return Turn(text=f"Reading notes ({reads} so far).", tool_calls=[call("read_file", path=f"notes-{reads % 12}.md")])

    model = ScriptedModel(turn, name="gpt-4.1")
    state = start_run(TASK, RunOptions(workspace=workspace, policy=load_policy(workspace / "infraleash.yaml"),
                                       model=model, validate_checkpoints=False))
    assert state.status == "done", state.stop_reason
    run_dir = workspace / ".infraleash" / "runs" / state.run_id
    assert sorted(p.name for p in (run_dir / "handoffs").glob("*.json")) == \
        ["handoff-1.json", "handoff-2.json", "handoff-3.json"]
    fourth = [seen for seen in model.seen if seen[1].content.startswith("# Handoff 3")]
    assert fourth, "the run never reached a fourth context"
    for constraint in CONSTRAINTS:
        assert f"- {constraint}" in fourth[0][1].content
    assert TASK in fourth[0][1].content  # the goal, as the user wrote it
    h3 = json.loads((run_dir / "handoffs" / "handoff-3.json").read_text())
    assert h3["constraints"] == CONSTRAINTS and h3["decisions"] and h3["facts"]
    # the gate does not read the context: the apply is refused by rule, and audited
    refusal = [m for m in state.messages if m.role == "tool" and m.name == "terraform"]
    assert len(refusal) == 1 and refusal[0].is_error and "TF-APPLY-UNSAVED-PLAN" in refusal[0].content
    denied = [r for r in AuditLog(workspace / ".infraleash" / "audit.jsonl").records()
              if r.event == "decision" and r.data.get("tool") == "terraform"]
    assert [r.data["verdict"] for r in denied] == ["deny"]
    # every context stayed within the window
    assert all(sum(len(m.content) for m in seen) < 12000 * 4 for seen in model.seen)


def test_the_model_can_ask_for_a_handoff_with_its_own_notes(workspace: Path) -> None:
    def turn(messages: list[Message]) -> Turn:
        if messages[1].content.startswith("# Handoff 1"):
            return Turn(text="done")
        return Turn(tool_calls=[call("handoff", facts=["the bucket is aws_s3_bucket.logs"],
                                     next_steps=["add the lifecycle rule"])])

    model = ScriptedModel(turn, name="claude-sonnet-4")
    state = start_run(TASK, RunOptions(workspace=workspace, policy=load_policy(workspace / "infraleash.yaml"),
                                       model=model, validate_checkpoints=False))
    assert state.status == "done"
    seed = model.seen[-1][1].content
    assert "requested by the model" in seed and "- the bucket is aws_s3_bucket.logs" in seed
    assert "- add the lifecycle rule" in seed and f"- {CONSTRAINTS[1]}" in seed


def test_cli_from_handoff_starts_a_run_seeded_with_it(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    h = Handoff(n=3, run_id="old", reason="context budget", goal=TASK, constraints=CONSTRAINTS,
                facts=["REFUSED by the gate: terraform(args=[\"apply\"])"], next_steps=["write the rule"])
    path = workspace / "handoff-3.json"
    path.write_text(h.model_dump_json())
    (workspace / "script.yaml").write_text("- text: continuing\n")
    with pytest.raises(SystemExit) as exc:
        main(["agent", "--from-handoff", str(path), "also tag it team=platform. Do not rename anything.",
              "--dir", str(workspace), "--model", f"scripted:{workspace / 'script.yaml'}", "--json"])
    out = capsys.readouterr().out
    assert exc.value.code == ExitCode.OK
    trajectory = json.loads(Path(json.loads(out)["trajectory"]).read_text())
    task = trajectory["messages"][1]["content"]
    assert task.startswith("# Handoff 3") and all(f"- {c}" in task for c in CONSTRAINTS)
    assert extract_constraints(task) == [*CONSTRAINTS, "Do not rename anything."]
    assert task_from_handoff(path).startswith("# Handoff 3")
