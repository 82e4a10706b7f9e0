"""`infraleash docs` rendering: terraform-docs' default markdown table on three module shapes.

The expected files in expected/ were checked row by row against terraform-docs' documented
output (docs/reference/markdown-table.md and format/testdata/markdown/*.golden of
terraform-docs): section order, column order, anchors, escaping, <pre> blocks.  The
sanitizer cases below are terraform-docs' own documented input -> output pairs.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from infraleash.paperwork.docs import render, sanitize_table, value_text
from infraleash.paperwork.module_facts import read_module

HERE = Path(__file__).parent
MODULES = HERE / "modules"
EXPECTED = HERE / "expected"


@pytest.mark.parametrize("module", ["objects_validation", "sensitive_outputs", "nested", "nested/modules/network"])
def test_module_renders_as_expected(module: str) -> None:
    expected = (EXPECTED / (module.replace("/", "_") + ".md")).read_text(encoding="utf-8")
    assert render(read_module(MODULES / module)) + "\n" == expected


def test_sections_and_column_order() -> None:
    text = render(read_module(MODULES / "objects_validation"))
    titles = [line for line in text.splitlines() if line.startswith("## ")]
    assert titles == ["## Requirements", "## Providers", "## Modules", "## Resources", "## Inputs", "## Outputs"]
    assert "| Name | Description | Type | Default | Required |\n| ---- | ----------- | ---- | ------- | :------: |" in text
    assert "## Modules\n\nNo modules." in text


def test_object_type_and_default_are_pre_blocks() -> None:
    text = render(read_module(MODULES / "objects_validation"))
    row = next(line for line in text.splitlines() if 'name="input_retention"' in line)
    assert "<pre>object({<br/>    expire_days = number<br/>" in row
    assert '<pre>{<br/>  "expire_days": 90,<br/>  "storage_class": "STANDARD_IA"<br/>}</pre> | no |' in row
    # the URL keeps its underscores, the code span is left alone
    assert "object_lifecycle_mgmt.html" in row and "`expire_days`" in row


def test_lock_file_version_wins_over_the_constraint() -> None:
    text = render(read_module(MODULES / "objects_validation"))
    assert '| <a name="provider_aws"></a> [aws](#provider\\_aws) | 5.100.0 |' in text
    assert '| <a name="requirement_aws"></a> [aws](#requirement\\_aws) | >= 5.0, < 6.0 |' in text


def test_header_comments_and_inferred_types() -> None:
    facts = read_module(MODULES / "sensitive_outputs")
    assert facts.header.startswith("# Database credentials")
    by_name = {i.name: i for i in facts.inputs}
    assert by_name["password_length"].description == "Length of the generated password."  # from the comment
    assert by_name["enabled"].type_text == "bool"  # no type: inferred from the default
    assert by_name["master_password"].sensitive and by_name["master_password"].required
    assert {o.name: o.sensitive for o in facts.outputs} == {"password": True, "secret_arn": False}


def test_nested_module_calls_aliases_and_foreign_registry() -> None:
    text = render(read_module(MODULES / "nested"))
    assert " [legacy](#module\\_legacy) | git::https://example.com/infra/legacy.git | v1.2.0 |" in text
    assert "[aws.replica](#provider\\_aws.replica) | ~> 5.100 |" in text
    assert "| acme_certificate.site | resource |" in text  # not on the public registry: no link


def test_validation_rules_are_read() -> None:
    by_name = {i.name: i for i in read_module(MODULES / "objects_validation").inputs}
    assert by_name["bucket_name"].validations == ("bucket_name must be 3 to 63 characters.",)
    assert by_name["kms_key_arn"].default is None and not by_name["kms_key_arn"].required


# terraform-docs' documented cells (docs/reference/markdown-table.md, "examples" module)
@pytest.mark.parametrize(("raw", "cell"), [
    ("It includes v1 | v2 | v3", "It includes v1 \\| v2 \\| v3"),
    ("The description contains `something_with_underscore`. Defaults to 'VALUE_WITH_UNDERSCORE'.",
     "The description contains `something_with_underscore`. Defaults to 'VALUE\\_WITH\\_UNDERSCORE'."),
    ("The description contains url. https://www.domain.com/foo/bar_baz.html",
     "The description contains url. https://www.domain.com/foo/bar_baz.html"),
    ("This description is itself markdown.\n\nIt spans over multiple lines.\n",
     "This description is itself markdown.<br/><br/>It spans over multiple lines."),
    ('This is a complicated one. We need a newline.  \nAnd an example in a code block\n```\ndefault     = [\n'
     '  "machine rack01:neptune"\n]\n```\n',
     'This is a complicated one. We need a newline.<br/>And an example in a code block<pre>default     = [<br/>'
     '  "machine rack01:neptune"<br/>]</pre>'),
    ("", "n/a"),
])
def test_sanitizer_matches_terraform_docs(raw: str, cell: str) -> None:
    assert sanitize_table(raw) == cell


@pytest.mark.parametrize(("value", "text"), [
    (True, "true"), (42, "42"), (15.75, "15.75"), ("19", '"19"'), (None, "null"), ([], "[]"), ({}, "{}"),
    ("\\.<>[]{}_-", '"\\\\.<>[]{}_-"'), (["a", "b"], '[\n  "a",\n  "b"\n]'),
])
def test_default_values_print_like_terraform_docs(value: object, text: str) -> None:
    assert value_text(value) == text
