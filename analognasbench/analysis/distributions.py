"""Distributions and rankings (paper Sec. 3.1, App. D): summary statistics of every metric and rank agreement
(Kendall's tau, Spearman's rho) between every pair of metrics."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

import numpy as np
import pandas as pd

from analognasbench.analysis.registry import (
    AnalysisParams,
    FigureSpec,
    MissingDataError,
    Section,
    register,
)
from analognasbench.analysis.style import metric_short, new_figure
from analognasbench.pipeline.schema import METRICS, Metric

#: Pairs shown as rank scatter plots (the paper's main comparisons).
SCATTER_PAIRS: tuple[tuple[Metric, Metric], ...] = (
    (Metric.BASELINE, Metric.PTQ),
    (Metric.BASELINE, Metric.QAT),
    (Metric.BASELINE, Metric.NOISY),
    (Metric.PTQ, Metric.NOISY),
    (Metric.NOISY, Metric.ANALOG),
    (Metric.ANALOG, Metric.ANALOG_DRIFT_2592000),
)


def available_metrics(df: pd.DataFrame, metrics: Sequence[Metric | str] | Metric | str | None = None) -> list[Metric]:
    """The requested metrics (default: all) that the dataset has values for; one name alone is one metric (a
    plain string must not be read as a sequence of one-letter names)."""
    if isinstance(metrics, str):  # a Metric is a str too
        metrics = [metrics]
    wanted = [Metric.parse(m) for m in metrics] if metrics is not None else list(METRICS)
    return [m for m in wanted if m.value in df.columns and df[m.value].notna().sum() >= 3]


def summary_statistics(df: pd.DataFrame, metrics: Sequence[Metric | str] | Metric | str | None = None) -> pd.DataFrame:
    """One row per metric: n, mean, median, std, min, q25, q75, max, IQR and spread (max - min), in percent."""
    rows = []
    for m in available_metrics(df, metrics):
        v = df[m.value].dropna().to_numpy(dtype=float)
        q25, med, q75 = np.quantile(v, [0.25, 0.5, 0.75])
        rows.append({
            "metric": m.value, "n": len(v), "mean": v.mean(), "median": med, "std": v.std(ddof=1) if len(v) > 1 else 0.0,
            "min": v.min(), "q25": q25, "q75": q75, "max": v.max(), "iqr": q75 - q25, "spread": v.max() - v.min(),
        })
    if not rows:
        raise MissingDataError("the dataset has no metric columns with values")
    return pd.DataFrame(rows)


def rank_correlations(df: pd.DataFrame, metrics: Sequence[Metric | str] | Metric | str | None = None) -> pd.DataFrame:
    """Kendall's tau-b and Spearman's rho (with p-values) for every pair of metrics, on rows where both exist."""
    from scipy.stats import kendalltau, spearmanr

    ms = available_metrics(df, metrics)
    rows = []
    for a, b in combinations(ms, 2):
        sub = df[[a.value, b.value]].dropna()
        x, y = sub[a.value].to_numpy(float), sub[b.value].to_numpy(float)
        if len(sub) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
            tau = tp = rho = rp = float("nan")
        else:
            kt, sr = kendalltau(x, y), spearmanr(x, y)
            tau, tp, rho, rp = float(kt.statistic), float(kt.pvalue), float(sr.statistic), float(sr.pvalue)
        rows.append({"metric_a": a.value, "metric_b": b.value, "n": len(sub), "kendall_tau": tau, "kendall_p": tp,
                     "spearman_rho": rho, "spearman_p": rp})
    return pd.DataFrame(rows, columns=["metric_a", "metric_b", "n", "kendall_tau", "kendall_p", "spearman_rho",
                                       "spearman_p"])


def correlation_matrix(pairs: pd.DataFrame, statistic: str = "kendall_tau") -> pd.DataFrame:
    """Square symmetric matrix (metric x metric, diagonal 1) from :func:`rank_correlations`."""
    names = list(dict.fromkeys(list(pairs["metric_a"]) + list(pairs["metric_b"])))
    mat = pd.DataFrame(np.eye(len(names)), index=names, columns=names)
    for _, r in pairs.iterrows():
        mat.loc[r["metric_a"], r["metric_b"]] = mat.loc[r["metric_b"], r["metric_a"]] = r[statistic]
    return mat


# ---- figures -------------------------------------------------------------------------------------------------


def plot_heatmap(matrix: pd.DataFrame, title: str = "Kendall's tau between metric rankings"):
    """Correlation heat map with the value printed in every cell (readable without colour)."""
    n = len(matrix)
    fig, ax = new_figure(width=1.0 + 0.55 * n, height=0.8 + 0.5 * n)
    ax.grid(False)
    im = ax.imshow(matrix.to_numpy(float), vmin=min(0.0, float(np.nanmin(matrix.to_numpy()))), vmax=1.0,
                   cmap="Greys")
    labels = [metric_short(m) for m in matrix.index]
    ax.set_xticks(range(n), labels, rotation=55, ha="right")
    ax.set_yticks(range(n), labels)
    for i in range(n):
        for j in range(n):
            v = matrix.iat[i, j]
            ax.text(j, i, "" if np.isnan(v) else f"{v:.2f}", ha="center", va="center", fontsize=6.5,
                    color="white" if v > 0.6 else "black")
    ax.set_title(title)
    fig.colorbar(im, ax=ax, shrink=0.8, label="Kendall's tau")
    return fig


def plot_rank_scatter(df: pd.DataFrame, pairs: Sequence[tuple[Metric, Metric]] = SCATTER_PAIRS):
    """Rank vs rank for the paper's main metric pairs (rank 1 = most accurate)."""
    pairs = [(a, b) for a, b in pairs if a.value in df.columns and b.value in df.columns
             and df[[a.value, b.value]].dropna().shape[0] >= 3]
    ncols = 3
    nrows = max(1, -(-len(pairs) // ncols))
    fig, axes = new_figure(ncols, nrows, width=9.0, height=2.9 * nrows)
    axes = np.atleast_1d(axes).ravel()
    for ax, (a, b) in zip(axes, pairs):
        sub = df[[a.value, b.value]].dropna()
        ra = sub[a.value].rank(ascending=False)
        rb = sub[b.value].rank(ascending=False)
        ax.scatter(ra, rb, s=3, marker="o", color="black", alpha=0.35, linewidths=0)
        from scipy.stats import kendalltau

        tau = kendalltau(sub[a.value], sub[b.value]).statistic
        ax.set_xlabel(f"rank by {metric_short(a)} (1 = best)")
        ax.set_ylabel(f"rank by {metric_short(b)}")
        ax.set_title(f"Kendall's tau = {tau:.2f}")
    for ax in axes[len(pairs):]:
        ax.set_visible(False)
    return fig


def plot_distributions(df: pd.DataFrame, metrics: Sequence[Metric] | None = None):
    """Box plots of the main accuracies (outliers shown as small circles)."""
    ms = available_metrics(df, metrics or [Metric.BASELINE, Metric.PTQ, Metric.QAT, Metric.NOISY, Metric.ANALOG,
                                           Metric.NOISY_DRIFT_2592000, Metric.ANALOG_DRIFT_2592000])
    fig, ax = new_figure(width=7.0, height=3.4)
    data = [df[m.value].dropna().to_numpy(float) for m in ms]
    ax.boxplot(data, showfliers=True, flierprops={"marker": "o", "markersize": 2, "alpha": 0.4},
               medianprops={"color": "black"}, patch_artist=False)
    ax.set_xticks(range(1, len(ms) + 1), [metric_short(m) for m in ms], rotation=20, ha="right")
    ax.set_ylabel("Top-1 test accuracy (%)")
    ax.set_title("Accuracy distributions over all architectures")
    return fig


@register("distributions", "Distributions and rankings", "Sec. 3.1, App. D", order=10)
def section(df: pd.DataFrame, params: AnalysisParams) -> Section:
    stats = summary_statistics(df)
    pairs = rank_correlations(df)
    sec = Section("distributions", "Distributions and rankings", "Sec. 3.1, App. D",
                  "Summary statistics of every metric over all measured architectures, and how well the ranking "
                  "by one metric agrees with the ranking by another (Kendall's tau-b, Spearman's rho).")
    sec.tables["summary_statistics"] = ("Summary statistics per metric (accuracy in %)", stats)
    sec.tables["rank_correlations"] = ("Rank correlation between every pair of metrics", pairs)
    for _, r in stats.iterrows():
        if r["metric"] in (Metric.BASELINE.value, Metric.NOISY.value, Metric.ANALOG.value):
            sec.findings.append(f"{metric_short(r['metric'])}: median {r['median']:.2f} %, IQR {r['iqr']:.2f} points, "
                                f"range {r['min']:.2f}-{r['max']:.2f} % (n = {int(r['n'])}).")
    key = pairs.set_index(["metric_a", "metric_b"])["kendall_tau"]
    for a, b in ((Metric.BASELINE, Metric.NOISY), (Metric.PTQ, Metric.NOISY), (Metric.NOISY, Metric.ANALOG)):
        if (a.value, b.value) in key.index:
            sec.findings.append(f"Kendall's tau {metric_short(a)} vs {metric_short(b)}: {key[(a.value, b.value)]:.3f}.")
    sec.figures["distributions"] = FigureSpec("Distribution of the main accuracies.", lambda: plot_distributions(df))
    sec.figures["rank_heatmap"] = FigureSpec("Kendall's tau between the rankings by every pair of metrics.",
                                             lambda: plot_heatmap(correlation_matrix(pairs)))
    sec.figures["rank_scatter"] = FigureSpec("Rank against rank for the main metric pairs.",
                                             lambda: plot_rank_scatter(df))
    return sec
