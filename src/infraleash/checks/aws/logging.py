"""Logging: CloudTrail (on, multi-region, log file validation, KMS) and VPC flow logs."""

from __future__ import annotations

from collections.abc import Iterator

from infraleash.checks.aws._common import require_true
from infraleash.checks.rule import CheckContext, Result, Rule
from infraleash.findings import Kind, Outcome, Severity
from infraleash.terraform.config import Block, Unknown

_TRAIL_DOCS = "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/best-practices-security.html"


def _trail(name: str, **extra: str) -> str:
    lines = [f'resource "aws_cloudtrail" "{name}" {{', '  name           = "org-trail"',
             '  s3_bucket_name = "acme-cloudtrail"']
    lines += [f"  {k} = {v}" for k, v in extra.items()]
    return "\n".join([*lines, "}"])


_GOOD = {"is_multi_region_trail": "true", "enable_log_file_validation": "true",
         "kms_key_id": '"arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"'}


def _check_logging_on(block: Block, ctx: CheckContext) -> Iterator[Result]:
    yield from require_true(block, "enable_logging", "CloudTrail trail has logging turned off", default=True)


TRAIL_LOGGING_OFF = Rule(
    id="AWS-CLOUDTRAIL-LOGGING-OFF",
    title="CloudTrail trail has logging turned off",
    severity=Severity.HIGH,
    kind=Kind.SECURITY,
    resource_types=("aws_cloudtrail",),
    why="A trail that exists but does not log gives false comfort: API activity during an incident is simply "
        "not recorded. Stopping logging is also a classic attacker move, so it should never come from code.",
    fail_example=_trail("fail", enable_logging="false", **_GOOD),
    pass_example=_trail("pass", enable_logging="true", **_GOOD),
    unknown_example='variable "on" { type = bool }\n' + _trail("unknown", enable_logging="var.on", **_GOOD),
    check=_check_logging_on,
    checkov_ids=("CKV_AWS_251",),
    references=(_TRAIL_DOCS,),
)


def _check_multi_region(block: Block, ctx: CheckContext) -> Iterator[Result]:
    yield from require_true(block, "is_multi_region_trail", "CloudTrail trail records only one region")


TRAIL_SINGLE_REGION = Rule(
    id="AWS-CLOUDTRAIL-SINGLE-REGION",
    title="CloudTrail trail records only one region",
    severity=Severity.MEDIUM,
    kind=Kind.SECURITY,
    resource_types=("aws_cloudtrail",),
    why="Attackers launch resources in regions nobody watches; a single-region trail never sees them.",
    fail_example=_trail("fail", enable_log_file_validation="true", kms_key_id=_GOOD["kms_key_id"]),
    pass_example=_trail("pass", **_GOOD),
    unknown_example='variable "multi" { type = bool }\n' + _trail(
        "unknown", is_multi_region_trail="var.multi", enable_log_file_validation="true",
        kms_key_id=_GOOD["kms_key_id"]),
    check=_check_multi_region,
    checkov_ids=("CKV_AWS_67",),
    references=(_TRAIL_DOCS,),
)


def _check_validation(block: Block, ctx: CheckContext) -> Iterator[Result]:
    yield from require_true(block, "enable_log_file_validation", "CloudTrail log file validation is disabled")


TRAIL_NO_VALIDATION = Rule(
    id="AWS-CLOUDTRAIL-NO-LOG-VALIDATION",
    title="CloudTrail log file validation is disabled",
    severity=Severity.MEDIUM,
    kind=Kind.SECURITY,
    resource_types=("aws_cloudtrail",),
    why="Digest files let you prove that log files were not modified or deleted after delivery; without them "
        "an intruder who reaches the bucket can edit the record of what they did.",
    fail_example=_trail("fail", is_multi_region_trail="true", kms_key_id=_GOOD["kms_key_id"]),
    pass_example=_trail("pass", **_GOOD),
    check=_check_validation,
    checkov_ids=("CKV_AWS_36",),
    references=("https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-validation-intro.html",),
)


def _check_trail_kms(block: Block, ctx: CheckContext) -> Iterator[Result]:
    value = block.get("kms_key_id")
    if value is None or value == "":
        yield Result("CloudTrail logs are not encrypted with a KMS key")
    elif isinstance(value, Unknown) and not block.references:
        yield Result(f"CloudTrail KMS key: cannot tell, {value.reason}", outcome=Outcome.UNKNOWN,
                     attribute="kms_key_id", details={"unknown": value.reason})


TRAIL_NO_KMS = Rule(
    id="AWS-CLOUDTRAIL-NO-KMS",
    title="CloudTrail logs are not encrypted with a KMS key",
    severity=Severity.MEDIUM,
    kind=Kind.SECURITY,
    resource_types=("aws_cloudtrail",),
    why="With SSE-KMS, reading the logs needs kms:Decrypt on a key you control: an extra, separately audited "
        "permission between the log bucket and whoever gains read access to it.",
    fail_example=_trail("fail", is_multi_region_trail="true", enable_log_file_validation="true"),
    pass_example=_trail("pass", **_GOOD),
    check=_check_trail_kms,
    checkov_ids=("CKV_AWS_35",),
    references=("https://docs.aws.amazon.com/awscloudtrail/latest/userguide/encrypting-cloudtrail-log-files-with-aws-kms.html",),
)


def _check_flow_logs(block: Block, ctx: CheckContext) -> Iterator[Result]:
    logs = ctx.config.referencing(block, "aws_flow_log")
    if logs:
        return
    for fl in ctx.config.of_type("aws_flow_log"):
        if fl.module_path != block.module_path or any(r.startswith("aws_vpc.") for r in fl.references):
            continue
        if isinstance(fl.get("vpc_id"), Unknown):
            yield Result(f"VPC has no flow log: cannot tell, {fl.address} names its VPC by a value known only "
                         "at apply time", outcome=Outcome.UNKNOWN, details={"unknown": f"{fl.address}.vpc_id"})
            return
    yield Result("VPC has no flow log")


VPC_NO_FLOW_LOGS = Rule(
    id="AWS-VPC-NO-FLOW-LOGS",
    title="VPC has no flow log",
    severity=Severity.MEDIUM,
    kind=Kind.SECURITY,
    resource_types=("aws_vpc",),
    why="Flow logs are the only record of which addresses talked to what inside the VPC: without them an "
        "incident responder cannot tell whether data left, or from where an attacker moved.",
    fail_example='''resource "aws_vpc" "fail" {
  cidr_block = "10.0.0.0/16"
}''',
    pass_example='''resource "aws_vpc" "pass" {
  cidr_block = "10.0.0.0/16"
}
resource "aws_flow_log" "pass" {
  vpc_id               = aws_vpc.pass.id
  traffic_type         = "ALL"
  log_destination_type = "s3"
  log_destination      = "arn:aws:s3:::acme-flow-logs"
}''',
    check=_check_flow_logs,
    checkov_ids=("CKV2_AWS_11",),
    references=("https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs.html",),
)


RULES: list[Rule] = [TRAIL_LOGGING_OFF, TRAIL_SINGLE_REGION, TRAIL_NO_VALIDATION, TRAIL_NO_KMS, VPC_NO_FLOW_LOGS]
