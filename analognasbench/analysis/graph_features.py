"""Neural graph features (paper App. F, after Kadlecova et al. 2024, "Surprisingly strong performance prediction
with neural graph features") and their correlation with hardware robustness.

Every feature is computed on the cell restricted to a subset S of the four data-carrying ops (edges with other
ops are removed), for all 15 non-empty subsets:

* ``op_count[S]``: edges with an op in S;
* ``min_path_len[S]``: edges on the shortest input->output path using only S-edges (0 when there is none);
* ``max_<op>_on_path[S]``: the most ``op`` edges on any input->output path of S-edges (for each op in S);
* ``in_degree[S]`` of the output node, ``out_degree[S]`` of the input node;
* ``avg_in_degree[S]`` / ``avg_out_degree[S]``: mean in-/out-degree over the nodes that have any incoming /
  outgoing S-edge (0 when none do).

Targets: noisy robustness = noisy - baseline (minus the noisy drop); HWT improvement = analog - noisy; drift
robustness = analog_drift_30d - analog_drift_60s (minus the HWT network's accuracy variation over a month).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd

from analognasbench.analysis.features import REAL_OPS, arch_matrix
from analognasbench.analysis.registry import (
    AnalysisParams,
    FigureSpec,
    MissingDataError,
    Section,
    bonferroni,
    fmt_p,
    quantile_threshold,
    register,
)
from analognasbench.analysis.style import HATCHES, new_figure
from analognasbench.pipeline.schema import Metric
from analognasbench.space.paths import ALL_PATHS

OP_TAG: dict[int, str] = {0: "skip", 2: "conv3", 3: "conv1", 4: "pool"}
#: Every non-empty subset of the data-carrying ops, smallest first.
OP_SUBSETS: tuple[tuple[int, ...], ...] = tuple(
    s for k in range(1, len(REAL_OPS) + 1) for s in combinations(REAL_OPS, k))
_IN_EDGES = {2: (0,), 3: (1, 3), 4: (2, 4, 5)}   # node -> tuple positions of incoming edges
_OUT_EDGES = {1: (0, 1, 2), 2: (3, 4), 3: (5,)}  # node -> tuple positions of outgoing edges


def subset_label(s: tuple[int, ...]) -> str:
    return "all" if len(s) == len(REAL_OPS) else "+".join(OP_TAG[o] for o in s)


@dataclass(frozen=True)
class Target:
    name: str
    description: str
    unit: str = "points"


TARGETS: tuple[Target, ...] = (
    Target("noisy_robustness", "noisy - baseline accuracy (minus the noisy drop)"),
    Target("hwt_improvement", "analog - noisy accuracy"),
    Target("drift_robustness", "analog drift 30 days - analog drift 60 s (minus the accuracy variation over a month)"),
)


def graph_features(df_or_archs) -> pd.DataFrame:
    """All graph features for each architecture (rows aligned with the input), vectorised over architectures."""
    a = arch_matrix(df_or_archs)
    index = df_or_archs.index if isinstance(df_or_archs, pd.DataFrame) else None
    cols: dict[str, np.ndarray] = {}
    for s in OP_SUBSETS:
        lab = subset_label(s)
        allowed = np.isin(a, s)
        cols[f"op_count[{lab}]"] = allowed.sum(1)
        ok = np.stack([allowed[:, list(p)].all(1) for p in ALL_PATHS], axis=1)  # (n, paths)
        lengths = np.array([len(p) for p in ALL_PATHS])
        min_len = np.where(ok, lengths[None, :], 99).min(1)
        cols[f"min_path_len[{lab}]"] = np.where(min_len == 99, 0, min_len)
        for op in s:
            per_path = np.stack([(a[:, list(p)] == op).sum(1) for p in ALL_PATHS], axis=1)
            cols[f"max_{OP_TAG[op]}_on_path[{lab}]"] = np.where(ok, per_path, 0).max(1)
        cols[f"in_degree[{lab}]"] = allowed[:, list(_IN_EDGES[4])].sum(1)
        cols[f"out_degree[{lab}]"] = allowed[:, list(_OUT_EDGES[1])].sum(1)
        ins = np.stack([allowed[:, list(e)].sum(1) for e in _IN_EDGES.values()], axis=1)
        outs = np.stack([allowed[:, list(e)].sum(1) for e in _OUT_EDGES.values()], axis=1)
        for name, deg in (("avg_in_degree", ins), ("avg_out_degree", outs)):
            active = (deg > 0).sum(1)
            cols[f"{name}[{lab}]"] = np.where(active > 0, deg.sum(1) / np.maximum(active, 1), 0.0)
    return pd.DataFrame(cols, index=index)


def robustness_targets(df: pd.DataFrame) -> pd.DataFrame:
    """The three targets (columns named as in :data:`TARGETS`), NaN where a metric is missing."""
    def col(m: Metric) -> pd.Series:
        return df[m.value] if m.value in df.columns else pd.Series(np.nan, index=df.index)

    return pd.DataFrame({
        "noisy_robustness": col(Metric.NOISY) - col(Metric.BASELINE),
        "hwt_improvement": col(Metric.ANALOG) - col(Metric.NOISY),
        "drift_robustness": col(Metric.ANALOG_DRIFT_2592000) - col(Metric.ANALOG_DRIFT_60),
    }, index=df.index)


def _rank(x: np.ndarray) -> np.ndarray:
    from scipy.stats import rankdata

    return rankdata(x, axis=0)


def _pearson_cols(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson r of every column of x with the vector y (nan for constant columns)."""
    xc = x - x.mean(0)
    yc = y - y.mean()
    denom = np.sqrt((xc**2).sum(0) * (yc**2).sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, (xc * yc[:, None]).sum(0) / denom, np.nan)


def _p_from_r(r: np.ndarray, n: int) -> np.ndarray:
    from scipy.stats import t as student_t

    r = np.clip(r, -0.999999999, 0.999999999)
    tstat = r * np.sqrt((n - 2) / (1 - r**2))
    return 2 * student_t.sf(np.abs(tstat), n - 2)


def feature_correlations(df: pd.DataFrame, *, baseline_quantile: float | None = 0.25,
                         alpha: float = 0.05) -> pd.DataFrame:
    """Pearson and Spearman correlation of every (non-constant) graph feature with every available target.

    Architectures with baseline accuracy below ``baseline_quantile`` (broken networks, whose accuracy cannot drop)
    are left out; None keeps all. Columns: target, feature, n, pearson_r, pearson_p, spearman_rho, spearman_p,
    significant (Spearman, Bonferroni over features x targets).
    """
    if "arch" not in df.columns or Metric.BASELINE.value not in df.columns:
        raise MissingDataError("the dataset needs 'arch' and baseline_accuracy columns")
    d = df
    if baseline_quantile is not None:
        d = df[df[Metric.BASELINE.value] >= quantile_threshold(df[Metric.BASELINE.value], baseline_quantile)]
    feats = graph_features(d)
    targets = robustness_targets(d)
    rows = []
    for target in TARGETS:
        y = targets[target.name].to_numpy(float)
        ok = np.isfinite(y)
        n = int(ok.sum())
        if n < 8 or np.ptp(y[ok]) == 0:
            continue
        x = feats.to_numpy(float)[ok]
        keep = np.ptp(x, axis=0) > 0
        x, names = x[:, keep], feats.columns[keep]
        r = _pearson_cols(x, y[ok])
        rho = _pearson_cols(_rank(x), _rank(y[ok]))
        rows.append(pd.DataFrame({"target": target.name, "feature": names, "n": n, "pearson_r": r,
                                  "pearson_p": _p_from_r(r, n), "spearman_rho": rho, "spearman_p": _p_from_r(rho, n)}))
    if not rows:
        raise MissingDataError("the dataset has no values for any robustness target (noisy, analog, drift)")
    out = pd.concat(rows, ignore_index=True)
    out["significant"] = bonferroni(out["spearman_p"], alpha)
    return out


def top_features(corr: pd.DataFrame, target: str, k: int = 20) -> pd.DataFrame:
    """The ``k`` features with the largest |Spearman rho| for a target."""
    sub = corr[corr["target"] == target]
    return sub.reindex(sub["spearman_rho"].abs().sort_values(ascending=False).index).head(k)


def plot_top_features(corr: pd.DataFrame, target: str, k: int = 20):
    """Horizontal bars of the top-k features; hatched bars are negative correlations (B/W safe)."""
    top = top_features(corr, target, k).iloc[::-1]
    fig, ax = new_figure(width=6.0, height=1.0 + 0.22 * len(top))
    rho = top["spearman_rho"].to_numpy()
    neg = rho < 0
    ax.barh(range(len(top)), rho, color=np.where(neg, "C1", "C0"), edgecolor="black", linewidth=0.5,
            hatch=None)
    for i in np.flatnonzero(neg):
        ax.patches[i].set_hatch(HATCHES[1])
    ax.set_yticks(range(len(top)), top["feature"], fontsize=7)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel("Spearman's rho with the target (hatched: negative)")
    desc = next(t.description for t in TARGETS if t.name == target)
    ax.set_title(f"Top {len(top)} graph features: {target.replace('_', ' ')}\n({desc})", fontsize=9)
    return fig


@register("graph_features", "Neural graph features", "App. F", order=50)
def section(df: pd.DataFrame, params: AnalysisParams) -> Section:
    corr = feature_correlations(df, baseline_quantile=params.robust_quantile, alpha=params.alpha)
    sec = Section("graph_features", "Neural graph features", "App. F",
                  f"{corr['feature'].nunique()} graph features (op counts, shortest path length, most ops of a kind "
                  "on a path, node degrees; each on the cell restricted to a subset of ops, after Kadlecova et al. "
                  "2024), correlated with three robustness targets on architectures with baseline accuracy at or "
                  f"above its {params.robust_quantile:g} quantile. Bonferroni-corrected at alpha = {params.alpha:g}.")
    for target in TARGETS:
        if (corr["target"] == target.name).any():
            best = top_features(corr, target.name, 1).iloc[0]
            n_sig = int(corr[(corr["target"] == target.name)]["significant"].sum())
            sec.findings.append(f"{target.name.replace('_', ' ')}: strongest feature {best['feature']} "
                                f"(rho = {best['spearman_rho']:.2f}, p {fmt_p(best['spearman_p'])}); "
                                f"{n_sig} significant features.")
            sec.figures[f"graph_features_{target.name}"] = FigureSpec(
                f"Top {params.top_k} graph features by |Spearman rho| with {target.name.replace('_', ' ')} "
                f"({target.description}).", lambda t=target.name: plot_top_features(corr, t, params.top_k))
    sec.tables["graph_feature_correlations"] = ("Correlation of every graph feature with every target", corr)
    return sec
