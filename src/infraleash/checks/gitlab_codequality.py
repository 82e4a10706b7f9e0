"""GitLab Code Quality report: the JSON array GitLab's merge-request widget reads from ``artifacts:reports``.

    text = render_codequality(findings, summary, sarif_root=None)

GitLab documents each entry as ``{description, check_name, fingerprint, severity, location: {path,
lines: {begin}}}`` with ``severity`` one of ``info | minor | major | critical | blocker`` and ``path``
relative to the repository root.  Paths are re-based exactly like SARIF's
(:func:`~infraleash.checks.sarif.render_sarif`: ``sarif_root``, else the git toplevel above the checked
root, else the checked root); the fingerprint is SARIF's ``infraleash/v1`` one (rule + address + attribute,
never the line), so an issue survives unrelated line moves and GitLab does not report it as new and fixed.
Suppressed findings are left out (GitLab has no notion of a suppressed issue); unknown results are ``info``.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Any

from infraleash.checks.sarif import _checked_dir, _uri, fingerprint, repository_root
from infraleash.findings import Finding, Outcome, Severity

SEVERITY = {Severity.CRITICAL: "critical", Severity.HIGH: "major", Severity.MEDIUM: "minor",
            Severity.LOW: "info", Severity.INFO: "info"}


def render_codequality(findings: list[Finding], summary: dict[str, Any], *, sarif_root: Path | None = None,
                       **_: Any) -> str:
    """The Code Quality JSON array (see the module docstring)."""
    checked = _checked_dir(summary.get("root"))
    base = Path(sarif_root).resolve() if sarif_root is not None else (repository_root(checked) or checked)
    ordered = sorted(findings, key=lambda f: (f.file or "", f.line or 0, -f.severity.rank, f.rule))
    seen: Counter[str] = Counter()
    issues: list[dict[str, Any]] = []
    for f in ordered:
        if f.suppressed:
            continue
        fp = fingerprint(f)
        seen[fp] += 1
        if seen[fp] > 1:  # two findings sharing a key stay two issues, numbered in line order
            fp = hashlib.sha256(f"{fp}:{seen[fp]}".encode()).hexdigest()
        path = _uri(f.file, checked, base)[0] if f.file else "."
        unknown = f.outcome is Outcome.UNKNOWN
        issues.append({
            "description": f.message + (" (result unknown: value not known statically)" if unknown else ""),
            "check_name": f.rule,
            "fingerprint": fp,
            "severity": "info" if unknown else SEVERITY[f.severity],
            "location": {"path": path, "lines": {"begin": f.line or 1}},
        })
    return json.dumps(issues, indent=2) + "\n"
