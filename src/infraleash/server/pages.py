"""The approvers' web page: server-rendered Jinja2 templates (autoescaped), no JavaScript.

Pages: ``/login`` (local account) and ``/oidc/login`` (:mod:`infraleash.server.oidc`), ``/requests`` (pending,
filtered by environment, requester and age), ``/history`` (decided), ``/requests/{id}`` (the exact argv,
directory, environment, requester, reason, the rules that held it, the stored review of the exact plan,
the decision form and the request's audit trail).  The rules are the API's own functions
(:func:`~infraleash.server.api.request_query`, :func:`~infraleash.server.api.load_request`,
:func:`~infraleash.server.api.decide_request`), so a page can never allow what the API refuses; every
refusal is audited there.  Every POST carries the session's CSRF token (:mod:`infraleash.server.web_session`).
"""

from __future__ import annotations

import math
import shlex
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Form, HTTPException, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, PackageLoader
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from infraleash.server import audit, oidc
from infraleash.server.api import Decision, decide_request, expire_if_due, load_request, request_query
from infraleash.server.auth import DECIDERS, SessionDep
from infraleash.server.models import ApprovalRequest, AuditRecord, Principal
from infraleash.server.passwords import verify_password
from infraleash.server.settings import ServerSettings
from infraleash.server.tokens import find_principal
from infraleash.server.web_session import (
    LoginRequired,
    PageUser,
    check_csrf,
    csrf_token,
    install_sessions,
    log_in,
    page_principal,
    safe_next,
)

router = APIRouter(include_in_schema=False)
DECIDED = ("approved", "denied", "expired", "claimed", "done")
# a second wall behind autoescaping: no script, frame or foreign form target can run on these pages
CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")


def _when(ts: float | None) -> str:
    return "" if ts is None else datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _age(ts: float) -> str:
    s = max(0, int(time.time() - ts))
    return f"{s // 86400}d {s % 86400 // 3600}h" if s >= 86400 else f"{s // 3600}h {s % 3600 // 60}m"


_env = Environment(loader=PackageLoader("infraleash.server", "templates"), autoescape=True)
_env.filters.update(when=_when, age=_age, shell=shlex.join)
templates = Jinja2Templates(env=_env)


def render(request: Request, name: str, who: Principal | None, status: int = 200, **ctx: Any) -> Response:
    response = templates.TemplateResponse(
        request, name, {"who": who, "csrf": csrf_token(request), "oidc": request.app.state.oidc is not None,
                        **ctx}, status_code=status)
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


def _who(request: Request) -> Principal | None:
    with request.app.state.sessions() as session:
        return page_principal(request, session)


async def _page_errors(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if request.url.path.startswith("/api/"):
        return await http_exception_handler(request, exc)
    who = await run_in_threadpool(_who, request)
    return render(request, "error.html", who, status=exc.status_code, message=exc.detail,
                  status_code=exc.status_code)


async def _to_login(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    return RedirectResponse(f"/login?{urlencode({'next': exc.next_path})}", status_code=303)


def install_pages(app: FastAPI, settings: ServerSettings) -> None:
    """Mount the pages, the OIDC login, the session middleware and the HTML error pages on ``app``."""
    app.state.oidc = oidc.make_client(settings)
    app.include_router(router)
    app.include_router(oidc.router)
    app.add_exception_handler(StarletteHTTPException, _page_errors)
    app.add_exception_handler(LoginRequired, _to_login)
    install_sessions(app, settings)


@router.get("/")
def home() -> Response:
    return RedirectResponse("/requests", status_code=303)


@router.get("/login")
def login_form(request: Request, session: SessionDep, next: str = "/requests") -> Response:
    return render(request, "login.html", page_principal(request, session), next=safe_next(next))


@router.post("/login")
def login(request: Request, session: SessionDep, name: str = Form(""), password: str = Form(""),
          csrf_token: str = Form(""), next: str = Form("/requests")) -> Response:
    check_csrf(request, session, csrf_token, "login")
    p = find_principal(session, name) if name.strip() else None
    ok = verify_password(p.password_hash if p else None, password)
    if p is None or not ok or p.disabled:
        audit.append(session, "anonymous", "refused", None,
                     {"attempted": "login", "status": 401, "name": name[:200], "message": "wrong name or password"})
        session.commit()
        return render(request, "login.html", None, status=401, next=safe_next(next),
                      error="wrong name or password")
    log_in(request, p, "password")
    audit.append(session, p.name, "login", None, {"method": "password"})
    session.commit()
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/logout")
def logout(request: Request, session: SessionDep, csrf_token: str = Form("")) -> Response:
    check_csrf(request, session, csrf_token, "logout")
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


def _filters(environment: str, requester: str, older_than_h: str) -> dict[str, Any]:
    """The list filters as query values (each one a bound parameter in :func:`request_query`)."""
    age: float | None = None
    if older_than_h.strip():
        try:
            age = float(older_than_h)
        except ValueError:
            age = -1.0
        if not math.isfinite(age) or age < 0:
            raise HTTPException(400, f"older than: {older_than_h[:50]!r} is not a number of hours")
    for label, value in (("environment", environment), ("requester", requester)):
        if len(value) > 200:
            raise HTTPException(400, f"{label}: at most 200 characters")
    return {"environment": environment.strip() or None, "requester": requester.strip() or None,
            "older_than_s": None if age is None else age * 3600}


def _rows(session: Session, requests: list[ApprovalRequest]) -> list[dict[str, Any]]:
    names = {p.id: p.name for p in session.scalars(select(Principal).where(Principal.id.in_(
        {r.requester_id for r in requests} | {r.decided_by_id for r in requests if r.decided_by_id})))}
    return [{"r": r, "requester": names.get(r.requester_id, "?"), "decider": names.get(r.decided_by_id or -1)}
            for r in requests]


@router.get("/requests")
def pending(request: Request, who: PageUser, session: SessionDep, environment: str = "", requester: str = "",
            older_than_h: str = "") -> Response:
    filters = _filters(environment, requester, older_than_h)
    q = request_query(who, status="pending", limit=500, **filters).where(ApprovalRequest.expires_at > time.time())
    rows = _rows(session, list(session.scalars(q)))
    return render(request, "requests.html", who, rows=rows, title="Pending requests", decided=False,
                  form={"environment": environment, "requester": requester, "older_than_h": older_than_h})


@router.get("/history")
def history(request: Request, who: PageUser, session: SessionDep, environment: str = "", requester: str = "",
            older_than_h: str = "") -> Response:
    filters = _filters(environment, requester, older_than_h)
    rows = _rows(session, list(session.scalars(request_query(who, statuses=DECIDED, limit=500, **filters))))
    return render(request, "requests.html", who, rows=rows, title="History", decided=True,
                  form={"environment": environment, "requester": requester, "older_than_h": older_than_h})


@router.get("/requests/{request_id}")
def request_page(request_id: str, request: Request, who: PageUser, session: SessionDep) -> Response:
    r = load_request(session, who, request_id, "read")
    expire_if_due(session, r, time.time())
    requester = session.get(Principal, r.requester_id)
    decider = session.get(Principal, r.decided_by_id) if r.decided_by_id else None
    trail = (list(session.scalars(select(AuditRecord).where(AuditRecord.request_id == r.id)
                                  .order_by(AuditRecord.seq))) if who.role in DECIDERS else None)
    return render(request, "request.html", who, r=r, requester=requester.name if requester else "?",
                  decider=decider.name if decider else None, review=r.review, trail=trail,
                  may_decide=r.status == "pending" and who.role in DECIDERS)


@router.post("/requests/{request_id}/decision")
def decide_form(request_id: str, request: Request, who: PageUser, session: SessionDep,
                decision: str = Form(""), comment: str = Form(""), csrf_token: str = Form("")) -> Response:
    check_csrf(request, session, csrf_token, "decision", request_id)
    try:
        body = Decision.model_validate({"decision": decision, "comment": comment})
    except ValidationError:
        raise HTTPException(422, "choose approve or deny, and write a comment (it is required)") from None
    decide_request(session, who, request_id, body.decision, body.comment)
    return RedirectResponse(f"/requests/{request_id}", status_code=303)
