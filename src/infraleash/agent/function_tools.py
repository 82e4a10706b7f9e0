"""Tools made with ``@tool`` (:mod:`infraleash.tools`), seen by the guarded toolset as :class:`AgentTool`.

    @tool(effect=Effect.READ)
    def read_file(path: str) -> str: ...          # schema and validator from hints + docstring
    function_tool(read_file)                      # runs in-process once the gate allows it

    @tool(effect=Effect.PLAN)
    def terraform_validate(dir: str = ".") -> list[str]: ...   # returns the argv
    command_tool(terraform_validate)              # the argv goes through the executor

Bad arguments (:class:`~infraleash.tools.ToolArgumentError`) become
:class:`ToolMistake`, which the guarded toolset hands back to the model.
"""

from __future__ import annotations

from typing import Any

from infraleash.agent.exceptions import ToolMistake
from infraleash.agent.guarded import AgentTool
from infraleash.tools import Tool, ToolArgumentError


def _validator(t: Tool) -> Any:
    def validate(arguments: dict[str, Any]) -> dict[str, Any]:
        try:
            return t.validate(arguments)
        except ToolArgumentError as e:
            raise ToolMistake(str(e)) from None

    return validate


def function_tool(t: Tool) -> AgentTool:
    """A tool that runs in-process (``Tool.invoke``) once the gate allows it."""
    return AgentTool(name=t.name, description=t.description, parameters=t.parameters, effect=t.effect,
                     validate=_validator(t), run=t.invoke)


def command_tool(t: Tool) -> AgentTool:
    """A tool whose function builds an argv; the executor decides, audits and runs it."""
    return AgentTool(name=t.name, description=t.description, parameters=t.parameters, effect=t.effect,
                     validate=_validator(t), command=t.function)
