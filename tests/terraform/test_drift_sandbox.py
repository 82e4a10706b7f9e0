"""Drift that is real, on real plans: freshly applied configurations show none; out-of-band changes are found.

One configuration holds four of the five families the issue names (the fifth, RDS, is in
``test_plan_sandbox.py``, whose production state already holds a database): an S3 bucket with its split
resources (versioning, encryption, public access block, policy), security groups with rule resources of
both styles, a DynamoDB table with a GSI, TTL and PITR, an IAM role with a managed and an inline policy.
It is applied once to its own moto server and planned twice with refresh: as applied, then after
boto3 changed a bucket tag, a table tag, a managed policy document and a group's rules out of band.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from infraleash.findings import Kind, Severity
from infraleash.policy import Policy
from infraleash.review import review_plan
from infraleash.review.sandbox_plan import Production
from infraleash.terraform.plan import Plan, parse_plan
from infraleash.terraform.sandbox import MotoServer, sandbox_env, why_unavailable

pytestmark = pytest.mark.sandbox

CONFIG = {
    "s3.tf": """
resource "aws_s3_bucket" "logs" {
  bucket = "drift-logs-bucket"
  tags   = { Owner = "platform" }
}
resource "aws_s3_bucket_versioning" "logs" {
  bucket = aws_s3_bucket.logs.id
  versioning_configuration {
    status = "Enabled"
  }
}
resource "aws_s3_bucket_server_side_encryption_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}
resource "aws_s3_bucket_public_access_block" "logs" {
  bucket                  = aws_s3_bucket.logs.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}
resource "aws_s3_bucket_policy" "logs" {
  bucket = aws_s3_bucket.logs.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "DenyInsecure"
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:*"
      Resource  = ["${aws_s3_bucket.logs.arn}", "${aws_s3_bucket.logs.arn}/*"]
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }]
  })
}
""",
    "sg.tf": """
resource "aws_vpc" "main" {
  cidr_block = "10.50.0.0/16"
}
resource "aws_security_group" "web" {
  name        = "drift-web"
  description = "web tier"
  vpc_id      = aws_vpc.main.id
  tags        = { Owner = "platform" }
}
resource "aws_vpc_security_group_ingress_rule" "https" {
  security_group_id = aws_security_group.web.id
  cidr_ipv4         = "10.50.0.0/16"
  from_port         = 443
  to_port           = 443
  ip_protocol       = "tcp"
}
resource "aws_vpc_security_group_egress_rule" "all" {
  security_group_id = aws_security_group.web.id
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "-1"
}
resource "aws_security_group" "db" {
  name        = "drift-db"
  description = "database tier"
  vpc_id      = aws_vpc.main.id
}
resource "aws_security_group_rule" "db_from_web" {
  type                     = "ingress"
  security_group_id        = aws_security_group.db.id
  source_security_group_id = aws_security_group.web.id
  from_port                = 5432
  to_port                  = 5432
  protocol                 = "tcp"
}
""",
    "dynamodb.tf": """
resource "aws_dynamodb_table" "events" {
  name         = "drift-events"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "pk"
  range_key    = "sk"
  attribute {
    name = "pk"
    type = "S"
  }
  attribute {
    name = "sk"
    type = "S"
  }
  attribute {
    name = "gsi_pk"
    type = "S"
  }
  global_secondary_index {
    name            = "by_gsi"
    hash_key        = "gsi_pk"
    projection_type = "ALL"
  }
  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }
  point_in_time_recovery {
    enabled = true
  }
  tags = { Owner = "platform" }
}
""",
    "iam.tf": """
resource "aws_iam_role" "app" {
  name = "drift-app"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ec2.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
  tags = { Owner = "platform" }
}
resource "aws_iam_policy" "read" {
  name = "drift-app-read"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["s3:GetObject", "s3:ListBucket"]
      Resource = "*"
    }]
  })
}
resource "aws_iam_role_policy_attachment" "read" {
  role       = aws_iam_role.app.name
  policy_arn = aws_iam_policy.read.arn
}
resource "aws_iam_role_policy" "inline" {
  name = "drift-inline"
  role = aws_iam_role.app.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = "sqs:SendMessage"
      Resource = "*"
    }]
  })
}
""",
}


def _client(service: str, endpoint: str) -> Any:
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test",
                        aws_secret_access_key="test")  # noqa: S106


def _change_out_of_band(endpoint: str) -> None:
    s3, ec2, iam, ddb = (_client(s, endpoint) for s in ("s3", "ec2", "iam", "dynamodb"))
    s3.put_bucket_tagging(Bucket="drift-logs-bucket", Tagging={"TagSet": [
        {"Key": "Owner", "Value": "platform"}, {"Key": "CostCenter", "Value": "4242"}]})
    (sg,) = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["drift-web"]}])["SecurityGroups"]
    ec2.authorize_security_group_ingress(GroupId=sg["GroupId"], IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    arn = next(p["Arn"] for p in iam.list_policies(Scope="Local")["Policies"] if p["PolicyName"] == "drift-app-read")
    iam.create_policy_version(PolicyArn=arn, SetAsDefault=True, PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
    table = ddb.describe_table(TableName="drift-events")["Table"]["TableArn"]
    ddb.tag_resource(ResourceArn=table, Tags=[{"Key": "Owner", "Value": "someone-else"}])


@pytest.fixture(scope="module")
def plans(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Plan]]:
    if (why := why_unavailable()) is not None:
        pytest.skip(f"real Terraform sandbox unavailable: {why}")
    base = tmp_path_factory.mktemp("drift")
    with MotoServer(log_path=base / "moto.log") as moto:
        env = {k: v for k, v in sandbox_env(base / "tfconfig").items() if k != "TF_PLUGIN_CACHE_DIR"}
        prod = Production.apply(base / "prod", CONFIG, endpoint=moto.endpoint, env=env)
        fresh = parse_plan(prod.derive(base / "fresh", CONFIG).plan_json(), "fresh.json")
        _change_out_of_band(moto.endpoint)
        drifted = parse_plan(prod.derive(base / "drifted", CONFIG).plan_json(), "drifted.json")
        yield {"fresh": fresh, "drifted": drifted}


def test_freshly_applied_configurations_show_no_drift(plans: dict[str, Plan]) -> None:
    plan = plans["fresh"]
    # refresh did report the split resources' attributes on their parents: that is what is not drift
    raw = {(d.address, a.name) for d in plan.drift for a in [*d.attributes, *d.noise]}
    assert {("aws_s3_bucket.logs", "versioning"), ("aws_security_group.web", "ingress"),
            ("aws_iam_role.app", "managed_policy_arns"), ("aws_iam_policy.read", "attachment_count")} <= raw
    report = review_plan(plan, Policy())
    assert [f.message for f in report.findings if f.kind is Kind.DRIFT] == []
    assert report.summary is not None and report.summary.drift == [] and report.active() == []
    notes = "\n".join(report.debug)
    assert "versioning (managed by aws_s3_bucket_versioning.logs" in notes
    assert "attachment_count (computed by the provider" in notes


def test_out_of_band_changes_are_found_by_attribute(plans: dict[str, Plan]) -> None:
    report = review_plan(plans["drifted"], Policy())
    found = {(f.address, f.severity, tuple(sorted(a["path"] for a in f.details.get("reverted", f.details.get(
        "drifted", []))))) for f in report.active() if f.kind is Kind.DRIFT}
    assert found == {
        ("aws_s3_bucket.logs", Severity.MEDIUM, ("tags",)),  # the plan sets the tags back
        ("aws_dynamodb_table.events", Severity.MEDIUM, ("tags",)),
        ("aws_iam_policy.read", Severity.MEDIUM, ("policy",)),
        ("aws_security_group.web", Severity.INFO, ("ingress",)),  # a rule no resource manages: kept
    }
    (sg,) = [f for f in report.active() if f.address == "aws_security_group.web"]
    (added,) = sg.details["drifted"][0]["after"]  # only the hand-made rule, not the managed 443 one
    assert (added["from_port"], added["cidr_blocks"]) == (22, ["0.0.0.0/0"])
    (policy,) = [f for f in report.active() if f.address == "aws_iam_policy.read"]
    assert "s3:*" in policy.message and "reverts" in policy.message
