"""Small helpers shared by the AWS rule families: three-valued truth, CIDRs, linked blocks.

Values come from :mod:`infraleash.terraform.config`: a literal, a nested-block list or an
:class:`Unknown`.  Helpers answer ``True``/``False`` or ``None`` for *unknown*, and the rules
turn ``None`` into an UNKNOWN result that names why.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from infraleash.checks.rule import CheckContext, Result
from infraleash.findings import Outcome
from infraleash.terraform.config import Block, Unknown


class Words(frozenset[str]):
    """A set of string constants that an attribute value of any type can be looked up in.

    ``value in Words(...)`` is False for a value that is not a string (a list, a map, a number where the
    provider wants a string): ``in`` on a frozenset would raise TypeError for the unhashable ones, and
    rules compare attribute values of every type against these constants.
    """

    def __contains__(self, item: object) -> bool:
        return isinstance(item, str) and frozenset.__contains__(self, item)


WORLD_CIDRS = Words({"0.0.0.0/0", "::/0"})


def truth(value: Any, default: bool | None = False) -> bool | None:
    """A Terraform bool: True/False, ``default`` when unset, None when unknown."""
    if value is None:
        return default
    if isinstance(value, Unknown):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        low = value.strip().lower()
        if low in ("true", "1"):
            return True
        if low in ("false", "0", ""):
            return False
        return None
    if isinstance(value, int | float):
        return bool(value)
    return None


def first_unknown(value: Any) -> Unknown | None:
    """The first Unknown anywhere inside a value (lists, dicts), or None."""
    if isinstance(value, Unknown):
        return value
    if isinstance(value, list | tuple):
        for v in value:
            u = first_unknown(v)
            if u:
                return u
    if isinstance(value, dict):
        for v in value.values():
            u = first_unknown(v)
            if u:
                return u
    return None


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return list(value)
    return [value]


def as_int(value: Any) -> int | None:
    """An integer argument (HCL numbers may arrive as strings); None when not a number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


def unknown(what: str, value: Any, attribute: str | None = None, block: Block | None = None) -> Result:
    """An UNKNOWN result: the rule cannot decide because ``value`` is not known statically."""
    u = first_unknown(value)
    why = u.reason if u else "not known statically"
    return Result(f"{what}: cannot tell, {why}", outcome=Outcome.UNKNOWN, attribute=attribute, block=block,
                  details={"unknown": why})


def nested(block: Block, *path: str) -> Iterator[Block]:
    """Nested blocks along a path: ``nested(b, "rule", "apply_server_side_encryption_by_default")``."""
    current = [block]
    for name in path:
        current = [child for b in current for child in b.blocks(name)]
    yield from current


def linked(ctx: CheckContext, target: Block, *types: str, attr: str = "bucket", key: str = "bucket") -> list[Block]:
    """Resources of ``types`` attached to ``target``: by reference (``bucket = aws_s3_bucket.x.id``)
    or by the literal name (``bucket = "my-bucket"`` when ``target.bucket == "my-bucket"``), in the
    same module."""
    found = [b for b in ctx.config.referencing(target, *types) if b.module_path == target.module_path]
    name = target.get(key)
    if isinstance(name, str) and name:
        for b in ctx.config.of_type(*types):
            if b not in found and b.module_path == target.module_path and b.get(attr) == name:
                found.append(b)
    return found


def unresolved_links(ctx: CheckContext, target: Block, *types: str, attr: str = "bucket") -> list[Block]:
    """Resources of ``types`` whose link attribute is unknown and not a reference to another
    resource: they might be attached to ``target`` (``bucket = var.bucket_name``)."""
    out = []
    for b in ctx.config.of_type(*types):
        if b.module_path != target.module_path:
            continue
        value = b.get(attr)
        prefix = f"{b.module_path}." if b.module_path else ""
        refs = [r[len(prefix):] if prefix and r.startswith(prefix) else r for r in b.references]
        if isinstance(value, Unknown) and not any(r.startswith(target.type + ".") or r.startswith("aws_")
                                                  for r in refs):
            out.append(b)
    return out


def require(block: Block, attribute: str, ok: bool | None, message: str, value: Any = None) -> Iterator[Result]:
    """FAIL with ``message`` when ``ok`` is False, UNKNOWN when None, nothing when True."""
    if ok is False:
        yield Result(message, attribute=attribute if attribute in block.attrs else None)
    elif ok is None:
        yield unknown(message, value if value is not None else block.get(attribute), attribute=attribute)


def require_true(block: Block, attribute: str, message: str, default: bool = False) -> Iterator[Result]:
    """The common shape: a bool argument that must be true (``default`` when unset)."""
    yield from require(block, attribute, truth(block.get(attribute), default), message)
