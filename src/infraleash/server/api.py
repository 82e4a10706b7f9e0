"""The JSON API under ``/api/v1``: requests are created by agents and decided by named humans.

Rules enforced here, whatever the client says:
- an agent never decides (403); nobody decides a request whose requester has their ``name_key``
  (other case, width or Unicode look-alike spellings are the same person, 403);
- an approver limited to environments is refused outside them (403); an agent limited to environments
  cannot create requests outside them (403);
- a decision needs a non-empty comment; only a pending, unexpired request can be decided (409);
- a claim is one atomic ``UPDATE ... WHERE status = 'approved' AND expires_at > now``: it succeeds once,
  by the requester, and only with the plan hash the request was approved with (409 ever after);
- every change and its audit record commit in one transaction; every 403/409 refusal is audited.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any, Literal, cast

from fastapi import APIRouter, HTTPException, Query, Request, Response
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import CursorResult, Select, Update, select, update
from sqlalchemy.orm import Session

from infraleash.errors import InfraleashError, UsageError
from infraleash.gate.audit import canonical_json
from infraleash.policy import Policy
from infraleash.review import review_plan
from infraleash.server import audit, signing
from infraleash.server.auth import DECIDERS, CurrentPrincipal, SessionDep
from infraleash.server.models import ApprovalRequest, AuditRecord, ChainHead, Principal
from infraleash.server.tokens import (
    add_principal,
    create_token,
    find_principal,
    name_key,
    parse_environments,
    revoke_token,
)
from infraleash.terraform.plan import parse_plan

router = APIRouter(prefix="/api/v1")
StatusName = Literal["pending", "approved", "denied", "expired", "claimed", "done"]
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
MAX_PLAN_JSON = 20 * 1024 * 1024


class RuleRef(BaseModel):
    id: str = Field(min_length=1, max_length=200)
    reason: str = Field(default="", max_length=4000)


class NewRequest(BaseModel):
    argv: list[str] = Field(min_length=1, max_length=1000)
    cwd: str = Field(min_length=1, max_length=4096)
    environment: str | None = Field(default=None, max_length=200)
    reason: str | None = Field(default=None, max_length=4000)
    rules: list[RuleRef] = Field(default_factory=list, max_length=200)
    plan_json: str | None = Field(default=None, max_length=MAX_PLAN_JSON)
    plan_sha256: str | None = None

    @field_validator("plan_sha256")
    @classmethod
    def _sha(cls, v: str | None) -> str | None:
        if v is not None and not _SHA256.match(v):
            raise ValueError("plan_sha256: 64 lower-case hex digits")
        return v


class Decision(BaseModel):
    decision: Literal["approve", "deny"]
    comment: str = Field(max_length=4000)

    @field_validator("comment")
    @classmethod
    def _comment(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("comment is required")
        return v.strip()


class Claim(BaseModel):
    plan_sha256: str | None = None


class Result(BaseModel):
    exit_code: int
    output_tail: str | None = Field(default=None, max_length=64 * 1024)


def rows_changed(session: Session, stmt: Update) -> int:
    """Execute an UPDATE; how many rows it changed (the atomic compare-and-set of every state change)."""
    return int(cast(CursorResult[Any], session.execute(stmt)).rowcount)


def principal_json(p: Principal) -> dict[str, Any]:
    return {"id": p.id, "name": p.name, "kind": p.kind, "role": p.role, "environments": p.environments}


def request_json(session: Session, r: ApprovalRequest, *, full: bool = False) -> dict[str, Any]:
    requester = session.get(Principal, r.requester_id)
    decider = session.get(Principal, r.decided_by_id) if r.decided_by_id else None
    out: dict[str, Any] = {
        "id": r.id, "status": r.status, "argv": r.argv, "cwd": r.cwd, "environment": r.environment,
        "reason": r.reason, "rules": r.rules, "plan_sha256": r.plan_sha256,
        "requester": requester.name if requester else None, "created_at": r.created_at,
        "expires_at": r.expires_at, "decided_by": decider.name if decider else None,
        "decided_at": r.decided_at, "decision_comment": r.decision_comment, "claimed_at": r.claimed_at,
        "result_exit_code": r.result_exit_code, "finished_at": r.finished_at,
    }
    if full:
        out["review"] = r.review
        out["has_plan_json"] = r.plan_json is not None
    return out


def refuse(session: Session, who: Principal, action: str, request_id: str | None, status: int, message: str
           ) -> HTTPException:
    """Undo whatever this call changed, audit the refusal on its own, and return the error to raise."""
    session.rollback()
    audit.append(session, who.name, "refused", request_id, {"attempted": action, "status": status,
                                                            "message": message})
    session.commit()
    return HTTPException(status, message)


def load_request(session: Session, who: Principal, request_id: str, action: str) -> ApprovalRequest:
    r = session.get(ApprovalRequest, request_id)
    if r is None or (who.role == "agent" and r.requester_id != who.id):
        raise HTTPException(404, f"no request {request_id}")  # an agent cannot learn other agents' ids
    if who.role != "agent" and not who.may_act_in(r.environment):
        raise refuse(session, who, action, r.id, 403,
                     f"{who.name} may not act in environment {r.environment or '(none)'}")
    return r


def expire_if_due(session: Session, r: ApprovalRequest, now: float) -> bool:
    """Mark a pending/approved request past its expiry as expired (audited); whether it was."""
    if r.status in ("pending", "approved") and r.expires_at <= now:
        done = rows_changed(session, update(ApprovalRequest).where(ApprovalRequest.id == r.id,
                                                                   ApprovalRequest.status == r.status)
                            .values(status="expired"))
        if done:
            audit.append(session, "server", "expired", r.id, {"was": r.status})
            session.commit()
        session.refresh(r)
        return True
    return False


@router.get("/whoami")
def whoami(who: CurrentPrincipal) -> dict[str, Any]:
    return principal_json(who)


@router.post("/requests", status_code=201)
def create_request(body: NewRequest, who: CurrentPrincipal, session: SessionDep) -> dict[str, Any]:
    if who.role != "agent":
        raise refuse(session, who, "create", None, 403, f"{who.name} is {who.role}: only agents create requests")
    if not who.may_act_in(body.environment):
        raise refuse(session, who, "create", None, 403,
                     f"{who.name} may not create requests in environment {body.environment or '(none)'}")
    review: dict[str, Any] | None = None
    if body.plan_json is not None:
        try:
            report = review_plan(parse_plan(body.plan_json, "plan_json"), Policy(), environment=body.environment)
        except InfraleashError as e:
            raise HTTPException(422, f"plan_json: {e}") from None
        review = report.model_dump(mode="json")
    now = time.time()
    r = ApprovalRequest(
        id=uuid.uuid4().hex, requester_id=who.id, argv=body.argv, cwd=body.cwd, environment=body.environment,
        reason=body.reason, rules=[rule.model_dump() for rule in body.rules], plan_json=body.plan_json,
        plan_sha256=body.plan_sha256, review=review, status="pending", created_at=now,
        expires_at=now + session.info.get("request_ttl_s", 24 * 3600))
    session.add(r)
    session.flush()
    audit.append(session, who.name, "created", r.id, {"argv": r.argv, "cwd": r.cwd, "environment": r.environment,
                                                      "plan_sha256": r.plan_sha256, "rules": r.rules})
    session.commit()
    return request_json(session, r, full=True)


def request_query(who: Principal, *, status: str | None = None, statuses: tuple[str, ...] = (),
                  environment: str | None = None, requester: str | None = None,
                  older_than_s: float | None = None, limit: int = 100) -> Select[ApprovalRequest]:
    """The requests ``who`` may see, newest first, filtered (every value a bound parameter; the API and pages)."""
    q = select(ApprovalRequest).order_by(ApprovalRequest.created_at.desc()).limit(limit)
    if who.role == "agent":
        q = q.where(ApprovalRequest.requester_id == who.id)
    elif who.environments:
        q = q.where(ApprovalRequest.environment.in_(who.environments))
    if status:
        q = q.where(ApprovalRequest.status == status)
    if statuses:
        q = q.where(ApprovalRequest.status.in_(statuses))
    if environment is not None:
        q = q.where(ApprovalRequest.environment == environment)
    if requester is not None:
        q = q.join(Principal, ApprovalRequest.requester_id == Principal.id).where(
            Principal.name_key == name_key(requester))
    if older_than_s is not None:
        q = q.where(ApprovalRequest.created_at <= time.time() - older_than_s)
    return q


@router.get("/requests")
def list_requests(
    who: CurrentPrincipal, session: SessionDep,
    status: StatusName | None = None,
    environment: str | None = Query(default=None, max_length=200),
    requester: str | None = Query(default=None, max_length=200),
    older_than_s: float | None = Query(default=None, ge=0),
    limit: int = Query(default=100, ge=1, le=500),
) -> list[dict[str, Any]]:
    q = request_query(who, status=status, environment=environment, requester=requester,
                      older_than_s=older_than_s, limit=limit)
    return [request_json(session, r) for r in session.scalars(q)]


@router.get("/requests/{request_id}")
def get_request(request_id: str, who: CurrentPrincipal, session: SessionDep) -> dict[str, Any]:
    r = load_request(session, who, request_id, "read")
    expire_if_due(session, r, time.time())
    return request_json(session, r, full=True)


def decide_request(session: Session, who: Principal, request_id: str, decision: str, comment: str
                   ) -> ApprovalRequest:
    """Approve or deny, with every rule checked and every refusal audited (the API and the web page)."""
    if who.role not in DECIDERS:
        raise refuse(session, who, decision, request_id, 403, f"{who.name} is {who.role}: agents never decide")
    r = load_request(session, who, request_id, decision)
    requester = session.get(Principal, r.requester_id)
    if requester is not None and requester.name_key == who.name_key:
        raise refuse(session, who, decision, r.id, 403, f"{who.name} cannot decide their own request")
    now = time.time()
    if expire_if_due(session, r, now):
        raise refuse(session, who, decision, r.id, 409, f"request {r.id} has expired")
    new_status = "approved" if decision == "approve" else "denied"
    changed = rows_changed(
        session,
        update(ApprovalRequest)
        .where(ApprovalRequest.id == r.id, ApprovalRequest.status == "pending", ApprovalRequest.expires_at > now)
        .values(status=new_status, decided_by_id=who.id, decided_at=now, decision_comment=comment))
    if changed != 1:
        session.refresh(r)
        raise refuse(session, who, decision, r.id, 409, f"request {r.id} is {r.status}, not pending")
    audit.append(session, who.name, new_status, r.id, {"comment": comment, "plan_sha256": r.plan_sha256})
    session.commit()
    session.refresh(r)
    return r


@router.post("/requests/{request_id}/decision")
def decide(request_id: str, body: Decision, who: CurrentPrincipal, session: SessionDep) -> dict[str, Any]:
    return request_json(session, decide_request(session, who, request_id, body.decision, body.comment), full=True)


@router.post("/requests/{request_id}/claim")
def claim(request_id: str, body: Claim, who: CurrentPrincipal, session: SessionDep) -> dict[str, Any]:
    r = load_request(session, who, request_id, "claim")
    if r.requester_id != who.id:
        raise refuse(session, who, "claim", r.id, 403, "only the requester claims its approved request")
    now = time.time()
    if expire_if_due(session, r, now):
        raise refuse(session, who, "claim", r.id, 409, f"request {r.id} has expired")
    if r.plan_sha256 is not None and body.plan_sha256 != r.plan_sha256:
        raise refuse(session, who, "claim", r.id, 409,
                     f"plan hash {body.plan_sha256 or '(none)'} is not the approved plan {r.plan_sha256}")
    changed = rows_changed(
        session,
        update(ApprovalRequest)
        .where(ApprovalRequest.id == r.id, ApprovalRequest.status == "approved",
               ApprovalRequest.requester_id == who.id, ApprovalRequest.expires_at > now)
        .values(status="claimed", claimed_at=now))
    if changed != 1:
        session.refresh(r)
        raise refuse(session, who, "claim", r.id, 409, f"request {r.id} is {r.status}, not approved")
    audit.append(session, who.name, "claimed", r.id, {"argv": r.argv, "plan_sha256": r.plan_sha256})
    session.commit()
    return {"argv": r.argv, "cwd": r.cwd, "environment": r.environment, "plan_sha256": r.plan_sha256}


@router.post("/requests/{request_id}/result")
def report_result(request_id: str, body: Result, who: CurrentPrincipal, session: SessionDep) -> dict[str, Any]:
    r = load_request(session, who, request_id, "result")
    if r.requester_id != who.id:
        raise refuse(session, who, "result", r.id, 403, "only the claimer reports the result")
    now = time.time()
    changed = rows_changed(
        session,
        update(ApprovalRequest).where(ApprovalRequest.id == r.id, ApprovalRequest.status == "claimed")
        .values(status="done", result_exit_code=body.exit_code, finished_at=now))
    if changed != 1:
        session.refresh(r)
        raise refuse(session, who, "result", r.id, 409, f"request {r.id} is {r.status}, not claimed")
    audit.append(session, who.name, "done", r.id, {"exit_code": body.exit_code,
                                                   "output_tail": (body.output_tail or "")[-4000:]})
    session.commit()
    session.refresh(r)
    return request_json(session, r)


WAIT_POLL_S = 0.25


@router.get("/requests/{request_id}/wait")
def wait(request_id: str, who: CurrentPrincipal, session: SessionDep,
         timeout_s: float = Query(default=30, ge=0, le=120)) -> dict[str, Any]:
    """Long-poll: return as soon as the request is no longer pending, or at the timeout (still pending)."""
    r = load_request(session, who, request_id, "wait")
    deadline = time.monotonic() + timeout_s
    while True:
        expire_if_due(session, r, time.time())
        if r.status != "pending" or time.monotonic() >= deadline:
            return request_json(session, r)
        session.rollback()  # end the read transaction so the next poll sees other processes' commits
        time.sleep(min(WAIT_POLL_S, max(0.0, deadline - time.monotonic())))
        session.refresh(r)


def _admin_only(session: Session, who: Principal, action: str) -> None:
    if who.role != "admin":
        raise refuse(session, who, action, None, 403, f"{who.name} is {who.role}: only admins {action}")


@router.get("/audit")
def audit_export(who: CurrentPrincipal, session: SessionDep, after_seq: int = Query(default=0, ge=0),
                 limit: int = Query(default=10000, ge=1, le=100000)) -> Response:
    """The audit records after ``after_seq`` as JSON lines (for a SIEM), oldest first."""
    if who.role not in DECIDERS:
        raise refuse(session, who, "read audit", None, 403, f"{who.name} is {who.role}: agents do not read the audit")
    rows = session.scalars(select(AuditRecord).where(AuditRecord.seq > after_seq)
                           .order_by(AuditRecord.seq).limit(limit))
    lines = [canonical_json({**audit.record_body(rec), "hash": rec.hash}) + "\n" for rec in rows]
    return Response("".join(lines), media_type="application/x-ndjson")


@router.get("/audit/head")
def audit_head(request: Request, who: CurrentPrincipal, session: SessionDep) -> dict[str, Any]:
    """The newest seq and hash, signed with the server's Ed25519 key, and that key's public half."""
    head = session.execute(select(ChainHead).where(ChainHead.id == 1)).scalar_one()
    key = request.app.state.signing_key
    return {"seq": head.seq, "hash": head.hash, "signature": signing.sign_head(key, head.seq, head.hash),
            "public_key": signing.public_key_b64(key)}


class NewPrincipal(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    role: Literal["agent", "approver", "admin"]
    kind: Literal["person", "machine"] | None = None
    environments: list[str] = Field(default_factory=list, max_length=100)


class NewToken(BaseModel):
    principal: str = Field(min_length=1, max_length=200)
    name: str = Field(min_length=1, max_length=200)
    role: Literal["agent", "approver", "admin"] | None = Field(default=None,
                                                               description="creates the principal when new")


@router.post("/principals", status_code=201)
def create_principal(body: NewPrincipal, who: CurrentPrincipal, session: SessionDep) -> dict[str, Any]:
    _admin_only(session, who, "add principals")
    try:
        p = add_principal(session, body.name, body.role, kind=body.kind,
                          environments=parse_environments(body.environments))
    except UsageError as e:
        raise refuse(session, who, "add principal", None, 409, str(e)) from None
    audit.append(session, who.name, "principal added", None, principal_json(p))
    session.commit()
    return principal_json(p)


@router.get("/principals")
def list_principals(who: CurrentPrincipal, session: SessionDep) -> list[dict[str, Any]]:
    _admin_only(session, who, "list principals")
    return [principal_json(p) | {"disabled": p.disabled}
            for p in session.scalars(select(Principal).order_by(Principal.id))]


@router.post("/tokens", status_code=201)
def new_token(body: NewToken, who: CurrentPrincipal, session: SessionDep) -> dict[str, Any]:
    _admin_only(session, who, "create tokens")
    p = find_principal(session, body.principal)
    if p is None:
        if body.role is None:
            raise HTTPException(404, f"no principal {body.principal!r} (give a role to create it)")
        p = add_principal(session, body.principal, body.role)
        audit.append(session, who.name, "principal added", None, principal_json(p))
    elif body.role is not None and body.role != p.role:
        raise refuse(session, who, "create token", None, 409, f"principal {p.name!r} has role {p.role}")
    row, token = create_token(session, p, body.name)
    audit.append(session, who.name, "token created", None, {"token_id": row.id, "principal": p.name})
    session.commit()
    return {"id": row.id, "principal": p.name, "role": p.role, "token": token}


@router.delete("/tokens/{token_id}")
def delete_token(token_id: str, who: CurrentPrincipal, session: SessionDep) -> dict[str, Any]:
    _admin_only(session, who, "revoke tokens")
    try:
        row = revoke_token(session, token_id)
    except UsageError as e:
        raise HTTPException(404, str(e)) from None
    audit.append(session, who.name, "token revoked", None, {"token_id": row.id})
    session.commit()
    return {"id": row.id, "revoked_at": row.revoked_at}
