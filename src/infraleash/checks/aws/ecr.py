"""ECR: image scanning on push and immutable tags."""

from __future__ import annotations

from collections.abc import Iterator

from infraleash.checks.aws._common import require, truth, unknown
from infraleash.checks.rule import CheckContext, Result, Rule
from infraleash.findings import Kind, Severity
from infraleash.terraform.config import Block, Unknown


def _check_scan(block: Block, ctx: CheckContext) -> Iterator[Result]:
    if any(truth(c.get("scan_on_push")) for c in ctx.config.of_type("aws_ecr_registry_scanning_configuration")
           if c.get("scan_type") == "ENHANCED"):
        return  # registry-level enhanced scanning
    conf = block.blocks("image_scanning_configuration")
    value = conf[0].get("scan_on_push") if conf else None
    yield from require(block, "image_scanning_configuration", truth(value), "ECR repository does not scan images on push",
                       value=value)


SCAN_ON_PUSH = Rule(
    id="AWS-ECR-NO-SCAN-ON-PUSH",
    title="ECR repository does not scan images on push",
    severity=Severity.MEDIUM,
    kind=Kind.SECURITY,
    resource_types=("aws_ecr_repository",),
    why="Scanning on push reports known CVEs in every image before it is deployed; without it vulnerable base "
        "images reach production unnoticed.",
    fail_example='''resource "aws_ecr_repository" "fail" {
  name                 = "api"
  image_tag_mutability = "IMMUTABLE"
}''',
    pass_example='''resource "aws_ecr_repository" "pass" {
  name                 = "api"
  image_tag_mutability = "IMMUTABLE"
  image_scanning_configuration {
    scan_on_push = true
  }
}''',
    unknown_example='''variable "scan" { type = bool }
resource "aws_ecr_repository" "unknown" {
  name                 = "api"
  image_tag_mutability = "IMMUTABLE"
  image_scanning_configuration {
    scan_on_push = var.scan
  }
}''',
    check=_check_scan,
    checkov_ids=("CKV_AWS_163",),
    references=("https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-scanning.html",),
)


def _check_immutable(block: Block, ctx: CheckContext) -> Iterator[Result]:
    value = block.get("image_tag_mutability", "MUTABLE")
    if isinstance(value, Unknown):
        yield unknown("ECR tag mutability", value, attribute="image_tag_mutability")
    elif value not in ("IMMUTABLE", "IMMUTABLE_WITH_EXCLUSION"):
        yield Result("ECR repository allows image tags to be overwritten (mutable tags)",
                     attribute="image_tag_mutability" if "image_tag_mutability" in block.attrs else None)


IMMUTABLE_TAGS = Rule(
    id="AWS-ECR-MUTABLE-TAGS",
    title="ECR repository allows image tags to be overwritten (mutable tags)",
    severity=Severity.MEDIUM,
    kind=Kind.SECURITY,
    resource_types=("aws_ecr_repository",),
    why="With mutable tags, `api:1.4.2` can silently point at a different image tomorrow: a compromised CI job "
        "can replace what production pulls, and rollbacks are not reproducible.",
    fail_example='''resource "aws_ecr_repository" "fail" {
  name = "api"
  image_scanning_configuration {
    scan_on_push = true
  }
}''',
    pass_example='''resource "aws_ecr_repository" "pass" {
  name                 = "api"
  image_tag_mutability = "IMMUTABLE"
  image_scanning_configuration {
    scan_on_push = true
  }
}''',
    unknown_example='''variable "mutability" { type = string }
resource "aws_ecr_repository" "unknown" {
  name                 = "api"
  image_tag_mutability = var.mutability
}''',
    check=_check_immutable,
    checkov_ids=("CKV_AWS_51",),
    references=("https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-tag-mutability.html",),
)

RULES: list[Rule] = [SCAN_ON_PUSH, IMMUTABLE_TAGS]
