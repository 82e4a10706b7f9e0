"""The budget one configuration's static evaluation may spend: steps, value size and time.

    budget = Budget()                       one per load_config/load_text, shared by every module it loads
    budget.step()                           one evaluated expression node (time checked every 1,024 steps)
    budget.tick(n)                          n steps at once
    budget.need(n, limit, what)             refuse up front what would build more than the limit
    budget.value(v, what)                   walk a value just built: its size and nesting, charged as steps
    budget.enter() ... budget.leave()       around one evaluation (value() reuses its measurements inside)
    budget.events                           what was refused, where (file, line) and which limit
    budget.pause() ... budget.resume()      the time limit counts evaluation only (a deferred block, hcl.py)

A step is one evaluated node or one element built or walked; the size of a value is about the length of
its JSON (characters of strings, one per number, element and key).  Past a limit the evaluator raises
:class:`BudgetExceeded`; the expression being evaluated becomes ``Unknown`` and the event becomes an
``HCL-EVAL-BUDGET`` finding naming the file, line and limit.  The per-value limits (size, nesting)
refuse one value and evaluation goes on; the per-configuration ones (steps, total size, time), once
spent, make every later value unknown.  Functions check their output size *before* building it
(``range``, ``format`` widths, ``indent``, ``replace``, ``join`` ...), so no input makes one function
call allocate past the limit or run for long; a regular expression runs on RE2 (linear time).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any

RULE_ID = "HCL-EVAL-BUDGET"
FILE_RULE_ID = "HCL-FILE-REFUSED"  # a file function asked for a path outside the configuration, or a special file

MAX_STEPS = int(os.environ.get("INFRALEASH_HCL_MAX_STEPS", 1_000_000))  # per configuration (real ones: < 20,000)
MAX_VALUE_SIZE = 2_000_000  # one value, ~ its JSON length: file() reads at most 1 MB
MAX_TOTAL_SIZE = 64_000_000  # everything functions, templates and for expressions build, added up
MAX_VALUE_DEPTH = 64  # containers inside containers in one value (HCL nests at most 48 in the source)
MAX_NUMBER_BITS = 1_400  # ~420 decimal digits: no provider argument is larger
MAX_SECONDS = float(os.environ.get("INFRALEASH_HCL_MAX_SECONDS", 20.0))  # per configuration
MAX_DYNAMIC_BLOCKS = 4_096  # a dynamic block's expansion: each nested block is an object the checks keep
MAX_EVENTS = 50  # findings kept per configuration (a spent budget makes one)

_TIME_EVERY = 1024  # a power of two (STEP_TIME_MASK)
STEP_TIME_MASK = _TIME_EVERY - 1  # `not steps & STEP_TIME_MASK`: time is due (the evaluator's inlined step)
_MAX_HELD = 100_000  # the size of the measured values one evaluation keeps alive (a few MB at most)

LIMITS = {
    "steps": f"{MAX_STEPS:,} evaluation steps per configuration",
    "size": f"{MAX_VALUE_SIZE:,} characters/elements per value",
    "total": f"{MAX_TOTAL_SIZE:,} characters/elements built per configuration",
    "depth": f"{MAX_VALUE_DEPTH} levels of nesting per value",
    "number": f"numbers of {MAX_NUMBER_BITS} bits",
    "time": f"{MAX_SECONDS:g} s of evaluation per configuration",
    "range": "1,024 elements from range() (Terraform's own limit)",
    "blocks": f"{MAX_DYNAMIC_BLOCKS:,} nested blocks from one dynamic block",
}


class BudgetExceeded(Exception):
    """A limit of :data:`LIMITS` was hit while evaluating ``what``."""

    def __init__(self, limit: str, what: str, *, spent: bool = False) -> None:
        self.limit = limit
        self.what = what
        self.spent = spent  # a per-configuration limit: every later value is unknown too
        super().__init__(f"{what}: past the limit of {LIMITS[limit]}")


@dataclass(frozen=True)
class BudgetEvent:
    file: str
    line: int | None
    limit: str  # a key of LIMITS, or "file"
    message: str
    rule: str = RULE_ID


@dataclass
class Budget:
    max_steps: int = MAX_STEPS
    max_seconds: float = MAX_SECONDS
    steps: int = 0
    built: int = 0  # total size built
    started: float = field(default_factory=time.monotonic)
    spent: str | None = None  # the per-configuration limit hit, once hit
    events: list[BudgetEvent] = field(default_factory=list)
    _seen: set[tuple[str, int | None, str]] = field(default_factory=set)
    _evaluating: int = 0  # evaluations running (an expression, the locals it reads ...)
    _measured: dict[int, tuple[Any, int, int, int]] = field(default_factory=dict)  # id -> (value, nodes, size, depth)
    _held: int = 0  # the size of the values _measured holds
    paused: float | None = None  # since when no evaluation runs (pause()): the time limit counts evaluation only

    def pause(self) -> None:
        """Stop the clock: the loader's blocks are built, a deferred one may be evaluated much later."""
        if self.paused is None:
            self.paused = time.monotonic()

    def resume(self) -> None:
        """Start the clock again where :meth:`pause` stopped it."""
        if self.paused is not None:
            self.started += time.monotonic() - self.paused
            self.paused = None

    def tick(self, n: int = 1) -> None:
        if self.spent is not None:
            raise BudgetExceeded(self.spent, "evaluation", spent=True)
        before = self.steps
        self.steps += n
        if self.steps > self.max_steps:
            self._spend("steps")
        if self.steps // _TIME_EVERY != before // _TIME_EVERY and \
                time.monotonic() - self.started > self.max_seconds:
            self._spend("time")

    def step(self) -> None:
        """``tick(1)``: the evaluator's call for every node it evaluates, kept to the few operations it needs."""
        if self.spent is not None:
            raise BudgetExceeded(self.spent, "evaluation", spent=True)
        steps = self.steps = self.steps + 1
        if steps > self.max_steps:
            self._spend("steps")
        if not steps & STEP_TIME_MASK and time.monotonic() - self.started > self.max_seconds:
            self._spend("time")

    def _spend(self, limit: str) -> None:
        self.spent = limit
        raise BudgetExceeded(limit, "evaluation", spent=True)

    def need(self, size: int, what: str) -> None:
        """Refuse to build a value of ``size`` (the caller computed it before building)."""
        if size > MAX_VALUE_SIZE:
            raise BudgetExceeded("size", what)
        self._build(size, what)

    def _build(self, size: int, what: str) -> None:
        self.built += size
        if self.built > MAX_TOTAL_SIZE:
            self._spend("total")

    def value(self, value: Any, what: str) -> Any:
        """``value`` when its size and nesting are within the limits (walked, each node a step), else raise."""
        if isinstance(value, str):
            self.need(len(value), what)
            return value
        if isinstance(value, bool) or value is None or isinstance(value, float):
            return value
        if isinstance(value, int):
            if value.bit_length() > MAX_NUMBER_BITS:
                raise BudgetExceeded("number", what)
            return value
        if not isinstance(value, list | dict):
            return value
        measured = self._measure(value)
        if measured is None:  # past a limit: the exact walk says which one, and charges what it walked
            return self._walk(value, what)
        nodes, size, depth = measured
        self.tick(nodes)
        self._build(size, what)
        self._remember(value, measured)
        return value

    # Evaluating one expression measures each container it builds, then again inside every container built
    # around it ({a = {b = [...]}}: quadratic in the nesting).  The measurement of each container value() let
    # through is remembered while one evaluation runs (``enter``/``leave``, the outermost one forgets them),
    # so a container inside a new one is added up, not walked again.  Steps and sizes charged are the same as
    # walking it; only values that stay within the limits are remembered, and nothing outside the evaluator
    # can change a value while it runs (the loader and the checks only see finished values).  The measuring
    # walk charges at its end: it stops past MAX_VALUE_SIZE, so time is checked within that many nodes.
    def enter(self) -> None:
        self._evaluating += 1

    def leave(self) -> None:
        self._evaluating -= 1
        if self._evaluating == 0 and self._measured:
            self._measured.clear()
            self._held = 0

    def _remember(self, value: Any, measured: tuple[int, int, int]) -> None:
        if self._evaluating == 0:  # value() called outside an evaluation: nothing tells when to forget
            return
        self._held += measured[1]
        if self._held > _MAX_HELD:  # hold at most this much alive for the measurements (memory stays bounded)
            self._measured.clear()
            self._held = measured[1]
        self._measured[id(value)] = (value, *measured)  # the value is held, so its id names only it

    def _measure(self, value: Any) -> tuple[int, int, int] | None:
        """(nodes, size, deepest nesting) of a container, or None when past a per-value limit; charges nothing.

        Only containers go on the stack: the leaves are added up where they are met (the common case)."""
        known = self._measured
        nodes = size = deepest = 0
        stack: list[tuple[Any, int]] = [(value, 1)]
        while stack:
            node, depth = stack.pop()
            hit = known.get(id(node))
            if hit is not None:
                nodes += hit[1]
                size += hit[2]
                depth += hit[3] - 1
            else:
                nodes += 1
                size += 1
                if isinstance(node, dict):
                    for k in node:
                        size += len(k) if isinstance(k, str) else 1
                    children: Any = node.values()
                else:
                    children = node
                for v in children:
                    if isinstance(v, str):
                        nodes += 1
                        size += 1 + len(v)
                    elif isinstance(v, dict | list):
                        stack.append((v, depth + 1))
                    elif isinstance(v, int) and not isinstance(v, bool) and v.bit_length() > MAX_NUMBER_BITS:
                        return None
                    else:
                        nodes += 1
                        size += 1
            if depth > deepest:
                deepest = depth
                if depth > MAX_VALUE_DEPTH:
                    return None
            if size > MAX_VALUE_SIZE:
                return None
        return nodes, size, deepest

    def _walk(self, value: Any, what: str) -> Any:
        """Walk ``value`` node by node, charging as it goes, and raise at the first limit it passes."""
        size = 0
        stack: list[tuple[Any, int]] = [(value, 1)]
        visited = 0
        while stack:
            node, depth = stack.pop()
            visited += 1
            size += 1
            if isinstance(node, str):
                size += len(node)
            elif isinstance(node, dict):
                if depth > MAX_VALUE_DEPTH:
                    raise BudgetExceeded("depth", what)
                for k, v in node.items():
                    size += len(k) if isinstance(k, str) else 1
                    stack.append((v, depth + 1))
            elif isinstance(node, list):
                if depth > MAX_VALUE_DEPTH:
                    raise BudgetExceeded("depth", what)
                stack.extend((v, depth + 1) for v in node)
            elif isinstance(node, int) and not isinstance(node, bool) and node.bit_length() > MAX_NUMBER_BITS:
                raise BudgetExceeded("number", what)
            if size > MAX_VALUE_SIZE:
                self.tick(visited)
                raise BudgetExceeded("size", what)
            if visited >= _TIME_EVERY:
                self.tick(visited)
                visited = 0
        self.tick(visited)
        self._build(size, what)
        return value

    def record(self, exc: BudgetExceeded, file: str, line: int | None) -> None:
        """Remember where ``exc`` happened (once per file, line and limit; a spent budget once in all)."""
        key = ("", None, exc.limit) if exc.spent else (file, line, exc.limit)
        if key in self._seen or len(self.events) >= MAX_EVENTS:
            return
        self._seen.add(key)
        if exc.spent:
            message = (f"evaluation stopped: past the limit of {LIMITS[exc.limit]}; this and every later "
                       "value of the configuration is unknown to the checks")
        else:
            message = f"{exc.what} is past the limit of {LIMITS[exc.limit]}; its value is unknown to the checks"
        self.events.append(BudgetEvent(file=file, line=line, limit=exc.limit, message=message))

    def refuse_file(self, file: str, line: int | None, message: str) -> None:
        """A file function refused a path (outside the configuration, a special or too large file)."""
        key = (file, line, "file")
        if key in self._seen or len(self.events) >= MAX_EVENTS:
            return
        self._seen.add(key)
        self.events.append(BudgetEvent(file=file, line=line, limit="file", message=message, rule=FILE_RULE_ID))
