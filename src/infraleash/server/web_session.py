"""Who is on the web page: a signed session cookie and one CSRF token per session.

The cookie is Starlette's ``SessionMiddleware`` (itsdangerous-signed with ``session_secret``; generated once
into ``DATA_DIR/session-secret`` when unset, so replicas must share it through the setting), HttpOnly,
SameSite=Lax, Secure when the base URL is https, valid for 8 hours.  It holds the principal's id, the CSRF
token and how they logged in; the principal is re-read (and must still be enabled) on every page.

Every POST form carries the session's CSRF token; a POST without it, or with another, is refused with 403
and audited before anything else is looked at.  Only the pages read the cookie: the JSON API authenticates
bearer tokens only, so a browser's cookie never authorizes an API call.
"""

from __future__ import annotations

import hmac
import os
import secrets
import time
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Request
from sqlalchemy.orm import Session
from starlette.middleware.sessions import SessionMiddleware

from infraleash.server import audit
from infraleash.server.auth import SessionDep
from infraleash.server.models import Principal
from infraleash.server.settings import ServerSettings

SESSION_COOKIE = "infraleash_session"
SESSION_MAX_AGE_S = 8 * 3600
SECRET_FILE = "session-secret"


def session_secret(settings: ServerSettings) -> str:
    """The configured secret, else the one in the data directory (created 0600 on first use)."""
    if settings.session_secret:
        return settings.session_secret
    path = settings.data_dir / SECRET_FILE
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        secret = secrets.token_urlsafe(48)
        f.write(secret + "\n")
    return secret


def install_sessions(app: FastAPI, settings: ServerSettings) -> None:
    app.add_middleware(SessionMiddleware, secret_key=session_secret(settings), session_cookie=SESSION_COOKIE,
                       max_age=SESSION_MAX_AGE_S, same_site="lax",
                       https_only=settings.resolved_base_url.startswith("https://"))


def csrf_token(request: Request) -> str:
    """This session's CSRF token (made on first use, also for the anonymous session of the login form)."""
    token = request.session.get("csrf")
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def log_in(request: Request, principal: Principal, method: str) -> None:
    """A fresh session for ``principal`` (a new CSRF token too: nothing from before the login survives)."""
    request.session.clear()
    request.session.update(pid=principal.id, method=method, at=time.time(), csrf=secrets.token_urlsafe(32))


def page_principal(request: Request, session: Session) -> Principal | None:
    pid = request.session.get("pid")
    p = session.get(Principal, pid) if isinstance(pid, int) else None
    return None if p is None or p.disabled else p


class LoginRequired(Exception):
    """No (or no longer a valid) session: the page redirects to the login form."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def require_login(request: Request, session: SessionDep) -> Principal:
    p = page_principal(request, session)
    if p is None and request.method != "GET":
        raise HTTPException(401, "log in first")
    if p is None:
        raise LoginRequired(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    return p


PageUser = Annotated[Principal, Depends(require_login)]


def check_csrf(request: Request, session: Session, submitted: str, action: str,
               request_id: str | None = None) -> None:
    """Refuse (403, audited) a form whose CSRF token is not this session's."""
    expected = request.session.get("csrf")
    if isinstance(expected, str) and expected and hmac.compare_digest(expected.encode(), submitted.encode()):
        return
    who = page_principal(request, session)
    message = "the form's CSRF token is missing or wrong: reload the page and submit it again"
    audit.append(session, who.name if who else "anonymous", "refused", request_id,
                 {"attempted": action, "status": 403, "message": message})
    session.commit()
    raise HTTPException(403, message)


def safe_next(path: str | None) -> str:
    """Where to go after logging in: a path on this server only (no open redirect)."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path or "\n" in path:
        return "/requests"
    return path
