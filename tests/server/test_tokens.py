"""Tokens are stored hashed, work once created, stop when revoked; names that read the same are one person."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from infraleash.errors import UsageError
from infraleash.server.db import make_engine, session_factory
from infraleash.server.models import ApiToken
from infraleash.server.tokens import add_principal, create_token, find_principal, resolve_token, revoke_token


@pytest.fixture
def session(server_db_url: str):
    engine = make_engine(server_db_url)
    with session_factory(engine)() as s:
        yield s
    engine.dispose()


def test_token_is_stored_only_as_a_hash_and_resolves_to_its_principal(session) -> None:
    agent = add_principal(session, "ci-agent", "agent")
    row, token = create_token(session, agent, "ci")
    session.commit()
    assert token.startswith(f"ilk_{row.id}_")
    secret = token.split("_", 2)[2]
    stored = session.scalars(select(ApiToken)).one()
    assert secret not in stored.token_hash and token not in stored.token_hash
    resolved = resolve_token(session, token)
    assert resolved is not None and resolved[1].name == "ci-agent" and resolved[1].kind == "machine"


def test_wrong_secret_malformed_and_revoked_tokens_do_not_resolve(session) -> None:
    agent = add_principal(session, "ci-agent", "agent")
    row, token = create_token(session, agent, "ci")
    session.commit()
    forged = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert resolve_token(session, forged) is None
    assert resolve_token(session, "ilk_' OR 1=1 --") is None
    assert resolve_token(session, "") is None
    revoke_token(session, row.id)
    session.commit()
    assert resolve_token(session, token) is None


def test_disabled_principal_tokens_do_not_resolve(session) -> None:
    agent = add_principal(session, "ci-agent", "agent")
    _, token = create_token(session, agent, "ci")
    agent.disabled = True
    session.commit()
    assert resolve_token(session, token) is None


@pytest.mark.parametrize("spelling", ["Alice", " alice ", "\u0430lice", "ＡＬＩＣＥ"])
def test_a_name_that_reads_the_same_is_the_same_principal(session, spelling: str) -> None:
    add_principal(session, "alice", "approver")
    session.commit()
    found = find_principal(session, spelling)
    assert found is not None and found.name == "alice"
    with pytest.raises(UsageError, match="reads the same"):
        add_principal(session, spelling, "agent")


def test_bad_role_is_a_usage_error(session) -> None:
    with pytest.raises(UsageError, match="role 'root'"):
        add_principal(session, "bob", "root")
