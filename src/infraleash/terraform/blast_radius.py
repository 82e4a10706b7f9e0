"""Blast radius: which other resources reference a changed one.

Built from the plan's ``configuration`` section, where every expression lists
the ``references`` Terraform found in it (``aws_security_group.db.id``,
``module.vpc.vpc_id``, ``var.sg_id``).  References are followed through module
boundaries: a module input that references ``aws_security_group.db`` makes
every resource inside the module that reads that ``var.`` a dependent, and a
resource reading ``module.app.sg_id`` depends on what that output references.
Locals are not in the plan's configuration, so references through a ``local.``
are not followed.

    graph = ReferenceGraph.from_configuration(plan.configuration)
    graph.dependents("aws_security_group.db")   # ["aws_db_instance.main", "aws_instance.api"]
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

_INDEX = re.compile(r"\[[^\]]*\]")
_SKIP = ("var.", "local.", "each.", "count.", "path.", "terraform.", "self.")


def config_address(address: str) -> str:
    """``module.a["x"].aws_instance.web[0]`` -> ``module.a.aws_instance.web`` (configuration address)."""
    return _INDEX.sub("", address) if "[" in address else address


def _walk_references(expr: Any) -> Iterator[str]:
    """Every string in a ``references`` list anywhere inside an expression tree."""
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            refs = node.get("references")
            if isinstance(refs, list):
                yield from (r for r in refs if isinstance(r, str))
            stack.extend(v for k, v in node.items()
                         if k != "references" and k != "constant_value" and isinstance(v, dict | list))
        elif isinstance(node, list):
            stack.extend(node)


def _resource_of(ref: str) -> str | None:
    """``aws_security_group.db.id`` -> ``aws_security_group.db``; ``data.x.y.z`` -> ``data.x.y``."""
    ref = config_address(ref)
    parts = ref.split(".", 3)
    if parts[0] == "data":
        return ".".join(parts[:3]) if len(parts) >= 3 else None
    if ref.startswith(_SKIP) or parts[0] == "module" or len(parts) < 2:
        return None
    return ".".join(parts[:2])


class ReferenceGraph:
    """Who references whom, by configuration address (no instance keys)."""

    def __init__(self) -> None:
        self._refs: dict[str, set[str]] = {}  # node -> nodes it references
        self._resources: set[str] = set()
        self._resolved: dict[str, set[str]] = {}  # var/output node -> resources (memo)

    @classmethod
    def from_configuration(cls, configuration: dict[str, Any]) -> ReferenceGraph:
        graph = cls()
        root = configuration.get("root_module") if isinstance(configuration, dict) else None
        if isinstance(root, dict):
            graph._add_module(root, "")
        return graph

    def _edge(self, node: str, target: str) -> None:
        self._refs.setdefault(node, set()).add(target)

    def _target(self, ref: str, prefix: str) -> str | None:
        """The graph node a reference in module ``prefix`` points at."""
        clean = config_address(ref)
        parts = clean.split(".", 3)
        if parts[0] == "var" and len(parts) >= 2 and prefix:
            return f"{prefix}var.{parts[1]}"
        if parts[0] == "module" and len(parts) >= 3:
            return f"{prefix}module.{parts[1]}.output.{parts[2]}"
        res = _resource_of(clean)
        return f"{prefix}{res}" if res else None

    def _add_module(self, module: dict[str, Any], prefix: str, inherited: frozenset[str] = frozenset()) -> None:
        """``inherited``: what the module calls above reference in count/for_each/depends_on (every resource
        inside a ``module "x" { for_each = aws_subnet.all }`` depends on ``aws_subnet.all``)."""
        for res in module.get("resources") or []:
            if not isinstance(res, dict) or "address" not in res:
                continue
            node = prefix + res["address"]
            self._resources.add(node)
            for scoped in inherited:
                self._edge(node, scoped)
            exprs = [res.get("expressions"), res.get("count_expression"), res.get("for_each_expression")]
            for ref in _walk_references(exprs):
                target = self._target(ref, prefix)
                if target and target != node:
                    self._edge(node, target)
            for dep in res.get("depends_on") or []:
                target = self._target(dep, prefix) if isinstance(dep, str) else None
                if target:
                    self._edge(node, target)
        for name, call in (module.get("module_calls") or {}).items():
            if not isinstance(call, dict):
                continue
            child = f"{prefix}module.{name}."
            for var, expr in (call.get("expressions") or {}).items():
                for ref in _walk_references(expr):
                    target = self._target(ref, prefix)
                    if target:
                        self._edge(f"{child}var.{var}", target)
            inner = call.get("module") or {}
            for out_name, out in (inner.get("outputs") or {}).items():
                for ref in _walk_references(out.get("expression") if isinstance(out, dict) else None):
                    target = self._target(ref, child)
                    if target:
                        self._edge(f"{prefix}module.{name}.output.{out_name}", target)
            refs = [*_walk_references([call.get("count_expression"), call.get("for_each_expression")]),
                    *(d for d in call.get("depends_on") or [] if isinstance(d, str))]
            scope = {t for t in (self._target(r, prefix) for r in refs) if t}
            if isinstance(inner, dict):
                self._add_module(inner, child, inherited | scope)

    def _resolve(self, node: str, seen: set[str]) -> set[str]:
        """The resources a node stands for (itself, or what a var/output leads to)."""
        if node in self._resources:
            return {node}
        cached = self._resolved.get(node)
        if cached is not None:
            return cached
        if node in seen:
            return set()
        seen.add(node)
        out: set[str] = set()
        for target in self._refs.get(node, ()):
            out |= self._resolve(target, seen)
        self._resolved[node] = out
        return out

    def references_of(self, resource: str) -> set[str]:
        """The resources ``resource`` refers to, following variables and outputs."""
        out: set[str] = set()
        for target in self._refs.get(config_address(resource), ()):
            out |= self._resolve(target, set())
        return out

    def dependents(self, address: str) -> list[str]:
        """Resources that reference ``address`` (an instance or configuration address), sorted."""
        target = config_address(address)
        return sorted(node for node in self._resources if node != target and target in self.references_of(node))

    def index(self) -> dict[str, list[str]]:
        """Every resource -> its dependents, computed once (for many changed resources)."""
        out: dict[str, set[str]] = {}
        for node in self._resources:
            for target in self.references_of(node):
                if target != node:
                    out.setdefault(target, set()).add(node)
        return {k: sorted(v) for k, v in out.items()}
