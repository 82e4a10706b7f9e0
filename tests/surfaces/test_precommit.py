"""The pre-commit hooks with the real ``pre-commit`` tool in a temporary git repository: a commit of an
insecure .tf is refused, a good one goes in, a stale module README is refused.

The hooks are the repository's ``.pre-commit-hooks.yaml`` entries (same id, entry, files), run as a
``repo: local`` config with ``language: system`` and this venv first on PATH, so pre-commit builds no
environment and downloads nothing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from infraleash.surfaces.precommit import directories

REPO = Path(__file__).parents[2]
PRE_COMMIT = shutil.which("pre-commit", path=str(Path(sys.executable).parent))
BAD = ('resource "aws_security_group" "web" {\n  name = "web"\n  ingress {\n    from_port   = 22\n'
       '    to_port     = 22\n    protocol    = "tcp"\n    cidr_blocks = ["0.0.0.0/0"]\n  }\n}\n')
GOOD = 'variable "name" {\n  type        = string\n  description = "the name"\n}\n\noutput "name" {\n' \
       '  value       = var.name\n  description = "the name"\n}\n'


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com", "PRE_COMMIT_HOME": str(repo.parent / "pre-commit-home")}
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, env=env, timeout=120)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    if PRE_COMMIT is None:
        pytest.fail("pre-commit is not installed in this venv (it is in the dev extra: run scripts/setup.sh)")
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    local = [{**{k: h[k] for k in ("id", "name", "entry", "files", "require_serial")}, "language": "system"}
             for h in hooks]
    r = tmp_path / "r"
    r.mkdir()
    _git(r, "init", "-q")
    (r / ".pre-commit-config.yaml").write_text(yaml.safe_dump({"repos": [{"repo": "local", "hooks": local}]}))
    assert _git(r, "add", ".pre-commit-config.yaml").returncode == 0
    assert _git(r, "commit", "-qm", "config", "--no-verify").returncode == 0
    installed = subprocess.run([PRE_COMMIT, "install"], cwd=r, capture_output=True, text=True, timeout=60)
    assert installed.returncode == 0, installed.stderr
    return r


def test_insecure_commit_refused_good_commit_accepted(repo: Path) -> None:
    (repo / "infra").mkdir()
    (repo / "infra" / "main.tf").write_text(BAD)
    _git(repo, "add", "infra/main.tf")
    refused = _git(repo, "commit", "-m", "open ssh to the world")
    assert refused.returncode != 0
    assert "infraleash check" in (refused.stdout + refused.stderr) and "Failed" in (refused.stdout + refused.stderr)
    assert "AWS-SG-OPEN-SSH" in refused.stdout + refused.stderr
    assert _git(repo, "log", "--oneline").stdout.count("\n") == 1  # only the config commit

    (repo / "infra" / "main.tf").write_text(GOOD)
    _git(repo, "add", "infra/main.tf")
    accepted = _git(repo, "commit", "-m", "a variable and an output")
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    assert "infraleash check" in (accepted.stdout + accepted.stderr) and "Passed" in accepted.stdout + accepted.stderr


def test_stale_module_readme_refused(repo: Path) -> None:
    mod = repo / "modules" / "name"
    mod.mkdir(parents=True)
    (mod / "main.tf").write_text(GOOD)
    (mod / "README.md").write_text("# name\n\n<!-- BEGIN_TF_DOCS -->\nold\n<!-- END_TF_DOCS -->\n")
    _git(repo, "add", ".")
    refused = _git(repo, "commit", "-m", "stale docs")
    assert refused.returncode != 0
    assert "infraleash docs --check" in (refused.stdout + refused.stderr)

    fixed = subprocess.run([sys.executable, "-m", "infraleash", "docs", str(mod), "--output-file", "README.md"],
                           capture_output=True, text=True, timeout=60)
    assert fixed.returncode == 0, fixed.stderr
    _git(repo, "add", ".")
    accepted = _git(repo, "commit", "-m", "docs current")
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr


def test_directories_are_those_of_terraform_files(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    files = [str(tmp_path / "a" / "main.tf"), str(tmp_path / "a" / "x.tf.json"), str(tmp_path / "b" / "v.tofu"),
             str(tmp_path / "a" / "notes.txt"), str(tmp_path / "gone" / "main.tf")]
    assert directories(files) == [tmp_path / "a", tmp_path / "b"]
