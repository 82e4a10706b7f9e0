"""Tool output compaction: a big result shrinks to a token budget, and the model is told what was dropped.

    store = OutputStore(run_dir / "outputs")
    c = compact(text, budget=4000, counter=counter_for("gpt-4.1"), ref=store.put(text))
    c.text        # what the model sees; ends with what was omitted and how to get it back
    c.omitted     # ["4,992 healthy pods summarised by namespace", "lines 41-49,960"]

How, in order of what the output is:

* **Kubernetes lists** (``kubectl get ... -o json``): each item pruned to
  name/namespace/phase/node/conditions/container statuses (state, reason,
  restartCount, exit code); every *abnormal* item (not Running/Succeeded, a
  container not ready, waiting or restarted, a condition False) is kept with
  all of those fields and its messages; healthy items are summarised with
  counts per namespace and a few names.
* **Other JSON**: ``managedFields`` and ``last-applied-configuration`` dropped,
  long arrays cut to their first items plus a count, long strings shortened.
* **Logs**: lines collapsed to templates with counts (the log miner of
  :mod:`infraleash.logs.miner`), rare templates first, with each template's
  first line number; the first error line is quoted verbatim.
* **Anything else**, and whatever is still over budget: head and tail with
  ``[N lines omitted: lines A-B; call read_output(ref=..., start=A, end=B)]``.

The full output is kept in the run directory (:class:`OutputStore`) so the
``read_output`` tool can return any line range of it later.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infraleash.agent.exceptions import ToolMistake
from infraleash.agent.function_tools import function_tool
from infraleash.agent.guarded import AgentTool
from infraleash.agent.tokens import TokenCounter, content_kind
from infraleash.gate.model import Effect
from infraleash.tools import tool

READ_OUTPUT_MAX_LINES = 400
_ERROR = re.compile(r"\b(ERROR|FATAL|CRITICAL|PANIC|Exception|Traceback|panic:|failed|failure)\b", re.I)
_HEALTHY_PHASES = {"Running", "Succeeded"}


@dataclass
class Compacted:
    text: str
    tokens: int
    full_tokens: int
    omitted: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.omitted)


class OutputStore:
    """Full tool outputs, one file per result: ``<dir>/<ref>.txt``."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory

    def put(self, text: str) -> str:
        self.dir.mkdir(parents=True, exist_ok=True)
        ref = f"out-{sum(1 for _ in self.dir.glob('out-*.txt')) + 1}"
        (self.dir / f"{ref}.txt").write_text(text, encoding="utf-8")
        return ref

    def read_lines(self, ref: str, start: int, end: int) -> str:
        if not re.fullmatch(r"out-\d+", ref):
            raise ToolMistake(f"ref {ref!r}: expected a reference such as out-3, as given in an omission marker")
        path = self.dir / f"{ref}.txt"
        if not path.is_file():
            known = sorted(p.stem for p in self.dir.glob("out-*.txt"))
            raise ToolMistake(f"no stored output {ref!r}; stored: {', '.join(known[-10:]) or 'none'}")
        lines = path.read_text(encoding="utf-8").splitlines()
        first = max(1, start)
        last = min(len(lines), end, first + READ_OUTPUT_MAX_LINES - 1)
        if first > len(lines):
            raise ToolMistake(f"{ref} has {len(lines)} lines; start={start} is past the end")
        body = "\n".join(f"{n:>6}  {lines[n - 1]}" for n in range(first, last + 1))
        more = f"\n[lines {first}-{last} of {len(lines)}; ask for start={last + 1} for more]" if last < min(
            end, len(lines)) or last < len(lines) else ""
        return body + more


def read_output_tool(store: OutputStore) -> AgentTool:
    """``read_output(ref, start, end)``: lines of a stored full output (redacted like every result)."""

    @tool(effect=Effect.READ)
    def read_output(ref: str, start: int, end: int) -> str:
        """Read lines of a tool output that was shortened for the context budget (the omission marker names the ref and lines).

        Args:
            ref: the stored output reference from the marker, e.g. out-3
            start: first line (1-based)
            end: last line, inclusive (at most 400 lines per call)
        """
        return store.read_lines(ref, start, end)

    return function_tool(read_output)


# ------------------------------------------------------------------------------------------------ entry point


def compact(text: str, budget: int, counter: TokenCounter, *, ref: str | None = None) -> Compacted:
    """``text`` within ``budget`` tokens (as counted by ``counter``), saying what was left out."""
    full = counter.count(text)
    if full <= budget:
        return Compacted(text, full, full)
    omitted: list[str] = []
    body = text
    kind = content_kind(text)
    if kind == "json":
        body, omitted = _compact_json(text)
    elif kind == "log" or text.count("\n") > 200:
        body, omitted = _compact_log(text, budget, counter)
    tokens = counter.count(body)
    if tokens > budget:
        body, more = head_tail(body, budget, counter, ref=ref if body is text else None)
        omitted += more
        tokens = counter.count(body)
    marker = _marker(full, tokens, omitted, ref)
    return Compacted(f"{body}\n{marker}", tokens + counter.count(marker), full, omitted)


def _marker(full: int, tokens: int, omitted: list[str], ref: str | None) -> str:
    where = f" The full output is stored as {ref}: call read_output(ref=\"{ref}\", start=A, end=B) for any " \
            "line range." if ref else ""
    return (f"[context budget: this output was {full:,} tokens and is shown in {tokens:,}. Omitted: "
            f"{'; '.join(omitted)}.{where}]")


# ------------------------------------------------------------------------------------------------ head/tail


def head_tail(text: str, budget: int, counter: TokenCounter, *, ref: str | None = None) -> tuple[str, list[str]]:
    """The first and last lines that fit in ``budget`` (2/3 head, 1/3 tail) and one marker between them."""
    lines = text.splitlines()
    reserve = 60  # the marker itself
    head_budget, tail_budget = (budget - reserve) * 2 // 3, (budget - reserve) // 3
    head: list[str] = []
    used = 0
    for line in lines:
        cost = counter.count(line) + 1
        if used + cost > head_budget:
            break
        head.append(line)
        used += cost
    tail: list[str] = []
    used = 0
    for line in reversed(lines[len(head):]):
        cost = counter.count(line) + 1
        if used + cost > tail_budget:
            break
        tail.append(line)
        used += cost
    tail.reverse()
    a, b = len(head) + 1, len(lines) - len(tail)
    if b < a:
        return text, []
    ask = f"; call read_output(ref=\"{ref}\", start={a}, end={b})" if ref else ""
    if not head and not tail:  # a few huge lines: cut characters instead
        chars = max(200, budget * 3)
        return text[:chars] + f"\n[... {len(text) - chars:,} characters omitted{ask} ...]", \
            [f"{len(text) - chars:,} characters after the first {chars:,}"]
    marker = f"[... {b - a + 1:,} lines omitted: lines {a}-{b} of {len(lines)}{ask} ...]"
    return "\n".join([*head, marker, *tail]), [f"lines {a}-{b} of {len(lines)}"]


# ------------------------------------------------------------------------------------------------ JSON


def _compact_json(text: str) -> tuple[str, list[str]]:
    stripped = text.lstrip()
    try:  # a JSON document, possibly followed by the runtime's notes (exit code, truncation)
        value, end = json.JSONDecoder().raw_decode(stripped)
    except ValueError:
        return text, []
    trailer = stripped[end:].strip()
    omitted: list[str] = []
    if isinstance(value, dict) and isinstance(value.get("items"), list) and value["items"] and \
            all(isinstance(i, dict) and "metadata" in i for i in value["items"][:20]):
        pruned = prune_k8s_list(value, omitted)
    else:
        pruned = prune_json(value, omitted)
    return json.dumps(pruned, indent=1, ensure_ascii=False) + (f"\n{trailer}" if trailer else ""), omitted


def prune_json(value: Any, omitted: list[str], path: str = "$", max_items: int = 20, max_str: int = 500) -> Any:
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if k == "managedFields":
                omitted.append(f"{path}.managedFields")
                continue
            if k == "kubectl.kubernetes.io/last-applied-configuration":
                continue
            out[k] = prune_json(v, omitted, f"{path}.{k}", max_items, max_str)
        return out
    if isinstance(value, list):
        kept = [prune_json(v, omitted, f"{path}[{i}]", max_items, max_str) for i, v in enumerate(value[:max_items])]
        if len(value) > max_items:
            omitted.append(f"{len(value) - max_items} of {len(value)} items of {path}")
            kept.append(f"... {len(value) - max_items} more items omitted")
        return kept
    if isinstance(value, str) and len(value) > max_str:
        omitted.append(f"{len(value) - max_str} characters of {path}")
        return value[:max_str] + f"... ({len(value) - max_str} more characters)"
    return value


def _state(state: dict[str, Any] | None) -> dict[str, Any] | None:
    if not state:
        return None
    (name, detail), = list(state.items())[:1] or [("unknown", {})]
    out: dict[str, Any] = {"state": name}
    if isinstance(detail, dict):
        out.update({k: detail[k] for k in ("reason", "message", "exitCode", "signal") if k in detail})
    return out


def prune_item(item: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """The fields that matter when looking at a cluster, and whether the item looks abnormal."""
    meta, status, spec = item.get("metadata") or {}, item.get("status") or {}, item.get("spec") or {}
    out: dict[str, Any] = {"kind": item.get("kind"), "name": meta.get("name"), "namespace": meta.get("namespace")}
    phase = status.get("phase")
    abnormal = phase is not None and phase not in _HEALTHY_PHASES
    if phase:
        out["phase"] = phase
    if spec.get("nodeName"):
        out["node"] = spec["nodeName"]
    for key in ("reason", "message"):
        if status.get(key):
            out[key] = status[key]
    conditions = []
    for c in status.get("conditions") or []:
        bad = c.get("status") == "False" and c.get("type") in ("Ready", "ContainersReady", "Available",
                                                               "PodScheduled", "Initialized")
        bad = bad or (c.get("status") == "True" and c.get("type") in ("MemoryPressure", "DiskPressure",
                                                                     "PIDPressure", "NetworkUnavailable"))
        abnormal = abnormal or bad
        conditions.append({k: c[k] for k in ("type", "status", "reason", "message") if k in c})
    if conditions:
        out["conditions"] = conditions
    containers = []
    for cs in [*(status.get("initContainerStatuses") or []), *(status.get("containerStatuses") or [])]:
        entry: dict[str, Any] = {"name": cs.get("name"), "ready": cs.get("ready"),
                                 "restartCount": cs.get("restartCount", 0), **(_state(cs.get("state")) or {})}
        last = _state(cs.get("lastState"))
        if last:
            entry["lastState"] = last
        waiting_or_failed = entry.get("state") == "waiting" or (
            entry.get("state") == "terminated" and entry.get("exitCode", 0) != 0)
        abnormal = abnormal or waiting_or_failed or bool(entry["restartCount"]) or (
            cs.get("ready") is False and phase != "Succeeded")
        containers.append(entry)
    if containers:
        out["containerStatuses"] = containers
    for key in ("replicas", "readyReplicas", "availableReplicas", "unavailableReplicas"):
        if key in status:
            out[key] = status[key]
    if "unavailableReplicas" in status or status.get("readyReplicas", status.get("replicas")) != status.get(
            "replicas"):
        abnormal = True
    return {k: v for k, v in out.items() if v is not None}, abnormal


def prune_k8s_list(value: dict[str, Any], omitted: list[str], healthy_names: int = 10) -> dict[str, Any]:
    items = value["items"]
    abnormal: list[dict[str, Any]] = []
    healthy: list[dict[str, Any]] = []
    for item in items:
        pruned, bad = prune_item(item)
        (abnormal if bad else healthy).append(pruned)
    by_ns: dict[str, Counter[str]] = defaultdict(Counter)
    for h in healthy:
        by_ns[h.get("namespace") or "-"][h.get("phase") or h.get("kind") or "ok"] += 1
    summary = {
        "total": len(items), "abnormal": len(abnormal), "healthy": len(healthy),
        "healthy_by_namespace": {ns: dict(c) for ns, c in sorted(by_ns.items())},
        "healthy_examples": [f"{h.get('namespace')}/{h.get('name')}" for h in healthy[:healthy_names]],
    }
    if healthy:
        omitted.append(f"{len(healthy):,} healthy items summarised as counts per namespace (only "
                       f"{min(healthy_names, len(healthy))} names shown); each abnormal item is listed in full")
    return {"kind": value.get("kind", "List"), "summary": summary, "abnormal_items": abnormal}


# ------------------------------------------------------------------------------------------------ logs


def _compact_log(text: str, budget: int, counter: TokenCounter) -> tuple[str, list[str]]:
    from infraleash.logs.miner import mine

    lines = text.splitlines()
    matches = mine(lines)
    first_line: dict[int, int] = {}
    counts: Counter[int] = Counter()
    templates: dict[int, str] = {}
    for n, m in enumerate(matches, 1):
        counts[m.template_id] += 1
        first_line.setdefault(m.template_id, n)
        templates[m.template_id] = m.template
    first_error = next(((n, line) for n, line in enumerate(lines, 1) if _ERROR.search(line)), None)
    out = [f"{len(lines):,} log lines collapsed to {len(counts):,} templates (count, first line, template; "
           "<*> marks a variable; rarest first):"]
    if first_error:
        out.insert(0, f"first error line ({first_error[0]}): {first_error[1]}")
    out.insert(0, f"first line (1): {lines[0]}" if lines else "(empty)")
    out.append(f"last line ({len(lines)}): {lines[-1]}" if lines else "")
    footer = out.pop()
    used = counter.count("\n".join(out)) + counter.count(footer) + 80
    order = sorted(counts, key=lambda t: (counts[t], first_line[t]))
    shown = 0
    for tid in order:
        row = f"{counts[tid]:>7,}  line {first_line[tid]:>6}  {templates[tid][:300]}"
        cost = counter.count(row) + 1
        if used + cost > budget:
            break
        out.append(row)
        used += cost
        shown += 1
    omitted = [f"the {len(lines):,} individual lines (shown as templates with counts)"]
    if shown < len(order):
        rest = sum(counts[t] for t in order[shown:])
        out.append(f"[{len(order) - shown:,} more frequent templates not shown, covering {rest:,} lines]")
        omitted.append(f"{len(order) - shown:,} of the most frequent templates ({rest:,} lines)")
    out.append(footer)
    return "\n".join(out), omitted
