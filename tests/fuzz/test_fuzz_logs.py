"""Fuzzing log files through ``infraleash logs`` and ``infraleash logs templates``.

Files are built from the line formats the reader knows (ISO, syslog, klog, JSON lines with escapes of lone
surrogates, logfmt, kubectl prefixes, Go panics, stack traces; dates from year 1 to 9999), then damaged:
bytes that are not UTF-8, NULs, a line of up to 300 KB, a cut; half of them gzipped, and a gzip may be cut
or corrupted.  ``--log-format`` strings mix fields with regular-expression characters.  Every run must end
0 (analysed; problems named on stderr) or 2 (one line naming the file), print UTF-8 JSON, no traceback.

CI runs a few dozen; INFRALEASH_FUZZ_EXAMPLES sets the count (a full run: 2,500).
"""

from __future__ import annotations

import atexit
import gzip
import json
import shutil
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .cli import assert_clean_exit, examples, run

EXAMPLES = examples(150)

word = st.sampled_from(["GET", "/api/v1", "timeout", "user=42", "took=12ms", "ERROR", "WARN", "at", "main.go:17",
                        "pod/x", "caf\u00e9", "\u2603", "0x1f", "[x]", "{", "}", "=", "\\", '"'])
stamp = st.one_of(
    st.datetimes().map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%S") + "Z"),
    st.sampled_from(["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "Nov 24 02:17:33", "I1124 02:17:33.123456",
                     "2026-11-24 02:17:33,123", "1795486654", "24/Nov/2026:02:17:33 +0000", ""]))
json_value = st.recursive(st.one_of(st.text(max_size=6), st.integers(), st.floats(), st.booleans(), st.none()),
                          lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner,
                                                                                      max_size=3), max_leaves=6)


@st.composite
def line(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["text", "text", "json", "logfmt", "kubectl", "trace", "panic"]))
    words = " ".join(draw(st.lists(word, min_size=1, max_size=8)))
    ts = draw(stamp)
    if kind == "json":
        obj = {"time": ts, "level": draw(st.sampled_from(["info", "error", 50, None])), "msg": words,
               "extra": draw(json_value)}
        text = json.dumps(obj)
        if draw(st.booleans()):
            text = text.replace('"msg": "', '"msg": "\\udcff\\ud800', 1)
        return text.encode()
    if kind == "logfmt":
        return f'ts={ts} level=error msg="{words}" host=h1'.encode()
    if kind == "kubectl":
        return f"[pod/api-7f/app] {ts} INFO {words}".encode()
    if kind == "trace":
        return f"    at com.example.Foo({words})".encode()
    if kind == "panic":
        return b"panic: runtime error: " + words.encode()
    return f"{ts} {draw(st.sampled_from(['INFO', 'ERROR', 'WARN', '']))} {words}".encode()


@st.composite
def log_file(draw: st.DrawFn) -> bytes:
    lines = draw(st.lists(line(), min_size=0, max_size=30))
    for _ in range(draw(st.integers(0, 3))):
        damage = draw(st.sampled_from([b"\xff\xfe", b"\xc3", b"\x00", b"\xed\xa0\x80", b"\r", b"x" * 300_000]))
        if lines:
            i = draw(st.integers(0, len(lines) - 1))
            lines[i] = lines[i] + damage
    data = b"\n".join(lines) + draw(st.sampled_from([b"\n", b""]))
    if draw(st.booleans()):
        data = gzip.compress(data)
        how = draw(st.sampled_from(["whole", "cut", "corrupt"]))
        if how == "cut":
            data = data[:draw(st.integers(0, len(data)))]
        elif how == "corrupt" and len(data) > 20:
            at = draw(st.integers(10, len(data) - 1))
            data = data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1:]
    return data


log_format = st.lists(st.one_of(st.sampled_from(["<Date>", "<Time>", "<Level>", "<Component>", "<Content>",
                                                 "<Pid>", "<Date>"]),
                                st.sampled_from([" ", "  ", ":", "\\[", "\\]", "(", ")?", "[", "]", "*", ".", "|",
                                                 "$", "^", "+", "\\", "(?P<x>", "{2}", "\\d"])),
                      min_size=1, max_size=10).map("".join)

_WORK = Path(tempfile.mkdtemp(prefix="infraleash-fuzz-logs-"))
atexit.register(shutil.rmtree, _WORK, True)


@pytest.mark.timeout(600 + EXAMPLES * 1)  # a full run: the deadline bounds each input, not this
@settings(max_examples=EXAMPLES, deadline=timedelta(seconds=30), database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(log_file(), st.one_of(st.none(), log_format))
def test_any_log_file_is_analysed_or_named_with_a_documented_exit(data: bytes, fmt: str | None) -> None:
    path = _WORK / "app.log"
    path.write_bytes(data)
    code, out, err = run(["logs", str(path), "--format", "json"])
    assert_clean_exit(code, err, str(path))
    assert code in (0, 2), err
    if code == 0:
        json.loads(out.decode("utf-8"))  # strict UTF-8 JSON
    args = ["logs", "templates", str(path)] + (["--log-format", fmt] if fmt is not None else [])
    code, out, err = run(args)
    assert_clean_exit(code, err, "--log-format" if code == 2 and "--log-format" in err else str(path))
    if code == 0:
        for row in out.decode("utf-8").splitlines():
            json.loads(row)
