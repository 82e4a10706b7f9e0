"""The context test: a 2 MB `kubectl get pods -A -o json` and a 50,000-line log shrink to the budget.

A fake `kubectl` on the run's PATH prints the generated outputs, so the results come
through the real gate + executor + BudgetedContext exactly as a cluster's would.  The
model is told what was omitted, and the planted facts (the one CrashLoopBackOff pod,
the first error line) survive.
"""

from __future__ import annotations

import json
import os
import random
import stat
from pathlib import Path

import pytest

from infraleash.agent.context import Budget, BudgetedContext
from infraleash.agent.messages import Message, Observation
from infraleash.agent.models.scripted import ScriptedModel, Turn, call
from infraleash.agent.run_store import RunState
from infraleash.agent.runtime import RunOptions, start_run
from infraleash.agent.tokens import TiktokenCounter, counter_for
from infraleash.gate.runner_config import DEFAULT_PATH, RunnerConfig
from infraleash.policy import load_policy

BROKEN_POD = "payments-api-6f7d9c8b4-q2x7k"
FIRST_ERROR = "2026-11-03T10:14:07.118Z ERROR [worker-7] payment-svc: connection to ledger-db:5432 refused " \
              "(attempt 1/5, tx=9f2c1e)"


def pod(i: int, rng: random.Random) -> dict:
    ns = f"team-{i % 23}"
    name = f"svc-{i % 97}-{rng.randrange(16**9):09x}-{rng.randrange(36**5):05x}"
    started = f"2026-11-0{1 + i % 3}T0{i % 10}:1{i % 6}:00Z"
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": ns, "uid": f"{rng.getrandbits(128):032x}",
                     "labels": {"app": f"svc-{i % 97}", "pod-template-hash": f"{rng.randrange(16**9):09x}"},
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": name[:-6],
                                          "uid": f"{rng.getrandbits(128):032x}", "controller": True}],
                     "managedFields": [{"manager": "kube-controller-manager", "operation": "Update",
                                        "fieldsV1": {"f:metadata": {"f:labels": {".": {}, "f:app": {}}}}}],
                     "creationTimestamp": started, "resourceVersion": str(100000 + i)},
        "spec": {"nodeName": f"ip-10-0-{i % 64}-{i % 200}.eu-west-1.compute.internal",
                 "containers": [{"name": "app", "image": f"registry.local/svc-{i % 97}:1.{i % 9}.0",
                                 "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}},
                                 "env": [{"name": "LOG_LEVEL", "value": "info"}]}]},
        "status": {"phase": "Running", "podIP": f"10.1.{i % 250}.{i % 240}", "hostIP": f"10.0.{i % 64}.{i % 200}",
                   "startTime": started, "qosClass": "Burstable",
                   "conditions": [{"type": t, "status": "True", "lastTransitionTime": started}
                                  for t in ("Initialized", "Ready", "ContainersReady", "PodScheduled")],
                   "containerStatuses": [{"name": "app", "ready": True, "restartCount": 0, "started": True,
                                          "image": f"registry.local/svc-{i % 97}:1.{i % 9}.0",
                                          "imageID": f"registry.local/svc@sha256:{rng.getrandbits(256):064x}",
                                          "containerID": f"containerd://{rng.getrandbits(256):064x}",
                                          "state": {"running": {"startedAt": started}}}]},
    }


def pods_json(target_bytes: int = 2_000_000) -> str:
    rng = random.Random(7)
    per_pod = len(json.dumps(pod(0, random.Random(0)), indent=4)) + 10
    items = [pod(i, rng) for i in range(target_bytes // per_pod + 1)]
    broken = items[len(items) // 2]
    broken["metadata"].update(name=BROKEN_POD, namespace="payments")
    broken["status"]["conditions"][1].update(status="False", reason="ContainersNotReady")
    broken["status"]["containerStatuses"][0].update(
        ready=False, restartCount=14, state={"waiting": {"reason": "CrashLoopBackOff",
                                                         "message": "back-off 5m0s restarting failed container"}},
        lastState={"terminated": {"reason": "Error", "exitCode": 1}})
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": items, "metadata": {"resourceVersion": ""}},
                      indent=4)


def big_log(lines: int = 50_000) -> str:
    rng = random.Random(11)
    out = []
    for n in range(lines):
        ts = f"2026-11-03T10:{n // 6000 % 60:02d}:{n // 100 % 60:02d}.{n % 1000:03d}Z"
        if n == 31_337:
            out.append(FIRST_ERROR)
            continue
        k = rng.random()
        if k < 0.5:
            out.append(f"{ts} INFO [worker-{rng.randrange(16)}] GET /api/v1/orders/{rng.randrange(10**6)} 200 "
                       f"{rng.randrange(2, 90)}ms")
        elif k < 0.8:
            out.append(f"{ts} DEBUG [worker-{rng.randrange(16)}] cache hit key=order:{rng.randrange(10**6)}")
        elif k < 0.97:
            out.append(f"{ts} INFO [scheduler] heartbeat ok lag={rng.randrange(50)}ms queue={rng.randrange(200)}")
        else:
            out.append(f"{ts} WARN [worker-{rng.randrange(16)}] slow query {rng.randrange(500, 3000)}ms on orders")
    return "\n".join(out) + "\n"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fake kubectl that answers `get pods -A -o json` and `logs` with the generated outputs."""
    d = tmp_path_factory.mktemp("cluster")
    (d / "pods.json").write_text(pods_json())
    (d / "app.log").write_text(big_log())
    script = d / "bin" / "kubectl"
    script.parent.mkdir()
    script.write_text(f"#!/bin/sh\ncase \"$1\" in\n  get) cat {d / 'pods.json'} ;;\n  logs) cat {d / 'app.log'} ;;\n"
                      "  *) echo unsupported >&2; exit 1 ;;\nesac\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return d


def test_generated_inputs_are_the_sizes_the_issue_names(cluster: Path) -> None:
    assert 2_000_000 <= (cluster / "pods.json").stat().st_size < 3_000_000
    assert len((cluster / "app.log").read_text().splitlines()) == 50_000


def test_kubectl_pods_and_log_shrink_to_the_budget_through_the_real_runtime(cluster: Path, tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "infraleash.yaml").write_text("version: 1\nmodel:\n  context_window: 16000\n")
    model = ScriptedModel([
        Turn(tool_calls=[call("kubectl", verb="get", resource="pods", all_namespaces=True)]),
        Turn(tool_calls=[call("kubectl", verb="logs", resource=BROKEN_POD, namespace="payments")]),
        Turn(tool_calls=[call("read_output", ref="out-2", start=31_336, end=31_338)]),
        Turn(text="payments-api is crash-looping because ledger-db refuses connections."),
    ], name="gpt-4.1")
    # the executor resolves programs on the runner configuration's PATH, not the action's; the stand-in
    # kubectl reads its recorded answers from the cluster directory, so the sandbox shows it read-only
    runner = RunnerConfig.for_tests(env={"PATH": f"{cluster / 'bin'}{os.pathsep}{DEFAULT_PATH}"},
                                    sandbox={"extra_readonly": [str(cluster)]})
    env = dict(os.environ)
    state = start_run("why is checkout failing?", RunOptions(workspace=ws, policy=load_policy(ws / "infraleash.yaml"),
                                                               model=model, env=env, validate_checkpoints=False,
                                                               runner=runner))
    assert state.status == "done", state.stop_reason
    budget = Budget.for_window(16000)
    counter = counter_for("gpt-4.1")
    assert isinstance(counter, TiktokenCounter)  # the exact tokenizer, offline
    pods_msg, log_msg, lines_msg = [m.content for m in state.messages if m.role == "tool"]

    # the pods: 2 MB (~500k tokens) shown within the per-result budget, the broken pod in full
    assert counter.count(pods_msg) <= budget.tool_result + 200
    shown = json.loads(pods_msg[:pods_msg.rindex("\n[context budget")])
    assert "truncated" not in pods_msg
    assert [p["name"] for p in shown["abnormal_items"]] == [BROKEN_POD]
    broken = shown["abnormal_items"][0]["containerStatuses"][0]
    assert broken["reason"] == "CrashLoopBackOff" and broken["restartCount"] == 14
    assert shown["summary"]["healthy"] == shown["summary"]["total"] - 1 > 400
    assert "healthy items summarised" in pods_msg and "[context budget: this output was" in pods_msg

    # the log: 50,000 lines as templates with counts, the first error line verbatim, omission said out loud
    assert counter.count(log_msg) <= budget.tool_result + 200
    assert f"first error line (31338): {FIRST_ERROR}" in log_msg
    assert "50,000 log lines collapsed to" in log_msg and 'read_output(ref="out-2"' in log_msg
    assert "individual lines" in log_msg

    # and the model could read the exact lines back from the stored full output
    assert FIRST_ERROR in lines_msg and " 31337  " in lines_msg
    # every context sent stayed within the window's input budget
    for seen in model.seen:
        assert sum(counter.count(m.content) for m in seen) < budget.input


def test_small_outputs_pass_unchanged_and_secrets_are_redacted_and_reported(tmp_path: Path) -> None:
    ctx = BudgetedContext(counter=counter_for("gpt-4o"), budget=Budget.for_window(32000), run_dir=tmp_path)
    out = ctx.observe(Observation(call_id="c1", tool="read_file", output="    1  region = \"eu-west-1\"\n"))
    assert out == '    1  region = "eu-west-1"'
    leaked = ctx.observe(Observation(call_id="c2", tool="read_file",
                                     output="    1  aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"))
    assert "wJalrXUtnFEMI" not in leaked and "[REDACTED:aws_secret_access_key]" in leaked
    assert "1 secret value(s) redacted" in leaked
    assert not (tmp_path / "outputs").exists()  # nothing stored when nothing was shortened


def test_history_over_budget_hands_off_instead_of_truncating(tmp_path: Path) -> None:
    ctx = BudgetedContext(counter=counter_for("claude-sonnet-4"), budget=Budget.for_window(3000), run_dir=tmp_path)
    state = RunState(run_id="r1", task="Fix the bucket. Never touch the production workspace.", workspace=str(tmp_path),
                     messages=[Message(role="system", content="you are an agent"),
                               Message(role="user", content="Fix the bucket. Never touch the production workspace.")])
    for i in range(12):
        state.messages.append(Message(role="assistant", content=f"reading part {i}"))
        state.messages.append(Message(role="user", content=("lorem ipsum dolor sit amet " * 40)))
    msgs = ctx.build_messages(state)
    assert len(ctx.handoffs) == 1 and (tmp_path / "handoffs" / "handoff-1.md").is_file()
    assert msgs[1].content.startswith("# Handoff 1") and "- Never touch the production workspace." in msgs[1].content
    assert "replaced by this handoff because of: context budget" in msgs[1].content
