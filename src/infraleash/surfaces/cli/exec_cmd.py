"""``infraleash exec -- ARGV...``: run one command through the gate.

Allowed: it runs (no shell, in the sandbox, with the runner configuration's environment: see
``--runner-config``), its output is printed and its exit code returned.
Held (needs_approval): the request id is printed, exit 3.  With ``approvals.server`` in the policy the
request goes to the approval server and ``exec`` waits (``approvals.wait_seconds``) for the decision:
approved, it runs once (exit: the command's); denied, expired or the server failing, exit 4 with the
APPROVAL-* rule; still pending at the timeout, exit 3.  Denied: the rule ids
and reasons are printed, exit 4: shell syntax anywhere in an argument (``&&``, ``;``, a pipe,
backticks, ``$(``...) is such a deny, rule CMD-SHELL-META, recorded in the audit log like every
other refusal.  Empty argv: exit 2.
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
from infraleash.gate.approval_backend import ApprovalBackend, approval_backend
from infraleash.gate.approvals import ApprovalStore
from infraleash.gate.audit import AuditLog, HeadAnchor
from infraleash.gate.executor import Decider, ExecutionResult, Outcome, execute, write_through
from infraleash.gate.model import Action, Decision, GateContext, GateVerdict
from infraleash.gate.rules import hit
from infraleash.gate.runner_config import RunnerConfig, load_runner_config
from infraleash.policy import Policy, load_policy

SHELL_TOKENS = ("|", "&", ";", "<", ">", "`", "$(", "${", "\n")

err_console = Console(stderr=True, highlight=False, soft_wrap=True)


RUNNER_CONFIG_HELP = ("runner configuration (default: $INFRALEASH_RUNNER_CONFIG, else /etc/infraleash/runner.yaml, "
                      "else built-in defaults): org policy, child environment, sandbox")


@dataclass
class GateSetup:
    policy: Policy
    store: ApprovalBackend
    audit: AuditLog
    runner: RunnerConfig

    def local_store(self, what: str) -> ApprovalStore:
        """The local approvals database; a usage error when the policy sends approvals to a server."""
        if not isinstance(self.store, ApprovalStore):
            raise UsageError(f"approvals {what}: the policy sends held commands to the approval server "
                             f"{self.policy.approvals.server}; list, review and decide them there "
                             f"({self.policy.approvals.server}/requests/ID)")
        return self.store


def gate_setup(policy_file: Path | None, runner_config: Path | None = None, *, workspace: Path | None = None
               ) -> GateSetup:
    """The runner configuration, the policy, its approvals store (or approval server) and its audit log.

    The policy is the runner configuration's org policy (tightened, never loosened, by the
    ``infraleash.yaml`` files of the working tree) when it names one; else ``--policy F``; else
    the nearest ``infraleash.yaml``.
    """
    cwd = workspace or Path.cwd()
    runner = load_runner_config(runner_config, workspace=cwd)
    policy = surface_policy(runner, policy_file, cwd)
    store = approval_backend(policy)
    anchors: list[HeadAnchor] = [store] if isinstance(store, ApprovalStore) else []
    return GateSetup(policy, store, AuditLog.from_policy(policy, extra_anchors=anchors), runner)


def surface_policy(runner: RunnerConfig, policy_file: Path | None, cwd: Path) -> Policy:
    """The policy a surface decides with (see :func:`gate_setup`)."""
    if runner.policy is None:
        return load_policy(policy_file) if policy_file else load_policy(search_from=cwd)
    if policy_file is not None:
        raise UsageError(f"--policy {policy_file}: the runner configuration ({runner.source}) names the org policy "
                         f"{runner.policy}; a policy file in the working tree can only tighten it, not replace it")
    try:
        from infraleash.policy import load_effective_policy  # type: ignore[attr-defined,unused-ignore]
    except ImportError:  # pragma: no cover - before the tighten-only merge landed
        return load_policy(runner.policy)
    return load_effective_policy(runner.policy, cwd)  # type: ignore[no-any-return,unused-ignore]


def exec_workspace(runner: RunnerConfig, cwd: Path) -> str:
    """The tree ``exec`` works in: the runner's workspace root holding cwd, else cwd."""
    return runner.workspace_for(cwd) or str(cwd.resolve())


def default_actor() -> str:
    return os.environ.get("INFRALEASH_ACTOR") or getpass.getuser()


def check_argv(argv: list[str]) -> None:
    """Refuse an empty command: there is nothing to ask the gate about."""
    if not argv or not argv[0].strip():
        raise UsageError("nothing to run: give the command after `--`, e.g. `infraleash exec -- terraform plan`")


def shell_syntax(argv: list[str]) -> tuple[str, str] | None:
    """The first argument holding text only a shell would understand, and the token; None if none.

    Stricter than the gate's element check: ``exec`` is typed by people and agents who expect a shell,
    so ``ls;rm`` or ``a&&b`` inside one argument is refused too (infraleash never runs a shell)."""
    for arg in argv:
        for tok in SHELL_TOKENS:
            if tok in arg:
                return arg, "shell token " + repr(tok.replace("\n", "\\n"))
    return None


def shell_deny(found: tuple[str, str]) -> Decider:
    """A decider that asks the gate, then denies with CMD-SHELL-META (never approvable)."""
    def decide_with_shell_check(action: Action, policy: Policy, context: GateContext | None) -> Decision:
        from infraleash.gate.decision import decide

        decision = decide(action, policy, context)
        rules = [hit("CMD-SHELL-META", arg=found[0], what=found[1])]
        rules += [r for r in decision.rules if r.id != "CMD-SHELL-META"]
        return decision.model_copy(update={"verdict": GateVerdict.DENY, "rules": rules, "approvable": False})
    return decide_with_shell_check


def print_result(result: ExecutionResult, console: Console, *, hint_run: bool = True, server: str | None = None
                 ) -> int:
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
            for r in result.rules:  # why the approval flow refused it (server unavailable, plan changed ...)
                err_console.print(f"  [{r.id}] {r.reason}", markup=False)
        elif result.rules:
            for r in result.rules:
                err_console.print(f"  [{r.id}] {r.reason}", markup=False)
        else:
            err_console.print(f"  {result.message}", markup=False)
        return ExitCode.DENIED
    if result.outcome is Outcome.HELD:
        rid = result.request_id
        err_console.print(f"[bold yellow]held for approval[/]: request [bold]{rid}[/]")
        if result.decision is not None:
            for r in result.decision.rules:
                err_console.print(f"  [{r.id}] {r.reason}", markup=False)
        if server:
            err_console.print(f"  still pending: {result.message.rsplit('; ', 1)[-1]}")
            err_console.print(f"  decide:  {server}/requests/{rid} (an approver's token or login)")
            err_console.print(f"  run:     infraleash approvals run {rid}")
        elif hint_run:
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
    runner_config: Path = typer.Option(None, "--runner-config", help=RUNNER_CONFIG_HELP),
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
    found = shell_syntax(args)
    setup = gate_setup(policy, runner_config)
    action = Action(argv=args, cwd=str(Path.cwd()), env=dict(os.environ), requester=actor or default_actor(),
                    reason=reason)
    context = GateContext(workspace=workspace, kube_context=kube_context, incident_severity=severity,
                          workspace_dir=exec_workspace(setup.runner, Path.cwd()))
    server = setup.policy.approvals.server

    def waiting(held: ExecutionResult) -> None:
        err_console.print(f"[bold yellow]held for approval[/]: request [bold]{held.request_id}[/]; waiting up to "
                          f"{setup.store.wait_s:.0f} s for a decision at {server}/requests/{held.request_id}",
                          highlight=False)

    result = execute(action, setup.policy, context, store=setup.store, audit=setup.audit, timeout=timeout,
                     stream=write_through, runner=setup.runner, decide=shell_deny(found) if found else None,
                     on_held=waiting)
    return print_result(result, Console(), server=server)
