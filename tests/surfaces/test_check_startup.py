"""A plain `infraleash check` starts without typer, pydantic, PyYAML or rich (check_fast.py), and that fast
path is the typer command: same options, same output, typer's messages for anything it does not take."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from _cli import run_cli

from infraleash.surfaces.cli import app, check_fast

HEAVY = ("typer", "pydantic", "pydantic_core", "yaml", "rich", "multiprocessing", "concurrent", "regopy",
         "hashlib", "shutil", "lzma", "bz2")  # hashlib loads OpenSSL's libcrypto; shutil, the compression libraries

MAIN_TF = """resource "aws_s3_bucket" "logs" {
  bucket = "acme-logs"
}

resource "aws_security_group" "web" {
  name = "web"
  ingress {
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
"""
VARIABLES_TF = 'variable "region" {\n  default = "us-east-1"\n}\n\nprovider "aws" {\n  region = var.region\n}\n'


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("startup")
    (root / "main.tf").write_text(MAIN_TF)
    (root / "variables.tf").write_text(VARIABLES_TF)
    return root


def _modules_after(argv: list[str], cwd: Path) -> tuple[int, set[str]]:
    """The exit code and the top-level packages a fresh interpreter has imported once ``infraleash argv`` ran."""
    out = cwd / "modules.json"
    code = ("import json, sys\nfrom infraleash.surfaces.cli import main\ntry:\n    main(sys.argv[2:])\n"
            "except SystemExit as e:\n    rc = e.code\n"
            "open(sys.argv[1], 'w').write(json.dumps([rc, sorted({m.split('.')[0] for m in sys.modules})]))\n")
    subprocess.run([sys.executable, "-c", code, str(out), *argv], capture_output=True, cwd=cwd, timeout=120, check=False)
    rc, modules = json.loads(out.read_text())
    return int(rc), set(modules)


def test_one_file_check_imports_no_heavy_package(config: Path, tmp_path: Path) -> None:
    rc, modules = _modules_after(["check", str(config / "main.tf"), "--format", "json", "-o", str(tmp_path / "r.json")],
                                 tmp_path)
    assert rc == 1, "the open security group fails the check"
    assert json.loads((tmp_path / "r.json").read_text())["findings"]
    assert modules.isdisjoint(HEAVY), sorted(modules & set(HEAVY))


def test_a_policy_file_loads_the_policy_model(config: Path, tmp_path: Path) -> None:
    (tmp_path / "infraleash.yaml").write_text("checks:\n  failing_severity: critical\n")
    rc, modules = _modules_after(["check", str(config), "--policy", str(tmp_path / "infraleash.yaml"), "-f", "json"],
                                 tmp_path)
    assert rc == 0 and {"pydantic", "yaml"} <= modules  # critical: the high findings do not fail


def test_fast_parser_has_the_typer_commands_options() -> None:
    command = app.get_command(app.build_app("check")).commands["check"]  # type: ignore[attr-defined]
    typer_opts = {o for p in command.params for o in p.opts if o.startswith("-")} - {"--help"}
    fast_opts = {o for a in check_fast.parser()._actions for o in a.option_strings}
    assert fast_opts == typer_opts


@pytest.mark.parametrize("extra", [["--format", "json"], ["-f", "sarif", "--fail-on", "critical"],
                                   ["--strict", "-f", "markdown"], ["-f", "junit", "--workers", "1"]])
def test_fast_path_output_is_the_typer_commands(config: Path, extra: list[str],
                                                capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["check", str(config), *extra]
    assert check_fast.parse(argv) is not None
    with pytest.raises(SystemExit) as fast:
        check_fast.run_fast(argv)
    fast_out = capsys.readouterr().out
    with pytest.raises(SystemExit) as slow:
        app.run(argv)
    slow_out = capsys.readouterr().out
    assert fast.value.code == slow.value.code
    assert _without_durations(fast_out) == _without_durations(slow_out)


def _without_durations(text: str) -> str:
    import re

    return re.sub(r'("duration_s": |time=")[0-9.]+', r"\1_", text)


@pytest.mark.parametrize("argv", [["check", "--help"], ["check", ".", "--workers", "0"], ["check", "--bogus"],
                                  ["check", "-f"], ["--debug", "check", "."], ["check", "--", "."],
                                  ["check", "--recur", "."]])
def test_what_the_fast_path_does_not_take_is_typers(argv: list[str]) -> None:
    assert check_fast.parse(argv) is None


def test_typer_messages_for_bad_options(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "check", str(config), "--workers", "0")
    assert code == 2 and "--workers" in err and err.count("\n") == 1
    code, out, _ = run_cli(capsys, "check", "--help")
    assert code == 0 and "--sarif-root" in out and "--rules-dir" in out


def test_user_errors_are_one_line_on_both_paths(config: Path, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """The fast path and typer print a user error the same way: one line, even for a file name with a newline."""
    policy = tmp_path / "bad\npolicy.yaml"
    policy.write_text("version: 1\ntrust_level: yolo\n", encoding="utf-8")
    fast = run_cli(capsys, "check", str(config), "--policy", str(policy))
    assert check_fast.parse(["check", str(config), "--policy", str(policy)]) is not None  # the fast path's
    # a trailing `--` is left to typer by the fast path
    typer_path = run_cli(capsys, "check", str(config), "--policy", str(policy), "--")
    for code, _, err in (fast, typer_path):
        assert code == 2 and err.count("\n") == 1 and err.startswith("error: ") and "bad\\npolicy.yaml" in err
    assert fast[2] == typer_path[2]


def test_the_console_script_leaves_at_once_with_its_report_and_exit_code_intact(config: Path, tmp_path: Path) -> None:
    """The real entry point exits with ``os._exit`` once the report is out (check_fast._leave): what it printed to
    a pipe, the report file and the exit code must all survive that, with several roots and with one."""
    for i in range(9):  # enough roots for forked workers
        d = tmp_path / "tree" / f"r{i}"
        d.mkdir(parents=True)
        (d / "main.tf").write_text(MAIN_TF.replace('"web"', f'"web{i}"'))
    for argv in (["-r", str(tmp_path / "tree")], ["-r", str(tmp_path / "tree"), "--workers", "1"], [str(config)]):
        piped = subprocess.run([sys.executable, "-m", "infraleash", "check", *argv, "--format", "json"],
                               capture_output=True, text=True, timeout=120, check=False)
        assert piped.returncode == 1, piped.stderr
        doc = json.loads(piped.stdout)  # every byte reached the pipe
        assert doc["findings"] and doc["summary"]
        report = tmp_path / "r.json"
        written = subprocess.run([sys.executable, "-m", "infraleash", "check", *argv, "-f", "json", "-o", str(report)],
                                 capture_output=True, text=True, timeout=120, check=False)
        assert written.returncode == 1 and "wrote json report" in written.stderr
        assert json.loads(report.read_text())["findings"] == doc["findings"]
