from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from rich.console import Console

from infraleash.errors import UsageError
from infraleash.logs.analysis import LogAnalysis, analyze
from infraleash.logs.render import (
    TokenCounter,
    estimate_tokens,
    render_human,
    render_json,
    render_llm,
    sparkline,
)

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
    assert "heap used up on h2 from 02:00:00 (400 MB) to 800 MB at 02:25:00" in text
    assert "no errors and no warnings from payment-service" in text


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


# -- the LLM summary counted with a real tokenizer ----------------------------------------------------


def _o200k() -> TokenCounter:
    try:
        from infraleash.agent.tokens import TiktokenCounter

        counter = TiktokenCounter("o200k_base")
        counter.count("probe")
    except Exception as e:  # tiktoken or its bundled data missing
        pytest.skip(f"o200k_base tokenizer not available: {e}")
    return counter.count


_NOUNS = ("billing", "cart", "search", "auth", "inventory", "shipping", "payments", "ledger", "profile", "catalog",
          "pricing", "reviews", "session", "gateway", "mailer", "export", "import", "scheduler", "cache", "queue",
          "webhook", "metrics", "tracing", "storage", "backup", "dns", "tls", "ratelimit", "audit", "report")
_VERBS = ("exploded", "stalled", "hung", "refused", "crashed", "leaked", "overflowed", "deadlocked", "rejected",
          "throttled", "panicked", "diverged", "starved", "flapped", "stuck", "degraded", "corrupted", "spun",
          "looped", "dropped", "wedged", "misrouted", "expired", "halted", "failed", "broke", "choked", "tripped",
          "froze", "aborted")


@pytest.fixture(scope="module")
def busy(tmp_path_factory: pytest.TempPathFactory) -> LogAnalysis:
    """An hour with 30 error templates that each burst in their own minute: long timeline, many templates."""
    start = datetime(2026, 11, 24, 2, 0, 0, tzinfo=UTC)
    lines = [f"{(start + timedelta(seconds=s)).isoformat()} INFO host=h{s % 4} GET /orders 200 in {s % 90}ms"
             for s in range(0, 3600, 4)]
    for k in range(30):
        at = start + timedelta(minutes=25 + k)
        lines += [f"{(at + timedelta(seconds=2 * i)).isoformat()} ERROR host=h{k % 4} {_NOUNS[k]} worker "
                  f"{_VERBS[k]} during rollout" for i in range(12)]
    path = tmp_path_factory.mktemp("busy") / "busy.log"
    path.write_text("\n".join(sorted(lines)) + "\n", encoding="utf-8")
    return analyze([path])


def _shown(text: str, heading: str) -> int:
    lines = text.splitlines()
    if heading not in lines:
        return 0
    n = 0
    for line in lines[lines.index(heading) + 1:]:
        if not line.startswith("- "):
            break
        n += 1
    return n


@pytest.mark.parametrize("budget", [60, 90, 150, 300, 800, 2000])
def test_llm_summary_fits_a_real_tokenizer_budget_and_counts_what_it_left_out(busy: LogAnalysis, budget: int) -> None:
    count = _o200k()
    assert len(busy.timeline) >= 30 and len(busy.templates) >= 31
    text = render_llm(busy, budget, count)
    assert count(text) <= budget
    footer = text.splitlines()[-1]
    assert footer.startswith("Omitted to fit the budget:")
    asked = int(footer.split("--budget-tokens ")[1].split()[0])
    assert render_llm(busy, asked, count).endswith("Nothing omitted.")
    if "timeline events" in footer:  # "N timeline events (first–last)": exactly the events not shown
        omitted = int(footer.split(" timeline events")[0].rsplit(" ", 1)[-1])
        shown = _shown(text, "Timeline (UTC):")
        assert omitted + shown == len(busy.timeline)
        if " timeline events (" in footer:  # small budgets say counts only
            times = footer.split(" timeline events (")[1].split(")")[0]
            assert times.split("–")[-1] == busy.timeline[-1].time.strftime("%H:%M:%S")  # the latest go first
        assert shown == 0 or busy.timeline[0].time.strftime("%H:%M:%S") in text
    if " templates (" in footer:
        omitted = int(footer.split(" templates (")[0].rsplit(" ", 1)[-1])
        records = int(footer.split(" templates (")[1].split(" records")[0])
        shown = _shown(text, "Top templates:")
        assert omitted + shown == len(busy.templates)
        assert records == sum(t.count for t in busy.templates[shown:])


def test_llm_summary_puts_timeline_lead_lag_and_absent_facts_before_totals(analysis: LogAnalysis) -> None:
    count = _o200k()
    text = render_llm(analysis, 300, count)
    order = [h for h in ("Timeline (UTC):", "Lead/lag:", "Absent (or not judged):", "Numeric trends:", "Sources:", "Top templates:")
             if h in text.splitlines()]
    assert order[:2] == ["Timeline (UTC):", "Lead/lag:"] or order[:2] == ["Timeline (UTC):", "Absent (or not judged):"]
    assert "Top templates:" not in order  # 300 tokens go to what happened, not to the template list
    assert "new_template+burst" in text and "02:17:33" in text


def test_the_default_estimate_does_not_overrun_a_real_tokenizer(analysis: LogAnalysis, busy: LogAnalysis) -> None:
    count = _o200k()
    for a in (analysis, busy):
        for budget in (100, 300, 1000):
            assert count(render_llm(a, budget)) <= budget
