"""What an approver sees: everything that will run, nothing a requester can disguise.

    shown("ok\\n  rule  [X] fine\\x1b[2K")   # 'ok\\\\n  rule  [X] fine\\\\x1b[2K': one line, no terminal escapes
    print_request(req, console, runner=runner, review=lines)

``approvals show`` prints the exact argv and directory, every variable of the
environment the command will get (the runner configuration's plus the
request's, credential-looking values masked, their names shown), the gate
rules, and for ``terraform apply PLANFILE`` the review of that exact plan
(:func:`plan_review`: ``terraform show -json`` of the private, re-hashed copy,
run through the gate with the runner's configuration, then
:func:`infraleash.review.review_plan`).  Newlines, ANSI escapes, other control
characters and invisible formatting characters (bidi overrides, zero-width
spaces) in any field a requester chose are shown escaped, in ``list``,
``show`` and ``audit show`` alike.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil

from rich.console import Console
from rich.text import Text

from infraleash.errors import InfraleashError
from infraleash.gate.approvals import SECRET_NAME, ApprovalRequest, ApprovalStore, iso, private_plan_copy
from infraleash.gate.audit import AuditLog
from infraleash.gate.executor import Outcome, execute
from infraleash.gate.model import Action, GateContext
from infraleash.gate.runner_config import RunnerConfig
from infraleash.policy import Policy

_HIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
SECRET_SHOWN = "(secret: not shown)"


def _escape(m: re.Match[str]) -> str:
    ch = m.group()
    if ch in _NAMED:
        return _NAMED[ch]
    cp = ord(ch)
    return f"\\x{cp:02x}" if cp <= 0xFF else f"\\u{cp:04x}"


def shown(value: object) -> str:
    """``value`` as one line of plain text: control and invisible formatting characters escaped."""
    return _HIDDEN.sub(_escape, "" if value is None else str(value))


def cell(value: object) -> Text:
    """A table cell: escaped, and never read as rich markup."""
    return Text(shown(value))


def command_line(argv: list[str]) -> str:
    return shown(shlex.join(argv))


def applied_env(req: ApprovalRequest, runner: RunnerConfig) -> list[tuple[str, str, str]]:
    """(name, value as shown, where it comes from) for every variable the approved command will get."""
    base = runner.runner_env()
    env = runner.child_env(req.run_env(base))
    rows = []
    for name in sorted(set(env) | {k for k, v in req.env.items() if v is None}):
        from_request = name in req.env and req.env[name] is not None and base.get(name) is None
        source = "request" if from_request else "runner"
        if name not in env:
            rows.append((name, "(secret: not set in the runner's environment, so not passed)", "request"))
        elif SECRET_NAME.search(name):
            rows.append((name, SECRET_SHOWN, source))
        else:
            rows.append((name, shown(env[name]), source))
    return rows


def _chdir(argv: list[str]) -> list[str]:
    out = []
    for arg in argv[1:]:
        if not arg.startswith("-"):
            break
        if arg.startswith("-chdir="):
            out.append(arg)
    return out


def plan_review(req: ApprovalRequest, *, policy: Policy, store: ApprovalStore, audit: AuditLog,
                runner: RunnerConfig) -> list[str]:
    """The review of the request's exact saved plan, as lines (or one line saying why there is none)."""
    from infraleash.review import review_plan
    from infraleash.review.render import render_human
    from infraleash.terraform.plan import parse_plan

    if req.plan_file is None:
        return []
    try:
        argv, private = private_plan_copy(req)
    except (OSError, InfraleashError) as e:
        return [f"(no review: {shown(e)})"]
    try:
        copy = argv[-1]
        context = GateContext.model_validate(req.context) if req.context else GateContext()
        context = context.model_copy(update={"scratch_dirs": [*context.scratch_dirs, str(private)]})
        action = Action(argv=[os.path.basename(req.argv[0]), *_chdir(req.argv), "show", "-json", "-no-color", copy],
                        cwd=req.cwd, requester="infraleash-approvals",
                        reason=f"approvals show {req.id}: review the saved plan")
        result = execute(action, policy, context, store=store, audit=audit, runner=runner)
        if result.outcome is not Outcome.RAN or result.exit_code != 0:
            lines = [ln.strip(" │╷╵\t") for ln in result.stderr.splitlines() if ln.strip(" │╷╵\t")]
            why = result.message or next((ln for ln in lines if ln.startswith("Error")), None) or \
                (lines[-1] if lines else f"exit {result.exit_code}, no output")
            return [f"(no review: `terraform show -json` of the plan did not run: {shown(why)})"]
        plan = parse_plan(result.stdout, f"{req.plan_file} (sha256 {str(req.plan_sha256)[:12]}, the copy reviewed)")
        report = review_plan(plan, policy, path=req.cwd, environment=req.environment)
        return [shown(line) for line in render_human(report).splitlines()]
    except InfraleashError as e:
        return [f"(no review: {shown(e)})"]
    finally:
        shutil.rmtree(private, ignore_errors=True)


def print_request(r: ApprovalRequest, console: Console, *, env: list[tuple[str, str, str]] | None = None,
                  review: list[str] | None = None) -> None:
    """One request in full; every value a requester chose is escaped."""
    def line(key: str, value: object) -> None:
        console.print(f"  {key:<12} {shown(value)}", markup=False, highlight=False, soft_wrap=True)

    console.print(f"request {shown(r.id)}  {r.status.value}", markup=False, highlight=False)
    line("command", shlex.join(r.argv))
    line("cwd", r.cwd)
    line("requester", r.requester)
    line("reason", r.reason or "-")
    line("requested", iso(r.created_at))
    line("expires", iso(r.expires_at))
    line("effect", r.effect or "-")
    line("environment", r.environment or "-")
    if r.plan_file:
        line("plan file", r.plan_file)
        line("plan sha256", r.plan_sha256 or "-")
    if r.approver:
        line("decided by", f"{r.approver} at {iso(r.decided_at)}")
        line("comment", r.comment or "-")
    if r.executed_at:
        line("executed", f"{iso(r.executed_at)} exit {r.exit_code if r.exit_code is not None else '?'}")
    for rid, why in zip(r.rule_ids, r.reasons, strict=False):
        line("rule", f"[{rid}] {why}")
    if env is not None:
        console.print(f"  environment the command will run with ({len(env)} variables; values of "
                      "credential-looking names are not shown):", markup=False, highlight=False)
        for name, value, source in env:
            console.print(f"    {shown(name)}={value}  [{source}]", markup=False, highlight=False, soft_wrap=True)
    else:
        secrets = sorted(k for k, v in r.env.items() if v is None)
        if secrets:
            line("secrets", f"taken from the runner's environment: {', '.join(secrets)}")
    if review:
        console.print("  review of the saved plan (the exact file that will be applied):", markup=False,
                      highlight=False)
        for text in review:
            console.print(f"    {text}", markup=False, highlight=False, soft_wrap=True)
