"""IAM rules beyond their examples: data sources, inline role policies, Deny, conditions, NotAction."""

from __future__ import annotations

from _run import fails, run, unknowns

from infraleash.checks.aws.iam import (
    ADMIN_POLICY,
    NOT_ACTION_ALLOW,
    PASSROLE_WILDCARD,
    SENSITIVE_WILDCARD_RESOURCE,
    TRUST_PUBLIC,
    WILDCARD_ACTION,
)


def test_admin_via_policy_document_data_source_points_at_the_statement() -> None:
    text = '''
data "aws_iam_policy_document" "admin" {
  statement {
    sid       = "Everything"
    actions   = ["*"]
    resources = ["*"]
  }
}
resource "aws_iam_role_policy" "ci" {
  role   = "ci"
  policy = data.aws_iam_policy_document.admin.json
}'''
    ((address, result),) = run(ADMIN_POLICY, text)
    assert address == "aws_iam_role_policy.ci"
    assert result.details["document"] == "data.aws_iam_policy_document.admin"
    assert result.details["statement"] == "Everything" and result.details["statement_line"] == 3


def test_admin_in_inline_role_policy_and_deny_is_fine() -> None:
    text = '''
resource "aws_iam_role" "app" {
  name = "app"
  assume_role_policy = jsonencode({ Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "ec2.amazonaws.com" } }] })
  inline_policy {
    name   = "all"
    policy = jsonencode({ Statement = [{ Effect = "Allow", Action = "*:*", Resource = "*" }] })
  }
}
resource "aws_iam_policy" "guard" {
  policy = jsonencode({ Statement = [{ Effect = "Deny", Action = "*", Resource = "*" }] })
}'''
    assert fails(ADMIN_POLICY, text) == {"aws_iam_role.app"}
    assert fails(WILDCARD_ACTION, text) == set()  # the admin finding covers it


def test_service_wildcard_on_any_resource_is_a_wildcard_action_not_admin() -> None:
    text = '''resource "aws_iam_policy" "s3" {
  policy = jsonencode({ Statement = [{ Effect = "Allow", Action = ["s3:*"], Resource = "*" }] })
}'''
    assert fails(WILDCARD_ACTION, text) == {"aws_iam_policy.s3"}
    assert fails(ADMIN_POLICY, text) == set()


def test_passrole_through_iam_wildcard_pattern() -> None:
    text = '''resource "aws_iam_policy" "p" {
  policy = jsonencode({ Statement = [{ Effect = "Allow", Action = "iam:Pass*", Resource = "*" }] })
}'''
    assert fails(PASSROLE_WILDCARD, text) == {"aws_iam_policy.p"}


def test_sensitive_action_on_another_resources_arn_is_decided_and_on_a_variable_unknown() -> None:
    text = '''
variable "arn" {}
resource "aws_kms_key" "k" {}
resource "aws_iam_policy" "p" {
  policy = jsonencode({ Statement = [{ Effect = "Allow", Action = "kms:Decrypt", Resource = aws_kms_key.k.arn }] })
}
resource "aws_iam_policy" "v" {
  policy = jsonencode({ Statement = [{ Effect = "Allow", Action = "kms:Decrypt", Resource = var.arn }] })
}'''
    # the key's ARN is known only after apply, but it is one key's ARN, never "*"
    assert unknowns(SENSITIVE_WILDCARD_RESOURCE, text) == {"aws_iam_policy.v"}
    assert fails(SENSITIVE_WILDCARD_RESOURCE, text) == set()


def test_trust_policy_star_with_org_condition_passes_and_bare_star_fails() -> None:
    base = '''resource "aws_iam_role" "%s" {
  assume_role_policy = jsonencode({ Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = "*"%s }] })
}'''
    cond = ', Condition = { StringEquals = { "aws:PrincipalOrgID" = "o-abc" } }'
    text = base % ("open", "") + "\n" + base % ("org", cond)
    assert fails(TRUST_PUBLIC, text) == {"aws_iam_role.open"}


def test_not_action_with_deny_is_a_guard_rail() -> None:
    text = '''resource "aws_iam_policy" "p" {
  policy = jsonencode({ Statement = [{ Effect = "Deny", NotAction = "iam:*", Resource = "*" }] })
}'''
    assert fails(NOT_ACTION_ALLOW, text) == set()


def test_administrator_access_decided_from_how_an_unknown_arn_is_written() -> None:
    from _run import fails, unknowns

    from infraleash.checks.aws.iam import ADMIN_MANAGED_POLICY as RULE

    head = 'data "aws_partition" "current" {}\nvariable "arn" {}\n'
    attach = 'resource "aws_iam_role_policy_attachment" "a" {{\n  role       = "ci"\n  policy_arn = {}\n}}\n'
    partition = '"arn:${data.aws_partition.current.partition}:iam::aws:policy/%s"'
    assert fails(RULE, head + attach.format(partition % "AdministratorAccess")) == {"aws_iam_role_policy_attachment.a"}
    ssm = head + attach.format(partition % "AmazonSSMManagedInstanceCore")
    assert not fails(RULE, ssm) and not unknowns(RULE, ssm)
    own = head + 'resource "aws_iam_policy" "p" {\n  policy = "{}"\n}\n' + attach.format("aws_iam_policy.p.arn")
    assert not fails(RULE, own) and not unknowns(RULE, own)
    looked_up = head + 'data "aws_iam_policy" "admin" {\n  name = "AdministratorAccess"\n}\n' + \
        attach.format("data.aws_iam_policy.admin.arn")
    assert fails(RULE, looked_up)
    assert unknowns(RULE, head + attach.format("var.arn"))


def test_templates_with_literal_text_are_never_the_wildcard() -> None:
    from _run import fails, unknowns

    from infraleash.checks.aws.iam import ADMIN_MANAGED_POLICY

    text = '''variable "bucket" {}
resource "aws_iam_policy" "p" {
  policy = jsonencode({ Statement = [{ Effect = "Allow", Action = "s3:DeleteObject",
                                       Resource = "arn:aws:s3:::${var.bucket}/*" }] })
}'''
    assert not fails(SENSITIVE_WILDCARD_RESOURCE, text) and not unknowns(SENSITIVE_WILDCARD_RESOURCE, text)
    listed = '''data "aws_partition" "current" {}
locals {
  policies = ["arn:${data.aws_partition.current.partition}:iam::aws:policy/AmazonEKSWorkerNodePolicy",
              "arn:${data.aws_partition.current.partition}:iam::aws:policy/AdministratorAccess"]
}
resource "aws_iam_role_policy_attachment" "a" {
  count      = length(local.policies)
  role       = "nodes"
  policy_arn = local.policies[count.index]
}'''
    assert fails(ADMIN_MANAGED_POLICY, listed) and not unknowns(ADMIN_MANAGED_POLICY, listed)
