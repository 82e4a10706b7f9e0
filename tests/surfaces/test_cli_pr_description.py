"""`infraleash pr-description` bad input: one line naming the file, exit 2 (real plans: tests/paperwork)."""

from __future__ import annotations

from pathlib import Path

import pytest
from _cli import run_cli as run


@pytest.fixture
def module(tmp_path: Path) -> Path:
    (tmp_path / "mod").mkdir()
    (tmp_path / "mod" / "main.tf").write_text('resource "aws_sqs_queue" "jobs" {\n  name = "jobs"\n}\n')
    (tmp_path / "empty").mkdir()
    (tmp_path / "garbage.json").write_text("{not json")
    (tmp_path / "binary.tfplan").write_bytes(b"PK\x03\x04\x00\x00garbage")
    return tmp_path


@pytest.mark.parametrize(("argv", "named"), [
    (["{t}/empty", "--no-model", "--plan", "{t}/none.json"], "none.json"),          # no plan
    (["{t}/mod", "--no-model", "--plan", "{t}/garbage.json"], "garbage.json"),      # unreadable plan
    (["{t}/mod", "--no-model", "--plan", "{t}/binary.tfplan"], "binary.tfplan"),    # not a plan
    (["{t}/mod/main.tf", "--no-model"], "main.tf"),                                  # not a module directory
    (["{t}/empty", "--no-model", "--no-plan-such-option"], "no-plan-such-option"),  # usage
])
def test_bad_input_is_one_line_and_exit_2(module: Path, capsys: pytest.CaptureFixture[str], argv: list[str],
                                          named: str) -> None:
    code, out, err = run(capsys, "pr-description", *(a.format(t=module) for a in argv))
    assert code == 2, err
    assert out == "" and len(err.strip().splitlines()) == 1 and err.startswith("error: ")
    assert named in err


def test_not_a_module_without_a_plan(module: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "pr-description", str(module / "empty"), "--no-model")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "empty" in err
