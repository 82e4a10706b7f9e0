"""``infraleash server migrate|token create|token revoke|token list|user create``: the approval server's admin
commands."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import typer
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from infraleash.errors import InputError, UsageError
from infraleash.server.db import current_revision, make_engine, migrate, session_factory
from infraleash.server.models import ApiToken, Principal
from infraleash.server.settings import ServerSettings
from infraleash.server.tokens import (
    add_principal,
    create_token,
    find_principal,
    parse_environments,
    revoke_token,
)
from infraleash.surfaces.cli.tables import keep_whole, table_console

server_app = typer.Typer(help="Run and administer the approval server.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens for agents and approvers (shown once, stored hashed).",
                        no_args_is_help=True)
server_app.add_typer(token_app, name="token")
user_app = typer.Typer(help="People's accounts for the web page (argon2id password, or an OpenID Connect subject).",
                       no_args_is_help=True)
server_app.add_typer(user_app, name="user")
PASSWORD_ENV = "INFRALEASH_SERVER_USER_PASSWORD"

DB_OPT = typer.Option(None, "--database-url",
                      help="SQLAlchemy URL (default: INFRALEASH_SERVER_DATABASE_URL or sqlite in the data dir)")


def register(app: typer.Typer) -> None:
    app.add_typer(server_app, name="server")


def _url(database_url: str | None) -> str:
    return ServerSettings.from_env(database_url=database_url).resolved_database_url


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@contextmanager
def _session(url: str) -> Iterator[Session]:
    try:
        revision = current_revision(url)
    except SQLAlchemyError as e:
        raise InputError(f"database {_safe_url(url)}: {str(e.orig if hasattr(e, 'orig') else e).strip()}"
                         .splitlines()[0]) from None
    if revision is None:
        raise UsageError(f"database {_safe_url(url)} has no schema: run `infraleash server migrate` first")
    engine = make_engine(url)
    try:
        with session_factory(engine)() as s, s.begin():
            yield s
    finally:
        engine.dispose()


@server_app.command("run")
def run_cmd(
    host: str | None = typer.Option(None, "--host", help="address to listen on (default 127.0.0.1)"),
    port: int | None = typer.Option(None, "--port", help="port (default 8787)"),
    database_url: str | None = DB_OPT,
) -> None:
    """Start the approval server (migrates the database; the first start creates an admin)."""
    import uvicorn

    from infraleash.server.app import create_app
    from infraleash.server.bootstrap import ADMIN_NAME, prepare

    settings = ServerSettings.from_env(database_url=database_url, host=host, port=port)
    try:
        password = prepare(settings)
    except SQLAlchemyError as e:
        raise InputError(f"database {_safe_url(settings.resolved_database_url)}: "
                         f"{str(getattr(e, 'orig', e)).strip().splitlines()[0]}") from None
    typer.echo(f"infraleash approval server on {settings.resolved_base_url} "
               f"(database {_safe_url(settings.resolved_database_url)})", err=True)
    sso = " or with OpenID Connect" if settings.oidc else ""
    typer.echo(f"approvers log in on {settings.resolved_base_url}/login (local accounts: "
               f"`infraleash server user create NAME --role approver`){sso}", err=True)
    if password:
        typer.echo(f"first start: created user {ADMIN_NAME!r} with one-time password {password} "
                   "(shown once; log in on the web page or create tokens with `infraleash server token create`)",
                   err=True)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="warning")


@server_app.command("migrate")
def migrate_cmd(database_url: str | None = DB_OPT) -> None:
    """Create or upgrade the server's database schema (Alembic upgrade head)."""
    url = _url(database_url)
    try:
        migrate(url)
    except SQLAlchemyError as e:
        raise InputError(f"database {_safe_url(url)}: {str(getattr(e, 'orig', e)).strip().splitlines()[0]}"
                         ) from None
    typer.echo(f"database {_safe_url(url)} at schema revision {current_revision(url)}")


@token_app.command("create")
def token_create(
    name: str = typer.Option(..., "--name", help="principal the token acts as (created when new)"),
    role: str = typer.Option(..., "--role", help="agent | approver | admin"),
    environments: str | None = typer.Option(None, "--environments", help="comma separated; default: all"),
    database_url: str | None = DB_OPT,
) -> None:
    """Create a token for NAME; the token is printed once and stored only as a SHA-256 hash."""
    envs = parse_environments(environments)
    with _session(_url(database_url)) as s:
        principal = find_principal(s, name)
        if principal is None:
            principal = add_principal(s, name, role, environments=envs)
        elif principal.role != role:
            raise UsageError(f"principal {principal.name!r} exists with role {principal.role}, not {role}")
        elif environments is not None and principal.environments != envs:
            raise UsageError(f"principal {principal.name!r} exists with environments "
                             f"{','.join(principal.environments) or 'all'}")
        row, token = create_token(s, principal, name=principal.name)
        scope = ",".join(principal.environments) or "all environments"
    typer.echo(f"token {row.id} for {principal.name} ({principal.role}, {scope}); shown once, keep it secret:")
    typer.echo(token)


@token_app.command("revoke")
def token_revoke(token_id: str = typer.Argument(..., help="the token's id (ilk_<id>_...)"),
                 database_url: str | None = DB_OPT) -> None:
    """Revoke a token: it stops working at once."""
    with _session(_url(database_url)) as s:
        row = revoke_token(s, token_id)
    typer.echo(f"token {row.id} revoked")


def _when(ts: float | None) -> str:
    return "-" if ts is None else datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@token_app.command("list")
def token_list(database_url: str | None = DB_OPT) -> None:
    """Every token: id, principal, role, created, last used, revoked (never the secret)."""
    with _session(_url(database_url)) as s:
        rows = s.execute(select(ApiToken, Principal).join(Principal, ApiToken.principal_id == Principal.id)
                         .order_by(ApiToken.created_at)).all()
        table = keep_whole(Table("id", "principal", "role", "environments", "created", "last used", "revoked"),
                           "id", "role")
        for tok, p in rows:
            table.add_row(tok.id, p.name, p.role, ",".join(p.environments) or "all", _when(tok.created_at),
                          _when(tok.last_used_at), _when(tok.revoked_at))
    table_console().print(table)


def _new_password(password_stdin: bool, oidc_subject: str | None) -> str | None:
    """From stdin (--password-stdin), $INFRALEASH_SERVER_USER_PASSWORD, or a prompt; none for an OIDC-only user."""
    from infraleash.server.passwords import check_new_password

    if password_stdin:
        return check_new_password(sys.stdin.readline().rstrip("\r\n"))
    if os.environ.get(PASSWORD_ENV):
        return check_new_password(os.environ[PASSWORD_ENV])
    if oidc_subject is not None:
        return None
    if not sys.stdin.isatty():
        raise UsageError(f"no password: give it on stdin with --password-stdin, in ${PASSWORD_ENV}, "
                         "or run in a terminal to be asked")
    return check_new_password(typer.prompt("password", hide_input=True, confirmation_prompt=True))


@user_app.command("create")
def user_create(
    name: str = typer.Argument(..., help="the person's name (compared case- and look-alike-insensitively)"),
    role: str = typer.Option("approver", "--role", help="approver | admin (agent: machines use tokens)"),
    env: list[str] = typer.Option([], "--env", help="an environment this person may decide in (repeat); "
                                                    "default: all"),
    oidc_subject: str | None = typer.Option(None, "--oidc-subject",
                                            help="the `sub` of their OpenID Connect ID token (single sign-on)"),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="read the password from stdin"),
    database_url: str | None = DB_OPT,
) -> None:
    """Create a person who logs in on the web page with a password (argon2id) and/or OpenID Connect."""
    from infraleash.server.passwords import hash_password

    if role not in ("approver", "admin"):
        raise UsageError(f"role {role!r}: people are approver or admin (agents use `server token create`)")
    envs = parse_environments(env)
    password = _new_password(password_stdin, oidc_subject)
    with _session(_url(database_url)) as s:
        if oidc_subject is not None and s.scalar(select(Principal).where(Principal.oidc_subject == oidc_subject)):
            raise UsageError(f"OpenID Connect subject {oidc_subject!r} is already bound to another principal")
        p = add_principal(s, name, role, kind="person", environments=envs,
                          password_hash=hash_password(password) if password is not None else None)
        p.oidc_subject = oidc_subject
        scope = ",".join(p.environments) or "all environments"
    how = " and ".join(x for x in ("password" if password else "", "OpenID Connect" if oidc_subject else "") if x)
    typer.echo(f"user {p.name} ({p.role}, {scope}) created; logs in on the web page with {how}")
