"""Provider constraints: ``required_providers`` against the org's pins and the lock file.

* ``TF-PROVIDER-PIN-CONFLICT``: the code's version constraint allows versions the org pin
  (``policy.providers``) does not (``~> 5.0`` where the org pins ``~> 4.67``); disjoint
  constraints are high, a merely wider one medium;
* ``TF-PROVIDER-NO-VERSION``: a provider used without a version constraint;
* ``TF-PROVIDER-LOCK-MISMATCH``: ``.terraform.lock.hcl`` selects a version outside the
  constraint or the pin (also for a pinned provider the root module does not declare: the
  lock file decides what runs), at the line of the selected ``version``;
* ``TF-PROVIDER-NOT-LOCKED``: a lock file exists but lacks a required provider;
* ``TF-PROVIDER-SCHEMA-UNAVAILABLE`` (info): the code was validated against a schema of
  another version than the locked/pinned one.

Constraint reasoning: each Terraform constraint (``=``, ``!=``, ``>``, ``>=``, ``<``, ``<=``,
``~>``, comma-joined) becomes a union of version intervals; overlap and containment are
computed on those intervals.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from infraleash.findings import Finding, Kind, Severity
from infraleash.terraform.config import Config
from infraleash.terraform.schema import LockedProvider, SchemaSet, full_source, read_lock_file

PIN_CONFLICT = "TF-PROVIDER-PIN-CONFLICT"
NO_VERSION = "TF-PROVIDER-NO-VERSION"
LOCK_MISMATCH = "TF-PROVIDER-LOCK-MISMATCH"
NOT_LOCKED = "TF-PROVIDER-NOT-LOCKED"
SCHEMA_UNAVAILABLE = "TF-PROVIDER-SCHEMA-UNAVAILABLE"

Version = tuple[int, int, int]


@dataclass(frozen=True)
class Interval:
    lo: Version | None  # None: unbounded
    lo_incl: bool
    hi: Version | None
    hi_incl: bool

    def empty(self) -> bool:
        if self.lo is None or self.hi is None:
            return False
        return self.lo > self.hi or (self.lo == self.hi and not (self.lo_incl and self.hi_incl))

    def contains(self, v: Version) -> bool:
        if self.lo is not None and (v < self.lo or (v == self.lo and not self.lo_incl)):
            return False
        return not (self.hi is not None and (v > self.hi or (v == self.hi and not self.hi_incl)))

    def within(self, other: Interval) -> bool:
        lo_ok = other.lo is None or (self.lo is not None and (
            self.lo > other.lo or (self.lo == other.lo and (other.lo_incl or not self.lo_incl))))
        hi_ok = other.hi is None or (self.hi is not None and (
            self.hi < other.hi or (self.hi == other.hi and (other.hi_incl or not self.hi_incl))))
        return lo_ok and hi_ok


ALL = [Interval(None, False, None, False)]
_PART = re.compile(r"^\s*(~>|>=|<=|!=|=|>|<)?\s*v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:[-+][0-9A-Za-z.-]*)?\s*$")


class ConstraintError(ValueError):
    pass


def parse_version(text: str) -> Version:
    m = _PART.match(text)
    if not m or m.group(1):
        raise ConstraintError(f"not a version: {text!r}")
    return (int(m.group(2)), int(m.group(3) or 0), int(m.group(4) or 0))


def _intersect(a: list[Interval], b: list[Interval]) -> list[Interval]:
    out = []
    for x in a:
        for y in b:
            if x.lo is None or (y.lo is not None and (y.lo > x.lo or (y.lo == x.lo and not y.lo_incl))):
                lo, lo_incl = y.lo, y.lo_incl
            else:
                lo, lo_incl = x.lo, x.lo_incl
            if x.hi is None or (y.hi is not None and (y.hi < x.hi or (y.hi == x.hi and not y.hi_incl))):
                hi, hi_incl = y.hi, y.hi_incl
            else:
                hi, hi_incl = x.hi, x.hi_incl
            iv = Interval(lo, lo_incl, hi, hi_incl)
            if not iv.empty():
                out.append(iv)
    return out


def parse_constraint(text: str) -> list[Interval]:
    """A Terraform version constraint as a union of intervals (raises ConstraintError)."""
    result = ALL
    for part in text.split(","):
        m = _PART.match(part)
        if not m:
            raise ConstraintError(f"invalid version constraint {part.strip()!r}")
        op = m.group(1) or "="
        nums = [m.group(2), m.group(3), m.group(4)]
        given = sum(1 for n in nums if n is not None)
        v: Version = (int(nums[0]), int(nums[1] or 0), int(nums[2] or 0))
        if op == "=":
            ivs = [Interval(v, True, v, True)]
        elif op == "!=":
            ivs = [Interval(None, False, v, False), Interval(v, False, None, False)]
        elif op == ">":
            ivs = [Interval(v, False, None, False)]
        elif op == ">=":
            ivs = [Interval(v, True, None, False)]
        elif op == "<":
            ivs = [Interval(None, False, v, False)]
        elif op == "<=":
            ivs = [Interval(None, False, v, True)]
        else:  # ~>: the rightmost given component may grow
            if given <= 1:
                upper: Version = (v[0] + 1, 0, 0)
            elif given == 2:
                upper = (v[0] + 1, 0, 0)
            else:
                upper = (v[0], v[1] + 1, 0)
            ivs = [Interval(v, True, upper, False)]
        result = _intersect(result, ivs)
    return result


def overlaps(a: str, b: str) -> bool:
    return bool(_intersect(parse_constraint(a), parse_constraint(b)))


def within(a: str, b: str) -> bool:
    """Every version ``a`` allows is allowed by ``b``."""
    bs = parse_constraint(b)
    return all(any(x.within(y) for y in bs) for x in parse_constraint(a))


def allows(constraint: str, version: str) -> bool:
    v = parse_version(version)
    return any(iv.contains(v) for iv in parse_constraint(constraint))


def _f(rule: str, severity: Severity, message: str, file: str | None, line: int | None,
       suggestion: str | None = None, **details: object) -> Finding:
    return Finding(rule=rule, kind=Kind.PROVIDER_CONSTRAINT, severity=severity, message=message, file=file,
                   line=line, suggestion=suggestion, details=dict(details))


def _outside(name: str, locked: LockedProvider | None, limits: tuple[tuple[str, str | None], ...]) -> list[Finding]:
    """The lock file's selected version against each (what, constraint) that applies."""
    out: list[Finding] = []
    if locked is None or not locked.version:
        return out
    for what, c in limits:
        try:
            if c and not allows(c, locked.version):
                out.append(_f(LOCK_MISMATCH, Severity.HIGH, f"provider `{name}`: the lock file selects "
                              f"{locked.version}, outside the {what} `{c}`", locked.file, locked.line,
                              suggestion=f"terraform init -upgrade with the {what} in required_providers",
                              selected=locked.version, constraint=c))
        except ConstraintError:
            pass
    return out


def _unlisted_pins(root_required: dict[str, dict[str, Any]], pins: dict[str, str],
                   lock: dict[str, LockedProvider] | None) -> list[Finding]:
    """Pinned providers the lock file selects but the root module's required_providers does not list."""
    declared = {full_source(e.get("source") if isinstance(e.get("source"), str) else None, n)
                for n, e in root_required.items()}
    out: list[Finding] = []
    for source, locked in sorted((lock or {}).items()):
        name = source.rsplit("/", 1)[-1]
        if source not in declared and name in pins:
            out.extend(_outside(name, locked, (("org pin", pins[name]),)))
    return out


def check(config: Config, policy: object, schemas: SchemaSet) -> list[Finding]:
    pins: dict[str, str] = dict(getattr(policy, "providers", {}) or {})
    out: list[Finding] = []
    root_required = {k: v for k, v in config.required_providers.items() if ":" not in k}
    used = {b.type.split("_", 1)[0] for b in [*config.resources, *config.data] if "_" in b.type}
    used -= {"terraform"}
    lock = read_lock_file(config.root)
    out.extend(_unlisted_pins(root_required, pins, lock))
    for name in sorted(used - set(root_required)):
        if name in schemas.providers or name in pins:
            first = next(b for b in [*config.resources, *config.data] if b.type.startswith(name + "_"))
            out.append(_f(NO_VERSION, Severity.MEDIUM, f"provider `{name}` is used but has no version constraint "
                          "in required_providers", first.file, first.line,
                          suggestion=f'{name} = {{ source = "hashicorp/{name}", version = "{pins.get(name, "...")}" }}'))
    for name, entry in sorted(root_required.items()):
        file, line = entry.get("file"), entry.get("line")
        constraint = entry.get("version")
        pin = pins.get(name)
        if not isinstance(constraint, str) or not constraint.strip():
            out.append(_f(NO_VERSION, Severity.MEDIUM, f"provider `{name}` has no version constraint", file, line,
                          suggestion=f'version = "{pin}"' if pin else None))
            constraint = None
        if constraint and pin:
            try:
                if not overlaps(constraint, pin):
                    out.append(_f(PIN_CONFLICT, Severity.HIGH, f"provider `{name}` constraint `{constraint}` "
                                  f"conflicts with the org pin `{pin}` (no version satisfies both)", file, line,
                                  suggestion=f'version = "{pin}"', pin=pin, constraint=constraint))
                elif not within(constraint, pin):
                    out.append(_f(PIN_CONFLICT, Severity.MEDIUM, f"provider `{name}` constraint `{constraint}` "
                                  f"allows versions outside the org pin `{pin}`", file, line,
                                  suggestion=f'version = "{pin}"', pin=pin, constraint=constraint))
            except ConstraintError as e:
                out.append(_f(PIN_CONFLICT, Severity.HIGH, f"provider `{name}`: {e}", file, line))
        source = full_source(entry.get("source"), name)
        locked = lock.get(source) if lock is not None else None
        if lock is not None and locked is None:
            out.append(_f(NOT_LOCKED, Severity.MEDIUM, f"provider `{name}` ({source}) is not in "
                          ".terraform.lock.hcl; run `terraform init` and commit the lock file", file, line))
        out.extend(_outside(name, locked, (("constraint", constraint), ("org pin", pin))))
        schema = schemas.providers.get(name)
        want = locked.version if locked is not None and locked.version else None
        if schema is not None and schema.version:
            try:
                if want and want != schema.version:
                    out.append(_f(SCHEMA_UNAVAILABLE, Severity.INFO, f"provider `{name}` is locked at {want} but "
                                  f"the schema of {want} is not available; checked against {schema.version}",
                                  file, line))
                elif not want and (c := constraint or pin) and not allows(c, schema.version):
                    out.append(_f(SCHEMA_UNAVAILABLE, Severity.INFO, f"provider `{name}`: the schema available "
                                  f"({schema.version}) is outside `{c}`; run `terraform init` to check against "
                                  "the pinned version", file, line))
            except ConstraintError:
                pass
    return out
