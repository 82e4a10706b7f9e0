"""review's own plan: init, plan -out and show -json through the gate, in the sandbox, the plan file in a scratch dir."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from infraleash.gate.runner_config import RunnerConfig
from infraleash.policy import load_policy
from infraleash.review import review

CONFIG = 'resource "terraform_data" "x" {\n  input = "a"\n}\n'


@pytest.fixture
def work(tmp_path: Path) -> Path:
    if shutil.which("terraform", path=RunnerConfig().path) is None:
        pytest.skip("no terraform binary on the runner's default PATH: review's own plan needs real terraform")
    w = tmp_path / "work"
    w.mkdir()
    (w / "main.tf").write_text(CONFIG)
    (w / "infraleash.yaml").write_text("version: 1\ntrust_level: plan\n")
    return w


def test_review_plans_through_the_gate_in_the_sandbox(work: Path) -> None:
    runner = RunnerConfig.for_tests(env={"CHECKPOINT_DISABLE": "1"})
    report = review(work, load_policy(work / "infraleash.yaml"), env={}, runner=runner)
    assert report.plan_source == f"terraform plan of {work}"
    assert report.summary is not None and [i.address for i in report.summary.create] == ["terraform_data.x"]
    # the plan file went to a private scratch directory, never into the working tree
    assert sorted(p.name for p in work.iterdir()) == [".infraleash", ".terraform", "infraleash.yaml", "main.tf"]
    audit = [json.loads(line) for line in (work / ".infraleash" / "audit.jsonl").read_text().splitlines()]
    ran = [(r["data"]["argv"][1], r["data"]["sandbox"]) for r in audit if r["event"] == "execution"]
    assert [a for a, _ in ran] == ["init", "plan", "show"] and all(s.startswith("bwrap") for _, s in ran)
    decisions = [r["data"] for r in audit if r["event"] == "decision"]
    plan = next(d for d in decisions if d["argv"][1] == "plan")
    assert plan["context"]["scratch_dirs"] and plan["context"]["workspace_dir"] == str(work.resolve())


def test_without_bubblewrap_review_says_why_and_plans_nothing(work: Path, tmp_path: Path) -> None:
    from infraleash.errors import ExecutionError

    runner = RunnerConfig.for_tests(sandbox={"bwrap": str(tmp_path / "missing-bwrap")})
    with pytest.raises(ExecutionError, match="SANDBOX-UNAVAILABLE") as e:
        review(work, load_policy(work / "infraleash.yaml"), env={}, runner=runner)
    assert "apt-get install bubblewrap" in str(e.value)
    assert not (work / ".terraform").exists()


UNREACHABLE = ('terraform {\n  required_providers {\n    thing = { source = "registry.invalid/acme/thing" }\n  }\n}\n'
               + CONFIG)


def test_a_failed_init_says_terraforms_reason_and_how_to_review_anyway(work: Path) -> None:
    from infraleash.errors import ExecutionError

    (work / "main.tf").write_text(UNREACHABLE)
    runner = RunnerConfig.for_tests(env={"CHECKPOINT_DISABLE": "1"})
    for _ in range(2):  # the second run inits again: the first left .terraform behind but no lock file
        with pytest.raises(ExecutionError) as e:
            review(work, load_policy(work / "infraleash.yaml"), env={}, runner=runner)
        message = str(e.value)
        assert "`terraform init` failed" in message and "registry.invalid" in message
        assert "--plan plan.json" in message and "--no-plan" in message and "\n" not in message
