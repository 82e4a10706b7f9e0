from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.console import Console

from infraleash.errors import UsageError
from infraleash.logs.analysis import LogAnalysis, analyze
from infraleash.logs.render import estimate_tokens, render_human, render_json, render_llm, sparkline

from .incident_logs import write_incident


@pytest.fixture(scope="module")
def analysis(tmp_path_factory: pytest.TempPathFactory) -> LogAnalysis:
    return analyze(write_incident(tmp_path_factory.mktemp("render")))


def test_sparkline_scales_to_the_maximum_and_shows_gaps() -> None:
    assert sparkline([0, 1, 2, 4, 8]) == " ▁▂▄█"
    assert sparkline([0, 0]) == "▁▁"
    assert len(sparkline(list(range(100)), width=10)) == 10


def test_human_output_has_timeline_sparklines_and_literal_brackets(analysis: LogAnalysis) -> None:
    buf = io.StringIO()
    render_human(analysis, Console(file=buf, width=200, color_system=None))
    text = buf.getvalue()
    assert "[http-nio-<*>] HikariPool-<*> - Connection is not available" in text  # not eaten as markup
    assert "follows 2–3 s later" in text and "no errors and no warnings from payment-service" in text
    pool = next(t for t in analysis.templates if "HikariPool" in t.template)
    assert len(pool.buckets) == 26 and sum(pool.buckets) == 87 and pool.buckets[17:24] == [7, 15, 15, 15, 15, 15, 5]
    assert sparkline(pool.buckets) in text


def test_json_round_trips(analysis: LogAnalysis) -> None:
    again = LogAnalysis.model_validate(json.loads(render_json(analysis)))
    assert again == analysis


def test_llm_summary_with_room_to_spare_omits_nothing(analysis: LogAnalysis) -> None:
    text = render_llm(analysis, 5000)
    assert text.endswith("Nothing omitted.")
    assert "02:17:33 new_template+burst" in text and "follows 2–3 s later" in text
    assert "400 -> 800" in text and "no errors and no warnings from payment-service" in text


@pytest.mark.parametrize("budget", [60, 120, 250, 400])
def test_llm_summary_fits_the_budget_and_says_what_it_left_out(analysis: LogAnalysis, budget: int) -> None:
    text = render_llm(analysis, budget)
    assert estimate_tokens(text) <= budget
    footer = text.splitlines()[-1]
    assert footer.startswith("Omitted to fit the budget:") and "--format json" in footer
    full = render_llm(analysis, 100_000)
    shown_templates = sum(1 for line in text.splitlines() if line.startswith("- ") and "x [" in line)
    if "templates" in footer:
        omitted = int(footer.split(" templates")[0].rsplit(" ", 1)[-1])
        assert omitted == len(analysis.templates) - shown_templates
    asked = int(footer.split("--budget-tokens ")[1].split()[0])
    assert estimate_tokens(full) <= asked


def test_llm_summary_uses_a_given_tokenizer(analysis: LogAnalysis) -> None:
    def words(text: str) -> int:
        return len(text.split())

    text = render_llm(analysis, 150, count_tokens=words)
    assert words(text) <= 150 < estimate_tokens(text)


def test_a_budget_too_small_is_a_usage_error(analysis: LogAnalysis) -> None:
    with pytest.raises(UsageError, match="at least 60"):
        render_llm(analysis, 10)


def test_empty_analysis_renders(tmp_path: Path) -> None:
    a = analyze([tmp_path / "missing.log"])
    assert not a.analyzed_any
    assert "missing.log: no such file" in render_llm(a, 200)
