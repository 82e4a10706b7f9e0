"""The agent runtime (GuardedToolset, which the MCP server also uses) with a policy naming a real approval server:
a held terraform call pauses with the server's request id, an approver's token approves it on the server, and
resume runs exactly that command once through the executor and reports the result."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from infraleash.agent.exceptions import ApprovalPending
from infraleash.agent.guarded import GateSession, GuardedToolset
from infraleash.agent.messages import ToolCall
from infraleash.agent.tools import Workspace, builtin_tools
from infraleash.errors import ExitCode
from infraleash.gate.approval_client import ServerApprovals
from infraleash.gate.model import GateContext
from infraleash.gate.runner_config import RunnerConfig
from infraleash.policy import load_policy

from .team import Team, start_team


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Team]:
    base = tmp_path_factory.mktemp("runtime")
    t = start_team(f"sqlite:///{base / 'server.db'}", base)
    yield t
    t.stop()


def test_held_call_waits_on_the_server_and_resume_runs_it_once(team: Team, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "infraleash.yaml").write_text(f"version: 1\ntrust_level: act-with-approval\napprovals:\n"
                                        f"  server: {team.url}\n  wait_seconds: 0\n")
    policy = load_policy(ws / "infraleash.yaml")
    env = {"INFRALEASH_APPROVAL_TOKEN": team.tokens["ci-agent"], "TF_IN_AUTOMATION": "1"}
    runner = RunnerConfig.for_tests(env={"TF_IN_AUTOMATION": "1"})
    gate = GateSession.for_workspace(policy, ws, requester="agent:run-1", env=env, runner=runner)
    assert isinstance(gate.store, ServerApprovals)
    toolset = GuardedToolset(builtin_tools(Workspace(ws), policy, GateContext(), env), gate)
    call = ToolCall(id="c1", name="terraform", arguments={"args": ["state", "rm", "aws_s3_bucket.old"]})
    with pytest.raises(ApprovalPending) as held:
        toolset.call(call)
    pending = held.value.pending
    assert pending is not None and pending.request_id is not None
    rid = pending.request_id
    on_server = team.api("alice", "GET", f"/requests/{rid}").json()
    argv = ["terraform", f"-chdir={ws}", "state", "rm", "aws_s3_bucket.old"]  # the tool pins the directory
    assert on_server["status"] == "pending" and on_server["argv"] == argv
    with pytest.raises(ApprovalPending, match=f"still pending: decide it at {team.url}/requests/{rid}"):
        toolset.resume(pending)
    team.api("alice", "POST", f"/requests/{rid}/decision",
             json={"decision": "approve", "comment": "stale entry"}).raise_for_status()
    obs = toolset.resume(pending)
    assert obs.output.startswith(f"approved by alice (stale entry); ran `{' '.join(argv)}` once")
    assert obs.exit_code is not None  # terraform ran (no state here, so it fails; what matters is that it ran once)
    done = team.api("alice", "GET", f"/requests/{rid}").json()
    assert done["status"] == "done" and done["result_exit_code"] == obs.exit_code
    again = toolset.resume(pending)
    assert again.is_error and "already ran" in again.output


def exec_in(ws: Path, team: Team, wait_seconds: int, *argv: str) -> subprocess.Popen[str]:
    ws.mkdir(parents=True, exist_ok=True)
    (ws / "infraleash.yaml").write_text(f"version: 1\ntrust_level: act-with-approval\napprovals:\n"
                                        f"  server: {team.url}\n  wait_seconds: {wait_seconds}\n")
    return subprocess.Popen([sys.executable, "-m", "infraleash", "exec", "--", *argv], cwd=ws, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={"PATH": "/usr/bin:/bin", "HOME": str(ws),
                                 "INFRALEASH_APPROVAL_TOKEN": team.tokens["ci-agent"]})


def test_exec_still_pending_at_the_timeout_exits_3_and_denied_exits_4(team: Team, tmp_path: Path) -> None:
    proc = exec_in(tmp_path / "a", team, 1, "terraform", "state", "rm", "aws_s3_bucket.pending")
    out, err = proc.communicate(timeout=120)
    rid = out.strip().splitlines()[-1]
    assert proc.returncode == ExitCode.NEEDS_APPROVAL, err
    assert f"waiting up to 1 s for a decision at {team.url}/requests/{rid}" in err and "still pending" in err
    assert team.api("alice", "GET", f"/requests/{rid}").json()["status"] == "pending"
    # approved later; another process (which never saw the request made) claims and runs it once
    team.api("alice", "POST", f"/requests/{rid}/decision", json={"decision": "approve", "comment": "later"}
             ).raise_for_status()
    ran = subprocess.run([sys.executable, "-m", "infraleash", "approvals", "run", rid], cwd=tmp_path / "a",
                         capture_output=True, text=True, timeout=120,
                         env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path / "a"),
                              "INFRALEASH_APPROVAL_TOKEN": team.tokens["ci-agent"]})
    assert "Traceback" not in ran.stderr and "No state file was found" in ran.stderr, ran.stderr  # terraform ran
    done = team.api("alice", "GET", f"/requests/{rid}").json()
    assert done["status"] == "done" and done["result_exit_code"] == ran.returncode != 0
    proc = exec_in(tmp_path / "b", team, 60, "terraform", "state", "rm", "aws_s3_bucket.denied")
    try:
        deadline = time.monotonic() + 60
        while not (found := [r for r in team.pending() if r["argv"][-1] == "aws_s3_bucket.denied"]):
            assert time.monotonic() < deadline
            time.sleep(0.2)
        team.api("alice", "POST", f"/requests/{found[0]['id']}/decision",
                 json={"decision": "deny", "comment": "not during the freeze"}).raise_for_status()
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == ExitCode.DENIED and "[APPROVAL-DENIED]" in err, err
    assert "denied by alice: not during the freeze" in err and "Traceback" not in err
