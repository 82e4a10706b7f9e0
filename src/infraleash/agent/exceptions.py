"""How a run segment ends, as typed exceptions (the loop catches them; ``run()`` returns the state).

    AgentOutcome                 a run segment ended; ``status`` is saved in the trajectory
    ├── Submitted                the model gave its final answer                 (exit 0)
    ├── Paused                   a tool call waits for a human                   (exit 3)
    │   ├── ApprovalPending      the gate held a call; approve/deny the request, then --resume
    │   └── PlanReview           --plan-only: the plan is written; edit it, then --resume
    └── LimitsExceeded           steps, tokens, wall time or cost ran out        (exit 1)

    ToolMistake                  the model's mistake (bad arguments, unknown tool, malformed call):
                                 it goes back to the model as a tool error, the run continues

Anything else (a provider failure, a bug, an executor error) is ours: the run
stops with status ``error`` and the trajectory is saved before it propagates.
"""

from __future__ import annotations

from typing import Any


class AgentOutcome(Exception):
    status = "ended"


class Submitted(AgentOutcome):
    status = "done"


class Paused(AgentOutcome):
    """``pending`` is the :class:`~infraleash.agent.run_store.PendingCall` to resolve on resume."""

    status = "paused"
    kind = "approval"

    def __init__(self, message: str, pending: Any = None) -> None:
        self.pending = pending
        super().__init__(message)


class ApprovalPending(Paused):
    status = "waiting_for_approval"


class PlanReview(Paused):
    status = "plan_review"
    kind = "plan_review"


class LimitsExceeded(AgentOutcome):
    status = "limit_reached"


class ToolMistake(Exception):
    """A mistake of the model's in a tool call; the message is what the model is told."""
