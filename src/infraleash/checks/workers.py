"""Work shared out over forked worker processes: each works through a contiguous run, and steals when it is done.

A monorepo's roots go to the workers in ``n`` contiguous runs of about equal weight. A worker takes its run's
roots front to back; when its run is empty it takes over the back half (by weight) of the run with the most left,
and carries on there. So each worker's roots stay neighbours (they tend to call the same local modules, which a
worker then parses once), and the workers finish within one root of each other, whatever the weights missed.

The parent keeps the runs and hands out one index at a time over a pipe; the function and the items are
inherited with ``os.fork``, so only an index and, at the end, the worker's pickled results cross a process
boundary. Plain ``os.fork`` and pipes rather than ``concurrent.futures``: importing and starting an executor
(multiprocessing, its queues, threads, logging, hmac) costs a one-shot ``check -r`` about 15 ms before the first
worker starts, which is 2% of a monorepo check.
"""

from __future__ import annotations

import bisect
import contextlib
import itertools
import os
import pickle
import select
import signal
import struct
import sys
from collections.abc import Callable, Sequence
from typing import Any

_INDEX = struct.Struct("<q")  # the parent's answer: the next item's index, -1 when there is none
_CLAIM, _DONE, _RESULTS, _ERROR = b"c", b"d", b"r", b"e"  # what a worker writes (results and errors have a length)


class WorkerDied(RuntimeError):
    """A worker process ended without sending its results (killed, crashed in native code, ``os._exit``)."""


class Runs:
    """The workers' runs: ``[lo, hi)`` index bounds per worker.

    ``weights`` (one per item, positive) decide the first split and where a run is halved. ``cut_costs``
    (optional, one per item) say what it costs to cut between item ``i - 1`` and item ``i`` (work the two sides
    would both do: for roots, the local modules both call). A cut then lands on the cheapest boundary whose weight
    is within ``slack`` (a share of the run's weight) of the even one, the nearest of those; stealing evens out the
    rest.
    """

    def __init__(self, weights: Sequence[float], workers: int, cut_costs: Sequence[float] | None = None,
                 slack: float = 0.1) -> None:
        self.workers = workers
        self._prefix = [0.0, *itertools.accumulate(weights)]
        self._costs = cut_costs
        self._slack = slack
        self._bounds: list[list[int]] = []
        start = 0
        for w in range(workers):
            end = self._split(start, len(weights), 1 / (workers - w))
            self._bounds.append([start, end])
            start = end

    def _split(self, lo: int, hi: int, share: float) -> int:
        """The index ``m`` in ``[lo, hi]`` where ``[lo, m)`` weighs about ``share`` of ``[lo, hi)``."""
        total = self._prefix[hi] - self._prefix[lo]
        goal = self._prefix[lo] + share * total
        m = bisect.bisect_left(self._prefix, goal, lo, hi + 1)
        # the nearer boundary of the item that straddles the goal
        if m > lo and goal - self._prefix[m - 1] < self._prefix[m] - goal:
            m -= 1
        m = max(lo, min(hi, m))
        costs = self._costs
        if costs is None or not lo < m < hi:
            return m
        # the cheapest boundary strictly inside the run and within the slack, the nearest of equals
        first = max(lo + 1, bisect.bisect_left(self._prefix, goal - self._slack * total, lo, hi + 1))
        last = min(hi - 1, bisect.bisect_right(self._prefix, goal + self._slack * total, lo, hi + 1) - 1)
        return min(range(first, last + 1), key=lambda i: (costs[i], abs(self._prefix[i] - goal)), default=m)

    def take(self, worker: int) -> int | None:
        """The next item for ``worker``, None when nothing is left."""
        own = self._bounds[worker]
        if own[0] >= own[1]:
            victim = max(self._bounds, key=lambda b: b[1] - b[0])
            if victim[0] >= victim[1]:
                return None
            # the victim is busy with items it took before: it keeps the front half, this worker the back
            # (at least the last item)
            mid = min(self._split(victim[0], victim[1], 0.5), victim[1] - 1)
            own[0], own[1] = mid, victim[1]
            victim[1] = mid
        own[0] += 1
        return own[0] - 1

    def bounds(self) -> list[tuple[int, int]]:
        """The runs as they stand (for tests)."""
        return [(lo, hi) for lo, hi in self._bounds]


def share_out(fn: Callable[[Any], Any], items: Sequence[Any], weights: Sequence[float], workers: int,
              on_done: Callable[[int], None] | None = None, cut_costs: Sequence[float] | None = None,
              idle: Callable[[], None] | None = None) -> list[Any]:
    """``[fn(x) for x in items]``, computed by ``workers`` forked processes (the runs as :class:`Runs` makes them).

    ``fn`` and ``items`` are inherited with the fork (nothing to pickle but the results). ``on_done(1)`` is told
    as each item is done. ``idle()`` is called once, here, when the first worker has sent its results while others
    still run: a core is free until they end, for what the caller does next (its imports). An exception in a worker
    is raised here (the other workers are stopped);
    :class:`WorkerDied` when a worker ends without a word. Call it only where forking is safe (no other threads).
    """
    runs = Runs(weights, workers, cut_costs)
    results: list[Any] = [None] * len(items)
    children: dict[int, tuple[int, int, int]] = {}  # read end of a worker's pipe -> (worker, its pid, write end)
    finished: list[int] = []  # workers that sent their results, not reaped yet
    try:
        for w in range(workers):
            fd, pid, reply = _fork(w, fn, items, children)
            children[fd] = (w, pid, reply)
            # its first item waits in its pipe: it starts at once, not after the next fork and the first select
            _answer_ahead(runs, {fd: children[fd]}, 1)
        while children:
            ready, _, _ = select.select(list(children), [], [])
            for fd in ready:
                w, _, reply = children[fd]
                kind = _read(fd, 1)
                if kind == _CLAIM:
                    i = runs.take(w)
                    # a worker that stopped (an error, or none left for its claim in advance) reads no more: what
                    # it sent before it stopped says why
                    with contextlib.suppress(BrokenPipeError):
                        os.write(reply, _INDEX.pack(-1 if i is None else i))
                    continue
                if kind == _DONE:
                    if on_done is not None:
                        on_done(1)
                    continue
                if kind in (_RESULTS, _ERROR):
                    payload = _read_sized(fd)
                    pid = _forget(children, fd)
                    if payload is not None and kind == _RESULTS:
                        # reaped at the end: meanwhile the kernel tears the worker's memory down while this
                        # process reads its results (waiting first cost ~3 ms per worker)
                        finished.append(pid)
                        for i, result in pickle.loads(payload):
                            results[i] = result
                        if idle is not None and children:
                            _answer_ahead(runs, children, IDLE_AHEAD)
                            idle()
                            idle = None
                        continue
                    status = _reap(pid)
                    if payload is not None:
                        raise pickle.loads(payload)
                else:  # the pipe closed (or garbage) before the worker sent its results
                    status = _reap(_forget(children, fd))
                raise WorkerDied(f"a check worker process ended without its results ({_how_it_ended(status)})")
    finally:
        for fd in list(children):  # stopped early: an error here or in a worker
            pid = _forget(children, fd)
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
            _reap(pid)
        for pid in finished:
            _reap(pid)
    return results


IDLE_AHEAD = 16  # items each running worker is given ahead before ``idle()``, which answers no claim while it runs


def _answer_ahead(runs: Runs, children: dict[int, tuple[int, int, int]], n: int) -> None:
    """Answer ``n`` claims of each running worker before it makes them: a worker reads one answer per item it
    checks, in order, so answers sent early wait in its pipe (an item given early is its own, as if claimed)."""
    for w, _, reply in children.values():
        for _ in range(n):
            i = runs.take(w)
            with contextlib.suppress(BrokenPipeError):
                os.write(reply, _INDEX.pack(-1 if i is None else i))
            if i is None:
                break


def _fork(worker: int, fn: Callable[[Any], Any], items: Sequence[Any],
          others: dict[int, tuple[int, int, int]]) -> tuple[int, int, int]:
    """Start ``worker``: (the parent's read end of its pipe, its pid, the parent's write end of its reply pipe)."""
    to_parent_r, to_parent_w = os.pipe()
    to_child_r, to_child_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the worker: it never returns
        code = 1
        try:
            os.close(to_parent_r)
            os.close(to_child_w)
            for fd, (_, _, reply) in others.items():
                os.close(fd)
                os.close(reply)
            _work(worker, fn, items, to_child_r, to_parent_w)
            code = 0
        finally:
            for stream in (sys.stdout, sys.stderr):
                with contextlib.suppress(Exception):
                    stream.flush()
            os._exit(code)
    os.close(to_parent_w)
    os.close(to_child_r)
    return to_parent_r, pid, to_child_w


def _work(worker: int, fn: Callable[[Any], Any], items: Sequence[Any], replies: int, out: int) -> None:
    """Check items until the parent has none left, one answer always ahead: it waits in the pipe
    while the item before is checked (waiting for the parent between items cost a worker up to 0.1 ms each). The
    first item is answered before any claim (at the fork); the parent may answer more ahead (``_answer_ahead``)."""
    done: list[tuple[int, Any]] = []

    def answer() -> int:
        return int(_INDEX.unpack(_read(replies, _INDEX.size))[0])

    try:
        os.write(out, _CLAIM)
        i = answer()
        while i >= 0:
            done.append((i, fn(items[i])))
            i = answer()
            os.write(out, _DONE + _CLAIM if i >= 0 else _DONE)
        kind, payload = _RESULTS, pickle.dumps(done, protocol=pickle.HIGHEST_PROTOCOL)
    except BaseException as e:  # noqa: BLE001 - whatever it is, the parent raises it
        kind, payload = _ERROR, _pickled_error(e)
    _write_all(out, kind + _INDEX.pack(len(payload)) + payload)


def _pickled_error(e: BaseException) -> bytes:
    try:
        return pickle.dumps(e, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # an exception that does not pickle still reaches the parent, as text
        return pickle.dumps(RuntimeError(f"in a check worker: {type(e).__name__}: {e}"))


def _read(fd: int, n: int) -> bytes:
    """Exactly ``n`` bytes from ``fd``, or fewer when the other end closed (b"" at once)."""
    chunks: list[bytes] = []
    while n > 0:
        chunk = os.read(fd, min(n, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def _read_sized(fd: int) -> bytes | None:
    """A length-prefixed message (as ``_work`` writes one), None when the pipe closed before its end."""
    size = _read(fd, _INDEX.size)
    if len(size) < _INDEX.size:
        return None
    n = _INDEX.unpack(size)[0]
    data = _read(fd, n)
    return data if len(data) == n else None


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _forget(children: dict[int, tuple[int, int, int]], fd: int) -> int:
    """Stop talking to the worker whose pipe is ``fd``: its pipes closed, its pid (to reap it)."""
    _, pid, reply = children.pop(fd)
    os.close(fd)
    os.close(reply)
    return pid


def _reap(pid: int) -> int:
    """Wait for ``pid`` to end: its wait status."""
    with contextlib.suppress(ChildProcessError):
        return os.waitpid(pid, 0)[1]
    return 0


def _how_it_ended(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit code {os.waitstatus_to_exitcode(status)}"
