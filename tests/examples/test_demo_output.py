"""The bundled demo as a newcomer sees it at 80 columns: what it fell back to is one whole line, and a long
step says what is running as it starts and how long it took (elapsed time live on a terminal)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest
from rich.console import Console

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
sys.path.insert(0, str(EXAMPLES))

import demo_console  # noqa: E402
import review_demo  # noqa: E402

REASON = "no moto_server on PATH (pip install 'moto[server]')"


def test_the_fallback_line_is_whole_at_80_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(review_demo, "why_unavailable", lambda: REASON)
    console = Console(width=80, record=True, force_terminal=False)
    assert review_demo.review_demo(console) is True
    lines = console.export_text().splitlines()
    fallback = f"RECORDED PLAN: recorded-plan.json (sandbox unavailable: {REASON})"
    assert len(fallback) > 80 and lines.count(fallback) == 2  # the opening banner and the closing one
    assert not any(set(line) & set("╭╮╰╯│") for line in lines)  # no box to cut it


def test_a_step_says_what_runs_and_how_long_it_took() -> None:
    console = Console(width=80, record=True, force_terminal=False)
    with demo_console.step(console, "applying review/production (terraform init + apply)"):
        time.sleep(0.2)
    text = console.export_text()
    assert text.startswith("applying review/production (terraform init + apply) ...\n")
    done = text.splitlines()[-1].strip()
    assert done.startswith("done in ") and float(done.removeprefix("done in ").removesuffix("s")) >= 0.2


def test_on_a_terminal_the_step_shows_elapsed_time_while_it_runs() -> None:
    console = Console(width=80, record=True, force_terminal=True, force_interactive=True)
    with demo_console.step(console, "planning"):
        time.sleep(1.2)
    text = console.export_text(styles=False)
    assert "planning" in text and "0:00:01" in text  # rich.progress's TimeElapsedColumn, refreshed while it ran
