"""Bedrock, Vertex AI, Azure OpenAI and the other back-ends LiteLLM reaches, through the ``litellm`` SDK.

    --model litellm:bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0
    --model litellm:vertex_ai/gemini-1.5-pro
    --model litellm:azure/my-deployment

LiteLLM answers in OpenAI's chat-completions shape (``choices[0].message.tool_calls``, streamed deltas,
``usage``), so this adapter is :class:`~infraleash.agent.models.openai_chat.OpenAIChatModel` with
``litellm.completion`` in place of the OpenAI client: one wire format, one parser.  Credentials are
LiteLLM's own (``AWS_*`` for Bedrock, ``GOOGLE_APPLICATION_CREDENTIALS`` / ``VERTEXAI_*`` for Vertex,
``AZURE_API_KEY`` / ``AZURE_API_BASE`` for Azure); ``INFRALEASH_BASE_URL`` becomes ``api_base``.
Every failure of LiteLLM or the provider is a :class:`ModelError` naming the model.
"""

from __future__ import annotations

import os
from typing import Any

from infraleash.agent.models.base import ModelError
from infraleash.agent.models.openai_chat import OpenAIChatModel


def _import_litellm() -> Any:
    # LiteLLM fetches its price table from GitHub at import unless told to use the copy it ships: no call
    # home from a runner (and no 10 s of retries on a machine without that network)
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    try:
        import litellm
    except ImportError:  # pragma: no cover - depends on the install
        raise ModelError("the litellm back-end needs its extra: pip install 'infraleash[litellm]'") from None
    return litellm


class _Completions:
    """``client.chat.completions.create(**kwargs)`` answered by ``litellm.completion``."""

    def __init__(self, model: str, api_base: str | None, api_key: str | None, timeout: float,
                 max_retries: int) -> None:
        self._litellm = _import_litellm()
        self._model = model
        self._extra: dict[str, Any] = {"timeout": timeout, "num_retries": max_retries}
        if api_base:
            self._extra["api_base"] = api_base
        if api_key:
            self._extra["api_key"] = api_key

    def create(self, **kwargs: Any) -> Any:
        try:
            return self._litellm.completion(**kwargs, **self._extra)
        except Exception as e:  # litellm maps every provider's errors onto its own exception types
            raise ModelError(f"litellm:{self._model}: {type(e).__name__}: {str(e)[:500]}") from None


class _Client:
    def __init__(self, completions: _Completions) -> None:
        self.chat = type("_Chat", (), {"completions": completions})()


class LiteLLMChatModel(OpenAIChatModel):
    """Chat completions with tool calling through LiteLLM (model names as LiteLLM spells them)."""

    def __init__(self, model: str, *, api_key: str | None = None, base_url: str | None = None,
                 max_tokens: int | None = None, timeout: float = 120.0, max_retries: int = 2) -> None:
        client = _Client(_Completions(model, base_url, api_key, timeout, max_retries))
        super().__init__(model, client=client, max_tokens=max_tokens)
