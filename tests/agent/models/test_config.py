"""Model configuration: --model, environment, infraleash.yaml, and the "nothing configured" message."""

from __future__ import annotations

import pytest

from infraleash.agent.models.config import (
    HOW_TO_CONFIGURE,
    ModelNotConfigured,
    build_model,
    resolve_model_config,
)
from infraleash.agent.models.openai_chat import OpenAIChatModel
from infraleash.agent.models.scripted import ScriptedModel
from infraleash.errors import ExitCode, UsageError
from infraleash.policy import ModelPolicy


def test_nothing_configured_says_exactly_what_to_set() -> None:
    with pytest.raises(ModelNotConfigured) as e:
        resolve_model_config(ModelPolicy(), env={})
    assert e.value.exit_code == ExitCode.USAGE
    for var in ("INFRALEASH_MODEL_PROVIDER", "INFRALEASH_MODEL", "INFRALEASH_BASE_URL", "OPENAI_API_KEY",
                "ANTHROPIC_API_KEY", "--model"):
        assert var in str(e.value) and var in HOW_TO_CONFIGURE


def test_environment_overrides_policy_and_option_overrides_both() -> None:
    policy = ModelPolicy(provider="anthropic", name="claude-haiku-4-5")
    env = {"INFRALEASH_MODEL_PROVIDER": "openai", "INFRALEASH_MODEL": "gpt-4.1", "OPENAI_API_KEY": "k1",
           "ANTHROPIC_API_KEY": "k2"}
    assert resolve_model_config(policy, env={"ANTHROPIC_API_KEY": "k2"}).name == "claude-haiku-4-5"
    cfg = resolve_model_config(policy, env=env)
    assert (cfg.provider, cfg.name, cfg.api_key, cfg.source) == ("openai", "gpt-4.1", "k1", "environment")
    cfg = resolve_model_config(policy, env=env, option="anthropic:claude-sonnet-4-6")
    assert (cfg.provider, cfg.name, cfg.api_key, cfg.source) == ("anthropic", "claude-sonnet-4-6", "k2", "--model")


def test_missing_key_is_a_usage_error_except_for_a_loopback_server() -> None:
    with pytest.raises(UsageError, match="set OPENAI_API_KEY"):
        resolve_model_config(env={"INFRALEASH_MODEL_PROVIDER": "openai", "INFRALEASH_MODEL": "gpt-4.1"})
    cfg = resolve_model_config(env={"INFRALEASH_MODEL_PROVIDER": "openai", "INFRALEASH_MODEL": "llama3.1",
                                    "INFRALEASH_BASE_URL": "http://localhost:11434/v1"})
    assert cfg.api_key == "not-needed" and cfg.base_url == "http://localhost:11434/v1"
    assert isinstance(build_model(cfg), OpenAIChatModel)


def test_policy_names_its_own_key_variable() -> None:
    policy = ModelPolicy(provider="openai", name="gpt-4o", base_url="https://corp.openai.azure.com/openai/v1/",
                         api_key_env="CORP_AZURE_KEY")
    cfg = resolve_model_config(policy, env={"CORP_AZURE_KEY": "azk", "OPENAI_API_KEY": "not-this-one"})
    assert cfg.api_key == "azk" and cfg.source == "infraleash.yaml"


@pytest.mark.parametrize("option", ["gpt-4.1", "mistral:large", "openai:"])
def test_bad_model_option(option: str) -> None:
    with pytest.raises(UsageError, match="PROVIDER:NAME"):
        resolve_model_config(option=option, env={})


def test_unknown_provider_and_missing_name() -> None:
    with pytest.raises(UsageError, match="expected one of"):
        resolve_model_config(env={"INFRALEASH_MODEL_PROVIDER": "cohere", "INFRALEASH_MODEL": "x"})
    with pytest.raises(UsageError, match="set INFRALEASH_MODEL"):
        resolve_model_config(env={"INFRALEASH_MODEL_PROVIDER": "anthropic", "ANTHROPIC_API_KEY": "k"})


def test_scripted_model_from_a_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    script = tmp_path / "script.yaml"
    script.write_text("- tool_calls: [{name: read_file, arguments: {path: main.tf}}]\n- text: done\n")
    model = build_model(resolve_model_config(option=f"scripted:{script}", env={}))
    assert isinstance(model, ScriptedModel) and model.remaining == 2
