"""The authorization matrix: every API endpoint x (anonymous, agent, approver of another environment,
approver, admin) -> the expected status.  A route missing from the table fails the test."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from fastapi.routing import APIRoute

from infraleash.server.api import router

from .test_api import PLAN, World, world  # noqa: F401  (the fixture)

ROLES = ("anonymous", "agent", "bob", "alice", "root")  # bob approves staging only; requests are in prod
_names = itertools.count(1)

Call = Callable[[World], tuple[str, str, dict[str, Any] | None]]


def _req(w: World) -> str:
    return w.new()


def _token_id(w: World) -> str:
    made = w.post("root", "/tokens", {"principal": "alice", "name": f"t{next(_names)}"})
    assert made.status_code == 201
    return str(made.json()["id"])


TABLE: dict[tuple[str, str], tuple[Call, tuple[int, int, int, int, int]]] = {
    ("GET", "/api/v1/whoami"): (lambda w: ("GET", "/whoami", None), (401, 200, 200, 200, 200)),
    ("POST", "/api/v1/requests"): (lambda w: ("POST", "/requests", {"argv": ["terraform", "apply", "p"], "cwd": "/",
                                                                    "environment": "prod", "plan_sha256": PLAN}),
                                   (401, 201, 403, 403, 403)),
    ("GET", "/api/v1/requests"): (lambda w: ("GET", "/requests", None), (401, 200, 200, 200, 200)),
    ("GET", "/api/v1/requests/{request_id}"): (lambda w: ("GET", f"/requests/{_req(w)}", None),
                                               (401, 200, 403, 200, 200)),
    ("GET", "/api/v1/requests/{request_id}/wait"): (lambda w: ("GET", f"/requests/{_req(w)}/wait?timeout_s=0", None),
                                                    (401, 200, 403, 200, 200)),
    ("POST", "/api/v1/requests/{request_id}/decision"): (
        lambda w: ("POST", f"/requests/{_req(w)}/decision", {"decision": "approve", "comment": "ok"}),
        (401, 403, 403, 200, 200)),
    ("POST", "/api/v1/requests/{request_id}/claim"): (  # pending, so even the requester gets 409
        lambda w: ("POST", f"/requests/{_req(w)}/claim", {"plan_sha256": PLAN}), (401, 409, 403, 403, 403)),
    ("POST", "/api/v1/requests/{request_id}/result"): (
        lambda w: ("POST", f"/requests/{_req(w)}/result", {"exit_code": 0}), (401, 409, 403, 403, 403)),
    ("GET", "/api/v1/audit"): (lambda w: ("GET", "/audit", None), (401, 403, 200, 200, 200)),
    ("GET", "/api/v1/audit/head"): (lambda w: ("GET", "/audit/head", None), (401, 200, 200, 200, 200)),
    ("POST", "/api/v1/principals"): (lambda w: ("POST", "/principals", {"name": f"p{next(_names)}", "role": "agent"}),
                                     (401, 403, 403, 403, 201)),
    ("GET", "/api/v1/principals"): (lambda w: ("GET", "/principals", None), (401, 403, 403, 403, 200)),
    ("POST", "/api/v1/tokens"): (lambda w: ("POST", "/tokens", {"principal": "alice", "name": f"t{next(_names)}"}),
                                 (401, 403, 403, 403, 201)),
    ("DELETE", "/api/v1/tokens/{token_id}"): (lambda w: ("DELETE", f"/tokens/{_token_id(w)}", None),
                                              (401, 403, 403, 403, 200)),
}


def test_every_route_has_a_row() -> None:
    routes = {(m, r.path) for r in router.routes if isinstance(r, APIRoute) for m in r.methods}
    assert routes == set(TABLE)


def test_authorization_matrix(world: World) -> None:  # noqa: F811
    got: dict[tuple[str, str, str], int] = {}
    want: dict[tuple[str, str, str], int] = {}
    for (method, path), (make, expected) in TABLE.items():
        for role, status in zip(ROLES, expected, strict=True):
            verb, url, body = make(world)
            headers = {} if role == "anonymous" else world.h(role)
            resp = world.client.request(verb, f"/api/v1{url}", json=body, headers=headers)
            got[(method, path, role)] = resp.status_code
            want[(method, path, role)] = status
    assert got == want
