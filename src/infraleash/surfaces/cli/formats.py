"""One spelling of output format on every command that prints data: ``--format/-f``, and ``--json`` kept
as an alias of ``--format json`` where it existed before.

    fmt: str = format_option(),          # human | json
    as_json: bool = json_alias(),
    ...
    as_json = wants_json(fmt, as_json)   # validates, and answers "print JSON?"
"""

from __future__ import annotations

from typing import Any

import typer

from infraleash.errors import UsageError

HUMAN_OR_JSON = ("human", "json")


def format_option(choices: tuple[str, ...] = HUMAN_OR_JSON, default: str = "human") -> Any:
    return typer.Option(default, "--format", "-f", help=" | ".join(choices))


def json_alias() -> Any:
    return typer.Option(False, "--json", help="the same as --format json")


def chosen_format(fmt: str, as_json: bool, choices: tuple[str, ...] = HUMAN_OR_JSON, default: str = "human") -> str:
    """The format asked for; a one-line usage error for an unknown one or a contradiction with --json."""
    if fmt not in choices:
        raise UsageError(f"--format must be one of {', '.join(choices)} (got {fmt!r})")
    if as_json and fmt not in (default, "json"):
        raise UsageError(f"--json and --format {fmt} contradict each other")
    return "json" if as_json else fmt


def wants_json(fmt: str, as_json: bool) -> bool:
    return chosen_format(fmt, as_json) == "json"
