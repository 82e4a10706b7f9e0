"""Plan JSON parsing and classification, on plan documents shaped like `terraform show -json` output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from infraleash.errors import InputError
from infraleash.terraform.plan import (
    SENSITIVE,
    Action,
    ReplaceOrder,
    load_plan,
    normalised_equal,
    parse_plan,
    plan_from_dict,
    render_value,
)


def change(address: str, actions: list[str], before: Any = None, after: Any = None, **extra: Any) -> dict[str, Any]:
    rtype, name = address.split(".")[-2:]
    ch = {"actions": actions, "before": before, "after": after, "after_unknown": extra.pop("after_unknown", {}),
          "before_sensitive": extra.pop("before_sensitive", {}), "after_sensitive": extra.pop("after_sensitive", {})}
    for key in ("replace_paths", "importing"):
        if key in extra:
            ch[key] = extra.pop(key)
    return {"address": address, "mode": "managed", "type": rtype, "name": name,
            "provider_name": extra.pop("provider_name", "registry.terraform.io/hashicorp/aws"), "change": ch, **extra}


def plan_doc(changes: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"format_version": "1.2", "terraform_version": "1.11.4", "planned_values": {},
            "resource_changes": changes, **extra}


def test_every_action_is_classified() -> None:
    plan = plan_from_dict(plan_doc([
        change("aws_vpc.a", ["create"], None, {"cidr_block": "10.0.0.0/16"}),
        change("aws_vpc.b", ["update"], {"tags": {}}, {"tags": {"x": "1"}}),
        change("aws_vpc.c", ["delete"], {"id": "vpc-1"}, None),
        change("aws_s3_bucket.d", ["delete", "create"], {"bucket": "a"}, {"bucket": "b"}, replace_paths=[["bucket"]]),
        change("aws_s3_bucket.e", ["create", "delete"], {"bucket": "a"}, {"bucket": "b"}, replace_paths=[["bucket"]]),
        {**change("aws_ami.f", ["read"]), "mode": "data", "address": "data.aws_ami.f"},
        change("aws_vpc.g", ["no-op"], {"id": "vpc-2"}, {"id": "vpc-2"}),
        change("aws_vpc.h", ["no-op"], {"id": "vpc-3"}, {"id": "vpc-3"}, previous_address="aws_vpc.old"),
        change("aws_vpc.i", ["no-op"], {"id": "vpc-4"}, {"id": "vpc-4"}, importing={"id": "vpc-4"}),
        change("aws_vpc.j", ["forget"], {"id": "vpc-5"}, None),
    ]))
    by = {rc.address: rc for rc in plan.resource_changes}
    assert by["aws_vpc.a"].action is Action.CREATE
    assert by["aws_vpc.b"].action is Action.UPDATE
    assert by["aws_vpc.c"].action is Action.DELETE
    assert by["aws_s3_bucket.d"].replace_order is ReplaceOrder.DELETE_BEFORE_CREATE
    assert by["aws_s3_bucket.e"].replace_order is ReplaceOrder.CREATE_BEFORE_DESTROY
    assert by["data.aws_ami.f"].action is Action.READ
    assert by["aws_vpc.h"].labels == ["move"] and by["aws_vpc.h"].moved_from == "aws_vpc.old"
    assert by["aws_vpc.i"].labels == ["import"] and by["aws_vpc.i"].import_id == "vpc-4"
    assert by["aws_vpc.j"].action is Action.FORGET
    # no-op and plain reads do nothing; moves and imports do
    assert {rc.address for rc in plan.changes()} == set(by) - {"aws_vpc.g", "data.aws_ami.f"}
    assert plan.counts()["replace"] == 2 and plan.counts()["move"] == 1 and plan.counts()["import"] == 1


def test_replace_paths_give_forcing_attributes_with_before_and_after() -> None:
    plan = plan_from_dict(plan_doc([change(
        "aws_security_group.legacy", ["delete", "create"],
        {"name": "legacy-app", "ingress": [{"from_port": 22}]}, {"name": "legacy-app-v2", "ingress": [{"from_port": 23}]},
        replace_paths=[["name"], ["ingress", 0, "from_port"]])]))
    attrs = plan.resource_changes[0].forcing_attributes()
    assert [(a.name, a.render()) for a in attrs] == [("name", '"legacy-app" -> "legacy-app-v2"'),
                                                     ("ingress[0].from_port", "22 -> 23")]


def test_sensitive_values_are_never_rendered() -> None:
    plan = plan_from_dict(plan_doc(
        [change("aws_db_instance.main", ["delete", "create"],
                {"password": "hunter2", "identifier": "a", "tags": {"k": "v"}},
                {"password": "hunter3", "identifier": "b", "tags": {"k": "v"}},
                before_sensitive={"password": True}, after_sensitive={"password": True},
                replace_paths=[["identifier"], ["password"]])],
        output_changes={"pw": {"actions": ["update"], "before": "s3cr3t", "after": "other", "after_unknown": False,
                               "before_sensitive": True, "after_sensitive": True}}))
    rc = plan.resource_changes[0]
    rendered = [a.render() for a in rc.forcing_attributes()] + [str(a.to_dict()) for a in rc.changed_attributes()]
    rendered += [o.render() for o in plan.outputs]
    text = " ".join(rendered)
    assert "hunter" not in text and "s3cr3t" not in text and "other" not in text
    assert f"{SENSITIVE} -> {SENSITIVE}" in text
    assert render_value({"a": "x", "b": "y"}, {"b": True}) == '{"a":"x","b":"(sensitive)"}'


def test_unknown_after_values_render_as_known_after_apply() -> None:
    plan = plan_from_dict(plan_doc([change("aws_instance.api", ["update"], {"vpc_security_group_ids": ["sg-1"]},
                                           {}, after_unknown={"vpc_security_group_ids": True})]))
    (attr,) = plan.resource_changes[0].changed_attributes()
    assert attr.render() == '["sg-1"] -> (known after apply)'


def test_tags_only_update_is_recognised() -> None:
    plan = plan_from_dict(plan_doc([
        change("aws_s3_bucket.a", ["update"], {"bucket": "a", "tags": {"x": "1"}, "tags_all": {"x": "1"}},
               {"bucket": "a", "tags": {"x": "2"}, "tags_all": {"x": "2"}}),
        change("aws_s3_bucket.b", ["update"], {"bucket": "b", "tags": {}, "acl": "private"},
               {"bucket": "b", "tags": {"x": "2"}, "acl": "public-read"}),
    ]))
    assert [rc.tags_only for rc in plan.resource_changes] == [True, False]


def test_drift_that_the_plan_reverts_is_flagged() -> None:
    plan = plan_from_dict(plan_doc(
        [change("aws_s3_bucket.a", ["update"], {"bucket": "a", "tags": {"Owner": "ops-oob"}},
                {"bucket": "a", "tags": {"Owner": "team"}}),
         change("aws_s3_bucket.b", ["no-op"], {"bucket": "b"}, {"bucket": "b"})],
        resource_drift=[
            change("aws_s3_bucket.a", ["update"], {"bucket": "a", "tags": {"Owner": "team"}},
                   {"bucket": "a", "tags": {"Owner": "ops-oob"}}),
            change("aws_s3_bucket.b", ["update"], {"bucket": "b", "tags": {}}, {"bucket": "b", "tags": {"n": "1"}}),
        ]))
    a, b = plan.drift
    assert a.reverts and [x.render() for x in a.reverted] == ['{"Owner":"ops-oob"} -> {"Owner":"team"}']
    assert not b.reverts and [x.name for x in b.attributes] == ["tags"]


def test_output_changes_and_opentofu_provider_are_read() -> None:
    plan = plan_from_dict(plan_doc(
        [change("aws_vpc.a", ["create"], None, {}, provider_name="registry.opentofu.org/hashicorp/aws")],
        output_changes={"vpc_id": {"actions": ["create"], "before": None, "after": None, "after_unknown": True}}))
    assert plan.tool == "opentofu"
    assert plan.outputs[0].render() == "null -> (known after apply)"


def test_empty_plan_is_empty_not_an_error() -> None:
    plan = plan_from_dict({"format_version": "1.2", "planned_values": {}, "configuration": {}})
    assert plan.empty and plan.resource_changes == []


@pytest.mark.parametrize(("text", "message", "line"), [
    ('{"format_version": "1.2", "resource_changes": [', "invalid JSON (truncated?)", 1),
    ('{\n "a": 1,\n "b": }', "invalid JSON", 3),
    ('[1, 2]', "top level is a JSON list", 1),
    ('{"foo": "bar"}', "no format_version", 1),
    ('{"format_version": "2.0", "resource_changes": []}', "unsupported plan format_version '2.0'", 1),
    ('{"format_version": "1.0", "values": {}}', "this is a state file", 1),
    ("   ", "empty file", None),
])
def test_bad_input_is_one_clear_line(text: str, message: str, line: int | None) -> None:
    with pytest.raises(InputError) as err:
        parse_plan(text, "plan.json")
    assert message in str(err.value)
    assert err.value.file == "plan.json" and err.value.line == line
    assert "\n" not in str(err.value)


def test_unknown_actions_are_an_input_error() -> None:
    with pytest.raises(InputError, match="unknown change actions"):
        plan_from_dict(plan_doc([change("aws_vpc.a", ["explode"])]), "p.json")


def test_load_plan_reads_files_and_reports_missing_ones(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan_doc([change("aws_vpc.a", ["create"], None, {})])))
    assert load_plan(path).resource_changes[0].action is Action.CREATE
    with pytest.raises(InputError, match="plan file not found"):
        load_plan(tmp_path / "nope.json")
    (tmp_path / "bin").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(InputError, match="not UTF-8"):
        load_plan(tmp_path / "bin")


# --- drift that is real: refresh normalisation is a debug note, never drift ---

def _drift_plan(before: dict[str, Any], found: dict[str, Any], planned_after: dict[str, Any] | None = None) -> Any:
    doc: dict[str, Any] = {
        "format_version": "1.2",
        "resource_drift": [{"address": "aws_s3_bucket.b", "type": "aws_s3_bucket", "name": "b", "mode": "managed",
                            "change": {"actions": ["update"], "before": before, "after": found}}],
        "resource_changes": [{"address": "aws_s3_bucket.b", "type": "aws_s3_bucket", "name": "b", "mode": "managed",
                              "change": {"actions": ["update" if planned_after else "no-op"], "before": found,
                                         "after": planned_after or found}}],
    }
    return plan_from_dict(doc)


@pytest.mark.parametrize(("before", "found"), [
    ({"force_destroy": None}, {"force_destroy": False}),
    ({"policy": None}, {"policy": ""}),
    ({"tags": None}, {"tags": {}}),
    ({"lifecycle_rule": None}, {"lifecycle_rule": []}),
    ({"grant": [{"permissions": ["READ"], "uri": None}]}, {"grant": [{"permissions": ["READ"], "uri": ""}]}),
    ({"versioning": [{"enabled": None, "mfa_delete": False}]}, {"versioning": [{"enabled": False}]}),
    ({"acceleration_status": None}, {"acceleration_status": "Suspended"}),  # a provider-filled default
    ({"object_lock_enabled": None}, {"object_lock_enabled": False}),
])
def test_refresh_normalisation_and_provider_defaults_are_noise_not_drift(
        before: dict[str, Any], found: dict[str, Any]) -> None:
    (d,) = _drift_plan({"bucket": "b", **before}, {"bucket": "b", **found}).drift
    assert d.attributes == [] and not d.reverts
    assert [a.name for a in d.noise] == list(before)
    assert d.noise_note() is not None and list(before)[0] in d.noise_note()


def test_a_set_value_changed_outside_terraform_is_drift() -> None:
    (d,) = _drift_plan({"bucket": "b", "tags": {"Owner": "a"}}, {"bucket": "b", "tags": {"Owner": "b"}}).drift
    assert [a.name for a in d.attributes] == ["tags"] and d.noise == [] and not d.reverts


def test_a_default_the_plan_changes_back_is_drift() -> None:
    (d,) = _drift_plan({"bucket": "b", "acceleration_status": None}, {"bucket": "b", "acceleration_status": "Enabled"},
                       planned_after={"bucket": "b", "acceleration_status": None}).drift
    assert [a.name for a in d.reverted] == ["acceleration_status"] and d.reverts


def test_normalised_equal() -> None:
    assert normalised_equal(None, False) and normalised_equal({"a": None}, {}) and normalised_equal([None], [""])
    assert not normalised_equal(None, True) and not normalised_equal("a", "") and not normalised_equal([1], [1, 2])
    assert not normalised_equal(0, False) and not normalised_equal({"a": 1}, {})
