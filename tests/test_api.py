"""The documented Python API: the examples in infraleash.api's docstrings run, and the names import from
the package root (``review`` too, though it shares its name with the infraleash.review package)."""

from __future__ import annotations

import doctest
from pathlib import Path

import pytest

import infraleash.api

ROOT = Path(__file__).resolve().parents[1]


def test_the_docstring_examples_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # the examples name paths under examples/
    result = doctest.testmod(infraleash.api, optionflags=doctest.ELLIPSIS, report=True)
    assert result.attempted >= 10 and result.failed == 0


def test_the_entry_points_import_from_the_root(monkeypatch: pytest.MonkeyPatch) -> None:
    import infraleash.review  # the package is bound on `infraleash` once imported: still callable
    from infraleash import CheckReport, Decision, ReviewReport, check, decide, review

    monkeypatch.chdir(ROOT)
    assert isinstance(check("examples/review/proposed"), CheckReport)
    report = review("examples/review/proposed", plan="examples/review/recorded-plan.json")
    assert isinstance(report, ReviewReport) and report.verdict.value == "block"
    assert review is infraleash.review and callable(review)
    assert isinstance(decide(["terraform", "version"]), Decision)


def test_user_errors_raise_with_the_cli_exit_code(tmp_path: Path) -> None:
    from infraleash import check
    from infraleash.errors import ExitCode, InfraleashError

    with pytest.raises(InfraleashError) as e:
        check(tmp_path)
    assert e.value.exit_code == ExitCode.USAGE and "no .tf files here" in str(e.value)
