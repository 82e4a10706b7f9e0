"""Is the agent's Kubernetes identity read-only?  ``kubectl auth can-i --list``, parsed and judged.

    rules = parse_can_i_list(stdout)          # the table kubectl prints
    problems = risky_rules(rules)             # what a read-only identity without Secret access must not have

kubectl prints a tabwriter table (``Resources  Non-Resource URLs  Resource Names  Verbs``), columns
padded with spaces, lists in brackets::

    Resources                                       Non-Resource URLs   Resource Names   Verbs
    pods                                            []                  []               [get list watch]
    secrets                                         []                  []               [get]
                                                    [/api/*]            []               [get]

A rule is flagged when it grants ``get``/``list``/``watch`` (or ``*``) on Secrets (``secrets``,
``secrets.*``, ``*``, ``*.*``), or any verb other than get/list/watch on anything.  The
self-review resources every authenticated user may ``create`` (``selfsubjectaccessreviews``,
``selfsubjectrulesreviews``, ``selfsubjectreviews``: that is how ``can-i`` and ``auth whoami``
work; they change nothing) are not flagged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

READ_VERBS = frozenset({"get", "list", "watch"})
SECRET_RESOURCES = frozenset({"secrets", "*", "*.*"})
SELF_REVIEWS = frozenset({"selfsubjectaccessreviews.authorization.k8s.io",
                          "selfsubjectrulesreviews.authorization.k8s.io", "selfsubjectreviews.authentication.k8s.io"})
HEADERS = ("Resources", "Non-Resource URLs", "Resource Names", "Verbs")


class CanIParseError(ValueError):
    """The text is not ``kubectl auth can-i --list`` output (with its header line)."""


@dataclass(frozen=True)
class CanIRule:
    resource: str  # "" for a non-resource URL rule
    non_resource_urls: tuple[str, ...]
    resource_names: tuple[str, ...]
    verbs: tuple[str, ...]
    line: int

    @property
    def what(self) -> str:
        target = self.resource or " ".join(self.non_resource_urls) or "(nothing)"
        names = f" named {', '.join(self.resource_names)}" if self.resource_names else ""
        return f"{target}{names}"


@dataclass(frozen=True)
class RiskyRule:
    rule: CanIRule
    why: str

    def render(self) -> str:
        return f"line {self.rule.line}: [{' '.join(self.rule.verbs)}] on {self.rule.what}: {self.why}"


def _bracketed(cell: str) -> tuple[str, ...]:
    cell = cell.strip()
    if cell.startswith("[") and cell.endswith("]"):
        cell = cell[1:-1]
    return tuple(w for w in cell.split() if w)


def parse_can_i_list(text: str) -> list[CanIRule]:
    """The rules of ``kubectl auth can-i --list`` output (columns found from the header line)."""
    lines = text.splitlines()
    head_at = next((i for i, ln in enumerate(lines) if ln.lstrip().startswith("Resources")
                    and all(h in ln for h in HEADERS)), None)
    if head_at is None:
        raise CanIParseError("no `Resources  Non-Resource URLs  Resource Names  Verbs` header: not the output of "
                             "`kubectl auth can-i --list`")
    header = lines[head_at]
    starts = [header.index(h) for h in HEADERS]
    rules = []
    for i, line in enumerate(lines[head_at + 1:], start=head_at + 2):
        if not line.strip():
            continue
        cells = [line[a:b] for a, b in zip(starts, [*starts[1:], None], strict=True)]
        # tabwriter pads to the widest cell, so a cell never spills; but a short line may end early
        resource, urls, names, verbs = (c.strip() for c in cells)
        if not verbs.startswith("["):  # columns shifted (a cell wider than its header slot): split on brackets
            resource, urls, names, verbs = _split_by_brackets(line, i)
        rules.append(CanIRule(resource=resource, non_resource_urls=_bracketed(urls),
                              resource_names=_bracketed(names), verbs=_bracketed(verbs), line=i))
    return rules


_CELL = re.compile(r"\[[^\]]*\]")


def _split_by_brackets(line: str, lineno: int) -> tuple[str, str, str, str]:
    found = _CELL.findall(line)
    if len(found) != 3:
        raise CanIParseError(f"line {lineno}: expected three [..] columns after the resource: {line.strip()!r}")
    resource = line[:line.index(found[0])].strip()
    return resource, found[0], found[1], found[2]


def risky_rules(rules: list[CanIRule]) -> list[RiskyRule]:
    """What a read-only identity without Secret access must not be granted."""
    out = []
    for r in rules:
        verbs = set(r.verbs)
        reads = verbs & (READ_VERBS | {"*"})
        base = r.resource.split(".", 1)[0] if r.resource not in ("*", "*.*") else r.resource
        if r.resource and (r.resource in SECRET_RESOURCES or base == "secrets") and reads:
            out.append(RiskyRule(r, "can read Secret data (a read-only agent identity must not see Secrets)"))
            continue
        beyond = sorted(verbs - READ_VERBS)
        if beyond and not (r.resource in SELF_REVIEWS and verbs == {"create"}):
            out.append(RiskyRule(r, f"grants {', '.join(beyond)}: more than get/list/watch"))
    return out
