"""Reading log files into :class:`LogRecord` objects, one record per event.

Plain text of any format, JSON lines, ``kubectl logs`` output (with ``--timestamps``
and ``--prefix``) and gzip files (recognised by their magic bytes) are all read by
:class:`LogSource`, a generator: memory depends on the longest record, not on the
file.  Lines without a timestamp that follow a timestamped line (stack traces,
wrapped messages) and indented lines are kept with the record they continue.

Problems with a file (missing, binary, empty, no timestamps, a huge line, bytes
that are not UTF-8, a truncated or corrupt gzip) never stop the reading of the others:
each becomes a :class:`FileProblem` on the source, with the line it concerns.

What the reader hands on is always printable as UTF-8 JSON: bytes that are not UTF-8 are
read as Latin-1, and a JSON ``\ud800``-style escape of a lone surrogate becomes U+FFFD.
A record's text is cut at ``MAX_LINE_BYTES`` characters (JSON documents and continuation
lines included), counted and reported once per file.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from pydantic import BaseModel

from infraleash.logs import fields
from infraleash.logs.kube_events import KubeEvent, event_from_object, event_from_row, is_event, table_columns
from infraleash.logs.server_headers import parse_logfmt, strip_server_header, strip_zone_word
from infraleash.logs.timestamps import TimestampDetector, TimestampMatch

MAX_LINE_BYTES = 64 * 1024  # longer lines are truncated (and reported once per file)
MAX_RECORD_LINES = 500  # continuation lines past this are counted, not kept
MAX_DOCUMENT_BYTES = 256 * 2**20  # a whole-file JSON document (kubectl get events -o json) is read up to this
_SNIFF_BYTES = 8192
_READ_ERRORS = (OSError, EOFError, zlib.error)  # gzip: BadGzipFile (an OSError), a truncated stream, bad deflate data
_SURROGATE_ESCAPE = re.compile(r"\\[uU][dD][89a-fA-F][0-9a-fA-F]{2}")  # \ud800..\udfff in JSON text
_DOCUMENT_START = re.compile(r'\s*(?:\{\s*(?:"|$)|\[\s*(?:\{|\]))')  # a JSON object or an array of objects

LEVELS = ("debug", "info", "warning", "error", "critical")
_LEVEL_WORDS = {
    "TRACE": "debug", "DEBUG": "debug", "DBG": "debug", "INFO": "info", "NOTICE": "info", "INF": "info",
    "WARN": "warning", "WARNING": "warning", "WRN": "warning", "ERROR": "error", "ERR": "error",
    "SEVERE": "error", "CRIT": "critical", "CRITICAL": "critical", "FATAL": "critical", "PANIC": "critical",
    "EMERG": "critical", "ALERT": "critical",
}
_KLOG_LEVELS = {"I": "info", "W": "warning", "E": "error", "F": "critical"}
_LEVEL_RE = re.compile(
    r"(?<![\w.-])[\[(<]?(" + "|".join(sorted(_LEVEL_WORDS, key=len, reverse=True)) + r"|"
    + "|".join(w.capitalize() for w in sorted(_LEVEL_WORDS, key=len, reverse=True)) + r")[\])>:]?(?![\w.-])")
_LEVEL_AT_START_RE = re.compile(r"[\[(<]?(" + "|".join(w.lower() for w in _LEVEL_WORDS) + r")[\])>:]?(?![\w.-])")
# Searched without a leading ``\b`` (which stops ``re`` from skipping ahead by first character); the word
# boundary is checked on each hit by ``_search_word``.
_LEVEL_KV_RE = re.compile(r"(?:level|lvl|severity)=\"?([A-Za-z]+)")
_LEVEL_WINDOW = 64  # a level word counts only near the start of the message
_KV_TAG_RE = re.compile(r"(host|hostname|node|pod|service|svc|app)=\"?([\w.:\-/]+)")
_SPACES = re.compile(r"\s{2,}")
_KUBECTL_PREFIX = re.compile(r"\[pod/([^/\]\s]+)/([^\]\s]+)\] ")
_SYSLOG_HOST = re.compile(r"\s*([\w.\-]+) ([\w.\-/()]+?)(?:\[\d+\])?: ")
_CONTINUATION = re.compile(r"\s|Caused by[: ]|Traceback \(|\.\.\. \d+ more|During handling of the above"
                           r"|goroutine \d+ \[|created by |\[signal ")
# kubectl/docker ``--timestamps``: every physical line is stamped, stack trace lines included
_STAMPED = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z ")
# unindented lines of a trace once it has started: a Go frame ``main.main()``, a Python ``ValueError: x``
_TRACE_LINE = re.compile(r"[\w.$/*\-]+\([^()]*\)$|[\w.]+(?:Error|Exception|Exit|Interrupt)(?::|$)")
_GO_PANIC = ("panic: ", "fatal error: ")
_JOURNAL_MARK = re.compile(r"-- .* --$")  # "-- Boot 0a1b... --", "-- No entries --"
_PRI = re.compile(r"<(\d{1,3})>")
_RFC5424 = re.compile(r"<(\d{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) (-|(?:\[(?:[^\]\\]|\\.)*\])+)(?: (.*))?$")
_SYSLOG_SEVERITY = ("critical", "critical", "critical", "error", "warning", "info", "info", "debug")
# journalctl -o short-iso: "2026-11-24T02:17:33+0000 host unit[pid]: msg" (offset without a colon)
_JOURNAL_ISO = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?[+-]\d{4}$")
_ACCESS_STATUS = re.compile(r'"[A-Z]+ \S+ [^"]*" (\d{3}) ')

_BUNYAN_LEVELS = {10: "debug", 20: "debug", 30: "info", 40: "warning", 50: "error", 60: "critical"}


@dataclass(slots=True)
class LogRecord:
    """One event: a line, or a line with the continuation lines that belong to it."""

    source: str
    line_no: int  # first line of the record, from 1
    time: datetime | None
    level: str | None  # one of LEVELS, or None when the line says nothing
    host: str | None
    pod: str | None
    service: str | None
    content: str  # the message: header (timestamp, level, syslog host) removed
    raw: str  # the text as read, continuation lines included
    end_line: int = 0
    continuation: list[str] = field(default_factory=list)
    container: str | None = None
    event: KubeEvent | None = None  # a Kubernetes event object (kubectl get events)

    @property
    def origin(self) -> str:
        """Where the event came from, for attribution: host, else pod, else service."""
        return self.host or self.pod or self.service or self.source


class FileProblem(BaseModel):
    """Why a file (or part of it) could not be read as asked."""

    source: str
    kind: str  # missing | unreadable | binary | empty | no_timestamps | long_line | encoding | untimed
    message: str
    line: int | None = None
    fatal: bool = False  # nothing of the file was analysed

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line else self.source
        return f"{where}: {self.message}"


def service_from_path(path: str) -> str:
    """``/var/log/payment-service.log.1.gz`` -> ``payment-service``."""
    name = Path(path).name
    stem = name.split(".")[0]
    return stem or name


def _no_surrogates(value: Any) -> Any:
    """``value`` with every lone surrogate (from a JSON escape) replaced by U+FFFD, pairs kept."""
    if isinstance(value, str):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, list):
        return [_no_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {_no_surrogates(k): _no_surrogates(v) for k, v in value.items()}
    return value


def _load_json(text: str) -> Any:
    """``json.loads`` that never hands on a lone surrogate; ValueError also for nesting too deep to decode."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise ValueError("nested too deeply") from None
    return _no_surrogates(value) if _SURROGATE_ESCAPE.search(text) else value


def _read_failure(e: BaseException, line_no: int, gzipped: bool) -> str:
    if gzipped:
        return f"gzip data is truncated or corrupt after line {line_no} ({e}); the lines before it were read"
    return f"read failed after line {line_no}: {e}"


def _read_upto(stream: io.BufferedReader, limit: int) -> bytes:
    """At most ``limit`` bytes, read a MiB at a time (``read(limit)`` would allocate all of it up front)."""
    chunks: list[bytes] = []
    total = 0
    while total < limit:
        chunk = stream.read(min(2**20, limit - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def _looks_binary(head: bytes) -> bool:
    if not head:
        return False
    if b"\x00" in head:
        return True
    control = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13, 27))
    return control > len(head) * 0.1


def _normalize_level(value: object) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return _BUNYAN_LEVELS.get(value)
    if not isinstance(value, str) or not value:
        return None
    word = value.strip().upper()
    return _LEVEL_WORDS.get(word) or _KLOG_LEVELS.get(word) or ("warning" if word.startswith("WARN") else None)


def _search_word(pattern: re.Pattern[str], text: str, pos: int = 0) -> re.Match[str] | None:
    """``pattern.search`` where the match must start a word (what a leading ``\b`` would say)."""
    while True:
        m = pattern.search(text, pos)
        if m is None:
            return None
        start = m.start()
        if start == 0 or not (text[start - 1].isalnum() or text[start - 1] == "_"):
            return m
        pos = start + 1


def _find_level(text: str) -> tuple[str | None, int, int]:
    """(level, start, end) of a level word near the start of ``text``."""
    m = _LEVEL_AT_START_RE.match(text) or _LEVEL_RE.search(text, 0, _LEVEL_WINDOW)
    if m is not None:
        return _LEVEL_WORDS[m.group(1).upper()], m.start(), m.end()
    kv = _search_word(_LEVEL_KV_RE, text)
    if kv is not None:
        return _normalize_level(kv.group(1)), -1, -1
    return None, -1, -1


class LogSource:
    """A file read as a stream of records; problems are collected on ``problems``.

    Iterate it once.  ``since``/``until`` (aware datetimes) drop records outside
    the window, including records without a timestamp (counted as a problem).
    """

    def __init__(self, path: str | Path, *, since: datetime | None = None, until: datetime | None = None,
                 service: str | None = None, year: int | None = None) -> None:
        self.fs_path = str(path)  # what is opened: a name of bytes that are not UTF-8 keeps them (surrogateescape)
        self.path = _no_surrogates(self.fs_path)  # what is shown: printable as UTF-8
        self.since = since
        self.until = until
        self.service = service or service_from_path(self.path)
        self.detector = TimestampDetector(year=year or self._mtime_year())
        self.problems: list[FileProblem] = []
        self.lines = 0
        self.records = 0  # records yielded (after the window)
        self.timed = 0
        self.untimed_dropped = 0
        self.latin1_lines = 0
        self._first_latin1: int | None = None
        self._found: tuple[str, TimestampMatch | None] | None = None
        self.gzipped = False
        self.cut_records = 0  # records whose text was cut at MAX_LINE_BYTES (after the reading of lines)
        self._first_cut: int | None = None

    def _mtime_year(self) -> int | None:
        try:
            return datetime.fromtimestamp(Path(self.fs_path).stat().st_mtime).year
        except OSError:
            return None

    def _problem(self, kind: str, message: str, line: int | None = None, fatal: bool = False) -> None:
        self.problems.append(FileProblem(source=self.path, kind=kind, message=message, line=line, fatal=fatal))

    # --- bytes -> lines -------------------------------------------------------------
    def _open(self) -> io.BufferedReader | None:
        try:
            raw = open(self.fs_path, "rb", buffering=_SNIFF_BYTES * 8)  # noqa: SIM115 - closed by the caller
        except FileNotFoundError:
            self._problem("missing", "no such file", fatal=True)
            return None
        except IsADirectoryError:
            self._problem("unreadable", "is a directory, not a log file", fatal=True)
            return None
        except OSError as e:
            self._problem("unreadable", f"cannot open: {e.strerror or e}", fatal=True)
            return None
        buffered = cast(io.BufferedReader, raw)
        try:
            if buffered.peek(2)[:2] == b"\x1f\x8b":
                self.gzipped = True
                buffered = io.BufferedReader(cast(io.RawIOBase, gzip.GzipFile(fileobj=raw)),
                                             buffer_size=_SNIFF_BYTES * 8)
            head = buffered.peek(_SNIFF_BYTES)[:_SNIFF_BYTES]
        except _READ_ERRORS as e:
            what = "gzip data is truncated or corrupt" if self.gzipped else "cannot read"
            self._problem("unreadable", f"{what}: {e}", fatal=True)
            buffered.close()
            return None
        if not head:
            self._problem("empty", "file is empty", fatal=True)
            buffered.close()
            return None
        if _looks_binary(head):
            self._problem("binary", "looks like binary data, not text (NUL or control bytes); skipped", fatal=True)
            buffered.close()
            return None
        return buffered

    def _lines(self, stream: io.BufferedReader) -> Iterator[str]:
        long_reported = False
        line_no = 0
        while True:
            try:
                chunk = stream.readline(MAX_LINE_BYTES)
                if not chunk.endswith(b"\n") and len(chunk) >= MAX_LINE_BYTES:
                    total = len(chunk) + self._skip_rest(stream)
                else:
                    total = 0
            except _READ_ERRORS as e:
                self._problem("truncated" if self.gzipped else "unreadable",
                              _read_failure(e, line_no, self.gzipped), line=line_no + 1)
                return
            if not chunk:
                return
            line_no += 1
            if total and not long_reported:
                self._problem("long_line", f"line is {total} bytes; kept the first {MAX_LINE_BYTES}", line=line_no)
                long_reported = True
            self.lines = line_no
            try:
                text = chunk.decode("utf-8")
            except UnicodeDecodeError:
                text = chunk.decode("latin-1")
                self.latin1_lines += 1
                if self._first_latin1 is None:
                    self._first_latin1 = line_no
            yield text.rstrip("\r\n")

    @staticmethod
    def _skip_rest(stream: io.BufferedReader) -> int:
        skipped = 0
        while True:
            part = stream.readline(MAX_LINE_BYTES)
            skipped += len(part)
            if not part or part.endswith(b"\n"):
                return skipped

    def raw_lines(self) -> Iterator[str]:
        """The file's lines as text (gzip, encoding and long lines handled), without record grouping."""
        stream = self._open()
        if stream is None:
            return
        with stream:
            yield from self._lines(stream)
        self._finish(grouped=False)

    # --- lines -> records -----------------------------------------------------------
    def __iter__(self) -> Iterator[LogRecord]:
        stream = self._open()
        if stream is None:
            return
        with stream:
            mode = self._document_mode(stream)
            if mode is not None:
                yield from mode
                self._finish()
                return
            yield from self._grouped(self._lines(stream))
        self._finish()

    def _grouped(self, lines: Iterator[str]) -> Iterator[LogRecord]:
        """Lines -> records (continuation lines kept with the record they continue), window applied."""
        current: LogRecord | None = None
        kept_chars = 0  # of the current record: continuation lines past MAX_LINE_BYTES are counted, not kept
        for line_no, line in enumerate(lines, start=1):
            if current is not None:
                more = self._continues(line, current)
                if more is not None:
                    current.end_line = line_no
                    if len(current.continuation) < MAX_RECORD_LINES and kept_chars <= MAX_LINE_BYTES:
                        current.continuation.append(more)
                        kept_chars += len(more)
                    elif kept_chars <= MAX_LINE_BYTES * 2:  # once: _emit cuts the record and counts it
                        current.continuation.append(more[:MAX_LINE_BYTES])
                        kept_chars = MAX_LINE_BYTES * 2 + 1
                    continue
                kept = self._emit(current)
                if kept is not None:
                    yield kept
            previous = current
            current = self._parse(line, line_no)
            kept_chars = len(current.raw)
            if current.time is None and previous is not None and line.startswith(_GO_PANIC):
                current.time = previous.time  # a Go panic is printed without a timestamp, right after the last log
        if current is not None:
            kept = self._emit(current)
            if kept is not None:
                yield kept

    def _document_mode(self, stream: io.BufferedReader) -> Iterator[LogRecord] | None:
        """Records of a whole-file format (a JSON document, a ``kubectl get events`` table), or None for
        line-by-line reading."""
        head = stream.peek(_SNIFF_BYTES)[:_SNIFF_BYTES].decode("utf-8", "replace")
        first = head.split("\n", 1)[0].rstrip("\r")
        columns = table_columns(first)
        if columns is not None:
            lines = self._lines(stream)
            next(lines, None)
            return (r for rec in self._table_records(lines, columns) if (r := self._emit(rec)) is not None)
        if not _DOCUMENT_START.match(head):
            return None
        try:
            json.loads(first)
            return None  # JSON lines
        except (ValueError, RecursionError):
            pass
        if "\n" not in head and len(head) >= _SNIFF_BYTES:
            return None  # one long line: JSON lines with a huge first record
        try:
            data = _read_upto(stream, MAX_DOCUMENT_BYTES + 1)
        except _READ_ERRORS as e:
            self._problem("truncated" if self.gzipped else "unreadable", _read_failure(e, 0, self.gzipped)
                          .replace("after line 0", "in a JSON document").replace("the lines before it were read",
                                                                                  "nothing of it was read"), fatal=True)
            return iter(())
        if len(data) > MAX_DOCUMENT_BYTES:
            self._problem("long_line", f"JSON document larger than {MAX_DOCUMENT_BYTES // 2**20} MiB; read the "
                          "first part only", line=1)
            data = data[:MAX_DOCUMENT_BYTES]
        text = data.decode("utf-8", "replace")
        self.lines = text.count("\n") + (0 if text.endswith("\n") else 1)
        try:
            json.JSONDecoder().raw_decode(text, len(text) - len(text.lstrip()))
        except (ValueError, RecursionError):  # not a document after all (a broken first JSON line): read it line by line
            self.lines = 0
            return self._grouped(self._counted(text.splitlines()))
        return (r for rec in self._document_records(text) if (r := self._emit(rec)) is not None)

    def _counted(self, lines: list[str]) -> Iterator[str]:
        for n, line in enumerate(lines, start=1):
            self.lines = n
            yield line

    def _continues(self, line: str, current: LogRecord) -> str | None:
        """The text ``line`` adds to ``current`` when it continues it (stack trace, goroutine dump), else None."""
        if not line:
            return ""  # blank lines inside a trace or a goroutine dump stay with their record
        if _CONTINUATION.match(line):
            return line
        if self.detector.format is None or line.startswith("{") or _PRI.match(line) or _JOURNAL_MARK.match(line):
            return None  # JSON, a syslog <PRI>, a journald marker: a record of their own
        prefix = _KUBECTL_PREFIX.match(line)
        if prefix is not None or _STAMPED.match(line):
            return self._stamped_continuation(line, prefix.end() if prefix is not None else 0, current)
        if line.startswith(_GO_PANIC):
            return None
        found = self.detector.find(line)
        self._found = (line, found)  # _parse reuses it for the same line
        return line if found is None else None

    @staticmethod
    def _stamped_continuation(line: str, pos: int, current: LogRecord) -> str | None:
        """kubectl ``--prefix --timestamps``: a trace line carries the same prefix and its own timestamp."""
        if pos and not current.raw.startswith(line[:pos]):
            return None  # another container
        stamp = _STAMPED.match(line, pos)
        message = line[stamp.end() if stamp is not None else pos:]
        if not message:
            return ""
        if _CONTINUATION.match(message) or (current.continuation and _TRACE_LINE.match(message)):
            return message
        return None

    def _emit(self, record: LogRecord) -> LogRecord | None:
        if record.continuation:
            record.raw = "\n".join([record.raw, *record.continuation])
            record.content = "\n".join([record.content, *record.continuation])
        if len(record.raw) > MAX_LINE_BYTES or len(record.content) > MAX_LINE_BYTES:
            record.raw, record.content = record.raw[:MAX_LINE_BYTES], record.content[:MAX_LINE_BYTES]
            self.cut_records += 1
            if self._first_cut is None:
                self._first_cut = record.line_no
        if record.time is not None:
            self.timed += 1
        if self.since is not None or self.until is not None:
            if record.time is None:
                self.untimed_dropped += 1
                return None
            if (self.since is not None and record.time < self.since) or (
                    self.until is not None and record.time > self.until):
                return None
        self.records += 1
        return record

    def _finish(self, grouped: bool = True) -> None:
        if self.cut_records:
            self._problem("long_line", f"{self.cut_records} record(s) longer than {MAX_LINE_BYTES} characters; "
                          f"kept the first {MAX_LINE_BYTES} of each", line=self._first_cut)
        if self.latin1_lines:
            self._problem("encoding", f"{self.latin1_lines} line(s) are not valid UTF-8; read as Latin-1",
                          line=self._first_latin1)
        if grouped and self.lines and not self.timed:
            self._problem("no_timestamps", f"no timestamps found in {self.lines} line(s); counted in templates "
                          "and totals, left out of the timeline, bursts and correlations")
        if self.untimed_dropped and self.timed:
            self._problem("untimed", f"{self.untimed_dropped} record(s) without a timestamp were left out by "
                          "--since/--until")
        if self.lines == 0 and not any(p.fatal for p in self.problems):
            self._problem("empty", "file has no lines", fatal=True)

    def _parse(self, line: str, line_no: int) -> LogRecord:
        pod = None
        text = line
        pri_level = None
        if text.startswith("<"):  # syslog priority: RFC 5424 as a whole, or the <PRI> of RFC 3164
            rfc = _RFC5424.match(text)
            if rfc is not None:
                return self._parse_rfc5424(rfc, line, line_no)
            pri = _PRI.match(text)
            if pri is not None:
                pri_level = _SYSLOG_SEVERITY[int(pri.group(1)) % 8]
                text = text[pri.end():]
        m = _KUBECTL_PREFIX.match(text)
        container = None
        if m is not None:
            pod, container = m.group(1), m.group(2)
            text = text[m.end():]
        if text.startswith("{"):
            record = self._parse_json(text, line, line_no)
            if record is not None:
                record.pod = record.pod or pod
                record.container = record.container or container
                return record
        if "=" in text[:40] and (pairs := parse_logfmt(text)) is not None:
            record = self._parse_logfmt(pairs, line, line_no)
            record.pod = record.pod or pod
            return record
        cached = self._found
        found = cached[1] if cached is not None and cached[0] is text else self.detector.find(text)
        self._found = None
        time = None
        level: str | None = None
        host = None
        service = self.service
        body = text
        tags = True
        if found is not None:
            time = found.time
            if found.format == "klog":
                level = _KLOG_LEVELS.get(text.lstrip("[")[0])
            body = text[found.end:].lstrip()
            if found.start > 0:  # "10.0.0.1 - - [24/Nov/2026:02:17:33 +0000] GET ...": keep the prefix
                body = f"{text[:found.start].rstrip()} {body}".strip()
            if body.startswith("{"):  # kubectl --timestamps in front of a JSON line
                record = self._parse_json(body, line, line_no)
                if record is not None:
                    record.time = record.time or time
                    record.pod = record.pod or pod
                    return record
            if found.format == "syslog" or (found.format == "iso8601" and _JOURNAL_ISO.match(
                    text, found.start, found.end)):
                sm = _SYSLOG_HOST.match(body)
                if sm is not None:
                    host, service = sm.group(1), sm.group(2)
                    body = body[sm.end():]
            body = strip_zone_word(body)
            server = strip_server_header(body)
            if server is not None:  # PostgreSQL "[pid] user@db LEVEL:", MySQL "thread [Level] [code] [sub]"
                level, body = server
                tags = False  # "connection received: host=10.0.3.7" names the client, not who logged it
            if found.format == "apache" and level is None:  # access log: the status says how it went
                status = _ACCESS_STATUS.search(body)
                if status is not None:
                    code = status.group(1)[0]
                    level = "error" if code == "5" else "warning" if code == "4" else "info"
        level = level or pri_level
        if level is None:
            level, start, end = _find_level(body)
            if start >= 0 and start < 24:  # "ERROR [pool-1] ..." / "148 INFO dfs..." : drop the level token
                body = (body[:start] + body[end:]).strip() if start == 0 else body[end:].lstrip()
        if tags and "=" in body:
            kept: list[str] = []
            cut = 0
            while (m := _search_word(_KV_TAG_RE, body, cut)) is not None:
                key, value = m.group(1), m.group(2)
                if key in ("host", "hostname", "node") and host is None:
                    host = value
                elif key == "pod" and pod is None:
                    pod = value
                elif key in ("service", "svc", "app"):
                    service = value
                kept.append(body[cut:m.start()])
                cut = m.end()
            if kept:  # tags are header fields, not message
                kept.append(body[cut:])
                body = _SPACES.sub(" ", "".join(kept)).strip()
        return LogRecord(self.path, line_no, time, level, host, pod, service, body, line, line_no,
                         container=container)

    def _parse_rfc5424(self, m: re.Match[str], line: str, line_no: int) -> LogRecord:
        """``<PRI>1 TIMESTAMP HOST APP PROCID MSGID [SD] MSG``; ``-`` is a nil field."""
        pri, stamp, host, app, _procid, _msgid, _sd, message = m.groups()
        time = self.detector.parse_value(stamp) if stamp != "-" else None
        content = (message or "").removeprefix("\ufeff")
        return LogRecord(self.path, line_no, time, _SYSLOG_SEVERITY[int(pri) % 8], None if host == "-" else host,
                         None, self.service if app == "-" else app, content, line, line_no)

    def _parse_json(self, text: str, line: str, line_no: int) -> LogRecord | None:
        try:
            obj = _load_json(text)
        except ValueError:
            return None
        if not isinstance(obj, dict):
            return None
        return self._record_from_object(obj, line, line_no)

    def _record_from_object(self, obj: dict[str, Any], line: str, line_no: int) -> LogRecord:
        """One JSON log object (nested fields too), or a Kubernetes event object."""
        if is_event(obj):
            return self._event_record(event_from_object(obj, self.detector.parse_value), line, line_no)
        time = self.detector.parse_value(fields.lookup(obj, fields.TIME))
        if time is not None:
            self.detector.format = "json"
        message = fields.scalar(fields.lookup(obj, fields.MESSAGE)) or ""
        message = message.rstrip("\n")
        journald = "__REALTIME_TIMESTAMP" in obj or "__CURSOR" in obj
        if journald:  # journalctl -o json: PRIORITY is a syslog severity; the other fields are metadata
            priority = str(obj.get("PRIORITY"))
            level = _SYSLOG_SEVERITY[int(priority) % 8] if priority.isdigit() else None
        else:
            level = _normalize_level(fields.lookup(obj, fields.LEVEL))
        if level is None and message:
            level = _find_level(message)[0]
        extras = [] if journald else fields.extras(obj)
        content = " ".join([message, *extras]).strip() if extras else message
        return LogRecord(
            self.path, line_no, time, level,
            fields.scalar(fields.lookup(obj, fields.HOST)), fields.scalar(fields.lookup(obj, fields.POD)),
            fields.scalar(fields.lookup(obj, fields.SERVICE)) or self.service, content or line, line, line_no,
            container=fields.scalar(fields.lookup(obj, fields.CONTAINER)))

    def _event_record(self, event: KubeEvent, line: str, line_no: int) -> LogRecord:
        if event.first is not None:
            self.detector.format = self.detector.format or "kubernetes-event"
        kind, _, name = event.object.partition("/")
        level = "warning" if event.warning else "info"
        return LogRecord(self.path, line_no, event.first, level, event.node, name if kind.lower() == "pod" else None,
                         "kubernetes", event.text, line, line_no, event=event)

    def _parse_logfmt(self, pairs: dict[str, str], line: str, line_no: int) -> LogRecord:
        time = None
        for key in ("time", "ts", "t", "timestamp", "date", "@timestamp"):
            if key in pairs:
                time = self.detector.parse_value(pairs[key])
                if time is not None:
                    break
        level = next((lv for k in ("level", "lvl", "severity") if k in pairs
                      and (lv := _normalize_level(pairs[k])) is not None), None)
        used = {"time", "ts", "t", "timestamp", "date", "@timestamp", "level", "lvl", "severity", "msg", "message"}
        host = next((pairs[k] for k in ("host", "hostname", "node") if pairs.get(k)), None)
        pod = pairs.get("pod") or pairs.get("pod_name") or None
        service = next((pairs[k] for k in ("service", "svc", "app", "component") if pairs.get(k)), None)
        used |= {"host", "hostname", "node", "pod", "pod_name", "service", "svc", "app", "component", "caller"}
        message = pairs.get("msg") or pairs.get("message") or ""
        rest = [f"{k}={v}" for k, v in pairs.items() if k not in used][: fields.MAX_EXTRAS]
        content = " ".join([message, *rest]).strip()
        if time is not None:
            self.detector.format = "logfmt"
        return LogRecord(self.path, line_no, time, level, host, pod, service or self.service, content or line, line,
                         line_no, container=pairs.get("container") or None)

    # --- whole documents: kubectl get events -o json, CloudWatch Logs exports, events tables ---------
    def _document_records(self, text: str) -> Iterator[LogRecord]:
        """Records of a file that is one JSON document (or several concatenated), not JSON lines."""
        decoder = json.JSONDecoder()
        pos = counted = 0
        line_no = 1
        n = len(text)
        surrogates = _SURROGATE_ESCAPE.search(text) is not None
        while True:
            while pos < n and text[pos].isspace():
                pos += 1
            if pos >= n:
                return
            line_no += text.count("\n", counted, pos)  # counted on from the last document: linear in the file
            counted = pos
            try:
                doc, end = decoder.raw_decode(text, pos)
            except json.JSONDecodeError as e:
                self._problem("unreadable", f"not valid JSON from here on: {e.msg}",
                              line=line_no + text.count("\n", pos, e.pos))
                return
            except RecursionError:
                self._problem("unreadable", "JSON nested too deeply to read from here on", line=line_no)
                return
            pos = end
            if surrogates:
                doc = _no_surrogates(doc)
            for obj in self._items(doc):
                if isinstance(obj, dict):
                    yield self._record_from_object(obj, json.dumps(obj)[:2000], line_no)

    def _items(self, doc: Any) -> list[Any]:
        if isinstance(doc, list):
            return doc
        if not isinstance(doc, dict):
            return []
        if isinstance(doc.get("items"), list):  # kubectl: List / EventList
            return doc["items"]
        if isinstance(doc.get("events"), list):  # aws logs filter-log-events / get-log-events
            return [self._cloudwatch(e) for e in doc["events"] if isinstance(e, dict)]
        return [doc]

    def _cloudwatch(self, event: dict[str, Any]) -> dict[str, Any]:
        """A CloudWatch Logs event (``timestamp`` in ms, ``message``, ``logStreamName``) as a log object;
        a message that is itself JSON is read as such."""
        message = str(event.get("message", "")).rstrip("\n")
        obj: dict[str, Any] = {}
        if message.startswith("{"):
            try:
                parsed = _load_json(message)
                if isinstance(parsed, dict):
                    obj = parsed
            except ValueError:
                pass
        if not obj:
            obj = {"message": message}
        if fields.lookup(obj, fields.TIME) is None and "timestamp" in event:
            obj["timestamp"] = event["timestamp"]
        if fields.lookup(obj, fields.SERVICE) is None and event.get("logStreamName"):
            obj["service"] = event["logStreamName"]
        return obj

    def _table_records(self, lines: Iterator[str], columns: list[tuple[str, int]]) -> Iterator[LogRecord]:
        now = self._reference_time()
        self._problem("relative_times", "kubectl get events table: ages (LAST SEEN, FIRST SEEN) were placed "
                      f"against the file's modification time {now:%Y-%m-%d %H:%M:%S} UTC, which is when the "
                      "output was saved, not necessarily when kubectl ran; `kubectl get events -o json` has "
                      "exact times", line=1)
        self.detector.format = "kubernetes-events-table"
        for line_no, line in enumerate(lines, start=2):
            if not line.strip():
                continue
            event = event_from_row(line, columns, now)
            if event is None:
                continue
            yield self._event_record(event, line, line_no)

    def _reference_time(self) -> datetime:
        try:
            return datetime.fromtimestamp(Path(self.fs_path).stat().st_mtime, tz=UTC)
        except OSError:
            return datetime.now(tz=UTC)


def read_records(paths: list[str | Path], *, since: datetime | None = None,
                 until: datetime | None = None) -> Iterator[tuple[LogSource, LogRecord]]:
    """Records of several files, file by file, each tagged with its source."""
    for path in paths:
        source = LogSource(path, since=since, until=until)
        for record in source:
            yield source, record
