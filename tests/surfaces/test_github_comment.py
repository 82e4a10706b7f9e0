"""The PR-comment step against a real HTTP server on a loopback port that speaks the three GitHub REST
endpoints it uses (list with Link pagination, create, update), driven as the action runs it
(``python -m infraleash.surfaces.github_comment --file ...`` with the workflow's environment)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from infraleash.surfaces.github_comment import MARKER

PAGE = 2  # the fake pages small so the marked comment sits past page one


class FakeGitHub:
    def __init__(self) -> None:
        self.comments: list[dict[str, Any]] = [{"id": i, "body": f"someone else's comment {i}"} for i in (1, 2, 3)]
        self.requests: list[tuple[str, str]] = []
        self.auth: set[str] = set()
        self.next_id = 100


@pytest.fixture
def github() -> Iterator[tuple[FakeGitHub, str]]:
    state = FakeGitHub()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, code: int, doc: Any, headers: dict[str, str] | None = None) -> None:
            raw = json.dumps(doc).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(raw)

        def _body(self) -> dict[str, Any]:
            return json.loads(self.rfile.read(int(self.headers["Content-Length"])))

        def do_GET(self) -> None:  # noqa: N802
            url = urlparse(self.path)
            state.requests.append(("GET", self.path))
            state.auth.add(self.headers.get("Authorization", ""))
            if url.path != "/repos/acme/infra/issues/7/comments":
                return self._send(404, {"message": "Not Found"})
            page = int(parse_qs(url.query).get("page", ["1"])[0])
            items = state.comments[(page - 1) * PAGE: page * PAGE]
            headers = {}
            if page * PAGE < len(state.comments):
                base = f"http://{self.headers['Host']}{url.path}"
                headers["Link"] = f'<{base}?page={page + 1}>; rel="next", <{base}?page=99>; rel="last"'
            self._send(200, items, headers)

        def do_POST(self) -> None:  # noqa: N802
            state.requests.append(("POST", self.path))
            if self.path != "/repos/acme/infra/issues/7/comments":
                return self._send(404, {"message": "Not Found"})
            comment = {"id": state.next_id, "body": self._body()["body"]}
            state.next_id += 1
            state.comments.append(comment)
            self._send(201, comment)

        def do_PATCH(self) -> None:  # noqa: N802
            state.requests.append(("PATCH", self.path))
            cid = int(self.path.rsplit("/", 1)[-1])
            match = [c for c in state.comments if c["id"] == cid]
            if not self.path.startswith("/repos/acme/infra/issues/comments/") or not match:
                return self._send(404, {"message": "Not Found"})
            match[0]["body"] = self._body()["body"]
            self._send(200, match[0])

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _run(tmp_path: Path, api: str, markdown: str, event: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    (tmp_path / "review.md").write_text(markdown)
    (tmp_path / "event.json").write_text(json.dumps(event))
    env = {**os.environ, "GITHUB_API_URL": api, "GITHUB_REPOSITORY": "acme/infra",
           "GITHUB_EVENT_PATH": str(tmp_path / "event.json"), "GITHUB_TOKEN": "ghs_test"}
    return subprocess.run([sys.executable, "-m", "infraleash.surfaces.github_comment", "--file",
                           str(tmp_path / "review.md")], env=env, capture_output=True, text=True, timeout=60)


def test_first_run_creates_second_updates_the_same_comment(github: tuple[FakeGitHub, str], tmp_path: Path) -> None:
    state, api = github
    pr = {"pull_request": {"number": 7}}
    first = _run(tmp_path, api, "### :x: infraleash: block\n", pr)
    assert first.returncode == 0, first.stderr
    assert "created comment 100" in first.stderr
    second = _run(tmp_path, api, "### :white_check_mark: infraleash: allow\n", pr)
    assert second.returncode == 0, second.stderr
    assert "updated comment 100" in second.stderr
    ours = [c for c in state.comments if MARKER in c["body"]]
    assert len(ours) == 1 and len(state.comments) == 4
    assert "allow" in ours[0]["body"] and "block" not in ours[0]["body"]
    # the second run found the comment on page 2 of the listing: pagination was followed
    gets = [p for m, p in state.requests if m == "GET"]
    assert any("page=2" in p for p in gets)
    assert [m for m, _ in state.requests].count("POST") == 1
    assert state.auth == {"Bearer ghs_test"}


def test_push_event_writes_nothing(github: tuple[FakeGitHub, str], tmp_path: Path) -> None:
    state, api = github
    r = _run(tmp_path, api, "x\n", {"ref": "refs/heads/main"})
    assert r.returncode == 0 and "not a pull request" in r.stderr
    assert state.requests == []


def test_refused_request_is_one_line_exit_2(github: tuple[FakeGitHub, str], tmp_path: Path) -> None:
    _, api = github
    r = _run(tmp_path, api, "x\n", {"pull_request": {"number": 8}})
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "HTTP 404" in r.stderr and "Traceback" not in r.stderr


def test_missing_environment_is_exit_2(tmp_path: Path) -> None:
    (tmp_path / "review.md").write_text("x\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    r = subprocess.run([sys.executable, "-m", "infraleash.surfaces.github_comment", "--file",
                        str(tmp_path / "review.md")], env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "GITHUB_REPOSITORY" in r.stderr and "Traceback" not in r.stderr
