"""The runner's side of the approval server (``approvals.server`` in the policy), over its JSON API.

    store = ServerApprovals.from_policy(policy)          # token from $INFRALEASH_APPROVAL_TOKEN (approvals.token_env)
    req = store.create(action, decision, context, plan)  # POST /api/v1/requests (argv, cwd, rules, plan show -json + sha256)
    req = store.wait(req.id, 900)                        # GET .../wait, long-polled until decided or the timeout
    req = store.claim(req.id)                            # the plan file re-hashed, then POST .../claim {plan_sha256}
    store.record_exit(req.id, 0, "Apply complete!")      # POST .../result

It is an :class:`~infraleash.gate.approval_backend.ApprovalBackend`: the flow (decide, hold, wait,
claim, run on a private copy of the plan, report) is the executor's, the same as with the local store.

Fail closed.  Every answer is checked before it is used: the server unreachable, a TLS error, a
redirect, a 5xx, a body that is not JSON or not the shape expected (an unknown status, a missing
field), a request or claim answer that names another command than ours -> :class:`ServerUnavailable`
(rule APPROVAL-SERVER-UNAVAILABLE); a 4xx (token rejected, claim refused because it is not approved,
already claimed, expired) -> :class:`ServerRefused` (APPROVAL-SERVER-REFUSED); the plan file's hash is
not the approved one -> :class:`~infraleash.gate.approvals.PlanChanged` (APPROVAL-PLAN-CHANGED),
checked before the claim and again on the private copy that terraform reads.  The executor refuses
the action (audited, exit 4); nothing runs on a guess.

What the server does not keep: the environment the gate kept for the command (values of names that
look like secrets are never sent anywhere) and the gate context.  This client remembers them for the
requests it created, in memory; a request resumed by another process runs with the runner's
environment and no extra variables.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from infraleash.gate.approvals import (
    SECRET_NAME,
    ApprovalError,
    ApprovalRequest,
    NotApprovable,
    ShownPlan,
    Status,
    plan_file_path,
    unapprovable_reason,
    verify_saved_plan,
)
from infraleash.gate.model import Action, Decision
from infraleash.policy import Policy


class ServerUnavailable(ApprovalError):
    """The approval server cannot be reached or did not answer as it should: nothing is done on a guess."""

    rule_id = "APPROVAL-SERVER-UNAVAILABLE"


class ServerRefused(ApprovalError):
    """The approval server answered, and refused (4xx)."""

    rule_id = "APPROVAL-SERVER-REFUSED"


class PlanUnreviewed(ApprovalError):
    """``terraform show -json`` of the saved plan failed: the approver could not be shown what would run."""

    rule_id = "APPROVAL-PLAN-UNREVIEWED"


STATUS = {"pending": Status.PENDING, "approved": Status.APPROVED, "denied": Status.DENIED,
          "expired": Status.EXPIRED, "claimed": Status.EXECUTED, "done": Status.EXECUTED}
_ID = re.compile(r"^[0-9a-f]{8,64}$")
MAX_POLL_S = 60.0  # one long-poll; the server caps it at 120
M = TypeVar("M", bound=BaseModel)


class _Rule(BaseModel):
    id: str
    reason: str = ""


class ServerRequest(BaseModel):
    """A request as the server answers it (the fields the runner relies on; others are ignored)."""

    model_config = ConfigDict(extra="ignore")

    id: str = Field(pattern=_ID.pattern)
    status: Literal["pending", "approved", "denied", "expired", "claimed", "done"]
    argv: list[str] = Field(min_length=1)
    cwd: str = Field(min_length=1)
    environment: str | None = None
    reason: str | None = None
    rules: list[_Rule] = Field(default_factory=list)
    plan_sha256: str | None = None
    requester: str | None = None
    created_at: float
    expires_at: float
    decided_by: str | None = None
    decided_at: float | None = None
    decision_comment: str | None = None
    claimed_at: float | None = None
    result_exit_code: int | None = None


class ClaimAnswer(BaseModel):
    model_config = ConfigDict(extra="ignore")

    argv: list[str] = Field(min_length=1)
    cwd: str
    environment: str | None = None
    plan_sha256: str | None = None


@dataclass
class _Remembered:
    env: dict[str, str | None]
    context: dict[str, Any] | None


class ServerApprovals:
    """Approval requests on the approval server; see the module docstring."""

    wants_plan_json = True

    def __init__(self, url: str, token: str | None, *, token_env: str = "INFRALEASH_APPROVAL_TOKEN",
                 wait_s: float = 900.0, transport: httpx.BaseTransport | None = None) -> None:
        self.url = url.rstrip("/")
        self.token = (token or "").strip()
        self.token_env = token_env
        self.wait_s = float(wait_s)
        self.name = f"approval server {self.url}"
        self._remembered: dict[str, _Remembered] = {}
        self._http = httpx.Client(base_url=f"{self.url}/api/v1", transport=transport, follow_redirects=False,
                                  timeout=httpx.Timeout(30.0, connect=10.0),
                                  headers={"Authorization": f"Bearer {self.token}"} if self.token else {})

    @classmethod
    def from_policy(cls, policy: Policy, env: Mapping[str, str] | None = None) -> ServerApprovals:
        a = policy.approvals
        assert a.server is not None
        source = os.environ if env is None else env
        return cls(a.server, source.get(a.token_env), token_env=a.token_env, wait_s=a.wait_seconds)

    def close(self) -> None:
        self._http.close()

    # -- the backend interface

    def problem(self) -> str | None:
        return None  # the server is asked when a request is made, and every failure then refuses the action

    def owned_files(self) -> list[str]:
        return []

    def create(self, action: Action, decision: Decision, context: dict[str, Any] | None = None,
               plan: ShownPlan | None = None) -> ApprovalRequest:
        """POST the held command; for ``apply PLANFILE`` with the plan's ``show -json`` and the shown copy's hash."""
        argv = list(decision.argv or action.argv)
        if not decision.approvable:
            raise NotApprovable(f"the gate marked this action not approvable: {decision.reasons() or decision.summary}")
        why = unapprovable_reason(argv, action.cwd, decision.plan_file)
        if why:
            raise NotApprovable(why)
        if plan_file_path(argv, action.cwd, decision.plan_file) is not None and plan is None:
            raise PlanUnreviewed("the saved plan was not shown (no `terraform show -json` document)")
        cwd = str(Path(action.cwd).resolve())
        body = {"argv": argv, "cwd": cwd, "environment": decision.environment, "reason": action.reason,
                "rules": [{"id": r.id, "reason": r.reason[:4000]} for r in decision.rules[:200]],
                "plan_json": plan.json if plan else None, "plan_sha256": plan.sha256 if plan else None}
        answer = self._parse(ServerRequest, self._call("POST", "/requests", json=body), "POST /requests")
        if answer.argv != argv or answer.cwd != cwd or answer.plan_sha256 != body["plan_sha256"] \
                or answer.status != "pending":
            raise ServerUnavailable(f"{self.name} answered POST /requests with another request than the one sent")
        env = decision.env if decision.env or decision.stripped_env else action.env
        self._remembered[answer.id] = _Remembered(
            env={k: (None if SECRET_NAME.search(k) else v) for k, v in env.items()}, context=context or None)
        return self._request(answer)

    def get(self, request_id: str) -> ApprovalRequest:
        rid = self._id(request_id)
        return self._request(self._parse(ServerRequest, self._call("GET", f"/requests/{rid}"), "GET /requests/ID"))

    def wait(self, request_id: str, timeout_s: float) -> ApprovalRequest:
        """Long-poll until the request is no longer pending or ``timeout_s`` passed (then: still pending)."""
        rid = self._id(request_id)
        deadline = time.monotonic() + max(0.0, timeout_s)
        while True:
            poll = round(max(0.0, min(MAX_POLL_S, deadline - time.monotonic())), 1)
            answer = self._parse(ServerRequest, self._call("GET", f"/requests/{rid}/wait",
                                                           params={"timeout_s": poll}, read_s=poll + 30),
                                 "GET /requests/ID/wait")
            if answer.id != rid:
                raise ServerUnavailable(f"{self.name} answered the wait for {rid} with request {answer.id}")
            if answer.status != "pending" or time.monotonic() >= deadline:
                return self._request(answer)

    def claim(self, request_id: str, expect_seal: str | None = None) -> ApprovalRequest:
        """Claim the approved request once, with the plan file's hash as it is now; the approved command back."""
        current = self.get(request_id)
        if expect_seal is not None and current.seal != expect_seal:
            raise ServerRefused(f"request {current.id} changed on the server while it was being checked; run it "
                                "again")
        if current.status is not Status.APPROVED:
            raise ServerRefused(f"request {current.id} is {current.status.value} on {self.name}, not approved")
        sha = verify_saved_plan(current)
        why = unapprovable_reason(current.argv, current.cwd, current.plan_file)
        if why:
            raise NotApprovable(why)
        answer = self._parse(ClaimAnswer, self._call("POST", f"/requests/{current.id}/claim",
                                                     json={"plan_sha256": sha}), "POST /requests/ID/claim")
        if answer.argv != current.argv or answer.cwd != current.cwd or answer.plan_sha256 != current.plan_sha256:
            raise ServerUnavailable(f"{self.name} answered the claim of {current.id} with another command than "
                                    "the approved one")
        return current.model_copy(update={"status": Status.EXECUTED, "executed_at": time.time()})

    def record_exit(self, request_id: str, exit_code: int, output_tail: str = "") -> None:
        self._call("POST", f"/requests/{self._id(request_id)}/result",
                   json={"exit_code": exit_code, "output_tail": output_tail[-16000:] or None})

    # -- identity (the MCP server's bearer check)

    def whoami(self, token: str) -> dict[str, Any] | None:
        """The principal a token names on the server (``GET /whoami``), or None when the server rejects it."""
        try:
            r = self._http.get("/whoami", headers={"Authorization": f"Bearer {token}"})
        except httpx.HTTPError as e:
            raise ServerUnavailable(f"{self.name} unreachable ({type(e).__name__}: {e})") from None
        if r.status_code == 401:
            return None
        if r.status_code != 200:
            raise ServerUnavailable(f"{self.name} answered {r.status_code} to GET /whoami")
        try:
            body = r.json()
        except ValueError:
            raise ServerUnavailable(f"{self.name} answered GET /whoami with something that is not JSON") from None
        if not isinstance(body, dict) or not isinstance(body.get("name"), str) or \
                body.get("role") not in ("agent", "approver", "admin"):
            raise ServerUnavailable(f"{self.name} answered GET /whoami with an unexpected document")
        return body

    # -- HTTP

    def _id(self, request_id: str) -> str:
        rid = request_id.strip()
        if not _ID.match(rid):
            raise ServerRefused(f"{request_id!r} is not a request id of {self.name} (hex digits)")
        return rid

    def _call(self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None,
              read_s: float | None = None) -> Any:
        if not self.token:
            raise ServerUnavailable(f"no token for {self.name}: set ${self.token_env} to an agent token "
                                    "(`infraleash server token create --name NAME --role agent`)")
        timeout = httpx.Timeout(30.0, connect=10.0, read=read_s) if read_s else httpx.USE_CLIENT_DEFAULT
        try:
            r = self._http.request(method, path, json=json, params=params, timeout=timeout)
        except httpx.HTTPError as e:
            raise ServerUnavailable(f"{self.name} unreachable on {method} {path} ({type(e).__name__}: "
                                    f"{str(e)[:300] or 'no detail'})") from None
        if r.status_code >= 500 or 300 <= r.status_code < 400:
            raise ServerUnavailable(f"{self.name} answered {r.status_code} to {method} {path}")
        try:
            body = r.json()
        except ValueError:
            raise ServerUnavailable(f"{self.name} answered {method} {path} ({r.status_code}) with something that "
                                    "is not JSON") from None
        if r.status_code == 401:
            raise ServerRefused(f"{self.name} rejected the token in ${self.token_env} (401: unknown, revoked or "
                                "disabled)")
        if r.status_code >= 400:
            detail = body.get("detail") if isinstance(body, dict) else None
            raise ServerRefused(f"{self.name} refused {method} {path} ({r.status_code}): "
                                f"{str(detail)[:500] if detail else 'no reason given'}")
        if r.status_code not in (200, 201):
            raise ServerUnavailable(f"{self.name} answered {r.status_code} to {method} {path}")
        return body

    def _parse(self, model: type[M], body: Any, what: str) -> M:
        try:
            return model.model_validate(body)
        except ValidationError as e:
            first = e.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "(document)"
            raise ServerUnavailable(f"{self.name} answered {what} with a document this runner does not "
                                    f"understand ({where}: {first['msg']})") from None

    def _request(self, a: ServerRequest) -> ApprovalRequest:
        known = self._remembered.get(a.id)
        plan = plan_file_path(a.argv, a.cwd)
        req = ApprovalRequest(
            id=a.id, status=STATUS[a.status], argv=a.argv, cwd=a.cwd, env=dict(known.env) if known else {},
            requester=a.requester or "-", reason=a.reason, created_at=a.created_at, expires_at=a.expires_at,
            rule_ids=[r.id for r in a.rules], reasons=[r.reason for r in a.rules], environment=a.environment,
            plan_file=str(plan) if plan else None, plan_sha256=a.plan_sha256, approver=a.decided_by,
            comment=a.decision_comment, decided_at=a.decided_at, executed_at=a.claimed_at,
            exit_code=a.result_exit_code, context=known.context if known else None)
        req.seal = req.computed_seal()
        return req
