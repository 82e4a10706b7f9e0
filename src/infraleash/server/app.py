"""``create_app(settings) -> FastAPI``: the JSON API and the approvers' web pages on one database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from infraleash.server import signing
from infraleash.server.api import router
from infraleash.server.db import make_engine, session_factory
from infraleash.server.notify import Notifier
from infraleash.server.nul_bytes import RefuseNulBytes
from infraleash.server.pages import install_pages
from infraleash.server.settings import ServerSettings


def create_app(settings: ServerSettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        notifier.close()  # at shutdown: what is queued is tried, then the webhook workers stop

    app = FastAPI(title="infraleash approval server", version="1", lifespan=lifespan)
    engine = make_engine(settings.resolved_database_url)
    factory = session_factory(engine)
    notifier = Notifier(settings.webhooks, settings.resolved_base_url)  # api.notify: webhooks after each commit
    factory.configure(info={"request_ttl_s": settings.request_ttl_s, "notifier": notifier})
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = factory
    app.state.signing_key = signing.load_or_create(settings.resolved_signing_key_path)
    app.state.notifier = notifier
    app.include_router(router)
    install_pages(app, settings)
    app.add_middleware(RefuseNulBytes)  # PostgreSQL cannot store U+0000: 422 at the door, not a 500
    return app
