"""Modules `terraform init` installed are evaluated with the caller's inputs; findings land on the call."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from infraleash.checks.engine import CheckReport, run_checks
from infraleash.checks.module_calls import NOT_EVALUATED
from infraleash.findings import Outcome
from infraleash.policy import Policy

FIXTURE = Path(__file__).parent / "fixtures" / "installed_modules"
INSTALLED = {"logs": "s3-bucket", "web_sg": "security-group", "db": "rds"}


def install(target: Path) -> Path:
    """Lay the fixture out as `terraform init` leaves it: sources copied under .terraform/modules + manifest."""
    shutil.copytree(FIXTURE / "root", target)
    modules = target / ".terraform" / "modules"
    for key, source in INSTALLED.items():
        shutil.copytree(FIXTURE / "installed" / source, modules / key)
    shutil.copy(FIXTURE / "modules.json", modules / "modules.json")
    return target


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> CheckReport:
    root = install(tmp_path_factory.mktemp("installed") / "root")
    return run_checks(root, Policy(), use_terraform=False)


def _on(report: CheckReport, rule: str) -> list:
    return [f for f in report.active if f.rule == rule]


@pytest.mark.parametrize("rule,address,line", [
    ("AWS-S3-PUBLIC-ACL", "module.logs.aws_s3_bucket_acl.this", 15),  # acl = "public-read"
    ("AWS-S3-PUBLIC-ACCESS-BLOCK-INCOMPLETE", "module.logs.aws_s3_bucket_public_access_block.this", 16),
    ("AWS-S3-PUBLIC-ACCESS-BLOCK-INCOMPLETE", "module.logs.aws_s3_bucket_public_access_block.this", 17),
    ("AWS-S3-NO-VERSIONING", "module.logs.aws_s3_bucket.this", 10),
    ("AWS-SG-OPEN-SSH", "module.web_sg.aws_security_group_rule.ingress_with_cidr_blocks[0]", 29),
    ("AWS-SG-OPEN-DATABASE", "module.web_sg.aws_security_group_rule.ingress_with_cidr_blocks[1]", 29),
    ("AWS-RDS-PUBLIC", "module.db.module.db_instance.aws_db_instance.this", 52),  # through the rds submodule
    ("AWS-RDS-UNENCRYPTED", "module.db.module.db_instance.aws_db_instance.this", 53),
])
def test_insecure_inputs_are_found_on_the_call(report: CheckReport, rule: str, address: str, line: int) -> None:
    found = [f for f in _on(report, rule) if f.address == address and (f.file, f.line) == ("main.tf", line)]
    assert len(found) == 1, [(f.address, f.location) for f in _on(report, rule)]
    f = found[0]
    assert f.outcome is Outcome.FAIL
    inside = f.details["inside"]
    assert inside["file"].startswith(".terraform/modules/") and inside["line"] > 0 and inside["address"] == address
    assert f.details["module_calls"][0]["address"] == address.split(".")[0] + "." + address.split(".")[1]
    assert inside["file"] in f.message


def test_a_call_that_is_not_installed_is_unknown_not_silent(report: CheckReport) -> None:
    (f,) = _on(report, NOT_EVALUATED)
    assert f.address == "module.not_installed" and f.outcome is Outcome.UNKNOWN and (f.file, f.line) == ("main.tf", 57)
    assert "not listed" in f.message and "terraform init" in f.message


def test_without_a_manifest_every_remote_call_is_unknown(tmp_path: Path) -> None:
    root = install(tmp_path / "root")
    shutil.rmtree(root / ".terraform")
    rep = run_checks(root, Policy(), use_terraform=False)
    assert {f.address for f in _on(rep, NOT_EVALUATED)} == {"module.logs", "module.web_sg", "module.db",
                                                           "module.not_installed"}
    assert not any(f.address and f.address.count(".") > 1 for f in rep.active)  # nothing inside was evaluated


def test_a_malformed_manifest_names_the_file(tmp_path: Path) -> None:
    root = install(tmp_path / "root")
    (root / ".terraform" / "modules" / "modules.json").write_text('{"Modules": [\n', encoding="utf-8")
    rep = run_checks(root, Policy(), use_terraform=False)
    assert any(p.file == ".terraform/modules/modules.json" and p.line for p in rep.parse_problems)
    assert len(_on(rep, NOT_EVALUATED)) == 4


def test_local_module_findings_stay_in_the_module_and_name_the_call(tmp_path: Path) -> None:
    (tmp_path / "modules" / "db").mkdir(parents=True)
    (tmp_path / "main.tf").write_text('module "db" {\n  source = "./modules/db"\n  public = true\n}\n')
    (tmp_path / "modules" / "db" / "main.tf").write_text(
        'variable "public" {}\nresource "aws_db_instance" "x" {\n  instance_class = "db.t3.micro"\n'
        '  publicly_accessible = var.public\n  storage_encrypted = true\n}\n')
    rep = run_checks(tmp_path, Policy(), use_terraform=False)
    (f,) = _on(rep, "AWS-RDS-PUBLIC")
    assert (f.file, f.line) == ("modules/db/main.tf", 4)
    assert f.details["module_calls"] == [{"address": "module.db", "file": "main.tf", "line": 1,
                                          "source": "./modules/db", "installed": False}]


def test_schema_findings_inside_an_installed_module_are_a_note_not_findings(tmp_path: Path) -> None:
    root = install(tmp_path / "root")
    (root / ".terraform" / "modules" / "logs" / "extra.tf").write_text(
        'resource "aws_s3_bucket_policy" "made_up" {\n  bucket   = "x"\n  policy   = "{}"\n  no_such = 1\n}\n')
    rep = run_checks(root, Policy(), use_terraform=False)
    assert not [f for f in rep.findings if f.rule == "TF-UNKNOWN-ARGUMENT" and "inside" in f.details]
    assert any("schema finding(s) inside installed modules not reported" in n for n in rep.notes)
    (root / "main.tf").write_text((root / "main.tf").read_text().replace('  bucket                  = "acme-app-logs"',
                                                                         '  bucket = "acme-app-logs"\n  no_var = 1'))
    rep = run_checks(root, Policy(), use_terraform=False)
    (f,) = [f for f in rep.findings if f.rule == "TF-UNKNOWN-ARGUMENT"]  # the caller's own mistake stays
    assert f.address == "module.logs" and f.file == "main.tf" and "no_var" in f.message
