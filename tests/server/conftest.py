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


@pytest.fixture(params=["sqlite", "postgres"])
def server_db_url(request: pytest.FixtureRequest, tmp_path) -> str:
    """An empty, migrated database on each backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'server.db'}"
    else:
        url = request.getfixturevalue("postgres_server").create_database(f"t{next(_names)}")
    migrate(url)
    return url
