"""Temporal drift (paper Sec. 3.4, App. E): how much accuracy the chip loses over a month, and which operations
the drift-robust architectures contain.

The drift drop at time t is measured against the same network read right after programming:
``noisy - noisy_drift_t`` for the digitally trained network and ``analog - analog_drift_t`` for the
hardware-aware trained one. Only architectures with good baseline *and* good noisy accuracy (both at or above
the baseline quantile) are used, so that broken networks (whose accuracy cannot drop) do not dilute the table.
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


def good_architectures(df: pd.DataFrame, baseline_quantile: float = 0.5) -> pd.DataFrame:
    """Rows with baseline and noisy accuracy both at or above their ``baseline_quantile``."""
    for m in (Metric.BASELINE, Metric.NOISY):
        if m.value not in df.columns or df[m.value].notna().sum() < 8:
            raise MissingDataError(f"not measured in this dataset: {m.value}")
    b = quantile_threshold(df[Metric.BASELINE.value], baseline_quantile)
    n = quantile_threshold(df[Metric.NOISY.value], baseline_quantile)
    return df[(df[Metric.BASELINE.value] >= b) & (df[Metric.NOISY.value] >= n)]


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
                   non_robust_quantile: float = 0.75, alpha: float = 0.05) -> DriftResult:
    good = good_architectures(df, baseline_quantile)
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
                         non_robust_quantile=params.non_robust_quantile, alpha=params.alpha)
    sec = Section("drift", "Temporal drift", "Sec. 3.4, App. E",
                  f"Accuracy drop at each drift time relative to the reading at t = 0, for the {res.n_good} "
                  f"architectures whose baseline and noisy accuracy are both at or above their "
                  f"{params.baseline_quantile:g} quantile. Robust: drop <= quantile {params.robust_quantile:g}; "
                  f"non-robust: drop >= quantile {params.non_robust_quantile:g} (at each time).")
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
