"""The agent loop: reason, call tools, observe, until done or a limit is reached.

    agent = Agent(model, toolset, store=RunStore(workspace), limits=Limits(max_steps=20))
    state = agent.run(agent.start("add a versioned S3 bucket for logs", workspace, SYSTEM_PROMPT))
    state.status   # done | waiting_for_approval | plan_review | limit_reached | error

* Limits (steps, tokens, wall time, cost) are checked before every model call.
* Every tool call goes to the :class:`Toolset`; the guarded toolset
  (:mod:`infraleash.agent.guarded`) is where the gate sits, not this loop.
* The model's mistakes come back from the toolset as error observations (or a
  :class:`ToolMistake`) and the run goes on; anything else raised is ours and
  stops the run with status ``error``.
* A call held for a human raises :class:`Paused`: the call is kept as
  ``state.pending`` (with the rest of that turn in ``state.deferred``) and
  :meth:`Agent.run` on the loaded state resolves it first (``--resume``).
* The trajectory is saved after every step and in ``finally``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from infraleash.agent.exceptions import AgentOutcome, LimitsExceeded, Paused, Submitted, ToolMistake
from infraleash.agent.messages import Message, Observation, ToolCall, ToolSpec
from infraleash.agent.models.base import Model, TextCallback
from infraleash.agent.passthrough_context import ContextManager, PassThroughContext
from infraleash.agent.run_store import PendingCall, RunState, RunStore, StepRecord, new_run_id
from infraleash.policy import ModelPolicy


class Toolset(Protocol):
    def specs(self) -> list[ToolSpec]: ...

    def call(self, call: ToolCall) -> Observation:
        """Run one call; raise :class:`Paused` (with ``.pending``) when a human must decide first."""

    def resume(self, pending: PendingCall) -> Observation:
        """The result of a held call after the human decided; raise :class:`Paused` if they have not."""


FinishCheck = Callable[[RunState], "str | None"]  # why the run is not finished yet, or None
EventSink = Callable[[str, dict[str, Any]], None]


@dataclass(frozen=True)
class Limits:
    max_steps: int = 30
    max_tokens: int = 200_000
    max_seconds: float = 1800.0
    max_cost_usd: float | None = None

    @classmethod
    def from_policy(cls, model: ModelPolicy, *, max_steps: int | None = None) -> Limits:
        return cls(max_steps=max_steps or model.max_steps, max_tokens=model.max_tokens,
                   max_seconds=float(model.max_seconds), max_cost_usd=model.max_cost_usd)

    def check(self, state: RunState, elapsed_s: float) -> None:
        if len(state.steps) >= self.max_steps:
            raise LimitsExceeded(f"step limit reached: {len(state.steps)} of {self.max_steps} model calls")
        if state.usage.total >= self.max_tokens:
            raise LimitsExceeded(f"token limit reached: {state.usage.total} of {self.max_tokens} tokens")
        if elapsed_s >= self.max_seconds:
            raise LimitsExceeded(f"time limit reached: {elapsed_s:.0f}s of {self.max_seconds:.0f}s")
        if self.max_cost_usd is not None and state.cost_usd >= self.max_cost_usd:
            raise LimitsExceeded(f"cost limit reached: ${state.cost_usd:.4f} of ${self.max_cost_usd:.4f}")


class Agent:
    def __init__(self, model: Model, toolset: Toolset, *, store: RunStore, limits: Limits | None = None,
                 context: ContextManager | None = None, finish_checks: Sequence[FinishCheck] = (),
                 stream: bool = False, on_text: TextCallback | None = None, on_event: EventSink | None = None):
        self.model = model
        self.toolset = toolset
        self.store = store
        self.limits = limits or Limits()
        self.context: ContextManager = context or PassThroughContext()
        self.finish_checks = list(finish_checks)
        self.stream = stream
        self.on_text = on_text
        self.on_event = on_event or (lambda kind, data: None)

    def start(self, task: str, workspace: str | Path, system_prompt: str, *, run_id: str | None = None) -> RunState:
        state = RunState(run_id=run_id or new_run_id(), task=task, workspace=str(Path(workspace).resolve()),
                         model=self.model.name,
                         messages=[Message(role="system", content=system_prompt), Message(role="user", content=task)])
        self.store.save(state)
        return state

    def run(self, state: RunState) -> RunState:
        started, before = time.monotonic(), state.elapsed_s
        self._elapsed = lambda: before + time.monotonic() - started
        state.status, state.stop_reason = "running", None
        try:
            if state.pending is not None:
                observation = self.toolset.resume(state.pending)  # Paused again if nobody decided yet
                call, state.pending = state.pending.call, None
                self._observe(state, call, observation)
            deferred, state.deferred = state.deferred, []
            self._run_calls(state, deferred)
            while True:
                self.step(state)
        except AgentOutcome as outcome:
            state.status = outcome.status
            if not isinstance(outcome, Submitted):
                state.stop_reason = str(outcome)
        except BaseException as e:
            state.status, state.stop_reason = "error", f"{type(e).__name__}: {e}"
            raise
        finally:
            state.elapsed_s = self._elapsed()
            self.store.save(state)
            self.on_event("end", {"status": state.status, "reason": state.stop_reason})
        return state

    def step(self, state: RunState) -> None:
        self.limits.check(state, self._elapsed())
        t0 = time.monotonic()
        response = self.model.complete(self.context.build_messages(state), self.toolset.specs(),
                                       stream=self.stream, on_text=self.on_text)
        state.usage = state.usage + response.usage
        state.cost_usd += response.cost_usd or 0.0
        state.cost_unknown = state.cost_unknown or response.cost_usd is None
        state.messages.append(response.as_message())
        state.steps.append(StepRecord(n=len(state.steps) + 1, at=time.time(), duration_s=time.monotonic() - t0,
                                      usage=response.usage, cost_usd=response.cost_usd, text=response.text,
                                      tool_calls=response.tool_calls))
        self.on_event("model", {"step": len(state.steps), "text": response.text,
                                "tool_calls": [c.name for c in response.tool_calls]})
        try:
            if response.tool_calls:
                self._run_calls(state, response.tool_calls)
            else:
                self._finish(state, response.text)
        finally:
            self.store.save(state)

    def _run_calls(self, state: RunState, calls: list[ToolCall]) -> None:
        for i, call in enumerate(calls):
            try:
                observation = self.toolset.call(call)
            except ToolMistake as e:
                observation = Observation(call_id=call.id, tool=call.name, output=str(e), is_error=True)
            except Paused as paused:
                state.pending = paused.pending or PendingCall(kind=paused.kind, call=call)  # type: ignore[arg-type]
                state.deferred = list(calls[i + 1:])
                raise
            self._observe(state, call, observation)

    def _observe(self, state: RunState, call: ToolCall, observation: Observation) -> None:
        state.messages.append(Message(role="tool", tool_call_id=call.id, name=call.name,
                                      content=self.context.observe(observation), is_error=observation.is_error))
        if state.steps:
            state.steps[-1].observations.append(observation)
        self.on_event("tool", {"call": call.name, "arguments": call.arguments, "error": observation.is_error,
                               "gate": observation.gate, "output": observation.output})

    def _finish(self, state: RunState, text: str) -> None:
        for check in self.finish_checks:
            reason = check(state)
            if reason:
                state.messages.append(Message(role="user", content=f"Not finished yet: {reason}"))
                self.on_event("not_finished", {"reason": reason})
                return
        state.final = text
        raise Submitted(text)
