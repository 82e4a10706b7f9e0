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
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from fastapi.routing import APIRoute

from infraleash.errors import ExitCode
from infraleash.server.api import router
from infraleash.server.db import make_engine, session_factory
from infraleash.server.models import ApprovalRequest

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
        request.getfixturevalue("postgres_template")  # a copy of the migrated template: no migration to run
        url = request.getfixturevalue("postgres_server").create_database(f"attacks_{int(time.time() * 1000)}",
                                                                          template="migrated_template")
    t = start_team(url, base)
    yield t
    t.stop()


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


SPELLINGS = ["CI-Agent", "ci-agent ", "\u0441i-agent", "\uff43\uff49-agent", "ci\u200b-agent", "ci\u2013agent",
             "c\u0131-agent"]  # case, a trailing space, Cyrillic с, fullwidth, a zero-width space, an en dash, dotless ı


def test_no_second_principal_can_be_the_requester_under_another_spelling(team: Team) -> None:
    # to approve ci-agent's request as "itself", an approver principal reading the same must exist: refused
    rid = new(team)
    for spelling in SPELLINGS:
        made = team.api("root", "POST", "/principals", json={"name": spelling, "role": "approver"})
        assert made.status_code == 409 and "reads the same" in made.json()["detail"], spelling
        token = team.api("root", "POST", "/tokens", json={"principal": spelling, "name": "x", "role": "approver"})
        assert token.status_code == 409, spelling  # resolves to the agent ci-agent, whose role is not approver
    listed = [p["name"] for p in team.api("root", "GET", "/principals").json()]
    assert not set(SPELLINGS) & set(listed)
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


EVIL = ["' OR '1'='1", "prod'; DROP TABLE approval_requests; --", "%_\\", "\x00", "1; SELECT pg_sleep(5)",
        "*/ OR 1=1 /*"]


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


def test_an_expired_request_is_neither_decided_nor_run(team: Team, tmp_path: Path) -> None:
    (tmp_path / "infraleash.yaml").write_text(f"version: 1\ntrust_level: act-with-approval\napprovals:\n"
                                              f"  server: {team.url}\n  wait_seconds: 60\n")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "INFRALEASH_APPROVAL_TOKEN": team.tokens["ci-agent"]}
    proc = subprocess.Popen([sys.executable, "-m", "infraleash", "exec", "--", "terraform", "state", "rm",
                             f"aws_s3_bucket.expiring_{tmp_path.name}"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        rid = until_pending(team, f"aws_s3_bucket.expiring_{tmp_path.name}")
        started = time.monotonic()
        engine = make_engine(team.database_url)  # nobody decides in time: its expiry passes while exec waits
        with session_factory(engine)() as s:
            row = s.get(ApprovalRequest, rid)
            assert row is not None
            row.expires_at = time.time() - 1
            s.commit()
        engine.dispose()
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == ExitCode.DENIED and "[APPROVAL-EXPIRED]" in err, err
    assert time.monotonic() - started < 30  # it stopped waiting when the request expired, not at the timeout
    assert team.api("alice", "GET", f"/requests/{rid}").json()["status"] == "expired"
    late = team.api("alice", "POST", f"/requests/{rid}/decision", json={"decision": "approve", "comment": "ok"})
    assert late.status_code == 409 and "expired" in late.json()["detail"]
    assert team.api("ci-agent", "POST", f"/requests/{rid}/claim", json={}).status_code == 409
    ran = subprocess.run([sys.executable, "-m", "infraleash", "approvals", "run", rid], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120)
    assert ran.returncode == ExitCode.DENIED and "expired" in ran.stderr and "Traceback" not in ran.stderr


def until_pending(team: Team, last_arg: str, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for r in team.api("alice", "GET", "/requests", params={"status": "pending"}).json():
            if r["argv"][-1] == last_arg:
                return str(r["id"])
        time.sleep(0.2)
    raise AssertionError(f"no pending request for {last_arg}")


def test_many_waiting_runners_do_not_starve_the_approvers(team: Team) -> None:
    # 45 runners long-polling (more than the server's worker threads) must not stop a decision from being made
    waited = new(team)
    other = new(team)
    url = f"{team.url}/api/v1/requests/{waited}/wait"
    headers = {"Authorization": f"Bearer {team.tokens['ci-agent']}"}

    def poll(_: int) -> tuple[str, float]:
        started = time.monotonic()
        r = httpx.get(url, params={"timeout_s": 20}, headers=headers, timeout=60)
        return r.json()["status"], time.monotonic() - started

    with ThreadPoolExecutor(max_workers=45) as pool:
        polls = [pool.submit(poll, i) for i in range(45)]
        time.sleep(2)  # every poll is in flight
        started = time.monotonic()
        decided = team.api("alice", "POST", f"/requests/{other}/decision", json={"decision": "deny", "comment": "no"})
        took = time.monotonic() - started
        assert decided.status_code == 200 and took < 5, took
        team.api("alice", "POST", f"/requests/{waited}/decision",
                 json={"decision": "approve", "comment": "ok"}).raise_for_status()
        results = [p.result(timeout=60) for p in polls]
    assert {s for s, _ in results} == {"approved"}
    assert max(t for _, t in results) < 15  # they returned on the decision, not at their 20 s timeout


def test_an_oversized_body_is_refused_before_anything_reads_it(team: Team) -> None:
    huge = b'{"argv": ["x"], "cwd": "/", "reason": "' + b"a" * (33 * 1024 * 1024) + b'"}'
    for who in ("anonymous", "ci-agent"):
        r = team.api(who, "POST", "/requests", content=huge, headers={"content-type": "application/json"})
        assert r.status_code == 413, (who, r.status_code)
    assert team.api("ci-agent", "GET", "/whoami").status_code == 200  # and the server is still there
