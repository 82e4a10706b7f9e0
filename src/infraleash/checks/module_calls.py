"""Findings inside modules point at the module call too, and calls that were not evaluated say so.

A finding on ``module.s3.aws_s3_bucket.this`` names the resource inside the module; the
author of the configuration can only change the *call* (``module "s3" { ... }``). So every
finding inside a module gets ``details["module_calls"]`` (the chain of calls, outermost
first, each with file, line and source). When the chain goes through a module that
``terraform init`` installed (registry, git ...), whose files nobody edits, the finding is
*located on the call* (the argument that fed the attribute when the attribute is a plain
``var.NAME`` the call sets, else the call's first line) and the resource inside moves to
``details["inside"]``; a finding in a local module stays where the code is.

Schema (hallucination) findings inside an installed module are dropped by the engine with a
note: that is third-party code written against its own provider versions; the call's own
arguments are still checked against the module's variables.

``TF-MODULE-NOT-EVALUATED``: a module call whose source is neither local nor installed
(no ``.terraform/modules/modules.json``, or the call is not in it) is an UNKNOWN finding on the
call: whatever the module creates was not checked.
"""

from __future__ import annotations

import re
from typing import Any

from infraleash.findings import Finding, Kind, Outcome, Severity
from infraleash.terraform.config import Config, ModuleCall

NOT_EVALUATED = "TF-MODULE-NOT-EVALUATED"
_INSTANCE_KEY = re.compile(r"\[[^\]]*\]$")
_VAR = re.compile(r"\bvar\.([A-Za-z_][A-Za-z0-9_-]*)")


def not_evaluated(config: Config) -> list[Finding]:
    """One UNKNOWN finding per module call whose module could not be read."""
    out = []
    for call in config.modules:
        if call.not_evaluated is None:
            continue
        out.append(Finding(rule=NOT_EVALUATED, kind=Kind.MODULE_SOURCE, severity=Severity.MEDIUM,
                           outcome=Outcome.UNKNOWN, file=call.file, line=call.block.line_of("source"),
                           address=call.block.address,
                           message=f"module `{call.name}`: not evaluated, {call.not_evaluated}; the resources it "
                                   "creates are not checked",
                           details={"source": call.source, "unknown": call.not_evaluated}))
    return out


def _enclosing_calls(address: str, calls: dict[str, ModuleCall]) -> list[ModuleCall]:
    """The module calls an address sits in, outermost first (a call's own address excluded)."""
    tokens = address.split(".")
    chain: list[ModuleCall] = []
    i = 0
    while i + 1 < len(tokens) and tokens[i] == "module":
        call = calls.get(".".join(tokens[: i + 2]))
        if call is None:
            break
        chain.append(call)
        i += 2
    if chain and i >= len(tokens):  # the address is the last call itself
        chain.pop()
    return chain


def _call_entry(call: ModuleCall) -> dict[str, Any]:
    return {"address": call.block.address, "file": call.file, "line": call.block.line, "source": call.source,
            "installed": call.installed}


def locate(findings: list[Finding], config: Config) -> list[Finding]:
    """Findings with their module calls attached (and located on an installed module's call).

    ``details["attribute"]`` (the attribute a rule named) finds the call argument that fed it.
    """
    calls = {c.block.address: c for c in config.modules}
    if not calls:
        return findings
    raw_by_address: dict[str, dict[str, Any]] | None = None
    out: list[Finding] = []
    for f in findings:
        chain = _enclosing_calls(f.address, calls) if f.address and f.address.startswith("module.") else []
        if not chain:
            out.append(f)
            continue
        details = {**f.details, "module_calls": [_call_entry(c) for c in chain]}
        first_installed = next((i for i, c in enumerate(chain) if c.installed), None)
        if first_installed is None:
            out.append(f.model_copy(update={"details": details}))
            continue
        call = chain[first_installed]
        line = call.block.line
        attr = f.details.get("attribute")
        if attr:
            if raw_by_address is None:
                raw_by_address = {b.address: b.raw for b in [*config.resources, *config.data]}
            base = _INSTANCE_KEY.sub("", f.address or "")
            fed = _VAR.findall(str(raw_by_address.get(base, {}).get(attr, "")))
            for inner in reversed(chain[first_installed + 1:]):  # var.x <- the inner call's x = var.y <- ...
                fed = [v for name in fed for v in _VAR.findall(str(inner.block.raw.get(name, "")))]
            fed = [v for v in fed if v in call.block.attr_lines]
            if fed:
                line = call.block.attr_lines[fed[0]]
        details["inside"] = {"file": f.file, "line": f.line, "address": f.address}
        where = f"{f.file}:{f.line}" if f.file and f.line else (f.file or "")
        message = f"{f.message} (in module `{call.name}` from `{call.source}`: {f.address}, {where})"
        out.append(f.model_copy(update={"file": call.file, "line": line, "message": message, "details": details}))
    return out
