"""The runtime's own conversation types, independent of any model vendor.

Adapters in :mod:`infraleash.agent.models` translate these to and from the
OpenAI chat-completions and Anthropic Messages wire formats; the loop, the
planner, the trajectory files and the context manager only ever see these.

    Message(role="user", content="add an S3 bucket for logs")
    Message(role="assistant", content="", tool_calls=[ToolCall(id="c1", name="read_file",
            arguments={"path": "main.tf"})])
    Message(role="tool", tool_call_id="c1", name="read_file", content="resource ...")
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, Field

Role = Literal["system", "user", "assistant", "tool"]


class ToolCall(BaseModel):
    """One tool call the model asked for.

    ``parse_error`` is set when the model sent arguments that are not a JSON
    object; the loop returns that to the model instead of running anything.
    """

    id: str
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    raw_arguments: str | None = Field(default=None, description="the arguments as the model sent them")
    parse_error: str | None = None

    @classmethod
    def from_json(cls, id: str, name: str, raw: str | None) -> ToolCall:
        """Build a call from JSON-encoded arguments, recording (not raising) a parse error."""
        text = (raw or "").strip() or "{}"
        try:
            value = json.loads(text)
        except json.JSONDecodeError as e:
            return cls(id=id, name=name, raw_arguments=raw, parse_error=f"arguments are not valid JSON: {e}")
        if not isinstance(value, dict):
            return cls(id=id, name=name, raw_arguments=raw,
                       parse_error=f"arguments must be a JSON object, got {type(value).__name__}")
        return cls(id=id, name=name, arguments=value, raw_arguments=raw)

    def arguments_json(self) -> str:
        if self.parse_error is not None and self.raw_arguments is not None:
            return self.raw_arguments
        return json.dumps(self.arguments, sort_keys=True)


class Message(BaseModel):
    """One turn of the conversation."""

    role: Role
    content: str = ""
    tool_calls: list[ToolCall] = Field(default_factory=list)
    tool_call_id: str | None = Field(default=None, description="for role=tool: the call this answers")
    name: str | None = Field(default=None, description="for role=tool: the tool's name")
    is_error: bool = Field(default=False, description="for role=tool: the call failed or was refused")


class Usage(BaseModel):
    input_tokens: int = 0
    output_tokens: int = 0

    @property
    def total(self) -> int:
        return self.input_tokens + self.output_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(input_tokens=self.input_tokens + other.input_tokens,
                     output_tokens=self.output_tokens + other.output_tokens)


class ToolSpec(BaseModel):
    """What the model is told about one tool: name, description, JSON schema of the arguments."""

    name: str
    description: str
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})


class ModelResponse(BaseModel):
    """One model completion: text and/or tool calls, with usage and an estimated cost."""

    text: str = ""
    tool_calls: list[ToolCall] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    cost_usd: float | None = Field(default=None, description="estimated; None when the price is unknown")
    model: str = ""
    stop_reason: str | None = None

    def as_message(self) -> Message:
        return Message(role="assistant", content=self.text, tool_calls=list(self.tool_calls))


class Observation(BaseModel):
    """What came back from running (or refusing) one tool call, before it is shown to the model."""

    call_id: str
    tool: str
    output: str = ""
    is_error: bool = False
    exit_code: int | None = None
    truncated: bool = False
    data: Any = None  # structured result, when the tool returns one
    gate: dict[str, Any] | None = Field(default=None, description="the gate's decision, when one was made")
