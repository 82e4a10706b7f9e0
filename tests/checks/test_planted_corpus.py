"""A planted corpus of .tf.json, .tofu, .tofu.json and override files: every planted finding at its file and
line, nothing from the files OpenTofu shadows or from what an override fixed (fixtures/planted/)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infraleash.checks.engine import run_checks
from infraleash.surfaces.cli import main
from infraleash.terraform.hcl import load_config

PLANTED = Path(__file__).parent / "fixtures" / "planted"

# (root, rule, file, line, address): what each root must report among the security rules
EXPECTED = {
    "json_syntax": {
        ("AWS-S3-NO-ENCRYPTION", "main.tf.json", 5, "aws_s3_bucket.logs"),
        ("AWS-SG-OPEN-SSH", "main.tf.json", 14, "aws_security_group.web"),
        ("AWS-RDS-PUBLIC", "db.tofu.json", 12, "aws_db_instance.main"),  # var.db_public from variables.tf.json
    },
    "tofu_shadow": {
        ("AWS-EBS-UNENCRYPTED", "storage.tofu", 5, "aws_ebs_volume.scratch"),
    },
    "overrides": {
        ("AWS-SG-OPEN-SSH", "override.tf", 3, "aws_security_group.web"),  # the override's ingress
        ("AWS-SG-OPEN-RDP", "main.tf", 28, "aws_security_group.admin"),  # local.admin_cidr overridden in JSON
    },
}
SECURITY_RULES = ("AWS-SG-", "AWS-EBS-", "AWS-RDS-PUBLIC", "AWS-RDS-UNENCRYPTED", "AWS-S3-NO-ENCRYPTION")


@pytest.fixture(scope="module")
def reports() -> dict[str, list[tuple[str, str | None, int | None, str | None]]]:
    out = {}
    for root in EXPECTED:
        report = run_checks(PLANTED / root, None, use_terraform=False)
        assert not report.parse_problems and not report.errors, (root, report.parse_problems, report.errors)
        out[root] = [(f.rule, f.file, f.line, f.address) for f in report.findings if f.rule.startswith(SECURITY_RULES)]
    return out


@pytest.mark.parametrize("root", sorted(EXPECTED))
def test_planted_findings_at_their_file_and_line(root: str, reports: dict[str, list[tuple]]) -> None:
    assert sorted(reports[root]) == sorted(EXPECTED[root])


def test_shadowed_and_overridden_files(reports: dict[str, list[tuple]]) -> None:
    # main.tofu shadows main.tf (its open SSH is not read); db.tofu.json shadows db.tf.json (its volume)
    assert not any(f[1] in ("main.tf", "db.tf.json") for f in reports["tofu_shadow"] + reports["json_syntax"])
    cfg = load_config(PLANTED / "tofu_shadow")
    assert sorted(cfg.files) == ["main.tofu", "storage.tofu"]
    # volume_override.tf encrypts main.tf's volume; override files are read, after the others
    cfg = load_config(PLANTED / "overrides")
    volume = next(b for b in cfg.resources if b.address == "aws_ebs_volume.data")
    assert volume.get("encrypted") is True and volume.file_of("encrypted") == "volume_override.tf"
    assert volume.file == "main.tf" and volume.line == 36 and volume.line_of("size") == 38
    assert "locals_override.tf.json" in cfg.files and "override.tf" in cfg.files


def test_json_model_is_the_hcl_model(tmp_path: Path) -> None:
    """The same bucket written in HCL and in JSON: same attributes, same nested blocks, same references."""
    (tmp_path / "hcl").mkdir()
    (tmp_path / "json").mkdir()
    (tmp_path / "hcl" / "main.tf").write_text(
        'variable "env" {\n  type = string\n  default = "prod"\n}\n'
        'resource "aws_s3_bucket_server_side_encryption_configuration" "logs" {\n'
        '  bucket = aws_s3_bucket.logs.id\n  rule {\n    apply_server_side_encryption_by_default {\n'
        '      sse_algorithm = "aws:kms"\n    }\n  }\n}\n'
        'resource "aws_s3_bucket" "logs" {\n  bucket = "acme-${var.env}"\n  tags = { Name = "x" }\n'
        '  lifecycle {\n    ignore_changes = [tags]\n  }\n}\n')
    (tmp_path / "json" / "main.tf.json").write_text(json.dumps({
        "variable": {"env": {"type": "string", "default": "prod"}},
        "resource": {
            "aws_s3_bucket_server_side_encryption_configuration": {"logs": {
                "bucket": "${aws_s3_bucket.logs.id}",
                "rule": {"apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms"}}}},
            "aws_s3_bucket": {"logs": {"bucket": "acme-${var.env}", "tags": {"Name": "x"},
                                       "lifecycle": {"ignore_changes": ["tags"]}}}}}, indent=2))
    hcl, js = load_config(tmp_path / "hcl"), load_config(tmp_path / "json")

    def shape(b: object) -> object:
        from infraleash.terraform.config import Block

        if isinstance(b, Block):
            return {k: shape(v) for k, v in b.attrs.items()}
        if isinstance(b, list):
            return [shape(v) for v in b]
        return b

    for h, j in zip(hcl.resources, js.resources, strict=True):
        assert (h.address, shape(h)) == (j.address, shape(j))
        assert h.references == j.references
    assert hcl.resources[1].get("bucket") == "acme-prod"


def test_malformed_json_is_an_input_finding_at_its_line(tmp_path: Path) -> None:
    (tmp_path / "main.tf.json").write_text('{\n  "resource": {\n    "aws_s3_bucket": {\n      "x": { "bucket": }\n')
    (tmp_path / "ok.tf").write_text('resource "aws_ebs_volume" "v" {\n  availability_zone = "a"\n  size = 1\n}\n')
    report = run_checks(tmp_path, None, use_terraform=False)
    bad = [f for f in report.findings if f.rule == "TF-PARSE-ERROR"]
    assert [(f.file, f.line) for f in bad] == [("main.tf.json", 4)] and "malformed JSON" in bad[0].message
    assert any(f.rule == "AWS-EBS-UNENCRYPTED" for f in report.findings)  # the rest is still checked


def test_override_without_a_base_block(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text('resource "aws_ebs_volume" "v" {\n  availability_zone = "a"\n  size = 1\n}\n')
    (tmp_path / "x_override.tf").write_text('resource "aws_ebs_volume" "other" {\n  size = 2\n}\n')
    report = run_checks(tmp_path, None, use_terraform=False)
    assert [(p.file, p.line) for p in report.parse_problems] == [("x_override.tf", 1)]


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[object, str, str]:
    with pytest.raises(SystemExit) as done:
        main(list(argv))
    out, err = capsys.readouterr()
    return done.value.code, out, err


def test_cli_checks_a_json_file_and_a_tree(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "check", str(PLANTED / "json_syntax" / "main.tf.json"), "-f", "json")
    assert code == 1 and {"AWS-SG-OPEN-SSH"} <= {f["rule"] for f in json.loads(out)["findings"]}
    code, out, _ = run_cli(capsys, "check", "-r", str(PLANTED), "-f", "json", "--workers", "1")
    found = {(f["rule"], f["file"], f["line"]) for f in json.loads(out)["findings"]}
    assert {(r, f"{root}/{file}", line) for root, rows in EXPECTED.items() for r, file, line, _ in rows} <= found


def test_tfvars_json_sets_variables_in_terraforms_order(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        'variable "public" {\n  type = bool\n  default = false\n}\nresource "aws_db_instance" "db" {\n'
        '  identifier = "db"\n  engine = "postgres"\n  instance_class = "db.t3.micro"\n  allocated_storage = 20\n'
        '  storage_encrypted = true\n  publicly_accessible = var.public\n}\n')
    (tmp_path / "terraform.tfvars").write_text("public = false\n")
    (tmp_path / "terraform.tfvars.json").write_text('{\n  "public": true\n}\n')  # read after terraform.tfvars
    report = run_checks(tmp_path, None, use_terraform=False)
    assert [(f.file, f.line) for f in report.findings if f.rule == "AWS-RDS-PUBLIC"] == [("main.tf", 11)]
    (tmp_path / "zz.auto.tfvars.json").write_text('{"public": false}')  # auto files come last
    assert not [f for f in run_checks(tmp_path, None, use_terraform=False).findings if f.rule == "AWS-RDS-PUBLIC"]


def test_json_numbers_and_non_json_constants(tmp_path: Path) -> None:
    (tmp_path / "main.tf.json").write_text(json.dumps({"resource": {"aws_ebs_volume": {"v": {
        "availability_zone": "a", "size": 1e3, "iops": 3.5e-2, "encrypted": False}}}}).replace("1000.0", "1e+3"))
    volume = load_config(tmp_path).resources[0]
    assert (volume.get("size"), volume.get("iops")) == (1000, 0.035)
    (tmp_path / "main.tf.json").write_text('{\n  "resource": {\n    "x": NaN\n  }\n}\n')
    report = run_checks(tmp_path, None, use_terraform=False)
    assert [(f.rule, f.line) for f in report.findings if f.rule == "TF-PARSE-ERROR"] == [("TF-PARSE-ERROR", 3)]


def test_json_strings_with_quoted_arguments_inside_interpolations(tmp_path: Path) -> None:
    """`"${format(\"%s-logs\", var.env)}"`: the quotes are the expression's, literal text around it is escaped."""
    (tmp_path / "main.tf.json").write_text(json.dumps({
        "variable": {"env": {"default": "prod"}},
        "resource": {"aws_s3_bucket": {"logs": {
            "bucket": '${format("%s-logs", var.env)}',
            "tags": {"Note": 'say "hi" at C:\\temp\\${var.env} and $${literal}',
                     "Nested": '${var.env == "prod" ? "${var.env}-x" : "{}"}'},
        }}},
    }, indent=2), encoding="utf-8")
    report = run_checks(tmp_path, None, use_terraform=False)
    assert not report.parse_problems, report.parse_problems
    bucket = next(b for b in report.config.resources if b.address == "aws_s3_bucket.logs")
    assert bucket.get("bucket") == "prod-logs"
    assert bucket.get("tags") == {"Note": 'say "hi" at C:\\temp\\prod and ${literal}', "Nested": "prod-x"}
