"""Walking the IAM policies a resource carries, statement by statement.

:func:`policy_results` runs a per-statement test over every policy of a resource and
turns the answers into results: a FAIL per offending statement, else one UNKNOWN when a
statement (or the whole document) could not be decided.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from infraleash.checks.aws.policy_document import Statement, document_source, policy_statements, statements
from infraleash.checks.rule import CheckContext, Result
from infraleash.findings import Outcome
from infraleash.terraform.config import Block, Unknown

IDENTITY_POLICY_TYPES = ("aws_iam_policy", "aws_iam_role_policy", "aws_iam_user_policy", "aws_iam_group_policy",
                         "aws_iam_role")

StatementTest = Callable[[Statement], bool | None]


IdentityPolicy = tuple[str, list[Statement | Unknown] | Unknown, Block | None]


def identity_policies(block: Block, ctx: CheckContext) -> list[IdentityPolicy]:
    """(attribute, statements, data source) for each identity policy the resource carries.

    Read once per block and check (:meth:`CheckContext.fact`): five IAM rules walk the same policies.
    """
    return ctx.fact("identity_policies", block, lambda: list(_identity_policies(block, ctx)))


def _identity_policies(block: Block, ctx: CheckContext) -> Iterator[IdentityPolicy]:
    if block.type == "aws_iam_role":
        for inline in block.blocks("inline_policy"):
            found = statements(inline.get("policy"))
            if found is not None:
                yield "inline_policy", found, None
        return
    found = policy_statements(block, "policy", ctx.config)
    if found is not None:
        yield "policy", found, document_source(block, "policy", ctx.config)


def policy_results(block: Block, attribute: str, found: list[Statement | Unknown] | Unknown,
                   source: Block | None, test: StatementTest, message: str) -> Iterator[Result]:
    if isinstance(found, Unknown):
        yield Result(f"{message}: cannot tell, the policy is not known statically ({found.reason})",
                     outcome=Outcome.UNKNOWN, attribute=attribute, details={"unknown": found.reason})
        return
    undecided: list[str] = []
    failed = False
    for i, st in enumerate(found):
        if isinstance(st, Unknown):
            undecided.append(st.reason)
            continue
        verdict = test(st)
        if verdict:
            failed = True
            where = f" (statement {st.sid or i + 1}"
            where += f" in {source.address}, {source.file}:{st.line})" if source is not None and st.line else ")"
            details = {"statement": st.sid or i + 1}
            if source is not None:
                details["document"] = source.address
                details["statement_line"] = st.line or source.line
            yield Result(message + where, attribute=attribute, details=details)
        elif verdict is None:
            undecided.append(f"statement {st.sid or i + 1} has values known only at apply time")
    if undecided and not failed:
        yield Result(f"{message}: cannot tell, {undecided[0]}", outcome=Outcome.UNKNOWN, attribute=attribute,
                     details={"unknown": undecided[0]})


def check_identity_policies(block: Block, ctx: CheckContext, test: StatementTest, message: str) -> Iterator[Result]:
    for attribute, found, source in identity_policies(block, ctx):
        yield from policy_results(block, attribute, found, source, test, message)


def allow(st: Statement, inner: Callable[[], bool | None]) -> bool | None:
    """``inner()`` for an Allow statement; False for Deny; None when the effect is unknown."""
    a = st.allows
    if a is False:
        return False
    verdict = inner()
    if a is None and verdict:
        return None
    return verdict


def and3(*values: bool | None) -> bool | None:
    """Three-valued AND: False wins, then unknown."""
    if any(v is False for v in values):
        return False
    if any(v is None for v in values):
        return None
    return True


def or3(*values: bool | None) -> bool | None:
    """Three-valued OR: True wins, then unknown."""
    if any(v is True for v in values):
        return True
    if any(v is None for v in values):
        return None
    return False
