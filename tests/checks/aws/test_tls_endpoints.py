"""TLS 1.0/1.1 on CloudFront, API Gateway domains and OpenSearch, set or by default."""

from __future__ import annotations

import pytest
from _run import fails

from infraleash.checks.aws.tls_endpoints import OLD_TLS_ENDPOINT as RULE

CLOUDFRONT = '''resource "aws_cloudfront_distribution" "d" {
  enabled = true
  viewer_certificate {%s
  }
}
'''


@pytest.mark.parametrize("body,fails_", [
    ('\n    acm_certificate_arn = "arn:aws:acm:us-east-1:123456789012:certificate/x"', True),  # default TLSv1
    ('\n    acm_certificate_arn = "arn:aws:acm:us-east-1:123456789012:certificate/x"\n'
     '    minimum_protocol_version = "TLSv1.1_2016"', True),
    ('\n    acm_certificate_arn = "arn:aws:acm:us-east-1:123456789012:certificate/x"\n'
     '    minimum_protocol_version = "TLSv1.2_2021"', False),
    ("\n    cloudfront_default_certificate = true", False),  # *.cloudfront.net: not selectable
])
def test_cloudfront(body: str, fails_: bool) -> None:
    assert bool(fails(RULE, CLOUDFRONT % body)) is fails_


def test_opensearch_default_policy_is_tls_1_0() -> None:
    assert fails(RULE, 'resource "aws_opensearch_domain" "o" {\n  domain_name = "logs"\n}\n')
    assert fails(RULE, 'resource "aws_elasticsearch_domain" "o" {\n  domain_name = "logs"\n'
                       '  domain_endpoint_options {\n    tls_security_policy = "Policy-Min-TLS-1-0-2019-07"\n  }\n}\n')
