"""Hallucination checks: silent on valid real-world AWS Terraform, a finding on every invention."""

from __future__ import annotations

from pathlib import Path

import pytest

from infraleash.checks import hallucination as h
from infraleash.terraform.hcl import load_config, load_text
from infraleash.terraform.schema import load_schemas

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def schemas():
    return load_schemas(None)


def findings(text: str, schemas):
    return h.check(load_text(text), schemas)


def test_valid_real_world_configuration_has_no_hallucination(schemas) -> None:
    cfg = load_config(FIXTURES / "realistic")
    assert len(cfg.resources) >= 25 and not cfg.problems
    assert any(b.module_path == "module.logs" for b in cfg.resources)
    assert h.check(cfg, schemas) == []


INVENTED = [
    ('resource "aws_s3_bukket" "x" {\n  bucket = "b"\n}\n', h.UNKNOWN_RESOURCE, 1, "aws_s3_bucket"),
    ('resource "aws_lambda_functions" "x" {\n}\n', h.UNKNOWN_RESOURCE, 1, "aws_lambda_function"),
    ('resource "aws_kubernetes_cluster" "x" {\n}\n', h.UNKNOWN_RESOURCE, 1, None),
    ('data "aws_vpc_lookup" "x" {\n}\n', h.UNKNOWN_DATA, 1, None),
    ('data "aws_amii" "x" {\n  owners = ["amazon"]\n}\n', h.UNKNOWN_DATA, 1, "aws_ami"),
    ('resource "aws_s3_bucket" "x" {\n  bucket = "b"\n  enable_encryption = true\n}\n', h.UNKNOWN_ARGUMENT, 3, None),
    ('resource "aws_vpc" "x" {\n  cidr_block = "10.0.0.0/16"\n  enable_dns = true\n}\n', h.UNKNOWN_ARGUMENT, 3,
     "enable_dns_support"),
    ('resource "aws_db_instance" "x" {\n  instance_class = "db.t3.micro"\n  encrypted = true\n}\n',
     h.UNKNOWN_ARGUMENT, 3, None),
    ('resource "aws_security_group" "x" {\n  ingress {\n    from_prot = 22\n  }\n}\n', h.UNKNOWN_ARGUMENT, 3,
     "from_port"),
    ('resource "aws_s3_bucket_versioning" "x" {\n  bucket = "b"\n  versioning_configuration {\n'
     '    status = "Enabled"\n    enabled = true\n  }\n}\n', h.UNKNOWN_ARGUMENT, 5, None),
    ('resource "aws_vpc" "x" {\n  cidr_block = "10.0.0.0/16"\n  arn = "arn:aws:ec2:x"\n}\n', h.UNKNOWN_ARGUMENT, 3,
     None),
    ('resource "aws_vpc" "x" {\n  cidr_block = "10.0.0.0/16"\n  tags {\n    Name = "x"\n  }\n}\n', h.MISMATCH, 3,
     None),
    ('resource "aws_s3_bucket_versioning" "x" {\n  bucket = "b"\n  versioning_configuration = { status = "Enabled" }\n'
     '}\n', h.MISMATCH, 3, None),
    ('resource "aws_iam_role" "x" {\n  name = "r"\n}\n', h.MISSING_REQUIRED, 1, None),
    ('resource "aws_s3_bucket_versioning" "x" {\n  bucket = "b"\n}\n', h.MISSING_REQUIRED, 1, None),
    ('resource "aws_s3_bucket" "x" {\n  bucket = "b"\n  acl = "private"\n}\n', h.DEPRECATED, 3, None),
    ('resource "aws_vpc" "v" {\n  cidr_block = "10.0.0.0/16"\n}\noutput "o" {\n  value = aws_vpc.v.arn_xyz\n}\n',
     h.UNKNOWN_REFERENCE, 5, None),
    ('resource "aws_vpc" "v" {\n  cidr_block = "10.0.0.0/16"\n}\nresource "aws_subnet" "s" {\n'
     '  vpc_id = aws_vpc.v.vpc_id\n  cidr_block = "10.0.1.0/24"\n}\n', h.UNKNOWN_REFERENCE, 5, None),
    ('resource "aws_subnet" "s" {\n  vpc_id = aws_vpc.mian.id\n  cidr_block = "10.0.1.0/24"\n}\n', h.UNDECLARED, 2,
     None),
]


@pytest.mark.parametrize("text,rule,line,suggestion", INVENTED, ids=[f"{i}-{c[1]}" for i, c in enumerate(INVENTED)])
def test_every_invention_is_found(schemas, text: str, rule: str, line: int, suggestion: str | None) -> None:
    got = [f for f in findings(text, schemas) if f.rule == rule]
    assert got, [f.message for f in findings(text, schemas)]
    assert got[0].line == line and got[0].file == "main.tf"
    if suggestion:
        assert got[0].suggestion == suggestion and f"did you mean `{suggestion}`" in got[0].message


def test_meta_arguments_dynamic_and_unknown_values_are_not_findings(schemas) -> None:
    text = '''
variable "ports" {}
resource "aws_security_group" "x" {
  count    = 0
  provider = aws
  name     = var.name_from_nowhere
  dynamic "ingress" {
    for_each = var.ports
    content {
      from_port = ingress.value
      to_port   = ingress.value
      protocol  = "tcp"
    }
  }
  lifecycle {
    ignore_changes = [tags]
  }
  depends_on = [aws_vpc.v]
  timeouts {
    create = "5m"
  }
}
resource "aws_vpc" "v" {
  for_each   = toset(["a"])
  cidr_block = each.value
}
resource "random_id" "r" {
  byte_length = 4
  anything    = 1
}
'''
    assert findings(text, schemas) == []


def test_module_inputs_and_outputs_are_checked(tmp_path: Path, schemas) -> None:
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "main.tf").write_text('variable "name" {}\noutput "id" {\n  value = var.name\n}\n')
    (tmp_path / "main.tf").write_text('module "m" {\n  source = "./m"\n  nmae = "x"\n}\n'
                                      'output "o" {\n  value = module.m.idd\n}\n')
    got = {(f.rule, f.line) for f in h.check(load_config(tmp_path), schemas)}
    assert got == {(h.UNKNOWN_ARGUMENT, 3), (h.MISSING_REQUIRED, 1), (h.UNKNOWN_REFERENCE, 6)}
