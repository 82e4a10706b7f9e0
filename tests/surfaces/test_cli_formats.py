"""One spelling of output format: every command that prints data takes --format/-f json (and --json where it
existed) and then prints one parseable JSON document on stdout."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _cli import run_cli as run

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "review"
LOG = "2026-12-01T02:15:00Z web-1 checkout-api ERROR could not connect to db-1:5432\n" * 3


def commands(tmp: Path) -> dict[str, list[str]]:
    (tmp / "app.log").write_text(LOG)
    (tmp / "infraleash.yaml").write_text("version: 1\ntrust_level: plan\n")
    return {
        "check": ["check", str(EXAMPLE / "proposed")],
        "review": ["review", str(EXAMPLE / "proposed"), "--plan", str(EXAMPLE / "recorded-plan.json")],
        "rules": ["rules"],
        "explain": ["explain", "aws_s3_bucket.bucket"],
        "policy check": ["policy", "check", str(tmp / "infraleash.yaml")],
        "approvals list": ["approvals", "list"],
        "audit show": ["audit", "show"],
        "audit verify": ["audit", "verify"],
        "logs": ["logs", str(tmp / "app.log")],
        "pr-description": ["pr-description", str(EXAMPLE / "proposed"), "--plan", str(EXAMPLE / "recorded-plan.json"),
                           "--no-model"],
    }


def _parse(out: str) -> object:
    text = out.strip()
    if not text:
        return []
    try:
        return json.loads(text)
    except ValueError:  # JSON lines (audit show)
        return [json.loads(line) for line in text.splitlines()]


@pytest.mark.parametrize("name", ["check", "review", "rules", "explain", "policy check", "approvals list",
                                  "audit show", "audit verify", "logs", "pr-description"])
@pytest.mark.parametrize("spelling", [["--format", "json"], ["-f", "json"]])
def test_format_json_everywhere(name: str, spelling: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    argv = commands(tmp_path)[name]
    code, out, err = run(capsys, *argv, *spelling)
    assert code in (0, 1), err
    _parse(out)


@pytest.mark.parametrize("name", ["rules", "policy check", "approvals list", "audit verify"])
def test_json_stays_an_alias_and_a_bad_format_is_one_line(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    argv = commands(tmp_path)[name]
    code, alias, _ = run(capsys, *argv, "--json")
    _, spelled, _ = run(capsys, *argv, "-f", "json")
    assert code == 0 and _parse(alias) == _parse(spelled)
    code, out, err = run(capsys, *argv, "--format", "yaml")
    assert (code, out) == (2, "") and err.count("\n") == 1 and "--format must be one of human, json" in err
