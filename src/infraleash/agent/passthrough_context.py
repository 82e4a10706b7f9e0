"""The seam between the loop and context management.

The loop asks a :class:`ContextManager` two things: which messages to send for
the next model call, and how to show one tool result to the model.  This module
holds the protocol and the pass-through implementation used until a budgeted
manager is plugged in: it sends the whole history and every tool output
verbatim, so it never drops anything but also never keeps a conversation inside
a context window.  The budgeted manager (token counting, compaction, redaction,
handoffs) implements the same two methods and replaces it without any change to
the loop.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from infraleash.agent.messages import Message, Observation

if TYPE_CHECKING:
    from infraleash.agent.run_store import RunState


class ContextManager(Protocol):
    def build_messages(self, state: RunState) -> list[Message]: ...

    def observe(self, result: Observation) -> str: ...


class PassThroughContext:
    """Everything, verbatim: the system prompt, the task and the whole history."""

    def build_messages(self, state: RunState) -> list[Message]:
        return list(state.messages)

    def observe(self, result: Observation) -> str:
        return render_observation(result)


def render_observation(result: Observation) -> str:
    """A tool result as text: the output, plus exit code and truncation said out loud."""
    parts = [result.output.rstrip("\n")]
    if result.exit_code not in (None, 0):
        parts.append(f"(exit code {result.exit_code})")
    if result.truncated:
        parts.append("(output truncated by the executor: only the end of each stream was kept)")
    return "\n".join(p for p in parts if p) or "(no output)"
