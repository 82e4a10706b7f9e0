"""The LiteLLM back-end (Bedrock, Vertex AI, Azure ... for teams), driven through the real ``litellm`` SDK
against a local server speaking the OpenAI chat-completions protocol (LiteLLM's ``openai/`` route)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from infraleash.agent.messages import Message, ToolCall, ToolSpec
from infraleash.agent.models.base import ModelError
from infraleash.agent.models.config import build_model, resolve_model_config
from infraleash.agent.models.litellm_chat import LiteLLMChatModel

from .wire_servers import OpenAIServer


@pytest.fixture(scope="module", autouse=True)
def _stop_litellms_logging_thread() -> Iterator[None]:
    """A litellm call leaves its logging thread pool running; the check engine (rightly) refuses to fork
    worker processes while other threads run, so later tests in this process would check with one worker."""
    yield
    from litellm.litellm_core_utils.thread_pool_executor import executor

    executor.shutdown(wait=True)


TOOLS = [ToolSpec(name="read_file", description="Read a file in the workspace.",
                  parameters={"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]})]


def _model(server: OpenAIServer) -> LiteLLMChatModel:
    return LiteLLMChatModel("openai/gpt-4o", api_key="sk-test", base_url=f"{server.url}/v1", max_retries=0,
                            timeout=10)


def test_a_tool_call_and_the_answer_go_through_litellm() -> None:
    replies = [{"tool_calls": [("call_a", "read_file", '{"path": "main.tf"}')]}, {"text": "It defines a bucket."}]
    with OpenAIServer(replies) as server:
        model = _model(server)
        history = [Message(role="user", content="what is in main.tf?")]
        first = model.complete(history, TOOLS)
        assert first.tool_calls == [ToolCall(id="call_a", name="read_file", arguments={"path": "main.tf"},
                                             raw_arguments='{"path": "main.tf"}')]
        history += [first.as_message(), Message(role="tool", tool_call_id="call_a", name="read_file",
                                                content='resource "aws_s3_bucket" "b" {}')]
        second = model.complete(history, TOOLS)
    assert second.text == "It defines a bucket."
    sent = server.requests[0]
    assert sent["model"] == "gpt-4o" and sent["tools"][0]["function"]["name"] == "read_file"
    assert server.headers[0]["authorization"] == "Bearer sk-test"
    assert server.requests[1]["messages"][-1] == {"role": "tool", "tool_call_id": "call_a",
                                                  "content": 'resource "aws_s3_bucket" "b" {}'}


def test_streaming_through_litellm() -> None:
    with OpenAIServer([{"text": "Plan looks safe.", "in": 20, "out": 5}]) as server:
        seen: list[str] = []
        resp = _model(server).complete([Message(role="user", content="hi")], TOOLS, stream=True, on_text=seen.append)
    assert resp.text == "Plan looks safe." and "".join(seen) == "Plan looks safe."


def test_a_provider_error_is_a_model_error_naming_the_model() -> None:
    with OpenAIServer([{"status": 500, "text": "boom"}]) as server, pytest.raises(ModelError, match="litellm:openai/gpt-4o"):
        _model(server).complete([Message(role="user", content="hi")], TOOLS)


def test_model_option_selects_the_litellm_back_end_and_ollama_its_default_port() -> None:
    cfg = resolve_model_config(option="litellm:bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0", env={})
    assert (cfg.provider, cfg.name, cfg.api_key) == ("litellm", "bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0",
                                                     None)
    assert isinstance(build_model(cfg), LiteLLMChatModel)
    cfg = resolve_model_config(option="ollama:llama3.1", env={})
    assert (cfg.provider, cfg.base_url, cfg.api_key) == ("ollama", "http://localhost:11434/v1", "not-needed")
    cfg = resolve_model_config(option="ollama:llama3.1", env={"INFRALEASH_BASE_URL": "http://127.0.0.1:9/v1"})
    assert cfg.base_url == "http://127.0.0.1:9/v1"
