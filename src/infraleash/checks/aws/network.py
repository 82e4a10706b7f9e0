"""Networking: security groups open to the internet, and the default security group.

Ingress is read from all three ways the provider writes it: inline ``ingress`` blocks of
``aws_security_group``, ``aws_security_group_rule`` (``type = "ingress"``) and
``aws_vpc_security_group_ingress_rule`` (one CIDR per rule), IPv4 and IPv6 alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from infraleash.checks.aws._common import WORLD_CIDRS, Words, as_int, as_list, first_unknown
from infraleash.checks.aws._iam_common import and3, or3
from infraleash.checks.rule import CheckContext, Result, Rule
from infraleash.findings import Kind, Outcome, Severity
from infraleash.terraform.config import Block, Unknown

INGRESS_TYPES = ("aws_security_group", "aws_security_group_rule", "aws_vpc_security_group_ingress_rule")
_ALL_PROTOCOLS = Words({"-1", "all"})
_PORTLESS = Words({"icmp", "icmpv6", "1", "58"})
_SG_DOCS = "https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html"

DATABASE_PORTS = {
    3306: "MySQL/MariaDB", 5432: "PostgreSQL", 1433: "SQL Server", 1521: "Oracle", 6379: "Redis",
    27017: "MongoDB", 9200: "Elasticsearch/OpenSearch", 9300: "Elasticsearch transport", 5439: "Redshift",
    11211: "Memcached", 9042: "Cassandra", 5984: "CouchDB", 7000: "Cassandra inter-node", 8086: "InfluxDB",
}


@dataclass(frozen=True)
class Ingress:
    """One ingress permission: protocol, port range and sources (strings or Unknown)."""

    protocol: Any
    from_port: Any
    to_port: Any
    sources: tuple[Any, ...]
    attribute: str  # for the finding's line

    def open_to_world(self) -> bool | None:
        if any(s in WORLD_CIDRS for s in self.sources):
            return True
        return None if any(isinstance(s, Unknown) and _maybe_world(s) for s in self.sources) else False

    def all_protocols(self) -> bool | None:
        if isinstance(self.protocol, Unknown):
            return None
        return str(self.protocol).lower() in _ALL_PROTOCOLS

    def all_ports(self) -> bool | None:
        if self.all_protocols():
            return True
        if self.all_protocols() is None:
            return None
        lo, hi = as_int(self.from_port), as_int(self.to_port)
        if lo is None or hi is None:
            return None if first_unknown([self.from_port, self.to_port]) else False
        return lo <= 0 and hi >= 65535

    def covers(self, port: int) -> bool | None:
        if self.all_protocols():
            return True
        if isinstance(self.protocol, Unknown):
            return None
        if str(self.protocol).lower() in _PORTLESS:
            return False
        lo, hi = as_int(self.from_port), as_int(self.to_port)
        if lo is None or hi is None:
            return None if first_unknown([self.from_port, self.to_port]) else False
        if lo == -1 and hi == -1:
            return False
        return lo <= port <= hi


_PREFIX_LENGTH = re.compile(r"/(\d+)$")


def _maybe_world(source: Unknown) -> bool:
    """An unknown source could be 0.0.0.0/0 unless its template fixes a non-zero prefix length
    (``"${var.office_ip}/32"``)."""
    m = _PREFIX_LENGTH.search(source.template or "")
    return m is None or int(m.group(1)) == 0


def _sources(*values: Any) -> tuple[Any, ...]:
    out: list[Any] = []
    for v in values:
        if isinstance(v, Unknown):
            out.append(v)
        else:
            out.extend(as_list(v))
    return tuple(out)


def ingress_of(block: Block) -> Iterator[Ingress | Unknown]:
    """The ingress permissions a resource declares; Unknown when even its direction is unknown."""
    if block.type == "aws_security_group":
        for ing in block.blocks("ingress"):
            yield Ingress(ing.get("protocol"), ing.get("from_port"), ing.get("to_port"),
                          _sources(ing.get("cidr_blocks"), ing.get("ipv6_cidr_blocks")), "ingress")
        value = block.get("ingress")
        if isinstance(value, Unknown):
            yield value
        elif isinstance(value, list):  # attribute syntax: ingress = [{ from_port = 22, ... }]
            for item in value:
                if isinstance(item, Unknown):
                    yield item
                elif isinstance(item, dict):
                    yield Ingress(item.get("protocol"), item.get("from_port"), item.get("to_port"),
                                  _sources(item.get("cidr_blocks"), item.get("ipv6_cidr_blocks")), "ingress")
    elif block.type == "aws_security_group_rule":
        direction = block.get("type")
        if isinstance(direction, Unknown):
            yield direction
        elif direction == "ingress":
            yield Ingress(block.get("protocol"), block.get("from_port"), block.get("to_port"),
                          _sources(block.get("cidr_blocks"), block.get("ipv6_cidr_blocks")), "cidr_blocks")
    elif block.type == "aws_vpc_security_group_ingress_rule":
        attribute = "cidr_ipv6" if block.get("cidr_ipv6") is not None else "cidr_ipv4"
        yield Ingress(block.get("ip_protocol"), block.get("from_port"), block.get("to_port"),
                      _sources(block.get("cidr_ipv4"), block.get("cidr_ipv6")), attribute)


def _ingress_check(block: Block, test: Any, message: str, what: str) -> Iterator[Result]:
    undecided: str | None = None
    failed = False
    for ing in ingress_of(block):
        if isinstance(ing, Unknown):
            undecided = undecided or ing.reason
            continue
        verdict = test(ing)
        if verdict:
            failed = True
            yield Result(message, attribute=ing.attribute,
                         details={"protocol": ing.protocol, "from_port": ing.from_port, "to_port": ing.to_port})
        elif verdict is None:
            u = first_unknown([ing.protocol, ing.from_port, ing.to_port, *ing.sources])
            undecided = undecided or (u.reason if u else "not known statically")
    if undecided and not failed:
        yield Result(f"whether {what} cannot be decided: {undecided}", outcome=Outcome.UNKNOWN,
                     details={"unknown": undecided})


# --------------------------------------------------------------------------- all ports


def _check_all_ports(block: Block, ctx: CheckContext) -> Iterator[Result]:
    yield from _ingress_check(block, lambda i: and3(i.open_to_world(), i.all_ports()),
                              "security group allows ingress on all ports from the internet (0.0.0.0/0 or ::/0)",
                              "all ports are open to the internet")


OPEN_ALL_PORTS = Rule(
    id="AWS-SG-OPEN-ALL-PORTS",
    title="security group allows ingress on all ports from the internet (0.0.0.0/0 or ::/0)",
    severity=Severity.CRITICAL,
    kind=Kind.SECURITY,
    resource_types=INGRESS_TYPES,
    why="Every service listening on the instances (admin consoles, databases, metrics endpoints) becomes "
        "reachable by every scanner on the internet within minutes. Open only the ports the service needs, "
        "to the sources that need them.",
    fail_example='''resource "aws_security_group" "fail" {
  name = "wide-open"
  ingress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
}''',
    pass_example='''resource "aws_security_group" "pass" {
  name = "https"
  ingress {
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}''',
    unknown_example='''variable "allowed_cidr" { type = string }
resource "aws_security_group" "unknown" {
  name = "all-from-somewhere"
  ingress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = [var.allowed_cidr]
  }
}''',
    check=_check_all_ports,
    checkov_ids=("CKV_AWS_277",),
    references=(_SG_DOCS,),
)


# --------------------------------------------------------------------------- one port


def _port_test(port: int) -> Any:
    def test(i: Ingress) -> bool | None:
        all_ports = i.all_ports()
        if all_ports:
            return False  # reported by AWS-SG-OPEN-ALL-PORTS
        return and3(i.open_to_world(), i.covers(port), None if all_ports is None else True)

    return test


def _check_ssh(block: Block, ctx: CheckContext) -> Iterator[Result]:
    yield from _ingress_check(block, _port_test(22), "security group allows SSH (port 22) from the internet",
                              "SSH is open to the internet")


def _check_rdp(block: Block, ctx: CheckContext) -> Iterator[Result]:
    yield from _ingress_check(block, _port_test(3389), "security group allows RDP (port 3389) from the internet",
                              "RDP is open to the internet")


def _sg_example(name: str, port: int | str, cidr: str, ipv6: bool = False) -> str:
    key = "ipv6_cidr_blocks" if ipv6 else "cidr_blocks"
    return f'''resource "aws_security_group" "{name}" {{
  name = "bastion"
  ingress {{
    from_port   = {port}
    to_port     = {port}
    protocol    = "tcp"
    {key} = [{cidr}]
  }}
}}'''


OPEN_SSH = Rule(
    id="AWS-SG-OPEN-SSH",
    title="security group allows SSH (port 22) from the internet",
    severity=Severity.HIGH,
    kind=Kind.SECURITY,
    resource_types=INGRESS_TYPES,
    why="SSH open to the world is brute-forced around the clock and one weak or leaked key is a shell on the "
        "host. Use SSM Session Manager, a VPN or a bastion restricted to known CIDRs.",
    fail_example=_sg_example("fail", 22, '"0.0.0.0/0"'),
    pass_example=_sg_example("pass", 22, '"10.0.0.0/8"'),
    unknown_example='variable "admin_cidr" { type = string }\n' + _sg_example("unknown", 22, "var.admin_cidr"),
    check=_check_ssh,
    checkov_ids=("CKV_AWS_24",),
    references=(_SG_DOCS,),
)

OPEN_RDP = Rule(
    id="AWS-SG-OPEN-RDP",
    title="security group allows RDP (port 3389) from the internet",
    severity=Severity.HIGH,
    kind=Kind.SECURITY,
    resource_types=INGRESS_TYPES,
    why="Internet-facing RDP is one of the most common ransomware entry points (credential stuffing and RDP "
        "vulnerabilities). Reach Windows hosts through Fleet Manager, a VPN or a restricted bastion.",
    fail_example=_sg_example("fail", 3389, '"::/0"', ipv6=True),
    pass_example=_sg_example("pass", 3389, '"10.20.0.0/16"'),
    unknown_example='variable "admin_cidr" { type = string }\n' + _sg_example("unknown", 3389, "var.admin_cidr"),
    check=_check_rdp,
    checkov_ids=("CKV_AWS_25",),
    references=(_SG_DOCS,),
)


# --------------------------------------------------------------------------- database ports


def _database_test(i: Ingress) -> bool | None:
    if i.all_ports():
        return False  # reported by AWS-SG-OPEN-ALL-PORTS
    return and3(i.open_to_world(), or3(*(i.covers(p) for p in DATABASE_PORTS)))


def _check_database(block: Block, ctx: CheckContext) -> Iterator[Result]:
    for r in _ingress_check(block, _database_test, "security group allows a database port from the internet",
                            "a database port is open to the internet"):
        if r.outcome is Outcome.FAIL:
            lo, hi = as_int(r.details.get("from_port")), as_int(r.details.get("to_port"))
            names = sorted({f"{n} ({p})" for p, n in DATABASE_PORTS.items()
                            if lo is not None and hi is not None and lo <= p <= hi})
            yield Result(f"security group allows a database port from the internet: {', '.join(names)}",
                         attribute=r.attribute, details={**r.details, "databases": names})
        else:
            yield r


OPEN_DATABASE = Rule(
    id="AWS-SG-OPEN-DATABASE",
    title="security group allows a database port from the internet",
    severity=Severity.HIGH,
    kind=Kind.SECURITY,
    resource_types=INGRESS_TYPES,
    why="Databases, caches and search clusters exposed to the internet are found by scanners within hours and "
        "are a classic source of data leaks and ransom notes (MongoDB, Elasticsearch, Redis). Allow the "
        "application's security group instead. Ports: " + ", ".join(f"{p} {n}" for p, n in DATABASE_PORTS.items()),
    fail_example='''resource "aws_security_group_rule" "fail" {
  type              = "ingress"
  security_group_id = "sg-0123456789abcdef0"
  from_port         = 5432
  to_port           = 5432
  protocol          = "tcp"
  cidr_blocks       = ["0.0.0.0/0"]
}''',
    pass_example='''resource "aws_security_group_rule" "pass" {
  type                     = "ingress"
  security_group_id        = "sg-0123456789abcdef0"
  from_port                = 5432
  to_port                  = 5432
  protocol                 = "tcp"
  source_security_group_id = "sg-0fedcba9876543210"
}''',
    unknown_example='''variable "port" { type = number }
resource "aws_vpc_security_group_ingress_rule" "unknown" {
  security_group_id = "sg-0123456789abcdef0"
  from_port         = var.port
  to_port           = var.port
  ip_protocol       = "tcp"
  cidr_ipv4         = "0.0.0.0/0"
}''',
    check=_check_database,
    references=(_SG_DOCS,),
)


# --------------------------------------------------------------------------- default security group


def _check_default_sg(block: Block, ctx: CheckContext) -> Iterator[Result]:
    for name in ("ingress", "egress"):
        if block.blocks(name):
            yield Result("the VPC's default security group has rules (it should allow no traffic)", attribute=name)
            return
        if isinstance(block.get(name), Unknown):
            yield Result("whether the default security group has rules cannot be decided: "
                         f"{block.get(name).reason}", outcome=Outcome.UNKNOWN, attribute=name)
            return


DEFAULT_SG_RULES = Rule(
    id="AWS-SG-DEFAULT-HAS-RULES",
    title="the VPC's default security group has rules (it should allow no traffic)",
    severity=Severity.MEDIUM,
    kind=Kind.SECURITY,
    resource_types=("aws_default_security_group",),
    why="Anything launched without an explicit security group lands in the default one; if it allows traffic, "
        "forgotten resources are silently reachable. Managing it with no ingress/egress blocks strips its rules.",
    fail_example='''resource "aws_default_security_group" "fail" {
  vpc_id = "vpc-0123456789abcdef0"
  ingress {
    protocol  = "-1"
    self      = true
    from_port = 0
    to_port   = 0
  }
}''',
    pass_example='''resource "aws_default_security_group" "pass" {
  vpc_id = "vpc-0123456789abcdef0"
}''',
    check=_check_default_sg,
    checkov_ids=("CKV2_AWS_12",),
    references=("https://docs.aws.amazon.com/vpc/latest/userguide/default-security-group.html",),
)


RULES: list[Rule] = [OPEN_ALL_PORTS, OPEN_SSH, OPEN_RDP, OPEN_DATABASE, DEFAULT_SG_RULES]
