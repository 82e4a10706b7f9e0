"""`infraleash exec --runner-config`: the child's environment, the org policy and the workspaces come from it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from _cli import run_cli as cli

from infraleash.errors import ExitCode

PRINT_ENV = "print(__import__('json').dumps(sorted(__import__('os').environ)))"  # no `;`: exec refuses it
PY_DIR = os.path.dirname(sys.executable)  # the program must be on the runner configuration's PATH


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    work = tmp_path / "work"
    work.mkdir()
    (work / "infraleash.yaml").write_text("version: 1\ntrust_level: act-with-approval\ncommands:\n"
                                          f"  allow: [[{sys.executable}, -c, {json.dumps(PRINT_ENV)}]]\n")
    monkeypatch.chdir(work)
    monkeypatch.delenv("INFRALEASH_RUNNER_CONFIG", raising=False)
    return work


def _exec(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The real CLI in a child process (its streamed output goes to the real stdout)."""
    return subprocess.run([sys.executable, "-m", "infraleash", "exec", *args], capture_output=True, text=True,
                          timeout=120, env={**os.environ, **(env or {})})


def test_the_runner_configs_environment_reaches_the_child_and_the_callers_does_not(
        workdir: Path, runner_file) -> None:  # type: ignore[no-untyped-def]
    cfg = runner_file(path_dirs=[PY_DIR], env={"AWS_REGION": "eu-west-1"}, pass_env=["RUNNER_TOKEN"])
    proc = _exec("--runner-config", str(cfg), "--", sys.executable, "-c", PRINT_ENV,
                 env={"AWS_CONFIG_FILE": "/tmp/agent-wrote-this", "RUNNER_TOKEN": "from-the-runner"})
    assert proc.returncode == 0, proc.stderr
    names = set(json.loads(proc.stdout))
    assert {"AWS_REGION", "RUNNER_TOKEN", "PATH", "HOME"} <= names
    assert not names & {"AWS_CONFIG_FILE", "PYTHONPATH", "VIRTUAL_ENV", "USER"}


def test_env_var_names_the_runner_config(workdir: Path, runner_file) -> None:  # type: ignore[no-untyped-def]
    proc = _exec("--", sys.executable, "-c", PRINT_ENV,
                 env={"INFRALEASH_RUNNER_CONFIG": str(runner_file(path_dirs=[PY_DIR], env={"FROM_ENV_VAR_CONFIG": "1"}))})
    assert proc.returncode == 0, proc.stderr
    assert "FROM_ENV_VAR_CONFIG" in json.loads(proc.stdout)


def test_a_runner_config_inside_the_workspace_or_writable_by_others_is_refused(
        workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inside = workdir / "ops" / "runner.yaml"
    inside.parent.mkdir()
    inside.write_text("sandbox: {mode: off, reason: the agent wrote this}\n")
    code, _, err = cli(capsys, "exec", "--runner-config", str(inside), "--", "terraform", "version")
    assert code == ExitCode.USAGE and "inside the workspace" in err and "Traceback" not in err
    outside = workdir.parent / "etc" / "runner.yaml"
    outside.parent.mkdir()
    outside.write_text("env: {}\n")
    outside.chmod(0o666)
    code, _, err = cli(capsys, "exec", "--runner-config", str(outside), "--", "terraform", "version")
    assert code == ExitCode.USAGE and f"{outside}: the runner configuration is writable by group or others" in err


def test_the_org_policy_comes_from_the_runner_config(workdir: Path, runner_file,  # type: ignore[no-untyped-def]
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    org = workdir.parent / "org" / "policy.yaml"
    org.parent.mkdir()
    org.write_text("version: 1\ntrust_level: observe\n")
    cfg = runner_file(policy=str(org))
    # the working tree's infraleash.yaml says act-with-approval: it cannot loosen the org's observe
    code, _, err = cli(capsys, "exec", "--runner-config", str(cfg), "--", "terraform", "validate")
    assert code == ExitCode.DENIED and "TRUST-LEVEL" in err and "observe" in err
    code, _, err = cli(capsys, "exec", "--runner-config", str(cfg), "--policy", "infraleash.yaml", "--",
                       "terraform", "validate")
    assert code == ExitCode.USAGE and "can only tighten it" in err


def test_a_cwd_outside_the_runners_workspaces_is_refused(workdir: Path, runner_file,  # type: ignore[no-untyped-def]
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    cfg = runner_file(workspaces=[str(workdir.parent / "elsewhere")])
    code, _, err = cli(capsys, "exec", "--runner-config", str(cfg), "--", "terraform", "version")
    assert code == ExitCode.DENIED and "[RUNNER-WORKSPACE]" in err and "outside the runner's workspaces" in err
    assert os.path.exists(workdir / ".infraleash" / "audit.jsonl")
