"""Run ``terraform plan`` through the gate, for a review that has no recorded plan.

``init`` (only when the directory is not initialized), ``plan -out`` and ``show -json`` of the
saved plan pass through :func:`infraleash.gate.executor.execute`, so they are decided by the
policy, written to the audit log and run in the sandbox with the runner configuration's
environment, like any agent command; a held or refused command stops the review with that reason.

The plan file goes into a private temporary directory, passed to the gate as
``GateContext.scratch_dirs``: the sandbox makes only that file writable.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from infraleash.errors import ExecutionError
from infraleash.gate.executor import ExecutionResult
from infraleash.gate.model import Action, GateContext
from infraleash.gate.runner_config import RunnerConfig
from infraleash.policy import Policy
from infraleash.terraform.plan import Plan, parse_plan


def terraform_available(env: dict[str, str] | None = None, runner: RunnerConfig | None = None) -> str | None:
    """The terraform/tofu binary a plan would run with (on the runner's PATH when given), or None."""
    path = runner.path if runner is not None else (env or os.environ).get("PATH", os.defpath)
    return shutil.which("terraform", path=path) or shutil.which("tofu", path=path)


def needs_init(path: Path) -> bool:
    """Not initialized, or an earlier ``init`` failed half-way (``.terraform`` made, no lock file written)."""
    return not (path / ".terraform").is_dir() or not (path / ".terraform.lock.hcl").is_file()


def _run_gated(argv: list[str], path: Path, policy: Policy, env: dict[str, str], context: GateContext,
               runner: RunnerConfig) -> ExecutionResult:
    from infraleash.gate.approvals import ApprovalStore
    from infraleash.gate.audit import AuditLog
    from infraleash.gate.executor import Outcome, execute

    action = Action(argv=argv, cwd=str(path), env=env, requester="infraleash-review",
                    reason="infraleash review: plan the proposed change")
    result = execute(action, policy, context, store=ApprovalStore.from_policy(policy),
                     audit=AuditLog.from_policy(policy), runner=runner)
    shown = " ".join(argv[:2])
    if result.outcome is not Outcome.RAN:
        raise ExecutionError(f"the gate did not run `{shown}` ({result.outcome.value}): {result.message}",
                             file=str(path))
    if result.exit_code != 0:
        raise ExecutionError(f"`{shown}` failed (exit {result.exit_code}): {terraform_reason(result.stderr)}; "
                             f"{PLAN_HINT}", file=str(path))
    return result


PLAN_HINT = ("review a recorded plan instead (`terraform plan -out=p.tfplan && terraform show -json p.tfplan > "
             "plan.json`, then `infraleash review --plan plan.json`) or pass --no-plan for the static checks only")
_REASON_CHARS = 400


def terraform_reason(stderr: str) -> str:
    """Terraform's first error and the sentence that explains it, on one bounded line.

    Terraform prints ``Error: SUMMARY`` then, after a blank line, the detail (``Could not retrieve the
    list of available versions for provider hashicorp/aws: could not connect to registry.terraform.io``):
    the summary alone rarely says why.
    """
    lines = [ln.strip(" │╷╵\t") for ln in stderr.splitlines()]
    lines = [ln for ln in lines if ln]
    if not lines:
        return "(no output)"
    at = next((i for i, ln in enumerate(lines) if ln.startswith("Error")), 0)
    detail = [ln for ln in lines[at + 1:at + 4] if not ln.startswith(("Error", "on ", "Warning"))]
    text = " ".join([lines[at], *detail[:2]])
    return text if len(text) <= _REASON_CHARS else text[:_REASON_CHARS] + "..."


def plan_via_gate(path: Path, policy: Policy, *, env: dict[str, str] | None = None,
                  context: GateContext | None = None, runner: RunnerConfig | None = None,
                  on_step: Callable[[str], None] | None = None) -> Plan:
    """Plan the configuration in ``path`` through the gate and read the result.

    ``on_step`` is told each command as it starts (``"terraform init"``, ...), for progress on a terminal.

    ``env`` is the environment the commands are asked with (the gate keeps its allow-listed
    names); ``runner`` is where their real environment, PATH and sandbox come from.
    """
    runner = runner or RunnerConfig()
    binary = terraform_available(runner=runner)
    if binary is None:
        raise ExecutionError("no terraform or tofu on the runner's PATH to plan with; pass --plan FILE.json",
                             file=str(path))
    run_env = dict(os.environ if env is None else env)
    tool = Path(binary).name
    ctx = context or GateContext()
    if ctx.workspace_dir is None:
        ctx = ctx.model_copy(update={"workspace_dir": str(path.resolve())})
    step = on_step or (lambda _what: None)
    if needs_init(path):
        step(f"{tool} init")
        _run_gated([tool, "init", "-input=false", "-no-color"], path, policy, run_env, ctx, runner)
    # a temporary directory, not the working tree: a plan file holds every sensitive value in clear, and one
    # left behind by a killed review must not end up committed
    with tempfile.TemporaryDirectory(prefix="infraleash-review-") as tmp:
        scratch = ctx.model_copy(update={"scratch_dirs": [*ctx.scratch_dirs, str(Path(tmp).resolve())]})
        out = Path(tmp).resolve() / "review.tfplan"
        step(f"{tool} plan")
        _run_gated([tool, "plan", "-input=false", "-no-color", "-lock=false", f"-out={out}"],
                   path, policy, run_env, scratch, runner)
        step(f"{tool} show -json")
        shown = _run_gated([tool, "show", "-json", "-no-color", str(out)], path, policy, run_env, scratch, runner)
    if shown.truncated:
        raise ExecutionError("`terraform show -json` of the plan printed more than the gate keeps; review the plan "
                             "with --plan FILE.json instead", file=str(path))
    plan = parse_plan(shown.stdout, f"terraform show -json of the plan of {path}")
    plan.source = f"terraform plan of {path}"
    return plan
