"""``infraleash review``: static checks + plan risk -> one verdict.

    report = review(Path("envs/prod"), policy, plan_file=Path("plan.json"))
    report.verdict            # Verdict.ALLOW | NEEDS_APPROVAL | BLOCK
    report.findings           # static-check findings, then plan findings (same shape as `check`)
    report.summary            # what will be destroyed, replaced, changed in place, created

The verdict (:func:`verdict_for`):

* ``block``          a static-check finding at or above the policy's failing severity, or a
                     critical plan finding (a protected resource destroyed/replaced, data lost
                     with no protection visible, a state operation the gate refuses here);
* ``needs_approval`` any other plan finding of medium or high severity (a destroy, a replace with
                     a gap or a cost, a disruptive update, an update of a protected resource,
                     reverted drift, an import/removed/moved block the gate would hold);
* ``allow``          otherwise: creates, tags-only and other harmless updates, a create-before-destroy
                     replacement of a stateless resource nothing else takes the new ID of.

State operations (``import``, ``removed`` with ``destroy = false``, ``moved`` blocks) are decided like
``terraform import``, ``state rm`` and ``state mv`` by the gate in the review's environment when
``review.state_operations_follow_gate`` is on (default: below act-with-approval);
see :mod:`infraleash.review.state_operations`.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from infraleash.checks.coverage import require_configuration
from infraleash.errors import InputError
from infraleash.findings import Finding, Kind, Outcome, Severity, Verdict
from infraleash.gate.model import GateContext
from infraleash.gate.runner_config import RunnerConfig
from infraleash.policy import Policy
from infraleash.review.plan_findings import plan_findings
from infraleash.review.state_operations import decide_like_cli
from infraleash.review.summary import PlanSummary, summarize
from infraleash.terraform.plan import Plan, load_plan

PLAN_KINDS = frozenset({Kind.DESTROY, Kind.REPLACE, Kind.DATA_LOSS, Kind.DISRUPTION, Kind.PROTECTED, Kind.DRIFT,
                        Kind.APPLY_FAILS, Kind.STATE_OPERATION})

__all__ = ["PLAN_KINDS", "ReviewReport", "review", "review_plan", "verdict_for"]


class ReviewReport(BaseModel):
    """The answer of one review, for a human, a CI job or an agent."""

    path: str
    verdict: Verdict
    headline: str
    findings: list[Finding] = Field(default_factory=list)
    summary: PlanSummary | None = None
    plan_source: str | None = Field(default=None, description="which plan was analysed, or None")
    environment: str | None = None
    notes: list[str] = Field(default_factory=list, description="what was not done, and why")
    debug: list[str] = Field(default_factory=list,
                             description="details that are not findings (refresh normalisation seen as drift)")
    check_summary: dict[str, Any] = Field(default_factory=dict, description="the static checks' summary")
    declarations: dict[str, list[Any]] = Field(default_factory=dict, exclude=True,
                                               description="resource address -> [file, line] of its declaration")

    def active(self) -> list[Finding]:
        return [f for f in self.findings if f.suppressed is None and f.outcome is Outcome.FAIL]

    def findings_summary(self) -> dict[str, Any]:
        """The ``check`` summary keys, counted over every finding (static and plan)."""
        by_sev = {s.value: 0 for s in reversed(list(Severity))}
        by_kind: dict[str, int] = {}
        for f in self.active():
            by_sev[f.severity.value] += 1
            by_kind[f.kind.value] = by_kind.get(f.kind.value, 0) + 1
        return {**self.check_summary, "root": self.path, "findings": sum(by_sev.values()),
                "unknown": sum(1 for f in self.findings if f.suppressed is None and f.outcome is Outcome.UNKNOWN),
                "suppressed": sum(1 for f in self.findings if f.suppressed is not None),
                "by_severity": by_sev, "by_kind": dict(sorted(by_kind.items())),
                "notes": [*self.check_summary.get("notes", []), *self.notes]}

    def to_json(self) -> dict[str, Any]:
        """``check``'s JSON document (summary + findings) with the verdict, headline and changes on top."""
        return {"verdict": self.verdict.value, "headline": self.headline, "path": self.path,
                "environment": self.environment, "plan_source": self.plan_source,
                "changes": self.summary.model_dump(mode="json", by_alias=True) if self.summary else None,
                "summary": self.findings_summary(),
                "findings": [f.model_dump(mode="json") for f in self.findings],
                "debug": list(self.debug)}


def _is_plan_finding(f: Finding) -> bool:
    return f.kind in PLAN_KINDS or f.rule.startswith("PLAN-")


def verdict_for(findings: list[Finding], failing: Severity) -> Verdict:
    verdict = Verdict.ALLOW
    for f in findings:
        if f.suppressed is not None or f.outcome is not Outcome.FAIL:
            continue
        if _is_plan_finding(f):
            if f.severity is Severity.CRITICAL:
                return Verdict.BLOCK
            if f.severity.at_least(Severity.MEDIUM):
                verdict = Verdict.NEEDS_APPROVAL
        elif f.severity.at_least(failing):
            return Verdict.BLOCK
    return verdict


def _headline(verdict: Verdict, findings: list[Finding], summary: PlanSummary | None, failing: Severity) -> str:
    label = {Verdict.ALLOW: "ALLOW", Verdict.NEEDS_APPROVAL: "NEEDS APPROVAL", Verdict.BLOCK: "BLOCK"}[verdict]
    active = [f for f in findings if f.suppressed is None and f.outcome is Outcome.FAIL]
    counts = summary.counts_text() if summary else "no plan analysed"
    if not active:
        return f"{label}: {counts}; no findings"
    top = max(active, key=lambda f: (f.severity.rank, _is_plan_finding(f)))
    static = sum(1 for f in active if not _is_plan_finding(f) and f.severity.at_least(failing))
    extra = f"; {static} static-check finding(s) at or above {failing.value}" if static else ""
    return f"{label}: {_reason(top.message)} ({counts}{extra})"


def _reason(message: str, limit: int = 160) -> str:
    """The first clause of a finding's message, for the headline (the full message is in the findings)."""
    text = message.split(";")[0]
    if text.find(" (") > 0:  # the why in parentheses ("(address matches protected pattern ...)") stays below
        text = text[: text.find(" (")]
    return text if len(text) <= limit else text[: limit - 1] + "…"


def static_findings(path: Path, policy: Policy) -> tuple[list[Finding], dict[str, Any], dict[str, list[Any]]]:
    """Findings and summary of the static checks (``infraleash check``) on the configuration, and where
    each resource is declared (address -> [file, line], for locating plan findings).

    Provider schemas come from the bundled copies, not from ``terraform providers schema``: that runs the
    provider binaries of the working tree's ``.terraform/``, outside the gate and its sandbox, and review
    runs on trees an agent wrote (the agent's review tool included).
    """
    from infraleash.checks.engine import run_checks

    report = run_checks(path, policy, use_terraform=False)
    blocks = [*report.config.resources, *report.config.data] if report.config else []
    return list(report.findings), report.summary(), {b.address: [b.file, b.line] for b in blocks}


def review_plan(plan: Plan, policy: Policy, *, path: str = ".", environment: str | None = None,
                static: list[Finding] | None = None, notes: list[str] | None = None,
                check_summary: dict[str, Any] | None = None, context: GateContext | None = None) -> ReviewReport:
    """Judge an already-loaded plan (plus any static findings).

    ``context`` (the workspace) and ``path`` (the directory) are what the gate matches environments on
    when it decides the plan's state operations; with neither, the named ``environment``'s first
    workspace pattern stands in for it."""
    env = next((e for e in policy.environments if e.name == environment), None)
    protected = policy.protected_for(env)
    planned = plan_findings(plan, protected, policy.checks.suppressions, review=policy.review, environment=environment)
    if policy.review.follows_gate(policy.trust_for(env)):
        decide_like_cli(planned, policy, context=context or _context_for(env), cwd=path)
    findings = [*(static or []), *planned]
    failing = Severity(policy.checks.failing_severity)
    summary = summarize(plan)
    verdict = verdict_for(findings, failing)
    return ReviewReport(path=path, verdict=verdict, headline=_headline(verdict, findings, summary, failing),
                        findings=findings, summary=summary, plan_source=plan.source, environment=environment,
                        notes=list(notes or []), check_summary=dict(check_summary or {}),
                        debug=[n for n in (d.noise_note() for d in plan.drift) if n])


def _context_for(env: Any) -> GateContext:
    """A gate context that lands in ``env`` (a plan reviewed by environment name, not by directory)."""
    patterns = env.match.workspaces if env is not None else []
    literal = next((p for p in patterns if not any(c in p for c in "*?[")), None)
    return GateContext(workspace=literal or (patterns[0].replace("*", "x") if patterns else None))


def _workspace(path: Path) -> str:
    marker = path / ".terraform" / "environment"
    try:
        return marker.read_text(encoding="utf-8").strip() or "default"
    except OSError:
        return "default"


def review(path: str | Path, policy: Policy, *, plan_file: str | Path | None = None, run_plan: bool = True,
           env: dict[str, str] | None = None, context: GateContext | None = None,
           static_path: str | Path | None = None, runner: RunnerConfig | None = None,
           on_step: Callable[[str], None] | None = None) -> ReviewReport:
    """Static checks, then the plan (recorded, or run through the gate), then one verdict.

    ``on_step`` is told what is running as each step starts (for progress on a terminal).

    ``static_path`` checks another copy of the configuration than the one planned (the demo plans
    in a scratch directory that also holds a generated sandbox provider block).
    """
    root = Path(path)
    if not root.exists():
        raise InputError("no such file or directory", file=str(root))
    if plan_file is None:
        require_configuration(root)  # the same answer as `infraleash check` on this directory
    workspace = context.workspace if context and context.workspace else _workspace(root)
    environment = policy.environment_for(workspace=workspace, directory=str(root))
    env_name = environment.name if environment else None
    step = on_step or (lambda _what: None)
    step("static checks")
    static, check_summary, declarations = static_findings(Path(static_path) if static_path else root, policy)
    notes: list[str] = []
    plan: Plan | None = None
    if plan_file is not None:
        plan = load_plan(plan_file, workdir=root if root.is_dir() else None, env=env)
    elif run_plan:
        from infraleash.review.run_plan import plan_via_gate, terraform_available

        if terraform_available(env, runner) is None:
            notes.append("no plan: terraform/tofu is not on PATH (pass --plan FILE.json); "
                         "without a plan the change's effect is unknown, so it needs approval")
        else:
            ctx = context or GateContext(workspace=workspace)
            plan = plan_via_gate(root, policy, env=env, context=ctx, runner=runner, on_step=step)
    else:
        notes.append("no plan: --no-plan was given; only the static checks ran")
    if plan is None:
        failing = Severity(policy.checks.failing_severity)
        verdict = verdict_for(static, failing)
        if run_plan and plan_file is None and verdict is Verdict.ALLOW:
            verdict = Verdict.NEEDS_APPROVAL
        return ReviewReport(path=str(root), verdict=verdict, headline=_headline(verdict, static, None, failing),
                            findings=static, environment=env_name, notes=notes, check_summary=check_summary,
                            declarations=declarations)
    report = review_plan(plan, policy, path=str(root), environment=env_name, static=static, notes=notes,
                         check_summary=check_summary, context=context or GateContext(workspace=workspace))
    report.declarations = declarations
    return report


def review_path(path: str | Path = ".", *, plan: str | Path | None = None, policy: Policy | str | Path | None = None,
                run_plan: bool = True) -> ReviewReport:
    """:func:`infraleash.api.review`: :func:`review` with the policy found the way the CLI finds it."""
    from infraleash.checks.custom_rules import guard_tree_policy
    from infraleash.policy import policy_for

    chosen = policy_for(policy, path)
    if policy is None:  # found, not given: Python rules from a policy inside the reviewed tree are not loaded
        chosen = guard_tree_policy(chosen, Path(path))
    return review(Path(path), chosen, plan_file=plan, run_plan=run_plan)


class _CallableReviewModule(types.ModuleType):
    """``from infraleash import review`` finds this package (the names are the same): calling it reviews."""

    def __call__(self, path: str | Path = ".", *, plan: str | Path | None = None,
                 policy: Policy | str | Path | None = None, run_plan: bool = True) -> ReviewReport:
        return review_path(path, plan=plan, policy=policy, run_plan=run_plan)


sys.modules[__name__].__class__ = _CallableReviewModule
