"""The CLI entry: only the invoked command's module is loaded, and each command keeps its own usage."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import NoReturn

import pytest
from _cli import run_cli

from infraleash.errors import ExitCode
from infraleash.surfaces.cli import COMMANDS, DEBUG_ENV, bug_line, main


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_each_command_keeps_its_own_usage(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main([name, "--help"])
    assert done.value.code == 0
    assert f"Usage: infraleash {name}" in capsys.readouterr().out


def test_exec_loads_neither_the_agent_nor_the_check_engine_nor_the_log_miner() -> None:
    probe = (
        "import sys\n"
        "from infraleash.surfaces.cli import main\n"
        "try:\n"
        "    main(['exec', '--', 'terraform', 'destroy'])\n"
        "except SystemExit as e:\n"
        "    code = e.code\n"
        "heavy = sorted(m for m in sys.modules if m.startswith(('infraleash.agent', 'infraleash.checks', "
        "'infraleash.logs', 'infraleash.review', 'openai', 'anthropic', 'mcp')))\n"
        "print(code, heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "4 []", out.stdout + out.stderr


def test_no_arguments_prints_help_once_and_exits_2() -> None:
    out = subprocess.run([sys.executable, "-m", "infraleash"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert out.stdout.count("Usage: infraleash") == 1 and "Traceback" not in out.stderr


# --- the last line of defence: an unexpected exception is exit 70 and one line, never exit 1 or a traceback ---

def _boom(*_args: object, **_kwargs: object) -> NoReturn:
    raise KeyError("planted failure")


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    (tmp_path / "main.tf").write_text('resource "terraform_data" "x" {\n  input = "a"\n}\n')
    return tmp_path


def _crash_cases(config_dir: Path) -> dict[str, tuple[str, list[str]]]:
    plan = config_dir / "plan.json"
    plan.write_text('{"format_version": "1.2", "resource_changes": []}')
    return {
        "rule": ("infraleash.checks.engine.providers.check", ["check", str(config_dir)]),
        "reader": ("infraleash.review.load_plan", ["review", str(config_dir), "--plan", str(plan)]),
        "renderer": ("infraleash.surfaces.cli.review_cmd.render", ["review", str(config_dir), "--no-plan"]),
    }


@pytest.mark.parametrize("part", ["rule", "reader", "renderer"])
def test_an_unexpected_exception_is_exit_70_and_one_line(
    part: str, config_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    target, argv = _crash_cases(config_dir)[part]
    monkeypatch.delenv(DEBUG_ENV, raising=False)
    monkeypatch.setattr(target, _boom)
    code, _out, err = run_cli(capsys, *argv)
    assert code == ExitCode.INTERNAL, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "bug in infraleash" in lines[0] and "KeyError" in lines[0] and "--debug" in lines[0]
    assert "Traceback" not in err


@pytest.mark.parametrize("how", ["flag", "env"])
def test_debug_adds_the_traceback(
    how: str, config_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    target, argv = _crash_cases(config_dir)["renderer"]
    monkeypatch.setattr(target, _boom)
    if how == "flag":
        monkeypatch.delenv(DEBUG_ENV, raising=False)
        argv = ["--debug", *argv]
    else:
        monkeypatch.setenv(DEBUG_ENV, "1")
    code, _out, err = run_cli(capsys, *argv)
    assert code == ExitCode.INTERNAL
    assert "Traceback (most recent call last)" in err and "planted failure" in err
    assert err.strip().splitlines()[-1].startswith("error: internal error: this is a bug in infraleash")


def test_a_bug_line_stays_one_bounded_line() -> None:
    line = bug_line(ValueError("a\nb\r\n" + "x" * 10_000))
    assert "\n" not in line and len(line) < 600


def test_an_unexpected_exception_in_a_real_process_is_exit_70_without_traceback(tmp_path: Path) -> None:
    probe = (
        "import infraleash.surfaces.cli.review_cmd as r\n"
        "def boom(*a, **k):\n    raise RecursionError('deep')\n"
        "r.render = boom\n"
        "from infraleash.surfaces.cli import main\n"
        f"main(['review', {str(tmp_path)!r}, '--no-plan'])\n"
    )
    (tmp_path / "main.tf").write_text('resource "terraform_data" "x" {}\n')
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120,
                         env={k: v for k, v in os.environ.items() if k != DEBUG_ENV})
    assert out.returncode == 70, out.stderr
    assert "Traceback" not in out.stderr and out.stderr.count("\n") == 1


def test_version_prints_the_installed_version(capsys: pytest.CaptureFixture[str]) -> None:
    from importlib.metadata import version

    code, out, _ = run_cli(capsys, "--version")
    assert (code, out) == (0, f"infraleash {version('infraleash')}\n")


def test_plain_flags_show_no_value_type_in_help(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "check", "--help")
    assert code == 0 and "--strict" in out and "<bool>" not in out
    assert "<int>" in run_cli(capsys, "incident", "start", "--help")[1]  # options that take a value keep their type
