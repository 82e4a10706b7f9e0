"""Values Terraform marks sensitive never reach a model, whatever the gate allowed to run.

    masked = mask_terraform_output(["terraform", "-chdir=infra", "show", "-json", "tfplan"], stdout)
    masked.text   # the same JSON, every sensitive value replaced by "(sensitive)"

The gate lets ``show -json``, ``output -json`` and (with approval) ``state pull``
run as reads, and Terraform prints sensitive values in clear in all of them.
Pattern-based redaction (:mod:`infraleash.agent.redaction`) cannot know that
``"hunter2-prod"`` is a password; Terraform's own marks can.  This module masks
structurally, using :func:`infraleash.terraform.plan.redact` on each marked tree:

* ``show -json`` (plan or state): resource ``values`` by ``sensitive_values``,
  changes and drift by ``before_sensitive``/``after_sensitive``, outputs marked
  ``sensitive``, plan ``variables`` (and variable defaults in ``configuration``)
  declared ``sensitive = true``;
* ``output -json``: every output whose ``"sensitive": true``;
* ``state pull`` (raw state v4): outputs marked sensitive and each instance's
  ``sensitive_attributes`` paths;
* ``output NAME`` / ``-raw NAME`` / ``-json NAME`` print one bare value with no
  mark: withheld (ask for ``output -json``, which says which outputs are sensitive).

Every masked string (six characters or more) is then also masked wherever else
it occurs in the same output: Terraform does not carry marks everywhere (e.g.
``terraform_data.output`` echoes a sensitive ``input`` unmarked, and
``"postgres://admin:${var.pw}@db"`` embeds it).  Output that should be JSON but
does not parse (cut short, mixed with text) is withheld rather than passed on.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

from infraleash.terraform.plan import SENSITIVE, redact

PROPAGATE_MIN = 6  # masked strings at least this long are also masked wherever else they occur
_PROGRAMS = {"terraform", "tofu"}
_TRUE = {"1", "t", "T", "true", "TRUE", "True"}  # Go strconv.ParseBool


@dataclass
class Masked:
    text: str
    count: int = 0  # values replaced by "(sensitive)"
    withheld: bool = False

    def note(self) -> str:
        if self.withheld:
            return ""
        return f"[{self.count} value(s) Terraform marks sensitive were replaced by {SENSITIVE}]" if self.count else ""


def terraform_words(argv: list[str]) -> tuple[str, list[str]] | None:
    """(subcommand, the words after it) of a terraform/tofu argv, or None for any other program.

    A plain reading (``-chdir=`` and empty words skipped) for callers without the gate; the executor
    decides from the gate's own parse (:func:`infraleash.gate.output_masking.mask_result`).
    """
    if not argv or os.path.basename(argv[0]).removesuffix(".exe") not in _PROGRAMS:
        return None
    words = [a for a in argv[1:] if a and not a.startswith("-chdir=")]
    if not words:
        return None
    sub, rest = words[0], words[1:]
    if sub == "state" and rest and not rest[0].startswith("-"):
        sub, rest = f"state {rest[0]}", rest[1:]
    return sub, rest


def _options(rest: list[str]) -> tuple[dict[str, list[str]], list[str]]:
    opts: dict[str, list[str]] = {}
    for i, a in enumerate(rest):
        if a == "--":
            return opts, rest[i + 1:]
        if not a.startswith("-") or a == "-":
            return opts, rest[i:]
        name, eq, value = a.lstrip("-").partition("=")
        opts.setdefault(name, []).append(value if eq else "true")
    return opts, []


def _on(options: dict[str, list[str]], name: str) -> bool:
    values = options.get(name) or []
    return bool(values) and values[-1] in _TRUE


def masks(sub: str, options: dict[str, list[str]], positionals: list[str]) -> bool:
    """Whether the output of this terraform subcommand can carry sensitive values (so it is masked, not streamed)."""
    return sub in ("output", "state pull", "show", "state show")


def reads_state_as_text(sub: str, options: dict[str, list[str]]) -> bool:
    """Human ``show`` / ``state show``: Terraform masks what it marks, but echoes of it (``terraform_data.output``)
    are printed in clear; they are masked with the strings the state marks sensitive (:func:`state_secrets`)."""
    return sub == "state show" or (sub == "show" and not _on(options, "json"))


def state_secrets(text: str) -> set[str]:
    """The strings (six characters or more) a raw state (v4 JSON) marks sensitive; empty when it is not one."""
    try:
        data = json.loads(text)
    except ValueError:
        return set()
    m = _Masker()
    _mask_state(data, m)
    return m.secrets


def mask_text(stdout: str, secrets: set[str]) -> Masked:
    """Plain text with every known sensitive string replaced (longest first)."""
    count = 0
    for secret in sorted(secrets, key=len, reverse=True):
        if secret in stdout:
            count += stdout.count(secret)
            stdout = stdout.replace(secret, SENSITIVE)
    return Masked(stdout, count=count)


def mask_output(sub: str, options: dict[str, list[str]], positionals: list[str], stdout: str,
                secrets: set[str] | None = None) -> Masked:
    """``stdout`` of a parsed terraform subcommand with everything Terraform marks sensitive masked.

    ``secrets``: the strings the state marks sensitive, for the human forms (:func:`reads_state_as_text`).
    """
    if reads_state_as_text(sub, options):
        return mask_text(stdout, secrets or set())
    if sub == "output" and positionals:
        return Masked(f"(withheld: `terraform output {positionals[0]}` prints the bare value without saying "
                      "whether it is sensitive; use `terraform output -json`, where sensitive outputs are "
                      "masked)", withheld=True)
    if sub == "show" and _on(options, "json"):
        return _mask_json(stdout, _mask_show, "show -json")
    if sub == "output" and _on(options, "json"):
        return _mask_json(stdout, _mask_outputs, "output -json")
    if sub == "state pull":
        return _mask_json(stdout, _mask_state, "state pull")
    return Masked(stdout)


def mask_terraform_output(argv: list[str], stdout: str) -> Masked:
    """``stdout`` of ``argv`` with everything Terraform marks sensitive masked (unchanged for other commands)."""
    words = terraform_words(argv)
    if words is None:
        return Masked(stdout)
    sub, rest = words
    options, positionals = _options(rest)
    return mask_output(sub, options, positionals, stdout)


# --------------------------------------------------------------------------- walking


class _Masker:
    def __init__(self) -> None:
        self.secrets: set[str] = set()
        self.count = 0

    def mask(self, value: Any, sensitive: Any) -> Any:
        """plan.redact, remembering what it hid (for propagation) and how many values."""
        self._collect(value, sensitive, hidden=False)
        return redact(value, sensitive)

    def _collect(self, value: Any, sensitive: Any, *, hidden: bool) -> None:
        if sensitive is True and not hidden:
            self.count += 1
            hidden = True
        if hidden:
            if isinstance(value, str | int | float) and not isinstance(value, bool) and len(str(value)) >= PROPAGATE_MIN:
                self.secrets.add(str(value))
            children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
            for v in children:
                self._collect(v, True, hidden=True)
        elif isinstance(value, dict) and isinstance(sensitive, dict):
            for k, v in value.items():
                self._collect(v, sensitive.get(k), hidden=False)
        elif isinstance(value, list) and isinstance(sensitive, list):
            for i, v in enumerate(value):
                self._collect(v, sensitive[i] if i < len(sensitive) else None, hidden=False)

    def propagate(self, data: Any) -> Any:
        """Mask every other occurrence of a hidden string (longest first, inside longer strings too)."""
        if not self.secrets:
            return data
        ordered = sorted(self.secrets, key=len, reverse=True)

        def walk(v: Any) -> Any:
            if isinstance(v, dict):
                return {k: walk(x) for k, x in v.items()}
            if isinstance(v, list):
                return [walk(x) for x in v]
            if isinstance(v, str) and v != SENSITIVE:
                out = v
                for s in ordered:
                    if s in out:
                        out = out.replace(s, SENSITIVE)
                        self.count += 1
                return out
            if isinstance(v, int | float) and not isinstance(v, bool) and str(v) in self.secrets:
                self.count += 1
                return SENSITIVE
            return v

        return walk(data)


def _mask_json(stdout: str, masker_fn: Any, what: str) -> Masked:
    if not stdout.strip():
        return Masked(stdout)
    try:
        data = json.loads(stdout)
    except ValueError:
        if stdout.lstrip().startswith(("{", "[")):
            return Masked(f"(withheld: the `terraform {what}` output is not complete JSON, so the values "
                          "Terraform marks sensitive cannot be masked; narrow the request)", withheld=True)
        return Masked(stdout)  # an error message, not data
    m = _Masker()
    data = m.propagate(masker_fn(data, m))
    return Masked(json.dumps(data), count=m.count)


def _mask_outputs(outputs: Any, m: _Masker) -> Any:
    if isinstance(outputs, dict):
        for o in outputs.values():
            if isinstance(o, dict) and o.get("sensitive") is True and "value" in o:
                o["value"] = m.mask(o["value"], True)
    return outputs


def _mask_module(module: Any, m: _Masker) -> None:
    if not isinstance(module, dict):
        return
    for r in module.get("resources") or []:
        if isinstance(r, dict) and "values" in r:
            r["values"] = m.mask(r["values"], r.get("sensitive_values"))
    for child in module.get("child_modules") or []:
        _mask_module(child, m)


def _mask_values(values: Any, m: _Masker) -> None:
    if isinstance(values, dict):
        _mask_outputs(values.get("outputs"), m)
        _mask_module(values.get("root_module"), m)


def _mask_changes(entries: Any, m: _Masker) -> None:
    for entry in entries.values() if isinstance(entries, dict) else entries or []:
        ch = entry.get("change", entry) if isinstance(entry, dict) else None
        if not isinstance(ch, dict):
            continue
        for side in ("before", "after"):
            if side in ch:
                ch[side] = m.mask(ch[side], ch.get(f"{side}_sensitive"))


def _sensitive_variables(module: Any, m: _Masker) -> set[str]:
    """Names of root variables declared sensitive; masks sensitive defaults in this module and below."""
    names: set[str] = set()
    if not isinstance(module, dict):
        return names
    for name, v in (module.get("variables") or {}).items():
        if isinstance(v, dict) and v.get("sensitive") is True:
            names.add(name)
            if "default" in v:
                v["default"] = m.mask(v["default"], True)
    for call in (module.get("module_calls") or {}).values():
        if isinstance(call, dict):
            _sensitive_variables(call.get("module"), m)
    return names


def _mask_show(data: Any, m: _Masker) -> Any:
    if not isinstance(data, dict):
        return data
    _mask_values(data.get("values"), m)  # state form
    _mask_values(data.get("planned_values"), m)
    if isinstance(data.get("prior_state"), dict):
        _mask_values(data["prior_state"].get("values"), m)
    _mask_changes(data.get("resource_changes"), m)
    _mask_changes(data.get("resource_drift"), m)
    _mask_changes(data.get("output_changes"), m)
    config = data.get("configuration")
    secret_vars = _sensitive_variables(config.get("root_module") if isinstance(config, dict) else None, m)
    for name, v in (data.get("variables") or {}).items():
        if name in secret_vars and isinstance(v, dict) and "value" in v:
            v["value"] = m.mask(v["value"], True)
    return data


def _state_step(step: Any) -> Any:
    value = step.get("value") if isinstance(step, dict) else step
    return value.get("value") if isinstance(value, dict) else value


def _mask_path(node: Any, steps: list[Any], m: _Masker) -> Any:
    if not steps:
        return m.mask(node, True)
    step, rest = steps[0], steps[1:]
    if isinstance(node, dict) and step not in node and set(node) >= {"value", "type"}:
        node["value"] = _mask_path(node["value"], steps, m)  # a dynamic attribute: {"value": ..., "type": ...}
    elif (isinstance(node, dict) and step in node) or \
            (isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node)):
        node[step] = _mask_path(node[step], rest, m)
    return node


def _mask_state(data: Any, m: _Masker) -> Any:
    if not isinstance(data, dict):
        return data
    _mask_outputs(data.get("outputs"), m)
    for r in data.get("resources") or []:
        for inst in (r.get("instances") or []) if isinstance(r, dict) else []:
            if not isinstance(inst, dict):
                continue
            for path in inst.get("sensitive_attributes") or []:
                steps = [_state_step(s) for s in path] if isinstance(path, list) else []
                if steps:
                    inst["attributes"] = _mask_path(inst.get("attributes"), steps, m)
    return data
