"""House conventions: required tags, resource naming and Name tags (kind ``convention``).

Where a convention comes from, in order:

1. the policy (``checks.required_tags``, ``checks.naming.resource_name_pattern``,
   ``checks.naming.name_tag_pattern``);
2. when the policy says nothing about naming and ``checks.naming.learn_from_code`` is true
   (the default), the code itself: the style most existing resources already follow.

Learning is deliberately simple, explainable and deterministic:

* resource names are classified as ``snake_case``, ``kebab-case``, ``camelCase`` or
  ``PascalCase`` (one-word lowercase names such as ``main`` fit both snake and kebab and do
  not vote); a style is the house style when at least :data:`MIN_SAMPLES` names vote and
  at least :data:`MAJORITY` of them agree; a name in another style is a finding that says
  "N of M resource names are snake_case";
* ``Name`` tags are split on ``-``/``_``: the house separator, the number of segments and
  a shared first segment (e.g. the environment ``prod``) are each learned the same way
  (:data:`MIN_SAMPLES` values, :data:`MAJORITY` agreement), so ``prod-api-db`` among
  ``prod-api-cache``, ``prod-web-lb``... passes and ``ApiDatabase`` does not.

Provider ``default_tags`` count as tags of every resource using that provider.
Rules run on AWS resource types (the provider 5.100.0 list shipped in
``infraleash/data/aws-resource-types.tsv``; the tag rule only on types that take ``tags``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from infraleash.checks.rule import CheckContext, Result, Rule
from infraleash.findings import Kind, Outcome, Severity
from infraleash.terraform.config import Block, Config, Unknown
from infraleash.terraform.schema import DATA_DIR

MIN_SAMPLES = 3
MAJORITY = 2 / 3


@lru_cache(maxsize=1)
def _aws_types() -> tuple[tuple[str, ...], tuple[str, ...]]:
    text = (DATA_DIR / "aws-resource-types.tsv").read_text(encoding="utf-8")
    all_types, tagged = [], []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name, _, taggable = line.partition("\t")
        all_types.append(name)
        if taggable.strip() == "1":
            tagged.append(name)
    return tuple(all_types), tuple(tagged)


ALL_AWS_TYPES, TAGGABLE_AWS_TYPES = _aws_types()


# --------------------------------------------------------------------------- required tags


def _provider_for(block: Block, config: Config) -> Block | None:
    raw = block.raw.get("provider")
    alias = raw.split(".", 1)[1].strip() if isinstance(raw, str) and "." in raw else None
    for p in config.providers:
        if p.type == "aws" and p.module_path == block.module_path and p.get("alias") == alias:
            return p
    return None


def default_tags(block: Block, config: Config) -> dict[str, Any] | Unknown:
    """Tags the resource gets from its provider's ``default_tags``."""
    provider = _provider_for(block, config)
    if provider is None:
        return {}
    for dt in provider.blocks("default_tags"):
        tags = dt.get("tags")
        if isinstance(tags, Unknown):
            return tags
        if isinstance(tags, dict):
            return tags
    return {}


def _check_required_tags(block: Block, ctx: CheckContext) -> Iterator[Result]:
    required = list(getattr(getattr(ctx.policy, "checks", None), "required_tags", []) or [])
    if not required:
        return
    tags = block.get("tags")
    inherited = default_tags(block, ctx.config)
    have: set[str] = set()
    unknown_sources = []
    for source in (tags, inherited):
        if isinstance(source, Unknown):
            unknown_sources.append(source.reason)
        elif isinstance(source, dict):
            have |= {str(k) for k, v in source.items()}
    missing = [t for t in required if t not in have]
    if not missing:
        return
    attribute = "tags" if "tags" in block.attrs else None
    if unknown_sources:
        yield Result(f"resource is missing required tags {', '.join(missing)}: cannot tell, "
                     f"{unknown_sources[0]}", outcome=Outcome.UNKNOWN, attribute=attribute,
                     details={"unknown": unknown_sources[0], "missing": missing})
        return
    yield Result(f"resource is missing required tags: {', '.join(missing)}", attribute=attribute,
                 details={"missing": missing, "required": required})


REQUIRED_TAGS = Rule(
    id="CONV-REQUIRED-TAGS",
    title="resource is missing required tags",
    severity=Severity.MEDIUM,
    kind=Kind.CONVENTION,
    resource_types=TAGGABLE_AWS_TYPES,
    why="Tags the organisation requires (owner, cost centre, environment) are how a resource is paged, billed "
        "and cleaned up; an untagged resource created by an agent becomes an orphan nobody owns. Provider "
        "default_tags count.",
    fail_example='''provider "aws" {
  region = "eu-west-1"
  default_tags {
    tags = { Owner = "platform" }
  }
}
resource "aws_sqs_queue" "fail" {
  name = "jobs"
  tags = { Name = "jobs" }
}''',
    pass_example='''provider "aws" {
  region = "eu-west-1"
  default_tags {
    tags = { Owner = "platform" }
  }
}
resource "aws_sqs_queue" "pass" {
  name = "jobs"
  tags = { CostCenter = "cc-42" }
}''',
    unknown_example='''variable "tags" { type = map(string) }
resource "aws_sqs_queue" "unknown" {
  name = "jobs"
  tags = var.tags
}''',
    example_policy="checks:\n  required_tags: [Owner, CostCenter]\n",
    check=_check_required_tags,
    checkov_ids=(),
    references=("https://docs.aws.amazon.com/tag-editor/latest/userguide/best-practices-and-strats.html",),
)


# --------------------------------------------------------------------------- resource names

STYLES = {
    "snake_case": re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)+$"),
    "kebab-case": re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)+$"),
    "camelCase": re.compile(r"^[a-z][a-z0-9]*([A-Z][a-z0-9]*)+$"),
    "PascalCase": re.compile(r"^([A-Z][a-z0-9]*)+$"),
}
_ONE_WORD = re.compile(r"^[a-z][a-z0-9]*$")


def name_style(name: str) -> str | None:
    """The style a name shows; None for one lowercase word (fits snake, kebab and camel: it does not vote)."""
    if _ONE_WORD.match(name):
        return None
    for style, pattern in STYLES.items():
        if pattern.match(name):
            return style
    return "other"


def learned_name_style(config: Config) -> tuple[str, int, int] | None:
    """(style, agreeing, voting) when the resource names of the configuration have a house style."""
    return _learned_style(tuple(b.name for b in config.resources))


@lru_cache(maxsize=64)
def _learned_style(names: tuple[str, ...]) -> tuple[str, int, int] | None:
    votes = Counter(s for s in (name_style(n) for n in names) if s is not None)
    total = sum(votes.values())
    if total < MIN_SAMPLES:
        return None
    style, count = sorted(votes.items(), key=lambda kv: (-kv[1], kv[0]))[0]
    if style == "other" or count / total < MAJORITY:
        return None
    return style, count, total


def _policy_naming(ctx: CheckContext) -> Any:
    return getattr(getattr(ctx.policy, "checks", None), "naming", None)


def _check_resource_name(block: Block, ctx: CheckContext) -> Iterator[Result]:
    naming = _policy_naming(ctx)
    pattern = getattr(naming, "resource_name_pattern", None)
    if pattern:
        if not re.search(pattern, block.name):
            yield Result(f"resource name \"{block.name}\" does not follow the naming convention "
                         f"(policy: {pattern})", details={"pattern": pattern, "source": "policy"})
        return
    if naming is not None and not getattr(naming, "learn_from_code", True):
        return
    learned = ctx.fact("learned_name_style", None, lambda: learned_name_style(ctx.config))  # once, not per resource
    if learned is None:
        return
    style, agreeing, voting = learned
    mine = name_style(block.name)
    if mine == style or (mine is None and style != "PascalCase"):
        return
    mine = mine or "one lowercase word"
    yield Result(f"resource name \"{block.name}\" does not follow the naming convention: it is {mine}, "
                 f"{agreeing} of {voting} resource names here are {style}",
                 details={"style": mine, "house_style": style, "agreeing": agreeing, "voting": voting,
                          "source": "learned"})


# Examples: a house style in which the lowercase one-word name `fail` stands out (PascalCase, as in code
# converted from CDK); a one-word lowercase name fits snake/kebab/camel, so those cannot show it.
_STYLE_SIBLINGS = '''resource "aws_sqs_queue" "OrderEvents" { name = "order-events" }
resource "aws_sqs_queue" "OrderEventsDlq" { name = "order-events-dlq" }
resource "aws_sns_topic" "OrderAlerts" { name = "order-alerts" }
'''

RESOURCE_NAME = Rule(
    id="CONV-RESOURCE-NAME",
    title="resource name does not follow the naming convention",
    severity=Severity.LOW,
    kind=Kind.CONVENTION,
    resource_types=ALL_AWS_TYPES,
    why="Consistent resource addresses are what makes plans, state moves and imports readable; an agent that "
        "invents its own style leaves a configuration nobody can grep. The convention is the policy's "
        "resource_name_pattern, else the style most resources already follow.",
    fail_example=_STYLE_SIBLINGS + 'resource "aws_sqs_queue" "fail" { name = "payments" }\n',
    pass_example=_STYLE_SIBLINGS + 'resource "aws_sqs_queue" "PaymentRetries" { name = "payment-retries" }\n',
    check=_check_resource_name,
    references=("https://developer.hashicorp.com/terraform/language/style#naming-conventions",),
)


# --------------------------------------------------------------------------- Name tags

_SEPARATORS = ("-", "_")


def _name_tag(block: Block) -> Any:
    tags = block.get("tags")
    if isinstance(tags, dict):
        return tags.get("Name")
    return None


def _shape(value: str) -> tuple[str | None, int, str, bool]:
    """(separator, segments, first segment, lowercase)."""
    sep = next((s for s in _SEPARATORS if s in value), None)
    parts = value.split(sep) if sep else [value]
    return sep, len(parts), parts[0], value == value.lower()


def _majority(values: list[Any]) -> tuple[Any, int] | None:
    if len(values) < MIN_SAMPLES:
        return None
    value, count = sorted(Counter(values).items(), key=lambda kv: (-kv[1], str(kv[0])))[0]
    return (value, count) if count / len(values) >= MAJORITY else None


def learned_name_tag_shape(config: Config) -> dict[str, tuple[Any, int, int]]:
    """Features of the house Name-tag style: separator, segments, prefix, lowercase -> (value, agreeing, total)."""
    names = tuple(v for v in (_name_tag(b) for b in config.resources) if isinstance(v, str) and v)
    return _learned_shape(names)


@lru_cache(maxsize=64)
def _learned_shape(names: tuple[str, ...]) -> dict[str, tuple[Any, int, int]]:
    shapes = [_shape(n) for n in names]
    learned: dict[str, tuple[Any, int, int]] = {}
    for i, feature in enumerate(("separator", "segments", "prefix", "lowercase")):
        found = _majority([s[i] for s in shapes])
        if found is not None and (feature != "separator" or found[0] is not None):
            learned[feature] = (found[0], found[1], len(shapes))
    if "prefix" in learned and learned["prefix"][1] < max(MIN_SAMPLES, 0.8 * len(shapes)):
        del learned["prefix"]  # a shared first segment must be near-universal to be a convention
    return learned


def _describe(feature: str, value: Any) -> str:
    return {"separator": f"separated by \"{value}\"", "segments": f"{value} segments",
            "prefix": f"starting with \"{value}\"", "lowercase": "lowercase" if value else "mixed case"}[feature]


def _check_name_tag(block: Block, ctx: CheckContext) -> Iterator[Result]:
    value = _name_tag(block)
    naming = _policy_naming(ctx)
    pattern = getattr(naming, "name_tag_pattern", None)
    if isinstance(value, Unknown) or value is None:
        return
    value = str(value)
    if pattern:
        if not re.search(pattern, value):
            yield Result(f"Name tag \"{value}\" does not follow the naming convention (policy: {pattern})",
                         attribute="tags", details={"pattern": pattern, "source": "policy"})
        return
    if naming is not None and not getattr(naming, "learn_from_code", True):
        return
    learned = learned_name_tag_shape(ctx.config)
    mine = dict(zip(("separator", "segments", "prefix", "lowercase"), _shape(value), strict=True))
    broken = [(f, v) for f, v in learned.items() if mine[f] != v[0]]
    if not broken:
        return
    feature, (expected, agreeing, total) = broken[0]
    yield Result(f"Name tag \"{value}\" does not follow the naming convention: {agreeing} of {total} Name tags "
                 f"here are {_describe(feature, expected)}",
                 attribute="tags", details={"broken": [f for f, _ in broken], "source": "learned"})


_TAG_SIBLINGS = '''resource "aws_sqs_queue" "orders" {
  name = "orders"
  tags = { Name = "prod-orders-queue" }
}
resource "aws_sqs_queue" "refunds" {
  name = "refunds"
  tags = { Name = "prod-refunds-queue" }
}
resource "aws_sns_topic" "alerts" {
  name = "alerts"
  tags = { Name = "prod-alerts-topic" }
}
'''

NAME_TAG = Rule(
    id="CONV-NAME-TAG",
    title="Name tag does not follow the naming convention",
    severity=Severity.LOW,
    kind=Kind.CONVENTION,
    resource_types=TAGGABLE_AWS_TYPES,
    why="The Name tag is what the console, cost reports and on-call dashboards show; names like "
        "<env>-<app>-<role> let an operator see at a glance what a resource is and where it belongs. "
        "The convention is the policy's name_tag_pattern, else the shape most Name tags already have.",
    fail_example=_TAG_SIBLINGS + '''resource "aws_sqs_queue" "fail" {
  name = "payments"
  tags = { Name = "PaymentsQueue" }
}
''',
    pass_example=_TAG_SIBLINGS + '''resource "aws_sqs_queue" "pass" {
  name = "payments"
  tags = { Name = "prod-payments-queue" }
}
''',
    check=_check_name_tag,
    references=("https://docs.aws.amazon.com/whitepapers/latest/tagging-best-practices/naming-tags.html",),
)


RULES: list[Rule] = [REQUIRED_TAGS, RESOURCE_NAME, NAME_TAG]
