"""Policy statement conditions judged on what they restrict, not on being there.

A statement for ``Principal "*"`` is no exemption just because it carries a ``Condition``:
``aws:SecureTransport = true`` restricts the transport, not who; ``StringLike aws:PrincipalArn "*"``
matches everyone; ``StringNotEquals aws:PrincipalAccount 111122223333`` admits every other
account; an ``...IfExists`` operator or ``Null`` passes when the key is absent (every anonymous
request); the GitHub OIDC ``token.actions.githubusercontent.com:aud = sts.amazonaws.com`` is
the same for every repository.

    restricts_principal(statement.conditions) -> True | False | None (unknown)

A condition restricts who may use the statement when one of its clauses (clauses are ANDed,
so one is enough) uses a positive operator (``StringEquals``, ``StringLike``, ``ArnEquals``,
``ArnLike``, ``IpAddress``, their ``ForAnyValue:``/``ForAllValues:`` forms, ``...IgnoreCase``)
on an identity key (:data:`IDENTITY_KEYS`, an OIDC ``:sub``, an OIDC ``:aud`` other than
``sts.amazonaws.com``) with at least one value that is not a wildcard or the whole internet.
A value not known statically makes the answer unknown (None), never a guess.
"""

from __future__ import annotations

from typing import Any

from infraleash.checks.aws._common import Words
from infraleash.terraform.config import Unknown

# condition keys that say who (which account, organization, principal, network, source) is calling
IDENTITY_KEYS = Words(k.lower() for k in (
    "aws:PrincipalOrgID", "aws:PrincipalOrgPaths", "aws:PrincipalAccount", "aws:PrincipalArn", "aws:userid",
    "aws:username", "aws:SourceAccount", "aws:SourceArn", "aws:SourceOrgID", "aws:SourceOrgPaths",
    "aws:SourceOwner", "aws:SourceVpc", "aws:SourceVpce", "aws:SourceIp", "aws:VpcSourceIp",
    "aws:PrincipalServiceName", "aws:PrincipalIsAWSService", "aws:ResourceAccount", "aws:ResourceOrgID",
    "sts:ExternalId", "kms:CallerAccount", "kms:ViaService", "s3:DataAccessPointAccount",
    "s3:DataAccessPointArn", "lambda:FunctionArn", "elasticfilesystem:AccessedViaMountTarget",
))
_POSITIVE = ("stringequals", "stringequalsignorecase", "stringlike", "arnequals", "arnlike", "ipaddress",
             "bool")
_WORLD = Words({"0.0.0.0/0", "::/0"})
_TRUE_ONLY = Words({"aws:principalisawsservice", "elasticfilesystem:accessedviamounttarget"})  # Bool keys


def clauses(conditions: Any) -> list[tuple[Any, Any, Any]] | Unknown:
    """(operator, key, values) for both shapes: the JSON ``Condition`` map and the data source's blocks."""
    if isinstance(conditions, Unknown):
        return conditions
    out: list[tuple[Any, Any, Any]] = []
    if isinstance(conditions, list):
        for c in conditions:
            if isinstance(c, Unknown):
                return c
            if isinstance(c, dict):
                out.append((c.get("test"), c.get("variable"), c.get("values")))
    elif isinstance(conditions, dict):
        for op, mapping in conditions.items():
            if isinstance(mapping, Unknown):
                return mapping
            if isinstance(mapping, dict):
                out.extend((op, key, values) for key, values in mapping.items())
    return out


def _is_identity_key(key: str) -> bool:
    low = key.lower()
    if low in IDENTITY_KEYS:
        return True
    return low.endswith((":sub", ":aud", ":amr")) and not low.startswith("aws:")


def _meaningful(op: str, key: str, value: Any) -> bool | None:
    if isinstance(value, Unknown):
        return None
    text = str(value).strip()
    if op == "bool":
        return key.lower() in _TRUE_ONLY and text.lower() == "true"
    if not text or text in _WORLD or set(text) <= {"*", "?"}:
        return False
    if key.lower().endswith(":aud") and text.lower() == "sts.amazonaws.com":
        return False  # GitHub (and other) OIDC tokens for AWS all carry this audience
    return not (text.endswith(":*") and text.count(":") <= 1)  # "repo:*" and the like admit everyone


def _clause_restricts(op: Any, key: Any, values: Any) -> bool | None:
    if isinstance(op, Unknown) or isinstance(key, Unknown) or isinstance(values, Unknown):
        return None
    base = str(op).split(":", 1)[-1].lower()  # ForAnyValue:StringLike -> stringlike
    if base.endswith("ifexists") or base not in _POSITIVE or not _is_identity_key(str(key)):
        return False
    vals = values if isinstance(values, list | tuple) else [values]
    verdicts = [_meaningful(base, str(key), v) for v in vals]
    if verdicts and all(v is True for v in verdicts):
        return True
    if any(v is False for v in verdicts):
        return False  # one wildcard value among the allowed ones admits everyone
    return None if verdicts else False


def restricts_principal(conditions: Any) -> bool | None:
    """Whether a statement's conditions limit who can use it (see the module docstring)."""
    if conditions is None:
        return False
    found = clauses(conditions)
    if isinstance(found, Unknown):
        return None
    undecided = False
    for op, key, values in found:
        verdict = _clause_restricts(op, key, values)
        if verdict:
            return True
        undecided = undecided or verdict is None
    return None if undecided else False


def exempt_unless_restricted(statement: Any) -> bool | None:
    """For a statement open to ``Principal "*"``: True (public) unless its conditions restrict who."""
    restricted = restricts_principal(getattr(statement, "conditions", None))
    return None if restricted is None else not restricted
