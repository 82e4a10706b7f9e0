"""Malformed log input through ``infraleash logs`` as the CLI runs it: each class of bad input is a problem
naming the file (or a clear exit 2), never exit 70, never output that is not UTF-8 JSON, and never memory
or time that grows past what the reader bounds.
"""

from __future__ import annotations

import gzip
import json
import os
import time
import tracemalloc
from pathlib import Path

from fuzz.cli import run as run_cli  # the CLI in-process, stdout as the bytes a pipe gets
from infraleash.logs.analysis import LogAnalysis, analyze
from infraleash.logs.anomalies import MAX_BUCKETS
from infraleash.logs.records import MAX_LINE_BYTES, LogSource


def _lines(n: int, start: int = 0) -> str:
    return "".join(f"2026-11-24T02:{(i // 60) % 60:02d}:{i % 60:02d}Z INFO request {i} served\n"
                   for i in range(start, start + n))


def _analyze_traced(path: Path) -> tuple[LogAnalysis, int]:
    """``analyze([path])`` and the peak of the memory Python allocated meanwhile (bytes)."""
    tracemalloc.start()
    try:
        result = analyze([str(path)])
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_lone_surrogate_escapes_in_json_lines_give_valid_utf8_json(tmp_path: Path) -> None:
    p = tmp_path / "app.jsonl"
    p.write_text("".join(json.dumps({"time": f"2026-11-24T02:00:{i:02d}Z", "level": "error",
                                     "msg": f"bad \udcff byte {i} \ud83d\ude00"}) + "\n" for i in range(30)),
                 encoding="utf-8")
    assert "\\udcff" in p.read_text(encoding="utf-8")  # the escape as a JSON writer leaves it
    code, out, err = run_cli(["logs", str(p), "--format", "json"])
    assert code == 0, err
    doc = json.loads(out.decode("utf-8"))  # strict UTF-8: a surrogate would not encode
    template = doc["templates"][0]["template"]
    assert "\ufffd" in template and "\U0001f600" in template  # the lone one replaced, the pair kept


def test_a_file_name_that_is_not_utf8_gives_valid_utf8_json(tmp_path: Path) -> None:
    p = os.path.join(os.fsencode(tmp_path), b"bad\xffname.log")
    with open(p, "wb") as f:
        f.write(_lines(5).encode())
    code, out, err = run_cli(["logs", os.fsdecode(p), "--format", "json"])
    assert code == 0, err
    assert json.loads(out.decode("utf-8"))["sources"][0]["source"].endswith("bad\ufffdname.log")


def test_truncated_and_corrupt_gzip_are_problems_naming_the_file(tmp_path: Path) -> None:
    data = gzip.compress(_lines(3000).encode())
    truncated = tmp_path / "cut.log.gz"
    truncated.write_bytes(data[: len(data) // 2])
    corrupt = tmp_path / "bad.log.gz"
    middle = len(data) // 2
    corrupt.write_bytes(data[:middle] + bytes(b ^ 0x5A for b in data[middle:middle + 64]) + data[middle + 64:])
    for p in (truncated, corrupt):
        code, out, err = run_cli(["logs", str(p), "--format", "json"])
        assert code == 0, err  # what came before the damage is analysed
        problem = next(x for x in json.loads(out)["problems"] if x["kind"] == "truncated")
        assert problem["source"] == str(p) and "gzip data is truncated or corrupt" in problem["message"]
        assert f"warning: {p}:" in err and "aborted" not in err
    code, out, err = run_cli(["logs", "templates", str(truncated)])
    assert code == 0 and "gzip data is truncated or corrupt" in err


def test_a_truncated_gzip_json_document_is_one_line_exit_2(tmp_path: Path) -> None:
    doc = json.dumps({"items": [{"kind": "Event", "message": f"x {i}", "lastTimestamp": "2026-11-24T02:00:00Z"}
                                for i in range(3000)]}, indent=1).encode()
    data = gzip.compress(doc)
    p = tmp_path / "events.json.gz"
    p.write_bytes(data[: len(data) // 2])
    code, _, err = run_cli(["logs", str(p), "--format", "json"])
    assert code == 2 and err.count("\n") == 1 and str(p) in err and "truncated or corrupt" in err, err


def test_many_concatenated_json_documents_read_in_linear_time(tmp_path: Path) -> None:
    """Each document's line number was counted from the top of the file: 60,000 documents took 88 s."""
    p = tmp_path / "pretty.json"
    p.write_text("".join(json.dumps({"time": f"2026-11-24T02:{i % 60:02d}:00Z", "message": f"m {i % 7}"}, indent=1)
                         + "\n" for i in range(40_000)), encoding="utf-8")
    started = time.perf_counter()
    records = list(LogSource(p))
    elapsed = time.perf_counter() - started
    assert len(records) == 40_000 and records[-1].line_no == 4 * 39_999 + 1
    assert elapsed < 20, f"{elapsed:.1f} s"


def test_records_dated_year_1_and_9999_do_not_make_millennia_of_buckets(tmp_path: Path) -> None:
    p = tmp_path / "clock.log"
    p.write_text("0001-01-01T00:00:00Z ERROR early\n" + _lines(50) + "9999-12-31T23:59:59Z ERROR late\n",
                 encoding="utf-8")
    result, peak = _analyze_traced(p)
    assert all(len(t.buckets) <= MAX_BUCKETS + 1 for t in result.templates)
    assert peak < 32 * 2**20, f"{peak / 2**20:.0f} MiB"
    problem = next(x for x in result.problems if x.kind == "time_span")
    assert problem.source == str(p) and "0001-01-01 to 9999-12-31" in problem.message


def test_a_record_of_megabytes_is_cut_at_the_reader_and_counted(tmp_path: Path) -> None:
    big = "x" * 8_000_000
    plain, jsonl = tmp_path / "plain.log", tmp_path / "app.jsonl"
    plain.write_text(f"2026-11-24T02:00:00Z INFO {big}\n" + _lines(3, 1), encoding="utf-8")
    jsonl.write_text(json.dumps({"time": "2026-11-24T02:00:00Z", "msg": big}) + "\n"
                     + json.dumps({"time": "2026-11-24T02:00:01Z", "msg": "ok"}) + "\n", encoding="utf-8")
    trace = tmp_path / "trace.log"  # one record of 300 continuation lines of 30 KB
    trace.write_text("2026-11-24T02:00:00Z ERROR boom\n" + ("  at frame " + "z" * 30_000 + "\n") * 300
                     + _lines(2, 5), encoding="utf-8")
    for p in (plain, jsonl, trace):
        result, peak = _analyze_traced(p)
        assert peak < 64 * 2**20, f"{p.name}: {peak / 2**20:.0f} MiB for an 8 MB line"
        assert all(len(t.template) <= MAX_LINE_BYTES for t in result.templates)
        assert any(x.kind == "long_line" and x.source == str(p) for x in result.problems), result.problems


def test_json_nested_too_deeply_is_read_as_text(tmp_path: Path) -> None:
    p = tmp_path / "deep.log"
    p.write_text("[" * 60_000 + "\n" + '{"a":' * 5000 + "1" + "}" * 5000 + "\n" + _lines(3), encoding="utf-8")
    code, out, err = run_cli(["logs", str(p), "--format", "json"])
    assert code == 0, err
    assert json.loads(out)["records"] >= 3
