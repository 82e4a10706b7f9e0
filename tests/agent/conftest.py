"""Agent tests never reach a real model API: any connection to a non-loopback host fails the test.

tests/conftest.py already drops API keys; this guard also catches a test that
configures a real endpoint by mistake (a key in a policy file, a base URL).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from typing import Any

import pytest


def _is_loopback(address: Any) -> bool:
    if isinstance(address, tuple) and address:
        host = str(address[0])
    else:  # AF_UNIX paths are local by definition
        return True
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def _only_loopback_connections(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    blocked: list[str] = []
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def connect(self: socket.socket, address: Any) -> None:
        if not _is_loopback(address):
            blocked.append(repr(address))
            raise ConnectionRefusedError(f"test guard: no connections to non-loopback {address!r}")
        real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        if not _is_loopback(address):
            blocked.append(repr(address))
            return 111  # ECONNREFUSED
        return real_connect_ex(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    yield blocked
    if blocked:
        pytest.fail(f"a test tried to reach a non-loopback host (real model calls are forbidden): {blocked}")
