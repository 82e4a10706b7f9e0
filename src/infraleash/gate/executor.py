"""The enforcement point: decide, audit, then run, hold or refuse.

    result = execute(Action(argv=[...], cwd=..., env=..., requester="ci-agent"), policy, context,
                     store=ApprovalStore.from_policy(policy), audit=AuditLog.from_policy(policy))

* allow          -> run the Decision's effective argv with its sanitized env (no shell,
                    timeout, captured output), audit the execution, return the output;
* needs_approval -> create an approval request, audit it, return its id;
* deny           -> return the rule ids and reasons.

:func:`run_approved` runs an approved request's exact command once.  Every
decision, request, refusal and execution is appended to the audit log.

The program is found on the **runner's** PATH (this process's environment, or
``runner_env`` when given), never on a PATH the action brings: an agent that
writes a fake ``terraform`` into a directory and puts it first on PATH runs
nothing.  An absolute program path runs only when its directory is on that
trusted PATH (``/usr/local/bin/terraform`` yes, ``/tmp/x/terraform`` no); a
relative one never.  PATH, HOME, TF_CLI_CONFIG_FILE, TERRAFORM_CONFIG and
KUBECONFIG in the child's environment also come from the runner (see
``commands.RUNNER_ENV``): they pick credential helpers, provider overrides and
kubeconfig exec plugins, all of which run programs.

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
import threading
import time
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

from pydantic import BaseModel, Field

from infraleash.errors import ExecutionError, ExitCode
from infraleash.gate.approvals import (
    ApprovalError,
    ApprovalRequest,
    ApprovalStore,
    private_plan_copy,
    request_summary,
)
from infraleash.gate.audit import AuditLog
from infraleash.gate.commands import RUNNER_ENV
from infraleash.gate.model import Action, Decision, GateContext, GateVerdict
from infraleash.gate.output_masking import mask_result, must_mask
from infraleash.gate.state_health import state_refusal
from infraleash.gate.terraform_argv import is_terraform
from infraleash.policy import Policy
from infraleash.terraform.runner import embedded_command

DEFAULT_TIMEOUT = 1800.0
MAX_OUTPUT = 4 * 1024 * 1024  # bytes of stdout/stderr kept per stream

Decider = Callable[[Action, Policy, GateContext | None], Decision]
Stream = Callable[[int, bytes], None]


class UntrustedProgram(ExecutionError):
    """The program is not on the runner's trusted PATH (a relative path, or a directory the agent chose)."""

    exit_code = ExitCode.DENIED


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
    audit_seq: int | None = None


def _default_decide(action: Action, policy: Policy, context: GateContext | None) -> Decision:
    from infraleash.gate.decision import decide

    return decide(action, policy, context)


def execute(action: Action, policy: Policy, context: GateContext | None = None, *, store: ApprovalStore,
            audit: AuditLog, timeout: float = DEFAULT_TIMEOUT, decide: Decider | None = None,
            runner_env: dict[str, str] | None = None, stream: Stream | None = None) -> ExecutionResult:
    """Pass one action through the gate and act on the decision.

    ``runner_env`` is the trusted environment PATH, HOME, ... come from (default: ``os.environ``).
    """
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
            req = store.create(action, decision, context.model_dump(exclude_none=True) if context else None)
        except ApprovalError as e:
            rec = audit.append("approval_refused", action.requester,
                               {"argv": decision.argv or action.argv, "reason": str(e)})
            return ExecutionResult(outcome=Outcome.DENIED, decision=decision, argv=decision.argv or action.argv,
                                   message=f"{decision.reasons()}; not approvable: {e}".lstrip("; "),
                                   audit_seq=rec.seq)
        rec = audit.append("approval_requested", action.requester, request_summary(req))
        return ExecutionResult(outcome=Outcome.HELD, decision=decision, request_id=req.id, argv=req.argv,
                               message=decision.reasons() or decision.summary, audit_seq=rec.seq)
    argv = decision.argv or action.argv
    env = decision.env if decision.env or decision.stripped_env else dict(action.env)
    moved = _symlinked_elsewhere(action, decision, policy, context, decide)
    if moved:
        rec = audit.append("execution_refused", action.requester, {"argv": argv, "reason": moved})
        return ExecutionResult(outcome=Outcome.DENIED, decision=decision, argv=argv, message=moved,
                               audit_seq=rec.seq)
    try:
        result = run_command(argv, cwd=action.cwd, env=env, timeout=timeout, runner_env=runner_env, stream=stream)
    except UntrustedProgram as e:
        rec = audit.append("execution_refused", action.requester, {"argv": argv, "reason": str(e)})
        return ExecutionResult(outcome=Outcome.DENIED, decision=decision, argv=argv, message=str(e),
                               audit_seq=rec.seq)
    result.decision = decision
    result.audit_seq = _audit_execution(audit, action.requester, result, cwd=action.cwd).seq
    return result


def run_approved(request_id: str, *, store: ApprovalStore, audit: AuditLog, actor: str,
                 timeout: float = DEFAULT_TIMEOUT, runner_env: dict[str, str] | None = None,
                 policy: Policy | None = None, decide: Decider | None = None, stream: Stream | None = None
                 ) -> ExecutionResult:
    """Run an approved request's exact command, once.

    Refused (outcome ``denied``, audited) when the request is not approved,
    expired, already executed, changed in the database, its saved plan file
    changed since the request, or, when ``policy`` is given, the current policy
    denies the stored command (re-decided in the request's context).  A saved
    plan is copied into a private directory, re-hashed, and the copy is applied.
    """
    _anchor(audit, store)
    broken = state_refusal(store, audit)
    if broken is not None:
        return ExecutionResult(outcome=Outcome.DENIED, decision=broken, request_id=request_id, message=broken.reasons())

    def refused(reason: str, argv: list[str] | None = None) -> ExecutionResult:
        rec = audit.append("execution_refused", actor, {"request_id": request_id, "reason": reason,
                                                        **({"argv": argv} if argv else {})})
        return ExecutionResult(outcome=Outcome.DENIED, request_id=request_id, argv=argv or [], message=reason,
                               audit_seq=rec.seq)

    try:
        seal = None
        if policy is not None:
            current = store.get(request_id)
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
        return refused(str(e))
    private = None
    try:
        argv = req.argv
        if req.plan_file is not None:
            argv, private = private_plan_copy(req)
        result = run_command(argv, cwd=req.cwd, env=req.run_env(runner_env), timeout=timeout,
                             runner_env=runner_env, stream=stream)
        result.argv = list(req.argv)
    except (UntrustedProgram, ApprovalError) as e:
        return refused(str(e), req.argv)
    finally:
        if private is not None:
            shutil.rmtree(private, ignore_errors=True)
    result.request_id = req.id
    if result.exit_code is not None:
        store.record_exit(req.id, result.exit_code)
    result.audit_seq = _audit_execution(audit, actor, result, cwd=req.cwd, request=req).seq
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


def child_env(env: dict[str, str], runner_env: dict[str, str] | None = None) -> dict[str, str]:
    """``env`` with RUNNER_ENV variables replaced by the runner's own values (removed when it has none)."""
    runner = os.environ if runner_env is None else runner_env
    out = {k: v for k, v in env.items() if k not in RUNNER_ENV}
    out.update({k: runner[k] for k in RUNNER_ENV if k in runner})
    return out


def run_command(argv: list[str], *, cwd: str, env: dict[str, str], timeout: float = DEFAULT_TIMEOUT,
                runner_env: dict[str, str] | None = None, stream: Stream | None = None) -> ExecutionResult:
    """Run argv without a shell; capture output; kill the process group on timeout.

    ``stream(fd, chunk)`` gets stdout (1) and stderr (2) bytes as they arrive
    (``write_through`` prints them); the result keeps the last MAX_OUTPUT bytes of each.

    The program is resolved on the runner's PATH (:func:`resolve_program`); the
    child's RUNNER_ENV variables come from ``runner_env`` (default ``os.environ``).
    """
    if not argv:
        raise ExecutionError("nothing to run: empty argv")
    if any("\x00" in a for a in argv):
        raise ExecutionError("cannot run a command with a NUL byte in an argument")
    env = child_env(env, runner_env)
    program = resolve_program(argv, env)
    masking = must_mask(argv, env)  # output that may carry sensitive values is buffered, masked, then shown
    stream = None if masking else stream
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
    result = ExecutionResult(
        outcome=Outcome.TIMED_OUT if timed_out else Outcome.RAN, argv=list(argv),
        exit_code=None if timed_out else proc.returncode,
        stdout=bytes(out.tail).decode("utf-8", "replace"), stderr=bytes(err.tail).decode("utf-8", "replace"),
        truncated=out.total > MAX_OUTPUT or err.total > MAX_OUTPUT, streamed=stream is not None,
        duration_s=round(time.monotonic() - started, 3),
        message=f"timed out after {timeout:.0f}s and was killed" if timed_out else "")
    if masking:
        mask_result(argv, env, result)
    return result


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
    """argv with its program resolved on ``env["PATH"]`` (the runner's: see :func:`child_env`).

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
        return [*embedded_command(), *argv[1:]]
    return list(argv)


def _anchor(audit: AuditLog, store: ApprovalStore) -> None:
    """Make the approvals database a second anchor of the audit chain head."""
    if store not in audit.anchors:
        audit.add_anchor(store)


def _audit_execution(audit: AuditLog, actor: str, result: ExecutionResult, *, cwd: str,
                     request: ApprovalRequest | None = None) -> Any:
    data: dict[str, Any] = {
        "argv": result.argv, "cwd": str(Path(cwd).resolve()), "outcome": result.outcome.value,
        "exit_code": result.exit_code, "duration_s": result.duration_s,
        "stdout_sha256": hashlib.sha256(result.stdout.encode()).hexdigest(),
        "stdout_bytes": len(result.stdout.encode()), "stderr_tail": result.stderr[-500:],
    }
    if request is not None:
        data.update(request_id=request.id, approver=request.approver, requester=request.requester,
                    plan_file=request.plan_file, plan_sha256=request.plan_sha256)
    return audit.append("execution", actor, data)
