"""Conventions: required tags (with provider default_tags), naming from the policy or learned from the code."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from infraleash.checks.conventions import (
    ALL_AWS_TYPES,
    NAME_TAG,
    REQUIRED_TAGS,
    RESOURCE_NAME,
    TAGGABLE_AWS_TYPES,
    learned_name_style,
)
from infraleash.checks.rule import CheckContext, Rule
from infraleash.findings import Outcome
from infraleash.policy import Policy, parse_policy
from infraleash.terraform.hcl import load_text

SHARED_SCHEMA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "provider-schemas" / \
    "aws-5.100.0.json.gz"


def _results(rule: Rule, text: str, policy: Policy | None = None) -> dict[str, list]:
    config = load_text(text)
    ctx = CheckContext(config=config, policy=policy or Policy())
    out: dict[str, list] = {}
    for b in config.resources:
        if b.type in rule.resource_types:
            for r in rule.check(b, ctx):
                out.setdefault(b.address, []).append(r)
    return out


TAGS_POLICY = parse_policy("checks:\n  required_tags: [Owner, CostCenter]\n")


def test_required_tags_count_default_tags_of_the_aliased_provider() -> None:
    text = '''
provider "aws" {
  default_tags { tags = { Owner = "platform", CostCenter = "1" } }
}
provider "aws" {
  alias = "us"
}
resource "aws_sqs_queue" "default_provider" { name = "a" }
resource "aws_sqs_queue" "aliased" {
  provider = aws.us
  tags     = { Owner = "x" }
}
resource "aws_iam_role_policy_attachment" "untaggable" {
  role       = "r"
  policy_arn = "arn:aws:iam::aws:policy/ReadOnlyAccess"
}'''
    found = _results(REQUIRED_TAGS, text, TAGS_POLICY)
    assert set(found) == {"aws_sqs_queue.aliased"}
    assert found["aws_sqs_queue.aliased"][0].details["missing"] == ["CostCenter"]
    assert "aws_iam_role_policy_attachment" not in TAGGABLE_AWS_TYPES


def test_required_tags_through_merge_and_unknown_tags() -> None:
    text = '''
locals { common = { Owner = "platform" } }
variable "extra" { type = map(string) }
resource "aws_sqs_queue" "merged" {
  tags = merge(local.common, { CostCenter = "7" })
}
resource "aws_sqs_queue" "from_var" {
  tags = var.extra
}'''
    found = _results(REQUIRED_TAGS, text, TAGS_POLICY)
    assert set(found) == {"aws_sqs_queue.from_var"}
    assert found["aws_sqs_queue.from_var"][0].outcome is Outcome.UNKNOWN


def test_no_required_tags_in_policy_means_no_findings() -> None:
    assert _results(REQUIRED_TAGS, 'resource "aws_sqs_queue" "q" {}') == {}


SNAKE_HOUSE = '''
resource "aws_sqs_queue" "order_events" {}
resource "aws_sqs_queue" "order_events_dlq" {}
resource "aws_sns_topic" "order_alerts" {}
resource "aws_sns_topic" "main" {}
resource "aws_sqs_queue" "refund_events" {}
resource "aws_sqs_queue" "refund_events_dlq" {}
'''


def test_learned_snake_case_flags_an_agents_kebab_and_camel_names() -> None:
    text = SNAKE_HOUSE + 'resource "aws_sqs_queue" "payment-retries" {}\nresource "aws_sqs_queue" "paymentJobs" {}\n'
    found = _results(RESOURCE_NAME, text)
    assert set(found) == {"aws_sqs_queue.payment-retries", "aws_sqs_queue.paymentJobs"}
    msg = found["aws_sqs_queue.payment-retries"][0].message
    assert "kebab-case" in msg and "5 of 7 resource names here are snake_case" in msg
    assert learned_name_style(load_text(text)) == ("snake_case", 5, 7)


def test_no_house_style_without_enough_agreement_or_when_learning_is_off() -> None:
    mixed = 'resource "aws_sqs_queue" "a_b" {}\nresource "aws_sqs_queue" "c-d" {}\nresource "aws_sqs_queue" "eF" {}\n'
    assert _results(RESOURCE_NAME, mixed) == {}
    off = parse_policy("checks:\n  naming:\n    learn_from_code: false\n")
    assert _results(RESOURCE_NAME, SNAKE_HOUSE + 'resource "aws_sqs_queue" "x-y" {}', off) == {}


def test_policy_pattern_wins_over_learning() -> None:
    policy = parse_policy("checks:\n  naming:\n    resource_name_pattern: '^[a-z]+(-[a-z]+)*$'\n")
    found = _results(RESOURCE_NAME, SNAKE_HOUSE, policy)
    assert set(found) == {"aws_sqs_queue.order_events", "aws_sqs_queue.order_events_dlq", "aws_sns_topic.order_alerts",
                          "aws_sqs_queue.refund_events", "aws_sqs_queue.refund_events_dlq"}


def test_learned_name_tag_shape_env_prefix_and_separator() -> None:
    house = "".join(f'resource "aws_sqs_queue" "q{i}" {{\n  tags = {{ Name = "prod-{app}-queue" }}\n}}\n'
                    for i, app in enumerate(["orders", "refunds", "billing", "search"]))
    text = house + '''
resource "aws_sqs_queue" "wrong_env" {
  tags = { Name = "staging-payments-queue" }
}
resource "aws_sqs_queue" "underscored" {
  tags = { Name = "prod_payments_queue" }
}
resource "aws_sqs_queue" "good" {
  tags = { Name = "prod-payments-queue" }
}'''
    found = _results(NAME_TAG, text)
    assert set(found) == {"aws_sqs_queue.wrong_env", "aws_sqs_queue.underscored"}
    assert 'starting with "prod"' in found["aws_sqs_queue.wrong_env"][0].message
    assert 'separated by "-"' in found["aws_sqs_queue.underscored"][0].message


def test_name_tag_policy_pattern() -> None:
    policy = parse_policy("checks:\n  naming:\n    name_tag_pattern: '^(prod|dev)-[a-z]+$'\n")
    text = 'resource "aws_sqs_queue" "a" {\n  tags = { Name = "prod-a" }\n}\n' \
           'resource "aws_sqs_queue" "b" {\n  tags = { Name = "qa-b" }\n}\n'
    assert set(_results(NAME_TAG, text, policy)) == {"aws_sqs_queue.b"}


def test_resource_type_list_matches_bundled_schema() -> None:
    if not SHARED_SCHEMA.exists():
        pytest.skip(f"provider schema not found at {SHARED_SCHEMA}")
    with gzip.open(SHARED_SCHEMA, "rt", encoding="utf-8") as f:
        schema = json.load(f)["provider_schemas"]["registry.terraform.io/hashicorp/aws"]["resource_schemas"]
    assert set(ALL_AWS_TYPES) == set(schema)
    assert set(TAGGABLE_AWS_TYPES) == {t for t, s in schema.items() if "tags" in s["block"].get("attributes", {})}
