"""Attributes a provider copies into a resource from the separate resources that manage them.

AWS provider 4+ manages an S3 bucket's versioning, encryption, policy ... with their own resources
(``aws_s3_bucket_versioning`` ...), a security group's rules with ``aws_security_group_rule`` /
``aws_vpc_security_group_{ingress,egress}_rule``, an IAM role's policies with
``aws_iam_role_policy_attachment`` / ``aws_iam_role_policy``; yet refresh reads them back into the
parent's own attributes (``aws_s3_bucket.versioning``, ``aws_security_group.ingress``,
``aws_iam_role.managed_policy_arns``), and ``resource_drift`` reports that as a change made outside
Terraform.  It is not: the split resource made it, and its own drift entry reports any real change.

    rest = unexplained(parent, "ingress", cloud_value, plan_resources)
    # None: no split resource manages the attribute; [] / ...: what no split resource explains

A list attribute is explained element by element (a rule added by hand next to the managed ones stays
drift); a block attribute (versioning, policy) is explained whole.  To add a case: a :class:`Split` row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

Element = Any


@dataclass(frozen=True)
class Split:
    parent: str  # resource type whose attribute is copied
    attribute: str
    children: tuple[str, ...]  # the resource types that manage it
    link: str  # the child attribute naming its parent ...
    parent_keys: tuple[str, ...] = ("id",)  # ... by one of these parent attributes
    # list attributes: does this child explain this element (None: the child explains the attribute whole)
    explains: Callable[[dict[str, Any], Element], bool] | None = None


def _str_set(*values: Any) -> set[str]:
    out: set[str] = set()
    for v in values:
        if isinstance(v, str) and v:
            out.add(v)
        elif isinstance(v, list):
            out |= {x for x in v if isinstance(x, str) and x}
    return out


def _port(v: Any) -> Any:
    return 0 if v is None else v


def _protocol(v: Any) -> Any:
    return "-1" if v in ("all", -1, "-1") else str(v).lower() if isinstance(v, str) else v


def _rule_key(child: dict[str, Any]) -> tuple[Any, Any, Any]:
    protocol = child.get("ip_protocol", child.get("protocol"))
    if _protocol(protocol) == "-1":
        return "-1", 0, 0
    return _protocol(protocol), _port(child.get("from_port")), _port(child.get("to_port"))


def _rule_sources(child: dict[str, Any]) -> set[str]:
    out = _str_set(child.get("cidr_ipv4"), child.get("cidr_ipv6"), child.get("referenced_security_group_id"),
                   child.get("prefix_list_id"), child.get("cidr_blocks"), child.get("ipv6_cidr_blocks"),
                   child.get("source_security_group_id"), child.get("prefix_list_ids"))
    if child.get("self") is True:
        out.add("self")
    return out


def _element_sources(element: dict[str, Any]) -> set[str]:
    out = _str_set(element.get("cidr_blocks"), element.get("ipv6_cidr_blocks"), element.get("security_groups"),
                   element.get("prefix_list_ids"))
    if element.get("self") is True:
        out.add("self")
    return out


def _sg_rule(direction: str) -> Callable[[dict[str, Any], Element], bool]:
    """A rule resource explains the part of a group's ingress/egress element with its protocol and ports."""
    def explains(child: dict[str, Any], element: Element) -> bool:
        if not isinstance(element, dict):
            return False
        if child.get("type") not in (None, direction):
            return False
        return _rule_key(child) == _rule_key(element)
    return explains


def _equals(field: str) -> Callable[[dict[str, Any], Element], bool]:
    return lambda child, element: child.get(field) == element


def _named(child: dict[str, Any], element: Element) -> bool:
    return isinstance(element, dict) and element.get("name") == child.get("name")


_S3 = {
    "versioning": "aws_s3_bucket_versioning",
    "server_side_encryption_configuration": "aws_s3_bucket_server_side_encryption_configuration",
    "policy": "aws_s3_bucket_policy",
    "acl": "aws_s3_bucket_acl",
    "grant": "aws_s3_bucket_acl",
    "cors_rule": "aws_s3_bucket_cors_configuration",
    "lifecycle_rule": "aws_s3_bucket_lifecycle_configuration",
    "logging": "aws_s3_bucket_logging",
    "website": "aws_s3_bucket_website_configuration",
    "replication_configuration": "aws_s3_bucket_replication_configuration",
    "object_lock_configuration": "aws_s3_bucket_object_lock_configuration",
    "acceleration_status": "aws_s3_bucket_accelerate_configuration",
    "request_payer": "aws_s3_bucket_request_payment_configuration",
}

SPLITS: list[Split] = [
    *(Split("aws_s3_bucket", attr, (child,), "bucket", ("id", "bucket")) for attr, child in _S3.items()),
    Split("aws_security_group", "ingress", ("aws_security_group_rule", "aws_vpc_security_group_ingress_rule"),
          "security_group_id", explains=_sg_rule("ingress")),
    Split("aws_security_group", "egress", ("aws_security_group_rule", "aws_vpc_security_group_egress_rule"),
          "security_group_id", explains=_sg_rule("egress")),
    Split("aws_iam_role", "managed_policy_arns", ("aws_iam_role_policy_attachment",), "role", ("name", "id"),
          explains=_equals("policy_arn")),
    Split("aws_iam_role", "inline_policy", ("aws_iam_role_policy",), "role", ("name", "id"), explains=_named),
    Split("aws_network_acl", "ingress", ("aws_network_acl_rule",), "network_acl_id",
          explains=lambda c, e: isinstance(e, dict) and c.get("egress") is not True
          and c.get("rule_number") == e.get("rule_no")),
    Split("aws_network_acl", "egress", ("aws_network_acl_rule",), "network_acl_id",
          explains=lambda c, e: isinstance(e, dict) and c.get("egress") is True
          and c.get("rule_number") == e.get("rule_no")),
    Split("aws_route_table", "route", ("aws_route",), "route_table_id",
          explains=lambda c, e: isinstance(e, dict) and bool(_str_set(
              c.get("destination_cidr_block"), c.get("destination_ipv6_cidr_block"),
              c.get("destination_prefix_list_id")) & _str_set(e.get("cidr_block"), e.get("ipv6_cidr_block"),
                                                              e.get("destination_prefix_list_id")))),
]
_BY_PARENT: dict[tuple[str, str], Split] = {(s.parent, s.attribute): s for s in SPLITS}


def managers(parent_type: str, parent: dict[str, Any], attribute: str,
             resources: Iterable[tuple[str, str, Any]]) -> tuple[Split, list[tuple[str, dict[str, Any]]]] | None:
    """The split row for ``parent_type.attribute`` and the (address, values) of the resources that manage
    it for this parent, from ``resources`` = (address, type, values); None when none does."""
    split = _BY_PARENT.get((parent_type, attribute))
    if split is None:
        return None
    keys = {v for k in split.parent_keys if isinstance(v := parent.get(k), str) and v}
    found = [(address, values) for address, rtype, values in resources
             if rtype in split.children and isinstance(values, dict) and values.get(split.link) in keys]
    return (split, found) if found else None


def unexplained(parent_type: str, parent: Any, attribute: str, value: Any,
                resources: Iterable[tuple[str, str, Any]]) -> tuple[list[str], Any] | None:
    """(the managing resources' addresses, what of ``value`` they do not explain: None when they explain
    it all), or None when no resource in the plan manages ``parent_type.attribute``."""
    if not isinstance(parent, dict):
        return None
    found = managers(parent_type, parent, attribute, resources)
    if found is None:
        return None
    split, children = found
    addresses = [a for a, _ in children]
    if split.explains is None or not isinstance(value, list):
        return addresses, None
    rest = [e for e in value if not _explained(e, [c for _, c in children], split)]
    return addresses, rest or None


def _explained(element: Element, children: list[dict[str, Any]], split: Split) -> bool:
    assert split.explains is not None
    matching = [c for c in children if split.explains(c, element)]
    if not matching:
        return False
    if split.parent == "aws_security_group" and isinstance(element, dict):
        # one element lists every source of its protocol and ports: each must come from a rule resource
        covered: set[str] = set().union(*(_rule_sources(c) for c in matching))
        return _element_sources(element) <= covered
    return True


def plan_resources(changes: Iterable[Any]) -> list[tuple[str, str, Any]]:
    """(address, type, values) of every managed resource change in the plan: its refreshed values
    (``before``), or the planned ones for a create."""
    return [(rc.address, rc.type, rc.before if isinstance(rc.before, dict) else rc.after)
            for rc in changes if rc.mode == "managed"]
