"""Malformed infraleash.yaml through the CLI (``policy check`` and ``check``, which read it the same way):
one line naming the file, the line and the key, exit 2; never a traceback, never exit 70."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest

from infraleash.surfaces.cli import main


def _cli(args: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    code: object = 0
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        try:
            main(args)
        except SystemExit as e:
            code = e.code
    return (code if isinstance(code, int) else 0), err.getvalue()


@pytest.mark.parametrize("value", ['"abc"', "1e999", ".nan", ".inf", "[1, 2]", "{a: 1}", "3.7", "2026-01-01",
                                   "9" * 5000, "!!binary aGVsbG8="])
def test_a_wrong_scalar_where_a_number_belongs_names_file_line_and_key(tmp_path: Path, value: str) -> None:
    policy = tmp_path / "infraleash.yaml"
    policy.write_text(f"version: 1\napprovals:\n  store: x.db\n  ttl_minutes: {value}\n", encoding="utf-8")
    code, err = _cli(["policy", "check", str(policy)])
    assert code == 2 and err.count("\n") == 1, err
    assert err.startswith(f"error: {policy}:"), err
    if len(value) < 100:  # a 5,000-digit integer is refused while YAML reads it, before any key is known
        assert f"{policy}:4: approvals.ttl_minutes:" in err, err


BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8))


@pytest.mark.parametrize(("name", "text"), [
    ("alias bomb", BOMB),
    ("deep nesting", "version: 1\nx: " + "[" * 600 + "]" * 600 + "\n"),
    ("deep mappings", "version: 1\n" + "".join("  " * i + f"k{i}:\n" for i in range(300)) + "  " * 300 + "v: 1\n"),
    ("a NUL byte", "version: 1\n\x00\n"),
    ("a control character", "version: 1\nmodel:\n  max_steps: \x07\n"),
    ("not UTF-8", "\udcff"),
])
def test_bounded_and_broken_yaml_is_one_line_through_check_and_policy_check(tmp_path: Path, name: str,
                                                                             text: str) -> None:
    policy = tmp_path / "infraleash.yaml"
    policy.write_bytes(text.encode("utf-8", "surrogateescape"))
    (tmp_path / "main.tf").write_text('resource "aws_s3_bucket" "b" {\n  bucket = "b"\n}\n', encoding="utf-8")
    for args in (["policy", "check", str(policy)], ["check", str(tmp_path), "--policy", str(policy)]):
        code, err = _cli(args)
        assert code == 2 and err.count("\n") == 1 and str(policy) in err, (name, args, err)


def test_a_key_holding_a_newline_is_quoted_in_a_one_line_error(tmp_path: Path) -> None:
    """Found by tests/fuzz/test_fuzz_policy.py: the YAML key ``"\\n\\n"`` split the error over lines."""
    policy = tmp_path / "infraleash.yaml"
    policy.write_text("version: 1\nprotected:\n  ? '\n\n    '\n  : null\n", encoding="utf-8")
    code, err = _cli(["policy", "check", str(policy)])
    assert code == 2 and err.count("\n") == 1, err
    assert f'{policy}:3: protected."\\n": Extra inputs are not permitted' in err, err
