"""The scripted model: replays turns, records what it saw, fails loudly when the script runs out."""

from __future__ import annotations

import pytest

from infraleash.agent.messages import Message
from infraleash.agent.models.scripted import ScriptedModel, ScriptExhausted, Turn, call, raw_call
from infraleash.errors import InputError


def test_replays_turns_and_records_conversations() -> None:
    model = ScriptedModel([Turn(tool_calls=[call("read_file", path="a.tf")]), Turn(text="done")])
    first = model.complete([Message(role="user", content="go")], [])
    assert first.tool_calls[0].name == "read_file" and first.tool_calls[0].arguments == {"path": "a.tf"}
    assert model.complete([Message(role="user", content="go"), first.as_message()], []).text == "done"
    assert [len(c) for c in model.seen] == [1, 2]
    with pytest.raises(ScriptExhausted, match="no turn 3"):
        model.complete([], [])


def test_a_function_of_the_conversation() -> None:
    model = ScriptedModel(lambda msgs: Turn(text=f"{len(msgs)}:{msgs[-1].content}"))
    deltas: list[str] = []
    resp = model.complete([Message(role="user", content="a"), Message(role="user", content="b")], [],
                          stream=True, on_text=deltas.append)
    assert resp.text == "2:b" and deltas == ["2:b"]


def test_raw_call_keeps_malformed_json_as_a_parse_error() -> None:
    tc = raw_call("write_file", '{"path": ')
    assert tc.parse_error and tc.arguments == {}
    assert raw_call("write_file", "[1, 2]").parse_error == "arguments must be a JSON object, got list"


def test_bad_script_file_names_the_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "s.yaml"
    bad.write_text("text: not a list\n")
    with pytest.raises(InputError, match="s.yaml: a model script is a list"):
        ScriptedModel.from_file(bad)
    bad.write_text("- [unclosed\n")
    with pytest.raises(InputError, match=r"s.yaml:\d+: invalid YAML"):
        ScriptedModel.from_file(bad)
