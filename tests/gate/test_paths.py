"""PathJudge: inside the workspace or a scratch directory, symlinks followed, and not a file we own."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from infraleash.gate.paths import PathJudge, owned_by, policy_files
from infraleash.policy import parse_policy


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    (tmp_path / "ws" / "envs" / "dev").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    return tmp_path / "ws"


def test_inside_outside_and_dot_dot(ws: Path) -> None:
    judge = PathJudge.for_action(str(ws / "envs/dev"), workspace_dir=str(ws))
    base = str(ws / "envs/dev")
    assert judge.output("plan.tfplan", base) is None
    assert judge.output("../../plans/p.tfplan", base) is None  # still inside the workspace
    problem = judge.output("../../../elsewhere/x", base)
    assert problem is not None and problem.kind == "outside"
    assert judge.input("/etc/passwd", base) is not None
    assert judge.input("~/.aws/credentials", base) is not None


def test_symlinks_are_judged_by_where_they_land(ws: Path) -> None:
    (ws / "out").symlink_to(ws.parent / "elsewhere")
    (ws / "state-link").symlink_to(ws / "terraform.tfstate")
    judge = PathJudge.for_action(str(ws))
    problem = judge.output("out/p.tfplan", str(ws))
    assert problem is not None and problem.kind == "outside" and problem.path.endswith("elsewhere/p.tfplan")
    problem = judge.output("state-link", str(ws))
    assert problem is not None and problem.kind == "owned"


def test_a_workspace_reached_through_a_symlink_is_still_the_workspace(ws: Path) -> None:
    link = ws.parent / "ws-link"
    link.symlink_to(ws)
    judge = PathJudge.for_action(str(link))
    assert judge.output("p.tfplan", str(link)) is None
    assert judge.output("p.tfplan", str(ws)) is None


def test_scratch_directories(ws: Path, tmp_path: Path) -> None:
    scratch = tmp_path / "review-1"
    judge = PathJudge.for_action(str(ws), scratch_dirs=[str(scratch)])
    assert judge.output(str(scratch / "review.tfplan"), str(ws)) is None
    assert judge.output(str(scratch / ".." / "x"), str(ws)) is not None
    assert PathJudge.for_action(str(ws)).output(str(scratch / "review.tfplan"), str(ws)) is not None


@pytest.mark.parametrize("name", [
    "terraform.tfstate", "prod.tfstate", "terraform.tfstate.backup", ".terraform.lock.hcl",
    ".terraform/providers/x", "terraform.tfstate.d/dev/terraform.tfstate", "infraleash.yaml", "sub/infraleash.yml",
    ".infraleash/audit.jsonl", ".infraleash/approvals.db",
])
def test_owned_files(ws: Path, name: str) -> None:
    assert owned_by(name)
    problem = PathJudge.for_action(str(ws)).output(name, str(ws))
    assert problem is not None and problem.kind == "owned", name


def test_configuration_is_owned_only_when_asked(ws: Path) -> None:
    judge = PathJudge.for_action(str(ws))
    assert judge.output("main.tf", str(ws)) is None  # fmt may rewrite it
    problem = judge.output("main.tf", str(ws), config_too=True)  # a plan file may not overwrite it
    assert problem is not None and problem.kind == "owned"


def test_the_policys_own_files_wherever_it_keeps_them(ws: Path) -> None:
    policy = parse_policy("audit: {path: logs/gate.log}\napprovals: {store: db/appr.sqlite}\n",
                          str(ws / "infraleash.yaml"))
    names = policy_files(policy)
    assert str(ws / "logs/gate.log") in names and str(ws / "logs/gate.log.head") in names
    judge = PathJudge.for_action(str(ws), policy=policy)
    for name in ("logs/gate.log", "logs/gate.log.head", "db/appr.sqlite"):
        problem = judge.output(name, str(ws))
        assert problem is not None and problem.kind == "owned", name
    assert judge.output(os.path.join("logs", "other.txt"), str(ws)) is None
