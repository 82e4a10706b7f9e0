"""Run the real CLI entry in-process: exit code, stdout and stderr, as a user would see them."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from infraleash.surfaces.cli import main


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(argv))
    out, err = capsys.readouterr()
    code = exc.value.code
    return (code if isinstance(code, int) else 0), out, err


def run_on_terminal(*argv: str, stderr_too: bool = False, columns: int = 120,
                    env: dict[str, str] | None = None) -> tuple[int, str]:
    """Run the real ``infraleash`` entry point with stdout (and with ``stderr_too`` stderr) on a
    pseudo-terminal: its exit code and everything it wrote there."""
    import pty

    leader, follower = pty.openpty()
    inherited = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "INFRALEASH_NO_PROGRESS")}
    full_env = {**inherited, "COLUMNS": str(columns), "TERM": "xterm-256color", **(env or {})}
    proc = subprocess.Popen([sys.executable, "-c", "from infraleash.surfaces.cli import main; main()", *argv],
                            stdout=follower, stderr=follower if stderr_too else subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL, env=full_env)
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    code = proc.wait(timeout=300)
    os.close(leader)
    return code, b"".join(chunks).decode("utf-8", "replace")
