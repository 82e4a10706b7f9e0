"""Statement conditions judged on what they restrict: a condition that restricts nothing is no exemption."""

from __future__ import annotations

import pytest
from _run import fails, unknowns

from infraleash.checks.aws.conditions import restricts_principal
from infraleash.checks.aws.iam import TRUST_PUBLIC
from infraleash.checks.aws.kms import KEY_POLICY_PUBLIC
from infraleash.checks.aws.s3 import PUBLIC_POLICY
from infraleash.terraform.config import Unknown


@pytest.mark.parametrize("condition,expected", [
    ({"Bool": {"aws:SecureTransport": "true"}}, False),
    ({"StringLike": {"aws:PrincipalArn": "*"}}, False),
    ({"StringLike": {"aws:PrincipalArn": ["arn:aws:iam::111122223333:role/ci", "*"]}}, False),
    ({"StringNotEquals": {"aws:PrincipalAccount": "111122223333"}}, False),
    ({"StringEqualsIfExists": {"aws:SourceVpce": "vpce-1a2b3c4d"}}, False),
    ({"Null": {"aws:PrincipalOrgID": "false"}}, False),
    ({"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}, False),
    ({"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}, False),
    ({"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}}, False),
    ({"StringLike": {"token.actions.githubusercontent.com:sub": "repo:*"}}, False),
    ({"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}, True),
    ({"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}, "Bool": {"aws:SecureTransport": "true"}}, True),
    ({"IpAddress": {"aws:SourceIp": ["203.0.113.0/24"]}}, True),
    ({"StringLike": {"token.actions.githubusercontent.com:sub": "repo:acme/deploy:ref:refs/heads/main"}}, True),
    ({"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": "o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/*"}}, True),
    ([{"test": "StringEquals", "variable": "sts:ExternalId", "values": ["7f3c"]}], True),
    ([{"test": "Bool", "variable": "aws:SecureTransport", "values": ["true"]}], False),
    ({"StringEquals": {"aws:PrincipalOrgID": Unknown("var.org_id")}}, None),
    (Unknown("var.condition"), None),
])
def test_restricts_principal(condition: object, expected: bool | None) -> None:
    assert restricts_principal(condition) is expected


BUCKET_POLICY = '''resource "aws_s3_bucket_policy" "{name}" {{
  bucket = "acme-exports"
  policy = jsonencode({{
    Version = "2012-10-17"
    Statement = [{{
      Effect    = "Allow"
      Principal = "*"
      Action    = "s3:GetObject"
      Resource  = "arn:aws:s3:::acme-exports/*"
      Condition = {condition}
    }}]
  }})
}}
'''


@pytest.mark.parametrize("condition,verdict", [
    ('{ Bool = { "aws:SecureTransport" = "true" } }', "fail"),
    ('{ StringLike = { "aws:PrincipalArn" = "*" } }', "fail"),
    ('{ StringEquals = { "aws:SourceVpce" = "vpce-1a2b3c4d" } }', "pass"),
    ('{ StringEquals = { "aws:PrincipalOrgID" = var.org } }', "unknown"),
])
def test_public_bucket_policy_conditions(condition: str, verdict: str) -> None:
    text = 'variable "org" {}\n' + BUCKET_POLICY.format(name="p", condition=condition)
    assert (bool(fails(PUBLIC_POLICY, text)), bool(unknowns(PUBLIC_POLICY, text))) == \
        {"fail": (True, False), "pass": (False, False), "unknown": (False, True)}[verdict]


def test_trust_and_key_policies_use_the_same_judgement() -> None:
    trust = '''resource "aws_iam_role" "r" {
  name = "ci"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { AWS = "*" }
      Action    = "sts:AssumeRole"
      Condition = { Bool = { "aws:MultiFactorAuthPresent" = "true" } }
    }]
  })
}
'''
    assert fails(TRUST_PUBLIC, trust)
    assert not fails(TRUST_PUBLIC, trust.replace('Bool = { "aws:MultiFactorAuthPresent" = "true" }',
                                                 'StringEquals = { "sts:ExternalId" = "7f3c" }'))
    key = '''resource "aws_kms_key" "k" {
  policy = jsonencode({
    Statement = [{
      Effect    = "Allow"
      Principal = "*"
      Action    = "kms:Decrypt"
      Resource  = "*"
      Condition = { StringLike = { "kms:CallerAccount" = "*" } }
    }]
  })
}
'''
    assert fails(KEY_POLICY_PUBLIC, key)


def test_a_service_principal_with_an_unknown_identifier_is_not_public() -> None:
    text = '''data "aws_partition" "current" {}
data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.${data.aws_partition.current.dns_suffix}"]
    }
  }
}
resource "aws_iam_role" "r" {
  name               = "ec2"
  assume_role_policy = data.aws_iam_policy_document.assume.json
}
'''
    assert not fails(TRUST_PUBLIC, text) and not unknowns(TRUST_PUBLIC, text)
    assert unknowns(TRUST_PUBLIC, text.replace('type        = "Service"', 'type        = "AWS"'))
