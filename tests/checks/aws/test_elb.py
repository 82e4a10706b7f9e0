"""Load balancer listeners: protocol omitted (HTTP by default), TLS policies judged by name."""

from __future__ import annotations

import pytest
from _run import fails, unknowns

from infraleash.checks.aws.elb import HTTP_NO_REDIRECT, OLD_TLS, tls_policy_verdict

LISTENER = '''resource "aws_lb" "web" {{
  name = "web"{lb_type}
}}
resource "aws_lb_listener" "l" {{
  load_balancer_arn = aws_lb.web.arn
  port              = 80{protocol}
  default_action {{
    type             = "forward"
    target_group_arn = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/73e2d6bc24d8a067"
  }}
}}
'''


@pytest.mark.parametrize("lb_type,protocol,verdict", [
    ("", "", "fail"),  # application LB by default, protocol defaults to HTTP
    ('\n  load_balancer_type = "application"', "", "fail"),
    ('\n  load_balancer_type = "network"', "", "pass"),
    ("", '\n  protocol          = "HTTP"', "fail"),
    ("", '\n  protocol          = "HTTPS"', "pass"),
    ('\n  load_balancer_type = var.kind', "", "unknown"),
])
def test_omitted_protocol_is_http_on_an_application_lb(lb_type: str, protocol: str, verdict: str) -> None:
    text = 'variable "kind" {}\n' + LISTENER.format(lb_type=lb_type, protocol=protocol)
    got = "fail" if fails(HTTP_NO_REDIRECT, text) else "unknown" if unknowns(HTTP_NO_REDIRECT, text) else "pass"
    assert got == verdict


@pytest.mark.parametrize("name,old", [
    ("ELBSecurityPolicy-2016-08", True), ("ELBSecurityPolicy-2015-05", True),
    ("ELBSecurityPolicy-TLS-1-1-2017-01", True), ("ELBSecurityPolicy-FS-1-1-2019-08", True),
    ("ELBSecurityPolicy-TLS13-1-0-2021-06", True), ("ELBSecurityPolicy-TLS13-1-1-FIPS-2023-04", True),
    ("ELBSample-OpenSSLDefaultNegotiationPolicy", True),
    ("ELBSecurityPolicy-TLS-1-2-2017-01", False), ("ELBSecurityPolicy-TLS-1-2-Ext-2018-06", False),
    ("ELBSecurityPolicy-FS-1-2-Res-2020-10", False), ("ELBSecurityPolicy-TLS13-1-2-2021-06", False),
    ("ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04", False), ("my-custom-policy", None),
])
def test_tls_policy_names(name: str, old: bool | None) -> None:
    assert tls_policy_verdict(name) is old


def test_https_listener_policy_unset_or_unrecognised() -> None:
    base = LISTENER.format(lb_type="", protocol='\n  protocol          = "HTTPS"')
    assert fails(OLD_TLS, base)  # unset: the default ELBSecurityPolicy-2016-08
    modern = base.replace('protocol          = "HTTPS"', 'protocol = "HTTPS"\n  ssl_policy = "ELBSecurityPolicy-TLS13-1-2-2021-06"')
    assert not fails(OLD_TLS, modern) and not unknowns(OLD_TLS, modern)
    made_up = base.replace('protocol          = "HTTPS"', 'protocol = "HTTPS"\n  ssl_policy = "TLS12-strong"')
    assert unknowns(OLD_TLS, made_up) and not fails(OLD_TLS, made_up)


CLASSIC = '''resource "aws_elb" "web" {
  name               = "web"
  availability_zones = ["eu-west-1a"]
  listener {
    instance_port      = 8080
    instance_protocol  = "http"
    lb_port            = 443
    lb_protocol        = "https"
    ssl_certificate_id = "arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-123456789012"
  }
}
'''
ATTACHED = '''resource "aws_load_balancer_listener_policy" "tls" {
  load_balancer_name = aws_elb.web.name
  load_balancer_port = PORT
  policy_names       = ["web-tls"]
}
'''


def test_classic_https_listener_without_a_policy_uses_the_default() -> None:
    from infraleash.checks.aws.elb_classic import OLD_TLS as CLASSIC_TLS

    assert fails(CLASSIC_TLS, CLASSIC) == {"aws_elb.web"}
    assert fails(CLASSIC_TLS, CLASSIC + ATTACHED.replace("PORT", "443")) == set()
    assert fails(CLASSIC_TLS, CLASSIC + ATTACHED.replace("PORT", "8443")) == {"aws_elb.web"}


def test_classic_policy_with_old_protocols_switched_on() -> None:
    from infraleash.checks.aws.elb_classic import OLD_TLS as CLASSIC_TLS

    policy = '''resource "aws_load_balancer_policy" "p" {
  load_balancer_name = "web"
  policy_name        = "custom"
  policy_type_name   = "SSLNegotiationPolicyType"
  policy_attribute {
    name  = "Protocol-TLSv1.2"
    value = "true"
  }
  policy_attribute {
    name  = "Protocol-TLSv1"
    value = "VALUE"
  }
}
'''
    assert fails(CLASSIC_TLS, policy.replace("VALUE", "true")) == {"aws_load_balancer_policy.p"}
    assert fails(CLASSIC_TLS, policy.replace("VALUE", "false")) == set()
