"""``infraleash incident report``: an RCA draft and a customer update from the log analysis' facts.

    facts = IncidentFacts.from_logs(paths, analysis)        # denylist: every host, IP, service, secret seen
    rca = rca_markdown(facts, severity=2)                   # internal: exact times, counts, hypotheses
    update = customer_update(facts, severity=2, now=...)    # public: plain words, no internal names

The customer update is built from times and counts only, then :func:`scrub` enforces it:
every host, IP, service/component name and secret-shaped token that appears anywhere in the
logs is withheld, and so are stack traces and file paths.  The RCA marks root causes as
hypotheses, each with the evidence (time, count, source) it rests on.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from infraleash.logs.analysis import LogAnalysis

NEXT_UPDATE = {1: timedelta(minutes=30), 2: timedelta(hours=1), 3: timedelta(hours=2)}
_IP = re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b")
_NAMEISH = re.compile(r"\b[A-Za-z0-9]+(?:[-_.][A-Za-z0-9]+)+\b")  # checkout-api, db-1.internal, pay_db
_SECRET_SHAPES = [re.compile(p) for p in (
    r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b",
    r"(?i)\b(?:password|passwd|pwd|secret|token|api[_-]?key|aws_secret_access_key|aws_access_key_id)\s*[=:]\s*\S+",
    r"(?i)traceback \(most recent call last\).*",
    r"(?:/[\w.-]+){2,}",
    r"\bFile \"[^\"]+\", line \d+",
)]
_REDACTED_TEMPLATE = re.compile(r"(?i)((?:password|passwd|pwd|secret|token|api[_-]?key|aws_secret_access_key"
                                r"|aws_access_key_id)\s*[=:]\s*)[^\s,;)]+")
WITHHELD = "[withheld]"


def _hhmmss(t: datetime) -> str:
    return t.strftime("%H:%M:%S")


@dataclass
class IncidentFacts:
    analysis: LogAnalysis
    denylist: set[str] = field(default_factory=set)  # every host, IP, service and secret seen in the inputs
    task: str = ""  # the incident run's description, when the facts come from a run
    run_id: str | None = None

    @classmethod
    def from_logs(cls, paths: Sequence[Path], analysis: LogAnalysis, **kw: object) -> IncidentFacts:
        deny: set[str] = set()
        for p in paths:
            try:
                text = p.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            deny |= denylist_of(text)
            deny.add(p.stem)
        for s in analysis.sources:
            deny.add(Path(s.source).stem)
        for t in analysis.templates:
            deny |= set(t.origins)
        return cls(analysis=analysis, denylist={d for d in deny if len(d) >= 3}, **kw)  # type: ignore[arg-type]


def denylist_of(text: str) -> set[str]:
    """Hosts, IPs, dotted/hyphenated component names and secret-shaped values in ``text``."""
    out = set(_IP.findall(text)) | {m.split(":")[0] for m in _IP.findall(text)}
    out |= {m for m in _NAMEISH.findall(text) if any(c.isalpha() for c in m) and not re.fullmatch(
        r"\d{4}-\d{2}-\d{2}T[\d:]+Z?", m)}
    for rx in _SECRET_SHAPES[:2]:
        out |= {m.split("=", 1)[-1].split(":", 1)[-1].strip() for m in rx.findall(text)}
    return {o for o in out if o}


def scrub(text: str, denylist: Iterable[str]) -> str:
    """Withhold every denylisted token and every secret, trace or path shape from ``text``."""
    for rx in _SECRET_SHAPES:
        text = rx.sub(WITHHELD, text)
    for item in sorted(set(denylist), key=len, reverse=True):
        text = re.sub(rf"(?<![\w.-]){re.escape(item)}(?![\w-])", WITHHELD, text, flags=re.IGNORECASE)
    return _IP.sub(WITHHELD, text)


def redact_secrets(text: str) -> str:
    """The RCA is internal (hosts stay) but secrets never appear in it."""
    text = _REDACTED_TEMPLATE.sub(lambda m: m.group(1) + "[REDACTED]", text)
    return _SECRET_SHAPES[0].sub("[REDACTED]", text)


def impact_window(a: LogAnalysis) -> tuple[datetime, datetime] | None:
    if not a.timeline:
        return None
    start = min(e.time for e in a.timeline)
    end = max([b.end for b in a.bursts] or [max(e.time for e in a.timeline)])
    return start, end


def rca_markdown(facts: IncidentFacts, severity: int, prose: str = "") -> str:
    """The RCA draft; ``prose`` (fact-checked model text, already marked as such) goes after the summary."""
    a = facts.analysis
    window = impact_window(a)
    lines = [f"# Incident RCA draft (sev{severity})", "",
             "_Drafted by infraleash from the log analysis; every time and count below is from the logs. "
             "Root causes are hypotheses until a human confirms them._", ""]
    if facts.run_id:
        lines += [f"Incident run: {facts.run_id} ({redact_secrets(facts.task)})", ""]
    errors = sum(b.count for b in a.bursts)
    lines += ["## Summary", ""]
    if window:
        lines.append(f"Between {_hhmmss(window[0])} and {_hhmmss(window[1])} UTC on {window[0]:%Y-%m-%d}, "
                     f"{len(a.bursts)} burst(s) of events ({errors} events) across "
                     f"{len({o for b in a.bursts for o in b.origins})} source(s); {a.records} records analysed "
                     f"({a.window}).")
    else:
        lines.append(f"No anomaly found in {a.records} records ({a.window}).")
    if prose:
        lines += ["", prose.rstrip()]
    lines += ["", "## Impact window", "",
              f"{window[0]:%Y-%m-%d %H:%M:%S} – {window[1]:%H:%M:%S} UTC "
              f"({int((window[1] - window[0]).total_seconds() // 60)} min)" if window else "unknown", "",
              "## Detection", ""]
    first = min(a.timeline, key=lambda e: e.time) if a.timeline else None
    lines.append(f"First signal at {_hhmmss(first.time)} UTC: {', '.join(first.kinds)} "
                 f"({first.count} events) in {', '.join(first.origins) or first.subject}." if first else
                 "No signal found in the logs.")
    lines += ["", "## Timeline (UTC)", "", "| Time | What | Count | Source |", "| ---- | ---- | ----: | ------ |"]
    for e in sorted(a.timeline, key=lambda e: e.time):
        what = redact_secrets(f"{', '.join(e.kinds)}: {e.subject}").replace("|", "\\|")
        lines.append(f"| {_hhmmss(e.time)} | {what} | {e.count} | {', '.join(e.origins)} |")
    lines += ["", "## Ruled out", ""]
    lines += [f"- {redact_secrets(n.message)}" for n in a.negative_facts] or ["- nothing could be ruled out from "
                                                                              "these logs"]
    lines += ["", "## Root-cause hypotheses", ""]
    onset = window[0] if window else None
    fatal = [e for e in a.timeline if "new_template" in e.kinds and onset and e.time <= onset + timedelta(seconds=60)
             and e.count <= 3]
    for i, e in enumerate(sorted(fatal, key=lambda e: e.time), 1):
        lines.append(f"{i}. **Hypothesis**: {redact_secrets(e.subject)} (in {', '.join(e.origins)}) started it. "
                     f"Evidence: first seen at {_hhmmss(e.time)} UTC, {e.count} event(s), at the onset of the "
                     f"bursts; {e.detail}.")
    if not fatal:
        lines.append("No single first event stands out; see the timeline.")
    lines += ["", "## Contributing factors", ""]
    seen: set[frozenset[int]] = set()
    for c in a.correlations:
        key = frozenset((c.leader_id, c.follower_id))
        if key in seen:
            continue
        seen.add(key)
        lines.append(f"- {redact_secrets(c.leader)} ({c.leader_count}) and {redact_secrets(c.follower)} "
                     f"({c.follower_count}) move together (median lag {c.lag_median:g} s, {c.matched} matched).")
    if not seen:
        lines.append("- none found in the logs")
    lines += ["", "## Action items", ""]
    for e in fatal:
        lines.append(f"- [ ] Alert on \"{redact_secrets(e.subject)}\" (it preceded this incident).")
    for b in a.bursts:
        lines.append(f"- [ ] Decide whether {b.count} events of \"{redact_secrets(b.template)}\" should page "
                     f"sooner (peak {b.peak} per {b.bucket_seconds} s).")
    lines.append("- [ ] Confirm or reject each hypothesis above and record the evidence.")
    return "\n".join(lines) + "\n"


def customer_update(facts: IncidentFacts, severity: int, now: datetime) -> str:
    """Status-page style: plain words, impact and window, status, next update; scrubbed of internal names."""
    a = facts.analysis
    window = impact_window(a)
    ended = window is not None and a.window_end is not None and window[1] < a.window_end - timedelta(minutes=1)
    nxt = now + NEXT_UPDATE.get(severity, timedelta(hours=4))
    lines = [f"**Service incident update** (severity {severity})", ""]
    if window:
        lines.append(f"**Impact:** between {window[0]:%H:%M} and {window[1]:%H:%M} UTC on {window[0]:%Y-%m-%d}, "
                     "some requests failed and customers may have seen errors or slow responses.")
    else:
        lines.append("**Impact:** we are investigating reports of errors.")
    lines += ["", "**Current status:** " + ("the errors stopped at " + f"{window[1]:%H:%M} UTC and the service is "
              "working normally; we are monitoring it and investigating the cause." if ended and window else
              "we are investigating and working on a fix."), "",
              f"**Next update:** by {nxt:%H:%M} UTC on {nxt:%Y-%m-%d}.", ""]
    return scrub("\n".join(lines), facts.denylist)
