"""The three surfaces an attack runs on, each driven the way its real user drives it.

* ``exec``  : the real CLI entry (``infraleash exec -- ARGV``) in-process, the attack's environment in
  ``os.environ`` (the caller's: the runner's own comes from its configuration file); as a subprocess when the
  attack sets variables the Python interpreter itself reads (PYTHONPATH, PYTHONSTARTUP);
* ``mcp``   : the MCP SDK's own client against ``build_server`` over the in-process transport, on one event
  loop per test module (a blocking portal), one server per attack workspace;
* ``agent`` : the agent's :class:`GuardedToolset` driven with tool calls, as the loop does.

Each returns an :class:`Outcome`: what the surface answered, normalised (denied, held, ran, usage, mistake).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from attacks._corpus import Step
from attacks._world import World
from infraleash.errors import ExitCode

KUBECTL_VALUED = {"--kubeconfig", "-n", "--namespace", "--context", "--user", "--cluster", "-s", "--server",
                  "--token", "-o", "--output", "-l", "--selector", "-f", "--filename", "--as", "-c", "--container"}
EXEC_TIMEOUT = "120"


@dataclass
class Outcome:
    kind: str  # denied | held | ran | usage | mistake | error
    text: str = ""
    request_id: str | None = None
    rules: list[str] = field(default_factory=list)
    exit_code: int | None = None


Runner = Callable[[Step], Outcome]


# ---------------------------------------------------------------------- the CLI (exec, and the humans' side)


def run_cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, world: World, cwd: str,
            *argv: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """The real CLI entry in-process, from ``cwd`` in the workspace, with the runner's environment
    (plus ``env``: the caller's additions)."""
    from infraleash.surfaces.cli import main

    with monkeypatch.context() as m:
        for k, v in {**world.runner_env, **(env or {})}.items():
            if os.environ.get(k) != v:
                m.setenv(k, v)
        m.chdir(world.ws / cwd)
        capsys.readouterr()
        try:
            main(list(argv))
            code: Any = 0
        except SystemExit as e:
            code = e.code
        out, err = capsys.readouterr()
    return (code if isinstance(code, int) else 0), out, err


def exec_outcome(code: int, out: str, err: str) -> Outcome:
    kind = {ExitCode.DENIED: "denied", ExitCode.NEEDS_APPROVAL: "held", ExitCode.USAGE: "usage"}.get(code, "ran")
    rid = out.strip().splitlines()[-1].strip() if kind == "held" and out.strip() else None  # exec prints it last
    rules = re.findall(r"^\s+\[([A-Z][A-Z0-9-]*)\] ", err, re.M) if kind in ("denied", "held") else []
    return Outcome(kind, out + err, request_id=rid, exit_code=code, rules=rules)


@contextmanager
def exec_surface(world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
                 ) -> Iterator[Runner]:
    attack = world.attack

    def run(step: Step) -> Outcome:
        argv = [world.fill(a) for a in step.argv]
        opts = ["--timeout", EXEC_TIMEOUT, *(["--reason", step.reason] if step.reason is not None else [])]
        caller = {k: world.fill(v) for k, v in attack.env.items()}
        if not any(k.startswith("PYTHON") for k in caller):  # in-process: os.environ is the caller's
            return exec_outcome(*run_cli(capsys, monkeypatch, world, step.cwd, "exec", *opts, "--", *argv,
                                         env=caller))
        # The interpreter itself reads these, before any infraleash code: a real process, started the way the
        # README's Security section says a runner starts infraleash (`python -I`, isolated from PYTHON*).  What
        # the row then checks is that the variables never reach the command the gate runs.
        env = {**world.runner_env, **caller}
        proc = subprocess.run([sys.executable, "-I", "-m", "infraleash", "exec", *opts, "--", *argv],
                              cwd=world.ws / step.cwd, env=env, capture_output=True, text=True, timeout=300)
        return exec_outcome(proc.returncode, proc.stdout, proc.stderr)

    yield run


# ---------------------------------------------------------------------- tool calls (mcp and agent)


def tool_call(step: Step, world: World) -> tuple[str, dict[str, Any]]:
    """The tool call an agent would make for ``step``: explicit, or derived from its argv."""
    if step.tool is not None:
        return step.tool.name, _fill(step.tool.arguments, world)
    words = [world.fill(a) for a in step.argv[1:]]
    if step.program == "terraform":
        directory = step.cwd
        if words and words[0].startswith("-chdir="):
            directory = os.path.normpath(os.path.join(step.cwd, words.pop(0)[len("-chdir="):]))
        return "terraform", {"args": words, "dir": directory}
    verb_at = None
    for i, w in enumerate(words):
        if not w.startswith("-") and not (i and words[i - 1] in KUBECTL_VALUED):
            verb_at = i
            break
    verb = words.pop(verb_at) if verb_at is not None else ""
    return "kubectl", {"verb": verb, "extra": words}


def _fill(value: Any, world: World) -> Any:
    if isinstance(value, str):
        return world.fill(value)
    if isinstance(value, list):
        return [_fill(v, world) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, world) for k, v in value.items()}
    return value


def tool_env(world: World) -> dict[str, str]:
    """The environment the MCP server / agent runtime was started with: the runner's plus the attack's."""
    return {**world.runner_env, **{k: world.fill(v) for k, v in world.attack.env.items()}}


def _mcp_outcome(result: Any) -> Outcome:
    text = "\n".join(c.text for c in result.content if getattr(c, "type", "") == "text")
    data = result.structured_content or {}
    status = data.get("status")
    if status == "held":
        return Outcome("held", text, request_id=data.get("approval_request"))
    if status == "denied":
        return Outcome("denied", text, rules=list(data.get("rules") or []))
    if status == "error" and not data.get("verdict"):
        return Outcome("mistake", text)
    return Outcome("ran", text, rules=list(data.get("rules") or []))


@contextmanager
def mcp_surface(world: World, portal: Any) -> Iterator[Runner]:
    from mcp import Client

    from infraleash.surfaces.mcp import build_server

    with _runner_environ(world):  # as `infraleash mcp --runner-config F --dir WS` builds it
        runner, policy = runner_and_policy(world)
        server = build_server(world.ws, policy, env=tool_env(world), runner=runner)
    with portal.wrap_async_context_manager(Client(server, read_timeout_seconds=300)) as client:
        def run(step: Step) -> Outcome:
            name, args = tool_call(step, world)
            with _runner_environ(world):
                return _mcp_outcome(portal.call(client.call_tool, name, args))

        yield run


@contextmanager
def agent_surface(world: World) -> Iterator[Runner]:
    from infraleash.agent.exceptions import ApprovalPending
    from infraleash.agent.guarded import GateSession, GuardedToolset
    from infraleash.agent.messages import ToolCall
    from infraleash.agent.tools import Workspace, builtin_tools
    from infraleash.gate.model import GateContext

    env = tool_env(world)
    with _runner_environ(world):  # as `infraleash agent --runner-config F --dir WS` builds it
        runner, policy = runner_and_policy(world)
        toolset = GuardedToolset(builtin_tools(Workspace(world.ws), policy, GateContext(), env),
                                 GateSession.for_workspace(policy, world.ws, requester="agent-1", env=env,
                                                           runner=runner))
    calls = iter(range(1, 1000))

    def run(step: Step) -> Outcome:
        name, args = tool_call(step, world)
        with _runner_environ(world):
            try:
                obs = toolset.call(ToolCall(id=f"attack_{next(calls)}", name=name, arguments=args))
            except ApprovalPending as held:
                rid = held.pending.request_id if held.pending is not None else None
                return Outcome("held", str(held), request_id=rid)
        gate = obs.gate or {}
        if obs.is_error and "refused by the gate" in obs.output:
            return Outcome("denied", obs.output, rules=list(gate.get("rules") or []))
        if obs.is_error and not gate:
            return Outcome("mistake", obs.output)
        return Outcome("ran", obs.output, rules=list(gate.get("rules") or []), exit_code=obs.exit_code)

    yield run


def runner_and_policy(world: World) -> tuple[Any, Any]:
    """The runner configuration and the surface's policy, loaded the way the CLI's surfaces load them."""
    from infraleash.gate.runner_config import load_runner_config
    from infraleash.surfaces.cli.exec_cmd import surface_policy

    runner = load_runner_config(world.runner / "runner.yaml", workspace=world.ws)
    return runner, surface_policy(runner, None, world.ws)


@contextmanager
def _runner_environ(world: World) -> Iterator[None]:
    """The runner process's own environment (the kubeconfig and CLI config it owns) while a tool runs."""
    keys = ("KUBECONFIG", "TF_CLI_CONFIG_FILE", "HOME", "INFRALEASH_RUNNER_CONFIG")
    saved = {k: os.environ.get(k) for k in keys}
    os.environ.update({k: world.runner_env[k] for k in keys})
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
