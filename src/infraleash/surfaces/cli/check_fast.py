"""A plain ``infraleash check ...`` parsed without typer, so a one-file check starts in a fraction of the time.

typer builds a pydantic ``TypeAdapter`` for every parameter: importing typer and pydantic alone costs about
twice the rest of a one-file check (BENCHMARKS.md, One-file check), which an agent's checkpoint, a
pre-commit hook and an editor pay on every edit.  So :func:`run_fast` parses ``check``'s options with
argparse and calls :func:`~infraleash.surfaces.cli.check_run.run_check`, the same function the typer
command calls.  Anything it does not take exactly as given (``--help``, an unknown or malformed option,
``--workers 0``, a ``--`` separator, options before ``check``) is left to typer, which then prints the
usual help or one-line error: the fast path never has its own messages.  The typer command stays the one
declaration users see; ``tests/surfaces/test_check_startup.py`` fails when the two option sets differ.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import sys
from pathlib import Path

from infraleash.errors import InfraleashError


class _NotMine(Exception):
    """argparse found something it does not take as given: typer handles the command line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise _NotMine(message)


class _Formatter(argparse.HelpFormatter):
    """Never shown (typer prints the help): a fixed width, so argparse does not import shutil (and with it the
    bz2 and lzma libraries) to ask the terminal's, as it does for every argument it adds."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, width=100)


def parser() -> argparse.ArgumentParser:
    """``check``'s options, as ``check_cmd.check`` declares them."""
    p = _Parser(prog="infraleash check", add_help=False, allow_abbrev=False, exit_on_error=False,
                formatter_class=_Formatter)
    p.add_argument("paths", nargs="*", type=Path)
    p.add_argument("--recursive", "-r", action="store_true")
    p.add_argument("--workers", type=int)
    p.add_argument("--format", "-f", dest="fmt", default="human")
    p.add_argument("--output", "-o", type=Path)
    p.add_argument("--policy", dest="policy_file", type=Path)
    p.add_argument("--fail-on", dest="fail_on")
    p.add_argument("--rules-dir", dest="rules_dirs", action="append", type=Path)
    p.add_argument("--sarif-root", type=Path)
    p.add_argument("--strict", action="store_true")
    p.add_argument("--trust-policy-rules", action="store_true")
    return p


def parse(args: list[str]) -> dict[str, object] | None:
    """``run_check``'s keyword arguments for ``args`` (``["check", ...]``), or None: typer's to handle."""
    if not args or args[0] != "check" or any(a in ("-h", "--help", "--") for a in args[1:]):
        return None
    try:
        ns = parser().parse_intermixed_args(args[1:])
    except (_NotMine, argparse.ArgumentError, ValueError):
        return None
    if ns.workers is not None and ns.workers < 1:
        return None
    return vars(ns)


def run_fast(args: list[str], *, hard_exit: bool = False) -> bool:
    """Run ``args`` if it is a plain ``check`` command line (then exit); False when typer must handle it.

    ``hard_exit`` (the console script, not a caller in the same process): once the report is written and the
    streams flushed, leave with ``os._exit``. Tearing down the interpreter frees every cached parse tree, one by one:
    about 60 ms of a 1.5 s one-process ``check -r`` over a monorepo, for memory the system takes back at once.
    """
    kwargs = parse(args)
    if kwargs is None:
        return False
    from infraleash.surfaces.cli.check_run import run_check

    # A one-shot process: its parse trees live until it exits, and nothing in a check makes cyclic garbage worth
    # collecting, so the collector only re-scans them (~20% of a `check -r` over a monorepo). Off for this
    # process and the workers it forks; the library's callers (MCP server, agent) keep theirs.
    gc.disable()
    try:
        rv = run_check(**kwargs)  # type: ignore[arg-type]
    except InfraleashError as e:
        print(e.one_line(), file=sys.stderr)
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        sys.exit(130)
    if hard_exit:
        _leave(rv)
    sys.exit(rv)


def _leave(code: int) -> None:
    """Exit now, after flushing what was printed (atexit handlers and finalisers do not run: nothing is pending)."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed or broken pipe: nothing more can reach it
            stream.flush()
    os._exit(code)
