"""OpenID Connect login against a real provider (npm oidc-provider, started by the test): authorization code
flow with PKCE and issuer discovery; the ID token's ``sub`` must be bound to a principal by an admin
(src/infraleash/server/oidc.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from infraleash.server.app import create_app
from infraleash.server.db import make_engine, migrate, session_factory
from infraleash.server.models import AuditRecord
from infraleash.server.settings import ServerSettings
from infraleash.server.tokens import add_principal

from .oidcproc import OidcProvider, login_through
from .pg import free_port

CLIENT_ID, CLIENT_SECRET = "infraleash-approvals", "a-client-secret-for-this-test-only"
REDIRECT = "http://testserver/oidc/callback"


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcProvider]:
    p = OidcProvider(tmp_path_factory.mktemp("oidc") / "provider.log", CLIENT_ID, CLIENT_SECRET, REDIRECT)
    try:
        yield p
    finally:
        p.stop()


@pytest.fixture
def app_url(provider: OidcProvider, tmp_path: Path) -> Iterator[tuple[TestClient, str]]:
    url = f"sqlite:///{tmp_path / 'server.db'}"
    migrate(url)
    engine = make_engine(url)
    with session_factory(engine)() as s:
        add_principal(s, "Alice", "approver", kind="person", environments=["prod"]).oidc_subject = "alice-sub"
        s.commit()
    engine.dispose()
    env = {"INFRALEASH_SERVER_OIDC_ISSUER": provider.issuer, "INFRALEASH_SERVER_OIDC_CLIENT_ID": CLIENT_ID,
           "INFRALEASH_SERVER_OIDC_CLIENT_SECRET": CLIENT_SECRET, "INFRALEASH_SERVER_OIDC_REDIRECT_URI": REDIRECT}
    settings = ServerSettings.from_env(env, data_dir=tmp_path, database_url=url)
    assert settings.oidc is not None and settings.oidc.issuer == provider.issuer
    app = create_app(settings)
    with TestClient(app) as client:
        yield client, url
    app.state.engine.dispose()


def _audit(url: str) -> list[AuditRecord]:
    engine = make_engine(url)
    with session_factory(engine)() as s:
        rows = list(s.scalars(select(AuditRecord).order_by(AuditRecord.seq)))
    engine.dispose()
    return rows


def test_code_flow_with_pkce_logs_in_the_bound_principal(provider: OidcProvider, app_url) -> None:
    client, url = app_url
    assert 'id="oidc-login"' in client.get("/login").text
    start = client.get("/oidc/login", params={"next": "/history"}, follow_redirects=False)
    assert start.status_code == 302
    auth = urlsplit(start.headers["location"])
    query = parse_qs(auth.query)
    assert f"{auth.scheme}://{auth.netloc}" == provider.issuer  # found by discovery
    assert query["response_type"] == ["code"] and query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) >= 43 and query["nonce"] and query["state"]
    back = login_through(provider, start.headers["location"], "alice-sub")
    assert back.startswith(REDIRECT + "?") and "code=" in back
    done = client.get(back.removeprefix("http://testserver"), follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/history"
    page = client.get("/requests")
    assert page.status_code == 200 and "Alice (approver: prod)" in page.text
    login = [a for a in _audit(url) if a.action == "login"]
    assert [(a.actor, a.detail) for a in login] == [("Alice", {"method": "oidc", "subject": "alice-sub"})]


def test_an_unbound_subject_is_refused_and_audited(provider: OidcProvider, app_url) -> None:
    client, url = app_url
    start = client.get("/oidc/login", follow_redirects=False)
    back = login_through(provider, start.headers["location"], "mallory")
    r = client.get(back.removeprefix("http://testserver"), follow_redirects=False)
    assert r.status_code == 403 and "no principal has OpenID Connect subject &#39;mallory&#39;" in r.text
    assert client.get("/requests", follow_redirects=False).status_code == 303  # not logged in
    refused = [a.detail for a in _audit(url) if a.action == "refused"]
    assert [(d["attempted"], d["subject"]) for d in refused] == [("oidc login", "mallory")]


def test_a_callback_with_a_forged_state_is_refused(provider: OidcProvider, app_url) -> None:
    client, url = app_url
    start = client.get("/oidc/login", follow_redirects=False)
    back = login_through(provider, start.headers["location"], "alice-sub")
    forged = back.removeprefix("http://testserver").replace("state=", "state=forged")
    r = client.get(forged, follow_redirects=False)
    assert r.status_code == 403 and "OpenID Connect login failed" in r.text
    assert client.get("/requests", follow_redirects=False).status_code == 303


def test_an_unreachable_provider_is_a_clear_502(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'server.db'}"
    migrate(url)
    settings = ServerSettings(data_dir=tmp_path, database_url=url, oidc={
        "issuer": f"http://127.0.0.1:{free_port()}", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET})
    app = create_app(settings)
    r = TestClient(app).get("/oidc/login", follow_redirects=False)
    assert r.status_code == 502 and "cannot be used: ConnectError" in r.text
    app.state.engine.dispose()
