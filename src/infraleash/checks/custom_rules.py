"""The org's own rules, from directories named by ``checks.rules_dirs`` in the policy or ``--rules-dir``.

    rules = load_rules_dirs([Path("policy/rules")])      # list[Rule], sorted by file name
    problems = verify_examples(rule)                      # [] when the rule's examples behave

A rules directory holds:

* ``*.py`` files written with the same API as infraleash's own rules
  (:mod:`infraleash.checks.rule`): the module defines ``RULES: list[Rule]``; files starting with
  ``_`` or ``test_`` are skipped (helpers, their own tests);
* ``*.rego`` files, one rule each, evaluated by a real Rego engine (:mod:`infraleash.checks.rego`).

Every rule carries a failing and a passing example, checked the way the suite checks the built-in
rules (``infraleash rules test DIR``).

Loading a ``*.py`` rule runs its code.  A policy file found inside the checked tree (the working tree an
agent's change can edit) must not make ``check``/``review`` run code from that tree, so
:func:`guard_tree_policy` marks its ``checks.rules_dirs`` as ``python_rules_refused``: their Rego rules
(data, evaluated inside regopy's interpreter) are loaded, their Python rules are not, and the report says
so (a ``not_checked`` entry, so ``--strict`` fails); nor are Rego rules there that call ``opa.runtime()``
(the process environment, secrets included, which a rule could copy into a finding's message).  Python rules load from a directory given
with ``--rules-dir``, from a policy given with ``--policy`` or named by the runner configuration (the org
policy), from a policy file outside the checked tree (above the git repository), or with
``--trust-policy-rules``.  A file that cannot be loaded (syntax error, no ``RULES``,
an id already taken) is an :class:`~infraleash.errors.InputError` naming the file and line (exit 2).
Loaded rules are cached per directory until one of its files changes.
"""

from __future__ import annotations

import re
import sys
import traceback
import types
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from infraleash.checks.registry import all_rules, builtin_rules
from infraleash.checks.rule import Rule
from infraleash.errors import InputError
from infraleash.findings import Outcome

_cache: dict[tuple[str, tuple[tuple[str, float, int], ...]], list[Rule]] = {}
_loaded: dict[str, Rule] = {}  # every custom rule loaded in this process, for documentation look-ups


def _files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.is_file() and (
        (p.suffix == ".py" and not p.name.startswith(("_", "test_"))) or p.suffix == ".rego"))


def _signature(files: list[Path]) -> tuple[tuple[str, float, int], ...]:
    out = []
    for p in files:
        st = p.stat()
        out.append((p.name, st.st_mtime, st.st_size))
    return tuple(out)


def _load_python(path: Path) -> list[Rule]:
    import hashlib  # here: it loads OpenSSL's libcrypto, which a check without Python rules never needs

    name = "infraleash_org_rules_" + hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12] + "_" + path.stem
    module = types.ModuleType(name)
    module.__file__ = str(path)
    sys.modules[name] = module  # dataclasses and typing look their module up while the file runs
    try:
        source = path.read_text(encoding="utf-8")
        # compiled here rather than imported: no __pycache__ is written into the org's rules directory
        exec(compile(source, str(path), "exec"), module.__dict__)
    except (OSError, UnicodeDecodeError) as e:
        sys.modules.pop(name, None)
        raise InputError(f"cannot read the rules file: {e}", file=str(path)) from None
    except SyntaxError as e:
        sys.modules.pop(name, None)
        raise InputError(f"Python syntax error: {e.msg}", file=str(path), line=e.lineno) from None
    except Exception as e:
        sys.modules.pop(name, None)
        line = next((fr.lineno for fr in reversed(traceback.extract_tb(e.__traceback__))
                     if Path(fr.filename).resolve() == path.resolve()), None)
        raise InputError(f"loading the rules failed: {type(e).__name__}: {e}", file=str(path), line=line) from None
    rules = getattr(module, "RULES", None)
    if not isinstance(rules, list) or not all(isinstance(r, Rule) for r in rules):
        raise InputError("a rules file must define RULES: list[Rule] (infraleash.checks.rule.Rule)", file=str(path))
    return rules


def load_rules_dir(directory: Path, *, python: bool = True) -> list[Rule]:
    """The rules of one directory (cached until a file in it changes); ``python=False``: its Rego rules only."""
    if not directory.is_dir():
        raise InputError("rules directory not found", file=str(directory))
    files = _files(directory) if python else [p for p in _files(directory) if p.name not in _refused_files(directory)]
    key = (str(directory.resolve()) + ("" if python else "#rego"), _signature(files))
    hit = _cache.get(key)
    if hit is not None:
        return hit
    rules: list[Rule] = []
    origin: dict[str, Path] = {}
    builtin = {r.id for r in all_rules()}
    for path in files:
        if path.suffix == ".rego":
            from infraleash.checks.rego import load_rego_rule

            found = [load_rego_rule(path)]
        else:
            found = _load_python(path)
        for rule in found:
            if rule.id in builtin:
                raise InputError(f"rule id {rule.id} is one of infraleash's own rules; choose another", file=str(path))
            if rule.id in origin:
                raise InputError(f"rule id {rule.id} is also defined in {origin[rule.id].name}", file=str(path))
            origin[rule.id] = path
            rules.append(rule)
    _cache[key] = rules
    _loaded.update({r.id: r for r in rules})
    return rules


def load_rules_dirs(directories: Sequence[Path], *, rego_only: Iterable[Path] = ()) -> list[Rule]:
    rules: list[Rule] = []
    seen: dict[str, Path] = {}
    refused = {p.resolve() for p in rego_only}
    for d in directories:
        for rule in load_rules_dir(d, python=d.resolve() not in refused):
            if rule.id in seen:
                raise InputError(f"rule id {rule.id} is defined in both {seen[rule.id]} and {d}", file=str(d))
            seen[rule.id] = d
            rules.append(rule)
    return rules


def policy_rules_dirs(policy: Any) -> list[Path]:
    """``checks.rules_dirs`` of a policy, relative to the policy file."""
    checks = getattr(policy, "checks", None)
    dirs = getattr(checks, "rules_dirs", None) or []
    return [policy.resolve_path(d) for d in dirs]


def rules_for(policy: Any) -> tuple[Rule, ...]:
    """infraleash's rules plus the policy's own (``checks.rules_dirs``; Rego only from refused directories).

    Without rules directories: :func:`~infraleash.checks.registry.builtin_rules`, the same tuple every time.
    """
    dirs = list({d.resolve(): d for d in policy_rules_dirs(policy)}.values())  # one directory named twice: once
    if not dirs:
        return builtin_rules()
    refused = [Path(d) for d in getattr(policy, "python_rules_refused", None) or []]
    return (*builtin_rules(), *load_rules_dirs(dirs, rego_only=refused))


TRUST_FLAG = "--trust-policy-rules"


def checked_tree(path: Path) -> Path:
    """The tree a change under review can edit: the git repository holding ``path``, else ``path`` itself."""
    start = (path if path.is_dir() else path.parent).resolve()
    for d in [start, *start.parents]:
        if (d / ".git").exists():
            return d
    return start


def guard_tree_policy(policy: Any, checked: Path) -> Any:
    """``policy`` with the Python rules of its ``rules_dirs`` refused when the policy file is inside ``checked``'s
    tree (:func:`checked_tree`).  Only for a policy that was found, not given: the caller decides that."""
    source = getattr(policy, "source", None)
    dirs = policy_rules_dirs(policy) if source else []
    if not dirs:
        return policy
    tree = checked_tree(checked)
    if not Path(str(source)).resolve().is_relative_to(tree):
        return policy
    refused = [str(d.resolve()) for d in dirs if d.is_dir() and _refused_files(d)]
    return policy.model_copy(update={"python_rules_refused": refused}) if refused else policy


_OPA_RUNTIME = re.compile(r"\bopa\s*\.\s*runtime\b")  # the Rego built-in that returns the process environment


def _refused_files(directory: Path) -> list[str]:
    """Files of a directory named by a policy inside the checked tree that are not loaded: every ``*.py`` (code),
    and ``*.rego`` using ``opa.runtime()`` (it hands a rule this process's environment, secrets included, which
    a rule could put in a finding's message and so in a PR comment)."""
    out = []
    for p in _files(directory):
        if p.suffix == ".py":
            out.append(p.name)
        else:
            try:
                text = "\n".join(line.split("#", 1)[0] for line in p.read_text(encoding="utf-8").splitlines())
            except (OSError, UnicodeDecodeError):
                continue  # loading it reports the problem
            if _OPA_RUNTIME.search(text):
                out.append(p.name)
    return out


def refused_python_rules(policy: Any) -> list[dict[str, Any]]:
    """A ``not_checked`` entry per rules directory whose Python rules were refused (see the module docstring)."""
    out = []
    for d in getattr(policy, "python_rules_refused", None) or []:
        names = _refused_files(Path(d)) if Path(d).is_dir() else []
        out.append({"category": "rules", "provider": None, "count": len(names), "names": names,
                    "missing": ["Python rules not loaded"],
                    "text": f"Python rules in {d} not loaded ({', '.join(names)}): they are named by "
                            f"{getattr(policy, 'source', '?')}, a policy file inside the checked tree, which a "
                            f"change under review can edit; pass --rules-dir {d} or {TRUST_FLAG} to load them "
                            "(its other Rego rules are loaded)"})
    return out


def documentation() -> dict[str, Rule]:
    """Every rule known in this process, built-in and loaded custom ones, by id (for report help)."""
    return {**{r.id: r for r in all_rules()}, **_loaded}


# --------------------------------------------------------------------------- examples


_FAIL = re.compile(r"(^|\.)fail(\[[^\]]*\])?(\.|$)")


def _at_fail(address: str | None) -> bool:
    """The finding is on the example's resource called ``fail`` (or has no address)."""
    return address is None or _FAIL.search(address) is not None


def verify_examples(rule: Rule) -> list[str]:
    """What is wrong with a rule's examples ([] when fail fires at ``fail``, pass is silent, unknown is unknown)."""
    from infraleash.checks.engine import check_example

    if not rule.fail_example.strip() or not rule.pass_example.strip():
        return ["no fail_example / pass_example: a rule must carry both (a conftest policy: add `metadata`)"]
    problems: list[str] = []
    expected = Outcome.UNKNOWN if rule.unknown_only else Outcome.FAIL
    fired = [f for f in check_example(rule, rule.fail_example) if f.outcome is expected]
    if not fired:
        problems.append(f"fail_example produced no {expected.value} finding")
    elif not all(_at_fail(f.address) for f in fired):
        problems.append(f"fail_example fired elsewhere than at `fail`: {', '.join(str(f.address) for f in fired)}")
    silent = check_example(rule, rule.pass_example)
    if silent:
        problems.append(f"pass_example is not silent: {'; '.join(f.message for f in silent)}")
    if rule.unknown_example:
        found = check_example(rule, rule.unknown_example)
        if not found or any(f.outcome is not Outcome.UNKNOWN for f in found):
            problems.append("unknown_example did not give only UNKNOWN findings")
    return problems


def verify_all(rules: Iterable[Rule]) -> dict[str, list[str]]:
    return {r.id: verify_examples(r) for r in rules}
