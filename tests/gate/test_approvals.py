"""The approvals store: who may approve what, expiry, once-only runs, plan file hashes, no secrets at rest."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import threading
from pathlib import Path

import pytest

from infraleash.errors import UsageError
from infraleash.gate.approvals import (
    ApprovalError,
    ApprovalStore,
    NotApprovable,
    Status,
    plan_file_path,
    private_plan_copy,
    unapprovable_reason,
)
from infraleash.gate.model import Action, Decision, Effect, GateVerdict, RuleHit


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def _held(argv: list[str], *, plan_file: str | None = None, approvable: bool = True,
          env: dict[str, str] | None = None) -> Decision:
    return Decision(verdict=GateVerdict.NEEDS_APPROVAL, effect=Effect.DESTRUCTIVE, argv=argv,
                    env=env or {"PATH": "/usr/bin"}, rules=[RuleHit(id="TF-APPLY-PLAN", reason="applies a plan")],
                    plan_file=plan_file, approvable=approvable)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path: Path, clock: Clock) -> ApprovalStore:
    return ApprovalStore(tmp_path / "state" / "approvals.db", ttl_minutes=60, clock=clock)


@pytest.fixture
def plan(tmp_path: Path) -> Path:
    p = tmp_path / "work" / "p.tfplan"
    p.parent.mkdir()
    p.write_bytes(b"PK\x03\x04 a saved plan")
    return p


def _request(store: ApprovalStore, plan: Path, requester: str = "agent-1", **env: str):  # type: ignore[no-untyped-def]
    argv = ["terraform", "apply", "p.tfplan"]
    action = Action(argv=argv, cwd=str(plan.parent), requester=requester, reason="roll out the bucket")
    return store.create(action, _held(argv, plan_file="p.tfplan", env={"PATH": "/usr/bin", **env}))


def test_create_records_exact_command_and_plan_hash(store: ApprovalStore, plan: Path, clock: Clock) -> None:
    req = _request(store, plan)
    again = store.get(req.id)
    assert again.status is Status.PENDING
    assert again.argv == ["terraform", "apply", "p.tfplan"]
    assert again.cwd == str(plan.parent.resolve())
    assert again.requester == "agent-1" and again.reason == "roll out the bucket"
    assert again.rule_ids == ["TF-APPLY-PLAN"]
    assert again.plan_file == str(plan.resolve())
    assert again.plan_sha256 == hashlib.sha256(plan.read_bytes()).hexdigest()
    assert again.expires_at - again.created_at == 3600


def test_requests_persist_across_store_instances(store: ApprovalStore, plan: Path, clock: Clock) -> None:
    req = _request(store, plan)
    other = ApprovalStore(store.path, clock=clock)
    assert [r.id for r in other.requests(Status.PENDING)] == [req.id]


@pytest.mark.parametrize("argv, why", [
    (["terraform", "apply"], "never approvable"),
    (["terraform", "apply", "-auto-approve"], "never approvable"),
    (["tofu", "-chdir=x", "apply", "-auto-approve"], "never approvable"),
    (["terraform", "destroy", "-auto-approve"], "destroy"),
    (["terraform", "apply", "missing.tfplan"], "does not exist"),
])
def test_apply_without_a_saved_plan_is_never_approvable(store: ApprovalStore, plan: Path, argv: list[str],
                                                         why: str) -> None:
    with pytest.raises(NotApprovable, match=why):
        store.create(Action(argv=argv, cwd=str(plan.parent)), _held(argv))
    assert store.requests() == []


def test_decision_marked_not_approvable_is_refused(store: ApprovalStore, plan: Path) -> None:
    argv = ["kubectl", "delete", "ns", "prod"]
    with pytest.raises(NotApprovable):
        store.create(Action(argv=argv, cwd=str(plan.parent)), _held(argv, approvable=False))


def test_plan_path_follows_chdir(tmp_path: Path) -> None:
    assert plan_file_path(["terraform", "-chdir=envs/prod", "apply", "p.tfplan"], str(tmp_path)) == \
        (tmp_path / "envs/prod/p.tfplan").resolve()
    assert plan_file_path(["terraform", "plan", "-out=p.tfplan"], str(tmp_path)) is None
    assert unapprovable_reason(["kubectl", "apply", "-f", "x.yaml"], str(tmp_path), None) is None


def test_approve_needs_a_named_approver_who_is_not_the_requester(store: ApprovalStore, plan: Path) -> None:
    req = _request(store, plan, requester="alice")
    with pytest.raises(UsageError, match="named approver"):
        store.approve(req.id, "  ")
    with pytest.raises(ApprovalError, match="own request"):
        store.approve(req.id, "alice")
    done = store.approve(req.id, "bob", "looks right")
    assert (done.status, done.approver, done.comment) == (Status.APPROVED, "bob", "looks right")
    with pytest.raises(ApprovalError, match="not pending"):
        store.approve(req.id, "carol")


def test_approvers_list_restricts_who_may_approve(tmp_path: Path, plan: Path, clock: Clock) -> None:
    store = ApprovalStore(tmp_path / "a.db", approvers=["sre-lead"], clock=clock)
    req = _request(store, plan)
    with pytest.raises(ApprovalError, match="not an approver"):
        store.approve(req.id, "random-dev")
    assert store.approve(req.id, "sre-lead").status is Status.APPROVED


def test_denied_request_cannot_be_approved_or_run(store: ApprovalStore, plan: Path) -> None:
    req = _request(store, plan)
    assert store.deny(req.id, "bob", "not today").status is Status.DENIED
    with pytest.raises(ApprovalError):
        store.approve(req.id, "carol")
    with pytest.raises(ApprovalError, match="denied"):
        store.claim(req.id)


def test_expired_requests_cannot_be_approved_or_run(store: ApprovalStore, plan: Path, clock: Clock) -> None:
    pending = _request(store, plan)
    approved = _request(store, plan)
    store.approve(approved.id, "bob")
    clock.now += 3601
    assert store.get(pending.id).status is Status.EXPIRED
    with pytest.raises(ApprovalError, match="expired"):
        store.approve(pending.id, "bob")
    with pytest.raises(ApprovalError, match="expired"):
        store.claim(approved.id)


def test_claim_runs_once(store: ApprovalStore, plan: Path) -> None:
    req = _request(store, plan)
    with pytest.raises(ApprovalError, match="not been approved"):
        store.claim(req.id)
    store.approve(req.id, "bob")
    claimed = store.claim(req.id)
    assert claimed.status is Status.EXECUTED and claimed.executed_at is not None
    with pytest.raises(ApprovalError, match="already ran"):
        store.claim(req.id)


def test_changed_plan_file_refuses_approval_and_run(store: ApprovalStore, plan: Path) -> None:
    before = _request(store, plan)
    after = _request(store, plan)
    store.approve(after.id, "bob")
    plan.write_bytes(b"PK\x03\x04 a different plan")
    with pytest.raises(ApprovalError, match="changed since request"):
        store.approve(before.id, "bob")
    with pytest.raises(ApprovalError, match="changed since request"):
        store.claim(after.id)
    assert store.get(after.id).status is Status.APPROVED  # refused, not consumed


def test_unknown_request_is_a_usage_error(store: ApprovalStore) -> None:
    with pytest.raises(UsageError, match="no approval request"):
        store.get("nope")


def test_secrets_are_not_stored(store: ApprovalStore, plan: Path) -> None:
    req = _request(store, plan, AWS_SECRET_ACCESS_KEY="hunter2", GITHUB_TOKEN="ghp_x", AWS_REGION="us-east-1")
    raw = "\n".join(row[0] for row in sqlite3.connect(store.path).execute("SELECT body FROM requests"))
    assert "hunter2" not in raw and "ghp_x" not in raw
    assert req.env["AWS_REGION"] == "us-east-1" and req.env["AWS_SECRET_ACCESS_KEY"] is None
    env = store.get(req.id).run_env({"AWS_SECRET_ACCESS_KEY": "from-runner", "TF_CLI_ARGS": "-destroy"})
    assert env["AWS_SECRET_ACCESS_KEY"] == "from-runner"
    assert "TF_CLI_ARGS" not in env  # only the saved variables, never new ones from the runner
    assert "GITHUB_TOKEN" not in env


# --------------------------------------------------------------------------- QA: tampering and races


@pytest.mark.parametrize("name", ["Agent-1", " agent-1 ", "AGENT-1", "agent-1\t",
                                  "\uff41gent-1"])
def test_the_requester_cannot_approve_with_another_case_or_spacing(store: ApprovalStore, plan: Path,
                                                                   name: str) -> None:
    req = _request(store, plan)
    with pytest.raises(ApprovalError, match="own request"):
        store.approve(req.id, name)


def test_approvers_list_matches_names_normalized(tmp_path: Path, plan: Path, clock: Clock) -> None:
    store = ApprovalStore(tmp_path / "a.db", approvers=["SRE-Lead"], clock=clock)
    req = _request(store, plan)
    assert store.approve(req.id, " sre-lead").status is Status.APPROVED


def _edit_row(store: ApprovalStore, request_id: str, **changes: object) -> None:
    db = sqlite3.connect(store.path)
    body = json.loads(db.execute("SELECT body FROM requests WHERE id = ?", (request_id,)).fetchone()[0])
    body.update(changes)
    db.execute("UPDATE requests SET body = ? WHERE id = ?", (json.dumps(body), request_id))
    db.commit()
    db.close()


def test_an_argv_edited_in_the_database_is_refused(store: ApprovalStore, plan: Path) -> None:
    req = _request(store, plan)
    store.approve(req.id, "bob")
    _edit_row(store, req.id, argv=["terraform", "destroy", "-auto-approve"])
    with pytest.raises(ApprovalError, match="changed in"):
        store.claim(req.id)
    other = _request(store, plan)
    _edit_row(store, other.id, cwd="/")
    with pytest.raises(ApprovalError, match="changed in"):
        store.approve(other.id, "bob")


def test_a_symlinked_plan_file_is_not_approvable(store: ApprovalStore, plan: Path, tmp_path: Path) -> None:
    link = plan.parent / "link.tfplan"
    link.symlink_to(plan)
    argv = ["terraform", "apply", "link.tfplan"]
    with pytest.raises(NotApprovable, match="symlink"):
        store.create(Action(argv=argv, cwd=str(plan.parent), requester="agent"), _held(argv, plan_file="link.tfplan"))


def test_the_private_plan_copy_is_rehashed_and_is_what_runs(store: ApprovalStore, plan: Path) -> None:
    req = store.claim(store.approve(_request(store, plan).id, "bob").id)
    argv, private = private_plan_copy(req)
    try:
        assert argv[:2] == ["terraform", "apply"] and Path(argv[-1]).parent == private
        assert Path(argv[-1]).read_bytes() == plan.read_bytes()
        plan.write_bytes(b"PK\x03\x04 swapped after the copy")  # the swap no longer matters
        assert Path(argv[-1]).read_bytes() != plan.read_bytes()
        assert oct(private.stat().st_mode & 0o777) == "0o700"
    finally:
        shutil.rmtree(private)
    with pytest.raises(ApprovalError, match="changed since"):  # swapped between claim and copy: refused
        private_plan_copy(req)


def test_concurrent_claims_run_once(tmp_path: Path, plan: Path) -> None:
    store = ApprovalStore(tmp_path / "race.db")
    req = _request(store, plan)
    store.approve(req.id, "bob")
    results: list[str] = []

    def claim() -> None:
        try:
            ApprovalStore(tmp_path / "race.db").claim(req.id)
            results.append("ran")
        except ApprovalError:
            results.append("refused")

    threads = [threading.Thread(target=claim) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["ran"] + ["refused"] * 5


def test_expiry_is_exact_at_the_boundary(store: ApprovalStore, plan: Path, clock: Clock) -> None:
    req = _request(store, plan)
    store.approve(req.id, "bob")
    clock.now = req.expires_at - 0.001
    assert store.get(req.id).status is Status.APPROVED
    clock.now = req.expires_at
    with pytest.raises(ApprovalError, match="expired"):
        store.claim(req.id)


# --------------------------------------------------------------------------- hostile state


def _damage(path: Path, kind: str, store: ApprovalStore | None = None, plan: Path | None = None) -> None:
    if kind == "binary":
        path.write_bytes(bytes(range(256)) * 64)
    elif kind == "directory":
        path.unlink()
        path.mkdir()
    elif kind == "truncated":
        assert store is not None and plan is not None
        for _ in range(40):
            _request(store, plan)
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 3])
    elif kind == "wrong_schema":
        path.unlink()
        db = sqlite3.connect(path)
        db.execute("CREATE TABLE requests (id TEXT PRIMARY KEY, payload BLOB)")
        db.commit()
        db.close()
    elif kind == "bad_row":
        db = sqlite3.connect(path)
        db.execute("INSERT INTO requests (id, status, created_at, expires_at, body) VALUES "
                   "('x', 'pending', 1, 9e18, '{\"not\": \"a request\"')")
        db.commit()
        db.close()


@pytest.mark.parametrize("kind", ["binary", "directory", "truncated", "wrong_schema", "bad_row"])
def test_a_corrupt_database_is_named_and_refused_never_a_crash(tmp_path: Path, plan: Path, clock: Clock,
                                                                kind: str) -> None:
    from infraleash.gate.audit import GateStateCorrupt

    path = tmp_path / "state" / "approvals.db"
    store = ApprovalStore(path, clock=clock)
    _damage(path, kind, store, plan)
    before = path.read_bytes() if path.is_file() else None
    again = ApprovalStore(path, clock=clock)  # opening it does not raise (the surfaces build one at start)
    if kind != "bad_row":
        assert again.problem() is not None
    must_refuse = [again.requests, lambda: again.get("x"), lambda: again.approve("x", "sre-lead")]
    if kind != "bad_row":
        must_refuse += [lambda: _request(again, plan), lambda: again.read_head(tmp_path / "audit.jsonl")]
    for op in must_refuse:
        with pytest.raises(GateStateCorrupt) as exc:
            op()
        assert str(path) in str(exc.value) and "\n" not in str(exc.value)
    if before is not None:
        assert path.read_bytes() == before  # nothing dropped or recreated


# --------------------------------------------------------------------------- look-alike names


@pytest.mark.parametrize("approver", ["\u0430gent-1", "AGENT-l", "\u0430gent\u200b-1", "agent\u20101"])
def test_a_look_alike_name_cannot_approve_its_own_request(store: ApprovalStore, plan: Path, approver: str) -> None:
    req = _request(store, plan, requester="agent-1")
    with pytest.raises(ApprovalError, match="cannot approve their own request"):
        store.approve(req.id, approver)
    assert store.get(req.id).status is Status.PENDING
    store.approve(req.id, "sre-lead")  # a different person still can


def test_a_look_alike_of_a_listed_approver_is_not_an_approver(tmp_path: Path, plan: Path, clock: Clock) -> None:
    store = ApprovalStore(tmp_path / "a.db", approvers=["sre-lead"], clock=clock)
    req = _request(store, plan)
    with pytest.raises(ApprovalError, match="only looks like 'sre-lead'"):
        store.approve(req.id, "\u0455re-lead")
    assert store.approve(req.id, "SRE-Lead").status is Status.APPROVED
