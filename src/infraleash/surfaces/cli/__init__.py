"""The ``infraleash`` command line.

Each command group lives in its own module in this package and is registered
here explicitly (no registration as a side effect of import).  User errors
print one line and exit with a documented code (see ``infraleash.errors``).
"""

from __future__ import annotations

import importlib
import sys

import typer
from typer.main import get_command

try:  # typer >= 0.20 vendors click
    from typer import _click as click
except ImportError:  # pragma: no cover
    import click  # type: ignore[no-redef]

from infraleash.errors import ExitCode, InfraleashError

# --- command registry: command name -> the module in this package whose register(app) adds it --------------
# Only the module of the command being run is imported, so `infraleash exec ...` does not pay for the agent,
# the log miner or the check engine; `--help` and unknown commands load them all.
COMMANDS: dict[str, str] = {
    "review": "review_cmd",
    "check": "check_cmd",
    "rules": "check_cmd",
    "exec": "exec_cmd",
    "approvals": "approvals_cmd",
    "audit": "audit_cmd",
    "policy": "policy_cmd",
    "logs": "logs_cmd",
    "agent": "agent_cmd",
    "incident": "agent_cmd",
    "mcp": "mcp_cmd",
    "doctor": "doctor_cmd",
    "docs": "docs_cmd",
    "explain": "explain_cmd",
}
# ------------------------------------------------------------------------------------------------------------


def build_app(command: str | None = None) -> typer.Typer:
    """The typer app with ``command``'s group registered, or every group when it is not a known command."""
    app = typer.Typer(
        name="infraleash",
        help="Hard boundaries, validation and plan-risk review for LLM agents on infrastructure.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    # a callback keeps typer in group mode when one command is registered (it would make it the whole app)
    app.callback()(_root)
    modules = [COMMANDS[command]] if command in COMMANDS else list(dict.fromkeys(COMMANDS.values()))
    for name in modules:
        importlib.import_module(f"{__name__}.{name}").register(app)
    return app


def _root() -> None:
    """Hard boundaries, validation and plan-risk review for LLM agents on infrastructure."""


def _command_name(argv: list[str]) -> str | None:
    """The subcommand ``argv`` invokes (the first word that is not an option), if any."""
    return next((a for a in argv if not a.startswith("-")), None)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI, turning user errors into one line and an exit code."""
    args = sys.argv[1:] if argv is None else argv
    command = get_command(build_app(_command_name(args)))
    try:
        rv = command.main(args=args, prog_name="infraleash", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError:
        sys.exit(ExitCode.USAGE)  # typer has printed the help already
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
