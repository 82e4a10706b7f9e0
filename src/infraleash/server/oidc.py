"""OpenID Connect login (authlib): authorization code flow with PKCE (S256), the issuer found by discovery.

Who may log in is decided here, not by the identity provider: a person logs in through OIDC only when an
admin has created their principal with that subject, ``infraleash server user create NAME --role approver
[--env prod] --oidc-subject SUB``.  The ID token's ``sub`` (signature, issuer, audience, expiry and nonce
checked by authlib) is looked up in ``principals.oidc_subject``; the role and environments are the
principal's, never a claim's, so a misconfigured or compromised provider cannot hand out approver rights.
An unknown subject is refused (403) and audited.

Settings: ``INFRALEASH_SERVER_OIDC_ISSUER``, ``..._CLIENT_ID``, ``..._CLIENT_SECRET`` and optionally
``..._REDIRECT_URI`` (default ``BASE_URL/oidc/callback``).
"""

from __future__ import annotations

import contextlib
from typing import Any

import httpx
from authlib.integrations.starlette_client import OAuth, OAuthError, StarletteOAuth2App
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from infraleash.server import audit
from infraleash.server.models import Principal
from infraleash.server.settings import ServerSettings
from infraleash.server.web_session import log_in, safe_next

router = APIRouter(include_in_schema=False)
# authlib talks to the provider with httpx2 when that is installed, else with httpx: either's errors
HTTP_ERRORS: tuple[type[Exception], ...] = (httpx.HTTPError,)
with contextlib.suppress(ImportError):
    import httpx2

    HTTP_ERRORS = (httpx.HTTPError, httpx2.HTTPError)
PROVIDER_ERRORS: tuple[type[Exception], ...] = (*HTTP_ERRORS, OAuthError, ValueError)


def make_client(settings: ServerSettings) -> StarletteOAuth2App | None:
    if settings.oidc is None:
        return None
    oauth = OAuth()
    client = oauth.register(
        "oidc", client_id=settings.oidc.client_id, client_secret=settings.oidc.client_secret,
        server_metadata_url=settings.oidc.issuer.rstrip("/") + "/.well-known/openid-configuration",
        client_kwargs={"scope": "openid email profile", "code_challenge_method": "S256"})
    assert isinstance(client, StarletteOAuth2App)
    return client


def _client(request: Request) -> StarletteOAuth2App:
    client: StarletteOAuth2App | None = request.app.state.oidc
    if client is None:
        raise HTTPException(404, "OpenID Connect login is not configured on this server")
    return client


def _redirect_uri(settings: ServerSettings) -> str:
    assert settings.oidc is not None
    return settings.oidc.redirect_uri or settings.resolved_base_url.rstrip("/") + "/oidc/callback"


@router.get("/oidc/login")
async def oidc_login(request: Request, next: str = "/requests") -> Response:
    client = _client(request)
    request.session["next"] = safe_next(next)
    try:
        response: Response = await client.authorize_redirect(request, _redirect_uri(request.app.state.settings))
    except PROVIDER_ERRORS as e:
        raise HTTPException(502, f"the OpenID Connect provider {request.app.state.settings.oidc.issuer} "
                                 f"cannot be used: {type(e).__name__}: {e}") from None
    return response


def _principal_for(factory: sessionmaker[Session], claims: dict[str, Any] | None, error: str | None
                   ) -> Principal | str:
    """The enabled principal bound to the ID token's subject, or why not (the refusal audited)."""
    with factory() as session:
        sub = str((claims or {}).get("sub") or "")
        p = session.scalar(select(Principal).where(Principal.oidc_subject == sub)) if sub else None
        if p is not None and not p.disabled:
            audit.append(session, p.name, "login", None, {"method": "oidc", "subject": sub})
            session.commit()
            return p
        message = error or (f"no principal has OpenID Connect subject {sub!r}: an admin binds it with "
                            f"`infraleash server user create NAME --role approver --oidc-subject {sub}`")
        audit.append(session, "anonymous", "refused", None,
                     {"attempted": "oidc login", "status": 403, "subject": sub, "message": message})
        session.commit()
        return message


@router.get("/oidc/callback")
async def oidc_callback(request: Request) -> Response:
    client = _client(request)
    claims: dict[str, Any] | None = None
    error: str | None = None
    try:
        token = await client.authorize_access_token(request)
        claims = dict(token.get("userinfo") or {})
    except OAuthError as e:
        error = f"OpenID Connect login failed: {e.error}{': ' + e.description if e.description else ''}"
    except PROVIDER_ERRORS as e:  # provider unreachable, or an ID token that does not verify
        error = f"OpenID Connect login failed: {type(e).__name__}: {e}"
    found = await run_in_threadpool(_principal_for, request.app.state.sessions, claims, error)
    if isinstance(found, str):
        raise HTTPException(403, found)
    next_path = safe_next(request.session.get("next"))
    log_in(request, found, "oidc")
    return RedirectResponse(next_path, status_code=303)
