"""The gate's data types: what is asked (Action), what is decided (Decision).

Every tool call and every command an agent wants to run becomes an
:class:`Action`; :func:`infraleash.gate.decision.decide` turns it into a
:class:`Decision`.  Approvals, audit, the executor, the agent loop and the MCP
server all speak these types.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field


class Effect(StrEnum):
    """What running something does to the world, in increasing order of risk."""

    READ = "read"  # reads files, state, clusters; changes nothing
    PLAN = "plan"  # validates or plans; may refresh state but writes nothing real
    WRITE = "write"  # writes local files or local metadata (fmt, workspace select)
    DESTRUCTIVE = "destructive"  # changes real infrastructure or state

    @property
    def rank(self) -> int:
        return list(Effect).index(self)


class GateVerdict(StrEnum):
    ALLOW = "allow"
    DENY = "deny"
    NEEDS_APPROVAL = "needs_approval"


class RuleHit(BaseModel):
    """One gate rule that fired, with a plain-language reason."""

    id: str
    reason: str


class Action(BaseModel):
    """Something an agent (or a human through `infraleash exec`) wants done."""

    argv: list[str] = Field(default_factory=list, description="the command, for command actions")
    tool: str | None = Field(default=None, description="the tool name, for tool calls")
    arguments: dict[str, Any] = Field(default_factory=dict, description="tool-call arguments")
    effect: Effect | None = Field(default=None, description="declared effect of a tool call")
    cwd: str = "."
    env: dict[str, str] = Field(default_factory=dict, description="environment the command would run with")
    requester: str = "agent"
    reason: str | None = None


class GateContext(BaseModel):
    """Facts about where the action happens, for per-environment policy."""

    workspace: str | None = None
    kube_context: str | None = None
    incident_severity: int | None = Field(default=None, description="1..5 when in incident mode")
    environment: str | None = Field(default=None, description="resolved environment name (set by decide)")
    workspace_dir: str | None = Field(
        default=None, description="the tree the agent works in: output paths must stay inside it and off the files "
        "the gate owns (None: the action's working directory). Set by trusted code (runner, agent, MCP), never by "
        "the model")
    scratch_dirs: list[str] = Field(
        default_factory=list, description="private directories trusted infraleash code (review) may also write "
        "outputs to, such as a plan file; never set from a model's arguments")


class Decision(BaseModel):
    """The gate's answer, with everything needed to audit and explain it."""

    verdict: GateVerdict
    effect: Effect
    rules: list[RuleHit] = Field(default_factory=list)
    summary: str = ""
    argv: list[str] = Field(default_factory=list, description="the effective argv that would run")
    env: dict[str, str] = Field(default_factory=dict, description="the sanitized environment it would run with")
    stripped_env: list[str] = Field(default_factory=list, description="variables removed because they change meaning")
    plan_file: str | None = Field(default=None, description="saved plan file for `terraform apply PLANFILE`")
    extra_env: dict[str, str] = Field(
        default_factory=dict, description="variables the gate itself adds on top of the child's environment "
        "(git: GIT_CONFIG_COUNT/KEY_n/VALUE_n overriding settings that run programs); the executor applies them")
    output_filter: str | None = Field(
        default=None, description="a masker the executor runs over the command's stdout before anyone sees it "
        "(gate.output_filters: 'kubeconfig' for `kubectl config view`)")
    approvable: bool = True
    environment: str | None = None
    trust_level: str | None = None

    @property
    def allowed(self) -> bool:
        return self.verdict is GateVerdict.ALLOW

    def reasons(self) -> str:
        return "; ".join(f"[{r.id}] {r.reason}" for r in self.rules)
