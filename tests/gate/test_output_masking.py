"""What the executor masks is decided from the gate's parse of the argv, not from argv[1]."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from infraleash.gate.output_masking import mask_result, must_mask

OUTPUTS = json.dumps({"pw": {"sensitive": True, "type": "string", "value": "hunter2-secret"},
                      "user": {"sensitive": False, "type": "string", "value": "admin-user"}}) + "\n"


@dataclass
class Result:
    stdout: str
    stderr: str = ""
    truncated: bool = False


@pytest.mark.parametrize("argv", [
    ["terraform", "output", "-json"], ["terraform", "", "output", "-json"], ["terraform", "-chdir=x", "output", "--json"],
    ["terraform", "output", "-json=true"], ["tofu", "output", "-json"], ["/usr/local/bin/terraform", "output", "-json"],
])
def test_output_json_spellings_are_masked(argv: list[str]) -> None:
    r = Result(OUTPUTS)
    mask_result(argv, {}, r)
    assert "hunter2-secret" not in r.stdout and "admin-user" in r.stdout
    assert "replaced by (sensitive)" in r.stderr and r.stdout.endswith("\n")


def test_tf_cli_args_are_folded_before_deciding() -> None:
    assert not must_mask(["terraform", "plan"], {})
    assert must_mask(["terraform", "output"], {})  # human form is safe, but still buffered: TF_CLI_ARGS may apply
    r = Result(OUTPUTS)
    mask_result(["terraform", "output"], {"TF_CLI_ARGS_output": "-json"}, r)
    assert "hunter2-secret" not in r.stdout
    r = Result(json.dumps({"format_version": "1.0", "values": {"outputs": json.loads(OUTPUTS)}}))
    mask_result(["terraform", "show"], {"TF_CLI_ARGS": "-json"}, r)
    assert "hunter2-secret" not in r.stdout


@pytest.mark.parametrize("argv", [["terraform", "output", "-raw", "pw"], ["terraform", "output", "pw"],
                                  ["terraform", "", "output", "", "pw"], ["terraform", "output", "-json", "pw"]])
def test_named_outputs_are_withheld(argv: list[str]) -> None:
    r = Result("hunter2-secret")
    mask_result(argv, {}, r)
    assert r.stdout.startswith("(withheld") and "hunter2-secret" not in r.stdout


def test_unparseable_terraform_reading_outputs_is_withheld() -> None:
    r = Result(OUTPUTS)
    mask_result(["terraform", "output", "-bogus-flag", "-json"], {}, r)
    assert "hunter2-secret" not in r.stdout and "withheld" in r.stdout


def test_truncated_output_is_withheld() -> None:
    r = Result(OUTPUTS[30:], truncated=True)
    mask_result(["terraform", "output", "-json"], {}, r)
    assert "hunter2-secret" not in r.stdout and "withheld" in r.stdout


def test_other_commands_are_neither_buffered_nor_changed() -> None:
    assert not must_mask(["kubectl", "get", "pods", "-o", "json"], {})
    assert not must_mask(["terraform", "validate"], {})
    assert not must_mask(["terraform", "version"], {})


STATE = json.dumps({"version": 4, "outputs": {}, "resources": [{"type": "terraform_data", "name": "x", "instances": [
    {"attributes": {"input": {"value": "tfsens-canary-1", "type": "string"}, "output": {"value": "tfsens-canary-1"}},
     "sensitive_attributes": [[{"type": "get_attr", "value": "input"}]]}]}]})
HUMAN = 'resource "terraform_data" "x" {\n    input  = (sensitive value)\n    output = "tfsens-canary-1"\n}\n'


@pytest.mark.parametrize("argv", [["terraform", "show"], ["terraform", "state", "show", "terraform_data.x"],
                                  ["terraform", "-chdir=sub", "show"]])
def test_human_show_is_masked_with_what_the_local_state_marks(tmp_path, argv: list[str]) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "sub").mkdir()
    (tmp_path / "terraform.tfstate").write_text(STATE)
    (tmp_path / "sub" / "terraform.tfstate").write_text(STATE)
    r = Result(HUMAN)
    mask_result(argv, {}, r, cwd=str(tmp_path))
    assert "tfsens-canary-1" not in r.stdout and 'output = "(sensitive)"' in r.stdout


def test_human_show_of_a_plan_reads_its_prior_state_and_a_fifo_is_never_opened(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import os
    import zipfile

    with zipfile.ZipFile(tmp_path / "p.tfplan", "w") as z:
        z.writestr("tfstate", STATE)
    r = Result(HUMAN)
    mask_result(["terraform", "show", "p.tfplan"], {}, r, cwd=str(tmp_path))
    assert "tfsens-canary-1" not in r.stdout
    os.mkfifo(tmp_path / "terraform.tfstate")
    r = Result("nothing secret\n")
    mask_result(["terraform", "show"], {}, r, cwd=str(tmp_path))  # would block forever if it opened the FIFO
    assert r.stdout == "nothing secret\n"
