"""Structure-aware fuzzing of Terraform configurations through ``infraleash check``.

Configurations are built from HCL's grammar: locals that refer to each other (cycles too), variables,
resources the rules read (security groups with ingress blocks, IAM policies, buckets), and expressions
made of literals, references, operators, conditionals, ``for`` expressions, splats and the built-in
functions, with the arguments that used to hang or eat memory (``range(1000000000)``,
``format("%1000000000d", 1)``, ``indent``, ``replace``, ``regex``, ``pow``, ``file("/dev/zero")``,
paths outside the module).  Some are cut short or have bytes spliced in.  Every run must end with a
documented exit code, no traceback, valid JSON, and within the evaluation budget's time.

CI runs a few dozen; INFRALEASH_FUZZ_EXAMPLES sets the count (a full run: 3,000).
"""

from __future__ import annotations

import atexit
import json
import shutil
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .cli import assert_clean_exit, examples, run

EXAMPLES = examples(100)

FUNCTIONS = ["range", "format", "formatlist", "replace", "regex", "regexall", "indent", "join", "split", "lookup",
             "merge", "concat", "flatten", "distinct", "setunion", "setintersection", "jsonencode", "jsondecode",
             "yamldecode", "file", "templatefile", "fileexists", "filebase64", "filesha256", "tostring", "tonumber",
             "pow", "min", "max", "length", "keys", "values", "element", "slice", "substr", "upper", "base64decode",
             "cidrsubnet", "try", "can", "coalesce", "zipmap", "transpose", "chunklist", "sort", "tolist", "toset"]
NASTY = ["1000000000", "-1", "0", "9" * 450, '"%1000000000d"', '"%.999999999f"', '"/(a+)+$/"', '"(a*)*b"',
         '"/dev/zero"', '"/etc/passwd"', '"../../etc/hostname"', '"${path.module}/main.tf"', '""', '"\\n\\n\\n"',
         '"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab"', '"%v %d %q %s"', '"\\u00e9\\U0001F600"',
         "null", "true", '"0.0.0.0/0"', '"*"']
BOMBS = ["range(1000000000)", 'format("%1000000000d", 1)', 'indent(1000000000, "a\\nb")', "pow(10, 1000000000)",
         'file("/dev/zero")', 'file("/etc/passwd")', 'templatefile("../x", {})', 'fileexists("/root/.aws/credentials")',
         'replace("aaaa", "/a*/", "${join("", range(1000))}")', 'regex("(a+)+$", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaab")',
         "[for i in range(1000) : [for j in range(1000) : [for k in range(1000) : k]]]",
         'join(join("", range(1000)), range(1000))', 'formatlist("%900000d", range(1000))', "local.a", "local.b"]
name = st.sampled_from(["a", "b", "c", "d"])
atom = st.one_of(
    st.integers(-10**6, 10**6).map(str), st.sampled_from(NASTY),
    st.text(st.characters(codec="utf-8", exclude_characters='"\\$%\n\r'), max_size=8).map(lambda s: f'"{s}"'),
    st.sampled_from(BOMBS), name.map(lambda n: f"local.{n}"), name.map(lambda n: f"var.{n}"),
    st.sampled_from(["aws_s3_bucket.x.id", "aws_security_group.x.ingress[0].cidr_blocks", "path.module",
                     "count.index", "each.value", "data.aws_iam_policy_document.p.json", "module.m.out"]))


def _combine(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(st.sampled_from(FUNCTIONS), st.lists(inner, max_size=3)).map(lambda t: f"{t[0]}({', '.join(t[1])})"),
        st.lists(inner, max_size=4).map(lambda xs: "[" + ", ".join(xs) + "]"),
        st.lists(st.tuples(name, inner), max_size=3).map(lambda kv: "{" + ", ".join(f"{k} = {v}" for k, v in kv)
                                                         + "}"),
        st.tuples(inner, inner).map(lambda t: f"[for i in {t[0]} : {t[1]}]"),
        st.tuples(inner, inner).map(lambda t: f"{{for k, v in {t[0]} : k => {t[1]}}}"),
        st.tuples(inner, inner, inner).map(lambda t: f"{t[0]} ? {t[1]} : {t[2]}"),
        st.tuples(inner, st.sampled_from(["+", "*", "-", "/", "%", "==", "&&", "<"]), inner).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"),
        inner.map(lambda e: f'"pre-${{{e}}}-post"'), inner.map(lambda e: f"{e}[0]"), inner.map(lambda e: f"{e}[*].id"),
    )


expr = st.recursive(atom, _combine, max_leaves=10)


@st.composite
def configuration(draw: st.DrawFn) -> str:
    parts = ["locals {\n" + "".join(f"  {n} = {draw(expr)}\n" for n in draw(st.lists(name, max_size=4, unique=True)))
             + "}\n"]
    for n in draw(st.lists(name, max_size=2, unique=True)):
        parts.append(f'variable "{n}" {{\n  default = {draw(expr)}\n}}\n')
    parts.append(f'resource "aws_security_group" "x" {{\n  name = {draw(expr)}\n  ingress {{\n    from_port = '
                 f'{draw(expr)}\n    to_port = 22\n    protocol = "tcp"\n    cidr_blocks = {draw(expr)}\n  }}\n}}\n')
    parts.append(f'resource "aws_iam_policy" "p" {{\n  policy = jsonencode({{\n    Statement = [{{\n      Effect = '
                 f'{draw(expr)}\n      Action = {draw(expr)}\n      Resource = "*"\n    }}]\n  }})\n}}\n')
    parts.append(f'resource "aws_s3_bucket" "x" {{\n  bucket = {draw(expr)}\n  tags = {draw(expr)}\n}}\n')
    text = "\n".join(draw(st.permutations(parts)))
    how = draw(st.sampled_from(["whole"] * 6 + ["truncate", "splice"]))
    if how == "truncate":
        return text[:draw(st.integers(0, len(text)))]
    if how == "splice":
        at = draw(st.integers(0, len(text)))
        return text[:at] + draw(st.sampled_from(["{", "}", '"', "${", "\x00", "\udcff", "<<EOF\n", "#", "=="])) + text[at:]
    return text


_WORK = Path(tempfile.mkdtemp(prefix="infraleash-fuzz-hcl-"))
atexit.register(shutil.rmtree, _WORK, True)


@pytest.mark.timeout(600 + EXAMPLES * 2)  # a full run: the deadline bounds each input, not this
@settings(max_examples=EXAMPLES, deadline=timedelta(seconds=60), database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(configuration())
def test_any_configuration_is_checked_with_a_documented_exit(text: str) -> None:
    shutil.rmtree(_WORK, ignore_errors=True)
    _WORK.mkdir()
    (_WORK / "main.tf").write_bytes(text.encode("utf-8", "surrogateescape"))
    code, out, err = run(["check", str(_WORK), "--format", "json"])
    assert_clean_exit(code, err, str(_WORK))
    if code in (0, 1):
        report = json.loads(out.decode("utf-8"))
        for f in report["findings"]:
            if f["rule"].startswith("HCL-"):
                assert f["file"] == "main.tf" and f["line"], f
