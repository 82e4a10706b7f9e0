"""Three views of a :class:`LogAnalysis`: human (rich), JSON, and a compact LLM summary in a token budget."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from infraleash.errors import UsageError
from infraleash.logs.analysis import LogAnalysis, TemplateStat
from infraleash.logs.correlation import trend_text

SPARK = "▁▂▃▄▅▆▇█"
SPARK_WIDTH = 48
MIN_BUDGET = 60
_TEMPLATE_CHARS = 120

TokenCounter = Callable[[str], int]


CHARS_PER_TOKEN = 2.5  # log summaries: times, ids and <*> are ~2.7 chars per o200k/cl100k token, not 4


def estimate_tokens(text: str) -> int:
    """A cautious count when no tokenizer is given: summaries of logs tokenize at ~2.7 characters per token
    (o200k_base and cl100k_base on ``render_llm`` output), so the prose rule of four would overrun budgets."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def sparkline(values: list[int], width: int = SPARK_WIDTH) -> str:
    """One character per bucket (buckets summed down to ``width``), scaled to the largest."""
    if not values:
        return ""
    if len(values) > width:
        step = math.ceil(len(values) / width)
        values = [sum(values[i:i + step]) for i in range(0, len(values), step)]
    top = max(values)
    if top == 0:
        return SPARK[0] * len(values)
    return "".join(" " if v == 0 else SPARK[min(len(SPARK) - 1, (v * len(SPARK) - 1) // top)] for v in values)


def _t(t: datetime | None) -> str:
    return t.strftime("%H:%M:%S") if t is not None else "-"


def _cut(text: str, limit: int = _TEMPLATE_CHARS) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _origins(origins: dict[str, int], limit: int = 3) -> str:
    items = list(origins.items())[:limit]
    more = len(origins) - len(items)
    return ", ".join(f"{o} {n}" for o, n in items) + (f", +{more} more" if more > 0 else "")


# --- JSON --------------------------------------------------------------------------------------------

def render_json(analysis: LogAnalysis) -> str:
    return analysis.model_dump_json(indent=2)


# --- human -------------------------------------------------------------------------------------------

def render_human(analysis: LogAnalysis, console: Console, top: int = 10) -> None:
    a = analysis
    console.print(f"[bold]Log analysis[/bold] {a.window}: {a.records} records from {a.lines} lines in "
                  f"{len(a.sources)} file(s); buckets of {a.bucket_seconds}s")
    for p in a.problems:
        console.print(f"[yellow]problem[/yellow] {escape(str(p))}", highlight=False)
    if a.timeline:
        table = Table(title="Timeline", title_justify="left", show_edge=False)
        for col in ("time", "what", "subject", "count", "where / detail"):
            table.add_column(col)
        for ev in a.timeline:
            table.add_row(_t(ev.time), ", ".join(ev.kinds), Text(_cut(ev.subject, 70)), str(ev.count),
                          Text(_origins(ev.origins) + ("; " if ev.origins else "") + ev.detail))
        console.print(table)
    for c in a.correlations:
        console.print(f"[cyan]lead/lag[/cyan] {escape(c.summary)}", highlight=False)
    if a.lookback_start is not None:
        console.print(f"look-back: {a.lookback_records} records from {_t(a.lookback_start)} to --since were read "
                      "for numeric trends only", highlight=False)
    for tr in a.trends:
        console.print(f"[magenta]trend[/magenta] {escape(trend_text(tr))} ({escape(_cut(tr.template, 70))}; "
                      f"{tr.points} values, tau {tr.tau})", highlight=False)
    for f in a.negative_facts:
        label = "[yellow]unknown[/yellow]" if f.kind == "not_judged" else "[green]absent[/green]"
        console.print(f"{label} {escape(f.message)}", highlight=False)
    rates = Table(title="Sources", title_justify="left", show_edge=False)
    for col in ("source", "service", "records", "errors", "warnings", "error onset"):
        rates.add_column(col)
    for r in a.rates:
        rates.add_row(Text(r.source), Text(r.service), str(r.records), str(r.errors), str(r.warnings),
                      f"{_t(r.error_onset)} ({r.error_onset_count})" if r.error_onset else "-")
    console.print(rates)
    templates = Table(title=f"Top templates (per {a.bucket_seconds}s)", title_justify="left", show_edge=False)
    for col in ("count", "level", "first"):
        templates.add_column(col)
    templates.add_column("activity", no_wrap=True)
    templates.add_column("template")
    for ts in a.templates[:top]:
        templates.add_row(str(ts.count), ts.level or "-", _t(ts.first_seen), sparkline(ts.buckets),
                          Text(_cut(ts.template, 90)))
    console.print(templates)
    if len(a.templates) > top:
        console.print(f"{len(a.templates) - top} more template(s): --format json lists them all")


# --- LLM summary ---------------------------------------------------------------------------------------

def _template_line(ts: TemplateStat) -> str:
    where = _origins(ts.origins, 2)
    return f"- {ts.count}x [{ts.level or '-'}] {_cut(ts.template)} (first {_t(ts.first_seen)}; {where})"


_LABELS = {"timeline": "timeline events", "correlations": "lead/lag pairs", "negative_facts": "absent facts",
           "trends": "trends", "problems": "input problems", "sources": "sources", "templates": "templates"}


def _sections(a: LogAnalysis) -> list[tuple[str, str, list[str]]]:
    """(key, heading, items) in priority order: what happened when, what follows what, what did NOT
    happen, what drifts; then what could not be read, per-source totals and the template list.
    Within the timeline, error events earn room first (``_timeline_priority``)."""
    return [
        ("timeline", "Timeline (UTC):", [
            f"- {_t(e.time)} {'+'.join(e.kinds)}: {_cut(e.subject, 100)} x{e.count}"
            + (f" [{_origins(e.origins, 2)}]" if e.origins else "") for e in a.timeline]),
        ("correlations", "Lead/lag:", [f"- {c.summary}" for c in a.correlations]),
        ("negative_facts", "Absent (or not judged):", [f"- {f.message}" for f in a.negative_facts]),
        ("trends", "Numeric trends:", [f"- {trend_text(t)} [{_cut(t.template, 80)}]" for t in a.trends]),
        ("problems", "Input problems:", [f"- {p}" for p in a.problems]),
        ("sources", "Sources:", [
            f"- {r.service} ({r.source}): {r.records} records, {r.errors} errors, {r.warnings} warnings"
            + (f", errors burst from {_t(r.error_onset)}" if r.error_onset else "") for r in a.rates]),
        ("templates", "Top templates:", [_template_line(ts) for ts in a.templates]),
    ]


def render_llm(analysis: LogAnalysis, budget_tokens: int = 2000, count_tokens: TokenCounter | None = None) -> str:
    """A plain-text summary within ``budget_tokens`` (counted by ``count_tokens``, the whole text, footer
    included) that ends by saying what it left out.

    The first three items of every section go in first (in priority order), then the rest in the same
    order; the text is counted as a whole at the end and the lowest-priority items are dropped until it
    fits.  The footer names each section that lost items, how many, and which (time range of the timeline
    events, records of the templates), and the budget that would show everything.
    """
    if budget_tokens < MIN_BUDGET:
        raise UsageError(f"--budget-tokens must be at least {MIN_BUDGET}")
    count = count_tokens or estimate_tokens
    a = analysis
    header = (f"Logs {a.window}: {a.records} records, {len(a.templates)} templates, {len(a.sources)} files "
              f"({sum(1 for s in a.sources if s.analyzed)} read).")
    sections = _sections(a)
    everything = {key: list(range(len(items))) for key, _, items in sections}
    full_tokens = count(_assemble(a, header, sections, everything))
    detail, reserve = 2, 0
    for detail, share in ((2, 0.5), (1, 0.75), (0, 1.0)):  # the most detailed footer that leaves room for facts
        reserve = count(_footer(a, everything, 10 * full_tokens, detail)) + 1
        if count(header) + reserve <= budget_tokens * share:
            break
    chosen: dict[str, list[int]] = {key: [] for key, _, _ in sections}
    used = count(header) + reserve

    def fits(key: str, line: str, heading: str) -> bool:
        nonlocal used
        cost = count(line) + 1 + (0 if chosen[key] else count(heading) + 1)  # +1: the newline
        if used + cost > budget_tokens:
            return False
        used += cost
        return True

    order = {key: list(range(len(items))) for key, _, items in sections}
    order["timeline"] = _timeline_priority(a)
    for first_round in (True, False):
        for key, heading, items in sections:
            for rank, i in enumerate(order[key]):
                if first_round and rank >= 3:
                    break
                if i in chosen[key]:
                    continue
                if fits(key, items[i], heading):
                    chosen[key].append(i)
                elif first_round:
                    break
    widest = count(_footer(a, everything, 10 * full_tokens, 2)) + 1
    needed = count(header) + widest + sum(  # what the selection above would need to take everything
        count(line) + 1 for _, _, items in sections for line in items) + sum(
        count(heading) + 1 for _, heading, items in sections if items)
    text = _assemble(a, header, sections, chosen, needed, detail)
    while count(text) > budget_tokens:  # counted whole: drop from the bottom, then say less in the footer
        if any(chosen.values()):
            key = next(k for k, _, _ in reversed(sections) if chosen[k])
            chosen[key].remove(max(chosen[key]))
        elif detail > 0:
            detail -= 1
        elif header != (short := f"Logs {a.window}: {a.records} records."):
            header = short
        else:  # a budget this small cannot say it all: cut the header, keep the footer
            footer = text.rsplit("\n", 1)[-1]
            while header and count(header + "\n" + footer) > budget_tokens:
                header = header[: len(header) * 9 // 10]
            return (header + "\n" + footer) if header else footer
        text = _assemble(a, header, sections, chosen, needed, detail)
    return text


def _timeline_priority(a: LogAnalysis) -> list[int]:
    """Timeline events in the order they earn room (they are printed in time order): error onsets and
    events of error-level templates, then new templates and trends, then the rest; earliest first."""
    levels = {t.template: t.level for t in a.templates}

    def rank(i: int) -> int:
        e = a.timeline[i]
        if "error_onset" in e.kinds or levels.get(e.subject) in ("error", "critical"):
            return 0
        if "new_template" in e.kinds or "trend" in e.kinds or "silent" in e.kinds:
            return 1
        return 2

    return sorted(range(len(a.timeline)), key=lambda i: (rank(i), i))


def _assemble(a: LogAnalysis, header: str, sections: list[tuple[str, str, list[str]]],
              chosen: dict[str, list[int]], needed: int = 0, detail: int = 2) -> str:
    out = [header]
    omitted: dict[str, list[int]] = {}
    for key, heading, items in sections:
        picked = sorted(chosen[key])
        if picked:
            out.append(heading)
            out.extend(items[i] for i in picked)
        if len(picked) < len(items):
            omitted[key] = [i for i in range(len(items)) if i not in set(picked)]
    out.append(_footer(a, omitted, needed, detail))
    return "\n".join(out)


def _footer(a: LogAnalysis, omitted: dict[str, list[int]], needed: int, detail: int = 2) -> str:
    """What was left out: per section with ranges (detail 2), counts only (1), or one sentence (0)."""
    if not any(omitted.values()):
        return "Nothing omitted."
    if detail == 0:
        return (f"Omitted to fit the budget: {sum(map(len, omitted.values()))} items. All of it: "
                f"--budget-tokens {needed} or --format json.")
    parts = []
    for key, idx in omitted.items():
        if not idx:
            continue
        part = f"{len(idx)} {_LABELS[key]}"
        if detail < 2:
            pass
        elif key == "timeline":
            first, last = _t(min(a.timeline[i].time for i in idx)), _t(max(a.timeline[i].time for i in idx))
            part += f" ({first}–{last})" if first != last else f" ({first})"
        elif key == "templates":
            part += f" ({sum(a.templates[i].count for i in idx)} records)"
        parts.append(part)
    return (f"Omitted to fit the budget: {', '.join(parts)}. All of it: --budget-tokens {needed} "
            "or --format json.")
