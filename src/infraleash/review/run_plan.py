"""Run ``terraform plan`` through the gate, for a review that has no recorded plan.

``init`` (only when the directory is not initialized) and ``plan -out`` pass
through :func:`infraleash.gate.executor.execute`, so they are decided by the
policy and written to the audit log like any agent command; a held or refused
command stops the review with that reason.  The saved plan is then read with
``terraform show -json`` (a local read of the plan file).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from infraleash.errors import ExecutionError
from infraleash.gate.model import Action, GateContext
from infraleash.policy import Policy
from infraleash.terraform.plan import Plan, load_plan


def terraform_available(env: dict[str, str] | None = None) -> str | None:
    """The terraform/tofu binary a plan would run with, or None."""
    path = (env or os.environ).get("PATH", os.defpath)
    return shutil.which("terraform", path=path) or shutil.which("tofu", path=path)


def _run_gated(argv: list[str], path: Path, policy: Policy, env: dict[str, str],
               context: GateContext | None) -> None:
    from infraleash.gate.approvals import ApprovalStore
    from infraleash.gate.audit import AuditLog
    from infraleash.gate.executor import Outcome, execute

    action = Action(argv=argv, cwd=str(path), env=env, requester="infraleash-review",
                    reason="infraleash review: plan the proposed change")
    result = execute(action, policy, context, store=ApprovalStore.from_policy(policy),
                     audit=AuditLog.from_policy(policy), runner_env=env)
    shown = " ".join(argv[:2])
    if result.outcome is not Outcome.RAN:
        raise ExecutionError(f"the gate did not run `{shown}` ({result.outcome.value}): {result.message}",
                             file=str(path))
    if result.exit_code != 0:
        lines = [ln.strip(" │╷╵\t") for ln in result.stderr.splitlines() if ln.strip(" │╷╵\t")]
        first = next((ln for ln in lines if ln.startswith("Error")), lines[0] if lines else "(no output)")
        raise ExecutionError(f"`{shown}` failed (exit {result.exit_code}): {first}", file=str(path))


def plan_via_gate(path: Path, policy: Policy, *, env: dict[str, str] | None = None,
                  context: GateContext | None = None) -> Plan:
    """Plan the configuration in ``path`` through the gate and read the result."""
    binary = terraform_available(env)
    if binary is None:
        raise ExecutionError("no terraform or tofu on PATH to plan with; pass --plan FILE.json", file=str(path))
    run_env = dict(os.environ if env is None else env)
    tool = Path(binary).name
    if not (path / ".terraform").is_dir():
        _run_gated([tool, "init", "-input=false", "-no-color"], path, policy, run_env, context)
    # a temporary directory, not the working tree: a plan file holds every sensitive value in clear, and one
    # left behind by a killed review must not end up committed (the gate allows plan files under the temp dir)
    with tempfile.TemporaryDirectory(prefix="infraleash-review-") as tmp:
        out = Path(tmp) / "review.tfplan"
        _run_gated([tool, "plan", "-input=false", "-no-color", "-lock=false", f"-out={out}"],
                   path, policy, run_env, context)
        plan = load_plan(out, workdir=path, terraform=binary, env=run_env)
    plan.source = f"terraform plan of {path}"
    return plan
