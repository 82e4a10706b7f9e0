"""The OpenAI adapter, driven through the real ``openai`` SDK against a local chat-completions server."""

from __future__ import annotations

import pytest

from infraleash.agent.messages import Message, ToolCall, ToolSpec
from infraleash.agent.models.base import ModelError
from infraleash.agent.models.openai_chat import OpenAIChatModel

from .wire_servers import OpenAIServer

TOOLS = [ToolSpec(name="read_file", description="Read a file in the workspace.",
                  parameters={"type": "object", "properties": {"path": {"type": "string"}},
                              "required": ["path"]})]


def _model(server: OpenAIServer, name: str = "gpt-4o") -> OpenAIChatModel:
    return OpenAIChatModel(name, api_key="sk-test", base_url=f"{server.url}/v1", max_retries=0, timeout=10)


def test_plain_reply_with_usage_and_cost() -> None:
    with OpenAIServer([{"text": "All good.", "in": 1000, "out": 100}]) as server:
        resp = _model(server).complete([Message(role="system", content="be careful"),
                                        Message(role="user", content="hi")], TOOLS)
    assert resp.text == "All good."
    assert resp.tool_calls == []
    assert (resp.usage.input_tokens, resp.usage.output_tokens) == (1000, 100)
    assert resp.cost_usd == pytest.approx((1000 * 2.5 + 100 * 10) / 1e6)
    sent = server.requests[0]
    assert sent["messages"] == [{"role": "system", "content": "be careful"}, {"role": "user", "content": "hi"}]
    assert sent["tools"][0]["function"]["name"] == "read_file"
    assert sent["tools"][0]["function"]["parameters"]["required"] == ["path"]
    assert server.headers[0]["authorization"] == "Bearer sk-test"


def test_tool_call_round_trip() -> None:
    replies = [{"tool_calls": [("call_a", "read_file", '{"path": "main.tf"}')]}, {"text": "It defines a bucket."}]
    with OpenAIServer(replies) as server:
        model = _model(server)
        history = [Message(role="user", content="what is in main.tf?")]
        first = model.complete(history, TOOLS)
        assert first.tool_calls == [ToolCall(id="call_a", name="read_file", arguments={"path": "main.tf"},
                                             raw_arguments='{"path": "main.tf"}')]
        assert first.stop_reason == "tool_calls"
        history += [first.as_message(), Message(role="tool", tool_call_id="call_a", name="read_file",
                                                content='resource "aws_s3_bucket" "b" {}')]
        second = model.complete(history, TOOLS)
    assert second.text == "It defines a bucket."
    replayed = server.requests[1]["messages"]
    assert replayed[1]["tool_calls"][0]["id"] == "call_a"
    assert replayed[1]["tool_calls"][0]["function"] == {"name": "read_file", "arguments": '{"path": "main.tf"}'}
    assert replayed[2] == {"role": "tool", "tool_call_id": "call_a", "content": 'resource "aws_s3_bucket" "b" {}'}


def test_malformed_tool_arguments_become_a_parse_error_not_an_exception() -> None:
    with OpenAIServer([{"tool_calls": [("call_b", "read_file", '{"path": "main.tf"')]}]) as server:
        resp = _model(server).complete([Message(role="user", content="x")], TOOLS)
    [tc] = resp.tool_calls
    assert tc.parse_error is not None and "not valid JSON" in tc.parse_error
    assert tc.raw_arguments == '{"path": "main.tf"'


def test_streaming_text_and_tool_calls_match_the_non_streaming_reply() -> None:
    reply = {"text": "Reading the file now.", "tool_calls": [("call_c", "read_file", '{"path": "vars.tf"}'),
                                                              ("call_d", "read_file", '{"path": "out.tf"}')],
             "in": 40, "out": 9}
    with OpenAIServer([reply, reply]) as server:
        model = _model(server, "llama3.1")
        deltas: list[str] = []
        streamed = model.complete([Message(role="user", content="x")], TOOLS, stream=True, on_text=deltas.append)
        plain = model.complete([Message(role="user", content="x")], TOOLS)
    assert server.requests[0]["stream"] is True
    assert server.requests[0]["stream_options"] == {"include_usage": True}
    assert len(deltas) > 1 and "".join(deltas) == "Reading the file now."
    assert streamed.text == plain.text
    assert [(c.id, c.name, c.arguments) for c in streamed.tool_calls] == \
        [(c.id, c.name, c.arguments) for c in plain.tool_calls] == \
        [("call_c", "read_file", {"path": "vars.tf"}), ("call_d", "read_file", {"path": "out.tf"})]
    assert streamed.usage == plain.usage
    assert streamed.cost_usd is None  # a local model's price is unknown, not guessed


def test_server_error_is_a_model_error() -> None:
    with OpenAIServer([{"status": 500}]) as server, pytest.raises(ModelError, match="gpt-4o: InternalServerError"):
        _model(server).complete([Message(role="user", content="x")], TOOLS)
