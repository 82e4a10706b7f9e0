"""Provider constraints: interval reasoning on Terraform constraints, pins, lock file."""

from __future__ import annotations

from pathlib import Path

import pytest

from infraleash.checks import providers as p
from infraleash.policy import Policy
from infraleash.terraform.hcl import load_config
from infraleash.terraform.schema import load_schemas


@pytest.mark.parametrize("a,b,overlap,inside", [
    ("~> 5.0", "~> 4.67", False, False),
    ("~> 4.67", "~> 4.67", True, True),
    ("~> 4.67.1", "~> 4.67", True, True),
    (">= 4.0", "~> 4.67", True, False),
    (">= 4.0, < 5.0", "~> 4.0", True, True),
    ("= 4.67.0", "~> 4.67", True, True),
    ("!= 4.67.0, ~> 4.67", "~> 4.67", True, True),
    ("< 4.0", ">= 4.0", False, False),
    ("~> 5.100", ">= 5.0, < 6.0", True, True),
])
def test_constraint_overlap_and_containment(a: str, b: str, overlap: bool, inside: bool) -> None:
    assert p.overlaps(a, b) is overlap
    assert p.within(a, b) is inside


def test_allows() -> None:
    assert p.allows("~> 4.67", "4.99.1") and not p.allows("~> 4.67", "5.0.0")
    assert p.allows("~> 4.67.1", "4.67.9") and not p.allows("~> 4.67.1", "4.68.0")


def _write(tmp_path: Path, version: str | None, lock: str | None = None) -> Path:
    ver = f'\n      version = "{version}"' if version else ""
    (tmp_path / "main.tf").write_text(
        f'terraform {{\n  required_providers {{\n    aws = {{\n      source = "hashicorp/aws"{ver}\n    }}\n  }}\n}}\n'
        'resource "aws_vpc" "v" {\n  cidr_block = "10.0.0.0/16"\n}\n')
    if lock:
        (tmp_path / ".terraform.lock.hcl").write_text(
            f'provider "registry.terraform.io/hashicorp/aws" {{\n  version = "{lock}"\n}}\n')
    return tmp_path


def run(tmp_path: Path, pins: dict[str, str]) -> dict[str, list]:
    cfg = load_config(tmp_path)
    out: dict[str, list] = {}
    for f in p.check(cfg, Policy(providers=pins), load_schemas(tmp_path, use_terraform=False)):
        out.setdefault(f.rule, []).append(f)
    return out


def test_agent_upgrade_against_org_pin_is_high(tmp_path: Path) -> None:
    got = run(_write(tmp_path, "~> 5.0"), {"aws": "~> 4.67"})
    [f] = got[p.PIN_CONFLICT]
    assert f.severity.value == "high" and (f.file, f.line) == ("main.tf", 3) and "~> 4.67" in f.message


def test_wider_constraint_is_medium_and_matching_is_silent(tmp_path: Path) -> None:
    assert run(_write(tmp_path, ">= 4.0"), {"aws": "~> 4.67"})[p.PIN_CONFLICT][0].severity.value == "medium"
    assert p.PIN_CONFLICT not in run(_write(tmp_path, "~> 4.67"), {"aws": "~> 4.67"})


def test_missing_version(tmp_path: Path) -> None:
    assert p.NO_VERSION in run(_write(tmp_path, None), {})


def test_lock_outside_constraint_and_pin(tmp_path: Path) -> None:
    got = run(_write(tmp_path, "~> 4.67", lock="5.100.0"), {"aws": "~> 4.67"})
    assert {f.file for f in got[p.LOCK_MISMATCH]} == {".terraform.lock.hcl"}
    assert len(got[p.LOCK_MISMATCH]) == 2  # outside both the constraint and the org pin


def test_lock_file_selection_outside_the_pin_is_found_at_the_version_line(tmp_path: Path) -> None:
    _write(tmp_path, "~> 4.67", lock="4.60.0")  # the constraint allows 4.67+, the lock selects an older one
    got = run(tmp_path, {"aws": "~> 4.67"})
    assert [(f.file, f.line, f.details["selected"]) for f in got[p.LOCK_MISMATCH]] == [
        (".terraform.lock.hcl", 2, "4.60.0"), (".terraform.lock.hcl", 2, "4.60.0")]
    assert "the lock file selects 4.60.0, outside the org pin `~> 4.67`" in got[p.LOCK_MISMATCH][1].message


def test_a_pinned_provider_the_root_does_not_declare_is_checked_in_the_lock_file(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text('resource "aws_vpc" "v" {\n  cidr_block = "10.0.0.0/16"\n}\n')
    (tmp_path / ".terraform.lock.hcl").write_text(
        '# This file is maintained automatically by "terraform init".\n'
        'provider "registry.terraform.io/hashicorp/aws" {\n  version     = "6.2.0"\n  constraints = ">= 5.0"\n}\n')
    got = run(tmp_path, {"aws": "~> 5.100"})
    assert p.NO_VERSION in got  # and what the lock selects breaks the pin, wherever the constraint came from
    [f] = got[p.LOCK_MISMATCH]
    assert (f.file, f.line) == (".terraform.lock.hcl", 3) and "6.2.0" in f.message and "~> 5.100" in f.message
    assert p.LOCK_MISMATCH not in run(tmp_path, {"random": "~> 3.0"})


def test_locked_version_without_schema_is_said(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INFRALEASH_CACHE", str(tmp_path / "cache"))
    got = run(_write(tmp_path, "~> 4.67", lock="4.67.0"), {})
    assert "4.67.0" in got[p.SCHEMA_UNAVAILABLE][0].message
    assert p.LOCK_MISMATCH not in got
