"""IAM policy documents, normalised to statements whatever form they were written in.

Three forms reach the rules:

* ``jsonencode({...})`` and heredoc / string JSON: the loader decodes them into a dict
  (a JSON string that it left as text is decoded here);
* ``data "aws_iam_policy_document"``: the loader renders it to the same dict when a
  resource uses ``.json``; :func:`from_document_block` reads the data block's
  ``statement`` blocks directly (``effect``, ``actions``/``not_actions``,
  ``resources``/``not_resources``, ``principals``/``not_principals``, ``condition``);
* anything else (``var.policy``, a file read at apply time) is :class:`Unknown`.

A value inside a statement that is not known (``Resource = aws_s3_bucket.x.arn``)
stays an :class:`Unknown` in the statement, so a rule can tell "wildcard" from
"unknown" from "specific".
"""

from __future__ import annotations

import fnmatch
import functools
import json
from dataclasses import dataclass, field
from typing import Any

from infraleash.terraform.config import Block, Config, Unknown

Values = tuple[Any, ...]  # strings, or Unknown


@dataclass(frozen=True)
class Statement:
    effect: str | Unknown = "Allow"
    actions: Values | None = None  # None: the statement has no Action
    not_actions: Values | None = None
    resources: Values | None = None
    not_resources: Values | None = None
    # {"AWS": ("*",), "Service": ("ec2.amazonaws.com",)}; {"*": ("*",)} for Principal "*"
    principals: dict[str, Values] | Unknown | None = None
    not_principals: dict[str, Values] | Unknown | None = None
    conditions: Any = None  # the Condition mapping (or Unknown), None when absent
    sid: str | None = None
    line: int | None = None  # for data-source statements: the statement block's line
    block: Block | None = field(default=None, compare=False)  # the data source it came from

    @property
    def allows(self) -> bool | None:
        if isinstance(self.effect, Unknown) or not isinstance(self.effect, str):
            return None  # unknown, or not a string (AWS refuses such a document): not judged
        return self.effect.lower() == "allow"

    @property
    def has_condition(self) -> bool:
        return self.conditions is not None and self.conditions != {} and self.conditions != []


def _values(value: Any) -> Values | None:
    if value is None:
        return None
    if isinstance(value, list | tuple):
        return tuple(value)
    return (value,)


def _principals(value: Any) -> dict[str, Values] | Unknown | None:
    if value is None:
        return None
    if isinstance(value, Unknown):
        return value
    if isinstance(value, str):
        return {"*": (value,)} if value == "*" else {"AWS": (value,)}
    if isinstance(value, dict):
        out: dict[str, Values] = {}
        for k, v in value.items():
            vals = _values(v)
            out[str(k)] = vals if vals is not None else ()
        return out
    return Unknown(f"unrecognised principal {value!r}")


def _statement(raw: Any) -> Statement | Unknown:
    if isinstance(raw, Unknown):
        return raw
    if not isinstance(raw, dict):
        return Unknown("a statement that is not an object")
    return Statement(
        effect=raw.get("Effect", "Allow") if not isinstance(raw.get("Effect"), Unknown) else raw["Effect"],
        actions=_values(raw.get("Action")), not_actions=_values(raw.get("NotAction")),
        resources=_values(raw.get("Resource")), not_resources=_values(raw.get("NotResource")),
        principals=_principals(raw.get("Principal")), not_principals=_principals(raw.get("NotPrincipal")),
        conditions=raw.get("Condition"), sid=raw.get("Sid") if isinstance(raw.get("Sid"), str) else None)


def statements(value: Any) -> list[Statement | Unknown] | Unknown | None:
    """The statements of a policy value: a decoded dict, a JSON string, or Unknown.

    None when there is no policy; Unknown when the whole document is not known; an item
    of the list is Unknown when only that statement is (``Statement = [var.extra]``).
    """
    if value is None:
        return None
    if isinstance(value, Unknown):
        return value
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            value = json.loads(text)
        except ValueError:
            return Unknown("policy text is not JSON")
    if not isinstance(value, dict):
        return Unknown("policy is not a JSON object")
    raw = value.get("Statement")
    if isinstance(raw, Unknown):
        return raw
    if raw is None:
        return []
    return [_statement(s) for s in (raw if isinstance(raw, list) else [raw])]


def from_document_block(block: Block) -> list[Statement | Unknown]:
    """Statements of a ``data "aws_iam_policy_document"`` block, with their lines."""
    out: list[Statement | Unknown] = []
    for st in block.blocks("statement"):
        def principals(name: str, st: Block = st) -> dict[str, Values] | Unknown | None:
            blocks = st.blocks(name)
            if not blocks:
                return None
            found: dict[str, Values] = {}
            for p in blocks:
                ptype, ids = p.get("type"), p.get("identifiers")
                if isinstance(ptype, Unknown):
                    return ptype
                vals = _values(ids) or ()
                key = "*" if ptype == "*" else str(ptype)
                found[key] = found.get(key, ()) + vals
            return found

        conditions = [{"test": c.get("test"), "variable": c.get("variable"), "values": c.get("values")}
                      for c in st.blocks("condition")]
        effect = st.get("effect", "Allow")
        out.append(Statement(
            effect=effect if isinstance(effect, str | Unknown) else Unknown("effect"),
            actions=_values(st.get("actions")), not_actions=_values(st.get("not_actions")),
            resources=_values(st.get("resources")), not_resources=_values(st.get("not_resources")),
            principals=principals("principals"), not_principals=principals("not_principals"),
            conditions=conditions or None, sid=st.get("sid") if isinstance(st.get("sid"), str) else None,
            line=st.line, block=block))
    return out


def document_source(block: Block, attribute: str, config: Config) -> Block | None:
    """The ``data "aws_iam_policy_document"`` a policy argument reads (``...d.json``), if any."""
    raw = block.raw.get(attribute)
    if not isinstance(raw, str):
        return None
    for ref in sorted(block.references):
        local = ref[len(block.module_path) + 1:] if block.module_path and ref.startswith(block.module_path + ".") \
            else ref
        if local.startswith("data.aws_iam_policy_document.") and local in raw:
            return config.by_address(ref)
    return None


def policy_statements(block: Block, attribute: str, config: Config) -> list[Statement | Unknown] | Unknown | None:
    """Statements of ``block.<attribute>``, taken from the data source when it reads one (for lines)."""
    source = document_source(block, attribute, config)
    if source is not None and not source.blocks("source_policy_documents") \
            and source.get("source_policy_documents") is None and source.get("override_policy_documents") is None:
        return from_document_block(source)
    return statements(block.get(attribute))


# ----------------------------------------------------------------------------- matching


def matches(pattern: Any, action: str) -> bool | None:
    """Does an IAM action pattern (``s3:*``, ``iam:Pass*``) cover ``action``? None when unknown."""
    if isinstance(pattern, Unknown):
        return None
    if not isinstance(pattern, str):
        return False
    return _covers(pattern, action)


@functools.lru_cache(maxsize=8192)
def _covers(pattern: str, action: str) -> bool:
    """Case-insensitive glob match, remembered: every statement is tried against the same ~30 sensitive actions.

    The usual IAM forms (``s3:GetObject``, ``s3:*``, ``iam:Get*``) are compared directly; fnmatch would
    compile a regular expression for each distinct pattern (~60 us each).  Anything else goes to fnmatch.
    """
    pattern, action = pattern.lower(), action.lower()
    head, star, tail = pattern.partition("*")
    if tail or "?" in head or "[" in head:  # not "exact" nor "prefix*"
        return fnmatch.fnmatchcase(action, pattern)
    return action.startswith(head) if star else action == pattern


def any_match(values: Values | None, action: str) -> bool | None:
    """Whether any of ``values`` covers ``action``: True, False, or None when an unknown might."""
    if not values:
        return False
    seen_unknown = False
    for v in values:
        m = matches(v, action)
        if m:
            return True
        if m is None:
            seen_unknown = True
    return None if seen_unknown else False


def has_wildcard(values: Values | None) -> bool | None:
    """``"*"`` among values: True, False, or None when one of them is unknown."""
    if not values:
        return False
    if any(v == "*" for v in values):
        return True
    return None if any(isinstance(v, Unknown) and not is_computed_attribute(v) for v in values) else False


def is_computed_attribute(value: Unknown) -> bool:
    """Never the wildcard ``"*"`` although not known statically: an attribute another resource or data
    source exports (``aws_s3_bucket.x.arn`` is "known after apply"), a concrete ARN or id; or a string
    template with literal text (``"arn:aws:s3:::${var.bucket}/*"``)."""
    if "known after apply" in value.reason:
        return True
    literal = value.template.replace("${…}", "") if value.template else ""
    return bool(literal.strip("*"))


def principal_is_public(principals: dict[str, Values] | Unknown | None) -> bool | None:
    """Principal ``"*"`` or ``{"AWS": "*"}``: anyone. None when unknown."""
    if principals is None:
        return False
    if isinstance(principals, Unknown):
        return None
    unknown = False
    for key, vals in principals.items():
        if key in ("*", "AWS") and "*" in vals:
            return True
        # only an AWS (or "*") principal can be everyone: an unknown Service/Federated identifier is not
        if key in ("*", "AWS") and any(isinstance(v, Unknown) for v in vals):
            unknown = True
    return None if unknown else False
