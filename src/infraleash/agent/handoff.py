"""Structured handoffs: a run continues in a fresh context seeded with what matters, not with a truncated tail.

    h = build_handoff(state, run_dir, reason="context budget", notes=model_notes)
    paths = save_handoff(h, run_dir)          # handoffs/handoff-1.json + handoff-1.md
    h.render()                                # the Markdown the fresh context starts from
    task_from_handoff(Path("handoff-1.json"), "also tag the bucket")   # `infraleash agent --from-handoff`

A handoff holds:

* **goal**: the task as the user wrote it;
* **constraints**: every sentence of the task that constrains the work (``never``,
  ``do not``, ``must``, ``only``, ``without``, ...), *verbatim*, and carried over
  unchanged from handoff to handoff, so the fourth context still has the words
  the user wrote;
* **decisions** (what the agent did and why, from its own words before each tool call),
  **facts** (what tool results established, refusals by the gate first),
  **open questions** and **next steps** (unchecked plan steps); the model can add
  its own through the ``handoff`` tool.

The gate never depends on any of this: a constraint that the policy also
states is enforced in code whatever the context holds.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from infraleash.agent.run_store import RunState
from infraleash.errors import InputError

HANDOFF_DIR = "handoffs"
HEADER = "# Handoff"
NEW_INSTRUCTIONS = "## New instructions from the user"
_CUES = re.compile(r"(?i)\b(never|do not|don't|dont|must|mustn't|only|without|always|avoid|no longer|not allowed|"
                   r"forbidden|under no circumstances|read[- ]only|keep|ensure|should not|shouldn't|cannot|can't|"
                   r"limit(ed)? to|except|unless|no)\b")
_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+|$)", re.M)


class Handoff(BaseModel):
    n: int = 1
    created_at: float = Field(default_factory=time.time)
    run_id: str = ""
    reason: str = ""
    goal: str
    constraints: list[str] = Field(default_factory=list, description="verbatim from the user")
    decisions: list[str] = Field(default_factory=list)
    facts: list[str] = Field(default_factory=list)
    open_questions: list[str] = Field(default_factory=list)
    next_steps: list[str] = Field(default_factory=list)

    def render(self) -> str:
        def section(title: str, items: list[str], empty: str = "(none)") -> list[str]:
            return [f"## {title}", *([f"- {i}" for i in items] or [empty]), ""]

        return "\n".join([
            f"{HEADER} {self.n} (run {self.run_id or '-'}; {self.reason or 'requested'})", "",
            "## Goal", self.goal, "",
            *section("Constraints the user gave (verbatim; they still apply)", self.constraints),
            *section("Decisions made and why", self.decisions),
            *section("Facts established", self.facts),
            *section("Open questions", self.open_questions),
            *section("Next steps", self.next_steps),
        ]).rstrip() + "\n"


def extract_constraints(task: str) -> list[str]:
    """The sentences of ``task`` that constrain the work, verbatim, in order."""
    seeded = parse_rendered(task)
    if seeded is not None:  # a task that is itself a rendered handoff keeps its constraints as they were
        parts = task.split(NEW_INSTRUCTIONS, 1)
        new = extract_constraints(parts[1]) if len(parts) == 2 else []
        return seeded.constraints + [c for c in new if c not in seeded.constraints]
    out: list[str] = []
    for m in _SENTENCE.finditer(task):
        sentence = m.group(0).strip(" -*\t")
        if sentence and _CUES.search(sentence) and sentence not in out:
            out.append(sentence)
    return out


def parse_rendered(text: str) -> Handoff | None:
    """A handoff back from its Markdown (``--from-handoff`` of a .md file, or a seeded task)."""
    if not text.lstrip().startswith(HEADER):
        return None
    sections: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        if line.startswith("## "):
            current = line[3:].split(" (", 1)[0].strip().lower()
            sections[current] = []
        elif current is not None and line.strip():
            sections[current].append(line)

    def items(name: str) -> list[str]:
        return [x[2:] for x in sections.get(name, []) if x.startswith("- ")]

    m = re.match(rf"{HEADER} (\d+)", text.lstrip())
    return Handoff(n=int(m.group(1)) if m else 1, goal="\n".join(sections.get("goal", [])).strip(),
                   constraints=items("constraints the user gave"), decisions=items("decisions made and why"),
                   facts=items("facts established"), open_questions=items("open questions"),
                   next_steps=items("next steps"))


def _one_line(text: str, limit: int = 240) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit - 1] + "…"


def _call_text(name: str, arguments: dict[str, Any]) -> str:
    args = ", ".join(f"{k}={json.dumps(v)[:80]}" for k, v in sorted(arguments.items()))
    return f"{name}({args})"


def build_handoff(state: RunState, run_dir: Path, *, reason: str, notes: dict[str, list[str]] | None = None,
                  previous: Handoff | None = None, since: int = 2, keep: int = 12) -> Handoff:
    """The handoff for ``state``: carried-over sections of ``previous`` plus what happened since message ``since``."""
    notes = notes or {}
    seeded = parse_rendered(state.task)
    goal = previous.goal if previous else (seeded.goal if seeded else state.task)
    constraints = list(previous.constraints) if previous else extract_constraints(state.task)
    decisions = list(previous.decisions) if previous else list(seeded.decisions if seeded else [])
    facts = list(previous.facts) if previous else list(seeded.facts if seeded else [])
    refusals: list[str] = []
    calls: dict[str, str] = {}
    for msg in state.messages[since:]:
        if msg.role == "assistant":
            for c in msg.tool_calls:
                calls[c.id] = _call_text(c.name, c.arguments)
            if msg.content.strip() or msg.tool_calls:
                did = ", ".join(_call_text(c.name, c.arguments) for c in msg.tool_calls) or "answered"
                decisions.append(f"{did}: {_one_line(msg.content) or '(no reason given)'}")
        elif msg.role == "tool":
            what = calls.get(msg.tool_call_id or "", msg.name or "tool")
            first = _one_line(msg.content, 300)
            if msg.is_error and "refused by the gate" in msg.content:
                refusals.append(f"REFUSED by the gate: {what}: {first}")
            elif msg.is_error:
                facts.append(f"{what} failed: {first}")
            else:
                facts.append(f"{what}: {first}")
        elif msg.role == "user" and msg.content.startswith("Not finished yet"):
            facts.append(_one_line(msg.content, 300))
    facts = [f for f in facts if f.startswith("REFUSED")] + refusals + \
        [f for f in facts if not f.startswith("REFUSED")][-keep:]
    next_steps = [s for s in notes.get("next_steps", [])] + _unchecked_plan_steps(run_dir)
    if not next_steps:
        next_steps = ["continue with the goal from the facts above; re-read files rather than trusting memory"]
    return Handoff(n=(previous.n + 1) if previous else (seeded.n + 1 if seeded else 1), run_id=state.run_id,
                   reason=reason, goal=goal, constraints=constraints,
                   decisions=(decisions + notes.get("decisions", []))[-keep:],
                   facts=list(dict.fromkeys(facts + notes.get("facts", []))),
                   open_questions=notes.get("open_questions", []) + ([f"pending: {state.pending.reasons}"]
                                                                     if state.pending else []),
                   next_steps=next_steps)


def _unchecked_plan_steps(run_dir: Path) -> list[str]:
    plan = run_dir / "plan.md"
    if not plan.is_file():
        return []
    return [f"plan step {m.group(1)}: {m.group(2)}" for line in plan.read_text(encoding="utf-8").splitlines()
            if (m := re.match(r"^\s*(\d+)\.\s*\[ \]\s*(.+?)\s*$", line))]


def save_handoff(h: Handoff, run_dir: Path) -> tuple[Path, Path]:
    d = run_dir / HANDOFF_DIR
    d.mkdir(parents=True, exist_ok=True)
    j, md = d / f"handoff-{h.n}.json", d / f"handoff-{h.n}.md"
    j.write_text(h.model_dump_json(indent=2), encoding="utf-8")
    md.write_text(h.render(), encoding="utf-8")
    return j, md


def load_handoff(path: Path) -> Handoff:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise InputError(f"cannot read handoff: {e.strerror}", file=str(path)) from None
    if path.suffix == ".md":
        h = parse_rendered(text)
        if h is None:
            raise InputError(f"not a handoff: it does not start with {HEADER!r}", file=str(path), line=1)
        return h
    try:
        return Handoff.model_validate_json(text)
    except ValidationError as e:
        err = e.errors()[0]
        raise InputError(f"not a valid handoff: {'.'.join(map(str, err['loc']))}: {err['msg']}",
                         file=str(path)) from None


def task_from_handoff(path: Path, task: str | None = None) -> str:
    """The task of a run started with ``--from-handoff FILE``: the rendered handoff, plus new instructions."""
    text = load_handoff(path).render()
    if task and task.strip():
        text += f"\n{NEW_INSTRUCTIONS}\n{task.strip()}\n"
    return text
