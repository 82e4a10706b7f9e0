"""Work sharing over forked workers: weighted contiguous runs, stealing the back half, every item exactly once."""

from __future__ import annotations

import os
import time

import pytest

from infraleash.checks.workers import Runs, WorkerDied, share_out


def test_first_runs_are_contiguous_and_of_about_equal_weight() -> None:
    runs = Runs([1, 1, 1, 1, 1, 1, 1, 1], 2)
    assert runs.bounds() == [(0, 4), (4, 8)]
    heavy_first = Runs([6, 1, 1, 1, 1, 1, 1], 2)
    assert heavy_first.bounds() == [(0, 1), (1, 7)]  # one heavy root weighs what six light ones do
    three = Runs([1] * 9, 3)
    assert three.bounds() == [(0, 3), (3, 6), (6, 9)]


def test_a_worker_takes_its_run_front_to_back_then_the_back_half_of_the_longest() -> None:
    runs = Runs([1] * 10, 2)  # [0, 5) and [5, 10)
    assert [runs.take(1) for _ in range(5)] == [5, 6, 7, 8, 9]
    assert runs.take(0) == 0  # worker 0 has [1, 5) left
    # worker 1 is done: it takes over [3, 5) and goes on front to back; worker 0 keeps [1, 3)
    assert runs.take(1) == 3
    assert runs.bounds() == [(1, 3), (4, 5)]
    assert runs.take(1) == 4
    assert runs.take(0) == 1
    assert runs.take(1) == 2  # the last one left, in worker 0's run
    assert runs.take(0) is None and runs.take(1) is None


def test_stealing_halves_by_weight() -> None:
    runs = Runs([1, 1, 1, 1, 1, 1, 8, 1], 2)
    assert runs.bounds() == [(0, 6), (6, 8)]
    assert runs.take(1) == 6 and runs.take(1) == 7
    assert runs.take(0) == 0
    assert runs.take(1) == 4  # [1, 6) weighs 5: the thief takes [4, 6), about half of it
    assert runs.bounds() == [(1, 4), (5, 6)]


def test_a_cut_lands_on_the_cheapest_boundary_within_the_slack() -> None:
    # ten equal roots; cutting before 4 costs nothing (two projects meet there), everywhere else it costs
    costs = [0, 5, 5, 5, 0, 5, 5, 5, 5, 5]
    assert Runs([1] * 10, 2, costs, slack=0.1).bounds() == [(0, 4), (4, 10)]
    assert Runs([1] * 10, 2, costs, slack=0.05).bounds() == [(0, 5), (5, 10)]  # 4 is further off than the slack
    # among equally cheap boundaries, the nearest to the even split
    assert Runs([1] * 10, 2, [0, 1, 1, 0, 1, 1, 0, 1, 1, 1], slack=0.2).bounds() == [(0, 6), (6, 10)]
    # a steal too: worker 1 is done and takes over part of worker 0's [1, 4); the even cut (before 3) costs, the one
    # before 2 is free and within the slack
    costs = [0, 9, 0, 9, 0, 9, 9, 9]
    for cut_costs, stolen in ((None, 3), (costs, 2)):
        runs = Runs([1] * 8, 2, cut_costs, slack=0.2)
        assert runs.bounds() == [(0, 4), (4, 8)]
        assert [runs.take(1) for _ in range(4)] == [4, 5, 6, 7]
        assert runs.take(0) == 0
        assert runs.take(1) == stolen


def test_interleaved_takes_hand_out_every_item_exactly_once() -> None:
    import random

    rng = random.Random(7)
    for _ in range(200):
        n = rng.randint(1, 40)
        workers = rng.randint(1, 5)
        runs = Runs([rng.randint(1, 50) for _ in range(n)], workers)
        seen: list[int] = []
        active = list(range(workers))
        while active:
            w = rng.choice(active)
            i = runs.take(w)
            if i is None:
                active.remove(w)
            else:
                seen.append(i)
        assert sorted(seen) == list(range(n))


def _square_slowly(x: int) -> tuple[int, int]:
    time.sleep(0.002 * (x % 5))  # uneven work: the workers steal from each other
    return x * x, os.getpid()


def test_share_out_returns_results_in_item_order_from_several_processes() -> None:
    items = list(range(60))
    told: list[int] = []
    results = share_out(_square_slowly, items, [1] * len(items), 2, on_done=told.append)
    assert [r[0] for r in results] == [x * x for x in items]
    assert len({pid for _, pid in results}) == 2 and os.getpid() not in {pid for _, pid in results}
    assert told == [1] * len(items)  # one call per item, as each is done


def _slow_at_the_end(x: int) -> tuple[int, int]:
    time.sleep(0.03 if x == 59 else 0.001)  # the last item keeps one worker busy after the other is done
    return x * x, os.getpid()


def test_idle_runs_once_in_the_parent_while_a_worker_still_runs() -> None:
    items = list(range(60))
    calls: list[tuple[int, int]] = []  # (pid that ran idle, workers still running then, from /proc)

    before = _children()  # other tests' long-lived children (servers, emulators) are not ours to count

    def idle() -> None:
        calls.append((os.getpid(), len(_children() - before)))
        time.sleep(0.02)  # answers no claim meanwhile: the items answered ahead keep the worker busy

    results = share_out(_slow_at_the_end, items, [1] * len(items), 2, idle=idle)
    assert [r[0] for r in results] == [x * x for x in items]  # every item once, none lost to the early answers
    assert len(calls) == 1 and calls[0][0] == os.getpid()
    assert calls[0][1] >= 1  # at least the busy worker (the finished one may not be reaped yet either)
    assert _children() - before == set()  # all reaped at the end


def test_idle_is_not_called_when_no_other_worker_still_runs() -> None:
    called: list[int] = []
    share_out(_square_slowly, [0], [1], 1, idle=lambda: called.append(1))  # one worker: nobody still runs
    assert called == []


def _fails_on_seven(x: int) -> int:
    if x == 7:
        raise ValueError("seven")
    return x


def test_a_worker_exception_is_raised_in_the_parent() -> None:
    before = _children()
    with pytest.raises(ValueError, match="seven"):
        share_out(_fails_on_seven, list(range(20)), [1] * 20, 2)
    assert _children() == before


def _dies_on_three(x: int) -> int:
    if x == 3:
        os._exit(9)  # no exception, no results: as a crash in native code would end it
    return x


def test_a_worker_that_dies_is_named_and_the_others_are_stopped() -> None:
    before = _children()
    with pytest.raises(WorkerDied, match="exit code 9"):
        share_out(_dies_on_three, list(range(40)), [1] * 40, 2)
    assert _children() == before  # every worker reaped: no zombie, no process left behind


def _children() -> set[int]:
    """The pids of this process's children (from /proc), zombies included."""
    me = str(os.getpid())
    out = set()
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[1] == me:
                out.add(int(pid))
    return out
