"""S3 default encryption that is set but inconsistent.

* ``sse_algorithm = "AES256"`` with a ``kms_master_key_id``: the key is never used (S3 rejects
  the configuration: a KMS key applies only to ``aws:kms``/``aws:kms:dsse``), so whoever wrote it
  believes objects are under their customer key while they are not;
* ``aws:kms`` (or ``aws:kms:dsse``) with no key, or the AWS managed ``alias/aws/s3``, on a bucket
  whose bucket policy requires a customer key (a condition on
  ``s3:x-amz-server-side-encryption-aws-kms-key-id``): objects written with the default
  encryption use the AWS managed key, which the policy refuses.

Read from ``aws_s3_bucket_server_side_encryption_configuration`` (provider v4+) and the inline
``server_side_encryption_configuration`` block of ``aws_s3_bucket`` (v3).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from infraleash.checks.aws._common import nested, unknown
from infraleash.checks.aws.conditions import clauses
from infraleash.checks.aws.policy_document import policy_statements
from infraleash.checks.rule import CheckContext, Result, Rule
from infraleash.findings import Kind, Severity
from infraleash.terraform.config import Block, Unknown

KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")
AWS_MANAGED_KEY = "alias/aws/s3"
KEY_CONDITION = "s3:x-amz-server-side-encryption-aws-kms-key-id"


def _bucket_names(block: Block, ctx: CheckContext) -> set[str]:
    """What names the bucket ``block`` is about: the aws_s3_bucket address and the bucket's name."""
    bucket: Block | None
    if block.type == "aws_s3_bucket":
        bucket = block
    else:
        bucket = next((b for b in ctx.config.of_type("aws_s3_bucket")
                       if b.module_path == block.module_path and block.refers_to(b)), None)
    names = {bucket.address} if bucket is not None else set()
    for value in (bucket.get("bucket") if bucket is not None else None, block.get("bucket")):
        if isinstance(value, str) and value:
            names.add(value)
    return names


def _policy_required_keys(ctx: CheckContext, bucket: set[str], module_path: str) -> list[Any] | Unknown | None:
    """The KMS keys the bucket's policy requires for uploads (None: it requires none)."""
    found: list[Any] = []
    for pol in ctx.config.of_type("aws_s3_bucket_policy"):
        if pol.module_path != module_path or not (_bucket_names(pol, ctx) & bucket):
            continue
        sts = policy_statements(pol, "policy", ctx.config)
        if isinstance(sts, Unknown):
            return sts
        for st in sts or []:
            if isinstance(st, Unknown):
                continue
            cl = clauses(st.conditions)
            if isinstance(cl, Unknown):
                return cl
            for _op, key, values in cl:
                if isinstance(key, str) and key.lower() == KEY_CONDITION:
                    found += values if isinstance(values, list | tuple) else [values]
    return found or None


def _defaults(block: Block) -> list[Block]:
    if block.type == "aws_s3_bucket":
        return list(nested(block, "server_side_encryption_configuration", "rule",
                           "apply_server_side_encryption_by_default"))
    return list(nested(block, "rule", "apply_server_side_encryption_by_default"))


def _check(block: Block, ctx: CheckContext) -> Iterator[Result]:
    where = "server_side_encryption_configuration" if block.type == "aws_s3_bucket" else "rule"
    for default in _defaults(block):
        algorithm, key = default.get("sse_algorithm"), default.get("kms_master_key_id")
        if isinstance(algorithm, Unknown):
            if key not in (None, ""):
                yield unknown("S3 encryption algorithm with a KMS key", algorithm, attribute=where)
            continue
        if algorithm == "AES256" and key not in (None, ""):
            shown = key.reason if isinstance(key, Unknown) else key
            yield Result(f"S3 encryption names KMS key {shown} but sse_algorithm is AES256: the key is not used "
                         "(use sse_algorithm = \"aws:kms\")", attribute=where,
                         details={"sse_algorithm": algorithm, "kms_master_key_id": str(shown)})
        elif algorithm in KMS_ALGORITHMS and (key in (None, "") or key == AWS_MANAGED_KEY):
            required = _policy_required_keys(ctx, _bucket_names(block, ctx), block.module_path)
            if isinstance(required, Unknown):
                yield unknown("whether the bucket policy requires a customer KMS key", required, attribute=where)
            elif required:
                shown = ", ".join(str(k.reason if isinstance(k, Unknown) else k) for k in required)
                yield Result(f"S3 default encryption uses the AWS managed key ({AWS_MANAGED_KEY}) but the bucket "
                             f"policy requires the customer key {shown}: set kms_master_key_id", attribute=where,
                             details={"sse_algorithm": algorithm, "required_keys": shown})


_KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"

ENCRYPTION_INCONSISTENT = Rule(
    id="AWS-S3-ENCRYPTION-INCONSISTENT",
    title="S3 encryption is set but inconsistent (KMS key with AES256, or not the key the policy requires)",
    severity=Severity.HIGH,
    kind=Kind.SECURITY,
    resource_types=("aws_s3_bucket_server_side_encryption_configuration", "aws_s3_bucket"),
    why="An encryption block that looks right is trusted by reviewers. A KMS key next to AES256 is never used "
        "(objects are under S3-managed keys, outside the key policy and its CloudTrail record); aws:kms without "
        "a key uses the AWS managed aws/s3 key, which a bucket policy requiring the customer key refuses, so "
        "writes fail or get routed around the control.",
    fail_example=f'''resource "aws_s3_bucket_server_side_encryption_configuration" "fail" {{
  bucket = "acme-invoices"
  rule {{
    apply_server_side_encryption_by_default {{
      sse_algorithm     = "AES256"
      kms_master_key_id = "{_KEY}"
    }}
  }}
}}''',
    pass_example=f'''resource "aws_s3_bucket" "pass" {{
  bucket = "acme-invoices"
}}
resource "aws_s3_bucket_server_side_encryption_configuration" "pass" {{
  bucket = aws_s3_bucket.pass.id
  rule {{
    apply_server_side_encryption_by_default {{
      sse_algorithm     = "aws:kms"
      kms_master_key_id = "{_KEY}"
    }}
  }}
}}
resource "aws_s3_bucket_policy" "pass" {{
  bucket = aws_s3_bucket.pass.id
  policy = jsonencode({{
    Version = "2012-10-17"
    Statement = [{{
      Sid       = "RequireCustomerKey"
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:PutObject"
      Resource  = "arn:aws:s3:::acme-invoices/*"
      Condition = {{ StringNotEquals = {{ "{KEY_CONDITION}" = "{_KEY}" }} }}
    }}]
  }})
}}''',
    unknown_example='''variable "algorithm" { type = string }
resource "aws_s3_bucket_server_side_encryption_configuration" "unknown" {
  bucket = "acme-invoices"
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = var.algorithm
      kms_master_key_id = "alias/invoices"
    }
  }
}''',
    check=_check,
    references=("https://docs.aws.amazon.com/AmazonS3/latest/userguide/specifying-kms-encryption.html",
                "https://docs.aws.amazon.com/AmazonS3/latest/API/API_ServerSideEncryptionByDefault.html"),
)

RULES: list[Rule] = [ENCRYPTION_INCONSISTENT]
