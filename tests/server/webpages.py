"""Helpers for the web page tests: people with passwords, one logged-in TestClient (cookie jar) per person."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import select

from infraleash.server.db import make_engine, session_factory
from infraleash.server.models import AuditRecord, Principal
from infraleash.server.tokens import find_principal

from .test_api import World

PASSWORD = "correct horse battery staple"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@cache
def password_hash() -> str:
    """An argon2id hash with small cost parameters: verification reads them from the hash, so each login in
    the tests costs milliseconds instead of the production parameters' ~0.6 s on this machine."""
    return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)


def csrf_of(html: str) -> str:
    m = _CSRF.search(html)
    assert m, "no CSRF token in the page"
    return m.group(1)


def give_passwords(url: str, names: list[str]) -> None:
    engine = make_engine(url)
    with session_factory(engine)() as s:
        for name in names:
            p = find_principal(s, name)
            assert p is not None
            p.password_hash = password_hash()
        s.commit()
    engine.dispose()


def audit_of(url: str, action: str = "refused") -> list[AuditRecord]:
    engine = make_engine(url)
    with session_factory(engine)() as s:
        rows = list(s.scalars(select(AuditRecord).where(AuditRecord.action == action).order_by(AuditRecord.seq)))
    engine.dispose()
    return rows


def principal(url: str, name: str) -> Principal:
    engine = make_engine(url)
    with session_factory(engine)() as s:
        p = find_principal(s, name)
    engine.dispose()
    assert p is not None
    return p


@dataclass
class Browserless:
    """One person's cookie jar on the app: log in through the form, then use pages like a browser would."""

    client: TestClient
    csrf: str = ""
    pages: list[str] = field(default_factory=list)

    def login(self, name: str, password: str = PASSWORD):
        self.csrf = csrf_of(self.client.get("/login").text)
        r = self.client.post("/login", data={"name": name, "password": password, "csrf_token": self.csrf,
                                             "next": "/requests"}, follow_redirects=False)
        if r.status_code == 303:
            self.csrf = csrf_of(self.client.get("/requests").text)  # a login starts a new session
        return r

    def get(self, path: str, **params: str):
        return self.client.get(path, params=params, follow_redirects=False)

    def decide(self, rid: str, decision: str = "approve", comment: str = "plan reviewed", csrf: str | None = None):
        data = {"decision": decision, "comment": comment, "csrf_token": self.csrf if csrf is None else csrf}
        return self.client.post(f"/requests/{rid}/decision", data=data, follow_redirects=False)


def person(world: World, name: str | None) -> Browserless:
    """A new cookie jar on the world's app, logged in as ``name`` (None: anonymous, with a login-form session)."""
    b = Browserless(TestClient(world.client.app))
    if name is None:
        b.csrf = csrf_of(b.client.get("/login").text)
    else:
        assert b.login(name).status_code == 303
    return b
