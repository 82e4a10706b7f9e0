"""``infraleash pr-description``: a pull-request description drawn from the review, the plan and the git diff.

    pr = describe(report, diffstat=" main.tf | 2 +-")
    pr.markdown()     # summary, changes grouped, risk, what to check, rollout/rollback, diff stat
    pr.to_json()

Every statement comes from the review (:class:`~infraleash.review.ReviewReport`: its verdict, plan
summary and findings) or from :mod:`infraleash.terraform.stateful` (what a resource holds, which
attributes reboot it, whether a change waits for the maintenance window).  The markdown stays under
GitHub's comment limit: a section that does not fit is cut with a note saying so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from infraleash.findings import Finding, Kind, Outcome, Verdict
from infraleash.review import ReviewReport
from infraleash.terraform.stateful import STATEFUL

GITHUB_COMMENT_LIMIT = 65_536
VERDICT_WORDS = {Verdict.ALLOW: "allow (no risky change found)",
                 Verdict.NEEDS_APPROVAL: "needs approval (a human must approve before apply)",
                 Verdict.BLOCK: "block (do not apply as it is)"}
# plan summary group -> the heading in the description
GROUPS = [("create", "Created"), ("update", "Updated in place"), ("replace", "Replaced (destroyed and created)"),
          ("destroy", "Destroyed"), ("move", "Moved"), ("import_", "Imported"), ("forget", "Forgotten (stays in the "
                                                                                       "cloud, unmanaged)")]
RISK_WORDS = {Kind.DATA_LOSS: "Data loss", Kind.DISRUPTION: "Interruption", Kind.PROTECTED: "Protected resource",
              Kind.DRIFT: "Drift", Kind.DESTROY: "Destroy", Kind.REPLACE: "Replace",
              Kind.STATE_OPERATION: "State operation"}
_TYPE = re.compile(r"(?:^|\.)((?:aws|google|azurerm|kubernetes)_[a-z0-9_]+)\.[^.]+$")


def resource_type(address: str) -> str | None:
    m = _TYPE.search(re.sub(r"\[[^\]]*\]", "", address))
    return m.group(1) if m else None


@dataclass
class Section:
    title: str
    lines: list[str]


@dataclass
class PrDescription:
    summary: str
    verdict: Verdict
    changes: dict[str, list[dict[str, str]]]
    risks: list[str]
    checks: list[str]
    rollout: list[str]
    diffstat: str | None
    notes: list[str] = field(default_factory=list)
    prose: str = ""  # fact-checked model prose (markdown), when a model was asked

    def sections(self) -> list[Section]:
        change_lines: list[str] = []
        for key, title in GROUPS:
            items = self.changes.get(key.rstrip("_"), [])
            if items:
                change_lines.append(f"**{title}** ({len(items)})")
                change_lines += [f"- `{i['address']}`" + (f": {i['detail']}" if i["detail"] else "") for i in items]
                change_lines.append("")
        def bullets(lines: list[str]) -> list[str]:
            return [f"- {line}" for line in lines]

        return [Section("Changes", change_lines or ["No resource changes."]),
                Section(f"Risk: {VERDICT_WORDS[self.verdict]}", bullets(self.risks) or ["No risky change found."]),
                Section("What the reviewer should check", bullets(self.checks)),
                Section("Rollout and rollback", bullets(self.rollout) or ["Nothing stateful changes: apply as usual."]),
                Section("Diff", ["```", self.diffstat.rstrip(), "```"] if self.diffstat else
                        ["(no --base given: no git diff stat)"]),
                *([Section("Notes", bullets(self.notes))] if self.notes else [])]

    def markdown(self, limit: int = GITHUB_COMMENT_LIMIT) -> str:
        """The description; when it would pass ``limit``, the longest sections are cut, each with a note."""
        head = f"{self.summary}\n\n" + (self.prose + "\n" if self.prose else "")
        bodies = [(s.title, "\n".join(s.lines).rstrip() + "\n") for s in self.sections()]
        note = ("\n_(section truncated: {} characters left out to stay under GitHub's "
                f"{limit}-character comment limit; run `infraleash review` for all of it)_\n")
        def total() -> int:
            return len(head) + sum(len(f"## {t}\n\n{b}\n") for t, b in bodies)

        for _ in bodies:  # at most one cut per section
            if total() <= limit - 16:
                break
            i = max(range(len(bodies)), key=lambda k: len(bodies[k][1]))
            title, body = bodies[i]
            excess = total() - (limit - 16) + len(note) + 20
            cut = body[:max(len(body) - excess, 0)].rsplit("\n", 1)[0]
            bodies[i] = (title, cut + "\n" + note.format(len(body) - len(cut)))
        return (head + "".join(f"## {t}\n\n{b}\n" for t, b in bodies)).rstrip() + "\n"

    def to_json(self) -> dict[str, Any]:
        return {"summary": self.summary, "verdict": self.verdict.value, "changes": self.changes,
                "risks": self.risks, "checks": self.checks, "rollout": self.rollout, "diffstat": self.diffstat,
                "notes": self.notes}


def _active(report: ReviewReport) -> list[Finding]:
    return [f for f in report.findings if f.suppressed is None and f.outcome is Outcome.FAIL]


def _risk_line(f: Finding) -> str:
    word = RISK_WORDS.get(f.kind, f.kind.value.replace("_", " ").capitalize())
    why = f.details.get("why")
    return f"**{word}** ({f.severity.value}): {f.message}" + (f". {why}" if why and why not in f.message else "")


def _rollout(report: ReviewReport) -> list[str]:
    out: list[str] = []
    s = report.summary
    if s is None:
        return out
    for item in [*s.replace, *s.destroy]:
        entry = STATEFUL.get(resource_type(item.address) or "")
        if entry and entry.holds_data:
            out.append(f"`{item.address}` holds data ({entry.loss}): take a snapshot or backup before apply; "
                       "rollback is a restore from it, not a re-apply.")
        elif entry:
            out.append(f"`{item.address}` is recreated: plan the cut-over ({entry.loss} during the gap).")
    for item in s.update:
        entry = STATEFUL.get(resource_type(item.address) or "")
        if not entry:
            continue
        for attr, why in entry.disruptive.items():
            if attr in item.detail.split(", "):
                window = " Without apply_immediately = true it waits for the next maintenance window." \
                    if entry.apply_immediately else ""
                out.append(f"`{item.address}` {attr}: {why}; apply in a maintenance window.{window} "
                           f"Rollback: set {attr} back and apply again (another interruption).")
    if s.create and (s.replace or s.destroy or s.update):
        out.append("Apply order: the plan applies in one run; if dependents must move first, split the change "
                   "into a create-only apply, then the rest.")
    return out


def _checks(report: ReviewReport) -> list[str]:
    s = report.summary
    out: list[str] = []
    for f in _active(report):
        if f.kind is Kind.PROTECTED:
            out.append(f"`{f.address}` is protected: is replacing or changing it intended, and who approves?")
        elif f.kind is Kind.DATA_LOSS:
            out.append(f"`{f.address}`: is there a current backup, and is losing its data acceptable?")
        elif f.kind is Kind.DISRUPTION:
            out.append(f"`{f.address}`: is an interruption acceptable now, or should this wait for a window?")
        elif f.kind is Kind.DRIFT:
            out.append(f"`{f.address}`: someone changed it outside Terraform; should the plan revert that?")
        elif f.kind not in (Kind.REPLACE, Kind.DESTROY):
            out.append(f"{f.rule} at {f.location or f.address or 'the configuration'}: {f.message}")
    if s is not None:
        for item in s.replace:
            out.append(f"`{item.address}` is replaced because of {item.detail or 'a forcing change'}: is the new "
                       "value needed?")
    return list(dict.fromkeys(out)) or ["The plan's counts match the intent of the change."]


def describe(report: ReviewReport, *, diffstat: str | None = None, prose: str = "") -> PrDescription:
    s = report.summary
    changes: dict[str, list[dict[str, str]]] = {}
    if s is not None:
        for key, _ in GROUPS:
            items = getattr(s, key)
            if items:
                changes[key.rstrip("_")] = [{"address": i.address, "detail": i.detail} for i in items]
    summary = f"**{s.counts_text() if s else 'no plan analysed'}**; review verdict: {report.verdict.value}"
    risks = [_risk_line(f) for f in _active(report) if f.kind not in (Kind.REPLACE, Kind.DESTROY) or
             not any(g.address == f.address and g.kind in (Kind.DATA_LOSS, Kind.PROTECTED)
                     for g in _active(report))]
    return PrDescription(summary=summary, verdict=report.verdict,
                         changes={k: changes[k] for k in changes}, risks=risks, checks=_checks(report),
                         rollout=_rollout(report), diffstat=diffstat, notes=list(report.notes), prose=prose)
