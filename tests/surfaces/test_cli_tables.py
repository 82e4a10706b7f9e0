"""Tables fit the terminal and never cut an id: on a narrow pseudo-terminal every id is printed whole."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from _cli import run_cli, run_on_terminal

from infraleash.gate.approvals import ApprovalStore
from infraleash.gate.model import Action, Decision, Effect, GateVerdict, RuleHit

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")

POLICY = """\
version: 1
trust_level: act-with-approval
approvals:
  store: state/approvals.db
audit:
  path: state/audit.jsonl
"""


def shown_lines(text: str) -> list[str]:
    return ANSI.sub("", text).replace("\r", "").splitlines()


@pytest.mark.parametrize("columns", [60, 80])
def test_rules_fit_the_terminal_and_every_id_is_whole(columns: int, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run_cli(capsys, "rules", "--format", "json")
    ids = [r["id"] for r in json.loads(out)]
    code, shown = run_on_terminal("rules", columns=columns)
    lines = shown_lines(shown)
    assert code == 0
    assert max(len(line) for line in lines) <= columns
    first_cells = {line.split()[0] for line in lines if line.strip()}
    missing = [i for i in ids if i not in first_cells]
    assert "…" not in shown
    assert not missing, f"ids cut or wrapped at {columns} columns: {missing[:5]}"


def test_rules_in_a_pipe_are_one_line_per_rule(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run_cli(capsys, "rules", "--format", "json")
    count = len(json.loads(out))
    _, table, _ = run_cli(capsys, "rules")
    rows = [line for line in table.splitlines() if re.match(r"^\s*[A-Z][A-Z0-9]+(-[A-Z0-9]+)+\s", line)]
    assert len(rows) == count  # no title wrapped onto a second line


def test_approvals_list_keeps_the_request_id_whole_beside_a_long_command(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "infraleash.yaml").write_text(POLICY)
    argv = ["terraform", "apply", "-target=module.payments_service_primary_database.aws_db_instance.this[0]",
            "-var=environment=production", "p.tfplan"]
    (tmp_path / "p.tfplan").write_bytes(b"plan bytes")
    store = ApprovalStore(tmp_path / "state" / "approvals.db")
    req = store.create(Action(argv=argv, cwd=str(tmp_path), requester="agent-x"),
                       Decision(verdict=GateVerdict.NEEDS_APPROVAL, effect=Effect.DESTRUCTIVE, argv=argv,
                                rules=[RuleHit(id="TF-APPLY", reason="changes infrastructure")], plan_file="p.tfplan"))
    monkeypatch.chdir(tmp_path)
    code, shown = run_on_terminal("approvals", "list", columns=70)
    lines = shown_lines(shown)
    assert code == 0 and max(len(line) for line in lines) <= 70
    assert any(req.id in line for line in lines), "\n".join(lines)
    assert "pending" in shown and "…" not in shown  # the long command wraps; nothing is cut
