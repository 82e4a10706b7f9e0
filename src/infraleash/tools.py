"""``@tool``: a typed Python function becomes a tool an agent may call through the gate.

    @tool(effect=Effect.READ)
    def read_file(path: str, max_lines: int = 200) -> str:
        '''Read a text file from the working tree.

        Args:
            path: file path relative to the working directory.
            max_lines: stop after this many lines.
        '''

    read_file.name, read_file.description, read_file.parameters   # JSON schema for the model
    read_file.invoke({"path": "main.tf"})                            # -> ToolResult

What it builds, at decoration time (a mistake there is a :class:`ToolDefinitionError`):

* the name (the function's, or ``name=``), the description (``description=`` or
  the docstring's first paragraph: the model reads it, so it is required);
* a pydantic model of the parameters from the type hints, and its JSON schema
  with each parameter's description from the docstring's ``Args:`` section
  (Google style; ``:param x:`` works too) or ``Annotated[T, Field(description=...)]``.
  A parameter without a description, without a type hint, or ``*args/**kwargs``
  is an error;
* the declared :class:`~infraleash.gate.model.Effect`, which the gate decides on.

``invoke(arguments)`` validates the arguments (``ToolArgumentError``: one
readable message the model can act on), calls the function, and wraps what it
returns in a :class:`ToolResult`: ``str`` as is, pydantic models and
dicts/lists as indented JSON with the value kept in ``data``, a ``ToolResult``
as returned.  Output longer than ``max_output_chars`` keeps its head and tail
and sets ``truncated``.  A user-facing :class:`~infraleash.errors.InfraleashError`
raised by the function becomes a result with its exit code; anything else is a
bug and propagates.
"""

from __future__ import annotations

import inspect
import json
import re
import time
from collections.abc import Callable
from typing import Annotated, Any, get_args, get_origin, get_type_hints

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model
from pydantic.fields import FieldInfo
from pydantic_core import PydanticSerializationError, to_jsonable_python

from infraleash.errors import InfraleashError, UsageError
from infraleash.gate.model import Action, Effect

DEFAULT_MAX_OUTPUT_CHARS = 50_000

_SECTION = re.compile(r"^(Args|Arguments|Parameters|Params)\s*:\s*$")
_ITEM = re.compile(r"^\*{0,2}(\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")
_SPHINX = re.compile(r"^:param\s+(?:[\w\[\], |.]+\s+)?(\w+)\s*:\s*(.*)$")


class ToolDefinitionError(TypeError):
    """A function cannot become a tool (missing hint, description, ...): a bug in the tool's code."""


class ToolArgumentError(UsageError):
    """The arguments a model passed do not fit the tool's schema; the message says how."""


class ToolResult(BaseModel):
    """What a tool call returns to the agent."""

    output: str
    exit_code: int = 0
    truncated: bool = False
    duration_s: float = 0.0
    data: Any = None


class Tool:
    """A function with a name, a description, a parameter schema and a declared effect."""

    def __init__(self, function: Callable[..., Any], *, effect: Effect, name: str | None = None,
                 description: str | None = None, max_output_chars: int = DEFAULT_MAX_OUTPUT_CHARS) -> None:
        self.function = function
        self.name = name or function.__name__
        self.effect = Effect(effect)
        self.max_output_chars = max_output_chars
        summary, param_docs = parse_docstring(inspect.getdoc(function) or "")
        self.description = (description or summary).strip()
        if not self.description:
            raise ToolDefinitionError(f"tool {self.name}: no description (give it a docstring or description=)")
        self.arguments_model = _arguments_model(function, self.name, param_docs)
        self.parameters: dict[str, Any] = _clean_schema(self.arguments_model.model_json_schema())
        self.__doc__ = function.__doc__
        self.__name__ = self.name

    def __repr__(self) -> str:
        return f"Tool({self.name!r}, effect={self.effect.value})"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.function(*args, **kwargs)

    def definition(self) -> dict[str, Any]:
        """Name, description and JSON schema, the shape model APIs and MCP expect."""
        return {"name": self.name, "description": self.description, "parameters": self.parameters}

    def action(self, arguments: dict[str, Any], **fields: Any) -> Action:
        """The gate :class:`Action` for calling this tool with ``arguments``."""
        return Action(tool=self.name, arguments=arguments, effect=self.effect, **fields)

    def validate(self, arguments: dict[str, Any] | str | None) -> dict[str, Any]:
        """Validated keyword arguments for the function, or a :class:`ToolArgumentError`."""
        if isinstance(arguments, str):
            try:
                arguments = json.loads(arguments) if arguments.strip() else {}
            except json.JSONDecodeError as e:
                raise ToolArgumentError(f"tool {self.name}: arguments are not valid JSON ({e.msg} at "
                                        f"line {e.lineno} column {e.colno})") from None
        if arguments is None:
            arguments = {}
        if not isinstance(arguments, dict):
            raise ToolArgumentError(f"tool {self.name}: arguments must be a JSON object, "
                                    f"got {type(arguments).__name__}")
        try:
            model = self.arguments_model.model_validate(arguments)
        except ValidationError as e:
            raise ToolArgumentError(f"tool {self.name}: {_explain(e)}") from None
        return {key: getattr(model, key) for key in type(model).model_fields}

    def invoke(self, arguments: dict[str, Any] | str | None) -> ToolResult:
        """Validate ``arguments``, run the function, and wrap what it returns."""
        kwargs = self.validate(arguments)
        start = time.perf_counter()
        try:
            value = self.function(**kwargs)
        except ToolArgumentError:
            raise
        except InfraleashError as e:
            value = ToolResult(output=f"error: {e}", exit_code=int(e.exit_code))
        result = _to_result(value)
        output, truncated = truncate(result.output, self.max_output_chars)
        return result.model_copy(update={"output": output, "truncated": truncated or result.truncated,
                                         "duration_s": result.duration_s or time.perf_counter() - start})


def tool(*, effect: Effect, name: str | None = None, description: str | None = None,
         max_output_chars: int = DEFAULT_MAX_OUTPUT_CHARS) -> Callable[[Callable[..., Any]], Tool]:
    """Decorator: ``@tool(effect=Effect.READ)`` turns a typed, documented function into a :class:`Tool`."""

    def wrap(function: Callable[..., Any]) -> Tool:
        return Tool(function, effect=effect, name=name, description=description,
                    max_output_chars=max_output_chars)

    return wrap


def truncate(text: str, limit: int) -> tuple[str, bool]:
    """``text`` cut to about ``limit`` characters, keeping the head and the tail."""
    if limit <= 0 or len(text) <= limit:
        return text, False
    head = limit * 2 // 3
    tail = limit - head
    cut = len(text) - head - tail
    return f"{text[:head]}\n... [{cut} characters truncated] ...\n{text[-tail:]}", True


def parse_docstring(doc: str) -> tuple[str, dict[str, str]]:
    """(first paragraph as one line, parameter name -> description) from a Google/Sphinx docstring."""
    lines = inspect.cleandoc(doc).splitlines() if doc else []
    summary: list[str] = []
    for line in lines:
        if not line.strip() or _SECTION.match(line.strip()) or line.lstrip().startswith(":"):
            break
        summary.append(line.strip())
    params: dict[str, str] = {}
    current: str | None = None
    in_args, item_indent = False, -1
    for line in lines:
        stripped, indent = line.strip(), len(line) - len(line.lstrip())
        sphinx = _SPHINX.match(stripped)
        if sphinx:
            current, in_args = sphinx.group(1), False
            params[current] = sphinx.group(2).strip()
            continue
        if _SECTION.match(stripped):
            in_args, item_indent, current = True, -1, None
            continue
        if not stripped:
            continue
        if in_args:
            if item_indent < 0:
                item_indent = indent
            if indent < item_indent or (indent == 0 and stripped.endswith(":")):
                in_args, current = False, None
                continue
            item = _ITEM.match(stripped) if indent == item_indent else None
            if item:
                current = item.group(1)
                params[current] = item.group(2).strip()
                continue
        if current is not None and (in_args or indent > 0):
            params[current] = f"{params[current]} {stripped}".strip()
        else:
            current = None
    return " ".join(summary), params


def _arguments_model(function: Callable[..., Any], tool_name: str,
                     docs: dict[str, str]) -> type[BaseModel]:
    try:
        hints = get_type_hints(function, include_extras=True)
    except Exception as e:  # a forward reference that does not resolve
        raise ToolDefinitionError(f"tool {tool_name}: cannot resolve type hints ({e})") from None
    fields: dict[str, Any] = {}
    for param in inspect.signature(function).parameters.values():
        where = f"tool {tool_name}, parameter {param.name}"
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise ToolDefinitionError(f"{where}: *args/**kwargs cannot be described to a model")
        if param.name not in hints:
            raise ToolDefinitionError(f"{where}: needs a type hint")
        annotation = hints[param.name]
        description = docs.get(param.name) or _annotated_description(annotation)
        if not description:
            raise ToolDefinitionError(f"{where}: needs a description (docstring Args: section)")
        default = ... if param.default is inspect.Parameter.empty else param.default
        fields[param.name] = (annotation, Field(default, description=description))
    model: type[BaseModel] = create_model(
        f"{tool_name}_arguments", __config__=ConfigDict(extra="forbid"), **fields)
    return model


def _annotated_description(annotation: Any) -> str | None:
    if get_origin(annotation) is Annotated:
        for meta in get_args(annotation)[1:]:
            if isinstance(meta, FieldInfo) and meta.description:
                return meta.description
    return None


def _clean_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Drop pydantic's generated titles: they cost the model tokens and say nothing."""
    schema.pop("title", None)
    for prop in schema.get("properties", {}).values():
        if isinstance(prop, dict):
            prop.pop("title", None)
    return schema


def _explain(error: ValidationError) -> str:
    parts = []
    for err in error.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "arguments"
        if err["type"] == "extra_forbidden":
            parts.append(f"{loc}: unknown parameter")
        elif err["type"] == "missing":
            parts.append(f"{loc}: required parameter missing")
        else:
            parts.append(f"{loc}: {err['msg']} (got {err.get('input')!r})")
    return "; ".join(parts)


def _jsonable(value: Any) -> Any:
    try:
        return to_jsonable_python(value)
    except PydanticSerializationError:
        return str(value)


def _to_result(value: Any) -> ToolResult:
    if isinstance(value, ToolResult):
        return value
    if value is None:
        return ToolResult(output="")
    if isinstance(value, str):
        return ToolResult(output=value)
    if isinstance(value, BaseModel):
        return ToolResult(output=value.model_dump_json(indent=2), data=value)
    if isinstance(value, dict | list | tuple | int | float | bool):
        return ToolResult(output=json.dumps(value, indent=2, default=_jsonable), data=value)
    return ToolResult(output=str(value), data=value)
