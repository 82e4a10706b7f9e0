"""Load balancers: plain-HTTP listeners that do not redirect, and outdated TLS policies.

A listener whose ``protocol`` is omitted is HTTP (the provider's default for an application load
balancer) unless the load balancer it names is a network or gateway one.  TLS policies are
judged by name (:func:`tls_policy_verdict`), the predefined ELB security policies being named
after their minimum version: ``...-TLS13-1-2-...``, ``...-TLS-1-2-...``, ``...-FS-1-2-...``
require TLS 1.2; dated ones (``ELBSecurityPolicy-2016-08``, the default), ``-TLS-1-0/1-1``,
``-FS-2018-06``, ``-FS-1-1`` and ``-TLS13-1-0/1-1`` still accept TLS 1.0 or 1.1.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from infraleash.checks.aws._common import unknown
from infraleash.checks.rule import CheckContext, Result, Rule
from infraleash.findings import Kind, Outcome, Severity
from infraleash.terraform.config import Block, Unknown

LISTENER_TYPES = ("aws_lb_listener", "aws_alb_listener")
DEFAULT_TLS_POLICY = "ELBSecurityPolicy-2016-08"
_OLD_TLS = re.compile(r"^(ELBSecurityPolicy-(\d{4}-\d{2}|TLS-1-[01]-.+|FS-\d{4}-\d{2}|FS-1-1-.+|TLS13-1-[01]-.+)"
                      r"|ELBSample-.+)$")
_MODERN_TLS = re.compile(r"^ELBSecurityPolicy-(TLS-1-2-.+|FS-1-2-.+|TLS13-1-[23]-.+)$")
# kept for callers that list them (documentation, tests)
OLD_TLS_POLICIES = {
    "ELBSecurityPolicy-2016-08", "ELBSecurityPolicy-2015-05", "ELBSecurityPolicy-TLS-1-0-2015-04",
    "ELBSecurityPolicy-TLS-1-1-2017-01", "ELBSecurityPolicy-FS-2018-06", "ELBSecurityPolicy-FS-1-1-2019-08",
    "ELBSecurityPolicy-TLS13-1-0-2021-06", "ELBSecurityPolicy-TLS13-1-1-2021-06",
}


def tls_policy_verdict(name: str) -> bool | None:
    """True when a predefined policy still accepts TLS 1.0/1.1, False when it requires 1.2+, None: not one we know."""
    if _OLD_TLS.match(name):
        return True
    if _MODERN_TLS.match(name):
        return False
    return None


def _load_balancer_type(listener: Block, ctx: CheckContext) -> str | Unknown | None:
    """``load_balancer_type`` of the aws_lb the listener names (``application`` when unset), None if not found."""
    for b in ctx.config.resources:
        if b.type in ("aws_lb", "aws_alb") and b.module_path == listener.module_path and listener.refers_to(b):
            value = b.get("load_balancer_type", "application")
            return value if isinstance(value, str | Unknown) else None
    return None


def effective_protocol(listener: Block, ctx: CheckContext) -> str | Unknown | None:
    """The listener's protocol, the provider's default (HTTP) when omitted on an application LB."""
    proto = listener.get("protocol")
    if proto is not None:
        return proto if isinstance(proto, str | Unknown) else Unknown("protocol")
    lb_type = _load_balancer_type(listener, ctx)
    if isinstance(lb_type, Unknown):
        return lb_type
    return None if lb_type in ("network", "gateway") else "HTTP"


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
    proto = effective_protocol(block, ctx)
    if isinstance(proto, Unknown):
        yield unknown("load balancer listener protocol", proto, attribute="protocol")
        return
    if proto != "HTTP":
        return
    ok = _redirects_to_https(block)
    if ok is False:
        omitted = "" if "protocol" in block.attrs else " (protocol omitted: the provider's default is HTTP)"
        yield Result(f"load balancer listener serves plain HTTP without redirecting to HTTPS{omitted}",
                     attribute="protocol" if "protocol" in block.attrs else None, details={"protocol": proto})
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
        "in clear text. Keep port 80 only to answer with a redirect to HTTPS. A listener without `protocol` "
        "is HTTP: that is the provider's default on an application load balancer.",
    fail_example='''resource "aws_lb" "web" {
  name    = "web"
  subnets = ["subnet-0a1b2c3d", "subnet-4e5f6a7b"]
}
resource "aws_lb_listener" "fail" {
  load_balancer_arn = aws_lb.web.arn
  port              = 8080
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
    proto = block.get("protocol")
    if isinstance(proto, Unknown) and block.get("certificate_arn") is not None:
        yield unknown("listener protocol (it has a certificate)", proto, attribute="protocol")
        return
    if proto not in ("HTTPS", "TLS"):
        return
    policy = block.get("ssl_policy")
    if isinstance(policy, Unknown):
        yield unknown("listener TLS policy", policy, attribute="ssl_policy")
        return
    if policy is None:
        yield Result(f"load balancer listener accepts TLS 1.0/1.1: ssl_policy unset (defaults to "
                     f"{DEFAULT_TLS_POLICY})", details={"ssl_policy": None})
        return
    verdict = tls_policy_verdict(str(policy))
    if verdict:
        yield Result(f"load balancer listener accepts TLS 1.0/1.1: ssl_policy {policy}", attribute="ssl_policy",
                     details={"ssl_policy": policy})
    elif verdict is None:
        yield Result(f"listener TLS policy: cannot tell, {policy!r} is not a predefined ELB security policy",
                     outcome=Outcome.UNKNOWN, attribute="ssl_policy", details={"unknown": str(policy)})


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
