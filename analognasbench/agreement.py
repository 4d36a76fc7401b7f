"""Rank agreement between two measurements of the same architectures: one definition for the whole package.

Dataset quality (``anb quality``, the dataset cards' ``release_agreement``), the calibration against the release and
the predictor study all report the same three numbers, computed here (DATASET.md, *How agreement is measured*):

* **Kendall's tau** (tau-b, which corrects for ties) and its two-sided p-value, and **Spearman's rho**, as scipy
  computes them;
* **top-k overlap**: with ``k = max(1, ceil(fraction * n))`` (fraction 0.1: the top 10 %, rounded up so that a
  small sample still has a top), the share of the ``k`` largest values of one side that are also among the ``k``
  largest of the other. It is symmetric, 1 for the same order and 0 when the tops are disjoint. Ties at the cut
  are broken by position (the earlier row counts as larger), so rows are passed in a fixed order (class index).

Only pairs where both values are finite count (``n``); with fewer than 3 such pairs, or where one side is constant
(no ranking to compare), every number is NaN. Orientation is the caller's: larger is better on both sides, so a
predictor whose score ranks the other way is passed negated, or reads as a negative correlation.

It lives at the package root and imports nothing of the package, so that every layer can use it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: The share of the best architectures whose overlap is reported (the top 10 %).
TOP_FRACTION = 0.1


def top_k(n: int, fraction: float = TOP_FRACTION) -> int:
    """How many architectures the top ``fraction`` of ``n`` holds: ``max(1, ceil(fraction * n))``."""
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    return max(1, math.ceil(fraction * n - 1e-9))  # 1e-9: 0.1 * n is not always exact in floating point


def _finite_pairs(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(a, dtype=float).ravel(), np.asarray(b, dtype=float).ravel()
    if a.shape != b.shape:
        raise ValueError(f"the two sides differ in length: {a.size} and {b.size}")
    ok = np.isfinite(a) & np.isfinite(b)
    return a[ok], b[ok]


def top_overlap(a: np.ndarray, b: np.ndarray, fraction: float = TOP_FRACTION) -> float:
    """Share of the top ``k`` (largest values) of ``b`` that are also in the top ``k`` of ``a`` (module docstring:
    ``k = max(1, ceil(fraction * n))`` over the ``n`` finite pairs; NaN without any)."""
    a, b = _finite_pairs(a, b)
    if not len(a):
        return math.nan
    k = top_k(len(a), fraction)
    top_a = set(np.argsort(-a, kind="stable")[:k].tolist())
    top_b = np.argsort(-b, kind="stable")[:k].tolist()
    return sum(i in top_a for i in top_b) / k


@dataclass(frozen=True)
class RankAgreement:
    """Kendall's tau (with its p-value), Spearman's rho and the top-``top_fraction`` overlap on ``n`` finite pairs."""

    n: int
    kendall_tau: float
    kendall_p: float
    spearman_rho: float
    top_overlap: float
    top_fraction: float = TOP_FRACTION


def rank_agreement(a: np.ndarray, b: np.ndarray, fraction: float = TOP_FRACTION) -> RankAgreement:
    """The rank agreement of two value arrays over the same architectures (row by row), as the module defines it."""
    from scipy import stats

    a, b = _finite_pairs(a, b)
    n = len(a)
    if n < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return RankAgreement(n, math.nan, math.nan, math.nan, math.nan, fraction)
    tau = stats.kendalltau(a, b)
    return RankAgreement(n, float(tau.statistic), float(tau.pvalue), float(stats.spearmanr(a, b).statistic),
                         top_overlap(a, b, fraction), fraction)


__all__ = ["TOP_FRACTION", "RankAgreement", "rank_agreement", "top_k", "top_overlap"]
