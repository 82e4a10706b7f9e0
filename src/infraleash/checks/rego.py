"""Rego rules, evaluated by a real Rego engine (regopy, the Python interface of rego-cpp).

One ``.rego`` file is one rule.  It declares its documentation in ``metadata`` and its
findings in ``deny``, over the JSON view of the configuration
(:func:`~infraleash.checks.config_view.config_json`) as ``input``::

    package acme.s3_owner_tag
    import rego.v1

    metadata := {
      "id": "ACME-S3-OWNER-TAG", "title": "S3 bucket has no Owner tag", "severity": "medium",
      "why": "Every bucket needs an owner to call when it leaks.",
      "fail_example": `resource "aws_s3_bucket" "fail" { bucket = "x" }`,
      "pass_example": `resource "aws_s3_bucket" "pass" {
      bucket = "x"
      tags   = { Owner = "data-team" }
    }`,
    }

    deny contains {"msg": "S3 bucket has no Owner tag", "address": r.address, "attribute": "tags"} if {
      some r in input.resources
      r.type == "aws_s3_bucket"
      not r.values.tags.Owner
    }

A policy written for conftest (``package main``, ``deny[msg] { ... }`` or ``deny contains msg if``,
``violation``, no ``metadata``) runs as it is, as ``CONFTEST-<FILE>`` at medium severity, without
examples until it gets a ``metadata`` object.

A ``deny`` element is an object (``msg``, optional ``address`` to locate it, ``attribute``
for the line, ``outcome: "unknown"``) or a plain string (conftest style; it is located at the
first resource address the message names).  Optional metadata: ``kind`` (default
``security``), ``references`` (list), ``unknown_example``, ``resource_types`` (the types it
judges; a provider whose types a rule names is not reported as "no security rules").
``infraleash rules input PATH`` prints the ``input`` document of a configuration.

Errors in the file (syntax, missing metadata) are :class:`~infraleash.errors.InputError`
naming the file and line.  rego-cpp prints its diagnostics on the process's standard
output; they are captured here (file descriptor 1 is redirected while it runs) so a
JSON or SARIF report on stdout stays clean.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import re
import sys
import tempfile
import weakref
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from infraleash.checks.config_view import config_json
from infraleash.checks.rule import CheckContext, Result, Rule, no_resource_check
from infraleash.errors import InputError
from infraleash.findings import Kind, Outcome, Severity

INSTALL_HINT = "Rego rules need the regopy package: pip install 'infraleash[rego]'"
REQUIRED = ("id", "title", "severity", "why", "fail_example", "pass_example")
DENY_RULES = ("deny", "violation")
_PACKAGE = re.compile(r"^\s*package\s+([A-Za-z_][\w.]*)", re.M)
_WHERE = re.compile(r"^-- [^\n]*?:(\d+):\d+\s*$", re.M)


@contextlib.contextmanager
def _captured_stdout() -> Iterator[list[str]]:
    """Redirect file descriptor 1 (rego-cpp writes diagnostics there); the text lands in the list."""
    out: list[str] = []
    sys.stdout.flush()
    saved = os.dup(1)
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 1)
        try:
            yield out
        finally:
            os.dup2(saved, 1)
            os.close(saved)
            tmp.seek(0)
            out.append(tmp.read().decode("utf-8", errors="replace"))


def _error(path: Path, text: str, diagnostics: str, fallback: str) -> InputError:
    m = _WHERE.search(diagnostics)
    first = next((ln.strip() for ln in diagnostics.splitlines()[1:] if ln.strip()), "") if diagnostics else ""
    return InputError(f"Rego: {first or fallback}", file=str(path), line=int(m.group(1)) if m else None)


_LIVE: weakref.WeakSet[_Compiled] = weakref.WeakSet()


@atexit.register
def _release_interpreters() -> None:
    """Free the interpreters while regopy's module is still alive: its ``__del__`` fails at shutdown otherwise."""
    for compiled in list(_LIVE):
        compiled.interpreter = None


class _Compiled:
    """One rule file in an interpreter, queried once per configuration."""

    def __init__(self, path: Path, text: str) -> None:
        try:
            # google-re2 (the log formats, HCL's regex functions) must be loaded before rego-cpp's library: the
            # other way round, its first named-group pattern in this process aborts ("double free or
            # corruption"); tests/checks/test_rego.py::test_re2_still_works_after_rego shows it.
            import re2  # noqa: F401
            from regopy import Interpreter
        except ImportError:
            raise InputError(INSTALL_HINT, file=str(path)) from None
        m = _PACKAGE.search(text)
        if m is None:
            raise InputError("Rego: no `package` declaration", file=str(path), line=1)
        self.path, self.package = path, m.group(1)
        self.interpreter: Any = Interpreter()
        _LIVE.add(self)
        with _captured_stdout() as diag:
            try:
                self.interpreter.add_module(path.name, text)
                self.metadata = self._query("metadata")
            except Exception as e:  # regopy.RegoError: a syntax or type error in the file
                err: Exception | None = e
            else:
                err = None
        if err is not None:
            raise _error(path, text, "".join(diag), str(err).splitlines()[0]) from None

    def _query(self, name: str) -> Any:
        text = str(self.interpreter.query(f"data.{self.package}.{name}"))
        if text.strip() == "undefined":
            return None
        doc = json.loads(text)
        if not isinstance(doc, dict) or not doc.get("expressions"):
            return None  # undefined
        return doc["expressions"][0]

    def deny(self, document: dict[str, Any]) -> list[Any]:
        """The elements of ``deny`` and ``violation`` (conftest's two names) for this input."""
        out: list[Any] = []
        for name in DENY_RULES:
            with _captured_stdout() as diag:
                try:
                    self.interpreter.set_input(document)
                    value = self._query(name)
                except Exception as e:
                    err: Exception | None = e
                else:
                    err = None
            if err is not None:
                raise RuntimeError(f"{self.path.name}: {''.join(diag).strip() or err}")
            if value is None:
                continue
            if isinstance(value, dict):  # Rego v0 `deny[msg] { ... }` read as v1: an object msg -> true
                value = [k for k, v in value.items() if v is True]
            if not isinstance(value, list):
                raise RuntimeError(f"{self.path.name}: `{name}` must be a set, got {type(value).__name__}")
            out += value
        return out


def _conftest_metadata(compiled: _Compiled) -> dict[str, Any]:
    """A policy brought from conftest as it is (no ``metadata``): an id from its file, no examples."""
    stem = re.sub(r"[^A-Za-z0-9]+", "-", compiled.path.stem).strip("-").upper()
    return {"id": f"CONFTEST-{stem}", "title": f"conftest policy {compiled.package} ({compiled.path.name})",
            "severity": "medium", "why": "A conftest policy brought as it is; add a `metadata` object for its "
            "id, severity, why and examples (`infraleash rules test` asks for them).",
            "fail_example": "", "pass_example": ""}


def _metadata(compiled: _Compiled, text: str) -> dict[str, Any]:
    meta = compiled.metadata
    line = next((i for i, ln in enumerate(text.splitlines(), 1) if ln.lstrip().startswith("metadata")), 1)
    if meta is None:
        return _conftest_metadata(compiled)
    if not isinstance(meta, dict):
        raise InputError("Rego rule `metadata` must be an object (id, title, severity, why, fail_example, "
                         "pass_example)", file=str(compiled.path), line=line)
    missing = [k for k in REQUIRED if not isinstance(meta.get(k), str) or not meta[k].strip()]
    if missing:
        raise InputError(f"Rego rule metadata is missing {', '.join(missing)}", file=str(compiled.path), line=line)
    if meta["severity"].lower() not in {s.value for s in Severity}:
        raise InputError(f"Rego rule severity {meta['severity']!r} is not one of "
                         f"{', '.join(s.value for s in Severity)}", file=str(compiled.path), line=line)
    if meta.get("kind", "security") not in {k.value for k in Kind}:
        raise InputError(f"Rego rule kind {meta['kind']!r} is unknown", file=str(compiled.path), line=line)
    return meta


def load_rego_rule(path: Path) -> Rule:
    """The Rule a ``.rego`` file declares (see the module docstring)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"cannot read the Rego rule: {e}", file=str(path)) from None
    compiled = _Compiled(path, text)
    meta = _metadata(compiled, text)

    def check(ctx: CheckContext) -> Iterable[Result]:
        return _results(compiled.deny(config_json(ctx.config)), ctx)

    return Rule(id=meta["id"], title=meta["title"], severity=Severity(meta["severity"].lower()),
                kind=Kind(meta.get("kind", "security")), resource_types=_types(meta, compiled.path), why=meta["why"],
                fail_example=meta["fail_example"], pass_example=meta["pass_example"],
                unknown_example=meta.get("unknown_example"), references=tuple(meta.get("references", ())),
                check=no_resource_check, config_check=check)


def _types(meta: dict[str, Any], path: Path) -> tuple[str, ...]:
    """``resource_types`` the rule declares (optional): they count as covered in the "not checked" summary."""
    types = meta.get("resource_types", [])
    if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
        raise InputError("Rego rule metadata resource_types must be a list of type names", file=str(path))
    return tuple(types)


def _results(values: list[Any], ctx: CheckContext) -> Iterator[Result]:
    blocks = {}
    for b in ctx.config.resources:
        for inst in b.instance_blocks or [b]:
            blocks[inst.instance_address] = inst
        blocks.setdefault(b.address, b)
    for b in ctx.config.data:
        blocks[b.address] = b
    by_length = sorted(blocks, key=len, reverse=True)
    for v in values:
        if isinstance(v, dict):
            msg = str(v.get("msg") or v.get("message") or "denied")
            address = v.get("address")
            attribute = v.get("attribute")
            outcome = Outcome.UNKNOWN if v.get("outcome") == "unknown" else Outcome.FAIL
        else:
            msg, address, attribute, outcome = str(v), None, None, Outcome.FAIL
        if not isinstance(address, str):
            address = next((a for a in by_length if a in msg), None)
        block = blocks.get(address) if isinstance(address, str) else None
        yield Result(msg, outcome=outcome, attribute=attribute if isinstance(attribute, str) else None,
                     block=block, details={"engine": "rego"})
