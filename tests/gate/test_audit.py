"""The audit chain: appends link up, and verify names the first tampered record and how."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import pytest

from infraleash.errors import InputError
from infraleash.gate.approvals import ApprovalStore
from infraleash.gate.audit import GENESIS_HASH, AuditLog, HeadFile, record_hash


def _log(tmp_path: Path, n: int = 5, *, with_db: bool = True) -> AuditLog:
    anchors = [HeadFile(tmp_path / "audit.jsonl.head")]
    if with_db:
        anchors.append(ApprovalStore(tmp_path / "approvals.db"))
    log = AuditLog(tmp_path / "audit.jsonl", anchors)
    for i in range(n):
        log.append("decision", f"agent-{i % 2}", {"argv": ["terraform", "plan"], "verdict": "allow", "i": i})
    return log


def _lines(log: AuditLog) -> list[str]:
    return log.path.read_text().splitlines()


def _write(log: AuditLog, lines: list[str]) -> None:
    log.path.write_text("".join(line + "\n" for line in lines))


def _rehash(line: str, **changes: object) -> str:
    rec = json.loads(line)
    rec.update(changes)
    rec.pop("hash")
    rec["hash"] = record_hash(rec)
    return json.dumps(rec)


def test_appends_form_a_chain_and_verify_passes(tmp_path: Path) -> None:
    log = _log(tmp_path)
    recs = list(log.records())
    assert [r.seq for r in recs] == [1, 2, 3, 4, 5]
    assert recs[0].prev_hash == GENESIS_HASH
    assert all(b.prev_hash == a.hash for a, b in zip(recs, recs[1:], strict=False))
    assert all(r.computed_hash() == r.hash for r in recs)
    report = log.verify()
    assert report.ok and report.records == 5 and report.head_seq == 5
    assert len(report.anchors_checked) == 2


def test_empty_log_verifies(tmp_path: Path) -> None:
    assert AuditLog(tmp_path / "none.jsonl").verify().ok


def test_edited_record_is_named(tmp_path: Path) -> None:
    log = _log(tmp_path)
    lines = _lines(log)
    lines[2] = lines[2].replace('"verdict":"allow"', '"verdict":"deny"')
    _write(log, lines)
    report = log.verify()
    assert not report.ok and report.problem is not None
    assert report.problem.kind == "edited" and report.problem.seq == 3 and report.problem.line == 3
    assert "seq 3" in report.problem.message


def test_edited_record_with_recomputed_hash_is_caught_by_the_next_one(tmp_path: Path) -> None:
    log = _log(tmp_path)
    lines = _lines(log)
    lines[1] = _rehash(lines[1], actor="someone-else")
    _write(log, lines)
    problem = log.verify().problem
    assert problem is not None and problem.kind == "edited" and problem.seq == 2
    assert "record seq 2 was edited or replaced" in problem.message


def test_deleted_record_is_named(tmp_path: Path) -> None:
    log = _log(tmp_path)
    lines = _lines(log)
    del lines[2]
    _write(log, lines)
    problem = log.verify().problem
    assert problem is not None and problem.kind == "deleted" and problem.seq == 3
    assert "seq 3 deleted" in problem.message


def test_deleted_first_record_is_named(tmp_path: Path) -> None:
    log = _log(tmp_path)
    _write(log, _lines(log)[1:])
    problem = log.verify().problem
    assert problem is not None and problem.kind == "deleted" and problem.seq == 1


def test_reordered_records_are_named(tmp_path: Path) -> None:
    log = _log(tmp_path)
    lines = _lines(log)
    lines[1], lines[3] = lines[3], lines[1]
    _write(log, lines)
    problem = log.verify().problem
    assert problem is not None and problem.kind == "reordered"
    assert problem.line == 2 and "expected seq 2" in problem.message


def test_deleted_newest_record_is_caught_by_the_anchor(tmp_path: Path) -> None:
    log = _log(tmp_path)
    _write(log, _lines(log)[:-1])
    problem = log.verify().problem
    assert problem is not None and problem.kind == "truncated" and problem.seq == 5
    assert "newest record seq 5 deleted" in problem.message


def test_rewritten_newest_record_is_caught_by_the_anchor(tmp_path: Path) -> None:
    log = _log(tmp_path)
    lines = _lines(log)
    lines[-1] = _rehash(lines[-1], data={"argv": ["terraform", "plan"], "verdict": "allow", "i": 99})
    _write(log, lines)
    problem = log.verify().problem
    assert problem is not None and problem.kind == "rewritten" and problem.seq == 5


def test_database_anchor_survives_a_consistent_rewrite_of_log_and_head_file(tmp_path: Path) -> None:
    log = _log(tmp_path)
    lines = _lines(log)[:-2]
    _write(log, lines)
    last = json.loads(lines[-1])
    HeadFile(tmp_path / "audit.jsonl.head").write_head(log.path, last["seq"], last["hash"])
    problem = log.verify().problem
    assert problem is not None and problem.kind == "truncated"
    assert "approvals database" in problem.message and "seq 4..5" in problem.message


def test_records_appended_behind_infraleash_are_flagged(tmp_path: Path) -> None:
    log = _log(tmp_path, with_db=False)
    outsider = AuditLog(log.path, anchors=[HeadFile(tmp_path / "elsewhere.head")])
    outsider.append("decision", "intruder", {"verdict": "allow"})
    problem = log.verify().problem
    assert problem is not None and problem.kind == "unanchored" and problem.seq == 6


def test_deleted_head_file_without_other_anchor_is_flagged(tmp_path: Path) -> None:
    log = _log(tmp_path, n=2, with_db=False)
    (tmp_path / "audit.jsonl.head").unlink()
    problem = log.verify().problem
    assert problem is not None and problem.kind == "unanchored"


def test_malformed_line_is_named(tmp_path: Path) -> None:
    log = _log(tmp_path, n=3)
    lines = _lines(log)
    lines.insert(1, "{not json")
    _write(log, lines)
    problem = log.verify().problem
    assert problem is not None and problem.kind == "malformed" and problem.line == 2


def _append_many(path: str, who: str, n: int) -> None:
    log = AuditLog(Path(path))
    for i in range(n):
        log.append("decision", who, {"i": i})


def test_concurrent_appends_do_not_fork_the_chain(tmp_path: Path) -> None:
    path = str(tmp_path / "audit.jsonl")
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_append_many, args=(path, f"agent-{k}", 25)) for k in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
        assert p.exitcode == 0
    log = AuditLog(Path(path))
    report = log.verify()
    assert report.ok, report.problem
    assert report.records == 100
    assert sorted(r.seq for r in log.records()) == list(range(1, 101))


@pytest.mark.parametrize("kind", ["edited", "deleted", "reordered"])
def test_verify_reports_first_problem_only(tmp_path: Path, kind: str) -> None:
    log = _log(tmp_path, n=8)
    lines = _lines(log)
    if kind == "edited":
        lines[5] = lines[5].replace('"i":5', '"i":50')
        lines[2] = lines[2].replace('"i":2', '"i":20')
        first = 3
    elif kind == "deleted":
        del lines[6]
        del lines[3]
        first = 4
    else:
        lines[2], lines[4] = lines[4], lines[2]
        first = 5  # line 3 now holds seq 5
    _write(log, lines)
    problem = log.verify().problem
    assert problem is not None and problem.kind == kind
    assert problem.seq == first


def test_a_line_that_is_not_utf8_is_malformed_not_a_crash(tmp_path: Path) -> None:
    log = _log(tmp_path, n=2)
    with log.path.open("ab") as f:
        f.write(b"\xff\xfe binary junk\n")
    problem = log.verify().problem
    assert problem is not None and problem.kind == "malformed" and problem.line == 3
    with pytest.raises(InputError, match=":3: not an audit record"):
        list(log.records())


def test_a_log_deleted_with_its_head_file_is_caught_by_the_database_anchor(tmp_path: Path) -> None:
    log = _log(tmp_path, n=3)
    log.path.unlink()
    log.path.with_name(log.path.name + ".head").unlink()
    problem = log.verify().problem
    assert problem is not None and problem.kind == "truncated" and "seq 1..3" in problem.message


# --------------------------------------------------------------------------- hostile state


def _bytes(log: AuditLog) -> bytes:
    return log.path.read_bytes()


@pytest.mark.parametrize("damage", ["binary", "cut_mid_record", "truncated_at_a_record", "newest_rewritten"])
def test_appending_to_a_damaged_log_is_refused_and_nothing_is_lost(tmp_path: Path, damage: str) -> None:
    from infraleash.gate.audit import GateStateCorrupt

    log = _log(tmp_path)
    lines = _lines(log)
    if damage == "binary":
        log.path.write_bytes(b"\x00\xff\xfe SQLite format 3\x00" + bytes(range(256)))
    elif damage == "cut_mid_record":
        log.path.write_bytes(_bytes(log)[:-40])
    elif damage == "truncated_at_a_record":
        _write(log, lines[:3])
    else:
        _write(log, [*lines[:-1], _rehash(lines[-1], actor="someone-else")])
    before = _bytes(log)
    assert log.problem() is not None
    with pytest.raises(GateStateCorrupt) as exc:
        log.append("decision", "agent", {"argv": ["terraform", "plan"]})
    assert str(log.path) in str(exc.value)
    assert _bytes(log) == before  # never truncated, rewritten or appended to
    report = log.verify()
    assert not report.ok and report.problem is not None and report.problem.kind != "unreadable"


def test_cut_mid_record_is_reported_as_truncated(tmp_path: Path) -> None:
    log = _log(tmp_path)
    log.path.write_bytes(_bytes(log)[:-40])
    problem = log.verify().problem
    assert problem is not None and problem.kind == "truncated" and problem.line == 5


@pytest.mark.parametrize("kind", ["directory", "symlink_loop", "fifo"])
def test_a_log_that_cannot_be_read_is_unreadable_not_a_crash(tmp_path: Path, kind: str) -> None:
    import os

    from infraleash.gate.audit import GateStateCorrupt

    log = AuditLog(tmp_path / "audit.jsonl", [HeadFile(tmp_path / "audit.jsonl.head")])
    if kind == "directory":
        log.path.mkdir()
    elif kind == "symlink_loop":
        log.path.symlink_to(log.path)
    else:
        os.mkfifo(log.path)  # opening it for reading would block forever: it must never be opened
    report = log.verify()
    assert not report.ok and report.problem is not None and report.problem.kind == "unreadable"
    assert log.problem() is not None
    with pytest.raises(GateStateCorrupt, match="audit.jsonl"):
        log.append("decision", "agent", {})
    with pytest.raises(InputError, match="audit.jsonl"):
        list(log.records())


def test_a_corrupt_database_anchor_is_named_by_verify(tmp_path: Path) -> None:
    log = _log(tmp_path)
    (tmp_path / "approvals.db").write_bytes(b"not a database at all\n" * 100)
    report = AuditLog(log.path, [HeadFile(tmp_path / "audit.jsonl.head"), ApprovalStore(tmp_path / "approvals.db")]
                      ).verify()
    assert not report.ok and report.problem is not None and "approvals.db" in report.problem.message


def test_damage_after_a_sound_check_is_still_seen(tmp_path: Path) -> None:
    """The soundness check is cached by file signature; any other writer changes the signature (ctime)."""
    import os

    log = _log(tmp_path)
    assert log.problem() is None
    data = log.path.read_bytes()
    st = os.stat(log.path)
    log.path.write_bytes(data[:-10] + b"\x00" * 10)  # same size, same mtime put back
    os.utime(log.path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert log.problem() is not None
    db = tmp_path / "approvals.db"
    store = ApprovalStore(db)
    assert store.problem() is None
    db.write_bytes(b"\x00" * db.stat().st_size)
    assert store.problem() is not None
