from __future__ import annotations

from typing import Annotated, Literal

import pytest
from pydantic import BaseModel, Field

from infraleash.errors import InputError
from infraleash.gate import Effect, GateContext, GateVerdict, decide
from infraleash.policy import Policy
from infraleash.tools import ToolArgumentError, ToolDefinitionError, ToolResult, parse_docstring, tool


class Resource(BaseModel):
    address: str
    change: Literal["create", "update", "delete"]


@tool(effect=Effect.READ)
def list_resources(directory: str, kinds: list[str] | None = None, limit: int = 50) -> list[Resource]:
    """List the resources a Terraform configuration declares.

    Reads *.tf files only; runs nothing.

    Args:
        directory: the configuration's directory,
            relative to the working tree.
        kinds (list[str]): only these resource types.
        limit: at most this many.

    Returns:
        the resources.
    """
    found = [Resource(address=f"aws_s3_bucket.b{i}", change="create") for i in range(limit)]
    return [r for r in found if not kinds or r.address.split(".")[0] in kinds]


@tool(effect=Effect.DESTRUCTIVE, name="restart", description="Restart a service by name.")
def restart_service(name: Annotated[str, Field(description="the service", min_length=1)]) -> str:
    return f"restarted {name}"


def test_schema_comes_from_hints_and_docstring() -> None:
    assert list_resources.name == "list_resources"
    assert list_resources.description == "List the resources a Terraform configuration declares."
    schema = list_resources.parameters
    assert schema["required"] == ["directory"]
    assert schema["additionalProperties"] is False
    props = schema["properties"]
    assert props["directory"] == {"type": "string",
                                  "description": "the configuration's directory, relative to the working tree."}
    assert props["limit"]["default"] == 50 and props["limit"]["type"] == "integer"
    assert props["kinds"]["description"] == "only these resource types."
    assert {"type": "array", "items": {"type": "string"}} in props["kinds"]["anyOf"]
    assert "title" not in schema and "title" not in props["limit"]


def test_name_description_and_annotated_field_descriptions() -> None:
    assert restart_service.name == "restart" and restart_service.effect is Effect.DESTRUCTIVE
    assert restart_service.definition()["description"] == "Restart a service by name."
    assert restart_service.parameters["properties"]["name"]["description"] == "the service"


def test_invoke_validates_coerces_and_wraps_models_as_json() -> None:
    result = list_resources.invoke({"directory": "envs/prod", "limit": "2"})
    assert result.exit_code == 0 and not result.truncated and result.duration_s > 0
    assert [r.address for r in result.data] == ["aws_s3_bucket.b0", "aws_s3_bucket.b1"]
    assert '"address": "aws_s3_bucket.b1"' in result.output


def test_invoke_accepts_a_json_string_of_arguments() -> None:
    assert restart_service.invoke('{"name": "web"}').output == "restarted web"


@pytest.mark.parametrize(("arguments", "message"), [
    ({}, "directory: required parameter missing"),
    ({"directory": "x", "limit": "many"}, "limit: Input should be a valid integer"),
    ({"directory": "x", "dir": "y"}, "dir: unknown parameter"),
    ("{not json", "arguments are not valid JSON"),
    ([1, 2], "arguments must be a JSON object"),
])
def test_bad_arguments_give_one_readable_error(arguments: object, message: str) -> None:
    with pytest.raises(ToolArgumentError) as err:
        list_resources.invoke(arguments)  # type: ignore[arg-type]
    assert str(err.value).startswith("tool list_resources: ") and message in str(err.value)
    assert "\n" not in str(err.value)


def test_annotated_constraints_are_enforced() -> None:
    with pytest.raises(ToolArgumentError, match="name: String should have at least 1 character"):
        restart_service.invoke({"name": ""})


def test_return_types_dict_none_and_tool_result() -> None:
    @tool(effect=Effect.READ)
    def counts(kind: str) -> dict[str, int]:
        """Count things.

        Args:
            kind: what to count.
        """
        return {kind: 3}

    @tool(effect=Effect.PLAN)
    def plan(directory: str) -> ToolResult:
        """Plan.

        :param directory: where.
        """
        return ToolResult(output="2 to add", exit_code=2, duration_s=1.5)

    @tool(effect=Effect.WRITE)
    def touch(path: str) -> None:
        """Touch a file.

        Args:
            path: the file.
        """

    assert counts.invoke({"kind": "buckets"}).data == {"buckets": 3}
    planned = plan.invoke({"directory": "."})
    assert (planned.output, planned.exit_code, planned.duration_s) == ("2 to add", 2, 1.5)
    assert touch.invoke({"path": "x"}).output == ""


def test_long_output_keeps_head_and_tail_and_says_so() -> None:
    @tool(effect=Effect.READ, max_output_chars=100)
    def log(lines: int) -> str:
        """Print lines.

        Args:
            lines: how many.
        """
        return "\n".join(f"line {i}" for i in range(lines))

    result = log.invoke({"lines": 1000})
    assert result.truncated and len(result.output) < 200
    assert result.output.startswith("line 0\n") and result.output.endswith("line 999")
    assert "characters truncated" in result.output
    assert not log.invoke({"lines": 3}).truncated


def test_user_errors_become_results_and_bugs_propagate() -> None:
    @tool(effect=Effect.READ)
    def read(path: str) -> str:
        """Read a file.

        Args:
            path: the file.
        """
        if path == "bug":
            raise KeyError(path)
        raise InputError("not UTF-8 text", file=path)

    result = read.invoke({"path": "main.tf"})
    assert result.exit_code == 2 and result.output == "error: main.tf: not UTF-8 text"
    with pytest.raises(KeyError):
        read.invoke({"path": "bug"})


def test_missing_parameter_description_fails_at_decoration_time() -> None:
    with pytest.raises(ToolDefinitionError, match="parameter limit: needs a description"):
        @tool(effect=Effect.READ)
        def f(path: str, limit: int = 3) -> str:
            """Do it.

            Args:
                path: the path.
            """
            return path


@pytest.mark.parametrize("source", [
    "def f(path) -> str:\n    '''Do.\n\n    Args:\n        path: p.\n    '''\n",
    "def f(*paths: str) -> str:\n    '''Do.\n\n    Args:\n        paths: p.\n    '''\n",
    "def f(path: str) -> str:\n    pass\n",
])
def test_functions_that_cannot_be_described_are_refused(source: str) -> None:
    namespace: dict[str, object] = {}
    exec(source, namespace)
    with pytest.raises(ToolDefinitionError):
        tool(effect=Effect.READ)(namespace["f"])  # type: ignore[arg-type]


def test_docstring_parser_handles_sections_and_continuations() -> None:
    summary, params = parse_docstring("""Summary line
    continues here.

    Body.

    Args:
        a (int): first
            and more.
        b: second.

    Raises:
        ValueError: never.
    """)
    assert summary == "Summary line continues here."
    assert params == {"a": "first and more.", "b": "second."}


def test_the_gate_decides_a_tool_call_on_its_declared_effect() -> None:
    action = restart_service.action({"name": "web"})
    assert action.tool == "restart" and action.effect is Effect.DESTRUCTIVE
    assert decide(action, Policy(), GateContext()).verdict is GateVerdict.DENY
    assert decide(list_resources.action({"directory": "."}), Policy()).verdict is GateVerdict.ALLOW
