"""A review report as text: human, JSON, Markdown (a PR comment) and SARIF.

JSON and SARIF are ``infraleash check``'s documents (``infraleash.checks.report``)
with the verdict added, so one parser reads both.  Every value shown comes from already-redacted plan
data: sensitive values appear only as ``(sensitive)``.
"""

from __future__ import annotations

import json
from typing import Any

from infraleash import __version__ as VERSION
from infraleash.checks import report as check_report
from infraleash.findings import Finding, Verdict
from infraleash.review import ReviewReport

FORMATS = ("human", "json", "markdown", "sarif")

_ICON = {Verdict.ALLOW: "✅", Verdict.NEEDS_APPROVAL: "⏸️", Verdict.BLOCK: "⛔"}


def _ordered(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (f.suppressed is not None, -f.severity.rank, f.address or f.file or ""))


def render(report: ReviewReport, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(report.to_json(), indent=2) + "\n"
    if fmt == "markdown":
        return render_markdown(report)
    if fmt == "sarif":
        return json.dumps(render_sarif(report), indent=2) + "\n"
    return render_human(report)


def render_human(report: ReviewReport) -> str:
    lines = [report.headline, ""]
    if report.plan_source:
        lines.append(f"plan: {report.plan_source}")
    if report.environment:
        lines.append(f"environment: {report.environment}")
    for note in report.notes:
        lines.append(f"note: {note}")
    if report.summary is not None:
        lines += ["", "What this change does:"] + [f"  {s}" for s in report.summary.lines()]
    active = [f for f in _ordered(report.findings) if f.suppressed is None]
    if active:
        lines += ["", f"Findings ({len(active)}):"]
        for f in active:
            where = f.location
            lines.append(f"  {f.severity.value:<8} {f.rule:<24} {where + ': ' if where and where not in f.message else ''}"
                         f"{f.message}")
            if f.suggestion:
                lines.append(f"  {'':<8} {'':<24} fix: {f.suggestion}")
    suppressed = [f for f in report.findings if f.suppressed is not None]
    if suppressed:
        lines.append(f"\n{len(suppressed)} finding(s) suppressed by the policy.")
    lines += ["", f"verdict: {report.verdict.value}"]
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(report: ReviewReport) -> str:
    """A PR comment: the headline first, the summary, then collapsible details."""
    out = [f"### {_ICON[report.verdict]} infraleash review: **{report.verdict.value}**", "", report.headline, ""]
    if report.summary is not None:
        out += [f"- {s}" for s in report.summary.lines()] + [""]
    for note in report.notes:
        out.append(f"> {note}")
    active = [f for f in _ordered(report.findings) if f.suppressed is None]
    if active:
        out += ["<details><summary>" + f"{len(active)} finding(s)" + "</summary>", "",
                "| severity | rule | where | message |", "| --- | --- | --- | --- |"]
        out += [f"| {f.severity.value} | `{f.rule}` | `{_md(f.location)}` | {_md(f.message)} |" for f in active]
        out += ["", "</details>"]
    source = f"plan: {report.plan_source}" if report.plan_source else "no plan analysed"
    out += ["", f"<sub>{_md(source)} · infraleash {VERSION}</sub>", ""]
    return "\n".join(out)


def render_sarif(report: ReviewReport) -> dict[str, Any]:
    """``check``'s SARIF 2.1.0; plan findings (no file) are located by their resource address."""
    doc: dict[str, Any] = json.loads(check_report.render_sarif(report.findings, report.findings_summary()))
    by_key = {(f.rule, f.message): f for f in report.findings}
    run = doc["runs"][0]
    for result in run["results"]:
        f = by_key.get((result["ruleId"], result["message"]["text"]))
        if f is not None and not f.file and f.address:
            result["locations"] = [{"logicalLocations": [{"fullyQualifiedName": f.address, "kind": "resource"}]}]
    run["properties"] = {"verdict": report.verdict.value, "headline": report.headline}
    return doc
