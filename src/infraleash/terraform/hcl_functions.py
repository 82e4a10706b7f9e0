"""Terraform's built-in functions, evaluated statically where the result is knowable.

Used by :mod:`infraleash.terraform.hcl`.  Every function takes already evaluated
arguments (values or :class:`Unknown`) and returns a value or an ``Unknown``.
An argument that is unknown makes the result unknown, except where Terraform's
semantics let us do better (``jsonencode`` keeps unknown leaves in place,
``try``/``coalesce`` take the first known value, ``length`` of a list with
unknown elements).  A function we do not model returns ``Unknown("name(...)")``:
never a guess.
"""

from __future__ import annotations

import base64
import json
import math
import re
from collections.abc import Callable
from typing import Any

from infraleash.terraform.config import Unknown


def _has_unknown(value: Any) -> bool:
    if isinstance(value, Unknown):
        return True
    if isinstance(value, list):
        return any(_has_unknown(v) for v in value)
    if isinstance(value, dict):
        return any(_has_unknown(v) for v in value.values())
    return False


def _first_unknown(args: list[Any]) -> Unknown | None:
    for a in args:
        if isinstance(a, Unknown):
            return a
    return None


def tostring(v: Any) -> str:
    """Terraform's string conversion of a primitive."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _tonumber(v: Any) -> Any:
    if isinstance(v, bool):
        raise ValueError("bool is not a number")
    if isinstance(v, int | float):
        return v
    s = str(v)
    return int(s) if re.fullmatch(r"-?\d+", s) else float(s)


def _format(fmt: str, *args: Any) -> str:
    out: list[str] = []
    it = iter(args)
    i = 0
    while i < len(fmt):
        c = fmt[i]
        if c == "%" and i + 1 < len(fmt):
            m = re.match(r"%([-+ #0]*)(\d*)(?:\.(\d+))?([a-zA-Z%])", fmt[i:])
            if not m:
                out.append(c)
                i += 1
                continue
            verb = m.group(4)
            if verb == "%":
                out.append("%")
            else:
                arg = next(it)
                if verb == "d":
                    out.append(str(int(_tonumber(arg))))
                elif verb in "fFeEgG":
                    prec = m.group(3)
                    spec = f"{'.' + prec if prec else ''}{verb}"
                    out.append(format(float(_tonumber(arg)), spec))
                elif verb == "q":
                    out.append(json.dumps(tostring(arg)))
                elif verb == "v" and isinstance(arg, dict | list):
                    out.append(json.dumps(arg))
                else:
                    out.append(tostring(arg))
            i += len(m.group(0))
            continue
        out.append(c)
        i += 1
    return "".join(out)


def _merge(*maps: Any) -> Any:
    out: dict[str, Any] = {}
    for m in maps:
        if m is None:
            continue
        if isinstance(m, Unknown):
            return m
        if not isinstance(m, dict):
            raise TypeError("merge takes maps")
        out.update(m)
    return out


def _concat(*lists: Any) -> Any:
    out: list[Any] = []
    for lst in lists:
        if isinstance(lst, Unknown):
            return lst
        out.extend(lst)
    return out


def _flatten(lst: Any) -> Any:
    out: list[Any] = []
    for v in lst:
        if isinstance(v, Unknown):
            return v
        if isinstance(v, list):
            inner = _flatten(v)
            if isinstance(inner, Unknown):
                return inner
            out.extend(inner)
        else:
            out.append(v)
    return out


def _distinct(lst: list[Any]) -> list[Any]:
    out: list[Any] = []
    for v in lst:
        if v not in out:
            out.append(v)
    return out


def _toset(lst: Any) -> Any:
    if isinstance(lst, list):
        return _distinct(lst)
    return lst


def _lookup(m: dict[str, Any], key: Any, *default: Any) -> Any:
    if key in m:
        return m[key]
    if default:
        return default[0]
    raise KeyError(key)


def _element(lst: list[Any], idx: Any) -> Any:
    return lst[int(idx) % len(lst)]


def _slice(lst: list[Any], start: Any, end: Any) -> list[Any]:
    return lst[int(start):int(end)]


def _substr(s: str, offset: Any, length: Any) -> str:
    off, ln = int(offset), int(length)
    if off < 0:
        off = len(s) + off
    return s[off:] if ln < 0 else s[off:off + ln]


def _replace(s: str, old: str, new: str) -> str:
    if len(old) > 1 and old.startswith("/") and old.endswith("/"):
        return re.sub(old[1:-1], re.sub(r"\$(\d+)", r"\\\1", new), s)
    return s.replace(old, new)


def _range(*args: Any) -> list[Any]:
    nums = [_tonumber(a) for a in args]
    if len(nums) == 1:
        return list(range(int(nums[0])))
    step = nums[2] if len(nums) > 2 else 1
    out = []
    v = nums[0]
    while (step > 0 and v < nums[1]) or (step < 0 and v > nums[1]):
        out.append(v)
        v += step
    return out


def _zipmap(keys: list[Any], values: list[Any]) -> dict[str, Any]:
    return {tostring(k): v for k, v in zip(keys, values, strict=True)}


def _contains(lst: list[Any], v: Any) -> Any:
    if _has_unknown(lst):
        return Unknown("contains(...) over unknown elements")
    return v in lst


def _length(v: Any) -> Any:
    if isinstance(v, Unknown):
        return v
    return len(v)


def _jsondecode(s: str) -> Any:
    return json.loads(s)


def _regex(pattern: str, s: str) -> Any:
    m = re.search(pattern, s)
    if not m:
        raise ValueError("no match")
    if m.groupdict():
        return m.groupdict()
    if m.groups():
        return list(m.groups())
    return m.group(0)


def _can_jsonencode(v: Any) -> Any:
    """jsonencode keeps the structure: rules read the decoded policy, unknown leaves stay unknown."""
    return v


def _try(*args: Any) -> Any:
    for a in args:
        if not isinstance(a, Unknown):
            return a
    return args[-1] if args else Unknown("try()")


def _coalesce(*args: Any) -> Any:
    for a in args:
        if isinstance(a, Unknown):
            return a
        if a is not None and a != "":
            return a
    raise ValueError("no non-null argument")


def _keys(m: dict[str, Any]) -> list[str]:
    return sorted(m)


def _values(m: dict[str, Any]) -> list[Any]:
    return [m[k] for k in sorted(m)]


def _join(sep: str, *lists: Any) -> Any:
    items: list[Any] = []
    for lst in lists:
        items.extend(lst)
    if any(isinstance(i, Unknown) for i in items):
        return next(i for i in items if isinstance(i, Unknown))
    return sep.join(tostring(i) for i in items)


def _tobool(v: Any) -> Any:
    if isinstance(v, bool) or v is None:
        return v
    if v in ("true", "false"):
        return v == "true"
    raise ValueError("not a bool")


# Functions whose arguments may contain unknowns (they handle them themselves).
_UNKNOWN_AWARE: dict[str, Callable[..., Any]] = {
    "jsonencode": _can_jsonencode,
    "try": _try,
    "coalesce": _coalesce,
    "length": _length,
    "tolist": lambda v: v,
    "toset": _toset,
    "tomap": lambda v: v,
    "concat": _concat,
    "merge": _merge,
    "flatten": _flatten,
    "contains": _contains,
    "join": _join,
    "compact": lambda lst: [v for v in lst if v is not None and v != ""],
    "element": _element,
    "lookup": _lookup,
    "sensitive": lambda v: v,
    "nonsensitive": lambda v: v,
    "one": lambda lst: lst[0] if lst else None,
    "reverse": lambda lst: list(reversed(lst)),
    "slice": _slice,
    "coalescelist": lambda *ls: next((ls_ for ls_ in ls if ls_), []),
    "zipmap": _zipmap,
}

# Functions that need every argument (deeply) known.
_PURE: dict[str, Callable[..., Any]] = {
    "lower": lambda s: s.lower(),
    "upper": lambda s: s.upper(),
    "title": lambda s: s.title(),
    "trimspace": lambda s: s.strip(),
    "trim": lambda s, cs: s.strip(cs),
    "trimprefix": lambda s, p: s[len(p):] if s.startswith(p) else s,
    "trimsuffix": lambda s, p: s[:-len(p)] if p and s.endswith(p) else s,
    "chomp": lambda s: s.rstrip("\r\n"),
    "format": _format,
    "formatlist": lambda fmt, *ls: [_format(fmt, *vals) for vals in zip(*ls, strict=False)],
    "replace": _replace,
    "split": lambda sep, s: s.split(sep),
    "substr": _substr,
    "startswith": lambda s, p: s.startswith(p),
    "endswith": lambda s, p: s.endswith(p),
    "strcontains": lambda s, p: p in s,
    "tostring": tostring,
    "tonumber": _tonumber,
    "tobool": _tobool,
    "jsondecode": _jsondecode,
    "yamldecode": lambda s: __import__("yaml").safe_load(s),
    "keys": _keys,
    "values": _values,
    "distinct": _distinct,
    "sort": lambda lst: sorted(tostring(v) for v in lst),
    "min": lambda *a: min(_tonumber(x) for x in a),
    "max": lambda *a: max(_tonumber(x) for x in a),
    "abs": lambda x: abs(_tonumber(x)),
    "ceil": lambda x: math.ceil(_tonumber(x)),
    "floor": lambda x: math.floor(_tonumber(x)),
    "pow": lambda x, y: _tonumber(x) ** _tonumber(y),
    "signum": lambda x: (x > 0) - (x < 0),
    "range": _range,
    "index": lambda lst, v: lst.index(v),
    "setunion": lambda *ls: _distinct([v for lst in ls for v in lst]),
    "setintersection": lambda first, *ls: [v for v in first if all(v in o for o in ls)],
    "setsubtract": lambda a, b: [v for v in a if v not in b],
    "base64encode": lambda s: base64.b64encode(s.encode()).decode(),
    "base64decode": lambda s: base64.b64decode(s).decode(),
    "regex": _regex,
    "regexall": lambda p, s: [m.group(0) for m in re.finditer(p, s)],
    "can": lambda v: True,
    "alltrue": lambda lst: all(lst),
    "anytrue": lambda lst: any(lst),
    "sum": lambda lst: sum(_tonumber(v) for v in lst),
    "chunklist": lambda lst, n: [lst[i:i + int(n)] for i in range(0, len(lst), int(n))],
    "transpose": lambda m: {v: sorted(k for k, vs in m.items() if v in vs) for vs in m.values() for v in vs},
    "matchkeys": lambda vals, ks, sel: [v for v, k in zip(vals, ks, strict=False) if k in sel],
    "strrev": lambda s: s[::-1],
    "indent": lambda n, s: s.replace("\n", "\n" + " " * int(n)),
}


def call(name: str, args: list[Any]) -> Any:
    """Evaluate ``name(args...)``; an unmodelled function or failure gives Unknown."""
    short = name.rsplit("::", 1)[-1] if "::" in name else name
    fn = _UNKNOWN_AWARE.get(short)
    if fn is None:
        fn = _PURE.get(short)
        if fn is None:
            return Unknown(f"{name}(...)")
        if any(_has_unknown(a) for a in args):
            first = _first_unknown(args)
            return first if first is not None else Unknown(f"{name}(...) of unknown values")
    try:
        return fn(*args)
    except Exception:  # a wrong argument in user code: the value is simply not known statically
        return Unknown(f"{name}(...)")
