"""What the gate's enforcement machinery costs per command, side by side with running terraform bare.

Same input, same run: ``terraform validate -json`` on a tiny configuration, N times each way,
interleaved so machine noise hits every arm alike:

  bare              subprocess.run(["terraform", "validate", "-json"])      (what an ungated agent does)
  execute() no sbx  execute: decide + pre-flight + audit append (fcntl, fsync, 2 anchors) + run, with the
                    runner configuration's `sandbox: {mode: off}`
  execute()         the same with the sandbox on (bubblewrap: namespaces, mounts, private state copy)
  exec CLI          `python -m infraleash exec -- terraform validate -json` (interpreter start-up, sandbox on)

The sandbox's added cost per command is execute() minus execute() no sbx; `bwrap ... true` vs
`true` shows bubblewrap's fixed start-up alone.  Plus the audit log alone: appends/s and verify
records/s on a 10,000-record chain.

    .venv/bin/python bench/gate_exec_overhead.py [--n 20]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from infraleash.gate.approvals import ApprovalStore
from infraleash.gate.audit import AuditLog, HeadFile
from infraleash.gate.executor import Outcome, execute
from infraleash.gate.model import Action
from infraleash.gate.runner_config import RunnerConfig
from infraleash.gate.sandbox import check_available, plan_layout
from infraleash.policy import parse_policy
from infraleash.terraform.runner import TerraformRunner, find_binary

CONFIG = 'resource "terraform_data" "x" {\n  input = "a"\n}\n'
POLICY = "version: 1\ntrust_level: plan\napprovals: {store: state/approvals.db}\naudit: {path: state/audit.jsonl}\n"


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--records", type=int, default=10_000)
    args = ap.parse_args()
    binary = find_binary()
    if binary is None:
        print("no terraform/tofu on PATH: the bare baseline needs one", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "main.tf").write_text(CONFIG)
        (work / "infraleash.yaml").write_text(POLICY)
        env = {k: v for k, v in os.environ.items() if not k.startswith("TF_CLI_ARGS") and k != "TF_WORKSPACE"}
        env.pop("TF_CLI_CONFIG_FILE", None)
        TerraformRunner(work, env=env, binary=binary).init().check()
        argv = ["terraform", "validate", "-json"]

        policy = parse_policy(POLICY, str(work / "infraleash.yaml"))
        store = ApprovalStore.from_policy(policy)
        audit = AuditLog.from_policy(policy, extra_anchors=[store])

        sandboxed = RunnerConfig.for_tests(env={"CHECKPOINT_DISABLE": "1"})
        unsandboxed = RunnerConfig.for_tests(env={"CHECKPOINT_DISABLE": "1"},
                                             sandbox={"mode": "off", "reason": "bench: the arm without bubblewrap"})
        bwrap = check_available(sandboxed)
        true = [shutil.which("true") or "/bin/true"]
        layout = plan_layout(true, cwd=str(work), workspace=str(work), env={"PATH": "/usr/bin:/bin"}, runner=sandboxed)
        layout.bwrap = bwrap

        def gate(runner: RunnerConfig) -> float:
            t = time.perf_counter()
            res = execute(Action(argv=argv, cwd=str(work), env=env, requester="bench"), policy,
                          store=store, audit=audit, runner=runner)
            took = time.perf_counter() - t
            assert res.outcome is Outcome.RAN and res.exit_code == 0, res.message or res.stderr
            return took

        bare, off, on, cli, t_bare, t_bwrap = [], [], [], [], [], []
        for _ in range(args.n):  # interleaved so machine noise hits every arm alike
            t = time.perf_counter()
            subprocess.run([binary, *argv[1:]], cwd=work, env=env, capture_output=True, check=True)
            bare.append(time.perf_counter() - t)
            off.append(gate(unsandboxed))
            on.append(gate(sandboxed))
            t = time.perf_counter()
            subprocess.run([sys.executable, "-m", "infraleash", "exec", "--", *argv], cwd=work, env=env,
                           capture_output=True, check=True)
            cli.append(time.perf_counter() - t)
            t = time.perf_counter()
            subprocess.run(true, check=True)
            t_bare.append(time.perf_counter() - t)
            with layout.prepared() as prefix:
                t = time.perf_counter()
                subprocess.run([*prefix, *true], env={"PATH": "/usr/bin:/bin"}, check=True)
                t_bwrap.append(time.perf_counter() - t)
        b, f, g, c = _median_ms(bare), _median_ms(off), _median_ms(on), _median_ms(cli)
        tb, tw = _median_ms(t_bare), _median_ms(t_bwrap)
        print(f"terraform validate -json, n={args.n}, medians ({Path(binary).name} {binary}; bwrap {bwrap})")
        print(f"  bare subprocess           {b:8.1f} ms")
        print(f"  execute(), sandbox off    {f:8.1f} ms   overhead {f - b:+6.1f} ms   ratio {f / b:5.2f}x")
        print(f"  execute(), sandbox on     {g:8.1f} ms   overhead {g - b:+6.1f} ms   ratio {g / b:5.2f}x")
        print(f"    the sandbox's own cost  {g - f:+8.1f} ms per command   on/off ratio {g / f:5.2f}x")
        print(f"  infraleash exec CLI       {c:8.1f} ms   overhead {c - b:+6.1f} ms   ratio {c / b:5.2f}x")
        print(f"  `true` bare / in bwrap    {tb:8.1f} ms / {tw:.1f} ms   (bubblewrap start-up {tw - tb:+.1f} ms)")

        log = AuditLog(work / "bench.jsonl", [HeadFile(work / "bench.jsonl.head")])
        t = time.perf_counter()
        for i in range(args.records):
            log.append("decision", "bench", {"argv": argv, "verdict": "allow", "i": i})
        append_s = time.perf_counter() - t
        t = time.perf_counter()
        report = log.verify()
        verify_s = time.perf_counter() - t
        assert report.ok and report.records == args.records
        print(f"audit log, {args.records} records (head file anchor, fsync per append)")
        print(f"  append  {args.records / append_s:8.0f} records/s  ({append_s / args.records * 1e6:6.0f} us each)")
        print(f"  verify  {args.records / verify_s:8.0f} records/s  ({verify_s:.2f} s total)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
