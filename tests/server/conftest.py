"""``server_db_url``: every server test runs on SQLite and on a real PostgreSQL (tests/server/pg.py)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from infraleash.server.db import migrate

from .pg import PostgresServer

_names = itertools.count(1)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = PostgresServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_template(postgres_server: PostgresServer) -> str:
    """A database migrated once; each test gets a copy (CREATE DATABASE ... TEMPLATE), much faster than migrating."""
    migrate(postgres_server.create_database("migrated_template"))
    return "migrated_template"


@pytest.fixture(params=["sqlite", "postgres"])
def server_db_url(request: pytest.FixtureRequest, tmp_path) -> str:
    """An empty, migrated database on each backend (PostgreSQL: a copy of the migrated template)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'server.db'}"
        migrate(url)
        return url
    server = request.getfixturevalue("postgres_server")
    return str(server.create_database(f"t{next(_names)}", template=request.getfixturevalue("postgres_template")))
