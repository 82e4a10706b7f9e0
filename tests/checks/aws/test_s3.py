"""S3 rules understand v3 inline settings, v4 split resources by reference and by name, and unknown links."""

from __future__ import annotations

from _run import fails, unknowns

from infraleash.checks.aws.s3 import (
    NO_ENCRYPTION,
    NO_PUBLIC_ACCESS_BLOCK,
    NO_VERSIONING,
    PAB_INCOMPLETE,
    PUBLIC_ACL,
    PUBLIC_POLICY,
)

SPLIT = '''
resource "aws_s3_bucket" "by_ref" {
  bucket = "acme-by-ref"
}
resource "aws_s3_bucket_versioning" "by_ref" {
  bucket = aws_s3_bucket.by_ref.id
  versioning_configuration { status = "Enabled" }
}
resource "aws_s3_bucket_server_side_encryption_configuration" "by_ref" {
  bucket = aws_s3_bucket.by_ref.bucket
  rule {
    apply_server_side_encryption_by_default { sse_algorithm = "aws:kms" }
  }
}
resource "aws_s3_bucket" "by_name" {
  bucket = "acme-by-name"
}
resource "aws_s3_bucket_versioning" "by_name" {
  bucket = "acme-by-name"
  versioning_configuration { status = "Enabled" }
}
resource "aws_s3_bucket" "inline_v3" {
  bucket = "acme-v3"
  versioning { enabled = true }
  server_side_encryption_configuration {
    rule {
      apply_server_side_encryption_by_default { sse_algorithm = "AES256" }
    }
  }
}
resource "aws_s3_bucket" "bare" {
  bucket = "acme-bare"
}
'''


def test_versioning_by_reference_by_name_and_inline() -> None:
    assert fails(NO_VERSIONING, SPLIT) == {"aws_s3_bucket.bare"}


def test_encryption_by_reference_and_inline_but_not_for_others() -> None:
    assert fails(NO_ENCRYPTION, SPLIT) == {"aws_s3_bucket.by_name", "aws_s3_bucket.bare"}


def test_a_split_resource_for_another_bucket_does_not_count() -> None:
    text = '''
resource "aws_s3_bucket" "a" { bucket = "a" }
resource "aws_s3_bucket" "b" { bucket = "b" }
resource "aws_s3_bucket_public_access_block" "b" {
  bucket                  = aws_s3_bucket.b.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}'''
    assert fails(NO_PUBLIC_ACCESS_BLOCK, text) == {"aws_s3_bucket.a"}


def test_account_level_block_covers_every_bucket() -> None:
    text = '''
resource "aws_s3_bucket" "a" { bucket = "a" }
resource "aws_s3_account_public_access_block" "acct" {
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}'''
    assert fails(NO_PUBLIC_ACCESS_BLOCK, text) == set()
    assert fails(PAB_INCOMPLETE, text) == set()


def test_unknown_link_gives_unknown() -> None:
    text = '''
variable "name" { type = string }
resource "aws_s3_bucket" "a" { bucket = "a" }
resource "aws_s3_bucket_versioning" "v" {
  bucket = var.name
  versioning_configuration { status = "Enabled" }
}'''
    assert unknowns(NO_VERSIONING, text) == {"aws_s3_bucket.a"}
    assert fails(NO_VERSIONING, text) == set()


def test_public_acl_on_bucket_and_grant_to_all_users() -> None:
    text = '''
resource "aws_s3_bucket" "legacy" {
  bucket = "legacy"
  acl    = "public-read-write"
}
resource "aws_s3_bucket_acl" "grants" {
  bucket = "x"
  access_control_policy {
    grant {
      grantee {
        type = "Group"
        uri  = "http://acs.amazonaws.com/groups/global/AllUsers"
      }
      permission = "READ"
    }
    owner { id = "abc" }
  }
}
resource "aws_s3_bucket_acl" "private" {
  bucket = "y"
  acl    = "private"
}'''
    assert fails(PUBLIC_ACL, text) == {"aws_s3_bucket.legacy", "aws_s3_bucket_acl.grants"}


def test_public_bucket_policy_from_data_source_and_vpce_condition() -> None:
    text = '''
data "aws_iam_policy_document" "public" {
  statement {
    actions   = ["s3:GetObject"]
    resources = ["arn:aws:s3:::site/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
  }
}
resource "aws_s3_bucket_policy" "public" {
  bucket = "site"
  policy = data.aws_iam_policy_document.public.json
}
resource "aws_s3_bucket_policy" "vpce" {
  bucket = "internal"
  policy = jsonencode({ Statement = [{ Effect = "Allow", Principal = "*", Action = "s3:GetObject",
    Resource = "arn:aws:s3:::internal/*", Condition = { StringEquals = { "aws:SourceVpce" = "vpce-1" } } }] })
}'''
    assert fails(PUBLIC_POLICY, text) == {"aws_s3_bucket_policy.public"}


def test_public_access_block_findings_name_each_missing_flag() -> None:
    from _run import run

    text = '''resource "aws_s3_bucket_public_access_block" "p" {
  bucket                  = "acme"
  block_public_acls       = true
  restrict_public_buckets = false
}'''
    found = {r.details["flag"]: r for _, r in run(PAB_INCOMPLETE, text)}
    assert set(found) == {"ignore_public_acls", "block_public_policy", "restrict_public_buckets"}
    assert "`restrict_public_buckets` is false" in found["restrict_public_buckets"].message
    assert found["restrict_public_buckets"].attribute == "restrict_public_buckets"
    assert "is missing (defaults to false)" in found["ignore_public_acls"].message
    assert found["ignore_public_acls"].attribute is None  # located at the block
