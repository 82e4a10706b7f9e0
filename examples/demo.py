"""The bundled demo (``./scripts/demo.sh``): an agent works on Terraform through the gate.

    plan            allowed, runs (a real plan against the moto AWS emulator when the sandbox is here)
    apply -auto-approve   denied: a plain apply is never approvable
    apply p.tfplan  held for approval; a named human approves; it runs exactly once
    audit verify    the hash chain of every decision and execution is intact

Each step goes through the same ``execute()`` that ``infraleash exec`` uses;
the equivalent CLI command is printed beside it.  :func:`gate_demo` is the
reusable part (a later demo step can call it after a review).
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

from demo_console import banner, step
from rich.console import Console
from rich.markup import escape

from infraleash.gate.approvals import ApprovalStore, request_summary
from infraleash.gate.audit import AuditLog
from infraleash.gate.executor import ExecutionResult, Outcome, execute, run_approved
from infraleash.gate.model import Action
from infraleash.gate.runner_config import RunnerConfig
from infraleash.policy import load_policy
from infraleash.terraform.runner import TerraformRunner
from infraleash.terraform.sandbox import (
    MotoServer,
    SandboxUnavailable,
    provider_block,
    sandbox_env,
    why_unavailable,
)

EXAMPLE = Path(__file__).resolve().parent / "gate_demo"
AGENT, HUMAN = "demo-agent", "sre-lead"

_BADGE = {Outcome.RAN: "[green]allowed, ran[/]", Outcome.HELD: "[yellow]held for approval[/]",
          Outcome.DENIED: "[red]denied[/]", Outcome.TIMED_OUT: "[red]timed out[/]"}


def _show(console: Console, step: str, argv: list[str], res: ExecutionResult) -> None:
    badge = _BADGE[res.outcome]
    if res.outcome is Outcome.RAN:
        badge += f" (exit {res.exit_code}, {res.duration_s:.1f}s)"
    console.print(f"  [dim]$ infraleash exec -- {escape(shlex.join(argv))}[/]")
    console.print(f"  {badge}")
    if res.decision is not None:
        for r in res.decision.rules:
            console.print(f"  [{r.id}] {r.reason}", markup=False, highlight=False)
    if res.request_id:
        console.print(f"  request id: [bold]{res.request_id}[/]")
    if res.outcome is Outcome.DENIED and res.decision is None:
        console.print(f"  {res.message}", markup=False, highlight=False)
    if res.outcome is Outcome.RAN and res.exit_code != 0:
        console.print(res.stderr[-2000:], markup=False, highlight=False)


def gate_demo(console: Console | None = None, workdir: Path | None = None) -> bool:
    """Run the gate demo in ``workdir`` (default: a temporary directory); True when every step behaved."""
    console = console or Console(soft_wrap=True)
    with ExitStack() as stack:
        work = workdir or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="infraleash-demo-")))
        return _run(console, work, stack)


def _run(console: Console, work: Path, stack: ExitStack) -> bool:
    missing = why_unavailable()
    moto: MotoServer | None = None
    if missing is None:
        try:
            moto = stack.enter_context(MotoServer(log_path=work / "moto.log"))
        except SandboxUnavailable as e:
            missing = str(e)
    shutil.copy(EXAMPLE / "infraleash.yaml", work / "infraleash.yaml")
    if moto is not None:
        shutil.copy(EXAMPLE / "main.tf", work / "main.tf")
        (work / "provider.tf").write_text(provider_block(moto.endpoint), encoding="utf-8")
        env = sandbox_env(work / ".tfconfig")
        mode = f"real Terraform plan/apply against the moto AWS emulator at {moto.endpoint}"
    else:
        shutil.copy(EXAMPLE / "offline" / "main.tf", work / "main.tf")
        env = {k: v for k, v in os.environ.items() if not k.startswith("TF_CLI_ARGS") and k != "TF_WORKSPACE"}
        env.pop("TF_CLI_CONFIG_FILE", None)
        mode = f"AWS sandbox unavailable ({missing}): planning Terraform's built-in terraform_data resources"
    runner = TerraformRunner(work, env=env)
    # the demo is the operator here: its sandbox environment (the provider-mirror CLI config, moto's fake
    # credentials) is the runner configuration every gated command gets, in the bubblewrap sandbox
    gate_runner = RunnerConfig.for_tests(
        env={k: env[k] for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION",
                                 "TF_IN_AUTOMATION", "CHECKPOINT_DISABLE", "TF_PLUGIN_CACHE_DIR") if k in env},
        cli_config=env.get("TF_CLI_CONFIG_FILE"))
    banner(console, "[bold]infraleash gate demo[/]", mode, f"terraform: {runner.backend}",
           f"policy: trust level act-with-approval, approvers: {HUMAN}", f"workdir: {work}")

    policy = load_policy(work / "infraleash.yaml")
    store = ApprovalStore.from_policy(policy)
    audit = AuditLog.from_policy(policy, extra_anchors=[store])
    ok = True

    def agent(title: str, *argv: str) -> ExecutionResult:
        action = Action(argv=list(argv), cwd=str(work), env=env, requester=AGENT, reason="demo: build artifacts")
        console.print(f"\n[bold]{title}[/]")
        with step(console, f"  {shlex.join(argv[:2])}: through the gate"):
            res = execute(action, policy, store=store, audit=audit, timeout=600, runner=gate_runner)
        _show(console, title, list(argv), res)
        return res

    def expect(res: ExecutionResult, outcome: Outcome, what: str) -> None:
        nonlocal ok
        good = res.outcome is outcome and (outcome is not Outcome.RAN or res.exit_code == 0)
        ok = ok and good
        if not good:
            console.print(f"  [bold red]unexpected[/]: {what} should be {outcome.value}")

    expect(agent("1. agent initialises the working directory", "terraform", "init", "-input=false", "-no-color"),
           Outcome.RAN, "init")
    plan = agent("2. agent plans the change", "terraform", "plan", "-input=false", "-no-color",
                 "-out=p.tfplan")
    expect(plan, Outcome.RAN, "plan")
    if plan.outcome is Outcome.RAN and plan.exit_code == 0:
        shown = runner.show("p.tfplan")
        if shown.json:
            for rc in shown.json.get("resource_changes", []):
                console.print(f"  plan: {'/'.join(rc['change']['actions'])} {rc['address']}", highlight=False)
    expect(agent("3. agent tries to apply directly", "terraform", "apply", "-auto-approve"),
           Outcome.DENIED, "apply -auto-approve")
    held = agent("4. agent asks to apply the saved plan", "terraform", "apply", "-input=false", "-no-color",
                 "p.tfplan")
    expect(held, Outcome.HELD, "apply p.tfplan")
    if held.request_id is None:
        return False

    rid = held.request_id
    console.print("\n[bold]5. a human reviews and approves[/]")
    console.print(f"  [dim]$ infraleash approvals approve {rid} --as {HUMAN} --comment 'bucket + SG, reviewed'[/]")
    req = store.approve(rid, HUMAN, "bucket + SG, reviewed")
    audit.append("approval", HUMAN, {**request_summary(req), "comment": req.comment})
    console.print(f"  [green]approved[/] by {HUMAN}; plan sha256 {str(req.plan_sha256)[:16]}…")

    console.print("\n[bold]6. the approved command runs, once[/]")
    console.print(f"  [dim]$ infraleash approvals run {rid}[/]")
    with step(console, "  terraform apply p.tfplan: the approved argv, in the sandbox"):
        first = run_approved(rid, store=store, audit=audit, actor=HUMAN, timeout=600, runner=gate_runner,
                             policy=policy)
    ok = ok and first.outcome is Outcome.RAN and first.exit_code == 0
    console.print(f"  {_BADGE[first.outcome]} (exit {first.exit_code}, {first.duration_s:.1f}s)")
    for line in first.stdout.splitlines():
        if "Apply complete" in line or "Creation complete" in line:
            console.print(f"  {line.strip()}", markup=False, highlight=False)
    if moto is not None and first.exit_code == 0:
        ok = _check_bucket(console, moto.endpoint) and ok
    again = run_approved(rid, store=store, audit=audit, actor=HUMAN, runner=gate_runner, policy=policy)
    console.print(f"  running it again: {_BADGE[again.outcome]}: {again.message}", highlight=False)
    ok = ok and again.outcome is Outcome.DENIED

    report = audit.verify()
    console.print("\n[bold]7. audit verify[/]")
    console.print("  [dim]$ infraleash audit verify[/]")
    if report.ok:
        console.print(f"  [green]intact[/]: {report.records} records, head seq {report.head_seq}, anchored in "
                      f"{len(report.anchors_checked)} places ({audit.path})")
    else:
        console.print(f"  [red]tampered[/]: {report.problem}")
    ok = ok and report.ok
    banner(console, "[green]gate demo OK[/]" if ok else "[red]gate demo: something did not behave[/]", mode,
           style="green" if ok else "red")
    return ok


def _check_bucket(console: Console, endpoint: str) -> bool:
    try:
        import boto3
    except ImportError:
        console.print("  (boto3 not installed: not checking the bucket in moto)")
        return True
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test",
                      aws_secret_access_key="test")  # noqa: S106 - moto's fake credentials
    names = [b["Name"] for b in s3.list_buckets().get("Buckets", [])]
    found = "infraleash-artifacts-demo" in names
    console.print(f"  moto now has bucket infraleash-artifacts-demo: {'yes' if found else 'NO'}")
    return found


def main() -> int:
    from review_demo import review_demo  # examples/review_demo.py: the main job runs first

    reviewed = review_demo()
    return 0 if gate_demo() and reviewed else 1


if __name__ == "__main__":
    sys.exit(main())
