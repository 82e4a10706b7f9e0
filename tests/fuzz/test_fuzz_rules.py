"""Every registered rule on resources whose attributes take every JSON type: no exception escapes a rule.

Each rule's own examples (fail, pass, unknown) are loaded as ``check`` loads them; then, for every
resource the rule reads, hypothesis replaces attribute values anywhere in the block (nested blocks
included) by a value of another type: string, integer (huge too), float (NaN, infinities), bool, null,
list, object, nested containers, an ``Unknown`` (known after apply, with or without a template), or a
nested block where a value was.  ``rule.check`` (and ``config_check``) must return results, never raise:
the engine would report a raised exception as a rule error, and a result unknown for the wrong reason.

CI runs FUZZ_EXAMPLES_DEFAULT inputs; INFRALEASH_FUZZ_EXAMPLES sets the count (a full run: 3,000).
"""

from __future__ import annotations

import copy
import os
from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infraleash.checks.engine import example_files
from infraleash.checks.registry import all_rules
from infraleash.checks.rule import CheckContext, Rule
from infraleash.policy import Policy, parse_policy
from infraleash.terraform.config import Block, Config, Unknown
from infraleash.terraform.hcl import load_text

FUZZ_EXAMPLES_DEFAULT = 300
EXAMPLES = int(os.environ.get("INFRALEASH_FUZZ_EXAMPLES", FUZZ_EXAMPLES_DEFAULT))

RULES = [r for r in all_rules() if r.resource_types or r.config_check is not None]

scalar = st.one_of(st.text(max_size=12), st.integers(), st.integers(-2**70, 2**70) | st.just(10**400),
                   st.floats(), st.booleans(), st.none(),
                   st.builds(Unknown, st.sampled_from(["known after apply", "var.x", "each.value"])),
                   st.builds(Unknown, st.just("var.cidr"), template=st.sampled_from(["${…}/32", "arn:${…}:*"])),
                   st.sampled_from(["*", "0.0.0.0/0", "::/0", "s3:*", "arn:aws:iam::aws:policy/AdministratorAccess",
                                    "-1", "22", "tcp", "true", "AES256", "aws:kms", "{}", "[]", ""]))
odd = st.recursive(scalar, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                   st.dictionaries(st.text(max_size=6) | st.sampled_from(
                                                       ["Statement", "Effect", "Action", "Principal", "Resource",
                                                        "Condition", "AWS", "from_port", "cidr_blocks"]),
                                                       inner, max_size=3)), max_leaves=8)


def _example_texts(rule: Rule) -> list[str]:
    return [t for t in (rule.fail_example, rule.pass_example, rule.unknown_example) if t]


@cache
def _example(rule_index: int, which: int) -> tuple[Config, Policy]:
    rule = RULES[rule_index]
    texts = _example_texts(rule)
    files = example_files(texts[which % len(texts)]) if texts else {"main.tf": ""}
    cfg = load_text("\n".join(t for name, t in files.items() if name.endswith(".tf")), "main.tf")
    policy = parse_policy(rule.example_policy) if rule.example_policy else Policy()
    return cfg, policy


def _paths(block: Block, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every attribute path in a block: ``("ingress", 0, "cidr_blocks")`` reaches into nested blocks."""
    out: list[tuple[Any, ...]] = []
    for name, value in block.attrs.items():
        out.append((*prefix, name))
        if isinstance(value, list) and value and all(isinstance(v, Block) for v in value):
            for i, nested in enumerate(value):
                out += _paths(nested, (*prefix, name, i))
    return out


def _set(block: Block, path: tuple[Any, ...], value: Any) -> None:
    target = block
    for i in range(0, len(path) - 1, 2):
        nested = target.attrs.get(path[i])
        if not (isinstance(nested, list) and len(nested) > path[i + 1] and isinstance(nested[path[i + 1]], Block)):
            return  # an earlier change replaced the nested block this path went through
        target = nested[path[i + 1]]
    target.attrs[path[-1]] = value


@st.composite
def mutated(draw: st.DrawFn) -> tuple[Rule, Config, Policy]:
    index = draw(st.integers(0, len(RULES) - 1))
    rule = RULES[index]
    cfg, policy = _example(index, draw(st.integers(0, 2)))
    cfg = copy.deepcopy(cfg)
    for block in [*cfg.resources, *cfg.data]:
        paths = _paths(block)
        names = paths + [(extra,) for extra in ("tags", "policy", "ingress", "egress", "versioning")]
        for path in draw(st.lists(st.sampled_from(names), max_size=4)) if names else []:
            value = draw(odd | st.builds(lambda: [Block(kind="nested", type="x", name="", file="main.tf", line=1)]))
            _set(block, path, value)
    return rule, cfg, policy


def _run(rule: Rule, cfg: Config, policy: Policy) -> None:
    ctx = CheckContext(config=cfg, policy=policy)
    wanted = set(rule.resource_types)
    for block in [*cfg.resources, *cfg.data]:
        key = block.type if block.kind == "resource" else f"data.{block.type}"
        if key in wanted:
            list(rule.check(block, ctx))
    if rule.config_check is not None:
        list(rule.config_check(ctx))


@pytest.mark.timeout(600 + EXAMPLES * 1)  # a full run: the deadline bounds each input, not this
@settings(max_examples=EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(mutated())
def test_every_rule_survives_attributes_of_every_type(case: tuple[Rule, Config, Policy]) -> None:
    rule, cfg, policy = case
    try:
        _run(rule, cfg, policy)
    except Exception as e:  # noqa: BLE001 - the assertion names the rule and the exception
        raise AssertionError(f"{rule.id} raised {type(e).__name__}: {e}") from e


def test_the_fuzzer_reaches_every_rule_with_a_resource_it_reads() -> None:
    reached = set()
    for i, rule in enumerate(RULES):
        for which in range(3):
            cfg, _ = _example(i, which)
            keys = {b.type for b in cfg.resources} | {f"data.{b.type}" for b in cfg.data}
            if keys & set(rule.resource_types) or rule.config_check is not None:
                reached.add(rule.id)
    assert len(reached) == len(RULES), sorted({r.id for r in RULES} - reached)
