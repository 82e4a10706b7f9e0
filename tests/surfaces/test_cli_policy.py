"""`infraleash policy check`: the files merged and each relaxation ignored, with file and line."""

from __future__ import annotations

from pathlib import Path

import pytest
from _cli import run_cli as cli

from infraleash.errors import ExitCode


def test_policy_check_shows_the_merge_and_each_ignored_relaxation(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "infraleash.yaml").write_text("version: 1\ntrust_level: plan\ncommands:\n  allow: [[make, lint]]\n")
    sub = tmp_path / "work"
    sub.mkdir()
    (sub / "infraleash.yaml").write_text("version: 1\ntrust_level: act-with-approval\n"
                                         "commands:\n  allow: [[make, lint], [git, status]]\n")
    monkeypatch.chdir(sub)
    code, out, err = cli(capsys, "policy", "check")
    assert code == ExitCode.OK, err
    assert str(tmp_path / "infraleash.yaml") in out and str(sub / "infraleash.yaml") in out
    assert f"{sub / 'infraleash.yaml'}:2: trust_level: ignored" in out
    assert f"{sub / 'infraleash.yaml'}:4: commands.allow[1]: ignored" in out
    assert "2 relaxation(s) ignored" in out


def test_policy_check_of_one_file_still_validates_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "p.yaml"
    bad.write_text("version: 1\napprovals: {ttl_minutes: -1}\n")
    code, _, err = cli(capsys, "policy", "check", str(bad))
    assert code == ExitCode.USAGE and f"{bad}:2:" in err and "Traceback" not in err


def test_policy_check_takes_the_org_policy_from_the_runner_configuration(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        runner_file) -> None:  # type: ignore[no-untyped-def]
    org = tmp_path / "org" / "org.yaml"
    org.parent.mkdir()
    org.write_text("version: 1\ntrust_level: observe\n")
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "infraleash.yaml").write_text("version: 1\ntrust_level: act-with-approval\n")
    monkeypatch.setenv("INFRALEASH_RUNNER_CONFIG", str(runner_file(policy=str(org))))
    monkeypatch.chdir(tree)
    code, out, err = cli(capsys, "policy", "check")
    assert code == ExitCode.OK, err
    assert f"ok {org} + {tree / 'infraleash.yaml'}: trust level observe" in out
    assert f"{tree / 'infraleash.yaml'}:2: trust_level: ignored" in out
