"""``infraleash policy check|init``: validate a policy (and show how the working tree's files merge), or write one."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console

from infraleash.errors import ExitCode, UsageError
from infraleash.gate.runner_config import load_runner_config
from infraleash.policy import (
    DEFAULT_POLICY_FILE,
    STARTER_POLICY,
    Policy,
    load_effective_policy,
    load_policy_file,
    policy_files_above,
)
from infraleash.surfaces.cli.exec_cmd import RUNNER_CONFIG_HELP
from infraleash.surfaces.cli.formats import format_option, json_alias, wants_json

policy_app = typer.Typer(help="Validate or create the org policy file (infraleash.yaml).", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(policy_app, name="policy")


@policy_app.command("check")
def check(path: Path = typer.Argument(None, help="one policy file to validate (default: the effective policy here)"),
          org: Path = typer.Option(None, "--org", help="the org policy the working-tree files may only tighten "
                                   "(default: the runner configuration's, else the outermost infraleash.yaml "
                                   "above the directory)"),
          directory: Path = typer.Option(Path("."), "--dir", help="the working directory whose files merge"),
          runner_config: Path = typer.Option(None, "--runner-config", help=RUNNER_CONFIG_HELP),
          fmt: str = format_option(), as_json: bool = json_alias()) -> int:
    """Validate a policy file, or show the effective policy: the files merged and each relaxation ignored."""
    as_json = wants_json(fmt, as_json)
    console = _JsonSummary() if as_json else Console(highlight=False, soft_wrap=True)
    if org is None and path is None:
        runner = load_runner_config(runner_config, workspace=directory)
        org = Path(runner.policy) if runner.policy else None
    if path is not None and org is None:
        policy = load_policy_file(path)
        _summary(console, str(path), policy)
        if isinstance(console, _JsonSummary):
            console.emit(policy)
        return ExitCode.OK
    if org is None and not policy_files_above(directory):
        raise UsageError(f"no {DEFAULT_POLICY_FILE} found in {directory.resolve()} or above; "
                         "`infraleash policy init` writes one")
    policy = load_effective_policy(org, (path.parent if path is not None else directory))
    _summary(console, " + ".join(policy.merged_from), policy)
    if len(policy.merged_from) > 1:
        console.print(f"merged (the first is the base; the others may only tighten it): {len(policy.merged_from)} files",
                      markup=False)
        for f in policy.merged_from:
            console.print(f"  {f}", markup=False)
    for note in policy.merge_notes:
        console.print(f"  {note}", markup=False)
    ignored = sum(n.kind == "ignored" for n in policy.merge_notes)
    if ignored:
        console.print(f"{ignored} relaxation(s) ignored: a working-tree policy can only add restrictions", markup=False)
    if isinstance(console, _JsonSummary):
        console.emit(policy)
    return ExitCode.OK


class _JsonSummary:
    """``policy check --format json``: the text lines are dropped; one document of the effective policy."""

    def print(self, *args: object, **kwargs: object) -> None:
        pass

    def emit(self, policy: Policy) -> None:
        doc = {"ok": True, "merged_from": list(policy.merged_from),
               "merge_notes": [str(n) for n in policy.merge_notes],
               "policy": policy.model_dump(mode="json")}
        print(json.dumps(doc, indent=2, default=str))


def _summary(console: Console | _JsonSummary, where: str, policy: Policy) -> None:
    envs = ", ".join(e.name for e in policy.environments) or "none"
    console.print(f"[green]ok[/green] {where}: trust level {policy.trust_level.value}; environments: {envs}; "
                  f"{len(policy.overrides)} override(s), {len(policy.checks.suppressions)} suppression(s)")


@policy_app.command("init")
def init(path: Path = typer.Argument(Path(DEFAULT_POLICY_FILE), help="where to write the starter policy"),
         force: bool = typer.Option(False, "--force", help="overwrite an existing file")) -> int:
    """Write a commented starter policy."""
    if path.exists() and not force:
        raise UsageError(f"{path} exists; pass --force to overwrite it")
    path.write_text(STARTER_POLICY, encoding="utf-8")
    Console().print(f"wrote {path}; edit it, then run `infraleash policy check {path}`")
    return ExitCode.OK
