"""Report section: the accuracy-energy Pareto front of the whole dataset, and where the robust cells sit on it.

Accuracy is the measured 1-day accuracy of the hardware-aware trained network (``analog_drift_86400``); energy is
the cost model's ``hw_energy_uj`` (a MODEL ESTIMATE per inference, at the dataset's network size, on one chip
preset). **Robust** cells: among the accurate ones (1-day accuracy at or above the dataset's median, so that
degenerate cells, which do not drift because they learn nothing, are left out), those whose drift drop
``analog_drift_60 - analog_drift_2592000`` is at or below the 10th percentile of that set. For each robust cell
the section reports its *energy overhead*: its energy over the energy of the cheapest front cell at least as
accurate (1 = on the front).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from analognasbench import hardware
from analognasbench.analysis.registry import FigureSpec, Section
from analognasbench.analysis.style import new_figure
from analognasbench.bench.costs import cost_columns, cost_network
from analognasbench.report.source import ReportDataset
from analognasbench.search.pareto import pareto_mask
from analognasbench.space import from_index

ACCURACY = "analog_drift_86400"
DRIFT_START, DRIFT_END = "analog_drift_60", "analog_drift_2592000"
ENERGY = "hw_energy_uj"
#: Robust = drift drop at or below this quantile, among cells at or above ACCURATE_QUANTILE of 1-day accuracy.
ROBUST_QUANTILE = 0.10
ACCURATE_QUANTILE = 0.50
TITLE = "Accuracy and energy: the Pareto front (hardware cost model)"


def pareto_table(df: pd.DataFrame, meta: Any = None, chip: hardware.ChipPreset | str = hardware.DEFAULT_CHIP
                 ) -> pd.DataFrame:
    """One row per architecture with a finite 1-day accuracy: arch, canonical index, accuracy, energy, drift
    drop, ``on_front``, ``robust``, ``energy_overhead``. Rows of the same class with the same energy (isomorphic
    duplicates in the original release's table) are kept once."""
    missing = [c for c in (ACCURACY, DRIFT_START, DRIFT_END, "arch_index") if c not in df.columns]
    if missing:
        raise ValueError(f"the dataset lacks {', '.join(missing)}")
    costs = cost_columns(df, meta, chip)
    out = pd.DataFrame({
        "arch_index": df["arch_index"].to_numpy(dtype=np.int64),
        "canonical_index": df["canonical_index"].to_numpy(dtype=np.int64) if "canonical_index" in df else -1,
        ACCURACY: df[ACCURACY].to_numpy(dtype=np.float64),
        ENERGY: costs[ENERGY].to_numpy(dtype=np.float64),
        "drift_drop": (df[DRIFT_START] - df[DRIFT_END]).to_numpy(dtype=np.float64),
    })
    out = out[np.isfinite(out[ACCURACY])]
    out = out.drop_duplicates(["canonical_index", ENERGY]) if (out["canonical_index"] >= 0).all() else out
    out = out.reset_index(drop=True)
    out.insert(1, "arch", [from_index(int(i)).short for i in out["arch_index"]])
    out["on_front"] = pareto_mask(out[[ACCURACY, ENERGY]].to_numpy(), (True, False))
    accurate = out[ACCURACY] >= np.nanquantile(out[ACCURACY], ACCURATE_QUANTILE)
    drops = out.loc[accurate, "drift_drop"]
    threshold = np.nanquantile(drops, ROBUST_QUANTILE) if drops.notna().any() else np.nan
    out["robust"] = accurate & (out["drift_drop"] <= threshold)
    out.attrs.update(robust_drop_threshold=float(threshold), chip=costs.attrs.get("chip"),
                     accurate_threshold=float(np.nanquantile(out[ACCURACY], ACCURATE_QUANTILE)))
    out["energy_overhead"] = _overhead(out)
    return out


def _overhead(t: pd.DataFrame) -> np.ndarray:
    """Energy / energy of the cheapest front cell with at least the same accuracy."""
    front = t[t["on_front"]].sort_values(ACCURACY)
    acc, energy = front[ACCURACY].to_numpy(), front[ENERGY].to_numpy()
    # cheapest front energy among front points with accuracy >= a: suffix minimum over accuracy-sorted front
    suffix_min = np.minimum.accumulate(energy[::-1])[::-1]
    pos = np.searchsorted(acc, t[ACCURACY].to_numpy(), side="left")
    ok = pos < len(acc)
    out = np.full(len(t), np.nan)
    out[ok] = t[ENERGY].to_numpy()[ok] / suffix_min[pos[ok]]
    return out


def pareto_section(ds: ReportDataset, chip: hardware.ChipPreset | str = hardware.DEFAULT_CHIP) -> Section:
    """The report section (skipped, with the reason, when the dataset lacks the drift metrics)."""
    preset = hardware.get_chip(chip)
    net = cost_network(ds.meta)
    sec = Section(
        "pareto_energy", TITLE, "issue 17",
        f"Measured 1-day accuracy ({ACCURACY}) against the energy per inference estimated by the AIMC cost model "
        f"(README 'Hardware cost'; chip preset {preset.name}, network C={net.C} N={net.N} "
        f"{net.image_size}x{net.image_size}; energies are model estimates, not measurements). Robust cells: drift "
        f"drop ({DRIFT_START} - {DRIFT_END}) at or below the {ROBUST_QUANTILE:.0%} quantile among the cells at or "
        f"above the median 1-day accuracy. Energy overhead: a cell's energy over that of the cheapest front cell "
        f"at least as accurate (1 = on the front).")
    try:
        t = pareto_table(ds.df, ds.meta, preset)
    except ValueError as exc:
        sec.skipped = str(exc)
        return sec
    if len(t) < 8:
        sec.skipped = f"only {len(t)} architectures with a 1-day accuracy"
        return sec
    front, robust = t[t["on_front"]], t[t["robust"]]
    sec.findings.append(f"{len(front)} of {len(t):,} architectures are on the accuracy-energy front, from "
                        f"{front[ENERGY].min():.3g} uJ ({front.loc[front[ENERGY].idxmin(), ACCURACY]:.2f} %) to "
                        f"{front[ENERGY].max():.3g} uJ ({front[ACCURACY].max():.2f} %).")
    if len(robust):
        on = int(robust["on_front"].sum())
        sec.findings.append(
            f"{len(robust)} robust cells (drift drop <= {t.attrs['robust_drop_threshold']:.2f} points, 1-day "
            f"accuracy >= {t.attrs['accurate_threshold']:.2f} %): {on} on the front; median energy overhead "
            f"{np.nanmedian(robust['energy_overhead']):.2f}x (range {np.nanmin(robust['energy_overhead']):.2f}-"
            f"{np.nanmax(robust['energy_overhead']):.2f}x) over the cheapest front cell at least as accurate.")
        best = robust.sort_values(ACCURACY, ascending=False).iloc[0]
        sec.findings.append(f"Most accurate robust cell: {best['arch']} ({best[ACCURACY]:.2f} %, "
                            f"{best[ENERGY]:.3g} uJ, drift drop {best['drift_drop']:.2f} points, overhead "
                            f"{best['energy_overhead']:.2f}x).")
    columns = ["arch", "canonical_index", ACCURACY, ENERGY, "drift_drop", "robust", "energy_overhead"]
    sec.tables["pareto_front"] = ("Accuracy-energy Pareto front (energy: model estimate)",
                                  front.sort_values(ENERGY)[columns].reset_index(drop=True))
    if len(robust):
        sec.tables["pareto_robust"] = ("Robust cells and their energy overhead over the front",
                                       robust.sort_values("energy_overhead")[columns + ["on_front"]]
                                       .reset_index(drop=True))
    sec.figures["pareto_energy"] = FigureSpec(
        f"1-day accuracy (measured) against energy per inference (model estimate, {preset.name}); black line: the "
        "Pareto front; triangles: robust cells.", lambda: plot_front(t, preset.name))
    return sec


def plot_front(t: pd.DataFrame, chip_name: str) -> Any:
    fig, ax = new_figure(width=6.5, height=4.0)
    ax.scatter(t[ENERGY], t[ACCURACY], s=4, color="0.75", linewidths=0, label="all architectures", rasterized=True)
    robust = t[t["robust"]]
    ax.scatter(robust[ENERGY], robust[ACCURACY], s=18, marker="^", facecolors="none", edgecolors="C1",
               linewidths=0.8, label="robust (small drift drop)")
    front = t[t["on_front"]].sort_values(ENERGY)
    ax.step(front[ENERGY], front[ACCURACY], where="post", color="black", linewidth=1.0)
    ax.scatter(front[ENERGY], front[ACCURACY], s=12, color="black", label="Pareto front")
    ax.set_xscale("log")
    ax.set_xlabel(f"energy per inference (uJ, model estimate, {chip_name})")
    ax.set_ylabel("1-day accuracy, HWT network (%)")
    ax.legend(fontsize=7, loc="lower right")
    return fig
