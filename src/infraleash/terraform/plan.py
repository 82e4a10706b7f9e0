"""A Terraform (or OpenTofu) plan, read from ``terraform show -json`` output.

    plan = load_plan("plan.json")           # or parse_plan(text, "plan.json")
    for rc in plan.changes():               # resource changes that do something
        print(rc.address, rc.action, rc.replace_order, rc.moved_from, rc.import_id)
        for attr in rc.forcing_attributes():  # replace_paths with before -> after
            print(attr.path, attr.render())
    plan.drift                               # changes made outside Terraform
    plan.outputs                             # output changes

Every value printed goes through :func:`render_value`, which writes
``(sensitive)`` wherever ``before_sensitive``/``after_sensitive`` (or a
sensitive output) mark it: sensitive values are never shown.

Only JSON format 1.x is read (Terraform >= 0.12 and OpenTofu both write 1.x);
another major version is an :class:`~infraleash.errors.InputError`.  Attribute
diffs are computed lazily, so a 10,000-change plan is read in well under a
second beyond ``json.loads`` itself.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from infraleash.errors import ExecutionError, InputError
from infraleash.limits import MAX_PLAN_BYTES, check_depth, check_size, load_json
from infraleash.terraform.plan_schema import validate_plan_shape
from infraleash.terraform.runner import TerraformRunner
from infraleash.terraform.split_resources import plan_resources, unexplained

SENSITIVE = "(sensitive)"
UNKNOWN = "(known after apply)"
_MAX_RENDER = 120  # characters of a value shown in a summary line


class Action(StrEnum):
    """What a plan does to one resource instance."""

    CREATE = "create"
    UPDATE = "update"  # in place
    DELETE = "delete"
    REPLACE = "replace"  # delete + create, in either order
    READ = "read"  # data source read during apply
    NO_OP = "no-op"
    FORGET = "forget"  # `removed { lifecycle { destroy = false } }`: dropped from state, kept in the cloud


class ReplaceOrder(StrEnum):
    DELETE_BEFORE_CREATE = "delete-before-create"  # the default: there is a gap
    CREATE_BEFORE_DESTROY = "create-before-destroy"  # lifecycle create_before_destroy
    CREATE_THEN_FORGET = "create-then-forget"  # a new object; the old one leaves the state but stays in the cloud


def _classify(actions: list[str]) -> tuple[Action, ReplaceOrder | None]:
    if actions == ["delete", "create"]:
        return Action.REPLACE, ReplaceOrder.DELETE_BEFORE_CREATE
    if actions == ["create", "delete"]:
        return Action.REPLACE, ReplaceOrder.CREATE_BEFORE_DESTROY
    if len(actions) == 1:
        try:
            return Action(actions[0]), None
        except ValueError:
            pass
    if "forget" in actions:  # e.g. ["create", "forget"] (forget the old, create a new one)
        return (Action.REPLACE, ReplaceOrder.CREATE_THEN_FORGET) if "create" in actions else (Action.FORGET, None)
    raise ValueError(f"unknown change actions {actions!r}")


# --------------------------------------------------------------------------- values


def _at(value: Any, path: list[Any]) -> Any:
    for step in path:
        if isinstance(value, dict) and isinstance(step, str):
            value = value.get(step)
        elif isinstance(value, list) and isinstance(step, int) and 0 <= step < len(value):
            value = value[step]
        else:
            return None
    return value


def _mask_at(mask: Any, path: list[Any]) -> Any:
    """The sensitivity (or unknown) mask at ``path``: True once any prefix is True."""
    for step in path:
        if mask is True:
            return True
        if isinstance(mask, dict) and isinstance(step, str):
            mask = mask.get(step)
        elif isinstance(mask, list) and isinstance(step, int) and 0 <= step < len(mask):
            mask = mask[step]
        else:
            return None
    return mask


def _contains_true(mask: Any) -> bool:
    if mask is True:
        return True
    if isinstance(mask, dict):
        return any(_contains_true(v) for v in mask.values())
    if isinstance(mask, list):
        return any(_contains_true(v) for v in mask)
    return False


_EMPTY: tuple[Any, ...] = (None, {}, [], "")


def same_value(a: Any, b: Any) -> bool:
    """Equal, counting null, {}, [] and "" as the same (providers normalise them back and forth)."""
    return a == b or (a in _EMPTY and b in _EMPTY)


_ZERO: tuple[Any, ...] = (None, False, 0, "", {}, [])


def normalised_equal(a: Any, b: Any) -> bool:
    """Equal once refresh normalisation is discounted: ``null`` is the same as ``false``, ``0``, ``""``,
    ``{}`` and ``[]`` at any depth, and a key missing from an object is the same as ``null`` there
    (providers write these back and forth between the state and what they read from the API)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return all(normalised_equal(a.get(k), b.get(k)) for k in set(a) | set(b))
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(normalised_equal(x, y) for x, y in zip(a, b, strict=True))
    if a is None or b is None:
        other = b if a is None else a
        return other is None or any(other == z and type(other) is type(z) for z in _ZERO if z is not None) or \
            (isinstance(other, dict) and all(normalised_equal(None, v) for v in other.values()))
    if type(a) is type(b) and a == b:
        return True
    return a in _EMPTY and b in _EMPTY


_NO_SECRETS: frozenset[str] = frozenset()


def redact(value: Any, sensitive: Any, secrets: frozenset[str] = _NO_SECRETS) -> Any:
    """``value`` with every part ``sensitive`` marks, and every string in ``secrets``, replaced by ``(sensitive)``.

    ``secrets`` are the strings the plan marks sensitive somewhere else (:attr:`Plan.secrets`): a copy of a
    sensitive value that Terraform left unmarked is redacted too.
    """
    if sensitive is True or (secrets and isinstance(value, str) and value in secrets):
        return SENSITIVE
    if isinstance(value, dict):
        mask = sensitive if isinstance(sensitive, dict) else {}
        if not mask and not secrets:
            return value
        return {k: redact(v, mask.get(k), secrets) for k, v in value.items()}
    if isinstance(value, list):
        masks = sensitive if isinstance(sensitive, list) else []
        if not masks and not secrets:
            return value
        return [redact(v, masks[i] if i < len(masks) else None, secrets) for i, v in enumerate(value)]
    return value


def render_value(value: Any, sensitive: Any = None, unknown: Any = None, limit: int = _MAX_RENDER,
                 secrets: frozenset[str] = _NO_SECRETS) -> str:
    """One value for a human: redacted, ``(known after apply)`` when unknown, shortened."""
    if sensitive is True:
        return SENSITIVE
    if unknown is True:
        return UNKNOWN
    text = json.dumps(redact(value, sensitive, secrets), sort_keys=True, separators=(",", ":"), default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def format_path(path: list[Any]) -> str:
    out = ""
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else str(step))
    return out


@dataclass(slots=True)
class AttributeChange:
    """One attribute's before -> after, with its sensitivity; render() never leaks a secret."""

    path: list[Any]
    before: Any
    after: Any
    before_sensitive: Any = None
    after_sensitive: Any = None
    after_unknown: Any = None
    secrets: frozenset[str] = field(default=_NO_SECRETS, repr=False)

    @property
    def name(self) -> str:
        return format_path(self.path)

    @property
    def sensitive(self) -> bool:
        return _contains_true(self.before_sensitive) or _contains_true(self.after_sensitive)

    def render(self) -> str:
        before = render_value(self.before, self.before_sensitive, secrets=self.secrets)
        after = render_value(self.after, self.after_sensitive, self.after_unknown, secrets=self.secrets)
        return f"{before} -> {after}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe, redacted."""
        return {"path": self.name,
                "before": redact(self.before, self.before_sensitive, self.secrets),
                "after": UNKNOWN if self.after_unknown is True else
                redact(self.after, self.after_sensitive, self.secrets)}


# --------------------------------------------------------------------------- changes


@dataclass(slots=True)
class ResourceChange:
    """One entry of ``resource_changes`` (or ``resource_drift``)."""

    address: str
    type: str
    name: str
    mode: str  # "managed" | "data"
    module_address: str | None
    provider: str
    actions: list[str]
    action: Action
    replace_order: ReplaceOrder | None
    before: Any
    after: Any
    after_unknown: Any = None
    before_sensitive: Any = None
    after_sensitive: Any = None
    replace_paths: list[list[Any]] = field(default_factory=list)
    moved_from: str | None = None  # previous_address
    import_id: str | None = None  # change.importing.id
    action_reason: str | None = None  # replace_because_tainted, delete_because_no_resource_config, ...
    deposed: str | None = None
    secrets: frozenset[str] = field(default=_NO_SECRETS, repr=False, compare=False)  # the plan's, shared
    _changed: list[AttributeChange] | None = field(default=None, repr=False, compare=False)

    @property
    def is_move(self) -> bool:
        return self.moved_from is not None and self.moved_from != self.address

    @property
    def is_import(self) -> bool:
        return self.import_id is not None

    @property
    def does_something(self) -> bool:
        return self.action not in (Action.NO_OP, Action.READ) or self.is_move or self.is_import

    @property
    def labels(self) -> list[str]:
        """Every way to describe the change: e.g. ``["move", "update"]``, ``["import"]``."""
        out = []
        if self.is_move:
            out.append("move")
        if self.is_import:
            out.append("import")
        if self.action is not Action.NO_OP or not out:
            out.append(self.action.value if self.replace_order is None else f"replace ({self.replace_order.value})")
        return out

    def value(self, name: str, *, after: bool = False) -> Any:
        """A top-level attribute's value (from ``before`` for deletes, else as asked)."""
        src = self.after if after else self.before
        return src.get(name) if isinstance(src, dict) else None

    def attribute(self, path: list[Any]) -> AttributeChange:
        return AttributeChange(path=list(path), before=_at(self.before, path), after=_at(self.after, path),
                               before_sensitive=_mask_at(self.before_sensitive, path),
                               after_sensitive=_mask_at(self.after_sensitive, path),
                               after_unknown=_mask_at(self.after_unknown, path), secrets=self.secrets)

    def forcing_attributes(self) -> list[AttributeChange]:
        """For a replacement: the attributes whose change forces it (``replace_paths``)."""
        return [self.attribute(p) for p in self.replace_paths]

    def changed_attributes(self) -> list[AttributeChange]:
        """Top-level attributes whose value differs (or becomes unknown), computed once on demand."""
        if self._changed is None:
            self._changed = self._diff()
        return self._changed

    def _diff(self) -> list[AttributeChange]:
        before = self.before if isinstance(self.before, dict) else {}
        after = self.after if isinstance(self.after, dict) else {}
        unknown = self.after_unknown if isinstance(self.after_unknown, dict) else {}
        out = []
        for key in sorted(set(before) | set(after) | set(unknown)):
            if unknown.get(key) is True and before.get(key) is not None or \
                    unknown.get(key) is not True and not same_value(before.get(key), after.get(key)):
                out.append(self.attribute([key]))
        return out

    def changed_names(self) -> set[str]:
        return {a.path[0] for a in self.changed_attributes()}

    @property
    def tags_only(self) -> bool:
        """An in-place update that changes nothing but tags."""
        if self.action is not Action.UPDATE:
            return False
        names = self.changed_names()
        return bool(names) and names <= {"tags", "tags_all"}

    def tags(self, *, after: bool = False) -> dict[str, Any]:
        """The tags before the change (or after it): ``tags_all`` merged with ``tags``.

        Before and after are separate: a change that removes or flips a tag must still be matched by
        the tags it had, so callers that look for a marker tag check both.
        """
        src = self.after if after else self.before
        merged: dict[str, Any] = {}
        if isinstance(src, dict):
            for key in ("tags_all", "tags"):
                if isinstance(src.get(key), dict):
                    merged.update(src[key])
        return merged

    def ids(self) -> list[str]:
        """Cloud identifiers (id, arn) from before and after values."""
        out = []
        for src in (self.before, self.after):
            if isinstance(src, dict):
                for key in ("id", "arn"):
                    v = src.get(key)
                    if isinstance(v, str) and v and v not in out:
                        out.append(v)
        if self.import_id and self.import_id not in out:
            out.append(self.import_id)
        return out


NORMALISED = 'refresh normalisation: null/false/""/{}/[] or a provider default filled in'
COMPUTED = "computed by the provider: not an argument anyone sets"


@dataclass(slots=True)
class Drift:
    """A change made outside Terraform, and whether this plan would undo it."""

    change: ResourceChange
    attributes: list[AttributeChange]  # before = in state, after = as found in the cloud
    reverted: list[AttributeChange]  # drifted attributes the plan sets back (before = cloud, after = planned)
    deleted_outside: bool  # the object is gone; the plan would recreate it
    relevant: bool = True  # Terraform lists it in relevant_attributes (its human output shows only these)
    noise: list[AttributeChange] = field(default_factory=list)  # refresh normalisation, provider defaults
    noise_why: dict[str, str] = field(default_factory=dict)  # attribute name -> why it is not drift

    def noise_note(self) -> str | None:
        """A debug note naming the attributes that differ without being drift, and why, if any."""
        if not self.noise:
            return None
        by_why: dict[str, list[str]] = {}
        for a in self.noise:
            by_why.setdefault(self.noise_why.get(a.name, NORMALISED), []).append(a.name)
        return f"{self.address}: not drift: " + "; ".join(f"{', '.join(names)} ({why})" for why, names in by_why.items())

    @property
    def address(self) -> str:
        return self.change.address

    @property
    def reverts(self) -> bool:
        return bool(self.reverted) or self.deleted_outside


@dataclass(slots=True)
class OutputChange:
    name: str
    action: Action
    before: Any
    after: Any
    sensitive: bool
    after_unknown: bool
    secrets: frozenset[str] = field(default=_NO_SECRETS, repr=False)

    def render(self) -> str:
        if self.sensitive:
            return f"{SENSITIVE} -> {SENSITIVE}"
        after = UNKNOWN if self.after_unknown else render_value(self.after, secrets=self.secrets)
        return f"{render_value(self.before, secrets=self.secrets)} -> {after}"


@dataclass
class Plan:
    format_version: str
    terraform_version: str | None
    resource_changes: list[ResourceChange]
    drift: list[Drift]
    outputs: list[OutputChange]
    configuration: dict[str, Any]
    source: str
    errored: bool = False
    tool: str = "terraform"  # or "opentofu"
    # false for a `-target` plan (Terraform >= 1.8 writes `complete`): changes outside the targets are not in it
    complete: bool = True
    # every string the plan marks sensitive anywhere (resource values, outputs, sensitive variables): a second
    # line of defence, since Terraform does not always carry the marks (terraform_data's `output` in 1.11)
    secrets: frozenset[str] = frozenset()

    def changes(self) -> Iterator[ResourceChange]:
        """Resource changes that do something (not no-op, not a plain data read)."""
        return (rc for rc in self.resource_changes if rc.does_something)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for rc in self.resource_changes:
            for label in rc.labels:
                key = label.split(" ", 1)[0]
                out[key] = out.get(key, 0) + 1
        return out

    @property
    def empty(self) -> bool:
        return not any(True for _ in self.changes()) and not any(o.action is not Action.NO_OP for o in self.outputs)


# --------------------------------------------------------------------------- parsing


def load_plan(path: str | Path, *, workdir: str | Path | None = None, terraform: str = "terraform",
              env: dict[str, str] | None = None) -> Plan:
    """Read a plan: ``terraform show -json`` output, or a binary plan file (run through ``show -json``)."""
    p = Path(path)
    try:
        check_size(p.stat().st_size, str(p), MAX_PLAN_BYTES)
        data = p.read_bytes()
    except FileNotFoundError:
        raise InputError("plan file not found", file=str(p)) from None
    except IsADirectoryError:
        raise InputError("is a directory, not a plan file", file=str(p)) from None
    except OSError as e:
        raise InputError(f"cannot read plan file: {e.strerror}", file=str(p)) from None
    if data[:2] == b"PK":  # a binary plan (zip archive) from `terraform plan -out`
        data = show_json(p, workdir=workdir or p.parent, terraform=terraform, env=env).encode()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(f"not UTF-8 JSON (byte {e.start}); pass `terraform show -json` output or a .tfplan",
                         file=str(p)) from None
    return parse_plan(text, str(p))


def show_json(plan_file: Path, *, workdir: str | Path, terraform: str = "terraform",
              env: dict[str, str] | None = None) -> str:
    """``terraform show -json PLANFILE`` in the initialized working directory."""
    try:
        result = TerraformRunner(workdir, env, binary=terraform, timeout=300).show(str(plan_file.resolve()))
    except ExecutionError as e:  # binary missing, timeout
        raise ExecutionError(f"{e}; pass `terraform show -json` output instead of a binary plan",
                             file=str(plan_file)) from None
    if not result.ok:
        raise ExecutionError(f"{terraform} show -json failed: {result.first_error()}", file=str(plan_file))
    return result.stdout


def parse_plan(text: str, source: str = "plan.json") -> Plan:
    """A plan from ``terraform show -json`` text: bounded JSON (limits.load_json), then its shape checked."""
    if not text.strip():
        raise InputError("empty file; expected `terraform show -json` output", file=source)
    check_size(len(text), source, MAX_PLAN_BYTES)
    return plan_from_dict(load_json(text, source), source)


def _check_shape(data: Any, source: str) -> str:
    if not isinstance(data, dict):
        raise InputError(f"not a Terraform plan: the top level is a JSON {type(data).__name__}, not an object",
                         file=source, line=1)
    version = data.get("format_version")
    if not isinstance(version, str):
        raise InputError("not a Terraform plan: no format_version (expected `terraform show -json PLANFILE` "
                         "output)", file=source, line=1)
    major = version.split(".", 1)[0]
    if major != "1":
        raise InputError(f"unsupported plan format_version {version!r}: infraleash reads format 1.x",
                         file=source, line=1)
    if not any(k in data for k in ("resource_changes", "planned_values", "output_changes")):
        what = "a state file (`terraform show -json` without a plan)" if "values" in data else "not a plan"
        raise InputError(f"not a Terraform plan: this is {what}; run `terraform plan -out tfplan` and "
                         "`terraform show -json tfplan`", file=source, line=1)
    check_depth(data, source)
    validate_plan_shape(data, source)
    return version


def _change(entry: Any, source: str, where: str, secrets: frozenset[str] = _NO_SECRETS) -> ResourceChange:
    if not isinstance(entry, dict) or not isinstance(entry.get("change"), dict):
        raise InputError(f"malformed plan: {where} has no change object", file=source)
    ch = entry["change"]
    actions = ch.get("actions") or []
    try:
        action, order = _classify(actions)
    except ValueError as e:
        raise InputError(f"malformed plan: {where} ({entry.get('address')}): {e}", file=source) from None
    importing = ch.get("importing")
    import_id = None
    if isinstance(importing, dict):
        import_id = str(importing.get("id") or importing.get("identity") or "(import)")
    return ResourceChange(
        address=entry.get("address", "?"), type=entry.get("type", ""), name=entry.get("name", ""),
        mode=entry.get("mode", "managed"), module_address=entry.get("module_address"),
        provider=entry.get("provider_name", ""), actions=actions, action=action, replace_order=order,
        before=ch.get("before"), after=ch.get("after"), after_unknown=ch.get("after_unknown"),
        before_sensitive=ch.get("before_sensitive"), after_sensitive=ch.get("after_sensitive"),
        replace_paths=ch.get("replace_paths") or [], moved_from=entry.get("previous_address"),
        import_id=import_id, action_reason=entry.get("action_reason"), deposed=entry.get("deposed"), secrets=secrets)


def plan_from_dict(data: Any, source: str = "plan.json") -> Plan:
    version = _check_shape(data, source)
    config = data.get("configuration") if isinstance(data.get("configuration"), dict) else {}
    secrets = _secrets(data, config or {})
    changes = [_change(e, source, f"resource_changes[{i}]", secrets)
               for i, e in enumerate(data.get("resource_changes") or [])]
    by_address = {rc.address: rc for rc in changes if rc.deposed is None}
    relevant = _relevant(data.get("relevant_attributes"))
    resources = plan_resources(changes)
    drift = [_drift(_change(e, source, f"resource_drift[{i}]", secrets), by_address, relevant, resources)
             for i, e in enumerate(data.get("resource_drift") or [])]
    outputs = [_output(name, ch, secrets) for name, ch in (data.get("output_changes") or {}).items() if isinstance(ch, dict)]
    tf_version = data.get("terraform_version")
    tool = "opentofu" if any("registry.opentofu.org" in rc.provider for rc in changes[:50]) else "terraform"
    return Plan(format_version=version, terraform_version=tf_version, resource_changes=changes, drift=drift,
                outputs=outputs, configuration=config or {}, source=source, errored=bool(data.get("errored")),
                tool=tool, complete=data.get("complete") is not False, secrets=secrets)


MIN_SECRET = 4  # shorter sensitive strings ("", "true", "80") would redact ordinary words and numbers


def _sensitive_leaves(value: Any, mask: Any, out: set[str]) -> None:
    if mask is True:
        stack = [value]
        while stack:
            node = stack.pop()
            if isinstance(node, str):
                if len(node) >= MIN_SECRET:
                    out.add(node)
            elif isinstance(node, dict):
                stack.extend(node.values())
            elif isinstance(node, list):
                stack.extend(node)
    elif isinstance(mask, dict) and isinstance(value, dict):
        for k, m in mask.items():
            _sensitive_leaves(value.get(k), m, out)
    elif isinstance(mask, list) and isinstance(value, list):
        for v, m in zip(value, mask, strict=False):
            _sensitive_leaves(v, m, out)


def _secrets(data: dict[str, Any], config: dict[str, Any]) -> frozenset[str]:
    out: set[str] = set()
    for section in ("resource_changes", "resource_drift"):
        for entry in data.get(section) or []:
            ch = entry.get("change") if isinstance(entry, dict) else None
            if isinstance(ch, dict):
                _sensitive_leaves(ch.get("before"), ch.get("before_sensitive"), out)
                _sensitive_leaves(ch.get("after"), ch.get("after_sensitive"), out)
    for ch in (data.get("output_changes") or {}).values():
        if isinstance(ch, dict):
            _sensitive_leaves(ch.get("before"), True if _contains_true(ch.get("before_sensitive")) else None, out)
            _sensitive_leaves(ch.get("after"), True if _contains_true(ch.get("after_sensitive")) else None, out)
    root_module = config.get("root_module")
    root: dict[str, Any] = root_module if isinstance(root_module, dict) else {}
    variables = data.get("variables")
    values: dict[str, Any] = variables if isinstance(variables, dict) else {}
    for name, var in (root.get("variables") or {}).items():
        if isinstance(var, dict) and var.get("sensitive") is True and isinstance(values.get(name), dict):
            _sensitive_leaves(values[name].get("value"), True, out)
    return frozenset(out)


def _output(name: str, ch: dict[str, Any], secrets: frozenset[str] = _NO_SECRETS) -> OutputChange:
    try:
        action, _ = _classify(ch.get("actions") or ["no-op"])
    except ValueError:
        action = Action.UPDATE
    sensitive = _contains_true(ch.get("before_sensitive")) or _contains_true(ch.get("after_sensitive"))
    return OutputChange(name=name, action=action, before=ch.get("before"), after=ch.get("after"),
                        sensitive=sensitive, after_unknown=ch.get("after_unknown") is True, secrets=secrets)


def _relevant(entries: Any) -> set[tuple[str, str]]:
    out = set()
    for e in entries if isinstance(entries, list) else []:
        if isinstance(e, dict) and isinstance(e.get("resource"), str):
            path = e.get("attribute") or []
            out.add((e["resource"], str(path[0]) if path else ""))
    return out


def _computed_only(rc: ResourceChange, name: str) -> bool:
    """An attribute the provider computes and nobody can set (``aws_iam_policy.attachment_count``), by the
    bundled AWS schema; False for other providers and unknown types."""
    if not rc.type.startswith("aws_") or "hashicorp/aws" not in rc.provider:
        return False
    from infraleash.terraform.schema import bundled_aws  # loaded once, only when drift needs it

    block = bundled_aws().resource(rc.type)
    attr = block.attributes.get(name) if block is not None else None
    return attr is not None and attr.computed and not attr.optional and not attr.required


def _drift(d: ResourceChange, planned: dict[str, ResourceChange], relevant: set[tuple[str, str]],
           resources: list[tuple[str, str, Any]] | None = None) -> Drift:
    """Split a drift entry's attributes into real drift and what only looks like it.

    Not drift (a debug note): values equal once normalisation is discounted (:func:`normalised_equal`);
    the state held null and the provider read a scalar default back that this plan does not change;
    an attribute only the provider computes; an attribute another resource of the plan manages
    (:mod:`infraleash.terraform.split_resources`: a bucket's versioning, a group's rules), where what
    none of them explains (a rule added by hand) stays drift.  Real: a value that was set changed
    outside Terraform, or the plan reverts it.
    """
    before = d.before if isinstance(d.before, dict) else {}
    after = d.after if isinstance(d.after, dict) else {}
    raw = sorted(k for k in set(before) | set(after) if k != "tags_all" and before.get(k) != after.get(k))
    candidates = [d.attribute([k]) for k in raw] if d.after is not None else \
        [a for a in d.changed_attributes() if a.path[0] not in ("tags_all",)]
    rc = planned.get(d.address)
    deleted = d.action is Action.DELETE or d.after is None
    reverts_possible = rc is not None and rc.action in (Action.UPDATE, Action.REPLACE) and not deleted
    attrs: list[AttributeChange] = []
    noise: list[AttributeChange] = []
    why: dict[str, str] = {}
    reverted: list[AttributeChange] = []
    unmanaged = False  # drift no split resource explains: shown even where Terraform does not list it

    def not_drift(a: AttributeChange, reason: str) -> None:
        noise.append(a)
        why[a.name] = reason

    for a in candidates:
        if deleted:
            attrs.append(a)
            continue
        if normalised_equal(a.before, a.after):
            not_drift(a, NORMALISED)
            continue
        planned_attr = rc.attribute(a.path) if reverts_possible and rc is not None else None
        reverts = planned_attr is not None and planned_attr.after_unknown is not True and \
            not normalised_equal(planned_attr.after, a.after)
        if not reverts and a.before is None and isinstance(a.after, str | bool | int | float):
            not_drift(a, NORMALISED)  # the state had nothing set; the provider read a scalar default back
            continue
        if not reverts and _computed_only(d, str(a.path[0])):
            not_drift(a, COMPUTED)
            continue
        split = unexplained(d.type, d.after, str(a.path[0]), a.after, resources or []) if not reverts else None
        if split is not None:
            by, rest = split
            if rest is None:
                not_drift(a, f"managed by {', '.join(by[:3])}{' ...' if len(by) > 3 else ''}, which reports "
                             "its own drift")
                continue
            a = AttributeChange(path=list(a.path), before=None, after=rest, secrets=a.secrets)
            unmanaged = True
        attrs.append(a)
        if reverts and planned_attr is not None:
            reverted.append(planned_attr)
    recreated = deleted and rc is not None and rc.action in (Action.CREATE, Action.REPLACE)
    is_relevant = (d.address, "") in relevant or any((d.address, a.path[0]) in relevant for a in attrs)
    return Drift(change=d, attributes=attrs, reverted=reverted, deleted_outside=recreated,
                 relevant=is_relevant or bool(reverted) or recreated or unmanaged, noise=noise, noise_why=why)
