"""``infraleash audit show|verify``: read and check the hash-chained audit log."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from infraleash.errors import ExitCode, UsageError
from infraleash.gate.audit import AuditRecord
from infraleash.surfaces.cli.approval_display import cell
from infraleash.surfaces.cli.exec_cmd import gate_setup
from infraleash.surfaces.cli.formats import format_option, json_alias, wants_json
from infraleash.surfaces.cli.tables import keep_whole, table_console

audit_app = typer.Typer(help="Show and verify the audit log.", no_args_is_help=True)

POLICY_OPT = typer.Option(None, "--policy", help="policy file (default: nearest infraleash.yaml)")
_RELATIVE = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
VERDICTS = ("allow", "deny", "needs_approval")


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")


def parse_when(value: str, option: str, now: datetime | None = None) -> datetime:
    """An ISO date/time (UTC when no zone) or a relative age such as 30m, 2h, 7d."""
    m = _RELATIVE.match(value.strip())
    if m:
        return (now or datetime.now(UTC)) - timedelta(**{_UNITS[m.group(2)]: int(m.group(1))})
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"{option} {value!r}: expected an ISO date/time (2026-11-03T10:00) or an age (30m, 2h, 7d)"
                         ) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _verdict(rec: AuditRecord) -> str | None:
    v = rec.data.get("verdict")
    return str(v) if v is not None else None


def _describe(rec: AuditRecord) -> str:
    d = rec.data
    argv = d.get("argv") or []
    cmd = " ".join(str(a) for a in argv) if isinstance(argv, list) else str(argv)
    if rec.event == "decision":
        rules = ", ".join(r.get("id", "?") for r in d.get("rules", []) if isinstance(r, dict))
        return f"{d.get('verdict')} {cmd}" + (f"  [{rules}]" if rules else "")
    if rec.event == "execution":
        rid = f" request {d['request_id']}" if d.get("request_id") else ""
        return f"exit {d.get('exit_code')} {cmd}{rid}"
    if "request_id" in d:
        tail = f": {d['reason']}" if d.get("reason") else ""
        return f"request {d['request_id']} {d.get('status', '')} {cmd}{tail}".replace("  ", " ")
    return d.get("reason") or cmd


@audit_app.command("show")
def show(since: str = typer.Option(None, "--since", help="from (ISO time or age: 30m, 2h, 7d)"),
         until: str = typer.Option(None, "--until", help="until (ISO time or age)"),
         actor: str = typer.Option(None, "--actor", help="only this actor"),
         decision: str = typer.Option(None, "--decision", help="only decisions with this verdict: "
                                      "allow|deny|needs_approval"),
         event: str = typer.Option(None, "--event", help="only this event (decision, execution, approval, ...)"),
         fmt: str = format_option(("human", "json")), as_json: bool = json_alias(),
         policy: Path = POLICY_OPT) -> int:
    """Audit records, filtered by time, actor and decision (``--format json``: JSON lines, exactly as stored)."""
    as_json = wants_json(fmt, as_json)
    if decision is not None and decision not in VERDICTS:
        raise UsageError(f"--decision must be one of {', '.join(VERDICTS)}, not {decision!r}")
    lo = parse_when(since, "--since") if since else None
    hi = parse_when(until, "--until") if until else None
    log = gate_setup(policy).audit
    console = table_console()
    table = keep_whole(Table("seq", "time", "actor", "event", "what"), "seq", "event")
    shown = 0
    for rec in log.records():
        if (lo and rec.timestamp < lo) or (hi and rec.timestamp > hi) or (actor and rec.actor != actor) \
                or (event and rec.event != event) or (decision and _verdict(rec) != decision):
            continue
        shown += 1
        if as_json:
            print(json.dumps(rec.model_dump(), sort_keys=True))
        else:
            # what an agent wrote (argv, reason, actor) is escaped and never read as rich markup
            table.add_row(str(rec.seq), cell(rec.time), cell(rec.actor), cell(rec.event), cell(_describe(rec)))
    if not as_json:
        if shown:
            console.print(table)
        else:
            console.print(f"no matching audit records in {log.path}")
    return ExitCode.OK


@audit_app.command("verify")
def verify(
    policy: Path = POLICY_OPT,
    server: str | None = typer.Option(None, "--server", help="verify an approval server's audit instead "
                                      "(token from INFRALEASH_SERVER_TOKEN)"),
    public_key: str | None = typer.Option(None, "--public-key", help="with --server: the server's expected "
                                          "Ed25519 public key (base64), pinned"),
    fmt: str = format_option(), as_json: bool = json_alias(),
) -> int:
    """Check the hash chain and its anchors: exit 0 intact, 1 tampered (naming the record), 2 unreadable."""
    as_json = wants_json(fmt, as_json)
    if server is not None:
        return verify_server(server, public_key)
    log = gate_setup(policy).audit
    report = log.verify()
    if as_json:
        problem = report.problem
        print(json.dumps({"log": str(log.path), "ok": report.ok, "records": report.records,
                          "head_seq": report.head_seq, "head_hash": report.head_hash,
                          "anchors_checked": list(report.anchors_checked),
                          "problem": None if problem is None else {"kind": problem.kind, "seq": problem.seq,
                                                                   "line": problem.line, "message": problem.message}},
                         indent=2))
        if report.ok:
            return ExitCode.OK
        return ExitCode.USAGE if problem is not None and problem.kind == "unreadable" else ExitCode.FINDINGS
    console = Console(highlight=False, soft_wrap=True)
    if report.ok and report.records == 0:
        state = "is empty" if log.path.exists() else "does not exist yet"
        console.print(f"[green]intact[/]: {log.path} {state}: nothing has been recorded, and no anchor "
                      "says anything was")
        return ExitCode.OK
    if report.ok:
        anchors = "; anchored in " + ", ".join(report.anchors_checked) if report.anchors_checked else ""
        console.print(f"[green]intact[/]: {log.path}: {report.records} record(s), head seq {report.head_seq}{anchors}")
        return ExitCode.OK
    assert report.problem is not None
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    if report.problem.kind == "unreadable":
        err.print(f"[bold red]unreadable[/]: {escape(f'{log.path}: {report.problem.message}')}")
        return ExitCode.USAGE
    err.print(f"[bold red]tampered[/] ({report.problem.kind}): {escape(f'{log.path}: {report.problem.message}')}")
    return ExitCode.FINDINGS


SERVER_TOKEN_ENV = "INFRALEASH_SERVER_TOKEN"


def verify_server(server: str, public_key: str | None) -> int:
    """Fetch the signed head and the JSON-lines export of an approval server and check both."""
    import os

    import httpx

    from infraleash.server.audit import verify_export
    from infraleash.server.signing import verify_head

    token = os.environ.get(SERVER_TOKEN_ENV)
    if not token:
        raise UsageError(f"--server needs an approver or admin token in {SERVER_TOKEN_ENV}")
    base = server.rstrip("/")
    headers = {"Authorization": f"Bearer {token}"}
    try:
        head_resp = httpx.get(f"{base}/api/v1/audit/head", headers=headers, timeout=30)
        head_resp.raise_for_status()
        head = head_resp.json()
        export = httpx.get(f"{base}/api/v1/audit", params={"after_seq": 0, "limit": 100000}, headers=headers,
                           timeout=120)
        export.raise_for_status()
        lines = [json.loads(x) for x in export.text.splitlines() if x.strip()]
        seq, hash_, signature, key = int(head["seq"]), str(head["hash"]), str(head["signature"]), str(head["public_key"])
    except (httpx.HTTPError, ValueError, KeyError, TypeError) as e:
        raise UsageError(f"{base}: cannot read the audit ({str(e).splitlines()[0] if str(e) else type(e).__name__})"
                         ) from None
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    if public_key is not None and public_key.strip() != key:
        err.print(f"[bold red]tampered[/] (key): {escape(base)} signs with {escape(key)}, not the pinned key")
        return ExitCode.FINDINGS
    if not verify_head(key, seq, hash_, signature):
        err.print(f"[bold red]tampered[/] (signature): {escape(base)}: the head signature does not verify")
        return ExitCode.FINDINGS
    problem = verify_export(lines, seq, hash_)
    if problem:
        err.print(f"[bold red]tampered[/] (chain): {escape(f'{base}: {problem}')}")
        return ExitCode.FINDINGS
    Console(highlight=False, soft_wrap=True).print(
        f"[green]intact[/]: {escape(base)}: {seq} record(s), head signed by {escape(key)}")
    return ExitCode.OK
