"""Approval requests: a needs_approval decision waits here for a named human.

A request holds the exact argv, working directory and (sanitized) environment
of the held command, who asked and why, the gate rules that held it, and for
``terraform apply PLANFILE`` the SHA-256 of the plan file.  Its life::

    pending --approve--> approved --run (once)--> executed
       |  \\--deny-----> denied
       \\----- ttl passes --> expired   (approved requests expire too)

Rules enforced here, whatever the caller: a request needs a named approver
(restricted to ``approvals.approvers`` when that list is set); nobody approves
their own request; expired requests cannot be approved or run; a command runs
at most once (claimed atomically); a plain ``terraform apply`` / ``destroy``
without a saved plan is never approvable; a plan file whose hash changed since
the request cannot be approved or run.

Tampering.  Each request carries a ``seal``: the SHA-256 of its approved
fields (id, argv, cwd, env, requester, plan file and hash, times, context).
:meth:`ApprovalStore.approve` and :meth:`ApprovalStore.claim` refuse a request
whose row no longer matches its seal (an argv edited in the database).  The
seal is not a secret MAC: someone who can write the database *and* recompute
the seal can still swap the command, so :func:`~infraleash.gate.executor.run_approved`
also re-decides the stored command against the **current** policy and refuses
what it would deny (``terraform apply -auto-approve`` stays unrunnable whatever
the row says).  Keep the database where the agent cannot write it.

Names are compared normalized (Unicode NFKC, case-folded, whitespace
collapsed): ``Agent-1 `` cannot approve ``agent-1``'s request.  Requester and
approver are also compared by their Unicode TR39 confusable skeleton
(:mod:`infraleash.gate.confusables`): ``аgent-1`` (Cyrillic а) or ``agent-l``
cannot approve ``agent-1``'s request.  The ``approvals.approvers`` list is
matched exactly (normalized), never by look-alike.  A saved plan
given as a symlink is not approvable; at run time the plan is copied into a
private directory, the copy is re-hashed and the copy is what terraform reads
(a file swapped after the check is never applied).

Secrets are not stored: environment variables whose names look like
credentials are saved without their value and taken from the environment of
whoever runs the approved request.

Storage is one SQLite file (``approvals.store`` in the policy).  The same file
also keeps the audit log's chain head (see :mod:`infraleash.gate.audit`).

Hostile state.  A file that is not an SQLite database (binary data, cut short),
a directory in its place, an unreadable file, tables of another shape, or a row
whose body is not a request never crashes the gate: :meth:`ApprovalStore.problem`
says what is wrong, and every read or change raises
:class:`~infraleash.gate.audit.GateStateCorrupt` naming the file (the gate then
refuses every action with GATE-STATE-CORRUPT).  Nothing is dropped or recreated.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import shutil
import sqlite3
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, NamedTuple

from pydantic import BaseModel, Field, ValidationError

from infraleash.errors import ExitCode, InfraleashError, UsageError
from infraleash.gate.audit import GateStateCorrupt
from infraleash.gate.confusables import confusable
from infraleash.gate.model import Action, Decision
from infraleash.policy import Policy


class ApprovalError(InfraleashError):
    """An approval or run that the rules forbid (wrong approver, expired, ...).

    ``rule_id``: the gate rule a refusal is reported under (None: the message says it all).
    """

    exit_code = ExitCode.DENIED
    rule_id: str | None = None


class PlanChanged(ApprovalError):
    """The saved plan file is not the plan that was approved (its SHA-256 differs)."""

    rule_id = "APPROVAL-PLAN-CHANGED"


class NotApprovable(ApprovalError):
    """This action can never be approved (e.g. terraform apply without a saved plan)."""


class Status(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"
    EXPIRED = "expired"
    EXECUTED = "executed"


SECRET_NAME = re.compile(r"SECRET|TOKEN|PASSWORD|PASSWD|CREDENTIAL|PRIVATE|(^|_)KEY($|_)|API_?KEY|SESSION",
                         re.IGNORECASE)
TERRAFORM_PROGRAMS = {"terraform", "tofu"}


class ShownPlan(NamedTuple):
    """A saved plan as the approver is shown it: the SHA-256 of the copy shown and its ``terraform show -json``."""

    sha256: str
    json: str


class ApprovalRequest(BaseModel):
    id: str
    status: Status
    argv: list[str]
    cwd: str
    env: dict[str, str | None] = Field(description="None: a secret, taken from the runner's environment")
    requester: str
    reason: str | None = None
    created_at: float
    expires_at: float
    rule_ids: list[str] = Field(default_factory=list)
    reasons: list[str] = Field(default_factory=list)
    effect: str | None = None
    environment: str | None = None
    plan_file: str | None = None
    plan_sha256: str | None = None
    approver: str | None = None
    comment: str | None = None
    decided_at: float | None = None
    executed_at: float | None = None
    exit_code: int | None = None
    context: dict[str, Any] | None = Field(default=None, description="the GateContext it was decided in")
    seal: str | None = Field(default=None, description="sha256 of the approved fields (see module docstring)")

    def computed_seal(self) -> str:
        fields = self.model_dump(include={"id", "argv", "cwd", "env", "requester", "reason", "created_at",
                                          "expires_at", "plan_file", "plan_sha256", "context", "environment",
                                          "effect", "rule_ids"})
        return hashlib.sha256(json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()).hexdigest()

    def run_env(self, runner_env: dict[str, str] | None = None) -> dict[str, str]:
        """The environment to run with: saved values, secrets filled from the runner's environment."""
        source = os.environ if runner_env is None else runner_env
        out: dict[str, str] = {}
        for k, v in self.env.items():
            if v is not None:
                out[k] = v
            elif k in source:
                out[k] = source[k]
        return out


def same_person(a: str | None, b: str | None) -> bool:
    """Names compared as people read them: NFKC, case-folded, whitespace collapsed."""
    return person(a) == person(b)


def person(name: str | None) -> str:
    return " ".join(unicodedata.normalize("NFKC", name or "").casefold().split())


def looks_like(a: str | None, b: str | None) -> bool:
    """The same person, or names a reader cannot tell apart (TR39 skeleton of the normalized names)."""
    return same_person(a, b) or confusable(person(a), person(b))


def iso(ts: float | None) -> str:
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def verify_saved_plan(req: ApprovalRequest, copy: Path | None = None) -> str | None:
    """The SHA-256 of the request's saved plan file (or of ``copy``, a private copy of it) when it is the plan
    the request was made for; :class:`PlanChanged` when it is gone or differs.  None without a plan file."""
    if req.plan_file is None:
        return None
    path = copy if copy is not None else Path(req.plan_file)
    if not path.is_file():
        raise PlanChanged(f"the saved plan file {req.plan_file} of request {req.id} is gone")
    sha = sha256_file(path)
    if sha != req.plan_sha256:
        raise PlanChanged(f"the saved plan file {req.plan_file} changed since request {req.id} was made "
                          f"(sha256 {sha[:12]}, approved {str(req.plan_sha256)[:12]}); plan and request again")
    return sha


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def plan_file_path(argv: list[str], cwd: str, plan_file: str | None = None, *, resolve: bool = True
                   ) -> Path | None:
    """Where ``terraform [-chdir=D] apply ... PLANFILE`` reads its plan, or None when there is none."""
    if not argv or os.path.basename(argv[0]) not in TERRAFORM_PROGRAMS:
        return None
    chdir = None
    i = 1
    while i < len(argv) and argv[i].startswith("-"):
        if argv[i].startswith("-chdir="):
            chdir = argv[i].split("=", 1)[1]
        i += 1
    if i >= len(argv) or argv[i] != "apply":
        return None
    last = argv[-1]
    if len(argv) == i + 1 or last.startswith("-"):
        return None
    if plan_file is not None and os.path.basename(plan_file) != os.path.basename(last):
        return None
    base = Path(cwd)
    if chdir:
        base = base / chdir
    return (base / last).resolve() if resolve else Path(os.path.abspath(base / last))


def unapprovable_reason(argv: list[str], cwd: str, plan_file: str | None) -> str | None:
    """Why a terraform command can never be approved, or None (non-terraform commands: None)."""
    if not argv or os.path.basename(argv[0]) not in TERRAFORM_PROGRAMS:
        return None
    words = [a for a in argv[1:] if not a.startswith("-")]
    sub = words[0] if words else None
    if sub == "destroy":
        return ("terraform destroy applies without a saved, reviewed plan; run `terraform plan -destroy "
                "-out F` and request `terraform apply F` instead")
    if sub != "apply":
        return None
    path = plan_file_path(argv, cwd, plan_file)
    if path is None:
        return ("a plain `terraform apply` (no saved plan file) is never approvable; run "
                "`terraform plan -out F` and request `terraform apply F`")
    if not path.is_file():
        return f"the saved plan file {path} does not exist"
    given = plan_file_path(argv, cwd, plan_file, resolve=False)
    if given is not None and any(p.is_symlink() for p in (given, *given.parents) if p != Path(p.anchor)):
        return f"the saved plan file {given} is (under) a symlink; plan into a regular file in the working tree"
    return None


def private_plan_copy(req: ApprovalRequest) -> tuple[list[str], Path]:
    """(argv reading a private copy of the request's plan file, the private directory to remove).

    The copy is re-hashed against the approved hash, so a plan swapped after the
    check (or during the copy) is refused instead of applied.
    """
    if req.plan_file is None:
        raise ValueError("request has no plan file")
    private = Path(tempfile.mkdtemp(prefix=f"infraleash-{req.id}-"))
    try:
        copy = private / "approved.tfplan"
        with open(req.plan_file, "rb") as src, open(copy, "xb") as dst:
            shutil.copyfileobj(src, dst)
        verify_saved_plan(req, copy)
        copy.chmod(0o400)
    except BaseException:
        shutil.rmtree(private, ignore_errors=True)
        raise
    return [*req.argv[:-1], str(copy)], private


class ApprovalStore:
    """Approval requests in SQLite, with the rules above enforced on every change.

    One of the two :class:`~infraleash.gate.approval_backend.ApprovalBackend` s (the other is the
    approval server's client): a human decides later, so ``wait_s`` is 0 and a held command returns held.
    """

    wait_s = 0.0
    wants_plan_json = False

    def __init__(self, path: str | Path, *, ttl_minutes: int = 240, approvers: list[str] | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self.ttl_seconds = ttl_minutes * 60
        self.approvers = [a for a in (approvers or []) if a.strip()]
        self.clock = clock
        self.name = f"approvals database {self.path}"
        self._problem: str | None = None
        self._sound: tuple[int, int, int, int] | None = None  # the file's signature when last found/left sound
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if self.path.exists() and not self.path.is_file():
                raise GateStateCorrupt("the approvals database is not a regular file (a directory?)",
                                       file=str(self.path))
            if self.path.exists() and self.path.stat().st_size > 0:
                self._problem = self._schema_problem()  # an existing file is checked, never "fixed"
            if self._problem is None:
                db = sqlite3.connect(self.path, timeout=30)
                try:
                    db.executescript(_SCHEMA)
                finally:
                    db.close()
        except (OSError, sqlite3.Error) as e:
            self._problem = _sqlite_problem(e)
        except GateStateCorrupt as e:
            self._problem = str(e).removeprefix(f"{self.path}: ")

    def problem(self) -> str | None:
        """What makes this database unusable (not SQLite, a directory, another schema ...), or None.

        Checked again on every call: the file can be overwritten while a long-running server uses it.
        """
        sig = _file_sig(self.path)
        if sig is not None and sig == self._sound:
            return None  # exactly as this process last found or left it (any other writer changes ctime)
        if self.path.exists() and not self.path.is_file():
            return "the approvals database is not a regular file (a directory?)"
        try:
            trouble = self._schema_problem()
        except (OSError, sqlite3.Error) as e:
            return _sqlite_problem(e)
        if trouble is None:
            self._sound = sig
        return trouble

    def _schema_problem(self) -> str | None:
        if not self.path.exists():
            return "the approvals database is gone"
        db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=30)
        try:
            for table, columns in _COLUMNS.items():
                got = [row[1] for row in db.execute(f"PRAGMA table_info({table})")]
                if got != columns:
                    return (f"table {table!r} has columns {got or 'none'}, not {columns}: not an infraleash "
                            "approvals database (wrong schema)")
            check = db.execute("PRAGMA quick_check").fetchone()
            if check is None or check[0] != "ok":
                return f"the approvals database is damaged ({check[0] if check else 'no answer'})"
        finally:
            db.close()
        return None

    def _ensure_usable(self) -> None:
        if self._problem is not None:
            raise GateStateCorrupt(self._problem, file=str(self.path))

    @classmethod
    def from_policy(cls, policy: Policy, clock: Callable[[], float] = time.time) -> ApprovalStore:
        return cls(policy.resolve_path(policy.approvals.store), ttl_minutes=policy.approvals.ttl_minutes,
                   approvers=policy.approvals.approvers, clock=clock)

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One immediate (write-locked) transaction; a database that fails raises GateStateCorrupt."""
        self._ensure_usable()
        try:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        except sqlite3.Error as e:
            raise GateStateCorrupt(_sqlite_problem(e), file=str(self.path)) from None
        db.row_factory = sqlite3.Row
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
            if self._sound is not None:
                self._sound = _file_sig(self.path)  # our own committed write
        except sqlite3.Error as e:
            raise GateStateCorrupt(_sqlite_problem(e), file=str(self.path)) from None
        finally:
            db.close()

    # -- creating

    def owned_files(self) -> list[str]:
        """The files this store keeps (hidden from every sandboxed command)."""
        return [str(self.path) + suffix for suffix in ("", "-wal", "-shm", "-journal")]

    def create(self, action: Action, decision: Decision, context: dict[str, Any] | None = None,
               plan: ShownPlan | None = None) -> ApprovalRequest:
        """Hold a needs_approval decision as a pending request (``context``: the GateContext, as a dict).

        ``plan`` is not kept: a local approver runs ``approvals show``, which reviews the file itself.
        """
        argv = decision.argv or action.argv
        if not decision.approvable:
            raise NotApprovable(f"the gate marked this action not approvable: {decision.reasons() or decision.summary}")
        why = unapprovable_reason(argv, action.cwd, decision.plan_file)
        if why:
            raise NotApprovable(why)
        plan_path = plan_file_path(argv, action.cwd, decision.plan_file)
        now = self.clock()
        env = decision.env if decision.env or decision.stripped_env else action.env
        req = ApprovalRequest(
            id=secrets.token_hex(5), status=Status.PENDING, argv=list(argv), cwd=str(Path(action.cwd).resolve()),
            env={k: (None if SECRET_NAME.search(k) else v) for k, v in env.items()},
            requester=action.requester, reason=action.reason, created_at=now, expires_at=now + self.ttl_seconds,
            rule_ids=[r.id for r in decision.rules], reasons=[r.reason for r in decision.rules],
            effect=str(decision.effect), environment=decision.environment,
            plan_file=str(plan_path) if plan_path else None,
            plan_sha256=sha256_file(plan_path) if plan_path else None, context=context or None)
        req.seal = req.computed_seal()
        with self._tx() as db:
            db.execute("INSERT INTO requests (id, status, created_at, expires_at, body) VALUES (?,?,?,?,?)",
                       (req.id, req.status.value, req.created_at, req.expires_at, req.model_dump_json()))
        return req

    # -- reading

    def get(self, request_id: str) -> ApprovalRequest:
        with self._tx() as db:
            return self._load(db, request_id)

    def wait(self, request_id: str, timeout_s: float) -> ApprovalRequest:
        """The request as it is now (a local approver decides in another command, not while we wait)."""
        return self.get(request_id)

    def requests(self, status: Status | None = None) -> list[ApprovalRequest]:
        with self._tx() as db:
            self._expire(db)
            rows = db.execute("SELECT body FROM requests ORDER BY created_at DESC").fetchall()
        reqs = [self._parse(r["body"]) for r in rows]
        return [r for r in reqs if status is None or r.status is status]

    def _load(self, db: sqlite3.Connection, request_id: str) -> ApprovalRequest:
        self._expire(db)
        row = db.execute("SELECT body FROM requests WHERE id = ?", (request_id.strip(),)).fetchone()
        if row is None:
            raise UsageError(f"no approval request {request_id!r} in {self.path}")
        return self._parse(row["body"])

    def _parse(self, body: Any) -> ApprovalRequest:
        try:
            return ApprovalRequest.model_validate_json(body)
        except (ValidationError, ValueError, TypeError):
            rid = body[:40] if isinstance(body, str) else type(body).__name__
            raise GateStateCorrupt(f"a row of table 'requests' is not an approval request (starts {rid!r})",
                                   file=str(self.path)) from None

    def _expire(self, db: sqlite3.Connection) -> None:
        now = self.clock()
        rows = db.execute("SELECT body FROM requests WHERE status IN ('pending', 'approved') AND expires_at <= ?",
                          (now,)).fetchall()
        for row in rows:
            req = self._parse(row["body"])
            self._save(db, req.model_copy(update={"status": Status.EXPIRED}))

    def _save(self, db: sqlite3.Connection, req: ApprovalRequest) -> None:
        db.execute("UPDATE requests SET status = ?, body = ? WHERE id = ?",
                   (req.status.value, req.model_dump_json(), req.id))

    # -- deciding

    def approve(self, request_id: str, approver: str, comment: str | None = None) -> ApprovalRequest:
        return self._decide(request_id, approver, comment, Status.APPROVED)

    def deny(self, request_id: str, approver: str, comment: str | None = None) -> ApprovalRequest:
        return self._decide(request_id, approver, comment, Status.DENIED)

    def _decide(self, request_id: str, approver: str, comment: str | None, to: Status) -> ApprovalRequest:
        who = (approver or "").strip()
        verb = "approve" if to is Status.APPROVED else "deny"
        if not who:
            raise UsageError(f"a named approver is required to {verb} a request (--as NAME)")
        if self.approvers and not any(same_person(who, a) for a in self.approvers):
            alike = [a for a in self.approvers if looks_like(who, a)]
            hint = f"; it only looks like {alike[0]!r}" if alike else ""
            raise ApprovalError(f"{who!r} is not an approver (approvals.approvers: {', '.join(self.approvers)}){hint}")
        with self._tx() as db:
            req = self._load(db, request_id)
            self._check_seal(req)
            if req.status is not Status.PENDING:
                raise ApprovalError(f"request {req.id} is {req.status.value}, not pending; it cannot be {verb}d")
            if to is Status.APPROVED:
                if looks_like(who, req.requester):
                    same = "requested" if same_person(who, req.requester) else \
                        f"looks like {req.requester!r}, who requested"
                    raise ApprovalError(f"{who!r} {same} {req.id} and cannot approve their own request")
                verify_saved_plan(req)
            done = req.model_copy(update={"status": to, "approver": who, "comment": comment,
                                          "decided_at": self.clock()})
            self._save(db, done)
        return done

    def _check_seal(self, req: ApprovalRequest) -> None:
        if req.seal != req.computed_seal():
            raise ApprovalError(f"request {req.id} was changed in {self.path} after it was made (its seal no "
                                "longer matches its command, directory or plan); request again")


    # -- running

    def claim(self, request_id: str, expect_seal: str | None = None) -> ApprovalRequest:
        """Atomically mark an approved, unexpired request executed and return it; refuse otherwise.

        ``expect_seal``: the seal of the request as the caller re-decided it; refused if it changed since.
        """
        with self._tx() as db:
            req = self._load(db, request_id)
            self._check_seal(req)
            if expect_seal is not None and req.seal != expect_seal:
                raise ApprovalError(f"request {req.id} changed while it was being checked; run it again")
            if req.status is not Status.APPROVED:
                hint = {Status.EXECUTED: "it already ran; approved commands run once",
                        Status.PENDING: "it has not been approved",
                        Status.DENIED: f"it was denied by {req.approver}",
                        Status.EXPIRED: f"it expired at {iso(req.expires_at)}"}.get(req.status, "")
                raise ApprovalError(f"request {req.id} is {req.status.value}: {hint}")
            verify_saved_plan(req)
            why = unapprovable_reason(req.argv, req.cwd, req.plan_file)
            if why:
                raise NotApprovable(why)
            done = req.model_copy(update={"status": Status.EXECUTED, "executed_at": self.clock()})
            self._save(db, done)
        return done

    def record_exit(self, request_id: str, exit_code: int, output_tail: str = "") -> None:
        with self._tx() as db:
            req = self._load(db, request_id)
            self._save(db, req.model_copy(update={"exit_code": exit_code}))

    # -- audit head anchor (see infraleash.gate.audit.HeadAnchor)

    def write_head(self, log: Path, seq: int, hash_: str) -> None:
        with self._tx() as db:
            db.execute("INSERT INTO audit_head (log, seq, hash, updated_at) VALUES (?,?,?,?) "
                       "ON CONFLICT(log) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, "
                       "updated_at = excluded.updated_at", (str(log.resolve()), seq, hash_, self.clock()))

    def read_head(self, log: Path) -> tuple[int, str] | None:
        with self._tx() as db:
            row = db.execute("SELECT seq, hash FROM audit_head WHERE log = ?", (str(log.resolve()),)).fetchone()
        return (int(row["seq"]), str(row["hash"])) if row else None


def request_summary(req: ApprovalRequest) -> dict[str, Any]:
    """The fields an audit record keeps about a request (no environment values)."""
    return {"request_id": req.id, "status": req.status.value, "argv": req.argv, "cwd": req.cwd,
            "requester": req.requester, "approver": req.approver, "rule_ids": req.rule_ids,
            "plan_file": req.plan_file, "plan_sha256": req.plan_sha256}


def _file_sig(path: Path) -> tuple[int, int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


def _sqlite_problem(e: BaseException) -> str:
    msg = str(e) or type(e).__name__
    if isinstance(e, OSError):
        msg = e.strerror or msg
    hint = {"file is not a database": " (binary data written over it, or another kind of file)",
            "database disk image is malformed": " (truncated or damaged)",
            "unable to open database file": " (a directory in its place, or unreadable)"}.get(msg, "")
    return f"the approvals database cannot be used: {msg}{hint}"


_COLUMNS = {"requests": ["id", "status", "created_at", "expires_at", "body"],
            "audit_head": ["log", "seq", "hash", "updated_at"]}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit_head (
    log TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL,
    updated_at REAL NOT NULL
);
"""

