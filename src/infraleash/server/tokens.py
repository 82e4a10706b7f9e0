"""Principals and API tokens: names compared as people read them, tokens stored only as hashes.

A token is ``ilk_<id>_<secret>``: ``id`` (12 hex digits) names the row, ``secret`` is 32 random bytes
(URL-safe base64) and only its SHA-256 is stored, so the token is shown once, when it is created.  A token
works until it is revoked or its principal is disabled.

``name_key`` is how two names are compared: NFKC, case-folded, whitespace collapsed
(:func:`infraleash.gate.approvals.person`), then the Unicode TR39 confusable skeleton
(:mod:`infraleash.gate.confusables`).  It is unique, so ``Alice``, ``alice`` and ``аlice`` (Cyrillic а) are one
principal, and nobody decides a request whose requester has the same key.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time

from sqlalchemy import select
from sqlalchemy.orm import Session

from infraleash.errors import UsageError
from infraleash.gate.approvals import person
from infraleash.gate.confusables import skeleton
from infraleash.server.models import KINDS, ROLES, ApiToken, Principal

TOKEN_PREFIX = "ilk_"
_TOKEN = re.compile(r"^ilk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")
_ENVIRONMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")


def name_key(name: str) -> str:
    return skeleton(person(name))


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def parse_environments(value: str | list[str] | None) -> list[str]:
    items = value.split(",") if isinstance(value, str) else list(value or [])
    out = [e.strip() for e in items if e.strip()]
    for env in out:
        if not _ENVIRONMENT.match(env):
            raise UsageError(f"environment {env!r}: letters, digits and _.:- only (at most 64 characters)")
    return out


def add_principal(session: Session, name: str, role: str, *, kind: str | None = None,
                  environments: list[str] | None = None, password_hash: str | None = None) -> Principal:
    """A new principal; a name that reads the same as an existing one is refused."""
    clean = " ".join(name.split())
    if not clean or len(clean) > 200:
        raise UsageError("principal name: 1 to 200 characters")
    if role not in ROLES:
        raise UsageError(f"role {role!r}: expected one of {', '.join(ROLES)}")
    kind = kind or ("machine" if role == "agent" else "person")
    if kind not in KINDS:
        raise UsageError(f"kind {kind!r}: expected one of {', '.join(KINDS)}")
    key = name_key(clean)
    existing = session.scalar(select(Principal).where(Principal.name_key == key))
    if existing is not None:
        raise UsageError(f"principal {clean!r} reads the same as existing principal {existing.name!r}")
    p = Principal(name=clean, name_key=key, kind=kind, role=role, environments=environments or [],
                  password_hash=password_hash, disabled=False, created_at=time.time())
    session.add(p)
    session.flush()
    return p


def find_principal(session: Session, name: str) -> Principal | None:
    return session.scalar(select(Principal).where(Principal.name_key == name_key(" ".join(name.split()))))


def create_token(session: Session, principal: Principal, name: str) -> tuple[ApiToken, str]:
    """A new token row and the token itself (the only time it exists outside the caller's hands)."""
    token_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    row = ApiToken(id=token_id, principal_id=principal.id, name=name, token_hash=hash_secret(secret),
                   created_at=time.time())
    session.add(row)
    session.flush()
    return row, f"{TOKEN_PREFIX}{token_id}_{secret}"


def resolve_token(session: Session, token: str) -> tuple[ApiToken, Principal] | None:
    """The live token and its enabled principal, or None (malformed, unknown, wrong secret, revoked, disabled)."""
    m = _TOKEN.match(token)
    if not m:
        return None
    row = session.get(ApiToken, m.group(1))
    if row is None or row.revoked_at is not None:
        return None
    if not hmac.compare_digest(row.token_hash, hash_secret(m.group(2))):
        return None
    principal = session.get(Principal, row.principal_id)
    if principal is None or principal.disabled:
        return None
    return row, principal


def revoke_token(session: Session, token_id: str) -> ApiToken:
    row = session.get(ApiToken, token_id)
    if row is None:
        raise UsageError(f"no token with id {token_id!r}")
    if row.revoked_at is None:
        row.revoked_at = time.time()
    return row
