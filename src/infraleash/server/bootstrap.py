"""First start: the schema, the signing key, and an ``admin`` account with a one-time password.

The password is returned once (the caller prints it) and stored only as an argon2id hash; the admin logs in
on the web page (J2) or creates tokens with ``infraleash server token create``.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select

from infraleash.server import signing
from infraleash.server.db import make_engine, migrate, session_factory
from infraleash.server.models import Principal
from infraleash.server.passwords import hash_password
from infraleash.server.settings import ServerSettings
from infraleash.server.tokens import add_principal

ADMIN_NAME = "admin"


def prepare(settings: ServerSettings) -> str | None:
    """Migrate, create the signing key, and the first admin; the admin's one-time password when just created."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    url = settings.resolved_database_url
    migrate(url)
    signing.load_or_create(settings.resolved_signing_key_path)
    engine = make_engine(url)
    try:
        with session_factory(engine)() as s:
            if s.scalar(select(Principal).where(Principal.role == "admin").limit(1)) is not None:
                return None
            password = secrets.token_urlsafe(18)
            add_principal(s, ADMIN_NAME, "admin", kind="person", password_hash=hash_password(password))
            s.commit()
            return password
    finally:
        engine.dispose()
