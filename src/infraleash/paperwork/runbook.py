"""``infraleash runbook update``: a unified diff that adds what an incident taught to a markdown runbook.

    text = read_runbook(Path("RUNBOOK.md"))              # InputError unless UTF-8 markdown with a heading
    entry = runbook_entry(facts, commands=[...], human_steps=[...], severity=2)
    print(propose(Path("RUNBOOK.md"), text, entry))      # --- RUNBOOK.md / +++ RUNBOOK.md, for patch -p0

The entry holds the new symptom and how it was recognised (from the log analysis), the read
commands that found the cause and the steps humans took (from the incident run, when there is
one).  Nothing is applied: the diff is printed or written to a patch file.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from pathlib import Path

from infraleash.errors import InputError
from infraleash.paperwork.incident_report import IncidentFacts, impact_window, redact_secrets

_HEADING = re.compile(r"^#{1,6} \S", re.MULTILINE)
ENTRY_HEADING = "## Incident"


def read_runbook(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise InputError(f"cannot read the runbook: {e.strerror}", file=str(path)) from None
    if b"\x00" in data:
        raise InputError("not a markdown runbook: it is a binary file", file=str(path))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("not a markdown runbook: not UTF-8 text", file=str(path)) from None
    if not _HEADING.search(text):
        raise InputError("not a markdown runbook: it has no heading (# Title)", file=str(path))
    return text


def runbook_entry(facts: IncidentFacts, *, commands: Sequence[str] = (), human_steps: Sequence[str] = (),
                  severity: int | None = None) -> str:
    a = facts.analysis
    window = impact_window(a)
    when = f"{window[0]:%Y-%m-%d %H:%M}–{window[1]:%H:%M} UTC" if window else a.window
    sev = f", sev{severity}" if severity else ""
    lines = [f"{ENTRY_HEADING} {when}{sev}", "", "_Proposed by `infraleash runbook update` from the incident's "
             "log analysis; edit before merging._", "", "### Symptom", ""]
    lines += [f"- `{redact_secrets(b.template)}`: {b.count} events {b.start:%H:%M:%S}–{b.end:%H:%M:%S} UTC "
              f"(peak {b.peak} per {b.bucket_seconds} s) in {', '.join(b.origins)}" for b in a.bursts] or \
        ["- no burst found in the logs"]
    lines += ["", "### How it was recognised", ""]
    first = min(a.timeline, key=lambda e: e.time) if a.timeline else None
    if first:
        lines.append(f"- first signal at {first.time:%H:%M:%S} UTC: {', '.join(first.kinds)} ({first.count} "
                     f"events) in {', '.join(first.origins) or first.subject}")
    lines += [f"- new at {e.time:%H:%M:%S} UTC in {', '.join(e.origins)}: `{redact_secrets(e.subject)}`"
              for e in sorted(a.timeline, key=lambda e: e.time) if e.kinds == ["new_template"] and e.count <= 3]
    lines += ["", "### Read commands that found the cause", ""]
    lines += [f"- `{redact_secrets(c)}`" for c in commands] or ["- (none recorded)"]
    lines += ["", "### Steps humans took", ""]
    lines += [f"- {redact_secrets(s)}" for s in human_steps] or ["- (none recorded: add what the on-call did)"]
    return "\n".join(lines) + "\n"


def propose(path: Path, text: str, entry: str, label: str | None = None) -> str:
    """A unified diff appending ``entry`` to the runbook (labels are ``label`` or the path as given)."""
    name = label or str(path)
    body = text if text.endswith("\n") else text + "\n"
    new = body + ("" if body.endswith("\n\n") else "\n") + entry
    out = []
    for line in difflib.unified_diff(text.splitlines(keepends=True), new.splitlines(keepends=True),
                                     fromfile=name, tofile=name):
        # the last line of a file without a final newline: the marker patch and git apply expect
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)
