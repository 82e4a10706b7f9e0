"""What the checks could not evaluate, counted and named: no silent pass.

"0 findings" on a directory of google resources means nothing was checked, not that nothing
is wrong.  :func:`not_checked` lists, for one configuration:

* ``resources`` / ``data_sources`` of a provider with no schema (no hallucination checks) or
  with no per-resource rule for any of its types (no security rules), grouped by provider:
  "12 google resources: no hallucination checks, no security rules";
* ``modules``: module calls whose module was not evaluated (no installed source ...);
* ``files``: files that could not be read or parsed.

Each entry is a plain dict (it goes into every report format's summary)::

    {"category": "resources", "provider": "google", "count": 12, "names": ["google_compute_instance.web", ...],
     "missing": ["hallucination checks", "security rules"], "text": "12 google resources: ..."}

``infraleash check --strict`` (and ``review --strict``) fail the run when the list is not empty.
:func:`require_configuration` is the one answer ``check`` and ``review`` give a directory
without Terraform files.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from infraleash.checks.rule import Rule
from infraleash.errors import InputError
from infraleash.terraform.config import Block, Config
from infraleash.terraform.hcl_override import SUFFIXES
from infraleash.terraform.schema import SchemaSet

TERRAFORM_SUFFIXES = SUFFIXES  # every file Terraform and OpenTofu read (terraform/hcl_override.py)
NO_CONFIGURATION = "no .tf files here: not a Terraform configuration directory " \
                   "(pass the directory that holds the configuration)"
BUILTIN_PROVIDER = "terraform"  # terraform_data, terraform_remote_state: built into Terraform
NAMES_SHOWN = 5
NO_SCHEMA = "no hallucination checks"
NO_RULES = "no security rules"


def has_configuration(directory: Path) -> bool:
    return any(p.is_file() and p.name.endswith(TERRAFORM_SUFFIXES) for p in directory.iterdir())


_SKIPPED_DIRS = (".terraform", ".git", "node_modules")
_WALK_LIMIT = 5000  # directories looked at for configurations below an empty one


def configurations_below(directory: Path, limit: int = _WALK_LIMIT) -> list[Path]:
    """Directories under ``directory`` (not itself) that hold Terraform files, in path order, bounded."""
    found: list[Path] = []
    todo = [directory]
    seen = 0
    while todo and seen < limit:
        current = todo.pop(0)
        seen += 1
        try:
            children = sorted(p for p in current.iterdir() if p.is_dir() and not p.is_symlink())
        except OSError:
            continue
        for child in children:
            if child.name.startswith(".") or child.name in _SKIPPED_DIRS:
                continue
            try:
                if has_configuration(child):
                    found.append(child)
            except OSError:
                continue
            todo.append(child)
    return found


def require_configuration(path: Path) -> None:
    """Raise the one input error ``check`` and ``review`` give a directory without Terraform files.

    When configurations sit in subdirectories, the message names them and points at ``check -r``.
    """
    if path.is_dir() and not has_configuration(path):
        below = configurations_below(path)
        if below:
            names = [str(p.relative_to(path)) for p in below]
            shown = ", ".join(names[:NAMES_SHOWN]) + (f", ... {len(names) - NAMES_SHOWN} more"
                                                      if len(names) > NAMES_SHOWN else "")
            raise InputError(f"no .tf files here, but {len(names)} "
                             f"director{'y' if len(names) == 1 else 'ies'} below hold{'s' if len(names) == 1 else ''}"
                             f" Terraform configurations ({shown}): pass one of them, or run "
                             f"`infraleash check -r {path}` to check every one", file=str(path))
        raise InputError(NO_CONFIGURATION, file=str(path))


def _provider(type_name: str) -> str:
    return type_name.split("_", 1)[0]


_PROVIDERS: dict[int, tuple[Rule, frozenset[str]]] = {}  # id(rule) -> (the rule, kept alive; its providers)


def _rule_providers(rule: Rule) -> frozenset[str]:
    """The providers whose resources a rule covers, worked out once per rule (a conventions rule names every
    AWS type: rescanning them for each root of a monorepo was ~9% of a corpus run)."""
    hit = _PROVIDERS.get(id(rule))
    if hit is None or hit[0] is not rule:
        hit = (rule, frozenset(_provider(t.removeprefix("data.")) for t in rule.resource_types))
        _PROVIDERS[id(rule)] = hit
    return hit[1]


_last_covered: tuple[tuple[Rule, ...], frozenset[str]] | None = None


def _covered(rules: Iterable[Rule]) -> frozenset[str]:
    """The providers the rules cover; remembered for the last tuple of rules (the same one for every root of a
    run: re-reading its ~80 rules per root costs cache misses), recognised by identity (a tuple cannot change)."""
    global _last_covered
    last = _last_covered
    if last is not None and last[0] is rules:
        return last[1]
    covered = frozenset().union(*(_rule_providers(r) for r in rules))
    if isinstance(rules, tuple):
        _last_covered = (rules, covered)
    return covered


_NOUNS = {"resources": "resource", "data_sources": "data source", "modules": "module call", "files": "file"}


def _text(category: str, count: int, provider: str | None, missing: list[str]) -> str:
    noun = _NOUNS[category] + ("s" if count != 1 else "")
    if category == "modules":
        return f"{count} {noun} not evaluated (no installed source): nothing they create is checked"
    if category == "files":
        return f"{count} {noun} could not be read"
    return f"{count} {provider} {noun}: {', '.join(missing)}"


def _entry(category: str, names: list[str], missing: list[str], provider: str | None = None) -> dict[str, Any]:
    return {"category": category, "provider": provider, "count": len(names), "names": names, "missing": missing,
            "text": _text(category, len(names), provider, missing)}


def _shown(names: list[str]) -> str:
    more = f", ... {len(names) - NAMES_SHOWN} more" if len(names) > NAMES_SHOWN else ""
    return ", ".join(names[:NAMES_SHOWN]) + more


def describe(entry: dict[str, Any]) -> str:
    """One line for a human: what, how many, which, what was not done."""
    names = entry.get("names") or []
    which = f" ({_shown(names)})" if names else ""
    return f"{entry['text']}{which}"


def not_checked(config: Config, schemas: SchemaSet, rules: Iterable[Rule]) -> list[dict[str, Any]]:
    """Everything in ``config`` the checks could not evaluate (see the module docstring)."""
    covered = _covered(rules)
    out: list[dict[str, Any]] = []
    for category, blocks in (("resources", config.resources), ("data_sources", config.data)):
        by_provider: dict[str, list[Block]] = defaultdict(list)
        for b in blocks:
            by_provider[_provider(b.type)].append(b)
        for provider, found in sorted(by_provider.items()):
            if provider == BUILTIN_PROVIDER:
                continue
            missing = []
            if schemas.providers.get(provider) is None:
                missing.append(NO_SCHEMA)
            if category == "resources" and provider not in covered:
                missing.append(NO_RULES)
            if missing:  # the addresses only now: most blocks are of checked providers
                out.append(_entry(category, sorted(b.address for b in found), missing, provider))
    calls = [c.block.address for c in config.modules if c.not_evaluated]
    if calls:
        out.append(_entry("modules", calls, ["not evaluated"]))
    files = sorted({p.file for p in config.problems})
    if files:
        out.append(_entry("files", files, ["not read"]))
    return out


def merge(entries: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Entries of several roots added up (same category, provider and missing checks)."""
    merged: dict[tuple[str, str | None, tuple[str, ...]], dict[str, Any]] = {}
    for e in entries:
        key = (e["category"], e.get("provider"), tuple(e.get("missing", ())))
        if key not in merged:
            merged[key] = {**e, "names": list(e.get("names", []))}
            continue
        m = merged[key]
        m["count"] += e["count"]
        m["names"] += e.get("names", [])
        m["text"] = _text(m["category"], m["count"], m.get("provider"), list(m.get("missing", [])))
    return list(merged.values())
