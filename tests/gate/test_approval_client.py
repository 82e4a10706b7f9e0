"""The approval server's client fails closed: whatever goes wrong between the runner and the server, the held
command is refused with a rule id, audited locally, exit 4, and nothing runs.

The broken servers are real HTTP servers on loopback (a proxy's 502, a captive portal's HTML, a server of another
version answering a status this runner does not know, a redirect, a plain-HTTP port spoken to with TLS)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from infraleash.errors import ExitCode
from infraleash.gate.approval_backend import approval_backend
from infraleash.gate.approval_client import ServerApprovals
from infraleash.gate.approvals import ApprovalStore
from infraleash.gate.audit import AuditLog
from infraleash.gate.executor import Outcome, execute
from infraleash.gate.model import Action
from infraleash.policy import Policy

POLICY = Policy.model_validate({"version": 1, "trust_level": "act-with-approval"})
ARGV = ["terraform", "state", "rm", "aws_s3_bucket.logs"]  # needs approval, no saved plan involved
TOKEN = "ilk_0123456789ab_" + "x" * 43


def request_doc(**over: object) -> bytes:
    doc = {"id": "a" * 32, "status": "pending", "argv": ARGV, "cwd": "/", "environment": None, "reason": None,
           "rules": [], "plan_sha256": None, "requester": "ci-agent", "created_at": 1.0, "expires_at": 2e9}
    return json.dumps({**doc, **over}).encode()


class Answers(ThreadingHTTPServer):
    """Every request gets the same (status, headers, body); the paths asked are recorded."""

    daemon_threads = True

    def __init__(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.status, self.body, self.extra = status, body, headers
        self.paths: list[str] = []
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: Answers

    def _answer(self) -> None:
        self.server.paths.append(f"{self.command} {self.path}")
        length = int(self.headers.get("content-length") or 0)
        self.rfile.read(length)
        self.send_response(self.server.status)
        for k, v in {"content-type": "application/json", **self.server.extra}.items():
            self.send_header(k, v)
        self.send_header("content-length", str(len(self.server.body)))
        self.end_headers()
        self.wfile.write(self.server.body)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def answering() -> Iterator[Callable[..., Answers]]:
    started: list[Answers] = []

    def start(status: int, body: bytes, **headers: str) -> Answers:
        srv = Answers(status, body, headers)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        started.append(srv)
        return srv

    yield start
    for srv in started:
        srv.shutdown()
        srv.server_close()


def held(store: ServerApprovals, tmp_path: Path) -> tuple[object, AuditLog]:
    audit = AuditLog(tmp_path / "audit.jsonl")
    result = execute(Action(argv=ARGV, cwd=str(tmp_path), requester="ci-agent"), POLICY, store=store, audit=audit)
    return result, audit


def assert_refused(result: object, audit: AuditLog, rule: str, words: str) -> None:
    assert result.outcome is Outcome.DENIED  # type: ignore[attr-defined]
    assert [r.id for r in result.rules] == [rule], result.message  # type: ignore[attr-defined]
    assert words in result.rules[0].reason  # type: ignore[attr-defined]
    records = list(audit.records())
    refused = [r for r in records if r.event == "approval_refused"]
    assert refused and refused[-1].data["rules"][0]["id"] == rule
    assert not [r for r in records if r.event in ("execution", "approval_requested")]  # nothing ran, nothing held


@pytest.mark.parametrize(("status", "body", "headers", "words"), [
    (502, b"<html>Bad Gateway</html>", {"content-type": "text/html"}, "answered 502"),
    (200, b"<html>Sign in to the Wi-Fi</html>", {"content-type": "text/html"}, "not JSON"),
    (201, request_doc(status="maybe"), {}, "status: Input should be"),
    (201, request_doc(argv=["terraform", "version"]), {}, "another request than the one sent"),
    (201, b'["not", "a", "request"]', {}, "does not understand"),
    (302, b"{}", {"location": "http://example.invalid/"}, "answered 302"),
], ids=["5xx", "html", "unknown-status", "other-command", "wrong-shape", "redirect"])
def test_a_server_answering_wrong_refuses(answering, tmp_path: Path, status: int, body: bytes,
                                          headers: dict[str, str], words: str) -> None:
    srv = answering(status, body, **headers)
    result, audit = held(ServerApprovals(f"http://127.0.0.1:{srv.server_port}", TOKEN, wait_s=1), tmp_path)
    assert_refused(result, audit, "APPROVAL-SERVER-UNAVAILABLE", words)
    assert srv.paths == ["POST /api/v1/requests"]


def test_unreachable_tls_and_no_token_refuse(answering, tmp_path: Path) -> None:
    result, audit = held(ServerApprovals("http://127.0.0.1:1", TOKEN), tmp_path)
    assert_refused(result, audit, "APPROVAL-SERVER-UNAVAILABLE", "unreachable")
    plain = answering(201, request_doc())  # TLS spoken to a plain-HTTP port: the handshake fails
    result, audit = held(ServerApprovals(f"https://127.0.0.1:{plain.server_port}", TOKEN), tmp_path / "tls")
    assert_refused(result, audit, "APPROVAL-SERVER-UNAVAILABLE", "ConnectError")
    result, audit = held(ServerApprovals(f"http://127.0.0.1:{plain.server_port}", None), tmp_path / "none")
    assert_refused(result, audit, "APPROVAL-SERVER-UNAVAILABLE", "INFRALEASH_APPROVAL_TOKEN")
    assert plain.paths == []  # without a token nothing is even asked


def test_a_rejected_token_is_refused_by_the_server(answering, tmp_path: Path) -> None:
    srv = answering(401, b'{"detail": "a valid bearer token is required"}')
    result, audit = held(ServerApprovals(f"http://127.0.0.1:{srv.server_port}", TOKEN), tmp_path)
    assert_refused(result, audit, "APPROVAL-SERVER-REFUSED", "rejected the token")


def test_the_policy_picks_the_store_and_the_token_variable() -> None:
    team = Policy.model_validate({"version": 1, "approvals": {"server": "https://approvals.example.com/",
                                                              "token_env": "CI_APPROVALS", "wait_seconds": 30}})
    store = approval_backend(team, {"CI_APPROVALS": TOKEN})
    assert isinstance(store, ServerApprovals)
    assert (store.url, store.token, store.wait_s) == ("https://approvals.example.com", TOKEN, 30.0)
    assert isinstance(approval_backend(POLICY), ApprovalStore)


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    """The real CLI entry, in-process: (exit code, stderr)."""
    from infraleash.surfaces.cli import main

    with pytest.raises(SystemExit) as exc:
        main(list(argv))
    return int(exc.value.code or 0), capsys.readouterr().err


def test_exec_against_an_unreachable_server_exits_4_with_the_rule(tmp_path: Path, capsys, monkeypatch) -> None:
    (tmp_path / "infraleash.yaml").write_text("version: 1\ntrust_level: act-with-approval\napprovals:\n"
                                              "  server: http://127.0.0.1:1\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("INFRALEASH_APPROVAL_TOKEN", TOKEN)
    code, err = cli(capsys, "exec", "--", *ARGV)
    assert code == ExitCode.DENIED, err
    assert "[APPROVAL-SERVER-UNAVAILABLE]" in err and "Traceback" not in err
    assert "unreachable" in err
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "infraleash.yaml").write_text("version: 1\napprovals:\n  server: ftp://approvals\n")
    monkeypatch.chdir(bad)
    code, err = cli(capsys, "exec", "--", *ARGV)
    assert code == ExitCode.USAGE and "infraleash.yaml:3" in err and "approvals.server" in err, err
    assert len(err.strip().splitlines()) == 1


def test_local_approval_commands_point_at_the_server(tmp_path: Path, capsys, monkeypatch) -> None:
    (tmp_path / "infraleash.yaml").write_text("version: 1\napprovals:\n  server: https://approvals.example.com\n")
    monkeypatch.chdir(tmp_path)
    for argv in (["list"], ["show", "ab12"], ["approve", "ab12", "--as", "alice"], ["deny", "ab12", "--as", "bob"]):
        code, err = cli(capsys, "approvals", *argv)
        assert code == ExitCode.USAGE and "decide them there" in err and "https://approvals.example.com" in err
    assert not (tmp_path / ".infraleash" / "approvals.db").exists()  # no local store was made for them
