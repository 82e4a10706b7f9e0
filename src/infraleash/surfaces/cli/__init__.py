"""The ``infraleash`` command line.

Each command group lives in its own module in this package and is registered
here explicitly (no registration as a side effect of import).  User errors
print one line and exit with a documented code (see ``infraleash.errors``).

Anything else that escapes a command is a bug in infraleash: :func:`main` is the
last line of defence and turns it into exit 70 and one line saying so (the
traceback only with ``infraleash --debug ...`` or ``INFRALEASH_DEBUG=1``), never
exit 1, which means "findings" or "block".
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback

import typer
from typer.main import get_command

try:  # typer >= 0.20 vendors click
    from typer import _click as click
except ImportError:  # pragma: no cover
    import click  # type: ignore[no-redef]

from infraleash.errors import ExitCode, InfraleashError, UsageError

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
    "pr-description": "pr_description_cmd",
    "runbook": "runbook_cmd",
    "server": "server_cmd",
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
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as e:  # a command of an optional extra (server, agent ...) not installed
            if e.name is None or e.name.startswith("infraleash"):
                raise
            if command in COMMANDS and COMMANDS[command] == name:
                raise UsageError(f"`infraleash {command}` needs the Python package {e.name!r}, which this install "
                                 "does not have: install the extra that provides it (README: Installing it "
                                 "elsewhere)") from None
            continue  # listing every command: leave out the ones this install cannot run
        module.register(app)
    return app


DEBUG_ENV = "INFRALEASH_DEBUG"
BUG_REPORT = ("please report it with the command line and the output of the same command run as "
              "`infraleash --debug ...`")
_MAX_BUG_MESSAGE = 300  # characters of the exception's own message kept on the one line


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version
    try:
        return dist_version("infraleash")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree that was never installed
        return "unknown (not installed)"


def _print_version(value: bool) -> None:
    if value:
        click.echo(f"infraleash {version()}")
        raise typer.Exit(ExitCode.OK)


def _root(
    debug: bool = typer.Option(False, "--debug", help="on an internal error, print the traceback as well"),
    show_version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                      help="print infraleash's version and exit"),
) -> None:
    """Hard boundaries, validation and plan-risk review for LLM agents on infrastructure."""


def _flags_without_type() -> None:
    """typer's rich help prints ``<bool>`` after a plain flag (``--strict <bool>``), as if it took a value."""
    from typer.core import TyperOption

    if getattr(TyperOption.display_type_rich, "_infraleash", False):
        return
    original = TyperOption.display_type_rich

    def display_type_rich(self: TyperOption, ctx: click.Context) -> str | None:
        return None if self.is_flag and self.metavar is None else original(self, ctx)

    display_type_rich._infraleash = True  # type: ignore[attr-defined]
    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign]


def _debug(argv: list[str]) -> bool:
    """``--debug`` given before the subcommand, or $INFRALEASH_DEBUG set to a true value."""
    if os.environ.get(DEBUG_ENV, "").strip().lower() in ("1", "true", "yes", "on"):
        return True
    for a in argv:
        if a == "--debug":
            return True
        if not a.startswith("-"):
            return False
    return False


def bug_line(e: BaseException) -> str:
    """The one line printed for an unexpected exception: it is a bug, what it was, how to report it."""
    text = " ".join(str(e).split())
    if len(text) > _MAX_BUG_MESSAGE:
        text = text[:_MAX_BUG_MESSAGE] + "..."
    what = f"{type(e).__name__}: {text}" if text else type(e).__name__
    return f"internal error: this is a bug in infraleash, not in your input ({what}); {BUG_REPORT}"


def _command_name(argv: list[str]) -> str | None:
    """The subcommand ``argv`` invokes (the first word that is not an option), if any."""
    return next((a for a in argv if not a.startswith("-")), None)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI, turning user errors into one line and an exit code."""
    args = sys.argv[1:] if argv is None else argv
    try:
        _run(args)
    except SystemExit:
        raise
    except Exception as e:  # the last line of defence: an unexpected exception is a bug, never exit 1
        if _debug(args):
            traceback.print_exc(file=sys.stderr)
        click.echo(f"error: {bug_line(e)}", err=True)
        sys.exit(ExitCode.INTERNAL)


def _run(args: list[str]) -> None:
    _flags_without_type()
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
    except InfraleashError as e:  # one line whatever it quotes (a file name or YAML key with a newline)
        click.echo("error: " + str(e).replace("\r", "\\r").replace("\n", "\\n"), err=True)
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        click.echo("error: interrupted", err=True)
        sys.exit(130)
    sys.exit(rv if isinstance(rv, int) else ExitCode.OK)
