"""The server's tables (SQLAlchemy 2 ORM).  Times are UNIX seconds (float), the same on SQLite and PostgreSQL.

The schema itself is created by the Alembic migrations in ``migrations/versions``; a test checks that the
migrated database and these classes agree.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


ROLES = ("agent", "approver", "admin")
KINDS = ("person", "machine")
STATUSES = ("pending", "approved", "denied", "expired", "claimed", "done")


class Principal(Base):
    __tablename__ = "principals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(String(800), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    role: Mapped[str] = mapped_column(String(16))
    environments: Mapped[list[str]] = mapped_column(JSON, default=list)
    password_hash: Mapped[str | None] = mapped_column(String(200), nullable=True)
    oidc_subject: Mapped[str | None] = mapped_column(String(400), nullable=True, unique=True)
    disabled: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[float] = mapped_column(Float)

    def may_act_in(self, environment: str | None) -> bool:
        """An empty environment list means every environment; a request without one needs an unscoped role."""
        if not self.environments:
            return True
        return environment is not None and environment in self.environments


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    principal_id: Mapped[int] = mapped_column(ForeignKey("principals.id"))
    name: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[float] = mapped_column(Float)
    revoked_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    last_used_at: Mapped[float | None] = mapped_column(Float, nullable=True)


class ApprovalRequest(Base):
    __tablename__ = "approval_requests"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("principals.id"))
    argv: Mapped[list[str]] = mapped_column(JSON)
    cwd: Mapped[str] = mapped_column(Text)
    environment: Mapped[str | None] = mapped_column(String(200), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    rules: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    plan_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    plan_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    review: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    created_at: Mapped[float] = mapped_column(Float, index=True)
    expires_at: Mapped[float] = mapped_column(Float)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("principals.id"), nullable=True)
    decided_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    decision_comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    claimed_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    claim_token_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    result_exit_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    finished_at: Mapped[float | None] = mapped_column(Float, nullable=True)


class AuditRecord(Base):
    __tablename__ = "audit_records"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[float] = mapped_column(Float)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class ChainHead(Base):
    """One row (id 1): the newest audit record's seq and hash (signature: Ed25519, not built yet)."""

    __tablename__ = "chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str | None] = mapped_column(Text, nullable=True)
