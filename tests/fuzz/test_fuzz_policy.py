"""Fuzzing infraleash.yaml through ``infraleash policy check``.

Documents are built from the policy's sections with any value, sometimes, of another type (a string or a
float where an integer belongs, a list for a mapping, null), dumped as YAML, then sometimes damaged: a
pathological splice (an alias bomb, nesting 1,000 deep, a 5,000-digit integer, ``.nan``, a NUL, a tab, a
``!!python/object`` tag, a duplicate key) or a cut.  Every run must end 0 (valid) or 2 with one line naming
the file, never a traceback.

CI runs a few dozen; INFRALEASH_FUZZ_EXAMPLES sets the count (a full run: 2,500).
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .cli import assert_clean_exit, examples, run

EXAMPLES = examples(200)

anything = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=8)),
                        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                                    max_size=3), max_leaves=6)


def sometimes_wrong(good: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(good, good, good, anything)


policy = st.fixed_dictionaries({"version": sometimes_wrong(st.just(1))}, optional={
    "trust_level": sometimes_wrong(st.sampled_from(["observe", "plan", "act-with-approval"])),
    "environments": sometimes_wrong(st.lists(st.fixed_dictionaries(
        {"name": sometimes_wrong(st.sampled_from(["prod", "dev"]))},
        optional={"match": sometimes_wrong(st.fixed_dictionaries({}, optional={
            "workspaces": sometimes_wrong(st.lists(st.sampled_from(["prod*", "dev"]), max_size=2))}))}), max_size=2)),
    "approvals": sometimes_wrong(st.fixed_dictionaries({}, optional={
        "ttl_minutes": sometimes_wrong(st.integers(1, 10_000)), "store": sometimes_wrong(st.just("a.db"))})),
    "model": sometimes_wrong(st.fixed_dictionaries({}, optional={
        "max_steps": sometimes_wrong(st.integers(1, 100)), "max_cost_usd": sometimes_wrong(st.floats(0, 100)),
        "provider": sometimes_wrong(st.sampled_from(["openai", "anthropic"]))})),
    "checks": sometimes_wrong(st.fixed_dictionaries({}, optional={
        "disabled_rules": sometimes_wrong(st.lists(st.sampled_from(["AWS-S3-NO-VERSIONING", "X"]), max_size=2)),
        "required_tags": sometimes_wrong(st.lists(st.sampled_from(["owner", "env"]), max_size=2))})),
    "providers": sometimes_wrong(st.dictionaries(st.sampled_from(["aws", "google"]), sometimes_wrong(
        st.sampled_from(["~> 5.0", ">= 4"])), max_size=2)),
    "protected": sometimes_wrong(st.fixed_dictionaries({}, optional={
        "addresses": sometimes_wrong(st.lists(st.sampled_from(["aws_db_instance.main", "*"]), max_size=2))})),
})
BOMB = "x: &a [y, y, y, y, y, y, y, y, y]\n" + "".join(
    f"x{i}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8))
SPLICES = [BOMB, "deep: " + "[" * 1000 + "]" * 1000 + "\n", "big: " + "9" * 5000 + "\n", "n: .nan\n", "\x00",
           "\t", "o: !!python/object:os.system {}\n", "version: 2\n", "? [a, b]\n: 1\n", "x: *undefined\n", "---\n"]


@st.composite
def policy_text(draw: st.DrawFn) -> str:
    text = yaml.safe_dump(draw(policy), sort_keys=False)
    how = draw(st.sampled_from(["whole", "whole", "whole", "cut", "splice"]))
    if how == "cut":
        return text[:draw(st.integers(0, len(text)))]
    if how == "splice":
        return text + draw(st.sampled_from(SPLICES)) if draw(st.booleans()) else draw(st.sampled_from(SPLICES)) + text
    return text


_WORK = Path(tempfile.mkdtemp(prefix="infraleash-fuzz-policy-"))
atexit.register(shutil.rmtree, _WORK, True)


@pytest.mark.timeout(600 + EXAMPLES * 1)  # a full run: the deadline bounds each input, not this
@settings(max_examples=EXAMPLES, deadline=timedelta(seconds=30), database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(policy_text())
def test_any_policy_file_is_valid_or_one_line_naming_the_file(text: str) -> None:
    path = _WORK / "infraleash.yaml"
    path.write_text(text, encoding="utf-8")
    code, _, err = run(["policy", "check", str(path)])
    assert_clean_exit(code, err, str(path))
    assert code in (0, 2), err
