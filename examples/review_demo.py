"""The review half of the bundled demo: ``infraleash review`` on an agent's change to "production".

With the sandbox (terraform + AWS provider mirror + moto): apply ``review/production`` to the
moto AWS emulator, put the agent's ``review/proposed`` configuration on top of that state, and
review it: static checks, then a real ``terraform plan`` run through the gate.  Without it: the
same review on ``review/recorded-plan.json`` (recorded by ``review/record_plan.py``).  It says
which one it did.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from demo_console import banner, step
from rich.console import Console

from infraleash.findings import Verdict
from infraleash.gate.model import GateContext
from infraleash.gate.runner_config import RunnerConfig
from infraleash.policy import load_policy
from infraleash.review import ReviewReport, review
from infraleash.review.render import render_human
from infraleash.review.sandbox_plan import Production
from infraleash.terraform.sandbox import MotoServer, SandboxUnavailable, sandbox_env, why_unavailable

EXAMPLE = Path(__file__).resolve().parent / "review"
RECORDED = EXAMPLE / "recorded-plan.json"


def recording_in_sync() -> bool:
    """True when recorded-plan.json was recorded from the .tf files as they are now (record_plan.py's hash)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("record_plan", EXAMPLE / "record_plan.py")
    if spec is None or spec.loader is None:
        return False
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    try:
        return bool(module.inputs_hash() == module.INPUTS_HASH.read_text(encoding="utf-8").strip())
    except OSError:
        return False


def _real(console: Console, work: Path) -> ReviewReport:
    shutil.copy(EXAMPLE / "infraleash.yaml", work / "infraleash.yaml")  # the gate's audit log goes beside it
    policy = load_policy(work / "infraleash.yaml")
    with MotoServer(log_path=work / "moto.log") as moto:
        env = sandbox_env(work / "tfconfig")
        with step(console, f"applying review/production to the moto AWS emulator at {moto.endpoint} "
                           "(terraform init + apply, up to a minute)"):
            prod = Production.apply(work / "production", EXAMPLE / "production", endpoint=moto.endpoint, env=env)
            scenario = prod.derive(work / "proposed", EXAMPLE / "proposed")
        # the gate's plan runs in the sandbox with the runner configuration's environment (the CLI config)
        runner = RunnerConfig.for_tests(env={"CHECKPOINT_DISABLE": "1"}, cli_config=env["TF_CLI_CONFIG_FILE"])
        with step(console, "reviewing the agent's change: static checks, then `terraform plan` through the gate"):
            return review(scenario.workdir, policy, env=env, context=GateContext(workspace="default"),
                          static_path=EXAMPLE / "proposed", runner=runner)


def review_demo(console: Console | None = None) -> bool:
    """Run the review demo; True when it reached the expected verdict (block)."""
    console = console or Console()
    missing = why_unavailable()
    report: ReviewReport | None = None
    if missing is None:
        mode = "REAL PLAN: terraform plan against the moto AWS emulator (sandbox found)"
        banner(console, "[bold]infraleash review[/]: an agent's change to production", mode)
        with tempfile.TemporaryDirectory(prefix="infraleash-review-demo-") as tmp:
            try:
                report = _real(console, Path(tmp))
            except SandboxUnavailable as e:
                missing = str(e)
    if report is None:
        mode = f"RECORDED PLAN: {RECORDED.name} (sandbox unavailable: {missing})"
        banner(console, "[bold]infraleash review[/]: an agent's change to production", mode)
        if recording_in_sync():
            console.print(f"{RECORDED.name} was recorded from review/production and review/proposed as they are now")
        else:
            console.print(f"[bold red]warning[/]: review/*.tf changed since {RECORDED.name} was recorded; "
                          "re-record with `.venv/bin/python examples/review/record_plan.py`")
        console.print(f"$ infraleash review examples/review/proposed --plan examples/review/{RECORDED.name}")
        report = review(EXAMPLE / "proposed", load_policy(EXAMPLE / "infraleash.yaml"), plan_file=RECORDED)
    console.print(render_human(report), markup=False, highlight=False, end="", soft_wrap=True)
    ok = report.verdict is Verdict.BLOCK
    banner(console, f"verdict: [bold]{report.verdict.value}[/] "
                    f"({'as expected' if ok else 'UNEXPECTED: the change should be blocked'})", mode,
           style="green" if ok else "red")
    return ok
