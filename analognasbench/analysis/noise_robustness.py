"""Noise robustness (paper Sec. 3.2): which operations and path patterns make the digitally trained network
lose little accuracy when programmed onto the AIMC chip.

Among architectures with high baseline accuracy, the noisy drop is ``baseline - noisy``; *robust* architectures
have a drop in the lower quartile (a parameter), the rest are *non-robust*.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analognasbench.analysis.features import (
    REAL_OPS,
    count_column,
    op_counts,
    parse_pattern,
    pattern_names,
    pattern_presence,
)
from analognasbench.analysis.registry import (
    AnalysisParams,
    FigureSpec,
    MissingDataError,
    Section,
    bonferroni,
    fmt_p,
    quantile_threshold,
    rank_biserial,
    register,
    require,
    spearman,
)
from analognasbench.analysis.style import LINESTYLES, MARKERS, OP_SHORT, grouped_bars, new_figure
from analognasbench.pipeline.schema import Metric
from analognasbench.space import OP_NAMES, Op


@dataclass
class NoiseRobustnessResult:
    baseline_threshold: float
    """Baseline accuracy (%) at or above which an architecture counts as high-accuracy."""
    drop_threshold: float
    """Noisy drop (points) at or below which a high-accuracy architecture counts as robust."""
    n_high: int
    n_robust: int
    op_share: pd.DataFrame
    """op, robust_share, non_robust_share (mean fraction of the 6 edges), difference, rank_biserial, p_value,
    significant (Mann-Whitney on counts, Bonferroni over ops)."""
    count_trend: pd.DataFrame
    """op, spearman_rho of op count vs noisy drop, p_value, significant."""
    robust_by_count: pd.DataFrame
    """op, count (0..6), n, n_robust, share_robust."""
    patterns: pd.DataFrame
    """pattern (paper notation), length, names, robust_freq, non_robust_freq (share of each group whose cell has
    the pattern on a live path), mean_drop_with, mean_drop_without, rank_biserial (drop with vs without), p_value,
    significant, effect ('hurts' / 'helps' / '')."""

    def top_patterns(self, group: str, length: int, k: int = 5) -> pd.DataFrame:
        """The ``k`` most frequent patterns of a given length in 'robust' or 'non_robust' architectures."""
        if group not in ("robust", "non_robust"):
            raise ValueError(f"group must be 'robust' or 'non_robust'; got {group!r}")
        sub = self.patterns[self.patterns["length"] == length]
        return sub.sort_values(f"{group}_freq", ascending=False).head(k)[["pattern", "names", f"{group}_freq"]]


def noise_robustness(df: pd.DataFrame, *, baseline_quantile: float = 0.5, robust_quantile: float = 0.25,
                     alpha: float = 0.05, min_pattern_count: int = 10) -> NoiseRobustnessResult:
    """Robust vs non-robust architectures by noisy drop, with op shares, count trends and path patterns."""
    require(df, [Metric.BASELINE, Metric.NOISY])
    b_thr = quantile_threshold(df[Metric.BASELINE.value], baseline_quantile)
    high = df[(df[Metric.BASELINE.value] >= b_thr) & df[Metric.NOISY.value].notna()]
    if len(high) < 8:
        raise MissingDataError(f"only {len(high)} architectures with baseline >= {b_thr:.2f} %; need >= 8")
    drop = (high[Metric.BASELINE.value] - high[Metric.NOISY.value]).to_numpy(float)
    d_thr = float(np.quantile(drop, robust_quantile))
    robust = drop <= d_thr
    counts = op_counts(high)

    share_rows, trend_rows, by_count_rows = [], [], []
    for op in REAL_OPS:
        c = counts[count_column(op)].to_numpy()
        rb, p = rank_biserial(c[robust], c[~robust])
        share_rows.append({"op": OP_NAMES[op], "robust_share": c[robust].mean() / 6,
                           "non_robust_share": c[~robust].mean() / 6 if (~robust).any() else np.nan,
                           "rank_biserial": rb, "p_value": p})
        rho, tp = spearman(c, drop)
        trend_rows.append({"op": OP_NAMES[op], "spearman_rho": rho, "p_value": tp})
        for k in range(7):
            sel = c == k
            by_count_rows.append({"op": OP_NAMES[op], "count": k, "n": int(sel.sum()),
                                  "n_robust": int((sel & robust).sum()),
                                  "share_robust": float(robust[sel].mean()) if sel.any() else np.nan})
    op_share = pd.DataFrame(share_rows)
    op_share["difference"] = op_share["robust_share"] - op_share["non_robust_share"]
    op_share["significant"] = bonferroni(op_share["p_value"], alpha)
    trend = pd.DataFrame(trend_rows)
    trend["significant"] = bonferroni(trend["p_value"], alpha)
    patterns = pattern_table(pattern_presence(high, min_count=min_pattern_count), drop, robust, alpha,
                             adjust_for=counts[[count_column(op) for op in REAL_OPS]].to_numpy(float))
    return NoiseRobustnessResult(b_thr, d_thr, len(high), int(robust.sum()), op_share, trend,
                                 pd.DataFrame(by_count_rows), patterns)


def residualize(value: np.ndarray, covariates: np.ndarray) -> np.ndarray:
    """``value`` minus its least-squares fit on ``covariates`` (plus intercept)."""
    x = np.column_stack([np.ones(len(value)), covariates])
    beta, *_ = np.linalg.lstsq(x, value, rcond=None)
    return value - x @ beta


def pattern_table(presence: pd.DataFrame, value: np.ndarray, in_group: np.ndarray, alpha: float,
                  group: str = "robust", other: str = "non_robust",
                  adjust_for: np.ndarray | None = None) -> pd.DataFrame:
    """Per path pattern: frequency in each group and a Mann-Whitney test of ``value`` with vs without it.

    ``value`` is a loss (higher = worse), so a significant positive rank-biserial correlation means the pattern
    *hurts*. Patterns share ops, so a pattern of 1x1 convolutions looks harmful whenever 1x1 convolutions are;
    with ``adjust_for`` (the op counts) the test is repeated on the residual of ``value`` after a linear fit on
    them (``adjusted_*`` columns), which isolates what the *arrangement* of ops along a path adds.
    """
    resid = residualize(value, adjust_for) if adjust_for is not None else None
    rows = []
    for label in presence.columns:
        has = presence[label].to_numpy()
        if has.all() or not has.any():
            continue
        pat = parse_pattern(label)
        rb, p = rank_biserial(value[has], value[~has])
        rows.append({"pattern": label, "length": len(pat), "names": pattern_names(pat),
                     f"{group}_freq": has[in_group].mean() if in_group.any() else np.nan,
                     f"{other}_freq": has[~in_group].mean() if (~in_group).any() else np.nan,
                     "n_with": int(has.sum()), "mean_drop_with": value[has].mean(),
                     "mean_drop_without": value[~has].mean(), "rank_biserial": rb, "p_value": p})
        if resid is not None:
            rows[-1]["adjusted_rank_biserial"], rows[-1]["adjusted_p_value"] = rank_biserial(resid[has], resid[~has])
    cols = ["pattern", "length", "names", f"{group}_freq", f"{other}_freq", "n_with", "mean_drop_with",
            "mean_drop_without", "rank_biserial", "p_value"]
    if resid is not None:
        cols += ["adjusted_rank_biserial", "adjusted_p_value"]
    table = pd.DataFrame(rows, columns=cols)
    table["significant"] = bonferroni(table["p_value"], alpha)
    table["effect"] = np.where(table["significant"], np.where(table["rank_biserial"] > 0, "hurts", "helps"), "")
    if resid is not None:
        sig = bonferroni(table["adjusted_p_value"], alpha)
        table["adjusted_effect"] = np.where(sig, np.where(table["adjusted_rank_biserial"] > 0, "hurts", "helps"), "")
    return table.sort_values(["length", "p_value"]).reset_index(drop=True)


# ---- figures -------------------------------------------------------------------------------------------------


def plot_op_share(res: NoiseRobustnessResult):
    fig, ax = new_figure(width=5.5, height=3.2)
    cats = [OP_SHORT[Op[o.upper()]] for o in res.op_share["op"]]
    grouped_bars(ax, cats, {"robust": list(res.op_share["robust_share"] * 100),
                            "non-robust": list(res.op_share["non_robust_share"] * 100)})
    ax.set_ylabel("mean share of cell edges (%)")
    ax.set_title(f"Operation share, robust (n = {res.n_robust}) vs non-robust (n = {res.n_high - res.n_robust})")
    ax.legend()
    return fig


def plot_robust_by_count(res: NoiseRobustnessResult):
    fig, ax = new_figure(width=5.5, height=3.4)
    for i, op in enumerate(REAL_OPS):
        sub = res.robust_by_count[(res.robust_by_count["op"] == OP_NAMES[op]) & (res.robust_by_count["n"] >= 5)]
        ax.plot(sub["count"], sub["share_robust"] * 100, marker=MARKERS[i], linestyle=LINESTYLES[i],
                label=OP_SHORT[op])
    ax.set_xlabel("number of edges with the operation (of 6)")
    ax.set_ylabel("robust architectures (%)")
    ax.set_title("Share of robust architectures vs operation count (groups with n >= 5)")
    ax.legend(ncols=2)
    return fig


def plot_top_patterns(res: NoiseRobustnessResult, k: int = 5):
    fig, axes = new_figure(3, 1, width=10.0, height=3.2)
    for ax, length in zip(np.atleast_1d(axes), (1, 2, 3)):
        sub = res.patterns[res.patterns["length"] == length]
        top = sub.assign(m=np.maximum(sub["robust_freq"], sub["non_robust_freq"])).nlargest(k, "m")
        labels = list(top["pattern"])[::-1]
        grouped_bars(ax, labels, {"robust": list(top["robust_freq"][::-1] * 100),
                                  "non-robust": list(top["non_robust_freq"][::-1] * 100)}, horizontal=True)
        ax.set_xlabel("architectures with the pattern (%)")
        ax.set_title(f"{length}-operation paths")
    np.atleast_1d(axes)[0].set_ylabel("path pattern (op indices)")
    np.atleast_1d(axes)[0].legend(loc="lower right")
    fig.suptitle("Most frequent input->output path patterns (0 skip, 2 conv 3x3, 3 conv 1x1, 4 avg pool)", fontsize=9)
    return fig


@register("noise_robustness", "Noise robustness", "Sec. 3.2", order=20)
def section(df: pd.DataFrame, params: AnalysisParams) -> Section:
    res = noise_robustness(df, baseline_quantile=params.baseline_quantile, robust_quantile=params.robust_quantile,
                           alpha=params.alpha)
    sec = Section("noise_robustness", "Noise robustness", "Sec. 3.2",
                  f"Among the {res.n_high} architectures with baseline accuracy >= {res.baseline_threshold:.2f} % "
                  f"(quantile {params.baseline_quantile:g}), noisy drop = baseline - noisy accuracy. Robust: drop <= "
                  f"{res.drop_threshold:.2f} points (quantile {params.robust_quantile:g}; n = {res.n_robust}); "
                  "non-robust: the rest. Tests are Mann-Whitney U (rank-biserial effect) and Spearman's rho, "
                  f"Bonferroni-corrected at alpha = {params.alpha:g}.")
    for _, r in res.count_trend.iterrows():
        if r["significant"]:
            sec.findings.append(f"More {r['op']} -> {'larger' if r['spearman_rho'] > 0 else 'smaller'} noisy drop "
                                f"(Spearman rho = {r['spearman_rho']:.2f}, p {fmt_p(r['p_value'])}).")
    hurt = res.patterns[res.patterns["adjusted_effect"] != ""]
    for _, r in hurt.sort_values("adjusted_p_value").head(5).iterrows():
        sec.findings.append(f"Path pattern {r['pattern']} ({r['names']}) {r['adjusted_effect']} beyond its op counts: "
                            f"mean drop {r['mean_drop_with']:.2f} vs {r['mean_drop_without']:.2f} points without it "
                            f"(adjusted p {fmt_p(r['adjusted_p_value'])}).")
    if not sec.findings:
        sec.findings.append("No operation count or path pattern is significantly associated with the noisy drop.")
    sec.tables["noise_op_share"] = ("Mean share of each operation in robust vs non-robust architectures", res.op_share)
    sec.tables["noise_count_trend"] = ("Spearman correlation of each op count with the noisy drop", res.count_trend)
    sec.tables["noise_robust_by_count"] = ("Share of robust architectures by op count", res.robust_by_count)
    sec.tables["noise_patterns"] = ("Path patterns: frequency per group and effect on the noisy drop", res.patterns)
    sec.figures["noise_op_share"] = FigureSpec("Mean share of each operation in robust and non-robust cells.",
                                               lambda: plot_op_share(res))
    sec.figures["noise_robust_by_count"] = FigureSpec("Share of robust architectures vs the count of each op.",
                                                      lambda: plot_robust_by_count(res))
    sec.figures["noise_patterns"] = FigureSpec("Most frequent 1-, 2- and 3-operation path patterns per group.",
                                               lambda: plot_top_patterns(res))
    return sec
