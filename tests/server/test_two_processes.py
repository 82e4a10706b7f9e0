"""Two server processes on one database: concurrent claims of one approved request, exactly one wins."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlalchemy import select

from infraleash.server.audit import verify_chain
from infraleash.server.db import make_engine, migrate, session_factory
from infraleash.server.models import AuditRecord
from infraleash.server.tokens import add_principal, create_token

from .serverproc import ServerProcess

PLAN = "c" * 64


def test_concurrent_claims_across_two_processes_exactly_one_wins(server_db_url: str, tmp_path) -> None:
    migrate(server_db_url)
    engine = make_engine(server_db_url)
    with session_factory(engine)() as s:
        agent = create_token(s, add_principal(s, "agent", "agent"), "a")[1]
        alice = create_token(s, add_principal(s, "alice", "approver"), "a")[1]
        s.commit()
    a = ServerProcess(server_db_url, tmp_path / "data", tmp_path / "a.log")
    b = ServerProcess(server_db_url, tmp_path / "data", tmp_path / "b.log")
    try:
        agent_h = {"Authorization": f"Bearer {agent}"}
        rounds = 5
        for _ in range(rounds):
            rid = httpx.post(f"{a.url}/api/v1/requests", headers=agent_h, timeout=30, json={
                "argv": ["terraform", "apply", "tfplan"], "cwd": "/srv", "environment": "prod",
                "plan_sha256": PLAN}).json()["id"]
            decided = httpx.post(f"{b.url}/api/v1/requests/{rid}/decision", timeout=30,
                                 headers={"Authorization": f"Bearer {alice}"},
                                 json={"decision": "approve", "comment": "ok"})
            assert decided.status_code == 200

            def claim(i: int, rid: str = rid) -> int:
                base = (a, b)[i % 2].url
                return httpx.post(f"{base}/api/v1/requests/{rid}/claim", headers=agent_h, timeout=30,
                                  json={"plan_sha256": PLAN}).status_code

            with ThreadPoolExecutor(10) as pool:
                codes = sorted(pool.map(claim, range(10)))
            assert codes == [200] + [409] * 9
    finally:
        a.stop()
        b.stop()
    with session_factory(engine)() as s:
        records = list(s.scalars(select(AuditRecord).order_by(AuditRecord.seq)))
    engine.dispose()
    assert sum(r.action == "claimed" for r in records) == rounds
    assert sum(r.action == "refused" for r in records) == 9 * rounds
    assert verify_chain(records) is None
