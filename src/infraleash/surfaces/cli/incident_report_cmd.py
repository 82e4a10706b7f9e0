"""``infraleash incident report RUN|--logs FILES... [--severity N] [--out DIR]``: RCA draft + customer update.

RUN is an incident run (``infraleash incident ...``) of the workspace ``--dir``: its
severity, description and the log files its ``logs`` tool calls read.  ``--logs`` names the
files directly.  Both drafts show the severity; the customer update is scrubbed of every host,
IP, service name and secret seen in the logs (:mod:`infraleash.paperwork.incident_report`).

Exit codes: 0 written, 2 usage or input error (no such run, an empty run, unreadable logs).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import typer

from infraleash.agent.run_store import RunStore
from infraleash.errors import ExitCode, UsageError
from infraleash.logs.analysis import analyze
from infraleash.paperwork.factcheck import FactSet, model_section
from infraleash.paperwork.incident_report import IncidentFacts, customer_update, rca_markdown


def run_inputs(directory: Path, run: str) -> tuple[list[Path], int | None, str]:
    """The log files an incident run's ``logs`` tool calls read, its severity and its description."""
    state = RunStore(directory).load(run)  # no such run, or not a trajectory: one line naming the file, exit 2
    paths = [directory / p for s in state.steps for c in s.tool_calls if c.name == "logs"
             for p in (c.arguments or {}).get("paths", [])]
    if not paths:
        raise UsageError(f"run {run} ({RunStore(directory).dir(run)}): an empty run: it read no logs "
                         "(pass --logs FILES)")
    severity = (state.incident or {}).get("severity")
    return list(dict.fromkeys(paths)), severity if isinstance(severity, int) else None, state.task


def report_command(
    run: str = typer.Argument(None, help="an incident run id (see .infraleash/runs/ under --dir)"),
    logs: list[Path] = typer.Option(None, "--logs", help="log files (repeatable) instead of a run"),
    severity: int = typer.Option(None, "--severity", "-s", min=1, max=5, help="1 (worst) .. 5 (default: the run's)"),
    directory: Path = typer.Option(Path("."), "--dir", help="the workspace that holds the run"),
    out: Path = typer.Option(None, "--out", help="write rca.md and customer-update.md into this directory"),
    model: str | None = typer.Option(None, "--model", help="PROVIDER:NAME (default: the configured model)"),
    no_model: bool = typer.Option(False, "--no-model", help="the deterministic drafts only"),
) -> int:
    """Draft an RCA and a customer update from an incident run or from log files."""
    if bool(run) == bool(logs):
        raise UsageError("give an incident RUN or --logs FILES (one of them)")
    task, run_id = "", None
    if run:
        paths, run_severity, task = run_inputs(directory, run)
        severity = severity or run_severity or 0
        run_id = run
    else:
        paths = list(logs)
    if not severity:
        raise UsageError("--severity N is required (the run records none)")
    for p in paths:
        if not p.is_file():
            raise UsageError(f"{p}: no such log file")
    analysis = analyze(paths)
    if analysis.records == 0:
        raise UsageError(f"{', '.join(map(str, paths))}: no log records to report on")
    facts = IncidentFacts.from_logs(paths, analysis, task=task, run_id=run_id)
    rca = rca_markdown(facts, severity)
    if not no_model:  # the model only ever writes into the internal RCA, fact-checked; never the customer update
        from infraleash.policy import load_policy
        from infraleash.surfaces.cli.model_prose import configured_writer

        writer = configured_writer(load_policy(search_from=directory).model, model)
        prose, _ = model_section(writer, "summarise this incident for engineers in 2 to 4 sentences", rca,
                                 FactSet.from_texts(rca), "In short")
        rca = rca_markdown(facts, severity, prose) if prose else rca
    update = customer_update(facts, severity, datetime.now(UTC))
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "rca.md").write_text(rca, encoding="utf-8")
        (out / "customer-update.md").write_text(update, encoding="utf-8")
        typer.echo(f"wrote {out / 'rca.md'} and {out / 'customer-update.md'}", err=True)
    else:
        typer.echo(rca + "\n---\n\n# Customer update\n\n" + update, nl=False)
    return ExitCode.OK
