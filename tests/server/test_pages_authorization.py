"""The web pages' authorization matrix: every page x (anonymous, agent, approver of another environment,
approver, admin) -> the expected status, each cell in a fresh logged-in session.  A page missing from the
table fails the test (the API's matrix is tests/server/test_authorization.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.routing import APIRoute

from infraleash.server import oidc, pages

from .test_api import World, world  # noqa: F401  (the fixture)
from .webpages import PASSWORD, Browserless, give_passwords, person

ROLES = ("anonymous", "agent", "bob", "alice", "root")  # bob approves staging only; the request is in prod
Call = Callable[[World, Browserless, str], tuple[str, str, dict[str, str] | None]]


def _login(w: World, b: Browserless, role: str) -> tuple[str, str, dict[str, str]]:
    name = "nobody" if role == "anonymous" else role
    return "POST", "/login", {"name": name, "password": PASSWORD, "csrf_token": b.csrf}


TABLE: dict[tuple[str, str], tuple[Call, tuple[int, int, int, int, int]]] = {
    ("GET", "/"): (lambda w, b, r: ("GET", "/", None), (303, 303, 303, 303, 303)),
    ("GET", "/login"): (lambda w, b, r: ("GET", "/login", None), (200, 200, 200, 200, 200)),
    ("POST", "/login"): (_login, (401, 303, 303, 303, 303)),
    ("POST", "/logout"): (lambda w, b, r: ("POST", "/logout", {"csrf_token": b.csrf}), (303, 303, 303, 303, 303)),
    ("GET", "/requests"): (lambda w, b, r: ("GET", "/requests", None), (303, 200, 200, 200, 200)),
    ("GET", "/history"): (lambda w, b, r: ("GET", "/history", None), (303, 200, 200, 200, 200)),
    ("GET", "/requests/{request_id}"): (lambda w, b, r: ("GET", f"/requests/{w.new()}", None),
                                        (303, 200, 403, 200, 200)),
    ("POST", "/requests/{request_id}/decision"): (
        lambda w, b, r: ("POST", f"/requests/{w.new()}/decision",
                         {"decision": "approve", "comment": "ok", "csrf_token": b.csrf}),
        (401, 403, 403, 303, 303)),
    # OpenID Connect is not configured in this world: both answer 404 (tests/server/test_oidc_login.py has it on)
    ("GET", "/oidc/login"): (lambda w, b, r: ("GET", "/oidc/login", None), (404, 404, 404, 404, 404)),
    ("GET", "/oidc/callback"): (lambda w, b, r: ("GET", "/oidc/callback?code=x&state=y", None),
                                (404, 404, 404, 404, 404)),
}


def test_every_page_has_a_row() -> None:
    routes = {(m, r.path) for router in (pages.router, oidc.router) for r in router.routes
              if isinstance(r, APIRoute) for m in r.methods}
    assert routes == set(TABLE)


@pytest.mark.parametrize("server_db_url", ["sqlite"], indirect=True)
def test_page_authorization_matrix(world: World) -> None:  # noqa: F811
    give_passwords(world.url, ["agent", "bob", "alice", "root"])
    got: dict[tuple[str, str, str], int] = {}
    want: dict[tuple[str, str, str], int] = {}
    for (method, path), (make, expected) in TABLE.items():
        for role, status in zip(ROLES, expected, strict=True):
            b = person(world, None if role == "anonymous" else role)
            verb, url, data = make(world, b, role)
            resp = b.client.request(verb, url, data=data, follow_redirects=False)
            got[(method, path, role)] = resp.status_code
            want[(method, path, role)] = status
    assert got == want
