"""A plan, judged: findings of the plan kinds (destroy, replace, data_loss, disruption, protected, drift,
apply_fails, state_operation).

Severity carries the verdict (see :func:`infraleash.review.verdict_for`):

* ``critical`` -> block: deleting or replacing a protected resource; data loss with no protection visible;
  a state operation the gate refuses as a CLI command here (``review/state_operations.py``);
* ``high``/``medium`` -> needs approval: any destroy, a replace with a gap or a cost, a disruptive in-place
  update, an update of a protected resource, a plan that would revert changes made outside Terraform,
  a state operation (import, removed, moved block) the gate would hold;
* ``low``/``info`` -> allowed: online modifications, drift the plan leaves alone, a create-before-destroy
  replacement of a stateless, unprotected resource that nothing else in the plan depends on (unless
  ``review.hold_replacements`` holds it).

Creates and tags-only updates give no finding at all.  Every finding about a protected resource carries
why it is protected (``details.protected_because``, and the policy entry's ``reason`` in the message).
"""

from __future__ import annotations

import fnmatch
from typing import Any

from infraleash.findings import Finding, Kind, Severity
from infraleash.policy import ProtectedResources, ReviewPolicy, Suppression
from infraleash.review.state_operations import state_operation_findings
from infraleash.terraform.blast_radius import ReferenceGraph, config_address
from infraleash.terraform.plan import Action, Plan, ReplaceOrder, ResourceChange
from infraleash.terraform.stateful import apply_failures, assess

MAX_LISTED = 8  # dependents named in a message

# Terraform's action_reason for a delete, in words (terraform/internal/plans/resourceinstancechangeactionreason)
DELETE_REASONS = {
    "delete_because_no_resource_config": "its resource block is no longer in the configuration",
    "delete_because_no_module": "its module call is no longer in the configuration",
    "delete_because_wrong_repetition": "count/for_each was added to or removed from its block",
    "delete_because_count_index": "its count index is now out of range",
    "delete_because_each_key": "its for_each key is no longer in the collection",
    "delete_because_no_move_target": "a moved block points at an address that does not exist",
}


def _also_touches(rc: ResourceChange, index: dict[str, list[str]]) -> list[str]:
    return index.get(config_address(rc.address), [])


def _touch_text(deps: list[str]) -> str:
    if not deps:
        return ""
    shown = ", ".join(deps[:MAX_LISTED]) + (f" and {len(deps) - MAX_LISTED} more" if len(deps) > MAX_LISTED else "")
    return f"; also touches {shown}"


def _forcing_text(rc: ResourceChange) -> str:
    attrs = rc.forcing_attributes()
    if not attrs:
        return f" ({rc.action_reason.replace('_', ' ')})" if rc.action_reason else ""
    return " because " + ", ".join(f"{a.name} changes {a.render()}" for a in attrs)


def _delete_reason(rc: ResourceChange) -> str:
    why = DELETE_REASONS.get(rc.action_reason or "")
    deposed = f" (deposed object {rc.deposed}, left by an earlier create_before_destroy)" if rc.deposed else ""
    return (f" ({why})" if why else "") + deposed


def _base(rc: ResourceChange, deps: list[str]) -> dict[str, Any]:
    details: dict[str, Any] = {"resource_type": rc.type, "actions": rc.actions}
    if deps:
        details["also_touches"] = deps
    if rc.replace_order:
        details["replace_order"] = rc.replace_order.value
    if rc.replace_paths:
        details["forced_by"] = [a.to_dict() for a in rc.forcing_attributes()]
    return details


def _protected(rc: ResourceChange, protected: ProtectedResources) -> str | None:
    for address in (rc.address, config_address(rc.address), rc.moved_from):
        why = protected.matches(address=address) if address else None
        if why:
            return why
    # before and after separately: an agent that flips `Protected = "true"` to "false" is still caught
    return protected.matches(ids=rc.ids(), tags=rc.tags()) or protected.matches(tags=rc.tags(after=True))


def _replacement_severity(rc: ResourceChange, gap: bool, protected: bool, busy_deps: list[str],
                          review: ReviewPolicy, environment: str | None) -> tuple[Severity, str]:
    """A replacement's severity and what decided it: a create-before-destroy replacement of a stateless,
    unprotected resource that nothing else in the plan changes with (nothing takes its new ID) is low."""
    if gap:
        return Severity.HIGH, ""
    if rc.replace_order is not ReplaceOrder.CREATE_BEFORE_DESTROY or protected or busy_deps or assess(rc) or \
            apply_failures(rc):
        return Severity.MEDIUM, ""
    hold = review.replacement_hold(rc.type, environment)
    if hold is not None:
        return Severity.MEDIUM, "; the policy holds this replacement (review.hold_replacements" + \
            (f": {hold.reason})" if hold.reason else ")")
    return Severity.LOW, "; stateless, unprotected, and nothing else in the plan takes its new ID: no approval needed"


def resource_findings(rc: ResourceChange, protected: ProtectedResources, deps: list[str], *,
                      review: ReviewPolicy | None = None, environment: str | None = None,
                      changed: frozenset[str] = frozenset()) -> list[Finding]:
    """``changed``: configuration addresses of every resource the plan changes (dependents among them would
    take a replaced resource's new ID)."""
    out: list[Finding] = []
    address = rc.address
    touches = _touch_text(deps)
    details = _base(rc, deps)
    why_protected = _protected(rc, protected)
    if why_protected and rc.action is not Action.NO_OP and rc.action is not Action.READ and \
            rc.action is not Action.CREATE:
        destructive = rc.action in (Action.DELETE, Action.REPLACE)
        verb = {Action.DELETE: "destroy", Action.REPLACE: "replace", Action.FORGET: "stop managing"}.get(
            rc.action, "change in place")
        out.append(Finding(
            rule="PLAN-PROTECTED", kind=Kind.PROTECTED,
            severity=Severity.CRITICAL if destructive else Severity.HIGH, address=address,
            message=f"the plan would {verb} protected resource {address} ({why_protected})"
                    f"{_forcing_text(rc) if rc.action is Action.REPLACE else ''}{touches}",
            suggestion="leave the attributes that force the replacement as they are; "
                       "a protected resource is replaced only by a human" if destructive else
                       "a named human must approve changes to a protected resource",
            details={**details, "protected_because": why_protected}))
    if rc.action is Action.DELETE:
        out.append(Finding(rule="PLAN-DESTROY", kind=Kind.DESTROY, severity=Severity.HIGH, address=address,
                           message=f"destroys {address}{_delete_reason(rc)}{touches}", details=details))
    elif rc.action is Action.REPLACE:
        gap = rc.replace_order is ReplaceOrder.DELETE_BEFORE_CREATE
        order = {ReplaceOrder.DELETE_BEFORE_CREATE: "destroyed first, then created: there is a gap",
                 ReplaceOrder.CREATE_THEN_FORGET: "a new one is created; the old one stays in the cloud, unmanaged",
                 }.get(rc.replace_order or ReplaceOrder.CREATE_BEFORE_DESTROY,
                       "created before the old one is destroyed")
        busy = [d for d in deps if d in changed]
        severity, decided = _replacement_severity(rc, gap, why_protected is not None, busy, review or ReviewPolicy(),
                                                  environment)
        out.append(Finding(rule="PLAN-REPLACE", kind=Kind.REPLACE, severity=severity,
                           address=address, message=f"replaces {address}{_forcing_text(rc)} ({order}){touches}{decided}",
                           suggestion="keep the forcing attributes unchanged if the new value is not needed "
                                      "(a `moved` block only helps when the resource address changes)",
                           details=details))
    out.extend(state_operation_findings(rc, details))
    for cost in assess(rc):
        out.append(Finding(
            rule="PLAN-DATA-LOSS" if cost.kind is Kind.DATA_LOSS else "PLAN-DISRUPTION", kind=cost.kind,
            severity=cost.severity, address=address, message=f"{address}: {cost.message}",
            details={**details, "why": cost.why, "docs": cost.docs, "protections": list(cost.protections),
                     "attributes": list(cost.attributes)}))
    for fails in apply_failures(rc):  # a warning: the apply is refused by the API, approving cannot help
        out.append(Finding(rule="PLAN-APPLY-FAILS", kind=Kind.APPLY_FAILS, severity=Severity.LOW, address=address,
                           message=f"{address}: apply will fail: {fails.message}",
                           details={**details, "attributes": [fails.attribute], "docs": fails.docs}))
    if why_protected:
        _say_protected(out, why_protected)
    return out


def _say_protected(findings: list[Finding], why: str) -> None:
    """Every finding about a protected resource says why it is protected."""
    for f in findings:
        f.details.setdefault("protected_because", why)
        if f.kind is not Kind.PROTECTED and why not in f.message:
            f.message = f"{f.message} [protected: {why}]"


def drift_findings(plan: Plan, protected: ProtectedResources | None = None) -> list[Finding]:
    out: list[Finding] = []
    for d in plan.drift:
        before = len(out)
        if d.deleted_outside:
            out.append(Finding(rule="PLAN-DRIFT", kind=Kind.DRIFT, severity=Severity.MEDIUM, address=d.address,
                               message=f"{d.address} was deleted outside Terraform; this plan recreates it",
                               details={"reverts": True}))
        elif d.reverted:
            changes = ", ".join(f"{a.name} {a.render()}" for a in d.reverted)
            out.append(Finding(rule="PLAN-DRIFT", kind=Kind.DRIFT, severity=Severity.MEDIUM, address=d.address,
                               message=f"{d.address} was changed outside Terraform and this plan reverts it: {changes}",
                               suggestion="find out who changed it and why before undoing it; "
                                          "if the change should stay, put it in the configuration",
                               details={"reverts": True, "reverted": [a.to_dict() for a in d.reverted]}))
        elif d.attributes and d.relevant:
            names = ", ".join(a.name for a in d.attributes)
            out.append(Finding(rule="PLAN-DRIFT", kind=Kind.DRIFT, severity=Severity.INFO, address=d.address,
                               message=f"{d.address} was changed outside Terraform ({names}); this plan keeps it",
                               details={"reverts": False, "drifted": [a.to_dict() for a in d.attributes]}))
        why = _protected(d.change, protected) if protected is not None and len(out) > before else None
        if why:
            _say_protected(out[before:], why)
    return out


def _suppress(findings: list[Finding], suppressions: list[Suppression]) -> None:
    for f in findings:
        for s in suppressions:
            if s.rule == f.rule and (s.address is None or (f.address and fnmatch.fnmatchcase(f.address, s.address))):
                f.suppressed = s.reason
                break


def plan_findings(plan: Plan, protected: ProtectedResources, suppressions: list[Suppression] | None = None, *,
                  review: ReviewPolicy | None = None, environment: str | None = None) -> list[Finding]:
    """Every finding the plan gives, protected resources and the policy's review settings applied
    (state operations get their default hold here; ``review_plan`` asks the gate)."""
    index = ReferenceGraph.from_configuration(plan.configuration).index()
    changed = frozenset(config_address(rc.address) for rc in plan.changes() if rc.mode == "managed")
    out: list[Finding] = []
    if plan.errored:
        out.append(Finding(rule="PLAN-ERRORED", kind=Kind.INPUT, severity=Severity.HIGH, file=plan.source,
                           message="the plan errored: it is incomplete and cannot be trusted"))
    elif not plan.complete:
        out.append(Finding(rule="PLAN-INCOMPLETE", kind=Kind.INPUT, severity=Severity.MEDIUM, file=plan.source,
                           message="the plan is partial (`-target`): changes the configuration makes outside the "
                                   "targets are not in it, so they were not reviewed",
                           suggestion="review a plan without -target"))
    for rc in plan.resource_changes:
        if rc.mode == "managed" and rc.does_something:
            out.extend(resource_findings(rc, protected, _also_touches(rc, index), review=review,
                                         environment=environment, changed=changed))
    out.extend(drift_findings(plan, protected))
    _suppress(out, suppressions or [])
    return out
