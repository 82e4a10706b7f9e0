"""Webhooks from a real server process to real HTTP servers on loopback: one fails twice then succeeds (retried
with backoff, Slack format), one takes plain JSON, one never answers; creating and deciding stay fast and
nothing is lost."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from infraleash.server.api import decide_request
from infraleash.server.app import create_app
from infraleash.server.db import migrate
from infraleash.server.models import ApprovalRequest
from infraleash.server.notify import Hook, slack_payload
from infraleash.server.settings import ServerSettings
from infraleash.server.tokens import add_principal, find_principal

from .team import Team, start_team


class Hooked(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, *, fail_first: int = 0, hang_s: float = 0) -> None:
        self.fail_first, self.hang_s = fail_first, hang_s
        self.hits: list[int] = []  # the status answered to each delivery attempt
        self.received: list[dict[str, Any]] = []
        self.released = threading.Event()  # set at teardown: a hanging answer ends, no thread outlives the test
        super().__init__(("127.0.0.1", 0), _Hook)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_port}/hook"


class _Hook(BaseHTTPRequestHandler):
    server: Hooked

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        if self.server.hang_s:
            self.server.released.wait(self.server.hang_s)
            return
        status = 500 if len(self.server.hits) < self.server.fail_first else 200
        self.server.hits.append(status)
        if status == 200:
            self.server.received.append(json.loads(body))
        self.send_response(status)
        self.send_header("content-length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def hooks() -> Iterator[dict[str, Hooked]]:
    made = {"flaky": Hooked(fail_first=2), "plain": Hooked(), "hang": Hooked(hang_s=60)}
    yield made
    for h in made.values():
        h.released.set()
        h.shutdown()
        h.server_close()


@pytest.fixture(scope="module")
def team(hooks: dict[str, Hooked], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Team]:
    base = tmp_path_factory.mktemp("notify")
    webhooks = ",".join([f"json:{hooks['hang'].url}", f"slack:{hooks['flaky'].url}", hooks["plain"].url])
    t = start_team(f"sqlite:///{base / 'server.db'}", base, env={"INFRALEASH_SERVER_WEBHOOKS": webhooks})
    yield t
    t.stop()


def until(check: Any, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_pending_and_decision_are_posted_retried_and_never_block(team: Team, hooks: dict[str, Hooked]) -> None:
    started = time.monotonic()
    created = team.api("ci-agent", "POST", "/requests", json={
        "argv": ["kubectl", "delete", "namespace", "payments"], "cwd": "/srv/k8s", "environment": "prod",
        "reason": "cleanup <!channel> <https://evil.example|click>"})
    assert created.status_code == 201 and time.monotonic() - started < 4  # the hanging hook waits 5 s per try
    rid = created.json()["id"]
    started = time.monotonic()
    decided = team.api("alice", "POST", f"/requests/{rid}/decision", json={"decision": "approve",
                                                                           "comment": "namespace is empty"})
    assert decided.status_code == 200 and time.monotonic() - started < 4
    until(lambda: len(hooks["flaky"].received) == 2 and len(hooks["plain"].received) == 2)
    link = f"{team.url}/requests/{rid}"
    # the flaky hook: two 500s, then the pending message (third attempt), then the decision
    assert hooks["flaky"].hits == [500, 500, 200, 200]
    pending, approved = hooks["flaky"].received
    assert set(pending) == {"text", "blocks"} and link in pending["text"]
    assert "kubectl delete namespace payments" in pending["text"] and "ci-agent" in pending["text"]
    shown = pending["blocks"][0]["text"]["text"]
    assert f"<{link}|" in shown and "&lt;!channel&gt;" in shown and "<!channel>" not in shown
    assert "<https://evil" not in shown
    assert "alice approved" in approved["text"] and "namespace is empty" in approved["text"]
    # the plain JSON hook
    events = [(m["event"], m["url"], m["request"]["id"]) for m in hooks["plain"].received]
    assert events == [("request.pending", link, rid), ("request.approved", link, rid)]
    assert hooks["plain"].received[1]["request"]["decided_by"] == "alice"
    assert team.api("alice", "GET", f"/requests/{rid}").json()["status"] == "approved"  # nothing lost
    assert hooks["hang"].hits == []


def test_hook_format_is_chosen_by_prefix_or_slack_host() -> None:
    assert Hook.parse("https://hooks.slack.com/services/T0/B0/x").slack
    assert not Hook.parse("json:https://hooks.slack.com/services/T0/B0/x").slack
    assert Hook.parse("slack:https://chat.example.com/hooks/1") == Hook("https://chat.example.com/hooks/1", True)
    assert not Hook.parse("https://siem.example.com/in").slack
    msg = slack_payload("denied", {"id": "ab", "argv": ["terraform", "apply", "p"], "decided_by": "bob & co",
                                   "decision_comment": "<@U123> no", "environment": None}, "http://x/requests/ab")
    assert msg["text"].startswith("bob &amp; co denied `terraform apply p` in no environment: &lt;@U123&gt; no")


def test_a_decision_made_on_the_web_page_notifies_too(tmp_path: Path) -> None:
    # the page and the API share decide_request; the notifier rides on every session the app makes
    url = f"sqlite:///{tmp_path / 'server.db'}"
    migrate(url)
    plain = Hooked()
    app = create_app(ServerSettings(data_dir=tmp_path, database_url=url, webhooks=[plain.url],
                                    base_url="https://approvals.example.com"))
    try:
        with app.state.sessions() as s:
            agent = add_principal(s, "ci-agent", "agent")
            add_principal(s, "alice", "approver")
            s.add(ApprovalRequest(id="d" * 32, requester_id=agent.id, argv=["kubectl", "delete", "ns", "x"], cwd="/",
                                  rules=[], status="pending", created_at=time.time(), expires_at=time.time() + 60))
            s.commit()
            alice = find_principal(s, "alice")
            assert alice is not None
            decide_request(s, alice, "d" * 32, "deny", "use the runbook")
        until(lambda: len(plain.received) == 1)
        msg = plain.received[0]
        assert msg["event"] == "request.denied" and msg["url"] == f"https://approvals.example.com/requests/{'d' * 32}"
        assert msg["request"]["decision_comment"] == "use the runbook"
    finally:
        app.state.notifier.close()
        assert not any(w.is_alive() for w in app.state.notifier.workers)  # no thread outlives the app
        plain.shutdown()
        plain.server_close()
        app.state.engine.dispose()
