"""The shape of ``terraform show -json`` plan output, checked once at the door.

    validate_plan_shape(data, "plan.json")   # InputError naming the JSON path of the first bad value

pydantic models of the documented plan format (https://developer.hashicorp.com/terraform/internals/json-format,
"Plan Representation"): every field the review reads has its type here, so classification, drift,
secret masking, the stateful table and the blast radius never meet a list where an object belongs,
a number where a string belongs or a sensitivity mark of another shape.  Unknown keys are tolerated
(newer Terraform and OpenTofu add fields); attribute values (``before``/``after``) may be any JSON.
"""

from __future__ import annotations

from typing import Any, Union

from pydantic import BaseModel, ConfigDict, ValidationError
from typing_extensions import TypeAliasType

from infraleash.errors import InputError

# a sensitivity / unknown mark: true|false, or an object/array of marks mirroring the value
Mark = TypeAliasType("Mark", Union[bool, dict[str, "Mark"], list["Mark"]])  # type: ignore[misc]  # noqa: UP007


class _Shape(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True, frozen=True)


class Importing(_Shape):
    id: str | None = None
    identity: Any = None


class Change(_Shape):
    actions: list[str]
    before: Any = None
    after: Any = None
    after_unknown: Mark | None = None
    before_sensitive: Mark | None = None
    after_sensitive: Mark | None = None
    replace_paths: list[list[str | int]] | None = None
    importing: Importing | None = None


class ResourceChangeShape(_Shape):
    address: str
    change: Change
    type: str | None = None
    name: str | None = None
    mode: str | None = None
    module_address: str | None = None
    provider_name: str | None = None
    previous_address: str | None = None
    action_reason: str | None = None
    deposed: str | None = None


class OutputChangeShape(_Shape):
    actions: list[str] | None = None
    before: Any = None
    after: Any = None
    after_unknown: Mark | None = None
    before_sensitive: Mark | None = None
    after_sensitive: Mark | None = None


class RelevantAttribute(_Shape):
    resource: str
    attribute: list[str | int] | None = None


class VariableValue(_Shape):
    value: Any = None


class ConfigResource(_Shape):
    address: str
    expressions: Any = None
    depends_on: list[str] | None = None


class ConfigOutput(_Shape):
    expression: Any = None
    sensitive: bool | None = None


class ConfigVariable(_Shape):
    sensitive: bool | None = None


class ModuleCall(_Shape):
    expressions: dict[str, Any] | None = None
    module: ConfigModule | None = None
    depends_on: list[str] | None = None


class ConfigModule(_Shape):
    resources: list[ConfigResource] | None = None
    module_calls: dict[str, ModuleCall] | None = None
    outputs: dict[str, ConfigOutput] | None = None
    variables: dict[str, ConfigVariable] | None = None


class Configuration(_Shape):
    root_module: ConfigModule | None = None


class PlanShape(_Shape):
    format_version: str
    terraform_version: str | None = None
    resource_changes: list[ResourceChangeShape] | None = None
    resource_drift: list[ResourceChangeShape] | None = None
    output_changes: dict[str, OutputChangeShape] | None = None
    relevant_attributes: list[RelevantAttribute] | None = None
    variables: dict[str, VariableValue] | None = None
    configuration: Configuration | None = None
    planned_values: dict[str, Any] | None = None
    prior_state: dict[str, Any] | None = None
    errored: bool | None = None
    complete: bool | None = None


def json_path(loc: tuple[int | str, ...]) -> str:
    """pydantic's error location as a JSON path: ``$.resource_changes[3].change.actions``."""
    out = "$"
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.isidentifier():
            out += f".{part}"
        else:
            out += f"[{part!r}]"
    return out


def _mark_loc(loc: tuple[int | str, ...]) -> tuple[int | str, ...]:
    """Cut the union-branch names pydantic appends (``bool``, ``dict[str,...]``) off a location."""
    out: list[int | str] = []
    for part in loc:
        if isinstance(part, str) and (part in ("bool", "str", "int", "none") or "[" in part):
            continue
        out.append(part)
    return tuple(out)


def validate_plan_shape(data: Any, source: str) -> None:
    """Raise InputError with the JSON path of the first value of the wrong type in a plan document."""
    try:
        PlanShape.model_validate(data)
    except ValidationError as e:
        errors = e.errors(include_url=False, include_input=False)
        # the deepest location: of a union's failing branches, the one that got furthest names the bad value
        err = max(errors, key=lambda x: len(_mark_loc(tuple(x["loc"]))))
        loc = _mark_loc(tuple(err["loc"]))
        raise InputError(f"malformed plan at {json_path(loc)}: {err['msg']}", file=source) from None


ModuleCall.model_rebuild()
