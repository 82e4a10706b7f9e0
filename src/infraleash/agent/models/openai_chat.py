"""Any OpenAI-compatible chat-completions endpoint with tool calling, via the official SDK.

Works with OpenAI, Azure OpenAI (its ``/openai/v1/`` endpoint as ``base_url``),
vLLM, llama.cpp's server, Ollama (``http://localhost:11434/v1``) and LM Studio
(``http://localhost:1234/v1``): they all speak ``POST /chat/completions`` with
``tools`` and ``tool_calls``.  Streaming uses server-sent events and asks for the
usage chunk (``stream_options.include_usage``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from infraleash.agent.messages import Message, ModelResponse, ToolCall, ToolSpec, Usage
from infraleash.agent.models.base import ModelError, TextCallback, estimate_cost


def _import_openai() -> Any:
    try:
        import openai
    except ImportError:  # pragma: no cover - depends on the install
        raise ModelError("the OpenAI adapter needs the agent extra: pip install 'infraleash[agent]'") from None
    return openai


class OpenAIChatModel:
    """Chat completions with tool calling."""

    def __init__(self, model: str, *, api_key: str | None = None, base_url: str | None = None,
                 client: Any = None, max_tokens: int | None = None, timeout: float = 120.0,
                 max_retries: int = 2) -> None:
        self.name = model
        self.max_tokens = max_tokens
        if client is None:
            openai = _import_openai()
            client = openai.OpenAI(api_key=api_key, base_url=base_url, timeout=timeout, max_retries=max_retries)
        self.client = client

    # ----------------------------------------------------------------- wire format

    @staticmethod
    def to_wire(messages: Sequence[Message]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for m in messages:
            if m.role == "tool":
                out.append({"role": "tool", "tool_call_id": m.tool_call_id, "content": m.content})
            elif m.role == "assistant" and m.tool_calls:
                out.append({"role": "assistant", "content": m.content or None, "tool_calls": [
                    {"id": c.id, "type": "function",
                     "function": {"name": c.name, "arguments": c.arguments_json()}} for c in m.tool_calls]})
            else:
                out.append({"role": m.role, "content": m.content})
        return out

    @staticmethod
    def tools_to_wire(tools: Sequence[ToolSpec]) -> list[dict[str, Any]]:
        return [{"type": "function", "function": {"name": t.name, "description": t.description,
                                                  "parameters": t.parameters}} for t in tools]

    # ----------------------------------------------------------------- completion

    def complete(self, messages: Sequence[Message], tools: Sequence[ToolSpec], *, stream: bool = False,
                 on_text: TextCallback | None = None) -> ModelResponse:
        openai = _import_openai()
        kwargs: dict[str, Any] = {"model": self.name, "messages": self.to_wire(messages)}
        if tools:
            kwargs["tools"] = self.tools_to_wire(tools)
        if self.max_tokens:
            kwargs["max_tokens"] = self.max_tokens
        try:
            if stream:
                return self._stream(kwargs, on_text)
            resp = self.client.chat.completions.create(**kwargs)
        except openai.OpenAIError as e:
            raise ModelError(f"{self.name}: {type(e).__name__}: {e}") from None
        if not resp.choices:
            raise ModelError(f"{self.name}: the endpoint returned no choices")
        choice = resp.choices[0]
        msg = choice.message
        calls = [ToolCall.from_json(c.id, c.function.name, c.function.arguments) for c in (msg.tool_calls or [])]
        usage = Usage(input_tokens=resp.usage.prompt_tokens if resp.usage else 0,
                      output_tokens=resp.usage.completion_tokens if resp.usage else 0)
        return self._response(msg.content or "", calls, usage, choice.finish_reason)

    def _stream(self, kwargs: dict[str, Any], on_text: TextCallback | None) -> ModelResponse:
        text: list[str] = []
        partial: dict[int, dict[str, str]] = {}
        usage = Usage()
        finish: str | None = None
        chunks = self.client.chat.completions.create(**kwargs, stream=True,
                                                     stream_options={"include_usage": True})
        for chunk in chunks:
            chunk_usage = getattr(chunk, "usage", None)  # LiteLLM's stream chunks may have no such attribute
            if chunk_usage is not None:
                usage = Usage(input_tokens=chunk_usage.prompt_tokens, output_tokens=chunk_usage.completion_tokens)
            for choice in chunk.choices:
                delta = choice.delta
                if delta.content:
                    text.append(delta.content)
                    if on_text:
                        on_text(delta.content)
                for tc in delta.tool_calls or []:
                    slot = partial.setdefault(tc.index, {"id": "", "name": "", "arguments": ""})
                    if tc.id:
                        slot["id"] = tc.id
                    if tc.function and tc.function.name:
                        slot["name"] += tc.function.name
                    if tc.function and tc.function.arguments:
                        slot["arguments"] += tc.function.arguments
                if choice.finish_reason:
                    finish = choice.finish_reason
        calls = [ToolCall.from_json(s["id"] or f"call_{i}", s["name"], s["arguments"])
                 for i, s in sorted(partial.items())]
        return self._response("".join(text), calls, usage, finish)

    def _response(self, text: str, calls: list[ToolCall], usage: Usage, finish: str | None) -> ModelResponse:
        return ModelResponse(text=text, tool_calls=calls, usage=usage, cost_usd=estimate_cost(self.name, usage),
                             model=self.name, stop_reason=finish)
