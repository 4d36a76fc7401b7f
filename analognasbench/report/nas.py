"""Hook for the NAS comparison (issue 8's Table 1 and anytime curves): the search harness produces the numbers,
the report only lays them out.

``table``: one row per method, any columns (e.g. method, baseline accuracy, noisy accuracy, 1-day accuracy as
"mean ± std" text or numbers, AVM, parameters (K), search time (s)).

``curves``: tidy anytime curves, one of two layouts:

* per seed: columns ``method``, ``evaluations``, ``seed``, ``best`` (best objective so far); mean and the
  min-max spread over seeds are computed here;
* aggregated: columns ``method``, ``evaluations``, ``mean`` and optionally ``lo`` / ``hi`` (the band).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analognasbench.analysis.registry import FigureSpec, Section
from analognasbench.analysis.style import LINESTYLES, MARKERS, new_figure
from analognasbench.space import NUM_ARCHITECTURES, NUM_CLASSES

TABLE_FILE = "table1.csv"
CURVES_FILE = "anytime.csv"  # written by analognasbench.search.compare.write_outputs


@dataclass
class NASComparison:
    table: pd.DataFrame
    curves: pd.DataFrame | None = None
    title: str = "NAS methods on the benchmark (Table 1)"
    objective_label: str = "best 1-day analog accuracy found (%)"
    notes: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.table, pd.DataFrame) or self.table.empty:
            raise ValueError("NASComparison.table must be a non-empty DataFrame (one row per method)")
        if self.curves is not None:
            aggregate_curves(self.curves)  # validates the layout early


def aggregate_curves(curves: pd.DataFrame) -> pd.DataFrame:
    """Curves in the aggregated layout (method, evaluations, mean, lo, hi), from either accepted layout."""
    need = {"method", "evaluations"}
    if not need <= set(curves.columns):
        raise ValueError(f"anytime curves need columns {sorted(need)} plus 'seed' and 'best', or 'mean' "
                         f"(optional 'lo'/'hi'); got {list(curves.columns)}")
    if "mean" in curves.columns:
        out = curves.rename(columns={"min": "lo", "max": "hi"}) if "lo" not in curves.columns else curves.copy()
        for c in ("lo", "hi"):
            if c not in out.columns:
                out[c] = np.nan
        return out[["method", "evaluations", "mean", "lo", "hi"]]
    if "best" not in curves.columns:
        raise ValueError("per-seed anytime curves need a 'best' column (best objective so far); got "
                         f"{list(curves.columns)}")
    g = curves.groupby(["method", "evaluations"])["best"]
    return g.agg(mean="mean", lo="min", hi="max").reset_index()


def plot_anytime(curves: pd.DataFrame, objective_label: str):
    agg = aggregate_curves(curves)
    fig, ax = new_figure(width=6.5, height=3.8)
    for i, (method, sub) in enumerate(agg.groupby("method", sort=True)):
        sub = sub.sort_values("evaluations")
        ax.plot(sub["evaluations"], sub["mean"], linestyle=LINESTYLES[i % len(LINESTYLES)],
                marker=MARKERS[i % len(MARKERS)], markevery=max(1, len(sub) // 8), color=f"C{i % 6}", label=method)
        if sub["lo"].notna().any():
            ax.fill_between(sub["evaluations"], sub["lo"], sub["hi"], color=f"C{i % 6}", alpha=0.12, linewidth=0)
    ax.set_xscale("log")
    ax.set_xlabel("architecture evaluations (log scale)")
    ax.set_ylabel(objective_label)
    ax.set_title("Anytime performance: mean over seeds, band = min-max")
    ax.legend(ncols=2, fontsize=7)
    return fig


def nas_section(comparison: NASComparison) -> Section:
    """The report section for a NAS comparison."""
    sec = Section("nas_comparison", comparison.title, "Sec. 4, Table 1",
                  comparison.notes or "Search methods compared on the benchmark; see the table for the found "
                  "architectures' measured metrics.")
    sec.tables["nas_table1"] = ("Best architecture found by each method", comparison.table)
    if comparison.curves is not None:
        curves = comparison.curves
        sec.tables["nas_anytime_curves"] = ("Anytime curves (aggregated over seeds)", aggregate_curves(curves))
        sec.figures["nas_anytime"] = FigureSpec("Best objective found vs number of evaluations.",
                                                lambda: plot_anytime(curves, comparison.objective_label))
    return sec


def load_nas_comparison(directory: str | Path) -> NASComparison:
    """Read ``table1.csv`` (and ``curves.csv`` if present) written by the search harness."""
    d = Path(directory)
    table = d / TABLE_FILE
    if not table.is_file():
        raise FileNotFoundError(f"no NAS comparison table {table} (expected {TABLE_FILE} and optionally "
                                f"{CURVES_FILE} in {d})")
    curves = d / CURVES_FILE
    return NASComparison(pd.read_csv(table), pd.read_csv(curves) if curves.is_file() else None)


def run_nas_comparison(df: pd.DataFrame, *, seeds: int = 10, budget: int = 100) -> NASComparison:
    """Run the paper's search methods on the table ``df`` (tabular evaluator) and lay it out for the report (its
    Table 1; the Optuna samplers and other added methods are for ``anb compare``, which lists them beside these)."""
    from analognasbench.search import method_names
    from analognasbench.search.compare import PAPER_ORDER, CompareConfig, run_comparison

    methods = tuple(m for m in PAPER_ORDER if m in method_names())
    comparison = run_comparison(df, CompareConfig(methods=methods, seeds=seeds, budget=budget))
    table = comparison.table1(formatted=True)
    notes = (f"{seeds} seeds, budget {budget} evaluations per run, tabular evaluator; search space: "
             f"{searched_space(comparison.candidates or 0, comparison.unit)}; exhaustive optimum "
             f"{comparison.optimum:.2f} %. {table.attrs.get('avm', '')}")
    return NASComparison(table, comparison.anytime(), notes=notes)


def searched_space(n: int, unit: str) -> str:
    """What the searches ran over, in the words of what was evaluated: on a table whose isomorphic cells were
    measured separately (the release) every cell is its own candidate, so "all 6,466 classes" would misstate it."""
    if unit == "cell":
        cells = f"all {n:,} cells" if n == NUM_ARCHITECTURES else f"the {n:,} measured cells of this dataset"
        return f"{cells}, each its own candidate (isomorphic cells were trained and measured separately)"
    if n < NUM_CLASSES:
        return f"the {n:,} measured isomorphism classes of this dataset (a proposal of an unmeasured class is not charged)"
    return f"all {NUM_CLASSES:,} isomorphism classes"
