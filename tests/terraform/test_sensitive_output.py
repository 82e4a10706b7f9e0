"""Values Terraform marks sensitive never reach a model: real terraform output through the guarded tools and MCP."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from infraleash.agent.guarded import GateSession, GuardedToolset
from infraleash.agent.messages import ToolCall
from infraleash.agent.tools import Workspace, terraform_tools
from infraleash.policy import load_policy
from infraleash.terraform.sensitive_output import mask_terraform_output

OLD, NEW, DEFAULT = "S3CRET-applied-pw", "N3W-planned-pw", "hunter2-default"
CONFIG = f"""
variable "db_password" {{
  type      = string
  sensitive = true
  default   = "{DEFAULT}"
}}
resource "terraform_data" "db" {{
  input = {{ password = var.db_password, user = "admin-user" }}
}}
output "pw" {{
  value     = var.db_password
  sensitive = true
}}
output "conn" {{
  value     = "postgres://admin-user:${{var.db_password}}@db"
  sensitive = true
}}
output "user" {{
  value = terraform_data.db.input.user
}}
"""


def leaked(text: str) -> list[str]:
    return [s for s in (OLD, NEW, DEFAULT) if s in text]


@pytest.fixture(scope="module")
def applied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, str]]]:
    """A real state (applied with OLD) and a saved plan changing the password to NEW (built-in terraform_data)."""
    if shutil.which("terraform") is None:
        pytest.skip("no terraform binary on PATH: the sensitive-output tests need real terraform output")
    ws = tmp_path_factory.mktemp("sensitive")
    (ws / "main.tf").write_text(CONFIG)
    (ws / "infraleash.yaml").write_text("version: 1\ntrust_level: act-with-approval\n")
    cli = ws.parent / f"{ws.name}.tfrc"
    cli.write_text("")
    env = {**os.environ, "TF_CLI_CONFIG_FILE": str(cli), "TF_IN_AUTOMATION": "1"}
    for args in (["init", "-input=false"], ["apply", "-auto-approve", "-input=false", f"-var=db_password={OLD}"],
                 ["plan", "-input=false", "-out=tfplan", f"-var=db_password={NEW}"]):
        subprocess.run(["terraform", *args, "-no-color"], cwd=ws, env=env, check=True, capture_output=True,
                       timeout=120)
    yield ws, env


def toolset(ws: Path, env: dict[str, str]) -> GuardedToolset:
    policy = load_policy(ws / "infraleash.yaml")
    return GuardedToolset(terraform_tools(Workspace(ws)), GateSession.for_workspace(policy, ws, env=env))


@pytest.mark.parametrize("args", [["show", "-json", "tfplan"], ["show", "-json"], ["output", "-json"],
                                  ["output", "-raw", "pw"], ["output", "-json", "conn"], ["output", "pw"]])
def test_terraform_reads_never_show_sensitive_values(applied: tuple[Path, dict[str, str]], args: list[str]) -> None:
    ws, env = applied
    raw = subprocess.run(["terraform", *args], cwd=ws, env=env, capture_output=True, text=True, timeout=60).stdout
    assert leaked(raw), f"terraform {args} no longer prints the secret: this test would prove nothing"
    obs = toolset(ws, env).call(ToolCall(id="c1", name="terraform", arguments={"args": args}))
    assert not obs.is_error, obs.output
    assert leaked(obs.output) == []
    assert "(sensitive)" in obs.output or "withheld" in obs.output
    if args[0] == "show" or args == ["output", "-json"]:
        assert "admin-user" in obs.output  # what is not sensitive stays readable


def test_plan_json_masks_variables_changes_outputs_and_propagates(applied: tuple[Path, dict[str, str]]) -> None:
    ws, env = applied
    obs = toolset(ws, env).call(ToolCall(id="c1", name="terraform", arguments={"args": ["show", "-json", "tfplan"]}))
    data = json.loads(obs.output.split("\n[")[0])
    assert data["variables"]["db_password"]["value"] == "(sensitive)"
    assert data["configuration"]["root_module"]["variables"]["db_password"]["default"] == "(sensitive)"
    change = data["resource_changes"][0]["change"]
    assert change["after"]["input"] == {"password": "(sensitive)", "user": "admin-user"}
    # terraform_data.output echoes the password without a sensitive mark: masked by propagation
    assert change["before"]["output"]["password"] == "(sensitive)"
    assert data["output_changes"]["conn"]["after"] == "(sensitive)"
    assert "replaced by (sensitive)" in obs.output


def test_state_pull_is_refused_and_its_raw_state_would_be_masked(applied: tuple[Path, dict[str, str]]) -> None:
    ws, env = applied
    obs = toolset(ws, env).call(ToolCall(id="c1", name="terraform", arguments={"args": ["state", "pull"]}))
    assert obs.is_error and "TF-STATE-PULL" in obs.output
    # defence in depth: should a policy ever let it run, the raw state v4 is masked by sensitive_attributes
    raw = subprocess.run(["terraform", "state", "pull"], cwd=ws, env=env, capture_output=True, text=True,
                         timeout=60).stdout
    assert OLD in raw
    masked = mask_terraform_output(["terraform", "state", "pull"], raw)
    state = json.loads(masked.text)
    assert leaked(masked.text) == [] and state["outputs"]["user"]["value"] == "admin-user"
    assert state["resources"][0]["instances"][0]["attributes"]["input"]["value"]["password"] == "(sensitive)"


def test_mcp_client_gets_masked_outputs(applied: tuple[Path, dict[str, str]]) -> None:
    from infraleash.surfaces.mcp import GuardedTools

    ws, env = applied
    result = GuardedTools(ws, load_policy(ws / "infraleash.yaml"), env=env).call("terraform", {"args": ["output", "-json"]})
    text = result.content[0].text  # type: ignore[union-attr]
    assert not result.is_error and leaked(text) == [] and '"sensitive": true' in text


def test_json_cut_short_is_withheld_not_passed_on() -> None:
    full = json.dumps({"pw": {"sensitive": True, "value": "abcdefgh"}})
    cut = mask_terraform_output(["terraform", "output", "-json"], full[:25])
    assert cut.withheld and "abcdefgh" not in cut.text
    error = mask_terraform_output(["terraform", "show", "-json", "nope"], "Error: no such file")
    assert error.text == "Error: no such file" and not error.withheld


def test_other_commands_pass_through_untouched() -> None:
    text = '{"pw": {"sensitive": true, "value": "abcdefgh"}}'
    assert mask_terraform_output(["kubectl", "get", "pods", "-o", "json"], text).text == text
    assert mask_terraform_output(["terraform", "output"], "pw = <sensitive>").text == "pw = <sensitive>"
