"""Load balancers: plain-HTTP listeners that do not redirect, and outdated TLS policies."""

from __future__ import annotations

from collections.abc import Iterator

from infraleash.checks.aws._common import unknown
from infraleash.checks.rule import CheckContext, Result, Rule
from infraleash.findings import Kind, Severity
from infraleash.terraform.config import Block, Unknown

LISTENER_TYPES = ("aws_lb_listener", "aws_alb_listener")
# predefined policies that still accept TLS 1.0 / 1.1
OLD_TLS_POLICIES = {
    "ELBSecurityPolicy-2016-08", "ELBSecurityPolicy-2015-05", "ELBSecurityPolicy-TLS-1-0-2015-04",
    "ELBSecurityPolicy-TLS-1-1-2017-01", "ELBSecurityPolicy-FS-2018-06", "ELBSecurityPolicy-FS-1-1-2019-08",
    "ELBSecurityPolicy-TLS13-1-0-2021-06", "ELBSecurityPolicy-TLS13-1-1-2021-06",
}


def _redirects_to_https(listener: Block) -> bool | None:
    actions = listener.blocks("default_action")
    verdict: bool | None = False
    for action in actions:
        kind = action.get("type")
        if isinstance(kind, Unknown):
            verdict = None
            continue
        if kind == "redirect":
            for redirect in action.blocks("redirect"):
                proto = redirect.get("protocol")
                if isinstance(proto, Unknown):
                    verdict = None
                elif proto == "HTTPS":
                    return True
        if kind == "fixed-response":
            return True  # answers itself (e.g. 404 / maintenance page), forwards nothing in clear
    return verdict


def _check_http(block: Block, ctx: CheckContext) -> Iterator[Result]:
    proto = block.get("protocol")
    if isinstance(proto, Unknown):
        yield unknown("load balancer listener protocol", proto, attribute="protocol")
        return
    if proto != "HTTP":
        return
    ok = _redirects_to_https(block)
    if ok is False:
        yield Result("load balancer listener serves plain HTTP without redirecting to HTTPS", attribute="protocol")
    elif ok is None:
        yield unknown("load balancer listener redirect", Unknown("the default action is not known statically"),
                      attribute="default_action")


HTTP_NO_REDIRECT = Rule(
    id="AWS-LB-HTTP-NO-REDIRECT",
    title="load balancer listener serves plain HTTP without redirecting to HTTPS",
    severity=Severity.HIGH,
    kind=Kind.SECURITY,
    resource_types=LISTENER_TYPES,
    why="Traffic forwarded on an HTTP listener (session cookies, credentials, API tokens) crosses the internet "
        "in clear text. Keep port 80 only to answer with a redirect to HTTPS.",
    fail_example='''resource "aws_lb_listener" "fail" {
  load_balancer_arn = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188"
  port              = 80
  protocol          = "HTTP"
  default_action {
    type             = "forward"
    target_group_arn = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/73e2d6bc24d8a067"
  }
}''',
    pass_example='''resource "aws_lb_listener" "pass" {
  load_balancer_arn = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188"
  port              = 80
  protocol          = "HTTP"
  default_action {
    type = "redirect"
    redirect {
      port        = "443"
      protocol    = "HTTPS"
      status_code = "HTTP_301"
    }
  }
}''',
    unknown_example='''variable "protocol" { type = string }
resource "aws_lb_listener" "unknown" {
  load_balancer_arn = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188"
  port              = 80
  protocol          = var.protocol
  default_action {
    type             = "forward"
    target_group_arn = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/73e2d6bc24d8a067"
  }
}''',
    check=_check_http,
    checkov_ids=("CKV_AWS_2",),
    references=("https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-listeners.html",),
)


def _check_tls(block: Block, ctx: CheckContext) -> Iterator[Result]:
    if block.get("protocol") not in ("HTTPS", "TLS"):
        return
    policy = block.get("ssl_policy")
    if isinstance(policy, Unknown):
        yield unknown("listener TLS policy", policy, attribute="ssl_policy")
    elif policy is None or policy in OLD_TLS_POLICIES:
        shown = "unset (defaults to ELBSecurityPolicy-2016-08)" if policy is None else policy
        yield Result(f"load balancer listener accepts TLS 1.0/1.1: ssl_policy {shown}", attribute="ssl_policy")


OLD_TLS = Rule(
    id="AWS-LB-OLD-TLS-POLICY",
    title="load balancer listener accepts TLS 1.0/1.1",
    severity=Severity.MEDIUM,
    kind=Kind.SECURITY,
    resource_types=LISTENER_TYPES,
    why="TLS 1.0 and 1.1 are deprecated (RFC 8996) and fail PCI DSS; clients that still need them are rare. "
        "Use ELBSecurityPolicy-TLS13-1-2-2021-06 or a newer policy.",
    fail_example='''resource "aws_lb_listener" "fail" {
  load_balancer_arn = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188"
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-2016-08"
  certificate_arn   = "arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-123456789012"
  default_action {
    type             = "forward"
    target_group_arn = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/73e2d6bc24d8a067"
  }
}''',
    pass_example='''resource "aws_lb_listener" "pass" {
  load_balancer_arn = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188"
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = "arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-123456789012"
  default_action {
    type             = "forward"
    target_group_arn = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/73e2d6bc24d8a067"
  }
}''',
    check=_check_tls,
    checkov_ids=("CKV_AWS_103",),
    references=("https://docs.aws.amazon.com/elasticloadbalancing/latest/application/describe-ssl-policies.html",),
)

RULES: list[Rule] = [HTTP_NO_REDIRECT, OLD_TLS]
