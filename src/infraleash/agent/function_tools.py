"""Turn a typed Python function into an :class:`AgentTool` (schema and validator from its signature).

    def read_file(path: str, start_line: int = 1) -> str:
        \"\"\"Read a text file in the workspace.

        Args:
            path: file path relative to the workspace root
            start_line: first line to return (1-based)
        \"\"\"

    tool = function_tool(read_file, Effect.READ)

The first docstring paragraph is the tool's description; ``Args:`` lines
describe the parameters (a parameter without one is an error, so the model is
never shown an undocumented argument).  Arguments that do not validate raise
:class:`ToolMistake` naming each bad field, which the loop hands back to the model.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any, get_type_hints

from pydantic import ConfigDict, Field, ValidationError, create_model

from infraleash.agent.exceptions import ToolMistake
from infraleash.agent.guarded import AgentTool
from infraleash.gate.model import Effect

_ARG_LINE = re.compile(r"^ {4}(\w+)(?:\s*\([^)]*\))?:\s*(.*)$")


def parse_docstring(doc: str | None) -> tuple[str, dict[str, str]]:
    """The first paragraph, and the ``Args:`` descriptions (continuation lines indented deeper)."""
    text = inspect.cleandoc(doc or "")
    head, _, rest = text.partition("\nArgs:")
    params: dict[str, str] = {}
    current: str | None = None
    for line in rest.splitlines():
        m = _ARG_LINE.match(line)
        if m:
            current = m.group(1)
            params[current] = m.group(2).strip()
        elif current and line.strip():
            params[current] += " " + line.strip()
    return " ".join(head.strip().split("\n\n")[0].split()), params


def _schema_and_validator(fn: Callable[..., Any], name: str,
                          skip: tuple[str, ...] = ()) -> tuple[str, dict[str, Any], Callable[[dict[str, Any]], dict[str, Any]]]:
    description, docs = parse_docstring(fn.__doc__)
    hints = get_type_hints(fn)
    fields: dict[str, Any] = {}
    for p in inspect.signature(fn).parameters.values():
        if p.name in skip:
            continue
        if p.name not in docs:
            raise TypeError(f"tool {name}: parameter {p.name!r} has no description in the docstring's Args:")
        default = ... if p.default is inspect.Parameter.empty else p.default
        fields[p.name] = (hints.get(p.name, Any), Field(default, description=docs[p.name]))
    model = create_model(f"{name}_arguments", __config__=ConfigDict(extra="forbid"), **fields)
    schema = model.model_json_schema()
    schema.pop("title", None)
    for prop in schema.get("properties", {}).values():
        prop.pop("title", None)

    def validate(arguments: dict[str, Any]) -> dict[str, Any]:
        try:
            return dict(model.model_validate(arguments))
        except ValidationError as e:
            problems = "; ".join(f"{'.'.join(str(x) for x in err['loc']) or '(arguments)'}: {err['msg']}"
                                 for err in e.errors())
            raise ToolMistake(f"{name}: bad arguments: {problems}") from None

    return description, schema, validate


def function_tool(fn: Callable[..., Any], effect: Effect, *, name: str | None = None) -> AgentTool:
    """A tool that runs ``fn`` in-process once the gate allows it."""
    tool_name = name or fn.__name__
    description, schema, validate = _schema_and_validator(fn, tool_name)
    return AgentTool(name=tool_name, description=description, parameters=schema, effect=effect,
                     validate=validate, run=fn)


def command_tool(fn: Callable[..., list[str]], effect: Effect, *, name: str | None = None) -> AgentTool:
    """A tool whose function builds an argv; the executor decides, audits and runs it."""
    tool_name = name or fn.__name__
    description, schema, validate = _schema_and_validator(fn, tool_name)
    return AgentTool(name=tool_name, description=description, parameters=schema, effect=effect,
                     validate=validate, command=fn)
