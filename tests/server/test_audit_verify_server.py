"""`infraleash audit verify --server URL` against a real server process: intact, edited record, wrong key."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from infraleash.errors import ExitCode
from infraleash.server.db import make_engine, migrate, session_factory
from infraleash.server.models import AuditRecord
from infraleash.server.tokens import add_principal, create_token

from .serverproc import ServerProcess
from .test_server_cmd import cli


def test_verify_server_intact_then_tampered(server_db_url: str, tmp_path, capsys, monkeypatch) -> None:
    migrate(server_db_url)
    engine = make_engine(server_db_url)
    with session_factory(engine)() as s:
        agent = create_token(s, add_principal(s, "agent", "agent"), "a")[1]
        alice = create_token(s, add_principal(s, "alice", "approver"), "a")[1]
        s.commit()
    server = ServerProcess(server_db_url, tmp_path / "data", tmp_path / "s.log")
    try:
        rid = httpx.post(f"{server.url}/api/v1/requests", headers={"Authorization": f"Bearer {agent}"},
                         json={"argv": ["kubectl", "delete", "ns", "x"], "cwd": "/"}, timeout=30).json()["id"]
        httpx.post(f"{server.url}/api/v1/requests/{rid}/decision", headers={"Authorization": f"Bearer {alice}"},
                   json={"decision": "deny", "comment": "no"}, timeout=30)
        monkeypatch.setenv("INFRALEASH_SERVER_TOKEN", alice)
        code, out, err = cli(capsys, "audit", "verify", "--server", server.url)
        assert code == ExitCode.OK, err
        assert "intact" in out and "2 record(s)" in out
        key = httpx.get(f"{server.url}/api/v1/audit/head", headers={"Authorization": f"Bearer {alice}"},
                        timeout=30).json()["public_key"]
        code, _, _ = cli(capsys, "audit", "verify", "--server", server.url, "--public-key", key)
        assert code == ExitCode.OK
        code, _, err = cli(capsys, "audit", "verify", "--server", server.url, "--public-key", "A" * 43 + "=")
        assert code == ExitCode.FINDINGS and "pinned" in err
        with session_factory(engine)() as s:
            rec = s.scalars(select(AuditRecord).where(AuditRecord.seq == 2)).one()
            rec.detail = {"comment": "yes", "plan_sha256": None}
            s.commit()
        code, _, err = cli(capsys, "audit", "verify", "--server", server.url)
        assert code == ExitCode.FINDINGS and "record 2: hash does not match" in err
        monkeypatch.delenv("INFRALEASH_SERVER_TOKEN")
        code, _, err = cli(capsys, "audit", "verify", "--server", server.url)
        assert code == ExitCode.USAGE and "INFRALEASH_SERVER_TOKEN" in err
    finally:
        server.stop()
        engine.dispose()


@pytest.mark.parametrize("url", ["http://127.0.0.1:1"])
def test_verify_unreachable_server_is_one_line(url: str, capsys, monkeypatch) -> None:
    monkeypatch.setenv("INFRALEASH_SERVER_TOKEN", "ilk_x")
    code, _, err = cli(capsys, "audit", "verify", "--server", url)
    assert code == ExitCode.USAGE and len(err.strip().splitlines()) == 1
