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


@pytest.mark.parametrize("content", [
    'output "x" {\n  value = file("/home/me/.aws/credentials")\n}\n',
    'output "x" {\n  value = file("${path.module}/../../../outside/creds")\n}\n',
    'locals {\n  k = filebase64("~/.kube/config")\n}\n',
    'locals {\n  k = templatefile(pathexpand("~/.ssh/id_rsa"), {})\n}\n',
    '{"output": {"x": {"value": "${file(\\"/etc/shadow\\")}"}}}',
])
def test_terraform_that_reads_files_outside_the_workspace_is_not_written(ws: Workspace, content: str) -> None:
    from infraleash.agent.tools import file_tools

    write = next(t for t in file_tools(ws) if t.name == "write_file")
    name = "envs/prod/main.tf.json" if content.startswith("{") else "envs/prod/main.tf"
    assert write.run is not None
    with pytest.raises(ToolMistake, match="outside|home directory"):
        write.run({"path": name, "content": content})
    assert not (ws.root / name).exists()


def test_terraform_reading_workspace_files_is_written(ws: Workspace) -> None:
    from infraleash.agent.tools import file_tools

    write = next(t for t in file_tools(ws) if t.name == "write_file")
    content = ('locals {\n  a = file("${path.module}/policy.json")\n  b = templatefile("../../tpl/x.tftpl", {})\n'
               '  c = file(var.path)\n}\n')
    assert write.run is not None
    result = write.run({"path": "envs/prod/main.tf", "content": content})
    assert result.exit_code == 0, result.output
