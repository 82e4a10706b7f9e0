"""Load with a crash: concurrent agents and approvers on PostgreSQL, the server SIGKILLed mid-run and restarted.

Afterwards nothing is lost or doubled (every request an agent was told about exists once, every row in the
database comes from exactly one create attempt), every approved request was claimed exactly once (one
``claimed`` audit record, a second claim is 409) and the audit chain is unbroken.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlalchemy import select

from infraleash.server.audit import verify_chain
from infraleash.server.db import make_engine, session_factory
from infraleash.server.models import ApprovalRequest, AuditRecord
from infraleash.server.tokens import add_principal, create_token

from .pg import PostgresServer
from .serverproc import ServerProcess

PLAN = "d" * 64
AGENTS, APPROVERS, PER_AGENT = 4, 3, 60


class Live:
    """The URL of the server process currently running (it changes when the server is restarted)."""

    def __init__(self, server: ServerProcess) -> None:
        self.server = server

    @property
    def url(self) -> str:
        return self.server.url


def test_load_with_server_killed_mid_run_loses_and_doubles_nothing(
        postgres_server: PostgresServer, postgres_template: str, tmp_path) -> None:
    url = postgres_server.create_database("load", template=postgres_template)
    engine = make_engine(url)
    with session_factory(engine)() as s:
        agents = [create_token(s, add_principal(s, f"agent{i}", "agent"), "load")[1] for i in range(AGENTS)]
        approvers = [create_token(s, add_principal(s, f"approver{i}", "approver"), "load")[1]
                     for i in range(APPROVERS)]
        s.commit()
    live = Live(ServerProcess(url, tmp_path / "data", tmp_path / "first.log"))
    first = live.server
    lock = threading.Lock()
    confirmed: dict[str, str] = {}  # reason key -> id the server answered with
    attempted: set[str] = set()
    unanswered: set[str] = set()  # creates sent whose answer the kill cut off
    refused: dict[str, str] = {}  # creates answered with anything but 201 (none expected)
    claims_ok: Counter[str] = Counter()
    transport_errors = Counter[str]()
    created = threading.Semaphore(0)
    agents_done = threading.Event()

    def call(client: httpx.Client, method: str, path: str, **kw: object) -> httpx.Response | None:
        try:
            return client.request(method, f"{live.url}/api/v1{path}", **kw)  # type: ignore[arg-type]
        except httpx.TransportError as e:
            with lock:
                transport_errors[type(e).__name__] += 1
            time.sleep(0.1)
            return None

    def agent(i: int) -> None:
        with httpx.Client(timeout=30, headers={"Authorization": f"Bearer {agents[i]}"}) as c:
            for j in range(PER_AGENT):
                key = f"agent{i}-{j}"
                with lock:
                    attempted.add(key)
                while True:  # a refused connection never reached the server: the same create is safe to resend
                    try:
                        r = c.post(f"{live.url}/api/v1/requests", json={
                            "argv": ["terraform", "apply", "tfplan"], "cwd": "/srv", "environment": "prod",
                            "reason": key, "plan_sha256": PLAN})
                        break
                    except httpx.ConnectError:
                        time.sleep(0.1)
                    except httpx.TransportError:  # sent, answer lost: it may or may not exist, never resent
                        with lock:
                            unanswered.add(key)
                        r = None
                        break
                if r is not None and r.status_code == 201:
                    with lock:
                        confirmed[key] = r.json()["id"]
                    created.release()
                elif r is not None:
                    with lock:
                        refused[key] = f"{r.status_code} {r.text[:200]}"
            while True:  # claim everything of mine that gets approved, including creates whose answer was lost
                r = call(c, "GET", "/requests", params={"limit": 500})
                if r is None or r.status_code != 200:
                    continue
                open_ = [x for x in r.json() if x["status"] in ("pending", "approved")]
                if not open_:
                    return
                for x in open_:
                    if x["status"] == "approved":
                        got = call(c, "POST", f"/requests/{x['id']}/claim", json={"plan_sha256": PLAN})
                        if got is not None and got.status_code == 200:
                            with lock:
                                claims_ok[x["id"]] += 1
                time.sleep(0.05)

    def approver(i: int) -> None:
        with httpx.Client(timeout=30, headers={"Authorization": f"Bearer {approvers[i]}"}) as c:
            while not agents_done.is_set():
                r = call(c, "GET", "/requests", params={"status": "pending", "limit": 50})
                if r is None or r.status_code != 200:
                    continue
                for x in r.json()[i::APPROVERS] or r.json():
                    call(c, "POST", f"/requests/{x['id']}/decision", json={"decision": "approve", "comment": "ok"})
                time.sleep(0.02)

    try:
        with ThreadPoolExecutor(AGENTS + APPROVERS) as pool:
            approver_runs = [pool.submit(approver, i) for i in range(APPROVERS)]
            agent_runs = [pool.submit(agent, i) for i in range(AGENTS)]
            for _ in range(AGENTS * PER_AGENT // 3):
                assert created.acquire(timeout=60), "agents stopped creating requests before the kill"
            os.kill(first.proc.pid, signal.SIGKILL)
            first.proc.wait(timeout=10)
            killed_at = len(confirmed)
            live.server = ServerProcess(url, tmp_path / "data", tmp_path / "second.log")
            for run in agent_runs:
                run.result(timeout=120)
            agents_done.set()
            for run in approver_runs:
                run.result(timeout=60)
        assert first.proc.returncode == -signal.SIGKILL
        assert killed_at < len(confirmed), "the kill came after the agents had finished creating"
        with httpx.Client(timeout=30) as c:
            def claim_again(rid_token: tuple[str, str]) -> int:
                rid, token = rid_token
                return c.post(f"{live.url}/api/v1/requests/{rid}/claim", json={"plan_sha256": PLAN},
                              headers={"Authorization": f"Bearer {token}"}).status_code

            with ThreadPoolExecutor(8) as pool:
                second = list(pool.map(claim_again, [(rid, agents[int(key[5:].split("-")[0])])
                                                     for key, rid in confirmed.items()]))
        assert set(second) == {409}, Counter(second)
    finally:
        live.server.stop()
        first.stop()

    with session_factory(engine)() as s:
        rows = list(s.scalars(select(ApprovalRequest)))
        records = list(s.scalars(select(AuditRecord).order_by(AuditRecord.seq)))
    engine.dispose()
    by_key = Counter(r.reason for r in rows)
    assert not refused, refused
    # Only a create cut off by the kill may go unanswered (a stale keep-alive connection can cut off a second one).
    assert set(confirmed) | unanswered == attempted and len(unanswered) <= 3 * AGENTS, (unanswered, transport_errors)
    assert all(n == 1 for n in by_key.values()), [k for k, n in by_key.items() if n > 1]
    assert set(by_key) <= attempted
    assert {r.reason: r.id for r in rows if r.reason in confirmed} == confirmed
    assert {r.status for r in rows} == {"claimed"}
    actions = Counter((rec.request_id, rec.action) for rec in records)
    for r in rows:
        assert actions[(r.id, "created")] == 1 and actions[(r.id, "approved")] == 1
        assert actions[(r.id, "claimed")] == 1
        assert claims_ok[r.id] <= 1
    assert verify_chain(records) is None
