"""Suppressions: inline ``# infraleash:ignore RULE_ID reason`` and the policy's, each with a reason.

Inline comments (``#`` or ``//``) apply to a finding when they sit on the finding's line,
the line above it, the resource's first line or the line above the resource.  Several
ids may be given comma-separated.  An ignore without a reason does not apply and is
itself a finding (``IL-IGNORE-WITHOUT-REASON``).

Policy suppressions (``checks.suppressions``: rule, reason, optional address/file globs)
and disabled rules (``checks.disabled_rules``) mark findings the same way.  Suppressed
findings stay in the report with ``finding.suppressed`` set to the reason, so every
output lists them.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass

from infraleash.findings import Finding, Kind, Severity
from infraleash.terraform.config import Config

NO_REASON = "IL-IGNORE-WITHOUT-REASON"
_IGNORE = re.compile(r"(?:#|//)\s*infraleash:ignore(?:\s+(?P<ids>[A-Za-z0-9_*.-]+(?:\s*,\s*[A-Za-z0-9_*.-]+)*))?"
                     r"(?:\s+(?P<reason>\S.*?))?\s*(?:\*/)?\s*$")


@dataclass(frozen=True)
class InlineIgnore:
    file: str
    line: int
    rules: tuple[str, ...]
    reason: str | None


def inline_ignores(file: str, text: str) -> dict[int, list[InlineIgnore]]:
    out: dict[int, list[InlineIgnore]] = {}
    if "infraleash:ignore" not in text:
        return out
    for no, line in enumerate(text.splitlines(), start=1):
        if "infraleash:ignore" not in line:
            continue
        m = _IGNORE.search(line)
        if not m:
            continue
        ids = tuple(i.strip().upper() for i in (m.group("ids") or "").split(",") if i.strip())
        reason = (m.group("reason") or "").strip() or None
        out.setdefault(no, []).append(InlineIgnore(file, no, ids, reason))
    return out


def _matches(rule_pattern: str, rule: str) -> bool:
    return fnmatch.fnmatchcase(rule.upper(), rule_pattern.upper())


def apply(findings: list[Finding], config: Config, policy: object) -> list[Finding]:
    """Mark suppressed findings (with the reason); add findings for ignores without a reason."""
    ignores = {file: inline_ignores(file, text) for file, text in config.sources.items()}
    # only read with an inline ignore somewhere (most configurations have none: no address worked out for them)
    block_lines = {b.address: b.line for b in [*config.resources, *config.data, *(m.block for m in config.modules)]} \
        if any(ignores.values()) else {}
    checks = getattr(policy, "checks", None)
    policy_rules = [*getattr(checks, "suppressions", []), *getattr(checks, "disabled_rules", [])]
    out: list[Finding] = []
    for f in findings:
        reason = _inline_reason(f, ignores, block_lines) or _policy_reason(f, policy_rules)
        out.append(f.model_copy(update={"suppressed": reason}) if reason else f)
    for file_ignores in ignores.values():
        for entries in file_ignores.values():
            for ig in entries:
                if not ig.rules or ig.reason is None:
                    what = "a rule id and a reason" if not ig.rules else "a reason"
                    out.append(Finding(rule=NO_REASON, kind=Kind.CONVENTION, severity=Severity.MEDIUM,
                                       message=f"`infraleash:ignore` needs {what} "
                                               "(`# infraleash:ignore RULE_ID why it is acceptable`); not applied",
                                       file=ig.file, line=ig.line))
    return out


def _inline_reason(f: Finding, ignores: dict[str, dict[int, list[InlineIgnore]]],
                   block_lines: dict[str, int]) -> str | None:
    if not f.file or f.file not in ignores or f.rule == NO_REASON:
        return None
    by_line = ignores[f.file]
    if not by_line:
        return None
    lines = {f.line, (f.line or 0) - 1}
    if f.address and f.address in block_lines:
        lines |= {block_lines[f.address], block_lines[f.address] - 1}
    for line in lines:
        for ig in by_line.get(line or 0, []):
            if ig.reason and any(_matches(r, f.rule) for r in ig.rules):
                return f"inline ({f.file}:{ig.line}): {ig.reason}"
    return None


def _policy_reason(f: Finding, entries: list[object]) -> str | None:
    for s in entries:
        rule = getattr(s, "rule", "")
        if not _matches(rule, f.rule):
            continue
        address = getattr(s, "address", None)
        file = getattr(s, "file", None)
        if address and not (f.address and fnmatch.fnmatchcase(f.address, address)):
            continue
        if file and not (f.file and fnmatch.fnmatchcase(f.file, file)):
            continue
        return f"policy: {getattr(s, 'reason', '')}"
    return None
