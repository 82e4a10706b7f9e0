"""Blast radius from the plan's configuration section (references, through modules)."""

from __future__ import annotations

from typing import Any

from infraleash.terraform.blast_radius import ReferenceGraph, config_address


def ref(*refs: str) -> dict[str, Any]:
    return {"references": list(refs)}


CONFIGURATION: dict[str, Any] = {"root_module": {
    "resources": [
        {"address": "aws_vpc.main", "mode": "managed", "type": "aws_vpc", "name": "main",
         "expressions": {"cidr_block": {"constant_value": "10.0.0.0/16"}}},
        {"address": "aws_security_group.db", "mode": "managed", "type": "aws_security_group", "name": "db",
         "expressions": {"vpc_id": ref("aws_vpc.main.id", "aws_vpc.main")}},
        {"address": "aws_db_instance.main", "mode": "managed", "type": "aws_db_instance", "name": "main",
         "expressions": {"vpc_security_group_ids": ref("aws_security_group.db.id", "aws_security_group.db")}},
        {"address": "aws_instance.api", "mode": "managed", "type": "aws_instance", "name": "api",
         "count_expression": {"constant_value": 2},
         # nested block: references live one level down
         "expressions": {"network_interface": [{"security_groups": ref("aws_security_group.db[0].id")}],
                         "tags": ref("var.tags", "local.common")}},
        {"address": "aws_s3_bucket.logs", "mode": "managed", "type": "aws_s3_bucket", "name": "logs",
         "expressions": {"bucket": ref("module.app.bucket_name")}},
    ],
    "module_calls": {"app": {
        "source": "./app",
        "expressions": {"sg_id": ref("aws_security_group.db.id", "aws_security_group.db")},
        "module": {
            "resources": [
                {"address": "aws_lambda_function.fn", "mode": "managed", "type": "aws_lambda_function",
                 "name": "fn", "expressions": {"vpc_config": [{"security_group_ids": ref("var.sg_id")}]}},
                {"address": "aws_s3_bucket.b", "mode": "managed", "type": "aws_s3_bucket", "name": "b",
                 "expressions": {"bucket": {"constant_value": "b"}}},
            ],
            "outputs": {"bucket_name": {"expression": ref("aws_s3_bucket.b.bucket", "aws_s3_bucket.b")}},
        },
    }},
}}


def test_direct_and_nested_block_references_are_dependents() -> None:
    graph = ReferenceGraph.from_configuration(CONFIGURATION)
    deps = graph.dependents("aws_security_group.db")
    assert "aws_db_instance.main" in deps and "aws_instance.api" in deps


def test_references_flow_into_modules_through_variables() -> None:
    graph = ReferenceGraph.from_configuration(CONFIGURATION)
    assert "module.app.aws_lambda_function.fn" in graph.dependents("aws_security_group.db")


def test_references_flow_out_of_modules_through_outputs() -> None:
    graph = ReferenceGraph.from_configuration(CONFIGURATION)
    assert graph.dependents('module.app.aws_s3_bucket.b') == ["aws_s3_bucket.logs"]


def test_instance_addresses_map_to_configuration_addresses() -> None:
    graph = ReferenceGraph.from_configuration(CONFIGURATION)
    assert config_address('module.app["x"].aws_instance.web[0]') == "module.app.aws_instance.web"
    assert graph.dependents("aws_vpc.main[0]") == ["aws_security_group.db"]
    assert graph.dependents("aws_instance.api[1]") == []


def test_index_matches_dependents_and_tolerates_an_empty_configuration() -> None:
    graph = ReferenceGraph.from_configuration(CONFIGURATION)
    index = graph.index()
    for target, deps in index.items():
        assert graph.dependents(target) == deps
    assert ReferenceGraph.from_configuration({}).dependents("aws_vpc.main") == []


def test_resources_in_a_module_depend_on_what_its_for_each_count_and_depends_on_reference() -> None:
    """Shaped as `terraform show -json` writes a `module "per_svc" { for_each = terraform_data.svc }` call."""
    inner = {"resources": [{"address": "terraform_data.y", "mode": "managed", "type": "terraform_data", "name": "y",
                            "expressions": {"input": ref("var.v")}}],
             "module_calls": {"deeper": {"source": "./deeper", "module": {"resources": [
                 {"address": "aws_sqs_queue.q", "mode": "managed", "type": "aws_sqs_queue", "name": "q"}]}}}}
    config: dict[str, Any] = {"root_module": {
        "resources": [{"address": "terraform_data.svc", "mode": "managed", "type": "terraform_data", "name": "svc"},
                      {"address": "aws_iam_role.r", "mode": "managed", "type": "aws_iam_role", "name": "r"},
                      {"address": "aws_vpc.v", "mode": "managed", "type": "aws_vpc", "name": "v"}],
        "module_calls": {
            "per_svc": {"source": "./inner", "expressions": {"v": {"constant_value": "x"}},
                        "for_each_expression": ref("terraform_data.svc"), "module": inner},
            "counted": {"source": "./inner", "count_expression": ref("aws_vpc.v.id", "aws_vpc.v"),
                        "depends_on": ["aws_iam_role.r"], "module": inner}}}}
    graph = ReferenceGraph.from_configuration(config)
    assert graph.dependents('terraform_data.svc["a"]') == ["module.per_svc.module.deeper.aws_sqs_queue.q",
                                                           "module.per_svc.terraform_data.y"]
    assert graph.dependents("aws_vpc.v") == graph.dependents("aws_iam_role.r") == [
        "module.counted.module.deeper.aws_sqs_queue.q", "module.counted.terraform_data.y"]
