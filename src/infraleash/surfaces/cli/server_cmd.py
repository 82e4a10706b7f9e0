"""``infraleash server migrate|token create|token revoke|token list``: the approval server's admin commands."""

from __future__ import annotations

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
