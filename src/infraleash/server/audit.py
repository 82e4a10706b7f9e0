"""The server's hash-chained audit: every record is written in the transaction of the change it records.

Record N's ``hash`` is the SHA-256 of the canonical JSON (:func:`infraleash.gate.audit.record_hash`) of
``{seq, at, actor, action, request_id, detail, prev_hash}``, ``prev_hash`` being record N-1's hash (64 zeros
for the first).  The one ``chain_head`` row holds the newest seq and hash; appending locks it
(``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite transactions are ``BEGIN IMMEDIATE``), so concurrent
writers on several server processes still make one unbroken chain.  (The Ed25519 signature of the head,
``/audit`` export and ``/audit/head`` are not built yet.)
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from infraleash.gate.audit import canonical_json, record_hash
from infraleash.server.models import AuditRecord, ChainHead

GENESIS = "0" * 64


def record_body(rec: AuditRecord) -> dict[str, Any]:
    return {"seq": rec.seq, "at": rec.at, "actor": rec.actor, "action": rec.action,
            "request_id": rec.request_id, "detail": rec.detail, "prev_hash": rec.prev_hash}


def append(session: Session, actor: str, action: str, request_id: str | None, detail: dict[str, Any]
           ) -> AuditRecord:
    """Add one record to the chain inside the caller's transaction (committed or rolled back with it)."""
    head = session.execute(select(ChainHead).where(ChainHead.id == 1).with_for_update()).scalar_one()
    rec = AuditRecord(seq=head.seq + 1, at=time.time(), actor=actor, action=action, request_id=request_id,
                      detail=json.loads(canonical_json(detail)), prev_hash=head.hash)
    rec.hash = record_hash(record_body(rec))
    session.add(rec)
    head.seq, head.hash = rec.seq, rec.hash
    session.flush()
    return rec


def verify_chain(records: Iterable[AuditRecord]) -> str | None:
    """None when the records form one unbroken chain from the genesis, else what is wrong first."""
    prev, expected_seq = GENESIS, 1
    for rec in records:
        if rec.seq != expected_seq:
            return f"record {expected_seq} missing (found {rec.seq})"
        if rec.prev_hash != prev:
            return f"record {rec.seq}: prev_hash does not match record {rec.seq - 1}"
        if record_hash(record_body(rec)) != rec.hash:
            return f"record {rec.seq}: hash does not match its content"
        prev, expected_seq = rec.hash, expected_seq + 1
    return None


def verify_export(lines: Iterable[dict[str, Any]], head_seq: int, head_hash: str) -> str | None:
    """None when exported records (``/audit`` JSON lines) chain from the genesis up to the given head."""
    prev, expected_seq = GENESIS, 1
    for line in lines:
        seq = line.get("seq")
        if not isinstance(seq, int) or seq > head_seq:
            break
        if seq != expected_seq:
            return f"record {expected_seq} missing (found {seq})"
        body = {k: line.get(k) for k in ("seq", "at", "actor", "action", "request_id", "detail", "prev_hash")}
        if body["prev_hash"] != prev:
            return f"record {seq}: prev_hash does not match record {seq - 1}"
        if record_hash(body) != line.get("hash"):
            return f"record {seq}: hash does not match its content"
        prev, expected_seq = str(line["hash"]), expected_seq + 1
    if expected_seq - 1 != head_seq or prev != head_hash:
        return f"the export ends at record {expected_seq - 1}, the signed head is record {head_seq}"
    return None
