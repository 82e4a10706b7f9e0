"""`infraleash server migrate` and `infraleash server token create|list|revoke` (src/infraleash/surfaces/cli/server_cmd.py)."""

from __future__ import annotations

import pytest

from infraleash.errors import ExitCode
from infraleash.server.db import make_engine, session_factory
from infraleash.server.tokens import resolve_token
from infraleash.surfaces.cli import main


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(argv))
    out, err = capsys.readouterr()
    code = exc.value.code
    return (code if isinstance(code, int) else 0), out, err


def test_migrate_then_token_create_prints_a_working_token_once(server_db_url: str, capsys) -> None:
    code, out, _ = cli(capsys, "server", "migrate", "--database-url", server_db_url)
    assert code == 0 and "schema revision 0001" in out
    code, out, err = cli(capsys, "server", "token", "create", "--name", "ci-agent", "--role", "agent",
                         "--database-url", server_db_url)
    assert code == 0, err
    token = out.strip().splitlines()[-1]
    engine = make_engine(server_db_url)
    with session_factory(engine)() as s:
        resolved = resolve_token(s, token)
        assert resolved is not None and resolved[1].name == "ci-agent" and resolved[1].role == "agent"
        token_id = resolved[0].id
    code, out, _ = cli(capsys, "server", "token", "list", "--database-url", server_db_url)
    assert code == 0 and token_id in out and token.split("_", 2)[2] not in out
    code, out, _ = cli(capsys, "server", "token", "revoke", token_id, "--database-url", server_db_url)
    assert code == 0
    with session_factory(engine)() as s:
        assert resolve_token(s, token) is None
    engine.dispose()


def test_token_create_with_environments_and_role_conflict(server_db_url: str, capsys) -> None:
    code, out, _ = cli(capsys, "server", "token", "create", "--name", "alice", "--role", "approver",
                       "--environments", "staging,prod", "--database-url", server_db_url)
    assert code == 0 and "staging,prod" in out
    code, _, err = cli(capsys, "server", "token", "create", "--name", "Alice", "--role", "admin",
                       "--database-url", server_db_url)
    assert code == ExitCode.USAGE and "exists with role approver" in err
    assert len(err.strip().splitlines()) == 1


def test_token_create_on_an_empty_database_says_to_migrate(tmp_path, capsys) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    code, _, err = cli(capsys, "server", "token", "create", "--name", "x", "--role", "agent", "--database-url", url)
    assert code == ExitCode.USAGE and "infraleash server migrate" in err


def test_unreachable_database_is_one_line_without_the_password(capsys) -> None:
    code, _, err = cli(capsys, "server", "migrate", "--database-url",
                       "postgresql+psycopg://u:hunter2@127.0.0.1:1/db")
    assert code == ExitCode.USAGE
    assert "hunter2" not in err and len(err.strip().splitlines()) == 1


def test_server_run_serves_the_api_and_prints_the_admin_password_once(server_db_url: str, tmp_path) -> None:
    from .serverproc import ServerProcess

    first = ServerProcess(server_db_url, tmp_path / "data", tmp_path / "first.log")
    try:
        assert first.url in first.banner() and "one-time password" in first.banner()
        assert (tmp_path / "data" / "signing-key.pem").stat().st_mode & 0o777 == 0o600
    finally:
        first.stop()
    second = ServerProcess(server_db_url, tmp_path / "data", tmp_path / "second.log")
    try:
        assert "one-time password" not in second.banner()  # the admin exists: its password is never shown again
    finally:
        second.stop()
