"""A run's state and trajectory, saved as JSON after every step.

    .infraleash/runs/<run-id>/trajectory.json   RunState: messages, steps, usage, status, pending call
    .infraleash/runs/<run-id>/plan.md           the step plan, when the agent wrote one (editable)
    .infraleash/runs/<run-id>/incident.md       the incident draft, in incident mode

The file is written atomically (temp file + rename), so a crash mid-write never
leaves a half trajectory; ``--resume RUN`` loads it back.
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from infraleash.agent.messages import Message, Observation, ToolCall, Usage
from infraleash.errors import InputError, UsageError

RUNS_DIR = Path(".infraleash") / "runs"
TRAJECTORY = "trajectory.json"


class PendingCall(BaseModel):
    """A tool call waiting for a human: an approval request, or the user's review of the plan."""

    kind: Literal["approval", "plan_review"]
    call: ToolCall
    request_id: str | None = None
    reasons: str = ""


class StepRecord(BaseModel):
    """One model call and what came of it."""

    n: int
    at: float
    duration_s: float
    usage: Usage
    cost_usd: float | None
    text: str = ""
    tool_calls: list[ToolCall] = Field(default_factory=list)
    observations: list[Observation] = Field(default_factory=list)


class RunState(BaseModel):
    run_id: str
    task: str
    workspace: str
    model: str = ""
    created_at: float = Field(default_factory=time.time)
    status: str = "running"
    messages: list[Message] = Field(default_factory=list)
    steps: list[StepRecord] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    cost_usd: float = 0.0
    cost_unknown: bool = Field(default=False, description="some call had no price: cost_usd is a lower bound")
    elapsed_s: float = 0.0
    pending: PendingCall | None = None
    deferred: list[ToolCall] = Field(default_factory=list, description="calls of the paused turn not yet run")
    final: str | None = None
    stop_reason: str | None = None
    incident: dict[str, Any] | None = None
    extra: dict[str, Any] = Field(default_factory=dict, description="state of the planner and context manager")


def new_run_id() -> str:
    return f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"


class RunStore:
    """Runs under ``<workspace>/.infraleash/runs``."""

    def __init__(self, workspace: str | Path) -> None:
        self.root = Path(workspace) / RUNS_DIR

    def dir(self, run_id: str) -> Path:
        return self.root / run_id

    def save(self, state: RunState) -> Path:
        d = self.dir(state.run_id)
        d.mkdir(parents=True, exist_ok=True)
        path = d / TRAJECTORY
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(state.model_dump_json(indent=1), encoding="utf-8")
        os.replace(tmp, path)
        return path

    def load(self, run_id: str) -> RunState:
        path = self.dir(run_id) / TRAJECTORY
        if not path.is_file():
            known = sorted(p.name for p in self.root.iterdir()) if self.root.is_dir() else []
            hint = f"; runs here: {', '.join(known[-5:])}" if known else ""
            raise UsageError(f"no run {run_id!r} in {self.root}{hint}")
        try:
            return RunState.model_validate_json(path.read_text(encoding="utf-8"))
        except ValidationError as e:
            raise InputError(f"not a valid trajectory: {e.errors()[0]['msg']}", file=str(path)) from None
