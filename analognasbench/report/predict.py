"""Report section of issue 19: zero-cost proxies and few-label surrogates measured against the release.

Lays out a :class:`~analognasbench.predict.study.StudyResult` (computed by ``anb predict --evaluate``): the proxy
agreement table and heatmap (the AIMC counterpart of NAS-Bench-Suite-Zero's table), the learning curves against
the low-cost bar, and the goals. Wire it into a report with
``build_report(..., extra_sections=[predict_section(load_study(DIR))])``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from analognasbench.analysis.registry import FigureSpec, Section
from analognasbench.analysis.style import LINESTYLES, MARKERS, new_figure
from analognasbench.predict.study import ZERO_LABEL_COMBO, StudyResult
from analognasbench.predict.targets import GOAL_TARGETS

CURVE_PANELS: tuple[str, ...] = ("baseline_accuracy", "noisy_accuracy", "analog_drift_86400", "noisy_drop",
                                 "hwt_recovery")


def _pivot(table: pd.DataFrame, subset: str, stat: str = "kendall") -> pd.DataFrame:
    part = table[table.subset == subset]
    order = list(dict.fromkeys(part.target))
    pivot = part.pivot(index="proxy", columns="target", values=stat)
    return pivot[[t for t in order if t in pivot.columns]]


def _heatmap(table: pd.DataFrame, subset: str):
    pivot = _pivot(table, subset)
    fig, ax = new_figure(width=9.0, height=0.32 * len(pivot) + 2.2)
    im = ax.imshow(pivot.to_numpy(dtype=float), cmap="RdBu_r", vmin=-0.6, vmax=0.6, aspect="auto")
    ax.set_xticks(range(pivot.shape[1]), [c.replace("_accuracy", "").replace("_drift_", " t=") for c in pivot.columns],
                  rotation=45, ha="right")
    ax.set_yticks(range(pivot.shape[0]), pivot.index)
    for (i, j), v in np.ndenumerate(pivot.to_numpy(dtype=float)):
        if np.isfinite(v):
            ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=6)
    fig.colorbar(im, ax=ax, label="Kendall's tau with the release (class means)")
    return fig


def _curves(summary: pd.DataFrame, bar: pd.DataFrame | None, subset: str, pool: str):
    panels = [t for t in CURVE_PANELS if t in set(summary.target)] or sorted(set(summary.target))[:4]
    fig, axes = new_figure(ncols=len(panels), width=3.2 * len(panels), height=3.2, sharey=False)
    axes = np.atleast_1d(axes)
    models = sorted(set(summary.model))
    for ax, target in zip(axes, panels):
        part = summary[(summary.pool == pool) & (summary.subset == subset) & (summary.target == target)]
        for k, model in enumerate(models):
            m = part[part.model == model].sort_values("labels")
            if m.empty:
                continue
            ax.errorbar(m["labels"], m["mean"], yerr=m["std"], label=model, marker=MARKERS[k % len(MARKERS)],
                        linestyle=LINESTYLES[k % len(LINESTYLES)], markersize=3, capsize=2, linewidth=1)
        if bar is not None and len(bar):
            b = bar[(bar.subset == subset) & (bar.target == target)]
            if len(b):
                ax.axhline(b.kendall.max(), color="black", linewidth=1.5, label="cifar10-lowcost (bar)")
        ax.set_xscale("log")
        ax.set_title(f"{target} ({pool})", fontsize=8)
        ax.set_xlabel("training labels")
    axes[0].set_ylabel("Kendall's tau, held-out classes")
    axes[-1].legend(fontsize=6, loc="lower right")
    return fig


def predict_section(result: StudyResult) -> Section:
    t = result.tables
    findings = []
    if "goals" in t:
        for _, g in t["goals"].iterrows():
            model = f" ({g.model})" if isinstance(g.get("model"), str) else ""
            findings.append(f"{g.goal} [{g.subset}]: {g.value:.3f}{model} -- "
                            f"{'reached' if g.reached else 'not reached'}.")
    if "overtakes" in t:
        for _, r in t["overtakes"].iterrows():
            if r.target in GOAL_TARGETS or r.target == "baseline_accuracy":
                when = (f"first beats the low-cost bar ({r.lowcost_tau:.2f}) at {int(r.overtakes_at)} labels "
                        f"({r.overtaking_model})" if pd.notna(r.overtakes_at) else
                        f"never beats the low-cost bar ({r.lowcost_tau:.2f})")
                findings.append(f"{r.target} [{r.subset}]: best {r.best_model} tau {r.best_tau:.2f} at "
                                f"{r.best_labels} labels; {when}.")
    n = result.info.get("classes_with_proxies", 0)
    settings = result.info.get("proxy_settings") or "settings not recorded"
    intro = (f"Zero-cost proxies are computed by this project at initialisation ({settings}); they are estimates, "
             "not measurements. "
             f"Proxies available for {n} of 6,466 classes. Targets are the release's class means (isomorphic cells "
             "averaged); noisy_drop = baseline - noisy accuracy, hwt_recovery = analog - noisy accuracy; subset b80: "
             "class-mean baseline accuracy > 80 %. Learning curves: Kendall's tau on all held-out classes of the "
             f"pool versus training labels, mean +- std over seeds. Zero-label combination (fixed a priori): rank "
             f"average of {', '.join(ZERO_LABEL_COMBO)}.")
    if "settings_agreement" in t and len(t["settings_agreement"]):
        s = t["settings_agreement"].set_index("proxy")
        findings.append(
            f"Smaller network: on {int(s.n.max())} classes computed at both settings, the table's values rank like "
            f"the release network's (C=16, N=5, 64 images) at median Spearman {s.spearman_small_vs_full.median():.2f}"
            + (f"; aimc_agree_1d ranks noisy accuracy at tau {s.tau_noisy_accuracy_small.get('aimc_agree_1d'):.2f} "
               f"(table) against {s.tau_noisy_accuracy_full.get('aimc_agree_1d'):.2f} (release network)"
               if "aimc_agree_1d" in s.index else "") + ".")
    sec = Section("predict", "Predicting analog robustness cheaply", "issue 19", intro, findings)
    if "proxy_agreement" in t:
        for subset in sorted(set(t["proxy_agreement"].subset)):
            sec.tables[f"predict_proxies_{subset}"] = (
                f"Kendall's tau of each proxy with each release target ({subset})", _pivot(t["proxy_agreement"], subset)
                .round(3).reset_index())
            sec.figures[f"predict_proxy_heatmap_{subset}"] = FigureSpec(
                f"Kendall's tau of zero-cost proxies with release targets ({subset})",
                lambda subset=subset: _heatmap(t["proxy_agreement"], subset))
        sec.tables["predict_proxy_agreement"] = ("Every proxy, target and subset: Spearman, Kendall, top-10 % "
                                                 "overlap", t["proxy_agreement"])
    for name, caption in (("goals", "The issue's goals"), ("zero_label", "Zero-label rank average"),
                          ("overtakes", "Best surrogate per target and where it beats the low-cost bar"),
                          ("lowcost_bar", "The bar: cifar10-lowcost versus the release (Kendall's tau)"),
                          ("curve_summary", "Learning curves (Kendall's tau, mean and std over seeds)"),
                          ("device_agreement", "CPU versus GPU proxy values of the same classes"),
                          ("settings_agreement", "The table's settings against the release's network (C=16, N=5, "
                                                 "64 images) on the classes both hold: rank correlation of the "
                                                 "values, and each setting's Kendall's tau with the release")):
        if name in t and len(t[name]):
            sec.tables[f"predict_{name}"] = (caption, t[name])
    if "curve_summary" in t and len(t["curve_summary"]):
        for (pool, subset), _ in t["curve_summary"].groupby(["pool", "subset"]):
            sec.figures[f"predict_curves_{pool}_{subset}"] = FigureSpec(
                f"Few-label surrogates: Kendall's tau on held-out classes versus training labels ({subset}; pool: "
                f"{pool})", lambda subset=subset, pool=pool: _curves(t["curve_summary"], t.get("lowcost_bar"),
                                                                      subset, pool))
    return sec


def write_study_report(result: StudyResult) -> Path:
    """Figures (PNG) and a Markdown page of the section, into the study's folder; returns the Markdown path."""
    from analognasbench.report.render import RenderedFigure, RenderedSection, RenderedTable, render_markdown

    sec = predict_section(result)
    out = result.out
    (out / "figures").mkdir(exist_ok=True)
    (out / "tables").mkdir(exist_ok=True)
    rs = RenderedSection(sec.name, sec.title, sec.paper_ref, sec.intro, list(sec.findings))
    for name, (caption, df) in sec.tables.items():
        df.to_csv(out / "tables" / f"{name}.csv", index=False)
        rs.tables.append(RenderedTable(name, caption, df, f"tables/{name}.csv"))
    for name, spec in sec.figures.items():
        spec.draw().savefig(out / "figures" / f"{name}.png", dpi=150)
        rs.figures.append(RenderedFigure(name, spec.caption, f"figures/{name}.png"))
    md = out / "predict.md"
    md.write_text(render_markdown("Predicting analog robustness cheaply", [("Study", str(out))], [], [rs],
                                  "Generated by anb predict --evaluate."), encoding="utf-8")
    return md
