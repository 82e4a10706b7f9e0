"""`infraleash runbook update`: a unified diff that `patch -p0` and `git apply` apply cleanly; bad runbooks exit 2."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from _cli import run_cli as run

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "paperwork"))
import incident_logs as planted  # noqa: E402
from test_cli_incident_report import incident_run  # noqa: E402

RUNBOOK = "# Payments runbook\n\n## Database\n\nThe primary fails over by itself.\n"


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    planted.write(tmp_path / "logs")
    (tmp_path / "RUNBOOK.md").write_text(RUNBOOK)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("tool", ["patch", "git"])
def test_patch_applies_cleanly_and_adds_the_incident(ws: Path, capsys: pytest.CaptureFixture[str], tool: str) -> None:
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed (scripts/system-deps.sh installs it)")
    incident_run(ws, "run-1", ["logs/checkout-api.log", "logs/payments-db.log", "logs/edge-proxy.log"])
    code, _, err = run(capsys, "runbook", "update", "RUNBOOK.md", "--from", "run-1", "--patch", "out.patch")
    assert code == 0, err
    assert (ws / "RUNBOOK.md").read_text() == RUNBOOK  # never applied by us
    argv = ["patch", "-p0", "-i", "out.patch"] if tool == "patch" else ["git", "apply", "out.patch"]
    done = subprocess.run(argv, cwd=ws, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    text = (ws / "RUNBOOK.md").read_text()
    assert text.startswith(RUNBOOK)
    assert "## Incident 2026-12-03 02:15–02:26 UTC, sev1" in text
    assert "`checkout-api could not connect to payments-db at <*>:<*> (<*>): connection refused`: 360 events " \
           "02:15:00–02:26:58 UTC" in text
    assert "`infraleash logs logs/checkout-api.log logs/payments-db.log logs/edge-proxy.log`" in text
    assert planted.PASSWORD not in text


def test_runbook_without_final_newline_still_applies(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (ws / "RUNBOOK.md").write_text(RUNBOOK.rstrip("\n"))
    code, diff, err = run(capsys, "runbook", "update", "RUNBOOK.md", "--logs", "logs/payments-db.log")
    assert code == 0, err
    assert diff.startswith("--- RUNBOOK.md\n+++ RUNBOOK.md\n") and "\\ No newline at end of file" in diff
    done = subprocess.run(["git", "apply", "-"], cwd=ws, input=diff, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "### Read commands that found the cause\n\n- `infraleash logs logs/payments-db.log`" in \
        (ws / "RUNBOOK.md").read_text()


@pytest.mark.parametrize(("content", "why"), [(b"\x89PNG\r\n\x1a\n\x00\x00", "binary"),
                                              (b"just some notes\nno headings here\n", "no heading")])
def test_not_a_markdown_runbook_is_exit_2(ws: Path, capsys: pytest.CaptureFixture[str], content: bytes,
                                          why: str) -> None:
    (ws / "notes.md").write_bytes(content)
    code, out, err = run(capsys, "runbook", "update", "notes.md", "--logs", "logs/payments-db.log")
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert "notes.md" in err and why in err


def test_the_humans_decisions_on_the_runs_held_actions_are_the_steps_humans_took(
        ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from infraleash.gate.approvals import ApprovalStore
    from infraleash.gate.decision import decide
    from infraleash.gate.model import Action
    from infraleash.policy import Policy, load_policy

    (ws / "infraleash.yaml").write_text("version: 1\ntrust_level: act-with-approval\n")
    incident_run(ws, "run-1", ["logs/checkout-api.log", "logs/payments-db.log", "logs/edge-proxy.log"])
    store = ApprovalStore.from_policy(load_policy(search_from=ws))
    policy = Policy.model_validate({"trust_level": "act-with-approval"})

    def held(argv: list[str], requester: str) -> str:
        action = Action(argv=argv, cwd=str(ws), requester=requester, reason="restart the pool")
        return store.create(action, decide(action, policy)).id

    restart = held(["kubectl", "rollout", "restart", "deployment/payments-db-pool"], "agent:run-1")
    scale = held(["kubectl", "scale", "deployment/checkout-api", "--replicas=6"], "agent:run-1")
    other = held(["kubectl", "rollout", "restart", "deployment/other"], "agent:run-2")
    store.approve(restart, "sre-lead", "pool exhausted, restart is safe")
    store.claim(restart)
    store.record_exit(restart, 0)
    store.deny(scale, "sre-lead", "not while the db is down")
    code, out, err = run(capsys, "runbook", "update", "RUNBOOK.md", "--from", "run-1")
    assert code == 0, err
    steps = out.split("### Steps humans took", 1)[1].split("###", 1)[0]
    assert f"sre-lead approved `kubectl rollout restart deployment/payments-db-pool` ({restart}): " \
           "\"pool exhausted, restart is safe\"; it ran once, exit 0" in steps
    assert f"sre-lead denied `kubectl scale deployment/checkout-api --replicas=6` ({scale})" in steps
    assert other not in out  # another run's request is not this incident's
