"""Running the CLI in-process as the fuzz tests do: the same entry point as the ``infraleash`` script."""

from __future__ import annotations

import contextlib
import io
import os

from infraleash.surfaces.cli import main

DOCUMENTED_EXITS = {0, 1, 2, 3, 4}  # errors.py; 70 is a bug in infraleash


def examples(default: int) -> int:
    """How many inputs a fuzz test generates: ``$INFRALEASH_FUZZ_EXAMPLES`` for a full run, else ``default``."""
    return int(os.environ.get("INFRALEASH_FUZZ_EXAMPLES", default))


def run(args: list[str]) -> tuple[int, bytes, str]:
    """``infraleash ARGS``: (exit code, stdout as the UTF-8 bytes a pipe would get, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    code: object = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(args)
        except SystemExit as e:
            code = e.code
    return (code if isinstance(code, int) else 0), out.getvalue().encode("utf-8"), err.getvalue()


def assert_clean_exit(code: int, err: str, names: str) -> None:
    """No traceback, a documented exit code, and an error (exit 2) on one line that names ``names``."""
    assert "Traceback" not in err, err
    assert code in DOCUMENTED_EXITS, f"exit {code}: {err}"
    if code == 2:
        assert err.count("\n") == 1 and names in err, err
