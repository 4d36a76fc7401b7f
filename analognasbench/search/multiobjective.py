"""Multi-objective search: an objective that is a tuple of terms (e.g. maximise 1-day accuracy, minimise energy),
the Pareto front of every run, and the 2-D hypervolume that compares runs.

A term is a metric of the dataset (``analog_drift_86400``, measured; what the search observes comes from its
evaluator) or an ``hw_*`` column of the hardware cost model (:mod:`analognasbench.hardware`; a model estimate,
computed exactly for any cell, so observed = reported). :class:`MultiObjective` is an :class:`Objective` whose
``metric`` is its first dataset-metric term: everything single-objective (Table 1, the incumbent, ``ctx.evaluate``'s
return value) keeps working on that term, and every method's run gets a Pareto front (``Result.pareto``) of the
architectures it evaluated, with their reported values.

Methods that use all terms while searching: random search (nothing to do), regularized evolution (a tournament
is won by a member of the best non-dominated rank within it) and Bayesian optimisation (ParEGO, Knowles 2006: each
step a random weight vector scalarises the normalised observations by the augmented Chebyshev function and the GP
models that scalar). The others optimise the first metric term and still report the front of what they saw.

Hypervolume (:func:`run_hypervolume`) is measured against a reference point of the dataset: per term the worst
value of any candidate row, so the exhaustive front's hypervolume (:func:`exhaustive_hypervolume`) is the best a
run can reach and ``hv_ratio`` = run / exhaustive lies in [0, 1]. A reference point given instead must be worse than
some candidate in every term (:func:`check_reference`), else every hypervolume is 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analognasbench import hardware
from analognasbench.enums import ClosedSet
from analognasbench.pipeline.schema import Metric
from analognasbench.search.base import (
    DEFAULT_METRIC,
    Budget,
    Evaluator,
    Objective,
    Result,
    SearchContext,
    check_number,
    check_sequence,
)
from analognasbench.search.pareto import hypervolume_2d, nondominated_ranks, pareto_mask
from analognasbench.space import Architecture, from_index, parse
from analognasbench.space.features import cell_canonical


class Direction(ClosedSet, what="objective direction"):
    MAX = "max"
    MIN = "min"


@dataclass(frozen=True)
class ObjectiveTerm:
    """One objective: a dataset metric or an ``hw_*`` cost column, maximised or minimised."""

    name: str
    direction: Direction = Direction.MAX

    def __post_init__(self) -> None:
        object.__setattr__(self, "direction", Direction.parse(self.direction))
        if self.name in hardware.COLUMN_INFO:
            return
        try:
            object.__setattr__(self, "name", Metric.parse(self.name).value)
        except ValueError:
            raise ValueError(f"unknown objective {self.name!r}; expected a metric ({', '.join(m.value for m in Metric)}) "
                             f"or a hardware-cost column ({', '.join(hardware.COST_COLUMNS)})") from None

    @property
    def is_cost(self) -> bool:
        return self.name in hardware.COLUMN_INFO

    @property
    def maximize(self) -> bool:
        return self.direction is Direction.MAX

    @classmethod
    def parse(cls, text: str | ObjectiveTerm) -> ObjectiveTerm:
        """``NAME``, ``NAME:max`` or ``NAME:min`` (metrics default to max, ``hw_*`` costs to min)."""
        if isinstance(text, ObjectiveTerm):
            return text
        if not isinstance(text, str):
            raise TypeError(f"an objective term is a string NAME[:max|min] or an ObjectiveTerm; got "
                            f"{type(text).__name__} {text!r}")
        name, _, direction = str(text).partition(":")
        if not direction:
            direction = "min" if name in hardware.COLUMN_INFO else "max"
        return cls(name, direction)

    def __str__(self) -> str:
        return f"{self.name}:{self.direction.value}"


#: A valid ``terms`` value, shown when a string or another non-sequence is given.
_EXAMPLE = '("analog_drift_86400:max", "hw_energy_uj:min")'


def _default_terms() -> tuple[ObjectiveTerm, ...]:
    return (ObjectiveTerm(DEFAULT_METRIC.value, Direction.MAX), ObjectiveTerm("hw_energy_uj", Direction.MIN))


@dataclass(frozen=True)
class MultiObjective(Objective):
    """Several terms searched together (default: maximise 1-day accuracy, minimise energy per inference).

    ``metric`` is set to the first metric term (the default metric when every term is a cost); the cost terms
    are computed for the network size given here (the dataset's, see :func:`analognasbench.bench.costs.cost_network`)
    on ``chip``.
    """

    terms: tuple[ObjectiveTerm, ...] = field(default_factory=_default_terms)
    chip: str | hardware.ChipPreset = hardware.DEFAULT_CHIP.value
    #: The network size the cost terms are computed for (the dataset's; the paper's by default).
    C: int = 16
    N: int = 5
    num_classes: int = 10
    input_size: int = 32
    #: Hypervolume reference point, one value per term; None: the worst value of each term in the dataset.
    reference: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        # A string is refused, not split into letters ("unknown objective 'a'") nor taken as one term (one term
        # is not a multi-objective): the terms are a tuple, as the command line's --objectives list.
        terms = tuple(ObjectiveTerm.parse(t) for t in check_sequence("MultiObjective.terms", self.terms, _EXAMPLE))
        if len(terms) < 2:
            raise ValueError(f"a multi-objective needs at least two terms; got {len(terms)}")
        names = [t.name for t in terms]
        if len(set(names)) != len(names):
            raise ValueError(f"objective terms must be distinct; got {', '.join(names)}")
        object.__setattr__(self, "terms", terms)
        first = next((t for t in terms if not t.is_cost), None)
        if first is not None and not first.maximize:
            raise ValueError(f"the first metric term ({first.name}) must be maximised: it is what single-objective "
                             "parts of a search (incumbent, Table 1) maximise")
        object.__setattr__(self, "metric", Metric.parse(first.name) if first else DEFAULT_METRIC)
        hardware.get_chip(self.chip)  # a bad preset name or file fails here, with the valid names
        if self.reference is not None:
            ref = tuple(float(check_number(f"MultiObjective.reference[{i}]", v)) for i, v in
                        enumerate(check_sequence("MultiObjective.reference", self.reference, "(80.0, 5.0)")))
            if len(ref) != len(terms):  # each value is finite: check_number refuses NaN and inf
                raise ValueError(f"the hypervolume reference needs one finite value per term ({len(terms)}); "
                                 f"got {self.reference!r}")
            object.__setattr__(self, "reference", ref)
        super().__post_init__()

    @property
    def maximize(self) -> tuple[bool, ...]:
        return tuple(t.maximize for t in self.terms)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.terms)

    def make_context(self, evaluator: Evaluator, budget: Budget, noise_rng: np.random.Generator) -> SearchContext:
        return MultiObjectiveContext(evaluator, self, budget, noise_rng)

    def cost_arrays(self, archs: np.ndarray) -> dict[str, np.ndarray]:
        """The cost terms for the given project indices."""
        names = [t.name for t in self.terms if t.is_cost]
        if not names:
            return {}
        table = hardware.cost_table(archs, self.chip, C=self.C, N=self.N, input_size=self.input_size,
                                    num_classes=self.num_classes)
        return {n: table[n].to_numpy(dtype=np.float64) for n in names}

    def describe(self) -> str:
        return " and ".join(f"{'maximise' if t.maximize else 'minimise'} {t.name}" for t in self.terms)


def row_archs(evaluator: Evaluator) -> np.ndarray:
    """Project index of the architecture behind every table row of ``evaluator`` (its ``arch_index`` where the
    table has one, else a member of the row's class)."""
    df = getattr(evaluator, "df", None)
    if isinstance(df, pd.DataFrame) and "arch_index" in df.columns:
        return df["arch_index"].to_numpy(dtype=np.int64)
    rows = evaluator.row_of_cells()
    n = int(rows.max()) + 1 if rows.size else 0
    out = np.full(n, -1, dtype=np.int64)
    cells = np.flatnonzero(rows >= 0)
    out[rows[cells][::-1]] = cells[::-1]  # the smallest cell index of each row
    return out


def term_arrays(evaluator: Evaluator, objective: MultiObjective, *, observed: bool) -> np.ndarray:
    """``(rows, terms)``: every term per table row, as the search observes it or as reported (measured metrics,
    exact model costs)."""
    costs = objective.cost_arrays(row_archs(evaluator))
    cols = []
    for t in objective.terms:
        if t.is_cost:
            cols.append(costs[t.name])
        else:
            m = Metric.parse(t.name)
            cols.append(np.asarray(evaluator.observed(m) if observed else evaluator.measured(m), dtype=np.float64))
    return np.stack(cols, axis=1)


class MultiObjectiveContext(SearchContext):
    """The search context of a :class:`MultiObjective` run: the usual budget and caching, plus every term per
    evaluated architecture, Pareto helpers for methods, and the run's front."""

    objective: MultiObjective

    def __init__(self, evaluator: Evaluator, objective: MultiObjective, budget: Budget,
                 noise_rng: np.random.Generator):
        super().__init__(evaluator, objective, budget, noise_rng)
        self.terms = objective.terms
        self.maximize = objective.maximize
        self._cell_row = evaluator.row_of_cells()
        self._observed_terms = term_arrays(evaluator, objective, observed=True)
        self._measured_terms = term_arrays(evaluator, objective, observed=False)
        self._primary = objective.names.index(objective.metric.value) if objective.metric.value in objective.names \
            else None

    def vector(self, arch: Iterable[int], *, measured: bool = False) -> np.ndarray:
        """Every term of an evaluated architecture as the search observed it (``measured``: as reported); the
        primary metric's observation is the one :meth:`evaluate` returned (it may be a noisy draw)."""
        a = parse(arch)
        row = int(self._cell_row[a.index])
        if row < 0 or self.observed_of(a) is None:
            raise ValueError(f"{a} was not evaluated yet: call ctx.evaluate first")
        values = (self._measured_terms if measured else self._observed_terms)[row].copy()
        if not measured and self._primary is not None:
            values[self._primary] = self.observed_of(a)
        return values

    def best_of(self, archs: Sequence[Architecture], rng: np.random.Generator) -> Architecture:
        """A tournament winner: uniformly one of the ``archs`` of the best non-dominated rank among them."""
        points = np.stack([self.vector(a) for a in archs])
        ranks = nondominated_ranks(points, self.maximize)
        best = np.flatnonzero(ranks == ranks.min())
        return archs[int(best[rng.integers(best.size)])]

    def parego_values(self, archs: Sequence[int], rng: np.random.Generator, rho: float = 0.05) -> np.ndarray:
        """ParEGO's scalarisation of evaluated architectures (larger is better): each term normalised to [0, 1]
        over ``archs`` (1 = best), then ``min_k w_k f_k + rho * sum_k w_k f_k`` with ``w`` drawn uniformly from the
        simplex (one draw per call)."""
        points = np.stack([self.vector(a) for a in archs])
        signed = points * np.where(np.asarray(self.maximize), 1.0, -1.0)
        lo, hi = np.nanmin(signed, axis=0), np.nanmax(signed, axis=0)
        f = (signed - lo) / np.where(hi > lo, hi - lo, 1.0)
        w = rng.dirichlet(np.ones(len(self.terms)))
        return np.min(w * f, axis=1) + rho * (f @ w)

    def pareto_frame(self) -> pd.DataFrame:
        """The non-dominated evaluated architectures by their reported values: step, arch (short), canonical index,
        one column per term; sorted by the first term, best first."""
        columns = ["step", "arch", "canonical_index", *self.objective.names]
        if not self.trajectory:
            return pd.DataFrame(columns=columns)
        points = np.stack([self._measured_terms[int(self._cell_row[e.arch.index])] for e in self.trajectory])
        mask = pareto_mask(points, self.maximize)
        rows = [{"step": e.step, "arch": e.arch.short, "canonical_index": e.canonical_index,
                 **dict(zip(self.objective.names, p.tolist()))}
                for e, p, keep in zip(self.trajectory, points, mask) if keep]
        frame = pd.DataFrame(rows, columns=columns)
        first = self.objective.names[0]
        return frame.sort_values(first, ascending=not self.maximize[0], kind="stable").reset_index(drop=True)


# ----- reference point and hypervolume -----------------------------------------------------------------------------


def reference_point(evaluator: Evaluator, objective: MultiObjective) -> tuple[float, ...]:
    """The hypervolume's reference point: the objective's own ``reference``, else per term the worst reported
    value over the rows a search may evaluate (finite values, within the parameter cap)."""
    points = _candidate_points(evaluator, objective)
    if objective.reference is not None:
        check_reference(objective.reference, points, objective)
        return objective.reference
    worst = np.where(np.asarray(objective.maximize), np.nanmin(points, axis=0), np.nanmax(points, axis=0))
    return tuple(float(v) for v in worst)


def check_reference(reference: Sequence[float], points: np.ndarray, objective: MultiObjective) -> None:
    """Refuse a reference point that no candidate is strictly better than in every term: it bounds no area, so
    every hypervolume would be 0 and the HV ratio undefined. The reference must be worse than the candidates'
    values: below them for a maximised term, above them for a minimised one."""
    sign = np.where(np.asarray(objective.maximize), 1.0, -1.0)
    signed, ref = points * sign, np.asarray(reference, dtype=np.float64) * sign
    bad = [f"{value:g} for {t} is not {'below' if t.maximize else 'above'} any candidate's value (best "
           f"{best * s:g}; expected a value {'below' if t.maximize else 'above'} it)"
           for t, value, best, r, s in zip(objective.terms, reference, signed.max(axis=0), ref, sign) if best <= r]
    if bad:
        raise ValueError("the hypervolume's reference point must be worse than some candidate in every objective; "
                         + "; ".join(bad))
    if not (signed > ref).all(axis=1).any():
        raise ValueError(f"reference point {' '.join(f'{v:g}' for v in reference)}: no candidate is better than it in "
                         "every objective at once, so every hypervolume would be 0; expected a point worse than some "
                         "candidate in every objective (default: the worst value of each)")


def _candidate_points(evaluator: Evaluator, objective: MultiObjective) -> np.ndarray:
    points = term_arrays(evaluator, objective, observed=False)
    ok = np.isfinite(points).all(axis=1) & np.isfinite(evaluator.measured(objective.metric))
    if objective.params_cap is not None:
        ok &= evaluator.params() <= objective.params_cap
    if not ok.any():
        raise ValueError("no row of the dataset has finite values for every objective term")
    return points[ok]


def exhaustive_front(evaluator: Evaluator, objective: MultiObjective) -> pd.DataFrame:
    """The Pareto front of every candidate row of the dataset (what an exhaustive search would return)."""
    points = term_arrays(evaluator, objective, observed=False)
    ok = np.isfinite(points).all(axis=1) & np.isfinite(evaluator.measured(objective.metric))
    if objective.params_cap is not None:
        ok &= evaluator.params() <= objective.params_cap
    mask = pareto_mask(np.where(ok[:, None], points, np.nan), objective.maximize)
    archs = row_archs(evaluator)[mask]
    frame = pd.DataFrame(points[mask], columns=list(objective.names))
    frame.insert(0, "arch", [from_index(int(i)).short for i in archs])
    frame.insert(1, "canonical_index", cell_canonical()[archs])
    return frame.sort_values(objective.names[0], ascending=not objective.maximize[0]).reset_index(drop=True)


def exhaustive_hypervolume(evaluator: Evaluator, objective: MultiObjective,
                           reference: Sequence[float] | None = None) -> float:
    ref = reference_point(evaluator, objective) if reference is None else reference
    front = exhaustive_front(evaluator, objective)
    return hypervolume_2d(front[list(objective.names)].to_numpy(), ref, objective.maximize)


def run_hypervolume(result: Result, reference: Sequence[float]) -> float:
    """Hypervolume of a run's Pareto front (its reported values); NaN for a single-objective run."""
    front = getattr(result, "pareto", None)
    objective = result.objective
    if front is None or not isinstance(objective, MultiObjective):
        return float("nan")
    if len(objective.terms) != 2:
        raise ValueError("hypervolume is implemented exactly for two objectives only")
    return hypervolume_2d(front[list(objective.names)].to_numpy(dtype=np.float64), reference, objective.maximize)


def parse_objective(terms: Sequence[str] | None, metric: str | Metric = DEFAULT_METRIC,
                    params_cap: float | None = None, chip: str = hardware.DEFAULT_CHIP.value,
                    network: dict[str, int] | None = None, reference: Sequence[float] | None = None) -> Objective:
    """The objective of the command line: a :class:`MultiObjective` from ``NAME[:max|min]`` terms, else the
    single metric."""
    if not terms:
        if reference is not None:
            raise ValueError("a hypervolume reference point needs several objectives (--objectives)")
        return Objective(metric, params_cap=params_cap)
    terms = check_sequence("objective terms", terms, _EXAMPLE)
    if reference is not None and len(terms) != 2:
        raise ValueError(f"--hv-reference: the hypervolume is computed for exactly two objectives; got {len(terms)}")
    return MultiObjective(params_cap=params_cap, terms=tuple(ObjectiveTerm.parse(t) for t in terms), chip=chip,
                          reference=None if reference is None else check_sequence("the hypervolume reference",
                                                                                  reference, "(80.0, 5.0)"),
                          **(network or {}))


__all__ = ["Direction", "MultiObjective", "MultiObjectiveContext", "ObjectiveTerm", "check_reference", "exhaustive_front",
           "exhaustive_hypervolume", "parse_objective", "reference_point", "row_archs", "run_hypervolume",
           "term_arrays"]

