"""The approvers' web pages over real HTTP (TestClient, a cookie jar per person) on SQLite and PostgreSQL:
login, filters, the request page, the decision form, CSRF and the approval rules (src/infraleash/server/pages.py)."""

from __future__ import annotations

import re
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect, select, update

from infraleash.server.app import create_app
from infraleash.server.db import make_engine, session_factory
from infraleash.server.models import ApprovalRequest, Principal
from infraleash.server.settings import ServerSettings

from .test_api import World, world  # noqa: F401  (the fixture)
from .webpages import audit_of, give_passwords, person

PEOPLE = ["alice", "bob", "root", "agent", "ci-bot"]
SCRIPT = "<script>document.title='pwned'</script>"
# the page logic is backend-independent; the filters (SQL) and a decision run on both backends
SQLITE_ONLY = pytest.mark.parametrize("server_db_url", ["sqlite"], indirect=True)


@pytest.fixture
def web(world: World) -> World:  # noqa: F811
    give_passwords(world.url, PEOPLE)
    return world


def _ids(html: str) -> list[str]:
    return re.findall(r'class="request" data-id="([0-9a-f]{32})"', html)


@SQLITE_ONLY
def test_login_wrong_password_logout_and_login_required(web: World) -> None:
    anon = person(web, None)
    r = anon.get("/requests")
    assert r.status_code == 303 and r.headers["location"] == "/login?next=%2Frequests"
    assert anon.login("alice", "not the password").status_code == 401
    assert anon.login("nobody-here").status_code == 401
    refused = audit_of(web.url)
    assert [(a.detail["attempted"], a.detail["status"]) for a in refused] == [("login", 401), ("login", 401)]
    assert anon.login("ALICE").status_code == 303  # names compare case-insensitively
    page = anon.get("/requests")
    assert page.status_code == 200 and "alice (approver)" in page.text
    assert anon.client.post("/logout", data={"csrf_token": anon.csrf}, follow_redirects=False).status_code == 303
    assert anon.get("/requests").status_code == 303
    root = person(web, "root")
    engine = make_engine(web.url)
    with session_factory(engine)() as s:
        s.execute(update(Principal).where(Principal.name == "root").values(disabled=True))
        s.commit()
    engine.dispose()
    assert root.get("/requests").status_code == 303  # a disabled principal's session ends at once


@SQLITE_ONLY
def test_session_cookie_is_httponly_samesite_lax_and_signed(web: World) -> None:
    b = person(web, None)
    r = b.client.post("/login", data={"name": "alice", "password": "correct horse battery staple",
                                      "csrf_token": b.csrf}, follow_redirects=False)
    cookie = r.headers["set-cookie"].lower()
    assert "infraleash_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    forged = person(web, None)
    value = r.headers["set-cookie"].split(";")[0].split("=", 1)[1]
    forged.client.cookies.set("infraleash_session", value[:-4] + ("AAAA" if not value.endswith("AAAA") else "BBBB"))
    assert forged.get("/requests").status_code == 303  # a tampered signature is no session
    assert "; secure" not in cookie  # plain http on loopback; behind https it is Secure:
    https = create_app(ServerSettings(data_dir=web.client.app.state.settings.data_dir, database_url=web.url,
                                      base_url="https://approvals.example.com"))
    jar = TestClient(https, base_url="https://approvals.example.com")
    first = jar.get("/login")
    assert "; secure" in first.headers["set-cookie"].lower()
    https.state.engine.dispose()


@SQLITE_ONLY
def test_session_secret_is_generated_once_0600_and_the_api_ignores_the_cookie(web: World, tmp_path) -> None:
    secret = tmp_path / "session-secret"  # the world's data dir is tmp_path
    assert secret.stat().st_mode & 0o777 == 0o600 and len(secret.read_text().strip()) >= 64
    alice = person(web, "alice")
    assert alice.client.get("/api/v1/whoami").status_code == 401  # a page session never authorizes the API
    restarted = create_app(ServerSettings(data_dir=tmp_path, database_url=web.url))  # same data dir, same secret
    again = TestClient(restarted, cookies=dict(alice.client.cookies))
    assert again.get("/requests", follow_redirects=False).status_code == 200
    restarted.state.engine.dispose()
    other = create_app(ServerSettings(data_dir=tmp_path, database_url=web.url, session_secret="x" * 64))
    assert TestClient(other, cookies=dict(alice.client.cookies)).get(
        "/requests", follow_redirects=False).status_code == 303  # signed with another secret: no session
    other.state.engine.dispose()


def test_filters_are_bound_parameters_sql_metacharacters_match_literally(web: World) -> None:
    prod, staging = web.new(environment="prod"), web.new("agent2", environment="staging")
    odd = web.new(environment="qa' OR '1'='1")
    alice = person(web, "alice")
    assert set(_ids(alice.get("/requests").text)) == {prod, staging, odd}
    assert _ids(alice.get("/requests", environment="prod").text) == [prod]
    assert _ids(alice.get("/requests", environment="qa' OR '1'='1").text) == [odd]  # matched as a literal
    for attack in ("x' OR '1'='1", "prod'--", "prod\" OR 1=1 --", "%", "_rod", "prod; DROP TABLE approval_requests"):
        page = alice.get("/requests", environment=attack)
        assert page.status_code == 200 and _ids(page.text) == [], attack
    assert _ids(alice.get("/requests", requester="AGENT2").text) == [staging]  # name_key, not raw text
    for attack in ("agent' OR '1'='1", "agent'; DROP TABLE principals; --", "' UNION SELECT * FROM principals --"):
        page = alice.get("/requests", requester=attack)
        assert page.status_code == 200 and _ids(page.text) == [], attack
    for attack in ("1 OR 1=1", "1; DROP TABLE audit_records", "nan", "-1", "inf"):
        page = alice.get("/requests", older_than_h=attack)
        assert page.status_code == 400 and "not a number of hours" in page.text, attack
    assert _ids(alice.get("/requests", older_than_h="1").text) == []
    web.post("alice", f"/requests/{odd}/decision", {"decision": "deny", "comment": "no"})
    assert _ids(alice.get("/history", environment="qa' OR '1'='1").text) == [odd]  # the same filters
    assert _ids(alice.get("/history", environment="x' OR '1'='1").text) == []
    assert _ids(alice.get("/history", requester="' OR 1=1 --").text) == []
    assert alice.get("/history", older_than_h="0) OR (1=1").status_code == 400
    engine = make_engine(web.url)
    with session_factory(engine)() as s:
        s.execute(update(ApprovalRequest).where(ApprovalRequest.id == prod)
                  .values(created_at=time.time() - 2 * 3600))
        s.commit()
    engine.dispose()
    assert _ids(alice.get("/requests", older_than_h="1.5").text) == [prod]
    tables = set(inspect(make_engine(web.url)).get_table_names())
    assert {"approval_requests", "principals", "audit_records"} <= tables
    assert _ids(person(web, "bob").get("/requests").text) == [staging]  # bob sees his environment only


@SQLITE_ONLY
def test_request_page_shows_the_exact_request_and_script_in_it_is_inert(web: World) -> None:
    rid = web.new(argv=["terraform", "apply", SCRIPT], reason=f"because {SCRIPT}", cwd="/srv/<b>infra</b>",
                  rules=[{"id": "TF-APPLY", "reason": "apply needs approval <img src=x onerror=alert(1)>"}])
    page = person(web, "alice").get(f"/requests/{rid}")
    assert page.status_code == 200
    html = page.text
    assert "<script>" not in html and "<img src=x" not in html and "<b>infra</b>" not in html
    assert "&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;" in html
    assert "/srv/&lt;b&gt;infra&lt;/b&gt;" in html and "TF-APPLY" in html
    assert "because &lt;script&gt;" in html and "prod" in html
    assert "script-src" not in page.headers["content-security-policy"]  # default-src 'none': no script at all
    assert "did not upload this plan" in html  # a plan hash without its show -json: said, not hidden
    listing = person(web, "root").get("/requests").text
    assert "<script>" not in listing and "&lt;script&gt;" in listing


def test_decide_with_mandatory_comment_then_history_and_audit_trail(web: World) -> None:
    rid = web.new()
    alice = person(web, "alice")
    assert alice.decide(rid, comment="   ").status_code == 422
    assert alice.decide(rid, decision="maybe").status_code == 422
    r = alice.decide(rid, comment="plan reviewed: one bucket policy")
    assert r.status_code == 303 and r.headers["location"] == f"/requests/{rid}"
    page = alice.get(f"/requests/{rid}").text
    assert 'id="status">approved<' in page and "plan reviewed: one bucket policy" in page
    assert ">created<" in page and ">approved<" in page  # the request's audit trail
    assert 'id="approve"' not in page  # no form once decided
    history = alice.get("/history").text
    assert _ids(history) == [rid] and "plan reviewed: one bucket policy" in history
    assert _ids(alice.get("/requests").text) == []
    assert alice.decide(rid, decision="deny", comment="changed my mind").status_code == 409
    assert web.post("agent", f"/requests/{rid}/claim", {"plan_sha256": "a" * 64}).status_code == 200
    other = web.new()
    assert alice.decide(other, decision="deny", comment="wrong window").status_code == 303
    assert 'id="status">denied<' in alice.get(f"/requests/{other}").text
    assert web.post("agent", f"/requests/{other}/claim", {"plan_sha256": "a" * 64}).status_code == 409


@SQLITE_ONLY
def test_csrf_missing_or_foreign_token_is_refused_and_audited(web: World) -> None:
    rid = web.new()
    alice, root = person(web, "alice"), person(web, "root")
    assert alice.decide(rid, csrf="").status_code == 403
    assert alice.decide(rid, csrf=root.csrf).status_code == 403  # another session's token
    bare = alice.client.post(f"/requests/{rid}/decision", data={"decision": "approve", "comment": "ok"},
                             follow_redirects=False)
    assert bare.status_code == 403 and "CSRF" in bare.text
    anon = person(web, None)
    login = anon.client.post("/login", data={"name": "alice", "password": "correct horse battery staple"})
    assert login.status_code == 403  # login CSRF too
    assert web.get("alice", f"/requests/{rid}").json()["status"] == "pending"
    refused = [(a.actor, a.detail["attempted"], a.detail["status"]) for a in audit_of(web.url)]
    assert refused == [("alice", "decision", 403)] * 3 + [("anonymous", "login", 403)]


@SQLITE_ONLY
def test_agent_never_approves_through_the_page(web: World) -> None:
    rid = web.new()
    agent = person(web, "agent")
    page = agent.get(f"/requests/{rid}")
    assert page.status_code == 200 and 'id="approve"' not in page.text  # its own request, read-only
    r = agent.decide(rid)
    assert r.status_code == 403 and "agents never decide" in r.text
    other = web.new("agent2")
    assert agent.get(f"/requests/{other}").status_code == 404
    assert _ids(agent.get("/requests").text) == [rid]
    assert web.get("alice", f"/requests/{rid}").json()["status"] == "pending"
    assert [(a.actor, a.detail["status"]) for a in audit_of(web.url)] == [("agent", 403)]


@SQLITE_ONLY
def test_nobody_approves_their_own_request_through_the_page_whatever_the_spelling(web: World) -> None:
    spellings = ["CI-BOT", "\u0441i-bot", "\uff43\uff49-\uff42\uff4f\uff54"]  # case, Cyrillic с, fullwidth
    rid = web.new("ci-bot")  # filed as an agent; then made an approver spelled another way (same name_key)
    engine = make_engine(web.url)
    for spelling in spellings:
        with session_factory(engine)() as s:
            bot = s.scalar(select(Principal).where(Principal.id == web.get("ci-bot", "/whoami").json()["id"]))
            assert bot is not None
            bot.role, bot.name = "approver", spelling
            s.commit()
        me = person(web, "ci-bot")  # logs in with yet another spelling
        r = me.decide(rid)
        assert r.status_code == 403 and "their own request" in r.text, spelling
    engine.dispose()
    assert web.get("alice", f"/requests/{rid}").json()["status"] == "pending"
    assert [(a.actor, a.detail["attempted"], a.detail["status"]) for a in audit_of(web.url)] == [
        (spelling, "approve", 403) for spelling in spellings]


@SQLITE_ONLY
def test_approver_outside_the_environment_and_expired_requests_are_refused(web: World) -> None:
    rid = web.new(environment="prod")
    bob = person(web, "bob")
    assert bob.get(f"/requests/{rid}").status_code == 403
    r = bob.decide(rid)
    assert r.status_code == 403 and "environment prod" in r.text
    assert web.get("alice", f"/requests/{rid}").json()["status"] == "pending"
    engine = make_engine(web.url)
    with session_factory(engine)() as s:
        s.execute(update(ApprovalRequest).where(ApprovalRequest.id == rid).values(expires_at=time.time() - 1))
        s.commit()
    engine.dispose()
    alice = person(web, "alice")
    assert _ids(alice.get("/requests").text) == []  # an expired request is not pending any more
    assert alice.decide(rid).status_code == 409
    assert [(a.actor, a.detail["status"]) for a in audit_of(web.url)] == [("bob", 403), ("bob", 403),
                                                                          ("alice", 409)]
