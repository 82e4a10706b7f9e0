"""Classic Load Balancers: SSL negotiation policies that still accept TLS 1.0/1.1 (or SSL), and
internet-facing listeners in clear text (a Classic ELB cannot redirect HTTP to HTTPS).

A Classic ELB's HTTPS/SSL listener negotiates with the ``SSLNegotiationPolicyType`` policy
attached to its port (``aws_load_balancer_policy`` + ``aws_load_balancer_listener_policy``).
The policy either references a predefined one (``Reference-Security-Policy``, judged by name as
in :mod:`~infraleash.checks.aws.elb`) or switches protocols on one by one (``Protocol-TLSv1``
= true).  A listener with no policy attached uses ``ELBSecurityPolicy-2016-08``, which accepts
TLS 1.0.
"""

from __future__ import annotations

from collections.abc import Iterator

from infraleash.checks.aws._common import as_int, unknown
from infraleash.checks.aws.elb import DEFAULT_TLS_POLICY, tls_policy_verdict
from infraleash.checks.rule import CheckContext, Result, Rule
from infraleash.findings import Kind, Outcome, Severity
from infraleash.terraform.config import Block, Unknown

OLD_PROTOCOLS = ("Protocol-SSLv2", "Protocol-SSLv3", "Protocol-TLSv1", "Protocol-TLSv1.1")
_DOCS = "https://docs.aws.amazon.com/elasticloadbalancing/latest/classic/elb-security-policy-table.html"


def _check_policy(block: Block, ctx: CheckContext) -> Iterator[Result]:
    kind = block.get("policy_type_name")
    if isinstance(kind, Unknown):
        yield unknown("policy type", kind, attribute="policy_type_name")
        return
    if kind != "SSLNegotiationPolicyType":
        return
    for attr in block.blocks("policy_attribute"):
        name, value = attr.get("name"), attr.get("value")
        if isinstance(name, Unknown) or isinstance(value, Unknown):
            yield unknown("SSL negotiation policy attribute", name if isinstance(name, Unknown) else value,
                          attribute="policy_attribute")
            continue
        if name == "Reference-Security-Policy":
            verdict = tls_policy_verdict(str(value))
            if verdict:
                yield Result(f"Classic ELB SSL negotiation policy references {value}, which accepts TLS 1.0/1.1",
                             attribute="policy_attribute", details={"reference": value})
            elif verdict is None:
                yield Result(f"Classic ELB SSL negotiation policy: cannot tell, {value!r} is not a predefined "
                             "security policy", outcome=Outcome.UNKNOWN, attribute="policy_attribute",
                             details={"unknown": str(value)})
        elif name in OLD_PROTOCOLS and str(value).lower() == "true":
            yield Result(f"Classic ELB SSL negotiation policy enables {name}", attribute="policy_attribute",
                         details={"protocol": name})


def _listener_policy_ports(elb: Block, ctx: CheckContext) -> set[int] | None:
    """Ports of ``elb`` with a listener policy attached; None when an attachment's target is unknown."""
    ports: set[int] = set()
    name = elb.get("name")
    undecided = False
    for lp in ctx.config.of_type("aws_load_balancer_listener_policy"):
        if lp.module_path != elb.module_path:
            continue
        target = lp.get("load_balancer_name")
        attached = lp.refers_to(elb) or (isinstance(name, str) and target == name)
        if not attached:
            undecided = undecided or (isinstance(target, Unknown) and not lp.references)
            continue
        port = as_int(lp.get("load_balancer_port"))
        if port is None:
            undecided = True
        else:
            ports.add(port)
    return None if undecided and not ports else ports


def _check_elb(block: Block, ctx: CheckContext) -> Iterator[Result]:
    attached = None
    for listener in block.blocks("listener"):
        proto = listener.get("lb_protocol")
        if isinstance(proto, Unknown):
            yield unknown("Classic ELB listener protocol", proto, attribute="listener")
            continue
        if str(proto).lower() not in ("https", "ssl"):
            continue
        if attached is None:
            attached = _listener_policy_ports(block, ctx)
        port = as_int(listener.get("lb_port"))
        if attached is None or port is None:
            yield unknown("Classic ELB listener policy", Unknown("the listener policy attachments are not known "
                                                                  "statically"), attribute="listener")
        elif port not in attached:
            yield Result(f"Classic ELB {str(proto).upper()} listener on port {port} has no SSL negotiation policy: "
                         f"it uses {DEFAULT_TLS_POLICY}, which accepts TLS 1.0", attribute="listener",
                         details={"port": port})


def _check(block: Block, ctx: CheckContext) -> Iterator[Result]:
    return _check_elb(block, ctx) if block.type == "aws_elb" else _check_policy(block, ctx)


OLD_TLS = Rule(
    id="AWS-ELB-CLASSIC-OLD-TLS",
    title="Classic ELB SSL negotiation accepts TLS 1.0/1.1 or SSL",
    severity=Severity.MEDIUM,
    kind=Kind.SECURITY,
    resource_types=("aws_load_balancer_policy", "aws_elb"),
    why="TLS 1.0 and 1.1 are deprecated (RFC 8996) and fail PCI DSS. A Classic ELB HTTPS listener without an "
        "SSL negotiation policy uses ELBSecurityPolicy-2016-08 (TLS 1.0 on); attach a policy referencing "
        "ELBSecurityPolicy-TLS-1-2-2017-01, and never enable Protocol-SSLv3/TLSv1/TLSv1.1 by hand.",
    fail_example='''resource "aws_load_balancer_policy" "fail" {
  load_balancer_name = "web"
  policy_name        = "web-tls"
  policy_type_name   = "SSLNegotiationPolicyType"
  policy_attribute {
    name  = "Reference-Security-Policy"
    value = "ELBSecurityPolicy-2016-08"
  }
}''',
    pass_example='''resource "aws_elb" "pass" {
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
resource "aws_load_balancer_policy" "pass" {
  load_balancer_name = aws_elb.pass.name
  policy_name        = "web-tls"
  policy_type_name   = "SSLNegotiationPolicyType"
  policy_attribute {
    name  = "Reference-Security-Policy"
    value = "ELBSecurityPolicy-TLS-1-2-2017-01"
  }
}
resource "aws_load_balancer_listener_policy" "pass" {
  load_balancer_name = aws_elb.pass.name
  load_balancer_port = 443
  policy_names       = [aws_load_balancer_policy.pass.policy_name]
}''',
    unknown_example='''variable "reference" { type = string }
resource "aws_load_balancer_policy" "unknown" {
  load_balancer_name = "web"
  policy_name        = "web-tls"
  policy_type_name   = "SSLNegotiationPolicyType"
  policy_attribute {
    name  = "Reference-Security-Policy"
    value = var.reference
  }
}''',
    check=_check,
    checkov_ids=("CKV_AWS_213",),
    references=(_DOCS,),
)

def _check_plain(block: Block, ctx: CheckContext) -> Iterator[Result]:
    if block.get("internal") is True:
        return  # reachable only inside the VPC
    for listener in block.blocks("listener"):
        proto = listener.get("lb_protocol")
        if isinstance(proto, Unknown):
            yield unknown("Classic ELB listener protocol", proto, attribute="listener")
        elif str(proto).lower() in ("http", "tcp") and as_int(listener.get("lb_port")) != 443:
            yield Result(f"Classic ELB internet-facing listener on port {listener.get('lb_port')} speaks "
                         f"{str(proto).upper()} in clear text (a Classic ELB cannot redirect to HTTPS)",
                         attribute="listener", details={"port": listener.get("lb_port"), "protocol": proto})


PLAIN_LISTENER = Rule(
    id="AWS-ELB-CLASSIC-PLAIN-LISTENER",
    title="internet-facing Classic ELB listener in clear text (HTTP/TCP)",
    severity=Severity.MEDIUM,
    kind=Kind.SECURITY,
    resource_types=("aws_elb",),
    why="A Classic ELB cannot answer HTTP with a redirect: whatever arrives on an HTTP or TCP listener is "
        "forwarded in clear text, cookies and credentials included. Use HTTPS/SSL listeners, or move to an "
        "application load balancer whose port 80 redirects. Internal load balancers are not reported.",
    fail_example="""resource "aws_elb" "fail" {
  name               = "web"
  availability_zones = ["eu-west-1a"]
  listener {
    instance_port     = 8080
    instance_protocol = "http"
    lb_port           = 80
    lb_protocol       = "http"
  }
}""",
    pass_example="""resource "aws_elb" "pass" {
  name               = "web"
  availability_zones = ["eu-west-1a"]
  internal           = true
  listener {
    instance_port     = 8080
    instance_protocol = "http"
    lb_port           = 80
    lb_protocol       = "http"
  }
}""",
    check=_check_plain,
    references=("https://docs.aws.amazon.com/elasticloadbalancing/latest/classic/elb-listener-config.html",),
)

RULES: list[Rule] = [OLD_TLS, PLAIN_LISTENER]
