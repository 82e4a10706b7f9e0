"""Structure-aware fuzzing of ``.tf.json`` files through the reader and the checks: never an exception.

Documents are built from Terraform's JSON syntax (resource/data/module/provider/variable/output/locals/
terraform sections, nested and meta blocks, templates, traversal strings) with any value sometimes replaced
by one of another type, then written indented or compact, sometimes truncated.  Each must load: a document
that cannot be read is a ``ParseProblem`` (an input finding with a line), never an exception or a rule crash.

CI runs FUZZ_EXAMPLES_DEFAULT inputs; set INFRALEASH_FUZZ_EXAMPLES (e.g. 5000) for a full run.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infraleash.checks.engine import run_checks

FUZZ_EXAMPLES_DEFAULT = 60
EXAMPLES = int(os.environ.get("INFRALEASH_FUZZ_EXAMPLES", FUZZ_EXAMPLES_DEFAULT))

NAMES = ["aws_s3_bucket", "aws_security_group", "aws_db_instance", "aws_iam_policy", "google_storage_bucket",
         "main", "x", "ingress", "tags", "lifecycle", "dynamic", "provisioner", "count", "for_each", "depends_on",
         "provider", "content", "iterator", "rule", "//", "type", "default", "validation", "required_providers"]
leaf = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20),
                 st.floats(allow_nan=False, allow_infinity=False),
                 st.sampled_from(["${var.x}", "acme-${var.env}", "aws_s3_bucket.logs", "aws.west", "list(string)",
                                  "%{ if true }x%{ endif }", "$${lit}", "0.0.0.0/0", "é\\\"\n\t", "${"]),
                 st.text(max_size=8))
value = st.recursive(leaf, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                   st.dictionaries(st.sampled_from(NAMES) | st.text(max_size=6), inner,
                                                                   max_size=4)), max_leaves=14)
body = st.dictionaries(st.sampled_from(NAMES), value, max_size=5)
labelled = st.dictionaries(st.sampled_from(NAMES), st.one_of(body, st.lists(body, max_size=2), value), max_size=3)
document = st.fixed_dictionaries({}, optional={
    "resource": st.dictionaries(st.sampled_from(NAMES), labelled, max_size=3),
    "data": st.dictionaries(st.sampled_from(NAMES), labelled, max_size=2),
    "module": labelled, "provider": labelled, "variable": labelled, "output": labelled,
    "locals": st.one_of(body, st.lists(body, max_size=2)), "terraform": st.one_of(body, value)})


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=st.one_of(document, value), indent=st.sampled_from([None, 1, 2]), cut=st.integers(0, 40))
def test_any_tf_json_loads_without_exception(doc: Any, indent: int | None, cut: int) -> None:
    text = json.dumps(doc, indent=indent)
    if cut and cut < len(text) and cut % 7 == 0:
        text = text[: len(text) - cut]  # truncated: malformed JSON
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "main.tf.json").write_text(text)
        report = run_checks(Path(tmp), None, use_terraform=False)
    assert not report.errors, report.errors
    for p in report.parse_problems:
        assert p.file == "main.tf.json" and isinstance(p.line, int) and p.line >= 1
