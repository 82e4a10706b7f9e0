"""SARIF 2.1.0 that GitHub code scanning (and GitLab, Azure DevOps) can take as it is.

    text = render_sarif(findings, summary, rules={r.id: r for r in all_rules()}, sarif_root=None)

* **Paths relative to the repository root**: each finding's file (relative to the checked
  root, ``summary["root"]``) is re-based onto ``sarif_root``, else the git toplevel above the
  checked root (the nearest directory holding ``.git``), else the checked root; the base is
  ``originalUriBaseIds.SRCROOT``.  Code scanning matches ``uri`` against the repository tree.
* **partialFingerprints** that survive unrelated line moves: ``infraleash/v1`` is a SHA-256 of
  the rule id, the resource address and the attribute (``details["attribute"]``), never the
  line; findings with no address use the file and the message with digits removed.  Two
  results that would share one get ``:2``, ``:3`` ... in line order, so each stays one alert.
* **helpUri / help.markdown** from the rule's documentation: why it matters, the failing and the
  passing example, references; ``helpUri`` is the rule's own source file (where its
  documentation lives) for infraleash's rules, else the rule's first reference.
* what was not checked (:mod:`~infraleash.checks.coverage`) is in
  ``invocations[0].toolExecutionNotifications`` and ``run.properties.not_checked``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections import Counter
from pathlib import Path
from typing import Any

from infraleash import __version__ as _version
from infraleash.checks.coverage import describe
from infraleash.findings import Finding, Outcome, Severity

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/infraleash/infraleash"
FINGERPRINT = "infraleash/v1"
_LEVEL = {Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning", Severity.LOW: "note",
          Severity.INFO: "note"}
_SCORE = {Severity.CRITICAL: "9.5", Severity.HIGH: "8.0", Severity.MEDIUM: "5.5", Severity.LOW: "3.0",
          Severity.INFO: "0.0"}
_DIGITS = re.compile(r"\d+")


def repository_root(start: Path) -> Path | None:
    """The nearest directory at or above ``start`` holding ``.git`` (a directory, or a worktree's file)."""
    p = start.resolve()
    for d in (p, *p.parents):
        if (d / ".git").exists():
            return d
    return None


def _checked_dir(root: Any) -> Path:
    p = Path(str(root or ".")).resolve()
    return p.parent if p.is_file() or p.suffix in (".tf", ".tofu", ".json") else p


def fingerprint(f: Finding) -> str:
    """Stable across line moves: rule + address + attribute (or file + message without digits)."""
    if f.address:
        key = "\x00".join([f.rule, f.address, str(f.details.get("attribute") or "")])
    else:
        key = "\x00".join([f.rule, f.file or "", _DIGITS.sub("#", f.message)])
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _help_uri(rule: Any) -> str | None:
    module = getattr(getattr(rule, "check", None), "__module__", "") or ""
    if module.startswith("infraleash."):
        return f"{INFORMATION_URI}/blob/v{_version}/src/{module.replace('.', '/')}.py"
    refs = getattr(rule, "references", ()) or ()
    return refs[0] if refs else None


def help_markdown(rule: Any) -> str:
    parts = [f"**{rule.title}**", "", rule.why, "", "Failing example:", "", "```hcl", rule.fail_example.rstrip(),
             "```", "", "Passing example:", "", "```hcl", rule.pass_example.rstrip(), "```"]
    if getattr(rule, "references", None):
        parts += ["", "References:", *[f"- {r}" for r in rule.references]]
    parts += ["", f"`infraleash rules show {rule.id}` prints this page."]
    return "\n".join(parts)


def _descriptor(rid: str, sample: Finding, rule: Any) -> dict[str, Any]:
    d: dict[str, Any] = {
        "id": rid,
        "name": rid.replace("-", "_").title().replace("_", ""),
        "shortDescription": {"text": getattr(rule, "title", None) or rid},
        "defaultConfiguration": {"level": _LEVEL[sample.severity]},
        "properties": {"tags": [sample.kind.value], "security-severity": _SCORE[sample.severity]},
    }
    if rule is not None and getattr(rule, "why", None):
        d["fullDescription"] = {"text": rule.why}
        d["help"] = {"text": rule.why, "markdown": help_markdown(rule)}
        uri = _help_uri(rule)
        if uri:
            d["helpUri"] = uri
    return d


def _uri(file: str, checked: Path, base: Path) -> tuple[str, bool]:
    """(uri, relative to base?) for a file reported relative to the checked root."""
    path = Path(os.path.normpath(checked / file))
    try:
        return path.relative_to(base).as_posix(), True
    except ValueError:
        return path.as_uri(), False


def render_sarif(findings: list[Finding], summary: dict[str, Any], *, rules: dict[str, Any] | None = None,
                 sarif_root: Path | None = None) -> str:
    """SARIF 2.1.0 for code-scanning UIs (see the module docstring)."""
    checked = _checked_dir(summary.get("root"))
    base = Path(sarif_root).resolve() if sarif_root is not None else (repository_root(checked) or checked)
    ordered = sorted(findings, key=lambda f: (f.file or "", f.line or 0, -f.severity.rank, f.rule))
    rule_ids = sorted({f.rule for f in findings})
    index = {rid: i for i, rid in enumerate(rule_ids)}
    descriptors = [_descriptor(rid, next(f for f in findings if f.rule == rid), (rules or {}).get(rid))
                   for rid in rule_ids]
    seen: Counter[str] = Counter()
    results = []
    for f in ordered:
        fp = fingerprint(f)
        seen[fp] += 1
        r: dict[str, Any] = {
            "ruleId": f.rule,
            "ruleIndex": index[f.rule],
            "level": "note" if f.outcome is Outcome.UNKNOWN else _LEVEL[f.severity],
            "message": {"text": f.message + (" (result unknown: value not known statically)"
                                             if f.outcome is Outcome.UNKNOWN else "")},
            "partialFingerprints": {FINGERPRINT: fp if seen[fp] == 1 else f"{fp}:{seen[fp]}"},
            "properties": {"severity": f.severity.value, "kind": f.kind.value, "outcome": f.outcome.value},
        }
        loc: dict[str, Any] = {}
        if f.file:
            uri, relative = _uri(f.file, checked, base)
            artifact: dict[str, Any] = {"uri": uri, "uriBaseId": "SRCROOT"} if relative else {"uri": uri}
            loc["physicalLocation"] = {"artifactLocation": artifact}
            if f.line:
                loc["physicalLocation"]["region"] = {"startLine": f.line}
        if f.address:
            loc["logicalLocations"] = [{"fullyQualifiedName": f.address, "kind": "resource"}]
        if loc:
            r["locations"] = [loc]
        related = _related(f, checked, base)
        if related:
            r["relatedLocations"] = related
        if f.suggestion:
            r["properties"]["suggestion"] = f.suggestion
        if f.suppressed:
            r["suppressions"] = [{"kind": "inSource" if f.suppressed.startswith("inline") else "external",
                                  "justification": f.suppressed}]
        results.append(r)
    gaps = summary.get("not_checked", [])
    doc = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "infraleash", "version": _version, "informationUri": INFORMATION_URI,
                                "rules": descriptors}},
            "originalUriBaseIds": {"SRCROOT": {"uri": base.as_uri() + "/"}},
            "results": results,
            "invocations": [{"executionSuccessful": not summary.get("errors"),
                             "toolExecutionNotifications": [
                                 {"level": "warning", "message": {"text": "not checked: " + describe(e)},
                                  "descriptor": {"id": f"not-checked/{e['category']}"}} for e in gaps]}],
            "properties": {"not_checked": gaps},
        }],
    }
    return json.dumps(doc, indent=2) + "\n"


def _related(f: Finding, checked: Path, base: Path) -> list[dict[str, Any]]:
    """The resource inside an installed module, for a finding located on the module call."""
    inside = f.details.get("inside")
    if not isinstance(inside, dict) or not inside.get("file"):
        return []
    uri, relative = _uri(str(inside["file"]), checked, base)
    artifact: dict[str, Any] = {"uri": uri, "uriBaseId": "SRCROOT"} if relative else {"uri": uri}
    phys: dict[str, Any] = {"artifactLocation": artifact}
    if inside.get("line"):
        phys["region"] = {"startLine": int(inside["line"])}
    return [{"id": 1, "physicalLocation": phys, "message": {"text": f"inside the module: {inside.get('address')}"}}]
