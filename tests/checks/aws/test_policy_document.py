"""Policy documents in all their forms normalise to the same statements; unknowns stay unknown."""

from __future__ import annotations

import fnmatch
import random

from infraleash.checks.aws.policy_document import (
    _covers,
    from_document_block,
    has_wildcard,
    policy_statements,
    principal_is_public,
    statements,
)
from infraleash.terraform.config import Unknown
from infraleash.terraform.hcl import load_text

FORMS = '''
resource "aws_iam_policy" "jsonencoded" {
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = ["s3:GetObject"], Resource = "*" }]
  })
}
resource "aws_iam_policy" "heredoc" {
  policy = <<EOT
{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}}
EOT
}
data "aws_iam_policy_document" "doc" {
  statement {
    actions   = ["s3:GetObject"]
    resources = ["*"]
  }
}
resource "aws_iam_policy" "from_data" {
  policy = data.aws_iam_policy_document.doc.json
}
'''


def test_three_forms_give_the_same_statement() -> None:
    config = load_text(FORMS)
    got = {}
    for block in config.resources:
        found = policy_statements(block, "policy", config)
        assert isinstance(found, list) and len(found) == 1, block.address
        st = found[0]
        assert not isinstance(st, Unknown)
        got[block.name] = (st.allows, st.actions, st.resources)
    assert set(got.values()) == {(True, ("s3:GetObject",), ("*",))}, got


def test_data_source_statements_carry_their_line_and_block() -> None:
    config = load_text(FORMS)
    doc = config.data[0]
    (st,) = from_document_block(doc)
    assert not isinstance(st, Unknown)
    assert st.block is doc and st.line == doc.blocks("statement")[0].line


def test_data_source_principals_and_conditions() -> None:
    config = load_text('''
data "aws_iam_policy_document" "trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "AWS"
      identifiers = ["*"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:PrincipalOrgID"
      values   = ["o-abc123"]
    }
  }
}''')
    (st,) = from_document_block(config.data[0])
    assert not isinstance(st, Unknown)
    assert principal_is_public(st.principals) is True
    assert st.has_condition


def test_unknown_document_and_unknown_values() -> None:
    assert isinstance(statements(Unknown("var.policy")), Unknown)
    assert isinstance(statements("not json"), Unknown)
    (st,) = statements({"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": Unknown("arn")}]})
    assert not isinstance(st, Unknown)
    assert has_wildcard(st.resources) is None
    assert principal_is_public({"AWS": (Unknown("var.x"),)}) is None
    assert principal_is_public({"Service": ("lambda.amazonaws.com",)}) is False
    assert statements(None) is None


def test_action_patterns_match_as_fnmatch_does() -> None:
    """The direct comparisons for "exact" and "prefix*" patterns answer as case-insensitive fnmatch."""
    rng = random.Random(5)
    for _ in range(20000):
        pattern = "".join(rng.choice("aAbB:*?[]!-") for _ in range(rng.randint(0, 6)))
        action = "".join(rng.choice("aAbB:*?[]-\n") for _ in range(rng.randint(0, 6)))
        assert _covers(pattern, action) == fnmatch.fnmatchcase(action.lower(), pattern.lower()), (pattern, action)
    assert _covers("IAM:Pass*", "iam:PassRole") and not _covers("iam:Pass", "iam:PassRole")
