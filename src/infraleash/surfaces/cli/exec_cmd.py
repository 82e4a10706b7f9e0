"""``infraleash exec -- ARGV...``: run one command through the gate.

Allowed: it runs (no shell), its output is printed and its exit code returned.
Held (needs_approval): the request id is printed, exit 3.  Denied: the rule ids
and reasons are printed, exit 4.  Empty argv or shell syntax: exit 2.
"""

from __future__ import annotations

import getpass
import os
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from infraleash.errors import ExecutionError, ExitCode, UsageError
from infraleash.gate.approvals import ApprovalStore
from infraleash.gate.audit import AuditLog
from infraleash.gate.executor import ExecutionResult, Outcome, execute, write_through
from infraleash.gate.model import Action, GateContext, GateVerdict
from infraleash.policy import Policy, load_policy

SHELL_TOKENS = ("|", "&", ";", "<", ">", "`", "$(", "${", "\n")

err_console = Console(stderr=True, highlight=False, soft_wrap=True)


@dataclass
class GateSetup:
    policy: Policy
    store: ApprovalStore
    audit: AuditLog


def gate_setup(policy_file: Path | None) -> GateSetup:
    """The policy (given or nearest infraleash.yaml), its approvals store and its audit log."""
    policy = load_policy(policy_file) if policy_file else load_policy(search_from=Path.cwd())
    store = ApprovalStore.from_policy(policy)
    return GateSetup(policy, store, AuditLog.from_policy(policy, extra_anchors=[store]))


def default_actor() -> str:
    return os.environ.get("INFRALEASH_ACTOR") or getpass.getuser()


def check_argv(argv: list[str]) -> None:
    """Refuse what only a shell would understand: infraleash never runs one."""
    if not argv or not argv[0].strip():
        raise UsageError("nothing to run: give the command after `--`, e.g. `infraleash exec -- terraform plan`")
    for i, arg in enumerate(argv):
        for tok in SHELL_TOKENS:
            if tok in arg:
                shown = tok.replace("\n", "\\n")
                raise UsageError(f"argument {i} ({arg!r}) contains shell syntax {shown!r}: infraleash runs commands "
                                 "without a shell, so pipes, redirections, `;`, `&&` and `$(...)` are refused")


def print_result(result: ExecutionResult, console: Console, *, hint_run: bool = True) -> int:
    """Print a result the way `exec` and `approvals run` do; return the exit code."""
    if result.outcome is Outcome.DENIED:
        what = shlex.join(result.argv) if result.argv else f"request {result.request_id}"
        err_console.print(f"[bold red]denied[/]: {escape(what)}")
        decision = result.decision
        if decision is not None and decision.rules and decision.verdict is not GateVerdict.ALLOW:
            for r in decision.rules:
                err_console.print(f"  [{r.id}] {r.reason}", markup=False)
            if "not approvable" in result.message:
                err_console.print("  " + result.message.split("not approvable: ", 1)[-1], markup=False)
        else:
            err_console.print(f"  {result.message}", markup=False)
        return ExitCode.DENIED
    if result.outcome is Outcome.HELD:
        rid = result.request_id
        err_console.print(f"[bold yellow]held for approval[/]: request [bold]{rid}[/]")
        if result.decision is not None:
            for r in result.decision.rules:
                err_console.print(f"  [{r.id}] {r.reason}", markup=False)
        if hint_run:
            err_console.print(f"  approve: infraleash approvals approve {rid} --as NAME [--comment TEXT]")
            err_console.print(f"  run:     infraleash approvals run {rid}")
        console.print(rid, markup=False, highlight=False)
        return ExitCode.NEEDS_APPROVAL
    if not result.streamed:
        sys.stdout.write(result.stdout)
        sys.stdout.flush()
        sys.stderr.write(result.stderr)
        sys.stderr.flush()
    if result.truncated and not result.streamed:
        err_console.print("[dim](output truncated)[/]")
    if result.outcome is Outcome.TIMED_OUT:
        raise ExecutionError(f"{' '.join(result.argv)}: {result.message}")
    return int(result.exit_code if result.exit_code is not None else ExitCode.INTERNAL)


def register(app: typer.Typer) -> None:
    app.command("exec", context_settings={"allow_interspersed_args": False, "ignore_unknown_options": True})(
        exec_command)


def exec_command(
    argv: list[str] = typer.Argument(None, help="the command to run, after `--`", show_default=False),
    policy: Path = typer.Option(None, "--policy", help="policy file (default: nearest infraleash.yaml)"),
    actor: str = typer.Option(None, "--as", help="who is asking (default: $INFRALEASH_ACTOR or the user)"),
    reason: str = typer.Option(None, "--reason", help="why: shown to the approver, kept in the audit"),
    workspace: str = typer.Option(None, "--workspace", help="terraform workspace (selects the environment)"),
    kube_context: str = typer.Option(None, "--kube-context", help="kube context (selects the environment)"),
    severity: int = typer.Option(None, "--severity", min=1, max=5, help="incident severity 1..5 (1 = worst)"),
    timeout: float = typer.Option(1800, "--timeout", help="seconds before the command is killed"),
) -> int:
    """Run ARGV through the gate: allowed runs, needs_approval exits 3, denied exits 4."""
    args = list(argv or [])
    check_argv(args)
    setup = gate_setup(policy)
    action = Action(argv=args, cwd=str(Path.cwd()), env=dict(os.environ), requester=actor or default_actor(),
                    reason=reason)
    context = GateContext(workspace=workspace, kube_context=kube_context, incident_severity=severity)
    result = execute(action, setup.policy, context, store=setup.store, audit=setup.audit, timeout=timeout,
                     stream=write_through)
    return print_result(result, Console())
