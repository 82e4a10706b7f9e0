"""KMS: key rotation and key policies open to any principal."""

from __future__ import annotations

from collections.abc import Iterator

from infraleash.checks.aws._common import require_true
from infraleash.checks.aws._iam_common import allow, policy_results
from infraleash.checks.aws.conditions import exempt_unless_restricted
from infraleash.checks.aws.policy_document import (
    Statement,
    document_source,
    policy_statements,
    principal_is_public,
)
from infraleash.checks.rule import CheckContext, Result, Rule
from infraleash.findings import Kind, Severity
from infraleash.terraform.config import Block


def _check_rotation(block: Block, ctx: CheckContext) -> Iterator[Result]:
    spec = block.get("customer_master_key_spec", "SYMMETRIC_DEFAULT")
    if isinstance(spec, str) and spec != "SYMMETRIC_DEFAULT":
        return  # rotation applies to symmetric encryption keys only
    if block.get("key_usage", "ENCRYPT_DECRYPT") not in ("ENCRYPT_DECRYPT",) and \
            isinstance(block.get("key_usage"), str):
        return
    yield from require_true(block, "enable_key_rotation", "KMS key does not have automatic rotation enabled")


KEY_ROTATION = Rule(
    id="AWS-KMS-NO-ROTATION",
    title="KMS key does not have automatic rotation enabled",
    severity=Severity.MEDIUM,
    kind=Kind.SECURITY,
    resource_types=("aws_kms_key",),
    why="Automatic rotation limits how much data any one key version protects and is required by most "
        "compliance frameworks; it is transparent to callers.",
    fail_example='''resource "aws_kms_key" "fail" {
  description = "app data"
}''',
    pass_example='''resource "aws_kms_key" "pass" {
  description         = "app data"
  enable_key_rotation = true
}''',
    unknown_example='''variable "rotate" { type = bool }
resource "aws_kms_key" "unknown" {
  description         = "app data"
  enable_key_rotation = var.rotate
}''',
    check=_check_rotation,
    checkov_ids=("CKV_AWS_7",),
    references=("https://docs.aws.amazon.com/kms/latest/developerguide/rotate-keys.html",),
)


def _is_public(st: Statement) -> bool | None:
    def inner() -> bool | None:
        public = principal_is_public(st.principals)
        return exempt_unless_restricted(st) if public else public

    return allow(st, inner)


def _check_key_policy(block: Block, ctx: CheckContext) -> Iterator[Result]:
    found = policy_statements(block, "policy", ctx.config)
    if found is None:
        return
    yield from policy_results(block, "policy", found, document_source(block, "policy", ctx.config), _is_public,
                              "KMS key policy allows any principal (\"*\")")


KEY_POLICY_PUBLIC = Rule(
    id="AWS-KMS-POLICY-PUBLIC",
    title="KMS key policy allows any principal (\"*\")",
    severity=Severity.CRITICAL,
    kind=Kind.SECURITY,
    resource_types=("aws_kms_key",),
    why="A key policy statement for Principal \"*\" without a condition lets any AWS account use (or manage) "
        "the key, and with it decrypt everything the key protects.",
    fail_example='''resource "aws_kms_key" "fail" {
  description         = "shared"
  enable_key_rotation = true
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = "*", Action = "kms:*", Resource = "*" }]
  })
}''',
    pass_example='''resource "aws_kms_key" "pass" {
  description         = "shared"
  enable_key_rotation = true
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { AWS = "arn:aws:iam::123456789012:root" }
      Action    = "kms:*"
      Resource  = "*"
    }]
  })
}''',
    check=_check_key_policy,
    checkov_ids=("CKV_AWS_33",),
    references=("https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html",),
)

RULES: list[Rule] = [KEY_ROTATION, KEY_POLICY_PUBLIC]
