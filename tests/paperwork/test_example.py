"""`explain TYPE`'s minimal example: it passes the real `check` command, and bad candidates are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from infraleash.paperwork.example import minimal_example, passes_check, skeleton
from infraleash.paperwork.explain import explain
from infraleash.surfaces.cli import main
from infraleash.terraform.schema import bundled_aws

TYPES = ["aws_s3_bucket", "aws_db_instance", "aws_ebs_volume", "aws_security_group", "aws_iam_role",
         "aws_dynamodb_table", "aws_instance", "aws_lambda_function", "aws_route53_record", "aws_kinesis_stream"]


@pytest.mark.parametrize("resource_type", TYPES)
def test_example_passes_the_check_command(resource_type: str, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    example = explain(resource_type).facts["example"]
    assert example is not None and f'resource "{resource_type}"' in example["hcl"]
    (tmp_path / "main.tf").write_text(example["hcl"], encoding="utf-8")
    with pytest.raises(SystemExit) as exc:
        main(["check", str(tmp_path)])
    out, _ = capsys.readouterr()
    assert exc.value.code in (0, None), out
    assert example["hcl"].strip() in explain(resource_type).text


def test_skeleton_holds_required_arguments_and_blocks() -> None:
    text = skeleton("aws_route53_record", bundled_aws().resource("aws_route53_record"))  # type: ignore[arg-type]
    for name in ("name", "type", "zone_id"):
        assert f"  {name} = " in text
    assert minimal_example("aws_route53_record").source == "required arguments"  # type: ignore[union-attr]


def test_a_failing_configuration_is_never_an_example() -> None:
    open_ssh = ('resource "aws_security_group" "x" {\n  ingress {\n    from_port   = 22\n    to_port     = 22\n'
                '    protocol    = "tcp"\n    cidr_blocks = ["0.0.0.0/0"]\n  }\n}\n')
    assert passes_check(open_ssh) is False
    assert passes_check(minimal_example("aws_security_group").hcl)  # type: ignore[union-attr]
