"""The one definition of rank agreement and top-k overlap (``analognasbench.agreement``), and that every caller uses it."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analognasbench.agreement import rank_agreement, top_k, top_overlap
from analognasbench.fidelity import calibration as cal
from analognasbench.fidelity import quality as q
from analognasbench.predict import evaluate


@pytest.mark.parametrize("n, k", [(1, 1), (5, 1), (10, 1), (11, 2), (58, 6), (70, 7), (104, 11), (6165, 617),
                                  (6466, 647), (15625, 1563)])
def test_top_k_is_the_ceiling_of_a_tenth_and_at_least_one(n: int, k: int) -> None:
    assert top_k(n) == k


def test_top_k_refuses_a_fraction_outside_0_1() -> None:
    for bad in (0.0, -0.1, 1.5):
        with pytest.raises(ValueError, match="fraction"):
            top_k(10, bad)


def test_top_overlap_counts_shared_top_entries_symmetrically() -> None:
    a = np.arange(20.0)                       # top 2: rows 19, 18
    b = np.r_[np.arange(18.0), 100.0, -1.0]   # top 2: rows 18, 17
    assert top_overlap(a, b) == top_overlap(b, a) == 0.5
    assert top_overlap(a, a) == 1.0 and top_overlap(a, -a) == 0.0


def test_ties_at_the_cut_go_to_the_earlier_row() -> None:
    a = np.array([5.0, 5.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0])   # k = 1: row 0 wins the tie
    assert top_overlap(a, np.eye(10)[0]) == 1.0 and top_overlap(a, np.eye(10)[1]) == 0.0


def test_non_finite_pairs_are_left_out_and_too_few_or_constant_give_nan() -> None:
    a = np.array([1.0, 2.0, np.nan, 4.0, 5.0, np.inf])
    b = np.array([1.0, 2.0, 3.0, np.nan, 5.0, 6.0])
    r = rank_agreement(a, b)
    assert r.n == 3 and r.kendall_tau == pytest.approx(1.0) and r.top_overlap == 1.0
    assert math.isnan(rank_agreement([1.0, 2.0], [2.0, 1.0]).kendall_tau)
    flat = rank_agreement(np.ones(10), np.arange(10.0))
    assert flat.n == 10 and all(math.isnan(v) for v in (flat.kendall_tau, flat.spearman_rho, flat.top_overlap))
    with pytest.raises(ValueError, match="length"):
        rank_agreement([1.0, 2.0, 3.0], [1.0, 2.0])


def test_rank_agreement_is_scipys_tau_b_and_rho() -> None:
    rng = np.random.default_rng(0)
    a = rng.integers(0, 8, 200).astype(float)  # many ties: tau-b differs from tau-a
    b = a + rng.normal(0, 2, 200)
    r = rank_agreement(a, b)
    tau = stats.kendalltau(a, b)
    assert (r.kendall_tau, r.kendall_p) == pytest.approx((tau.statistic, tau.pvalue))
    assert r.spearman_rho == pytest.approx(stats.spearmanr(a, b).statistic)


def test_quality_calibration_and_predict_report_the_same_numbers() -> None:
    """The three former copies (k = ceil in one, round in two) now agree on a size where they differed: n = 104."""
    rng = np.random.default_rng(1)
    n = 104
    classes = np.arange(n) * 3
    x = rng.normal(size=n)
    y = x + rng.normal(0, 0.8, n)
    expected = rank_agreement(x, y)
    assert top_k(n) == 11 and round(0.1 * n) == 10

    low = pd.DataFrame({"canonical_index": classes, "noisy_accuracy": x})
    high = pd.DataFrame({"canonical_index": classes, "noisy_accuracy": y})
    fid = q.rank_fidelity(low, high, ("noisy_accuracy",)).iloc[0]
    assert (fid.kendall_tau, fid.spearman_rho, fid.top10_overlap) == pytest.approx(
        (expected.kendall_tau, expected.spearman_rho, expected.top_overlap))

    release = pd.DataFrame({"canonical_index": classes, "noisy_accuracy": y})
    a = cal.agreement(low, release, ("noisy_accuracy",))[0]
    assert (a.n, a.kendall_tau, a.spearman_rho, a.top10_overlap) == pytest.approx(
        (n, expected.kendall_tau, expected.spearman_rho, expected.top_overlap))

    p = evaluate.agreement(x, y)
    assert (p["n"], p["kendall"], p["spearman"], p["top10"]) == pytest.approx(
        (n, expected.kendall_tau, expected.spearman_rho, expected.top_overlap))
    assert evaluate.agreement(-x, y, sign=-1)["top10"] == pytest.approx(expected.top_overlap)
    assert q.top_overlap is evaluate.top_overlap is top_overlap  # the old names are the one function
