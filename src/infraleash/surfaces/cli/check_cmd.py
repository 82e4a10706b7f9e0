"""``infraleash check [PATH]`` and ``infraleash rules [show ID]``.

Exit codes: 0 nothing at or above the failing severity, 1 there is, 2 usage or input
error, 70 a rule crashed (a bug in infraleash; the report is still written).
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from infraleash.checks.engine import run_checks
from infraleash.checks.registry import all_rules, get_rule
from infraleash.checks.report import FORMATS, render
from infraleash.errors import ExitCode, InputError, UsageError
from infraleash.findings import Severity
from infraleash.policy import load_policy

rules_app = typer.Typer(help="List the rules or show one rule's documentation.", invoke_without_command=True)


def register(app: typer.Typer) -> None:
    app.command("check")(check)
    app.add_typer(rules_app, name="rules")


def check(
    path: Path = typer.Argument(Path("."), help="directory (or .tf file) to check"),
    fmt: str = typer.Option("human", "--format", "-f", help="human | json | sarif | junit | markdown"),
    output: Path = typer.Option(None, "--output", "-o", help="write the report to this file"),
    policy_file: Path = typer.Option(None, "--policy", help="policy file (default: nearest infraleash.yaml)"),
    fail_on: str = typer.Option(None, "--fail-on", help="lowest severity that fails (default: the policy's)"),
) -> int:
    """Static checks of Terraform: hallucinations, provider pins, module sources, security, conventions."""
    if fmt not in FORMATS:
        raise UsageError(f"--format must be one of {', '.join(FORMATS)} (got {fmt!r})")
    if fail_on is not None and fail_on.lower() not in [s.value for s in Severity]:
        raise UsageError(f"--fail-on must be one of {', '.join(s.value for s in Severity)} (got {fail_on!r})")
    if not path.exists():
        raise InputError("no such file or directory", file=str(path))
    if path.is_file() and path.suffix != ".tf":
        raise InputError("not a .tf file or a directory", file=str(path))
    policy = load_policy(policy_file, search_from=path if path.is_dir() else path.parent)
    threshold = Severity((fail_on or policy.checks.failing_severity).lower())
    report = run_checks(path, policy)
    rules = {r.id: r for r in all_rules()}
    text = render(report.findings, report.summary(), fmt, rules=rules,
                  color=fmt == "human" and output is None and sys.stdout.isatty())
    if output is not None:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as e:
            raise InputError(f"cannot write the report: {e.strerror}", file=str(output)) from None
        failing = report.failing(threshold)
        Console(stderr=True).print(f"wrote {fmt} report to {escape(str(output))}: {len(failing)} finding(s) at or "
                                   f"above {threshold.value}")
    else:
        sys.stdout.write(text)
    if report.errors:
        for err in report.errors:
            print(f"error: bug: {err}", file=sys.stderr)
        return ExitCode.INTERNAL
    return ExitCode.FINDINGS if report.failing(threshold) else ExitCode.OK


@rules_app.callback()
def rules_list(ctx: typer.Context,
               as_json: bool = typer.Option(False, "--json", help="machine-readable list")) -> int:
    """List every rule (id, severity, kind, title)."""
    if ctx.invoked_subcommand is not None:
        return ExitCode.OK
    rules = all_rules()
    if as_json:
        import json

        sys.stdout.write(json.dumps([{"id": r.id, "title": r.title, "severity": r.severity.value,
                                      "kind": r.kind.value, "resource_types": list(r.resource_types)}
                                     for r in rules], indent=2) + "\n")
        return ExitCode.OK
    table = Table(show_header=True, header_style="bold", box=None)
    for col in ("id", "severity", "kind", "title"):
        table.add_column(col)
    for r in rules:
        table.add_row(r.id, r.severity.value, r.kind.value, r.title)
    console = Console(width=160)
    console.print(table)
    console.print(f"{len(rules)} rules; `infraleash rules show ID` prints one rule's documentation")
    return ExitCode.OK


@rules_app.command("show")
def rules_show(rule_id: str = typer.Argument(..., help="the rule id, e.g. TF-UNKNOWN-ARGUMENT")) -> int:
    """Print one rule's documentation: what it checks, why it matters, failing and passing examples."""
    rule = get_rule(rule_id)
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
