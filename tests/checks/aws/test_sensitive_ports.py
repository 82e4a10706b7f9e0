"""Sensitive ports open to the internet, per protocol, whatever the range that includes them."""

from __future__ import annotations

import pytest
from _run import run, unknowns

from infraleash.checks.aws.sensitive_ports import OPEN_HTTP, OPEN_SENSITIVE_PORT
from infraleash.findings import Outcome


def _rule_text(protocol: str, lo: int, hi: int, cidr: str = "0.0.0.0/0") -> str:
    return f'''resource "aws_security_group_rule" "r" {{
  type              = "ingress"
  security_group_id = "sg-0123456789abcdef0"
  from_port         = {lo}
  to_port           = {hi}
  protocol          = "{protocol}"
  cidr_blocks       = ["{cidr}"]
}}
'''


def _services(text: str) -> list[str] | None:
    found = [r for _, r in run(OPEN_SENSITIVE_PORT, text) if r.outcome is Outcome.FAIL]
    return found[0].details["services"] if found else None


@pytest.mark.parametrize("protocol,lo,hi,expected", [
    ("tcp", 445, 445, ["445 SMB (tcp)"]),
    ("udp", 445, 445, None),  # SMB is TCP
    ("udp", 161, 161, ["161-162 SNMP (udp)"]),
    ("tcp", 161, 161, None),
    ("6", 23, 23, ["23 Telnet (tcp)"]),  # protocol number
    ("17", 53, 53, ["53 DNS (udp)"]),
    ("tcp", 135, 139, ["135 MS RPC (tcp)", "139 NetBIOS session (tcp)"]),
    ("udp", 135, 139, ["135 MS RPC (udp)", "137-138 NetBIOS name/datagram (udp)"]),
    ("tcp", 2000, 2100, ["2049 NFS (tcp)"]),
    ("tcp", 443, 443, None),
    ("tcp", 22, 22, None),  # AWS-SG-OPEN-SSH
    ("icmp", -1, -1, None),
])
def test_services_exposed_per_protocol(protocol: str, lo: int, hi: int, expected: list[str] | None) -> None:
    assert _services(_rule_text(protocol, lo, hi)) == expected


def test_a_wide_range_names_everything_it_opens() -> None:
    services = _services(_rule_text("tcp", 1, 1024))
    assert services is not None
    assert {"20-21 FTP (tcp)", "23 Telnet (tcp)", "25 SMTP (tcp)", "445 SMB (tcp)", "139 NetBIOS session (tcp)"} \
        <= set(services)


def test_private_sources_ipv6_and_the_vpc_rule_resource() -> None:
    assert _services(_rule_text("tcp", 445, 445, "10.0.0.0/8")) is None
    assert _services(_rule_text("tcp", 445, 445, "::/0")) == ["445 SMB (tcp)"]
    vpc_rule = '''resource "aws_vpc_security_group_ingress_rule" "r" {
  security_group_id = "sg-0123456789abcdef0"
  from_port         = 5900
  to_port           = 5900
  ip_protocol       = "tcp"
  cidr_ipv4         = "0.0.0.0/0"
}
'''
    assert _services(vpc_rule) == ["5900-5903 VNC (tcp)"]


def test_http_rule_and_unknown_protocol() -> None:
    assert [r.details["services"] for _, r in run(OPEN_HTTP, _rule_text("tcp", 0, 1024))] == [["80 HTTP (tcp)"]]
    text = 'variable "p" {}\n' + _rule_text("tcp", 445, 445).replace('"tcp"', "var.p")
    assert unknowns(OPEN_SENSITIVE_PORT, text) == {"aws_security_group_rule.r"}


def test_ingress_written_as_an_attribute_list() -> None:
    text = '''resource "aws_security_group" "s" {
  name = "s"
  ingress = [{
    from_port        = 445
    to_port          = 445
    protocol         = "tcp"
    cidr_blocks      = ["0.0.0.0/0"]
    ipv6_cidr_blocks = []
    description      = "smb"
    prefix_list_ids  = []
    security_groups  = []
    self             = false
  }]
}
'''
    assert _services(text) == ["445 SMB (tcp)"]


def test_a_template_with_a_fixed_prefix_length_is_not_the_internet() -> None:
    text = 'variable "office_ip" {}\n' + _rule_text("tcp", 445, 445, "${var.office_ip}/32")
    assert _services(text) is None and not unknowns(OPEN_SENSITIVE_PORT, text)
    assert unknowns(OPEN_SENSITIVE_PORT, 'variable "cidr" {}\n' + _rule_text("tcp", 445, 445, "${var.cidr}"))
