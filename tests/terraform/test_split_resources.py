"""Split resources: what a parent's refreshed attribute owes to the resources that manage it."""

from __future__ import annotations

from typing import Any

from infraleash.terraform.split_resources import unexplained

SG = {"id": "sg-1", "name": "web"}


def _ingress(port: int, cidrs: list[str], groups: list[str] | None = None) -> dict[str, Any]:
    return {"from_port": port, "to_port": port, "protocol": "tcp", "cidr_blocks": cidrs, "ipv6_cidr_blocks": [],
            "prefix_list_ids": [], "security_groups": groups or [], "self": False, "description": ""}


RULES = [("aws_vpc_security_group_ingress_rule.https", "aws_vpc_security_group_ingress_rule",
          {"security_group_id": "sg-1", "ip_protocol": "tcp", "from_port": 443, "to_port": 443,
           "cidr_ipv4": "10.0.0.0/16"}),
         ("aws_security_group_rule.pg", "aws_security_group_rule",
          {"type": "ingress", "security_group_id": "sg-1", "protocol": "tcp", "from_port": 5432, "to_port": 5432,
           "source_security_group_id": "sg-app"}),
         ("aws_security_group_rule.other_group", "aws_security_group_rule",
          {"type": "ingress", "security_group_id": "sg-other", "protocol": "tcp", "from_port": 22, "to_port": 22,
           "cidr_blocks": ["0.0.0.0/0"]})]


def test_group_rules_managed_by_rule_resources_are_explained_and_a_hand_made_one_is_not() -> None:
    managed = [_ingress(443, ["10.0.0.0/16"]), _ingress(5432, [], ["sg-app"])]
    assert unexplained("aws_security_group", SG, "ingress", managed, RULES) == (
        ["aws_vpc_security_group_ingress_rule.https", "aws_security_group_rule.pg"], None)
    by_hand = _ingress(22, ["0.0.0.0/0"])  # the rule for port 22 belongs to another group
    assert unexplained("aws_security_group", SG, "ingress", [*managed, by_hand], RULES)[1] == [by_hand]
    # a CIDR added by hand to a managed port is listed in the same element: the element is not explained
    widened = _ingress(443, ["10.0.0.0/16", "0.0.0.0/0"])
    assert unexplained("aws_security_group", SG, "ingress", [widened], RULES)[1] == [widened]


def test_an_egress_rule_does_not_explain_ingress_and_all_protocols_match_minus_one() -> None:
    egress = [("aws_vpc_security_group_egress_rule.all", "aws_vpc_security_group_egress_rule",
               {"security_group_id": "sg-1", "ip_protocol": "-1", "cidr_ipv4": "0.0.0.0/0"})]
    everything = {**_ingress(0, ["0.0.0.0/0"]), "protocol": "-1"}
    assert unexplained("aws_security_group", SG, "egress", [everything], egress) == (
        ["aws_vpc_security_group_egress_rule.all"], None)
    assert unexplained("aws_security_group", SG, "ingress", [everything], egress) is None  # nothing manages ingress


def test_bucket_blocks_and_role_policies_by_their_link_attribute() -> None:
    bucket = {"id": "logs", "bucket": "logs"}
    split = [("aws_s3_bucket_versioning.logs", "aws_s3_bucket_versioning", {"bucket": "logs"})]
    assert unexplained("aws_s3_bucket", bucket, "versioning", [{"enabled": True}], split) == (
        ["aws_s3_bucket_versioning.logs"], None)
    assert unexplained("aws_s3_bucket", {"id": "other"}, "versioning", [{"enabled": True}], split) is None
    role = {"id": "app", "name": "app"}
    attached = [("aws_iam_role_policy_attachment.read", "aws_iam_role_policy_attachment",
                 {"role": "app", "policy_arn": "arn:aws:iam::1:policy/read"})]
    arns = ["arn:aws:iam::1:policy/read", "arn:aws:iam::aws:policy/AdministratorAccess"]
    assert unexplained("aws_iam_role", role, "managed_policy_arns", arns, attached) == (
        ["aws_iam_role_policy_attachment.read"], ["arn:aws:iam::aws:policy/AdministratorAccess"])


def test_odd_shapes_are_not_explained_and_do_not_raise() -> None:
    for parent in (None, [], "x", {"id": None}):
        assert unexplained("aws_security_group", parent, "ingress", [1, None, "x"], RULES) is None
    assert unexplained("aws_security_group", SG, "ingress", [1, None, "x", {"from_port": []}], RULES)[1] == [
        1, None, "x", {"from_port": []}]
