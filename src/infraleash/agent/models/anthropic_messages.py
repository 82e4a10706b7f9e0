"""Anthropic's Messages API with tool use, via the official ``anthropic`` SDK.

The wire format differs from chat completions in three ways this adapter hides:
the system prompt is a separate parameter; tool calls are ``tool_use`` content
blocks of the assistant turn; tool results are ``tool_result`` blocks of the
*next user* turn (consecutive tool results are merged into one user turn, as the
API requires alternating roles).  Streaming uses ``client.messages.stream``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from infraleash.agent.messages import Message, ModelResponse, ToolCall, ToolSpec, Usage
from infraleash.agent.models.base import ModelError, TextCallback, estimate_cost


def _import_anthropic() -> Any:
    try:
        import anthropic
    except ImportError:  # pragma: no cover - depends on the install
        raise ModelError("the Anthropic adapter needs the agent extra: pip install 'infraleash[agent]'") from None
    return anthropic


class AnthropicMessagesModel:
    """Messages API with tool use."""

    def __init__(self, model: str, *, api_key: str | None = None, base_url: str | None = None,
                 client: Any = None, max_tokens: int = 4096, timeout: float = 120.0,
                 max_retries: int = 2) -> None:
        self.name = model
        self.max_tokens = max_tokens
        if client is None:
            anthropic = _import_anthropic()
            client = anthropic.Anthropic(api_key=api_key, base_url=base_url, timeout=timeout,
                                         max_retries=max_retries)
        self.client = client

    # ----------------------------------------------------------------- wire format

    @staticmethod
    def to_wire(messages: Sequence[Message]) -> tuple[str, list[dict[str, Any]]]:
        system: list[str] = []
        out: list[dict[str, Any]] = []

        def add(role: str, blocks: list[dict[str, Any]]) -> None:
            if out and out[-1]["role"] == role:  # the API wants alternating roles: merge
                out[-1]["content"].extend(blocks)
            else:
                out.append({"role": role, "content": blocks})

        for m in messages:
            if m.role == "system":
                system.append(m.content)
            elif m.role == "tool":
                block: dict[str, Any] = {"type": "tool_result", "tool_use_id": m.tool_call_id,
                                         "content": m.content}
                if m.is_error:
                    block["is_error"] = True
                add("user", [block])
            elif m.role == "assistant":
                blocks: list[dict[str, Any]] = [{"type": "text", "text": m.content}] if m.content else []
                for c in m.tool_calls:
                    # a malformed call cannot be replayed as tool_use input; send it as an empty object,
                    # the tool_result that follows says what was wrong with it
                    blocks.append({"type": "tool_use", "id": c.id, "name": c.name,
                                   "input": c.arguments if c.parse_error is None else {}})
                add("assistant", blocks or [{"type": "text", "text": "(no text)"}])
            else:
                add("user", [{"type": "text", "text": m.content}])
        return "\n\n".join(system), out

    @staticmethod
    def tools_to_wire(tools: Sequence[ToolSpec]) -> list[dict[str, Any]]:
        return [{"name": t.name, "description": t.description, "input_schema": t.parameters} for t in tools]

    # ----------------------------------------------------------------- completion

    def complete(self, messages: Sequence[Message], tools: Sequence[ToolSpec], *, stream: bool = False,
                 on_text: TextCallback | None = None) -> ModelResponse:
        anthropic = _import_anthropic()
        system, wire = self.to_wire(messages)
        kwargs: dict[str, Any] = {"model": self.name, "messages": wire, "max_tokens": self.max_tokens}
        if system:
            kwargs["system"] = system
        if tools:
            kwargs["tools"] = self.tools_to_wire(tools)
        try:
            if stream:
                with self.client.messages.stream(**kwargs) as s:
                    for text in s.text_stream:
                        if on_text:
                            on_text(text)
                    final = s.get_final_message()
            else:
                final = self.client.messages.create(**kwargs)
        except anthropic.AnthropicError as e:
            raise ModelError(f"{self.name}: {type(e).__name__}: {e}") from None
        return self._response(final)

    def _response(self, msg: Any) -> ModelResponse:
        text: list[str] = []
        calls: list[ToolCall] = []
        for block in msg.content:
            if block.type == "text":
                text.append(block.text)
            elif block.type == "tool_use":
                if isinstance(block.input, dict):
                    calls.append(ToolCall(id=block.id, name=block.name, arguments=block.input,
                                          raw_arguments=json.dumps(block.input)))
                else:
                    calls.append(ToolCall.from_json(block.id, block.name, json.dumps(block.input)))
        usage = Usage(input_tokens=msg.usage.input_tokens or 0, output_tokens=msg.usage.output_tokens or 0)
        return ModelResponse(text="".join(text), tool_calls=calls, usage=usage,
                             cost_usd=estimate_cost(self.name, usage), model=self.name,
                             stop_reason=msg.stop_reason)
