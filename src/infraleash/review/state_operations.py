"""Config-level state operations, decided like the CLI commands they stand for.

An ``import {}`` block is ``terraform import``; a ``removed {}`` block with
``lifecycle { destroy = false }`` (plan action ``forget``) is ``terraform state rm``; a ``moved {}``
block is ``terraform state mv``.  Each is a finding of kind ``state_operation`` (never ``destroy``:
a forgotten object stays in the cloud).

    ops = state_operations(rc)                 # [StateOperation("import", ["terraform", "import", ...])]
    decide_like_cli(findings, policy, context=GateContext(workspace="prod"), cwd="envs/prod")

With ``review.state_operations_follow_gate`` on (the default below act-with-approval) the finding's
severity follows what the gate's :func:`~infraleash.gate.decision.decide` answers for the equivalent
argv in that environment: deny -> critical (block), needs_approval -> medium, allow -> info.  The gate
holds the rule; this module only asks it.  Off, each one needs approval (medium).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Any

from infraleash.findings import Finding, Kind, Severity
from infraleash.gate.decision import decide
from infraleash.gate.model import Action as GateAction
from infraleash.gate.model import GateContext, GateVerdict
from infraleash.policy import Policy
from infraleash.terraform.plan import Action, ResourceChange

RULES = {"import": "PLAN-IMPORT", "forget": "PLAN-FORGET", "move": "PLAN-MOVE"}
_SEVERITY = {GateVerdict.DENY: Severity.CRITICAL, GateVerdict.NEEDS_APPROVAL: Severity.MEDIUM,
             GateVerdict.ALLOW: Severity.INFO}
_GATE_WORDS = {GateVerdict.DENY: "refuses", GateVerdict.NEEDS_APPROVAL: "holds for approval",
               GateVerdict.ALLOW: "allows"}


@dataclass(frozen=True)
class StateOperation:
    kind: str  # import | forget | move
    argv: list[str]  # the CLI command it stands for
    message: str


def state_operations(rc: ResourceChange) -> list[StateOperation]:
    """The state operations one resource change makes (a moved resource may also be updated)."""
    out = []
    if rc.is_import:
        argv = ["terraform", "import", rc.address, rc.import_id or ""]
        out.append(StateOperation("import", argv, f"imports {rc.import_id} into the state as {rc.address} "
                                  "(import block)"))
    if rc.is_move and rc.moved_from:
        argv = ["terraform", "state", "mv", rc.moved_from, rc.address]
        out.append(StateOperation("move", argv, f"moves {rc.moved_from} to {rc.address} in the state (moved block)"))
    if rc.action is Action.FORGET:
        out.append(StateOperation("forget", ["terraform", "state", "rm", rc.address],
                                  f"stops managing {rc.address} (removed block that keeps the object): it leaves "
                                  "the state and stays in the cloud, unmanaged"))
    return out


def state_operation_findings(rc: ResourceChange, details: dict[str, Any]) -> list[Finding]:
    """One finding per state operation, at the default hold (medium); :func:`decide_like_cli` may change it."""
    return [Finding(rule=RULES[op.kind], kind=Kind.STATE_OPERATION, severity=Severity.MEDIUM, address=rc.address,
                    message=f"{op.message}: the same as `{shlex.join(op.argv)}`",
                    details={**details, "operation": op.kind, "equivalent_argv": op.argv})
            for op in state_operations(rc)]


def decide_like_cli(findings: list[Finding], policy: Policy, *, context: GateContext | None = None,
                    cwd: str = ".") -> None:
    """Give each state-operation finding the gate's decision for its equivalent command."""
    for f in findings:
        argv = f.details.get("equivalent_argv") if f.kind is Kind.STATE_OPERATION else None
        if not argv:
            continue
        d = decide(GateAction(argv=list(argv), cwd=cwd), policy, context or GateContext())
        where = f"environment {d.environment}" if d.environment else "the default environment"
        deciding = d.rules[0] if d.rules else None
        why = f" ({deciding.id}: {deciding.reason})" if deciding else ""
        f.severity = _SEVERITY[d.verdict]
        if d.verdict is GateVerdict.DENY:
            f.suggestion = f"a person allowed to run `{shlex.join(argv)}` in this environment applies the plan, " \
                           "or the block stays out of the agent's change"
        f.message = f"{f.message}; the gate {_GATE_WORDS[d.verdict]} that command in {where}, trust " \
                    f"{d.trust_level}{why}"
        f.details["gate"] = {"verdict": d.verdict.value, "rules": [r.id for r in d.rules],
                             "environment": d.environment, "trust_level": d.trust_level}
