"""The CLI entry: only the invoked command's module is loaded, and each command keeps its own usage."""

from __future__ import annotations

import subprocess
import sys

import pytest

from infraleash.surfaces.cli import COMMANDS, main


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
