"""Fixtures shared by the attack suite: the session's real Terraform state and `terraform init`, a world per
attack, and (for the MCP surface) one event loop per module."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio.from_thread
import pytest

from attacks._world import MAIN_TF, Templates
from infraleash.terraform.sandbox import provider_block, sandbox_env, why_unavailable

TERRAFORM = shutil.which("terraform")


def _terraform(cwd: Path, env: dict[str, str], *args: str) -> None:
    proc = subprocess.run(["terraform", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"terraform {' '.join(args)} failed:\n{proc.stderr[-3000:]}"


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Templates:
    """A real state of the default configuration (applied once) and one `terraform init` of an AWS config."""
    reason = why_unavailable()
    if reason:
        pytest.skip(f"the attack suite runs real Terraform: {reason}")
    base = tmp_path_factory.mktemp("attack-templates")
    env = sandbox_env(base / "tfconfig")
    state_dir = base / "state"
    state_dir.mkdir()
    (state_dir / "main.tf").write_text(MAIN_TF, encoding="utf-8")
    _terraform(state_dir, env, "apply", "-auto-approve", "-input=false", "-no-color")
    aws = base / "aws"
    aws.mkdir()
    (aws / "provider.tf").write_text(provider_block("http://127.0.0.1:9"), encoding="utf-8")
    _terraform(aws, env, "init", "-input=false", "-no-color")
    return Templates(state=state_dir / "terraform.tfstate", aws_init=aws)


@pytest.fixture(scope="module")
def portal() -> Iterator[Any]:
    with anyio.from_thread.start_blocking_portal() as p:
        yield p
