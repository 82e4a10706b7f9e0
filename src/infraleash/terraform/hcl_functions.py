"""Terraform's built-in functions, evaluated statically where the result is knowable.

Used by :mod:`infraleash.terraform.hcl`.  Every function takes already evaluated
arguments (values or :class:`Unknown`) and returns a value or an ``Unknown``.
An argument that is unknown makes the result unknown, except where Terraform's
semantics let us do better (``jsonencode`` keeps unknown leaves in place,
``try``/``coalesce`` take the first known value, ``length`` of a list with
unknown elements).  A function we do not model returns ``Unknown("name(...)")``:
never a guess.

No call builds a value past :data:`~infraleash.terraform.hcl_budget.MAX_VALUE_SIZE` or runs long: the
functions whose output can be much larger than their input (``range``, ``format``/``formatlist`` widths,
``indent``, ``replace``, ``join``, ``pow``) compute its size first and raise
:class:`~infraleash.terraform.hcl_budget.BudgetExceeded`; set functions hash instead of comparing every
pair; regular expressions run on RE2 (Terraform's own syntax, linear time).
"""

from __future__ import annotations

import base64
import json
import math
import re
from collections.abc import Callable
from functools import cache
from typing import Any

from infraleash.terraform.config import Unknown
from infraleash.terraform.hcl_budget import MAX_NUMBER_BITS, MAX_VALUE_SIZE, BudgetExceeded

MAX_RANGE = 1024  # Terraform's range() refuses to make more elements


@cache
def _re2_options() -> tuple[Any, Any]:
    """google-re2 and its options, imported when a configuration first uses a regex (start-up stays light)."""
    import re2

    options = re2.Options()
    options.log_errors = False  # a bad pattern is an Unknown, not a line on stderr
    options.max_mem = 64 << 20
    return re2, options


def _re2(pattern: str) -> Any:
    re2, options = _re2_options()
    return re2.compile(pattern, options)


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


_VERB = re.compile(r"%([-+ #0]*)(\d*)(?:\.(\d+))?([a-zA-Z%])")


def _format(fmt: str, *args: Any) -> str:
    out: list[str] = []
    size = 0
    it = iter(args)
    i = 0
    while i < len(fmt):
        c = fmt[i]
        if c == "%" and i + 1 < len(fmt):
            m = _VERB.match(fmt, i)
            if not m:
                out.append(c)
                i += 1
                continue
            flags, width, prec, verb = m.group(1), m.group(2), m.group(3), m.group(4)
            if len(width) > 7 or len(prec or "") > 7 or int(width or 0) > MAX_VALUE_SIZE or \
                    int(prec or 0) > MAX_VALUE_SIZE:
                raise BudgetExceeded("size", f"format verb {m.group(0)[:20]}")
            if verb == "%":
                piece = "%"
            else:
                arg = next(it)
                if verb == "d":
                    piece = str(int(_tonumber(arg)))
                elif verb in "fFeEgG":
                    piece = format(float(_tonumber(arg)), f"{'.' + prec if prec else ''}{verb}")
                elif verb == "q":
                    piece = json.dumps(tostring(arg))
                elif verb == "v" and isinstance(arg, dict | list):
                    piece = json.dumps(arg)
                else:
                    piece = tostring(arg)
                if width and len(piece) < int(width):
                    pad = int(width) - len(piece)
                    piece = piece + " " * pad if "-" in flags else \
                        ("0" * pad + piece if "0" in flags and verb in "dfFeEgG" else " " * pad + piece)
            out.append(piece)
            size += len(piece)
            i += len(m.group(0))
        else:
            out.append(c)
            size += 1
            i += 1
        if size > MAX_VALUE_SIZE:
            raise BudgetExceeded("size", "format()")
    return "".join(out)


def _formatlist(fmt: str, *lists: Any) -> list[str]:
    out: list[str] = []
    size = 0
    for vals in zip(*lists, strict=False):
        piece = _format(fmt, *vals)
        size += len(piece) + 1
        if size > MAX_VALUE_SIZE:
            raise BudgetExceeded("size", "formatlist()")
        out.append(piece)
    return out


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


def _key(v: Any) -> Any:
    """A hashable stand-in for ``v`` with HCL's equality (``1 == 1.0``; a bool is not a number)."""
    if isinstance(v, bool):
        return ("b", v)
    if isinstance(v, int | float):
        return ("n", v)
    if isinstance(v, str):
        return ("s", v)
    if v is None:
        return ("z",)
    return ("j", json.dumps(v, sort_keys=True, default=repr))


def _distinct(lst: list[Any]) -> list[Any]:
    seen: set[Any] = set()
    out: list[Any] = []
    for v in lst:
        k = _key(v)
        if k not in seen:
            seen.add(k)
            out.append(v)
    return out


def _keys_of(lst: list[Any]) -> set[Any]:
    return {_key(v) for v in lst}


def _setintersection(first: list[Any], *others: list[Any]) -> list[Any]:
    sets = [_keys_of(o) for o in others]
    return _distinct([v for v in first if all(_key(v) in s for s in sets)])


def _setsubtract(a: list[Any], b: list[Any]) -> list[Any]:
    drop = _keys_of(b)
    return [v for v in a if _key(v) not in drop]


def _matchkeys(values: list[Any], keys: list[Any], searchset: list[Any]) -> list[Any]:
    wanted = _keys_of(searchset)
    return [v for v, k in zip(values, keys, strict=True) if _key(k) in wanted]


def _transpose(m: dict[str, list[str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for k, vs in m.items():
        for v in vs:
            out.setdefault(v, []).append(k)
    return {v: sorted(ks) for v, ks in out.items()}


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


_GROUP_REF = re.compile(r"\$(\$|\d+|\{(\w+)\}|[A-Za-z_]\w*)")


def _expand(m: Any, template: str) -> str:
    """Go's regexp Expand: ``$1``, ``${1}``, ``${name}``, ``$name``; ``$$`` is a ``$``."""
    def one(ref: re.Match[str]) -> str:
        name = ref.group(2) or ref.group(1)
        if name == "$":
            return "$"
        try:
            return m.group(int(name) if name.isdigit() else name) or ""
        except Exception:  # a group that does not exist (re2.error, IndexError): Go expands it to ""
            return ""
    return _GROUP_REF.sub(one, template)


def _replace(s: str, old: str, new: str) -> str:
    if len(old) > 1 and old.startswith("/") and old.endswith("/"):
        size = len(s)

        def repl(m: Any) -> str:
            nonlocal size
            text = _expand(m, new)
            size += len(text) - (m.end() - m.start())
            if size > MAX_VALUE_SIZE:
                raise BudgetExceeded("size", "replace()")
            return text
        return str(_re2(old[1:-1]).sub(repl, s))
    count = len(s) + 1 if old == "" else s.count(old)
    if len(s) + count * (len(new) - len(old)) > MAX_VALUE_SIZE:
        raise BudgetExceeded("size", "replace()")
    return s.replace(old, new)


def _range(*args: Any) -> list[Any]:
    nums = [_tonumber(a) for a in args]
    if len(nums) == 1:
        nums = [0, nums[0]]
    start, limit = nums[0], nums[1]
    step = nums[2] if len(nums) > 2 else (1 if limit >= start else -1)
    if step == 0 or math.isnan(start) or math.isnan(limit) or math.isnan(step):
        raise ValueError("range step 0")
    count = max(0, math.ceil((limit - start) / step))
    if count > MAX_RANGE:
        raise BudgetExceeded("range", f"range() of {count:,} elements" if count < 10**15 else "range()")
    return [start + i * step for i in range(count)]


def _indent(n: Any, s: str) -> str:
    spaces = int(_tonumber(n))
    if len(s) + max(0, spaces) * s.count("\n") > MAX_VALUE_SIZE:
        raise BudgetExceeded("size", "indent()")
    return s.replace("\n", "\n" + " " * spaces)


def _pow(x: Any, y: Any) -> Any:
    a, b = _tonumber(x), _tonumber(y)
    if isinstance(a, int) and isinstance(b, int) and b > 0 and abs(a) > 1 and \
            b * a.bit_length() > MAX_NUMBER_BITS * 2:
        raise BudgetExceeded("number", "pow()")
    return a ** b


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
    m = _re2(pattern).search(s)
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
    texts = [tostring(i) for i in items]
    if sum(map(len, texts)) + len(sep) * len(texts) > MAX_VALUE_SIZE:
        raise BudgetExceeded("size", "join()")
    return sep.join(texts)


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
    "formatlist": _formatlist,
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
    "pow": _pow,
    "signum": lambda x: (x > 0) - (x < 0),
    "range": _range,
    "index": lambda lst, v: lst.index(v),
    "setunion": lambda *ls: _distinct([v for lst in ls for v in lst]),
    "setintersection": _setintersection,
    "setsubtract": _setsubtract,
    "base64encode": lambda s: base64.b64encode(s.encode()).decode(),
    "base64decode": lambda s: base64.b64decode(s).decode(),
    "regex": _regex,
    "regexall": lambda p, s: [m.group(0) for m in _re2(p).finditer(s)],
    "can": lambda v: True,
    "alltrue": lambda lst: all(lst),
    "anytrue": lambda lst: any(lst),
    "sum": lambda lst: sum(_tonumber(v) for v in lst),
    "chunklist": lambda lst, n: [lst[i:i + int(n)] for i in range(0, len(lst), int(n))],
    "transpose": _transpose,
    "matchkeys": _matchkeys,
    "strrev": lambda s: s[::-1],
    "indent": _indent,
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
    size = 0
    for a in args:
        if isinstance(a, str | list | dict):
            size += len(a)
    if size > MAX_VALUE_SIZE:
        raise BudgetExceeded("size", f"the arguments of {short}()")
    try:
        return fn(*args)
    except BudgetExceeded:
        raise
    except Exception:  # a wrong argument in user code: the value is simply not known statically
        return Unknown(f"{name}(...)")
