"""`infraleash mcp --transport http` needs a bearer token, over real HTTP: with a policy naming an approval
server (a real server process), its agent tokens; without one, a token file.  No token, a wrong one, a
revoked one: 401; an approver's token: 403; a good agent token: the official MCP SDK client works."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import pytest
from _cli import run_cli
from _mcp_http import mcp_http, with_token
from mcp import Client

from server.team import Team, start_team

INIT = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                   "clientInfo": {"name": "curl", "version": "1"}}}


def post(url: str, token: str | None) -> httpx.Response:
    headers = {"accept": "application/json, text/event-stream"}
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    return httpx.post(url, json=INIT, headers=headers, timeout=30)


async def read_via_sdk(transport: object) -> str:
    async with Client(transport, read_timeout_seconds=60) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        assert "read_file" in names
        result = await client.call_tool("read_file", {"path": "main.tf"})
        assert not result.is_error
        return "\n".join(c.text for c in result.content if getattr(c, "type", "") == "text")


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Team]:
    base = tmp_path_factory.mktemp("mcp-team")
    t = start_team(f"sqlite:///{base / 'server.db'}", base)
    yield t
    t.stop()


def workspace(path: Path, policy: str) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / "infraleash.yaml").write_text(policy)
    (path / "main.tf").write_text('resource "terraform_data" "x" {\n  input = "mcp-auth"\n}\n')
    return path


def test_server_tokens_guard_the_http_transport(team: Team, tmp_path: Path) -> None:
    ws = workspace(tmp_path / "ws", f"version: 1\napprovals:\n  server: {team.url}\n")
    agent = team.tokens["other-agent"]
    with mcp_http(ws, {"INFRALEASH_APPROVAL_TOKEN": team.tokens["ci-agent"]}) as url:
        assert post(url, None).status_code == 401
        assert post(url, None).headers["www-authenticate"] == "Bearer"
        assert post(url, "ilk_0123456789ab_" + "A" * 43).status_code == 401  # well-formed, unknown
        assert post(url, agent[:-1] + ("B" if agent[-1] != "B" else "C")).status_code == 401  # wrong secret
        assert post(url, team.tokens["revoked"]).status_code == 401
        assert post(url, team.tokens["alice"]).status_code == 403  # an approver's token is not an agent's
        assert "mcp-auth" in anyio.run(read_via_sdk, with_token(url, agent))
        token_id = agent.split("_")[1]
        assert team.api("root", "DELETE", f"/tokens/{token_id}").status_code == 200
        assert post(url, agent).status_code == 401  # revoked on the server: refused on the next request
        with pytest.raises(Exception):  # noqa: B017 - the SDK's own error type for the 401
            anyio.run(read_via_sdk, with_token(url, agent))


def test_token_file_without_a_server(tmp_path: Path) -> None:
    ws = workspace(tmp_path / "ws", "version: 1\n")
    tokens = tmp_path / "mcp-tokens"
    tokens.write_text(f"# CI\nsha256:{hashlib.sha256(b'tok-ci-1').hexdigest()}\ntok-laptop-2\n")
    with mcp_http(ws, {}, "--token-file", str(tokens)) as url:
        assert post(url, None).status_code == 401
        assert post(url, "tok-ci-2").status_code == 401
        assert "mcp-auth" in anyio.run(read_via_sdk, with_token(url, "tok-ci-1"))
        assert post(url, "tok-laptop-2").status_code == 200
        tokens.write_text("tok-laptop-2\n")  # a line removed is a token revoked
        assert post(url, "tok-ci-1").status_code == 401


def test_no_token_source_refuses_to_start(tmp_path: Path, capsys, monkeypatch) -> None:
    ws = workspace(tmp_path / "ws", "version: 1\n")
    for var in ("INFRALEASH_MCP_TOKEN", "INFRALEASH_MCP_TOKEN_FILE"):
        monkeypatch.delenv(var, raising=False)
    code, _, err = run_cli(capsys, "mcp", "--transport", "http", "--dir", str(ws))
    assert code == 2 and "needs bearer tokens" in err and "Traceback" not in err
    code, _, err = run_cli(capsys, "mcp", "--transport", "http", "--dir", str(ws), "--token-file", str(ws / "nope"))
    assert code == 2 and "no such file" in err
