"""Work shared out over forked worker processes: each works through a contiguous run, and steals when it is done.

A monorepo's roots go to the workers in ``n`` contiguous runs of about equal weight. A worker takes its run's
roots front to back; when its run is empty it takes over the back half (by weight) of the run with the most left,
and carries on there. So each worker's roots stay neighbours (they tend to call the same local modules, which a
worker then parses once), and the workers finish within one root of each other, whatever the weights missed.

The runs' bounds live in shared memory under one lock, both made before the fork and inherited with it; the
function and the items are inherited too, so only an item's index and its result cross a process boundary.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any

PROGRESS_EVERY_S = 0.1  # how often the parent tells ``on_done`` what the workers finished


class Runs:
    """The workers' runs: ``[lo, hi)`` index bounds per worker in shared memory, and the count of items done.

    ``weights`` (one per item, positive) decide the first split and where a run is halved.
    """

    def __init__(self, weights: Sequence[float], workers: int, ctx: Any) -> None:
        self.workers = workers
        self._prefix = [0.0, *itertools.accumulate(weights)]
        self._bounds = ctx.RawArray("l", 2 * workers)
        self._done = ctx.RawValue("l", 0)
        self._lock = ctx.Lock()
        start = 0
        for w in range(workers):
            end = self._split(start, len(weights), 1 / (workers - w))
            self._bounds[2 * w], self._bounds[2 * w + 1] = start, end
            start = end

    def _split(self, lo: int, hi: int, share: float) -> int:
        """The index ``m`` in ``[lo, hi]`` where ``[lo, m)`` weighs about ``share`` of ``[lo, hi)``."""
        goal = self._prefix[lo] + share * (self._prefix[hi] - self._prefix[lo])
        m = bisect.bisect_left(self._prefix, goal, lo, hi + 1)
        # the nearer boundary of the item that straddles the goal
        if m > lo and goal - self._prefix[m - 1] < self._prefix[m] - goal:
            m -= 1
        return max(lo, min(hi, m))

    def take(self, worker: int, finished: int = 0) -> int | None:
        """The next item for ``worker`` (which has just ``finished`` that many), None when nothing is left."""
        b = self._bounds
        with self._lock:
            self._done.value += finished
            lo, hi = b[2 * worker], b[2 * worker + 1]
            if lo >= hi:
                victim = max(range(self.workers), key=lambda v: b[2 * v + 1] - b[2 * v])
                vlo, vhi = b[2 * victim], b[2 * victim + 1]
                if vlo >= vhi:
                    return None
                # the victim is busy with the item before vlo: it keeps the front half, this worker the back
                # (at least the last item)
                mid = min(self._split(vlo, vhi, 0.5), vhi - 1)
                b[2 * victim + 1] = mid
                lo, hi = mid, vhi
            b[2 * worker], b[2 * worker + 1] = lo + 1, hi
            return lo

    @property
    def done(self) -> int:
        return int(self._done.value)

    def bounds(self) -> list[tuple[int, int]]:
        """The runs as they stand (for tests)."""
        return [(self._bounds[2 * w], self._bounds[2 * w + 1]) for w in range(self.workers)]


_job: tuple[Callable[[Any], Any], Sequence[Any], Runs] | None = None


def _work(worker: int) -> list[tuple[int, Any]]:
    assert _job is not None, "run in a worker forked by share_out"
    fn, items, runs = _job
    out: list[tuple[int, Any]] = []
    i = runs.take(worker)
    while i is not None:
        out.append((i, fn(items[i])))
        i = runs.take(worker, finished=1)
    return out


def share_out(fn: Callable[[Any], Any], items: Sequence[Any], weights: Sequence[float], workers: int,
              on_done: Callable[[int], None] | None = None) -> list[Any]:
    """``[fn(x) for x in items]``, computed by ``workers`` forked processes.

    ``fn`` and ``items`` are inherited with the fork (nothing to pickle but the results). ``on_done(n)`` is told,
    about every ``PROGRESS_EVERY_S`` seconds, that ``n`` more items are done. A worker's exception is raised here.
    """
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    global _job
    runs = Runs(weights, workers, ctx)
    _job = (fn, items, runs)
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            futures = [pool.submit(_work, w) for w in range(workers)]
            pending = set(futures)
            told = 0
            while pending:
                _, pending = wait(pending, timeout=PROGRESS_EVERY_S if on_done else None,
                                  return_when=FIRST_COMPLETED)
                if on_done is not None and runs.done > told:
                    on_done(runs.done - told)
                    told = runs.done
            results: list[Any] = [None] * len(items)
            for future in futures:
                for i, result in future.result():
                    results[i] = result
    finally:
        _job = None
    if on_done is not None and len(items) > told:
        on_done(len(items) - told)  # each worker's last item
    return results
