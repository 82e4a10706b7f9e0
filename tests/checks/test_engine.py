"""run_checks: dispatch by resource type, findings with locations, unknown outcomes, crashing rules, bad input."""

from __future__ import annotations

import os
from pathlib import Path

from infraleash.checks.engine import (
    RULE_ERROR,
    _worker_count,
    check_example,
    example_files,
    run_checks,
    run_checks_many,
)
from infraleash.checks.meta_rules import RULES as META
from infraleash.checks.rule import Result, Rule
from infraleash.findings import Kind, Outcome, Severity
from infraleash.policy import Policy


def _versioning_check(block, ctx):
    if not ctx.config.referencing(block, "aws_s3_bucket_versioning"):
        yield Result("bucket has no versioning", attribute="bucket")


def _unknown_check(block, ctx):
    from infraleash.terraform.config import Unknown

    if isinstance(block.get("cidr_block"), Unknown):
        yield Result("cidr unknown", outcome=Outcome.UNKNOWN, attribute="cidr_block")


def _crash(block, ctx):
    raise KeyError("boom")


def rule(id: str, types: tuple[str, ...], check) -> Rule:
    return Rule(id=id, title=id, severity=Severity.HIGH, kind=Kind.SECURITY, resource_types=types, why="w",
                fail_example="", pass_example="", check=check)


VERSIONING = rule("T-VERSIONING", ("aws_s3_bucket",), _versioning_check)

TF = '''resource "aws_s3_bucket" "a" {
  bucket = "a"
}
resource "aws_s3_bucket" "b" {
  bucket = "b"
}
resource "aws_s3_bucket_versioning" "b" {
  bucket = aws_s3_bucket.b.id
  versioning_configuration {
    status = "Enabled"
  }
}
resource "aws_s3_bucket" "gone" {
  count  = 0
  bucket = "c"
}
variable "cidr" {}
resource "aws_vpc" "v" {
  cidr_block = var.cidr
}
'''


def test_dispatch_locations_and_count_zero(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(TF)
    report = run_checks(tmp_path, Policy(), rules=[VERSIONING, rule("T-UNK", ("aws_vpc",), _unknown_check)])
    got = {(f.rule, f.address, f.line, f.outcome) for f in report.findings}
    assert got == {("T-VERSIONING", "aws_s3_bucket.a", 2, Outcome.FAIL),
                   ("T-UNK", "aws_vpc.v", 19, Outcome.UNKNOWN)}
    assert report.failing("high")[0].address == "aws_s3_bucket.a"
    assert report.summary()["unknown"] == 1


def test_crashing_rule_is_surfaced_not_swallowed(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(TF)
    report = run_checks(tmp_path, Policy(), rules=[rule("T-CRASH", ("aws_vpc",), _crash)])
    assert report.errors and "T-CRASH crashed on aws_vpc.v: KeyError" in report.errors[0]
    [f] = report.findings
    assert f.outcome is Outcome.UNKNOWN and "rule error" in f.message
    assert RULE_ERROR  # the id reserved for rule errors


def test_bad_files_are_findings_and_the_rest_is_checked(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(TF)
    (tmp_path / "broken.tf").write_text('resource "aws_vpc" "x" {\n  cidr_block = = 1\n}\n')
    (tmp_path / "blob.tf").write_bytes(b"\x00\x01\x02")
    (tmp_path / "latin.tf").write_bytes(b'locals {\n  a = "\xe9"\n}\n')
    report = run_checks(tmp_path, Policy(), rules=[VERSIONING, *META])
    parse = {(f.file, f.line) for f in report.findings if f.rule == "TF-PARSE-ERROR"}
    assert parse == {("broken.tf", 2), ("blob.tf", 1), ("latin.tf", 2)}
    assert any(f.rule == "T-VERSIONING" for f in report.findings)


def test_all_rules_run_on_the_realistic_fixture() -> None:
    report = run_checks(Path(__file__).parent / "fixtures" / "realistic", Policy(), use_terraform=False)
    assert report.errors == []
    assert not [f for f in report.findings if f.kind is Kind.HALLUCINATION]
    assert report.resources_checked >= 25


def test_examples_may_span_files() -> None:
    files = example_files('a = 1\n# file: .terraform.lock.hcl\nprovider "x" {}\n')
    assert files == {"main.tf": "a = 1\n", ".terraform.lock.hcl": 'provider "x" {}\n'}
    assert check_example(VERSIONING, 'resource "aws_s3_bucket" "fail" {\n  bucket = "x"\n}\n')[0].line == 2


def _as_rows(report: object) -> list[tuple[object, ...]]:
    return [(f.rule, f.file, f.line, f.address, f.message, f.outcome, f.suppressed)
            for f in report.findings]  # type: ignore[attr-defined]


def test_run_checks_many_in_worker_processes_finds_what_one_process_finds(tmp_path: Path) -> None:
    realistic = Path(__file__).parent / "fixtures" / "realistic"
    roots = [realistic]
    for i in range(7):  # enough roots for two workers (MIN_ROOTS_PER_WORKER each)
        d = tmp_path / f"root{i}"
        d.mkdir()
        roots.append(d)
        (d / "main.tf").write_text(TF.replace('"a"', f'"a{i}"'), encoding="utf-8")
        if i % 2:
            (d / "broken.tf").write_text('resource "aws_vpc" "x" {\n  cidr_block = \n', encoding="utf-8")
    assert _worker_count(2, len(roots)) == 2
    told_serial: list[int] = []
    told_forked: list[int] = []
    serial = run_checks_many(roots, Policy(), use_terraform=False, workers=1, on_done=told_serial.append)
    forked = run_checks_many(roots, Policy(), use_terraform=False, workers=2, on_done=told_forked.append)
    assert told_serial == [1] * len(roots)  # progress: one call per root checked in this process
    assert sum(told_forked) == len(roots) and all(n > 0 for n in told_forked)  # and as the workers finish them
    assert [r.root for r in forked] == [str(r) for r in roots]
    assert all(r.config is None for r in forked)
    assert [_as_rows(r) for r in forked] == [_as_rows(r) for r in serial]
    direct = run_checks(roots[2], Policy(), use_terraform=False)
    assert _as_rows(forked[2]) == _as_rows(direct) and any(f.rule == "TF-PARSE-ERROR" for f in direct.findings)
    assert sum(len(r.findings) for r in forked) > 20
    # each(i, report) runs where the report is made (in its worker), and its result is what comes back
    tagged = run_checks_many(roots, Policy(), use_terraform=False, workers=2,
                             each=lambda i, rep: (rep.notes.append(f"root {i} in {os.getpid()}"), rep)[1])
    notes = [next(n for n in r.notes if n.startswith("root ")) for r in tagged]
    assert [n.split()[1] for n in notes] == [str(i) for i in range(len(roots))]
    assert str(os.getpid()) not in {n.split()[-1] for n in notes}


def test_no_fork_while_other_threads_run() -> None:
    import threading

    assert _worker_count(2, 8) == 2 and _worker_count(2, 7) == 1  # at most one worker per 4 roots
    release = threading.Event()
    t = threading.Thread(target=release.wait)
    t.start()
    try:
        assert _worker_count(2, 8) == 1
    finally:
        release.set()
        t.join()


def test_a_fact_is_derived_once_per_block_and_check() -> None:
    from infraleash.checks.rule import CheckContext
    from infraleash.terraform.config import Block, Config

    ctx = CheckContext(config=Config(root=Path(".")), policy=None)
    a, b = Block("resource", "aws_x", "a", "main.tf", 1), Block("resource", "aws_x", "b", "main.tf", 5)
    calls: list[str] = []
    for block in (a, a, b, a):
        ctx.fact("name", block, lambda block=block: calls.append(block.name) or block.name)
    assert calls == ["a", "b"]
    assert CheckContext(config=ctx.config, policy=None).fact("name", a, lambda: "again") == "again"
