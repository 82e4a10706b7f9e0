from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from _cli import run_cli

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from logs.incident_logs import POOL_COUNT, write_incident  # noqa: E402


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    return [str(p) for p in write_incident(tmp_path_factory.mktemp("cli"))]


def test_logs_files_and_logs_analyze_files_are_the_same(logs: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "logs", *logs, "--format", "json")
    code2, out2, _ = run_cli(capsys, "logs", "analyze", "--format", "json", *logs)
    assert code == code2 == 0
    a, b = json.loads(out), json.loads(out2)
    assert a == b
    assert a["correlations"][0]["lag_low"] == 2 and a["bursts"][0]["count"] == POOL_COUNT


def test_human_and_llm_formats(logs: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "logs", *logs)
    assert code == 0 and "Timeline" in out and "HikariPool" in out
    code, out, _ = run_cli(capsys, "logs", *logs, "--format", "llm", "--budget-tokens", "150")
    assert code == 0 and len(out.strip()) / 4 <= 150 and "Omitted to fit the budget" in out


def test_since_until(logs: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    # options before the files: the default command still applies
    code, out, _ = run_cli(capsys, "logs", "--since", "2026-11-24T02:17:00Z", "--until", "2026-11-24 02:18:00",
                        "--format", "json", *logs)
    data = json.loads(out)
    assert code == 0 and data["window_start"] == "2026-11-24T02:17:00Z" and data["window_end"] == "2026-11-24T02:18:00Z"


def test_lookback_reads_before_since_for_trends_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from logs.incident_k8s import CLIMB_START, SINCE, UNTIL
    from logs.incident_k8s import write_incident as write_k8s
    paths = [str(p) for p in write_k8s(tmp_path)]
    window = ["--since", SINCE.isoformat(), "--until", UNTIL.isoformat(), "--format", "json"]
    code, out, _ = run_cli(capsys, "logs", *paths, *window)
    (trend,) = json.loads(out)["trends"]
    assert code == 0 and trend["started"] == CLIMB_START.isoformat().replace("+00:00", "Z")
    assert trend["started_before_window"] is True
    code, out, _ = run_cli(capsys, "logs", *paths, *window, "--lookback", "0")
    (trend,) = json.loads(out)["trends"]
    assert code == 0 and trend["started_at_input_start"] is True and not trend["started_before_window"]
    code, out, _ = run_cli(capsys, "logs", *paths, *window[:-2], "--lookback", "10m")
    assert code == 0 and "look-back:" in out and "began before --since" in out


def test_bad_input_is_reported_and_the_rest_analysed(logs: list[str], tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(b"\x00\xff" * 5000)
    code, out, err = run_cli(capsys, "logs", str(garbage), str(tmp_path / "gone.log"), *logs, "--format", "json")
    assert code == 0
    assert f"warning: {garbage}: looks like binary data" in err and "gone.log: no such file" in err
    assert json.loads(out)["bursts"][0]["count"] == POOL_COUNT


@pytest.mark.parametrize(("argv", "message"), [
    (["logs", "nothing-here.log"], "no input could be read: nothing-here.log: no such file"),
    (["logs", "x.log", "--since", "yesterday"], "--since: cannot read 'yesterday'"),
    (["logs", "x.log", "--format", "llm", "--budget-tokens", "5"], "--budget-tokens must be at least 60"),
    (["logs", "x.log", "--lookback", "soon"], "--lookback: 'soon' is not a duration such as 30m, 2h or 90s"),
    (["logs", "templates", "nothing-here.log"], "nothing-here.log: no such file"),
])
def test_user_errors_exit_2_with_one_line(argv: list[str], message: str, capsys: pytest.CaptureFixture[str],
                                          tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(capsys, *argv)
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_templates_jsonl_one_object_per_input_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = tmp_path / "sshd.log"
    p.write_text("Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 173.234.31.186\n"
                 "Dec 10 06:55:48 LabSZ sshd[24202]: Invalid user test from 173.234.31.187\n"
                 "Dec 10 06:55:49 LabSZ sshd[24204]: Invalid user admin from 173.234.31.188\n"
                 "Dec 10 06:55:50 LabSZ sshd[24206]: pam_unix(sshd:auth): check pass; user unknown\n")
    code, out, _ = run_cli(capsys, "logs", "templates", str(p), "--log-format",
                        r"<Date> <Day> <Time> <Component> sshd\[<Pid>\]: <Content>", "--format", "jsonl")
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [r["line"] for r in rows] == [1, 2, 3, 4]
    assert rows[0]["template"] == rows[2]["template"] == "Invalid user <*> from <*>"
    assert rows[3]["template"] == "pam_unix(sshd:auth): check pass; user unknown"


def test_llm_budget_is_counted_with_the_real_tokenizer_by_default(logs: list[str],
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    try:
        from infraleash.agent.tokens import TiktokenCounter

        count = TiktokenCounter("o200k_base").count
        count("probe")
    except Exception as e:
        pytest.skip(f"o200k_base tokenizer not available: {e}")
    for budget in ("100", "300"):
        code, out, _ = run_cli(capsys, "logs", *logs, "--format", "llm", "--budget-tokens", budget)
        assert code == 0 and count(out.rstrip("\n")) <= int(budget) and "Omitted to fit the budget" in out
    code, out, _ = run_cli(capsys, "logs", *logs, "--format", "llm", "--budget-tokens", "300", "--tokenizer", "cl100k_base")
    assert code == 0 and TiktokenCounter("cl100k_base").count(out.rstrip("\n")) <= 300
    code, _, err = run_cli(capsys, "logs", *logs, "--format", "llm", "--tokenizer", "nope")
    assert code == 2 and "--tokenizer: cannot load 'nope'" in err
