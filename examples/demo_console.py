"""What the demos print around their steps: banners that never cut a line, and long steps with elapsed time.

At 80 columns a box (rich's Panel) cuts or re-wraps its lines; the banner's lines are printed whole
(``soft_wrap``: the terminal wraps them), so "what the demo fell back to" is always readable.  A long
step says what is running as it starts; on a terminal a spinner shows the elapsed time (rich.progress),
and every step ends with how long it took.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn


def banner(console: Console, *lines: str, style: str = "cyan") -> None:
    """A rule in ``style``, then each line whole (markup allowed in the first, the rest printed as text)."""
    console.rule(style=style)
    for i, line in enumerate(lines):
        console.print(line if i == 0 else escape(line), soft_wrap=True, highlight=False)
    console.rule(style=style)


@contextmanager
def step(console: Console, what: str) -> Iterator[None]:
    """Say ``what`` is running now; show the elapsed time while it runs (terminal only) and when it ends."""
    console.print(f"{escape(what)} ...", soft_wrap=True, highlight=False)
    start = time.monotonic()
    if console.is_terminal:
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                      console=console, transient=True) as progress:
            progress.add_task(escape(what[:60]), total=None)
            yield
    else:
        yield
    console.print(f"  [dim]done in {time.monotonic() - start:.1f}s[/dim]", highlight=False)
