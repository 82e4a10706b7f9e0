"""The sandbox, for real: bubblewrap around every command the executor runs.

Each test runs a real command (terraform, or this Python allowed by ``commands.allow``) through
``run_command``/``execute`` and checks what it could and could not touch on the host.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import sys
from pathlib import Path

import pytest

from infraleash.gate.approvals import ApprovalStore
from infraleash.gate.audit import AuditLog
from infraleash.gate.executor import Outcome, execute, owned_paths, run_command
from infraleash.gate.model import Action, GateContext
from infraleash.gate.runner_config import DEFAULT_PATH, SANDBOX_HOME, RunnerConfig
from infraleash.gate.sandbox import find_bwrap, plan_layout
from infraleash.policy import Policy, parse_policy
from infraleash.terraform.runner import embedded_command

if find_bwrap(RunnerConfig()) is None:  # pragma: no cover - scripts/system-deps.sh installs it
    pytest.skip("bubblewrap (bwrap) is not installed: run scripts/system-deps.sh", allow_module_level=True)

PY_PATH = os.pathsep.join([os.path.dirname(sys.executable), DEFAULT_PATH])
RUNNER = RunnerConfig.for_tests(env={"PATH": PY_PATH, "CHECKPOINT_DISABLE": "1"})
CONFIG = 'resource "terraform_data" "x" {\n  input = "a"\n}\n'
POLICY = "version: 1\ntrust_level: plan\n"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    """A workspace with a configuration, a policy, a state, a lock file and the gate's own files."""
    w = tmp_path / "ws"
    (w / ".infraleash").mkdir(parents=True)
    (w / "main.tf").write_text(CONFIG)
    (w / "infraleash.yaml").write_text(POLICY)
    (w / ".infraleash" / "audit.jsonl").write_text('{"seq": 1}\n')
    (w / ".infraleash" / "approvals.db").write_bytes(b"SQLite format 3\x00")
    (w / "terraform.tfstate").write_text('{"version": 4, "serial": 7, "lineage": "l", "resources": []}\n')
    (w / ".terraform.lock.hcl").write_text("# lock\n")
    return w


def _py(code: str, cwd: Path, *, runner: RunnerConfig = RUNNER, env: dict[str, str] | None = None,
        owned: list[str] | None = None):  # type: ignore[no-untyped-def]
    return run_command([sys.executable, "-c", code], cwd=str(cwd), env=env or {}, runner=runner,
                       workspace=str(cwd), owned=owned)


def _owned(ws: Path) -> list[str]:
    return [str(ws / ".infraleash" / "audit.jsonl"), str(ws / ".infraleash" / "approvals.db"),
            str(ws / "infraleash.yaml")]


# --------------------------------------------------------------------------- the workspace and the gate's files


def test_a_command_cannot_write_the_workspace_or_the_gates_files(ws: Path) -> None:
    before = {p: _sha(p) for p in ws.rglob("*") if p.is_file()}
    code = """
import os
out = []
for name in ["new.tf", "main.tf", "infraleash.yaml", "terraform.tfstate", ".terraform.lock.hcl",
             ".infraleash/audit.jsonl", ".infraleash/approvals.db", "sub/infraleash.yaml"]:
    try:
        os.makedirs(os.path.dirname(name) or ".", exist_ok=True)
        with open(name, "a") as f:
            f.write("pwned")
        out.append(name + ":written")
    except OSError as e:
        out.append(name + ":" + (e.strerror or "error"))
print("\\n".join(out))
"""
    res = _py(code, ws, owned=_owned(ws))
    assert res.exit_code == 0, res.stderr
    lines = dict(line.split(":", 1) for line in res.stdout.splitlines())
    assert all(v != "written" for k, v in lines.items() if not k.startswith(".infraleash/")), lines
    assert {p: _sha(p) for p in ws.rglob("*") if p.is_file()} == before
    assert not (ws / "new.tf").exists() and not (ws / "sub").exists()


def test_a_command_cannot_remount_the_workspace_writable(ws: Path) -> None:
    """Run as root, bwrap keeps every capability unless told: CAP_SYS_ADMIN would remount a read-only bind rw."""
    code = ("import subprocess, os\n"
            "r = subprocess.run(['mount', '-o', 'remount,bind,rw', os.getcwd()], capture_output=True, text=True)\n"
            "print(r.returncode != 0, open('/proc/self/status').read().split('CapEff:')[1].split()[0])\n"
            "try:\n    open('main.tf', 'a').write('pwned')\nexcept OSError as e:\n    print(e.strerror)\n")
    res = _py(code, ws)
    assert res.exit_code == 0, res.stderr
    assert res.stdout.splitlines()[0] == "True 0000000000000000"
    assert (ws / "main.tf").read_text() == CONFIG


def test_the_audit_log_and_approvals_db_are_not_visible(ws: Path) -> None:
    res = _py("import os; print(os.listdir('.infraleash'), repr(open('infraleash.yaml').read()[:7]))", ws,
              owned=_owned(ws))
    assert res.exit_code == 0, res.stderr
    assert res.stdout.split()[0] == "[]"  # an empty tmpfs over .infraleash/


def test_home_and_tmp_are_private_and_empty(ws: Path, tmp_path: Path) -> None:
    host_marker = Path("/tmp") / f"infraleash-host-marker-{os.getpid()}"
    host_marker.write_text("host")
    try:
        code = ("import os; print(os.environ['HOME']); print(sorted(os.listdir(os.environ['HOME']))); "
                f"print(os.path.exists({str(host_marker)!r})); print(os.path.exists(os.path.expanduser('~/.ssh')));"
                "open('/tmp/inside', 'w').write('x'); print(sorted(os.listdir('/root')) if os.path.isdir('/root') "
                "else [])")
        res = _py(code, ws)
        assert res.exit_code == 0, res.stderr
        home, listing, marker_seen, ssh, root = res.stdout.splitlines()
        assert home == SANDBOX_HOME and listing == "[]" and marker_seen == "False" and ssh == "False"
        # /root is an empty tmpfs; only this Python's own prefix is bound back (read-only) when it lives there
        runtime = {Path(p).relative_to("/root").parts[0] for p in (sys.prefix, sys.base_prefix)
                   if Path(p).is_relative_to("/root")}
        assert set(eval(root)) <= runtime  # noqa: S307 - a list literal printed by the child
        assert not Path("/tmp/inside").exists()  # the sandbox's /tmp went away with it
    finally:
        host_marker.unlink()


def test_plan_writes_only_its_out_file_and_leaves_the_state_and_its_lock_alone(ws: Path) -> None:
    assert run_command(["terraform", "init", "-input=false", "-no-color"], cwd=str(ws), env={}, runner=RUNNER,
                       workspace=str(ws)).exit_code == 0
    (ws / "terraform.tfstate").unlink()  # start from no state: the local backend creates one to lock it
    before = sorted(p.name for p in ws.iterdir())
    res = run_command(["terraform", "plan", "-input=false", "-no-color", "-out=p.tfplan"], cwd=str(ws), env={},
                      runner=RUNNER, workspace=str(ws), owned=_owned(ws))
    assert res.exit_code == 0, res.stderr
    assert "Plan: 1 to add" in res.stdout and res.sandbox == "bwrap +net"
    assert sorted(p.name for p in ws.iterdir()) == sorted([*before, "p.tfplan"])  # no state, no lock info
    assert (ws / "p.tfplan").stat().st_size > 0


def test_plan_gets_a_private_copy_of_the_state(ws: Path) -> None:
    state = ws / "terraform.tfstate"
    original = _sha(state)
    res = run_command(["terraform", "plan", "-input=false", "-no-color"], cwd=str(ws), env={}, runner=RUNNER,
                      workspace=str(ws))
    assert res.exit_code == 0, res.stderr  # it could lock (a writable copy), so it did not fail
    assert _sha(state) == original and not (ws / ".terraform.tfstate.lock.info").exists()


def test_an_out_file_onto_a_file_the_gate_owns_is_refused(ws: Path) -> None:
    policy = parse_policy("version: 1\ntrust_level: plan\n", str(ws / "infraleash.yaml"))
    store, audit = ApprovalStore(ws / ".infraleash" / "approvals.db2"), AuditLog(ws / ".infraleash" / "audit2.jsonl")
    for target in ("terraform.tfstate", ".infraleash/audit2.jsonl", "infraleash.yaml", "../outside.tfplan"):
        # the decision itself is B's (paths.py); here the sandbox refuses even when a decision let it through
        from infraleash.gate.executor import _Refused

        with pytest.raises(_Refused) as e:
            run_command(["terraform", "plan", f"-out={target}"], cwd=str(ws), env={}, runner=RUNNER,
                        workspace=str(ws), owned=owned_paths(policy, store, audit))
        assert e.value.rules[0].id == "SANDBOX-PATH"
    assert not (ws.parent / "outside.tfplan").exists()


def test_fmt_writes_the_tf_files_only_and_check_writes_nothing(ws: Path) -> None:
    (ws / "main.tf").write_text('resource "terraform_data" "x" {\ninput = "a"\n}\n')
    (ws / "notes.txt").write_text("keep")
    checked = run_command(["terraform", "fmt", "-check"], cwd=str(ws), env={}, runner=RUNNER, workspace=str(ws))
    assert checked.exit_code != 0 and (ws / "main.tf").read_text().startswith('resource "terraform_data" "x" {\ni')
    res = run_command(["terraform", "fmt"], cwd=str(ws), env={}, runner=RUNNER, workspace=str(ws))
    assert res.exit_code == 0, res.stderr
    assert '  input = "a"' in (ws / "main.tf").read_text() and (ws / "notes.txt").read_text() == "keep"


def test_apply_of_a_saved_plan_writes_the_state(ws: Path) -> None:
    (ws / "terraform.tfstate").unlink()
    (ws / ".terraform.lock.hcl").unlink()
    assert run_command(["terraform", "plan", "-input=false", "-out=p.tfplan"], cwd=str(ws), env={},
                       runner=RUNNER, workspace=str(ws)).exit_code == 0
    res = run_command(["terraform", "apply", "-input=false", "-no-color", "p.tfplan"], cwd=str(ws), env={},
                      runner=RUNNER, workspace=str(ws))
    assert res.exit_code == 0, res.stderr
    state = json.loads((ws / "terraform.tfstate").read_text())
    assert [r["type"] for r in state["resources"]] == ["terraform_data"]
    assert not (ws / ".terraform.tfstate.lock.info").exists()
    # the next apply keeps a backup of this state: harvested when new, written in place when it exists
    for previous, value in (("a", "b"), ("b", "c")):
        (ws / "main.tf").write_text(CONFIG.replace('"a"', f'"{value}"'))
        assert run_command(["terraform", "plan", "-input=false", "-out=p.tfplan"], cwd=str(ws), env={},
                           runner=RUNNER, workspace=str(ws)).exit_code == 0
        res = run_command(["terraform", "apply", "-input=false", "-no-color", "p.tfplan"], cwd=str(ws), env={},
                          runner=RUNNER, workspace=str(ws))
        assert res.exit_code == 0, res.stderr
        backup = json.loads((ws / "terraform.tfstate.backup").read_text())
        assert backup["resources"][0]["instances"][0]["attributes"]["input"]["value"] == previous


def test_the_embedded_terraform_core_runs_inside_the_sandbox(ws: Path) -> None:
    no_binary = RunnerConfig.for_tests(env={"PATH": "/usr/bin:/bin"})  # terraform lives in /usr/local/bin
    res = run_command(["terraform", "validate", "-json"], cwd=str(ws), env={}, runner=no_binary,
                      workspace=str(ws), timeout=300)
    assert res.argv == ["terraform", "validate", "-json"] and res.sandbox == "bwrap"
    assert res.exit_code == 0, res.stderr
    assert json.loads(res.stdout)["valid"] is True
    assert embedded_command()[0] == sys.executable


# --------------------------------------------------------------------------- network


@pytest.fixture
def listener():  # type: ignore[no-untyped-def]
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    s.listen(4)
    try:
        yield s.getsockname()[1]
    finally:
        s.close()


CONNECT = ("import socket, sys\ns = socket.socket()\ns.settimeout(3)\n"
           "try:\n    s.connect(('127.0.0.1', int(sys.argv[1]))); print('connected')\n"
           "except OSError as e:\n    print('refused', e)\n")


@pytest.mark.parametrize("runner, expect", [
    (RUNNER, "refused"),
    (RunnerConfig.for_tests(env={"PATH": PY_PATH}, sandbox={"network": {"commands": True}}), "connected"),
])
def test_no_network_unless_the_command_class_needs_it(ws: Path, listener: int, runner: RunnerConfig,
                                                      expect: str) -> None:
    res = run_command([sys.executable, "-c", CONNECT, str(listener)], cwd=str(ws), env={}, runner=runner,
                      workspace=str(ws))
    assert res.exit_code == 0, res.stderr
    assert res.stdout.startswith(expect), res.stdout


@pytest.mark.parametrize("argv, network", [
    (["terraform", "validate"], False), (["terraform", "init", "-input=false"], False),
    (["terraform", "fmt", "-check"], False), (["terraform", "providers", "schema", "-json"], False),
    (["terraform", "plan"], True), (["terraform", "apply", "p.tfplan"], True),
    (["kubectl", "kustomize", "."], False), (["kubectl", "-n", "prod", "kustomize", "."], False),
    (["kubectl", "--context=x", "-n", "kustomize", "get", "pods"], True), (["kubectl", "get", "pods"], True),
    (["kubectl", "version", "--client"], False), (["make", "lint"], False),
])
def test_network_classes(ws: Path, argv: list[str], network: bool) -> None:
    assert plan_layout(argv, cwd=str(ws), workspace=str(ws), env={}, runner=RUNNER).network is network


def test_init_cannot_reach_a_loopback_port(ws: Path, listener: int) -> None:
    """init runs without a network: a module it would download from the test's loopback port is never fetched."""
    (ws / "probe.tf").write_text(f'module "m" {{\n  source = "http://127.0.0.1:{listener}/m.zip"\n}}\n')
    res = run_command(["terraform", "init", "-input=false", "-no-color", "-backend=false"], cwd=str(ws), env={},
                      runner=RUNNER, workspace=str(ws), timeout=120)
    assert res.exit_code != 0 and "connection refused" in (res.stderr + res.stdout).lower(), res.stderr
    # with the network turned on for its class, init does reach the port (and waits for a reply that never comes)
    online = RunnerConfig.for_tests(env={"PATH": PY_PATH}, sandbox={"network": {"terraform init": True}})
    res = run_command(["terraform", "init", "-input=false", "-no-color", "-backend=false"], cwd=str(ws), env={},
                      runner=online, workspace=str(ws), timeout=4)
    assert res.outcome is Outcome.TIMED_OUT, res.stderr


# --------------------------------------------------------------------------- environment


def test_the_callers_environment_never_reaches_the_child(ws: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_CONFIG_FILE", "/tmp/evil-aws-config")
    monkeypatch.setenv("PYTHONPATH", "/tmp/evil-python")
    monkeypatch.setenv("RUNNER_SECRET", "s3cret")
    runner = RunnerConfig.for_tests(env={"PATH": PY_PATH, "AWS_REGION": "eu-west-1"}, pass_env=["RUNNER_SECRET"],
                                    cli_config="/etc/infraleash/terraformrc")
    action_env = {"AWS_CONFIG_FILE": "/tmp/x", "PYTHONPATH": "/tmp/y", "HOME": "/tmp/z", "PATH": "/tmp/bin",
                  "KUBECONFIG": "/tmp/kc", "TF_VAR_name": "ok", "TF_WORKSPACE": "default"}
    res = _py("import os, json; print(json.dumps(dict(os.environ)))", ws, runner=runner, env=action_env)
    assert res.exit_code == 0, res.stderr
    child = json.loads(res.stdout)
    child.pop("PWD", None)
    child.pop("LC_CTYPE", None)  # set by the child Python itself (PEP 538 locale coercion), not passed in
    assert child == {"PATH": PY_PATH, "HOME": SANDBOX_HOME, "AWS_REGION": "eu-west-1", "RUNNER_SECRET": "s3cret",
                     "TF_CLI_CONFIG_FILE": "/etc/infraleash/terraformrc", "TF_VAR_name": "ok",
                     "TF_WORKSPACE": "default"}


def test_the_runner_configuration_file_is_hidden_from_the_command(ws: Path, tmp_path: Path) -> None:
    cfg = tmp_path / "etc" / "runner.yaml"
    cfg.parent.mkdir()
    cfg.write_text(f"env: {{PATH: '{PY_PATH}'}}\n")
    from infraleash.gate.runner_config import load_runner_config

    runner = load_runner_config(cfg)
    res = _py(f"print(repr(open({str(cfg)!r}).read()))", ws, runner=runner)
    assert res.exit_code == 0 and res.stdout.strip() == "''"


# --------------------------------------------------------------------------- failing closed


def test_missing_bwrap_fails_closed_with_the_rule_in_the_audit(ws: Path, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    runner = RunnerConfig.for_tests(env={"PATH": PY_PATH}, sandbox={"bwrap": str(tmp_path / "no" / "bwrap")})
    argv = [sys.executable, "-c", f"open({str(marker)!r}, 'w')"]
    policy = Policy.model_validate({"commands": {"allow": [argv]}})
    audit = AuditLog(tmp_path / "audit.jsonl")
    res = execute(Action(argv=argv, cwd=str(ws), requester="a"),
                  policy, GateContext(workspace_dir=str(ws)), store=ApprovalStore(tmp_path / "a.db"), audit=audit,
                  runner=runner)
    assert res.outcome is Outcome.DENIED and [r.id for r in res.rules] == ["SANDBOX-UNAVAILABLE"]
    assert "apt-get install bubblewrap" in res.message and "mode: off" in res.message
    assert not marker.exists()
    refused = [r for r in audit.records() if r.event == "execution_refused"]
    assert [h["id"] for h in refused[0].data["rules"]] == ["SANDBOX-UNAVAILABLE"]
    assert audit.verify().ok


def test_a_cwd_outside_the_runners_workspaces_is_refused(ws: Path, tmp_path: Path) -> None:
    runner = RunnerConfig.for_tests(env={"PATH": PY_PATH}, workspaces=[str(tmp_path / "elsewhere")])
    policy = parse_policy("version: 1\ntrust_level: plan\n", str(ws / "infraleash.yaml"))
    res = execute(Action(argv=["terraform", "validate"], cwd=str(ws), requester="a"), policy,
                  store=ApprovalStore(tmp_path / "a.db"), audit=AuditLog(tmp_path / "audit.jsonl"), runner=runner)
    assert res.outcome is Outcome.DENIED and [r.id for r in res.rules] == ["RUNNER-WORKSPACE"]
