"""What the per-action hostile-state check (GATE-STATE-CORRUPT) costs, side by side with what it guards.

Every action through the gate first asks :func:`infraleash.gate.state_health.state_refusal` whether the
audit log and the approvals database are sound, then appends its decision to the audit log.  Arms,
interleaved round by round on the same files:

  append            AuditLog.append alone (fcntl lock, fsync, head file + database anchor): the baseline
  check (cached)    state_refusal when nothing but this process touched the files (the steady state)
  check (full)      state_refusal with the signature cache cleared: log tail, anchors, schema, quick_check
                    (what runs after any other writer touched a file)

    .venv/bin/python bench/gate_state_check.py [--n 200] [--records 2000]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from infraleash.gate.approvals import ApprovalStore
from infraleash.gate.audit import AuditLog, HeadFile
from infraleash.gate.state_health import state_refusal


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200, help="rounds")
    ap.add_argument("--records", type=int, default=2000, help="records in the log before timing")
    args = ap.parse_args()
    d = Path(tempfile.mkdtemp(prefix="bench-state-"))
    store = ApprovalStore(d / "approvals.db")
    log = AuditLog(d / "audit.jsonl", [HeadFile(d / "audit.jsonl.head"), store])
    for i in range(args.records):
        log.append("decision", "agent", {"argv": ["terraform", "plan"], "i": i})
    times: dict[str, list[float]] = {"append": [], "check (cached)": [], "check (full)": []}
    for i in range(args.n):
        t = time.perf_counter()
        log.append("decision", "agent", {"argv": ["terraform", "plan"], "round": i})
        times["append"].append(time.perf_counter() - t)
        t = time.perf_counter()
        assert state_refusal(store, log) is None
        times["check (cached)"].append(time.perf_counter() - t)
        log._sound = None  # noqa: SLF001 - what another writer's change does
        store._sound = None  # noqa: SLF001
        t = time.perf_counter()
        assert state_refusal(store, log) is None
        times["check (full)"].append(time.perf_counter() - t)
    print(f"{args.records} records, {args.n} rounds, interleaved")
    print(f"{'arm':<16} {'median ms':>10} {'p90 ms':>8}")
    for arm, xs in times.items():
        xs.sort()
        print(f"{arm:<16} {statistics.median(xs) * 1000:>10.3f} {xs[int(len(xs) * 0.9)] * 1000:>8.3f}")


if __name__ == "__main__":
    main()
