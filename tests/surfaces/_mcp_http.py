"""``infraleash mcp --transport http`` as a real process on a free loopback port, and the SDK's HTTP transport
with a bearer token."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2
from mcp.client.streamable_http import streamable_http_client


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def mcp_http(ws: Path, env: dict[str, str], *args: str) -> Iterator[str]:
    """The server's /mcp URL while it runs; stopped by its PID afterwards."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "infraleash", "mcp", "--transport", "http", "--port", str(port),
                             "--dir", str(ws), *args], env={**os.environ, **env}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"mcp server exited: {proc.stderr.read().decode() if proc.stderr else ''}")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert time.monotonic() < deadline, "mcp server did not listen within 30 s"
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def with_token(url: str, token: str) -> Any:
    """A transport for ``mcp.Client``: streamable HTTP sending ``Authorization: Bearer TOKEN``."""
    client = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=httpx2.Timeout(30, read=300))
    return streamable_http_client(url, http_client=client)
