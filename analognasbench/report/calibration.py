"""The report's calibration section (issue 18): how well do cheap measurement profiles rank like the release?

Each candidate profile is a shipped dataset measured on the calibration sample (``scripts/calibration-archs.txt``)
or, for the older low-cost datasets, on a prefix of the space's fixed random order. Per profile: Kendall's tau with
the release on the classes both hold (class means), the noisy-drop median next to the release's on the same
classes, and the cost per architecture on one core. The frontier plots agreement against cost. The computation is
:func:`analognasbench.fidelity.calibration.calibration_table`; ``benchmarks/calibration.py`` prints the same table
from run stores.
"""

from __future__ import annotations

import math

import pandas as pd

from analognasbench.analysis.registry import FigureSpec, Section
from analognasbench.analysis.style import COLORS, MARKERS, new_figure
from analognasbench.fidelity import calibration as cal
from analognasbench.fidelity.reproduce import reproduction_summary

TITLE = "Calibrating low-cost measurements against the release"
#: Metrics of the summary table, with the cross-reading used where a dataset lacks the release's t = 0 reading.
SUMMARY = (("baseline_accuracy", None), ("noisy_accuracy", "noisy_programmed_accuracy~noisy_accuracy"),
           ("noisy_drift_86400", None), ("analog_accuracy", "analog_programmed_accuracy~analog_accuracy"),
           ("analog_drift_86400", None))
#: The issue's targets: tau >= 0.6 on noisy accuracy and >= 0.5 on 1-day analog accuracy.
TARGETS = {"noisy_accuracy": 0.6, "analog_drift_86400": 0.5}


def _cost(r: pd.Series) -> float:
    return r.core_seconds_per_arch if not math.isnan(r.core_seconds_per_arch) else r.seconds_per_arch


def _points(value: float) -> str:
    return "n/m" if math.isnan(value) else f"{value:.1f}"


def summary_table(table: pd.DataFrame, drops: dict[str, dict[str, float]]) -> pd.DataFrame:
    """One row per profile: n, cost, tau per summary metric (``*`` marks the programmed reading), noisy drops
    (medians, points; ``n/m``: not measured)."""
    rows = []
    for profile, part in table.groupby("profile", sort=False):
        by = part.set_index("metric")
        first = part.iloc[0]
        row: dict = {"profile": profile, "n": int(part.n.max()), "core-s/arch": _points(_cost(first))}
        for metric, cross in SUMMARY:
            tau = by.kendall_tau.get(metric, math.nan)
            if (tau is None or math.isnan(tau)) and cross and cross in by.index:
                row[metric] = f"{by.kendall_tau[cross]:.2f}*" if not math.isnan(by.kendall_tau[cross]) else "n/m"
            else:
                row[metric] = "n/m" if math.isnan(tau) else f"{tau:.2f}"
        row["noisy drop"] = _points(first.noisy_drop_median)
        row["programmed drop"] = _points(first.programmed_drop_median)
        row["release drop, same classes"] = _points(drops[profile]["drop_median"])
        rows.append(row)
    return pd.DataFrame(rows)


#: Columns of the limits table: (label, key suffix of :func:`~analognasbench.fidelity.calibration.agreement_limits`).
LIMIT_COLUMNS = (("measured", "measured"), ("our baseline", "our_baseline"), ("our loss", "our_loss"),
                 ("ours + release's loss", "with_release_loss"), ("release's baseline + our loss",
                                                                  "with_release_baseline"),
                 ("release's baseline alone", "release_baseline"))


def limits_table(candidates: dict[str, pd.DataFrame], release: pd.DataFrame) -> pd.DataFrame:
    """One row per (profile, target): Kendall's tau with the release's reading of the measured reading, of its
    parts and of the two mixes of :func:`~analognasbench.fidelity.calibration.agreement_limits`."""
    rows = []
    for profile, frame in candidates.items():
        limits = cal.agreement_limits(frame, release)
        for label, _metric in cal.LIMIT_METRICS:
            if not limits.get(f"{label}_n"):
                continue
            row = {"profile": profile, "target": _metric.value, "n": int(limits[f"{label}_n"])}
            row.update({name: round(limits.get(f"{label}_{key}", math.nan), 2) for name, key in LIMIT_COLUMNS})
            rows.append(row)
    return pd.DataFrame(rows)


def plot_frontier(table: pd.DataFrame):
    """Kendall's tau (+- its standard error) against the cost per architecture, for noisy accuracy and 1-day analog
    accuracy; hollow markers: the programmed t = 0 reading against the release's unprogrammed one."""
    from matplotlib.ticker import ScalarFormatter

    fig, axes = new_figure(2, 1, width=11.0, height=4.4, sharey=True)
    panels = (("noisy_accuracy", "noisy_programmed_accuracy~noisy_accuracy"), ("analog_drift_86400", None))
    profiles = list(dict.fromkeys(table.profile))
    for ax, (metric, cross) in zip(axes, panels):
        for name, hollow in ((metric, False), (cross, True)):
            sub = table[table.metric == name].dropna(subset=["kendall_tau"]) if name else table.iloc[:0]
            for r in sub.itertuples():
                k = profiles.index(r.profile)
                color = COLORS[k % len(COLORS)]
                cost = r.core_seconds_per_arch if not math.isnan(r.core_seconds_per_arch) else r.seconds_per_arch
                ax.errorbar(cost, r.kendall_tau, yerr=r.tau_se, fmt=MARKERS[k % len(MARKERS)], color=color,
                            mfc="none" if hollow else color, capsize=3,
                            label=f"{r.profile} (n={r.n}){', programmed t=0' if hollow else ''}")
        ax.axhline(TARGETS[metric], ls=":", c="grey")
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(ScalarFormatter())
        ax.xaxis.set_minor_formatter(ScalarFormatter())
        ax.tick_params(axis="x", which="minor", labelsize=6)
        ax.set_xlabel("cost per architecture (core-seconds, one core)")
        ax.set_title(f"{metric} (dotted: the target)", fontsize=9)
        ax.legend(fontsize=6, loc="lower right")
    axes[0].set_ylabel("Kendall's tau with the release")
    return fig


def plot_drop_ablation(table: pd.DataFrame, path: str | None = None):
    """Left: the mean noisy drop of each ablation setting (bars) against the release's on the same classes (ticks).
    Right: Kendall's tau of the per-class drop with the release's (+- its standard error)."""
    fig, axes = new_figure(2, 1, width=11.0, height=0.32 * len(table) + 1.6, sharey=True)
    y = list(range(len(table)))[::-1]
    labels = [f"{r.setting} (n={r.n})" for r in table.itertuples()]
    axes[0].barh(y, table.drop_mean, color=COLORS[0], label="ours")
    axes[0].scatter(table.release_drop_mean, y, marker="|", s=200, color="black", label="release, same classes")
    axes[0].set_yticks(y, labels, fontsize=7)
    axes[0].set_xlabel("mean noisy drop (baseline - unprogrammed chip, points)")
    axes[0].legend(fontsize=7, loc="lower right")
    axes[1].errorbar(table.drop_tau, y, xerr=table.tau_se, fmt="o", color=COLORS[1], capsize=3)
    axes[1].axvline(0, c="grey", lw=0.8)
    axes[1].set_xlabel("Kendall's tau of the per-class drop with the release's")
    if path:
        fig.savefig(path, dpi=120, bbox_inches="tight")
    return fig


def drop_ablation_columns(table: pd.DataFrame) -> pd.DataFrame:
    """The ablation table as printed (DATASET.md and the report): rounded, readable column names."""
    out = pd.DataFrame({
        "setting": table.setting, "n": table.n, "baseline": table.baseline_mean.round(1),
        "drop": table.drop_mean.round(1), "release drop": table.release_drop_mean.round(1),
        "tau of drop": table.drop_tau.round(2), "core-s train": table.train_core_s.round(0),
        "core-s read": table.read_core_s.round(0)})
    return out


def add_drop_ablation(sec: Section, records: pd.DataFrame, release: pd.DataFrame) -> None:
    """The noisy-drop ablation (issue 23) in ``sec``: its table, figure and what it shows."""
    from analognasbench.fidelity.drop_ablation import drop_table

    table = drop_table(records, release) if len(records) else pd.DataFrame()
    if table.empty:
        return
    sec.tables["drop_ablation"] = (
        "Noisy-drop ablation: one factor at a time from calib-n1-fast's setting (N = 1, C = 8, 16 px, 4 epochs on "
        "5,000 images, read on 1,000 test images); mean drop, the release's on the same classes, Kendall's tau of "
        "the per-class drop with the release's, core-seconds per architecture (training, reading)",
        drop_ablation_columns(table))
    base = table.iloc[0]
    deepest = table[table.factor == "N"].sort_values("value").tail(1)
    if len(deepest):
        d = deepest.iloc[0]
        sec.findings.append(
            f"The drop is depth: at N = {d.value} cells per stage the unprogrammed chip costs {d.drop_mean:.1f} points "
            f"on average (release {d.release_drop_mean:.1f} on the same {d.n} classes; tau of the per-class drop "
            f"{d.drop_tau:.2f}), at N = 1 {base.drop_mean:.1f}. The cell's sum nodes pass the input's magnitude on "
            "along skip and pooling edges, so activations compound over a stage's cells and are clipped at the "
            "fixed input range 3.0 the release read its digital networks with (DATASET.md).")
    combined = table[table.factor == "combined"]
    if len(combined):
        parts = [f"{r.value}: {r.drop_mean:.1f} points (release {r.release_drop_mean:.1f}, tau of the per-class drop "
                 f"{r.drop_tau:.2f}, {r.train_core_s:.0f} core-s of training)" for r in combined.itertuples()]
        top = table.loc[table.drop_mean.idxmax()]
        sec.findings.append(
            "Factors together (changes from the base): " + "; ".join(parts) + f". The largest mean drop of any "
            f"setting: {top.setting}, {top.drop_mean:.1f} points against the release's {top.release_drop_mean:.1f} "
            "on the same classes.")
    sec.figures["drop_ablation"] = FigureSpec(
        "Noisy-drop ablation: the mean drop per setting against the release's (left) and the per-class ranking "
        "of drops (right).", lambda: plot_drop_ablation(table))


def reproduction_columns(comparison: pd.DataFrame) -> pd.DataFrame:
    """The shipped comparison as shown (the report's and DATASET.md's table): rounded, ``reproduced`` as yes/no,
    without the provenance (said once beside the table) and the floored spread (its z says it); a metric not
    measured yet reads ``pending``."""
    shown = comparison.drop(columns=["spread", "source"], errors="ignore").round(2)
    shown["reproduced"] = shown["reproduced"].map(
        lambda v: "pending" if pd.isna(v) else "yes" if v is True or v == 1 else "no")
    return shown


def add_reproduction(sec: Section, comparison: pd.DataFrame) -> None:
    """Release cells measured end to end with ``paper-original`` (issue 23, step 3; the shipped comparison of
    ``benchmarks/reproduce_release.py --export``) in ``sec``: the table and, per kind, what was reproduced and the
    noisy drop against the release's."""
    if comparison.empty:
        return
    shown = reproduction_columns(comparison)
    source = "; ".join(sorted(set(comparison.get("source", pd.Series(dtype=str)).dropna().astype(str)) - {""}))
    sec.tables["reproduction"] = (
        "End to end at the paper's protocol (paper-original) on release cells: our value per metric against the "
        "release's separately trained members of the class (reproduced: within 3 of their standard deviations, "
        "floored at one reading's binomial error; 'pending': not measured yet, the stages column names the training "
        "under way); kind 'probe': a digital training still in progress read early on a few passes (not a dataset "
        "value)" + (f". Ran: {source}" if source else ""), shown)
    for kind, sub in comparison.groupby("kind", sort=False):
        wide = sub.pivot_table(index="canonical_index", columns="metric", values=["ours", "release_mean"])
        drops = []
        if ("ours", "noisy_accuracy") in wide.columns and ("ours", "baseline_accuracy") in wide.columns:
            for cls, r in wide.iterrows():
                ours = r[("ours", "baseline_accuracy")] - r[("ours", "noisy_accuracy")]
                theirs = r[("release_mean", "baseline_accuracy")] - r[("release_mean", "noisy_accuracy")]
                if pd.notna(ours):
                    drops.append(f"class {cls}: {ours:.1f} (release {theirs:.1f})")
        summary = reproduction_summary(sub)
        pending = int(summary.compared.sum() - summary.measured.sum())
        sec.findings.append(
            f"paper-original, {kind}: {int(summary.reproduced.sum())} of {int(summary.measured.sum())} metrics of "
            f"{len(summary)} release classes within 3 spreads of the release's members"
            + (f" ({pending} not measured yet)" if pending else "")
            + (f"; noisy drop (baseline minus the unprogrammed chip, points): {'; '.join(drops)}" if drops else "")
            + ".")


def add_jpeg_generations(sec: Section, records: pd.DataFrame, release: pd.DataFrame,
                         reproduction: pd.DataFrame | None) -> None:
    """What the JPEG source costs the digital accuracy (issue 23, step 3) in ``sec``: the table of
    ``benchmarks/jpeg_generations.py`` and the estimate beside the reproduction's digital gap."""
    from analognasbench.fidelity.jpeg_generations import generation_table

    table = generation_table(records, release) if len(records) else pd.DataFrame()
    if table.empty:
        return
    sec.tables["jpeg_generations"] = (
        "What the JPEG source costs: the reproduce cells at the release's network and data (paper-original's digital "
        "training, shortened; each seed the same for every generation), trained and tested on the shipped images "
        "(+0) and on one and two further JPEG generations at the shipped setting with the block grid moved; digital "
        "accuracy, the unprogrammed chip's drop, the accuracy lost per generation and the release members' mean "
        "digital accuracy (at 200 epochs)", table.round(2))
    sec.findings.append(jpeg_finding(table, reproduction))


def jpeg_finding(table: pd.DataFrame, reproduction: pd.DataFrame | None) -> str:
    """One sentence: the loss per JPEG generation beside the digital gap of the reproduction on the same classes."""
    gaps = {}
    if reproduction is not None and len(reproduction):
        digital = reproduction[reproduction.metric == "baseline_accuracy"].dropna(subset=["ours"])
        gaps = {int(r.canonical_index): r.release_mean - r.ours for r in digital.itertuples()}
    parts = [f"class {int(r.canonical_index)}: {r.loss_per_generation:.2f} points per generation"
             + (f" (sd {r.loss_sd_over_seeds:.2f} over {r.seeds} seeds)" if r.seeds >= 2 else "")
             + (f" against paper-original's digital gap to the release of {gaps[int(r.canonical_index)]:.1f}"
                if int(r.canonical_index) in gaps else "") for r in table.itertuples()]
    mean = table.loss_per_generation.mean()
    shared = [gaps[int(c)] for c in table.canonical_index if int(c) in gaps]
    gap = (f" of the {min(shared):.1f}-{max(shared):.1f} points by which paper-original's digital accuracy falls "
           "short of the release's on these classes" if shared else " of a digital accuracy measured on them")
    return (f"Each further JPEG generation of the images costs the digital accuracy {mean:.2f} points on average ("
            + "; ".join(parts) + "). If the first generation, the one the shipped images went through, cost as "
            "much (each moved generation loses about as much signal as the one before), the JPEG source explains "
            f"about {mean:.2f}{gap} (an estimate from shortened training, not a measurement on lossless images).")


def calibration_section(candidates: dict[str, pd.DataFrame], release: pd.DataFrame,
                        chosen: str | None = None, ablation: pd.DataFrame | None = None,
                        reproduction: pd.DataFrame | None = None, jpeg: pd.DataFrame | None = None) -> Section:
    """The section for ``candidates`` (label -> measured rows) against ``release`` (the published rows)."""
    sec = Section("calibration", TITLE, "issue 18; DATASET.md",
                  "Candidate low-cost profiles measured on a fixed, seeded sample of isomorphism classes spread over "
                  "the release's noisy-accuracy range (scripts/calibration-archs.txt), and the older low-cost "
                  "datasets on the classes they hold. Agreement: Kendall's tau of class means with the release "
                  "over the classes both hold (its standard error on n classes is about 0.065 at n = 100). "
                  "Cost: median seconds per architecture on one core of this 2-core machine, often shared with "
                  "other jobs. '*': the programmed t = 0 reading compared with the release's unprogrammed one "
                  "(datasets measured before the release's meaning was known).")
    candidates = {k: v for k, v in candidates.items() if len(v)}
    if not candidates:
        sec.skipped = "no calibration datasets are shipped"
        return sec
    table = cal.calibration_table(candidates, release)
    drops = {k: cal.release_drop_on(release, v["canonical_index"].unique()) for k, v in candidates.items()}
    summary = summary_table(table, drops)
    sec.tables["calibration_summary"] = ("Agreement with the release (Kendall's tau) and cost per profile", summary)
    sec.tables["calibration_agreement"] = ("Every profile and metric: tau, its standard error, Spearman's rho, "
                                           "top-10 % overlap", table)
    noisy = pd.to_numeric(summary.noisy_accuracy.str.rstrip("*"), errors="coerce")
    best = summary.loc[noisy.idxmax()] if noisy.notna().any() else summary.iloc[0]
    drops = [f"{r['profile']} {r['noisy drop']} (release {r['release drop, same classes']})"
             for r in summary.to_dict("records") if r["noisy drop"] != "n/m"]
    sec.findings.append(
        f"Best agreement on noisy accuracy: {best.profile} (tau {best.noisy_accuracy} on {best.n} classes, "
        f"{best['core-s/arch']} core-s per architecture); the target is 0.6 on noisy accuracy and 0.5 on 1-day "
        f"analog accuracy. Noisy drop (baseline minus noisy accuracy, median, points): "
        + ("; ".join(drops) if drops else "no candidate measured the release's reading") + ".")
    if chosen:
        sec.findings.append(f"Chosen profile: {chosen} (its dataset is shipped with this agreement in its card).")
    limits = limits_table(candidates, release)
    if len(limits):
        sec.tables["calibration_limits"] = (
            "What limits the agreement: Kendall's tau with the release's reading of the measured reading, of its "
            "parts (a reading is baseline minus its loss on the chip) and of two mixes that are analysis, not "
            "measurement (our baseline minus the release's loss; the release's baseline minus our loss)", limits)
        sec.findings.append(_limits_finding(limits))
    sec.figures["calibration_frontier"] = FigureSpec(
        "Agreement with the published release versus cost per architecture (dotted: the issue's targets).",
        lambda: plot_frontier(table))
    if ablation is not None:
        add_drop_ablation(sec, ablation, release)
    if reproduction is not None:
        add_reproduction(sec, reproduction)
    if jpeg is not None:
        add_jpeg_generations(sec, jpeg, release, reproduction)
    return sec


def _limits_finding(limits: pd.DataFrame) -> str:
    """Which part limits each target, from the mixes (the largest gain from taking the release's part)."""
    parts = []
    for target, sub in limits.groupby("target", sort=False):
        chip = (sub["ours + release's loss"] - sub["measured"]).median()
        digital = (sub["release's baseline + our loss"] - sub["measured"]).median()
        own = sub["release's baseline alone"].median()
        parts.append(f"{target}: with the release's chip loss the profiles' tau would rise by {chip:+.2f} "
                     f"(median), with the release's digital training by {digital:+.2f}; the release's baseline "
                     f"alone ranks its {target} at {own:.2f}")
    return "What limits the agreement (mixes of our and the release's parts; analysis, not measurement): " + \
        "; ".join(parts) + "."


def shipped_candidates() -> dict[str, pd.DataFrame]:
    """The embedded datasets that are calibration candidates: every ``cifar10-calib-*`` and the low-cost ones."""
    from analognasbench.bench.registry import available_datasets, load

    names = [n for n in available_datasets() if n.startswith("cifar10-calib-")]
    names += [n for n in ("cifar10-lowcost", "cifar10-highfid-check") if n in available_datasets()]
    return {name: load(name)[0] for name in names}
