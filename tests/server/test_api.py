"""The JSON API's rules over real HTTP requests (FastAPI TestClient) on SQLite and a real PostgreSQL."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from infraleash.server.app import create_app
from infraleash.server.audit import verify_chain
from infraleash.server.db import make_engine, session_factory
from infraleash.server.models import ApprovalRequest, AuditRecord, Principal
from infraleash.server.settings import ServerSettings
from infraleash.server.tokens import add_principal, create_token, revoke_token

PLAN = "a" * 64
APPLY = {"argv": ["terraform", "apply", "tfplan"], "cwd": "/srv/infra", "environment": "prod",
         "reason": "rotate the bucket policy", "rules": [{"id": "TF-APPLY", "reason": "apply needs approval"}],
         "plan_sha256": PLAN}


@dataclass
class World:
    client: TestClient
    url: str
    tokens: dict[str, str]

    def h(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def post(self, who: str, path: str, json: dict | None = None):
        return self.client.post(f"/api/v1{path}", json=json or {}, headers=self.h(who))

    def get(self, who: str, path: str, **params):
        return self.client.get(f"/api/v1{path}", params=params, headers=self.h(who))

    def audit(self) -> list[AuditRecord]:
        engine = make_engine(self.url)
        with session_factory(engine)() as s:
            rows = list(s.scalars(select(AuditRecord).order_by(AuditRecord.seq)))
        engine.dispose()
        return rows

    def new(self, who: str = "agent", **over) -> str:
        r = self.post(who, "/requests", {**APPLY, **over})
        assert r.status_code == 201, r.text
        return str(r.json()["id"])


PEOPLE = [("agent", "agent", []), ("agent2", "agent", []), ("alice", "approver", []),
          ("bob", "approver", ["staging"]), ("root", "admin", []), ("ci-bot", "agent", []),
          ("staging-agent", "agent", ["staging"])]


@pytest.fixture
def world(server_db_url: str, tmp_path) -> Iterator[World]:
    engine = make_engine(server_db_url)
    tokens: dict[str, str] = {}
    with session_factory(engine)() as s:
        for name, role, envs in PEOPLE:
            p = add_principal(s, name, role, environments=envs)
            tokens[name] = create_token(s, p, name)[1]
        revoked = add_principal(s, "revoked-approver", "approver")
        row, tokens["revoked"] = create_token(s, revoked, "old")
        revoke_token(s, row.id)
        s.commit()
    engine.dispose()
    app = create_app(ServerSettings(data_dir=tmp_path, database_url=server_db_url))
    with TestClient(app) as client:
        yield World(client, server_db_url, tokens)
    app.state.engine.dispose()


def test_whoami_and_unauthenticated_calls(world: World) -> None:
    assert world.get("alice", "/whoami").json()["role"] == "approver"
    assert world.client.get("/api/v1/whoami").status_code == 401
    assert world.client.get("/api/v1/requests", headers={"Authorization": "Bearer ilk_nope"}).status_code == 401
    assert world.get("revoked", "/whoami").status_code == 401


def test_full_life_approve_claim_once_result_and_chained_audit(world: World) -> None:
    rid = world.new()
    assert world.get("agent", f"/requests/{rid}").json()["status"] == "pending"
    r = world.post("alice", f"/requests/{rid}/decision", {"decision": "approve", "comment": "plan reviewed"})
    assert r.status_code == 200 and r.json()["status"] == "approved" and r.json()["decided_by"] == "alice"
    claimed = world.post("agent", f"/requests/{rid}/claim", {"plan_sha256": PLAN})
    assert claimed.status_code == 200
    assert claimed.json() == {"argv": APPLY["argv"], "cwd": "/srv/infra", "environment": "prod", "plan_sha256": PLAN}
    assert world.post("agent", f"/requests/{rid}/claim", {"plan_sha256": PLAN}).status_code == 409  # replay
    done = world.post("agent", f"/requests/{rid}/result", {"exit_code": 0, "output_tail": "Apply complete!"})
    assert done.status_code == 200 and done.json()["status"] == "done"
    records = world.audit()
    assert [r.action for r in records] == ["created", "approved", "claimed", "refused", "done"]
    assert records[3].detail["attempted"] == "claim" and records[3].detail["status"] == 409
    assert verify_chain(records) is None
    records[1].detail = {"comment": "edited afterwards"}
    assert verify_chain(records) == "record 2: hash does not match its content"


def test_agent_never_decides_and_the_refusal_is_audited(world: World) -> None:
    rid = world.new()
    r = world.post("agent2", f"/requests/{rid}/decision", {"decision": "approve", "comment": "lgtm"})
    assert r.status_code == 403  # refused on role before anything about the request is looked up
    assert world.get("agent2", f"/requests/{rid}").status_code == 404  # another agent's request: unknown to it
    r = world.post("agent", f"/requests/{rid}/decision", {"decision": "approve", "comment": "lgtm"})
    assert r.status_code == 403 and "agents never decide" in r.json()["detail"]
    assert world.get("alice", f"/requests/{rid}").json()["status"] == "pending"
    refused = [a for a in world.audit() if a.action == "refused"]
    assert [(a.actor, a.detail["status"]) for a in refused] == [("agent2", 403), ("agent", 403)]


@pytest.mark.parametrize("spelling", ["Ci-Bot", "CI-BOT", "\u0441i-bot", "\uff43\uff49-\uff42\uff4f\uff54"])
def test_nobody_decides_their_own_request_whatever_the_spelling(world: World, spelling: str) -> None:
    # ci-bot files a request as an agent, then is made an approver and renamed to another spelling of
    # itself (other case, Cyrillic с, fullwidth): its name_key is unchanged, so it is still the requester.
    rid = world.new("ci-bot")
    engine = make_engine(world.url)
    with session_factory(engine)() as s:
        bot = s.scalar(select(Principal).where(Principal.name == "ci-bot"))
        assert bot is not None
        bot.role, bot.name = "approver", spelling
        s.commit()
    engine.dispose()
    r = world.post("ci-bot", f"/requests/{rid}/decision", {"decision": "approve", "comment": "mine"})
    assert r.status_code == 403 and "their own request" in r.json()["detail"]
    assert world.get("alice", f"/requests/{rid}").json()["status"] == "pending"


def test_approver_outside_the_environment_is_refused(world: World) -> None:
    rid = world.new(environment="prod")
    r = world.post("bob", f"/requests/{rid}/decision", {"decision": "approve", "comment": "ok"})
    assert r.status_code == 403 and "environment prod" in r.json()["detail"]
    assert world.get("bob", f"/requests/{rid}").status_code == 403
    assert rid not in [x["id"] for x in world.get("bob", "/requests").json()]
    staging = world.new("staging-agent", environment="staging")
    assert world.post("bob", f"/requests/{staging}/decision", {"decision": "deny", "comment": "no"}).status_code == 200
    assert world.post("staging-agent", "/requests", {**APPLY, "environment": "prod"}).status_code == 403


def test_comment_is_required_and_decided_requests_stay_decided(world: World) -> None:
    rid = world.new()
    assert world.post("alice", f"/requests/{rid}/decision", {"decision": "approve", "comment": "  "}).status_code == 422
    assert world.post("alice", f"/requests/{rid}/decision", {"decision": "deny", "comment": "no"}).status_code == 200
    again = world.post("root", f"/requests/{rid}/decision", {"decision": "approve", "comment": "override"})
    assert again.status_code == 409
    assert world.post("agent", f"/requests/{rid}/claim", {"plan_sha256": PLAN}).status_code == 409


def test_claim_needs_the_approved_plan_hash_and_the_requester(world: World) -> None:
    rid = world.new()
    world.post("alice", f"/requests/{rid}/decision", {"decision": "approve", "comment": "ok"})
    assert world.post("agent", f"/requests/{rid}/claim", {"plan_sha256": "b" * 64}).status_code == 409
    assert world.post("agent", f"/requests/{rid}/claim", {}).status_code == 409
    assert world.post("alice", f"/requests/{rid}/claim", {"plan_sha256": PLAN}).status_code == 403
    assert world.post("agent", f"/requests/{rid}/claim", {"plan_sha256": PLAN}).status_code == 200


def test_expired_requests_cannot_be_decided_or_claimed(world: World) -> None:
    pending, approved = world.new(), world.new()
    world.post("alice", f"/requests/{approved}/decision", {"decision": "approve", "comment": "ok"})
    engine = make_engine(world.url)
    with session_factory(engine)() as s:
        for rid in (pending, approved):
            row = s.get(ApprovalRequest, rid)
            assert row is not None
            row.expires_at = time.time() - 1
        s.commit()
    engine.dispose()
    decided = world.post("alice", f"/requests/{pending}/decision", {"decision": "approve", "comment": "ok"})
    assert decided.status_code == 409 and "expired" in decided.json()["detail"]
    assert world.post("agent", f"/requests/{approved}/claim", {"plan_sha256": PLAN}).status_code == 409
    assert world.get("agent", f"/requests/{approved}").json()["status"] == "expired"


def test_list_filters_and_sql_metacharacters(world: World) -> None:
    a = world.new()
    b = world.new("agent2", environment="staging")
    world.post("alice", f"/requests/{b}/decision", {"decision": "deny", "comment": "no"})

    def ids(resp) -> set[str]:
        return {x["id"] for x in resp.json()}

    assert ids(world.get("alice", "/requests", status="pending")) == {a}
    assert ids(world.get("alice", "/requests", environment="staging")) == {b}
    assert ids(world.get("alice", "/requests", requester="AGENT2")) == {b}
    assert ids(world.get("agent", "/requests")) == {a}  # agents see only their own
    for evil in ["' OR '1'='1", "prod'; DROP TABLE approval_requests; --", "%", "_", "\\"]:
        assert world.get("alice", "/requests", environment=evil).json() == []
        assert world.get("alice", "/requests", requester=evil).json() == []
    assert world.get("alice", "/requests", status="' OR 1=1 --").status_code == 422
    assert len(world.get("alice", "/requests").json()) == 2  # the table is still there


def test_concurrent_claims_exactly_one_wins(world: World) -> None:
    rid = world.new()
    world.post("alice", f"/requests/{rid}/decision", {"decision": "approve", "comment": "ok"})
    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(lambda _: world.post("agent", f"/requests/{rid}/claim", {"plan_sha256": PLAN})
                              .status_code, range(8)))
    assert sorted(codes) == [200] + [409] * 7
    assert verify_chain(world.audit()) is None


def test_wait_returns_when_decided_and_at_the_timeout_while_pending(world: World) -> None:
    rid = world.new()
    started = time.monotonic()
    still = world.get("agent", f"/requests/{rid}/wait", timeout_s=0.5)
    assert still.json()["status"] == "pending" and time.monotonic() - started >= 0.5
    with ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(world.get, "agent", f"/requests/{rid}/wait", timeout_s=20)
        time.sleep(0.5)
        world.post("alice", f"/requests/{rid}/decision", {"decision": "approve", "comment": "ok"})
        started = time.monotonic()
        assert waiting.result(timeout=20).json()["status"] == "approved"
        assert time.monotonic() - started < 5


def test_audit_export_and_signed_head(world: World) -> None:
    from infraleash.server.signing import verify_head

    rid = world.new()
    world.post("alice", f"/requests/{rid}/decision", {"decision": "deny", "comment": "not today"})
    assert world.get("agent", "/audit").status_code == 403
    lines = [json.loads(x) for x in world.get("alice", "/audit").text.splitlines()]
    assert [x["action"] for x in lines] == ["created", "denied", "refused"]  # the agent's 403 is audited too
    assert [x["seq"] for x in world_lines(world, after_seq=1)] == [2, 3]
    head = world.get("alice", "/audit/head").json()
    assert head["seq"] == 3 and head["hash"] == lines[-1]["hash"]
    assert verify_head(head["public_key"], head["seq"], head["hash"], head["signature"])
    assert not verify_head(head["public_key"], head["seq"], "f" * 64, head["signature"])


def world_lines(world: World, **params) -> list[dict]:
    return [json.loads(x) for x in world.get("root", "/audit", **params).text.splitlines()]


def test_admin_manages_principals_and_tokens_others_cannot(world: World) -> None:
    assert world.post("alice", "/principals", {"name": "carol", "role": "approver"}).status_code == 403
    assert world.post("root", "/principals", {"name": "carol", "role": "approver",
                                              "environments": ["prod"]}).status_code == 201
    assert world.post("root", "/principals", {"name": "CAROL", "role": "agent"}).status_code == 409
    made = world.post("root", "/tokens", {"principal": "carol", "name": "laptop"})
    assert made.status_code == 201
    world.tokens["carol"] = made.json()["token"]
    assert world.get("carol", "/whoami").json()["environments"] == ["prod"]
    assert world.client.delete(f"/api/v1/tokens/{made.json()['id']}", headers=world.h("agent")).status_code == 403
    assert world.client.delete(f"/api/v1/tokens/{made.json()['id']}", headers=world.h("root")).status_code == 200
    assert world.get("carol", "/whoami").status_code == 401
    names = {p["name"] for p in world.get("root", "/principals").json()}
    assert {"carol", "alice", "agent"} <= names
    assert world.get("agent", "/principals").status_code == 403


def test_plan_json_is_reviewed_at_creation_and_garbage_is_refused(world: World) -> None:
    from pathlib import Path

    from infraleash.policy import Policy
    from infraleash.review import review_plan
    from infraleash.terraform.plan import parse_plan

    plan = (Path(__file__).parents[2] / "examples" / "review" / "recorded-plan.json").read_text()
    rid = world.new(plan_json=plan)
    review = world.get("alice", f"/requests/{rid}").json()["review"]
    expected = review_plan(parse_plan(plan, "plan_json"), Policy(), environment="prod")
    assert review["verdict"] == expected.verdict == "needs_approval"
    assert review["headline"] == expected.headline
    assert [f["rule"] for f in review["findings"]] == [f.rule for f in expected.findings] != []
    bad = world.post("agent", "/requests", {**APPLY, "plan_json": "{not json"})
    assert bad.status_code == 422 and "plan_json" in bad.json()["detail"]
