"""``infraleash review [PATH]``: static checks + plan risk -> one verdict.

Exit codes: 0 allow, 1 block (or, with ``--strict``, part of the configuration could not be
checked), 3 needs approval, 2 usage/input errors.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from infraleash.checks.custom_rules import TRUST_FLAG, guard_tree_policy
from infraleash.errors import ExitCode, UsageError
from infraleash.findings import Verdict
from infraleash.gate.runner_config import load_runner_config
from infraleash.review import review
from infraleash.review.render import FORMATS, render
from infraleash.surfaces.cli.check_cmd import with_rules_dirs
from infraleash.surfaces.cli.exec_cmd import RUNNER_CONFIG_HELP, surface_policy
from infraleash.surfaces.cli.progress import progress, progress_wanted

EXIT = {Verdict.ALLOW: ExitCode.OK, Verdict.BLOCK: ExitCode.FINDINGS, Verdict.NEEDS_APPROVAL: ExitCode.NEEDS_APPROVAL}


def register(app: typer.Typer) -> None:
    app.command("review")(review_command)


def review_command(
    path: Path = typer.Argument(Path("."), help="the Terraform configuration directory"),
    plan: Path | None = typer.Option(None, "--plan", help="`terraform show -json` output, or a binary .tfplan"),
    fmt: str = typer.Option("human", "--format", "-f", help="human | json | markdown | sarif"),
    output: Path | None = typer.Option(None, "--output", "-o", help="write the report here instead of stdout"),
    policy_file: Path | None = typer.Option(None, "--policy", help="policy file (default: nearest infraleash.yaml)"),
    no_plan: bool = typer.Option(False, "--no-plan", help="static checks only; do not run terraform plan"),
    rules_dirs: list[Path] = typer.Option(None, "--rules-dir", help="a directory of the org's own rules "
                                          "(*.py, *.rego); repeatable"),
    sarif_root: Path | None = typer.Option(None, "--sarif-root", help="SARIF paths relative to this directory "
                                           "(default: the git repository root above PATH)"),
    strict: bool = typer.Option(False, "--strict", help="fail (exit 1) when part of the configuration could not "
                                "be checked (providers without schema or rules, modules not installed ...)"),
    runner_config: Path | None = typer.Option(None, "--runner-config", help=RUNNER_CONFIG_HELP),
    trust_policy_rules: bool = typer.Option(False, TRUST_FLAG, help="load the Python rules of checks.rules_dirs "
                                            "even when the infraleash.yaml naming them is inside the reviewed tree "
                                            "(by default only its Rego rules: the change under review can edit it)"),
) -> int:
    """Review a change: static checks, then the plan's risk; one verdict (allow | needs_approval | block)."""
    if fmt not in FORMATS:
        raise UsageError(f"--format must be one of {', '.join(FORMATS)} (got {fmt!r})")
    if plan is not None and no_plan:
        raise UsageError("--plan and --no-plan contradict each other")
    if not path.exists():
        raise UsageError(f"{path}: no such directory")
    start = path if path.is_dir() else path.parent
    runner = load_runner_config(runner_config, workspace=start)
    policy = surface_policy(runner, policy_file, start)
    if policy_file is None and runner.policy is None and not trust_policy_rules:  # found in the tree, not given
        policy = guard_tree_policy(policy, start)
    policy = with_rules_dirs(policy, rules_dirs)
    with progress("review: static checks", enabled=progress_wanted(fmt, output)) as advance:
        report = review(path, policy, plan_file=plan, run_plan=not no_plan, runner=runner,
                        on_step=lambda what: advance(0, description=f"review: {what}"))
    text = render(report, fmt, sarif_root=sarif_root, color=fmt == "human" and output is None and sys.stdout.isatty())
    if output is not None:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as e:
            raise UsageError(f"{output}: cannot write the report: {e.strerror}") from None
        typer.echo(report.headline, err=True)
    else:
        typer.echo(text, nl=False)
    gaps = report.check_summary.get("not_checked", [])
    if strict and gaps:
        typer.echo(f"error: --strict: {len(gaps)} part(s) of the configuration could not be checked: "
                   + "; ".join(e["text"] for e in gaps), err=True)
        return ExitCode.FINDINGS
    return EXIT[report.verdict]
