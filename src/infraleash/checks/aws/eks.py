"""EKS: a public API endpoint open to the internet, and unencrypted Kubernetes secrets."""

from __future__ import annotations

from collections.abc import Iterator

from infraleash.checks.aws._common import WORLD_CIDRS, as_list, truth, unknown
from infraleash.checks.rule import CheckContext, Result, Rule
from infraleash.findings import Kind, Severity
from infraleash.terraform.config import Block, Unknown


def _check_public_endpoint(block: Block, ctx: CheckContext) -> Iterator[Result]:
    for vpc in block.blocks("vpc_config"):
        public = truth(vpc.get("endpoint_public_access"), True)
        if public is False:
            return
        cidrs = vpc.get("public_access_cidrs")
        if public is None:
            yield unknown("EKS public endpoint", vpc.get("endpoint_public_access"), attribute="vpc_config")
            return
        if cidrs is None:
            yield Result("EKS API endpoint is public and open to 0.0.0.0/0 (public_access_cidrs unset)",
                         attribute="vpc_config")
            return
        if isinstance(cidrs, Unknown):
            yield unknown("EKS public endpoint CIDRs", cidrs, attribute="vpc_config")
            return
        values = as_list(cidrs)
        if any(c in WORLD_CIDRS for c in values):
            yield Result("EKS API endpoint is public and open to 0.0.0.0/0", attribute="vpc_config")
        elif any(isinstance(c, Unknown) for c in values):
            yield unknown("EKS public endpoint CIDRs", values, attribute="vpc_config")


PUBLIC_ENDPOINT = Rule(
    id="AWS-EKS-PUBLIC-ENDPOINT",
    title="EKS API endpoint is public and open to 0.0.0.0/0",
    severity=Severity.HIGH,
    kind=Kind.SECURITY,
    resource_types=("aws_eks_cluster",),
    why="The Kubernetes API is the cluster's control plane: open to the internet it is exposed to credential "
        "stuffing and every future API-server vulnerability. Make it private, or list the office/VPN CIDRs in "
        "public_access_cidrs.",
    fail_example='''resource "aws_eks_cluster" "fail" {
  name     = "prod"
  role_arn = "arn:aws:iam::123456789012:role/eks"
  vpc_config {
    subnet_ids             = ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"]
    endpoint_public_access = true
  }
}''',
    pass_example='''resource "aws_eks_cluster" "pass" {
  name     = "prod"
  role_arn = "arn:aws:iam::123456789012:role/eks"
  vpc_config {
    subnet_ids              = ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"]
    endpoint_private_access = true
    endpoint_public_access  = false
  }
}''',
    unknown_example='''variable "cidrs" { type = list(string) }
resource "aws_eks_cluster" "unknown" {
  name     = "prod"
  role_arn = "arn:aws:iam::123456789012:role/eks"
  vpc_config {
    subnet_ids          = ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"]
    public_access_cidrs = var.cidrs
  }
}''',
    check=_check_public_endpoint,
    checkov_ids=("CKV_AWS_38", "CKV_AWS_39"),
    references=("https://docs.aws.amazon.com/eks/latest/userguide/cluster-endpoint.html",),
)


def _check_secrets_encryption(block: Block, ctx: CheckContext) -> Iterator[Result]:
    configs = block.blocks("encryption_config")
    if not configs:
        yield Result("EKS cluster does not encrypt Kubernetes secrets with a KMS key")
        return
    resources = configs[0].get("resources")
    if isinstance(resources, Unknown):
        yield unknown("EKS secrets encryption", resources, attribute="encryption_config")
    elif "secrets" not in as_list(resources):
        yield Result("EKS cluster does not encrypt Kubernetes secrets with a KMS key", attribute="encryption_config")


SECRETS_ENCRYPTION = Rule(
    id="AWS-EKS-NO-SECRETS-ENCRYPTION",
    title="EKS cluster does not encrypt Kubernetes secrets with a KMS key",
    severity=Severity.MEDIUM,
    kind=Kind.SECURITY,
    resource_types=("aws_eks_cluster",),
    why="Envelope encryption of secrets with your KMS key means an etcd backup or snapshot alone does not reveal "
        "them, and decryption is logged in CloudTrail.",
    fail_example='''resource "aws_eks_cluster" "fail" {
  name     = "prod"
  role_arn = "arn:aws:iam::123456789012:role/eks"
  vpc_config {
    subnet_ids = ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"]
  }
}''',
    pass_example='''resource "aws_eks_cluster" "pass" {
  name     = "prod"
  role_arn = "arn:aws:iam::123456789012:role/eks"
  vpc_config {
    subnet_ids = ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"]
  }
  encryption_config {
    resources = ["secrets"]
    provider {
      key_arn = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    }
  }
}''',
    check=_check_secrets_encryption,
    checkov_ids=("CKV_AWS_58",),
    references=("https://docs.aws.amazon.com/eks/latest/userguide/envelope-encryption.html",),
)

RULES: list[Rule] = [PUBLIC_ENDPOINT, SECRETS_ENCRYPTION]
