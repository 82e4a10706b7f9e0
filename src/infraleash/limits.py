"""Bounds every reader of untrusted documents applies, and the JSON reader that enforces them.

    load_json(text, source)       json.loads with: no NaN/Infinity, integers of at most
                                  MAX_INT_DIGITS digits, nesting of at most MAX_DEPTH levels
    check_depth(value, source)    the nesting bound on an already-built value (iterative)
    check_size(n, source, limit)  a byte-size bound, checked before a file is read

A document past a bound is an :class:`~infraleash.errors.InputError` that names the file and the
limit hit; it never reaches the code that would recurse, convert or allocate without bound.
"""

from __future__ import annotations

import json
from typing import Any

from infraleash.errors import InputError

MAX_DEPTH = 200  # containers inside containers: real plans nest < 30; Python recursion is ~1000 frames
MAX_INT_DIGITS = 400  # a JSON integer longer than this is not a value any provider writes
MAX_PLAN_BYTES = 512 * 1024 * 1024  # `terraform show -json` of a 10,000-resource plan is ~50 MB
MAX_POLICY_BYTES = 1024 * 1024  # an infraleash.yaml is a few KB
MAX_POLICY_NODES = 100_000  # YAML nodes after expanding aliases (a "billion laughs" file has 10^9)


def _no_constant(name: str) -> Any:
    raise _Refused(f"{name} is not a JSON number (NaN/Infinity are refused)")


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise _Refused(f"an integer of {len(text)} digits (limit {MAX_INT_DIGITS})")
    return int(text)


class _Refused(ValueError):
    """A bound hit inside json.loads (re-raised as InputError)."""


def load_json(text: str, source: str) -> Any:
    """``json.loads(text)`` within the bounds above; a malformed document is an InputError naming ``source``."""
    try:
        value = json.loads(text, parse_constant=_no_constant, parse_int=_bounded_int)
    except _Refused as e:
        raise InputError(f"refused: {e}", file=source) from None
    except json.JSONDecodeError as e:
        ends_early = e.pos >= len(text.rstrip()) or e.msg.startswith("Unterminated")
        hint = " (truncated?)" if ends_early else ""
        raise InputError(f"invalid JSON{hint}: {e.msg} (column {e.colno})", file=source, line=e.lineno) from None
    except RecursionError:
        raise InputError(f"refused: nested deeper than {MAX_DEPTH} levels", file=source) from None
    check_depth(value, source)
    return value


def check_depth(value: Any, source: str, limit: int = MAX_DEPTH) -> None:
    """Refuse ``value`` when containers nest deeper than ``limit`` (walked without recursion)."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth >= limit:
            raise InputError(f"refused: nested deeper than {limit} levels", file=source)
        stack.extend((c, depth + 1) for c in children if isinstance(c, dict | list))


def check_size(size: int, source: str, limit: int) -> None:
    if size > limit:
        raise InputError(f"refused: {size:,} bytes (limit {limit:,})", file=source)
