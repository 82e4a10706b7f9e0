"""HTTPS endpoints other than load balancers that still accept TLS 1.0/1.1, often by default.

* CloudFront with its own certificate: ``viewer_certificate.minimum_protocol_version`` unset
  (``TLSv1``), ``TLSv1``, ``TLSv1_2016`` or ``TLSv1.1_2016`` (``TLSv1.2_*`` is fine; the shared
  ``*.cloudfront.net`` certificate cannot be changed and is not reported);
* API Gateway REST custom domains: ``security_policy`` unset (``TLS_1_0``) or ``TLS_1_0``;
* OpenSearch / Elasticsearch domains: ``domain_endpoint_options.tls_security_policy`` unset
  (``Policy-Min-TLS-1-0-2019-07``) or that policy.
"""

from __future__ import annotations

from collections.abc import Iterator

from infraleash.checks.aws._common import Words, truth, unknown
from infraleash.checks.rule import CheckContext, Result, Rule
from infraleash.findings import Kind, Severity
from infraleash.terraform.config import Block, Unknown

OLD_CLOUDFRONT = Words({"SSLv3", "TLSv1", "TLSv1_2016", "TLSv1.1_2016"})
OLD_OPENSEARCH = Words({"Policy-Min-TLS-1-0-2019-07"})


def _setting(block: Block, value: object, default: str, old: Words, what: str, attribute: str,
             on: Block | None = None) -> Iterator[Result]:
    if isinstance(value, Unknown):
        yield unknown(what, value, attribute=attribute, block=on)
        return
    shown = value if value is not None else f"unset (defaults to {default})"
    if (value if value is not None else default) in old:
        yield Result(f"{what} accepts TLS 1.0/1.1: {attribute} {shown}", attribute=attribute, block=on,
                     details={attribute: value})


def _check(block: Block, ctx: CheckContext) -> Iterator[Result]:
    if block.type == "aws_cloudfront_distribution":
        for vc in block.blocks("viewer_certificate"):
            if truth(vc.get("cloudfront_default_certificate")) and vc.get("acm_certificate_arn") is None \
                    and vc.get("iam_certificate_id") is None:
                continue  # the shared *.cloudfront.net certificate: its policy cannot be chosen
            for r in _setting(block, vc.get("minimum_protocol_version"), "TLSv1", OLD_CLOUDFRONT,
                              "CloudFront viewer TLS", "minimum_protocol_version"):
                yield Result(r.message, outcome=r.outcome, attribute="viewer_certificate", details=r.details)
    elif block.type == "aws_api_gateway_domain_name":
        yield from _setting(block, block.get("security_policy"), "TLS_1_0", Words({"TLS_1_0"}),
                            "API Gateway custom domain", "security_policy")
    else:  # aws_opensearch_domain, aws_elasticsearch_domain
        options = block.blocks("domain_endpoint_options")
        value = options[0].get("tls_security_policy") if options else None
        for r in _setting(block, value, "Policy-Min-TLS-1-0-2019-07", OLD_OPENSEARCH, "search domain endpoint",
                          "tls_security_policy"):
            yield Result(r.message, outcome=r.outcome, attribute="domain_endpoint_options" if options else None,
                         details=r.details)


OLD_TLS_ENDPOINT = Rule(
    id="AWS-TLS-OLD-MINIMUM",
    title="HTTPS endpoint (CloudFront, API Gateway domain, OpenSearch) accepts TLS 1.0/1.1",
    severity=Severity.MEDIUM,
    kind=Kind.SECURITY,
    resource_types=("aws_cloudfront_distribution", "aws_api_gateway_domain_name", "aws_opensearch_domain",
                    "aws_elasticsearch_domain"),
    why="TLS 1.0 and 1.1 are deprecated (RFC 8996) and fail PCI DSS, and these services default to them when "
        "the setting is left out: API Gateway domains to TLS_1_0, CloudFront with a custom certificate to "
        "TLSv1, OpenSearch to Policy-Min-TLS-1-0-2019-07. Set TLS_1_2 / TLSv1.2_2021 / "
        "Policy-Min-TLS-1-2-2019-07 (or newer).",
    fail_example='''resource "aws_api_gateway_domain_name" "fail" {
  domain_name              = "api.example.com"
  regional_certificate_arn = "arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-123456789012"
  endpoint_configuration {
    types = ["REGIONAL"]
  }
}''',
    pass_example='''resource "aws_api_gateway_domain_name" "pass" {
  domain_name              = "api.example.com"
  regional_certificate_arn = "arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-123456789012"
  security_policy          = "TLS_1_2"
  endpoint_configuration {
    types = ["REGIONAL"]
  }
}
resource "aws_opensearch_domain" "pass" {
  domain_name = "logs"
  domain_endpoint_options {
    enforce_https       = true
    tls_security_policy = "Policy-Min-TLS-1-2-2019-07"
  }
}''',
    unknown_example='''variable "policy" { type = string }
resource "aws_api_gateway_domain_name" "unknown" {
  domain_name              = "api.example.com"
  regional_certificate_arn = "arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-123456789012"
  security_policy          = var.policy
  endpoint_configuration {
    types = ["REGIONAL"]
  }
}''',
    check=_check,
    checkov_ids=("CKV_AWS_174", "CKV_AWS_206", "CKV_AWS_228"),
    references=("https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-custom-domain-tls-version.html",
                "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/secure-connections-supported-viewer-protocols-ciphers.html",
                "https://docs.aws.amazon.com/opensearch-service/latest/developerguide/infrastructure-security.html"),
)

RULES: list[Rule] = [OLD_TLS_ENDPOINT]
