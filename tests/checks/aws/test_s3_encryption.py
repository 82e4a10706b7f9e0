"""S3 encryption set but inconsistent: a KMS key with AES256; aws:kms without the key the policy requires."""

from __future__ import annotations

from _run import fails, unknowns

from infraleash.checks.aws.s3_encryption import ENCRYPTION_INCONSISTENT as RULE

KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
BUCKET = '''resource "aws_s3_bucket" "b" {
  bucket = "acme-invoices"
}
resource "aws_s3_bucket_server_side_encryption_configuration" "b" {
  bucket = BUCKET_REF
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "aws:kms"KEY_LINE
    }
  }
}
'''
POLICY = f'''resource "aws_s3_bucket_policy" "b" {{
  bucket = aws_s3_bucket.b.id
  policy = jsonencode({{
    Statement = [{{
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:PutObject"
      Resource  = "arn:aws:s3:::acme-invoices/*"
      Condition = {{ StringNotEquals = {{ "s3:x-amz-server-side-encryption-aws-kms-key-id" = "{KEY}" }} }}
    }}]
  }})
}}
'''


def _config(key_line: str = "", ref: str = "aws_s3_bucket.b.id", policy: str = POLICY) -> str:
    return BUCKET.replace("KEY_LINE", key_line).replace("BUCKET_REF", ref) + policy


def test_aws_managed_key_where_the_policy_requires_the_customer_key() -> None:
    assert fails(RULE, _config()) == {"aws_s3_bucket_server_side_encryption_configuration.b"}
    assert fails(RULE, _config(ref='"acme-invoices"')) == {"aws_s3_bucket_server_side_encryption_configuration.b"}
    assert fails(RULE, _config('\n      kms_master_key_id = "alias/aws/s3"'))
    assert fails(RULE, _config(f'\n      kms_master_key_id = "{KEY}"')) == set()
    assert fails(RULE, _config(policy="")) == set()  # aws/s3 is a valid choice when nothing requires more


def test_inline_v3_block_with_a_key_and_aes256() -> None:
    text = f'''resource "aws_s3_bucket" "legacy" {{
  bucket = "acme-legacy"
  server_side_encryption_configuration {{
    rule {{
      apply_server_side_encryption_by_default {{
        sse_algorithm     = "AES256"
        kms_master_key_id = "{KEY}"
      }}
    }}
  }}
}}
'''
    assert fails(RULE, text) == {"aws_s3_bucket.legacy"}


def test_an_unknown_policy_is_unknown() -> None:
    text = 'variable "doc" {}\n' + _config(policy='resource "aws_s3_bucket_policy" "b" {\n'
                                              '  bucket = aws_s3_bucket.b.id\n  policy = var.doc\n}\n')
    assert unknowns(RULE, text) and not fails(RULE, text)
