"""Hardware-aware training (paper Sec. 3.3): how much HWT recovers, for which architectures, and which
architectures HWT fails to rescue.

Improvement = analog - noisy accuracy (same chip, HWT network vs digitally trained network). Groups by noisy
accuracy: *naturally robust* (>= the high quantile), *non-robust* (< the low quantile), *moderate* in between;
*high performance* means analog accuracy >= its high quantile. *HWT-failing*: good baseline (>= the baseline
quantile), poor noisy and poor analog accuracy (both < their low quantile).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analognasbench.analysis.features import REAL_OPS, count_column, op_counts, pattern_presence
from analognasbench.analysis.noise_robustness import pattern_table
from analognasbench.analysis.registry import (
    AnalysisParams,
    FigureSpec,
    Section,
    bonferroni,
    fmt_p,
    quantile_threshold,
    rank_biserial,
    register,
    require,
    spearman,
)
from analognasbench.analysis.style import HATCHES, OP_SHORT, grouped_bars, new_figure
from analognasbench.pipeline.schema import Metric
from analognasbench.space import OP_NAMES

GROUPS: tuple[str, ...] = ("naturally robust", "moderate", "non-robust")


@dataclass
class HWTResult:
    noisy_low: float
    noisy_high: float
    analog_high: float
    baseline_good: float
    groups: pd.DataFrame
    """group, n, noisy_mean, analog_mean, share_high_performance, mean_improvement, var_improvement,
    median_improvement (points)."""
    improvement_trend: pd.DataFrame
    """op, spearman_rho of op count vs improvement, p_value, significant."""
    failing: pd.DataFrame
    """The HWT-failing architectures: arch, baseline, noisy, analog, improvement and op counts."""
    failing_ops: pd.DataFrame
    """op, failing_mean_count, others_mean_count (others: good-baseline architectures that do not fail),
    rank_biserial, p_value, significant."""
    failing_patterns: pd.DataFrame
    """Path patterns in HWT-failing vs other good-baseline architectures (see noise_robustness.pattern_table;
    the tested value is minus the analog accuracy, so 'hurts' means lower analog accuracy)."""


def hwt_robustness(df: pd.DataFrame, *, noisy_low_quantile: float = 0.25, noisy_high_quantile: float = 0.75,
                   analog_high_quantile: float = 0.75, baseline_quantile: float = 0.5,
                   alpha: float = 0.05, min_pattern_count: int = 10) -> HWTResult:
    """Group architectures by noisy accuracy and summarise what HWT does for each group; find HWT failures."""
    require(df, [Metric.BASELINE, Metric.NOISY, Metric.ANALOG])
    d = df[df[Metric.NOISY.value].notna() & df[Metric.ANALOG.value].notna()]
    b, nz, an = (d[m.value].to_numpy(float) for m in (Metric.BASELINE, Metric.NOISY, Metric.ANALOG))
    lo, hi = np.quantile(nz, [noisy_low_quantile, noisy_high_quantile])
    a_hi = float(np.quantile(an, analog_high_quantile))
    a_lo = float(np.quantile(an, noisy_low_quantile))
    b_good = quantile_threshold(d[Metric.BASELINE.value], baseline_quantile)
    improvement = an - nz
    group = np.where(nz >= hi, GROUPS[0], np.where(nz < lo, GROUPS[2], GROUPS[1]))
    rows = []
    for g in GROUPS:
        sel = group == g
        imp = improvement[sel]
        rows.append({"group": g, "n": int(sel.sum()), "noisy_mean": nz[sel].mean() if sel.any() else np.nan,
                     "analog_mean": an[sel].mean() if sel.any() else np.nan,
                     "share_high_performance": (an[sel] >= a_hi).mean() if sel.any() else np.nan,
                     "mean_improvement": imp.mean() if sel.any() else np.nan,
                     "var_improvement": imp.var(ddof=1) if sel.sum() > 1 else np.nan,
                     "median_improvement": np.median(imp) if sel.any() else np.nan})
    counts = op_counts(d)
    trend = pd.DataFrame([{"op": OP_NAMES[op], **dict(zip(("spearman_rho", "p_value"),
                                                           spearman(counts[count_column(op)], improvement)))}
                          for op in REAL_OPS])
    trend["significant"] = bonferroni(trend["p_value"], alpha)

    good = b >= b_good
    fail = good & (nz < lo) & (an < a_lo)
    failing = d.loc[fail, ["arch", Metric.BASELINE.value, Metric.NOISY.value, Metric.ANALOG.value]].copy()
    failing["improvement"] = improvement[fail]
    failing = failing.join(counts.loc[fail]).sort_values(Metric.ANALOG.value).reset_index(drop=True)
    op_rows = []
    for op in REAL_OPS:
        c = counts[count_column(op)].to_numpy()
        rb, p = rank_biserial(c[fail], c[good & ~fail]) if fail.any() else (np.nan, np.nan)
        op_rows.append({"op": OP_NAMES[op], "failing_mean_count": c[fail].mean() if fail.any() else np.nan,
                        "others_mean_count": c[good & ~fail].mean(), "rank_biserial": rb, "p_value": p})
    failing_ops = pd.DataFrame(op_rows)
    failing_ops["significant"] = bonferroni(failing_ops["p_value"], alpha)
    gd = d[good]
    patterns = pattern_table(pattern_presence(gd, min_count=min_pattern_count), -an[good], fail[good], alpha,
                             group="failing", other="others")
    return HWTResult(float(lo), float(hi), a_hi, b_good, pd.DataFrame(rows), trend, failing, failing_ops, patterns)


# ---- figures -------------------------------------------------------------------------------------------------


def plot_improvement(df: pd.DataFrame, res: HWTResult):
    """Improvement vs noisy accuracy (one marker per group) and per-group mean improvement."""
    d = df[df[Metric.NOISY.value].notna() & df[Metric.ANALOG.value].notna()]
    nz, an = d[Metric.NOISY.value].to_numpy(float), d[Metric.ANALOG.value].to_numpy(float)
    group = np.where(nz >= res.noisy_high, GROUPS[0], np.where(nz < res.noisy_low, GROUPS[2], GROUPS[1]))
    fig, (ax, ax2) = new_figure(2, 1, width=9.0, height=3.4, gridspec_kw={"width_ratios": [2, 1]})
    for i, (g, m) in enumerate(zip(GROUPS, ("o", "s", "^"))):
        sel = group == g
        ax.scatter(nz[sel], an[sel] - nz[sel], s=6, marker=m, facecolors="none", edgecolors=f"C{i}",
                   linewidths=0.5, label=g)
    ax.axhline(0, color="black", linewidth=0.8)
    lo = float(np.quantile(nz, 0.01))
    hidden = int((nz < lo - 1).sum())
    ax.set_xlim(lo - 1, float(nz.max()) + 1)
    ax.set_xlabel("Noisy accuracy (%)" + (f"; {hidden} cells below {lo - 1:.0f} % not shown" if hidden else ""))
    ax.set_ylabel("HWT improvement, analog - noisy (points)")
    ax.set_title("HWT improvement by noisy accuracy")
    ax.legend(markerscale=2)
    g = res.groups
    for i, row in g.reset_index(drop=True).iterrows():
        ax2.bar(i, row["mean_improvement"], yerr=np.sqrt(row["var_improvement"]) if row["n"] > 1 else 0,
                color=f"C{i}", hatch=HATCHES[i], edgecolor="black", linewidth=0.6, capsize=3)
    ax2.set_xticks(range(len(g)), [s.replace(" ", "\n") for s in g["group"]])
    ax2.set_ylabel("mean improvement ± std (points)")
    ax2.set_title("Per group")
    return fig


def plot_failing_ops(res: HWTResult):
    fig, ax = new_figure(width=5.5, height=3.2)
    cats = [OP_SHORT[op] for op in REAL_OPS]
    grouped_bars(ax, cats, {f"HWT-failing (n = {len(res.failing)})": list(res.failing_ops["failing_mean_count"]),
                            "other good-baseline": list(res.failing_ops["others_mean_count"])})
    ax.set_ylabel("mean number of edges")
    ax.set_title("Operation counts of HWT-failing architectures")
    ax.legend()
    return fig


@register("hwt_robustness", "Hardware-aware training", "Sec. 3.3", order=30)
def section(df: pd.DataFrame, params: AnalysisParams) -> Section:
    res = hwt_robustness(df, noisy_low_quantile=params.noisy_low_quantile,
                         noisy_high_quantile=params.noisy_high_quantile,
                         analog_high_quantile=params.analog_high_quantile,
                         baseline_quantile=params.baseline_quantile, alpha=params.alpha)
    sec = Section("hwt_robustness", "Hardware-aware training", "Sec. 3.3",
                  f"Improvement = analog - noisy accuracy. Groups by noisy accuracy: naturally robust >= "
                  f"{res.noisy_high:.2f} % (quantile {params.noisy_high_quantile:g}), non-robust < {res.noisy_low:.2f} % "
                  f"(quantile {params.noisy_low_quantile:g}), moderate in between. High performance: analog accuracy "
                  f">= {res.analog_high:.2f} % (quantile {params.analog_high_quantile:g}). HWT-failing: baseline >= "
                  f"{res.baseline_good:.2f} % but noisy and analog accuracy both below their "
                  f"{params.noisy_low_quantile:g} quantile.")
    for _, r in res.groups.iterrows():
        sec.findings.append(f"{r['group']} (n = {r['n']}): mean improvement {r['mean_improvement']:.2f} points "
                            f"(variance {r['var_improvement']:.2f}), {100 * r['share_high_performance']:.0f} % reach "
                            "high performance.")
    sec.findings.append(f"{len(res.failing)} HWT-failing architectures.")
    for _, r in res.failing_ops[res.failing_ops["significant"]].iterrows():
        sec.findings.append(f"HWT-failing cells have {'more' if r['rank_biserial'] > 0 else 'fewer'} {r['op']} "
                            f"({r['failing_mean_count']:.2f} vs {r['others_mean_count']:.2f} edges, "
                            f"p {fmt_p(r['p_value'])}).")
    sec.tables["hwt_groups"] = ("HWT improvement per noisy-accuracy group", res.groups)
    sec.tables["hwt_improvement_trend"] = ("Spearman correlation of op counts with the HWT improvement",
                                           res.improvement_trend)
    sec.tables["hwt_failing"] = ("HWT-failing architectures", res.failing)
    sec.tables["hwt_failing_ops"] = ("Op counts: HWT-failing vs other good-baseline architectures", res.failing_ops)
    sec.tables["hwt_failing_patterns"] = ("Path patterns: HWT-failing vs other good-baseline architectures",
                                          res.failing_patterns)
    sec.figures["hwt_improvement"] = FigureSpec("HWT improvement against noisy accuracy, and per group.",
                                                lambda: plot_improvement(df, res))
    sec.figures["hwt_failing_ops"] = FigureSpec("Operation counts of HWT-failing architectures.",
                                                lambda: plot_failing_ops(res))
    return sec
