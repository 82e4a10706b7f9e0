"""``infraleash runbook update RUNBOOK.md --from RUN|--logs FILES [--patch OUT]``: propose, never apply.

Prints a unified diff (or writes it to ``--patch OUT``) that adds the incident's symptom, how it
was recognised, the read commands that found the cause and the steps humans took.  Apply it
with ``patch -p0 < OUT`` or ``git apply OUT`` from the directory the runbook path is relative to.

Exit codes: 0 proposed, 2 usage or input error (not a markdown runbook, no such run, an empty run).
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import typer

from infraleash.agent.run_store import RunStore
from infraleash.errors import ExitCode, UsageError
from infraleash.logs.analysis import analyze
from infraleash.paperwork.incident_report import IncidentFacts
from infraleash.paperwork.runbook import propose, read_runbook, runbook_entry
from infraleash.surfaces.cli.incident_report_cmd import run_inputs


def register(app: typer.Typer) -> None:
    group = typer.Typer(no_args_is_help=True, help="Propose runbook changes from an incident.")
    group.command("update")(update_command)
    app.add_typer(group, name="runbook")


def run_actions(directory: Path, run: str) -> tuple[list[str], list[str]]:
    """The run's tool calls as commands, and what humans decided (approvals) in it."""
    state = RunStore(directory).load(run)
    commands = []
    for s in state.steps:
        for c in s.tool_calls:
            args = c.arguments or {}
            if c.name == "logs":
                commands.append("infraleash logs " + " ".join(shlex.quote(p) for p in args.get("paths", [])))
            else:
                commands.append(f"{c.name} {json.dumps(args, sort_keys=True)}")
    humans = human_decisions(directory, state.run_id)
    pending = state.pending
    if pending is not None and pending.kind == "approval" and \
            not any(pending.request_id and pending.request_id in h for h in humans):
        humans.append(f"approval {pending.request_id} requested for {pending.call.name} (not decided yet)")
    return commands, humans


def human_decisions(directory: Path, run_id: str) -> list[str]:
    """What humans decided on the run's held actions, from the workspace's approvals store, oldest first:
    who approved or denied which command, their comment, and whether and how the approved command ran."""
    from infraleash.gate.approvals import ApprovalStore
    from infraleash.policy import load_policy

    try:
        store = ApprovalStore.from_policy(load_policy(search_from=directory))
        requests = store.requests()
    except Exception:  # noqa: BLE001 - no store, or one this run cannot read: nothing recorded to report
        return []
    steps = []
    for r in sorted((r for r in requests if r.requester == f"agent:{run_id}"), key=lambda r: r.created_at):
        command = shlex.join(r.argv)
        if r.approver is None:
            steps.append(f"`{command}` held for approval ({r.id}): {r.status.value}")
            continue
        verb = "approved" if r.status.value in ("approved", "executed") else r.status.value
        line = f"{r.approver} {verb} `{command}` ({r.id})" + (f": \"{r.comment}\"" if r.comment else "")
        if r.executed_at is not None:
            line += f"; it ran once, exit {r.exit_code}" if r.exit_code is not None else "; it ran once"
        steps.append(line)
    return steps


def update_command(
    runbook: Path = typer.Argument(..., help="the markdown runbook (RUNBOOK.md)"),
    from_run: str = typer.Option(None, "--from", help="an incident run id (under --dir's .infraleash/runs/)"),
    logs: list[Path] = typer.Option(None, "--logs", help="log files (repeatable) instead of a run"),
    directory: Path = typer.Option(Path("."), "--dir", help="the workspace that holds the run"),
    patch: Path = typer.Option(None, "--patch", help="write the diff to this file instead of stdout"),
) -> int:
    """Propose a unified diff to a runbook from an incident run or logs (printed or written; never applied)."""
    if bool(from_run) == bool(logs):
        raise UsageError("give --from RUN or --logs FILES (one of them)")
    text = read_runbook(runbook)
    commands: list[str] = []
    humans: list[str] = []
    severity = None
    if from_run:
        paths, severity, _ = run_inputs(directory, from_run)
        commands, humans = run_actions(directory, from_run)
    else:
        paths = list(logs)
        commands = ["infraleash logs " + " ".join(shlex.quote(str(p)) for p in paths)]
    for p in paths:
        if not p.is_file():
            raise UsageError(f"{p}: no such log file")
    analysis = analyze(paths)
    if analysis.records == 0:
        raise UsageError(f"{', '.join(map(str, paths))}: no log records to learn from")
    entry = runbook_entry(IncidentFacts.from_logs(paths, analysis), commands=commands, human_steps=humans,
                          severity=severity)
    diff = propose(runbook, text, entry)
    if patch is not None:
        patch.write_text(diff, encoding="utf-8")
        typer.echo(f"wrote {patch} (apply with: patch -p0 < {patch})", err=True)
    else:
        typer.echo(diff, nl=False)
    return ExitCode.OK
