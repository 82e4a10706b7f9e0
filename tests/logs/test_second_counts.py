"""SecondCounts reads like a Counter[int] and stays small: dict while sparse, a 4-byte array once dense."""

from __future__ import annotations

import random
import sys
from collections import Counter

from infraleash.logs.second_counts import DENSE_AFTER, SecondCounts


def test_it_counts_like_a_counter_through_the_switch_to_an_array_and_far_off_seconds() -> None:
    r = random.Random(3)
    seconds = [1_795_000_000 + r.randrange(5000) for _ in range(20_000)]
    seconds += [1_795_000_000 - 3_000_000, 1_795_000_000 + 9_000_000, 1_794_999_000]  # a clock jump each way
    ref: Counter[int] = Counter()
    c = SecondCounts()
    for s in seconds:
        c.add(s)
        ref[s] += 1
    assert c._dense is not None and len(c._side) == 2  # dense, with the two far-off seconds aside
    assert list(c.items()) == sorted(ref.items()) and list(c) == sorted(ref)
    assert len(c) == len(ref) and sum(c.values()) == len(seconds) and c == ref
    assert c[1_795_000_000 + 9_000_000] == 1 and c[12] == 0 and 12 not in c
    c[1_794_999_000] += 4
    assert c[1_794_999_000] == 5
    merged = SecondCounts(ref)
    merged.update(c)
    assert sum(merged.values()) == 2 * len(seconds) + 4


def test_a_sparse_series_stays_a_dict_and_a_dense_one_costs_four_bytes_a_second() -> None:
    sparse = SecondCounts()
    for i in range(DENSE_AFTER * 2):
        sparse.add(1_795_000_000 + 1000 * i)
    assert sparse._dict is not None
    dense = SecondCounts()
    for i in range(21_600):  # one event a second for six hours
        dense.add(1_795_000_000 + i, 3)
    assert dense._dict is None and dense._dense is not None
    assert sys.getsizeof(dense._dense) < 21_600 * 4 * 1.2
    assert len(dense) == 21_600 and sum(dense.values()) == 3 * 21_600
