"""The runner configuration: where it comes from, what it refuses, and the child environment it builds."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from infraleash.errors import ExitCode
from infraleash.gate import runner_config as rc
from infraleash.gate.runner_config import (
    DEFAULT_PATH,
    SANDBOX_HOME,
    RunnerConfig,
    RunnerConfigError,
    load_runner_config,
    parse_runner_config,
)

GOOD = """\
policy: org-policy.yaml
workspaces: [work]
env:
  AWS_REGION: eu-west-1
pass_env: [AWS_ACCESS_KEY_ID]
terraform:
  cli_config: terraformrc
  plugin_mirrors: [/opt/tf-plugins]
kubeconfig: /etc/infraleash/kubeconfig
sandbox:
  network: {terraform init: true}
"""


@pytest.fixture(autouse=True)
def _no_system_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rc, "SYSTEM_FILE", tmp_path / "etc-infraleash" / "runner.yaml")
    monkeypatch.delenv(rc.ENV_VAR, raising=False)


def _write(path: Path, text: str, mode: int = 0o644) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)
    return path


def test_built_in_defaults_when_there_is_no_file() -> None:
    cfg = load_runner_config(None, environ={})
    assert cfg == RunnerConfig() and cfg.source is None
    env = cfg.child_env({}, environ={"AWS_SECRET_ACCESS_KEY": "x", "HOME": "/root", "PATH": "/evil"})
    assert env == {"PATH": DEFAULT_PATH, "HOME": SANDBOX_HOME}
    assert cfg.sandbox.mode == "bwrap"


def test_given_file_then_env_var_then_the_system_file(tmp_path: Path) -> None:
    given = _write(tmp_path / "a" / "runner.yaml", "env: {WHO: given}\n")
    named = _write(tmp_path / "b" / "runner.yaml", "env: {WHO: env-var}\n")
    system = _write(rc.SYSTEM_FILE, "env: {WHO: system}\n")
    environ = {rc.ENV_VAR: str(named)}
    assert load_runner_config(given, environ=environ).env["WHO"] == "given"
    assert load_runner_config(None, environ=environ).env["WHO"] == "env-var"
    assert load_runner_config(None, environ={}).env["WHO"] == "system"
    assert load_runner_config(None, environ={}).source == str(system.resolve())


def test_never_found_by_walking_up_from_the_working_directory(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "repo" / "envs" / "prod"
    work.mkdir(parents=True)
    for d in (work, tmp_path / "repo"):
        _write(d / "runner.yaml", "sandbox: {mode: off, reason: agent wrote this}\n")
        _write(d / ".infraleash" / "runner.yaml", "sandbox: {mode: off, reason: agent wrote this}\n")
    monkeypatch.chdir(work)
    assert load_runner_config(None, environ={}).sandbox.mode == "bwrap"


def test_relative_paths_are_resolved_against_the_files_directory(tmp_path: Path) -> None:
    cfg = load_runner_config(_write(tmp_path / "etc" / "runner.yaml", GOOD), environ={})
    etc = (tmp_path / "etc").resolve()
    assert cfg.policy == str(etc / "org-policy.yaml") and cfg.workspaces == [str(etc / "work")]
    assert cfg.terraform.cli_config == str(etc / "terraformrc")
    assert cfg.sandbox.network == {"terraform init": True}


def test_child_env_is_the_runners_plus_the_allow_listed_action_names(tmp_path: Path) -> None:
    cfg = load_runner_config(_write(tmp_path / "etc" / "runner.yaml", GOOD), environ={})
    action = {"TF_VAR_region": "x", "TF_WORKSPACE": "prod", "NO_COLOR": "1", "AWS_REGION": "us-east-1",
              "AWS_CONFIG_FILE": "/tmp/evil", "AWS_PROFILE": "admin", "TF_DATA_DIR": "/tmp/d",
              "KUBECONFIG": "/tmp/kc", "PATH": "/tmp/bin", "HOME": "/tmp/h", "PYTHONPATH": "/tmp/p"}
    env = cfg.child_env(action, environ={"AWS_ACCESS_KEY_ID": "AKIA-runner", "AWS_SECRET_ACCESS_KEY": "no"})
    assert env == {
        "PATH": DEFAULT_PATH, "HOME": SANDBOX_HOME, "AWS_ACCESS_KEY_ID": "AKIA-runner", "AWS_REGION": "eu-west-1",
        "TF_CLI_CONFIG_FILE": str((tmp_path / "etc" / "terraformrc").resolve()),
        "KUBECONFIG": "/etc/infraleash/kubeconfig",
        "TF_VAR_region": "x", "TF_WORKSPACE": "prod", "NO_COLOR": "1"}


def test_workspaces_bound_where_commands_run(tmp_path: Path) -> None:
    cfg = RunnerConfig.for_tests(workspaces=[str(tmp_path / "work")])
    (tmp_path / "work" / "a").mkdir(parents=True)
    (tmp_path / "workshop").mkdir()
    assert cfg.workspace_for(tmp_path / "work" / "a") == str((tmp_path / "work").resolve())
    assert cfg.outside_workspaces(tmp_path / "work" / "a") is None
    assert "outside the runner's workspaces" in (cfg.outside_workspaces(tmp_path / "workshop") or "")
    assert RunnerConfig().outside_workspaces("/anywhere") is None


@pytest.mark.parametrize("text, line, message", [
    ("env:\n  AWS_REGION: eu\nsandbox:\n  mode: sometimes\n", 4, "sandbox.mode: Input should be 'bwrap' or 'off'"),
    ("sandbox:\n  mode: off\n", 1, "sandbox: sandbox mode off needs a reason"),
    ("pass_env: [AWS_KEY, 'bad name']\n", 1, "pass_env: 'bad name' is not an environment variable name"),
    ("polcy: x.yaml\n", 1, "polcy: Extra inputs are not permitted"),
    ("env: [a, b]\n", 1, "env: Input should be a valid dictionary"),
    ("env: {A: 1\n", 2, "invalid YAML"),
    ("- a\n- b\n", 1, "must be a mapping"),
    ("source: /tmp/elsewhere\n", 1, "source: Extra inputs are not permitted"),
])
def test_errors_name_the_file_line_and_key(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = _write(tmp_path / "runner.yaml", text)
    with pytest.raises(RunnerConfigError) as e:
        load_runner_config(path, environ={})
    assert str(e.value).startswith(f"{path}:{line}: ") and message in str(e.value), str(e.value)
    assert e.value.exit_code == ExitCode.USAGE


def test_a_file_writable_by_group_or_others_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path / "runner.yaml", "env: {}\n", mode=0o664)
    with pytest.raises(RunnerConfigError, match="writable by group or others"):
        load_runner_config(path, environ={})
    path.chmod(0o646)
    with pytest.raises(RunnerConfigError, match=r"chmod go-w"):
        load_runner_config(path, environ={})


def test_a_file_inside_the_workspace_is_refused(tmp_path: Path) -> None:
    work = tmp_path / "work"
    path = _write(work / "ops" / "runner.yaml", "env: {}\n")
    with pytest.raises(RunnerConfigError, match="inside the workspace"):
        load_runner_config(path, environ={}, workspace=work)
    inside_own_root = _write(tmp_path / "etc" / "runner.yaml", f"workspaces: [{tmp_path}]\n")
    with pytest.raises(RunnerConfigError, match="inside the workspace"):
        load_runner_config(inside_own_root, environ={})
    policy_inside = _write(tmp_path / "etc2" / "runner.yaml", f"policy: {work}/infraleash.yaml\n")
    with pytest.raises(RunnerConfigError, match="org policy is inside the workspace"):
        load_runner_config(policy_inside, environ={}, workspace=work)


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(RunnerConfigError, match="runner configuration not found"):
        load_runner_config(tmp_path / "nope.yaml", environ={})
    with pytest.raises(RunnerConfigError, match="not found"):
        load_runner_config(None, environ={rc.ENV_VAR: str(tmp_path / "nope.yaml")})


def test_for_tests_builds_one_in_code(tmp_path: Path) -> None:
    cfg = RunnerConfig.for_tests(env={"A": "1"}, cli_config=tmp_path / "rc", sandbox={"mode": "off", "reason": "t"})
    assert cfg.runner_env({})["TF_CLI_CONFIG_FILE"] == str(tmp_path / "rc") and cfg.sandbox.mode == "off"
    assert parse_runner_config("", "r.yaml").env == {}
    assert os.environ.get(rc.ENV_VAR) is None
