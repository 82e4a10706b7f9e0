"""`infraleash pr-description` bad input: one line naming the file, exit 2 (real plans: tests/paperwork)."""

from __future__ import annotations

from pathlib import Path

import pytest
from _cli import run_cli as run


@pytest.fixture
def module(tmp_path: Path) -> Path:
    (tmp_path / "mod").mkdir()
    (tmp_path / "mod" / "main.tf").write_text('resource "aws_sqs_queue" "jobs" {\n  name = "jobs"\n}\n')
    (tmp_path / "empty").mkdir()
    (tmp_path / "garbage.json").write_text("{not json")
    (tmp_path / "binary.tfplan").write_bytes(b"PK\x03\x04\x00\x00garbage")
    return tmp_path


@pytest.mark.parametrize(("argv", "named"), [
    (["{t}/empty", "--no-model", "--plan", "{t}/none.json"], "none.json"),          # no plan
    (["{t}/mod", "--no-model", "--plan", "{t}/garbage.json"], "garbage.json"),      # unreadable plan
    (["{t}/mod", "--no-model", "--plan", "{t}/binary.tfplan"], "binary.tfplan"),    # not a plan
    (["{t}/mod/main.tf", "--no-model"], "main.tf"),                                  # not a module directory
    (["{t}/empty", "--no-model", "--no-plan-such-option"], "no-plan-such-option"),  # usage
])
def test_bad_input_is_one_line_and_exit_2(module: Path, capsys: pytest.CaptureFixture[str], argv: list[str],
                                          named: str) -> None:
    code, out, err = run(capsys, "pr-description", *(a.format(t=module) for a in argv))
    assert code == 2, err
    assert out == "" and len(err.strip().splitlines()) == 1 and err.startswith("error: ")
    assert named in err


def test_not_a_module_without_a_plan(module: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "pr-description", str(module / "empty"), "--no-model")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "empty" in err


def test_recorded_plan_with_git_base_and_model_prose(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil
    import subprocess
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "agent" / "models"))
    from wire_servers import OpenAIServer

    examples = Path(__file__).resolve().parents[2] / "examples" / "review"
    repo = tmp_path / "repo"
    shutil.copytree(examples / "production", repo / "infra")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run([*git, "add", "-A"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-qm", "production"], cwd=repo, check=True)
    for f in (repo / "infra").glob("*.tf"):
        f.unlink()
    for f in (examples / "proposed").glob("*.tf"):
        shutil.copyfile(f, repo / "infra" / f.name)
    shutil.copyfile(examples / "infraleash.yaml", repo / "infra" / "infraleash.yaml")
    prose = ("This change replaces `aws_security_group.legacy_app` because its name changes. "
             "It also drops `aws_rds_cluster.reports`. "
             "The review verdict is block, with 4213 findings at critical severity.")
    for var in ("OPENAI_API_KEY", "AZURE_OPENAI_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    with OpenAIServer([{"text": prose}]) as server:
        monkeypatch.setenv("INFRALEASH_MODEL_PROVIDER", "openai")
        monkeypatch.setenv("INFRALEASH_MODEL", "local-llm")
        monkeypatch.setenv("INFRALEASH_BASE_URL", f"{server.url}/v1")
        code, out, err = run(capsys, "pr-description", str(repo / "infra"), "--plan",
                             str(examples / "recorded-plan.json"), "--base", "HEAD")
    assert code == 0, err
    assert out.startswith("**1 to replace, 2 to change in place**; review verdict: block")
    assert "- `aws_security_group.legacy_app`: name \"legacy-billing\" -> \"prod-legacy-billing\"" in out
    diff = out.split("## Diff", 1)[1]
    assert "main.tf" in diff and "file changed" in diff or "files changed" in diff
    kept = out.split("Unverified (dropped):")[0]
    assert "This change replaces `aws_security_group.legacy_app` because its name changes." in kept
    assert "aws_rds_cluster" not in kept and "4213 findings" not in kept
    assert "(not in the facts: aws_rds_cluster.reports)" in out and "(not in the facts: 4213)" in out
