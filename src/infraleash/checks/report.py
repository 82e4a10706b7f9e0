"""Render check findings: human (rich, grouped by file), JSON, SARIF 2.1.0, JUnit XML, Markdown, GitLab Code Quality.

Each renderer takes a list of :class:`~infraleash.findings.Finding` and a summary dict
(``CheckReport.summary()`` or any dict with the same keys), so ``review`` can reuse them.

    text = render(report.findings, report.summary(), "sarif")
"""

from __future__ import annotations

import io
import json
import re
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from infraleash.checks.coverage import describe
from infraleash.findings import Finding, Outcome, Severity, jsonable

FORMATS = ("human", "json", "sarif", "junit", "markdown", "gitlab-codequality")
SEV_STYLE = {Severity.CRITICAL: "bold red", Severity.HIGH: "red", Severity.MEDIUM: "yellow",
              Severity.LOW: "cyan", Severity.INFO: "dim"}


def render(findings: list[Finding], summary: dict[str, Any], fmt: str, *, rules: dict[str, Any] | None = None,
           color: bool = False, sarif_root: Path | None = None) -> str:
    if fmt == "human":
        return render_human(findings, summary, color=color)
    if fmt == "json":
        return render_json(findings, summary)
    if fmt == "sarif":
        return render_sarif(findings, summary, rules=rules, sarif_root=sarif_root)
    if fmt == "junit":
        return render_junit(findings, summary)
    if fmt == "markdown":
        return render_markdown(findings, summary)
    if fmt == "gitlab-codequality":
        from infraleash.checks.gitlab_codequality import render_codequality

        return render_codequality(findings, summary, sarif_root=sarif_root)
    raise ValueError(f"unknown format {fmt!r}")


def prepare(fmt: str, *, color: bool = False) -> None:
    """Import what :func:`render` needs for ``fmt`` now rather than when it runs (``check -r`` calls it while its last
    workers finish and a core is free: orjson's import is ~6 ms, rich's ~30 ms, otherwise after every worker)."""
    if fmt == "json":
        import orjson  # noqa: F401
    elif fmt == "sarif":
        import infraleash.checks.sarif  # noqa: F401
    elif fmt == "gitlab-codequality":
        import infraleash.checks.gitlab_codequality  # noqa: F401
    elif fmt == "human" and color:
        import rich.console  # noqa: F401
        import rich.text  # noqa: F401


def render_sarif(findings: list[Finding], summary: dict[str, Any], **kwargs: Any) -> str:
    """SARIF 2.1.0 (:mod:`infraleash.checks.sarif`, imported only when this format is asked for)."""
    from infraleash.checks.sarif import render_sarif as render_doc

    return render_doc(findings, summary, **kwargs)


def _sorted(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (f.file or "", f.line or 0, -f.severity.rank, f.rule))


def _tag(f: Finding) -> str:
    if f.suppressed:
        return "suppressed"
    return "unknown" if f.outcome is Outcome.UNKNOWN else f.severity.value


# --------------------------------------------------------------------------- human


HUMAN_WIDTH = 120
_Line = tuple[tuple[tuple[str, str], ...], str]  # (text, style) pieces, and their plain text


def render_human(findings: list[Finding], summary: dict[str, Any], *, color: bool = False) -> str:
    """Findings grouped by file, then the summary, as rich prints them at ``HUMAN_WIDTH`` columns.

    Without colour, a line of printable ASCII is laid out here, as rich lays it out (:func:`_plain`): going
    through rich's console line by line cost about 0.25 s for a monorepo's thousand findings, a quarter of the
    check. Every other line (colour, tabs, control or non-ASCII characters) still goes through rich, as ``Text``
    pieces: file names, rules and messages are never read as markup or emoji codes.
    """
    console = None
    out: list[str] = []
    for pieces, plain in _human_lines(findings, summary):
        if not color and plain.isascii() and plain.isprintable():
            out.append(_plain(plain))
            continue
        if console is None:
            console = _console(color)
        from rich.text import Text

        console.print(Text.assemble(*pieces))
        out.append(console.file.getvalue())
        console.file.seek(0)
        console.file.truncate()
    return "".join(out)


def _plain(line: str) -> str:
    """A line of printable ASCII wrapped at ``HUMAN_WIDTH`` exactly as rich's ``Text.wrap`` does (one cell per
    character, so no need to import rich): its word breaks (:func:`_breaks`), whitespace beyond the width dropped,
    a longer word folded. ``tests/checks/test_report.py`` compares it with rich on random lines."""
    if len(line) <= HUMAN_WIDTH:
        return line + "\n"
    out = []
    offsets = _breaks(line, HUMAN_WIDTH)
    for start, end in zip([0, *offsets], [*offsets, len(line)], strict=True):
        piece = line[start:end]
        if len(piece) > HUMAN_WIDTH:
            trailing = len(piece) - len(piece.rstrip())
            piece = piece[:len(piece) - min(trailing, len(piece) - HUMAN_WIDTH)][:HUMAN_WIDTH]
        out.append(piece + "\n")
    return "".join(out)


_WORD = re.compile(r"\s*\S+\s*")  # a word and the spaces around it, as rich's wrap reads words


def _breaks(line: str, width: int) -> list[int]:
    """Where rich's ``divide_line`` breaks a line of single-cell characters: each word on the line if it fits,
    else on the next line, and a word longer than a line folded in ``width`` pieces."""
    breaks: list[int] = []
    offset = 0
    for m in _WORD.finditer(line):
        start, word = m.start(), m.group()
        length = len(word.rstrip())
        if width - offset >= length:
            offset += len(word)
        elif length > width:
            folds = [word[i:i + width] for i in range(0, len(word), width)]
            for fold in folds[:-1]:
                if start:
                    breaks.append(start)
                start += len(fold)
            if start:
                breaks.append(start)
            offset = len(folds[-1])
        elif offset and start:
            breaks.append(start)
            offset = len(word)
    return breaks


def _console(color: bool) -> Any:
    from rich.console import Console  # only the human format needs rich, and only for lines it must lay out

    return Console(file=io.StringIO(), force_terminal=color, no_color=not color, width=HUMAN_WIDTH, highlight=False)


def _human_lines(findings: list[Finding], summary: dict[str, Any]) -> list[_Line]:
    """The human report's lines, each as its styled pieces and its plain text."""
    lines: list[_Line] = []

    def add(*pieces: tuple[str, str]) -> None:
        lines.append((pieces, "".join(text for text, _style in pieces)))

    by_file: dict[str, list[Finding]] = defaultdict(list)
    for f in _sorted(findings):
        by_file[f.file or "(configuration)"].append(f)
    for file, items in by_file.items():
        add((file, "bold"))
        for f in items:
            style = "dim" if f.suppressed else ("magenta" if f.outcome is Outcome.UNKNOWN else SEV_STYLE[f.severity])
            where = f"{f.line}" if f.line else "-"
            addr = f"  {f.address}" if f.address else ""
            add(("  ", ""), (f"{_tag(f):>10}", style), (f" {where:>5}  {f.rule}{addr}", ""))
            add((" " * 19 + f.message, ""))
            if f.suppressed:
                add((" " * 19, ""), (f"suppressed: {f.suppressed}", "dim"))
        add()
    s = summary
    sev = ", ".join(f"{n} {k}" for k, n in s.get("by_severity", {}).items() if n) or "none"
    add((f"{s.get('findings', 0)} finding(s) ({sev}); {s.get('unknown', 0)} unknown; "
         f"{s.get('suppressed', 0)} suppressed; {s.get('files_checked', 0)} file(s), "
         f"{s.get('resources_checked', 0)} resource(s) in {s.get('duration_s', 0):.2f}s", ""))
    for entry in s.get("not_checked", []):
        add(("not checked:", "bold magenta"), (f" {describe(entry)}", ""))
    for note in s.get("notes", []):
        add((f"note: {note}", "dim"))
    for err in s.get("errors", []):
        add(("bug:", "bold red"), (f" {err}", ""))
    return lines


# --------------------------------------------------------------------------- json


def render_json(findings: list[Finding], summary: dict[str, Any]) -> str:
    """``{"summary": ..., "findings": [...]}``, each finding as ``Finding.model_dump(mode="json")`` gives it."""
    # orjson reads the findings (dataclasses) itself; anything else in their details, and the findings themselves
    # when the standard library writes the report, go through model_dump's conversion (:func:`jsonable`)
    return dumps_indented({"summary": summary, "findings": _sorted(findings)}, default=jsonable)


def dumps_indented(doc: Any, default: Callable[[Any], Any] = str) -> str:
    """``doc`` as JSON indented by two, with orjson: the standard library's encoder indents in pure Python (10 ms
    of a monorepo's report, after every worker is done). Non-ASCII text is written as UTF-8, not ``\\u`` escapes.
    Anything orjson refuses (an integer wider than 64 bits, a key that is not a string) is written by the standard
    library instead, as it always was."""
    import orjson

    try:
        return orjson.dumps(doc, default=default, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE).decode()
    except (orjson.JSONEncodeError, TypeError):
        return json.dumps(doc, indent=2, default=default) + "\n"


# --------------------------------------------------------------------------- sarif: see sarif.py


# --------------------------------------------------------------------------- junit


def render_junit(findings: list[Finding], summary: dict[str, Any]) -> str:
    """One testsuite per file, one testcase per finding (failure, skipped when suppressed or unknown)."""
    from xml.etree import ElementTree as ET

    suites = ET.Element("testsuites", name="infraleash check")
    by_file: dict[str, list[Finding]] = defaultdict(list)
    for f in _sorted(findings):
        by_file[f.file or "(configuration)"].append(f)
    total = failures = skipped = 0
    for file, items in by_file.items():
        suite = ET.SubElement(suites, "testsuite", name=file)
        s_fail = s_skip = 0
        for f in items:
            case = ET.SubElement(suite, "testcase", classname=file, name=f"{f.rule} {f.address or ''}".strip(),
                                 file=file, line=str(f.line or 0))
            if f.suppressed:
                ET.SubElement(case, "skipped", message=f"suppressed: {f.suppressed}")
                s_skip += 1
            elif f.outcome is Outcome.UNKNOWN:
                ET.SubElement(case, "skipped", message=f"unknown: {f.message}")
                s_skip += 1
            else:
                fail = ET.SubElement(case, "failure", message=f.message, type=f.severity.value)
                fail.text = f"{f.location} [{f.severity.value}] {f.rule}: {f.message}"
                s_fail += 1
        suite.set("tests", str(len(items)))
        suite.set("failures", str(s_fail))
        suite.set("skipped", str(s_skip))
        suite.set("errors", "0")
        total, failures, skipped = total + len(items), failures + s_fail, skipped + s_skip
    gaps = summary.get("not_checked", [])
    if gaps:  # what was not evaluated is visible in CI's test view: one skipped case per gap
        suite = ET.SubElement(suites, "testsuite", name="not checked", tests=str(len(gaps)), failures="0",
                              skipped=str(len(gaps)), errors="0")
        for e in gaps:
            case = ET.SubElement(suite, "testcase", classname="not checked", name=e["text"])
            ET.SubElement(case, "skipped", message=f"not checked: {describe(e)}")
        total, skipped = total + len(gaps), skipped + len(gaps)
    if not by_file and not gaps:  # an empty run is a passing suite, not an empty document
        suite = ET.SubElement(suites, "testsuite", name="infraleash", tests="1", failures="0", skipped="0",
                              errors="0")
        ET.SubElement(suite, "testcase", classname="infraleash", name="no findings")
        total = 1
    suites.set("tests", str(total))
    suites.set("failures", str(failures))
    suites.set("skipped", str(skipped))
    suites.set("errors", "0")
    suites.set("time", f"{summary.get('duration_s', 0):.3f}")
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


# --------------------------------------------------------------------------- markdown


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_not_checked(entries: list[dict[str, Any]]) -> list[str]:
    """Lines for a PR comment naming what was not checked (nothing when everything was)."""
    if not entries:
        return []
    return [f"> :warning: **not checked:** {_md(describe(e))}" for e in entries] + [""]


def render_markdown(findings: list[Finding], summary: dict[str, Any]) -> str:
    """A PR comment: a one-line headline first, details collapsed."""
    active = [f for f in findings if not f.suppressed and f.outcome is Outcome.FAIL]
    unknown = [f for f in findings if not f.suppressed and f.outcome is Outcome.UNKNOWN]
    suppressed = [f for f in findings if f.suppressed]
    if active:
        counts: dict[Severity, int] = defaultdict(int)
        for f in active:
            counts[f.severity] += 1
        parts = ", ".join(f"{counts[s]} {s.value}" for s in reversed(list(Severity)) if counts[s])
        head = f"### :x: infraleash: {len(active)} finding(s) ({parts})"
    else:
        head = "### :white_check_mark: infraleash: no findings"
    lines = [head, "",
             f"{summary.get('files_checked', 0)} file(s), {summary.get('resources_checked', 0)} resource(s) checked; "
             f"{len(unknown)} unknown, {len(suppressed)} suppressed.", ""]
    lines += markdown_not_checked(summary.get("not_checked", []))
    top = sorted(active, key=lambda f: -f.severity.rank)[:5]
    for f in top:
        lines.append(f"- **{f.severity.value}** `{f.rule}` {_md(f.message)} (`{f.location}`)")
    if top:
        lines.append("")

    def table(title: str, items: list[Finding], extra: bool = False) -> None:
        if not items:
            return
        lines.extend([f"<details><summary>{title} ({len(items)})</summary>", "",
                      "| severity | rule | location | address | message |" + (" reason |" if extra else ""),
                      "| --- | --- | --- | --- | --- |" + (" --- |" if extra else "")])
        for f in _sorted(items):
            row = f"| {f.severity.value} | `{f.rule}` | `{f.location}` | {_md(f.address or '')} | {_md(f.message)} |"
            lines.append(row + (f" {_md(f.suppressed or '')} |" if extra else ""))
        lines.extend(["", "</details>", ""])

    table("All findings", active)
    table("Unknown (value not known statically)", unknown)
    table("Suppressed", suppressed, extra=True)
    return "\n".join(lines).rstrip() + "\n"
