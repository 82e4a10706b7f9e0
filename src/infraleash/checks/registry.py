"""Every rule infraleash knows, listed explicitly (no registration on import).

    all_rules()              -> list[Rule], in a stable order
    builtin_rules()          -> the same rules as one tuple, the same object on every call
    get_rule("TF-UNKNOWN-RESOURCE-TYPE")

Two families:

* configuration-level rules (hallucinations against the provider schema, provider
  constraints, module sources, inline-ignore hygiene, unreadable input): their
  findings are produced by :mod:`~infraleash.checks.hallucination`,
  :mod:`~infraleash.checks.providers`, :mod:`~infraleash.checks.modules`,
  :mod:`~infraleash.checks.suppressions` and the engine; their ``Rule`` objects carry
  the documentation and examples (``resource_types`` is empty);
* per-resource rules (security, conventions): ``Rule.check`` is called for every
  resource whose type is in ``resource_types`` (``data.<type>`` for data sources).

To add a family: write ``RULES: list[Rule]`` in its module and add ONE line to the
list below.
"""

from __future__ import annotations

import importlib
from functools import lru_cache

from infraleash.checks.rule import Rule

# --- rule modules: ONE line per module exposing `RULES: list[Rule]` -------------------
RULE_MODULES: tuple[str, ...] = (
    "infraleash.checks.meta_rules",  # hallucination, providers, modules, suppressions, input
    # add security / convention rule modules below, one line each
    "infraleash.checks.aws.iam",
    "infraleash.checks.aws.network",
    "infraleash.checks.aws.sensitive_ports",
    "infraleash.checks.aws.s3",
    "infraleash.checks.aws.s3_encryption",
    "infraleash.checks.aws.storage",
    "infraleash.checks.aws.logging",
    "infraleash.checks.aws.kms",
    "infraleash.checks.aws.elb",
    "infraleash.checks.aws.elb_classic",
    "infraleash.checks.aws.tls_endpoints",
    "infraleash.checks.aws.lambda_",
    "infraleash.checks.aws.ecr",
    "infraleash.checks.aws.eks",
    "infraleash.checks.aws.secrets",
    "infraleash.checks.conventions",
)
# ---------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _load() -> tuple[Rule, ...]:
    rules: list[Rule] = []
    seen: set[str] = set()
    for name in RULE_MODULES:
        module = importlib.import_module(name)
        for rule in module.RULES:
            if rule.id in seen:
                raise RuntimeError(f"duplicate rule id {rule.id} in {name}")
            seen.add(rule.id)
            rules.append(rule)
    return tuple(rules)


def all_rules() -> list[Rule]:
    return list(_load())


def builtin_rules() -> tuple[Rule, ...]:
    """The rules of :func:`all_rules` as the one tuple built on first use: a caller deriving something from a
    selection of rules (the engine's dispatch table) can recognise it by identity instead of re-reading it."""
    return _load()


def get_rule(rule_id: str) -> Rule | None:
    wanted = rule_id.upper()
    return next((r for r in _load() if r.id.upper() == wanted), None)
