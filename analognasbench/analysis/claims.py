"""The paper's three key claims, each tested on a dataset and reported as holds / does not hold / inconclusive,
with the statistic behind the verdict.

1. PTQ and QAT rankings do not capture AIMC noise: Kendall's tau of PTQ (QAT) with noisy accuracy is lower than
   with baseline accuracy by at least ``min_effect``.
2. Robust architectures favour wider, branched cells: among high-baseline cells, the robust ones (noisy drop in the
   lower quartile) have more 3x3 and fewer 1x1 convolutions than the rest.
3. Skip connections improve resilience to drift: among good cells, those with a skip connection lose less
   accuracy between 60 s and 30 days than those without.

Each verdict needs both statistical significance (p < alpha, or a bootstrap confidence interval excluding the
threshold) *and* an effect of at least ``min_effect``; a confident absence of such an effect is "does not hold";
everything in between is "inconclusive".
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analognasbench.analysis.drift import drift_drops, good_architectures
from analognasbench.analysis.features import count_column, op_counts
from analognasbench.analysis.registry import (
    AnalysisParams,
    MissingDataError,
    Section,
    Verdict,
    fmt_p,
    quantile_threshold,
    rank_biserial,
    register,
    require,
)
from analognasbench.pipeline.schema import Metric
from analognasbench.space import Op

MIN_GROUP = 20
#: Claim 3 compares the drift drop at 60 s with the one at 30 days.
DRIFT_KEYS: tuple[int, ...] = (60, 2592000)


@dataclass
class ClaimResult:
    claim: str
    verdict: Verdict
    statistic: str
    """What was measured, in words, with its value."""
    value: float
    """The headline effect size."""
    p_value: float | None
    ci: tuple[float, float] | None = None
    details: pd.DataFrame = field(default_factory=pd.DataFrame)

    def as_row(self) -> dict[str, object]:
        return {"claim": self.claim, "verdict": self.verdict.value, "statistic": self.statistic, "value": self.value,
                "p_value": self.p_value, "ci_low": self.ci[0] if self.ci else None,
                "ci_high": self.ci[1] if self.ci else None}


def _tau_gap_bootstrap(x: np.ndarray, base: np.ndarray, noisy: np.ndarray, n_boot: int,
                       rng: np.random.Generator, max_n: int = 2000) -> tuple[float, tuple[float, float]]:
    """tau(x, base) - tau(x, noisy) and its percentile bootstrap CI (rows resampled jointly; at most ``max_n``
    rows per resample to bound the cost of Kendall's tau)."""
    from scipy.stats import kendalltau

    gap = float(kendalltau(x, base).statistic - kendalltau(x, noisy).statistic)
    n = len(x)
    m = min(n, max_n)
    gaps = np.empty(n_boot)
    for i in range(n_boot):
        idx = rng.integers(0, n, m)
        gaps[i] = kendalltau(x[idx], base[idx]).statistic - kendalltau(x[idx], noisy[idx]).statistic
    lo, hi = np.nanquantile(gaps, [0.025, 0.975])
    return gap, (float(lo), float(hi))


def claim_quantization_misses_noise(df: pd.DataFrame, *, min_effect: float = 0.1, n_bootstrap: int = 200,
                                    seed: int = 0) -> ClaimResult:
    """Claim 1: tau(PTQ, noisy) and tau(QAT, noisy) are lower than tau(PTQ/QAT, baseline) by >= ``min_effect``.

    Holds when the 95 % bootstrap CI of the gap lies above ``min_effect`` for both PTQ and QAT (or for the one the
    dataset has); does not hold when the CI lies below ``min_effect`` for any of them; else inconclusive.
    """
    require(df, [Metric.BASELINE, Metric.NOISY])
    rng = np.random.default_rng(seed)
    rows = []
    for m in (Metric.PTQ, Metric.QAT):
        if m.value not in df.columns:
            continue
        d = df[[m.value, Metric.BASELINE.value, Metric.NOISY.value]].dropna()
        if len(d) < 20:
            continue
        gap, (lo, hi) = _tau_gap_bootstrap(*(d[c].to_numpy(float) for c in d.columns), n_bootstrap, rng)
        from scipy.stats import kendalltau

        rows.append({"proxy": m.value, "n": len(d),
                     "tau_with_baseline": kendalltau(d[m.value], d[Metric.BASELINE.value]).statistic,
                     "tau_with_noisy": kendalltau(d[m.value], d[Metric.NOISY.value]).statistic,
                     "gap": gap, "ci_low": lo, "ci_high": hi})
    if not rows:
        raise MissingDataError("claim 1 needs PTQ or QAT accuracy with baseline and noisy accuracy (>= 20 rows)")
    det = pd.DataFrame(rows)
    if (det["ci_low"] > min_effect).all():
        verdict = Verdict.HOLDS
    elif (det["ci_high"] < min_effect).any():
        verdict = Verdict.DOES_NOT_HOLD
    else:
        verdict = Verdict.INCONCLUSIVE
    worst = det.loc[det["gap"].idxmin()]
    stat = "; ".join(f"{r.proxy.split('_')[0].upper()}: tau with baseline {r.tau_with_baseline:.3f} vs with noisy "
                     f"{r.tau_with_noisy:.3f}, gap {r.gap:.3f} [95 % CI {r.ci_low:.3f}, {r.ci_high:.3f}]"
                     for r in det.itertuples())
    return ClaimResult("1. PTQ and QAT rankings do not capture AIMC noise", verdict,
                       f"{stat} (threshold {min_effect:g})", float(worst["gap"]), None,
                       (float(worst["ci_low"]), float(worst["ci_high"])), det)


def _directional(rb: float, p: float, want_positive: bool, alpha: float, min_effect: float) -> Verdict:
    signed = rb if want_positive else -rb
    if not np.isfinite(p):
        return Verdict.INCONCLUSIVE
    if p < alpha and signed >= min_effect:
        return Verdict.HOLDS
    if (p < alpha and signed < 0) or (p >= alpha and abs(rb) < min_effect):
        return Verdict.DOES_NOT_HOLD
    return Verdict.INCONCLUSIVE


def claim_wide_branched_cells(df: pd.DataFrame, *, baseline_quantile: float = 0.5, robust_quantile: float = 0.25,
                              alpha: float = 0.05, min_effect: float = 0.1) -> ClaimResult:
    """Claim 2: robust cells have more 3x3 and fewer 1x1 convolutions (Mann-Whitney, rank-biserial effect).

    Holds when both directions are significant (alpha split over the two tests) with |effect| >= ``min_effect``;
    does not hold when either is significant the other way or clearly negligible; otherwise inconclusive. Skip and
    pooling counts are reported in the details (the paper's "in moderation") but do not enter the verdict.
    """
    require(df, [Metric.BASELINE, Metric.NOISY])
    b_thr = quantile_threshold(df[Metric.BASELINE.value], baseline_quantile)
    high = df[(df[Metric.BASELINE.value] >= b_thr) & df[Metric.NOISY.value].notna()]
    drop = (high[Metric.BASELINE.value] - high[Metric.NOISY.value]).to_numpy(float)
    robust = drop <= np.quantile(drop, robust_quantile) if len(drop) else np.zeros(0, bool)
    if robust.sum() < MIN_GROUP or (~robust).sum() < MIN_GROUP:
        return ClaimResult("2. Robust architectures favour wider, branched cells", Verdict.INCONCLUSIVE,
                           f"too few architectures ({int(robust.sum())} robust, {int((~robust).sum())} others; "
                           f"need {MIN_GROUP} each)", float("nan"), None)
    counts = op_counts(high)
    rows, verdicts = [], []
    for op, want in ((Op.NOR_CONV_3X3, True), (Op.NOR_CONV_1X1, False), (Op.SKIP_CONNECT, None),
                     (Op.AVG_POOL_3X3, None)):
        c = counts[count_column(op)].to_numpy()
        rb, p = rank_biserial(c[robust], c[~robust])
        rows.append({"op": op.nb201_name, "expected": {True: "more", False: "fewer", None: "(not tested)"}[want],
                     "robust_mean": c[robust].mean(), "others_mean": c[~robust].mean(), "rank_biserial": rb,
                     "p_value": p})
        if want is not None:
            verdicts.append(_directional(rb, p, want, alpha / 2, min_effect))
    det = pd.DataFrame(rows)
    # Wider / branched: number of live input->output paths.
    from analognasbench.analysis.features import path_patterns

    n_paths = np.array([len(s) for s in path_patterns(high)])
    rb, p = rank_biserial(n_paths[robust], n_paths[~robust])
    det = pd.concat([det, pd.DataFrame([{"op": "live paths", "expected": "(not tested)",
                                         "robust_mean": n_paths[robust].mean(), "others_mean": n_paths[~robust].mean(),
                                         "rank_biserial": rb, "p_value": p}])], ignore_index=True)
    if all(v == Verdict.HOLDS for v in verdicts):
        verdict = Verdict.HOLDS
    elif any(v == Verdict.DOES_NOT_HOLD for v in verdicts):
        verdict = Verdict.DOES_NOT_HOLD
    else:
        verdict = Verdict.INCONCLUSIVE
    c3, c1 = det.iloc[0], det.iloc[1]
    stat = (f"robust vs other cells: conv3x3 {c3.robust_mean:.2f} vs {c3.others_mean:.2f} edges (rank-biserial "
            f"{c3.rank_biserial:+.2f}, p {fmt_p(c3.p_value)}); conv1x1 {c1.robust_mean:.2f} vs {c1.others_mean:.2f} "
            f"(rank-biserial {c1.rank_biserial:+.2f}, p {fmt_p(c1.p_value)})")
    return ClaimResult("2. Robust architectures favour wider, branched cells", verdict, stat,
                       float(min(c3.rank_biserial, -c1.rank_biserial)), float(max(c3.p_value, c1.p_value)), None, det)


def claim_skip_drift(df: pd.DataFrame, *, baseline_quantile: float = 0.5, series: str = "analog",
                     alpha: float = 0.05, min_effect: float = 0.1) -> ClaimResult:
    """Claim 3: cells with a skip connection lose less accuracy from 60 s to 30 days (Mann-Whitney on the loss).

    ``series``: 'analog' (the hardware-aware trained network, as deployed) or 'noisy'.
    """
    good = good_architectures(df, baseline_quantile)
    drops = drift_drops(good, series)
    first, last = DRIFT_KEYS
    if drops.empty or first not in drops.columns or last not in drops.columns:
        raise MissingDataError(f"claim 3 needs {series}_drift_60 and {series}_drift_2592000")
    loss = (drops[last] - drops[first]).to_numpy(float)
    has_skip = (op_counts(good)[count_column(Op.SKIP_CONNECT)] > 0).to_numpy()
    ok = np.isfinite(loss)
    with_s, without = loss[ok & has_skip], loss[ok & ~has_skip]
    if len(with_s) < MIN_GROUP or len(without) < MIN_GROUP:
        return ClaimResult("3. Skip connections improve resilience to drift", Verdict.INCONCLUSIVE,
                           f"too few good architectures ({len(with_s)} with skip, {len(without)} without)",
                           float("nan"), None)
    rb, p = rank_biserial(without, with_s)  # positive: cells without skip lose more
    verdict = _directional(rb, p, True, alpha, min_effect)
    det = pd.DataFrame([{"group": "with skip", "n": len(with_s), "mean_loss": with_s.mean(),
                         "median_loss": np.median(with_s)},
                        {"group": "without skip", "n": len(without), "mean_loss": without.mean(),
                         "median_loss": np.median(without)}])
    stat = (f"{series} network, accuracy loss 60 s -> 30 days: {with_s.mean():.2f} points with skip (n = "
            f"{len(with_s)}) vs {without.mean():.2f} without (n = {len(without)}); rank-biserial {rb:+.2f}, "
            f"Mann-Whitney p {fmt_p(p)}")
    return ClaimResult("3. Skip connections improve resilience to drift", verdict, stat, rb, p, None, det)


def evaluate_claims(df: pd.DataFrame, params: AnalysisParams | None = None) -> list[ClaimResult]:
    """All three claims; a claim the dataset cannot test is returned as inconclusive with the reason."""
    params = params or AnalysisParams()
    out = []
    calls = (
        ("1. PTQ and QAT rankings do not capture AIMC noise",
         lambda: claim_quantization_misses_noise(df, min_effect=params.min_effect,
                                                 n_bootstrap=min(params.n_bootstrap, 200), seed=params.seed)),
        ("2. Robust architectures favour wider, branched cells",
         lambda: claim_wide_branched_cells(df, baseline_quantile=params.baseline_quantile,
                                           robust_quantile=params.robust_quantile, alpha=params.alpha,
                                           min_effect=params.min_effect)),
        ("3. Skip connections improve resilience to drift",
         lambda: claim_skip_drift(df, baseline_quantile=params.baseline_quantile, alpha=params.alpha,
                                  min_effect=params.min_effect)),
    )
    for name, call in calls:
        try:
            out.append(call())
        except MissingDataError as exc:
            out.append(ClaimResult(name, Verdict.INCONCLUSIVE, f"not testable on this dataset: {exc}",
                                   float("nan"), None))
    return out


def claims_table(results: list[ClaimResult]) -> pd.DataFrame:
    return pd.DataFrame([r.as_row() for r in results])


@register("claims", "The paper's key claims", "Sec. 3 (summary)", order=5)
def section(df: pd.DataFrame, params: AnalysisParams) -> Section:
    results = evaluate_claims(df, params)
    sec = Section("claims", "The paper's key claims", "Sec. 3",
                  "Each claim is tested on this dataset. 'holds' needs a significant effect of at least "
                  f"{params.min_effect:g} (rank correlation or Kendall-tau gap) at alpha = {params.alpha:g}; "
                  "'does not hold' means a significant opposite or a confidently negligible effect; otherwise "
                  "'inconclusive'.")
    for r in results:
        sec.findings.append(f"**{r.claim}: {r.verdict.value.upper()}.** {r.statistic}.")
        if not r.details.empty:
            sec.tables[f"claim{r.claim[0]}_details"] = (f"Details for claim {r.claim}", r.details)
    sec.tables["claims"] = ("Verdict and statistic for each claim", claims_table(results))
    return sec
