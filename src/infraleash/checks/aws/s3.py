"""S3: encryption, public access block, public ACLs and policies, versioning, access logs.

Provider v4+ splits a bucket's settings into their own resources
(``aws_s3_bucket_server_side_encryption_configuration``, ``aws_s3_bucket_public_access_block``,
``aws_s3_bucket_versioning``, ``aws_s3_bucket_acl``, ``aws_s3_bucket_policy``,
``aws_s3_bucket_logging``), attached by ``bucket = aws_s3_bucket.x.id`` or by the literal
bucket name.  The rules on ``aws_s3_bucket`` accept either the inline (v3) block or a linked
resource, and answer *unknown* when a candidate resource names its bucket through a variable.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from infraleash.checks.aws._common import Words, linked, nested, truth, unresolved_links
from infraleash.checks.aws._iam_common import allow, policy_results
from infraleash.checks.aws.conditions import exempt_unless_restricted
from infraleash.checks.aws.policy_document import (
    Statement,
    document_source,
    policy_statements,
    principal_is_public,
)
from infraleash.checks.rule import CheckContext, Result, Rule
from infraleash.findings import Kind, Outcome, Severity
from infraleash.terraform.config import Block, Unknown

_S3_DOCS = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/security-best-practices.html"
PUBLIC_ACLS = Words({"public-read", "public-read-write", "authenticated-read"})
_PUBLIC_GRANTEES = ("http://acs.amazonaws.com/groups/global/AllUsers",
                    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers")
PAB_FLAGS = ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")


def bucket_setting(ctx: CheckContext, bucket: Block, inline: bool | None, link_types: tuple[str, ...],
                   link_ok: Callable[[Block], bool | None], message: str, attribute: str | None = None,
                   ) -> Iterator[Result]:
    """FAIL when neither the inline setting nor a linked resource provides it; UNKNOWN when undecidable."""
    if inline:
        return
    verdicts = [link_ok(b) for b in linked(ctx, bucket, *link_types)]
    if any(verdicts):
        return
    maybe = [b for b in unresolved_links(ctx, bucket, *link_types)]
    if inline is None or None in verdicts or maybe:
        why = f"{maybe[0].address} names its bucket by a value known only at apply time" if maybe else \
            "the setting depends on a value not known statically"
        yield Result(f"{message}: cannot tell, {why}", outcome=Outcome.UNKNOWN, attribute=attribute,
                     details={"unknown": why})
        return
    yield Result(message, attribute=attribute)


# --------------------------------------------------------------------------- encryption


def _check_encryption(bucket: Block, ctx: CheckContext) -> Iterator[Result]:
    inline = bool(bucket.blocks("server_side_encryption_configuration"))

    def ok(b: Block) -> bool | None:
        return bool(list(nested(b, "rule", "apply_server_side_encryption_by_default")))

    yield from bucket_setting(ctx, bucket, inline, ("aws_s3_bucket_server_side_encryption_configuration",), ok,
                              "S3 bucket has no server-side encryption configuration")


NO_ENCRYPTION = Rule(
    id="AWS-S3-NO-ENCRYPTION",
    title="S3 bucket has no server-side encryption configuration",
    severity=Severity.LOW,
    kind=Kind.SECURITY,
    resource_types=("aws_s3_bucket",),
    why="S3 now applies SSE-S3 by default, but without an explicit configuration the bucket cannot use a "
        "customer-managed KMS key (key policy, CloudTrail record of every decrypt, revocation), and a "
        "reviewer cannot see the intent. Declare the encryption the data requires.",
    fail_example='''resource "aws_s3_bucket" "fail" {
  bucket = "acme-invoices"
}''',
    pass_example='''resource "aws_s3_bucket" "pass" {
  bucket = "acme-invoices"
}
resource "aws_s3_bucket_server_side_encryption_configuration" "pass" {
  bucket = aws_s3_bucket.pass.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    }
  }
}''',
    unknown_example='''variable "bucket_name" { type = string }
resource "aws_s3_bucket" "unknown" {
  bucket = "acme-invoices"
}
resource "aws_s3_bucket_server_side_encryption_configuration" "maybe" {
  bucket = var.bucket_name
  rule {
    apply_server_side_encryption_by_default { sse_algorithm = "AES256" }
  }
}''',
    check=_check_encryption,
    checkov_ids=("CKV_AWS_19",),
    references=("https://docs.aws.amazon.com/AmazonS3/latest/userguide/serv-side-encryption.html",),
)


# --------------------------------------------------------------------------- public access block


def _account_block_complete(ctx: CheckContext) -> bool:
    return any(all(truth(b.get(f)) for f in PAB_FLAGS) for b in ctx.config.of_type("aws_s3_account_public_access_block"))


def _check_pab_present(bucket: Block, ctx: CheckContext) -> Iterator[Result]:
    if _account_block_complete(ctx):
        return
    yield from bucket_setting(ctx, bucket, False, ("aws_s3_bucket_public_access_block",), lambda b: True,
                              "S3 bucket has no public access block")


NO_PUBLIC_ACCESS_BLOCK = Rule(
    id="AWS-S3-NO-PUBLIC-ACCESS-BLOCK",
    title="S3 bucket has no public access block",
    severity=Severity.HIGH,
    kind=Kind.SECURITY,
    resource_types=("aws_s3_bucket",),
    why="The public access block is the guard rail that keeps a later ACL or policy mistake (an agent's or a "
        "human's) from publishing the bucket. Without it one wrong line exposes the data.",
    fail_example='''resource "aws_s3_bucket" "fail" {
  bucket = "acme-exports"
}''',
    pass_example='''resource "aws_s3_bucket" "pass" {
  bucket = "acme-exports"
}
resource "aws_s3_bucket_public_access_block" "pass" {
  bucket                  = "acme-exports"
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}''',
    unknown_example='''variable "bucket_id" { type = string }
resource "aws_s3_bucket" "unknown" {
  bucket = "acme-exports"
}
resource "aws_s3_bucket_public_access_block" "maybe" {
  bucket                  = var.bucket_id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}''',
    check=_check_pab_present,
    checkov_ids=("CKV2_AWS_6",),
    references=("https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html",),
)


PAB_FLAG_DOORS = {
    "block_public_acls": "new public ACLs (bucket or object) are accepted",
    "ignore_public_acls": "existing public ACLs still grant access",
    "block_public_policy": "a bucket policy granting public access can be attached",
    "restrict_public_buckets": "a public bucket policy still lets anyone in",
}


def _check_pab_flags(block: Block, ctx: CheckContext) -> Iterator[Result]:
    """One finding per flag that is false or missing (its default is false), naming the flag."""
    for flag in PAB_FLAGS:
        value = block.get(flag)
        verdict = truth(value)
        if verdict is False:
            how = "is false" if flag in block.attrs else "is missing (defaults to false)"
            yield Result(f"public access block: `{flag}` {how}, so {PAB_FLAG_DOORS[flag]}",
                         attribute=flag if flag in block.attrs else None, details={"flag": flag, "off": [flag]})
        elif verdict is None:
            why = value.reason if isinstance(value, Unknown) else repr(value)
            yield Result(f"public access block flag `{flag}` cannot be decided: {why}", outcome=Outcome.UNKNOWN,
                         attribute=flag, details={"flag": flag, "unknown": why})


PAB_INCOMPLETE = Rule(
    id="AWS-S3-PUBLIC-ACCESS-BLOCK-INCOMPLETE",
    title="public access block does not set all four flags to true",
    severity=Severity.HIGH,
    kind=Kind.SECURITY,
    resource_types=("aws_s3_bucket_public_access_block", "aws_s3_account_public_access_block"),
    why="Each flag closes a different door: block_public_acls and ignore_public_acls stop public ACLs, "
        "block_public_policy and restrict_public_buckets stop public bucket policies. A flag left false "
        "(the default) leaves that door open.",
    fail_example='''resource "aws_s3_bucket_public_access_block" "fail" {
  bucket            = "acme-exports"
  block_public_acls = true
  ignore_public_acls = true
}''',
    pass_example='''resource "aws_s3_bucket_public_access_block" "pass" {
  bucket                  = "acme-exports"
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}''',
    unknown_example='''variable "strict" { type = bool }
resource "aws_s3_bucket_public_access_block" "unknown" {
  bucket                  = "acme-exports"
  block_public_acls       = var.strict
  block_public_policy     = var.strict
  ignore_public_acls      = var.strict
  restrict_public_buckets = var.strict
}''',
    check=_check_pab_flags,
    checkov_ids=("CKV_AWS_53", "CKV_AWS_54", "CKV_AWS_55", "CKV_AWS_56"),
    references=("https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html",),
)


# --------------------------------------------------------------------------- public ACL


def _check_public_acl(block: Block, ctx: CheckContext) -> Iterator[Result]:
    acl = block.get("acl")
    if isinstance(acl, str) and acl in PUBLIC_ACLS:
        yield Result(f"S3 bucket ACL grants public access (acl = \"{acl}\")", attribute="acl")
        return
    for grant in nested(block, "access_control_policy", "grant"):
        for grantee in grant.blocks("grantee"):
            if grantee.get("uri") in _PUBLIC_GRANTEES:
                yield Result(f"S3 bucket ACL grants public access ({grant.get('permission')} to "
                             f"{str(grantee.get('uri')).rsplit('/', 1)[-1]})", attribute="access_control_policy")
                return
    if block.type == "aws_s3_bucket":
        for grant in block.blocks("grant"):
            if grant.get("uri") in _PUBLIC_GRANTEES:
                yield Result("S3 bucket ACL grants public access (grant to "
                             f"{str(grant.get('uri')).rsplit('/', 1)[-1]})", attribute="grant")
                return
    if isinstance(acl, Unknown):
        yield Result(f"whether the S3 bucket ACL is public cannot be decided: {acl.reason}",
                     outcome=Outcome.UNKNOWN, attribute="acl", details={"unknown": acl.reason})


PUBLIC_ACL = Rule(
    id="AWS-S3-PUBLIC-ACL",
    title="S3 bucket ACL grants public access",
    severity=Severity.CRITICAL,
    kind=Kind.SECURITY,
    resource_types=("aws_s3_bucket", "aws_s3_bucket_acl"),
    why="public-read lets anyone list and download every object; public-read-write lets anyone upload (malware "
        "hosting, huge bills); authenticated-read means any AWS customer. Serve public content through "
        "CloudFront with origin access control instead.",
    fail_example='''resource "aws_s3_bucket_acl" "fail" {
  bucket = "acme-site"
  acl    = "public-read"
}''',
    pass_example='''resource "aws_s3_bucket_acl" "pass" {
  bucket = "acme-site"
  acl    = "private"
}''',
    unknown_example='''variable "acl" { type = string }
resource "aws_s3_bucket_acl" "unknown" {
  bucket = "acme-site"
  acl    = var.acl
}''',
    check=_check_public_acl,
    checkov_ids=("CKV_AWS_20", "CKV_AWS_57"),
    references=("https://docs.aws.amazon.com/AmazonS3/latest/userguide/acl-overview.html",),
)


# --------------------------------------------------------------------------- public bucket policy


def _is_public_statement(st: Statement) -> bool | None:
    def inner() -> bool | None:
        public = principal_is_public(st.principals)
        if public:
            return exempt_unless_restricted(st)  # aws:SourceVpce, aws:PrincipalOrgID restrict; SecureTransport not
        return public

    return allow(st, inner)


def _check_public_policy(block: Block, ctx: CheckContext) -> Iterator[Result]:
    found = policy_statements(block, "policy", ctx.config)
    if found is None:
        return
    yield from policy_results(block, "policy", found, document_source(block, "policy", ctx.config),
                              _is_public_statement, "S3 bucket policy allows any principal (\"*\")")


PUBLIC_POLICY = Rule(
    id="AWS-S3-POLICY-PUBLIC",
    title="S3 bucket policy allows any principal (\"*\")",
    severity=Severity.CRITICAL,
    kind=Kind.SECURITY,
    resource_types=("aws_s3_bucket_policy", "aws_s3_bucket"),
    why="An Allow for Principal \"*\" without a condition opens the listed actions to the whole internet; "
        "most public-bucket data leaks are exactly this statement. Name the principals, or restrict with "
        "aws:SourceVpce / aws:PrincipalOrgID conditions.",
    fail_example='''resource "aws_s3_bucket_policy" "fail" {
  bucket = "acme-site"
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = "*", Action = "s3:GetObject", Resource = "arn:aws:s3:::acme-site/*" }]
  })
}''',
    pass_example='''resource "aws_s3_bucket_policy" "pass" {
  bucket = "acme-site"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { AWS = "arn:aws:iam::123456789012:role/site-reader" }
      Action    = "s3:GetObject"
      Resource  = "arn:aws:s3:::acme-site/*"
    }]
  })
}''',
    unknown_example='''variable "reader" { type = string }
resource "aws_s3_bucket_policy" "unknown" {
  bucket = "acme-site"
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { AWS = var.reader }, Action = "s3:GetObject", Resource = "arn:aws:s3:::acme-site/*" }]
  })
}''',
    check=_check_public_policy,
    checkov_ids=("CKV_AWS_70",),
    references=("https://docs.aws.amazon.com/AmazonS3/latest/userguide/example-bucket-policies.html",),
)


# --------------------------------------------------------------------------- versioning


def _check_versioning(bucket: Block, ctx: CheckContext) -> Iterator[Result]:
    inline: bool | None = False
    for v in bucket.blocks("versioning"):
        inline = truth(v.get("enabled"))

    def ok(b: Block) -> bool | None:
        for conf in b.blocks("versioning_configuration"):
            status = conf.get("status")
            if isinstance(status, Unknown):
                return None
            return status == "Enabled"
        return False

    yield from bucket_setting(ctx, bucket, inline, ("aws_s3_bucket_versioning",), ok,
                              "S3 bucket does not have versioning enabled")


NO_VERSIONING = Rule(
    id="AWS-S3-NO-VERSIONING",
    title="S3 bucket does not have versioning enabled",
    severity=Severity.MEDIUM,
    kind=Kind.SECURITY,
    resource_types=("aws_s3_bucket",),
    why="Without versioning an overwritten or deleted object is gone for good: a buggy job, a compromised "
        "credential or an agent's cleanup cannot be undone. Versioning (with a lifecycle rule for old "
        "versions) makes every write recoverable.",
    fail_example='''resource "aws_s3_bucket" "fail" {
  bucket = "acme-state"
}
resource "aws_s3_bucket_versioning" "fail" {
  bucket = aws_s3_bucket.fail.id
  versioning_configuration { status = "Suspended" }
}''',
    pass_example='''resource "aws_s3_bucket" "pass" {
  bucket = "acme-state"
}
resource "aws_s3_bucket_versioning" "pass" {
  bucket = aws_s3_bucket.pass.id
  versioning_configuration { status = "Enabled" }
}''',
    unknown_example='''variable "versioning_status" { type = string }
resource "aws_s3_bucket" "unknown" {
  bucket = "acme-state"
}
resource "aws_s3_bucket_versioning" "unknown" {
  bucket = aws_s3_bucket.unknown.id
  versioning_configuration { status = var.versioning_status }
}''',
    check=_check_versioning,
    checkov_ids=("CKV_AWS_21",),
    references=("https://docs.aws.amazon.com/AmazonS3/latest/userguide/Versioning.html",),
)


# --------------------------------------------------------------------------- access logging


def _check_logging(bucket: Block, ctx: CheckContext) -> Iterator[Result]:
    inline = bool(bucket.blocks("logging"))
    yield from bucket_setting(ctx, bucket, inline, ("aws_s3_bucket_logging",), lambda b: True,
                              "S3 bucket has no server access logging")


NO_ACCESS_LOGGING = Rule(
    id="AWS-S3-NO-ACCESS-LOGGING",
    title="S3 bucket has no server access logging",
    severity=Severity.LOW,
    kind=Kind.SECURITY,
    resource_types=("aws_s3_bucket",),
    why="Access logs are how an incident responder learns who read or deleted which object and when; "
        "they cannot be produced after the fact.",
    fail_example='''resource "aws_s3_bucket" "fail" {
  bucket = "acme-data"
}''',
    pass_example='''resource "aws_s3_bucket" "pass" {
  bucket = "acme-data"
}
resource "aws_s3_bucket_logging" "pass" {
  bucket        = aws_s3_bucket.pass.id
  target_bucket = "acme-access-logs"
  target_prefix = "acme-data/"
}''',
    check=_check_logging,
    checkov_ids=("CKV_AWS_18",),
    references=("https://docs.aws.amazon.com/AmazonS3/latest/userguide/ServerLogs.html",),
)


RULES: list[Rule] = [NO_ENCRYPTION, NO_PUBLIC_ACCESS_BLOCK, PAB_INCOMPLETE, PUBLIC_ACL, PUBLIC_POLICY,
                     NO_VERSIONING, NO_ACCESS_LOGGING]
