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

import os
import sys
import traceback

from infraleash.errors import ExitCode

# --- command registry: command name -> the module in this package whose register(app) adds it --------------
# Only the module of the command being run is imported, so `infraleash exec ...` does not pay for the agent,
# the log miner or the check engine; `--help` and unknown commands load them all.  A plain `infraleash check ...`
# does not even load typer (which loads pydantic): check_fast.py parses it and runs check_run.run_check.
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
        from infraleash.surfaces.cli.check_fast import run_fast

        # a plain `check ...` runs there, without typer; anything else here
        if not run_fast(args, hard_exit=argv is None):
            from infraleash.surfaces.cli.app import run

            run(args)
    except SystemExit:
        raise
    except Exception as e:  # the last line of defence: an unexpected exception is a bug, never exit 1
        if _debug(args):
            traceback.print_exc(file=sys.stderr)
        print(f"error: {bug_line(e)}", file=sys.stderr)
        sys.exit(ExitCode.INTERNAL)


