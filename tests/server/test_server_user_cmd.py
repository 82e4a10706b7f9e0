"""`infraleash server user create` (src/infraleash/surfaces/cli/server_cmd.py): people for the web page."""

from __future__ import annotations

import io

import pytest

from infraleash.errors import ExitCode
from infraleash.server.passwords import verify_password

from .test_server_cmd import cli
from .webpages import principal

SQLITE_ONLY = pytest.mark.parametrize("server_db_url", ["sqlite"], indirect=True)


@SQLITE_ONLY
def test_user_create_hashes_the_password_with_argon2id(server_db_url: str, capsys, monkeypatch) -> None:
    monkeypatch.setenv("INFRALEASH_SERVER_USER_PASSWORD", "a long enough password")
    code, out, err = cli(capsys, "server", "user", "create", "Alice", "--role", "approver", "--env", "prod",
                         "--env", "staging", "--database-url", server_db_url)
    assert code == 0, err
    assert "user Alice (approver, prod,staging) created" in out and "a long enough password" not in out + err
    p = principal(server_db_url, "alice")
    assert p.password_hash is not None and p.password_hash.startswith("$argon2id$")
    assert verify_password(p.password_hash, "a long enough password")
    assert not verify_password(p.password_hash, "a long enough passworD")
    assert p.kind == "person" and p.environments == ["prod", "staging"] and p.oidc_subject is None


@SQLITE_ONLY
def test_user_create_from_stdin_or_oidc_subject_only(server_db_url: str, capsys, monkeypatch) -> None:
    monkeypatch.delenv("INFRALEASH_SERVER_USER_PASSWORD", raising=False)
    monkeypatch.setattr("sys.stdin", io.StringIO("from standard input\n"))
    code, _, err = cli(capsys, "server", "user", "create", "bob", "--password-stdin", "--database-url", server_db_url)
    assert code == 0, err
    assert verify_password(principal(server_db_url, "bob").password_hash, "from standard input")
    code, out, err = cli(capsys, "server", "user", "create", "carol", "--role", "admin", "--oidc-subject",
                         "00u1carol", "--database-url", server_db_url)
    assert code == 0 and "with OpenID Connect" in out, err
    carol = principal(server_db_url, "carol")
    assert carol.password_hash is None and carol.oidc_subject == "00u1carol" and carol.role == "admin"


REFUSALS = [
    (["dave", "--role", "agent"], "people are approver or admin"),
    (["Bob"], "reads the same as existing principal 'bob'"),
    (["eve", "--oidc-subject", "sub-bob"], "already bound to another principal"),
    (["frank", "--env", "prod;drop"], "letters, digits and _.:- only"),
]


@SQLITE_ONLY
def test_user_create_refusals_are_one_line_usage_errors(server_db_url: str, capsys, monkeypatch) -> None:
    monkeypatch.setenv("INFRALEASH_SERVER_USER_PASSWORD", "a long enough password")
    assert cli(capsys, "server", "user", "create", "bob", "--oidc-subject", "sub-bob",
               "--database-url", server_db_url)[0] == 0
    for argv, message in REFUSALS:
        code, _, err = cli(capsys, "server", "user", "create", *argv, "--database-url", server_db_url)
        assert code == ExitCode.USAGE and message in err and len(err.strip().splitlines()) == 1, (argv, err)


@SQLITE_ONLY
def test_user_create_without_a_password_source_or_with_a_short_one(server_db_url: str, capsys, monkeypatch
                                                                   ) -> None:
    monkeypatch.delenv("INFRALEASH_SERVER_USER_PASSWORD", raising=False)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # not a terminal: no prompt
    code, _, err = cli(capsys, "server", "user", "create", "gina", "--database-url", server_db_url)
    assert code == ExitCode.USAGE and "--password-stdin" in err
    monkeypatch.setenv("INFRALEASH_SERVER_USER_PASSWORD", "short")
    code, _, err = cli(capsys, "server", "user", "create", "gina", "--database-url", server_db_url)
    assert code == ExitCode.USAGE and "at least 12 characters" in err
