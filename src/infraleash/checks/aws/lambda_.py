"""Lambda: function URLs without authentication."""

from __future__ import annotations

from collections.abc import Iterator

from infraleash.checks.aws._common import unknown
from infraleash.checks.rule import CheckContext, Result, Rule
from infraleash.findings import Kind, Severity
from infraleash.terraform.config import Block, Unknown


def _check_url_auth(block: Block, ctx: CheckContext) -> Iterator[Result]:
    auth = block.get("authorization_type")
    if isinstance(auth, Unknown):
        yield unknown("Lambda function URL authorization", auth, attribute="authorization_type")
    elif auth == "NONE":
        yield Result("Lambda function URL has no authentication (authorization_type = \"NONE\")",
                     attribute="authorization_type")


URL_NO_AUTH = Rule(
    id="AWS-LAMBDA-URL-NO-AUTH",
    title="Lambda function URL has no authentication (authorization_type = \"NONE\")",
    severity=Severity.HIGH,
    kind=Kind.SECURITY,
    resource_types=("aws_lambda_function_url",),
    why="A function URL with auth NONE is a public HTTPS endpoint: anyone who finds it can invoke the function "
        "with its role's permissions and run up the bill. Use AWS_IAM, or put it behind API Gateway / "
        "CloudFront with authentication.",
    fail_example='''resource "aws_lambda_function_url" "fail" {
  function_name      = "report-export"
  authorization_type = "NONE"
}''',
    pass_example='''resource "aws_lambda_function_url" "pass" {
  function_name      = "report-export"
  authorization_type = "AWS_IAM"
}''',
    unknown_example='''variable "auth" { type = string }
resource "aws_lambda_function_url" "unknown" {
  function_name      = "report-export"
  authorization_type = var.auth
}''',
    check=_check_url_auth,
    checkov_ids=("CKV_AWS_258",),
    references=("https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html",),
)

RULES: list[Rule] = [URL_NO_AUTH]
