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

Hostile state.  The log is only ever opened for append: a log that is not a
regular file (a directory, a FIFO), unreadable, cut short mid-record, ends in a
line that is not a record (binary data), or is shorter than or different from
what an anchor remembers is never written to, truncated or "repaired":
:meth:`AuditLog.problem` says what is wrong, :meth:`AuditLog.append` raises
:class:`GateStateCorrupt` (the gate then refuses every action with
GATE-STATE-CORRUPT) and :meth:`AuditLog.verify` reports it (kind
``unreadable`` for a log that cannot be read: ``audit verify`` exits 2; every
other kind is tampering, exit 1).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, ValidationError

from infraleash.errors import InputError
from infraleash.policy import Policy

GENESIS_HASH = "0" * 64


class GateStateCorrupt(InputError):
    """The gate's own state (audit log, approvals database) cannot be trusted or used: every action is refused."""


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
        except (OSError, ValueError, KeyError, TypeError):
            return (-1, "unreadable")


# ----------------------------------------------------------------------- verification


@dataclass(frozen=True)
class AuditProblem:
    """The first thing wrong with a log."""

    kind: str  # edited | deleted | reordered | malformed | truncated | rewritten | unanchored | unreadable
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
        self._sound: tuple[Any, ...] | None = None  # file signatures last found (or left) sound by this process

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
        """Append one record under an exclusive lock and move every anchor to it.

        Refused (:class:`GateStateCorrupt`, nothing written) when :meth:`problem` finds the log unusable.
        """
        f = self._open_for_append()
        with f:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX)
            try:
                head = self._tail(f)
                if isinstance(head, str):
                    raise GateStateCorrupt(f"{head}; run `infraleash audit verify`", file=str(self.path))
                seq, prev = (head[0] + 1, head[1]) if head else (1, GENESIS_HASH)
                body = {"seq": seq, "time": utc_now_iso(), "actor": actor, "event": event,
                        "data": json.loads(canonical_json(data)), "prev_hash": prev}
                record = AuditRecord(**body, hash=record_hash(body))
                f.write((canonical_json(record.model_dump()) + "\n").encode("utf-8"))
                f.flush()
                os.fsync(f.fileno())
                for anchor in self.anchors:
                    anchor.write_head(self.path, record.seq, record.hash)
                self._sound = self._signature()  # what this process just wrote is sound
            finally:
                fcntl.flock(f.fileno(), fcntl.LOCK_UN)
        return record

    def _open_for_append(self) -> Any:
        problem = self._file_problem()
        if problem:
            raise GateStateCorrupt(problem, file=str(self.path))
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW | os.O_NONBLOCK, 0o640)
        except OSError as e:
            raise GateStateCorrupt(f"cannot open the audit log for appending: {e.strerror or e}",
                                   file=str(self.path)) from None
        f = os.fdopen(fd, "r+b")
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            f.close()
            raise GateStateCorrupt("the audit log is not a regular file", file=str(self.path))
        return f

    def _file_problem(self) -> str | None:
        """What makes the path itself unusable (a directory, a FIFO, a symlink loop, ...), or None."""
        try:
            st = os.lstat(self.path)
        except FileNotFoundError:
            return None
        except OSError as e:
            return f"the audit log cannot be read: {e.strerror or e}"
        if stat.S_ISDIR(st.st_mode):
            return "the audit log is a directory, not a file"
        if stat.S_ISLNK(st.st_mode):
            return "the audit log is a symbolic link (the gate writes only a regular file)"
        if not stat.S_ISREG(st.st_mode):
            return "the audit log is not a regular file"
        return None

    def _tail(self, f: Any) -> tuple[int, str] | str | None:
        """(seq, hash) of the last record, None for an empty log, or what is wrong with the log's end.

        Also compared with every anchor: a log shorter than an anchor remembers was truncated; the same
        seq with another hash was rewritten.
        """
        try:
            f.seek(0, os.SEEK_END)
            if f.tell() > 0:
                f.seek(-1, os.SEEK_END)
                if f.read(1) != b"\n":
                    return "the audit log's last record is cut short (truncated mid-record, or not written by infraleash)"
            last = _last_line(f)
        except OSError as e:
            return f"the audit log cannot be read: {e.strerror or e}"
        except UnicodeDecodeError:
            return "the audit log's last line is not text (binary data written over it?)"
        head: tuple[int, str] | None = None
        if last is not None:
            try:
                tail = json.loads(last)
                head = int(tail["seq"]), str(tail["hash"])
            except (ValueError, KeyError, TypeError):
                return "the audit log's last line is not an audit record (binary data or a hand edit?)"
        seq = head[0] if head else 0
        for anchor in self.anchors:
            try:
                remembered = anchor.read_head(self.path)
            except GateStateCorrupt as e:
                return str(e)
            if remembered is None:
                continue
            if remembered[0] < 0:
                return f"{anchor.name} is unreadable (tampered?)"
            if remembered[0] > seq:
                return f"the audit log ends at seq {seq} but {anchor.name} says the head is seq {remembered[0]} (truncated)"
            if head and remembered[0] == seq and remembered[1] != head[1]:
                return f"the newest record seq {seq} differs from the one {anchor.name} remembers (rewritten)"
        return head

    def problem(self) -> str | None:
        """Why this log cannot be appended to, or None; the gate checks it before every action.

        Answered from a cache while the log and every file anchor are exactly as this process last found
        or left them (inode, size, mtime and ctime: any other writer changes ctime), else checked again.
        """
        sig = self._signature()
        if sig is not None and sig == self._sound:
            return None
        trouble = self._file_problem()
        if trouble or not self.path.exists():
            return trouble
        try:
            with open(self.path, "rb") as f:
                head = self._tail(f)
        except OSError as e:
            return f"the audit log cannot be read: {e.strerror or e}"
        if isinstance(head, str):
            return head
        self._sound = sig
        return None

    def _signature(self) -> tuple[Any, ...] | None:
        paths = [self.path, *(p for p in (getattr(a, "path", None) for a in self.anchors) if isinstance(p, Path))]
        try:
            return tuple(_stat_sig(p) for p in paths)
        except OSError:
            return None

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
        """Non-blank lines; a line that is not UTF-8 comes back as "" (not a record) so it is reported.

        A log that cannot be read at all (a directory, unreadable, not a regular file) raises InputError.
        """
        trouble = self._file_problem()
        if trouble and "symbolic link" not in trouble:
            raise InputError(trouble, file=str(self.path))
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
        except OSError as e:
            raise InputError(f"the audit log cannot be read: {e.strerror or e}", file=str(self.path)) from None

    def verify(self) -> VerifyReport:
        """Walk the chain; report the first edited, deleted, reordered or rewritten record."""
        try:
            lines = list(self._lines())
        except InputError as e:
            return self._bad(0, AuditProblem("unreadable", None, None, str(e).removeprefix(f"{self.path}: ")))
        if lines and not self._ends_with_newline():
            last = lines[-1][0]
            try:
                AuditRecord.model_validate_json(lines[-1][1])
            except ValidationError:
                return self._bad(len(lines) - 1, AuditProblem(
                    "truncated", None, last, f"line {last}, the last record, is cut short (the log was truncated "
                    "mid-record)"))
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
            try:
                head = anchor.read_head(self.path)
            except GateStateCorrupt as e:
                return self._bad(len(parsed), AuditProblem("unreadable", None, None, f"anchor: {e}"), head_seq, prev)
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

    def _ends_with_newline(self) -> bool:
        with self.path.open("rb") as f:
            f.seek(-1, os.SEEK_END)
            return f.read(1) == b"\n"

    def _bad(self, n: int, problem: AuditProblem, head_seq: int = -1, head_hash: str = "") -> VerifyReport:
        return VerifyReport(False, n, head_seq, head_hash, problem)


def _stat_sig(path: Path) -> tuple[int, int, int, int] | None:
    """(inode, size, mtime, ctime) of a file, None when it does not exist."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


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
