"""Who is calling: ``Authorization: Bearer ilk_...`` resolved to an enabled principal (401 otherwise).

Roles: agent (create requests, read and claim its own), approver (read all, decide; optionally limited to
environments), admin (approver + principals and tokens).  The rules themselves live in
:mod:`infraleash.server.requests_api`, one visible check per endpoint.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session, sessionmaker

from infraleash.server.models import Principal
from infraleash.server.tokens import resolve_token

DECIDERS = ("approver", "admin")


def get_session(request: Request) -> Iterator[Session]:
    factory: sessionmaker[Session] = request.app.state.sessions
    with factory() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def current_principal(request: Request, session: SessionDep) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    resolved = resolve_token(session, token.strip()) if scheme.lower() == "bearer" else None
    if resolved is None:
        raise HTTPException(401, "a valid bearer token is required", headers={"WWW-Authenticate": "Bearer"})
    row, principal = resolved
    row.last_used_at = time.time()
    session.commit()
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
