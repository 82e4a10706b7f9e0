"""Progress of long work: drawn on a terminal (a pseudo-terminal here), never in machine output or a pipe."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from _cli import run_cli, run_on_terminal

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "review"
RECORDED = EXAMPLE / "recorded-plan.json"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def plain(text: str) -> str:
    return ANSI.sub("", text).replace("\r", "")


@pytest.fixture(scope="module")
def monorepo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four Terraform roots under one directory, as `check -r` meets a monorepo."""
    root = tmp_path_factory.mktemp("monorepo")
    for name in ("network", "data", "app", "edge"):
        shutil.copytree(EXAMPLE / "proposed", root / name)
    return root


@pytest.fixture(scope="module")
def big_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("logs") / "api.log"
    lines = (f"2026-12-03T10:{i // 6000 % 60:02d}:{i // 100 % 60:02d}.{i % 100:02d}0Z INFO request {i} served "
             f"in {i % 97} ms\n" for i in range(60_000))
    path.write_text("".join(lines), encoding="utf-8")
    return path


def test_check_r_shows_a_bar_of_roots_on_a_terminal(monorepo: Path) -> None:
    code, shown = run_on_terminal("check", "-r", str(monorepo), stderr_too=True)
    text = plain(shown)
    assert code == 1  # the example's insecure change
    assert "checking 4 roots" in text and "4/4" in text
    assert "finding(s)" in text  # the report itself still follows


def test_check_r_json_on_a_terminal_carries_no_progress(monorepo: Path) -> None:
    code, shown = run_on_terminal("check", "-r", str(monorepo), "--format", "json", stderr_too=True)
    text = plain(shown)
    assert "checking 4 roots" not in text
    report = json.loads(text)
    assert code == 1 and report["findings"]


def test_check_r_in_a_pipe_has_no_progress(monorepo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "check", "-r", str(monorepo))
    assert code == 1 and "checking 4 roots" not in out + err and "finding(s)" in out


def test_logs_over_a_big_file_report_lines_read_on_a_terminal(big_log: Path) -> None:
    code, shown = run_on_terminal("logs", str(big_log), stderr_too=True)
    text = plain(shown)
    assert code == 0
    assert re.search(rf"reading {re.escape(str(big_log))}: (20|40|60),000 lines", text)


def test_logs_json_on_a_terminal_carries_no_progress(big_log: Path) -> None:
    code, shown = run_on_terminal("logs", str(big_log), "--format", "json", stderr_too=True)
    text = plain(shown)
    assert code == 0 and "lines" not in text.split("{", 1)[0]
    assert json.loads(text)["sources"]


def test_review_says_which_step_is_running_on_a_terminal() -> None:
    code, shown = run_on_terminal("review", str(EXAMPLE / "proposed"), "--plan", str(RECORDED), stderr_too=True)
    text = plain(shown)
    assert "review: static checks" in text and "verdict:" in text


def test_no_progress_when_the_user_turns_it_off(monorepo: Path) -> None:
    _, shown = run_on_terminal("check", "-r", str(monorepo), stderr_too=True, env={"INFRALEASH_NO_PROGRESS": "1"})
    assert "checking 4 roots" not in plain(shown)
