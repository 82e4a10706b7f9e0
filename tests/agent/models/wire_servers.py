"""Local HTTP servers that speak the OpenAI chat-completions and Anthropic Messages protocols.

Each serves scripted replies on a free loopback port and records every request
body, so a test drives the real vendor SDK through our adapter and asserts on
both what the SDK sent and what the adapter made of the answer.  Replies are
plain dicts (``{"text": ..., "tool_calls": [(id, name, raw_json_arguments)]}``)
rendered in the server's protocol, as a JSON body or as server-sent events.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Reply = dict[str, Any]


class WireServer:
    """Base: a threaded http.server on 127.0.0.1:<free port> with a reply queue."""

    path = ""

    def __init__(self, replies: list[Reply]) -> None:
        self.replies = list(replies)
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("content-length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                server.requests.append(body)
                server.headers.append({k.lower(): v for k, v in self.headers.items()})
                if self.path.rstrip("/") != server.path or not server.replies:
                    self._send(500 if server.replies else 503, {"error": {"message": f"no reply for {self.path}"}})
                    return
                reply = server.replies.pop(0)
                if "status" in reply:
                    self._send(reply["status"], {"error": {"type": "api_error", "message": "scripted failure"}})
                elif body.get("stream"):
                    self.send_response(200)
                    self.send_header("content-type", "text/event-stream")
                    self.end_headers()
                    for chunk in server.sse(reply, body):
                        self.wfile.write(chunk.encode())
                        self.wfile.flush()
                else:
                    self._send(200, server.render(reply, body))

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> WireServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def render(self, reply: Reply, request: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def sse(self, reply: Reply, request: dict[str, Any]) -> Iterator[str]:
        raise NotImplementedError


class OpenAIServer(WireServer):
    """``POST /v1/chat/completions``."""

    path = "/v1/chat/completions"

    def render(self, reply: Reply, request: dict[str, Any]) -> dict[str, Any]:
        calls = [{"id": i, "type": "function", "function": {"name": n, "arguments": a}}
                 for i, n, a in reply.get("tool_calls", [])]
        message: dict[str, Any] = {"role": "assistant", "content": reply.get("text")}
        if calls:
            message["tool_calls"] = calls
        return {"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": request["model"],
                "choices": [{"index": 0, "message": message,
                             "finish_reason": "tool_calls" if calls else "stop"}],
                "usage": {"prompt_tokens": reply.get("in", 11), "completion_tokens": reply.get("out", 7),
                          "total_tokens": reply.get("in", 11) + reply.get("out", 7)}}

    def sse(self, reply: Reply, request: dict[str, Any]) -> Iterator[str]:
        def chunk(delta: dict[str, Any], finish: str | None = None, usage: Any = None,
                  choices: bool = True) -> str:
            body = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1,
                    "model": request["model"],
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}] if choices else [],
                    "usage": usage}
            return f"data: {json.dumps(body)}\n\n"

        yield chunk({"role": "assistant", "content": ""})
        text = reply.get("text") or ""
        for piece in [text[i:i + 5] for i in range(0, len(text), 5)]:
            yield chunk({"content": piece})
        for index, (cid, name, args) in enumerate(reply.get("tool_calls", [])):
            yield chunk({"tool_calls": [{"index": index, "id": cid, "type": "function",
                                         "function": {"name": name, "arguments": ""}}]})
            for piece in [args[i:i + 4] for i in range(0, len(args), 4)]:
                yield chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
        yield chunk({}, finish="tool_calls" if reply.get("tool_calls") else "stop")
        if (request.get("stream_options") or {}).get("include_usage"):
            yield chunk({}, usage={"prompt_tokens": reply.get("in", 11), "completion_tokens": reply.get("out", 7),
                                   "total_tokens": reply.get("in", 11) + reply.get("out", 7)}, choices=False)
        yield "data: [DONE]\n\n"


class AnthropicServer(WireServer):
    """``POST /v1/messages``."""

    path = "/v1/messages"

    def _blocks(self, reply: Reply) -> list[dict[str, Any]]:
        blocks: list[dict[str, Any]] = [{"type": "text", "text": reply["text"]}] if reply.get("text") else []
        blocks += [{"type": "tool_use", "id": i, "name": n, "input": json.loads(a)}
                   for i, n, a in reply.get("tool_calls", [])]
        return blocks

    def render(self, reply: Reply, request: dict[str, Any]) -> dict[str, Any]:
        return {"id": "msg_1", "type": "message", "role": "assistant", "model": request["model"],
                "content": self._blocks(reply), "stop_reason": "tool_use" if reply.get("tool_calls") else "end_turn",
                "stop_sequence": None,
                "usage": {"input_tokens": reply.get("in", 13), "output_tokens": reply.get("out", 5)}}

    def sse(self, reply: Reply, request: dict[str, Any]) -> Iterator[str]:
        def event(name: str, data: dict[str, Any]) -> str:
            return f"event: {name}\ndata: {json.dumps({'type': name, **data})}\n\n"

        yield event("message_start", {"message": {
            "id": "msg_1", "type": "message", "role": "assistant", "model": request["model"], "content": [],
            "stop_reason": None, "stop_sequence": None,
            "usage": {"input_tokens": reply.get("in", 13), "output_tokens": 1}}})
        index = 0
        text = reply.get("text") or ""
        if text:
            yield event("content_block_start", {"index": index, "content_block": {"type": "text", "text": ""}})
            yield event("ping", {})
            for piece in [text[i:i + 5] for i in range(0, len(text), 5)]:
                yield event("content_block_delta", {"index": index, "delta": {"type": "text_delta", "text": piece}})
            yield event("content_block_stop", {"index": index})
            index += 1
        for cid, name, args in reply.get("tool_calls", []):
            yield event("content_block_start", {"index": index, "content_block": {
                "type": "tool_use", "id": cid, "name": name, "input": {}}})
            for piece in [args[i:i + 4] for i in range(0, len(args), 4)]:
                yield event("content_block_delta", {"index": index, "delta": {
                    "type": "input_json_delta", "partial_json": piece}})
            yield event("content_block_stop", {"index": index})
            index += 1
        yield event("message_delta", {"delta": {"stop_reason": "tool_use" if reply.get("tool_calls") else "end_turn",
                                                "stop_sequence": None},
                                      "usage": {"output_tokens": reply.get("out", 5)}})
        yield event("message_stop", {})
