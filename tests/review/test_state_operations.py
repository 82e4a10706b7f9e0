"""import / removed (destroy = false) / moved blocks: state operations, decided like the CLI commands.

The sandbox tests apply one small state (two SQS queues) to the session's moto server (names prefixed
``stateops-``, so no other module's resources meet them), make a bucket out of band, and plan three
real changes of it: an import block, a removed block that keeps the queue, a moved block.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import pytest

from infraleash.findings import Kind, Severity, Verdict
from infraleash.gate.decision import decide
from infraleash.gate.model import Action, GateContext, GateVerdict
from infraleash.paperwork.pr_description import describe
from infraleash.policy import Environment, EnvironmentMatch, Override, Policy, ReviewPolicy, TrustLevel
from infraleash.review import ReviewReport, review, review_plan, verdict_for
from infraleash.review.render import render
from infraleash.review.sandbox_plan import Production
from infraleash.terraform.plan import Plan, parse_plan, plan_from_dict

# ------------------------------------------------------------------ without the sandbox


def _entry(address: str, actions: list[str], **extra: Any) -> dict[str, Any]:
    rtype, name = address.split(".")
    return {"address": address, "mode": "managed", "type": rtype, "name": name, "provider_name": "aws",
            **{k: v for k, v in extra.items() if k == "previous_address"},
            "change": {"actions": actions, "before": {"id": name}, "after": None if actions == ["forget"]
                       else {"id": name}, "after_unknown": {},
                       **{k: v for k, v in extra.items() if k != "previous_address"}}}


def _plan(*entries: dict[str, Any]) -> Plan:
    return plan_from_dict({"format_version": "1.2", "planned_values": {}, "resource_changes": list(entries)})


FORGET = _plan(_entry("aws_sqs_queue.old", ["forget"]))
IMPORT = _plan(_entry("aws_s3_bucket.logs", ["no-op"], importing={"id": "logs-bucket"}))
MOVE = _plan(_entry("aws_sqs_queue.work", ["no-op"], previous_address="aws_sqs_queue.jobs"))


def test_each_block_is_a_state_operation_naming_its_cli_command() -> None:
    expected = {"PLAN-FORGET": (FORGET, "terraform state rm aws_sqs_queue.old"),
                "PLAN-IMPORT": (IMPORT, "terraform import aws_s3_bucket.logs logs-bucket"),
                "PLAN-MOVE": (MOVE, "terraform state mv aws_sqs_queue.jobs aws_sqs_queue.work")}
    for rule, (plan, command) in expected.items():
        (f,) = review_plan(plan, Policy(review=ReviewPolicy(state_operations_follow_gate=False))).active()
        assert (f.rule, f.kind, f.severity) == (rule, Kind.STATE_OPERATION, Severity.MEDIUM)
        assert f"`{command}`" in f.message and f.details["equivalent_argv"] == command.split()


def test_the_switch_defaults_on_below_act_with_approval_and_off_at_it() -> None:
    assert [ReviewPolicy().follows_gate(t) for t in TrustLevel] == [True, True, False]
    assert ReviewPolicy(state_operations_follow_gate=False).follows_gate(TrustLevel.PLAN) is False
    # off: held for approval whatever the trust level; on at plan trust: the gate refuses `state rm`
    assert review_plan(FORGET, Policy(review=ReviewPolicy(state_operations_follow_gate=False))).verdict \
        is Verdict.NEEDS_APPROVAL
    report = review_plan(FORGET, Policy(trust_level=TrustLevel.PLAN))
    (f,) = report.active()
    assert f.severity is Severity.CRITICAL and report.verdict is Verdict.BLOCK
    assert f.details["gate"]["verdict"] == "deny" and f.details["gate"]["rules"][:2] == ["TRUST-LEVEL",
                                                                                          "TF-STATE-MUTATE"]
    assert "the gate refuses that command in the default environment, trust plan (TRUST-LEVEL:" in f.message


def test_switched_on_at_act_with_approval_an_override_of_the_cli_rule_applies_to_the_block_too() -> None:
    override = Override(rule="TF-IMPORT", decision="allow", reason="imports are reviewed in the PR")
    on = Policy(trust_level=TrustLevel.ACT_WITH_APPROVAL, overrides=[override],
                review=ReviewPolicy(state_operations_follow_gate=True))
    assert decide(Action(argv=["terraform", "import", "aws_s3_bucket.logs", "logs-bucket"]), on).verdict \
        is GateVerdict.ALLOW
    report = review_plan(IMPORT, on)
    (f,) = report.findings
    assert report.verdict is Verdict.ALLOW and f.severity is Severity.INFO and "the gate allows" in f.message
    off = on.model_copy(update={"review": ReviewPolicy()})  # the default at act-with-approval: a hold
    assert review_plan(IMPORT, off).verdict is Verdict.NEEDS_APPROVAL


# ------------------------------------------------------------------ real plans

PREFIX = "stateops"
PRODUCTION = f"""\
resource "aws_sqs_queue" "jobs" {{
  name = "{PREFIX}-jobs"
}}

resource "aws_sqs_queue" "old" {{
  name = "{PREFIX}-old"
}}
"""
IMPORTED = f"{PREFIX}-imported-bucket"
SCENARIOS = {  # two plans: an import block with a moved block, and a removed block alone
    "import": PRODUCTION.replace('"jobs"', '"work"')
              + f'\nimport {{\n  to = aws_s3_bucket.imported\n  id = "{IMPORTED}"\n}}\n'
              f'resource "aws_s3_bucket" "imported" {{\n  bucket = "{IMPORTED}"\n}}\n'
              "\nmoved {\n  from = aws_sqs_queue.jobs\n  to   = aws_sqs_queue.work\n}\n",
    "removed": PRODUCTION.split('resource "aws_sqs_queue" "old"')[0]
               + "removed {\n  from = aws_sqs_queue.old\n  lifecycle {\n    destroy = false\n  }\n}\n",
}
EQUIVALENT = {"PLAN-IMPORT": ["terraform", "import", "aws_s3_bucket.imported", IMPORTED],
              "PLAN-MOVE": ["terraform", "state", "mv", "aws_sqs_queue.jobs", "aws_sqs_queue.work"],
              "PLAN-FORGET": ["terraform", "state", "rm", "aws_sqs_queue.old"]}
GATE_TO_REVIEW = {GateVerdict.DENY: Verdict.BLOCK, GateVerdict.NEEDS_APPROVAL: Verdict.NEEDS_APPROVAL,
                  GateVerdict.ALLOW: Verdict.ALLOW}


@pytest.fixture(scope="module")
def planned(sandbox: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple[Path, Plan]]]:
    base = tmp_path_factory.mktemp("stateops")
    prod = Production.apply(base / "prod", {"main.tf": PRODUCTION}, endpoint=sandbox.endpoint, env=sandbox.env())
    boto3.client("s3", endpoint_url=sandbox.endpoint, region_name="us-east-1", aws_access_key_id="test",
                 aws_secret_access_key="test").create_bucket(Bucket=IMPORTED)  # noqa: S106

    def one(name: str) -> tuple[Path, Plan]:
        scenario = prod.derive(base / name, {"main.tf": SCENARIOS[name]})
        text = scenario.plan_json("-refresh=false")
        (scenario.workdir / "plan.json").write_text(text, encoding="utf-8")
        return scenario.workdir, parse_plan(text, f"{name}.json")

    with ThreadPoolExecutor(max_workers=2) as pool:
        yield dict(zip(SCENARIOS, pool.map(one, SCENARIOS), strict=True))


@pytest.mark.sandbox
@pytest.mark.parametrize("trust", list(TrustLevel))
@pytest.mark.parametrize("scenario", ["import", "removed"])
def test_a_real_block_is_decided_like_its_cli_command_at_each_trust_level(
        planned: dict[str, tuple[Path, Plan]], scenario: str, trust: TrustLevel) -> None:
    workdir, plan = planned[scenario]
    policy = Policy(trust_level=trust)
    report = review_plan(plan, policy, path=str(workdir), context=GateContext(workspace="default"))
    ops = {f.rule: f for f in report.active() if f.kind is Kind.STATE_OPERATION}
    assert set(ops) == ({"PLAN-IMPORT", "PLAN-MOVE"} if scenario == "import" else {"PLAN-FORGET"})
    gate = {}
    for rule, f in ops.items():
        assert f.details["equivalent_argv"] == EQUIVALENT[rule]
        gate[rule] = decide(Action(argv=EQUIVALENT[rule], cwd=str(workdir)), policy,
                            GateContext(workspace="default")).verdict
        assert f.details.get("gate", {}).get("verdict", "needs_approval") == gate[rule].value
    # below act-with-approval the gate refuses each command, so the review blocks; at it, both hold
    expected = GateVerdict.NEEDS_APPROVAL if trust is TrustLevel.ACT_WITH_APPROVAL else GateVerdict.DENY
    assert set(gate.values()) == {expected} and report.verdict is GATE_TO_REVIEW[expected]
    assert [x for x in report.active() if x.kind in (Kind.DESTROY, Kind.DATA_LOSS, Kind.REPLACE)] == []


@pytest.mark.sandbox
def test_per_environment_the_review_follows_the_gate_of_that_environment(
        planned: dict[str, tuple[Path, Plan]]) -> None:
    workdir, _ = planned["import"]
    policy = Policy(trust_level=TrustLevel.OBSERVE, environments=[
        Environment(name="staging", match=EnvironmentMatch(workspaces=["staging"]),
                    trust_level=TrustLevel.ACT_WITH_APPROVAL),
        Environment(name="production", match=EnvironmentMatch(workspaces=["prod*"]), trust_level=TrustLevel.PLAN)],
        review=ReviewPolicy(state_operations_follow_gate=True),
        overrides=[Override(rule="TF-IMPORT", decision="allow", reason="imports are reviewed in the PR",
                            environments=["staging"])])
    verdicts = {}
    for workspace in ("staging", "prod-eu"):
        ctx = GateContext(workspace=workspace)
        report = review(workdir, policy, plan_file=workdir / "plan.json", context=ctx)
        gate = decide(Action(argv=EQUIVALENT["PLAN-IMPORT"], cwd=str(workdir)), policy, ctx)
        (f,) = [f for f in report.active() if f.rule == "PLAN-IMPORT"]
        assert f.details["gate"]["environment"] == gate.environment == report.environment
        # the verdict the import block alone gets (the plan's moved block and the static checks of the
        # bucket are judged on their own)
        verdicts[workspace] = (gate.verdict, verdict_for([f], Severity.HIGH))
    assert verdicts == {"staging": (GateVerdict.ALLOW, Verdict.ALLOW), "prod-eu": (GateVerdict.DENY, Verdict.BLOCK)}


def _texts(report: ReviewReport) -> dict[str, str]:
    out = {fmt: render(report, fmt) for fmt in ("human", "markdown", "sarif")}
    out["pr-description"] = describe(report).markdown()
    return out


@pytest.mark.sandbox
def test_a_plan_that_only_forgets_is_never_described_as_destroying(planned: dict[str, tuple[Path, Plan]]) -> None:
    _, plan = planned["removed"]
    (forgotten,) = [rc for rc in plan.resource_changes if rc.address == "aws_sqs_queue.old"]
    assert forgotten.actions == ["forget"]
    for trust in TrustLevel:
        report = review_plan(plan, Policy(trust_level=trust))
        assert report.summary is not None and [i.address for i in report.summary.forget] == ["aws_sqs_queue.old"]
        assert report.summary.destroy == [] and "1 to stop managing" in report.headline
        for fmt, text in _texts(report).items():
            assert "destroy" not in text.lower(), (trust, fmt)
        data = json.loads(render(report, "json"))  # its changes have a "destroy" key: empty
        assert data["changes"]["destroy"] == [] and "destroy" not in data["headline"]
        assert [(f["kind"], "destroy" in f["message"]) for f in data["findings"]] == [("state_operation", False)]
