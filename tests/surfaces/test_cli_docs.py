"""`infraleash docs` through the CLI entry: stdout, --output-file markers, --check, -r, bad input."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from _cli import run_cli as run

MODULES = Path(__file__).resolve().parents[1] / "paperwork" / "modules"
EXPECTED = Path(__file__).resolve().parents[1] / "paperwork" / "expected"
BEGIN, END = "<!-- BEGIN_TF_DOCS -->", "<!-- END_TF_DOCS -->"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "nested"
    shutil.copytree(MODULES / "nested", root)
    return root


def test_prints_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "docs", str(MODULES / "objects_validation"))
    assert code == 0
    assert out == (EXPECTED / "objects_validation.md").read_text(encoding="utf-8")


def test_check_fails_on_stale_then_passes_after_regeneration(capsys: pytest.CaptureFixture[str], tree: Path) -> None:
    readme = tree / "README.md"
    readme.write_text(f"# Network root\n\nHand-written intro.\n\n{BEGIN}\nstale\n{END}\n\nFooter by hand.\n",
                      encoding="utf-8")
    code, out, err = run(capsys, "docs", str(tree), "--output-file", "README.md", "--check")
    assert code == 1
    assert "-stale" in out and "+## Requirements" in out and "1 of 1 file(s) stale" in err
    assert "stale" in readme.read_text(encoding="utf-8")  # --check writes nothing

    code, _, _ = run(capsys, "docs", str(tree), "--output-file", "README.md")
    assert code == 0
    text = readme.read_text(encoding="utf-8")
    assert text.startswith("# Network root\n\nHand-written intro.\n\n" + BEGIN + "\n## Requirements")
    assert text.endswith(f"{END}\n\nFooter by hand.\n")
    assert (EXPECTED / "nested.md").read_text(encoding="utf-8") in text

    code, out, err = run(capsys, "docs", str(tree), "--output-file", "README.md", "--check")
    assert (code, out) == (0, "") and "1 file(s) current" in err


def test_recursive_documents_every_module(capsys: pytest.CaptureFixture[str], tree: Path) -> None:
    code, _, _ = run(capsys, "docs", str(tree), "-r", "--output-file", "README.md")
    assert code == 0
    child = (tree / "modules" / "network" / "README.md").read_text(encoding="utf-8")
    assert child == f"{BEGIN}\n" + (EXPECTED / "nested_modules_network.md").read_text(encoding="utf-8") + f"{END}\n"
    code, _, err = run(capsys, "docs", str(tree), "-r", "--output-file", "README.md", "--check")
    assert code == 0 and "2 file(s) current" in err


def test_not_a_module(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = run(capsys, "docs", str(tmp_path))
    assert (code, out) == (2, "")
    assert err == f"error: {tmp_path}: not a Terraform module (no .tf files)\n"


def test_malformed_hcl_names_file_and_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text('variable "a" {\n  type = string\n}\n\nresource "x" "y" {\n  = 1\n}\n',
                                      encoding="utf-8")
    code, _, err = run(capsys, "docs", str(tmp_path))
    assert code == 2
    assert err.startswith(f"error: {tmp_path / 'main.tf'}:6: malformed HCL") and err.count("\n") == 1


def test_check_needs_an_output_file(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "docs", str(MODULES / "nested"), "--check")
    assert code == 2 and "--check needs --output-file" in err

