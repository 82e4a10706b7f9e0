"""Rego rules on a real engine (regopy / rego-cpp): findings, locations, errors with file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from infraleash.checks.engine import run_checks
from infraleash.checks.rego import load_rego_rule
from infraleash.errors import InputError
from infraleash.findings import Outcome
from infraleash.policy import Policy

HEADER = '''package acme.t
import rego.v1

metadata := {"id": "ACME-T", "title": "t", "severity": "medium", "why": "w",
  "fail_example": `resource "aws_vpc" "fail" {}`, "pass_example": `resource "aws_subnet" "pass" {}`}
'''
CONFIG = 'resource "aws_vpc" "main" {\n  cidr_block = var.cidr\n}\nvariable "cidr" {}\n'


def _rule(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "t.rego"
    path.write_text(HEADER + body)
    return path


def _findings(tmp_path: Path, body: str) -> list:
    rule = load_rego_rule(_rule(tmp_path, body))
    root = tmp_path / "cfg"
    root.mkdir(exist_ok=True)
    (root / "main.tf").write_text(CONFIG)
    return [f for f in run_checks(root, Policy(), rules=[rule], use_terraform=False).findings if f.rule == "ACME-T"]


def test_conftest_style_strings_are_located_by_the_address_they_name(tmp_path: Path) -> None:
    (f,) = _findings(tmp_path, 'deny contains sprintf("%s is a VPC", [r.address]) if {\n'
                               '  some r in input.resources\n  r.type == "aws_vpc"\n}\n')
    assert (f.message, f.file, f.line, f.address) == ("aws_vpc.main is a VPC", "main.tf", 1, "aws_vpc.main")


def test_objects_give_attribute_lines_and_unknown_outcomes(tmp_path: Path) -> None:
    (f,) = _findings(tmp_path, 'deny contains {"msg": "cidr unknown", "address": "aws_vpc.main", '
                               '"attribute": "cidr_block", "outcome": "unknown"} if {\n'
                               '  input.resource.aws_vpc.main.cidr_block.unknown\n}\n')
    assert f.outcome is Outcome.UNKNOWN and f.line == 2 and f.details["engine"] == "rego"


def test_a_syntax_error_names_file_and_line_and_leaves_stdout_clean(tmp_path: Path,
                                                                   capfd: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(InputError) as e:
        load_rego_rule(_rule(tmp_path, 'deny contains msg if {\n  msg := "x"\n'))
    out, _ = capfd.readouterr()
    assert out == ""
    assert e.value.file == str(tmp_path / "t.rego") and e.value.line is not None and e.value.line >= 6
    assert "Rego:" in str(e.value)


def test_metadata_is_required(tmp_path: Path) -> None:
    path = tmp_path / "m.rego"
    path.write_text('package m\nimport rego.v1\nmetadata := {"id": "X", "title": "t"}\n')
    with pytest.raises(InputError, match="missing severity, why, fail_example, pass_example") as e:
        load_rego_rule(path)
    assert e.value.line == 3


def test_declared_resource_types_count_as_covered(tmp_path: Path) -> None:
    path = tmp_path / "g.rego"
    path.write_text(HEADER.replace('"severity": "medium",', '"severity": "medium", "resource_types": '
                                   '["google_storage_bucket"],') + 'deny contains "x" if { false }\n')
    rule = load_rego_rule(path)
    assert rule.resource_types == ("google_storage_bucket",)
    root = tmp_path / "cfg"
    root.mkdir()
    (root / "main.tf").write_text('resource "google_storage_bucket" "b" {\n  name = "b"\n}\n')
    from infraleash.checks.custom_rules import all_rules

    gaps = run_checks(root, Policy(), rules=[*all_rules(), rule], use_terraform=False).not_checked
    assert [g["text"] for g in gaps] == ["1 google resource: no hallucination checks"]


CONFTEST = '''package main

deny[msg] {
  r := input.resource.aws_vpc[name]
  not r.tags.Owner
  msg := sprintf("aws_vpc.%v has no Owner tag", [name])
}
'''


def test_a_conftest_policy_runs_as_it_is(tmp_path: Path) -> None:
    from infraleash.checks.custom_rules import verify_examples

    path = tmp_path / "owner_tags.rego"
    path.write_text(CONFTEST)
    rule = load_rego_rule(path)
    assert rule.id == "CONFTEST-OWNER-TAGS" and rule.severity.value == "medium"
    root = tmp_path / "cfg"
    root.mkdir()
    (root / "main.tf").write_text(CONFIG)
    (f,) = [f for f in run_checks(root, Policy(), rules=[rule], use_terraform=False).findings if f.rule == rule.id]
    assert (f.message, f.address, f.line) == ("aws_vpc.main has no Owner tag", "aws_vpc.main", 1)
    assert verify_examples(rule) and "metadata" in verify_examples(rule)[0]


def test_re2_still_works_after_rego() -> None:
    """A process that ran a Rego rule (the MCP server, the agent) can still compile a log format with named
    groups: loading rego-cpp's library before google-re2 made that abort the process (double free)."""
    import subprocess
    import sys

    code = ("from pathlib import Path\n"
            "from infraleash.checks.rego import _Compiled\n"
            "_Compiled(Path('p.rego'), 'package p\\nx := 1\\n')\n"
            "from infraleash.logs.header import compile_format\n"
            "assert compile_format('{2}(?P<x>').match('{2}(?Pabc')\n"
            "print('ok')\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert (p.returncode, p.stdout.strip()) == (0, "ok"), p.stderr[-2000:]
