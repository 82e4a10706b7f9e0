"""Attacks on the approval server over real HTTP (a real server process; SQLite and a real PostgreSQL), each of
which must fail: an agent token approving; self-approval with the requester's name in other case or Unicode
look-alikes; replaying a claim; SQL metacharacters in every filter; an expired request (through the runner too);
a revoked token on every endpoint.  (Changing the plan after approval: tests/server/test_agent_side.py; CSRF
and markup in the page: the web tests.)"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.routing import APIRoute

from infraleash.errors import ExitCode
from infraleash.server.api import router

from .team import Team, start_team

PLAN = "c" * 64
APPLY = {"argv": ["terraform", "apply", "p.tfplan"], "cwd": "/srv/infra", "environment": "prod",
         "reason": "rotate keys", "plan_sha256": PLAN}


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def team(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Team]:
    base = tmp_path_factory.mktemp(f"attacks-{request.param}")
    if request.param == "sqlite":
        url = f"sqlite:///{base / 'server.db'}"
    else:
        url = request.getfixturevalue("postgres_server").create_database(f"attacks_{int(time.time() * 1000)}")
    t = start_team(url, base)
    yield t
    t.server.stop()


def new(team: Team, who: str = "ci-agent", **over: object) -> str:
    r = team.api(who, "POST", "/requests", json={**APPLY, **over})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def refusals(team: Team, rid: str) -> list[tuple[str, int]]:
    lines = team.api("alice", "GET", "/audit").text.splitlines()
    return [(e["actor"], e["detail"]["status"]) for e in map(json.loads, lines)
            if e["action"] == "refused" and e["request_id"] == rid]


def test_an_agent_token_never_approves(team: Team) -> None:
    rid = new(team)
    for who in ("ci-agent", "other-agent"):  # its own request, and another agent's
        r = team.api(who, "POST", f"/requests/{rid}/decision",
                     json={"decision": "approve", "comment": "lgtm", "decided_by": "alice", "role": "approver"})
        assert r.status_code == 403
    assert team.api("alice", "GET", f"/requests/{rid}").json()["status"] == "pending"
    assert refusals(team, rid) == [("ci-agent", 403), ("other-agent", 403)]
    assert team.api("ci-agent", "POST", f"/requests/{rid}/claim", json={"plan_sha256": PLAN}).status_code == 409


@pytest.mark.parametrize("spelling", ["CI-Agent", "ci-agent ", "\u0441i-agent", "\uff43\uff49-agent", "ci\u200b-agent",
                                      "ci\u2013agent", "c\u0131-agent"])
def test_no_second_principal_can_be_the_requester_under_another_spelling(team: Team, spelling: str) -> None:
    # to approve ci-agent's request as "itself", an approver principal reading the same must exist: refused
    rid = new(team)
    made = team.api("root", "POST", "/principals", json={"name": spelling, "role": "approver"})
    assert made.status_code == 409 and "reads the same" in made.json()["detail"]
    token = team.api("root", "POST", "/tokens", json={"principal": spelling, "name": "x", "role": "approver"})
    assert token.status_code == 409  # resolves to the agent ci-agent, whose role is not approver
    listed = [p["name"] for p in team.api("root", "GET", "/principals").json()]
    assert spelling not in listed or spelling == "ci-agent"
    assert team.api("alice", "GET", f"/requests/{rid}").json()["status"] == "pending"


def test_a_claim_cannot_be_replayed(team: Team) -> None:
    rid = new(team)
    team.api("alice", "POST", f"/requests/{rid}/decision", json={"decision": "approve", "comment": "ok"})
    assert team.api("other-agent", "POST", f"/requests/{rid}/claim", json={"plan_sha256": PLAN}).status_code == 404
    assert team.api("ci-agent", "POST", f"/requests/{rid}/claim", json={"plan_sha256": PLAN}).status_code == 200
    for _ in range(2):
        assert team.api("ci-agent", "POST", f"/requests/{rid}/claim", json={"plan_sha256": PLAN}).status_code == 409
    team.api("ci-agent", "POST", f"/requests/{rid}/result", json={"exit_code": 0}).raise_for_status()
    assert team.api("ci-agent", "POST", f"/requests/{rid}/claim", json={"plan_sha256": PLAN}).status_code == 409
    assert team.api("ci-agent", "POST", f"/requests/{rid}/result", json={"exit_code": 1}).status_code == 409
    body = team.api("alice", "GET", f"/requests/{rid}").json()
    assert body["status"] == "done" and body["result_exit_code"] == 0
    assert refusals(team, rid) == [("ci-agent", 409)] * 3 + [("ci-agent", 409)]


EVIL = ["' OR '1'='1", "prod'; DROP TABLE approval_requests; --", "%", "_", "\\", "\x00", "prod\" OR \"\"=\"",
        "1; SELECT pg_sleep(5)", "*/ OR 1=1 /*"]


def test_sql_metacharacters_in_every_filter(team: Team) -> None:
    mine = new(team, environment="sqlprobe")
    for evil in EVIL:
        for name in ("environment", "requester"):
            r = team.api("alice", "GET", "/requests", params={name: evil})
            assert r.status_code in (200, 422), (name, evil, r.status_code)
            assert r.status_code == 422 or r.json() == [], (name, evil)
        for name in ("status", "older_than_s", "limit"):
            assert team.api("alice", "GET", "/requests", params={name: evil}).status_code == 422
        for name in ("after_seq", "limit"):
            assert team.api("alice", "GET", "/audit", params={name: evil}).status_code == 422
        assert team.api("alice", "GET", f"/requests/{quote(evil, safe='')}").status_code in (404, 422)
        assert team.api("root", "DELETE", f"/tokens/{quote(evil, safe='')}").status_code in (404, 422)
    for field in ("reason", "environment", "cwd"):  # NUL in a stored field: refused, not a database error
        assert team.api("ci-agent", "POST", "/requests", json={**APPLY, field: "prod\x00x"}).status_code == 422
    assert team.api("ci-agent", "POST", "/requests", json={**APPLY, "argv": ["terraform", "apply", "p\x00"]}
                    ).status_code == 422
    assert [r["id"] for r in team.api("alice", "GET", "/requests", params={"environment": "sqlprobe"}).json()] == [mine]
    assert team.api("alice", "GET", "/audit").status_code == 200  # the tables are all still there


def test_a_revoked_token_is_refused_on_every_endpoint(team: Team) -> None:
    rid = new(team)
    routes = [r for r in router.routes if isinstance(r, APIRoute)]
    assert len(routes) >= 14
    for route in routes:
        for method in route.methods:
            path = route.path.removeprefix("/api/v1").replace("{request_id}", rid).replace("{token_id}", "0" * 12)
            body = {"decision": "approve", "comment": "ok", "exit_code": 0, "plan_sha256": PLAN,
                    **APPLY} if method == "POST" else None
            r = team.api("revoked", method, path, json=body)
            assert r.status_code == 401, (method, route.path, r.status_code)
    assert team.api("alice", "GET", f"/requests/{rid}").json()["status"] == "pending"


@pytest.fixture(scope="module")
def short_lived(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Team]:
    base = tmp_path_factory.mktemp("expiry")
    t = start_team(f"sqlite:///{base / 'server.db'}", base, env={"INFRALEASH_SERVER_REQUEST_TTL_S": "3"})
    yield t
    t.server.stop()


def test_an_expired_request_is_neither_decided_nor_run(short_lived: Team, tmp_path: Path) -> None:
    team = short_lived
    (tmp_path / "infraleash.yaml").write_text(f"version: 1\ntrust_level: act-with-approval\napprovals:\n"
                                              f"  server: {team.url}\n  wait_seconds: 20\n")
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "infraleash", "exec", "--", "terraform", "state", "rm",
                           "aws_s3_bucket.logs"], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
                               "INFRALEASH_APPROVAL_TOKEN": team.tokens["ci-agent"]})
    assert proc.returncode == ExitCode.DENIED and "[APPROVAL-EXPIRED]" in proc.stderr, proc.stderr
    assert time.monotonic() - started < 20  # it stopped waiting when the request expired, not at the timeout
    [req] = team.api("alice", "GET", "/requests", params={"status": "expired"}).json()
    late = team.api("alice", "POST", f"/requests/{req['id']}/decision", json={"decision": "approve", "comment": "ok"})
    assert late.status_code == 409 and "expired" in late.json()["detail"]
    assert team.api("ci-agent", "POST", f"/requests/{req['id']}/claim", json={}).status_code == 409
    ran = subprocess.run([sys.executable, "-m", "infraleash", "approvals", "run", req["id"]], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120,
                         env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
                              "INFRALEASH_APPROVAL_TOKEN": team.tokens["ci-agent"]})
    assert ran.returncode == ExitCode.DENIED and "expired" in ran.stderr and "Traceback" not in ran.stderr
