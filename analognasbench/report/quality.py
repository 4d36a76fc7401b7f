"""The report's data-quality section: can this dataset tell architectures apart, and do its rankings carry over to
a higher-fidelity measurement of the same architectures? (The checks of DATASET.md, :mod:`analognasbench.fidelity.quality`.)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analognasbench.analysis.registry import FigureSpec, Section
from analognasbench.analysis.style import COLORS, MARKERS, metric_label, new_figure
from analognasbench.fidelity import quality as q
from analognasbench.report.source import ReportDataset

TITLE = "Data quality and fidelity"


def _test_subset(ds: ReportDataset) -> int | None:
    profile = ds.meta.get("profile") or {}
    return profile.get("test_subset") if isinstance(profile, dict) else None


def _usable(df: pd.DataFrame) -> list[str]:
    """Metrics whose rows report an error of their own (the baseline's is binomial): the release reports none for
    its t = 0 metrics and no repetition count, so only its separately measured isomorphic cells tell its error."""
    def has_error(m: str) -> bool:
        if m == "baseline_accuracy":
            return True
        if f"{m}_std" not in df.columns or "repetitions" not in df.columns:
            return False
        return bool((df[f"{m}_std"].notna() & (df["repetitions"].fillna(0) > 0)).any())

    return [m for m in q.held_metrics(df) if m in df.columns and df[m].notna().any() and has_error(m)]


def plot_fidelity(low: pd.DataFrame, high: pd.DataFrame, fid: pd.DataFrame, low_name: str, high_name: str):
    both = low.merge(high, on="canonical_index", suffixes=("_low", "_high"))
    metrics = list(fid.metric)
    fig, axes = new_figure(len(metrics), 1, width=2.6 * len(metrics), height=2.8)
    for i, (ax, m) in enumerate(zip(np.atleast_1d(axes), metrics)):
        ax.scatter(both[f"{m}_low"], both[f"{m}_high"], s=14, marker=MARKERS[i % len(MARKERS)],
                   color=COLORS[i % len(COLORS)])
        tau = fid.set_index("metric").loc[m, "kendall_tau"]
        ax.set_title(f"{metric_label(m)}\nKendall tau {tau:.2f}", fontsize=8)
        ax.set_xlabel(f"{low_name} (%)", fontsize=7)
        if i == 0:
            ax.set_ylabel(f"{high_name} (%)", fontsize=7)
    return fig


def quality_section(ds: ReportDataset, reference: ReportDataset | None = None,
                    seeds: ReportDataset | None = None, release: ReportDataset | None = None) -> Section:
    """Distinguishability of ``ds``; where it measured isomorphic cells separately (the release), their
    repeatability; given a higher-fidelity ``reference``, Kendall's tau between the two; given ``seeds``, rows of
    the same architectures trained from another seed, how far values move with the seed; given ``release`` (the
    published data), how well ``ds`` ranks architectures like it."""
    sec = Section("data_quality", TITLE, "DATASET.md",
                  "Whether differences between architectures exceed the noise of one measurement (spread across "
                  "architectures, IQR, against the standard error of one architecture's value; at least 3x counts "
                  "as distinguishable), whether rankings agree with a higher-fidelity measurement of the same "
                  "architectures (Kendall's tau), and how far values move when networks are trained from another "
                  "seed.")
    metrics = tuple(_usable(ds.df))
    members = "canonical_index" in ds.df.columns and ds.df["canonical_index"].duplicated().any()
    if not metrics and not members:
        sec.skipped = "the dataset has no per-architecture standard deviations and repetition counts"
        return sec
    if members:
        _member_check(sec, ds)
    if release is not None:
        _release_check(sec, ds, release)
    if not metrics:
        return sec
    dist = q.distinguishability(ds.df, _test_subset(ds), metrics)
    good = [metric_label(m) for m in dist.metric[dist.good_enough]]
    weak = [metric_label(m) for m in dist.metric[~dist.good_enough]]
    sec.findings.append("Distinguishable (spread >= 3x the error of one value): "
                        + (", ".join(good) or "none") + "; not: " + (", ".join(weak) or "none") + ".")
    shown = dist.assign(good_enough=dist.good_enough.map({True: "yes", False: "no"}))
    sec.tables["quality_distinguishability"] = ("Spread across architectures vs the error of one value (points)", shown)
    if reference is not None:
        fid = q.rank_fidelity(ds.df, reference.df, tuple(m for m in metrics if m in reference.df.columns))
        n = int(fid.n.max()) if len(fid) else 0
        if n < 3:
            sec.findings.append(f"Fidelity check: only {n} architecture(s) shared with {reference.name}; "
                                "Kendall's tau needs at least 3.")
        else:
            taus = ", ".join(f"{metric_label(r.metric)} {r.kendall_tau:.2f}" for r in fid.itertuples())
            sec.findings.append(f"Fidelity check against {reference.name} ({reference.fidelity or 'no profile'}), "
                                f"{n} architectures: Kendall's tau {taus}.")
            sec.tables["quality_fidelity"] = (f"Rank fidelity against {reference.name}", fid)
            sec.figures["quality_fidelity"] = FigureSpec(
                f"Each architecture at both fidelities ({ds.name} vs {reference.name}).",
                lambda: plot_fidelity(ds.df, reference.df, fid, ds.name, reference.name))
    if seeds is not None:
        _seed_check(sec, ds, seeds, metrics)
    return sec


def _seed_check(sec: Section, ds: ReportDataset, seeds: ReportDataset, metrics: tuple[str, ...]) -> None:
    try:
        var = q.seed_variation(ds.df, seeds.df, _test_subset(ds), tuple(m for m in metrics if m in seeds.df.columns))
    except ValueError as exc:
        sec.findings.append(f"Seed check against {seeds.name}: {exc}.")
        return
    moves = ", ".join(f"{metric_label(r.metric)} {r.seed_std:.2f} (tau {r.kendall_tau:.2f})"
                      for r in var.itertuples())
    sec.findings.append(f"Seed check against {seeds.name}, {int(var.n.max())} architectures trained again from "
                        f"another seed: std of one value across seeds (points), and Kendall's tau between seeds: "
                        f"{moves}.")
    sec.tables["quality_seeds"] = (f"How far values move with the training seed ({seeds.name})", var)


def _member_check(sec: Section, ds: ReportDataset) -> None:
    try:
        rel = q.member_reliability(ds.df)
    except ValueError as exc:
        sec.findings.append(f"Repeatability from isomorphic cells: {exc}.")
        return
    parts = ", ".join(f"{metric_label(r.metric)} {r.within_std:.2f} (tau {r.kendall_tau:.2f})"
                      for r in rel.itertuples())
    sec.findings.append(
        f"Repeatability ({int(rel.classes.max())} isomorphism classes whose members were trained separately, the "
        f"release's only repeated measurements): std of one value within a class (points), and Kendall's tau "
        f"between two members across classes: {parts}.")
    sec.tables["quality_members"] = ("Repeatability from separately measured isomorphic cells", rel)


def _release_check(sec: Section, ds: ReportDataset, release: ReportDataset) -> None:
    fid = q.rank_fidelity(ds.df, release.df)
    fid = fid[fid.n >= 3]
    if fid.empty:
        sec.findings.append(f"Agreement with {release.name}: fewer than 3 shared classes with values.")
        return
    parts = ", ".join(f"{metric_label(r.metric)} tau {r.kendall_tau:.2f} / rho {r.spearman_rho:.2f} / top-10 % "
                      f"{r.top10_overlap:.0%}" for r in fid.itertuples())
    sec.findings.append(f"Agreement with the published release ({release.name}) over {int(fid.n.max())} shared "
                        f"classes (the release's class means): {parts}. Metrics of the same name are compared as "
                        "they are; where their protocols differ (DATASET.md), so may their meaning.")
    sec.tables["quality_vs_release"] = (f"Rank agreement with {release.name}", fid)
