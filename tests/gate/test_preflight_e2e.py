"""End to end: real ``terraform`` through :func:`infraleash.gate.executor.execute`; the pre-flight stops each
code-execution vector before anything runs, and the same command run without the gate shows the payload is
real (the marker appears).

Vectors: ``credential_process`` in an AWS shared config file named by the provider block (runs during
``plan``), a CLI config whose ``dev_overrides`` point ``hashicorp/aws`` at a script, an ``external`` data
source.  The ``external`` provider is not in this machine's mirror, so its control run cannot execute the
program here; the refusal is still asserted on ``init`` and ``plan``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from infraleash.gate.approvals import ApprovalStore
from infraleash.gate.audit import AuditLog
from infraleash.gate.executor import Outcome, execute
from infraleash.gate.model import Action, GateContext
from infraleash.gate.runner_config import RunnerConfig
from infraleash.policy import Policy
from infraleash.terraform.sandbox import PROVIDER_MIRROR, why_unavailable, write_cli_config

pytestmark = pytest.mark.sandbox

REQUIRED = 'terraform {\n  required_providers {\n    aws = { source = "hashicorp/aws", version = "5.100.0" }\n  }\n}\n'


@pytest.fixture(scope="module")
def initialized(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One directory with the AWS provider installed from the mirror (copied per test)."""
    reason = why_unavailable()
    if reason:
        pytest.skip(f"real Terraform sandbox unavailable: {reason}")
    base = tmp_path_factory.mktemp("preflight-init")
    (base / "main.tf").write_text(REQUIRED + 'provider "aws" {\n  region = "us-east-1"\n}\n', encoding="utf-8")
    rc = write_cli_config(base / ".rc")
    proc = subprocess.run(["terraform", "init", "-input=false", "-no-color"], cwd=base, capture_output=True,
                          text=True, timeout=300, env={**os.environ, "TF_CLI_CONFIG_FILE": str(rc),
                                                       "CHECKPOINT_DISABLE": "1"})
    assert proc.returncode == 0, proc.stderr
    shutil.rmtree(base / ".rc")
    return base


def _workspace(initialized: Path, tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    shutil.copytree(initialized, ws, symlinks=True)
    return ws


def _payload(tmp_path: Path) -> tuple[Path, Path]:
    marker = tmp_path / "PWNED"
    script = tmp_path / "ws" / "evil.sh"
    script.write_text(f"#!/bin/sh\ntouch {marker}\n"
                      'echo \'{"Version": 1, "AccessKeyId": "a", "SecretAccessKey": "b"}\'\n', encoding="utf-8")
    script.chmod(0o755)
    return script, marker


def _gate(tmp_path: Path, ws: Path, argv: list[str], cli_config: Path) -> tuple[Outcome, list[str], AuditLog]:
    audit = AuditLog(tmp_path / "gate" / "audit.jsonl")
    store = ApprovalStore(tmp_path / "gate" / "approvals.db")
    runner = RunnerConfig.for_tests(cli_config=cli_config, terraform={"plugin_mirrors": [str(PROVIDER_MIRROR)]},
                                    env={"CHECKPOINT_DISABLE": "1"})
    res = execute(Action(argv=argv, cwd=str(ws), requester="agent-1"), Policy(), GateContext(workspace_dir=str(ws)),
                  store=store, audit=audit, runner=runner, timeout=300)
    return res.outcome, [r.id for r in res.rules], audit


def _refused_rules(audit: AuditLog) -> list[str]:
    events = [(r.event, r.data) for r in audit.records()]
    assert [e for e, _ in events] == ["decision", "execution_refused"], events
    return [r["id"] for r in events[1][1].get("rules", [])]


def _direct(ws: Path, argv: list[str], cli_config: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """The same command without the gate (the control: shows the payload really runs)."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {"PATH": os.environ["PATH"], "HOME": str(home), "TF_CLI_CONFIG_FILE": str(cli_config),
           "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1"}
    return subprocess.run(argv, cwd=ws, env=env, capture_output=True, text=True, timeout=300)


def test_credential_process_during_plan_is_stopped(initialized: Path, tmp_path: Path) -> None:
    ws = _workspace(initialized, tmp_path)
    script, marker = _payload(tmp_path)
    (ws / "aws.cfg").write_text(f"[profile evil]\ncredential_process = {script}\n", encoding="utf-8")
    (ws / "main.tf").write_text(REQUIRED + 'provider "aws" {\n  region = "us-east-1"\n  profile = "evil"\n'
                                '  shared_config_files = ["./aws.cfg"]\n  shared_credentials_files = ["./none"]\n'
                                '  skip_metadata_api_check = true\n}\n'
                                'data "aws_caller_identity" "me" {}\n', encoding="utf-8")
    rc = write_cli_config(tmp_path / "rc")
    outcome, _, audit = _gate(tmp_path, ws, ["terraform", "plan", "-input=false", "-no-color"], rc)
    assert outcome is Outcome.DENIED
    assert "PRE-PROVIDER-FILE" in _refused_rules(audit)
    assert not marker.exists()
    _direct(ws, ["terraform", "plan", "-input=false", "-no-color"], rc, tmp_path)
    assert marker.exists(), "control: without the gate, plan runs credential_process"


def test_dev_overrides_fake_provider_is_stopped(initialized: Path, tmp_path: Path) -> None:
    ws = _workspace(initialized, tmp_path)
    _script, marker = _payload(tmp_path)
    fake = tmp_path / "fake-provider"
    fake.mkdir()
    binary = fake / "terraform-provider-aws"
    binary.write_text(f"#!/bin/sh\ntouch {marker}\nexit 1\n", encoding="utf-8")
    binary.chmod(0o755)
    (ws / "main.tf").write_text(REQUIRED + 'provider "aws" {\n  region = "us-east-1"\n}\n'
                                'resource "aws_s3_bucket" "b" {\n  bucket = "x"\n}\n', encoding="utf-8")
    rc = tmp_path / "evil.tfrc"
    rc.write_text(f'provider_installation {{\n  dev_overrides {{\n    "hashicorp/aws" = "{fake}"\n  }}\n'
                  f'  filesystem_mirror {{\n    path = "{PROVIDER_MIRROR}"\n  }}\n}}\n', encoding="utf-8")
    outcome, _, audit = _gate(tmp_path, ws, ["terraform", "plan", "-input=false", "-no-color"], rc)
    assert outcome is Outcome.DENIED
    assert _refused_rules(audit) == ["PRE-CLI-CONFIG"]
    assert not marker.exists()
    _direct(ws, ["terraform", "plan", "-input=false", "-no-color"], rc, tmp_path)
    assert marker.exists(), "control: without the gate, plan starts the dev_overrides binary"


@pytest.mark.parametrize("sub", ["init", "plan"])
def test_external_data_source_is_stopped(initialized: Path, tmp_path: Path, sub: str) -> None:
    ws = _workspace(initialized, tmp_path)
    script, marker = _payload(tmp_path)
    (ws / "main.tf").write_text(REQUIRED + f'data "external" "x" {{\n  program = ["{script}"]\n}}\n', encoding="utf-8")
    rc = write_cli_config(tmp_path / "rc")
    outcome, _, audit = _gate(tmp_path, ws, ["terraform", sub, "-input=false", "-no-color"], rc)
    assert outcome is Outcome.DENIED
    assert "PRE-EXTERNAL-DATA" in _refused_rules(audit)
    assert not marker.exists()


def test_a_clean_configuration_still_plans_through_the_gate(initialized: Path, tmp_path: Path) -> None:
    ws = _workspace(initialized, tmp_path)
    (ws / "main.tf").write_text('resource "terraform_data" "x" {\n  input = "a"\n}\n', encoding="utf-8")
    rc = write_cli_config(tmp_path / "rc")
    outcome, _, audit = _gate(tmp_path, ws, ["terraform", "validate", "-no-color"], rc)
    events = [r.event for r in audit.records()]
    assert outcome is Outcome.RAN and events == ["decision", "execution"], [r.data for r in audit.records()]
