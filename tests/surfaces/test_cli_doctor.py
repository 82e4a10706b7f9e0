"""`infraleash doctor kube-identity`: runs `kubectl auth can-i --list` through the gate and judges the rules."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from _cli import run_cli as cli

from infraleash.errors import ExitCode

DATA = Path(__file__).parents[1] / "gate" / "data"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    work = tmp_path / "work"
    work.mkdir()
    (work / "infraleash.yaml").write_text("version: 1\ntrust_level: plan\n")
    monkeypatch.chdir(work)
    monkeypatch.delenv("INFRALEASH_RUNNER_CONFIG", raising=False)
    return work


def test_no_cluster_is_reported_cleanly(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The real kubectl, no cluster on the machine: one line saying why, exit 2, the run audited."""
    code, out, err = cli(capsys, "doctor", "kube-identity")
    assert code == ExitCode.USAGE, err
    assert err.startswith("error: cannot check the Kubernetes identity: kubectl could not reach the cluster")
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    records = [json.loads(line) for line in (workdir / ".infraleash" / "audit.jsonl").read_text().splitlines()]
    assert [r["event"] for r in records] == ["decision", "execution"]
    assert records[0]["data"]["effective_argv"][:4] == ["kubectl", "auth", "can-i", "--list"]
    assert records[1]["data"]["sandbox"].startswith("bwrap")


@pytest.mark.parametrize("table, code, expect", [
    ("kube-can-i-readonly.txt", ExitCode.OK, "read-only: 14 rules"),
    ("kube-can-i-admin.txt", ExitCode.FINDINGS, "5 of 8 rules go beyond"),
])
def test_rules_are_judged(workdir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], runner_file,  # type: ignore[no-untyped-def]
                          monkeypatch: pytest.MonkeyPatch, table: str, code: int, expect: str) -> None:
    """A stand-in kubectl on the runner's PATH prints a recorded table (no cluster here to ask)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "table.txt").write_text((DATA / table).read_text())
    fake = bin_dir / "kubectl"
    fake.write_text(f"#!/bin/sh\ncat {bin_dir / 'table.txt'}\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("INFRALEASH_RUNNER_CONFIG", str(runner_file(path_dirs=[str(bin_dir)],
                                                                   sandbox={"extra_readonly": [str(bin_dir)]})))
    got, out, err = cli(capsys, "doctor", "kube-identity")
    assert got == code, err
    assert expect in out
    if code == ExitCode.FINDINGS:
        assert "[get list watch] on secrets: can read Secret data" in out
