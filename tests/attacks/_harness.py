"""One harness for every attack on every surface: run the steps, then judge.

An attack passes when (1) each step's outcome is what the corpus expects (refused, held, or anything for
``contained``), (2) a refusal is in the audit log (or, on the tool surfaces, the tool refused the arguments
before the gate: such refusals never reach it), (3) the expected rule family fired, where the corpus names
one, and (4) nothing ran or changed (:meth:`World.problems`).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest

from attacks._corpus import Attack, Expect
from attacks._surfaces import Outcome, Runner, run_cli
from attacks._world import World

REFUSAL_EVENTS = ("execution_refused", "approval_refused")
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x9b\u202a-\u202e\u2066-\u2069]")


def run_attack(attack: Attack, world: World, surface: str, session: Callable[[], AbstractContextManager[Runner]],
               capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Run ``attack``'s steps in one ``session`` of the surface, then the human's side, then judge."""
    before = world.snapshot()
    failures: list[str] = []
    texts: list[str] = []
    last: Outcome | None = None
    kinds: list[str] = []
    with session() as run:
        for n, step in enumerate(attack.steps, 1):
            seen = len(world.audit_records()) if not attack.hostile else 0
            outcome = run(step)
            kinds.append(outcome.kind)
            last = outcome
            texts.append(outcome.text)
            failures += [f"step {n}: {f}" for f in judge_step(attack, world, step.expect, outcome, seen)]
    if attack.approval is not None and last is not None:
        text, more = human_side(attack, world, last, surface, capsys, monkeypatch)
        texts.append(text)
        failures += more
    if attack.hostile_named:
        code, out, err = run_cli(capsys, monkeypatch, world, ".", "audit", "verify")
        text = out + err
        texts.append(text)
        if code == 0 or attack.hostile_named not in text:
            failures.append(f"`audit verify` exited {code} without naming {attack.hostile_named}")
    failures += world.problems(before, "\n".join(texts))
    _record(attack, surface, kinds, failures)
    if failures:
        shown = "\n".join(texts)[-2500:]
        pytest.fail(f"[{attack.id} on {surface}] {attack.description}\n  " + "\n  ".join(failures) +
                    f"\n--- output (tail) ---\n{shown}", pytrace=False)


def judge_step(attack: Attack, world: World, expect: Expect | None, outcome: Outcome, seen: int) -> list[str]:
    if expect in (None, Expect.ANY, Expect.CONTAINED):
        return []
    out: list[str] = []
    fresh = [] if attack.hostile else world.audit_records()[seen:]
    if expect is Expect.HELD:
        if exec_shell_refusal(attack, outcome):
            return []  # exec's own refusal of shell syntax (a newline...): an audited deny, nothing to hold
        if outcome.kind != "held":
            out.append(f"expected held for approval, got {outcome.kind}")
        elif not any(r["event"] == "approval_requested" for r in fresh) and not attack.hostile:
            out.append("held, but no approval_requested record in the audit log")
        return out
    refused = outcome.kind in ("denied", "mistake") or (outcome.kind == "usage" and attack.usage_ok)
    if not refused:
        return [f"expected refused, got {outcome.kind}" + (f" (exit {outcome.exit_code})" if outcome.exit_code
                                                            is not None else "")]
    if outcome.kind == "denied" and not attack.hostile:
        refusals = [r for r in fresh if r["event"] in REFUSAL_EVENTS or
                    (r["event"] == "decision" and _data(r).get("verdict") == "deny")]
        if not refusals:
            out.append("refused, but the refusal is not in the audit log")
        if attack.rule and not any(i.startswith(attack.rule) for i in [*outcome.rules, *_rule_ids(refusals)]):
            out.append(f"refused, but not by a {attack.rule}* rule (rules: {sorted(set(_rule_ids(refusals)))})")
    if outcome.kind == "mistake" and fresh and any(r["event"] == "execution" for r in fresh):
        out.append("the tool reported a mistake, but an execution is in the audit log")
    return out


def exec_shell_refusal(attack: Attack, outcome: Outcome) -> bool:
    """exec refused what only a shell would understand: exit 2 before the gate, or its CMD-SHELL-META deny."""
    if not attack.usage_ok:
        return False
    return outcome.kind == "usage" or (outcome.kind == "denied" and "CMD-SHELL-META" in outcome.rules)


def human_side(attack: Attack, world: World, held: Outcome, surface: str, capsys: pytest.CaptureFixture[str],
               monkeypatch: pytest.MonkeyPatch) -> tuple[str, list[str]]:
    """What a human does with the request: show it, approve it as someone, run it."""
    spec = attack.approval
    assert spec is not None
    if exec_shell_refusal(attack, held):
        return "", []
    if held.kind != "held" or not held.request_id:
        return "", [f"no request to approve (the command was {held.kind})"]
    rid, out, texts = held.request_id, [], []
    code, out_, err_ = run_cli(capsys, monkeypatch, world, ".", "approvals", "show", rid)
    shown = out_ + err_
    texts.append(shown)
    if code != 0:
        out.append(f"`approvals show {rid}` exited {code}")
    raw = CONTROL.findall(shown)
    if raw:
        out.append(f"`approvals show` printed raw control characters {sorted({hex(ord(c)) for c in raw})}")
    out += [f"`approvals show` hides {s!r}" for s in spec.show_must_contain if world.fill(s) not in shown]
    out += [f"`approvals show` prints {s!r}" for s in spec.show_must_not_contain if world.fill(s) in shown]
    name = spec.approve_as.get(surface)
    if name is not None:
        code, out_, err_ = run_cli(capsys, monkeypatch, world, ".", "approvals", "approve", rid, "--as", name)
        texts.append(out_ + err_)
        if code == 0:
            out.append(f"{name!r} approved the request (self-approval with a look-alike name)")
    if spec.run:
        code, out_, err_ = run_cli(capsys, monkeypatch, world, ".", "approvals", "run", rid)
        texts.append(out_ + err_)
        if code != 4:
            out.append(f"`approvals run {rid}` exited {code}: an unapproved request must be refused (exit 4)")
    return "\n".join(texts), out


def _record(attack: Attack, surface: str, kinds: list[str], failures: list[str]) -> None:
    """With $INFRALEASH_ATTACK_LOG set, one JSON line per run: id, surface, each step's outcome, what got through."""
    path = os.environ.get("INFRALEASH_ATTACK_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps({"id": attack.id, "class": attack.cls, "surface": surface, "outcomes": kinds,
                                "expect": attack.expect.value, "through": failures}) + "\n")


def _data(record: dict[str, Any]) -> dict[str, Any]:
    data = record.get("data")
    return data if isinstance(data, dict) else {}


def _rule_ids(records: list[dict[str, Any]]) -> list[str]:
    ids: list[str] = []
    for r in records:
        for rule in _data(r).get("rules") or []:
            ids.append(rule.get("id", "") if isinstance(rule, dict) else str(rule))
    return ids
