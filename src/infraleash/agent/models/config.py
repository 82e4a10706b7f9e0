"""Which model the agent talks to: ``--model``, then environment variables, then infraleash.yaml.

Environment variables (each overrides the policy file's ``model:`` section):

    INFRALEASH_MODEL_PROVIDER   openai | anthropic | litellm | ollama | scripted
    INFRALEASH_MODEL            the model name (gpt-4.1, claude-sonnet-4-6, llama3.1, ...)
                                or, for ``scripted``, the path of a script file
    INFRALEASH_BASE_URL         an OpenAI-compatible server (vLLM, llama.cpp, Ollama, LM Studio,
                                Azure OpenAI's /openai/v1/) or an Anthropic-compatible proxy
    OPENAI_API_KEY / AZURE_OPENAI_API_KEY / ANTHROPIC_API_KEY
                                the key (``model.api_key_env`` in the policy names another variable)

``litellm:MODEL`` reaches Bedrock, Vertex AI, Azure OpenAI and the rest through LiteLLM (the
``litellm`` extra), with LiteLLM's own credentials; ``ollama:NAME`` is the OpenAI-compatible endpoint
of a local Ollama on its default port (``http://localhost:11434/v1`` unless INFRALEASH_BASE_URL says
otherwise).  A local server on a loopback address needs no key.  With nothing configured,
:func:`resolve_model_config` raises :class:`ModelNotConfigured`, whose message
says exactly what to set.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, cast
from urllib.parse import urlparse

from infraleash.agent.models.base import Model
from infraleash.errors import UsageError
from infraleash.policy import ModelPolicy

Provider = Literal["openai", "anthropic", "litellm", "ollama", "scripted"]
PROVIDERS: tuple[Provider, ...] = ("openai", "anthropic", "litellm", "ollama", "scripted")
OLLAMA_BASE_URL = "http://localhost:11434/v1"

HOW_TO_CONFIGURE = """\
no model configured for the agent. Set one of:
  export INFRALEASH_MODEL_PROVIDER=openai INFRALEASH_MODEL=gpt-4.1 OPENAI_API_KEY=...
  export INFRALEASH_MODEL_PROVIDER=anthropic INFRALEASH_MODEL=claude-sonnet-4-6 ANTHROPIC_API_KEY=...
  export INFRALEASH_MODEL_PROVIDER=openai INFRALEASH_MODEL=llama3.1 INFRALEASH_BASE_URL=http://localhost:8000/v1
      (any OpenAI-compatible server: vLLM, llama.cpp, LM Studio, Azure OpenAI's /openai/v1/)
  --model ollama:llama3.1      (a local Ollama on its default port)
  --model litellm:bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0   (Bedrock, Vertex AI, Azure via LiteLLM)
or a `model:` section in infraleash.yaml (provider, name, base_url, api_key_env),
or `--model PROVIDER:NAME` (e.g. --model scripted:demo-script.yaml for a dry run without a model)."""


class ModelNotConfigured(UsageError):
    """No provider/model could be resolved; the message is :data:`HOW_TO_CONFIGURE`."""

    def __init__(self) -> None:
        super().__init__(HOW_TO_CONFIGURE)


@dataclass(frozen=True)
class ModelConfig:
    provider: Provider
    name: str
    base_url: str | None = None
    api_key: str | None = None
    source: str = ""  # where the provider came from: --model, environment, infraleash.yaml

    def describe(self) -> str:
        where = f" at {self.base_url}" if self.base_url else ""
        return f"{self.provider}:{self.name}{where} (from {self.source})"


_KEY_VARS: dict[str, tuple[str, ...]] = {
    "openai": ("OPENAI_API_KEY", "AZURE_OPENAI_API_KEY"),
    "anthropic": ("ANTHROPIC_API_KEY",),
}


def is_loopback(url: str | None) -> bool:
    host = urlparse(url).hostname if url else None
    return host in {"localhost", "127.0.0.1", "::1"} or bool(host and host.startswith("127."))


def parse_model_option(value: str) -> tuple[Provider, str]:
    """``--model openai:gpt-4.1`` -> ("openai", "gpt-4.1")."""
    provider, sep, name = value.partition(":")
    if not sep or provider not in PROVIDERS or not name:
        raise UsageError(f"--model {value!r}: expected PROVIDER:NAME with PROVIDER one of {', '.join(PROVIDERS)}")
    return cast(Provider, provider), name


def resolve_model_config(policy: ModelPolicy | None = None, *, option: str | None = None,
                         env: Mapping[str, str] | None = None) -> ModelConfig:
    """Merge ``--model``, the environment and the policy, in that order of precedence."""
    env = os.environ if env is None else env
    policy = policy or ModelPolicy()
    provider: str | None
    if option:
        provider, name = parse_model_option(option)
        source = "--model"
    elif env.get("INFRALEASH_MODEL_PROVIDER"):
        provider, name, source = env["INFRALEASH_MODEL_PROVIDER"], env.get("INFRALEASH_MODEL", ""), "environment"
    elif policy.provider:
        provider, name, source = policy.provider, env.get("INFRALEASH_MODEL") or policy.name or "", "infraleash.yaml"
    else:
        raise ModelNotConfigured()
    if provider not in PROVIDERS:
        raise UsageError(f"INFRALEASH_MODEL_PROVIDER={provider!r}: expected one of {', '.join(PROVIDERS)}")
    if not name:
        var = "a script file" if provider == "scripted" else "a model name"
        raise UsageError(f"model provider {provider} is set ({source}) but no model: set INFRALEASH_MODEL to {var}")
    base_url = env.get("INFRALEASH_BASE_URL") or policy.base_url
    if provider == "ollama" and not base_url:
        base_url = OLLAMA_BASE_URL
    api_key: str | None = None
    if provider == "ollama":
        api_key = "not-needed"  # Ollama ignores it, the SDK insists on one
    elif provider == "litellm":
        api_key = env.get(policy.api_key_env) if policy.api_key_env else None  # else LiteLLM's own variables
    elif provider in _KEY_VARS:
        names = (policy.api_key_env,) if policy.api_key_env else _KEY_VARS[provider]
        api_key = next((env[v] for v in names if v and env.get(v)), None)
        if api_key is None:
            if not is_loopback(base_url):
                raise UsageError(f"model {provider}:{name} needs an API key: set {' or '.join(n for n in names if n)}"
                                 " (a local server on a loopback INFRALEASH_BASE_URL needs none)")
            api_key = "not-needed"  # local servers ignore it, the SDKs insist on one
    return ModelConfig(provider=cast(Provider, provider), name=name, base_url=base_url, api_key=api_key,
                       source=source)


def build_model(config: ModelConfig) -> Model:
    """The adapter for ``config`` (vendor SDKs are imported here, not at module load)."""
    if config.provider in ("openai", "ollama"):
        from infraleash.agent.models.openai_chat import OpenAIChatModel
        return OpenAIChatModel(config.name, api_key=config.api_key, base_url=config.base_url)
    if config.provider == "litellm":
        from infraleash.agent.models.litellm_chat import LiteLLMChatModel
        return LiteLLMChatModel(config.name, api_key=config.api_key, base_url=config.base_url)
    if config.provider == "anthropic":
        from infraleash.agent.models.anthropic_messages import AnthropicMessagesModel
        return AnthropicMessagesModel(config.name, api_key=config.api_key, base_url=config.base_url)
    from infraleash.agent.models.scripted import ScriptedModel
    return ScriptedModel.from_file(config.name)
