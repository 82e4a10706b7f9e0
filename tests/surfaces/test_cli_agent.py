"""``infraleash agent`` / ``infraleash incident`` through the real CLI entry, with scripted models."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from _cli import run_cli as cli

from infraleash.errors import ExitCode
from infraleash.gate.approvals import ApprovalStore


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    (tmp_path / "infraleash.yaml").write_text("version: 1\ntrust_level: act-with-approval\n")
    (tmp_path / "main.tf").write_text('resource "terraform_data" "m" {\n  input = 1\n}\n')
    return tmp_path


def script(ws: Path, text: str) -> str:
    path = ws / "script.yaml"
    path.write_text(text)
    return f"scripted:{path}"


def test_no_model_configured_says_what_to_set_and_exits_2(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "agent", "add a bucket", "--dir", str(ws))
    assert code == ExitCode.USAGE
    assert "no model configured" in err and "INFRALEASH_MODEL_PROVIDER" in err and "OPENAI_API_KEY" in err
    assert "ANTHROPIC_API_KEY" in err and "INFRALEASH_BASE_URL" in err and "--model" in err
    assert "Traceback" not in err and out == "" and len(err.splitlines()) <= 20  # one screen


def test_bad_usage_is_one_line_exit_2(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(capsys, "agent", "--dir", str(ws), "--model", "scripted:x.yaml")[0] == ExitCode.USAGE
    code, _, err = cli(capsys, "agent", "task", "--resume", "r1", "--dir", str(ws))
    assert code == ExitCode.USAGE and "--resume RUN continues a run" in err
    code, _, err = cli(capsys, "agent", "--resume", "nope", "--dir", str(ws), "--model", script(ws, "[]"))
    assert code == ExitCode.USAGE and "no run 'nope'" in err
    code, _, err = cli(capsys, "agent", "t", "--dir", str(ws), "--model", "gpt-4")
    assert code == ExitCode.USAGE and "PROVIDER:NAME" in err and len(err.strip().splitlines()) == 1


def test_a_finished_run_exits_0_with_json(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = script(ws, "- tool_calls: [{name: read_file, arguments: {path: main.tf}}]\n- text: It is one marker.\n")
    code, out, err = cli(capsys, "agent", "what is here?", "--dir", str(ws), "--model", model, "--json")
    assert code == ExitCode.OK
    doc = json.loads(out)
    assert doc["status"] == "done" and doc["final"] == "It is one marker." and doc["steps"] == 2
    assert Path(doc["trajectory"]).is_file() and doc["incident"] is None
    assert "tool read_file" in err


@pytest.mark.skipif(shutil.which("terraform") is None, reason="needs the terraform binary for the held apply")
def test_held_apply_exits_3_then_resume_after_approval_exits_0(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (ws / "tfplan").write_bytes(b"plan bytes")
    model = script(ws, "- tool_calls: [{name: terraform, arguments: {args: [apply, tfplan]}}]\n- text: finished\n")
    code, out, _ = cli(capsys, "agent", "apply it", "--dir", str(ws), "--model", model)
    assert code == ExitCode.NEEDS_APPROVAL
    assert "held for a human: approval request" in out and "infraleash agent --resume" in out
    run_id = out.split("run ")[1].split(":")[0]
    store = ApprovalStore(ws / ".infraleash" / "approvals.db")
    [req] = store.requests()
    store.deny(req.id, "carol", "use the pipeline")
    code, out, _ = cli(capsys, "agent", "--resume", run_id, "--dir", str(ws), "--model", model)
    assert code == ExitCode.OK and "finished" in out


def test_incident_header_and_json_show_severity_and_gating(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = script(ws, "- text: Timeline drafted.\n")
    code, out, err = cli(capsys, "incident", "--severity", "2", "checkout is down", "--dir", str(ws),
                         "--model", model, "--json")
    assert code == ExitCode.OK
    assert "INCIDENT sev2" in err and "read-and-draft only" in err
    doc = json.loads(out)
    assert doc["incident"]["severity"] == 2 and doc["incident"]["read_only"] is True
    code, out, err = cli(capsys, "incident", "-s", "2", "checkout is down", "--dir", str(ws), "--model", model)
    assert "INCIDENT sev2 | gating: read-and-draft only" in out


def test_incident_sev1_every_output_carries_the_severity(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = script(ws, """- tool_calls:
  - {name: terraform, arguments: {args: [apply, -auto-approve]}}
  - {name: write_file, arguments: {path: fix.tf, content: x}}
  - name: draft_incident_report
    arguments: {summary: checkout 502s since 10:02, timeline: ["10:02: first 502 (app.log)"],
                hypotheses: [db pool exhausted], next_checks: [pool metrics], actions_for_humans: [raise pool size]}
- text: Draft written.
""")
    code, out, err = cli(capsys, "incident", "--severity", "1", "checkout is down", "--dir", str(ws), "--model", model)
    assert code == ExitCode.OK
    assert err.startswith("INCIDENT sev1\ngating: read-and-draft only")  # the event stream
    assert out.startswith("INCIDENT sev1 | gating: read-and-draft only")  # the report
    assert "[INCIDENT sev1, read-and-draft only]: done" in out  # the run summary line
    assert err.count("unknown tool") == 2 and not (ws / "fix.tf").exists()  # no terraform, no write_file
    run_dir = next((ws / ".infraleash" / "runs").glob("*/incident.md")).parent
    trajectory = json.loads((run_dir / "trajectory.json").read_text())
    [saved] = [m["content"] for m in trajectory["messages"] if m.get("name") == "draft_incident_report"]
    assert "(INCIDENT sev1 | gating: read-and-draft only" in saved  # what the model is told
    draft = (run_dir / "incident.md").read_text()
    assert draft.startswith("> INCIDENT sev1\n> gating: read-and-draft only")


def test_step_limit_exits_1(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = script(ws, "- tool_calls: [{name: list_files}]\n" * 5)
    code, out, _ = cli(capsys, "agent", "loop", "--dir", str(ws), "--model", model, "--max-steps", "2")
    assert code == ExitCode.FINDINGS and "limit_reached" in out and "step limit reached" in out
