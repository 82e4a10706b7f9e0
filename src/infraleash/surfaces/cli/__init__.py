"""The ``infraleash`` command line.

Each command group lives in its own module in this package and is registered
here explicitly (no registration as a side effect of import).  User errors
print one line and exit with a documented code (see ``infraleash.errors``).
"""

from __future__ import annotations

import sys

import typer
from typer.main import get_command

try:  # typer >= 0.20 vendors click
    from typer import _click as click
except ImportError:  # pragma: no cover
    import click  # type: ignore[no-redef]

from infraleash.errors import ExitCode, InfraleashError
from infraleash.surfaces.cli import (
    agent_cmd,
    approvals_cmd,
    audit_cmd,
    check_cmd,
    exec_cmd,
    logs_cmd,
    mcp_cmd,
    policy_cmd,
    review_cmd,
)

app = typer.Typer(
    name="infraleash",
    help="Hard boundaries, validation and plan-risk review for LLM agents on infrastructure.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# --- command registry: one line per command group --------------------------------
policy_cmd.register(app)
agent_cmd.register(app)
exec_cmd.register(app)
approvals_cmd.register(app)
audit_cmd.register(app)
logs_cmd.register(app)
review_cmd.register(app)
check_cmd.register(app)  # check, rules
mcp_cmd.register(app)
# ----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI, turning user errors into one line and an exit code."""
    command = get_command(app)
    try:
        rv = command.main(args=argv, prog_name="infraleash", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as e:
        ctx = getattr(e, "ctx", None)
        click.echo(ctx.get_help() if ctx is not None else "usage: infraleash COMMAND", err=True)
        sys.exit(ExitCode.USAGE)
    except click.ClickException as e:
        ctx = getattr(e, "ctx", None)
        where = f"{ctx.command_path}: " if ctx is not None else "infraleash: "
        click.echo(f"error: {where}{e.format_message()}", err=True)
        sys.exit(ExitCode.USAGE)
    except typer.Abort:
        click.echo("error: aborted", err=True)
        sys.exit(ExitCode.USAGE)
    except typer.Exit as e:
        sys.exit(e.exit_code)
    except InfraleashError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        click.echo("error: interrupted", err=True)
        sys.exit(130)
    sys.exit(rv if isinstance(rv, int) else ExitCode.OK)
