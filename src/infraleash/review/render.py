"""A review report as text: human, JSON, Markdown (a PR comment) and SARIF.

Findings keep the shape ``infraleash check`` uses (``Finding.model_dump``), so
one parser reads both.  Every value shown comes from already-redacted plan
data: sensitive values appear only as ``(sensitive)``.
"""

from __future__ import annotations

import json
from typing import Any

from infraleash import __version__ as VERSION
from infraleash.findings import Finding, Severity, Verdict
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


_LEVEL = {Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning",
          Severity.LOW: "note", Severity.INFO: "note"}


def render_sarif(report: ReviewReport) -> dict[str, Any]:
    """SARIF 2.1.0; plan findings without a file point at the plan's resource address."""
    rules: dict[str, dict[str, Any]] = {}
    results = []
    for f in report.findings:
        rules.setdefault(f.rule, {"id": f.rule, "name": f.rule, "shortDescription": {"text": f.kind.value},
                                  "properties": {"kind": f.kind.value}})
        result: dict[str, Any] = {"ruleId": f.rule, "level": _LEVEL[f.severity], "message": {"text": f.message},
                                  "properties": {"severity": f.severity.value, "kind": f.kind.value}}
        if f.file:
            region = {"startLine": f.line} if f.line else None
            loc: dict[str, Any] = {"artifactLocation": {"uri": f.file}}
            if region:
                loc["region"] = region
            result["locations"] = [{"physicalLocation": loc}]
        if f.address:
            result.setdefault("locations", [{}])[0]["logicalLocations"] = [
                {"fullyQualifiedName": f.address, "kind": "resource"}]
        if f.suppressed is not None:
            result["suppressions"] = [{"kind": "external", "justification": f.suppressed}]
        results.append(result)
    return {"version": "2.1.0", "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "runs": [{"tool": {"driver": {"name": "infraleash", "version": VERSION,
                                          "informationUri": "https://github.com/infraleash/infraleash",
                                          "rules": list(rules.values())}},
                      "results": results,
                      "properties": {"verdict": report.verdict.value, "headline": report.headline}}]}
