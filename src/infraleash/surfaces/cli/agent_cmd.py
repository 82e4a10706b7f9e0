"""``infraleash agent "TASK"`` and ``infraleash incident --severity N "..."``: the guarded agent runtime.

Exit codes: 0 the agent finished; 3 the run is paused for a human (an approval
request, or --plan-only's plan review: decide/edit, then ``--resume RUN``);
1 it stopped at a limit (steps, tokens, time, cost); 2 usage, input or model
configuration errors (with nothing configured, the message says what to set).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

from infraleash.agent.incident import IncidentMode
from infraleash.agent.models.config import build_model, resolve_model_config
from infraleash.agent.planner import PLAN_FILE
from infraleash.agent.run_store import TRAJECTORY, RunState, RunStore
from infraleash.agent.runtime import RunOptions, resume_run, start_run
from infraleash.errors import ExitCode, UsageError
from infraleash.gate.runner_config import load_runner_config
from infraleash.policy import Policy
from infraleash.surfaces.cli.exec_cmd import RUNNER_CONFIG_HELP, surface_policy
from infraleash.surfaces.cli.formats import format_option, json_alias, wants_json

err = Console(stderr=True, highlight=False, soft_wrap=True)
out = Console(highlight=False, soft_wrap=True)

STATUS_EXIT = {"done": ExitCode.OK, "waiting_for_approval": ExitCode.NEEDS_APPROVAL,
               "plan_review": ExitCode.NEEDS_APPROVAL, "limit_reached": ExitCode.FINDINGS}


class IncidentGroup(TyperGroup):
    """``incident report ...`` is a subcommand; anything else is ``incident [OPTIONS] DESCRIPTION`` (the run)."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if not args or args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["start", *args]
        return super().parse_args(ctx, args)


def register(app: typer.Typer) -> None:
    from infraleash.surfaces.cli.incident_report_cmd import report_command

    app.command("agent")(agent)
    group = typer.Typer(cls=IncidentGroup, no_args_is_help=False,
                        help="Investigate an incident with the agent (`incident -s N DESCRIPTION`), or draft "
                             "its RCA and customer update (`incident report`).")
    group.command("start", help="Investigate with the agent: `incident -s N DESCRIPTION` (the word `start` "
                  "may be left out); `incident start --help` lists its options.")(incident)
    group.command("report")(report_command)
    app.add_typer(group, name="incident")


def _printer(streamed: bool) -> Any:
    """Progress on stderr (also with --json, whose one object goes to stdout)."""

    def on_event(kind: str, data: dict[str, Any]) -> None:
        if kind == "model" and streamed:
            err.print()  # the text was printed as it streamed
        elif kind == "model" and data["text"]:
            err.print(f"[bold]agent[/bold] {escape(data['text'].strip()[:2000])}")
        elif kind == "tool":
            args = json.dumps(data["arguments"], sort_keys=True)
            gate = data.get("gate") or {}
            mark = "[red]refused[/red]" if data["error"] and gate.get("verdict") == "deny" else \
                "[yellow]error[/yellow]" if data["error"] else "[green]ok[/green]"
            err.print(f"  tool {escape(data['call'])} {escape(args[:200])} -> {mark}")
            if data["error"]:
                err.print(f"    {escape(data['output'].splitlines()[0][:300] if data['output'] else '')}")
        elif kind == "not_finished":
            err.print(f"  [yellow]not finished[/yellow]: {escape(data['reason'].splitlines()[0])}")
    return on_event


def _run(task: str | None, *, directory: Path, resume: str | None, from_handoff: Path | None, plan_only: bool,
         max_steps: int | None, model_option: str | None, as_json: bool, incident_mode: IncidentMode | None,
         stream: bool = False, runner_config: Path | None = None) -> int:
    if not directory.is_dir():
        raise UsageError(f"--dir {directory}: not a directory")
    if resume and (task or plan_only or from_handoff):
        raise UsageError("--resume RUN continues a run: give no TASK, --plan-only or --from-handoff with it")
    if from_handoff is not None:
        task = _task_from_handoff(from_handoff, task)
    if not resume and not (task and task.strip()):
        raise UsageError("give a TASK (or --resume RUN)")
    runner = load_runner_config(runner_config, workspace=directory)
    policy = surface_policy(runner, None, directory)
    model = build_model(resolve_model_config(policy.model, option=model_option))
    store = RunStore(directory)
    previous = store.load(resume) if resume else None
    incident_mode = incident_mode or (IncidentMode(previous.incident["severity"])
                                      if previous and previous.incident else None)
    if incident_mode:
        for line in incident_mode.header(policy):
            err.print(f"[bold red]{escape(line)}[/bold red]")
    opts = RunOptions(workspace=directory, policy=policy, model=model, plan_only=plan_only,
                      incident=incident_mode, max_steps=max_steps, on_event=_printer(stream), stream=stream,
                      on_text=(lambda t: err.print(escape(t), end="")) if stream else None, runner=runner)
    state = resume_run(resume, opts) if resume else start_run(task or "", opts)
    _report(state, store, policy, incident_mode, as_json)
    return STATUS_EXIT.get(state.status, ExitCode.INTERNAL)


def _task_from_handoff(path: Path, task: str | None) -> str:
    try:
        from infraleash.agent import handoff
    except ImportError:
        raise UsageError("--from-handoff: handoffs are not available in this installation yet") from None
    load = getattr(handoff, "task_from_handoff", None)
    if load is None:
        raise UsageError("--from-handoff: this installation's handoff module cannot seed a run")
    return str(load(path, task))


def _report(state: RunState, store: RunStore, policy: Policy, incident_mode: IncidentMode | None,
            as_json: bool) -> None:
    run_dir = store.dir(state.run_id)
    plan = run_dir / PLAN_FILE
    pending = state.pending
    if as_json:
        out.print_json(json.dumps({
            "run_id": state.run_id, "status": state.status, "final": state.final, "stop_reason": state.stop_reason,
            "incident": incident_mode.as_json(policy) if incident_mode else None,
            "pending": pending.model_dump(mode="json") if pending else None,
            "steps": len(state.steps), "usage": state.usage.model_dump(),
            "cost_usd": None if state.cost_unknown and not state.cost_usd else round(state.cost_usd, 6),
            "cost_is_lower_bound": state.cost_unknown,
            "trajectory": str(run_dir / TRAJECTORY), "plan": str(plan) if plan.is_file() else None,
            "incident_draft": str(run_dir / "incident.md") if (run_dir / "incident.md").is_file() else None}))
        return
    if incident_mode:
        out.print(f"[bold red]{escape(' | '.join(incident_mode.header(policy)))}[/bold red]")
    if state.final:
        out.print(escape(state.final))
    cost = f"${state.cost_usd:.4f}{'+' if state.cost_unknown else ''}"
    tag = f" [INCIDENT sev{incident_mode.severity}{', read-and-draft only' if incident_mode.read_only else ''}]" \
        if incident_mode else ""
    out.print(f"run {state.run_id}{escape(tag)}: {state.status} after {len(state.steps)} step(s), {state.usage.total} tokens, "
              f"{cost}; trajectory {run_dir / TRAJECTORY}")
    if state.stop_reason and state.status != "done":
        out.print(f"  {escape(state.stop_reason)}")
    if pending and pending.kind == "approval":
        server = policy.approvals.server
        how = f"decide it at {server}/requests/{pending.request_id}" if server else (
            f"infraleash approvals show {pending.request_id}; "
            f"infraleash approvals approve|deny {pending.request_id} --as NAME")
        out.print(f"  held for a human: approval request {pending.request_id}\n  {how}\n"
                  f"  then: infraleash agent --resume {state.run_id} --dir {store.root.parent.parent}")
    elif pending and pending.kind == "plan_review":
        out.print(f"  plan: {plan}\n{escape(plan.read_text(encoding='utf-8')) if plan.is_file() else ''}"
                  f"  edit it if needed, then: infraleash agent --resume {state.run_id} --dir "
                  f"{store.root.parent.parent}")
    elif plan.is_file():
        out.print(f"  plan: {plan}")


def agent(
    task: str = typer.Argument(None, help="what the agent should do"),
    directory: Path = typer.Option(Path("."), "--dir", help="the workspace (Terraform root, repo)"),
    resume: str = typer.Option(None, "--resume", help="continue run RUN after a human decided or edited the plan"),
    from_handoff: Path = typer.Option(None, "--from-handoff", help="start from a saved handoff file"),
    plan_only: bool = typer.Option(False, "--plan-only", help="write the step plan, then stop for review"),
    max_steps: int = typer.Option(None, "--max-steps", min=1, help="model calls allowed (default: policy, 30)"),
    model: str = typer.Option(None, "--model", help="PROVIDER:NAME, e.g. openai:gpt-4.1, anthropic:claude-sonnet-4-6"),
    fmt: str = format_option(),
    as_json: bool = json_alias(),
    stream: bool = typer.Option(False, "--stream", help="print the model's text as it streams (stderr)"),
    runner_config: Path = typer.Option(None, "--runner-config", help=RUNNER_CONFIG_HELP),
) -> int:
    """Run the guarded agent on a task: every tool call passes the gate; held calls pause the run."""
    as_json = wants_json(fmt, as_json)
    return _run(task, directory=directory, resume=resume, from_handoff=from_handoff, plan_only=plan_only,
                max_steps=max_steps, model_option=model, as_json=as_json, incident_mode=None,
                stream=stream, runner_config=runner_config)


def incident(
    description: str = typer.Argument(None, help="what is happening"),
    severity: int = typer.Option(..., "--severity", "-s", help="1 (worst) .. 5; sev1/sev2: read and draft only"),
    directory: Path = typer.Option(Path("."), "--dir", help="the workspace (logs, Terraform, manifests)"),
    resume: str = typer.Option(None, "--resume", help="continue run RUN"),
    max_steps: int = typer.Option(None, "--max-steps", min=1, help="model calls allowed"),
    model: str = typer.Option(None, "--model", help="PROVIDER:NAME"),
    fmt: str = format_option(),
    as_json: bool = json_alias(),
    runner_config: Path = typer.Option(None, "--runner-config", help=RUNNER_CONFIG_HELP),
) -> int:
    """Investigate an incident: timeline, hypotheses, next checks; at sev1/sev2 the agent only reads and drafts."""
    as_json = wants_json(fmt, as_json)
    return _run(description, directory=directory, resume=resume, from_handoff=None, plan_only=False,
                max_steps=max_steps, model_option=model, as_json=as_json, incident_mode=IncidentMode(severity),
                runner_config=runner_config)
