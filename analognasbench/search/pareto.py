"""Pareto dominance, non-dominated ranks and the exact 2-D hypervolume, for any mix of maximised and minimised
objectives.

Points are rows of an ``(n, k)`` array; ``maximize`` says per column whether larger is better. Internally every
column is turned into "larger is better" (minimised columns negated). A point dominates another when it is at
least as good in every objective and better in one; equal points do not dominate each other (both stay on the
front). Rows with a NaN never dominate and are never on the front.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def _signed(points: np.ndarray | Sequence[Sequence[float]], maximize: Sequence[bool]) -> np.ndarray:
    p = np.asarray(points, dtype=np.float64)
    if p.ndim != 2:
        raise ValueError(f"points must be a 2-D array (one row per point); got shape {p.shape}")
    if p.shape[1] != len(maximize):
        raise ValueError(f"points have {p.shape[1]} objectives but maximize has {len(maximize)} entries")
    return p * np.where(np.asarray(maximize, dtype=bool), 1.0, -1.0)


def pareto_mask(points: np.ndarray | Sequence[Sequence[float]], maximize: Sequence[bool]) -> np.ndarray:
    """True for the non-dominated rows (O(n log n) for two objectives, O(n^2) beyond)."""
    s = _signed(points, maximize)
    n = len(s)
    ok = np.isfinite(s).all(axis=1)
    mask = np.zeros(n, dtype=bool)
    if not ok.any():
        return mask
    idx = np.flatnonzero(ok)
    q = s[idx]
    if q.shape[1] == 2:
        # sort by the first objective (best first), then the second (best first); a point is on the front when
        # its second objective is at least the best seen among points strictly better in the first, and equal
        # points share the verdict
        order = np.lexsort((-q[:, 1], -q[:, 0]))
        best_second = -np.inf
        i = 0
        while i < len(order):
            j = i
            while j + 1 < len(order) and q[order[j + 1], 0] == q[order[i], 0]:
                j += 1
            group = order[i:j + 1]  # equal first objective; sorted by second, best first
            top = q[group[0], 1]
            if top > best_second:
                on = group[q[group, 1] == top]
                mask[idx[on]] = True
            elif top == best_second:
                pass  # dominated: as good in the second, worse in the first
            best_second = max(best_second, top)
            i = j + 1
        return mask
    for a in range(len(q)):
        dominated = np.any(np.all(q >= q[a], axis=1) & np.any(q > q[a], axis=1))
        mask[idx[a]] = not dominated
    return mask


def nondominated_ranks(points: np.ndarray | Sequence[Sequence[float]], maximize: Sequence[bool]) -> np.ndarray:
    """Rank of every row: 0 on the Pareto front, 1 on the front of the rest, ...; rows with NaN get the last rank."""
    s = np.asarray(points, dtype=np.float64)
    ranks = np.full(len(s), -1, dtype=np.int64)
    left = np.isfinite(_signed(s, maximize)).all(axis=1)
    rank = 0
    while left.any():
        idx = np.flatnonzero(left)
        front = idx[pareto_mask(s[idx], maximize)]
        ranks[front] = rank
        left[front] = False
        rank += 1
    ranks[ranks < 0] = rank
    return ranks


def hypervolume_2d(points: np.ndarray | Sequence[Sequence[float]], reference: Sequence[float],
                   maximize: Sequence[bool]) -> float:
    """Exact area dominated by ``points`` and bounded by ``reference`` (a point worse than every point that counts
    in both objectives). Points not strictly better than the reference in both objectives add nothing."""
    if len(maximize) != 2:
        raise ValueError(f"hypervolume_2d needs exactly two objectives; got {len(maximize)}")
    ref = _signed(np.asarray(reference, dtype=np.float64).reshape(1, 2), maximize)[0]
    if not np.isfinite(ref).all():
        raise ValueError(f"the reference point must be finite; got {reference!r}")
    s = _signed(points, maximize) if len(points) else np.empty((0, 2))
    s = s[np.isfinite(s).all(axis=1)]
    s = s[(s[:, 0] > ref[0]) & (s[:, 1] > ref[1])]
    if not len(s):
        return 0.0
    front = s[pareto_mask(s, (True, True))]
    front = front[np.argsort(-front[:, 0], kind="stable")]  # best first objective first, worst second
    area, prev_second = 0.0, ref[1]
    for first, second in front:
        if second > prev_second:
            area += (first - ref[0]) * (second - prev_second)
            prev_second = second
    return float(area)
