"""``infraleash pr-description [PATH] [--plan F] [--base REF] [--format markdown|json]``.

A pull-request description from the review of PATH (static checks + the plan's risk), the
stateful knowledge and ``git diff --stat BASE``.  With a model configured (``--model``,
INFRALEASH_MODEL_PROVIDER/INFRALEASH_MODEL, infraleash.yaml) a short fact-checked paragraph is
added and marked as model prose; ``--no-model`` keeps the deterministic draft only.

Exit codes: 0 written, 2 usage or input error (no such directory, unreadable plan).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import typer

from infraleash.errors import ExitCode, UsageError
from infraleash.gate.runner_config import load_runner_config
from infraleash.paperwork.factcheck import FactSet, model_section
from infraleash.paperwork.pr_description import describe
from infraleash.review import review
from infraleash.surfaces.cli.exec_cmd import surface_policy


def register(app: typer.Typer) -> None:
    app.command("pr-description")(pr_description_command)


def diffstat(path: Path, base: str) -> str:
    root = path if path.is_dir() else path.parent
    try:
        result = subprocess.run(["git", "diff", "--stat", base, "--", "."], cwd=root, capture_output=True,
                                text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise UsageError(f"--base {base}: git diff failed in {root}: {e}") from None
    if result.returncode != 0:
        first = (result.stderr.strip().splitlines() or ["git diff failed"])[0]
        raise UsageError(f"--base {base}: {root}: {first}")
    return result.stdout or "(no differences)\n"


def pr_description_command(
    path: Path = typer.Argument(Path("."), help="the Terraform configuration directory"),
    plan: Path | None = typer.Option(None, "--plan", help="`terraform show -json` output, or a binary .tfplan"),
    base: str | None = typer.Option(None, "--base", help="git ref to diff against (e.g. origin/main)"),
    fmt: str = typer.Option("markdown", "--format", "-f", help="markdown | json"),
    model: str | None = typer.Option(None, "--model", help="PROVIDER:NAME (default: the configured model)"),
    no_model: bool = typer.Option(False, "--no-model", help="the deterministic draft only"),
) -> int:
    """A pull-request description: summary, changes grouped, risk, what to check, rollout and rollback."""
    if fmt not in ("markdown", "json"):
        raise UsageError(f"--format must be markdown or json (got {fmt!r})")
    if not path.is_dir():
        raise UsageError(f"{path}: not a directory (give the Terraform configuration directory)")
    if plan is not None and not plan.is_file():
        raise UsageError(f"{plan}: no such plan file")
    runner = load_runner_config(None, workspace=path)
    policy = surface_policy(runner, None, path)
    report = review(path, policy, plan_file=plan, run_plan=plan is None, runner=runner)
    stat = diffstat(path, base) if base else None
    pr = describe(report, diffstat=stat)
    if not no_model:
        from infraleash.surfaces.cli.model_prose import configured_writer

        writer = configured_writer(policy.model, model)
        facts_text = pr.markdown() + json.dumps(report.to_json(), default=str)
        pr.prose, _ = model_section(writer, "summarise this pull request for its reviewer in 2 to 4 sentences",
                                    facts_text, FactSet.from_texts(facts_text), "In short")
    typer.echo(json.dumps(pr.to_json(), indent=2) if fmt == "json" else pr.markdown(), nl=fmt == "json")
    return ExitCode.OK
