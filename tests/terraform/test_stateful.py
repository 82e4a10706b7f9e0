"""The stateful-resource table: what destroying, replacing or updating a data/traffic resource costs."""

from __future__ import annotations

from typing import Any

import pytest

from infraleash.findings import Kind, Severity
from infraleash.terraform.plan import plan_from_dict
from infraleash.terraform.stateful import STATEFUL, apply_failures, assess


def one_change(rtype: str, actions: list[str], before: Any, after: Any) -> Any:
    doc = {"format_version": "1.2", "planned_values": {}, "resource_changes": [
        {"address": f"{rtype}.x", "mode": "managed", "type": rtype, "name": "x", "provider_name": "aws",
         "change": {"actions": actions, "before": before, "after": after, "after_unknown": {}}}]}
    return plan_from_dict(doc).resource_changes[0]


def test_every_entry_cites_provider_documentation() -> None:
    for entry in STATEFUL.values():
        assert entry.docs.startswith("https://registry.terraform.io/providers/hashicorp/aws/"), entry.type
        assert entry.docs.rsplit("/", 1)[1] == entry.type.removeprefix("aws_"), entry.type


def test_destroying_an_unprotected_database_is_critical_data_loss() -> None:
    (cost,) = assess(one_change("aws_db_instance", ["delete"],
                                {"deletion_protection": False, "skip_final_snapshot": True}, None))
    assert cost.kind is Kind.DATA_LOSS and cost.severity is Severity.CRITICAL
    assert "no protection is visible" in cost.message


@pytest.mark.parametrize(("before", "severity", "visible"), [
    ({"deletion_protection": True, "skip_final_snapshot": True}, Severity.MEDIUM, "deletion_protection"),
    ({"deletion_protection": False, "skip_final_snapshot": False, "final_snapshot_identifier": "last"},
     Severity.HIGH, "final snapshot"),
])
def test_visible_protection_lowers_the_cost_and_is_named(before: dict[str, Any], severity: Severity,
                                                         visible: str) -> None:
    (cost,) = assess(one_change("aws_db_instance", ["delete", "create"], before, {}))
    assert cost.severity is severity and visible in cost.message
    assert cost.message.startswith("replacing an RDS database instance")


def test_bucket_with_force_destroy_loses_data_without_it_the_delete_fails() -> None:
    (forced,) = assess(one_change("aws_s3_bucket", ["delete"], {"force_destroy": True}, None))
    (safe,) = assess(one_change("aws_s3_bucket", ["delete"], {"force_destroy": False}, None))
    assert forced.severity is Severity.CRITICAL and safe.severity is Severity.MEDIUM


def test_rds_instance_class_update_is_a_disruption_that_says_why() -> None:
    now = {"instance_class": "db.t3.micro", "apply_immediately": True}
    (cost,) = assess(one_change("aws_db_instance", ["update"], now, {**now, "instance_class": "db.t3.small"}))
    assert cost.kind is Kind.DISRUPTION and cost.severity is Severity.HIGH
    assert "restarts the database" in cost.why and cost.attributes == ("instance_class",)
    later = {**now, "apply_immediately": False}
    (deferred,) = assess(one_change("aws_db_instance", ["update"], later, {**later, "instance_class": "db.t3.small"}))
    assert deferred.severity is Severity.MEDIUM and "maintenance window" in deferred.message


def test_online_ebs_type_change_only_degrades() -> None:
    (cost,) = assess(one_change("aws_ebs_volume", ["update"], {"type": "gp2"}, {"type": "gp3"}))
    assert cost.severity is Severity.LOW and "degrades performance" in cost.message


def test_harmless_updates_and_unknown_types_cost_nothing() -> None:
    assert assess(one_change("aws_db_instance", ["update"], {"tags": {}}, {"tags": {"a": "b"}})) == []
    assert assess(one_change("aws_iam_policy", ["delete"], {"name": "p"}, None)) == []
    assert assess(one_change("aws_db_instance", ["create"], None, {"identifier": "x"})) == []


def test_replacing_a_traffic_resource_is_a_disruption_not_data_loss() -> None:
    (cost,) = assess(one_change("aws_security_group", ["delete", "create"], {"name": "a"}, {"name": "b"}))
    assert cost.kind is Kind.DISRUPTION and "loses the rules" in cost.message


def _gsi(name: str, key: str) -> dict[str, Any]:
    return {"name": name, "hash_key": key, "projection_type": "ALL"}


@pytest.mark.parametrize(("rtype", "actions", "before", "after", "attribute"), [
    ("aws_ebs_volume", ["update"], {"size": 100}, {"size": 50}, "size"),
    ("aws_db_instance", ["update"], {"allocated_storage": 100}, {"allocated_storage": 20}, "allocated_storage"),
    ("aws_dynamodb_table", ["update"], {"global_secondary_index": [_gsi("a", "x")]},
     {"global_secondary_index": [_gsi("a", "y"), _gsi("b", "z")]}, "global_secondary_index"),
])
def test_changes_the_provider_rejects_at_apply_are_known(rtype: str, actions: list[str], before: Any, after: Any,
                                                         attribute: str) -> None:
    (fails,) = apply_failures(one_change(rtype, actions, before, after))
    assert fails.attribute == attribute and fails.docs.endswith(rtype.removeprefix("aws_"))


@pytest.mark.parametrize(("rtype", "actions", "before", "after"), [
    ("aws_ebs_volume", ["update"], {"size": 50}, {"size": 100}),  # growing is fine
    ("aws_ebs_volume", ["update"], {"size": 50}, {"size": None}),  # unknown until apply: not claimed
    ("aws_db_instance", ["update"], {"allocated_storage": 20}, {"allocated_storage": 20, "instance_class": "x"}),
    ("aws_dynamodb_table", ["update"], {"global_secondary_index": [_gsi("a", "x")]},
     {"global_secondary_index": [_gsi("a", "x"), _gsi("b", "z")]}),  # one index at a time
])
def test_changes_the_provider_accepts_are_not_warned(rtype: str, actions: list[str], before: Any, after: Any) -> None:
    assert apply_failures(one_change(rtype, actions, before, after)) == []
