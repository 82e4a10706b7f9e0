"""Where held commands wait for a human: one small interface, two stores, one flow.

    store = approval_backend(policy)      # ServerApprovals when approvals.server is set, else ApprovalStore

The flow "held -> approved -> run" lives once, in :mod:`infraleash.gate.executor`
(``execute`` creates the request and, when ``wait_s`` > 0, waits for the decision; ``run_approved``
claims it, re-checks the plan hash on a private copy and runs exactly the approved argv).  A store
only keeps requests and enforces its own rules:

* :class:`~infraleash.gate.approvals.ApprovalStore`: a local SQLite file, decided later by
  ``infraleash approvals approve --as NAME`` on the same machine (``wait_s`` 0: ``exec`` exits 3);
* :class:`~infraleash.gate.approval_client.ServerApprovals`: the approval server's JSON API,
  decided by an authenticated approver elsewhere; ``exec`` waits ``approvals.wait_seconds``.

Both raise :class:`~infraleash.gate.approvals.ApprovalError` (with a ``rule_id`` when the refusal
has one) for everything they refuse; the executor turns it into an audited refusal, exit 4.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from infraleash.gate.approvals import ApprovalRequest, ApprovalStore, ShownPlan
from infraleash.gate.model import Action, Decision
from infraleash.policy import Policy


class ApprovalBackend(Protocol):
    wait_s: float  # how long ``execute`` waits for a decision after creating a request (0: return held)
    wants_plan_json: bool  # the approver reads ``terraform show -json`` of the saved plan, uploaded at creation

    def problem(self) -> str | None: ...

    def owned_files(self) -> list[str]: ...

    def create(self, action: Action, decision: Decision, context: dict[str, Any] | None = None,
               plan: ShownPlan | None = None) -> ApprovalRequest: ...

    def get(self, request_id: str) -> ApprovalRequest: ...

    def wait(self, request_id: str, timeout_s: float) -> ApprovalRequest: ...

    def claim(self, request_id: str, expect_seal: str | None = None) -> ApprovalRequest: ...

    def record_exit(self, request_id: str, exit_code: int, output_tail: str = "") -> None: ...


def approval_backend(policy: Policy, env: Mapping[str, str] | None = None) -> ApprovalBackend:
    """The approval server's client when the policy names one (token from ``approvals.token_env``), else the
    local store."""
    if policy.approvals.server:
        from infraleash.gate.approval_client import ServerApprovals

        return ServerApprovals.from_policy(policy, env)
    return ApprovalStore.from_policy(policy)
