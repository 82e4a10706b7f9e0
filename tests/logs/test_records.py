from __future__ import annotations

import gzip
import json
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

from infraleash.logs.records import MAX_LINE_BYTES, LogSource, read_records, service_from_path

T0 = datetime(2026, 11, 24, 2, 17, 33, tzinfo=UTC)


def _read(path: Path, **kw: object) -> tuple[list, LogSource]:
    source = LogSource(path, **kw)  # type: ignore[arg-type]
    return list(source), source


def test_json_lines_with_common_keys_and_kubernetes_metadata(tmp_path: Path) -> None:
    p = tmp_path / "orders.jsonl"
    p.write_text("\n".join([
        json.dumps({"@timestamp": "2026-11-24T02:17:33Z", "severity": "WARNING", "message": "slow query",
                    "took_ms": 812, "kubernetes": {"pod_name": "orders-5d", "host": "node-2",
                                                   "labels": {"app": "orders"}}}),
        json.dumps({"ts": 1795486654123, "level": 50, "msg": "boom", "hostname": "h9"}),
        json.dumps({"time": "2026-11-24 02:17:35,000", "lvl": "info", "log": "plain\n"}),
    ]) + "\n")
    records, source = _read(p)
    assert [r.time for r in records] == [T0, T0.replace(second=34, microsecond=123000), T0.replace(second=35)]
    first = records[0]
    assert (first.level, first.pod, first.host, first.service) == ("warning", "orders-5d", "node-2", "orders")
    assert first.content == "slow query took_ms=812"
    assert (records[1].level, records[1].host, records[1].service) == ("error", "h9", "orders")
    assert records[2].content == "plain" and records[2].level == "info"
    assert source.problems == []


def test_kubectl_logs_with_prefix_and_timestamps(tmp_path: Path) -> None:
    p = tmp_path / "payments.log"
    p.write_text("[pod/pay-7f9c/app] 2026-11-24T02:17:33.123456789Z INFO charged 12.00 EUR\n"
                 "[pod/pay-7f9c/app] 2026-11-24T02:17:34.000000000Z {\"level\":\"error\",\"msg\":\"declined\"}\n"
                 "2026-11-24T02:17:35.5Z ready\n")
    records, _ = _read(p)
    assert [(r.pod, r.level, r.content) for r in records] == [
        ("pay-7f9c", "info", "charged 12.00 EUR"), ("pay-7f9c", "error", "declined"), (None, None, "ready")]
    assert records[0].time == T0.replace(microsecond=123456)
    assert records[1].time == T0.replace(second=34)
    assert all(r.service == "payments" for r in records)


def test_kubectl_logs_without_timestamps_keeps_each_line(tmp_path: Path) -> None:
    p = tmp_path / "k.log"
    p.write_text("starting server\nlistening on :8080\nERROR lost connection\n")
    records, source = _read(p)
    assert [r.content for r in records] == ["starting server", "listening on :8080", "lost connection"]
    assert records[2].level == "error"
    assert [pr.kind for pr in source.problems] == ["no_timestamps"]


def test_java_and_python_stack_traces_stay_with_their_record(tmp_path: Path) -> None:
    p = tmp_path / "app.log"
    p.write_text(
        "2026-11-24 02:17:33,000 ERROR [main] c.e.Svc - failed\n"
        "java.lang.IllegalStateException: pool closed\n"
        "\tat c.e.Pool.get(Pool.java:10)\n"
        "Caused by: java.io.IOException: reset\n"
        "\t... 12 more\n"
        "2026-11-24 02:17:34,000 ERROR [main] c.e.Svc - python side\n"
        "Traceback (most recent call last):\n"
        '  File "x.py", line 1, in <module>\n'
        "ValueError: bad\n"
        "2026-11-24 02:17:35,000 INFO [main] c.e.Svc - ok\n")
    records, _ = _read(p)
    assert [(r.line_no, r.end_line) for r in records] == [(1, 5), (6, 9), (10, 10)]
    assert records[0].content.splitlines()[0] == "[main] c.e.Svc - failed"
    assert "Caused by: java.io.IOException: reset" in records[0].raw
    assert records[1].raw.endswith("ValueError: bad")


def test_syslog_host_and_program_become_tags(tmp_path: Path) -> None:
    p = tmp_path / "messages"
    p.write_text("Nov 24 02:17:33 web-3 sshd[812]: Failed password for root\n")
    (record,), _ = _read(p, year=2026)
    assert (record.time, record.host, record.service, record.content) == (
        T0, "web-3", "sshd", "Failed password for root")


def test_nginx_access_line_keeps_the_client_prefix(tmp_path: Path) -> None:
    p = tmp_path / "access.log"
    p.write_text('10.0.0.7 - - [24/Nov/2026:02:17:33 +0000] "GET /health HTTP/1.1" 200 2\n')
    (record,), _ = _read(p)
    assert record.time == T0
    assert record.content == '10.0.0.7 - - "GET /health HTTP/1.1" 200 2'


def test_gzip_is_recognised_by_magic_bytes_not_name(tmp_path: Path) -> None:
    p = tmp_path / "rotated.1"
    p.write_bytes(gzip.compress(b"2026-11-24T02:17:33Z one\n2026-11-24T02:17:34Z two\n"))
    records, source = _read(p)
    assert [r.content for r in records] == ["one", "two"] and source.problems == []


def test_since_until_filter_and_untimed_records_are_counted(tmp_path: Path) -> None:
    p = tmp_path / "a.log"
    p.write_text("preamble without time\n" + "".join(f"2026-11-24T02:17:{s:02d}Z tick {s}\n" for s in range(30, 40)))
    records, source = _read(p, since=T0, until=T0.replace(second=35))
    assert [r.time.second for r in records] == [33, 34, 35]
    assert [pr.kind for pr in source.problems] == ["untimed"]


def test_several_sources_are_tagged_by_file(tmp_path: Path) -> None:
    a, b = tmp_path / "api.log", tmp_path / "db.log.gz"
    a.write_text("2026-11-24T02:17:33Z a\n")
    b.write_bytes(gzip.compress(b"2026-11-24T02:17:34Z b\n"))
    got = [(s.path, r.service, r.content) for s, r in read_records([a, b])]
    assert got == [(str(a), "api", "a"), (str(b), "db", "b")]
    assert service_from_path("/var/log/payment-service.log.1.gz") == "payment-service"


# --- bad input --------------------------------------------------------------------------------------

def test_missing_empty_and_binary_files_are_fatal_problems(tmp_path: Path) -> None:
    empty = tmp_path / "empty.log"
    empty.write_bytes(b"")
    binary = tmp_path / "core.bin"
    binary.write_bytes(bytes(range(256)) * 64)
    for path, kind in ((tmp_path / "nope.log", "missing"), (empty, "empty"), (binary, "binary"),
                       (tmp_path, "unreadable")):
        records, source = _read(path)
        assert records == []
        assert [(pr.kind, pr.fatal) for pr in source.problems] == [(kind, True)], path
        assert str(path) in str(source.problems[0])


def test_a_10mb_single_line_is_truncated_and_reported(tmp_path: Path) -> None:
    p = tmp_path / "huge.log"
    with p.open("wb") as f:
        f.write(b"2026-11-24T02:17:33Z " + b"x" * (10 * 1024 * 1024) + b"\n2026-11-24T02:17:34Z after\n")
    records, source = _read(p)
    assert len(records) == 2 and len(records[0].raw) == MAX_LINE_BYTES
    assert records[1].content == "after" and records[1].line_no == 2
    (problem,) = source.problems
    assert problem.kind == "long_line" and problem.line == 1 and "10485782 bytes" in problem.message


def test_mixed_utf8_and_latin1_lines_are_all_read(tmp_path: Path) -> None:
    p = tmp_path / "mixed.log"
    p.write_bytes("2026-11-24T02:17:33Z café ok\n".encode() + "2026-11-24T02:17:34Z café ko\n".encode("latin-1"))
    records, source = _read(p)
    assert [r.content for r in records] == ["café ok", "café ko"]
    (problem,) = source.problems
    assert (problem.kind, problem.line) == ("encoding", 2)


def test_reading_is_streamed_memory_does_not_grow_with_the_file(tmp_path: Path) -> None:
    p = tmp_path / "big.log"
    line = "2026-11-24T02:17:33Z GET /orders/12345 200 in 35ms from 10.0.0.7 " + "y" * 40 + "\n"
    p.write_text(line * 20_000)  # ~2.4 MB
    tracemalloc.start()
    n = sum(1 for _ in LogSource(p))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert n == 20_000
    assert peak < 512 * 1024, peak  # a fraction of the file
