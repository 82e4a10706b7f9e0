"""The ForceNew table (terraform/replacement.py) against real plans: Terraform 1.11 + AWS provider 5.100 + moto.

One apply of two copies of each non-RDS type, then one plan: the ``rep`` copies change
arguments the table says replace, the ``inp`` copies arguments it says change in place.
Every forcing path Terraform reports must be in the table, every table argument changed
must force, and the in-place copies must be plain updates.  (RDS: an instance takes ~80 s
against moto, so its entries are not plan-checked here; tests/terraform/test_plan_sandbox.py's
shared production plans show instance_class updating in place and storage_encrypted replacing.)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from infraleash.terraform.replacement import FORCE_NEW, IN_PLACE

pytestmark = pytest.mark.sandbox

ASSUME = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"%s"},"Action":"sts:AssumeRole"}]}'
POLICY = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"%s","Resource":"*"}]}'


def config(v2: bool) -> str:
    def pick(a: str, b: str) -> str:
        return b if v2 else a

    return f"""
resource "aws_vpc" "v" {{ cidr_block = "10.0.0.0/16" }}
resource "aws_vpc" "w" {{ cidr_block = "10.1.0.0/16" }}

resource "aws_s3_bucket" "rep" {{ bucket = "{pick('explain-rep-a', 'explain-rep-b')}" }}
resource "aws_s3_bucket" "inp" {{
  bucket        = "explain-inp"
  force_destroy = {pick('false', 'true')}
  tags          = {{ v = "{pick('1', '2')}" }}
}}

resource "aws_iam_role" "rep" {{
  name               = "{pick('explain-rep-a', 'explain-rep-b')}"
  path               = "{pick('/a/', '/b/')}"
  assume_role_policy = {json.dumps(ASSUME % 'ec2.amazonaws.com')}
}}
resource "aws_iam_role" "inp" {{
  name                 = "explain-inp"
  description          = "{pick('a', 'b')}"
  max_session_duration = {pick('3600', '7200')}
  assume_role_policy   = {json.dumps(ASSUME % pick('ec2.amazonaws.com', 'lambda.amazonaws.com'))}
  tags                 = {{ v = "{pick('1', '2')}" }}
}}

resource "aws_iam_policy" "rep" {{
  name        = "{pick('explain-rep-a', 'explain-rep-b')}"
  path        = "{pick('/a/', '/b/')}"
  description = "{pick('a', 'b')}"
  policy      = {json.dumps(POLICY % 's3:GetObject')}
}}
resource "aws_iam_policy" "inp" {{
  name   = "explain-inp"
  policy = {json.dumps(POLICY % pick('s3:GetObject', 's3:ListBucket'))}
  tags   = {{ v = "{pick('1', '2')}" }}
}}

resource "aws_security_group" "rep" {{
  name        = "{pick('explain-rep-a', 'explain-rep-b')}"
  description = "{pick('a', 'b')}"
  vpc_id      = {pick('aws_vpc.v.id', 'aws_vpc.w.id')}
}}
resource "aws_security_group" "inp" {{
  name                   = "explain-inp"
  description            = "fixed"
  vpc_id                 = aws_vpc.v.id
  revoke_rules_on_delete = {pick('false', 'true')}
  tags                   = {{ v = "{pick('1', '2')}" }}
  ingress {{
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["{pick('10.0.0.0/8', '10.2.0.0/16')}"]
  }}
}}

resource "aws_dynamodb_table" "rep" {{
  name         = "{pick('explain-rep-a', 'explain-rep-b')}"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "{pick('pk', 'pk2')}"
  range_key    = "{pick('sk', 'sk2')}"
  attribute {{
    name = "{pick('pk', 'pk2')}"
    type = "S"
  }}
  attribute {{
    name = "{pick('sk', 'sk2')}"
    type = "S"
  }}
}}
resource "aws_dynamodb_table" "inp" {{
  name                        = "explain-inp"
  billing_mode                = "{pick('PAY_PER_REQUEST', 'PROVISIONED')}"
  read_capacity               = {pick('null', '1')}
  write_capacity              = {pick('null', '1')}
  hash_key                    = "pk"
  deletion_protection_enabled = {pick('false', 'true')}
  tags                        = {{ v = "{pick('1', '2')}" }}
  attribute {{
    name = "pk"
    type = "S"
  }}
}}

resource "aws_ebs_volume" "rep" {{
  availability_zone = "{pick('us-east-1a', 'us-east-1b')}"
  size              = 1
  encrypted         = {pick('false', 'true')}
}}
resource "aws_ebs_volume" "inp" {{
  availability_zone = "us-east-1a"
  size              = {pick('1', '2')}
  type              = "{pick('gp2', 'gp3')}"
  tags              = {{ v = "{pick('1', '2')}" }}
}}
"""


CHANGED_REP = {
    "aws_s3_bucket": {"bucket"}, "aws_iam_role": {"name", "path"},
    "aws_iam_policy": {"name", "path", "description"},
    "aws_security_group": {"name", "description", "vpc_id"},
    "aws_dynamodb_table": {"name", "hash_key", "range_key"},
    "aws_ebs_volume": {"availability_zone", "encrypted"},
}
CHANGED_INP = {
    "aws_s3_bucket": {"force_destroy", "tags"}, "aws_iam_role": {"description", "max_session_duration",
                                                                  "assume_role_policy", "tags"},
    "aws_iam_policy": {"policy", "tags"}, "aws_security_group": {"revoke_rules_on_delete", "tags", "ingress"},
    "aws_dynamodb_table": {"billing_mode", "read_capacity", "write_capacity", "deletion_protection_enabled",
                           "tags"},
    "aws_ebs_volume": {"size", "type", "tags"},
}


@pytest.fixture(scope="module")
def changes(sandbox: Any, plugin_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    work = sandbox.workdir(tmp_path_factory.mktemp("replacement"), config(v2=False))
    sandbox.terraform(work, "init", "-input=false", "-no-color")
    sandbox.terraform(work, "apply", "-auto-approve", "-input=false", "-no-color")
    (work / "main.tf").write_text(config(v2=True), encoding="utf-8")
    sandbox.terraform(work, "plan", "-out=plan.bin", "-input=false", "-no-color", "-refresh=false")
    shown = json.loads(sandbox.terraform(work, "show", "-json", "plan.bin").stdout)
    return {rc["address"]: rc["change"] for rc in shown["resource_changes"]}


def test_the_table_names_the_arguments_terraform_replaces_for(changes: dict[str, dict[str, Any]]) -> None:
    for rtype, changed in CHANGED_REP.items():
        assert changed <= FORCE_NEW[rtype], rtype  # the test changes only what the table says forces
        change = changes[f"{rtype}.rep"]
        assert "delete" in change["actions"] and "create" in change["actions"], rtype
        forcing = {path[0] for path in change.get("replace_paths") or []}
        assert forcing == changed, f"{rtype}: terraform forces on {sorted(forcing)}, the table predicts {sorted(changed)}"


def test_the_in_place_arguments_update_in_place(changes: dict[str, dict[str, Any]]) -> None:
    for rtype, changed in CHANGED_INP.items():
        assert changed <= IN_PLACE[rtype], rtype
        change = changes[f"{rtype}.inp"]
        assert change["actions"] == ["update"], f"{rtype}: {change['actions']} {change.get('replace_paths')}"
