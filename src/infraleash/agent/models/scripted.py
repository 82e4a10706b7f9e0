"""A scripted model for tests and demos: no network, fully deterministic.

    model = ScriptedModel([
        Turn(tool_calls=[call("read_file", path="main.tf")]),
        Turn(text="The bucket has no versioning."),
    ])

or a function of the conversation so far, to react to what the tools said::

    ScriptedModel(lambda messages: Turn(text=f"saw {len(messages)} messages"))

A script can also be a YAML/JSON file (``provider: scripted``, ``name: script.yaml``)::

    - tool_calls: [{name: read_file, arguments: {path: main.tf}}]
    - text: done

A file script answers by position (turn N+1 after N assistant turns in the
conversation), so ``infraleash agent --resume`` in a new process continues it.

Every conversation the model was shown is kept in :attr:`ScriptedModel.seen` (and
the tool names it was offered in ``tools_seen``), so a test can assert on what
reached the model.  Running out of turns raises
:class:`ScriptExhausted`: a broken test, not a model mistake.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field, ValidationError

from infraleash.agent.messages import Message, ModelResponse, ToolCall, ToolSpec, Usage
from infraleash.agent.models.base import ModelError, TextCallback
from infraleash.errors import InputError

_ids = itertools.count(1)


def call(name: str, /, **arguments: Any) -> ToolCall:
    """A well-formed tool call with a fresh id."""
    return ToolCall(id=f"call_{next(_ids)}", name=name, arguments=arguments)


def raw_call(name: str, raw_arguments: str) -> ToolCall:
    """A tool call whose arguments are given as the raw JSON text a model sent (possibly malformed)."""
    return ToolCall.from_json(f"call_{next(_ids)}", name, raw_arguments)


class Turn(BaseModel):
    """One scripted reply."""

    text: str = ""
    tool_calls: list[ToolCall] = Field(default_factory=list)


class ScriptExhausted(ModelError):
    """The script has no more turns (the loop asked the model more often than the test expected)."""


ScriptFn = Callable[[list[Message]], Turn]


class ScriptedModel:
    """Replays a list of turns, or asks a function for each turn."""

    def __init__(self, script: Sequence[Turn] | ScriptFn, *, name: str = "scripted",
                 by_position: bool = False) -> None:
        self.name = name
        self.by_position = by_position
        self._fn: ScriptFn | None = script if callable(script) else None
        self._turns: list[Turn] = [] if callable(script) else list(script)
        self._next = 0
        self.seen: list[list[Message]] = []
        self.tools_seen: list[list[str]] = []

    @classmethod
    def from_file(cls, path: str | Path) -> ScriptedModel:
        p = Path(path)
        try:
            data = yaml.safe_load(p.read_text(encoding="utf-8"))
        except OSError as e:
            raise InputError(f"cannot read model script: {e.strerror}", file=str(p)) from None
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            raise InputError(f"invalid YAML in model script: {getattr(e, 'problem', e)}", file=str(p),
                             line=mark.line + 1 if mark else None) from None
        if not isinstance(data, list):
            raise InputError("a model script is a list of turns ({text: ..., tool_calls: [...]})", file=str(p))
        turns = []
        for i, item in enumerate(data):
            try:
                calls = [call(c["name"], **(c.get("arguments") or {})) for c in (item.get("tool_calls") or [])]
                turns.append(Turn(text=str(item.get("text", "")), tool_calls=calls))
            except (AttributeError, KeyError, TypeError, ValidationError) as e:
                raise InputError(f"turn {i}: {e}", file=str(p)) from None
        return cls(turns, name=f"scripted:{p.name}", by_position=True)

    @property
    def remaining(self) -> int:
        return len(self._turns) - self._next

    def complete(self, messages: Sequence[Message], tools: Sequence[ToolSpec], *, stream: bool = False,
                 on_text: TextCallback | None = None) -> ModelResponse:
        history = list(messages)
        self.seen.append(history)
        self.tools_seen.append([t.name for t in tools])
        if self._fn is not None:
            turn = self._fn(history)
        else:
            if self.by_position:  # a script file: the turn after the assistant turns already in the conversation
                self._next = sum(1 for m in history if m.role == "assistant")
            if self._next >= len(self._turns):
                raise ScriptExhausted(f"the scripted model has no turn {self._next + 1} "
                                      f"(script has {len(self._turns)})")
            turn = self._turns[self._next]
            self._next += 1
        if stream and on_text and turn.text:
            on_text(turn.text)
        usage = Usage(input_tokens=sum(len(m.content) for m in history) // 4 + 1,
                      output_tokens=len(turn.text) // 4 + 1)
        return ModelResponse(text=turn.text, tool_calls=list(turn.tool_calls), usage=usage, cost_usd=0.0,
                             model=self.name, stop_reason="tool_use" if turn.tool_calls else "end_turn")
