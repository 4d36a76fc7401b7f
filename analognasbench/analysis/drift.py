"""Temporal drift (paper Sec. 3.4, App. E): how much accuracy the chip loses over a month, and which operations
the drift-robust architectures contain.

The drift drop at time t is measured against the same network's t = 0 reading:
``noisy_accuracy - noisy_drift_t`` for the digitally trained network and ``analog_accuracy - analog_drift_t`` for
the hardware-aware trained one. Only architectures with good baseline *and* good noisy accuracy are used, so that
broken networks (whose accuracy cannot drop) do not dilute the table: with the paper's thresholds (Sec. 3.4:
baseline accuracy > 80 and noisy accuracy > 70, strictly) on data of its fidelity, else both at or above the
baseline quantile. Statistics are over every measured row (on the release: every cell, isomorphic ones included,
as it measured them), std with ddof = 1, quartiles by linear interpolation. These definitions reproduce every
figure of the paper's Table 3 from the release to within 0.01 (:data:`PAPER_TABLE3`, tested).
Robust at time t: drop <= the robust quantile (App. E's lower quartile); non-robust: drop >= the non-robust
quantile (upper quartile).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analognasbench.analysis.features import REAL_OPS, count_column, op_counts
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
    spearman,
)
from analognasbench.analysis.style import HATCHES, LINESTYLES, MARKERS, OP_SHORT, new_figure, time_label
from analognasbench.pipeline.schema import DRIFT_TIMES, Metric
from analognasbench.space import OP_NAMES

SERIES: tuple[str, ...] = ("noisy", "analog")
TABLE3_STATS: tuple[str, ...] = ("mean", "std", "min", "q25", "median", "q75", "max")
#: The paper's Appendix E, Table 3: (series, seconds) -> mean, std, min, 25 %, 50 %, 75 %, max of the drop (points).
PAPER_TABLE3: dict[tuple[str, int], tuple[float, ...]] = {
    ("noisy", 60): (14.33, 6.72, 1.90, 9.54, 13.05, 17.76, 50.75),
    ("noisy", 3600): (24.63, 7.96, 6.67, 18.84, 23.66, 29.59, 69.02),
    ("noisy", 86400): (35.76, 8.66, 12.97, 29.63, 35.52, 41.85, 70.20),
    ("noisy", 2592000): (47.54, 7.87, 21.26, 42.18, 48.26, 53.36, 70.92),
    ("analog", 60): (1.59, 1.39, -1.34, 0.70, 1.20, 2.07, 17.61),
    ("analog", 3600): (2.32, 2.02, -0.61, 1.05, 1.74, 2.94, 32.01),
    ("analog", 86400): (3.44, 2.96, -0.46, 1.59, 2.53, 4.29, 36.95),
    ("analog", 2592000): (5.27, 4.40, -0.13, 2.49, 3.86, 6.49, 44.89),
}


def drift_drops(df: pd.DataFrame, series: str = "analog") -> pd.DataFrame:
    """Drop (points) at every drift time the dataset has, for the 'noisy' or 'analog' network; columns are the
    drift times in seconds."""
    if series not in SERIES:
        raise ValueError(f"series must be one of {', '.join(SERIES)}; got {series!r}")
    start = Metric.NOISY if series == "noisy" else Metric.ANALOG
    out = {}
    for t in DRIFT_TIMES:
        col = f"{series}_drift_{t}"
        if col in df.columns and start.value in df.columns and df[col].notna().any():
            out[t] = df[start.value] - df[col]
    return pd.DataFrame(out, index=df.index)


def good_architectures(df: pd.DataFrame, baseline_quantile: float = 0.5, *, baseline_min: float | None = None,
                       noisy_min: float | None = None) -> pd.DataFrame:
    """Rows with good baseline and noisy accuracy: strictly above ``baseline_min`` / ``noisy_min`` when given (the
    paper's 80 / 70), else both at or above their ``baseline_quantile``."""
    for m in (Metric.BASELINE, Metric.NOISY):
        if m.value not in df.columns or df[m.value].notna().sum() < 8:
            raise MissingDataError(f"the dataset lacks values for {m.value}")
    b_col, n_col = df[Metric.BASELINE.value], df[Metric.NOISY.value]
    if baseline_min is not None and noisy_min is not None:
        return df[(b_col > baseline_min) & (n_col > noisy_min)]
    b = quantile_threshold(b_col, baseline_quantile)
    n = quantile_threshold(n_col, baseline_quantile)
    return df[(b_col >= b) & (n_col >= n)]


def table3_vs_paper(table3: pd.DataFrame) -> pd.DataFrame:
    """Our Table 3 beside the paper's: one row per (series, time, statistic) with ours, the paper's and the gap."""
    rows = []
    for _, r in table3.iterrows():
        paper = PAPER_TABLE3.get((r["series"], int(r["time_s"])))
        if paper is None:
            continue
        for stat, p in zip(TABLE3_STATS, paper):
            rows.append({"series": r["series"], "time": r["time"], "statistic": stat, "ours": round(float(r[stat]), 4),
                         "paper": p, "difference": round(float(r[stat]) - p, 4)})
    return pd.DataFrame(rows, columns=["series", "time", "statistic", "ours", "paper", "difference"])


@dataclass
class DriftResult:
    n_good: int
    table3: pd.DataFrame
    """series, time_s, time, n, mean, std, min, q25, median, q75, max of the drop (points): the paper's Table 3."""
    presence: pd.DataFrame
    """series, time_s, time, group ('robust'/'non-robust'), op, share_present (fraction of the group's cells with
    >= 1 such edge), n."""
    op_effect: pd.DataFrame
    """series, time_s, time, op, spearman_rho (op count vs drop), p_value, rank_biserial and mw_p_value (drop with
    vs without the op), significant (Bonferroni over the whole table)."""


def drift_analysis(df: pd.DataFrame, *, baseline_quantile: float = 0.5, robust_quantile: float = 0.25,
                   non_robust_quantile: float = 0.75, alpha: float = 0.05, baseline_min: float | None = None,
                   noisy_min: float | None = None) -> DriftResult:
    good = good_architectures(df, baseline_quantile, baseline_min=baseline_min, noisy_min=noisy_min)
    counts = op_counts(good)
    t3, pres, eff = [], [], []
    for series in SERIES:
        drops = drift_drops(good, series)
        for t in drops.columns:
            v = drops[t].to_numpy(float)
            ok = np.isfinite(v)
            if ok.sum() < 8:
                continue
            v_ok = v[ok]
            q = np.quantile(v_ok, [0.25, 0.5, 0.75])
            t3.append({"series": series, "time_s": t, "time": time_label(t), "n": int(ok.sum()), "mean": v_ok.mean(),
                       "std": v_ok.std(ddof=1), "min": v_ok.min(), "q25": q[0], "median": q[1], "q75": q[2],
                       "max": v_ok.max()})
            lo, hi = np.quantile(v_ok, [robust_quantile, non_robust_quantile])
            robust, non_robust = ok & (v <= lo), ok & (v >= hi)
            for op in REAL_OPS:
                c = counts[count_column(op)].to_numpy()
                for g, sel in (("robust", robust), ("non-robust", non_robust)):
                    pres.append({"series": series, "time_s": t, "time": time_label(t), "group": g, "op": OP_NAMES[op],
                                 "share_present": float((c[sel] > 0).mean()) if sel.any() else np.nan,
                                 "n": int(sel.sum())})
                rho, p = spearman(c[ok], v_ok)
                rb, mp = rank_biserial(v[ok & (c > 0)], v[ok & (c == 0)])
                eff.append({"series": series, "time_s": t, "time": time_label(t), "op": OP_NAMES[op],
                            "spearman_rho": rho, "p_value": p, "rank_biserial": rb, "mw_p_value": mp})
    if not t3:
        raise MissingDataError("the dataset has no drift measurements")
    effect = pd.DataFrame(eff)
    effect["significant"] = bonferroni(effect["p_value"], alpha)
    return DriftResult(len(good), pd.DataFrame(t3), pd.DataFrame(pres), effect)


# ---- figures -------------------------------------------------------------------------------------------------


def plot_drift_drop(res: DriftResult):
    """Median drop vs time with interquartile band, for both networks."""
    fig, ax = new_figure(width=5.5, height=3.4)
    for i, series in enumerate(SERIES):
        sub = res.table3[res.table3["series"] == series]
        label = "digitally trained (noisy)" if series == "noisy" else "hardware-aware trained (analog)"
        ax.plot(sub["time_s"], sub["median"], marker=MARKERS[i], linestyle=LINESTYLES[i], color=f"C{i}",
                label=f"{label}: median")
        ax.fill_between(sub["time_s"], sub["q25"], sub["q75"], color=f"C{i}", alpha=0.15, hatch=HATCHES[i + 1],
                        edgecolor=f"C{i}", linewidth=0)
    ax.set_xscale("log")
    ax.set_xlabel("time after programming (s, log scale)")
    ax.set_ylabel("accuracy drop vs t = 0 (points)")
    ax.set_title(f"Drift drop of good architectures (n = {res.n_good}); band = IQR")
    ax.legend()
    return fig


def plot_presence(res: DriftResult, series: str = "analog"):
    """Share of robust / non-robust cells containing each op, at each drift time."""
    sub = res.presence[res.presence["series"] == series]
    times = list(dict.fromkeys(sub["time_s"]))
    fig, axes = new_figure(len(REAL_OPS), 1, width=10.0, height=3.0, sharey=True)
    for ax, op in zip(np.atleast_1d(axes), REAL_OPS):
        for i, g in enumerate(("robust", "non-robust")):
            s = sub[(sub["op"] == OP_NAMES[op]) & (sub["group"] == g)].set_index("time_s").reindex(times)
            ax.plot(range(len(times)), s["share_present"] * 100, marker=MARKERS[i], linestyle=LINESTYLES[i],
                    color=f"C{i}", label=g)
        ax.set_xticks(range(len(times)), [time_label(t) for t in times], rotation=30)
        ax.set_title(OP_SHORT[op])
        ax.set_xlabel("time after programming")
    np.atleast_1d(axes)[0].set_ylabel("cells containing the op (%)")
    np.atleast_1d(axes)[0].legend()
    fig.suptitle(f"Operation presence in drift-robust vs non-robust cells ({series} network)", fontsize=9)
    return fig


@register("drift", "Temporal drift", "Sec. 3.4, App. E", order=40)
def section(df: pd.DataFrame, params: AnalysisParams) -> Section:
    res = drift_analysis(df, baseline_quantile=params.baseline_quantile, robust_quantile=params.robust_quantile,
                         non_robust_quantile=params.non_robust_quantile, alpha=params.alpha,
                         baseline_min=params.drift_baseline_min, noisy_min=params.drift_noisy_min)
    if params.drift_baseline_min is not None:
        kept = (f"whose baseline accuracy is above {params.drift_baseline_min:g} % and noisy accuracy above "
                f"{params.drift_noisy_min:g} % (the paper's thresholds)")
    else:
        kept = f"whose baseline and noisy accuracy are both at or above their {params.baseline_quantile:g} quantile"
    sec = Section("drift", "Temporal drift", "Sec. 3.4, App. E",
                  f"Accuracy drop at each drift time relative to the reading at t = 0, for the {res.n_good} "
                  f"architectures {kept}. Robust: drop <= quantile {params.robust_quantile:g}; "
                  f"non-robust: drop >= quantile {params.non_robust_quantile:g} (at each time).")
    if (params.drift_baseline_min, params.drift_noisy_min) == (80.0, 70.0):
        vs = table3_vs_paper(res.table3)
        if len(vs):
            worst = vs.loc[vs["difference"].abs().idxmax()]
            sec.findings.append(
                f"Table 3 against the paper: the largest gap of its {len(vs)} figures is "
                f"{worst['difference']:+.3f} points ({worst['series']} {worst['time']} {worst['statistic']}: "
                f"{worst['ours']:.2f} here, {worst['paper']:.2f} in the paper).")
            sec.tables["drift_table3_vs_paper"] = ("Table 3 here and in the paper (App. E)", vs)
    last = res.table3.sort_values("time_s").groupby("series").tail(1)
    for _, r in last.iterrows():
        sec.findings.append(f"{r['series']} network after {r['time']}: mean drop {r['mean']:.2f} points "
                            f"(std {r['std']:.2f}, max {r['max']:.2f}).")
    sig = res.op_effect[res.op_effect["significant"]]
    last_t = sig.sort_values("time_s").groupby(["series", "op"]).tail(1)
    for _, r in last_t.iterrows():
        sec.findings.append(f"{r['series']} network, {r['time']}: more {r['op']} -> "
                            f"{'larger' if r['spearman_rho'] > 0 else 'smaller'} drift drop "
                            f"(rho = {r['spearman_rho']:.2f}, p {fmt_p(r['p_value'])}).")
    sec.tables["drift_table3"] = ("Drift drop (points) at each time (the paper's Table 3)", res.table3)
    sec.tables["drift_op_presence"] = ("Operation presence in drift-robust vs non-robust cells", res.presence)
    sec.tables["drift_op_effect"] = ("Association of op counts with the drift drop", res.op_effect)
    sec.figures["drift_drop"] = FigureSpec("Drift drop over time (median and interquartile range).",
                                           lambda: plot_drift_drop(res))
    for series in SERIES:
        if (res.presence["series"] == series).any():
            sec.figures[f"drift_presence_{series}"] = FigureSpec(
                f"Operation presence in drift-robust vs non-robust cells ({series} network).",
                lambda s=series: plot_presence(res, s))
    return sec
