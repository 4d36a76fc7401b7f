"""The search-method interface: objective, budget, evaluator, the budgeted search context, results and registry.

A method is one subclass of :class:`SearchMethod` that implements ``_search(ctx, rng)``: it proposes architectures
to ``ctx.evaluate`` until the context raises :class:`BudgetExhausted`. Everything a fair comparison needs is done
once, here, for every method:

* **Budget.** Only the first evaluation of a table row is charged (one evaluation = one trained and measured
  network): a row is an isomorphism class, or a cell where the table holds separately measured members of a class
  (the published release; then isomorphic cells are distinct candidates). Repeats and proposals of an evaluated
  row return the cached value for free, as a real search would reuse a network it already trained; they are
  counted (``Result.repeats``). A method that keeps proposing only
  known classes is stopped after ``Budget.max_stale`` consecutive free proposals, and every method stops once all
  candidates are evaluated.
* **Unmeasured and infeasible proposals.** An architecture whose class the dataset does not hold (the outcome
  :class:`UnmeasuredArchitecture`), or that breaks the parameter cap (counting parameters needs no training), is
  *not charged*: ``ctx.evaluate`` returns ``None`` and counts it. ``ctx.sample`` and ``ctx.mutate`` only return
  candidates (measured and feasible), so methods built on them never see ``None``.
* **Trajectory.** Every charged evaluation is recorded with its wall time, the value the method observed (table,
  surrogate prediction or a noisy draw), the *measured* objective, and the incumbent (the best observed so far).
  Anytime curves and regret use the measured value of the incumbent; the final architecture is always reported
  with its measured values.
* **Stopping.** The budget is checked in ``ctx.evaluate`` and, once per round of a method's main loop, in
  ``ctx.next_round()``: a round that proposes nothing still stops at the time budget, and counts towards
  ``Budget.max_stale``. Method settings are checked when their config is made (:meth:`MethodConfig._check`).
* **Determinism.** Methods draw only from the ``numpy.random.Generator`` they are given; with an evaluation budget
  (no time budget) the same seed gives the same trajectory.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import math
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from analognasbench.bench.errors import UnmeasuredArchitectureError
from analognasbench.enums import ClosedSet
from analognasbench.pipeline.schema import Metric
from analognasbench.space import (
    NUM_ARCHITECTURES,
    NUM_EDGES,
    NUM_OPS,
    Architecture,
    canonical_index,
    from_index,
    parse,
)
from analognasbench.space.features import cell_canonical

log = logging.getLogger(__name__)

#: The paper's search objective: accuracy of the hardware-aware trained network one day after programming.
DEFAULT_METRIC = Metric.ANALOG_DRIFT_86400


class UnmeasuredArchitecture(UnmeasuredArchitectureError):
    """A valid architecture whose isomorphism class the evaluator's dataset does not hold."""


class BudgetExhausted(Exception):  # noqa: N818 - a signal, not an error
    """Raised by the context when the search must stop; :meth:`SearchMethod.run` catches it."""


def check_number(what: str, value: Any, *, integer: bool = False, low: float | None = None,
                 high: float | None = None, low_open: bool = False, high_open: bool = False,
                 finite: bool = True, optional: bool = False) -> Any:
    """``value`` if it is a number in the given range, else a TypeError (not a number; bools and numeric strings
    are refused, so ``True`` is not taken as 1 nor ``"10"`` compared with an int deep inside a search) or a
    ValueError (out of range, NaN, or infinite unless ``finite=False``), each naming ``what`` and what is expected.

    The one check behind every configuration of the search layer (method configs, ``Objective``, ``Budget``,
    ``CompareConfig``): a bad setting fails where it is made, not as a hang or an IndexError in a search loop.
    numpy scalars come back as Python numbers; ``optional`` lets ``None`` through.
    """
    if value is None and optional:
        return None
    ints = (int, np.integer)
    kinds = ints if integer else (*ints, float, np.floating)
    expected = _expected(integer, low, high, low_open, high_open, finite)
    if optional:
        expected += " or None"
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, kinds):
        raise TypeError(f"{what} must be {expected}; got {type(value).__name__} {value!r}")
    value = int(value) if isinstance(value, np.integer) else float(value) if isinstance(value, np.floating) else value
    bad = (value != value or (finite and isinstance(value, float) and not math.isfinite(value))  # NaN, inf
           or (low is not None and (value <= low if low_open else value < low))
           or (high is not None and (value >= high if high_open else value > high)))
    if bad:
        raise ValueError(f"{what} must be {expected}; got {value!r}")
    return value


def _expected(integer: bool, low: float | None, high: float | None, low_open: bool, high_open: bool,
              finite: bool) -> str:
    """What :func:`check_number` expects, in words ("a positive integer", "a number in [0, 1]")."""
    noun = "integer" if integer else "finite number" if finite and high is None else "number"
    if high is None and low == 0 and low_open or high is None and integer and low == 1 and not low_open:
        return f"a positive {noun}"
    if high is None and low == 0:
        return f"a non-negative {noun}"
    noun = f"an {noun}" if integer else f"a {noun}"
    if low is not None and high is not None:
        return f"{noun} in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    if low is not None:
        return f"{noun} {'>' if low_open else '>='} {low:g}"
    if high is not None:
        return f"{noun} {'<' if high_open else '<='} {high:g}"
    return noun


def check_sequence(what: str, value: Any, example: str) -> tuple[Any, ...]:
    """``value`` as a tuple, refusing a plain string (iterating it would give one letter per element, e.g. an
    "unknown objective 'a'") and anything that is not a collection; ``example`` shows a valid value."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable) or isinstance(value, Iterator):
        got = f"the string {value!r}" if isinstance(value, (str, bytes)) else f"{type(value).__name__} {value!r}"
        raise TypeError(f"{what} must be a tuple or list, e.g. {example}; got {got}")
    return tuple(value)


@dataclass(frozen=True)
class Objective:
    """What to maximise: a metric of the dataset (percent accuracy), optionally under a parameter cap."""

    metric: Metric = DEFAULT_METRIC
    #: Largest allowed parameter count of the network (same unit as the dataset's ``params`` column); None: no cap.
    params_cap: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "metric", Metric.parse(self.metric))
        object.__setattr__(self, "params_cap", check_number("Objective.params_cap", self.params_cap,
                                                            low=0, low_open=True, finite=False, optional=True))

    def make_context(self, evaluator: Evaluator, budget: Budget, noise_rng: np.random.Generator) -> SearchContext:
        """The context a run searches through (a multi-objective returns its own, see ``search.multiobjective``)."""
        return SearchContext(evaluator, self, budget, noise_rng)


@dataclass(frozen=True)
class Budget:
    """When a search stops: after ``evaluations`` charged evaluations and/or ``seconds`` of wall time."""

    evaluations: int | None = 100
    seconds: float | None = None
    #: Consecutive free proposals (repeats, isomorphs, unmeasured or infeasible cells) after which a search stops.
    max_stale: int = 2000

    def __post_init__(self) -> None:
        if self.evaluations is None and self.seconds is None:
            raise ValueError("a budget needs evaluations and/or seconds; both are None")
        checked = {"evaluations": check_number("Budget.evaluations", self.evaluations,
                                               integer=True, low=1, optional=True),
                   "seconds": check_number("Budget.seconds", self.seconds, low=0, low_open=True,
                                           finite=False, optional=True),
                   "max_stale": check_number("Budget.max_stale", self.max_stale,
                                             integer=True, low=1)}
        for name, value in checked.items():
            object.__setattr__(self, name, value)


@dataclass(frozen=True)
class Measurement:
    """The measured record of one architecture's class: every metric mean (percent) and the parameter count."""

    arch: Architecture
    canonical_index: int
    params: float
    values: dict[str, float]

    def __getitem__(self, metric: Metric | str) -> float:
        return self.values[Metric.parse(metric).value]

    def avm(self, metric: Metric | str = DEFAULT_METRIC) -> float:
        """Accuracy variation over one month: accuracy 60 s after programming minus accuracy after 30 days."""
        start, end = avm_metrics(metric)
        return self.values[start.value] - self.values[end.value]


def avm_metrics(metric: Metric | str = DEFAULT_METRIC) -> tuple[Metric, Metric]:
    """The (60 s, 30 days) drift metrics of the network behind ``metric`` (digitally trained for ``noisy_*``
    and the baseline/PTQ metrics' network, hardware-aware trained otherwise)."""
    m = Metric.parse(metric)
    prefix = "noisy" if m.value.startswith("noisy") else "analog"
    return Metric(f"{prefix}_drift_60"), Metric(f"{prefix}_drift_2592000")


class Evaluator(ABC):
    """What a search may ask about architectures: the value it observes, and the measured truth for reporting.

    Implementations hold a measured table (one row per isomorphism class) and decide what the search *sees*:
    the table itself (:class:`~analognasbench.search.evaluators.TabularEvaluator`) or a model trained on part of
    it (:class:`~analognasbench.search.evaluators.SurrogateEvaluator`). Values are per table row, so a search
    context can look them up in constant time.
    """

    #: Short name used in results and on the command line.
    kind: ClassVar[str]

    @abstractmethod
    def row_of_cells(self) -> np.ndarray:
        """Table row of every one of the 15,625 cells (its class's row), -1 where the class is unmeasured."""

    @abstractmethod
    def observed(self, metric: Metric) -> np.ndarray:
        """Per table row, the value of ``metric`` a search observes."""

    @abstractmethod
    def measured(self, metric: Metric) -> np.ndarray:
        """Per table row, the measured mean of ``metric``."""

    @abstractmethod
    def noisy_draw(self, row: int, metric: Metric, rng: np.random.Generator) -> float:
        """One noisy observation of ``metric`` on row ``row`` (one programming of the chip)."""

    @abstractmethod
    def params(self) -> np.ndarray:
        """Per table row, the parameter count."""

    @abstractmethod
    def measurement(self, arch: Iterable[int]) -> Measurement:
        """The measured record of ``arch``'s class; raises :class:`UnmeasuredArchitecture`."""


@dataclass(frozen=True)
class Evaluation:
    """One charged evaluation of a search trajectory."""

    step: int
    time_s: float
    arch: Architecture
    canonical_index: int
    observed: float
    measured: float
    incumbent: Architecture
    incumbent_observed: float
    incumbent_measured: float


@dataclass
class Result:
    """Outcome of one search run: the trajectory and the final architecture with its measured values."""

    method: str
    seed: int
    evaluator: str
    objective: Objective
    budget: Budget
    trajectory: list[Evaluation]
    final: Measurement | None
    wall_time_s: float
    repeats: int = 0
    unmeasured: int = 0
    infeasible: int = 0
    stop_reason: str = ""
    config: dict[str, Any] = field(default_factory=dict)
    #: Multi-objective runs: the Pareto front of the evaluated architectures (reported values); else None.
    pareto: pd.DataFrame | None = None
    #: What one evaluation was: "class", or "cell" where the table measured isomorphic cells separately.
    unit: str = "class"

    @property
    def evaluations(self) -> int:
        return len(self.trajectory)

    @property
    def final_value(self) -> float:
        """Measured objective of the final architecture (NaN when nothing was evaluated)."""
        return float("nan") if self.final is None else self.final[self.objective.metric]

    def trajectory_frame(self) -> pd.DataFrame:
        """The trajectory as a table, architectures in their 6-digit short form."""
        rows = []
        for e in self.trajectory:
            rows.append({f.name: getattr(e, f.name) for f in fields(e)})
            rows[-1]["arch"], rows[-1]["incumbent"] = e.arch.short, e.incumbent.short
        cols = [f.name for f in fields(Evaluation)]
        return pd.DataFrame(rows, columns=cols).assign(method=self.method, seed=self.seed)


class SearchContext:
    """The budgeted, cached window through which a method evaluates architectures (see the module docstring)."""

    def __init__(self, evaluator: Evaluator, objective: Objective, budget: Budget, noise_rng: np.random.Generator):
        self.evaluator, self.objective, self.budget = evaluator, objective, budget
        self._noise_rng = noise_rng
        metric = objective.metric
        self._row = evaluator.row_of_cells()
        self._obs = evaluator.observed(metric)
        self._meas = evaluator.measured(metric)
        self._params = evaluator.params()
        ok_row = np.isfinite(self._obs) & np.isfinite(self._meas)
        if objective.params_cap is not None:
            ok_row &= self._params <= objective.params_cap
        self._ok_cell = (self._row >= 0) & ok_row[np.maximum(self._row, 0)]
        self._candidates = np.flatnonzero(self._ok_cell)
        #: Distinct candidates, one table row each: what an exhaustive search evaluates.
        self.n_candidate_classes = int(np.unique(self._row[self._candidates]).size)
        #: What one candidate is, for honest labels: "cell" where the table measured isomorphic cells separately
        #: (each its own row, as in the published release), else "class" (one row per isomorphism class).
        self.unit = candidate_unit(self._row, self._candidates)
        self._cache: dict[int, float] = {}  # row -> observed value
        self._done_row = np.zeros(len(self._obs) + 1, dtype=bool)  # last slot: row -1 (unmeasured), never done
        self.trajectory: list[Evaluation] = []
        self.repeats = self.unmeasured = self.infeasible = 0
        self._stale = 0
        self._proposals = 0  # every call of evaluate, charged or free: next_round tells idle rounds by it
        self._proposals_at_round = -1
        self._best: tuple[float, Architecture, float] | None = None
        self.chosen: Architecture | None = None
        self._start = time.perf_counter()

    # ----- what a method may ask for free -------------------------------------------------------------------------
    @property
    def evaluations(self) -> int:
        return len(self.trajectory)

    @property
    def remaining(self) -> int | None:
        """Evaluations left (None under a time-only budget)."""
        return None if self.budget.evaluations is None else self.budget.evaluations - self.evaluations

    @property
    def incumbent(self) -> Architecture | None:
        return None if self._best is None else self._best[1]

    @property
    def elapsed_s(self) -> float:
        return time.perf_counter() - self._start

    def candidate_classes(self) -> np.ndarray:
        """One cell per distinct candidate (measured and feasible), ascending: the class representatives in a table
        of classes; every measured cell where the table holds several separately measured members of a class."""
        first = np.unique(self._row[self._candidates], return_index=True)[1]
        return np.sort(self._candidates[first])

    def choose(self, arch: Iterable[int]) -> None:
        """Set the architecture the method will return (methods whose choice is not simply the incumbent
        call this as they go, since the budget can stop them at any evaluation)."""
        self.chosen = parse(arch)

    def is_candidate(self, arch: Iterable[int]) -> bool:
        """Measured and within the parameter cap."""
        return bool(self._ok_cell[_index(arch)])

    def is_evaluated(self, arch: Iterable[int]) -> bool:
        return bool(self._done_row[self._row[_index(arch)]])

    def params(self, arch: Iterable[int]) -> float:
        """Parameter count (free: it needs no training); NaN for an unmeasured class."""
        row = int(self._row[_index(arch)])
        return float("nan") if row < 0 else float(self._params[row])

    def sample(self, rng: np.random.Generator) -> Architecture:
        """A cell drawn uniformly from the candidate cells (the space conditioned on measured and feasible)."""
        if self._candidates.size == 0:
            raise BudgetExhausted("no candidate architecture: the dataset holds none within the constraints")
        return from_index(int(self._candidates[rng.integers(self._candidates.size)]))

    def sample_unevaluated(self, rng: np.random.Generator, tries: int = 64) -> Architecture:
        """A candidate cell, preferring one whose class was not evaluated yet."""
        arch = self.sample(rng)
        for _ in range(tries):
            if not self.is_evaluated(arch):
                break
            arch = self.sample(rng)
        return arch

    def sample_indices(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Project indices of ``n`` candidate cells drawn uniformly with replacement (vectorised :meth:`sample`)."""
        if self._candidates.size == 0:
            raise BudgetExhausted("no candidate architecture: the dataset holds none within the constraints")
        return self._candidates[rng.integers(self._candidates.size, size=n)]

    def neighbour_indices(self, arch: Iterable[int]) -> np.ndarray:
        """Project indices of the candidate cells one edge away from ``arch`` (edge-major, op order)."""
        index = _index(arch)
        digits = (index // _PLACE) % NUM_OPS
        out = index + (_NEW_OPS - digits[:, None]) * _PLACE[:, None]
        out = out[digits[:, None] != _NEW_OPS]
        return out[self._ok_cell[out]]

    def unevaluated(self, indices: np.ndarray) -> np.ndarray:
        """The entries of ``indices`` whose class has not been evaluated yet."""
        indices = np.asarray(indices, dtype=np.int64)
        return indices[~self._done_row[self._row[indices]]] if indices.size else indices

    def neighbours(self, arch: Iterable[int]) -> list[Architecture]:
        """Candidate cells one edge away from ``arch``."""
        return [from_index(int(i)) for i in self.neighbour_indices(arch)]

    def mutate(self, arch: Iterable[int], rng: np.random.Generator, prefer_new: bool = True) -> Architecture:
        """A uniformly chosen candidate neighbour of ``arch`` (one edge changed).

        With ``prefer_new`` the choice is among neighbours of unevaluated classes, and when every candidate
        neighbour is already evaluated a random unevaluated candidate is returned instead (a restart): on a
        sparsely measured table, plain one-edge mutation would otherwise mostly re-propose known classes.
        Without neighbours in the table, a random candidate.
        """
        options = self.neighbour_indices(arch)
        if prefer_new:
            options = self.unevaluated(options)
            if not options.size:
                return self.sample_unevaluated(rng)
        if not options.size:
            return self.sample(rng)
        return from_index(int(options[rng.integers(options.size)]))

    def lookup(self, arch: Iterable[int], metric: Metric | str) -> float:
        """Another metric of an already evaluated architecture, as this evaluator observes it (one query returns
        the whole record, so this is free); raises ValueError for an architecture not evaluated yet."""
        row = int(self._row[_index(arch)])
        if row not in self._cache:
            raise ValueError(f"{parse(arch)} was not evaluated yet: call ctx.evaluate first")
        return float(self.evaluator.observed(Metric.parse(metric))[row])

    # ----- charged evaluation -------------------------------------------------------------------------------------
    def evaluate(self, arch: Iterable[int]) -> float | None:
        """The observed objective of ``arch``; None (not charged) when unmeasured or infeasible."""
        return self._evaluate(arch, noisy=False)

    def evaluate_noisy(self, arch: Iterable[int]) -> float | None:
        """Like :meth:`evaluate`, but the first observation of a class is one noisy draw (one programming of the
        chip: a stored repetition, else mean + std * N(0, 1)); later proposals of the class reuse it."""
        return self._evaluate(arch, noisy=True)

    def _evaluate(self, arch: Iterable[int], noisy: bool) -> float | None:
        a = parse(arch)
        index = a.index
        row = int(self._row[index])
        self._proposals += 1
        self._check_time()
        if row < 0 or not self._ok_cell[index]:
            if row < 0:
                self.unmeasured += 1
            else:
                self.infeasible += 1
            self._tick_stale()
            return None
        if row in self._cache:
            self.repeats += 1
            self._tick_stale()
            return self._cache[row]
        if self.budget.evaluations is not None and self.evaluations >= self.budget.evaluations:
            raise BudgetExhausted("evaluation budget spent")
        value = self.evaluator.noisy_draw(row, self.objective.metric, self._noise_rng) if noisy else float(self._obs[row])
        self._cache[row] = value
        self._done_row[row] = True
        self._stale = 0
        measured = float(self._meas[row])
        if self._best is None or value > self._best[0]:
            self._best = (value, a, measured)
        best_obs, best_arch, best_meas = self._best
        self.trajectory.append(Evaluation(self.evaluations + 1, self.elapsed_s, a, canonical_index(a),
                                          value, measured, best_arch, best_obs, best_meas))
        if len(self._cache) >= self.n_candidate_classes:
            raise BudgetExhausted(f"every candidate {self.unit} evaluated")
        return value

    def next_round(self) -> None:
        """Call at the top of every round of a method's main loop. The budget is otherwise checked only inside
        ``evaluate``, so a round that proposes nothing (a degenerate setting, a bug in a new method) would spin
        forever: here the time budget is checked, and a round without a single proposal since the previous one
        counts as a free proposal towards ``Budget.max_stale``. Free: one clock read per round."""
        self._check_time()
        if self._proposals == self._proposals_at_round:
            self._tick_stale(idle_round=True)
        self._proposals_at_round = self._proposals

    def _check_time(self) -> None:
        if self.budget.seconds is not None and self.elapsed_s >= self.budget.seconds:
            raise BudgetExhausted("time budget spent")

    def _tick_stale(self, idle_round: bool = False) -> None:
        self._stale += 1
        if self._stale >= self.budget.max_stale:
            what = "proposals and idle rounds (the last proposed nothing)" if idle_round else "proposals"
            raise BudgetExhausted(f"{self._stale} consecutive {what} brought no new evaluation")

    def observed_of(self, arch: Iterable[int]) -> float | None:
        """The cached observation of an evaluated class (None if not evaluated); free."""
        return self._cache.get(int(self._row[_index(arch)]))

    def pareto_frame(self) -> pd.DataFrame | None:
        """The run's Pareto front (multi-objective contexts only)."""
        return None


def candidate_unit(row_of_cells: np.ndarray, cells: np.ndarray) -> str:
    """What a candidate among ``cells`` is: "cell" when they hold several table rows of one isomorphism class
    (members measured separately, each its own candidate), else "class"; labels say it, not always "class"."""
    rows = np.unique(row_of_cells[cells]).size
    return "cell" if rows > np.unique(cell_canonical()[cells]).size else "class"


_PLACE = NUM_OPS ** np.arange(NUM_EDGES - 1, -1, -1)
_NEW_OPS = np.arange(NUM_OPS)[None, :]


def _index(arch: Iterable[int]) -> int:
    if isinstance(arch, Architecture):
        return arch.index
    if isinstance(arch, (int, np.integer)) and not isinstance(arch, bool):
        if not 0 <= int(arch) < NUM_ARCHITECTURES:
            raise ValueError(f"architecture index must be 0..{NUM_ARCHITECTURES - 1}; got {arch!r}")
        return int(arch)
    return parse(arch).index


# ----- methods and registry ---------------------------------------------------------------------------------------
_REGISTRY: dict[str, type[SearchMethod]] = {}


@dataclass(frozen=True)
class MethodConfig:
    """Base of every method's hyper-parameters (a frozen dataclass per method).

    A subclass checks every field in ``__post_init__`` with :meth:`_check` (numbers) or :meth:`_check_type`, so
    a bad setting fails when the config is made, with the method, the field and what is expected, not as a
    search loop that never evaluates or an IndexError deep inside a run (tests/test_search_audit.py passes a
    wrong value to every field of every registered method's config).
    """

    def _what(self, name: str) -> str:
        """How a message names a field: the methods that use this config, then ``Config.field``."""
        methods = [m for m, cls in _REGISTRY.items() if cls.Config is type(self)]
        label = f"{type(self).__name__}.{name}"
        return f"search method{'s' * (len(methods) > 1)} {', '.join(methods)}: {label}" if methods else label

    def _check(self, name: str, **limits: Any) -> None:
        """Check a numeric field with :func:`check_number` (``limits`` are its keywords); numpy scalars become
        Python numbers, so results and JSON see plain values."""
        object.__setattr__(self, name, check_number(self._what(name), getattr(self, name), **limits))

    def _check_choice(self, name: str, choices: type[ClosedSet]) -> None:
        """Parse the field ``name`` into the closed set ``choices`` (a member or its string); the error names the
        field and lists the valid values."""
        try:
            object.__setattr__(self, name, choices.parse(getattr(self, name)))
        except ValueError as exc:
            raise ValueError(f"{self._what(name)}: {exc}") from None

    def _check_type(self, name: str, kind: type, expected: str) -> None:
        """TypeError unless the field ``name`` is a ``kind`` (``expected`` says what to pass)."""
        value = getattr(self, name)
        if not isinstance(value, kind):
            raise TypeError(f"{self._what(name)} must be {expected}; got {type(value).__name__} {value!r}")


class SearchMethod(ABC):
    """Base of every search method. Subclasses set ``name``, ``citation``, optionally a ``Config`` dataclass and
    ``paper_evaluator``, and implement :meth:`_search`; defining the class registers it under ``name``.

    ``run`` is final (a subclass overriding it is rejected at class creation), so budget, caching, timing and
    reporting are the same for every method.
    """

    name: ClassVar[str]
    #: The paper the method implements.
    citation: ClassVar[str]
    Config: ClassVar[type[MethodConfig]] = MethodConfig
    #: Evaluator the AnalogNAS-Bench paper used for this method in its Table 1 ("tabular" or "surrogate").
    paper_evaluator: ClassVar[str] = "surrogate"
    #: Budget used by ``compare`` when it is not the shared one (exhaustive search: every class).
    uses_full_space: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "run" in cls.__dict__:
            raise TypeError(f"{cls.__name__} must not override SearchMethod.run; implement _search(ctx, rng)")
        if inspect.isabstract(cls):
            return
        for attr in ("name", "citation"):
            if not isinstance(cls.__dict__.get(attr), str) or not cls.__dict__[attr]:
                raise TypeError(f"search method {cls.__name__} must define a non-empty class attribute {attr!r}")
        if list(inspect.signature(cls._search).parameters) != ["self", "ctx", "rng"]:
            raise TypeError(f"{cls.__name__}._search must have the signature (self, ctx, rng)")
        if cls.paper_evaluator not in ("tabular", "surrogate"):
            raise TypeError(f"{cls.__name__}.paper_evaluator must be 'tabular' or 'surrogate'")
        if cls.name in _REGISTRY and _REGISTRY[cls.name].__qualname__ != cls.__qualname__:
            raise TypeError(f"search method name {cls.name!r} already registered by {_REGISTRY[cls.name].__name__}")
        _REGISTRY[cls.name] = cls

    def __init__(self, config: MethodConfig | None = None, **overrides: Any):
        if config is None:
            known = [f.name for f in fields(self.Config)]
            unknown = [k for k in overrides if k not in known]
            if unknown:
                raise TypeError(f"search method {self.name} has no setting {', '.join(map(repr, unknown))}; "
                                f"its settings ({self.Config.__name__}): {', '.join(known) or 'none'}")
            config = self.Config(**overrides)
        elif overrides:
            raise ValueError("pass either a config object or keyword overrides, not both")
        if not isinstance(config, self.Config):
            raise ValueError(f"{self.name} expects a {self.Config.__name__}, got {type(config).__name__}")
        self.config = config

    @classmethod
    def check_available(cls) -> None:
        """Raise ``ImportError`` (naming what to install) when an optional library the method needs is missing; the
        paper's methods need none. ``run`` calls it first, and ``compare`` leaves such methods out by default."""
        return None

    @abstractmethod
    def _search(self, ctx: SearchContext, rng: np.random.Generator) -> None:
        """Propose architectures to ``ctx.evaluate`` until it raises :class:`BudgetExhausted` (or return early)."""

    def final_architecture(self, ctx: SearchContext) -> Architecture | None:
        """The architecture the method returns: what it last passed to ``ctx.choose``, else the incumbent
        (best observed objective)."""
        return ctx.chosen if ctx.chosen is not None else ctx.incumbent

    def run(self, evaluator: Evaluator, objective: Objective | Metric | str | None = None,
            budget: Budget | int | None = None, seed: int = 0) -> Result:
        """Search with ``evaluator`` under ``budget`` and report the final architecture's measured values.

        ``evaluator`` is an :class:`Evaluator`, never a benchmark or a table: whether the search sees the table or
        a surrogate is a choice (the paper uses both), so it is made explicitly with ``from_bench(bench)`` /
        ``from_bench(bench, "surrogate")`` or ``TabularEvaluator(df)``. Two shorthands, as on the command line: a
        metric name for ``objective`` means ``Objective(metric)``, and an int for ``budget`` means
        ``Budget(evaluations)``. Anything else raises a TypeError saying what to pass.
        """
        objective, budget = _run_arguments(self.name, evaluator, objective, budget)
        self.check_available()
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer; got {seed!r}")
        method_rng, noise_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(int(seed)).spawn(2))
        ctx = objective.make_context(evaluator, budget, noise_rng)
        reason = "method finished"
        try:
            with _single_threaded_blas():
                self._search(ctx, method_rng)
        except BudgetExhausted as stop:
            reason = str(stop)
        wall = ctx.elapsed_s
        final = self.final_architecture(ctx)
        measurement = None if final is None else evaluator.measurement(final)
        log.info("%s seed %d: %d evaluations (%s), final %s", self.name, seed, ctx.evaluations, reason,
                 None if final is None else final.short)
        return Result(self.name, int(seed), evaluator.kind, objective, budget, ctx.trajectory, measurement, wall,
                      ctx.repeats, ctx.unmeasured, ctx.infeasible, reason,
                      {f.name: getattr(self.config, f.name) for f in fields(self.config)}, ctx.pareto_frame(),
                      unit=ctx.unit)


def _run_arguments(method: str, evaluator: Any, objective: Any, budget: Any) -> tuple[Objective, Budget]:
    """The objective and budget of :meth:`SearchMethod.run` (a metric name and an int converted), or a TypeError
    that says how to make the right object (instead of an AttributeError from inside the run)."""
    where = f"{method}.run"
    if not isinstance(evaluator, Evaluator):
        if isinstance(evaluator, pd.DataFrame):
            how = "TabularEvaluator(df) (the table) or make_evaluator('surrogate', df)"
        elif hasattr(evaluator, "df"):
            how = "from_bench(bench) (the table) or from_bench(bench, 'surrogate')"
        else:
            how = "from_bench(bench) or TabularEvaluator(df) (analognasbench.search)"
        raise TypeError(f"{where}: expected an Evaluator as the first argument; got {type(evaluator).__name__}: "
                        f"make one with {how}")
    if objective is None:
        objective = Objective()
    elif isinstance(objective, str):  # a Metric is a str: the metric to maximise
        objective = Objective(objective)
    elif not isinstance(objective, Objective):
        raise TypeError(f"{where}: objective must be an Objective, e.g. Objective('analog_drift_86400', "
                        f"params_cap=None), or a metric name; got {type(objective).__name__} {objective!r}")
    if budget is None:
        budget = Budget()
    elif isinstance(budget, (int, np.integer)) and not isinstance(budget, bool):
        budget = Budget(int(budget))
    elif not isinstance(budget, Budget):
        raise TypeError(f"{where}: budget must be a Budget, e.g. Budget(evaluations=100, seconds=None), or a "
                        f"number of evaluations; got {type(budget).__name__} {budget!r}")
    return objective, budget


def _single_threaded_blas() -> contextlib.AbstractContextManager[Any]:
    """Methods multiply small matrices (GP, MLPs): threaded BLAS only adds overhead, and on busy cores it makes
    them up to ten times slower. Uses threadpoolctl when installed, else changes nothing."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - optional
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def register_method(cls: type[SearchMethod]) -> type[SearchMethod]:
    """Explicit registration (defining a subclass already registers it); returns the class for use as a decorator."""
    _REGISTRY[cls.name] = cls
    return cls


def unregister_method(name: str) -> None:
    """Remove a method from the registry (e.g. one defined in a notebook or a test)."""
    get_method(name)
    del _REGISTRY[name]


def method_names() -> list[str]:
    """Registered method names, in registration order."""
    return list(_REGISTRY)


def get_method(name: str) -> type[SearchMethod]:
    """The registered method class called ``name``; unknown names list the valid ones."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown search method {name!r}; valid methods: {', '.join(_REGISTRY)}") from None
