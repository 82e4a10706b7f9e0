"""Progress of long work on a terminal, and nowhere else.

    with progress("checking roots", total=len(roots), enabled=progress_wanted(fmt, output)) as advance:
        run_checks_many(roots, policy, on_done=advance)

A transient ``rich.progress`` bar on stderr, drawn only when stdout and stderr are both terminals, the
report goes to a person (the human format, or any format written to a file with ``-o``) and
``INFRALEASH_NO_PROGRESS`` is unset.  When piped, in CI, or printing JSON/SARIF/... to stdout, ``advance``
is a no-op and rich is not even imported, so machine output never carries a progress line.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

Advance = Callable[..., None]


def progress_wanted(fmt: str, output: Path | None = None) -> bool:
    """Whether long work should show progress: a person is watching and machine output stays clean."""
    if os.environ.get("INFRALEASH_NO_PROGRESS"):
        return False
    if not (sys.stdout.isatty() and sys.stderr.isatty()):
        return False
    return fmt == "human" or output is not None


def _noop(*_args: object, **_kwargs: object) -> None:
    return None


@contextmanager
def progress(description: str, *, total: float | None = None, enabled: bool,
             refresh_thread: bool = True) -> Iterator[Advance]:
    """A bar (``total`` known) or a spinner with elapsed time; yields ``advance(n=1, description=None)``.

    ``refresh_thread=False`` redraws only when ``advance`` is called: no thread runs, so work that forks
    worker processes (``check -r``, which refuses to fork while other threads run) keeps its workers.
    """
    if not enabled:
        yield _noop
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    columns = [SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
               *([MofNCompleteColumn()] if total is not None else []), TimeElapsedColumn()]
    with Progress(*columns, console=Console(stderr=True), transient=True, auto_refresh=refresh_thread) as bar:
        task = bar.add_task(description, total=total)

        def advance(n: float = 1, description: str | None = None) -> None:
            if description:
                bar.update(task, advance=n, description=description)
            else:
                bar.update(task, advance=n)
            if not refresh_thread:
                bar.refresh()

        yield advance
