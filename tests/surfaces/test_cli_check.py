"""`infraleash check` and `infraleash rules` through the real entry point: output formats and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from _cli import run_cli


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "main.tf").write_text('terraform {\n  required_providers {\n    aws = {\n      source  = "hashicorp/aws"\n'
                                      '      version = "~> 5.0"\n    }\n  }\n}\n'
                                      'resource "aws_vpc" "v" {\n  cidr_block = "10.0.0.0/16"\n  enable_dns = true\n}\n')
    (tmp_path / "infraleash.yaml").write_text("version: 1\nchecks:\n  failing_severity: high\n")
    return tmp_path


def test_json_output_and_exit_1(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "check", str(project), "--format", "json")
    doc = json.loads(out)
    hit = [f for f in doc["findings"] if f["rule"] == "TF-UNKNOWN-ARGUMENT"]
    assert code == 1 and hit[0]["line"] == 11 and hit[0]["file"] == "main.tf" and hit[0]["kind"] == "hallucination"


def test_fail_on_critical_exits_0_and_output_file(project: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str],
                                                  assert_valid_sarif: Callable[[dict[str, Any]], None]) -> None:
    out_file = tmp_path / "r.sarif"
    code, _, err = run_cli(capsys, "check", str(project), "--fail-on", "critical", "--format", "sarif", "-o", str(out_file))
    assert code == 0 and "wrote sarif" in err
    doc = json.loads(out_file.read_text())
    assert_valid_sarif(doc)
    assert {r["ruleId"] for r in doc["runs"][0]["results"]} >= {"TF-UNKNOWN-ARGUMENT"}


def test_usage_and_input_errors_exit_2(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(capsys, "check", str(project), "--format", "xml")[0] == 2
    code, _, err = run_cli(capsys, "check", str(project / "missing"))
    assert code == 2 and "missing: no such file or directory" in err and "Traceback" not in err
    bad_policy = project / "bad.yaml"
    bad_policy.write_text("checks:\n  failing_severity: extreme\n")
    code, _, err = run_cli(capsys, "check", str(project), "--policy", str(bad_policy))
    assert code == 2 and "bad.yaml:2" in err


def test_rules_list_and_show(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "rules", "--json")
    ids = [r["id"] for r in json.loads(out)]
    assert code == 0 and "TF-UNKNOWN-ARGUMENT" in ids
    code, out, _ = run_cli(capsys, "rules", "show", "tf-unknown-argument")
    assert code == 0 and "Why it matters" in out and 'resource "aws_s3_bucket" "fail"' in out
    code, _, err = run_cli(capsys, "rules", "show", "TF-UNKNOWN-ARGUMNT")
    assert code == 2 and "did you mean TF-UNKNOWN-ARGUMENT" in err


def test_console_script_prints_one_line_on_bad_input(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "infraleash", "check", str(tmp_path / "nope")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1


_VPC = 'resource "aws_vpc" "v" {\n  cidr_block = "10.0.0.0/16"\n  enable_dns = true\n}\n'


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _unknown_argument_files(doc: dict[str, Any]) -> list[str]:
    return sorted(f["file"] for f in doc["findings"] if f["rule"] == "TF-UNKNOWN-ARGUMENT")


def test_several_roots_reported_together(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    _write(tmp_path / "net" / "main.tf", _VPC)
    _write(tmp_path / "app" / "vpc.tf", _VPC)
    _write(tmp_path / "clean" / "main.tf", 'variable "x" {\n  type = string\n}\n')
    monkeypatch.chdir(tmp_path)
    code, out, _ = run_cli(capsys, "check", "net", "app", "clean", "--format", "json")
    doc = json.loads(out)
    assert code == 1 and _unknown_argument_files(doc) == ["app/vpc.tf", "net/main.tf"]
    assert doc["summary"]["files_checked"] == 3 and doc["summary"]["resources_checked"] == 2
    code, out, _ = run_cli(capsys, "check", "net", "clean")  # human output: grouped under each root's file
    assert code == 1 and "net/main.tf" in out and "app/vpc.tf" not in out


def test_recursive_tree_with_two_roots_and_a_bad_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write(tmp_path / "prod" / "main.tf", _VPC)
    _write(tmp_path / "stages" / "dev" / "main.tf", _VPC)
    _write(tmp_path / "stages" / "dev" / "broken.tf", 'resource "aws_vpc" "w" {\n  cidr_block =\n')
    _write(tmp_path / "prod" / ".terraform" / "modules" / "m" / "main.tf", 'resource "aws_vpc" "x" {\n  nope = 1\n}\n')
    _write(tmp_path / "README.md", "not terraform\n")
    code, out, _ = run_cli(capsys, "check", "-r", str(tmp_path), "--format", "json")
    doc = json.loads(out)
    assert code == 1 and _unknown_argument_files(doc) == ["prod/main.tf", "stages/dev/main.tf"]
    parse = [f for f in doc["findings"] if f["rule"] == "TF-PARSE-ERROR"]
    assert [(f["file"], f["line"]) for f in parse] == [("stages/dev/broken.tf", 2)]
    assert doc["summary"]["parse_problems"] == 1 and doc["summary"]["files_checked"] == 3  # .terraform skipped
    out_file = tmp_path / "r.junit.xml"
    code, _, err = run_cli(capsys, "check", "-r", str(tmp_path), "--format", "junit", "-o", str(out_file))
    assert code == 1 and "wrote junit" in err and 'name="stages/dev/broken.tf"' in out_file.read_text()


def test_workers_1_and_2_give_identical_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from infraleash.checks.engine import MIN_ROOTS_PER_WORKER, _worker_count

    roots = 2 * MIN_ROOTS_PER_WORKER  # enough roots that two workers are really used
    assert _worker_count(2, roots) == 2, "two workers should be used (fork available, no other threads)"
    for i in range(roots):
        _write(tmp_path / f"r{i:02d}" / "main.tf", _VPC.replace('"v"', f'"v{i}"'))
    docs = []
    for workers in ("1", "2"):
        code, out, _ = run_cli(capsys, "check", "-r", str(tmp_path), "--workers", workers, "--format", "json")
        doc = json.loads(out)
        doc["summary"].pop("duration_s")
        docs.append((code, doc))
    assert docs[0] == docs[1] and docs[0][0] == 1
    assert len(_unknown_argument_files(docs[0][1])) == roots


def test_recursive_over_a_tree_without_terraform_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write(tmp_path / "docs" / "README.md", "no terraform here\n")
    code, out, _ = run_cli(capsys, "check", "-r", str(tmp_path))
    assert code == 0 and "no directory under" in out and "holds .tf files" in out
    assert run_cli(capsys, "check", "-r", str(tmp_path), "--workers", "0")[0] == 2


MIXED = Path(__file__).parents[1] / "checks" / "fixtures" / "mixed_providers"


def test_check_and_review_agree_on_an_empty_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    answers = [run_cli(capsys, cmd, str(tmp_path)) for cmd in ("check", "review")]
    assert answers[0] == answers[1]
    code, out, err = answers[0]
    assert code == 2 and out == "" and err == f"error: {tmp_path}: no .tf files here: not a Terraform configuration " \
                                              "directory (pass the directory that holds the configuration)\n"


def test_configurations_only_in_subdirectories_are_named_and_r_is_suggested(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for sub in ("envs/prod", "envs/staging", "modules/net"):
        (tmp_path / sub).mkdir(parents=True)
        (tmp_path / sub / "main.tf").write_text('resource "aws_s3_bucket" "b" {\n  bucket = "b"\n}\n')
    (tmp_path / ".terraform" / "modules" / "x").mkdir(parents=True)
    (tmp_path / ".terraform" / "modules" / "x" / "main.tf").write_text("")
    for cmd in (["check"], ["check", "--strict"], ["review", "--no-plan"]):
        code, out, err = run_cli(capsys, *cmd, str(tmp_path))
        assert (code, out) == (2, "") and err.count("\n") == 1
        assert "3 directories below hold Terraform configurations (envs/prod, envs/staging, modules/net)" in err
        assert f"infraleash check -r {tmp_path}" in err and ".terraform" not in err
    code, out, _ = run_cli(capsys, "check", "-r", str(tmp_path), "--format", "json")
    assert code == 1 and "envs/prod" in out  # -r really checks them (the open buckets fail)


@pytest.mark.parametrize("cmd", [["check"], ["review", "--no-plan"]])
def test_strict_fails_when_part_of_the_configuration_was_not_checked(cmd: list[str],
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, *cmd, str(MIXED), "--fail-on", "critical") if cmd == ["check"] else \
        run_cli(capsys, *cmd, str(MIXED))
    assert "3 google resources: no hallucination checks, no security rules" in " ".join(out.split())
    strict_code, _, err = run_cli(capsys, *cmd, str(MIXED), "--strict")
    assert strict_code == 1 and "--strict: 5 part(s) of the configuration could not be checked" in err
    if cmd == ["check"]:
        assert code == 0  # without --strict nothing at or above critical: the gaps alone do not fail
