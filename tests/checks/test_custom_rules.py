"""The org's own rules from a rules directory: a Python rule and a Rego rule fire in check, review and SARIF."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "surfaces"))
from _cli import run_cli  # noqa: E402

from infraleash.checks.custom_rules import load_rules_dir, verify_examples  # noqa: E402
from infraleash.errors import InputError  # noqa: E402

ORG_RULES = Path(__file__).parent / "fixtures" / "org_rules"
ORG_IDS = {"ACME-RDS-INSTANCE-CLASS", "ACME-S3-OWNER-TAG"}
MAIN = '''resource "aws_s3_bucket" "exports" {
  bucket = "acme-exports"
}

resource "aws_db_instance" "orders" {
  instance_class    = "db.m5.large"
  storage_encrypted = true
}
'''
EXPECTED = {("ACME-S3-OWNER-TAG", "aws_s3_bucket.exports", 1), ("ACME-RDS-INSTANCE-CLASS", "aws_db_instance.orders", 6)}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "infra").mkdir()
    (tmp_path / "infra" / "main.tf").write_text(MAIN)
    return tmp_path / "infra"


def _org(findings: list[dict]) -> set[tuple[str, str, int]]:
    return {(f["rule"], f["address"], f["line"]) for f in findings if f["rule"] in ORG_IDS}


def test_the_directory_loads_both_rules_and_their_examples_pass() -> None:
    rules = load_rules_dir(ORG_RULES)
    assert {r.id for r in rules} == ORG_IDS
    assert {r.id: verify_examples(r) for r in rules} == {rid: [] for rid in ORG_IDS}


def test_rules_test_command(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run_cli(capsys, "rules", "test", str(ORG_RULES))
    assert code == 0 and "2 of 2 rule(s) pass their examples" in out
    broken = tmp_path / "rules"
    shutil.copytree(ORG_RULES, broken)
    rego = broken / "s3_owner_tag.rego"
    rego.write_text(rego.read_text().replace("not r.values.tags.Owner", "r.values.tags.Owner"))
    code, out, _ = run_cli(capsys, "rules", "test", str(broken))
    assert code == 1 and "FAIL  ACME-S3-OWNER-TAG" in out and "1 of 2 rule(s) pass" in out


def test_check_with_rules_dir_and_with_the_policy(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "check", str(project), "--rules-dir", str(ORG_RULES), "-f", "json")
    assert code == 1 and _org(json.loads(out)["findings"]) == EXPECTED
    code, out, _ = run_cli(capsys, "check", str(project), "-f", "json")
    assert _org(json.loads(out)["findings"]) == set()  # not loaded unless asked for
    # a policy given with --policy (here outside the checked tree, as an org keeps it) loads both kinds
    (project.parent / "rules").symlink_to(ORG_RULES)
    (project.parent / "org.yaml").write_text("version: 1\nchecks:\n  rules_dirs: ['rules']\n")
    code, out, _ = run_cli(capsys, "check", str(project), "--policy", str(project.parent / "org.yaml"), "-f", "json")
    assert _org(json.loads(out)["findings"]) == EXPECTED


PYTHON_ONLY = {e for e in EXPECTED if e[0] == "ACME-RDS-INSTANCE-CLASS"}
MARKER = "import pathlib, os\npathlib.Path(os.environ['IL_TEST_MARKER']).write_text('ran')\nRULES = []\n"


@pytest.fixture
def tree_policy(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git working tree whose own infraleash.yaml names a rules directory inside it, with a file that
    leaves a marker when its code runs (what a change under review could add)."""
    (project / ".git").mkdir()
    rules = project / "policy-rules"
    shutil.copytree(ORG_RULES, rules)
    (rules / "planted.py").write_text(MARKER)
    (project / "infraleash.yaml").write_text("version: 1\nchecks:\n  rules_dirs: ['policy-rules']\n")
    monkeypatch.setenv("IL_TEST_MARKER", str(tmp_path / "marker"))
    return project


@pytest.mark.parametrize("command", [["check"], ["review", "--no-plan"]])
def test_a_policy_inside_the_checked_tree_runs_no_python_from_it(tree_policy: Path, tmp_path: Path,
                                                                 command: list[str],
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, *command, str(tree_policy), "-f", "json")
    doc = json.loads(out)
    assert not (tmp_path / "marker").exists(), "a Python file named by the tree's own policy ran"
    assert _org(doc["findings"]) == EXPECTED - PYTHON_ONLY  # the Rego rule (data, sandboxed) still fires
    gaps = [e for e in doc["summary"]["not_checked"] if e["category"] == "rules"]
    assert len(gaps) == 1 and "--trust-policy-rules" in gaps[0]["text"] and "planted.py" in gaps[0]["names"]
    code, _, err = run_cli(capsys, *command, str(tree_policy), "-f", "json", "--strict")
    assert code == 1 and "Python rules" in err
    code, out, _ = run_cli(capsys, *command, str(tree_policy), "-f", "json", "--trust-policy-rules")
    assert (tmp_path / "marker").exists() and _org(json.loads(out)["findings"]) == EXPECTED


def test_the_same_directory_named_on_the_command_line_is_trusted(tree_policy: Path, tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "check", str(tree_policy), "--rules-dir", str(tree_policy / "policy-rules"),
                           "-f", "json")
    doc = json.loads(out)
    assert (tmp_path / "marker").exists() and _org(doc["findings"]) == EXPECTED
    assert not [e for e in doc["summary"]["not_checked"] if e["category"] == "rules"]


def test_a_tree_rego_rule_reading_the_environment_is_not_loaded(tree_policy: Path, capsys: pytest.CaptureFixture[str],
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IL_TEST_SECRET", "s3cr3t-value")
    rego = (ORG_RULES / "s3_owner_tag.rego").read_text()
    leak = rego.replace("package acme.s3_owner_tag", "package acme.leak").replace("ACME-S3-OWNER-TAG", "ACME-LEAK") \
        .replace('sprintf("S3 bucket %s has no Owner tag", [r.address])', "json.marshal(opa.runtime().env)")
    (tree_policy / "policy-rules" / "leak.rego").write_text(leak)
    code, out, _ = run_cli(capsys, "check", str(tree_policy), "-f", "json")
    assert "s3cr3t-value" not in out
    gap = next(e for e in json.loads(out)["summary"]["not_checked"] if e["category"] == "rules")
    assert "leak.rego" in gap["names"]
    code, out, _ = run_cli(capsys, "check", str(tree_policy), "-f", "json", "--trust-policy-rules")
    assert "s3cr3t-value" in out  # what the refusal prevents: a trusted rule may read the environment


def test_a_policy_above_the_repository_is_trusted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = tmp_path / "work" / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "main.tf").write_text(MAIN)
    (tmp_path / "work" / "rules").symlink_to(ORG_RULES)
    (tmp_path / "work" / "infraleash.yaml").write_text("version: 1\nchecks:\n  rules_dirs: ['rules']\n")
    code, out, _ = run_cli(capsys, "check", str(repo), "-f", "json")
    assert _org(json.loads(out)["findings"]) == EXPECTED


def test_api_applies_the_same_rule(tree_policy: Path, tmp_path: Path) -> None:
    from infraleash import check

    report = check(tree_policy)
    assert not (tmp_path / "marker").exists()
    assert {f.rule for f in report.findings} & ORG_IDS == {"ACME-S3-OWNER-TAG"}
    report = check(tree_policy, policy=tree_policy / "infraleash.yaml")  # given explicitly: trusted
    assert (tmp_path / "marker").exists() and {f.rule for f in report.findings} >= ORG_IDS


def test_review_and_sarif(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "review", str(project), "--no-plan", "--rules-dir", str(ORG_RULES), "-f", "json")
    assert code == 1 and _org(json.loads(out)["findings"]) == EXPECTED
    for cmd in (["check"], ["review", "--no-plan"]):
        code, out, _ = run_cli(capsys, *cmd, str(project), "--rules-dir", str(ORG_RULES), "-f", "sarif")
        run = json.loads(out)["runs"][0]
        got = {(r["ruleId"], r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"],
                r["locations"][0]["physicalLocation"]["region"]["startLine"])
               for r in run["results"] if r["ruleId"] in ORG_IDS}
        assert got == EXPECTED, cmd
        docs = {d["id"]: d for d in run["tool"]["driver"]["rules"]}
        assert "Every bucket needs an owner" in docs["ACME-S3-OWNER-TAG"]["help"]["markdown"]


def test_a_broken_rules_file_is_an_input_error_naming_file_and_line(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "bad.py").write_text("RULES = [\n")
    with pytest.raises(InputError) as e:
        load_rules_dir(tmp_path)
    assert e.value.file == str(tmp_path / "bad.py") and e.value.line == 1
    (tmp_path / "bad.py").write_text("import os\nRULES = 'nope'\n")
    (tmp_path / "infra").mkdir()
    (tmp_path / "infra" / "main.tf").write_text(MAIN)
    code, _, err = run_cli(capsys, "check", str(tmp_path / "infra"), "--rules-dir", str(tmp_path))
    assert code == 2 and "RULES: list[Rule]" in err and "Traceback" not in err


def test_rules_input_prints_the_json_view(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "rules", "input", str(project))
    doc = json.loads(out)
    assert code == 0 and doc["resource"]["aws_db_instance"]["orders"]["instance_class"] == "db.m5.large"
    assert {r["address"] for r in doc["resources"]} == {"aws_s3_bucket.exports", "aws_db_instance.orders"}


def test_rules_list_and_show_with_a_rules_dir(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "rules", "--json", "--rules-dir", str(ORG_RULES))
    assert code == 0 and {r["id"] for r in json.loads(out)} >= ORG_IDS
    code, out, _ = run_cli(capsys, "rules", "show", "ACME-S3-OWNER-TAG", "--rules-dir", str(ORG_RULES))
    assert code == 0 and "Every bucket needs an owner" in out and 'resource "aws_s3_bucket" "fail"' in out
