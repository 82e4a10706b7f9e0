"""run_checks: dispatch by resource type, findings with locations, unknown outcomes, crashing rules, bad input."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from infraleash.checks.engine import (
    RULE_ERROR,
    CheckReport,
    _worker_count,
    check_example,
    example_files,
    run_checks,
    run_checks_many,
)
from infraleash.checks.meta_rules import RULES as META
from infraleash.checks.rule import Result, Rule
from infraleash.findings import Kind, Outcome, Severity
from infraleash.policy import Policy, load_policy_file
from infraleash.surfaces.cli.check_run import terraform_roots
from infraleash.terraform import hcl_budget
from infraleash.terraform.config import Block, DeferredBlock


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


def test_one_process_freezes_what_each_root_leaves_and_unfreezes_it_at_the_end(tmp_path: Path) -> None:
    import gc

    roots = []
    for i in range(3):
        d = tmp_path / f"root{i}"
        d.mkdir()
        (d / "main.tf").write_text(TF.replace('"a"', f'"a{i}"'), encoding="utf-8")
        roots.append(d)
    gc.unfreeze()  # nothing of the test run's own is frozen: this process owns the freezing
    seen: list[int] = []  # objects frozen when each root's report is made
    reports = run_checks_many(roots, Policy(), use_terraform=False, workers=1,
                              each=lambda i, rep: (seen.append(gc.get_freeze_count()), rep)[1])
    assert seen[0] == 0 and seen[1] > 0 and seen[2] >= seen[1]  # the first root's leftovers are out of the way
    assert gc.get_freeze_count() == 0  # and back in the collector's sight afterwards
    assert [len(r.findings) for r in reports] == [len(run_checks(r, Policy(), use_terraform=False).findings)
                                                  for r in roots]
    # a process that froze objects itself (a pre-forking server) keeps them frozen: they are not released
    # (gc.unfreeze cannot tell them apart), and no root is frozen on top of them
    gc.freeze()
    try:
        before = gc.get_freeze_count()
        seen.clear()
        run_checks_many(roots, Policy(), use_terraform=False, workers=1,
                        each=lambda i, rep: (seen.append(gc.get_freeze_count()), rep)[1])
        assert 0 < gc.get_freeze_count() <= before and all(n <= before for n in seen)
    finally:
        gc.unfreeze()


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


# --------------------------------------------------------------------------- deferred bodies (run_checks(defer=True))

def _full_rows(report: CheckReport) -> tuple[object, ...]:
    summary = {k: v for k, v in report.summary().items() if k != "duration_s"}
    return [dataclasses.asdict(f) for f in report.findings], summary, report.parse_problems


@pytest.fixture(scope="module")
def corpus_roots(real_corpus_dirs: list[Path]) -> list[Path]:
    return [root for d in real_corpus_dirs for root in terraform_roots(d)]


def test_deferring_unread_bodies_changes_no_report_on_the_real_world_corpus(corpus_roots: list[Path]) -> None:
    unread = 0
    for root in corpus_roots:
        lazy = run_checks(root, None, use_terraform=False, defer=True)
        assert lazy.config is not None
        unread += sum(type(b) is DeferredBlock for b in [*lazy.config.resources, *lazy.config.variable_blocks,
                                                          *lazy.config.outputs])
        assert _full_rows(lazy) == _full_rows(run_checks(root, None, use_terraform=False)), root
    assert len(corpus_roots) >= 100 and unread >= 1000  # what no check read stayed unevaluated


def test_a_deferred_body_a_check_reads_late_still_reports_what_it_refused(tmp_path: Path) -> None:
    # the learned Name-tag style reads the tags of every resource, the null_resource's too: only then is it
    # evaluated, and its refused value must still become a finding
    queues = "".join(f'resource "aws_sqs_queue" "q{i}" {{\n  name = "q{i}"\n  tags = {{ Name = "prod-q{i}-queue" }}\n}}\n'
                     for i in range(3))
    (tmp_path / "main.tf").write_text(queues + 'resource "null_resource" "n" {\n  tags = {\n'
                                      '    Name = join(",", range(1000000000))\n  }\n}\n', encoding="utf-8")
    lazy = run_checks(tmp_path, None, use_terraform=False, defer=True)
    budget = [(f.file, f.line) for f in lazy.findings if f.rule == hcl_budget.RULE_ID]
    assert budget == [("main.tf", 15)]
    assert _full_rows(lazy) == _full_rows(run_checks(tmp_path, None, use_terraform=False))


def test_nothing_is_deferred_when_the_org_brings_rules(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "ns.rego").write_text('''package acme.ns
import rego.v1

metadata := {"id": "ACME-NS", "title": "t", "severity": "medium", "why": "w",
  "fail_example": `resource "kubernetes_namespace" "fail" {\n  wait_for_default_service_account = false\n}`,
  "pass_example": `resource "kubernetes_namespace" "pass" {\n  wait_for_default_service_account = true\n}`}

deny contains sprintf("%s does not wait", [r.address]) if {
  some r in input.resources
  r.type == "kubernetes_namespace"
  r.values.wait_for_default_service_account == false
}
''', encoding="utf-8")
    (tmp_path / "org.yaml").write_text("version: 1\nchecks:\n  rules_dirs: ['rules']\n", encoding="utf-8")
    root = tmp_path / "cfg"
    root.mkdir()
    (root / "main.tf").write_text('resource "kubernetes_namespace" "a" {\n  wait_for_default_service_account = '
                                  'false\n}\n', encoding="utf-8")
    report = run_checks(root, load_policy_file(tmp_path / "org.yaml"), use_terraform=False, defer=True)
    assert [(f.rule, f.address) for f in report.findings if f.rule == "ACME-NS"] == [("ACME-NS", "kubernetes_namespace.a")]
    assert report.config is not None and all(type(b) is Block for b in report.config.resources)
    plain = run_checks(root, None, use_terraform=False, defer=True)
    assert plain.config is not None and all(type(b) is DeferredBlock for b in plain.config.resources)


def test_a_limit_hit_only_in_a_value_no_check_reads_is_never_computed(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text('resource "null_resource" "n" {\n  triggers = {\n'
                                      '    all = join(",", range(1000000000))\n  }\n}\n'
                                      'resource "local_file" "f" {\n  content = file("/etc/passwd")\n}\n',
                                      encoding="utf-8")
    lazy = run_checks(tmp_path, None, use_terraform=False, defer=True)
    eager = run_checks(tmp_path, None, use_terraform=False)
    assert [(f.rule, f.line) for f in eager.findings] == [(hcl_budget.RULE_ID, 3), (hcl_budget.FILE_RULE_ID, 7)]
    assert [(f.rule, f.line) for f in lazy.findings] == [(hcl_budget.FILE_RULE_ID, 7)]  # a refused file, always
