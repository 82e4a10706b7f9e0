"""Bearer tokens for ``infraleash mcp --transport http``: no token, no tools.

Where the tokens come from, first match wins:

1. the policy names an approval server (``approvals.server``): the token is one of the server's
   agent tokens (``infraleash server token create --name NAME --role agent``), checked on every HTTP
   request with ``GET /api/v1/whoami``, so a token revoked on the server stops working at once;
   approver and admin tokens are refused (403): an MCP client acts as an agent;
2. ``--token-file FILE`` (or ``$INFRALEASH_MCP_TOKEN_FILE``): one token per line, or ``sha256:HEX`` of a
   token (the file then holds no secret); ``#`` comments; re-read on every request, so deleting a line
   revokes it;
3. ``$INFRALEASH_MCP_TOKEN``: one token.

With none of them the HTTP transport does not start (exit 2).  Answers: 401 without a token or with one
that does not check out (``WWW-Authenticate: Bearer``), 403 for a token of another role, 503 when the
approval server cannot be asked (fail closed).  stdio is not affected: its client is the parent process.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import anyio

from infraleash.errors import UsageError
from infraleash.gate.approval_client import ServerApprovals, ServerUnavailable
from infraleash.policy import Policy

Verdict = Literal["ok", "unknown", "forbidden", "unavailable"]
TOKEN_ENV = "INFRALEASH_MCP_TOKEN"
TOKEN_FILE_ENV = "INFRALEASH_MCP_TOKEN_FILE"


@dataclass
class ServerTokens:
    """Tokens of the approval server's store (agent role only)."""

    server: ServerApprovals

    def __call__(self, token: str) -> Verdict:
        try:
            who = self.server.whoami(token)
        except ServerUnavailable:
            return "unavailable"
        if who is None:
            return "unknown"
        return "ok" if who["role"] == "agent" else "forbidden"


@dataclass
class LocalTokens:
    """Tokens (or ``sha256:`` digests of tokens) from a file, re-read each time, and/or one from the environment."""

    file: Path | None = None
    token: str | None = None

    def __call__(self, token: str) -> Verdict:
        given = hashlib.sha256(token.encode()).hexdigest()
        for want in self._entries():
            if want.startswith("sha256:"):
                if hmac.compare_digest(want[len("sha256:"):].lower(), given):
                    return "ok"
            elif hmac.compare_digest(want.encode(), token.encode()):
                return "ok"
        return "unknown"

    def _entries(self) -> list[str]:
        out = [self.token] if self.token else []
        if self.file is not None:
            try:
                text = self.file.read_text(encoding="utf-8")
            except OSError:
                return out  # a file that went away accepts nothing more
            out += [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
        return out


Checker = Callable[[str], Verdict]


def token_checker(policy: Policy, token_file: Path | None, env: Mapping[str, str] | None = None) -> Checker:
    """Where this HTTP server's bearer tokens are checked (see the module docstring); a usage error when nowhere."""
    source = os.environ if env is None else env
    if policy.approvals.server:
        return ServerTokens(ServerApprovals(policy.approvals.server, None))
    path = token_file or (Path(source[TOKEN_FILE_ENV]) if source.get(TOKEN_FILE_ENV) else None)
    if path is not None and not path.is_file():
        raise UsageError(f"--token-file {path}: no such file")
    token = source.get(TOKEN_ENV, "").strip() or None
    if path is None and token is None:
        raise UsageError("--transport http needs bearer tokens: name an approval server in the policy "
                         f"(approvals.server), or give --token-file FILE or ${TOKEN_ENV}")
    return LocalTokens(path, token)


class BearerAuth:
    """ASGI middleware: every HTTP request needs ``Authorization: Bearer TOKEN`` that ``check`` accepts."""

    def __init__(self, app: Any, check: Checker) -> None:
        self.app, self.check = app, check

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        header = dict(scope.get("headers") or []).get(b"authorization", b"").decode("latin-1")
        scheme, _, token = header.partition(" ")
        verdict: Verdict = "unknown"
        if scheme.lower() == "bearer" and token.strip():
            verdict = await anyio.to_thread.run_sync(self.check, token.strip())
        if verdict == "ok":
            await self.app(scope, receive, send)
            return
        status, message = {"unknown": (401, "a valid bearer token is required"),
                           "forbidden": (403, "only agent tokens may use the MCP tools"),
                           "unavailable": (503, "the approval server cannot check the token")}[verdict]
        body = json.dumps({"error": message}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        if status == 401:
            headers.append((b"www-authenticate", b"Bearer"))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
