"""Security-group rules across the three ingress forms, IPv6, port ranges and unknowns."""

from __future__ import annotations

from _run import fails, run, unknowns

from infraleash.checks.aws.network import OPEN_ALL_PORTS, OPEN_DATABASE, OPEN_RDP, OPEN_SSH

THREE_FORMS = '''
resource "aws_security_group" "inline" {
  ingress {
    from_port        = 20
    to_port          = 25
    protocol         = "tcp"
    ipv6_cidr_blocks = ["::/0"]
  }
}
resource "aws_security_group_rule" "rule" {
  type              = "ingress"
  security_group_id = "sg-1"
  from_port         = 22
  to_port           = 22
  protocol          = "6"
  cidr_blocks       = ["10.0.0.0/8", "0.0.0.0/0"]
}
resource "aws_security_group_rule" "egress" {
  type              = "egress"
  security_group_id = "sg-1"
  from_port         = 22
  to_port           = 22
  protocol          = "tcp"
  cidr_blocks       = ["0.0.0.0/0"]
}
resource "aws_vpc_security_group_ingress_rule" "vpc_rule" {
  security_group_id = "sg-1"
  from_port         = 22
  to_port           = 22
  ip_protocol       = "tcp"
  cidr_ipv6         = "::/0"
}
'''


def test_ssh_found_in_all_three_forms_ipv6_and_ranges_but_not_egress() -> None:
    assert fails(OPEN_SSH, THREE_FORMS) == {
        "aws_security_group.inline", "aws_security_group_rule.rule", "aws_vpc_security_group_ingress_rule.vpc_rule"}


def test_all_ports_is_reported_once_not_as_every_port() -> None:
    text = '''
resource "aws_vpc_security_group_ingress_rule" "all" {
  security_group_id = "sg-1"
  ip_protocol       = "-1"
  cidr_ipv4         = "0.0.0.0/0"
}
resource "aws_security_group" "tcp_range" {
  ingress {
    from_port   = 0
    to_port     = 65535
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}'''
    assert fails(OPEN_ALL_PORTS, text) == {"aws_vpc_security_group_ingress_rule.all", "aws_security_group.tcp_range"}
    for rule in (OPEN_SSH, OPEN_RDP, OPEN_DATABASE):
        assert fails(rule, text) == set(), rule.id


def test_database_range_names_the_databases() -> None:
    text = '''resource "aws_security_group" "db" {
  ingress {
    from_port   = 5000
    to_port     = 6500
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}'''
    ((_, result),) = run(OPEN_DATABASE, text)
    assert "PostgreSQL (5432)" in result.message and "Redis (6379)" in result.message
    assert "MySQL" not in result.message


def test_icmp_and_private_sources_are_fine() -> None:
    text = '''resource "aws_security_group" "ok" {
  ingress {
    from_port   = -1
    to_port     = -1
    protocol    = "icmp"
    cidr_blocks = ["0.0.0.0/0"]
  }
  ingress {
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["192.168.0.0/16"]
  }
}'''
    for rule in (OPEN_ALL_PORTS, OPEN_SSH, OPEN_DATABASE):
        assert run(rule, text) == [], rule.id


def test_unknown_source_or_port_gives_unknown_but_a_known_hit_wins() -> None:
    text = '''
variable "cidr" { type = string }
variable "port" { type = number }
resource "aws_security_group" "maybe" {
  ingress {
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = [var.cidr]
  }
}
resource "aws_security_group_rule" "port" {
  type              = "ingress"
  security_group_id = "sg-1"
  from_port         = var.port
  to_port           = var.port
  protocol          = "tcp"
  cidr_blocks       = ["0.0.0.0/0"]
}
resource "aws_security_group" "both" {
  ingress {
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = [var.cidr, "0.0.0.0/0"]
  }
}'''
    assert unknowns(OPEN_SSH, text) == {"aws_security_group.maybe", "aws_security_group_rule.port"}
    assert fails(OPEN_SSH, text) == {"aws_security_group.both"}
