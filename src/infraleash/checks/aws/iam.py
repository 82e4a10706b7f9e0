"""IAM: admin-equivalent and over-broad policies, public trust policies, policies on users."""

from __future__ import annotations

import re
from collections.abc import Iterator

from infraleash.checks.aws._common import as_list, first_unknown, unknown
from infraleash.checks.aws._iam_common import (
    IDENTITY_POLICY_TYPES,
    allow,
    and3,
    check_identity_policies,
    policy_results,
)
from infraleash.checks.aws.conditions import exempt_unless_restricted
from infraleash.checks.aws.policy_document import (
    Statement,
    Values,
    any_match,
    document_source,
    has_wildcard,
    policy_statements,
    principal_is_public,
)
from infraleash.checks.rule import CheckContext, Result, Rule
from infraleash.findings import Kind, Severity
from infraleash.terraform.config import Block, Unknown

_IAM_DOCS = "https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html"


def _full_wildcard(values: Values | None) -> bool | None:
    """``"*"`` or ``"*:*"`` among actions (every action of every service)."""
    if not values:
        return False
    if any(v in ("*", "*:*") for v in values):
        return True
    return None if any(isinstance(v, Unknown) for v in values) else False


def _service_wildcard(values: Values | None) -> bool | None:
    """An action like ``s3:*`` or ``*``."""
    if not values:
        return False
    if any(isinstance(v, str) and (v == "*" or v.endswith(":*")) for v in values):
        return True
    return None if any(isinstance(v, Unknown) for v in values) else False


# --------------------------------------------------------------------------- admin policy


def _is_admin(st: Statement) -> bool | None:
    return allow(st, lambda: and3(_full_wildcard(st.actions), has_wildcard(st.resources)))


def _check_admin(block: Block, ctx: CheckContext) -> Iterator[Result]:
    yield from check_identity_policies(block, ctx, _is_admin,
                                       "IAM policy grants full administrator access (Action \"*\" on Resource \"*\")")


ADMIN_POLICY = Rule(
    id="AWS-IAM-ADMIN-POLICY",
    title="IAM policy grants full administrator access (Action \"*\" on Resource \"*\")",
    severity=Severity.CRITICAL,
    kind=Kind.SECURITY,
    resource_types=IDENTITY_POLICY_TYPES,
    why="Whoever holds this policy can do anything in the account, including deleting audit trails and "
        "granting themselves more: one leaked credential or one confused agent becomes a full account "
        "compromise. Grant the actions the workload needs on the resources it uses.",
    fail_example='''resource "aws_iam_policy" "fail" {
  name = "everything"
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "*", Resource = "*" }]
  })
}''',
    pass_example='''resource "aws_iam_policy" "pass" {
  name = "read-logs"
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = ["logs:GetLogEvents"], Resource = "arn:aws:logs:*:*:log-group:app" }]
  })
}''',
    unknown_example='''variable "policy_json" { type = string }
resource "aws_iam_policy" "unknown" {
  name   = "from-var"
  policy = var.policy_json
}''',
    check=_check_admin,
    checkov_ids=("CKV_AWS_62", "CKV_AWS_1"),
    references=(_IAM_DOCS,),
)


# --------------------------------------------------------------------------- wildcard actions


def _is_wildcard_action(st: Statement) -> bool | None:
    def inner() -> bool | None:
        wild = _service_wildcard(st.actions)
        if wild and _is_admin(st):
            return False  # reported as admin access
        return wild

    return allow(st, inner)


def _check_wildcard_action(block: Block, ctx: CheckContext) -> Iterator[Result]:
    yield from check_identity_policies(block, ctx, _is_wildcard_action,
                                       "IAM policy allows wildcard actions (\"*\" or \"service:*\")")


WILDCARD_ACTION = Rule(
    id="AWS-IAM-WILDCARD-ACTION",
    title="IAM policy allows wildcard actions (\"*\" or \"service:*\")",
    severity=Severity.HIGH,
    kind=Kind.SECURITY,
    resource_types=IDENTITY_POLICY_TYPES,
    why="A wildcard action grants every current and future action of the service, including destructive and "
        "permission-changing ones (s3:* includes DeleteBucket and PutBucketPolicy). List the actions needed.",
    fail_example='''resource "aws_iam_role_policy" "fail" {
  name = "app"
  role = "app"
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "*", Resource = "arn:aws:s3:::app-data/*" }]
  })
}''',
    pass_example='''resource "aws_iam_role_policy" "pass" {
  name = "app"
  role = "app"
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = ["s3:GetObject", "s3:PutObject"], Resource = "arn:aws:s3:::app-data/*" }]
  })
}''',
    unknown_example='''variable "actions" { type = list(string) }
resource "aws_iam_role_policy" "unknown" {
  name = "app"
  role = "app"
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = var.actions, Resource = "arn:aws:s3:::app-data/*" }]
  })
}''',
    check=_check_wildcard_action,
    checkov_ids=("CKV_AWS_63", "CKV_AWS_49"),
    references=(_IAM_DOCS,),
)


# --------------------------------------------------------------------------- NotAction with Allow


def _is_not_action_allow(st: Statement) -> bool | None:
    return allow(st, lambda: st.not_actions is not None)


def _check_not_action(block: Block, ctx: CheckContext) -> Iterator[Result]:
    yield from check_identity_policies(block, ctx, _is_not_action_allow,
                                       "IAM policy uses NotAction with Effect Allow (allows everything else)")


NOT_ACTION_ALLOW = Rule(
    id="AWS-IAM-NOTACTION-ALLOW",
    title="IAM policy uses NotAction with Effect Allow (allows everything else)",
    severity=Severity.HIGH,
    kind=Kind.SECURITY,
    resource_types=IDENTITY_POLICY_TYPES,
    why="Allow + NotAction grants every action except the listed ones, including actions of services that "
        "do not exist yet: it is admin-equivalent in practice. Use Deny + NotAction for guard rails, "
        "or Allow with an explicit Action list.",
    fail_example='''resource "aws_iam_policy" "fail" {
  name = "all-but-iam"
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", NotAction = "iam:*", Resource = "*" }]
  })
}''',
    pass_example='''resource "aws_iam_policy" "pass" {
  name = "deny-outside-regions"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Deny"
      NotAction = ["iam:*", "sts:*"]
      Resource  = "*"
      Condition = { StringNotEquals = { "aws:RequestedRegion" = ["eu-west-1"] } }
    }]
  })
}''',
    unknown_example='''variable "effect" { type = string }
resource "aws_iam_policy" "unknown" {
  name = "maybe"
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = var.effect, NotAction = "iam:*", Resource = "*" }]
  })
}''',
    check=_check_not_action,
    references=("https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notaction.html",),
)


# --------------------------------------------------------------------------- PassRole on *


def _is_passrole_wildcard(st: Statement) -> bool | None:
    def inner() -> bool | None:
        if _full_wildcard(st.actions):
            return False  # reported as admin / wildcard action
        return and3(any_match(st.actions, "iam:PassRole"), has_wildcard(st.resources))

    return allow(st, inner)


def _check_passrole(block: Block, ctx: CheckContext) -> Iterator[Result]:
    yield from check_identity_policies(block, ctx, _is_passrole_wildcard,
                                       "IAM policy allows iam:PassRole on any role (Resource \"*\")")


PASSROLE_WILDCARD = Rule(
    id="AWS-IAM-PASSROLE-WILDCARD",
    title="IAM policy allows iam:PassRole on any role (Resource \"*\")",
    severity=Severity.HIGH,
    kind=Kind.SECURITY,
    resource_types=IDENTITY_POLICY_TYPES,
    why="iam:PassRole on every role lets the holder start an EC2 instance, Lambda or ECS task with the most "
        "privileged role in the account and act as it: a privilege-escalation path. Name the roles it may pass.",
    fail_example='''resource "aws_iam_policy" "fail" {
  name = "deployer"
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = ["iam:PassRole", "lambda:CreateFunction"], Resource = "*" }]
  })
}''',
    pass_example='''resource "aws_iam_policy" "pass" {
  name = "deployer"
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "iam:PassRole", Resource = "arn:aws:iam::123456789012:role/app-lambda" }]
  })
}''',
    unknown_example='''variable "role_arn" { type = string }
resource "aws_iam_policy" "unknown" {
  name = "deployer"
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "iam:PassRole", Resource = var.role_arn }]
  })
}''',
    check=_check_passrole,
    checkov_ids=("CKV_AWS_286",),
    references=("https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html",),
)


# --------------------------------------------------------------------------- sensitive actions on *

SENSITIVE_ACTIONS = (
    "iam:CreateAccessKey", "iam:CreateLoginProfile", "iam:UpdateLoginProfile", "iam:AttachUserPolicy",
    "iam:AttachRolePolicy", "iam:AttachGroupPolicy", "iam:PutUserPolicy", "iam:PutRolePolicy",
    "iam:PutGroupPolicy", "iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:UpdateAssumeRolePolicy",
    "iam:AddUserToGroup", "sts:AssumeRole", "kms:Decrypt", "kms:CreateGrant", "kms:ScheduleKeyDeletion",
    "secretsmanager:GetSecretValue", "ssm:GetParameter", "ssm:GetParameters", "s3:GetObject",
    "s3:DeleteBucket", "s3:PutBucketPolicy", "s3:DeleteObject", "lambda:UpdateFunctionCode",
    "dynamodb:DeleteTable", "rds:DeleteDBInstance", "ec2:TerminateInstances", "cloudtrail:StopLogging",
    "cloudtrail:DeleteTrail",
)


def _sensitive_on_wildcard(st: Statement) -> bool | None:
    def inner() -> bool | None:
        if _full_wildcard(st.actions) or _service_wildcard(st.actions):
            return False  # reported by the admin / wildcard-action rules
        hits = [any_match(st.actions, a) for a in SENSITIVE_ACTIONS if a != "iam:PassRole"]
        covered: bool | None = True if any(hits) else (None if None in hits else False)
        return and3(covered, has_wildcard(st.resources))

    return allow(st, inner)


def _check_sensitive(block: Block, ctx: CheckContext) -> Iterator[Result]:
    yield from check_identity_policies(block, ctx, _sensitive_on_wildcard,
                                       "IAM policy allows a sensitive action on every resource (Resource \"*\")")


SENSITIVE_WILDCARD_RESOURCE = Rule(
    id="AWS-IAM-SENSITIVE-WILDCARD-RESOURCE",
    title="IAM policy allows a sensitive action on every resource (Resource \"*\")",
    severity=Severity.HIGH,
    kind=Kind.SECURITY,
    resource_types=IDENTITY_POLICY_TYPES,
    why="Reading every secret, decrypting with every key, changing any user's policy or deleting any bucket "
        "should never be granted account-wide: a compromised workload then reaches data and identities far "
        "beyond its own. Scope Resource to the ARNs the workload owns.",
    fail_example='''resource "aws_iam_policy" "fail" {
  name = "app-secrets"
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = ["secretsmanager:GetSecretValue"], Resource = "*" }]
  })
}''',
    pass_example='''resource "aws_iam_policy" "pass" {
  name = "app-secrets"
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["secretsmanager:GetSecretValue"]
      Resource = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:app/*"
    }]
  })
}''',
    unknown_example='''variable "secret_arn" { type = string }
resource "aws_iam_policy" "unknown" {
  name = "app-secrets"
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = ["secretsmanager:GetSecretValue"], Resource = var.secret_arn }]
  })
}''',
    check=_check_sensitive,
    checkov_ids=("CKV_AWS_288", "CKV_AWS_355", "CKV_AWS_290", "CKV_AWS_289", "CKV_AWS_287", "CKV_AWS_286"),
    references=("https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#grant-least-privilege",),
)


# --------------------------------------------------------------------------- trust policy open to *


def _is_public_trust(st: Statement) -> bool | None:
    def inner() -> bool | None:
        public = principal_is_public(st.principals)
        if public:
            return exempt_unless_restricted(st)  # aws:PrincipalOrgID / sts:ExternalId restrict; SecureTransport not
        return public

    return allow(st, inner)


def _check_trust(block: Block, ctx: CheckContext) -> Iterator[Result]:
    found = policy_statements(block, "assume_role_policy", ctx.config)
    if found is None:
        return
    yield from policy_results(block, "assume_role_policy", found,
                              document_source(block, "assume_role_policy", ctx.config), _is_public_trust,
                              "IAM role trust policy lets any principal (\"*\") assume it")


TRUST_PUBLIC = Rule(
    id="AWS-IAM-TRUST-PUBLIC",
    title="IAM role trust policy lets any principal (\"*\") assume it",
    severity=Severity.CRITICAL,
    kind=Kind.SECURITY,
    resource_types=("aws_iam_role",),
    why="Principal \"*\" in a trust policy without a condition lets any AWS account in the world assume the "
        "role and use its permissions. Name the account, service or role, or add a condition such as "
        "aws:PrincipalOrgID or sts:ExternalId.",
    fail_example='''resource "aws_iam_role" "fail" {
  name = "shared"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { AWS = "*" } }]
  })
}''',
    pass_example='''resource "aws_iam_role" "pass" {
  name = "lambda"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "lambda.amazonaws.com" } }]
  })
}''',
    unknown_example='''variable "trusted" { type = string }
resource "aws_iam_role" "unknown" {
  name = "shared"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { AWS = var.trusted } }]
  })
}''',
    check=_check_trust,
    checkov_ids=("CKV_AWS_60",),
    references=("https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html",),
)


# --------------------------------------------------------------------------- policies on users


def _check_user_inline(block: Block, ctx: CheckContext) -> Iterator[Result]:
    yield Result("IAM policy is attached inline to a user instead of a group or role", attribute="user")


USER_INLINE_POLICY = Rule(
    id="AWS-IAM-USER-INLINE-POLICY",
    title="IAM policy is attached inline to a user instead of a group or role",
    severity=Severity.MEDIUM,
    kind=Kind.SECURITY,
    resource_types=("aws_iam_user_policy",),
    why="Permissions on individual users drift: nobody reviews them with the team's roles, they survive the "
        "person's change of job, and they come with long-lived access keys. Grant through groups or roles.",
    fail_example='''resource "aws_iam_user_policy" "fail" {
  name = "alice-extra"
  user = "alice"
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "s3:ListBucket", Resource = "arn:aws:s3:::reports" }]
  })
}''',
    pass_example='''resource "aws_iam_group_policy" "pass" {
  name  = "analysts"
  group = "analysts"
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "s3:ListBucket", Resource = "arn:aws:s3:::reports" }]
  })
}''',
    check=_check_user_inline,
    checkov_ids=("CKV_AWS_40",),
    references=("https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#use-groups-for-permissions",),
)


def _check_user_attachment(block: Block, ctx: CheckContext) -> Iterator[Result]:
    if block.type == "aws_iam_user_policy_attachment":
        yield Result("managed IAM policy is attached directly to a user", attribute="user")
        return
    users = block.get("users")
    if users is None:
        return
    if isinstance(users, Unknown):
        yield unknown("whether the policy is attached to users", users, attribute="users")
    elif as_list(users):
        yield Result("managed IAM policy is attached directly to a user", attribute="users")
    elif first_unknown(users):
        yield unknown("whether the policy is attached to users", users, attribute="users")


USER_POLICY_ATTACHMENT = Rule(
    id="AWS-IAM-USER-POLICY-ATTACHMENT",
    title="managed IAM policy is attached directly to a user",
    severity=Severity.MEDIUM,
    kind=Kind.SECURITY,
    resource_types=("aws_iam_user_policy_attachment", "aws_iam_policy_attachment"),
    why="Policies attached to individual users are invisible in role and group reviews and outlive the "
        "reason they were granted. Attach them to a group the user belongs to, or to a role.",
    fail_example='''resource "aws_iam_user_policy_attachment" "fail" {
  user       = "bob"
  policy_arn = "arn:aws:iam::aws:policy/ReadOnlyAccess"
}''',
    pass_example='''resource "aws_iam_group_policy_attachment" "pass" {
  group      = "readers"
  policy_arn = "arn:aws:iam::aws:policy/ReadOnlyAccess"
}''',
    unknown_example='''variable "users" { type = list(string) }
resource "aws_iam_policy_attachment" "unknown" {
  name       = "readers"
  users      = var.users
  policy_arn = "arn:aws:iam::aws:policy/ReadOnlyAccess"
}''',
    check=_check_user_attachment,
    checkov_ids=("CKV_AWS_40",),
    references=("https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#use-groups-for-permissions",),
)


# --------------------------------------------------------------------------- AdministratorAccess attached

_ADMIN_ARN_SUFFIX = ":policy/AdministratorAccess"


_POLICY_NAME_IN_TEXT = re.compile(r':policy/([\w+=,.@/-]+)"\s*$')
_CUSTOMER_POLICY_REF = re.compile(r"^\s*(?:module\.[\w-]+\.)*aws_iam_policy\.[\w-]+(?:\[[^\]]*\])?\.(?:arn|id)\s*$")
_DATA_POLICY_REF = re.compile(r"^\s*data\.aws_iam_policy\.([\w-]+)(?:\[[^\]]*\])?\.arn\s*$")


def _unknown_arn_is_admin(block: Block, attribute: str, ctx: CheckContext) -> bool | None:
    """An ARN not known statically may still be decided by how it is written: a template whose policy
    name is literal (``arn:${partition}:iam::aws:policy/AmazonSSMManagedInstanceCore``), a customer
    managed ``aws_iam_policy`` of this configuration (its document is judged by the policy rules), or a
    ``data "aws_iam_policy"`` looked up by a literal name or ARN."""
    value = block.get(attribute)
    template = value.template if isinstance(value, Unknown) else None
    raw = f'"{template}"' if template else str(block.raw.get(attribute, ""))
    m = _POLICY_NAME_IN_TEXT.search(raw)
    if m:
        return m.group(1) == "AdministratorAccess"
    if _CUSTOMER_POLICY_REF.match(raw):
        return False
    d = _DATA_POLICY_REF.match(raw)
    if d:
        data = next((b for b in ctx.config.data if b.type == "aws_iam_policy" and b.name == d.group(1)
                     and b.module_path == block.module_path), None)
        if data is not None:
            name, arn = data.get("name"), data.get("arn")
            if isinstance(name, str):
                return name == "AdministratorAccess"
            if isinstance(arn, str):
                return arn.endswith(_ADMIN_ARN_SUFFIX)
            m = _POLICY_NAME_IN_TEXT.search(str(data.raw.get("arn", "")))
            if m:
                return m.group(1) == "AdministratorAccess"
    return None


def _check_admin_attachment(block: Block, ctx: CheckContext) -> Iterator[Result]:
    attribute = "managed_policy_arns" if block.type == "aws_iam_role" else "policy_arn"
    value = block.get(attribute)
    if value is None:
        return
    arns = as_list(value) if not isinstance(value, Unknown) else [value]
    if any(isinstance(a, str) and a.endswith(_ADMIN_ARN_SUFFIX) for a in arns):
        yield Result("the AWS managed AdministratorAccess policy is attached", attribute=attribute)
    elif first_unknown(arns) is not None and block.type != "aws_iam_role":
        verdict = _unknown_arn_is_admin(block, attribute, ctx) if isinstance(value, Unknown) else None
        if verdict:
            yield Result("the AWS managed AdministratorAccess policy is attached", attribute=attribute)
        elif verdict is None:
            yield unknown("whether AdministratorAccess is attached", arns, attribute=attribute)


ADMIN_MANAGED_POLICY = Rule(
    id="AWS-IAM-ADMINISTRATOR-ACCESS-ATTACHED",
    title="the AWS managed AdministratorAccess policy is attached",
    severity=Severity.HIGH,
    kind=Kind.SECURITY,
    resource_types=("aws_iam_role_policy_attachment", "aws_iam_user_policy_attachment",
                    "aws_iam_group_policy_attachment", "aws_iam_policy_attachment", "aws_iam_role"),
    why="AdministratorAccess is Action \"*\" on Resource \"*\": attaching it to a workload role or an "
        "agent's identity gives it the whole account. Keep it for break-glass human roles behind MFA.",
    fail_example='''resource "aws_iam_role_policy_attachment" "fail" {
  role       = "ci"
  policy_arn = "arn:aws:iam::aws:policy/AdministratorAccess"
}''',
    pass_example='''resource "aws_iam_role_policy_attachment" "pass" {
  role       = "ci"
  policy_arn = "arn:aws:iam::aws:policy/ReadOnlyAccess"
}''',
    unknown_example='''variable "policy_arn" { type = string }
resource "aws_iam_role_policy_attachment" "unknown" {
  role       = "ci"
  policy_arn = var.policy_arn
}''',
    check=_check_admin_attachment,
    checkov_ids=("CKV_AWS_274",),
    references=("https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AdministratorAccess.html",),
)


RULES: list[Rule] = [
    ADMIN_POLICY,
    WILDCARD_ACTION,
    NOT_ACTION_ALLOW,
    PASSROLE_WILDCARD,
    SENSITIVE_WILDCARD_RESOURCE,
    TRUST_PUBLIC,
    USER_INLINE_POLICY,
    USER_POLICY_ATTACHMENT,
    ADMIN_MANAGED_POLICY,
]
