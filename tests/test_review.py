"""review(): static findings + plan findings -> one verdict, on the bundled example's real recorded plan."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from infraleash.findings import Finding, Kind, Severity, Verdict
from infraleash.policy import Policy, ProtectedResources, Suppression, load_policy
from infraleash.review import review, review_plan, verdict_for
from infraleash.terraform.plan import load_plan, plan_from_dict

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "review"
RECORDED = EXAMPLE / "recorded-plan.json"


def doc(*changes: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"format_version": "1.2", "planned_values": {}, "resource_changes": list(changes), **extra}


def rc(address: str, actions: list[str], before: Any, after: Any, **change: Any) -> dict[str, Any]:
    rtype, name = address.split(".")
    return {"address": address, "mode": "managed", "type": rtype, "name": name, "provider_name": "aws",
            "change": {"actions": actions, "before": before, "after": after, "after_unknown": {}, **change}}


def test_bundled_example_is_blocked_for_replacing_the_protected_group() -> None:
    report = review(EXAMPLE / "proposed", load_policy(EXAMPLE / "infraleash.yaml"), plan_file=RECORDED)
    assert report.verdict is Verdict.BLOCK
    # the headline is the first clause of the worst finding plus the counts; the why stays in the findings
    assert report.headline.startswith("BLOCK: the plan would replace protected resource aws_security_group.legacy_app "
                                      "(1 to replace, 2 to change in place; ")
    (protected,) = [f for f in report.active() if f.kind is Kind.PROTECTED]
    assert protected.address == "aws_security_group.legacy_app" and protected.severity is Severity.CRITICAL
    assert protected.details["also_touches"] == ["aws_instance.billing", "aws_security_group.db"]
    assert report.summary is not None
    assert [i.address for i in report.summary.replace] == ["aws_security_group.legacy_app"]
    assert "aws_security_group.db" in [i.address for i in report.summary.update]
    assert report.environment == "production" and report.plan_source == str(RECORDED)


def test_json_report_uses_the_check_finding_shape() -> None:
    report = review_plan(load_plan(RECORDED), load_policy(EXAMPLE / "infraleash.yaml"))
    data = json.loads(json.dumps(report.to_json()))
    assert data["verdict"] == "block"
    for f in data["findings"]:
        assert Finding.model_validate(f).rule == f["rule"]
    kinds = {f["kind"] for f in data["findings"]}
    assert {"protected", "replace", "disruption"} <= kinds


def test_tags_only_and_pure_additions_are_allowed_destroys_need_approval() -> None:
    tags = plan_from_dict(doc(rc("aws_s3_bucket.a", ["update"], {"bucket": "a", "tags": {"x": "1"}},
                                 {"bucket": "a", "tags": {"x": "2"}})))
    add = plan_from_dict(doc(rc("aws_sqs_queue.q", ["create"], None, {"name": "q"})))
    gone = plan_from_dict(doc(rc("aws_iam_role.r", ["delete"], {"name": "r"}, None)))
    assert review_plan(tags, Policy()).verdict is Verdict.ALLOW
    assert review_plan(add, Policy()).verdict is Verdict.ALLOW
    report = review_plan(gone, Policy())
    assert report.verdict is Verdict.NEEDS_APPROVAL and [f.rule for f in report.active()] == ["PLAN-DESTROY"]


def test_protected_by_id_and_tag_update_needs_approval_delete_blocks() -> None:
    policy = Policy(protected=ProtectedResources(ids=["sg-0123"], tags={"Protected": "true"}))
    by_id = plan_from_dict(doc(rc("aws_security_group.x", ["update"], {"id": "sg-0123", "description": "a"},
                                  {"id": "sg-0123", "description": "b"})))
    by_tag = plan_from_dict(doc(rc("aws_s3_bucket.y", ["delete"], {"id": "y", "tags": {"Protected": "true"}},
                                   None)))
    update = review_plan(by_id, policy)
    assert update.verdict is Verdict.NEEDS_APPROVAL and "id sg-0123 is protected" in update.active()[0].message
    assert review_plan(by_tag, policy).verdict is Verdict.BLOCK


def test_static_findings_block_at_the_failing_severity_only() -> None:
    high = Finding(rule="AWS-SG-DB-OPEN", kind=Kind.SECURITY, severity=Severity.HIGH, message="open")
    low = Finding(rule="CONV", kind=Kind.CONVENTION, severity=Severity.LOW, message="naming")
    assert verdict_for([high], Severity.HIGH) is Verdict.BLOCK
    assert verdict_for([high], Severity.CRITICAL) is Verdict.ALLOW
    assert verdict_for([low], Severity.HIGH) is Verdict.ALLOW
    assert verdict_for([high.model_copy(update={"suppressed": "accepted"})], Severity.HIGH) is Verdict.ALLOW


def test_policy_suppressions_apply_to_plan_findings() -> None:
    plan = plan_from_dict(doc(rc("aws_iam_role.r", ["delete"], {"name": "r"}, None)))
    policy = Policy.model_validate({"checks": {"suppressions": [
        {"rule": "PLAN-DESTROY", "address": "aws_iam_role.*", "reason": "roles are recreated by the pipeline"}]}})
    assert isinstance(policy.checks.suppressions[0], Suppression)
    report = review_plan(plan, policy)
    assert report.verdict is Verdict.ALLOW and report.findings[0].suppressed == "roles are recreated by the pipeline"


def test_drift_not_relevant_to_the_plan_gives_no_finding() -> None:
    drift = rc("aws_s3_bucket.b", ["update"], {"bucket": "b", "versioning": []},
               {"bucket": "b", "versioning": [{"enabled": True}]})
    plain = plan_from_dict(doc(rc("aws_s3_bucket.b", ["no-op"], {"bucket": "b"}, {"bucket": "b"}),
                               resource_drift=[drift]))
    relevant = plan_from_dict(doc(rc("aws_s3_bucket.b", ["no-op"], {"bucket": "b"}, {"bucket": "b"}),
                                  resource_drift=[drift],
                                  relevant_attributes=[{"resource": "aws_s3_bucket.b", "attribute": ["versioning"]}]))
    assert [f.rule for f in review_plan(plain, Policy()).findings] == []
    (f,) = review_plan(relevant, Policy()).findings
    assert f.kind is Kind.DRIFT and f.severity is Severity.INFO and "keeps it" in f.message


def test_no_plan_modes_say_so(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text('resource "aws_sqs_queue" "q" {\n  name = "q"\n}\n')
    skipped = review(tmp_path, Policy(), run_plan=False)
    assert skipped.summary is None and any("--no-plan" in n for n in skipped.notes)
    without_tf = review(tmp_path, Policy(), env={"PATH": str(tmp_path)})
    assert without_tf.verdict is not Verdict.ALLOW
    assert any("not on PATH" in n for n in without_tf.notes)


def test_missing_path_is_an_input_error(tmp_path: Path) -> None:
    from infraleash.errors import InputError

    with pytest.raises(InputError, match="no such file"):
        review(tmp_path / "nope", Policy(), run_plan=False)


def test_recorded_plan_was_recorded_from_the_current_tf_files() -> None:
    """Re-record (.venv/bin/python examples/review/record_plan.py) when production/ or proposed/ *.tf change."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("record_plan", EXAMPLE / "record_plan.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    recorded = (EXAMPLE / "recorded-plan.sha256").read_text(encoding="utf-8").strip()
    assert module.inputs_hash() == recorded, "examples/review/*.tf changed since recorded-plan.json was recorded"


def test_recorded_plan_matches_the_bundled_proposed_configuration() -> None:
    """Re-record (examples/review/record_plan.py) when proposed/*.tf changes."""
    import re

    declared = {f"{t}.{n}" for f in (EXAMPLE / "proposed").glob("*.tf")
                for t, n in re.findall(r'^resource "([\w-]+)" "([\w-]+)"', f.read_text(), re.M)}
    recorded = {r["address"] for r in load_plan(RECORDED).configuration["root_module"]["resources"]}
    assert recorded == declared
    changed = {rc.address for rc in load_plan(RECORDED).changes()}
    assert changed == {"aws_security_group.legacy_app", "aws_security_group.db", "aws_instance.billing"}


def test_protection_tag_removed_or_flipped_by_the_change_still_matches() -> None:
    policy = Policy(protected=ProtectedResources(tags={"Protected": "true"}))
    flipped = plan_from_dict(doc(rc("aws_s3_bucket.y", ["update"],
                                    {"id": "y", "tags": {"Protected": "true"}, "tags_all": {"Protected": "true"}},
                                    {"id": "y", "tags": {"Protected": "false"}, "tags_all": {"Protected": "false"}})))
    (f,) = review_plan(flipped, policy).active()
    assert f.rule == "PLAN-PROTECTED" and f.severity is Severity.HIGH and "Protected=true" in f.message
    dropped = plan_from_dict(doc(rc("aws_s3_bucket.y", ["delete", "create"], {"id": "y", "tags": {"Protected": "true"}},
                                    {"id": None, "tags": None}, replace_paths=[["bucket"]])))
    assert review_plan(dropped, policy).verdict is Verdict.BLOCK
    untagged = plan_from_dict(doc(rc("aws_s3_bucket.y", ["update"], {"id": "y", "tags": {"Protected": "no"}},
                                     {"id": "y", "tags": {"Protected": "false"}})))
    assert review_plan(untagged, policy).active() == []


def test_create_then_forget_is_a_replace_that_loses_no_data() -> None:
    plan = plan_from_dict(doc(rc("aws_s3_bucket.y", ["create", "forget"], {"id": "y", "bucket": "y"},
                                 {"bucket": "y2"})))
    report = review_plan(plan, Policy())
    (f,) = report.active()
    assert f.rule == "PLAN-REPLACE" and "stays in the cloud" in f.message
    assert report.verdict is Verdict.NEEDS_APPROVAL


def test_markdown_for_a_huge_plan_stays_under_the_github_comment_limit() -> None:
    from infraleash.review.render import MARKDOWN_LIMIT, render_markdown

    changes = [rc(f"aws_s3_bucket.b{i}", ["delete"], {"id": f"b{i}", "bucket": f"bucket-{i}"}, None)
               for i in range(3000)]
    report = review_plan(plan_from_dict(doc(*changes)), Policy())
    text = render_markdown(report)
    assert len(text) < MARKDOWN_LIMIT and len(text.encode()) < MARKDOWN_LIMIT
    assert text.startswith("### ⏸️ infraleash review: **needs_approval**")
    shown = text.count("| high | `PLAN-DESTROY`")
    assert 0 < shown < 3000 and f"**{len(report.active()) - shown} more not shown**" in text
    assert text.rstrip().endswith("</sub>") and "</details>" in text
    small = render_markdown(review_plan(plan_from_dict(doc(*changes[:3])), Policy()))
    assert "more not shown" not in small and small.count("| high | `PLAN-DESTROY`") == 3


def test_drift_on_a_protected_resource_that_the_plan_reverts_needs_approval() -> None:
    """Someone hot-fixed a protected group by hand; the plan would undo it: a human decides, nothing is destroyed."""
    state = {"id": "sg-0123", "description": "d", "ingress": []}
    cloud = {**state, "ingress": [{"from_port": 22, "cidr_blocks": ["0.0.0.0/0"]}]}
    plan = plan_from_dict(doc(rc("aws_security_group.legacy", ["update"], cloud, state),
                              resource_drift=[rc("aws_security_group.legacy", ["update"], state, cloud)]))
    report = review_plan(plan, Policy(protected=ProtectedResources(ids=["sg-0123"])))
    assert {f.rule: f.severity for f in report.active()} == {"PLAN-PROTECTED": Severity.HIGH,
                                                              "PLAN-DRIFT": Severity.MEDIUM}
    drift = next(f for f in report.active() if f.rule == "PLAN-DRIFT")
    assert "reverts" in drift.message and "ingress" in drift.message
    assert report.verdict is Verdict.NEEDS_APPROVAL


def test_destroy_messages_say_why_terraform_deletes() -> None:
    key_gone = rc("aws_sqs_queue.q", ["delete"], {"name": "q"}, None)
    key_gone.update(address='aws_sqs_queue.q["eu"]', action_reason="delete_because_each_key")
    deposed = rc("aws_sqs_queue.old", ["delete"], {"name": "old"}, None)
    deposed.update(deposed="00000001")
    messages = [f.message for f in review_plan(plan_from_dict(doc(key_gone, deposed)), Policy()).active()
                if f.rule == "PLAN-DESTROY"]
    assert messages == ['destroys aws_sqs_queue.q["eu"] (its for_each key is no longer in the collection)',
                        "destroys aws_sqs_queue.old (deposed object 00000001, left by an earlier "
                        "create_before_destroy)"]
