"""The budgeted context manager: what the model sees fits its window, and it is told whatever was left out.

    ctx = BudgetedContext.for_run(model_name="gpt-4.1", window=None, run_dir=store.dir(run_id))
    Agent(model, toolset, context=ctx, ...)        # F1's ContextManager seam: build_messages + observe
    toolset tools += ctx.tools()                   # read_output(ref, start, end) and handoff(...)

Budgets per section, from the model's context window (``policy.model.context_window``
or :data:`~infraleash.agent.tokens.CONTEXT_WINDOWS`), see :class:`Budget`.

``observe(result)`` (every tool result, file reads included): secrets redacted
(:mod:`infraleash.agent.redaction`), the full redacted output stored in the run
directory, then compacted to the per-result budget (:mod:`infraleash.agent.compaction`)
with a marker naming what was omitted and how to read it back.

``build_messages(state)``: system prompt + task (or the latest handoff) + the
history since the last handoff.  When that would exceed the window, the runtime
writes a handoff (:mod:`infraleash.agent.handoff`) and the next context starts
fresh from it, keeping the last turn when it fits.  A ``handoff`` tool lets the
model ask for one itself.  The state of all this lives in ``state.extra["context"]``
so ``--resume`` continues with the same context.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infraleash.agent.compaction import OutputStore, compact, head_tail, read_output_tool
from infraleash.agent.function_tools import function_tool
from infraleash.agent.guarded import AgentTool
from infraleash.agent.handoff import Handoff, build_handoff, save_handoff
from infraleash.agent.messages import Message, Observation, ToolSpec
from infraleash.agent.passthrough_context import render_observation
from infraleash.agent.redaction import redact
from infraleash.agent.run_store import RunState
from infraleash.agent.tokens import PER_MESSAGE_OVERHEAD, TokenCounter, context_window_for, counter_for
from infraleash.gate.model import Effect
from infraleash.tools import tool


@dataclass(frozen=True)
class Budget:
    """Tokens per section of one model call.

    output      kept free for the model's answer (15%, at least 512)
    system      the system prompt and tool specs (15%)
    task        the user's task, or the handoff that replaced the history (15%)
    memory      working memory: notes the runtime adds (handoff headers, omission notes) (5%)
    tool_result one tool result after compaction (20% of the window, and never more than the history)
    history     the turns since the last handoff: what is left
    """

    window: int
    output: int
    system: int
    task: int
    memory: int
    tool_result: int
    history: int

    @classmethod
    def for_window(cls, window: int) -> Budget:
        output = max(512, window * 15 // 100)
        system, task, memory = window * 15 // 100, window * 15 // 100, window * 5 // 100
        history = window - output - system - task - memory
        return cls(window=window, output=output, system=system, task=task, memory=memory,
                   tool_result=min(window * 20 // 100, history // 2), history=history)

    @property
    def input(self) -> int:
        return self.window - self.output


class BudgetedContext:
    def __init__(self, *, counter: TokenCounter, budget: Budget, run_dir: Path,
                 tool_spec_tokens: int = 0) -> None:
        self.counter = counter
        self.budget = budget
        self.run_dir = run_dir
        self.outputs = OutputStore(run_dir / "outputs")
        self.tool_spec_tokens = tool_spec_tokens
        self._requested: dict[str, list[str]] | None = None
        self.handoffs: list[Path] = []

    @classmethod
    def for_run(cls, *, model_name: str, window: int | None, run_dir: Path) -> BudgetedContext:
        return cls(counter=counter_for(model_name), budget=Budget.for_window(context_window_for(model_name, window)),
                   run_dir=run_dir)

    # ------------------------------------------------------------------ observe

    def observe(self, result: Observation) -> str:
        redacted = redact(render_observation(result))
        ref = self.outputs.put(redacted.text) if self.counter.count(redacted.text) > self.budget.tool_result else None
        shown = compact(redacted.text, self.budget.tool_result, self.counter, ref=ref)
        note = redacted.note()
        return f"{shown.text}\n{note}" if note else shown.text

    # ------------------------------------------------------------------ messages

    def _tokens(self, messages: list[Message]) -> int:
        total = 0
        for m in messages:
            total += self.counter.count(m.content) + PER_MESSAGE_OVERHEAD
            total += sum(self.counter.count(c.arguments_json()) + len(c.name) // 3 + 4 for c in m.tool_calls)
        return total

    def _ctx(self, state: RunState) -> dict[str, Any]:
        return state.extra.setdefault("context", {"since": 2, "handoff": None, "handoffs": [],
                                                  "counter": self.counter.name, "window": self.budget.window})

    def build_messages(self, state: RunState) -> list[Message]:
        ctx = self._ctx(state)
        requested, self._requested = self._requested, None
        messages = self._assemble(state, ctx, fresh=False)
        if requested is not None or self._tokens(messages) + self.tool_spec_tokens > self.budget.input:
            reason = "requested by the model" if requested is not None else \
                f"context budget ({self.budget.input:,} input tokens with {self.counter.name}) would be exceeded"
            self.handoff(state, reason=reason, notes=requested)
            messages = self._assemble(state, ctx, fresh=True)
        return messages

    def _assemble(self, state: RunState, ctx: dict[str, Any], *, fresh: bool) -> list[Message]:
        system, task = state.messages[0], state.messages[1]
        seed: list[Message] = [system]
        if ctx["handoff"]:
            h = Handoff.model_validate(ctx["handoff"])
            body = (f"{h.render()}\n(The earlier conversation was replaced by this handoff because of: {h.reason}. "
                    f"The full trajectory is saved; handoff files: {', '.join(ctx['handoffs'])}.)")
            if self.counter.count(body) > self.budget.task + self.budget.memory:
                body, _ = head_tail(body, self.budget.task + self.budget.memory, self.counter)
            seed.append(Message(role="user", content=body))
        else:
            seed.append(task)
        history = state.messages[ctx["since"]:]
        room = self.budget.input - self._tokens(seed) - self.tool_spec_tokens
        if fresh and self._tokens(history) > room:
            ctx["since"] = len(state.messages)  # even the kept last turn does not fit (its facts are in the handoff)
            history = []
        return seed + history

    # ------------------------------------------------------------------ handoffs

    def handoff(self, state: RunState, *, reason: str, notes: dict[str, list[str]] | None = None) -> Path:
        """Write a handoff of everything since the last one; the next context starts from it."""
        ctx = self._ctx(state)
        previous = Handoff.model_validate(ctx["handoff"]) if ctx["handoff"] else None
        h = build_handoff(state, self.run_dir, reason=reason, notes=notes, previous=previous, since=ctx["since"])
        json_path, md_path = save_handoff(h, self.run_dir)
        ctx["handoff"] = h.model_dump(mode="json")
        ctx["handoffs"].append(str(md_path))
        ctx["since"] = self._last_turn_start(state)
        self.handoffs.append(json_path)
        return json_path

    @staticmethod
    def _last_turn_start(state: RunState) -> int:
        """Index of the last assistant message (its tool results stay paired with it), or the end."""
        for i in range(len(state.messages) - 1, 1, -1):
            if state.messages[i].role == "assistant":
                return i
        return len(state.messages)

    def count_tool_specs(self, specs: list[ToolSpec]) -> None:
        """Tool specs are sent with every call: their tokens come out of the input budget."""
        self.tool_spec_tokens = self.counter.count(json.dumps([s.model_dump() for s in specs]))

    def tools(self) -> list[AgentTool]:
        return [read_output_tool(self.outputs), self._handoff_tool()]

    def _handoff_tool(self) -> AgentTool:
        ctx = self

        @tool(effect=Effect.READ)
        def handoff(decisions: list[str] | None = None, facts: list[str] | None = None,
                    open_questions: list[str] | None = None, next_steps: list[str] | None = None) -> str:
            """Hand off to a fresh context: your notes plus the user's goal and constraints (verbatim) are kept, the conversation so far is replaced. Use it when the context is getting long.

            Args:
                decisions: decisions made so far and why
                facts: facts established (what files, plans and commands showed)
                open_questions: what is still unknown
                next_steps: what to do next, in order
            """
            ctx._requested = {"decisions": decisions or [], "facts": facts or [],
                              "open_questions": open_questions or [], "next_steps": next_steps or []}
            return "handoff requested: the next turn starts in a fresh context seeded with it"

        return function_tool(handoff)
