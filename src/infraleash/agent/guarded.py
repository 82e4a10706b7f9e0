"""The guarded toolset: every tool call an agent makes passes the gate here, not in the loop.

    toolset = GuardedToolset(tools, GateSession.for_workspace(policy, workspace, requester="agent:run-1"))

For each call (pydantic-ai ``approval_required`` style, a wrapper around the tools):

1. the model's mistakes (unknown tool, malformed JSON, arguments that do not fit
   the schema) come back as a tool error naming what was wrong;
2. *command* tools (terraform, kubectl) build an argv that goes to the executor
   (``infraleash.gate.executor.execute``): decided, audited, then run, held or
   refused.  *Function* tools (read_file, check, ...) are decided on their
   declared effect, audited, then called in-process;
3. ``deny``  -> a tool error stating the rule ids and reasons;
   ``needs_approval`` -> :class:`ApprovalPending` with the request id (the run
   pauses); :meth:`GuardedToolset.resume` later runs the approved request
   through ``run_approved`` (exactly that command, once) or tells the model a
   human denied it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infraleash.agent.exceptions import ApprovalPending, ToolMistake
from infraleash.agent.messages import Observation, ToolCall, ToolSpec
from infraleash.agent.run_store import PendingCall
from infraleash.gate.approval_backend import ApprovalBackend, approval_backend
from infraleash.gate.approvals import ApprovalStore, Status
from infraleash.gate.audit import AuditLog, HeadAnchor
from infraleash.gate.executor import ExecutionResult, Outcome, execute, run_approved
from infraleash.gate.model import Action, Decision, Effect, GateContext, GateVerdict
from infraleash.gate.runner_config import RunnerConfig
from infraleash.gate.state_health import state_refusal
from infraleash.policy import Policy

ArgsValidator = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass
class AgentTool:
    """A tool as the guarded toolset sees it.

    Exactly one of ``run`` (a function tool: ``Tool.invoke(arguments) -> ToolResult``,
    in-process) and ``command`` (returns the argv to run through the executor)
    is set.  ``validate`` raises :class:`ToolMistake` on bad arguments.
    """

    name: str
    description: str
    parameters: dict[str, Any]
    effect: Effect
    validate: ArgsValidator
    run: Callable[..., Any] | None = None
    command: Callable[..., list[str]] | None = None

    def spec(self) -> ToolSpec:
        return ToolSpec(name=self.name, description=self.description, parameters=self.parameters)


@dataclass
class GateSession:
    """Everything the gate needs for this run: policy, context, approvals store, audit log, runner configuration.

    ``env`` is the environment the agent's commands are *asked* with (the gate keeps only its
    allow-listed names); ``runner`` is where the child's real environment and sandbox come from.
    """

    policy: Policy
    context: GateContext
    store: ApprovalBackend
    audit: AuditLog
    workspace: Path
    requester: str = "agent"
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    runner: RunnerConfig = field(default_factory=RunnerConfig)

    @classmethod
    def for_workspace(cls, policy: Policy, workspace: Path, *, requester: str = "agent",
                      context: GateContext | None = None, env: dict[str, str] | None = None,
                      runner: RunnerConfig | None = None) -> GateSession:
        ctx = context or GateContext()
        if ctx.workspace_dir is None:  # outputs stay in the agent's workspace, whatever directory a tool names
            ctx = ctx.model_copy(update={"workspace_dir": str(Path(workspace).resolve())})
        store = approval_backend(policy, env)  # a local store is also an anchor of the audit head
        anchors: list[HeadAnchor] = [store] if isinstance(store, ApprovalStore) else []
        return cls(policy=policy, context=ctx, store=store,
                   audit=AuditLog.from_policy(policy, extra_anchors=anchors), workspace=workspace, requester=requester,
                   env=dict(os.environ) if env is None else env, runner=runner or RunnerConfig())

    def decide(self, action: Action) -> Decision:
        from infraleash.gate.decision import decide

        return decide(action, self.policy, self.context)


def gate_summary(decision: Decision | None) -> dict[str, Any] | None:
    if decision is None:
        return None
    return {"verdict": decision.verdict.value, "effect": decision.effect.value,
            "rules": [r.id for r in decision.rules], "reasons": decision.reasons(),
            "environment": decision.environment, "trust_level": decision.trust_level}


class GuardedToolset:
    """Tools behind the gate; plus resumers for calls paused for another reason (the plan review)."""

    def __init__(self, tools: list[AgentTool], gate: GateSession,
                 resumers: dict[str, Callable[[PendingCall], Observation]] | None = None) -> None:
        self.tools = {t.name: t for t in tools}
        self.gate = gate
        self.resumers = dict(resumers or {})

    def specs(self) -> list[ToolSpec]:
        return [t.spec() for t in self.tools.values()]

    # ----------------------------------------------------------------- calling

    def call(self, call: ToolCall) -> Observation:
        tool = self.tools.get(call.name)
        try:
            if tool is None:
                raise ToolMistake(f"unknown tool {call.name!r}; the tools are: {', '.join(sorted(self.tools))}")
            if call.parse_error is not None:
                raise ToolMistake(f"{call.name}: {call.parse_error}; send the arguments as one JSON object")
            args = tool.validate(call.arguments)
            if tool.command is not None:
                return self._run_command(call, tool, args)
            return self._run_function(call, tool, args)
        except ToolMistake as e:
            return Observation(call_id=call.id, tool=call.name, output=f"error: {e}", is_error=True)

    def _action(self, tool: AgentTool, args: dict[str, Any], argv: list[str] | None = None) -> Action:
        return Action(argv=argv or [], tool=tool.name, arguments=args, effect=tool.effect,
                      cwd=str(self.gate.workspace), env=self.gate.env if argv else {},
                      requester=self.gate.requester)

    def _run_command(self, call: ToolCall, tool: AgentTool, args: dict[str, Any]) -> Observation:
        assert tool.command is not None
        argv = tool.command(**args)
        g = self.gate
        result = execute(self._action(tool, args, argv), g.policy, g.context, store=g.store, audit=g.audit,
                         runner=g.runner)
        if result.outcome is Outcome.HELD:
            assert result.request_id is not None
            raise ApprovalPending(
                f"held for a human: approval request {result.request_id} ({result.message})",
                PendingCall(kind="approval", call=call, request_id=result.request_id, reasons=result.message))
        if result.outcome is Outcome.DENIED:
            return refusal(call, result.decision, result.message)
        return command_observation(call, result)

    def _run_function(self, call: ToolCall, tool: AgentTool, args: dict[str, Any]) -> Observation:
        assert tool.run is not None
        g = self.gate
        action = self._action(tool, args)
        broken = state_refusal(g.store, g.audit)  # GATE-STATE-CORRUPT: refused before anything is decided
        if broken is not None:
            return refusal(call, broken, broken.reasons())
        decision = g.decide(action)
        g.audit.append("decision", action.requester, {
            "tool": tool.name, "arguments": _jsonable(args), "cwd": action.cwd, "verdict": decision.verdict.value,
            "effect": decision.effect.value, "rules": [r.model_dump() for r in decision.rules],
            "summary": decision.summary, "environment": decision.environment, "trust_level": decision.trust_level,
            "context": g.context.model_dump(exclude_none=True)})
        if decision.verdict is GateVerdict.DENY:
            return refusal(call, decision, decision.reasons() or decision.summary)
        if decision.verdict is GateVerdict.NEEDS_APPROVAL:
            # approvals hold exact commands; an in-process tool cannot be replayed later, so it is refused
            return refusal(call, decision, f"{decision.reasons()}; this tool needs a human's approval, which only "
                                           "commands can wait for: ask the user to do it")
        result = tool.run(call.arguments)  # Tool.invoke: validates, runs, wraps, truncates head+tail
        g.audit.append("tool_call", action.requester, {"tool": tool.name, "arguments": _jsonable(args),
                                                        "exit_code": result.exit_code,
                                                        "output_chars": len(result.output)})
        return Observation(call_id=call.id, tool=call.name, output=result.output, exit_code=result.exit_code,
                           is_error=result.exit_code != 0, truncated=result.truncated,
                           data=_jsonable(result.data), gate=gate_summary(decision))

    # ----------------------------------------------------------------- resuming

    def resume(self, pending: PendingCall) -> Observation:
        if pending.kind != "approval":
            return self.resumers[pending.kind](pending)
        assert pending.request_id is not None
        g, call, rid = self.gate, pending.call, pending.request_id
        req = g.store.get(rid)
        if req.status is Status.PENDING:
            server = g.policy.approvals.server
            how = f"decide it at {server}/requests/{rid}" if server else \
                f"`infraleash approvals approve {rid} --as NAME` or `deny`"
            raise ApprovalPending(f"approval request {rid} is still pending: {how}, then resume", pending)
        if req.status is Status.APPROVED:
            result = run_approved(rid, store=g.store, audit=g.audit, actor=g.requester, runner=g.runner,
                                  policy=g.policy)
            if result.outcome is Outcome.DENIED:
                return refusal(call, None, result.message)
            obs = command_observation(call, result)
            obs.output = f"approved by {req.approver}" + (f" ({req.comment})" if req.comment else "") + \
                f"; ran `{' '.join(req.argv)}` once:\n{obs.output}"
            return obs
        who = f" by {req.approver}" + (f": {req.comment}" if req.comment else "") if req.approver else ""
        verdict = {Status.DENIED: f"a human denied approval request {rid}{who}",
                   Status.EXPIRED: f"approval request {rid} expired without a decision",
                   Status.EXECUTED: f"a human already ran approval request {rid} (exit code {req.exit_code})"}
        return Observation(call_id=call.id, tool=call.name, output=f"error: {verdict[req.status]}. Do not retry "
                           "it; continue without it or explain to the user what is needed.", is_error=True)


def refusal(call: ToolCall, decision: Decision | None, reasons: str) -> Observation:
    return Observation(call_id=call.id, tool=call.name, is_error=True, gate=gate_summary(decision),
                       output=f"error: refused by the gate: {reasons}. This boundary is enforced in code for every "
                              "tool call; retrying or rephrasing the same action will be refused again.")


def command_observation(call: ToolCall, result: ExecutionResult) -> Observation:
    out = result.stdout  # values Terraform marks sensitive were masked by the executor (gate/output_masking.py)
    if result.stderr.strip():
        out = f"{out.rstrip()}\n[stderr]\n{result.stderr}" if out.strip() else result.stderr
    if result.outcome is Outcome.TIMED_OUT:
        out += f"\n{result.message}"
    return Observation(call_id=call.id, tool=call.name, output=out, exit_code=result.exit_code,
                       truncated=result.truncated, is_error=result.exit_code != 0,
                       gate=gate_summary(result.decision))


def _jsonable(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)
