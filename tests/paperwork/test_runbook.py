"""The runbook diff: appended entry, exact unified-diff labels, markdown detection."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from infraleash.errors import InputError
from infraleash.logs.analysis import analyze
from infraleash.paperwork.incident_report import IncidentFacts
from infraleash.paperwork.runbook import propose, read_runbook, runbook_entry

sys.path.insert(0, str(Path(__file__).parent))
import incident_logs as planted  # noqa: E402


def test_entry_and_diff(tmp_path: Path) -> None:
    paths = planted.write(tmp_path / "logs")
    entry = runbook_entry(IncidentFacts.from_logs(paths, analyze(paths)), commands=["kubectl get pods -n pay"],
                          human_steps=["freed disk on the old primary"], severity=2)
    assert entry.startswith("## Incident 2026-12-03 02:15–02:26 UTC, sev2\n")
    assert "- `kubectl get pods -n pay`" in entry and "- freed disk on the old primary" in entry
    assert "360 events 02:15:00–02:26:58 UTC" in entry and planted.PASSWORD not in entry
    diff = propose(Path("docs/RUNBOOK.md"), "# Runbook\n\ntext\n", entry)
    assert diff.startswith("--- docs/RUNBOOK.md\n+++ docs/RUNBOOK.md\n@@ -1,3 +1,")
    added = [line[1:] for line in diff.splitlines()[3:] if line.startswith("+")]
    assert added[0] == "" and added[1] == entry.splitlines()[0]


@pytest.mark.parametrize(("data", "why"), [(b"\x00\x01", "binary"), (b"\xff\xfe#", "not UTF-8"),
                                           (b"plain text\n", "no heading"), (b"#no-space-hashtag\n", "no heading")])
def test_not_markdown(tmp_path: Path, data: bytes, why: str) -> None:
    p = tmp_path / "r.md"
    p.write_bytes(data)
    with pytest.raises(InputError, match=why) as e:
        read_runbook(p)
    assert "r.md" in str(e.value)
    p.write_text("# Title\n")
    assert read_runbook(p) == "# Title\n"
