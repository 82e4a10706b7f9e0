"""climb_start: the sample where a flat series starts to climb, for clean, noisy and straight series."""

from __future__ import annotations

import random

from infraleash.logs.change_points import climb_start


def _series(flat: int, climb: int, noise: float = 0.0, seed: int = 1) -> list[tuple[float, float]]:
    r = random.Random(seed)
    pts = [(30.0 * i, 512 + r.uniform(-noise, noise)) for i in range(flat)]
    pts += [(30.0 * (flat + i), 512 + 6 * (i + 1) + r.uniform(-noise, noise)) for i in range(climb)]
    return pts


def test_the_climb_starts_at_the_last_flat_sample() -> None:
    assert climb_start(_series(50, 60)) == 49
    assert climb_start(_series(10, 100)) == 9


def test_noise_moves_the_start_by_at_most_one_sample() -> None:
    for seed in range(10):
        assert abs(climb_start(_series(40, 40, noise=3.0, seed=seed)) - 39) <= 1


def test_a_straight_climb_starts_at_the_first_sample_and_short_series_too() -> None:
    assert climb_start([(30.0 * i, 100.0 + 2 * i) for i in range(80)]) == 0
    assert climb_start(_series(2, 3)) == 0
