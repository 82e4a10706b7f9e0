"""`infraleash explain` through the CLI entry: json facts, one-line error with a hint."""

from __future__ import annotations

import json

import pytest
from _cli import run_cli as run


def test_explain_cli(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "explain", "aws_s3_bucket.bucket", "--format", "json")
    assert code == 0 and json.loads(out)["replaces"] is True
    code, out, err = run(capsys, "explain", "aws_s3_buckt")
    assert (code, out) == (2, "") and err.count("\n") == 1 and "did you mean 'aws_s3_bucket'?" in err
