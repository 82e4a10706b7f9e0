"""The enforcement point: decide, audit, then run, hold or refuse.

    result = execute(Action(argv=[...], cwd=..., env=..., requester="ci-agent"), policy, context,
                     store=ApprovalStore.from_policy(policy), audit=AuditLog.from_policy(policy),
                     runner=load_runner_config(None))

* allow          -> pre-flight (:func:`infraleash.gate.preflight.preflight`), then run the Decision's
                    effective argv in the sandbox (:mod:`infraleash.gate.sandbox`: bubblewrap, no shell,
                    timeout, captured output), audit the execution, return the output;
* needs_approval -> create an approval request, audit it, return its id;
* deny           -> return the rule ids and reasons.

:func:`run_approved` runs an approved request's exact command once (pre-flight and sandbox too).
Every decision, request, refusal and execution is appended to the audit log.

The child's environment and PATH come from the **runner configuration**
(:class:`~infraleash.gate.runner_config.RunnerConfig`, default: built-in defaults), never from
the caller: :meth:`RunnerConfig.child_env` is the runner's environment plus the allow-listed
names the gate kept of the action's.  The program is found on the runner's PATH: an agent that
writes a fake ``terraform`` into a directory and puts it first on PATH runs nothing.  An
absolute program path runs only when its directory is on that PATH (``/usr/local/bin/terraform``
yes, ``/tmp/x/terraform`` no); a relative one never.

Refused before anything runs (outcome ``denied``, audited as ``execution_refused`` with the rule
ids): a working directory outside the runner's workspaces (RUNNER-WORKSPACE), a pre-flight rule
(a configuration that would execute code or reach outside), bubblewrap missing or broken
(SANDBOX-UNAVAILABLE), an output the sandbox may not write (SANDBOX-PATH).  A runner
configuration with ``sandbox: {mode: off}`` runs without bubblewrap; each such run's audit
record says so, with the reason (its ``sandbox`` field).

``decide`` matches directories as written; the executor decides again on the
symlink-resolved working directory and ``-chdir`` and refuses a command whose
real directory belongs to another environment (``envs/dev/x -> ../prod``).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

from pydantic import BaseModel, Field

from infraleash.errors import ExecutionError, ExitCode
from infraleash.gate.approval_backend import ApprovalBackend
from infraleash.gate.approvals import (
    ApprovalError,
    ApprovalRequest,
    ApprovalStore,
    ShownPlan,
    Status,
    plan_file_path,
    private_plan_copy,
    request_summary,
    sha256_file,
)
from infraleash.gate.audit import AuditLog
from infraleash.gate.commands import extra_env_for
from infraleash.gate.model import Action, Decision, GateContext, GateVerdict, RuleHit
from infraleash.gate.output_filters import apply_filter, filter_for
from infraleash.gate.output_masking import mask_result, must_mask
from infraleash.gate.preflight import preflight
from infraleash.gate.rules import hit
from infraleash.gate.runner_config import RunnerConfig, RunnerConfigError
from infraleash.gate.sandbox import SandboxRefused, SandboxUnavailable, check_available, plan_layout
from infraleash.gate.state_health import state_refusal
from infraleash.gate.terraform_argv import is_terraform
from infraleash.policy import Policy
from infraleash.terraform.runner import NO_TERRAFORM, embedded_available, embedded_command

DEFAULT_TIMEOUT = 1800.0
MAX_OUTPUT = 4 * 1024 * 1024  # bytes of stdout/stderr kept per stream

Decider = Callable[[Action, Policy, GateContext | None], Decision]
Stream = Callable[[int, bytes], None]


class UntrustedProgram(ExecutionError):
    """The program is not on the runner's trusted PATH (a relative path, or a directory the agent chose)."""

    exit_code = ExitCode.DENIED


class ProgramUnavailable(ExecutionError):
    """Nothing here can run the program (``terraform`` with no binary on PATH and no embedded core)."""

    exit_code = ExitCode.USAGE


class Outcome(StrEnum):
    RAN = "ran"  # the command ran (see exit_code)
    HELD = "held"  # needs_approval: a request was created
    DENIED = "denied"  # the gate (or the approvals rules) refused it
    TIMED_OUT = "timed_out"


class ExecutionResult(BaseModel):
    outcome: Outcome
    decision: Decision | None = None
    request_id: str | None = None
    argv: list[str] = Field(default_factory=list)
    exit_code: int | None = None
    stdout: str = ""
    stderr: str = ""
    truncated: bool = False
    streamed: bool = Field(default=False, description="stdout/stderr were already handed to a stream callback")
    duration_s: float = 0.0
    message: str = ""
    rules: list[RuleHit] = Field(default_factory=list, description="why the executor refused to run it")
    sandbox: str = Field(default="", description="bwrap, or off (the runner configuration's reason)")
    audit_seq: int | None = None


class _Refused(Exception):
    """The executor will not run the command: these rules say why."""

    def __init__(self, rules: list[RuleHit]) -> None:
        self.rules = rules
        super().__init__("; ".join(f"[{r.id}] {r.reason}" for r in rules))


def _default_decide(action: Action, policy: Policy, context: GateContext | None) -> Decision:
    from infraleash.gate.decision import decide

    return decide(action, policy, context)


def execute(action: Action, policy: Policy, context: GateContext | None = None, *, store: ApprovalBackend,
            audit: AuditLog, timeout: float = DEFAULT_TIMEOUT, decide: Decider | None = None,
            runner: RunnerConfig | None = None, stream: Stream | None = None,
            on_held: Callable[[ExecutionResult], None] | None = None) -> ExecutionResult:
    """Pass one action through the gate and act on the decision.

    ``runner`` is the trusted runner configuration the child's environment, PATH and sandbox
    settings come from (default: the built-in defaults, :class:`RunnerConfig`).  ``on_held`` is told
    of a request just made before the wait for its decision starts (``store.wait_s`` > 0).
    """
    runner = runner or RunnerConfig()
    _anchor(audit, store)
    broken = state_refusal(store, audit, action.argv)  # GATE-STATE-CORRUPT: the audit log or approvals db is unusable
    if broken is not None:
        return ExecutionResult(outcome=Outcome.DENIED, decision=broken, argv=action.argv, message=broken.reasons())
    decision = (decide or _default_decide)(action, policy, context)
    rec = audit.append("decision", action.requester, {
        "argv": action.argv, "effective_argv": decision.argv, "cwd": str(Path(action.cwd).resolve()),
        "tool": action.tool, "verdict": decision.verdict.value, "effect": decision.effect.value,
        "rules": [r.model_dump() for r in decision.rules], "summary": decision.summary,
        "stripped_env": decision.stripped_env, "environment": decision.environment,
        "trust_level": decision.trust_level, "reason": action.reason,
        "context": context.model_dump(exclude_none=True) if context else None})
    if decision.verdict is GateVerdict.DENY:
        return ExecutionResult(outcome=Outcome.DENIED, decision=decision, argv=decision.argv or action.argv,
                               message=decision.reasons() or decision.summary or "denied", audit_seq=rec.seq)
    if decision.verdict is GateVerdict.NEEDS_APPROVAL:
        try:
            shown = _show_saved_plan(action, decision, policy, context, store, audit, runner) \
                if store.wants_plan_json else None
            req = store.create(action, decision, context.model_dump(exclude_none=True) if context else None, shown)
        except ApprovalError as e:
            rules = approval_rules(e)
            rec = audit.append("approval_refused", action.requester, {
                "argv": decision.argv or action.argv, "reason": str(e),
                **({"rules": [r.model_dump() for r in rules]} if rules else {})})
            what = "" if rules else "not approvable: "
            return ExecutionResult(outcome=Outcome.DENIED, decision=decision, argv=decision.argv or action.argv,
                                   message=f"{decision.reasons()}; {what}{e}".lstrip("; "), rules=rules,
                                   audit_seq=rec.seq)
        rec = audit.append("approval_requested", action.requester, request_summary(req))
        held = ExecutionResult(outcome=Outcome.HELD, decision=decision, request_id=req.id, argv=req.argv,
                               message=decision.reasons() or decision.summary, audit_seq=rec.seq)
        if store.wait_s <= 0:
            return held
        if on_held is not None:
            on_held(held)
        return _await_decision(held, action.requester, policy, store=store, audit=audit, timeout=timeout,
                               decide=decide, runner=runner, stream=stream)
    argv = decision.argv or action.argv
    env = decision.env if decision.env or decision.stripped_env else dict(action.env)
    moved = _symlinked_elsewhere(action, decision, policy, context, decide)
    if moved:
        rec = audit.append("execution_refused", action.requester, {"argv": argv, "reason": moved})
        return ExecutionResult(outcome=Outcome.DENIED, decision=decision, argv=argv, message=moved,
                               audit_seq=rec.seq)
    try:
        workspace = _workspace_dir(runner, action.cwd, context)
        _before_run(argv, action.cwd, policy, runner, workspace, decision.environment)
        result = run_command(argv, cwd=action.cwd, env=env, timeout=timeout, runner=runner, stream=stream,
                             workspace=workspace, scratch=context.scratch_dirs if context else None,
                             owned=owned_paths(policy, store, audit))
    except _Refused as e:
        rec = audit.append("execution_refused", action.requester, {
            "argv": argv, "reason": str(e), "rules": [r.model_dump() for r in e.rules]})
        return ExecutionResult(outcome=Outcome.DENIED, decision=decision, argv=argv, message=str(e),
                               rules=e.rules, audit_seq=rec.seq)
    except (UntrustedProgram, ProgramUnavailable) as e:
        rec = audit.append("execution_refused", action.requester, {"argv": argv, "reason": str(e)})
        return ExecutionResult(outcome=Outcome.DENIED, decision=decision, argv=argv, message=str(e),
                               audit_seq=rec.seq)
    result.decision = decision
    result.audit_seq = _audit_execution(audit, action.requester, result, cwd=action.cwd).seq
    return result


def approval_rules(e: ApprovalError) -> list[RuleHit]:
    """The rule an approval refusal is reported under (empty when it has none)."""
    return [hit(e.rule_id, detail=str(e))] if e.rule_id else []


def approval_message(e: ApprovalError) -> str:
    return f"[{e.rule_id}] {e}" if e.rule_id else str(e)


def _await_decision(held: ExecutionResult, actor: str, policy: Policy, *, store: ApprovalBackend, audit: AuditLog,
                    timeout: float, decide: Decider | None, runner: RunnerConfig, stream: Stream | None
                    ) -> ExecutionResult:
    """Wait (``store.wait_s``) for a human's decision on a request just made; run it once when approved.

    Still pending at the timeout: held (the id is returned; ``approvals run ID`` or the agent's resume
    runs it later).  Denied, expired, claimed elsewhere, or the store failing: refused and audited.
    """
    assert held.request_id is not None
    rid = held.request_id

    def refused(rules: list[RuleHit], reason: str) -> ExecutionResult:
        rec = audit.append("approval_refused", actor, {"request_id": rid, "argv": held.argv, "reason": reason,
                                                       "rules": [r.model_dump() for r in rules]})
        return held.model_copy(update={"outcome": Outcome.DENIED, "rules": rules, "audit_seq": rec.seq,
                                       "message": f"[{rules[0].id}] {reason}" if rules else reason})

    try:
        req = store.wait(rid, store.wait_s)
    except ApprovalError as e:
        return refused(approval_rules(e), str(e))
    who = f"{req.approver}" + (f": {req.comment}" if req.comment else "")
    if req.status is Status.PENDING:
        return held.model_copy(update={"message": f"{held.message}; still pending after {store.wait_s:.0f} s"})
    if req.status is Status.DENIED:
        why = f"request {rid} was denied by {who}"
        return refused([hit("APPROVAL-DENIED", detail=why)], why)
    if req.status is Status.EXPIRED:
        why = f"request {rid} expired before anyone decided it"
        return refused([hit("APPROVAL-EXPIRED", detail=why)], why)
    if req.status is not Status.APPROVED:
        why = f"request {rid} is {req.status.value}: someone else already ran it"
        return refused([hit("APPROVAL-SERVER-REFUSED", detail=why)], why)
    audit.append("approval_granted", actor, {**request_summary(req), "comment": req.comment})
    result = run_approved(rid, store=store, audit=audit, actor=actor, timeout=timeout, runner=runner,
                          policy=policy, decide=decide, stream=stream)
    result.decision = held.decision
    return result


def _show_saved_plan(action: Action, decision: Decision, policy: Policy, context: GateContext | None,
                     store: ApprovalBackend, audit: AuditLog, runner: RunnerConfig) -> ShownPlan | None:
    """``terraform show -json`` of a private copy of the saved plan ``apply PLANFILE`` names, and the copy's hash.

    Run like every command (sandbox, runner environment, values Terraform marks sensitive masked), on the
    copy, so the document the approver reads and the hash the run is checked against are of one file.
    None when the command applies no saved plan.
    """
    from infraleash.gate.approval_client import PlanUnreviewed

    argv = decision.argv or action.argv
    path = plan_file_path(argv, action.cwd, decision.plan_file)
    if path is None or not path.is_file():
        return None
    private = Path(tempfile.mkdtemp(prefix="infraleash-show-"))
    try:
        copy = private / "requested.tfplan"
        shutil.copyfile(path, copy)
        sha = sha256_file(copy)
        chdir = [a for a in argv[1:] if a.startswith("-chdir=")][:1]
        show = [argv[0], *chdir, "show", "-json", "-no-color", str(copy)]
        env = decision.env if decision.env or decision.stripped_env else dict(action.env)
        scratch = [*(context.scratch_dirs if context else []), str(private)]
        result = run_command(show, cwd=action.cwd, env=env, timeout=300, runner=runner,
                             workspace=_workspace_dir(runner, action.cwd, context), scratch=scratch,
                             owned=owned_paths(policy, store, audit))
    except (_Refused, ExecutionError, OSError) as e:
        raise PlanUnreviewed(f"`terraform show -json` of {path} did not run: {e}") from None
    finally:
        shutil.rmtree(private, ignore_errors=True)
    if result.outcome is not Outcome.RAN or result.exit_code != 0:
        lines = [ln.strip(" │╷╵\t") for ln in result.stderr.splitlines() if ln.strip(" │╷╵\t")]
        why = next((ln for ln in lines if ln.startswith("Error")), None) or (lines[-1] if lines else
                                                                             f"exit {result.exit_code}")
        raise PlanUnreviewed(f"`terraform show -json` of {path} failed: {why}")
    return ShownPlan(sha, result.stdout)


def run_approved(request_id: str, *, store: ApprovalBackend, audit: AuditLog, actor: str,
                 timeout: float = DEFAULT_TIMEOUT, runner: RunnerConfig | None = None,
                 policy: Policy | None = None, decide: Decider | None = None, stream: Stream | None = None
                 ) -> ExecutionResult:
    """Run an approved request's exact command, once.

    Refused (outcome ``denied``, audited) when the request is not approved,
    expired, already executed, changed in the database, its saved plan file
    changed since the request, or, when ``policy`` is given, the current policy
    denies the stored command (re-decided in the request's context).  A saved
    plan is copied into a private directory, re-hashed, and the copy is applied.  Like
    :func:`execute`, it runs after the pre-flight, in the sandbox, with the runner's environment.
    """
    _anchor(audit, store)
    broken = state_refusal(store, audit)
    if broken is not None:
        return ExecutionResult(outcome=Outcome.DENIED, decision=broken, request_id=request_id, message=broken.reasons())
    runner = runner or RunnerConfig()

    def refused(reason: str, argv: list[str] | None = None, rules: list[RuleHit] | None = None
                ) -> ExecutionResult:
        rec = audit.append("execution_refused", actor, {"request_id": request_id, "reason": reason,
                                                        **({"argv": argv} if argv else {}),
                                                        **({"rules": [r.model_dump() for r in rules]}
                                                           if rules else {})})
        return ExecutionResult(outcome=Outcome.DENIED, request_id=request_id, argv=argv or [], message=reason,
                               rules=rules or [], audit_seq=rec.seq)

    try:
        seal = None
        current = store.get(request_id)
        try:  # before the claim: a refused pre-flight leaves the request approved for a fixed tree
            _before_run(current.argv, current.cwd, policy or Policy(), runner,
                        _workspace_dir(runner, current.cwd, GateContext.model_validate(current.context)
                                       if current.context else None), current.environment)
        except _Refused as e:
            return refused(str(e), current.argv, e.rules)
        if policy is not None:
            seal = current.seal
            real_argv, real_cwd = resolve_directories(current.argv, current.cwd)
            redo = (decide or _default_decide)(
                Action(argv=real_argv, cwd=real_cwd, requester=current.requester,
                       env={k: v for k, v in current.env.items() if v is not None}),
                policy, GateContext.model_validate(current.context) if current.context else None)
            if redo.verdict is GateVerdict.DENY:
                return refused(f"the current policy denies it: {redo.reasons() or redo.summary}", current.argv)
        req = store.claim(request_id, expect_seal=seal)
    except ApprovalError as e:
        return refused(approval_message(e), rules=approval_rules(e))
    private = None
    try:
        argv = req.argv
        context = GateContext.model_validate(req.context) if req.context else None
        workspace = _workspace_dir(runner, req.cwd, context)
        scratch = list(context.scratch_dirs) if context else []
        if req.plan_file is not None:
            argv, private = private_plan_copy(req)
            scratch.append(str(private))
        result = run_command(argv, cwd=req.cwd, env=req.run_env(runner.runner_env()), timeout=timeout,
                             runner=runner, stream=stream, workspace=workspace, scratch=scratch,
                             owned=owned_paths(policy, store, audit))
        result.argv = list(req.argv)
    except _Refused as e:
        return refused(str(e), req.argv, e.rules)
    except ApprovalError as e:
        return refused(approval_message(e), req.argv, approval_rules(e))
    except (UntrustedProgram, ProgramUnavailable) as e:
        return refused(str(e), req.argv)
    finally:
        if private is not None:
            shutil.rmtree(private, ignore_errors=True)
    result.request_id = req.id
    result.audit_seq = _audit_execution(audit, actor, result, cwd=req.cwd, request=req).seq
    if result.exit_code is not None:
        try:
            store.record_exit(req.id, result.exit_code, (result.stdout + result.stderr)[-16000:])
        except ApprovalError as e:  # it ran; the store not hearing of it is recorded here, not hidden
            audit.append("result_not_recorded", actor, {"request_id": req.id, "exit_code": result.exit_code,
                                                        "reason": str(e)})
            result.message = f"ran, but the result was not recorded: {e}"
    return result


def resolve_directories(argv: list[str], cwd: str) -> tuple[list[str], str]:
    """(argv, cwd) with the working directory and a terraform ``-chdir=`` resolved through symlinks."""
    real_cwd = os.path.realpath(cwd)
    if not argv or not is_terraform(argv[0]):
        return list(argv), real_cwd
    out = list(argv)
    for i, arg in enumerate(out[1:], start=1):
        if not arg.startswith("-"):
            break
        if arg.startswith("-chdir="):
            out[i] = "-chdir=" + os.path.realpath(os.path.join(cwd, arg[len("-chdir="):]))
    return out, real_cwd


def _symlinked_elsewhere(action: Action, decision: Decision, policy: Policy, context: GateContext | None,
                         decide: Decider | None) -> str | None:
    """Why the command must not run because a symlinked directory leads to another environment, or None.

    ``decide`` is pure and matches directories as written; a symlink (``envs/staging/x -> ../prod``)
    would make the decision for one environment and the run in another.  Decided again on the
    resolved directories, the answer must be the same environment and verdict.
    """
    argv = decision.argv or action.argv
    real_argv, real_cwd = resolve_directories(argv, action.cwd)
    if real_argv == argv and real_cwd == os.path.abspath(action.cwd):
        return None
    again = (decide or _default_decide)(action.model_copy(update={"argv": real_argv, "cwd": real_cwd}),
                                        policy, context)
    if again.environment == decision.environment and again.verdict is decision.verdict:
        return None
    return (f"the working directory resolves through a symlink to {real_cwd if real_argv == argv else real_argv}, "
            f"where the gate says {again.verdict.value} (environment {again.environment or 'default'}), "
            f"not {decision.verdict.value} (environment {decision.environment or 'default'}); run it from the "
            "real directory")


def _workspace_dir(runner: RunnerConfig, cwd: str, context: GateContext | None) -> str:
    """The tree the command works in: the surface's (agent/MCP), else the runner's root holding cwd, else cwd."""
    if context is not None and context.workspace_dir:
        return os.path.realpath(context.workspace_dir)
    return runner.workspace_for(cwd) or os.path.realpath(cwd)


def _before_run(argv: list[str], cwd: str, policy: Policy, runner: RunnerConfig, workspace: str,
                environment: str | None) -> None:
    """Refuse (:class:`_Refused`) what must not start: outside the workspaces, a misplaced runner config, pre-flight."""
    outside = runner.outside_workspaces(cwd)
    if outside:
        raise _Refused([hit("RUNNER-WORKSPACE", detail=outside)])
    try:
        runner.check_not_inside(workspace)
    except RunnerConfigError as e:
        raise _Refused([hit("RUNNER-WORKSPACE", detail=str(e))]) from None
    found = preflight(list(argv), cwd, policy, environment=environment, cli_config=runner.terraform.cli_config,
                      plugin_mirrors=list(runner.terraform.plugin_mirrors), kubeconfig=runner.kubeconfig,
                      workspace_dir=workspace)
    if found:
        raise _Refused(list(found))


def owned_paths(policy: Policy | None, store: ApprovalBackend | None, audit: AuditLog | None) -> list[str]:
    """Files the gate owns, hidden from every sandboxed command: audit log, its anchors, approvals db, policy."""
    out: list[str] = []
    if audit is not None:
        out.append(str(audit.path))
        out += [str(p) for p in (getattr(a, "path", None) for a in audit.anchors) if isinstance(p, Path)]
    if store is not None:
        out += store.owned_files()
    if policy is not None and policy.source:
        out.append(policy.source)
    return out


def run_command(argv: list[str], *, cwd: str, env: dict[str, str], timeout: float = DEFAULT_TIMEOUT,
                runner: RunnerConfig | None = None, stream: Stream | None = None, workspace: str | None = None,
                scratch: list[str] | None = None, owned: list[str] | None = None) -> ExecutionResult:
    """Run argv without a shell, in the sandbox; capture output; kill the process group on timeout.

    ``stream(fd, chunk)`` gets stdout (1) and stderr (2) bytes as they arrive
    (``write_through`` prints them); the result keeps the last MAX_OUTPUT bytes of each.

    The child's environment is ``runner.child_env(env)`` (``env``: what the gate kept of the
    action's); the program is resolved on its PATH (:func:`resolve_program`).  With the sandbox on
    (the default) bubblewrap must work here (:class:`_Refused` SANDBOX-UNAVAILABLE otherwise).
    """
    if not argv:
        raise ExecutionError("nothing to run: empty argv")
    if any("\x00" in a for a in argv):
        raise ExecutionError("cannot run a command with a NUL byte in an argument")
    runner = runner or RunnerConfig()
    env = runner.child_env(env)
    env.update(extra_env_for(argv))  # the gate's own additions (git: settings that run programs overridden)
    program = resolve_program(argv, env)
    masking = must_mask(argv, env)  # output that may carry sensitive values is buffered, masked, then shown
    out_filter = filter_for(argv)  # kubectl config view: credentials masked (gate/output_filters.py)
    stream = None if masking or out_filter else stream
    if runner.sandbox.mode == "off":
        with tempfile.TemporaryDirectory(prefix="infraleash-home-") as home:
            result = _spawn(program, argv, cwd=cwd, env={**env, "HOME": home}, timeout=timeout, stream=stream)
        result.sandbox = f"off ({runner.sandbox.reason})"
    else:
        try:
            bwrap = check_available(runner)
            layout = plan_layout(program, cwd=cwd, workspace=workspace, env=env, runner=runner, owned=owned,
                                 scratch=scratch)
        except SandboxUnavailable as e:
            raise _Refused([hit("SANDBOX-UNAVAILABLE", detail=str(e))]) from None
        except SandboxRefused as e:
            raise _Refused([hit("SANDBOX-PATH", detail=str(e))]) from None
        layout.bwrap = bwrap
        with layout.prepared() as prefix:
            result = _spawn([*prefix, *program], argv, cwd=cwd, env={"PATH": runner.path}, timeout=timeout,
                            stream=stream)
        result.sandbox = "bwrap" + ("" if not layout.network else " +net")
    if masking:
        mask_result(argv, env, result, cwd=cwd)
    if out_filter:
        result.stdout = apply_filter(out_filter, result.stdout)
    return result


def _spawn(program: list[str], argv: list[str], *, cwd: str, env: dict[str, str], timeout: float,
           stream: Stream | None) -> ExecutionResult:
    started = time.monotonic()
    try:
        proc = subprocess.Popen(program, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, start_new_session=True)
    except FileNotFoundError:
        raise ExecutionError(f"{argv[0]}: command not found (or working directory {cwd} missing)") from None
    except (OSError, ValueError) as e:
        raise ExecutionError(f"cannot run {argv[0]}: {getattr(e, 'strerror', None) or e}") from None
    assert proc.stdout is not None and proc.stderr is not None
    pumps = [_Pump(proc.stdout, 1, stream), _Pump(proc.stderr, 2, stream)]
    timed_out = False
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    for pump in pumps:
        pump.join()
    out, err = pumps[0], pumps[1]
    return ExecutionResult(
        outcome=Outcome.TIMED_OUT if timed_out else Outcome.RAN, argv=list(argv),
        exit_code=None if timed_out else proc.returncode,
        stdout=bytes(out.tail).decode("utf-8", "replace"), stderr=bytes(err.tail).decode("utf-8", "replace"),
        truncated=out.total > MAX_OUTPUT or err.total > MAX_OUTPUT, streamed=stream is not None,
        duration_s=round(time.monotonic() - started, 3),
        message=f"timed out after {timeout:.0f}s and was killed" if timed_out else "")


class _Pump(threading.Thread):
    """Read one pipe to its end: hand each chunk to ``stream`` (as it arrives) and keep the last MAX_OUTPUT bytes."""

    def __init__(self, pipe: IO[bytes], fd: int, stream: Stream | None) -> None:
        super().__init__(daemon=True)
        self.pipe, self.fd, self.stream = pipe, fd, stream
        self.tail = bytearray()
        self.total = 0
        self.start()

    def run(self) -> None:
        with self.pipe:
            while chunk := os.read(self.pipe.fileno(), 65536):
                self.total += len(chunk)
                self.tail += chunk
                if len(self.tail) > 2 * MAX_OUTPUT:
                    del self.tail[:-MAX_OUTPUT]
                if self.stream is not None:
                    with contextlib.suppress(OSError, ValueError):
                        self.stream(self.fd, chunk)
        del self.tail[:-MAX_OUTPUT]


def write_through(fd: int, chunk: bytes) -> None:
    """A ``stream`` callback: the bytes to this process's stdout (1) or stderr (2), as they come."""
    out = sys.stdout if fd == 1 else sys.stderr
    out.flush()
    out.buffer.write(chunk)
    out.buffer.flush()


def resolve_program(argv: list[str], env: dict[str, str]) -> list[str]:
    """argv with its program resolved on ``env["PATH"]`` (the runner's: see :meth:`RunnerConfig.child_env`).

    A program given with a path must be absolute and sit in a directory on that
    PATH (:class:`UntrustedProgram` otherwise).  ``terraform`` falls back to the
    embedded core when no binary is found.
    """
    path = env.get("PATH", os.defpath)
    program = argv[0]
    if os.sep in program:
        if not os.path.isabs(program):
            raise UntrustedProgram(f"{program} is a relative path; name the program ({os.path.basename(program)}) "
                                   "and it is found on the runner's PATH")
        trusted = {os.path.realpath(d) for d in path.split(os.pathsep) if d}
        if os.path.realpath(os.path.dirname(program)) not in trusted:
            raise UntrustedProgram(f"{program} is not in a directory on the runner's PATH; name the program "
                                   f"({os.path.basename(program)}) instead")
        return list(argv)
    found = shutil.which(program, path=path)
    if found:
        return [found, *argv[1:]]
    if argv[0] == "terraform":
        if not embedded_available():
            raise ProgramUnavailable(NO_TERRAFORM)
        return [*embedded_command(), *argv[1:]]
    return list(argv)


def _anchor(audit: AuditLog, store: ApprovalBackend) -> None:
    """Make the local approvals database a second anchor of the audit chain head (a server keeps its own chain)."""
    if isinstance(store, ApprovalStore) and store not in audit.anchors:
        audit.add_anchor(store)


def _audit_execution(audit: AuditLog, actor: str, result: ExecutionResult, *, cwd: str,
                     request: ApprovalRequest | None = None) -> Any:
    data: dict[str, Any] = {
        "argv": result.argv, "cwd": str(Path(cwd).resolve()), "outcome": result.outcome.value,
        "exit_code": result.exit_code, "duration_s": result.duration_s,
        "stdout_sha256": hashlib.sha256(result.stdout.encode()).hexdigest(),
        "stdout_bytes": len(result.stdout.encode()), "stderr_tail": result.stderr[-500:],
        "sandbox": result.sandbox,
    }
    if request is not None:
        data.update(request_id=request.id, approver=request.approver, requester=request.requester,
                    plan_file=request.plan_file, plan_sha256=request.plan_sha256)
    return audit.append("execution", actor, data)
