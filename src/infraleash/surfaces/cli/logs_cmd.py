"""``infraleash logs FILE...`` (analysis) and ``infraleash logs templates FILE`` (one template per line).

``logs`` is a group whose default command is ``analyze``: ``infraleash logs a.log b.log`` and
``infraleash logs analyze a.log b.log`` are the same; a file literally named ``templates`` or
``analyze`` is given as ``./templates``.

Exit codes: 0 when at least one input was analysed (problems with the others are reported in the
output and on stderr); 2 when no input could be read, or for bad arguments.
"""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from typer.core import TyperGroup

from infraleash.errors import ExitCode, InputError, UsageError
from infraleash.logs.analysis import analyze, line_templates
from infraleash.logs.header import FormatError, compile_format
from infraleash.logs.kube_events import parse_age
from infraleash.logs.render import TokenCounter, render_human, render_json, render_llm
from infraleash.logs.timestamps import parse_time
from infraleash.surfaces.cli.progress import progress, progress_wanted


class _DefaultToAnalyze(TyperGroup):
    """A group that runs ``analyze`` when the first argument is not one of its commands."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["analyze", *args]
        return super().parse_args(ctx, args)


logs_app = typer.Typer(cls=_DefaultToAnalyze, no_args_is_help=True,
                       help="Analyse logs for an incident: templates, anomalies, correlations, timeline.")


class OutputFormat(StrEnum):
    HUMAN = "human"
    JSON = "json"
    LLM = "llm"


class TemplatesFormat(StrEnum):
    JSONL = "jsonl"


def register(app: typer.Typer) -> None:
    app.add_typer(logs_app, name="logs")


def _time_option(value: str | None, flag: str) -> Any:
    if value is None:
        return None
    try:
        return parse_time(value)
    except ValueError as e:
        raise UsageError(f"{flag}: {e}") from None


def _duration_option(value: str, flag: str) -> timedelta:
    """``30m``, ``2h``, ``90s``, ``1h30m``, ``0``."""
    if value.strip() == "0":
        return timedelta(0)
    age = parse_age(value)
    if age is None:
        raise UsageError(f"{flag}: {value!r} is not a duration such as 30m, 2h or 90s")
    return age


def _tokenizer(name: str | None) -> TokenCounter | None:
    """``--tokenizer NAME``, else o200k_base when its (bundled) data loads, else the cautious estimate."""
    try:
        from infraleash.agent.tokens import TiktokenCounter, load_encoding
    except ImportError:
        if name is not None:
            raise UsageError("--tokenizer needs tiktoken: pip install 'infraleash[agent]'") from None
        return None
    try:
        load_encoding(name or "o200k_base")
    except (ImportError, ModuleNotFoundError):
        if name is not None:
            raise UsageError("--tokenizer needs tiktoken: pip install 'infraleash[agent]'") from None
        return None
    except (ValueError, KeyError, OSError) as e:
        if name is not None:
            raise UsageError(f"--tokenizer: cannot load {name!r} (try o200k_base or cl100k_base): {e}") from None
        return None
    return TiktokenCounter(name or "o200k_base").count


@logs_app.command("analyze")
def analyze_cmd(
    files: list[Path] = typer.Argument(..., help="log files (plain text, JSON lines, kubectl logs, .gz)"),
    since: str = typer.Option(None, "--since", help="drop records before this time (ISO 8601, syslog, ...)"),
    until: str = typer.Option(None, "--until", help="drop records after this time"),
    baseline_until: str = typer.Option(None, "--baseline-until",
                                       help="end of normal traffic (default: first third of the window)"),
    lookback: str = typer.Option("30m", "--lookback",
                                 help="with --since: also read this long before it, for numeric trends only "
                                      "(a climb that began before the window is reported from its start); 0 = off"),
    output: OutputFormat = typer.Option(OutputFormat.HUMAN, "--format", "-f", help="human, json or llm"),
    budget_tokens: int = typer.Option(2000, "--budget-tokens", help="token budget of --format llm"),
    tokenizer: str = typer.Option(None, "--tokenizer",
                                  help="tiktoken encoding that counts the budget (default o200k_base)"),
) -> int:
    """Templates, bursts, new templates, error onsets, trends, lead/lag and a timeline across files."""
    start, end = _time_option(since, "--since"), _time_option(until, "--until")
    if start is not None and end is not None and start > end:
        raise UsageError("--since is after --until")
    counter = _tokenizer(tokenizer) if output is OutputFormat.LLM else None
    if output is OutputFormat.LLM and budget_tokens < 60:
        raise UsageError("--budget-tokens must be at least 60")
    with progress("reading logs", enabled=progress_wanted(output.value)) as advance:
        result = analyze([str(f) for f in files], since=start, until=end,
                         baseline_until=_time_option(baseline_until, "--baseline-until"),
                         lookback=_duration_option(lookback, "--lookback"),
                         on_progress=lambda path, lines: advance(0, description=f"reading {path}: {lines:,} lines"))
    if not result.analyzed_any:
        raise InputError("no input could be read: " + "; ".join(str(p) for p in result.problems))
    if output is OutputFormat.HUMAN:
        render_human(result, Console(soft_wrap=False))
        return ExitCode.OK
    for p in result.problems:
        typer.echo(f"warning: {p}", err=True)
    if output is OutputFormat.JSON:
        typer.echo(render_json(result))
    else:
        typer.echo(render_llm(result, budget_tokens, counter))
    return ExitCode.OK


@logs_app.command("templates")
def templates_cmd(
    file: Path = typer.Argument(..., help="one log file"),
    log_format: str = typer.Option(None, "--log-format",
                                   help="header format, e.g. '<Date> <Time> <Level> <Component>: <Content>' (<Field>, "
                                         "spaces match any whitespace, (...)? optional, \\x is x; the rest literal)"),
    output: TemplatesFormat = typer.Option(TemplatesFormat.JSONL, "--format", "-f", help="jsonl"),
) -> int:
    """For each input line, {"line": N, "template": "..."} with every variable written <*>."""
    if log_format is not None:
        try:
            compile_format(log_format)
        except FormatError as e:
            raise UsageError(f"--log-format: {e}") from None
    rows, source = line_templates(file, log_format)
    fatal = [p for p in source.problems if p.fatal]
    if fatal:
        raise InputError(str(fatal[0]))
    write = sys.stdout.write
    for row in rows:
        write(json.dumps(row, ensure_ascii=False) + "\n")
    for p in source.problems:
        typer.echo(f"warning: {p}", err=True)
    return ExitCode.OK
