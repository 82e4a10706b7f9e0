"""The audit log: append-only JSONL with a hash chain and an anchored head.

Every gate decision, approval and execution becomes one line::

    {"seq": 7, "time": "2026-11-03T10:12:44.120Z", "actor": "ci-agent", "event": "decision",
     "data": {...}, "prev_hash": "<hash of record 6>", "hash": "<sha256 of this record>"}

``hash`` is the SHA-256 of the record's canonical JSON (sorted keys, no
whitespace, without the ``hash`` key), so a record cannot be edited without
breaking its own hash, and cannot be replaced, removed or moved without
breaking the next record's ``prev_hash`` or the ``seq`` sequence.

A chain alone cannot see its *newest* record being deleted or rewritten.  So
after every append the head (``seq``, ``hash``) is also written to anchors
kept outside the log: a head file (``audit.anchor`` in the policy, default
``<log>.head``) and, when the executor has one, the approvals database.
:meth:`AuditLog.verify` checks the log against every anchor.  What is *not*
covered: someone who can rewrite the log *and* every anchor consistently
(for that, ship the head to a store the agent host cannot write).

Appends hold an exclusive ``fcntl`` lock on the log, so concurrent agents never
interleave or fork the chain.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, ValidationError

from infraleash.errors import InputError
from infraleash.policy import Policy

GENESIS_HASH = "0" * 64


class AuditRecord(BaseModel):
    seq: int
    time: str
    actor: str
    event: str
    data: dict[str, Any]
    prev_hash: str
    hash: str

    def body(self) -> dict[str, Any]:
        return self.model_dump(exclude={"hash"})

    def computed_hash(self) -> str:
        return record_hash(self.body())

    @property
    def timestamp(self) -> datetime:
        return datetime.fromisoformat(self.time.replace("Z", "+00:00"))


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def record_hash(body: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()


def utc_now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


# ----------------------------------------------------------------------- anchors


class HeadAnchor(Protocol):
    """Somewhere outside the log that remembers the chain head."""

    name: str

    def write_head(self, log: Path, seq: int, hash_: str) -> None: ...

    def read_head(self, log: Path) -> tuple[int, str] | None: ...


class HeadFile:
    """The chain head as a small JSON file, replaced atomically on each append."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = f"head file {path}"

    def write_head(self, log: Path, seq: int, hash_: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"log": str(log), "seq": seq, "hash": hash_}) + "\n", encoding="utf-8")
        os.replace(tmp, self.path)

    def read_head(self, log: Path) -> tuple[int, str] | None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return int(data["seq"]), str(data["hash"])
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, TypeError):
            return (-1, "unreadable")


# ----------------------------------------------------------------------- verification


@dataclass(frozen=True)
class AuditProblem:
    """The first thing wrong with a log."""

    kind: str  # edited | deleted | reordered | malformed | truncated | rewritten | unanchored
    seq: int | None
    line: int | None
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class VerifyReport:
    ok: bool
    records: int
    head_seq: int
    head_hash: str
    problem: AuditProblem | None = None
    anchors_checked: tuple[str, ...] = ()


# ----------------------------------------------------------------------- the log


class AuditLog:
    """Append, read and verify a hash-chained JSONL audit log."""

    def __init__(self, path: str | Path, anchors: list[HeadAnchor] | None = None) -> None:
        self.path = Path(path)
        self.anchors: list[HeadAnchor] = list(anchors) if anchors is not None else [
            HeadFile(self.path.with_name(self.path.name + ".head"))]

    @classmethod
    def from_policy(cls, policy: Policy, extra_anchors: list[HeadAnchor] | None = None) -> AuditLog:
        path = policy.resolve_path(policy.audit.path)
        head = policy.resolve_path(policy.audit.anchor) if policy.audit.anchor else \
            path.with_name(path.name + ".head")
        return cls(path, [HeadFile(head), *(extra_anchors or [])])

    def add_anchor(self, anchor: HeadAnchor) -> None:
        self.anchors.append(anchor)

    # -- writing

    def append(self, event: str, actor: str, data: dict[str, Any]) -> AuditRecord:
        """Append one record under an exclusive lock and move every anchor to it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o640)
        with os.fdopen(fd, "r+b") as f:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX)
            try:
                last = _last_line(f)
                if last is None:
                    seq, prev = 1, GENESIS_HASH
                else:
                    try:
                        tail = json.loads(last)
                        seq, prev = int(tail["seq"]) + 1, str(tail["hash"])
                    except (ValueError, KeyError, TypeError):
                        raise InputError("the last record is not valid JSON; run `infraleash audit verify`",
                                         file=str(self.path)) from None
                body = {"seq": seq, "time": utc_now_iso(), "actor": actor, "event": event,
                        "data": json.loads(canonical_json(data)), "prev_hash": prev}
                record = AuditRecord(**body, hash=record_hash(body))
                f.write((canonical_json(record.model_dump()) + "\n").encode("utf-8"))
                f.flush()
                os.fsync(f.fileno())
                for anchor in self.anchors:
                    anchor.write_head(self.path, record.seq, record.hash)
            finally:
                fcntl.flock(f.fileno(), fcntl.LOCK_UN)
        return record

    # -- reading

    def records(self) -> Iterator[AuditRecord]:
        """Every well-formed record in file order (malformed lines raise InputError)."""
        for lineno, raw in self._lines():
            try:
                yield AuditRecord.model_validate_json(raw)
            except ValidationError:
                raise InputError("not an audit record; run `infraleash audit verify`",
                                 file=str(self.path), line=lineno) from None

    def _lines(self) -> Iterator[tuple[int, str]]:
        """Non-blank lines; a line that is not UTF-8 comes back as "" (not a record) so it is reported."""
        try:
            with self.path.open("rb") as f:
                for lineno, raw in enumerate(f, start=1):
                    if raw.strip():
                        try:
                            yield lineno, raw.decode("utf-8")
                        except UnicodeDecodeError:
                            yield lineno, ""
        except FileNotFoundError:
            return

    def verify(self) -> VerifyReport:
        """Walk the chain; report the first edited, deleted, reordered or rewritten record."""
        lines = list(self._lines())
        parsed: list[tuple[int, AuditRecord]] = []
        for lineno, raw in lines:
            try:
                parsed.append((lineno, AuditRecord.model_validate_json(raw)))
            except ValidationError:
                return self._bad(len(parsed), AuditProblem(
                    "malformed", None, lineno, f"line {lineno} is not an audit record (edited by hand?)"))
        seqs_present = {r.seq for _, r in parsed}
        expected_seq, prev = 1, GENESIS_HASH
        for lineno, rec in parsed:
            where = f"record seq {rec.seq} (line {lineno})"
            if rec.seq != expected_seq:
                if rec.seq < expected_seq or expected_seq in seqs_present:
                    return self._bad(len(parsed), AuditProblem(
                        "reordered", rec.seq, lineno,
                        f"{where} is out of order: expected seq {expected_seq} here (records reordered)"))
                missing = f"seq {expected_seq}" if rec.seq == expected_seq + 1 else \
                    f"seq {expected_seq}..{rec.seq - 1}"
                return self._bad(len(parsed), AuditProblem(
                    "deleted", expected_seq, lineno, f"record {missing} deleted: line {lineno} jumps to seq {rec.seq}"))
            if rec.computed_hash() != rec.hash:
                return self._bad(len(parsed), AuditProblem(
                    "edited", rec.seq, lineno, f"{where} was edited: its content no longer matches its hash"))
            if rec.prev_hash != prev:
                return self._bad(len(parsed), AuditProblem(
                    "edited", rec.seq - 1, lineno,
                    f"record seq {rec.seq - 1} was edited or replaced: {where} recorded a different hash for it"))
            expected_seq, prev = rec.seq + 1, rec.hash
        head_seq = expected_seq - 1
        checked: list[str] = []
        for anchor in self.anchors:
            head = anchor.read_head(self.path)
            if head is None:
                continue
            checked.append(anchor.name)
            a_seq, a_hash = head
            if a_seq < 0:
                return self._bad(len(parsed), AuditProblem(
                    "rewritten", None, None, f"{anchor.name} is unreadable (tampered?)"), head_seq, prev)
            if a_seq > head_seq:
                missing = f"seq {a_seq}" if a_seq == head_seq + 1 else f"seq {head_seq + 1}..{a_seq}"
                return self._bad(len(parsed), AuditProblem(
                    "truncated", head_seq + 1, None,
                    f"newest record {missing} deleted: the log ends at seq {head_seq} "
                    f"but {anchor.name} says the head is seq {a_seq}"), head_seq, prev)
            if a_seq < head_seq:
                return self._bad(len(parsed), AuditProblem(
                    "unanchored", a_seq + 1, None,
                    f"records after seq {a_seq} were not written by infraleash "
                    f"({anchor.name} says the head is seq {a_seq}, the log has {head_seq})"), head_seq, prev)
            if a_hash != prev:
                return self._bad(len(parsed), AuditProblem(
                    "rewritten", head_seq, None,
                    f"newest record seq {head_seq} was rewritten: its hash differs from {anchor.name}"),
                    head_seq, prev)
        if head_seq > 0 and self.anchors and not checked:
            return self._bad(len(parsed), AuditProblem(
                "unanchored", None, None,
                f"no anchor records the chain head ({', '.join(a.name for a in self.anchors)} missing): "
                "the newest records cannot be checked"), head_seq, prev)
        return VerifyReport(True, len(parsed), head_seq, prev, None, tuple(checked))

    def _bad(self, n: int, problem: AuditProblem, head_seq: int = -1, head_hash: str = "") -> VerifyReport:
        return VerifyReport(False, n, head_seq, head_hash, problem)


def _last_line(f: Any) -> str | None:
    """The last non-empty line of a binary file opened for reading, or None."""
    f.seek(0, os.SEEK_END)
    end = f.tell()
    if end == 0:
        return None
    block = 4096
    data = b""
    pos = end
    while pos > 0:
        step = min(block, pos)
        pos -= step
        f.seek(pos)
        data = f.read(step) + data
        stripped = data.rstrip(b"\n")
        if b"\n" in stripped:
            return stripped.rsplit(b"\n", 1)[1].decode("utf-8")
    stripped = data.rstrip(b"\n")
    return stripped.decode("utf-8") if stripped else None
