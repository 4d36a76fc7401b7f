"""Run methods x seeds and build the paper's Table 1, anytime curves, regret and the figure.

Table 1 (AnalogNAS-Bench, Section 4) reports, for the architecture each method returns, mean and std over seeds
of: baseline accuracy, noisy accuracy, the objective (default 1-day accuracy, ``analog_drift_86400``), AVM, the
parameter count (K = thousands) and the search time. **AVM** (accuracy variation over one month) is the drop of the
found architecture's accuracy from 60 s to 30 days after programming, ``m_drift_60 - m_drift_2592000``, of the
network the objective refers to (hardware-aware trained for ``analog_*``, digitally trained for ``noisy_*``).
All values are *measured* ones, whatever the evaluator the search used. Regret is the exhaustive (tabular)
optimum of the objective minus the measured objective of the returned architecture. Search time is the search's
wall time on this machine (surrogate training excluded; predictor training inside a method included).

Evaluator modes: ``tabular`` and ``surrogate`` apply to every method; ``paper`` follows the paper (surrogate for
all methods but BANANAS, NAS4RRAM, NACIM and Gibbon). Exhaustive search always gets a budget of every candidate:
every isomorphism class in a table of class representatives, every cell in a table whose isomorphic cells were
measured separately (the published release; :attr:`Comparison.unit` says which).
"""

from __future__ import annotations

import logging
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analognasbench.enums import ClosedSet
from analognasbench.pipeline.schema import Metric
from analognasbench.search.base import (
    Budget,
    Objective,
    Result,
    SearchContext,
    avm_metrics,
    check_number,
    check_sequence,
    get_method,
    method_names,
)
from analognasbench.search.evaluators import PAPER_SURROGATE_SAMPLES, SurrogateEvaluator, TabularEvaluator
from analognasbench.search.multiobjective import (
    MultiObjective,
    exhaustive_hypervolume,
    reference_point,
    run_hypervolume,
)
from analognasbench.space import NUM_ARCHITECTURES

log = logging.getLogger(__name__)

#: Row order of the paper's Table 1.
PAPER_ORDER: tuple[str, ...] = ("exhaustive", "random", "regularized_evolution", "bayesian_optimization", "bananas",
                                "analognas", "nas4rram", "ga_imc", "nacim", "gibbon")


class EvaluatorMode(ClosedSet, what="evaluator mode"):
    TABULAR = "tabular"
    SURROGATE = "surrogate"
    PAPER = "paper"


def default_methods() -> tuple[str, ...]:
    """Every registered method whose optional libraries are installed, the paper's in Table 1 order first (the
    others: :func:`unavailable_methods`)."""
    skip = set(unavailable_methods())
    names = [m for m in method_names() if m not in skip]
    return tuple(m for m in PAPER_ORDER if m in names) + tuple(m for m in names if m not in PAPER_ORDER)


def unavailable_methods() -> dict[str, str]:
    """Registered methods that cannot run here, with the reason (an optional library to install, e.g. Optuna)."""
    out = {}
    for name in method_names():
        try:
            get_method(name).check_available()
        except ImportError as exc:
            out[name] = str(exc)
    return out


@dataclass(frozen=True)
class CompareConfig:
    """What ``run_comparison`` runs. ``methods`` is a tuple or list of names (a plain string is refused, not split
    into letters); ``objective`` an :class:`Objective` or a metric name; the counts are positive integers (bools
    and strings refused), ``surrogate_samples`` at least 2."""

    methods: tuple[str, ...] = field(default_factory=default_methods)
    seeds: int = 10
    #: Evaluations per run (exhaustive search: every candidate).
    budget: int = 100
    objective: Objective = field(default_factory=Objective)
    evaluator: EvaluatorMode = EvaluatorMode.TABULAR
    surrogate_samples: int = PAPER_SURROGATE_SAMPLES
    #: Worker processes (one per seed at a time); 1 runs in this process.
    workers: int = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "evaluator", EvaluatorMode.parse(self.evaluator))
        # A string is refused rather than taken as one name: "random" would otherwise compare methods "r", "a", ...
        named = check_sequence("CompareConfig.methods", self.methods, '("random", "regularized_evolution")')
        bad = [m for m in named if not isinstance(m, str)]
        if bad:
            raise TypeError(f"CompareConfig.methods must hold method names (str); got {bad[0]!r}")
        methods = tuple(dict.fromkeys(named))  # a method named twice would run twice per seed
        if len(methods) != len(named):
            log.warning("methods named more than once run once each: %s", ", ".join(methods))
        object.__setattr__(self, "methods", methods)
        for name in self.methods:
            get_method(name).check_available()  # unknown names list the valid ones; a missing extra is named
        if not self.methods:
            raise ValueError("no methods to compare")
        for name in ("seeds", "budget", "workers", "surrogate_samples"):
            low = 2 if name == "surrogate_samples" else 1  # a surrogate needs two training architectures
            object.__setattr__(self, name, check_number(f"CompareConfig.{name}", getattr(self, name), integer=True,
                                                        low=low))
        if isinstance(self.objective, str):  # a metric name, as SearchMethod.run takes it
            object.__setattr__(self, "objective", Objective(self.objective))
        if not isinstance(self.objective, Objective):
            raise TypeError(f"CompareConfig.objective must be an Objective (or a metric name); got "
                            f"{type(self.objective).__name__} {self.objective!r}")


@dataclass
class Comparison:
    """All runs of a comparison and the exhaustive optimum they are judged against."""

    config: CompareConfig
    results: list[Result]
    optimum: float
    optimum_canonical_index: int
    #: Multi-objective comparisons: the hypervolume's reference point and the exhaustive front's hypervolume.
    hv_reference: tuple[float, ...] | None = None
    hv_optimum: float | None = None
    #: What was searched: the number of candidates and what one is ("class", or "cell" where the table measured
    #: isomorphic cells separately; then ``optimum_canonical_index`` is the optimum cell's index, not its class's).
    candidates: int | None = None
    unit: str = "class"

    def table1(self, formatted: bool = False) -> pd.DataFrame:
        return table1(self.results, self.optimum, formatted=formatted, hv_reference=self.hv_reference,
                      hv_optimum=self.hv_optimum)

    def anytime(self) -> pd.DataFrame:
        return anytime_curves(self.results, self.config.budget, self.optimum)

    def figure(self, path: str | Path | None = None) -> Any:
        return plot_anytime(self.anytime(), self.optimum, self.config.objective.metric, path=path)


def run_comparison(df: pd.DataFrame, config: CompareConfig | None = None) -> Comparison:
    """Run every method of ``config`` for seeds 0..seeds-1 on the benchmark table ``df``."""
    config = config or CompareConfig()
    reference = TabularEvaluator(df)
    canon, optimum = reference.optimum(config.objective.metric, config.objective.params_cap)
    hv_ref = hypervolume_reference(reference, config.objective)  # a degenerate reference fails before the runs
    space = SearchContext(reference, config.objective, Budget(), np.random.default_rng(0))
    seeds = list(range(config.seeds))
    if config.workers == 1:
        per_seed = [_run_seed(df, config, s, reference) for s in seeds]
    else:
        per_seed = _parallel(df, config, seeds)
    results = [r for rs in per_seed for r in rs]
    order = {m: i for i, m in enumerate(config.methods)}
    results.sort(key=lambda r: (order[r.method], r.seed))
    hv_optimum = None if hv_ref is None else exhaustive_hypervolume(reference, config.objective, hv_ref)  # type: ignore[arg-type]
    return Comparison(config, results, optimum, canon, hv_ref, hv_optimum, space.n_candidate_classes, space.unit)


def hypervolume_reference(evaluator: TabularEvaluator, objective: Objective) -> tuple[float, ...] | None:
    """The hypervolume's reference point of a two-objective comparison (None otherwise), checked: callers ask
    before the runs so that a reference no candidate dominates is refused before any work."""
    if isinstance(objective, MultiObjective) and len(objective.terms) == 2:
        return reference_point(evaluator, objective)
    return None


def _parallel(df: pd.DataFrame, config: CompareConfig, seeds: list[int]) -> list[list[Result]]:
    """Seeds in worker processes (the platform's default start method; each run limits BLAS to one thread)."""
    with ProcessPoolExecutor(max_workers=min(config.workers, len(seeds))) as pool:
        return list(pool.map(_run_seed, [df] * len(seeds), [config] * len(seeds), seeds))


def _run_seed(df: pd.DataFrame, config: CompareConfig, seed: int,
              tabular: TabularEvaluator | None = None) -> list[Result]:
    tabular = tabular or TabularEvaluator(df)
    surrogate: SurrogateEvaluator | None = None
    out = []
    for name in config.methods:
        cls = get_method(name)
        kind = cls.paper_evaluator if config.evaluator is EvaluatorMode.PAPER else config.evaluator.value
        if kind == "surrogate":
            if surrogate is None:
                surrogate = SurrogateEvaluator(df, n_train=config.surrogate_samples, seed=seed)
            evaluator: TabularEvaluator = surrogate
        else:
            evaluator = tabular
        budget = Budget(evaluations=NUM_ARCHITECTURES if cls.uses_full_space else config.budget)
        out.append(cls().run(evaluator, config.objective, budget, seed=seed))
    return out


def _mean_std(values: list[float]) -> tuple[float, float]:
    arr = np.asarray(values, dtype=np.float64)
    return float(np.mean(arr)), float(np.std(arr, ddof=1)) if arr.size > 1 else 0.0


def table1(results: list[Result], optimum: float | None = None, formatted: bool = False,
           hv_reference: tuple[float, ...] | None = None, hv_optimum: float | None = None) -> pd.DataFrame:
    """The Table 1 layout, one row per method (in the order first seen).

    Numeric columns: ``method``, ``evaluator``, ``seeds``, then ``<q>_mean`` and ``<q>_std`` for q in
    baseline_accuracy, noisy_accuracy, the objective metric, avm, params_k, search_time_s, evaluations and
    (with ``optimum``) regret; multi-objective runs with ``hv_reference`` add the hypervolume of the run's Pareto
    front and (with ``hv_optimum``, the exhaustive front's) ``hv_ratio``. ``formatted=True`` gives the printed
    layout with "mean ± std" strings.
    """
    if not results:
        raise ValueError("no results to tabulate")
    objective = results[0].objective.metric
    rows = []
    for method in dict.fromkeys(r.method for r in results):
        runs = [r for r in results if r.method == method and r.final is not None]
        if not runs:
            continue
        row: dict[str, Any] = {"method": method, "evaluator": "/".join(sorted({r.evaluator for r in runs})),
                               "seeds": len(runs)}
        quantities = {
            Metric.BASELINE.value: [r.final[Metric.BASELINE] for r in runs],
            Metric.NOISY.value: [r.final[Metric.NOISY] for r in runs],
            objective.value: [r.final[objective] for r in runs],
            "avm": [r.final.avm(objective) for r in runs],
            "params_k": [r.final.params / 1e3 for r in runs],
            "search_time_s": [r.wall_time_s for r in runs],
            "evaluations": [r.evaluations for r in runs],
        }
        if optimum is not None:
            quantities["regret"] = [optimum - r.final[objective] for r in runs]
        if hv_reference is not None:
            quantities["hypervolume"] = [run_hypervolume(r, hv_reference) for r in runs]
            if hv_optimum:
                quantities["hv_ratio"] = [v / hv_optimum for v in quantities["hypervolume"]]
        for q, values in quantities.items():
            row[f"{q}_mean"], row[f"{q}_std"] = _mean_std(values)
        rows.append(row)
    df = pd.DataFrame(rows)
    return format_table1(df, objective) if formatted else df


def _label(metric: Metric) -> str:
    info = metric.info
    if metric.is_drift:
        days = {60.0: "60 s", 3600.0: "1 h", 86400.0: "1-day", 2592000.0: "30-day"}[info.time_s]
        return f"{days} ({metric.value.split('_')[0]}) (%)" if metric.value.startswith("noisy") else f"{days} (%)"
    return f"{metric.value} (%)"


def format_table1(df: pd.DataFrame, objective: Metric | str = Metric.ANALOG_DRIFT_86400) -> pd.DataFrame:
    """Printable Table 1: "mean ± std" strings under the paper's column names."""
    objective = Metric.parse(objective)
    start, end = avm_metrics(objective)
    columns = [("Baseline (%)", Metric.BASELINE.value, 2), ("Noisy (%)", Metric.NOISY.value, 2),
               (_label(objective), objective.value, 2), ("AVM (%)", "avm", 2), ("Params (K)", "params_k", 1),
               ("Search time (s)", "search_time_s", 2)]
    if "regret_mean" in df.columns:
        columns.append(("Regret (%)", "regret", 2))
    if "hv_ratio_mean" in df.columns:
        columns.append(("HV ratio", "hv_ratio", 3))
    out = pd.DataFrame({"Method": df["method"], "Evaluator": df["evaluator"]})
    for title, key, digits in columns:
        out[title] = [f"{m:.{digits}f} ± {s:.{digits}f}" for m, s in zip(df[f"{key}_mean"], df[f"{key}_std"])]
    out.attrs["avm"] = f"AVM = {start.value} - {end.value} (accuracy drop from 60 s to 30 days)"
    return out


def anytime_curves(results: list[Result], budget: int, optimum: float | None = None) -> pd.DataFrame:
    """Best measured objective of the incumbent after each evaluation, over seeds, per method.

    Columns: method, evaluations (1..budget), mean, std, q25, q75, min, max, and regret (optimum - mean) when
    ``optimum`` is given. A run that stopped early keeps its last incumbent; methods given the full space
    (exhaustive search) are left out, their optimum being the reference line.
    """
    rows = []
    steps = np.arange(1, budget + 1)
    for method in dict.fromkeys(r.method for r in results):
        if get_method(method).uses_full_space:
            continue
        curves = []
        for r in (r for r in results if r.method == method):
            values = np.array([e.incumbent_measured for e in r.trajectory[:budget]], dtype=np.float64)
            if values.size == 0:
                continue
            curves.append(np.concatenate([values, np.full(budget - values.size, values[-1])]))
        if not curves:
            continue
        stack = np.vstack(curves)
        frame = pd.DataFrame({
            "method": method, "evaluations": steps, "mean": stack.mean(axis=0),
            "std": stack.std(axis=0, ddof=1) if len(curves) > 1 else np.zeros(budget),
            "q25": np.percentile(stack, 25, axis=0), "q75": np.percentile(stack, 75, axis=0),
            "min": stack.min(axis=0), "max": stack.max(axis=0), "seeds": len(curves),
        })
        if optimum is not None:
            frame["regret"] = optimum - frame["mean"]
        rows.append(frame)
    if not rows:
        raise ValueError("no trajectories to draw anytime curves from")
    return pd.concat(rows, ignore_index=True)


_STYLES = ("-", "--", ":", "-.")
_MARKERS = ("o", "s", "^", "v", "D", "x", "+", "*", "P", "h")


def plot_anytime(curves: pd.DataFrame, optimum: float | None = None,
                 metric: Metric | str = Metric.ANALOG_DRIFT_86400, path: str | Path | None = None) -> Any:
    """Anytime curves (mean and interquartile band over seeds) readable in black and white: each method has
    its own line style and marker, bands are light grey, the exhaustive optimum is a thin black line.
    Returns the matplotlib Figure (Agg canvas, no global pyplot state); saves it when ``path`` is given."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    metric = Metric.parse(metric)
    fig = Figure(figsize=(7.0, 4.5), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    for i, (method, c) in enumerate(curves.groupby("method", sort=False)):
        shade = 0.55 * (i % 3) / 2  # black to mid grey
        ax.fill_between(c["evaluations"], c["q25"], c["q75"], color="0.85", alpha=0.5, linewidth=0)
        every = max(1, len(c) // 8)
        ax.plot(c["evaluations"], c["mean"], linestyle=_STYLES[i % len(_STYLES)], marker=_MARKERS[i % len(_MARKERS)],
                markevery=(i % every, every), markersize=4, color=str(shade), label=method, linewidth=1.3)
    if optimum is not None:
        ax.axhline(optimum, color="black", linewidth=0.8, label="exhaustive optimum")
    lo = curves["q25"].quantile(0.05)
    hi = max(curves["q75"].max(), optimum if optimum is not None else -np.inf)
    ax.set_ylim(lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo))
    ax.set_xlabel("architectures evaluated")
    ax.set_ylabel(f"best {_label(metric)} (measured)")
    ax.grid(True, color="0.9", linewidth=0.5)
    ax.legend(fontsize=7, ncol=2, frameon=False)
    if path is not None:
        fig.savefig(path, dpi=150)
    return fig


def write_outputs(comparison: Comparison, out_dir: str | Path) -> dict[str, Path]:
    """Write table1.csv (numbers), table1.md (printed layout), anytime.csv, anytime.png and runs.csv (one row per
    method x seed: final architecture and measured values) under ``out_dir``; multi-objective runs also fronts.csv
    (every run's Pareto front, with method and seed). No anytime files when only exhaustive search ran: it has no
    curve (its optimum is the reference line)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    curves = any(not get_method(m).uses_full_space for m in comparison.config.methods)
    names = (("table1", "table1.csv"), ("table1_md", "table1.md"),
             *((("anytime", "anytime.csv"), ("figure", "anytime.png")) if curves else ()), ("runs", "runs.csv"))
    paths = {k: out / v for k, v in names}
    comparison.table1().to_csv(paths["table1"], index=False)
    formatted = comparison.table1(formatted=True)
    paths["table1_md"].write_text(_markdown(formatted) + f"\n\n{formatted.attrs.get('avm', '')}\n", encoding="utf-8")
    if curves:
        comparison.anytime().to_csv(paths["anytime"], index=False)
        comparison.figure(paths["figure"])
    runs_frame(comparison.results).to_csv(paths["runs"], index=False)
    fronts = [r.pareto.assign(method=r.method, seed=r.seed) for r in comparison.results if r.pareto is not None]
    if fronts:
        paths["fronts"] = out / "fronts.csv"
        pd.concat(fronts, ignore_index=True).to_csv(paths["fronts"], index=False)
    return paths


def runs_frame(results: list[Result]) -> pd.DataFrame:
    """One row per run: method, seed, evaluator, evaluations, stop reason, time, final architecture and values."""
    rows = []
    for r in results:
        row: dict[str, Any] = {"method": r.method, "seed": r.seed, "evaluator": r.evaluator,
                               "evaluations": r.evaluations, "repeats": r.repeats, "stop_reason": r.stop_reason,
                               "search_time_s": r.wall_time_s}
        if r.final is not None:
            row.update({"arch": r.final.arch.short, "canonical_index": r.final.canonical_index,
                        "params": r.final.params, "avm": r.final.avm(r.objective.metric), **r.final.values})
        rows.append(row)
    return pd.DataFrame(rows)


def _markdown(df: pd.DataFrame) -> str:
    cols = list(df.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines)


