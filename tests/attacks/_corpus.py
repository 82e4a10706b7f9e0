"""The attack corpus: one YAML file per class in ``corpus/``, loaded into :class:`Attack` rows.

Every attack is data, read by one parametrized harness per surface (``test_exec.py``, ``test_mcp.py``,
``test_agent_tools.py``).  Ids are stable: a regression names the attack.  See README.md for the fields.
"""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

CORPUS = Path(__file__).parent / "corpus"
SURFACES = ("exec", "mcp", "agent")
TOOL_PROGRAMS = ("terraform", "kubectl")  # the only commands the agent's and MCP's tools can spell


class Expect(StrEnum):
    REFUSED = "refused"  # the gate (or the tool's own argument check) refuses; nothing runs
    HELD = "held"  # held for a named human; nothing runs
    CONTAINED = "contained"  # may run, but the payload must not, and nothing the gate owns may change
    ANY = "any"  # an earlier step of a chain: its outcome is not the point


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ToolCallSpec(_Strict):
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)


class Step(_Strict):
    argv: list[str] = Field(default_factory=list, description="the command (exec); tool calls derive from it")
    tool: ToolCallSpec | None = Field(default=None, description="explicit tool call for the mcp/agent surfaces")
    cwd: str = Field(default=".", description="directory inside the workspace to run from")
    expect: Expect | None = None
    reason: str | None = Field(default=None, description="exec --reason")

    @property
    def program(self) -> str:
        return self.argv[0] if self.argv else ""


class FakeProvider(_Strict):
    """A payload installed as provider ``hashicorp/NAME`` 1.0.0 under ``dir``, with a lock file that matches it."""

    dir: str
    name: str = "evil"
    lock: str | None = Field(default=None, description="where to write a .terraform.lock.hcl naming its h1 hash")
    link_from: str | None = Field(default=None, description="a .terraform/providers dir to symlink it from")


class Approval(_Strict):
    """What a human-side step does with the request the attack's command created."""

    approve_as: dict[str, str] = Field(default_factory=dict, description="surface -> the name to approve as")
    show_must_not_contain: list[str] = Field(default_factory=list)
    show_must_contain: list[str] = Field(default_factory=list)
    run: bool = True


class Attack(_Strict):
    id: str
    cls: str = ""
    description: str
    files: dict[str, str] = Field(default_factory=dict, description="workspace files ({ws}, {outside} ...)")
    outside_files: dict[str, str] = Field(default_factory=dict, description="files outside the workspace")
    payloads: list[str] = Field(default_factory=list, description="workspace paths written as the sh payload")
    python_payloads: list[str] = Field(default_factory=list, description="paths written as a Python payload")
    zips: dict[str, str] = Field(default_factory=dict, description="zip NAME (outside) of workspace dir")
    fake_providers: list[FakeProvider] = Field(default_factory=list)
    symlinks: dict[str, str] = Field(default_factory=dict, description="workspace path -> target")
    dirs: list[str] = Field(default_factory=list, description="empty workspace directories to create")
    git_config: dict[str, str] | None = Field(default=None, description="`git init` the workspace with this config")
    init: bool = Field(default=False, description="copy the session's `terraform init` (AWS provider) in")
    no_state: bool = Field(default=False, description="no terraform.tfstate / default main.tf in the workspace")
    trust: str = "plan"
    policy_extra: str = Field(default="", description="YAML appended to the org policy")
    env: dict[str, str] = Field(default_factory=dict, description="the caller's (agent's) environment additions")
    hostile: dict[str, str] = Field(default_factory=dict, description="owned file -> corruption, before the run")
    hostile_named: str | None = Field(default=None, description="`audit verify` must name this file")
    argv: list[str] = Field(default_factory=list)
    tool: ToolCallSpec | None = None
    cwd: str = "."
    reason: str | None = None
    steps: list[Step] = Field(default_factory=list)
    approval: Approval | None = None
    expect: Expect
    rule: str | None = Field(default=None, description="rule id prefix expected among the refusal's rules")
    must_not_print: list[str] = Field(default_factory=list, description="secrets the output must not contain")
    usage_ok: bool = Field(default=False, description="exec: the CLI's own exit-2 refusal (before the gate) counts")
    surfaces: list[str] = Field(default_factory=list, description="default: every surface that can spell it")
    writes_ok: list[str] = Field(default_factory=list, description="owned workspace files the attack may rewrite")
    why_exec_only: str | None = None
    runs_confined: str | None = Field(
        default=None, description="why the payload is allowed to run, confined by the sandbox: its canary may "
        "show in the output, but its marker, owned files and outside files must stay untouched")

    @model_validator(mode="after")
    def _steps(self) -> Attack:
        if self.argv or self.tool:
            if self.steps:
                raise ValueError(f"{self.id}: give argv/tool or steps, not both")
            self.steps = [Step(argv=self.argv, tool=self.tool, cwd=self.cwd, reason=self.reason)]
        if not self.steps:
            raise ValueError(f"{self.id}: no argv, tool or steps")
        for s in self.steps[:-1]:
            s.expect = s.expect or Expect.ANY
        self.steps[-1].expect = self.steps[-1].expect or self.expect
        if not self.surfaces:
            spellable = all(s.tool is not None or s.program in TOOL_PROGRAMS for s in self.steps)
            self.surfaces = list(SURFACES) if spellable else ["exec"]
        unknown = set(self.surfaces) - set(SURFACES)
        if unknown:
            raise ValueError(f"{self.id}: unknown surfaces {sorted(unknown)}")
        return self


@cache
def load_corpus() -> tuple[Attack, ...]:
    attacks: list[Attack] = []
    for path in sorted(CORPUS.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        defaults = doc.get("defaults", {})
        for row in doc["attacks"]:
            attacks.append(Attack.model_validate({**defaults, **row, "cls": doc["class"]}))
    return tuple(attacks)


def attacks_for(surface: str) -> list[Attack]:
    return [a for a in load_corpus() if surface in a.surfaces]
