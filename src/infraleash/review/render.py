"""A review report as text: human, JSON, Markdown (a PR comment) and SARIF.

JSON and SARIF are ``infraleash check``'s documents (``infraleash.checks.report``)
with the verdict added, so one parser reads both.  Every value shown comes from already-redacted plan
data: sensitive values appear only as ``(sensitive)``.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

from infraleash import __version__ as VERSION
from infraleash.checks import report as check_report
from infraleash.checks.coverage import describe
from infraleash.checks.report import SEV_STYLE
from infraleash.findings import Finding, Verdict
from infraleash.review import ReviewReport

FORMATS = ("human", "json", "markdown", "sarif")
MARKDOWN_LIMIT = 65_536  # characters in a GitHub issue/PR comment

_ICON = {Verdict.ALLOW: "✅", Verdict.NEEDS_APPROVAL: "⏸️", Verdict.BLOCK: "⛔"}


def _ordered(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (f.suppressed is not None, -f.severity.rank, f.address or f.file or ""))


def render(report: ReviewReport, fmt: str, *, sarif_root: Path | None = None, color: bool = False) -> str:
    if fmt == "json":
        return json.dumps(report.to_json(), indent=2) + "\n"
    if fmt == "markdown":
        return render_markdown(report)
    if fmt == "sarif":
        return json.dumps(render_sarif(report, sarif_root=sarif_root), indent=2) + "\n"
    return render_human(report, color=color)


_VERDICT_STYLE = {Verdict.ALLOW: "bold green", Verdict.NEEDS_APPROVAL: "bold yellow", Verdict.BLOCK: "bold red"}


def render_human(report: ReviewReport, *, color: bool = False) -> str:
    """The report for a person; with ``color`` (stdout is a terminal), rich styles like ``check``'s."""
    from rich.console import Console  # only the human format needs rich
    from rich.markup import escape

    buf = io.StringIO()
    console = Console(file=buf, force_terminal=color, no_color=not color, highlight=False, width=10_000)

    def out(markup: str = "") -> None:
        console.print(markup, soft_wrap=True)

    verdict_style = _VERDICT_STYLE.get(report.verdict, "bold")
    out(f"[{verdict_style}]{escape(report.headline)}[/{verdict_style}]")
    out()
    if report.plan_source:
        out(f"plan: {escape(report.plan_source)}")
    if report.environment:
        out(f"environment: {escape(report.environment)}")
    for note in report.notes:
        out(f"[dim]note: {escape(note)}[/dim]")
    for entry in report.check_summary.get("not_checked", []):
        out(f"[bold magenta]not checked:[/bold magenta] {escape(describe(entry))}")
    if report.summary is not None:
        out()
        out("[bold]What this change does:[/bold]")
        for line in report.summary.lines():
            out(f"  {escape(line)}")
    active = [f for f in _ordered(report.findings) if f.suppressed is None]
    if active:
        out()
        out(f"[bold]Findings ({len(active)}):[/bold]")
        for f in active:
            where = f.location
            style = SEV_STYLE[f.severity]
            place = where + ": " if where and where not in f.message else ""
            out(f"  [{style}]{f.severity.value:<8}[/{style}] {escape(f.rule):<24} {escape(place + f.message)}")
            if f.suggestion:
                out(f"  {'':<8} {'':<24} fix: {escape(f.suggestion)}")
    suppressed = [f for f in report.findings if f.suppressed is not None]
    if suppressed:
        out()
        out(f"{len(suppressed)} finding(s) suppressed by the policy.")
    out()
    out(f"verdict: [{verdict_style}]{report.verdict.value}[/{verdict_style}]")
    return buf.getvalue()


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(report: ReviewReport, limit: int = MARKDOWN_LIMIT) -> str:
    """A PR comment: the headline first, the summary, then collapsible details.

    Stays under ``limit`` characters (GitHub refuses comments over 65,536): table rows that do not fit
    are left out and counted in an explicit "N more not shown" line.
    """
    out = [f"### {_ICON[report.verdict]} infraleash review: **{report.verdict.value}**", "", _md(report.headline), ""]
    if report.summary is not None:
        out += [f"- {_md(s)}" for s in report.summary.lines()] + [""]
    for note in report.notes:
        out.append(f"> {_md(note)}")
    out += check_report.markdown_not_checked(report.check_summary.get("not_checked", []))
    source = f"plan: {report.plan_source}" if report.plan_source else "no plan analysed"
    footer = ["", f"<sub>{_md(source)} · infraleash {VERSION}</sub>", ""]
    active = [f for f in _ordered(report.findings) if f.suppressed is None]
    if active:
        out += ["<details><summary>" + f"{len(active)} finding(s)" + "</summary>", "",
                "| severity | rule | where | message |", "| --- | --- | --- | --- |"]
        reserve = 200 + sum(len(x) + 1 for x in footer)  # the "not shown" line, </details> and the footer
        used = sum(len(x) + 1 for x in out)
        shown = 0
        for f in active:
            row = f"| {f.severity.value} | `{f.rule}` | `{_md(f.location)}` | {_md(f.message)} |"
            if used + len(row) + 1 > limit - reserve:
                break
            out.append(row)
            used += len(row) + 1
            shown += 1
        if shown < len(active):
            out += ["", f"**{len(active) - shown} more not shown** (the comment would exceed GitHub's limit); "
                        "run `infraleash review --format json` for every finding."]
        out += ["", "</details>"]
    text = "\n".join(out + footer)
    if len(text) > limit:  # only a pathological headline/summary gets here: cut it, say so
        cut = "\n\n**truncated**: the rest would exceed GitHub's comment limit.\n"
        text = text[: limit - len(cut)] + cut
    return text


_INSTANCE_KEYS = re.compile(r"\[[^\]]*\]")


def render_sarif(report: ReviewReport, *, sarif_root: Path | None = None) -> dict[str, Any]:
    """``check``'s SARIF 2.1.0; a plan finding (no file) is located at its resource's declaration
    (``module.x.aws_y.z["k"]`` -> the file and line of ``resource "aws_y" "z"`` in module x), or by its
    address alone when the configuration does not declare it."""
    located = [_at_declaration(f, report.declarations) for f in report.findings]
    doc: dict[str, Any] = json.loads(check_report.render_sarif(located, report.findings_summary(),
                                                               rules={r.id: r for r in _rules()},
                                                               sarif_root=sarif_root))
    run = doc["runs"][0]
    run["properties"] = {**run.get("properties", {}), "verdict": report.verdict.value, "headline": report.headline}
    return doc


def _at_declaration(f: Finding, declarations: dict[str, list[Any]]) -> Finding:
    if f.file or not f.address:
        return f
    where = declarations.get(_INSTANCE_KEYS.sub("", f.address))
    if not where:
        return f
    return f.model_copy(update={"file": where[0], "line": where[1]})


def _rules() -> list[Any]:
    from infraleash.checks.custom_rules import documentation

    return list(documentation().values())
