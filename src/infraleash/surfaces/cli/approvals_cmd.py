"""``infraleash approvals list|show|approve|deny|run``: the human side of the gate."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from infraleash.errors import ExitCode, UsageError
from infraleash.gate.approvals import ApprovalError, Status, iso, request_summary
from infraleash.gate.executor import run_approved, write_through
from infraleash.surfaces.cli.approval_display import (
    applied_env,
    cell,
    command_line,
    plan_review,
    print_request,
    shown,
)
from infraleash.surfaces.cli.exec_cmd import RUNNER_CONFIG_HELP, default_actor, gate_setup, print_result
from infraleash.surfaces.cli.formats import format_option, json_alias, wants_json
from infraleash.surfaces.cli.tables import keep_whole, table_console

approvals_app = typer.Typer(help="List, inspect, approve, deny and run held actions.", no_args_is_help=True)

POLICY_OPT = typer.Option(None, "--policy", help="policy file (default: nearest infraleash.yaml)")


def register(app: typer.Typer) -> None:
    app.add_typer(approvals_app, name="approvals")


def _status(value: str | None) -> Status | None:
    if value is None:
        return None
    try:
        return Status(value)
    except ValueError:
        raise UsageError(f"--status must be one of {', '.join(s.value for s in Status)}, not {value!r}") from None


@approvals_app.command("list")
def list_requests(status: str = typer.Option(None, "--status", help="pending|approved|denied|expired|executed"),
                  fmt: str = format_option(), as_json: bool = json_alias(),
                  policy: Path = POLICY_OPT) -> int:
    """Requests, newest first."""
    as_json = wants_json(fmt, as_json)
    setup = gate_setup(policy)
    reqs = setup.store.requests(_status(status))
    console = table_console()
    if as_json:
        console.print_json(json.dumps([r.model_dump(exclude={"env"}) for r in reqs]))
        return ExitCode.OK
    if not reqs:
        console.print(f"no approval requests{f' with status {status}' if status else ''} in {setup.store.path}")
        return ExitCode.OK
    table = keep_whole(Table("id", "status", "requested", "by", "command", "rules", "expires"),
                       "id", "status")
    for r in reqs:  # every value a requester chose is escaped (newlines, ANSI escapes) and never read as markup
        table.add_row(cell(r.id), r.status.value, iso(r.created_at), cell(r.requester), cell(shlex.join(r.argv)),
                      cell(", ".join(r.rule_ids)), iso(r.expires_at))
    console.print(table)
    return ExitCode.OK


@approvals_app.command("show")
def show(request_id: str = typer.Argument(..., help="request id"),
         fmt: str = format_option(), as_json: bool = json_alias(),
         no_review: bool = typer.Option(False, "--no-review", help="skip the review of a saved plan"),
         policy: Path = POLICY_OPT,
         runner_config: Path = typer.Option(None, "--runner-config", help=RUNNER_CONFIG_HELP)) -> int:
    """One request in full: the exact command, directory, environment, rules and the review of its plan."""
    as_json = wants_json(fmt, as_json)
    setup = gate_setup(policy, runner_config)
    req = setup.store.get(request_id)
    console = Console()
    if as_json:
        console.print_json(req.model_dump_json())
        return ExitCode.OK
    review = None if no_review else plan_review(req, policy=setup.policy, store=setup.store, audit=setup.audit,
                                                 runner=setup.runner)
    print_request(req, console, env=applied_env(req, setup.runner), review=review)
    return ExitCode.OK


def _decide(request_id: str, approver: str, comment: str | None, policy: Path | None, approve: bool) -> int:
    setup = gate_setup(policy)
    fn = setup.store.approve if approve else setup.store.deny
    try:
        req = fn(request_id, approver, comment)
    except ApprovalError as e:
        setup.audit.append("approval_refused", approver or "-", {
            "request_id": request_id, "action": "approve" if approve else "deny", "reason": str(e)})
        raise
    setup.audit.append("approval", approver, {**request_summary(req), "comment": comment})
    verb = "[green]approved[/]" if approve else "[red]denied[/]"
    console = Console(soft_wrap=True, highlight=False)
    console.print(f"{verb} request {req.id} ({escape(command_line(req.argv))}) as {escape(shown(approver))}")
    if approve:
        console.print(f"  run it once: infraleash approvals run {req.id}")
    return ExitCode.OK


@approvals_app.command("approve")
def approve(request_id: str = typer.Argument(..., help="request id"),
            approver: str = typer.Option(..., "--as", help="your name (must not be the requester)"),
            comment: str = typer.Option(None, "--comment", help="why you approve"),
            policy: Path = POLICY_OPT) -> int:
    """Approve a pending request (named approver; not your own request)."""
    return _decide(request_id, approver, comment, policy, approve=True)


@approvals_app.command("deny")
def deny(request_id: str = typer.Argument(..., help="request id"),
         approver: str = typer.Option(..., "--as", help="your name"),
         comment: str = typer.Option(None, "--comment", help="why you deny"),
         policy: Path = POLICY_OPT) -> int:
    """Deny a pending request."""
    return _decide(request_id, approver, comment, policy, approve=False)


@approvals_app.command("run")
def run(request_id: str = typer.Argument(..., help="request id"),
        actor: str = typer.Option(None, "--as", help="who runs it (default: $INFRALEASH_ACTOR or the user)"),
        timeout: float = typer.Option(1800, "--timeout", help="seconds before the command is killed"),
        policy: Path = POLICY_OPT,
        runner_config: Path = typer.Option(None, "--runner-config", help=RUNNER_CONFIG_HELP)) -> int:
    """Run an approved request's exact command, once (refused if expired, already run or the plan changed)."""
    setup = gate_setup(policy, runner_config)
    result = run_approved(request_id, store=setup.store, audit=setup.audit, actor=actor or default_actor(),
                          timeout=timeout, policy=setup.policy, stream=write_through, runner=setup.runner)
    return print_result(result, Console())
