"""Compaction: pruned JSON, logs as templates, head/tail with a marker, and read_output over stored outputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infraleash.agent.compaction import OutputStore, compact, head_tail, prune_item
from infraleash.agent.exceptions import ToolMistake
from infraleash.agent.tokens import counter_for

COUNTER = counter_for("gpt-4o")


def test_under_budget_is_unchanged() -> None:
    c = compact("short output", 100, COUNTER)
    assert c.text == "short output" and not c.changed


def test_head_tail_marker_names_the_lines_and_how_to_get_them() -> None:
    text = "\n".join(f"line {n}: something happened here" for n in range(1, 1001))
    body, omitted = head_tail(text, 300, COUNTER, ref="out-1")
    assert body.startswith("line 1:") and body.endswith("line 1000: something happened here")
    assert 'read_output(ref="out-1", start=' in body and omitted[0].endswith("of 1000")
    assert COUNTER.count(body) <= 300


def test_generic_json_drops_managed_fields_and_cuts_long_arrays() -> None:
    doc = {"metadata": {"managedFields": [{"x": 1}] * 50, "name": "n"}, "values": list(range(5000))}
    c = compact(json.dumps(doc, indent=2), 400, COUNTER, ref="out-9")
    assert '"name": "n"' in c.text and "managedFields" not in c.text.split("[context budget")[0]
    assert "4980 of 5000 items of $.values" in c.text and "out-9" in c.text


@pytest.mark.parametrize("status, abnormal", [
    ({"phase": "Running", "containerStatuses": [{"name": "a", "ready": True, "restartCount": 0,
                                                 "state": {"running": {}}}]}, False),
    ({"phase": "Succeeded", "containerStatuses": [{"name": "a", "ready": False, "restartCount": 0,
                                                   "state": {"terminated": {"exitCode": 0}}}]}, False),
    ({"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable"}]},
     True),
    ({"phase": "Running", "containerStatuses": [{"name": "a", "ready": False, "restartCount": 3,
                                                 "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}, True),
    ({"phase": "Failed"}, True),
])
def test_abnormal_pods_are_recognised(status: dict, abnormal: bool) -> None:
    assert prune_item({"kind": "Pod", "metadata": {"name": "p", "namespace": "ns"}, "status": status})[1] is abnormal


def test_output_store_and_read_output(tmp_path: Path) -> None:
    store = OutputStore(tmp_path / "outputs")
    ref = store.put("\n".join(f"row {n}" for n in range(1, 1001)))
    assert ref == "out-1" and store.put("x") == "out-2"
    assert store.read_lines(ref, 10, 12).splitlines()[0].endswith("row 10")
    assert "ask for start=411" in store.read_lines(ref, 11, 5000)
    with pytest.raises(ToolMistake, match="no stored output 'out-7'"):
        store.read_lines("out-7", 1, 2)
    with pytest.raises(ToolMistake, match="expected a reference"):
        store.read_lines("../../etc/passwd", 1, 2)
