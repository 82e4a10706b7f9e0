"""``infraleash check [PATH...] [-r] [--workers N]`` and ``infraleash rules [show ID]``.

One PATH without ``-r``: that directory (or .tf file) is one Terraform root, checked in
this process.  Several PATHs, or ``--recursive`` (every directory under PATH holding
``.tf`` files is its own root, as Checkov's ``-d`` scans a tree; directories whose name
starts with a dot, such as ``.terraform``, are skipped): the roots are checked with
:func:`~infraleash.checks.engine.run_checks_many` (``--workers``, default one per core,
1 = in this process) and reported together, file paths relative to the given PATH
(with several PATHs: the PATH as given, then the path under it).  One policy for the
run: ``--policy``, else the infraleash.yaml nearest the first PATH.

Exit codes: 0 nothing at or above the failing severity, 1 there is (or, with ``--strict``,
something could not be checked: see :mod:`~infraleash.checks.coverage`), 2 usage or input
error (one directory without Terraform files, as ``review`` says it), 70 a rule crashed (a bug
in infraleash; the report is still written).
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from infraleash.checks.coverage import require_configuration
from infraleash.checks.custom_rules import TRUST_FLAG, load_rules_dir, load_rules_dirs, verify_examples
from infraleash.checks.registry import all_rules, get_rule
from infraleash.errors import ExitCode, InputError, UsageError
from infraleash.surfaces.cli.check_run import policy_for_check, run_check, terraform_roots, with_rules_dirs
from infraleash.surfaces.cli.formats import format_option, json_alias, wants_json

__all__ = ["check", "policy_for_check", "register", "run_check", "terraform_roots", "with_rules_dirs"]

rules_app = typer.Typer(help="List the rules or show one rule's documentation.", invoke_without_command=True)


def register(app: typer.Typer) -> None:
    app.command("check")(check)
    app.add_typer(rules_app, name="rules")


def check(
    paths: list[Path] = typer.Argument(None, help="directories (or .tf files) to check (default: .)",
                                       show_default=False),
    recursive: bool = typer.Option(False, "--recursive", "-r",
                                   help="check every directory under PATH holding .tf files as its own root"),
    workers: int = typer.Option(None, "--workers", min=1,
                                help="worker processes for several roots (default: one per core; 1 = in process)"),
    fmt: str = typer.Option("human", "--format", "-f", help="human | json | sarif | junit | markdown | gitlab-codequality"),
    output: Path = typer.Option(None, "--output", "-o", help="write the report to this file"),
    policy_file: Path = typer.Option(None, "--policy", help="policy file (default: nearest infraleash.yaml)"),
    fail_on: str = typer.Option(None, "--fail-on", help="lowest severity that fails (default: the policy's)"),
    rules_dirs: list[Path] = typer.Option(None, "--rules-dir", help="a directory of the org's own rules "
                                          "(*.py, *.rego); repeatable; added to the policy's checks.rules_dirs"),
    sarif_root: Path = typer.Option(None, "--sarif-root", help="SARIF paths relative to this directory "
                                    "(default: the git repository root above PATH)"),
    strict: bool = typer.Option(False, "--strict", help="fail (exit 1) when anything could not be checked: "
                                "providers without schema or rules, modules not installed, unreadable files"),
    trust_policy_rules: bool = typer.Option(False, TRUST_FLAG, help="load the Python rules of checks.rules_dirs "
                                            "even when the infraleash.yaml naming them is inside the checked tree "
                                            "(by default only its Rego rules: a change under review can edit it)"),
) -> int:
    """Static checks of Terraform: hallucinations, provider pins, module sources, security, conventions."""
    return run_check(paths, recursive=recursive, workers=workers, fmt=fmt, output=output, policy_file=policy_file,
                     fail_on=fail_on, rules_dirs=rules_dirs, sarif_root=sarif_root, strict=strict,
                     trust_policy_rules=trust_policy_rules)




@rules_app.callback()
def rules_list(ctx: typer.Context,
               fmt: str = format_option(), as_json: bool = json_alias(),
               rules_dirs: list[Path] = typer.Option(None, "--rules-dir", help="also list the rules of this "
                                                     "directory (repeatable)")) -> int:
    """List every rule (id, severity, kind, title)."""
    if ctx.invoked_subcommand is not None:
        return ExitCode.OK
    as_json = wants_json(fmt, as_json)
    rules = all_rules() + load_rules_dirs(list(rules_dirs or []))
    if as_json:
        import json

        sys.stdout.write(json.dumps([{"id": r.id, "title": r.title, "severity": r.severity.value,
                                      "kind": r.kind.value, "resource_types": list(r.resource_types)}
                                     for r in rules], indent=2) + "\n")
        return ExitCode.OK
    from rich.table import Table

    from infraleash.surfaces.cli.tables import keep_whole, table_console

    table = Table(show_header=True, header_style="bold", box=None)
    for col in ("id", "severity", "kind", "title"):
        table.add_column(col)
    for r in rules:
        table.add_row(r.id, r.severity.value, r.kind.value, r.title)
    keep_whole(table, "id", "severity")
    console = table_console()
    console.print(table)
    console.print(f"{len(rules)} rules; `infraleash rules show ID` prints one rule's documentation")
    return ExitCode.OK


@rules_app.command("test")
def rules_test(directory: Path = typer.Argument(..., help="a rules directory (*.py, *.rego)")) -> int:
    """Run every rule's own examples: the failing one must fire at `fail`, the passing one stay silent."""
    rules = load_rules_dir(directory)
    if not rules:
        raise InputError("no rules here (*.py defining RULES, *.rego)", file=str(directory))
    failed = 0
    for rule in rules:
        problems = verify_examples(rule)
        failed += bool(problems)
        print(f"{'FAIL' if problems else 'ok  '}  {rule.id}: {rule.title}")
        for p in problems:
            print(f"      {p}")
    print(f"{len(rules) - failed} of {len(rules)} rule(s) pass their examples")
    return ExitCode.FINDINGS if failed else ExitCode.OK


@rules_app.command("input")
def rules_input(path: Path = typer.Argument(Path("."), help="the Terraform configuration directory")) -> int:
    """Print the JSON view of a configuration that Rego rules read as `input` (for writing rules)."""
    import json

    from infraleash.checks.config_view import config_json
    from infraleash.terraform.hcl import load_config

    require_configuration(path)
    sys.stdout.write(json.dumps(config_json(load_config(path)), indent=2, default=str) + "\n")
    return ExitCode.OK


@rules_app.command("show")
def rules_show(rule_id: str = typer.Argument(..., help="the rule id, e.g. TF-UNKNOWN-ARGUMENT"),
               rules_dirs: list[Path] = typer.Option(None, "--rules-dir", help="also look in this rules directory")
               ) -> int:
    """Print one rule's documentation: what it checks, why it matters, failing and passing examples."""
    custom = {r.id.upper(): r for r in load_rules_dirs(list(rules_dirs or []))}
    rule = get_rule(rule_id) or custom.get(rule_id.upper())
    if rule is None:
        from infraleash.terraform.schema import suggest

        close = suggest(rule_id.upper(), [r.id for r in all_rules()])
        hint = f" (did you mean {close}?)" if close else "; `infraleash rules` lists them"
        raise UsageError(f"no rule {rule_id!r}{hint}")
    out = [f"{rule.id}: {rule.title}", "",
           f"severity: {rule.severity.value}    kind: {rule.kind.value}",
           f"checks:   {', '.join(rule.resource_types) or 'the whole configuration'}", "",
           "Why it matters", f"  {rule.why}", "", "Failing example", _indent(rule.fail_example), "",
           "Passing example", _indent(rule.pass_example)]
    if rule.unknown_example:
        out += ["", "Unknown (not decidable statically)", _indent(rule.unknown_example)]
    if rule.example_policy:
        out += ["", "With this policy (infraleash.yaml)", _indent(rule.example_policy)]
    if rule.checkov_ids:
        out += ["", f"Checkov equivalent: {', '.join(rule.checkov_ids)}"]
    if rule.references:
        out += ["", "References", *[f"  {r}" for r in rule.references]]
    sys.stdout.write("\n".join(out) + "\n")
    return ExitCode.OK


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.rstrip().splitlines())
