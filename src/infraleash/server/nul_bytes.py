"""NUL (U+0000) is refused at the door: 422 for a path, query or body that carries one.

PostgreSQL's ``text`` and ``jsonb`` cannot hold it, so a filter or a field with a NUL byte made the
database raise and the server answer 500 on PostgreSQL (and not on SQLite): one backend's error
became an attacker's probe.  No name, argv, reason or filter needs it.  Looked for: the decoded path,
``%00`` in the query string or a form body, a raw NUL or the JSON escape ``\\u0000`` in a body
(a JSON text that spells a backslash before ``u0000`` is refused too; nothing legitimate does).
Since every body is read here before anything else, one larger than ``MAX_BODY`` is refused with 413
(before authentication, so nobody can make the server buffer gigabytes).
"""

from __future__ import annotations

import json
from typing import Any

MESSAGE = json.dumps({"detail": "NUL bytes (U+0000) are not accepted in paths, filters or fields"}).encode()
TOO_LARGE = json.dumps({"detail": "the request body is larger than the server accepts"}).encode()
MAX_BODY = 32 * 1024 * 1024  # the largest field is plan_json (20 MiB, api.MAX_PLAN_JSON); bodies are read here first


class RefuseNulBytes:
    """Pure ASGI middleware (the body is read once, checked, and handed on unchanged)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "\x00" in scope.get("path", "") or b"%00" in (scope.get("query_string") or b""):
            await _refuse(send)
            return
        messages: list[dict[str, Any]] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            size += len(message.get("body", b""))
            if size > MAX_BODY:
                await _refuse(send, 413, TOO_LARGE)
                return
            if message["type"] != "http.request" or not message.get("more_body"):
                break
        body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.request")
        form = dict(scope.get("headers") or []).get(b"content-type", b"").startswith(
            b"application/x-www-form-urlencoded")
        if b"\x00" in body or b"\\u0000" in body or (form and b"%00" in body):
            await _refuse(send)
            return

        async def replay() -> dict[str, Any]:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


async def _refuse(send: Any, status: int = 422, body: bytes = MESSAGE) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
