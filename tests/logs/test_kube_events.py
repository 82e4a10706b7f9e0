"""kubectl get events: ages, table headers and rows, event objects of both API versions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from infraleash.logs.kube_events import event_from_object, event_from_row, is_event, parse_age, table_columns
from infraleash.logs.timestamps import TimestampDetector

NOW = datetime(2026, 11, 24, 2, 30, tzinfo=UTC)


def test_ages() -> None:
    assert parse_age("5m") == timedelta(minutes=5) and parse_age("2m3s") == timedelta(seconds=123)
    assert parse_age("3h10m") == timedelta(hours=3, minutes=10) and parse_age("4d") == timedelta(days=4)
    assert parse_age("<unknown>") is None and parse_age("5x") is None


def test_the_default_table_has_no_first_seen_or_count() -> None:
    header = "LAST SEEN   TYPE      REASON    OBJECT             MESSAGE"
    cols = table_columns(header)
    assert cols is not None and [c for c, _ in cols] == ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    row = "75s         Warning   BackOff   pod/web-5d-x1      Back-off restarting failed container web in pod web-5d-x1"
    ev = event_from_row(row, cols, NOW)
    assert ev is not None and (ev.type, ev.reason, ev.object, ev.count) == ("Warning", "BackOff", "pod/web-5d-x1", 1)
    assert ev.first == ev.last == NOW - timedelta(seconds=75) and ev.message.endswith("in pod web-5d-x1")
    assert table_columns("NAME   READY   STATUS") is None  # kubectl get pods is not an events table


def test_event_objects_v1_and_events_k8s_io() -> None:
    parse = TimestampDetector().parse_value
    v1 = {"type": "Warning", "reason": "OOMKilling", "count": 2, "message": "Memory cgroup out of memory",
          "firstTimestamp": "2026-11-24T02:10:00Z", "lastTimestamp": "2026-11-24T02:12:00Z",
          "involvedObject": {"kind": "Node", "name": "node-3"}, "source": {"host": "node-3"}}
    assert is_event(v1) and not is_event({"msg": "x"})
    ev = event_from_object(v1, parse)
    assert (ev.object, ev.count, ev.node, ev.warning) == ("Node/node-3", 2, "node-3", True)
    assert (ev.first, ev.last) == (datetime(2026, 11, 24, 2, 10, tzinfo=UTC), datetime(2026, 11, 24, 2, 12, tzinfo=UTC))
    new = {"reason": "Scheduled", "type": "Normal", "eventTime": "2026-11-24T02:11:00.000000Z", "note": "Assigned",
           "regarding": {"kind": "Pod", "name": "p"}, "reportingInstance": "default-scheduler-ctrl"}
    ev = event_from_object(new, parse)
    assert (ev.first, ev.count, ev.node, ev.message) == (
        datetime(2026, 11, 24, 2, 11, tzinfo=UTC), 1, "default-scheduler-ctrl", "Assigned")
