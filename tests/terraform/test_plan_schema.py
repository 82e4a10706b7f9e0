"""The plan's shape is checked once at the door: a bad one is one InputError naming the JSON path."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from infraleash.errors import InputError
from infraleash.terraform.plan import parse_plan, plan_from_dict

GOOD: dict[str, Any] = {
    "format_version": "1.2",
    "terraform_version": "1.11.4",
    "some_future_key": {"tolerated": True},
    "resource_changes": [{
        "address": "terraform_data.x", "type": "terraform_data", "name": "x", "mode": "managed",
        "provider_name": "terraform.io/builtin/terraform", "new_field": [1, 2],
        "change": {"actions": ["update"], "before": {"input": "a", "n": [1]}, "after": {"input": "b", "n": [1]},
                   "after_unknown": {"output": True}, "before_sensitive": {"n": [False]},
                   "after_sensitive": False, "replace_paths": [["input"], ["n", 0]]},
    }],
    "output_changes": {"o": {"actions": ["no-op"], "before": 1, "after": 1, "after_sensitive": False}},
    "relevant_attributes": [{"resource": "terraform_data.x", "attribute": ["input"]}],
    "configuration": {"root_module": {"resources": [{"address": "terraform_data.x", "expressions": {}}],
                                      "module_calls": {"m": {"module": {"resources": []}}}}},
}


def test_the_documented_shape_with_unknown_keys_is_read() -> None:
    plan = plan_from_dict(copy.deepcopy(GOOD))
    assert [rc.address for rc in plan.changes()] == ["terraform_data.x"]


def _set(doc: dict[str, Any], path: list[Any], value: Any) -> dict[str, Any]:
    node: Any = doc
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return doc


@pytest.mark.parametrize(("path", "value", "named"), [
    (["resource_changes"], {"a": 1}, "$.resource_changes"),
    (["resource_changes", 0], None, "$.resource_changes[0]"),
    (["resource_changes", 0, "change"], [], "$.resource_changes[0].change"),
    (["resource_changes", 0, "change", "actions"], "update", "$.resource_changes[0].change.actions"),
    (["resource_changes", 0, "change", "actions"], [1], "$.resource_changes[0].change.actions[0]"),
    (["resource_changes", 0, "address"], 7, "$.resource_changes[0].address"),
    (["resource_changes", 0, "change", "after_sensitive"], "yes", "$.resource_changes[0].change.after_sensitive"),
    (["resource_changes", 0, "change", "before_sensitive"], {"n": [1]},
     "$.resource_changes[0].change.before_sensitive.n[0]"),
    (["resource_changes", 0, "change", "replace_paths"], [[None]], "$.resource_changes[0].change.replace_paths[0][0]"),
    (["output_changes"], [], "$.output_changes"),
    (["output_changes", "o"], 3, "$.output_changes.o"),
    (["relevant_attributes", 0, "resource"], None, "$.relevant_attributes[0].resource"),
    (["configuration", "root_module", "module_calls", "m", "module", "resources"], {},
     "$.configuration.root_module.module_calls.m.module.resources"),
    (["errored"], "no", "$.errored"),
    (["format_version"], 1.2, "format_version"),
])
def test_a_value_of_the_wrong_type_is_one_line_naming_its_json_path(path: list[Any], value: Any, named: str) -> None:
    doc = _set(copy.deepcopy(GOOD), path, value)
    with pytest.raises(InputError) as e:
        plan_from_dict(doc, "bad.json")
    message = str(e.value)
    assert message.startswith("bad.json") and named in message and "\n" not in message


@pytest.mark.parametrize(("text", "says"), [
    ('{"format_version": "1.2", "resource_changes": [' + "[" * 5000 + "]" * 5000 + "]}", "nested deeper than"),
    ('{"format_version": "1.2", "resource_changes": [], "x": ' + "9" * 5000 + "}", "integer of 5000 digits"),
    ('{"format_version": "1.2", "resource_changes": [], "x": NaN}', "NaN"),
    ('{"format_version": "1.2", "resource_changes": [], "x": -Infinity}', "Infinity"),
])
def test_depth_huge_integers_and_nan_are_refused_naming_the_limit(text: str, says: str) -> None:
    with pytest.raises(InputError) as e:
        parse_plan(text, "odd.json")
    assert str(e.value).startswith("odd.json: refused: ") and says in str(e.value)


def test_a_deep_value_inside_an_attribute_is_refused_before_any_rule_recurses() -> None:
    doc = copy.deepcopy(GOOD)
    deep: Any = "leaf"
    for _ in range(300):
        deep = {"k": deep}
    doc["resource_changes"][0]["change"]["after"] = {"input": deep}
    with pytest.raises(InputError, match="nested deeper than 200 levels"):
        parse_plan(json.dumps(doc), "deep.json")
