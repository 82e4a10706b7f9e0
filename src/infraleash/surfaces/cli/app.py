"""The typer application: every command group registered from ``COMMANDS``, run with infraleash's exit codes.

Imported by :func:`infraleash.surfaces.cli.main` for everything but a plain ``infraleash check ...``
(``check_fast.py``), since typer loads pydantic for its parameter conversion.
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

from infraleash.errors import ExitCode, InfraleashError, UsageError
from infraleash.surfaces.cli import COMMANDS, _command_name, version


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
            module = importlib.import_module(f"infraleash.surfaces.cli.{name}")
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


def run(args: list[str]) -> None:
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
        click.echo(e.one_line(), err=True)
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        click.echo("error: interrupted", err=True)
        sys.exit(130)
    sys.exit(rv if isinstance(rv, int) else ExitCode.OK)
