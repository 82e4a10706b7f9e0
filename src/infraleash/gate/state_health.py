"""The gate's own state must be sound before it decides anything: a corrupt audit log or approvals database
refuses every action with GATE-STATE-CORRUPT, on every surface, instead of a traceback.

    refusal = state_refusal(store, audit)     # None, or a deny Decision naming the file and what is wrong
    if refusal is not None:
        ...return it as the result; nothing runs, nothing is written to the broken files...

The refusal cannot be written to a log that cannot be appended to; it is returned
to the caller (printed by ``exec``, sent back to the model by the agent and MCP)
and ``infraleash audit verify`` names the file.
"""

from __future__ import annotations

from infraleash.gate.approval_backend import ApprovalBackend
from infraleash.gate.approvals import ApprovalStore
from infraleash.gate.audit import AuditLog
from infraleash.gate.model import Decision, Effect, GateVerdict
from infraleash.gate.rules import hit


def state_problems(store: ApprovalBackend | None, audit: AuditLog | None) -> list[str]:
    """What is wrong with the audit log and the approvals database, each naming its file (empty: sound)."""
    out: list[str] = []
    if audit is not None:
        trouble = audit.problem()
        if trouble:
            out.append(f"{audit.path}: {trouble}")
    if store is not None:
        trouble = store.problem()
        if trouble:
            out.append(f"{store.path}: {trouble}" if isinstance(store, ApprovalStore) else trouble)
    return out


def state_refusal(store: ApprovalBackend | None, audit: AuditLog | None, argv: list[str] | None = None
                  ) -> Decision | None:
    """A deny decision (GATE-STATE-CORRUPT, not approvable) when the gate's state is unusable, else None."""
    problems = state_problems(store, audit)
    if not problems:
        return None
    rules = [hit("GATE-STATE-CORRUPT", detail=p) for p in problems]
    return Decision(verdict=GateVerdict.DENY, effect=Effect.DESTRUCTIVE, rules=rules, argv=list(argv or []),
                    approvable=False, summary="the gate's own state is corrupt: every action is refused")
