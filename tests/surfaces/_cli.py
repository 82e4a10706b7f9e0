"""Run the real CLI entry in-process: exit code, stdout and stderr, as a user would see them."""

from __future__ import annotations

import pytest

from infraleash.surfaces.cli import main


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(argv))
    out, err = capsys.readouterr()
    code = exc.value.code
    return (code if isinstance(code, int) else 0), out, err
