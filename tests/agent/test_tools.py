"""Built-in tools: workspace confinement (traversal, symlinks, our own files, state), reads, kubectl verbs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from infraleash.agent.exceptions import ToolMistake
from infraleash.agent.guarded import AgentTool
from infraleash.agent.tools import Workspace, file_tools, kubectl_tools, terraform_tools
from infraleash.tools import ToolResult


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    root = tmp_path / "ws"
    (root / "modules" / "vpc").mkdir(parents=True)
    (root / "main.tf").write_text("".join(f"# line {i}\n" for i in range(1, 3001)))
    (root / "modules" / "vpc" / "main.tf").write_text('resource "aws_vpc" "this" {}\n')
    (root / ".infraleash").mkdir()
    (root / ".infraleash" / "audit.jsonl").write_text("{}\n")
    (root / "terraform.tfstate").write_text('{"secret": "s3cr3t"}')
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "passwd").write_text("root:x:0:0")
    os.symlink(tmp_path / "outside", root / "escape")
    os.symlink(tmp_path / "outside" / "passwd", root / "link.tf")
    return Workspace(root)


def by_name(tools: list[AgentTool]) -> dict[str, AgentTool]:
    return {t.name: t for t in tools}


def run(t: AgentTool, **args: object) -> str:
    assert t.run is not None
    result = t.run(args)
    assert isinstance(result, ToolResult)
    return result.output


@pytest.mark.parametrize("path, why", [
    ("../outside/x.tf", "outside the workspace"),
    ("/etc/passwd", "not an absolute path"),
    ("escape/x.tf", "outside the workspace"),
    ("link.tf", "outside the workspace"),
    ("modules/../../outside/y.tf", "outside the workspace"),
    (".infraleash/audit.jsonl", "off limits"),
    (".git/config", "off limits"),
    ("terraform.tfstate", "state is off limits"),
    ("envs/prod/terraform.tfstate.backup", "state is off limits"),
])
def test_write_file_refuses_everything_outside_or_ours(ws: Workspace, path: str, why: str) -> None:
    write = by_name(file_tools(ws))["write_file"]
    with pytest.raises(ToolMistake, match=why):
        run(write, path=path, content="pwned")
    assert (ws.root.parent / "outside" / "passwd").read_text() == "root:x:0:0"
    assert (ws.root / ".infraleash" / "audit.jsonl").read_text() == "{}\n"
    assert not (ws.root.parent / "outside" / "x.tf").exists()


def test_write_inside_creates_directories_and_is_recorded(ws: Workspace) -> None:
    out = run(by_name(file_tools(ws))["write_file"], path="envs/dev/main.tf", content="a\nb\n")
    assert out.startswith("wrote envs/dev/main.tf") and (ws.root / "envs/dev/main.tf").read_text() == "a\nb\n"
    assert ws.written == ["envs/dev/main.tf"]


def test_reads_are_confined_and_long_files_say_what_is_left(ws: Workspace) -> None:
    tools = by_name(file_tools(ws))
    with pytest.raises(ToolMistake, match="outside the workspace"):
        run(tools["read_file"], path="link.tf")
    with pytest.raises(ToolMistake, match="state is off limits"):
        run(tools["read_file"], path="terraform.tfstate")
    page = run(tools["read_file"], path="main.tf")
    assert page.splitlines()[0] == "    1  # line 1" and "[lines 1-2000 of 3000; ask for start_line=2001" in page
    assert run(tools["read_file"], path="main.tf", start_line=2999).splitlines() == \
        [" 2999  # line 2999", " 3000  # line 3000"]
    listing = run(tools["list_files"], pattern="*.tf").splitlines()
    assert "modules/vpc/main.tf" in listing and not any("tfstate" in f or ".infraleash" in f for f in listing)
    assert run(tools["search_files"], regex=r"aws_vpc") == 'modules/vpc/main.tf:1: resource "aws_vpc" "this" {}'
    assert "secret" not in run(tools["search_files"], regex="s3cr3t")


def test_terraform_tools_build_argv_confined_to_the_workspace(ws: Workspace) -> None:
    tf = by_name(terraform_tools(ws))
    assert tf["terraform_plan"].command is not None
    assert tf["terraform_plan"].command(dir="modules/vpc", out="p.tfplan") == [
        "terraform", f"-chdir={ws.root / 'modules/vpc'}", "plan", "-input=false", "-no-color", "-out=p.tfplan"]
    with pytest.raises(ToolMistake, match="outside the workspace"):
        tf["terraform_validate"].command(dir="escape")  # type: ignore[misc]


def test_kubectl_reads_only_and_get_is_json() -> None:
    k = kubectl_tools()[0]
    assert k.command is not None
    assert k.command(verb="get", resource="pods", all_namespaces=True) == ["kubectl", "get", "pods", "-A", "-o", "json"]
    assert k.command(verb="logs", resource="api-7f9", namespace="prod", extra=["--tail=100"]) == \
        ["kubectl", "logs", "api-7f9", "-n", "prod", "--tail=100"]
    with pytest.raises(ToolMistake, match="only reads"):
        k.command(verb="delete", resource="pod", name="x")


def provider_schema(ws: Workspace) -> AgentTool:
    from infraleash.agent.tools import provider_schema_tool

    return provider_schema_tool(ws)


@pytest.mark.parametrize("target", ["aws_db_instance.instance_class", "aws_s3_bucket.bucket",
                                    "aws_ebs_volume.size", "aws_security_group.ingress"])
def test_provider_schema_answers_the_same_facts_as_explain(ws: Workspace, target: str) -> None:
    import json

    from infraleash.paperwork.explain import explain

    type_name, _, attribute = target.partition(".")
    answer = json.loads(run(provider_schema(ws), type_name=type_name, attribute=attribute))
    assert answer == explain(target).facts
    whole = json.loads(run(provider_schema(ws), type_name=type_name))
    assert whole["facts"] == explain(type_name).facts
    assert attribute in whole["required"] + whole["optional"] + list(whole.get("blocks", {}))


def test_provider_schema_replace_and_reboot_facts_reach_the_model(ws: Workspace) -> None:
    import json

    rds = json.loads(run(provider_schema(ws), type_name="aws_db_instance", attribute="instance_class"))
    assert rds["replaces"] is False and "restart" in rds["reboots"] and rds["waits_for_maintenance_window"]
    assert json.loads(run(provider_schema(ws), type_name="aws_s3_bucket", attribute="bucket"))["replaces"] is True
    with pytest.raises(ToolMistake, match="did you mean 'instance_class'"):
        run(provider_schema(ws), type_name="aws_db_instance", attribute="instance_clas")
    with pytest.raises(ToolMistake, match="did you mean 'aws_db_instance'"):
        run(provider_schema(ws), type_name="aws_db_instanc")
