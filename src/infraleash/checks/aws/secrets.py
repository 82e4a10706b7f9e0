"""Hard-coded secrets: AWS access keys anywhere in arguments, passwords written in the code.

A password is *hard-coded* when the argument is a literal string, or a variable whose
``default`` is one (the default is committed with the code).  A value from
``random_password``, Secrets Manager or a variable without default is not a finding.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from infraleash.checks.rule import CheckContext, Result, Rule
from infraleash.findings import Kind, Severity
from infraleash.terraform.config import Block, Config

ACCESS_KEY_RE = re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}(?![A-Z0-9])")
# Where access keys end up in practice: user data, environment variables, container definitions, parameters.
KEY_BEARING_TYPES = (
    "aws_instance", "aws_launch_template", "aws_launch_configuration", "aws_lambda_function",
    "aws_ecs_task_definition", "aws_ssm_parameter", "aws_secretsmanager_secret_version", "aws_batch_job_definition",
    "aws_codebuild_project", "aws_elastic_beanstalk_environment", "aws_glue_job", "aws_sfn_state_machine",
    "aws_cloudformation_stack", "aws_apprunner_service", "aws_emr_cluster", "aws_sagemaker_model",
)

# resource type -> arguments that hold a password or token
PASSWORD_ARGUMENTS: dict[str, tuple[str, ...]] = {
    "aws_db_instance": ("password",),
    "aws_rds_cluster": ("master_password",),
    "aws_docdb_cluster": ("master_password",),
    "aws_neptune_cluster": ("master_password",),
    "aws_redshift_cluster": ("master_password",),
    "aws_redshiftserverless_namespace": ("admin_user_password",),
    "aws_elasticache_replication_group": ("auth_token",),
    "aws_elasticache_user": ("passwords",),
    "aws_memorydb_user": ("passwords",),
    "aws_mq_broker": ("password",),
    "aws_opensearch_domain": ("master_user_password",),
    "aws_elasticsearch_domain": ("master_user_password",),
    "aws_directory_service_directory": ("password",),
    "aws_dms_endpoint": ("password",),
    "aws_iam_user_login_profile": ("password",),
}


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _strings(v)
    elif isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield from _strings(v)
    elif isinstance(value, Block):
        for v in value.attrs.values():
            yield from _strings(v)


def _check_access_key(block: Block, ctx: CheckContext) -> Iterator[Result]:
    for name, value in block.attrs.items():
        for text in _strings(value):
            match = ACCESS_KEY_RE.search(text)
            if match:
                key = match.group(0)
                yield Result(f"AWS access key is hard-coded in the configuration ({key[:4]}…{key[-4:]} in {name})",
                             attribute=name, details={"key_prefix": key[:4]})
                return


ACCESS_KEY = Rule(
    id="AWS-SECRET-ACCESS-KEY",
    title="AWS access key is hard-coded in the configuration",
    severity=Severity.CRITICAL,
    kind=Kind.SECURITY,
    resource_types=KEY_BEARING_TYPES,
    why="A key committed to a repository is copied to every clone, CI log and state file, and is harvested from "
        "public repositories within minutes. Rotate it now, and give workloads roles (instance profiles, IRSA, "
        "task roles) instead of keys.",
    fail_example='''resource "aws_lambda_function" "fail" {
  function_name = "sync"
  role          = "arn:aws:iam::123456789012:role/sync"
  runtime       = "python3.12"
  handler       = "app.handler"
  filename      = "sync.zip"
  environment {
    variables = {
      AWS_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
    }
  }
}''',
    pass_example='''resource "aws_lambda_function" "pass" {
  function_name = "sync"
  role          = "arn:aws:iam::123456789012:role/sync"
  runtime       = "python3.12"
  handler       = "app.handler"
  filename      = "sync.zip"
  environment {
    variables = {
      TARGET_BUCKET = "acme-sync"
    }
  }
}''',
    check=_check_access_key,
    checkov_ids=("CKV_AWS_45", "CKV_AWS_46", "CKV_SECRET_2"),
    references=("https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#bp-workloads-use-roles",),
)


def _variable_default(config: Config, module_path: str, name: str) -> Block | None:
    for v in config.variable_blocks:
        if v.name == name and v.module_path == module_path:
            return v
    return None


_VAR_REF = re.compile(r"^\s*var\.([A-Za-z_][A-Za-z0-9_-]*)\s*$")


_QUOTED = re.compile(r'"(?:[^"\\$]|\\.|\$(?!\{))*"')


def _literal(raw: Any) -> bool:
    """Whether HCL source text is a plain string literal, or a list of them (no interpolation, no reference)."""
    if not isinstance(raw, str) or not raw.strip():
        return False
    rest = _QUOTED.sub("", raw.strip())
    if rest == "":
        return raw.strip() != '""'
    return raw.strip().startswith("[") and rest.replace("[", "").replace("]", "").replace(",", "").strip() == "" \
        and '"' in raw


def _check_password(block: Block, ctx: CheckContext) -> Iterator[Result]:
    for name in PASSWORD_ARGUMENTS.get(block.type, ()):
        raw = block.raw.get(name)
        if raw is None:
            continue
        if _literal(raw):
            yield Result(f"password is hard-coded in the configuration ({block.type}.{name} is a literal)",
                         attribute=name)
            continue
        ref = _VAR_REF.match(raw) if isinstance(raw, str) else None
        if ref:
            var = _variable_default(ctx.config, block.module_path, ref.group(1))
            if var is not None and _literal(var.raw.get("default")):
                yield Result(f"password is hard-coded in the configuration (default of variable {var.name}, "
                             f"{var.file}:{var.line_of('default')}, used as {name})", attribute=name,
                             details={"variable": var.name, "variable_file": var.file,
                                      "variable_line": var.line_of("default")})


HARDCODED_PASSWORD = Rule(
    id="AWS-SECRET-HARDCODED-PASSWORD",
    title="password is hard-coded in the configuration",
    severity=Severity.HIGH,
    kind=Kind.SECURITY,
    resource_types=tuple(PASSWORD_ARGUMENTS),
    why="A password in code or in a variable default lives forever in git history and in every plan and state "
        "file. Let RDS manage it (manage_master_user_password), generate it with random_password into Secrets "
        "Manager, or pass it at apply time from a secret store.",
    fail_example='''variable "db_password" {
  default = "Sup3rS3cret!"
}
resource "aws_db_instance" "fail" {
  identifier        = "orders"
  engine            = "postgres"
  instance_class    = "db.t3.micro"
  allocated_storage = 20
  username          = "app"
  password          = var.db_password
}''',
    pass_example='''variable "db_password" {
  type      = string
  sensitive = true
}
resource "aws_db_instance" "pass" {
  identifier        = "orders"
  engine            = "postgres"
  instance_class    = "db.t3.micro"
  allocated_storage = 20
  username          = "app"
  password          = var.db_password
}''',
    check=_check_password,
    references=("https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-secrets-manager.html",),
)

RULES: list[Rule] = [ACCESS_KEY, HARDCODED_PASSWORD]
