"""The Alembic migration builds the schema the ORM expects, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import inspect, select

from infraleash.server.db import current_revision, make_engine, migrate, session_factory
from infraleash.server.models import Base, ChainHead


def test_migration_creates_every_model_table_and_column(server_db_url: str) -> None:
    engine = make_engine(server_db_url)
    try:
        insp = inspect(engine)
        for table in Base.metadata.sorted_tables:
            columns = {c["name"] for c in insp.get_columns(table.name)}
            assert columns == {c.name for c in table.columns}, table.name
        unique = {tuple(u["column_names"]) for u in insp.get_unique_constraints("principals")}
        unique |= {tuple(i["column_names"]) for i in insp.get_indexes("principals") if i.get("unique")}
        assert ("name_key",) in unique
    finally:
        engine.dispose()
    assert current_revision(server_db_url) == "0001"


def test_migrate_twice_is_a_no_op_and_keeps_the_chain_genesis(server_db_url: str) -> None:
    migrate(server_db_url)
    engine = make_engine(server_db_url)
    try:
        with session_factory(engine)() as s:
            heads = s.scalars(select(ChainHead)).all()
        assert [(h.id, h.seq, h.hash) for h in heads] == [(1, 0, "0" * 64)]
    finally:
        engine.dispose()
