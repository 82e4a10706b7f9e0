"""The agent tests' network guard: a model call to a real (non-loopback) host is caught, never made."""

from __future__ import annotations

import pytest

from infraleash.agent.messages import Message
from infraleash.agent.models.base import ModelError
from infraleash.agent.models.openai_chat import OpenAIChatModel

from .conftest import _is_loopback


def test_loopback_is_allowed_and_everything_else_is_not() -> None:
    assert _is_loopback(("127.0.0.1", 8080)) and _is_loopback(("::1", 80, 0, 0)) and _is_loopback(("localhost", 1))
    assert not _is_loopback(("93.184.216.34", 443)) and not _is_loopback(("api.openai.com", 443))


def test_a_real_endpoint_is_blocked_and_recorded(_only_loopback_connections: list[str]) -> None:
    model = OpenAIChatModel("gpt-4o", api_key="sk-test", base_url="http://192.0.2.10/v1", max_retries=0, timeout=5)
    with pytest.raises(ModelError):
        model.complete([Message(role="user", content="hi")], [])
    assert _only_loopback_connections and "192.0.2.10" in _only_loopback_connections[0]
    _only_loopback_connections.clear()  # seen and asserted: do not fail this test at teardown
