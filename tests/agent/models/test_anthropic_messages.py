"""The Anthropic adapter, driven through the real ``anthropic`` SDK against a local Messages server."""

from __future__ import annotations

import pytest

from infraleash.agent.messages import Message, ToolCall, ToolSpec
from infraleash.agent.models.anthropic_messages import AnthropicMessagesModel
from infraleash.agent.models.base import ModelError

from .wire_servers import AnthropicServer

TOOLS = [ToolSpec(name="read_file", description="Read a file in the workspace.",
                  parameters={"type": "object", "properties": {"path": {"type": "string"}},
                              "required": ["path"]})]


def _model(server: AnthropicServer, name: str = "claude-sonnet-4-6") -> AnthropicMessagesModel:
    return AnthropicMessagesModel(name, api_key="sk-ant-test", base_url=server.url, max_retries=0, timeout=10)


def test_plain_reply_system_apart_usage_and_cost() -> None:
    with AnthropicServer([{"text": "All good.", "in": 2000, "out": 100}]) as server:
        resp = _model(server).complete([Message(role="system", content="be careful"),
                                        Message(role="user", content="hi")], TOOLS)
    assert resp.text == "All good."
    assert resp.stop_reason == "end_turn"
    assert resp.cost_usd == pytest.approx((2000 * 3 + 100 * 15) / 1e6)
    sent = server.requests[0]
    assert sent["system"] == "be careful"
    assert sent["messages"] == [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]
    assert sent["tools"] == [{"name": "read_file", "description": "Read a file in the workspace.",
                              "input_schema": TOOLS[0].parameters}]
    sent_key = server.headers[0].get("x-api-key") or server.headers[0].get("authorization", "")
    assert sent_key.endswith("sk-ant-test")


def test_tool_use_round_trip_merges_tool_results_into_one_user_turn() -> None:
    replies = [{"text": "Let me look.", "tool_calls": [("toolu_1", "read_file", '{"path": "a.tf"}'),
                                                       ("toolu_2", "read_file", '{"path": "b.tf"}')]},
               {"text": "Two buckets."}]
    with AnthropicServer(replies) as server:
        model = _model(server)
        history = [Message(role="user", content="what is here?")]
        first = model.complete(history, TOOLS)
        assert first.text == "Let me look."
        assert [(c.id, c.arguments) for c in first.tool_calls] == [("toolu_1", {"path": "a.tf"}),
                                                                    ("toolu_2", {"path": "b.tf"})]
        history += [first.as_message(),
                    Message(role="tool", tool_call_id="toolu_1", name="read_file", content="bucket a"),
                    Message(role="tool", tool_call_id="toolu_2", name="read_file", content="denied: [R1] no",
                            is_error=True)]
        second = model.complete(history, TOOLS)
    assert second.text == "Two buckets."
    wire = server.requests[1]["messages"]
    assert [m["role"] for m in wire] == ["user", "assistant", "user"]
    assert wire[1]["content"] == [{"type": "text", "text": "Let me look."},
                                  {"type": "tool_use", "id": "toolu_1", "name": "read_file", "input": {"path": "a.tf"}},
                                  {"type": "tool_use", "id": "toolu_2", "name": "read_file", "input": {"path": "b.tf"}}]
    assert wire[2]["content"] == [
        {"type": "tool_result", "tool_use_id": "toolu_1", "content": "bucket a"},
        {"type": "tool_result", "tool_use_id": "toolu_2", "content": "denied: [R1] no", "is_error": True}]


def test_streaming_events_give_the_same_response() -> None:
    reply = {"text": "Checking the plan first.", "tool_calls": [("toolu_9", "read_file", '{"path": "main.tf"}')],
             "in": 21, "out": 17}
    with AnthropicServer([reply, reply]) as server:
        model = _model(server)
        deltas: list[str] = []
        streamed = model.complete([Message(role="user", content="x")], TOOLS, stream=True, on_text=deltas.append)
        plain = model.complete([Message(role="user", content="x")], TOOLS)
    assert server.requests[0]["stream"] is True
    assert len(deltas) > 1 and "".join(deltas) == "Checking the plan first."
    assert streamed.text == plain.text == "Checking the plan first."
    assert streamed.tool_calls == plain.tool_calls
    assert streamed.tool_calls[0] == ToolCall(id="toolu_9", name="read_file", arguments={"path": "main.tf"},
                                              raw_arguments='{"path": "main.tf"}')
    assert streamed.usage == plain.usage
    assert (streamed.usage.input_tokens, streamed.usage.output_tokens) == (21, 17)
    assert streamed.stop_reason == "tool_use"


def test_server_error_is_a_model_error() -> None:
    with AnthropicServer([{"status": 529}]) as server, pytest.raises(ModelError, match="claude-sonnet-4-6"):
        _model(server).complete([Message(role="user", content="x")], TOOLS)
