"""Structure-aware fuzzing of plan JSON through ``infraleash review --plan``: no traceback, no exit 70.

Documents are built from the documented plan format with any field replaced, sometimes, by a JSON
value of another type (null, a list where an object belongs, a number where a string belongs, marks
of another shape), then written whole, truncated, or with a pathological value spliced in (deep
nesting, a 5,000-digit integer, NaN).  Every run must end with a documented exit code (0 allow,
1 block, 2 input error naming the file, 3 needs approval) and no traceback.

CI runs FUZZ_EXAMPLES_DEFAULT inputs; set INFRALEASH_FUZZ_EXAMPLES (e.g. 5000) for a full run.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infraleash.surfaces.cli import main

FUZZ_EXAMPLES_DEFAULT = 60
EXAMPLES = int(os.environ.get("INFRALEASH_FUZZ_EXAMPLES", FUZZ_EXAMPLES_DEFAULT))
DOCUMENTED_EXITS = {0, 1, 2, 3}

leaf = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=False,
                 allow_infinity=False), st.text(max_size=12))
json_value = st.recursive(leaf, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                          max_leaves=12)
mark = st.recursive(st.booleans(), lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                          st.dictionaries(st.text(max_size=6), inner, max_size=3)),
                    max_leaves=8)
ACTIONS = [["create"], ["update"], ["delete"], ["delete", "create"], ["create", "delete"], ["no-op"], ["read"],
           ["forget"], ["create", "forget"], ["bogus"], []]
TYPES = ["aws_s3_bucket", "aws_db_instance", "aws_security_group", "aws_ebs_volume", "aws_iam_role",
         "aws_dynamodb_table", "terraform_data", "aws_instance"]


def sometimes_wrong(good: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly the documented type, sometimes any JSON value."""
    return st.one_of(good, good, good, json_value)


attrs = st.dictionaries(st.sampled_from(["id", "name", "tags", "size", "engine", "password", "ingress",
                                         "bucket", "arn", "instance_class", "storage_encrypted"]),
                        json_value, max_size=6)
change = st.fixed_dictionaries(
    {"actions": sometimes_wrong(st.sampled_from(ACTIONS))},
    optional={"before": sometimes_wrong(attrs), "after": sometimes_wrong(attrs),
              "after_unknown": sometimes_wrong(mark), "before_sensitive": sometimes_wrong(mark),
              "after_sensitive": sometimes_wrong(mark),
              "replace_paths": sometimes_wrong(st.lists(st.lists(st.sampled_from(["size", "name", 0]), max_size=3),
                                                        max_size=2)),
              "importing": sometimes_wrong(st.fixed_dictionaries({"id": st.text(max_size=8)}))})


@st.composite
def resource_change(draw: st.DrawFn) -> dict[str, Any]:
    rtype = draw(st.sampled_from(TYPES))
    name = draw(st.sampled_from(["a", "b", "main"]))
    return draw(st.fixed_dictionaries(
        {"address": sometimes_wrong(st.just(f"{rtype}.{name}")), "change": sometimes_wrong(change)},
        optional={"type": sometimes_wrong(st.just(rtype)), "name": st.just(name),
                  "mode": sometimes_wrong(st.sampled_from(["managed", "data"])),
                  "provider_name": st.just("registry.terraform.io/hashicorp/aws"),
                  "previous_address": sometimes_wrong(st.just(f"{rtype}.old")),
                  "action_reason": sometimes_wrong(st.sampled_from(["replace_because_tainted",
                                                                    "delete_because_no_resource_config"])),
                  "deposed": sometimes_wrong(st.just("0001"))}))


config_module = st.fixed_dictionaries({}, optional={
    "resources": sometimes_wrong(st.lists(st.fixed_dictionaries(
        {"address": st.sampled_from([f"{t}.a" for t in TYPES])},
        optional={"expressions": json_value, "depends_on": sometimes_wrong(st.lists(st.text(max_size=10)))}),
        max_size=3)),
    "variables": sometimes_wrong(st.dictionaries(st.text(max_size=5), st.fixed_dictionaries(
        {}, optional={"sensitive": sometimes_wrong(st.booleans())}), max_size=2)),
})
plan_doc = st.fixed_dictionaries(
    {"format_version": sometimes_wrong(st.sampled_from(["1.2", "1.0", "2.0"]))},
    optional={"terraform_version": sometimes_wrong(st.just("1.11.4")),
              "resource_changes": sometimes_wrong(st.lists(resource_change(), max_size=4)),
              "resource_drift": sometimes_wrong(st.lists(resource_change(), max_size=2)),
              "output_changes": sometimes_wrong(st.dictionaries(st.text(max_size=5), st.fixed_dictionaries(
                  {"actions": sometimes_wrong(st.sampled_from(ACTIONS))},
                  optional={"before": json_value, "after": json_value, "after_sensitive": sometimes_wrong(mark)}),
                  max_size=2)),
              "relevant_attributes": sometimes_wrong(st.lists(st.fixed_dictionaries(
                  {"resource": st.sampled_from([f"{t}.a" for t in TYPES])},
                  optional={"attribute": sometimes_wrong(st.lists(st.sampled_from(["size", 0]), max_size=2))}),
                  max_size=2)),
              "variables": sometimes_wrong(st.dictionaries(st.text(max_size=5),
                                                           st.fixed_dictionaries({"value": json_value}), max_size=2)),
              "configuration": sometimes_wrong(st.fixed_dictionaries({"root_module": sometimes_wrong(config_module)})),
              "errored": sometimes_wrong(st.booleans()), "complete": sometimes_wrong(st.booleans()),
              "future_key": json_value})
SPLICES = ["[" * 3000 + "]" * 3000, "9" * 5000, "NaN", "-Infinity", '"\\ud800"', "1e999", '"x\\udcff\\ud83d"',
           '{"\\udc80": "\\ud800"}', '"' + "x" * 300_000 + '"', "[" + ",".join(["{}"] * 20_000) + "]"]


@st.composite
def plan_text(draw: st.DrawFn) -> str:
    text = json.dumps(draw(plan_doc))
    how = draw(st.sampled_from(["whole", "whole", "whole", "truncate", "splice"]))
    if how == "truncate":
        return text[:draw(st.integers(0, len(text)))]
    if how == "splice":
        return text.replace("null", draw(st.sampled_from(SPLICES)), 1) if "null" in text else \
            text[:-1] + ', "x": ' + draw(st.sampled_from(SPLICES)) + "}"
    return text


_WORK = Path(tempfile.mkdtemp(prefix="infraleash-fuzz-plan-"))
(_WORK / "main.tf").write_text('resource "terraform_data" "x" {\n  input = "a"\n}\n')


def run_review(plan_file: Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code: Any = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(["review", str(_WORK), "--plan", str(plan_file), "--format", "json"])
        except SystemExit as e:
            code = e.code
    return (code if isinstance(code, int) else 0), out.getvalue(), err.getvalue()


@pytest.mark.timeout(600 + EXAMPLES * 1)  # a full run: the deadline bounds each input, not this
@settings(max_examples=EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(plan_text())
def test_any_plan_json_ends_with_a_documented_exit_and_no_traceback(text: str) -> None:
    plan_file = _WORK / "plan.json"
    plan_file.write_text(text, encoding="utf-8", errors="surrogatepass")
    code, out, err = run_review(plan_file)
    assert "Traceback" not in err, err
    assert code in DOCUMENTED_EXITS, f"exit {code}: {err}"
    if code == 2:
        assert str(plan_file) in err and err.count("\n") == 1, err
    else:  # the report is JSON a strict UTF-8 reader takes (a lone surrogate would not encode)
        json.loads(out.encode("utf-8"))
