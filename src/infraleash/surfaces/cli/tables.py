"""Tables that fit the terminal without cutting ids.

    table = Table("id", "status", "command")
    keep_whole(table, "id", "status")      # these columns never wrap or end in "…"; prose columns wrap instead
    table_console().print(table)           # the terminal's width; in a pipe, wide enough that rows do not wrap

On a terminal rich shrinks the wrappable columns (commands, titles, reasons) to fit and leaves the
``keep_whole`` ones as they are, so an id can still be copied into ``approvals show ID`` or
``rules show ID``.  ``COLUMNS`` set in the environment wins in both cases.
"""

from __future__ import annotations

import os
import sys

from rich.console import Console
from rich.table import Table

PIPE_WIDTH = 200  # a pipe or file has no width: wide enough for every table here on one line per row


def table_console(**kwargs: object) -> Console:
    width = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else PIPE_WIDTH
    return Console(width=width, **kwargs)  # type: ignore[arg-type]


def keep_whole(table: Table, *headers: str) -> Table:
    """Mark the columns named ``headers`` as never wrapped or cut (ids, statuses); the others wrap, and a
    word longer than its column (a long argv element) folds onto the next line instead of ending in "…"."""
    for column in table.columns:
        column.overflow = "fold"  # for the whole ones: only if even the id alone is wider than the terminal
        if str(column.header) in headers:
            column.no_wrap = True
    return table
