"""The stable Python entry points: ``check``, ``review`` and ``decide`` (also importable from ``infraleash``).

Each takes plain values (paths, argv lists), finds the policy the way the CLI does (``infraleash.yaml``
in the directory or a parent, else the defaults) and returns the same report the CLI renders.  Errors a
user can cause raise :class:`infraleash.errors.InfraleashError` subclasses, whose ``exit_code`` is the
CLI's.  The examples below are run by the test suite (``tests/test_api.py``) from the repository root.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from infraleash.checks.engine import CheckReport
from infraleash.gate.model import Action, Decision, GateContext
from infraleash.policy import Policy, policy_for
from infraleash.review import ReviewReport, review_path

__all__ = ["CheckReport", "Decision", "ReviewReport", "check", "decide", "review"]





def check(path: str | Path = ".", *, policy: Policy | str | Path | None = None,
          rules_dirs: Sequence[str | Path] = ()) -> CheckReport:
    """Static checks of a Terraform configuration directory (``infraleash check PATH``).

    >>> from infraleash import check
    >>> report = check("examples/review/proposed")
    >>> report.summary()["findings"] > 0
    True
    >>> sorted({f.rule for f in report.failing("high")})
    ['AWS-SG-OPEN-DATABASE']
    >>> [f.line for f in report.findings if f.rule == "AWS-SG-OPEN-DATABASE"]
    [40]
    """
    from infraleash.checks.coverage import require_configuration
    from infraleash.checks.engine import run_checks

    root = Path(path)
    require_configuration(root)
    chosen = policy_for(policy, root)
    if policy is None:  # found, not given: Python rules from a policy inside the checked tree are not loaded
        from infraleash.checks.custom_rules import guard_tree_policy

        chosen = guard_tree_policy(chosen, root)
    if rules_dirs:
        chosen = chosen.model_copy(deep=True)
        chosen.checks.rules_dirs = [*chosen.checks.rules_dirs, *(str(d) for d in rules_dirs)]
    return run_checks(root, chosen)


def review(path: str | Path = ".", *, plan: str | Path | None = None, policy: Policy | str | Path | None = None,
           run_plan: bool = True) -> ReviewReport:
    """Static checks and the plan's risk, one verdict (``infraleash review PATH [--plan F]``).

    With ``plan`` (a ``terraform show -json`` document) nothing runs; without it, ``terraform plan`` runs
    through the gate unless ``run_plan=False``.

    >>> from infraleash import review
    >>> report = review("examples/review/proposed", plan="examples/review/recorded-plan.json")
    >>> report.verdict.value
    'block'
    >>> [i.address for i in report.summary.replace]
    ['aws_security_group.legacy_app']
    >>> "PLAN-PROTECTED" in {f.rule for f in report.active()}
    True
    """
    return review_path(path, plan=plan, policy=policy, run_plan=run_plan)


def decide(argv: Sequence[str] | Action, *, policy: Policy | str | Path | None = None, cwd: str | Path = ".",
           context: GateContext | None = None) -> Decision:
    """What the gate would do with a command, without running it (``infraleash exec`` decides the same way).

    >>> from infraleash import decide
    >>> decide(["terraform", "plan", "-out=p.tfplan"]).verdict.value
    'allow'
    >>> d = decide(["terraform", "apply", "-auto-approve"])
    >>> d.verdict.value, d.rules[0].id
    ('deny', 'TF-APPLY-UNSAVED-PLAN')
    >>> decide(["kubectl", "delete", "namespace", "prod"]).verdict.value
    'deny'
    """
    from infraleash.gate.decision import decide as gate_decide

    action = argv if isinstance(argv, Action) else Action(argv=list(argv), cwd=str(cwd), requester="api")
    return gate_decide(action, policy_for(policy, action.cwd or "."), context)
