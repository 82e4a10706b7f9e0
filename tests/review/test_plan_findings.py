"""plan_findings: replacements that need no human, and protected resources that say why."""

from __future__ import annotations

from typing import Any

from infraleash.findings import Kind, Severity, Verdict
from infraleash.policy import Policy, ProtectedResources, ReplacementHold, ReviewPolicy, parse_policy
from infraleash.review import review_plan
from infraleash.terraform.plan import Plan, plan_from_dict


def _rc(address: str, actions: list[str], before: Any, after: Any, **change: Any) -> dict[str, Any]:
    rtype, name = address.split(".")
    return {"address": address, "mode": "managed", "type": rtype, "name": name,
            "provider_name": "registry.terraform.io/hashicorp/aws",
            "change": {"actions": actions, "before": before, "after": after, "after_unknown": {}, **change}}


def _plan(*changes: dict[str, Any], configuration: dict[str, Any] | None = None, **extra: Any) -> Plan:
    return plan_from_dict({"format_version": "1.2", "planned_values": {}, "resource_changes": list(changes),
                           "configuration": configuration or {}, **extra})


TEMPLATE = _rc("aws_launch_template.web", ["create", "delete"], {"id": "lt-1", "name_prefix": "web-"},
               {"id": None, "name_prefix": "web-v2-"}, replace_paths=[["name_prefix"]],
               after_unknown={"id": True})
INSTANCE = _rc("aws_autoscaling_group.web", ["update"], {"id": "asg", "launch_template": [{"id": "lt-1"}]},
               {"id": "asg", "launch_template": [{"id": None}]}, after_unknown={"launch_template": [{"id": True}]})
USES_TEMPLATE = {"root_module": {"resources": [
    {"address": "aws_launch_template.web", "type": "aws_launch_template", "name": "web", "expressions": {}},
    {"address": "aws_autoscaling_group.web", "type": "aws_autoscaling_group", "name": "web",
     "expressions": {"launch_template": [{"id": {"references": ["aws_launch_template.web.id",
                                                                "aws_launch_template.web"]}}]}}]}}


def test_create_before_destroy_of_a_stateless_resource_nothing_takes_the_id_of_is_allowed_and_listed() -> None:
    report = review_plan(_plan(TEMPLATE), Policy())
    (f,) = report.active()
    assert (f.rule, f.severity) == ("PLAN-REPLACE", Severity.LOW) and "no approval needed" in f.message
    assert report.verdict is Verdict.ALLOW
    assert report.summary is not None and [i.address for i in report.summary.replace] == ["aws_launch_template.web"]


def test_the_same_replacement_is_held_when_a_changed_resource_takes_its_new_id() -> None:
    report = review_plan(_plan(TEMPLATE, INSTANCE, configuration=USES_TEMPLATE), Policy())
    (f,) = [f for f in report.active() if f.rule == "PLAN-REPLACE"]
    assert f.severity is Severity.MEDIUM and f.details["also_touches"] == ["aws_autoscaling_group.web"]
    assert report.verdict is Verdict.NEEDS_APPROVAL


def test_held_by_policy_per_resource_type_or_environment_and_never_low_when_protected_or_with_a_gap() -> None:
    by_type = Policy(review=ReviewPolicy(hold_replacements=[ReplacementHold(resource_types=["aws_launch_*"])]))
    assert review_plan(_plan(TEMPLATE), by_type).verdict is Verdict.NEEDS_APPROVAL
    by_env = parse_policy("environments:\n  - name: production\n    match: {workspaces: [prod]}\n"
                          "review:\n  hold_replacements:\n    - environments: [production]\n"
                          "      reason: every production rollout is announced\n")
    (held,) = review_plan(_plan(TEMPLATE), by_env, environment="production").active()
    assert held.severity is Severity.MEDIUM and "every production rollout is announced" in held.message
    assert review_plan(_plan(TEMPLATE), by_env, environment=None).verdict is Verdict.ALLOW
    protected = Policy(protected=ProtectedResources(addresses=["aws_launch_template.*"]))
    assert review_plan(_plan(TEMPLATE), protected).verdict is Verdict.BLOCK
    gap = _rc("aws_launch_template.web", ["delete", "create"], {"id": "lt-1"}, {"id": None},
              replace_paths=[["name_prefix"]])
    assert review_plan(_plan(gap), Policy()).verdict is Verdict.NEEDS_APPROVAL


def test_a_stateful_type_replaced_create_before_destroy_still_holds() -> None:
    queue = _rc("aws_sqs_queue.jobs", ["create", "delete"], {"id": "q", "name": "jobs"}, {"id": None, "name": "j2"},
                replace_paths=[["name"]])
    assert Kind.DATA_LOSS in {f.kind for f in review_plan(_plan(queue), Policy()).active()}
    assert review_plan(_plan(queue), Policy()).verdict is not Verdict.ALLOW


REASONED = parse_policy('protected:\n  addresses:\n    - {address: "aws_db_instance.*", reason: "hard-coded by the '
                        'billing app"}\n  tags:\n    Billing: {value: "yes", reason: "finance owns it"}\n', "p.yaml")


def test_every_finding_about_a_protected_resource_shows_the_entrys_reason() -> None:
    db = _rc("aws_db_instance.main", ["delete", "create"],
             {"id": "db", "identifier": "main", "skip_final_snapshot": True}, {"id": None, "identifier": "main2"},
             replace_paths=[["identifier"]])
    cloud = {"id": "q", "name": "q", "tags": {"Billing": "yes", "Owner": "x"}}
    state = {"id": "q", "name": "q", "tags": {"Billing": "yes"}}
    queue = _rc("aws_sqs_queue.q", ["update"], cloud, state)
    plan = _plan(db, queue, resource_drift=[_rc("aws_sqs_queue.q", ["update"], state, cloud)])
    report = review_plan(plan, REASONED)
    about_db = [f for f in report.active() if f.address == "aws_db_instance.main"]
    assert {f.rule for f in about_db} == {"PLAN-PROTECTED", "PLAN-REPLACE", "PLAN-DATA-LOSS"}
    assert all("hard-coded by the billing app" in f.message for f in about_db)
    assert all(f.details["protected_because"].endswith("hard-coded by the billing app") for f in about_db)
    about_queue = [f for f in report.active() if f.address == "aws_sqs_queue.q"]
    assert {f.rule for f in about_queue} == {"PLAN-PROTECTED", "PLAN-DRIFT"}
    assert all("finance owns it" in f.message for f in about_queue)
    plain = review_plan(plan, Policy(protected=ProtectedResources(addresses=["aws_db_instance.*"])))
    assert not any("billing app" in f.message for f in plain.active())
