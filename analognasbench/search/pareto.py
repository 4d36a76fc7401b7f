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


def _front_of_sorted(losses: np.ndarray) -> np.ndarray:
    """Front of distinct losses (smaller is better) sorted lexicographically, as ``np.unique`` returns them: no
    point is dominated by a later one. The same algorithms as Optuna's ``_is_pareto_front`` (checked against it in
    tests/test_integrations_optuna.py; Optuna is an optional extra, so the project keeps its own)."""
    if losses.shape[1] == 2:
        # on the front iff strictly better in the second objective than every point before it
        on = np.ones(len(losses), dtype=bool)
        on[1:] = losses[1:, 1] < np.minimum.accumulate(losses[:, 1])[:-1]
        return on
    # the first remaining point is on the front; drop every remaining point it weakly dominates
    # (O(n * front size) instead of all n^2 pairs)
    on = np.zeros(len(losses), dtype=bool)
    remaining = np.arange(len(losses))
    while remaining.size:
        top = remaining[0]
        on[top] = True
        remaining = remaining[np.any(losses[remaining] < losses[top], axis=1)]
    return on


def _distinct_losses(points: np.ndarray | Sequence[Sequence[float]],
                     maximize: Sequence[bool]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rows without NaN, their distinct losses sorted lexicographically, each row's index into them)."""
    s = _signed(points, maximize)
    idx = np.flatnonzero(np.isfinite(s).all(axis=1))
    distinct, inverse = np.unique(-s[idx], axis=0, return_inverse=True)
    return idx, distinct, inverse.reshape(-1)


def pareto_mask(points: np.ndarray | Sequence[Sequence[float]], maximize: Sequence[bool]) -> np.ndarray:
    """True for the non-dominated rows (O(n log n) for two objectives, O(n * front size) beyond)."""
    idx, distinct, inverse = _distinct_losses(points, maximize)
    mask = np.zeros(len(np.asarray(points)), dtype=bool)
    if idx.size:
        mask[idx] = _front_of_sorted(distinct)[inverse]
    return mask


def nondominated_ranks(points: np.ndarray | Sequence[Sequence[float]], maximize: Sequence[bool]) -> np.ndarray:
    """Rank of every row: 0 on the Pareto front, 1 on the front of the rest, ...; rows with NaN get the last rank."""
    idx, distinct, inverse = _distinct_losses(points, maximize)
    ranks = np.zeros(len(np.asarray(points)), dtype=np.int64)
    of_distinct = np.zeros(len(distinct), dtype=np.int64)
    remaining, rank = np.arange(len(distinct)), 0
    while remaining.size:  # a subset of a sorted array stays sorted
        on = _front_of_sorted(distinct[remaining])
        of_distinct[remaining[on]] = rank
        remaining, rank = remaining[~on], rank + 1
    ranks[:] = rank
    ranks[idx] = of_distinct[inverse]
    return ranks


def hypervolume_2d(points: np.ndarray | Sequence[Sequence[float]], reference: Sequence[float],
                   maximize: Sequence[bool]) -> float:
    """Exact area dominated by ``points`` and bounded by ``reference`` (a point worse than every point that counts
    in both objectives). Points not strictly better than the reference in both objectives add nothing."""
    if len(maximize) != 2:
        raise ValueError(f"hypervolume_2d needs exactly two objectives; got {len(maximize)}")
    ref = -_signed(np.asarray(reference, dtype=np.float64).reshape(1, 2), maximize)[0]  # as a loss
    if not np.isfinite(ref).all():
        raise ValueError(f"the reference point must be finite; got {reference!r}")
    _, losses, _ = _distinct_losses(points if len(points) else np.empty((0, 2)), maximize)
    losses = losses[(losses < ref).all(axis=1)]
    if not len(losses):
        return 0.0
    front = losses[_front_of_sorted(losses)]  # first loss ascending, second strictly descending
    # one strip per front point: its width to the reference, its height up to the previous point's second loss
    heights = np.concatenate([ref[1:], front[:-1, 1]]) - front[:, 1]
    return float((ref[0] - front[:, 0]) @ heights)
