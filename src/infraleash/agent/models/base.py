"""The one interface every model adapter implements, and cost estimates.

    class Model(Protocol):
        name: str
        def complete(self, messages, tools, *, stream=False, on_text=None) -> ModelResponse

``messages`` is the whole conversation (the first may be ``role="system"``),
``tools`` the tool specs the model may call.  With ``stream=True`` the adapter
uses the provider's streaming API and calls ``on_text`` with each text delta as
it arrives; the returned :class:`ModelResponse` is the same either way.

An adapter raises :class:`ModelError` when the provider cannot be reached or
answers with an error: that is not the model's mistake, so the loop stops.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

from infraleash.agent.messages import Message, ModelResponse, ToolSpec, Usage
from infraleash.errors import ExecutionError

TextCallback = Callable[[str], None]


@runtime_checkable
class Model(Protocol):
    name: str

    def complete(self, messages: Sequence[Message], tools: Sequence[ToolSpec], *, stream: bool = False,
                 on_text: TextCallback | None = None) -> ModelResponse: ...


class ModelError(ExecutionError):
    """The model provider failed (unreachable, auth, rate limit, malformed reply)."""


# USD per million tokens (input, output), list prices; matched by longest prefix of the model name.
# Unknown models (local servers, new names) get no estimate rather than a wrong one.
PRICES_PER_MTOK: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1": (2.00, 8.00),
    "gpt-5-mini": (0.25, 2.00),
    "gpt-5-nano": (0.05, 0.40),
    "gpt-5": (1.25, 10.00),
    "o4-mini": (1.10, 4.40),
    "o3": (2.00, 8.00),
    "claude-opus-4-5": (5.00, 25.00),
    "claude-opus-4-6": (5.00, 25.00),
    "claude-opus-4": (15.00, 75.00),
    "claude-sonnet-4": (3.00, 15.00),
    "claude-haiku-4": (1.00, 5.00),
    "claude-3-7-sonnet": (3.00, 15.00),
    "claude-3-5-sonnet": (3.00, 15.00),
    "claude-3-5-haiku": (0.80, 4.00),
}


def estimate_cost(model: str, usage: Usage) -> float | None:
    """Estimated USD cost of ``usage`` on ``model``, or None when its price is unknown."""
    name = model.lower().rsplit("/", 1)[-1]
    best = max((p for p in PRICES_PER_MTOK if name.startswith(p)), key=len, default=None)
    if best is None:
        return None
    price_in, price_out = PRICES_PER_MTOK[best]
    return (usage.input_tokens * price_in + usage.output_tokens * price_out) / 1_000_000
