"""A real server process on a migrated database with one token per role, and a small API client for tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from infraleash.server.db import make_engine, migrate, session_factory
from infraleash.server.tokens import add_principal, create_token, revoke_token

from .serverproc import ServerProcess

# name, role, environments
MEMBERS = [("ci-agent", "agent", []), ("alice", "approver", []), ("bob", "approver", ["staging"]),
           ("root", "admin", []), ("other-agent", "agent", [])]


@dataclass
class Team:
    server: ServerProcess
    url: str
    database_url: str
    tokens: dict[str, str] = field(default_factory=dict)
    http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=30))  # one keep-alive connection

    def api(self, who: str, method: str, path: str, **kw: Any) -> httpx.Response:
        headers = {**({"Authorization": f"Bearer {self.tokens[who]}"} if who != "anonymous" else {}),
                   **kw.pop("headers", {})}
        return self.http.request(method, f"{self.url}/api/v1{path}", headers=headers, **kw)

    def stop(self) -> None:
        self.http.close()
        self.server.stop()

    def pending(self, who: str = "alice") -> list[dict[str, Any]]:
        r = self.api(who, "GET", "/requests", params={"status": "pending"})
        assert r.status_code == 200, r.text
        return list(r.json())


def start_team(database_url: str, tmp: Path, *, env: dict[str, str] | None = None) -> Team:
    """Migrate, add the members (and a revoked approver token), start ``infraleash server run``."""
    migrate(database_url)
    engine = make_engine(database_url)
    tokens: dict[str, str] = {}
    try:
        with session_factory(engine)() as s:
            for name, role, envs in MEMBERS:
                tokens[name] = create_token(s, add_principal(s, name, role, environments=envs), name)[1]
            row, tokens["revoked"] = create_token(s, add_principal(s, "carol", "approver"), "old laptop")
            revoke_token(s, row.id)
            s.commit()
    finally:
        engine.dispose()
    server = ServerProcess(database_url, tmp / "server-data", tmp / "server.log", env=env)
    return Team(server, server.url, database_url, tokens)
