"""``infraleash explain TYPE[.ATTRIBUTE] | RULE_ID [--format human|json]``.

Explains a resource type, one argument or block, or a check rule from facts: the
bundled AWS provider 5.100.0 schema, the replacement and stateful knowledge, the rules
registry.  Exit codes: 0 explained, 2 unknown type, attribute or rule (with a hint).
"""

from __future__ import annotations

import json

import typer

from infraleash.errors import ExitCode, UsageError
from infraleash.paperwork.explain import explain


def register(app: typer.Typer) -> None:
    app.command("explain")(explain_command)


def explain_command(
    target: str = typer.Argument(..., help="aws_db_instance, aws_db_instance.instance_class or a rule id"),
    fmt: str = typer.Option("human", "--format", "-f", help="human | json"),
) -> int:
    """Explain a resource type, an attribute (does changing it replace or reboot?) or a rule, for a junior."""
    if fmt not in ("human", "json"):
        raise UsageError(f"--format must be human or json (got {fmt!r})")
    result = explain(target)
    typer.echo(json.dumps(result.facts, indent=2) if fmt == "json" else result.text, nl=fmt == "json")
    return ExitCode.OK
