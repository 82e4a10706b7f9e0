"""Path arguments of terraform commands must stay inside the workspace; addresses and values are not paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from infraleash.agent.exceptions import ToolMistake
from infraleash.agent.terraform_paths import confine_terraform_args
from infraleash.agent.tools import Workspace


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    (tmp_path / "ws" / "envs" / "prod").mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    (tmp_path / "ws" / "envs" / "prod" / "escape").symlink_to(tmp_path / "outside")
    return Workspace(tmp_path / "ws")


@pytest.mark.parametrize("args", [
    ["plan", "-var-file=../../../outside/creds"],
    ["plan", "-var-file", "../../../outside/creds"],
    ["plan", "--out=/tmp/x"],
    ["plan", "-out=escape/tfplan"],
    ["plan", "-state-out=../../../outside/s"],
    ["plan", "-generate-config-out=../../../x.tf"],
    ["init", "-backend-config=../../../outside/backend.hcl"],
    ["init", "-plugin-dir=/usr/local/share"],
    ["init", "-from-module=../../../outside"],
    ["show", "-json", "../../../outside/terraform.tfstate"],
    ["show", "terraform.tfstate"],
    ["apply", "../../../outside/tfplan"],
    ["fmt", "-recursive", "../../.."],
    ["providers", "mirror", "/tmp/mirror"],
    ["-chdir=/", "plan"],
    ["plan", "-out=../../.infraleash/x"],
])
def test_paths_leaving_the_workspace_are_refused(ws: Workspace, args: list[str]) -> None:
    with pytest.raises(ToolMistake):
        confine_terraform_args(ws, ws.root / "envs" / "prod", args)


@pytest.mark.parametrize("args", [
    ["plan", "-out=tfplan", "-var-file=../shared.tfvars", "-var", "path=../../../etc/x", "-target=module.a[\"../b\"]"],
    ["state", "show", "module.x.aws_s3_bucket.b[\"../../a\"]"],
    ["output", "-json"],
    ["init", "-backend-config=key=../../state", "-from-module=hashicorp/consul/aws"],
    ["show", "-json", "tfplan"],
    ["fmt", "-"],
    ["import", "aws_s3_bucket.b", "/not/a/path/but/an/id"],
])
def test_addresses_values_and_inside_paths_pass(ws: Workspace, args: list[str]) -> None:
    assert confine_terraform_args(ws, ws.root / "envs" / "prod", args) == args
