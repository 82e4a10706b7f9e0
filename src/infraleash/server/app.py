"""``create_app(settings) -> FastAPI``: the JSON API and the approvers' web pages on one database."""

from __future__ import annotations

from fastapi import FastAPI

from infraleash.server import signing
from infraleash.server.api import router
from infraleash.server.db import make_engine, session_factory
from infraleash.server.pages import install_pages
from infraleash.server.settings import ServerSettings


def create_app(settings: ServerSettings) -> FastAPI:
    app = FastAPI(title="infraleash approval server", version="1")
    engine = make_engine(settings.resolved_database_url)
    factory = session_factory(engine)
    factory.configure(info={"request_ttl_s": settings.request_ttl_s})
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = factory
    app.state.signing_key = signing.load_or_create(settings.resolved_signing_key_path)
    app.include_router(router)
    install_pages(app, settings)
    return app
