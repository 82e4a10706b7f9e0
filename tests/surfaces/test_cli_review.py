"""`infraleash review` through the CLI entry point: formats, exit codes, bad input."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from _cli import run_cli as run
from _cli import run_on_terminal

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "review"
RECORDED = EXAMPLE / "recorded-plan.json"



def write_plan(tmp_path: Path, changes: list[dict[str, Any]], name: str = "plan.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({"format_version": "1.2", "terraform_version": "1.11.4", "planned_values": {},
                                "resource_changes": changes}), encoding="utf-8")
    return path


def bucket(actions: list[str], before: Any, after: Any) -> dict[str, Any]:
    return {"address": "aws_s3_bucket.b", "mode": "managed", "type": "aws_s3_bucket", "name": "b",
            "provider_name": "registry.terraform.io/hashicorp/aws",
            "change": {"actions": actions, "before": before, "after": after, "after_unknown": {}}}


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """An empty configuration directory (nothing for the static checks to flag) and a default policy."""
    d = tmp_path / "config"
    d.mkdir()
    (tmp_path / "infraleash.yaml").write_text("version: 1\n", encoding="utf-8")
    return d


def test_bundled_example_blocks_with_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "review", str(EXAMPLE / "proposed"), "--plan", str(RECORDED),
                       "--policy", str(EXAMPLE / "infraleash.yaml"))
    assert code == 1
    assert out.startswith("BLOCK: the plan would replace protected resource aws_security_group.legacy_app")
    assert "Will replace (1): aws_security_group.legacy_app" in out and "verdict: block" in out


@pytest.mark.parametrize("fmt", ["json", "markdown", "sarif"])
def test_machine_formats(capsys: pytest.CaptureFixture[str], fmt: str,
                         assert_valid_sarif: Callable[[dict[str, Any]], None]) -> None:
    code, out, _ = run(capsys, "review", str(EXAMPLE / "proposed"), "--plan", str(RECORDED),
                       "--policy", str(EXAMPLE / "infraleash.yaml"), "--format", fmt)
    assert code == 1
    if fmt == "json":
        data = json.loads(out)
        assert data["verdict"] == "block" and any(f["rule"] == "PLAN-PROTECTED" for f in data["findings"])
    elif fmt == "markdown":
        head, rest = out.split("\n", 1)
        assert head.startswith("### ") and "block" in head and "<details>" in rest and "</details>" in rest
    else:
        sarif = json.loads(out)
        assert_valid_sarif(sarif)
        results = sarif["runs"][0]["results"]
        assert any(r["ruleId"] == "PLAN-PROTECTED" and r["level"] == "error" for r in results)


def test_exit_codes_allow_and_needs_approval(capsys: pytest.CaptureFixture[str], workdir: Path,
                                            tmp_path: Path) -> None:
    tags = write_plan(tmp_path, [bucket(["update"], {"bucket": "b", "tags": {}}, {"bucket": "b", "tags": {"a": "1"}})],
                      "tags.json")
    replace = write_plan(tmp_path, [{**bucket(["delete", "create"], {"bucket": "b"}, {"bucket": "c"}),
                                     "change": {**bucket([], None, None)["change"], "actions": ["delete", "create"],
                                                "before": {"bucket": "b"}, "after": {"bucket": "c"},
                                                "replace_paths": [["bucket"]]}}], "replace.json")
    assert run(capsys, "review", str(workdir), "--plan", str(tags))[0] == 0
    code, out, _ = run(capsys, "review", str(workdir), "--plan", str(replace))
    assert code == 3 and out.startswith("NEEDS APPROVAL: replaces aws_s3_bucket.b because bucket changes")


def test_plan_of_zero_changes_is_allowed_and_says_so(capsys: pytest.CaptureFixture[str], workdir: Path,
                                                     tmp_path: Path) -> None:
    empty = write_plan(tmp_path, [bucket(["no-op"], {"bucket": "b"}, {"bucket": "b"})])
    code, out, _ = run(capsys, "review", str(workdir), "--plan", str(empty))
    assert code == 0 and "No changes" in out


def test_output_file_gets_the_report_stderr_the_headline(capsys: pytest.CaptureFixture[str], workdir: Path,
                                                         tmp_path: Path) -> None:
    plan = write_plan(tmp_path, [bucket(["create"], None, {"bucket": "b"})])
    target = tmp_path / "review.md"
    code, out, err = run(capsys, "review", str(workdir), "--plan", str(plan), "-f", "markdown", "-o", str(target))
    assert code == 0 and out == "" and err.startswith("ALLOW")
    assert target.read_text().startswith("### ")


@pytest.mark.parametrize(("content", "message"), [
    ('{"format_version": "1.2", "resource_changes": [{"address": ', "invalid JSON (truncated?)"),
    ('{"name": "not a plan", "items": []}', "not a Terraform plan: no format_version"),
    ('{"format_version": "2.0", "resource_changes": []}', "unsupported plan format_version '2.0'"),
    ('{"format_version": "1.0", "terraform_version": "1.11.4", "values": {"root_module": {}}}',
     "this is a state file"),
])
def test_bad_plan_files_are_one_line_and_exit_2(capsys: pytest.CaptureFixture[str], workdir: Path, tmp_path: Path,
                                                content: str, message: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content, encoding="utf-8")
    code, out, err = run(capsys, "review", str(workdir), "--plan", str(bad))
    assert code == 2 and out == ""
    assert err.startswith(f"error: {bad}:") and message in err and err.count("\n") == 1
    assert "Traceback" not in err


@pytest.mark.parametrize(("args", "message"), [
    (["--format", "xml"], "--format must be one of"),
    (["--plan", "nope.json"], "plan file not found"),
    (["--plan", "x.json", "--no-plan"], "contradict"),
])
def test_bad_arguments_exit_2(capsys: pytest.CaptureFixture[str], workdir: Path, args: list[str],
                              message: str) -> None:
    code, _, err = run(capsys, "review", str(workdir), *args)
    assert code == 2 and message in err and "Traceback" not in err


def test_directory_without_tf_files_is_one_line_exit_2(capsys: pytest.CaptureFixture[str], workdir: Path) -> None:
    code, out, err = run(capsys, "review", str(workdir))
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith(f"error: {workdir}: no .tf files here")


def test_binary_plan_without_terraform_on_path_is_one_line_exit_2(capsys: pytest.CaptureFixture[str], workdir: Path,
                                                                  tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import zipfile

    binary = tmp_path / "review.tfplan"  # a plan file is a zip archive
    with zipfile.ZipFile(binary, "w") as z:
        z.writestr("tfplan", b"\x00binary")
    monkeypatch.setenv("PATH", str(tmp_path))
    code, out, err = run(capsys, "review", str(workdir), "--plan", str(binary))
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith(f"error: {binary}: terraform not found")


@pytest.mark.parametrize("command", [["review", str(EXAMPLE / "proposed"), "--plan", str(RECORDED)],
                                     ["check", str(EXAMPLE / "proposed")]])
def test_the_human_report_has_colour_on_a_terminal_and_none_in_a_pipe(command: list[str],
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    _, on_terminal = run_on_terminal(*command)
    assert "\x1b[" in on_terminal and ("verdict:" in on_terminal or "finding(s)" in on_terminal)
    _, piped, _ = run(capsys, *command)
    assert "\x1b[" not in piped and piped.strip()
