"""The executor: every verdict is audited; allow runs, needs_approval holds, deny refuses; approved runs once.

These tests give ``execute`` a stand-in decision function so they exercise the
executor alone; the real ``decide`` is exercised through the CLI and sandbox tests.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import time
from pathlib import Path

import pytest

from infraleash.errors import ExecutionError
from infraleash.gate.approvals import ApprovalStore, Status
from infraleash.gate.audit import AuditLog
from infraleash.gate.executor import (
    MAX_OUTPUT,
    Decider,
    Outcome,
    UntrustedProgram,
    execute,
    resolve_program,
    run_approved,
    run_command,
)
from infraleash.gate.model import Action, Decision, Effect, GateContext, GateVerdict, RuleHit
from infraleash.gate.runner_config import DEFAULT_PATH, SANDBOX_HOME, RunnerConfig
from infraleash.policy import Policy, parse_policy
from infraleash.terraform.runner import embedded_command


def deciding(verdict: GateVerdict, *, strip: tuple[str, ...] = (), plan_file: str | None = None) -> Decider:
    def decide(action: Action, policy: Policy, context: GateContext | None) -> Decision:
        env = {k: v for k, v in action.env.items() if k not in strip}
        return Decision(verdict=verdict, effect=Effect.READ if verdict is GateVerdict.ALLOW else Effect.DESTRUCTIVE,
                        argv=action.argv, env=env, stripped_env=[k for k in strip if k in action.env],
                        rules=[RuleHit(id=f"TEST-{verdict.value.upper()}", reason=f"stand-in says {verdict.value}")],
                        plan_file=plan_file)
    return decide


# The tests run ``sys.executable`` by absolute path: its directory must be on the runner's PATH.
RUNNER_PATH = os.pathsep.join([os.path.dirname(sys.executable), DEFAULT_PATH])
RUNNER = RunnerConfig.for_tests(env={"PATH": RUNNER_PATH})
# for the tests that count runs in a file of the working tree, which the sandbox keeps read-only
UNSANDBOXED = RunnerConfig.for_tests(env={"PATH": RUNNER_PATH},
                                     sandbox={"mode": "off", "reason": "the test counts runs in a workspace file"})


@pytest.fixture
def gate(tmp_path: Path) -> tuple[ApprovalStore, AuditLog]:
    store = ApprovalStore(tmp_path / "approvals.db")
    return store, AuditLog(tmp_path / "audit.jsonl")


def _py(code: str, cwd: Path, **env: str) -> Action:
    return Action(argv=[sys.executable, "-c", code], cwd=str(cwd), env={"PATH": RUNNER_PATH, **env},
                  requester="agent-7")


def test_allowed_command_runs_with_captured_output_and_is_audited(tmp_path: Path, gate: tuple[ApprovalStore, AuditLog]) -> None:
    store, audit = gate
    action = _py("import sys; print('out'); print('err', file=sys.stderr); sys.exit(3)", tmp_path)
    res = execute(action, Policy(), store=store, audit=audit, runner=RUNNER, decide=deciding(GateVerdict.ALLOW))
    assert res.outcome is Outcome.RAN and res.exit_code == 3
    assert res.stdout == "out\n" and res.stderr == "err\n"
    events = [(r.event, r.actor) for r in audit.records()]
    assert events == [("decision", "agent-7"), ("execution", "agent-7")]
    rec = list(audit.records())[1]
    assert rec.data["exit_code"] == 3 and rec.data["stdout_bytes"] == 4
    assert audit.verify().ok


def test_allowed_command_runs_with_the_sanitized_env(tmp_path: Path, gate: tuple[ApprovalStore, AuditLog]) -> None:
    store, audit = gate
    action = _py("import os; print(os.environ.get('TF_CLI_ARGS', 'absent'), os.environ['TF_VAR_keep'])", tmp_path,
                 TF_CLI_ARGS="-destroy", TF_VAR_keep="kept")
    res = execute(action, Policy(), store=store, audit=audit, runner=RUNNER,
                  decide=deciding(GateVerdict.ALLOW, strip=("TF_CLI_ARGS",)))
    assert res.stdout.split() == ["absent", "kept"]
    assert list(audit.records())[0].data["stripped_env"] == ["TF_CLI_ARGS"]


def test_denied_command_does_not_run(tmp_path: Path, gate: tuple[ApprovalStore, AuditLog]) -> None:
    store, audit = gate
    marker = tmp_path / "ran"
    action = _py(f"open({str(marker)!r}, 'w').write('x')", tmp_path)
    res = execute(action, Policy(), store=store, audit=audit, runner=RUNNER, decide=deciding(GateVerdict.DENY))
    assert res.outcome is Outcome.DENIED and "TEST-DENY" in res.message
    assert not marker.exists()
    assert [r.event for r in audit.records()] == ["decision"]
    assert list(audit.records())[0].data["verdict"] == "deny"


def test_timeout_kills_the_command(tmp_path: Path, gate: tuple[ApprovalStore, AuditLog]) -> None:
    store, audit = gate
    res = execute(_py("import time; time.sleep(30)", tmp_path), Policy(), store=store, audit=audit, runner=RUNNER,
                  decide=deciding(GateVerdict.ALLOW), timeout=0.5)
    assert res.outcome is Outcome.TIMED_OUT and res.exit_code is None and res.duration_s < 10
    assert list(audit.records())[-1].data["outcome"] == "timed_out"


def test_held_command_waits_for_approval_then_runs_exactly_once(tmp_path: Path, gate: tuple[ApprovalStore, AuditLog]) -> None:
    store, audit = gate
    counter = tmp_path / "count"
    action = _py(f"p={str(counter)!r}; import os; n=int(open(p).read()) if os.path.exists(p) else 0; "
                 f"open(p,'w').write(str(n+1)); print('run', n+1)", tmp_path)
    held = execute(action, Policy(), store=store, audit=audit, runner=UNSANDBOXED, decide=deciding(GateVerdict.NEEDS_APPROVAL))
    assert held.outcome is Outcome.HELD and held.request_id
    assert not counter.exists()
    refused = run_approved(held.request_id, store=store, audit=audit, actor="ops", runner=UNSANDBOXED)
    assert refused.outcome is Outcome.DENIED and "not been approved" in refused.message
    store.approve(held.request_id, "sre-lead", "ok")
    first = run_approved(held.request_id, store=store, audit=audit, actor="ops", runner=UNSANDBOXED)
    assert first.outcome is Outcome.RAN and first.stdout == "run 1\n"
    second = run_approved(held.request_id, store=store, audit=audit, actor="ops", runner=UNSANDBOXED)
    assert second.outcome is Outcome.DENIED and "already ran" in second.message
    assert counter.read_text() == "1"
    req = store.get(held.request_id)
    assert req.status is Status.EXECUTED and req.exit_code == 0
    events = [r.event for r in audit.records()]
    assert events == ["decision", "approval_requested", "execution_refused", "execution", "execution_refused"]
    exec_rec = [r for r in audit.records() if r.event == "execution"][0]
    assert exec_rec.data["request_id"] == held.request_id and exec_rec.data["approver"] == "sre-lead"
    assert exec_rec.data["sandbox"] == "off (the test counts runs in a workspace file)"  # audited on every run
    report = audit.verify()
    assert report.ok and any("approvals database" in a for a in report.anchors_checked)


def test_plain_apply_held_by_the_gate_is_refused_by_the_store(tmp_path: Path, gate: tuple[ApprovalStore, AuditLog]) -> None:
    store, audit = gate
    action = Action(argv=["terraform", "apply", "-auto-approve"], cwd=str(tmp_path), requester="agent")
    res = execute(action, Policy(), store=store, audit=audit, runner=RUNNER, decide=deciding(GateVerdict.NEEDS_APPROVAL))
    assert res.outcome is Outcome.DENIED and "never approvable" in res.message
    assert store.requests() == []
    assert [r.event for r in audit.records()] == ["decision", "approval_refused"]


def test_terraform_falls_back_to_the_embedded_core_when_not_on_path(tmp_path: Path) -> None:
    assert resolve_program(["terraform", "version"], {"PATH": str(tmp_path)}) == \
        [*embedded_command(), "version"]
    assert resolve_program(["kubectl", "get", "pods"], {"PATH": str(tmp_path)}) == ["kubectl", "get", "pods"]


def test_without_terraform_and_without_the_embedded_extra_the_refusal_says_what_to_install(
        tmp_path: Path, gate: tuple[ApprovalStore, AuditLog], monkeypatch: pytest.MonkeyPatch) -> None:
    import infraleash.gate.executor as executor_module

    monkeypatch.setattr(executor_module, "embedded_available", lambda: False)
    store, audit = gate
    bare = RunnerConfig.for_tests(env={"PATH": str(tmp_path)})
    res = execute(Action(argv=["terraform", "version"], cwd=str(tmp_path), requester="agent"), Policy(),
                  store=store, audit=audit, runner=bare, decide=deciding(GateVerdict.ALLOW))
    assert res.outcome is Outcome.DENIED and "infraleash[embedded-terraform]" in res.message
    assert [r.event for r in audit.records()][-1] == "execution_refused"


@pytest.mark.parametrize("argv, outcome, rule", [
    (["terraform", "apply", "-auto-approve"], Outcome.DENIED, "TF-APPLY-UNSAVED-PLAN"),
    (["terraform", "destroy"], Outcome.DENIED, "TF-DESTROY"),
    (["terraform", "state", "rm", "aws_s3_bucket.a"], Outcome.HELD, "TF-STATE-MUTATE"),
    (["sh", "-c", "terraform apply -auto-approve"], Outcome.DENIED, "CMD-SHELL"),
])
def test_with_the_real_decide(tmp_path: Path, gate: tuple[ApprovalStore, AuditLog], argv: list[str],
                              outcome: Outcome, rule: str) -> None:
    store, audit = gate
    policy = Policy.model_validate({"trust_level": "act-with-approval"})
    res = execute(Action(argv=argv, cwd=str(tmp_path), env={"PATH": RUNNER_PATH}, requester="agent"),
                  policy, store=store, audit=audit, runner=RUNNER)
    assert res.outcome is outcome and res.exit_code is None
    assert res.decision is not None and rule in [r.id for r in res.decision.rules]
    assert [r.id for r in store.requests()] == ([res.request_id] if outcome is Outcome.HELD else [])
    assert list(audit.records())[0].data["verdict"] == res.decision.verdict.value


# --------------------------------------------------------------------------- the runner's PATH and environment


def _fake_program(directory: Path, name: str, marker: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    fake = directory / name
    fake.write_text(f"#!/bin/sh\necho fake > {marker}\necho FAKE\n")
    fake.chmod(0o755)
    return fake


def test_a_fake_binary_first_on_the_actions_path_never_runs(tmp_path: Path, gate: tuple[ApprovalStore, AuditLog]
                                                           ) -> None:
    store, audit = gate
    marker = tmp_path / "fake-ran"
    evil = _fake_program(tmp_path / "evil", "terraform", marker).parent
    action = Action(argv=["terraform", "version"], cwd=str(tmp_path), requester="agent",
                    env={"PATH": f"{evil}{os.pathsep}{RUNNER_PATH}"})
    res = execute(action, Policy(), store=store, audit=audit, timeout=120, runner=RUNNER)
    assert res.outcome is Outcome.RAN and "FAKE" not in res.stdout
    assert not marker.exists()


def test_an_absolute_path_outside_the_runners_path_is_refused_and_audited(
        tmp_path: Path, gate: tuple[ApprovalStore, AuditLog]) -> None:
    store, audit = gate
    marker = tmp_path / "fake-ran"
    fake = _fake_program(tmp_path / "evil", "terraform", marker)
    res = execute(Action(argv=[str(fake), "plan"], cwd=str(tmp_path), requester="agent"), Policy(),
                  store=store, audit=audit, runner=RUNNER)
    assert res.outcome is Outcome.DENIED and "not in a directory on the runner's PATH" in res.message
    assert not marker.exists()
    assert [r.event for r in audit.records()] == ["decision", "execution_refused"]
    with pytest.raises(UntrustedProgram):
        resolve_program(["./terraform", "plan"], {"PATH": RUNNER_PATH})


def test_path_home_and_cli_config_come_from_the_runner_not_the_action(
        tmp_path: Path, gate: tuple[ApprovalStore, AuditLog]) -> None:
    store, audit = gate
    code = ("import os; print(os.environ.get('HOME'), os.environ.get('TF_CLI_CONFIG_FILE'), "
            "os.environ.get('KUBECONFIG'), os.environ.get('GIT_SSH_COMMAND'), os.environ.get('LD_LIBRARY_PATH'))")
    runner = RunnerConfig.for_tests(env={"PATH": RUNNER_PATH}, cli_config="/etc/tf.rc")
    action = Action(argv=[sys.executable, "-c", code], cwd=str(tmp_path), requester="agent",
                    env={"HOME": str(tmp_path), "TF_CLI_CONFIG_FILE": str(tmp_path / "evil.rc"),
                         "KUBECONFIG": str(tmp_path / "kc"), "GIT_SSH_COMMAND": "sh /tmp/x",
                         "LD_LIBRARY_PATH": str(tmp_path)})
    policy = Policy.model_validate({"commands": {"allow": [[sys.executable, "-c", code]]}})
    res = execute(action, policy, store=store, audit=audit, runner=runner)
    assert res.outcome is Outcome.RAN, res.message
    assert res.stdout.split() == [SANDBOX_HOME, "/etc/tf.rc", "None", "None", "None"]
    assert {"GIT_SSH_COMMAND", "LD_LIBRARY_PATH"} <= set(res.decision.stripped_env if res.decision else [])


def test_a_nul_byte_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    with pytest.raises(ExecutionError, match="NUL"):
        run_command(["echo", "a\x00b"], cwd=str(tmp_path), env={})


def test_an_approved_request_is_re_decided_against_the_current_policy(
        tmp_path: Path, gate: tuple[ApprovalStore, AuditLog]) -> None:
    store, audit = gate
    policy = Policy.model_validate({"trust_level": "act-with-approval"})
    action = Action(argv=["terraform", "state", "rm", "aws_s3_bucket.a"], cwd=str(tmp_path), requester="agent")
    held = execute(action, policy, store=store, audit=audit, runner=RUNNER)
    assert held.request_id
    store.approve(held.request_id, "sre-lead")
    # an attacker who can write the database and recompute the seal swaps the command
    req = store.get(held.request_id).model_copy(update={"argv": ["terraform", "apply", "-auto-approve"]})
    req.seal = req.computed_seal()
    db = sqlite3.connect(store.path)
    db.execute("UPDATE requests SET body = ? WHERE id = ?", (req.model_dump_json(), req.id))
    db.commit()
    db.close()
    res = run_approved(held.request_id, store=store, audit=audit, actor="ops", runner=RUNNER, policy=policy)
    assert res.outcome is Outcome.DENIED and "current policy denies" in res.message
    assert "TF-APPLY-UNSAVED-PLAN" in res.message
    assert store.get(held.request_id).status is Status.APPROVED  # not burned, not run
    # the policy tightened since the approval: refused too
    tighter = Policy.model_validate({"trust_level": "plan"})
    again = execute(action, policy, store=store, audit=audit, runner=RUNNER)
    assert again.request_id
    store.approve(again.request_id, "sre-lead")
    res = run_approved(again.request_id, store=store, audit=audit, actor="ops", runner=RUNNER, policy=tighter)
    assert res.outcome is Outcome.DENIED and "TRUST-LEVEL" in res.message
    assert audit.verify().ok


def test_output_is_streamed_as_it_comes_and_only_the_tail_is_kept(tmp_path: Path) -> None:
    seen: list[tuple[int, float]] = []
    started = time.monotonic()
    code = ("import sys, time\nsys.stdout.write('first\\n'); sys.stdout.flush(); time.sleep(1.0)\n"
            "sys.stdout.write('x' * (5 * 1024 * 1024)); sys.stderr.write('done\\n')\n")
    res = run_command([sys.executable, "-c", code], cwd=str(tmp_path), env={}, runner=RUNNER,
                      stream=lambda fd, chunk: seen.append((fd, time.monotonic() - started)))
    assert res.exit_code == 0 and res.streamed and res.truncated
    assert res.stdout.endswith("x" * 100) and len(res.stdout) == MAX_OUTPUT and res.stderr == "done\n"
    first_out = min(t for fd, t in seen if fd == 1)
    assert first_out < res.duration_s - 0.5  # the first line arrived before the command ended
    assert {fd for fd, _ in seen} == {1, 2}


def test_a_symlinked_directory_into_another_environment_is_refused(
        tmp_path: Path, gate: tuple[ApprovalStore, AuditLog]) -> None:
    store, audit = gate
    policy = parse_policy("trust_level: plan\nenvironments:\n  - name: production\n"
                          "    match: {directories: [\"envs/prod/**\"]}\n    trust_level: observe\n",
                          str(tmp_path / "infraleash.yaml"))
    (tmp_path / "envs" / "prod").mkdir(parents=True)
    (tmp_path / "envs" / "dev").mkdir()
    (tmp_path / "envs" / "dev" / "shortcut").symlink_to(tmp_path / "envs" / "prod")
    # as written, both are the default environment (plan trust: allowed); resolved, they are production
    for cwd, argv in [(tmp_path / "envs" / "dev" / "shortcut", ["terraform", "plan"]),
                      (tmp_path / "envs" / "dev", ["terraform", "-chdir=shortcut", "plan"])]:
        res = execute(Action(argv=argv, cwd=str(cwd), requester="agent"), policy,
                      GateContext(workspace_dir=str(tmp_path)), store=store, audit=audit, runner=RUNNER)
        assert res.decision is not None and res.decision.verdict is GateVerdict.ALLOW
        assert res.outcome is Outcome.DENIED and "symlink" in res.message and "production" in res.message
    assert [r.event for r in audit.records()].count("execution_refused") == 2
    assert "execution" not in [r.event for r in audit.records()]
