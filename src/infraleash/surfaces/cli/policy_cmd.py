"""``infraleash policy check|init``: validate a policy file or write a commented starter."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from infraleash.errors import ExitCode, UsageError
from infraleash.policy import DEFAULT_POLICY_FILE, STARTER_POLICY, find_policy_file, load_policy

policy_app = typer.Typer(help="Validate or create the org policy file (infraleash.yaml).", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(policy_app, name="policy")


@policy_app.command("check")
def check(path: Path = typer.Argument(None, help="policy file (default: nearest infraleash.yaml)")) -> int:
    """Validate a policy file; errors name the file, line and key."""
    console = Console()
    target = path or find_policy_file(Path.cwd())
    if target is None:
        raise UsageError(f"no {DEFAULT_POLICY_FILE} found here or above; `infraleash policy init` writes one")
    policy = load_policy(target)
    envs = ", ".join(e.name for e in policy.environments) or "none"
    console.print(f"[green]ok[/green] {target}: trust level {policy.trust_level.value}; environments: {envs}; "
                  f"{len(policy.overrides)} override(s), {len(policy.checks.suppressions)} suppression(s)")
    return ExitCode.OK


@policy_app.command("init")
def init(path: Path = typer.Argument(Path(DEFAULT_POLICY_FILE), help="where to write the starter policy"),
         force: bool = typer.Option(False, "--force", help="overwrite an existing file")) -> int:
    """Write a commented starter policy."""
    if path.exists() and not force:
        raise UsageError(f"{path} exists; pass --force to overwrite it")
    path.write_text(STARTER_POLICY, encoding="utf-8")
    Console().print(f"wrote {path}; edit it, then run `infraleash policy check {path}`")
    return ExitCode.OK
