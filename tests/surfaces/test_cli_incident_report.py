"""`infraleash incident report` through the CLI: from --logs, from an incident run, and bad input (exit 2)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from _cli import run_cli as run

from infraleash.agent.messages import ToolCall, Usage
from infraleash.agent.run_store import RunState, RunStore, StepRecord

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "paperwork"))
import incident_logs as planted  # noqa: E402


def incident_run(ws: Path, run_id: str, log_paths: list[str]) -> None:
    calls = [ToolCall(id="c1", name="logs", arguments={"paths": log_paths})] if log_paths else []
    RunStore(ws).save(RunState(run_id=run_id, task="checkout errors since 02:15", workspace=str(ws),
                               status="done", incident={"severity": 1},
                               steps=[StepRecord(n=1, at=0.0, duration_s=0.1, usage=Usage(), cost_usd=None,
                                                 tool_calls=calls)]))


def test_report_from_logs_writes_both_drafts(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    paths = planted.write(tmp_path / "logs")
    code, _, err = run(capsys, "incident", "report", *(a for p in paths for a in ("--logs", str(p))),
                       "--severity", "2", "--out", str(tmp_path / "out"))
    assert code == 0, err
    rca = (tmp_path / "out" / "rca.md").read_text()
    update = (tmp_path / "out" / "customer-update.md").read_text()
    assert "(sev2)" in rca and "| 360 |" in rca and "(severity 2)" in update
    assert not any(h in update for h in [*planted.HOSTS, *planted.IPS, *planted.SERVICES, *planted.SECRETS])


def test_report_from_an_incident_run_takes_its_logs_and_severity(capsys: pytest.CaptureFixture[str],
                                                                 tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    planted.write(ws / "logs")
    incident_run(ws, "run-1", ["logs/checkout-api.log", "logs/payments-db.log", "logs/edge-proxy.log"])
    code, out, err = run(capsys, "incident", "report", "run-1", "--dir", str(ws))
    assert code == 0, err
    assert out.startswith("# Incident RCA draft (sev1)") and "Incident run: run-1 (checkout errors since 02:15)" in out
    assert "# Customer update" in out and "(severity 1)" in out.split("# Customer update")[1]


@pytest.mark.parametrize("case", ["empty_run", "no_run", "missing_log", "both", "empty_log"])
def test_bad_input_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path, case: str) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "empty.log").write_text("")
    incident_run(ws, "run-empty", [])
    argv = {"empty_run": ["run-empty", "--dir", str(ws)],
            "no_run": ["run-nope", "--dir", str(ws)],
            "missing_log": ["--logs", str(ws / "gone.log"), "-s", "2"],
            "both": ["run-empty", "--logs", str(ws / "empty.log"), "-s", "2", "--dir", str(ws)],
            "empty_log": ["--logs", str(ws / "empty.log"), "-s", "2"]}[case]
    code, out, err = run(capsys, "incident", "report", *argv)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: ")
    named = {"empty_run": "run-empty", "no_run": "run-nope", "missing_log": "gone.log", "both": "RUN",
             "empty_log": "empty.log"}[case]
    assert named in err


def test_incident_help_names_both_the_investigation_and_the_report(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "incident", "--help")
    assert code == 0 and "start" in out and "report" in out and "incident start --help" in out
    code, out, _ = run(capsys, "incident", "start", "--help")
    assert code == 0 and "--severity" in out
