"""Step plans with validation checkpoints.

For multi-step infrastructure work the agent first calls ``write_plan``: the
steps go to ``<run dir>/plan.md`` (a numbered checklist a human can edit).
With ``--plan-only`` the run pauses there (:class:`PlanReview`); ``--resume``
reloads the file, edits included, and hands it to the model.

The agent then calls ``complete_step`` after each step.  When the step wrote
Terraform, the runtime itself runs the checkpoint before the step can close:

* the static checks (``infraleash.checks.engine.run_checks``): active findings
  at or above the policy's failing severity block;
* ``terraform init -backend=false`` + ``terraform validate -json`` (the
  runtime, not the agent, through the gate and its sandbox like every command):
  validation errors block; when Terraform cannot be initialised here (no
  provider mirror, no network, no gate session) that is said, not hidden;
* then, when validation passed, ``terraform plan -refresh=false -lock=false``
  *through the gate* (decided and audited like any agent command, requester the
  run): plan errors block (e.g. ``tonumber(var.x)`` on a default validate cannot
  see).  The plan is skipped, and the feedback says why, when no gate session
  was given, a remote backend is configured but not initialised
  (``terraform_init`` first), the gate would not allow a plan (trust level
  observe, an incident, a policy rule), or the plan fails for reasons of the
  machine rather than the code (no credentials, no network).

A blocked checkpoint comes back to the model as a tool error listing the
findings; the step stays open, so step N+1 cannot start on top of a broken
step N.  The run cannot finish while a step is open, while Terraform written
since the last checkpoint is unchecked, or while the last checkpoint failed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infraleash.agent.exceptions import PlanReview, ToolMistake
from infraleash.agent.function_tools import function_tool
from infraleash.agent.guarded import AgentTool, GateSession
from infraleash.agent.messages import Observation
from infraleash.agent.run_store import PendingCall, RunState
from infraleash.agent.tools import Workspace
from infraleash.findings import Severity
from infraleash.gate.executor import ExecutionResult, Outcome, execute
from infraleash.gate.model import Action, Effect, GateVerdict
from infraleash.policy import Policy
from infraleash.tools import tool

PLAN_FILE = "plan.md"
_STEP = re.compile(r"^\s*(\d+)\.\s*\[([ xX])\]\s*(.+?)\s*$")


@dataclass
class CheckpointResult:
    directories: list[str]
    blocking: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def render(self) -> str:
        lines = [f"checkpoint of {', '.join(self.directories)}: "
                 f"{'BLOCKED by ' + str(len(self.blocking)) + ' finding(s)' if self.blocking else 'clean'}"]
        lines += [f"  - {b}" for b in self.blocking] + [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)


def run_checkpoint(ws: Workspace, policy: Policy, directories: list[str], *, env: dict[str, str] | None = None,
                   validate: bool = True, gate: GateSession | None = None) -> CheckpointResult:
    """Static checks, ``terraform validate`` and a plan on each directory; what blocks and what could not run."""
    result = CheckpointResult(directories=directories)
    failing = Severity(policy.checks.failing_severity)
    for rel in directories:
        path = ws.root / rel
        try:
            from infraleash.checks.engine import run_checks
        except ImportError:
            result.notes.append("static checks are not available in this installation")
        else:
            report = run_checks(path, policy, use_terraform=False)
            result.blocking += [f"[{f.rule}] {f.location or rel}: {f.message}" for f in report.failing(failing)]
        if validate:
            invalid = _validate(path, rel, gate, result.notes)
            result.blocking += invalid
            if not invalid and not any(n.startswith(f"{rel}: terraform validate not run, init failed")
                                       for n in result.notes):
                result.blocking += _plan(path, rel, gate, result.notes)
        else:
            result.notes.append(f"{rel}: terraform validate and plan are turned off for this run")
    return result


_REMOTE_BACKEND = re.compile(r'(?m)^\s*(?:backend\s+"(?!local")[\w-]+"|cloud)\s*\{')
# plan failures that say something about this machine, not about the code
_ENVIRONMENT = re.compile(r"(?i)no valid credential|credentials|failed to refresh cached|dial tcp|connection refused|"
                          r"no such host|timeout|i/o timeout|backend initialization required|provider.*not available|"
                          r"could not load plugin|inconsistent dependency lock")


def _plan_error(stderr: str) -> str:
    lines = [ln.strip(" │╷╵\t") for ln in stderr.splitlines()]
    lines = [ln for ln in lines if ln and not ln.startswith(("├", "Warning"))]
    start = next((i for i, ln in enumerate(lines) if ln.startswith("Error")), 0)
    return " ".join(lines[start:start + 8])[:600] or "(no output)"


def _plan(path: Path, rel: str, gate: GateSession | None, notes: list[str]) -> list[str]:
    """``terraform plan`` through the gate; blocking findings for plan errors, a note when it could not run."""
    if gate is None:
        notes.append(f"{rel}: terraform plan skipped: no gate session to run it through")
        return []
    tf_text = "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in sorted(path.glob("*.tf")))
    if _REMOTE_BACKEND.search(tf_text) and not (path / ".terraform" / "terraform.tfstate").is_file():
        notes.append(f"{rel}: terraform plan skipped: a remote backend is configured and not initialised here "
                     "(call terraform_init on the directory to get a plan at checkpoints)")
        return []
    argv = ["terraform", f"-chdir={path}", "plan", "-input=false", "-no-color", "-refresh=false", "-lock=false"]
    action = Action(argv=argv, tool="checkpoint_plan", effect=Effect.PLAN, cwd=str(gate.workspace), env=gate.env,
                    requester=gate.requester)
    decision = gate.decide(action)
    if decision.verdict is not GateVerdict.ALLOW:
        notes.append(f"{rel}: terraform plan skipped: the gate says {decision.verdict.value} "
                     f"({decision.reasons() or decision.summary})")
        return []
    result = execute(action, gate.policy, gate.context, store=gate.store, audit=gate.audit, timeout=300,
                     runner=gate.runner)
    if result.outcome is not Outcome.RAN:
        notes.append(f"{rel}: terraform plan did not finish: {result.message or result.outcome.value}")
        return []
    if result.exit_code == 0:
        summary = next((ln.strip() for ln in result.stdout.splitlines()
                        if ln.startswith(("Plan:", "No changes.", "Changes to Outputs"))), "plan succeeded")
        notes.append(f"{rel}: terraform plan (no refresh): {summary}")
        return []
    error = _plan_error(result.stderr or result.stdout)
    if _ENVIRONMENT.search(error):
        notes.append(f"{rel}: terraform plan not possible here: {error}")
        return []
    return [f"[terraform plan] {rel}: {error}"]


def _gated(gate: GateSession, argv: list[str], tool: str, effect: Effect) -> ExecutionResult | str:
    """Run one checkpoint command through the gate (decided, audited, sandboxed); why it did not run, or its result."""
    action = Action(argv=argv, tool=tool, effect=effect, cwd=str(gate.workspace), env=gate.env,
                    requester=gate.requester)
    result = execute(action, gate.policy, gate.context, store=gate.store, audit=gate.audit, timeout=300,
                     runner=gate.runner)
    if result.outcome is Outcome.RAN:
        return result
    if result.outcome is Outcome.DENIED and result.decision is not None and not result.decision.allowed:
        return f"the gate says {result.decision.verdict.value} ({result.decision.reasons() or result.decision.summary})"
    return result.message or result.outcome.value


def _validate(path: Path, rel: str, gate: GateSession | None, notes: list[str]) -> list[str]:
    """``terraform init -backend=false`` (when needed) and ``validate -json`` through the gate, in the sandbox."""
    if gate is None:
        notes.append(f"{rel}: terraform validate not run: no gate session to run it through")
        return []
    if not (path / ".terraform").is_dir():  # providers already installed: validate straight away
        init = _gated(gate, ["terraform", f"-chdir={path}", "init", "-backend=false", "-input=false", "-no-color"],
                      "checkpoint_init", Effect.WRITE)
        if isinstance(init, str):
            notes.append(f"{rel}: terraform validate not run, init did not run: {init}")
            return []
        if init.exit_code != 0:
            notes.append(f"{rel}: terraform validate not run, init failed: {_first_error(init.stderr)}")
            return []
    res = _gated(gate, ["terraform", f"-chdir={path}", "validate", "-json", "-no-color"], "checkpoint_validate",
                 Effect.PLAN)
    if isinstance(res, str):
        notes.append(f"{rel}: terraform validate not run: {res}")
        return []
    try:
        doc = json.loads(res.stdout) if res.stdout.strip() else {}
    except ValueError:
        doc = {}
    diags = doc.get("diagnostics", []) if isinstance(doc, dict) else []
    out = []
    for d in diags:
        if d.get("severity") != "error":
            continue
        rng = d.get("range") or {}
        where = f"{rel}/{rng['filename']}:{rng.get('start', {}).get('line', '?')}" if rng.get("filename") else rel
        out.append(f"[terraform validate] {where}: {d.get('summary', '')}: {' '.join(str(d.get('detail', '')).split())}")
    if res.exit_code != 0 and not out:
        out.append(f"[terraform validate] {rel}: {_first_error(res.stderr)}")
    return out


def _first_error(stderr: str) -> str:
    lines = [ln.strip(" │╷╵\t") for ln in stderr.splitlines()]
    lines = [ln for ln in lines if ln]
    return next((ln for ln in lines if ln.startswith("Error")), lines[0] if lines else "(no output)")


class Planner:
    """The plan tools (``write_plan``, ``complete_step``), the checkpoint, and the finish check."""

    def __init__(self, ws: Workspace, policy: Policy, run_dir: Path, *, plan_only: bool = False,
                 env: dict[str, str] | None = None, validate: bool = True, gate: GateSession | None = None) -> None:
        self.ws = ws
        self.policy = policy
        self.run_dir = run_dir
        self.plan_only = plan_only
        self.env = env
        self.validate = validate
        self.gate = gate
        self.state: RunState | None = None

    # ----------------------------------------------------------------- state (kept in the trajectory)

    def bind(self, state: RunState) -> None:
        self.state = state
        state.extra.setdefault("plan", {"current": 1, "open_findings": [], "unchecked": []})

    @property
    def _s(self) -> dict[str, Any]:
        assert self.state is not None, "Planner.bind(state) first"
        return self.state.extra["plan"]

    @property
    def path(self) -> Path:
        return self.run_dir / PLAN_FILE

    def steps(self) -> list[tuple[int, bool, str]]:
        if not self.path.is_file():
            return []
        found = [_STEP.match(line) for line in self.path.read_text(encoding="utf-8").splitlines()]
        return [(int(m.group(1)), m.group(2) != " ", m.group(3)) for m in found if m]

    def _write(self, task: str, steps: list[tuple[int, bool, str]]) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        body = "\n".join(f"{n}. [{'x' if done else ' '}] {text}" for n, done, text in steps)
        self.path.write_text(f"# Plan: {task}\n\n<!-- One step per line as `N. [ ] what`. Edit, reorder or remove "
                             f"steps, then `infraleash agent --resume {self.run_dir.name}`. -->\n\n{body}\n",
                             encoding="utf-8")

    def _collect_written(self) -> None:
        tf = [p for p in self.ws.written if p.endswith((".tf", ".tf.json", ".tfvars"))]
        self.ws.written.clear()
        self._s["unchecked"] = sorted(set(self._s["unchecked"]) | {str(Path(p).parent) for p in tf})

    def _checkpoint(self) -> CheckpointResult | None:
        self._collect_written()
        dirs = list(self._s["unchecked"] or (self._s.get("last_dirs", ["."]) if self._s["open_findings"] else []))
        if not dirs:
            return None
        result = run_checkpoint(self.ws, self.policy, dirs, env=self.env, validate=self.validate, gate=self.gate)
        self._s["unchecked"] = []
        self._s["last_dirs"] = dirs
        self._s["open_findings"] = result.blocking
        self._s.setdefault("checkpoints", []).append({"directories": dirs, "blocking": result.blocking,
                                                       "notes": result.notes})
        return result

    # ----------------------------------------------------------------- tools

    def tools(self) -> list[AgentTool]:
        @tool(effect=Effect.READ)
        def write_plan(steps: list[str]) -> str:
            """Write the step plan for multi-step infrastructure work before doing any of it (shown to and editable by the user).

            Args:
                steps: the steps in order, each one short sentence (what, where, how it is checked)
            """
            clean = [s.strip() for s in steps if s.strip()]
            if not clean:
                raise ToolMistake("write_plan: give at least one step")
            assert self.state is not None
            self._write(self.state.task, [(i, False, s) for i, s in enumerate(clean, 1)])
            self._s["current"] = 1
            if self.plan_only:
                raise PlanReview(f"plan written to {self.path}; edit it if needed, then resume the run")
            return f"plan saved to {self.path}:\n{self.render()}\nWork on step 1; call complete_step(1, ...) when done."

        @tool(effect=Effect.READ)

        def complete_step(step: int, summary: str) -> str:
            """Mark a plan step done. If the step wrote Terraform, the runtime first runs the static checks, terraform validate and a plan; blocking findings keep the step open.

            Args:
                step: the step number
                summary: what was done and what was assumed
            """
            plan = self.steps()
            if not plan:
                raise ToolMistake("there is no plan; call write_plan first")
            current = self._s["current"]
            if step != current:
                raise ToolMistake(f"step {current} is the current step; steps are completed in order")
            result = self._checkpoint()
            if result is not None and result.blocking:
                raise ToolMistake(f"step {step} is not complete: the checkpoint found blocking problems. Fix them, "
                                  f"then call complete_step({step}) again; step {step + 1} cannot start before.\n"
                                  + result.render())
            self._s["current"] = current + 1
            self._s.setdefault("summaries", {})[str(step)] = summary
            self._write(self.state.task if self.state else "", [(n, done or n == step, t) for n, done, t in plan])
            nxt = next((f"step {n}: {t}" for n, done, t in plan if n > step and not done), None)
            check = result.render() if result else "no Terraform written in this step: no checkpoint needed"
            return f"step {step} done. {check}\n" + (f"Next: {nxt}" if nxt else "All steps are done.")

        return [function_tool(write_plan), function_tool(complete_step)]

    def render(self) -> str:
        return "\n".join(f"{n}. [{'x' if done else ' '}] {text}" for n, done, text in self.steps())

    # ----------------------------------------------------------------- loop hooks

    def finish_check(self, state: RunState) -> str | None:
        if self.plan_only and not self.steps():
            return "this is a --plan-only run: call write_plan with the steps"
        open_steps = [f"{n}. {t}" for n, done, t in self.steps() if not done]
        if open_steps:
            return f"plan steps are still open ({'; '.join(open_steps)}); finish each and call complete_step"
        result = self._checkpoint()
        if result is not None and result.blocking:
            return "the Terraform you wrote has blocking problems; fix them before finishing.\n" + result.render()
        return None

    def resume_review(self, pending: PendingCall) -> Observation:
        steps = self.steps()
        if not steps:
            return Observation(call_id=pending.call.id, tool=pending.call.name, is_error=True,
                               output=f"the user's edited plan {self.path} has no steps (lines like `1. [ ] ...`); "
                                      "write a new plan with write_plan")
        self._s["current"] = next((n for n, done, _ in steps if not done), len(steps) + 1)
        return Observation(call_id=pending.call.id, tool=pending.call.name,
                           output="The user reviewed the plan (and may have edited it). Follow this plan, in order; "
                                  f"call complete_step after each step:\n{self.render()}")
