"""exec / approvals / audit through the real CLI entry: bad input is one line and a documented exit code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from _cli import run_cli as cli

from infraleash.errors import ExitCode
from infraleash.gate.approvals import ApprovalStore
from infraleash.gate.audit import AuditLog, HeadFile
from infraleash.gate.model import Action, Decision, Effect, GateVerdict, RuleHit

POLICY = """\
version: 1
trust_level: act-with-approval
approvals:
  store: state/approvals.db
  ttl_minutes: 30
audit:
  path: state/audit.jsonl
"""



@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "infraleash.yaml").write_text(POLICY)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("INFRALEASH_ACTOR", "agent-x")
    return tmp_path


def _one_line_error(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert lines[0].startswith("error: ")
    return lines[0]


def test_malformed_policy_file_names_file_and_line(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = workdir / "bad.yaml"
    bad.write_text("version: 1\ntrust_level: yolo\n")
    code, _, err = cli(capsys, "exec", "--policy", str(bad), "--", "terraform", "plan")
    assert code == ExitCode.USAGE
    line = _one_line_error(err)
    assert f"{bad}:2:" in line and "trust_level" in line


def test_unparseable_policy_yaml(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "infraleash.yaml").write_text("approvals: [unclosed\n")
    code, _, err = cli(capsys, "approvals", "list")
    assert code == ExitCode.USAGE
    assert "infraleash.yaml" in _one_line_error(err)


def test_unknown_subcommand(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "approvals", "frobnicate")
    assert code == ExitCode.USAGE
    assert "frobnicate" in _one_line_error(err)


@pytest.mark.parametrize("argv", [[], ["--"], ["--", ""]])
def test_empty_argv(workdir: Path, capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    code, _, err = cli(capsys, "exec", *argv)
    assert code == ExitCode.USAGE
    assert "nothing to run" in _one_line_error(err)


@pytest.mark.parametrize("argv", [
    ["terraform", "plan", "|", "tee", "out.txt"],
    ["terraform", "apply", "-auto-approve;", "echo"],
    ["terraform", "plan", ">", "plan.txt"],
    ["kubectl", "get", "pods", "&&", "kubectl", "delete", "pods", "--all"],
    ["terraform", "plan", "-var=x=$(whoami)"],
    ["terraform", "plan", "-var=x=`id`"],
])
def test_shell_syntax_is_an_audited_deny_with_its_rule_id(workdir: Path, capsys: pytest.CaptureFixture[str],
                                                          argv: list[str]) -> None:
    code, _, err = cli(capsys, "exec", "--", *argv)
    assert code == ExitCode.DENIED
    assert "[CMD-SHELL-META]" in err and "Traceback" not in err
    records = list(AuditLog(workdir / "state" / "audit.jsonl").records())
    decisions = [r for r in records if r.event == "decision"]
    assert len(decisions) == 1, records  # the attempt is in the audit, as every other refusal is
    assert decisions[0].data["verdict"] == "deny" and decisions[0].data["argv"] == argv
    assert decisions[0].data["rules"][0]["id"] == "CMD-SHELL-META"
    assert not any(r.event in ("approval_requested", "executed") for r in records)  # never held, never run


def test_shell_syntax_inside_one_argument_is_denied_even_where_the_gate_alone_would_not(
        workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "exec", "--", "terraform", "plan", "-var=x=a&&b")
    assert code == ExitCode.DENIED and "[CMD-SHELL-META]" in err
    code, _, _ = cli(capsys, "exec", "--", "terraform", "version")
    assert code != ExitCode.DENIED  # the same policy runs a plain command: the deny is the shell syntax


def test_bad_options(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "exec", "--severity", "9", "--", "terraform", "plan")
    assert code == ExitCode.USAGE and "--severity" in _one_line_error(err)
    code, _, err = cli(capsys, "approvals", "approve", "abc")
    assert code == ExitCode.USAGE and "--as" in _one_line_error(err)
    code, _, err = cli(capsys, "audit", "show", "--since", "yesterday-ish")
    assert code == ExitCode.USAGE and "--since" in _one_line_error(err)
    code, _, err = cli(capsys, "audit", "show", "--decision", "maybe")
    assert code == ExitCode.USAGE and "--decision" in _one_line_error(err)
    code, _, err = cli(capsys, "approvals", "show", "does-not-exist")
    assert code == ExitCode.USAGE and "no approval request" in _one_line_error(err)


def _held_request(workdir: Path) -> str:
    plan = workdir / "p.tfplan"
    plan.write_bytes(b"plan bytes")
    argv = ["terraform", "apply", "p.tfplan"]
    store = ApprovalStore(workdir / "state" / "approvals.db")
    req = store.create(Action(argv=argv, cwd=str(workdir), requester="agent-x"),
                       Decision(verdict=GateVerdict.NEEDS_APPROVAL, effect=Effect.DESTRUCTIVE, argv=argv,
                                rules=[RuleHit(id="TF-APPLY", reason="changes infrastructure")], plan_file="p.tfplan"))
    return req.id


def test_approvals_list_show_approve_deny(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rid = _held_request(workdir)
    code, out, _ = cli(capsys, "approvals", "list", "--json")
    assert code == 0 and [r["id"] for r in json.loads(out)] == [rid]
    code, out, _ = cli(capsys, "approvals", "show", rid)
    assert code == 0 and "terraform apply p.tfplan" in out and "plan sha256" in out
    code, _, err = cli(capsys, "approvals", "approve", rid, "--as", "agent-x")
    assert code == ExitCode.DENIED and "own request" in _one_line_error(err)
    code, out, _ = cli(capsys, "approvals", "approve", rid, "--as", "sre-lead", "--comment", "reviewed")
    assert code == 0 and "approved" in out
    code, _, err = cli(capsys, "approvals", "deny", rid, "--as", "sre-lead")
    assert code == ExitCode.DENIED and "not pending" in _one_line_error(err)
    code, out, _ = cli(capsys, "audit", "show", "--json", "--actor", "sre-lead")
    recs = [json.loads(line) for line in out.splitlines()]
    assert [(r["event"], r["data"].get("approver"), r["data"].get("action")) for r in recs] == [
        ("approval", "sre-lead", None), ("approval_refused", None, "deny")]
    code, out, _ = cli(capsys, "audit", "show", "--json", "--event", "approval_refused", "--actor", "agent-x")
    assert "own request" in json.loads(out)["data"]["reason"]


def test_approvals_run_of_an_unapproved_request_is_refused(workdir: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    rid = _held_request(workdir)
    code, _, err = cli(capsys, "approvals", "run", rid)
    assert code == ExitCode.DENIED and "not been approved" in err


def test_audit_verify_exit_codes_name_the_record(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = workdir / "state"
    log = AuditLog(state / "audit.jsonl", [HeadFile(state / "audit.jsonl.head"),
                                           ApprovalStore(state / "approvals.db")])
    for i in range(4):
        log.append("decision", "agent-x", {"argv": ["terraform", "plan"], "verdict": "allow", "i": i})
    code, out, _ = cli(capsys, "audit", "verify")
    assert code == 0 and "intact" in out and "4 record(s)" in out
    code, out, _ = cli(capsys, "audit", "show", "--decision", "allow", "--since", "1h")
    assert code == 0 and out.count("terraform plan") == 4
    lines = log.path.read_text().splitlines()
    log.path.write_text("\n".join([lines[0], lines[2], lines[1], lines[3]]) + "\n")
    code, _, err = cli(capsys, "audit", "verify")
    assert code == ExitCode.FINDINGS and "reordered" in err and "seq 3" in err


def test_real_console_script_prints_no_traceback(workdir: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "infraleash", "exec", "--", "terraform", "plan", "|", "cat"],
                          capture_output=True, text=True, timeout=60, cwd=workdir)
    assert proc.returncode == ExitCode.DENIED
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 2  # `denied: ...` and its rule
    assert "[CMD-SHELL-META]" in proc.stderr


def test_audit_verify_on_a_missing_or_empty_log_says_so(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "audit", "verify")
    assert code == 0 and "does not exist yet" in out and "nothing has been recorded" in out
    (workdir / "state").mkdir(exist_ok=True)
    (workdir / "state" / "audit.jsonl").write_text("")
    code, out, _ = cli(capsys, "audit", "verify")
    assert code == 0 and "is empty" in out


def test_a_binary_audit_log_is_one_line_not_a_traceback(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "state").mkdir(exist_ok=True)
    (workdir / "state" / "audit.jsonl").write_bytes(b"\xff\xfe\x00\n")
    code, _, err = cli(capsys, "audit", "verify")
    assert code == ExitCode.FINDINGS and "malformed" in err and "Traceback" not in err
    code, _, err = cli(capsys, "audit", "show")
    assert code == ExitCode.USAGE
    _one_line_error(err)


def test_exec_prints_the_commands_output_faithfully_and_returns_its_exit_code(workdir: Path, runner_file) -> None:  # type: ignore[no-untyped-def]
    python = Path(sys.executable).name
    (workdir / "infraleash.yaml").write_text(POLICY + f"commands:\n  allow: [[{python}, tool.py]]\n")
    (workdir / "tool.py").write_text("import sys\nsys.stdout.write('out \u00fc\\n')\nsys.stderr.write('err\\n')\n"
                                     "sys.exit(7)\n", encoding="utf-8")
    # the program is found on the runner configuration's PATH, not on the caller's
    env = {**os.environ, "INFRALEASH_RUNNER_CONFIG": str(runner_file(path_dirs=[os.path.dirname(sys.executable)]))}
    proc = subprocess.run([sys.executable, "-m", "infraleash", "exec", "--", python, "tool.py"],
                          capture_output=True, timeout=60, cwd=workdir, env=env)
    assert proc.returncode == 7, proc.stderr
    assert proc.stdout == "out \u00fc\n".encode() and proc.stderr == b"err\n"


# --------------------------------------------------------------------------- sensitive values through `exec`

SECRET, SECRET_NEXT = "S3CRET-exec-pw-1", "N3XT-exec-pw-2"
SENSITIVE_TF = """
variable "pw" {
  type      = string
  sensitive = true
}
resource "terraform_data" "db" {
  input = { password = var.pw, user = "admin-user" }
}
output "pw" {
  value     = var.pw
  sensitive = true
}
output "user" {
  value = terraform_data.db.input.user
}
"""


@pytest.fixture(scope="module")
def sensitive_state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real applied state holding a sensitive output, and a saved plan changing it (terraform_data: no AWS)."""
    import shutil

    if shutil.which("terraform") is None:
        pytest.skip("no terraform binary on PATH: masking is tested on real terraform output")
    ws = tmp_path_factory.mktemp("sensitive-exec")
    (ws / "main.tf").write_text(SENSITIVE_TF)
    (ws / "infraleash.yaml").write_text(POLICY)
    (ws / "empty.tfrc").write_text("")
    env = {**os.environ, "TF_CLI_CONFIG_FILE": str(ws / "empty.tfrc"), "TF_IN_AUTOMATION": "1"}
    for args in (["init", "-input=false"], ["apply", "-auto-approve", "-input=false", f"-var=pw={SECRET}"],
                 ["plan", "-input=false", "-out=tfplan", f"-var=pw={SECRET_NEXT}"]):
        subprocess.run(["terraform", *args, "-no-color"], cwd=ws, env=env, check=True, capture_output=True,
                       timeout=120)
    return ws


@pytest.mark.parametrize("argv", [
    ["output", "-raw", "pw"], ["output", "pw"], ["output", "-json"], ["output", "-json", "pw"],
    ["output", "--json"], ["output", "-json=true"], ["", "output", "-raw", "pw"], ["output", "-raw=true", "pw"],
    ["show", "-json"], ["show", "-json", "tfplan"], ["show", "--json", "tfplan"], ["show", "-no-color", "-json"],
    ["-chdir=.", "output", "-json"], ["state", "pull"],
    ["show"], ["show", "-no-color"], ["state", "show", "terraform_data.db"], ["show", "terraform.tfstate"],
])
def test_exec_never_prints_sensitive_values(sensitive_state: Path, capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch, argv: list[str]) -> None:
    monkeypatch.chdir(sensitive_state)
    monkeypatch.setenv("TF_CLI_CONFIG_FILE", str(sensitive_state / "empty.tfrc"))
    monkeypatch.setenv("INFRALEASH_ACTOR", "agent-x")
    raw = subprocess.run(["terraform", *[a for a in argv if a]], cwd=sensitive_state, capture_output=True,
                         text=True, timeout=60).stdout
    assert SECRET in raw or SECRET_NEXT in raw, f"terraform {argv} does not print the secret: this proves nothing"
    code, out, err = cli(capsys, "exec", "--", "terraform", *argv)
    assert SECRET not in out + err and SECRET_NEXT not in out + err
    if argv[-2:] == ["state", "pull"]:
        assert code == ExitCode.DENIED and "TF-STATE-PULL" in err
        return
    assert code == 0, err
    assert "(sensitive)" in out or "withheld" in out
    if "pw" not in argv:
        assert "admin-user" in out  # what is not sensitive stays readable
    if "show" in argv and not any("json" in a for a in argv):
        assert "terraform_data.db" in out  # the human form is still the human form


def test_exec_masks_output_json_folded_from_tf_cli_args(sensitive_state: Path, capsys: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """`terraform output` reads as human text, but TF_CLI_ARGS_output=-json turns it into JSON with the value."""
    monkeypatch.chdir(sensitive_state)
    monkeypatch.setenv("TF_CLI_CONFIG_FILE", str(sensitive_state / "empty.tfrc"))
    monkeypatch.setenv("TF_CLI_ARGS_output", "-json")
    code, out, err = cli(capsys, "exec", "--", "terraform", "output")
    assert code == 0, err
    assert SECRET not in out + err and '"sensitive": true' in out and "admin-user" in out
    assert "replaced by (sensitive)" in err


def test_exec_plain_output_still_readable(sensitive_state: Path, capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(sensitive_state)
    monkeypatch.setenv("TF_CLI_CONFIG_FILE", str(sensitive_state / "empty.tfrc"))
    code, out, _ = cli(capsys, "exec", "--", "terraform", "output")
    assert code == 0 and "user" in out and "admin-user" in out and SECRET not in out


# --------------------------------------------------------------------------- hostile gate state


def _corrupt(workdir: Path, what: str) -> Path:
    state = workdir / "state"
    state.mkdir(exist_ok=True)
    if what == "audit_binary":
        (state / "audit.jsonl").write_bytes(bytes(range(256)) * 8)
        return state / "audit.jsonl"
    if what == "audit_directory":
        (state / "audit.jsonl").mkdir()
        return state / "audit.jsonl"
    if what == "db_binary":
        (state / "approvals.db").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
        return state / "approvals.db"
    if what == "db_directory":
        (state / "approvals.db").mkdir()
        return state / "approvals.db"
    raise AssertionError(what)


@pytest.mark.parametrize("what", ["audit_binary", "audit_directory", "db_binary", "db_directory"])
def test_exec_refuses_every_action_on_corrupt_gate_state(workdir: Path, capsys: pytest.CaptureFixture[str],
                                                         what: str) -> None:
    bad = _corrupt(workdir, what)
    before = bad.read_bytes() if bad.is_file() else None
    for argv in (["terraform", "version"], ["kubectl", "version", "--client"]):
        code, out, err = cli(capsys, "exec", "--", *argv)
        assert code == ExitCode.DENIED, err
        assert "GATE-STATE-CORRUPT" in err and str(bad) in err and "Traceback" not in err + out
    if before is not None:
        assert bad.read_bytes() == before


@pytest.mark.parametrize(("what", "code"), [("audit_binary", ExitCode.FINDINGS), ("audit_directory", ExitCode.USAGE),
                                            ("db_binary", ExitCode.USAGE)])
def test_audit_verify_names_the_corrupt_file(workdir: Path, capsys: pytest.CaptureFixture[str], what: str,
                                             code: int) -> None:
    if what == "db_binary":
        cli(capsys, "exec", "--", "terraform", "version")  # a record and both anchors first
    bad = _corrupt(workdir, what)
    got, out, err = cli(capsys, "audit", "verify")
    assert got == code, out + err
    assert str(bad) in err and "Traceback" not in out + err


def test_audit_show_and_approvals_list_on_corrupt_state_are_one_line(workdir: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    _corrupt(workdir, "audit_directory")
    _corrupt(workdir, "db_binary")
    for args in (["audit", "show"], ["approvals", "list"]):
        code, _, err = cli(capsys, *args)
        assert code == ExitCode.USAGE
        assert "state/" in _one_line_error(err)


def test_the_agent_toolset_refuses_on_corrupt_gate_state(workdir: Path) -> None:
    from infraleash.agent.guarded import GateSession, GuardedToolset
    from infraleash.agent.messages import ToolCall
    from infraleash.agent.tools import Workspace, file_tools, terraform_tools
    from infraleash.policy import load_policy

    bad = _corrupt(workdir, "audit_binary")
    before = bad.read_bytes()
    ws = Workspace(workdir)
    session = GateSession.for_workspace(load_policy(workdir / "infraleash.yaml"), workdir)
    toolset = GuardedToolset([*terraform_tools(ws), *file_tools(ws)], session)
    for call in (ToolCall(id="1", name="terraform", arguments={"args": ["version"]}),
                 ToolCall(id="2", name="read_file", arguments={"path": "infraleash.yaml"})):
        obs = toolset.call(call)
        assert obs.is_error and "GATE-STATE-CORRUPT" in obs.output and str(bad) in obs.output
    assert bad.read_bytes() == before


# --------------------------------------------------------------------------- what an approver sees


def _hold(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    code, out, err = cli(capsys, "exec", *args)
    assert code == ExitCode.NEEDS_APPROVAL, err
    return out.strip().splitlines()[-1]


def test_control_characters_are_shown_escaped_everywhere(workdir: Path, capsys: pytest.CaptureFixture[str],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    reason = "routine\n  rule         [TRUST-OK] approved by policy\x1b[2K\x1b[1A\u202eevil"
    monkeypatch.setenv("INFRALEASH_ACTOR", "agent-x\x1b[32m")
    monkeypatch.setenv("COLUMNS", "400")  # tables are not cut short
    rid = _hold(capsys, "--reason", reason, "--", "terraform", "taint", "aws_s3_bucket.x")
    for args in (["approvals", "list"], ["approvals", "show", rid], ["audit", "show"]):
        code, out, err = cli(capsys, *args)
        assert code == ExitCode.OK, err
        assert "\x1b" not in out and "\u202e" not in out, args
        assert "TRUST-OK" not in out or "\\n  rule         [TRUST-OK]" in out.replace("\n", "")
        assert "\\x1b" in out, (args, out)
    _, out, _ = cli(capsys, "approvals", "show", rid)
    assert "routine\\n  rule         [TRUST-OK] approved by policy\\x1b[2K\\x1b[1A\\u202eevil" in out
    assert not any(line.strip().startswith("rule         [TRUST-OK]") for line in out.splitlines())


def test_approvals_show_prints_the_whole_environment_secrets_masked(workdir: Path,
                                                                    capsys: pytest.CaptureFixture[str],
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TF_VAR_region", "eu-west-1")
    monkeypatch.setenv("TF_VAR_db_password", "hunter2-do-not-print")
    rid = _hold(capsys, "--", "terraform", "taint", "aws_s3_bucket.x")
    code, out, err = cli(capsys, "approvals", "show", rid)
    assert code == ExitCode.OK, err
    assert "hunter2-do-not-print" not in out
    env_lines = {ln.split("=", 1)[0].strip(): ln for ln in out.splitlines() if ln.startswith("    ") and "=" in ln}
    assert "TF_VAR_region=eu-west-1  [request]" in env_lines["TF_VAR_region"]
    assert "TF_VAR_db_password" in env_lines and "secret" in env_lines["TF_VAR_db_password"]
    assert "PATH" in env_lines and "[runner]" in env_lines["PATH"] and "HOME" in env_lines
    assert "command      terraform taint aws_s3_bucket.x" in out and f"cwd          {workdir}" in out
    assert "[TF-TAINT]" in out


def test_approvals_show_reviews_the_exact_saved_plan(sensitive_state: Path, capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(sensitive_state)
    monkeypatch.setenv("TF_CLI_CONFIG_FILE", str(sensitive_state / "empty.tfrc"))
    monkeypatch.setenv("INFRALEASH_ACTOR", "agent-x")
    rid = _hold(capsys, "--reason", "rotate the password", "--", "terraform", "apply", "tfplan")
    code, out, err = cli(capsys, "approvals", "show", rid)
    assert code == ExitCode.OK, err
    assert "review of the saved plan" in out, out
    review = out.split("review of the saved plan", 1)[1]
    assert "verdict:" in review and "terraform_data.db" in review
    assert "no review" not in review, review
    assert SECRET not in out and SECRET_NEXT not in out


def test_the_agents_function_tools_keep_the_audit_verifiable(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Function tools (read_file ...) append to the audit too: the approvals database must anchor those records."""
    from infraleash.agent.guarded import GateSession, GuardedToolset
    from infraleash.agent.messages import ToolCall
    from infraleash.agent.tools import Workspace, file_tools
    from infraleash.policy import load_policy

    session = GateSession.for_workspace(load_policy(workdir / "infraleash.yaml"), workdir)
    toolset = GuardedToolset(file_tools(Workspace(workdir)), session)
    for i in range(3):
        assert not toolset.call(ToolCall(id=str(i), name="read_file", arguments={"path": "infraleash.yaml"})).is_error
    code, out, err = cli(capsys, "audit", "verify")
    assert code == ExitCode.OK, out + err
    assert "approvals database" in out
